//! R035 — All except the winning bid disqualified.
//!
//! *What it does*: flags a process with final awards in which exactly one
//! tenderer's bids are valid, that tenderer is the awarded supplier, and at
//! least the threshold (default 1) of other tenderers were disqualified. The
//! value is the number of other tenderers disqualified.
//!
//! *Why it matters*: disqualifying every competitor on technicalities is a way
//! to hand a contract to a chosen firm while appearing to compete.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::{details, process_flag, sorted, Indicator, Sink};
use crate::process::{array_at, ids, str_at, Money, Process};
use crate::settings::Settings;

pub struct R035 {
    threshold: usize,
}

impl R035 {
    pub fn new(s: &Settings) -> R035 {
        R035 {
            threshold: s.r035.threshold.max(1),
        }
    }
}

impl Indicator for R035 {
    type State = ();

    fn code(&self) -> &'static str {
        "R035"
    }

    fn fold(&self, p: &Process<'_>, _: &Money<'_>, _: &mut (), sink: &mut Sink) {
        let Some(awards) = p.final_awards() else {
            return;
        };
        let Some(bids) = p.bid_details() else { return };
        let suppliers: BTreeSet<&str> = awards
            .iter()
            .flat_map(|a| ids(array_at(a, "suppliers")))
            .collect();
        let mut valid: BTreeSet<&str> = BTreeSet::new();
        let mut disqualified: BTreeSet<&str> = BTreeSet::new();
        for bid in bids.iter().filter_map(Value::as_object) {
            let set = match str_at(bid, "status") {
                Some("valid") => &mut valid,
                Some("disqualified") => &mut disqualified,
                _ => continue,
            };
            set.extend(ids(array_at(bid, "tenderers")));
        }
        // One winner only: a buyer may split one award into several contracts,
        // and several valid winners are not this pattern.
        if valid.len() != 1 || valid != suppliers {
            return;
        }
        let others = disqualified.difference(&valid).count();
        if others >= self.threshold {
            let winner = valid.iter().next().copied().unwrap_or_default();
            sink.flags.push(process_flag(
                "R035",
                p,
                others as f64,
                format!("Every bid but the winner's was disqualified: {others} other tenderer(s) (threshold {}).", self.threshold),
                sorted([winner]),
                details([("disqualifiedTenderers", json!(others)), ("threshold", json!(self.threshold)), ("winner", json!(winner))]),
            ));
        }
    }
}

//! R025 — Excessive unsuccessful bids.
//!
//! *What it does*: for each tenderer, counts the processes (with one final,
//! active award) in which it made a valid bid, and how many of those it won.
//! A tenderer is flagged when it bid more often than the given percentile of
//! all tenderers (default 75th) and its ratio of wins to bids is a low outlier
//! (below Q1 − 1.5·IQR, or a fixed threshold).
//!
//! *Why it matters*: a firm that bids often and almost never wins may be
//! submitting cover bids for others in a bid-rigging scheme.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::{details, num, Indicator, Meta, Sink};
use crate::process::{array_at, ids, str_at, Money, Process};
use crate::settings::Settings;
use crate::{stats, Flag, Subject};

pub struct R025 {
    percentile: f64,
    threshold: Option<f64>,
}

impl R025 {
    pub fn new(s: &Settings) -> R025 {
        R025 {
            percentile: s.r025.percentile,
            threshold: s.r025.threshold,
        }
    }
}

#[derive(Default)]
pub struct Tally {
    won: u64,
    ocids: Vec<String>,
}

impl Indicator for R025 {
    type State = BTreeMap<String, Tally>;

    fn code(&self) -> &'static str {
        "R025"
    }

    fn fold(&self, p: &Process<'_>, _: &Money<'_>, state: &mut Self::State, _: &mut Sink) {
        for competition in p.competitions() {
            let suppliers = &competition.suppliers;
            let mut valid: Vec<BTreeSet<&str>> = Vec::new();
            for bid in &competition.bids {
                if str_at(bid, "status") == Some("valid") {
                    let tenderers: BTreeSet<&str> =
                        ids(array_at(bid, "tenderers")).into_iter().collect();
                    if !tenderers.is_empty() {
                        valid.push(tenderers);
                    }
                }
            }
            // A multi-supplier award is judged only when one bid is exactly that
            // consortium; otherwise who won what is unknown.
            if suppliers.len() > 1 && !valid.contains(suppliers) {
                continue;
            }
            // Each tenderer once per competition, however many bids it made.
            let mut seen: BTreeMap<&str, bool> = BTreeMap::new();
            for tenderers in &valid {
                let won = tenderers == suppliers;
                for id in tenderers {
                    *seen.entry(id).or_default() |= won;
                }
            }
            for (id, won) in seen {
                let tally = state.entry(id.to_string()).or_default();
                tally.won += u64::from(won);
                tally.ocids.push(p.ocid.to_string());
            }
        }
    }

    fn reduce(&self, into: &mut Self::State, from: Self::State) {
        for (id, tally) in from {
            let t = into.entry(id).or_default();
            t.won += tally.won;
            t.ocids.extend(tally.ocids);
        }
    }

    fn finalize(&self, state: Self::State, sink: &mut Sink, meta: &mut Meta) {
        let counts: Vec<f64> = state.values().map(|t| t.ocids.len() as f64).collect();
        let Some(busy) = stats::quantile(&counts, self.percentile / 100.0) else {
            return;
        };
        let ratios: Vec<f64> = state
            .values()
            .map(|t| t.won as f64 / t.ocids.len() as f64)
            .collect();
        let fence = match self.threshold {
            Some(t) => t,
            None => {
                let Some((q1, q3, fence)) = stats::lower_fence(&ratios) else {
                    return;
                };
                meta.insert("q1".into(), q1);
                meta.insert("q3".into(), q3);
                fence
            }
        };
        meta.insert("upper_fence".into(), busy);
        meta.insert("lower_fence".into(), fence);
        for (id, tally) in state {
            let bids = tally.ocids.len();
            let ratio = tally.won as f64 / bids as f64;
            if bids as f64 > busy && ratio < fence {
                sink.flags.push(Flag {
                    code: "R025".into(),
                    subject: Subject::Tenderer(id.clone()),
                    value: ratio,
                    organisations: vec![id],
                    reason: format!(
                        "Won {} of the {bids} processes it bid in ({}%), below the threshold of {}%, while bidding more often than {}% of tenderers.",
                        tally.won,
                        num(ratio * 100.0),
                        num(fence * 100.0),
                        num(self.percentile)
                    ),
                    details: details([
                        ("won", json!(tally.won)),
                        ("bid", json!(bids)),
                        ("ratio", json!(ratio)),
                        ("threshold", json!(fence)),
                        ("busyFence", json!(busy)),
                    ]),
                    ocids: {
                        // Lots of one process each count; the process is listed once.
                        let mut ocids = tally.ocids;
                        ocids.dedup();
                        ocids
                    },
                });
            }
        }
    }
}

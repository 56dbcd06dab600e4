//! R038 — Excessive disqualified bids.
//!
//! *What it does*: for each tenderer, buyer and procuring entity, divides the
//! disqualified bids by the submitted bids across all its processes. One is
//! flagged when its ratio is a high outlier among its kind (at or above
//! Q3 + 1.5·IQR, or a fixed threshold). Tenderers need at least 2 submitted
//! bids, buyers and procuring entities at least 2 (settings) to be judged.
//!
//! *Why it matters*: a buyer that disqualifies far more bids than its peers may
//! be steering contracts; a tenderer disqualified far more often than others
//! may be a fake competitor.

use std::collections::BTreeMap;

use serde_json::json;

use super::{details, num, Indicator, Meta, Sink};
use crate::process::{array_at, ids, str_at, Money, Process};
use crate::settings::Settings;
use crate::{stats, Flag, Subject};

pub struct R038 {
    threshold: Option<f64>,
    minimum_bids: usize,
    minimum_processes: usize,
}

impl R038 {
    pub fn new(s: &Settings) -> R038 {
        R038 {
            threshold: s.r038.threshold,
            minimum_bids: s.r038.minimum_submitted_bids,
            minimum_processes: s.r038.minimum_contracting_processes,
        }
    }
}

#[derive(Default)]
pub struct Tally {
    disqualified: u64,
    submitted: u64,
    processes: u64,
    /// Processes in which it had a disqualified bid.
    ocids: Vec<String>,
}

#[derive(Default)]
pub struct State {
    tenderers: BTreeMap<String, Tally>,
    buyers: BTreeMap<String, Tally>,
    procuring_entities: BTreeMap<String, Tally>,
}

fn merge(into: &mut BTreeMap<String, Tally>, from: BTreeMap<String, Tally>) {
    for (id, t) in from {
        let e = into.entry(id).or_default();
        e.disqualified += t.disqualified;
        e.submitted += t.submitted;
        e.processes += t.processes;
        e.ocids.extend(t.ocids);
    }
}

impl Indicator for R038 {
    type State = State;

    fn code(&self) -> &'static str {
        "R038"
    }

    fn fold(&self, p: &Process<'_>, _: &Money<'_>, state: &mut State, _: &mut Sink) {
        let bids = p.submitted_bids();
        if bids.is_empty() {
            return;
        }
        let mut disqualified = 0;
        for bid in &bids {
            let d = str_at(bid, "status") == Some("disqualified");
            disqualified += u64::from(d);
            for id in ids(array_at(bid, "tenderers")) {
                let t = state.tenderers.entry(id.to_string()).or_default();
                t.submitted += 1;
                t.disqualified += u64::from(d);
                if d && t.ocids.last().map(String::as_str) != Some(p.ocid) {
                    t.ocids.push(p.ocid.to_string());
                }
            }
        }
        let submitted = bids.len() as u64;
        for (map, id) in [
            (&mut state.buyers, p.buyer_id()),
            (&mut state.procuring_entities, p.procuring_entity_id()),
        ] {
            if let Some(id) = id {
                let t = map.entry(id.to_string()).or_default();
                t.submitted += submitted;
                t.disqualified += disqualified;
                t.processes += 1;
                if disqualified > 0 {
                    t.ocids.push(p.ocid.to_string());
                }
            }
        }
    }

    fn reduce(&self, into: &mut State, from: State) {
        merge(&mut into.tenderers, from.tenderers);
        merge(&mut into.buyers, from.buyers);
        merge(&mut into.procuring_entities, from.procuring_entities);
    }

    fn finalize(&self, state: State, sink: &mut Sink, meta: &mut Meta) {
        let groups = [
            ("Buyer", state.buyers, self.minimum_processes, false),
            (
                "ProcuringEntity",
                state.procuring_entities,
                self.minimum_processes,
                false,
            ),
            ("Tenderer", state.tenderers, self.minimum_bids, true),
        ];
        for (group, tallies, minimum, by_bids) in groups {
            let judged: Vec<(String, Tally)> = tallies
                .into_iter()
                .filter(|(_, t)| {
                    t.submitted as usize >= minimum && (by_bids || t.processes as usize >= minimum)
                })
                .collect();
            if judged.is_empty() {
                continue;
            }
            let ratios: Vec<f64> = judged
                .iter()
                .map(|(_, t)| t.disqualified as f64 / t.submitted as f64)
                .collect();
            let fence = match self.threshold {
                Some(t) => t,
                None => {
                    let Some((q1, q3, fence)) = stats::upper_fence(&ratios) else {
                        continue;
                    };
                    meta.insert(format!("{group}_q1"), q1);
                    meta.insert(format!("{group}_q3"), q3);
                    fence
                }
            };
            meta.insert(format!("{group}_upper_fence"), fence);
            for ((id, t), ratio) in judged.into_iter().zip(ratios) {
                // With no spread (Q1 = Q3 = 0) the fence is 0 and every judged
                // organisation would be "excessive", even one never disqualified.
                if ratio >= fence && ratio > 0.0 {
                    let subject = match group {
                        "Buyer" => Subject::Buyer(id.clone()),
                        "ProcuringEntity" => Subject::ProcuringEntity(id.clone()),
                        _ => Subject::Tenderer(id.clone()),
                    };
                    let whose = if by_bids {
                        "of its bids"
                    } else {
                        "of the bids it received"
                    };
                    sink.flags.push(Flag {
                        code: "R038".into(),
                        subject,
                        value: ratio,
                        organisations: vec![id],
                        reason: format!(
                            "{} {} of {} {whose} were disqualified ({}%), at or above the threshold of {}%.",
                            if by_bids { "As a tenderer," } else { "As a buyer or procuring entity," },
                            t.disqualified,
                            t.submitted,
                            num(ratio * 100.0),
                            num(fence * 100.0)
                        ),
                        details: details([
                            ("disqualified", json!(t.disqualified)),
                            ("submitted", json!(t.submitted)),
                            ("ratio", json!(ratio)),
                            ("threshold", json!(fence)),
                        ]),
                        ocids: t.ocids,
                    });
                }
            }
        }
    }
}

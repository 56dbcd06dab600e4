//! R048 — Heterogeneous supplier.
//!
//! *What it does*: for each supplier of single-supplier active awards, counts
//! the distinct item classifications it was awarded, by their first digits
//! (default 2: the UNSPSC segment). Suppliers with at least the minimum number
//! of processes (default 20) are judged; one is flagged when its count is a
//! high outlier (at or above Q3 + 1.5·IQR, or a fixed threshold). The value is
//! the number of distinct classifications.
//!
//! *Why it matters*: a firm that supplies everything from fuel to furniture to
//! construction may be a front company or intermediary passing work on.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::{details, num, Indicator, Meta, Sink};
use crate::process::{array_at, ids, object_at, str_at, Money, Process};
use crate::settings::Settings;
use crate::{stats, Flag, Subject};

pub struct R048 {
    digits: usize,
    threshold: Option<f64>,
    minimum_processes: usize,
}

impl R048 {
    pub fn new(s: &Settings) -> R048 {
        R048 {
            digits: s.r048.digits,
            threshold: s.r048.threshold,
            minimum_processes: s.r048.minimum_contracting_processes,
        }
    }
}

#[derive(Default)]
pub struct Tally {
    codes: BTreeSet<String>,
    ocids: Vec<String>,
}

impl Indicator for R048 {
    type State = BTreeMap<String, Tally>;

    fn code(&self) -> &'static str {
        "R048"
    }

    fn fold(&self, p: &Process<'_>, _: &Money<'_>, state: &mut Self::State, _: &mut Sink) {
        for award in p.awards().iter().filter_map(Value::as_object) {
            if str_at(award, "status") != Some("active") {
                continue;
            }
            // Several suppliers may share the items in unknown ways; counting
            // every item for each would overcount.
            let [supplier] = ids(array_at(award, "suppliers"))[..] else {
                continue;
            };
            let tally = state.entry(supplier.to_string()).or_default();
            if tally.ocids.last().map(String::as_str) != Some(p.ocid) {
                tally.ocids.push(p.ocid.to_string());
            }
            for item in array_at(award, "items").iter().filter_map(Value::as_object) {
                let Some(classification) = object_at(item, "classification") else {
                    continue;
                };
                let id = match classification.get("id") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => continue,
                };
                tally.codes.insert(id.chars().take(self.digits).collect());
            }
        }
    }

    fn reduce(&self, into: &mut Self::State, from: Self::State) {
        for (id, t) in from {
            let e = into.entry(id).or_default();
            e.codes.extend(t.codes);
            e.ocids.extend(t.ocids);
        }
    }

    fn finalize(&self, state: Self::State, sink: &mut Sink, meta: &mut Meta) {
        let judged: Vec<(String, Tally)> = state
            .into_iter()
            .filter(|(_, t)| t.ocids.len() >= self.minimum_processes)
            .collect();
        let counts: Vec<f64> = judged.iter().map(|(_, t)| t.codes.len() as f64).collect();
        let fence = match self.threshold {
            Some(t) => t,
            None => {
                let Some((q1, q3, fence)) = stats::upper_fence(&counts) else {
                    return;
                };
                meta.insert("q1".into(), q1);
                meta.insert("q3".into(), q3);
                fence
            }
        };
        meta.insert("upper_fence".into(), fence);
        for (id, t) in judged {
            let n = t.codes.len() as f64;
            if n >= fence {
                sink.flags.push(Flag {
                    code: "R048".into(),
                    subject: Subject::Tenderer(id.clone()),
                    value: n,
                    organisations: vec![id],
                    reason: format!(
                        "Was awarded items in {} different classification groups across {} processes, at or above the threshold of {}.",
                        num(n),
                        t.ocids.len(),
                        num(fence)
                    ),
                    details: details([("classifications", json!(t.codes)), ("processes", json!(t.ocids.len())), ("threshold", json!(fence))]),
                    ocids: t.ocids,
                });
            }
        }
    }
}

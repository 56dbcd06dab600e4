//! R058 — Heavily discounted bid.
//!
//! *What it does*: with the same difference as R024, (runner-up − winner) /
//! winner, flags a process whose difference is a high outlier: at or above
//! Q3 + 1.5·IQR, or a fixed threshold if set. When three quarters of processes
//! show no difference at all, nothing is flagged (the fence would be zero).
//!
//! *Why it matters*: a winning bid far below all others can be a sign that the
//! winner knew it could recover the difference later, through amendments or
//! lax delivery checks.

use serde_json::json;

use super::r024::{collect, Ratio, Ratios};
use super::{details, num, process_flag, Indicator, Meta, Sink};
use crate::process::{Money, Process};
use crate::settings::Settings;
use crate::stats;

pub struct R058 {
    threshold: Option<f64>,
    settings: Settings,
}

impl R058 {
    pub fn new(s: &Settings) -> R058 {
        R058 {
            threshold: s.r058.threshold,
            settings: s.clone(),
        }
    }
}

impl Indicator for R058 {
    type State = Ratios;

    fn code(&self) -> &'static str {
        "R058"
    }

    fn fold(&self, p: &Process<'_>, money: &Money<'_>, state: &mut Ratios, sink: &mut Sink) {
        collect("R058", &self.settings, p, money, state, sink);
    }

    fn reduce(&self, into: &mut Ratios, from: Ratios) {
        into.extend(from);
    }

    fn finalize(&self, state: Ratios, sink: &mut Sink, meta: &mut Meta) {
        let ratios: Vec<f64> = state.iter().map(|r| r.ratio).collect();
        let fence = match self.threshold {
            Some(t) => t,
            None => {
                let Some((q1, q3, fence)) = stats::upper_fence(&ratios) else {
                    return;
                };
                meta.insert("q1".into(), q1);
                meta.insert("q3".into(), q3);
                fence
            }
        };
        meta.insert("upper_fence".into(), fence);
        if fence <= 0.0 {
            return;
        }
        for Ratio {
            ocid,
            lot,
            ratio,
            winner,
            winner_amount: w,
            runner_up_amount: r,
            ..
        } in state
        {
            if ratio >= fence {
                let p = Process {
                    ocid: &ocid,
                    release: &serde_json::Map::new(),
                };
                sink.flags.push(process_flag(
                    "R058",
                    &p,
                    ratio,
                    format!(
                        "{}The next-lowest valid bid ({}) was {}% above the winning bid ({}), at or above the threshold of {}%: the winner undercut everyone by far.",
                        lot.as_ref().map(|l| format!("Lot {l}: ")).unwrap_or_default(),
                        num(r),
                        num(ratio * 100.0),
                        num(w),
                        num(fence * 100.0)
                    ),
                    vec![winner.clone()],
                    details([
                        ("ratio", json!(ratio)),
                        ("threshold", json!(fence)),
                        ("winner", json!(winner)),
                        ("winningAmount", json!(w)),
                        ("runnerUpAmount", json!(r)),
                        ("lot", json!(lot)),
                    ]),
                ));
            }
        }
    }
}

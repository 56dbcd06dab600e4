//! R024 — Price close to the winning bid.
//!
//! *What it does*: for each process with one final, active award, takes the
//! winner's lowest valid bid and the lowest valid bid of anyone else, and
//! computes (runner-up − winner) / winner. A process is flagged when that
//! difference is a low outlier: at or below Q1 − 1.5·IQR of all processes'
//! differences, or a fixed threshold if set.
//!
//! *Why it matters*: colluding bidders often submit cover bids just above the
//! agreed winner's price.

use serde_json::json;

use super::{compares_prices, details, num, process_flag, Indicator, Meta, Sink};
use crate::process::{second_lowest, Incomparable, Money, Process};
use crate::settings::Settings;
use crate::stats;

pub struct R024 {
    threshold: Option<f64>,
    settings: Settings,
}

impl R024 {
    pub fn new(s: &Settings) -> R024 {
        R024 {
            threshold: s.r024.threshold,
            settings: s.clone(),
        }
    }
}

/// (ocid, ratio, winner, runner-up, winner amount, runner-up amount)
pub struct Ratio {
    pub ocid: String,
    /// The lot competed for, when the process is divided into lots.
    pub lot: Option<String>,
    pub ratio: f64,
    pub winner: String,
    pub runner_up: String,
    pub winner_amount: f64,
    pub runner_up_amount: f64,
}

pub type Ratios = Vec<Ratio>;

pub(crate) fn collect(
    code: &'static str,
    settings: &Settings,
    p: &Process<'_>,
    money: &Money<'_>,
    state: &mut Ratios,
    sink: &mut Sink,
) {
    if !compares_prices(settings, p) {
        return;
    }
    for competition in p.competitions() {
        match second_lowest(&competition, money) {
            Ok(Some(s)) => state.push(Ratio {
                ocid: p.ocid.to_string(),
                lot: competition.lot.map(String::from),
                ratio: s.ratio(),
                winner: s.winner.clone(),
                runner_up: s.runner_up.clone(),
                winner_amount: s.winner_amount,
                runner_up_amount: s.runner_up_amount,
            }),
            Ok(None) => {}
            Err(Incomparable::NoRate(currency)) => sink.note(
                code,
                format!("bids in several currencies and no rate for {currency}"),
            ),
        }
    }
}

impl Indicator for R024 {
    type State = Ratios;

    fn code(&self) -> &'static str {
        "R024"
    }

    fn fold(&self, p: &Process<'_>, money: &Money<'_>, state: &mut Ratios, sink: &mut Sink) {
        collect("R024", &self.settings, p, money, state, sink);
    }

    fn reduce(&self, into: &mut Ratios, from: Ratios) {
        into.extend(from);
    }

    fn finalize(&self, state: Ratios, sink: &mut Sink, meta: &mut Meta) {
        let ratios: Vec<f64> = state.iter().map(|r| r.ratio).collect();
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
        meta.insert("lower_fence".into(), fence);
        for Ratio {
            ocid,
            lot,
            ratio,
            winner,
            runner_up,
            winner_amount: w,
            runner_up_amount: r,
        } in state
        {
            if ratio <= fence {
                let p = Process {
                    ocid: &ocid,
                    release: &serde_json::Map::new(),
                };
                sink.flags.push(process_flag(
                    "R024",
                    &p,
                    ratio,
                    format!(
                        "{}The second-lowest valid bid ({}) was {}% above the winning bid ({}), at or below the threshold of {}%.",
                        lot.as_ref().map(|l| format!("Lot {l}: ")).unwrap_or_default(),
                        num(r),
                        num(ratio * 100.0),
                        num(w),
                        num(fence * 100.0)
                    ),
                    vec![winner.clone(), runner_up.clone()],
                    details([
                        ("ratio", json!(ratio)),
                        ("threshold", json!(fence)),
                        ("winner", json!(winner)),
                        ("winningAmount", json!(w)),
                        ("runnerUp", json!(runner_up)),
                        ("runnerUpAmount", json!(r)),
                        ("lot", json!(lot)),
                    ]),
                ));
            }
        }
    }
}

//! R028 — Identical bid prices.
//!
//! *What it does*: flags a process in which two submitted bids from different
//! tenderers have exactly the same amount in the same currency.
//!
//! *Why it matters*: independent firms pricing a job rarely arrive at the same
//! figure to the cent; identical prices suggest the bids were prepared together.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::{compares_prices, details, num, process_flag, sorted, Indicator, Sink};
use crate::process::{amount_of, array_at, ids, Money, Process};
use crate::settings::Settings;

pub struct R028 {
    settings: Settings,
}

impl R028 {
    pub fn new(s: &Settings) -> R028 {
        R028 {
            settings: s.clone(),
        }
    }
}

impl Indicator for R028 {
    type State = ();

    fn code(&self) -> &'static str {
        "R028"
    }

    fn fold(&self, p: &Process<'_>, _: &Money<'_>, _: &mut (), sink: &mut Sink) {
        if !compares_prices(&self.settings, p) {
            return;
        }
        // (amount bits, currency) → the tenderers who bid it.
        let mut prices: BTreeMap<(u64, &str), BTreeSet<&str>> = BTreeMap::new();
        let mut named: BTreeSet<&str> = BTreeSet::new();
        let mut same: Vec<(f64, &str)> = Vec::new();
        for bid in p.submitted_bids() {
            // Zero is a placeholder, not a price two firms happened to share.
            let Some(amount) = amount_of(bid.get("value")).filter(|a| a.amount != 0.0) else {
                continue;
            };
            let tenderers: BTreeSet<&str> = ids(array_at(bid, "tenderers")).into_iter().collect();
            if tenderers.is_empty() {
                continue;
            }
            let key = (amount.amount.to_bits(), amount.currency);
            if let Some(other) = prices.get(&key) {
                if *other != tenderers {
                    named.extend(other.iter().copied());
                    named.extend(tenderers.iter().copied());
                    same.push((amount.amount, amount.currency));
                }
            }
            prices.insert(key, tenderers);
        }
        if let Some((amount, currency)) = same.first() {
            sink.flags.push(process_flag(
                "R028",
                p,
                1.0,
                format!(
                    "Bids from different tenderers had identical prices ({} {currency}).",
                    num(*amount)
                ),
                sorted(named),
                details([(
                    "amounts",
                    json!(same
                        .iter()
                        .map(|(a, c)| json!({"amount": a, "currency": c}))
                        .collect::<Vec<_>>()),
                )]),
            ));
        }
    }
}

//! R036 — Lowest bid disqualified.
//!
//! *What it does*: flags a process with an active award in which the lowest
//! priced submitted bid was disqualified, and at least one valid bid has a
//! price. Zero amounts are placeholders and are left out. Bids are compared in their own currency
//! when they share one, otherwise converted with the configured rates.
//!
//! *Why it matters*: where price decides, disqualifying the cheapest bid
//! raises the cost to the public and may favour a chosen firm.

use serde_json::json;

use super::{details, num, process_flag, sorted, Indicator, Sink};
use crate::process::{amount_of, array_at, ids, str_at, Amount, Incomparable, Money, Process};

pub struct R036;

impl Indicator for R036 {
    type State = ();

    fn code(&self) -> &'static str {
        "R036"
    }

    fn fold(&self, p: &Process<'_>, money: &Money<'_>, _: &mut (), sink: &mut Sink) {
        if !p
            .awards()
            .iter()
            .any(|a| a.get("status").and_then(|s| s.as_str()) == Some("active"))
        {
            return;
        }
        // A zero amount is a placeholder, not a price (prepare reports it).
        let bids: Vec<_> = p
            .submitted_bids()
            .into_iter()
            .filter_map(|bid| {
                Some((
                    bid,
                    amount_of(bid.get("value")).filter(|a| a.amount != 0.0)?,
                ))
            })
            .collect();
        // Compared with nothing, a disqualified bid says nothing about price:
        // a valid bid with a price must be there too.
        if !bids
            .iter()
            .any(|(bid, _)| str_at(bid, "status") == Some("valid"))
        {
            return;
        }
        let amounts: Vec<Amount<'_>> = bids.iter().map(|(_, a)| *a).collect();
        let values = match money.comparable(&amounts) {
            Ok(v) => v,
            Err(Incomparable::NoRate(c)) => {
                sink.note(
                    "R036",
                    format!("bids in several currencies and no rate for {c}"),
                );
                return;
            }
        };
        let mut lowest: Option<(usize, f64)> = None;
        for (i, v) in values.iter().enumerate() {
            if lowest.is_none_or(|(_, low)| *v < low) {
                lowest = Some((i, *v));
            }
        }
        let Some((i, amount)) = lowest else { return };
        let (bid, original) = bids[i];
        if str_at(bid, "status") == Some("disqualified") {
            sink.flags.push(process_flag(
                "R036",
                p,
                1.0,
                format!(
                    "The lowest bid ({} {}) was disqualified.",
                    num(original.amount),
                    original.currency
                ),
                sorted(ids(array_at(bid, "tenderers"))),
                details([
                    ("amount", json!(amount)),
                    ("currency", json!(original.currency)),
                ]),
            ));
        }
    }
}

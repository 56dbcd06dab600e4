//! R030 — Late bid won.
//!
//! *What it does*: flags a process in which a valid bid dated after the end
//! of the tender period came from a supplier of an active award.
//!
//! *Why it matters*: accepting a late bid from the eventual winner suggests the
//! winner was given information or time that others were not.

use std::collections::BTreeSet;

use jiff::civil::DateTime;
use jiff::Timestamp;
use serde_json::{json, Value};

use super::{details, process_flag, sorted, Indicator, Sink};
use crate::process::{array_at, ids, object_at, str_at, Money, Process};

pub struct R030;

/// A date-time as a point in time when it carries an offset; one without an
/// offset is read as UTC, which is what a comparison with `Z` dates assumes.
fn instant(text: &str) -> Option<Timestamp> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Some(t);
    }
    let civil: DateTime = text.parse().ok()?;
    civil
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

impl Indicator for R030 {
    type State = ();

    fn code(&self) -> &'static str {
        "R030"
    }

    fn fold(&self, p: &Process<'_>, _: &Money<'_>, _: &mut (), sink: &mut Sink) {
        let Some(end) = p
            .tender()
            .and_then(|t| object_at(t, "tenderPeriod"))
            .and_then(|t| str_at(t, "endDate"))
        else {
            return;
        };
        let Some(bids) = p.bid_details() else { return };
        let mut winners: BTreeSet<&str> = BTreeSet::new();
        for award in p.awards().iter().filter_map(Value::as_object) {
            if str_at(award, "status") == Some("active") {
                winners.extend(ids(array_at(award, "suppliers")));
            }
        }
        let Some(end_at) = instant(end) else {
            sink.note("R030", "tender period end date is not a date-time");
            return;
        };
        let mut late: BTreeSet<&str> = BTreeSet::new();
        let mut dates: Vec<&str> = Vec::new();
        for bid in bids.iter().filter_map(Value::as_object) {
            if str_at(bid, "status") != Some("valid") {
                continue;
            }
            let Some(date) = str_at(bid, "date") else {
                continue;
            };
            let Some(at) = instant(date) else {
                sink.note("R030", "a valid bid's date is not a date-time");
                continue;
            };
            if at <= end_at {
                continue;
            }
            let winning: Vec<&str> = ids(array_at(bid, "tenderers"))
                .into_iter()
                .filter(|id| winners.contains(id))
                .collect();
            if !winning.is_empty() {
                late.extend(winning);
                dates.push(date);
            }
        }
        if !late.is_empty() {
            sink.flags.push(process_flag(
                "R030",
                p,
                1.0,
                format!(
                    "A winning supplier's valid bid is dated {}, after the tender period ended ({end}).",
                    dates[0]
                ),
                sorted(late),
                details([("tenderPeriodEnd", json!(end)), ("bidDates", json!(dates))]),
            ));
        }
    }
}

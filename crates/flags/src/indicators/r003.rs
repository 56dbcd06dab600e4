//! R003 — Short submission period.
//!
//! *What it does*: flags a process whose tender period (`/tender/tenderPeriod`
//! end date minus start date, in whole days) is shorter than the threshold for
//! its procurement method details (default 15 days).
//!
//! *Why it matters*: a short window leaves little time for firms without inside
//! knowledge to prepare a bid, so well-connected firms win repeatedly.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::json;

use super::{details, num, process_flag, Indicator, Sink};
use crate::process::{object_at, str_at, Money, Process};
use crate::settings::Settings;

pub struct R003 {
    threshold: i64,
    methods: Vec<String>,
    per_details: BTreeMap<String, i64>,
}

impl R003 {
    pub fn new(s: &Settings) -> R003 {
        R003 {
            threshold: s.r003.threshold,
            methods: s.r003.procurement_methods.clone(),
            per_details: s.r003.procurement_method_details.clone(),
        }
    }
}

impl Indicator for R003 {
    type State = ();

    fn code(&self) -> &'static str {
        "R003"
    }

    fn fold(&self, p: &Process<'_>, _: &Money<'_>, _: &mut (), sink: &mut Sink) {
        let Some(tender) = p.tender() else { return };
        if !self.methods.is_empty()
            && !p
                .procurement_method()
                .is_some_and(|m| self.methods.iter().any(|x| x == m))
        {
            return;
        }
        let Some(period) = object_at(tender, "tenderPeriod") else {
            return;
        };
        let (Some(start), Some(end)) = (str_at(period, "startDate"), str_at(period, "endDate"))
        else {
            return;
        };
        let (Ok(start_at), Ok(end_at)) = (start.parse::<Timestamp>(), end.parse::<Timestamp>())
        else {
            sink.note("R003", "tender period dates are not RFC 3339 date-times");
            return;
        };
        // Whole days, truncated toward zero, as Cardinal counts them.
        let days = (end_at.as_second() - start_at.as_second()) / 86_400;
        let threshold = p
            .procurement_method_details()
            .and_then(|d| self.per_details.get(d).copied())
            .unwrap_or(self.threshold);
        if days < threshold {
            let reason = if days < 0 {
                format!(
                    "The tender period ends {} days before it starts (threshold {threshold} days).",
                    num(-days as f64)
                )
            } else {
                format!("The tender period lasted {days} days, shorter than the threshold of {threshold} days.")
            };
            sink.flags.push(process_flag(
                "R003",
                p,
                1.0,
                reason,
                Vec::new(),
                details([
                    ("days", json!(days)),
                    ("threshold", json!(threshold)),
                    ("startDate", json!(start)),
                    ("endDate", json!(end)),
                ]),
            ));
        }
    }
}

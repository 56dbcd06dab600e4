//! R018 — Single bid received.
//!
//! *What it does*: flags a process, under a competitive procurement method
//! (default open or selective), whose `/tender/numberOfTenderers` is 1.
//!
//! *Why it matters*: a competitive procedure that draws one bid may have been
//! designed, advertised or timed so that only the favoured firm could bid.

use serde_json::json;

use super::{details, process_flag, Indicator, Sink};
use crate::process::{Money, Process};
use crate::settings::Settings;

pub struct R018 {
    methods: Vec<String>,
}

impl R018 {
    pub fn new(s: &Settings) -> R018 {
        R018 {
            methods: s.r018.procurement_methods.clone(),
        }
    }
}

impl Indicator for R018 {
    type State = ();

    fn code(&self) -> &'static str {
        "R018"
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
        if tender.get("numberOfTenderers").and_then(|n| n.as_u64()) == Some(1) {
            let method = p.procurement_method().unwrap_or("unstated");
            sink.flags.push(process_flag(
                "R018",
                p,
                1.0,
                format!("Only one tenderer took part in this {method} procedure."),
                Vec::new(),
                details([
                    ("numberOfTenderers", json!(1)),
                    ("procurementMethod", json!(method)),
                ]),
            ));
        }
    }
}

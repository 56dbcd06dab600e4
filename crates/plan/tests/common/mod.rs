//! Shared by the integration tests: where the data and the seed are.
#![allow(dead_code)]

use tuwhera_plan::Plan;

pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/plan/nap4.json");
pub const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/seed/nap4-progress-report-2024.txt"
);

pub fn data_text() -> String {
    std::fs::read_to_string(DATA).expect("data/plan/nap4.json is readable")
}

pub fn plan() -> Plan {
    Plan::from_json(&data_text()).expect("data/plan/nap4.json parses")
}

/// Runs of whitespace (including line breaks) as one space, trimmed.
pub fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

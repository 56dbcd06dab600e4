//! JSON Lines of releases through the merge routine: compiled and versioned,
//! as given and after the 1.0 → 1.1 upgrade. Errors are fine; panics are not.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tuwhera_ocds::upgrade::upgrade_if_needed;
use tuwhera_ocds::{MergeRules, Merger};

fn rules() -> &'static MergeRules {
    static RULES: OnceLock<MergeRules> = OnceLock::new();
    RULES.get_or_init(MergeRules::ocds_1_1)
}

fuzz_target!(|data: &[u8]| {
    let releases: Vec<Value> = data
        .split(|&b| b == b'\n')
        .filter_map(|line| serde_json::from_slice(line).ok())
        .collect();
    if releases.is_empty() {
        return;
    }
    for versioned in [false, true] {
        if let Ok(merged) = Merger::merge(rules(), releases.clone(), versioned) {
            let _ = serde_json::to_vec(&merged);
        }
    }
    let upgraded: Vec<Value> = releases
        .into_iter()
        .map(|mut r| {
            upgrade_if_needed(&mut r, None);
            r
        })
        .collect();
    if let Ok(merged) = Merger::merge(rules(), upgraded, false) {
        // A compiled release merged again must merge (it is a release like any other).
        let _ = Merger::merge(rules(), vec![merged], false);
    }
});

//! `tuwhera bods`: validation names each problem with file, line, rule and
//! path, and exits 1 on errors; the real sample validates clean; owners resolve.

use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tuwhera(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tuwhera"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("running tuwhera");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_legacy_file_with_defects_is_reported_and_the_rest_checked() {
    let (code, out, err) = tuwhera(&["bods", "validate", "crates/bods/tests/data/legacy-0.2.json"]);
    assert_eq!(code, Some(1), "{out}\n{err}");
    for expected in [
        "legacy-0.2.json:21: error [upgrade.unknown-interest-type] $[2].recordDetails.interests[1].type",
        "legacy-0.2.json:35: error [upgrade.missing-interested-party] $[3].recordDetails.interestedParty",
        "legacy-0.2.json:43: error [schema.type] $[4]",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert!(err.contains("5 statements: 3 errors"), "{err}");
}

#[test]
fn the_real_sample_is_clean_and_owners_resolve() {
    let sample = "data/bods/uk-psc-gleif-bods04/all_demo.jsonl";
    let (code, _, err) = tuwhera(&["bods", "validate", sample]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("1204 statements: 0 errors"), "{err}");
    let (code, _, err) = tuwhera(&["bods", "owners", sample, "--entity", "no-such-record"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no record"), "{err}");
}

//! `tuwhera plan`: a broken plan file is refused with each problem's file, line, column
//! and path; importing the same file twice changes nothing; a changed file is a new version.

use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tuwhera(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tuwhera"))
        .args(args)
        .current_dir(repo())
        .env_remove("DATABASE_URL")
        .output()
        .expect("running tuwhera");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_broken_plan_is_refused_with_file_line_and_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = std::fs::read_to_string(repo().join("data/plan/nap4.json")).expect("nap4");
    // Commitment 2 loses its lead agency's value; commitment 4's status is not a status.
    let broken = text
        .replacen(
            "Community Engagement\",\n      \"leadAgency\": \"Te Kawa Maataho Public Service Commission\"",
            "Community Engagement\",\n      \"leadAgency\": \"\"",
            1,
        )
        .replacen("\"status\": \"paused\"", "\"status\": \"stalled\"", 1);
    assert_ne!(broken, text);
    let file = dir.path().join("broken.json");
    std::fs::write(&file, &broken).expect("write");
    let line_of = |needle: &str| {
        broken
            .lines()
            .position(|l| l.contains(needle))
            .expect("needle")
            + 1
    };
    let database = format!("sqlite://{}", dir.path().join("t.db").display());
    let (code, out, err) = tuwhera(&[
        "plan",
        "import",
        file.to_str().expect("utf-8"),
        "--database",
        &database,
    ]);
    assert_eq!(code, Some(1), "{out}\n{err}");
    let name = file.display().to_string();
    for expected in [
        format!(
            "{name}:{}:21: error $.commitments[1].leadAgency: \"\" is shorter than 1 character",
            line_of("\"leadAgency\": \"\"")
        ),
        format!(
            "{name}:{}:21: error $.commitments[3].progress[0].status:",
            line_of("\"stalled\"")
        ),
    ] {
        assert!(out.contains(&expected), "missing {expected:?} in:\n{out}");
    }
    assert!(err.contains("2 problems; nothing was stored"), "{err}");

    let not_json = dir.path().join("not.json");
    std::fs::write(&not_json, "{\n  \"id\": \"x\",\n  oops\n}").expect("write");
    let (code, out, _) = tuwhera(&["plan", "validate", not_json.to_str().expect("utf-8")]);
    assert_eq!(code, Some(1));
    assert!(
        out.contains("not.json:3:3: error $: not JSON: key must be a string"),
        "{out}"
    );
}

#[test]
fn importing_twice_changes_nothing_and_a_changed_file_is_a_new_version() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("t.db").display());
    let (code, _, err) = tuwhera(&["plan", "validate", "data/plan/nap4.json"]);
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = tuwhera(&[
        "plan",
        "import",
        "data/plan/nap4.json",
        "--database",
        &database,
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("nap4.json: plan nz-nap4 version 1 (new); 8 progress reports recorded as new, 0 unchanged"),
        "{err}"
    );
    let (code, _, err) = tuwhera(&[
        "plan",
        "import",
        "data/plan/nap4.json",
        "--database",
        &database,
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains(
            "plan nz-nap4 version 1 (unchanged); 0 progress reports recorded as new, 8 unchanged"
        ),
        "{err}"
    );
    let text = std::fs::read_to_string(repo().join("data/plan/nap4.json")).expect("nap4");
    let changed = text.replacen(
        "DIA continues to be unable to resource and prioritise work on commitment 3.",
        "DIA continues to be unable to resource and prioritise work on commitment 3 in 2024.",
        1,
    );
    assert_ne!(changed, text);
    let file = dir.path().join("nap4-revised.json");
    std::fs::write(&file, changed).expect("write");
    let (code, _, err) = tuwhera(&[
        "plan",
        "import",
        file.to_str().expect("utf-8"),
        "--database",
        &database,
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("nap4-revised.json: plan nz-nap4 version 2 (new); 1 progress report recorded as new, 7 unchanged"),
        "{err}"
    );
}

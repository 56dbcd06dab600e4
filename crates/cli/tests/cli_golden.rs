//! The `tuwhera ocds compile` command itself (memory-mapped reading, output on
//! its own thread) gives ocdskit's compiled releases on a real publisher.
//! The library-level comparison of every publisher is in
//! `crates/ocds/tests/golden_compile.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

#[test]
fn compile_command_matches_ocdskit_on_moldova() {
    let dir = repo().join("data/ocds/real-examples/moldova/releases");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("publisher dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    for versioned in [false, true] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tuwhera"));
        cmd.args(["ocds", "compile"]);
        if versioned {
            cmd.arg("--versioned");
        }
        let out = cmd.args(&files).output().expect("run tuwhera");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let kind = if versioned { "versioned" } else { "compiled" };
        let golden = std::fs::read_to_string(repo().join(format!(
            "crates/ocds/tests/golden/ocdskit/moldova.{kind}.jsonl"
        )))
        .expect("golden");
        let ours = lines(&String::from_utf8_lossy(&out.stdout));
        let theirs = lines(&golden);
        assert_eq!(ours.len(), 51);
        assert_eq!(ours, theirs, "{kind} output differs from ocdskit");
    }
}

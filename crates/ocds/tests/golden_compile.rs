//! Compile the real publishers' releases and compare with ocdskit's output
//! (`tests/golden/ocdskit/`, made by `make-golden.sh` there), as JSON values.
//!
//! Two differences are deliberate and checked here rather than hidden:
//! - `australia-nsw` publishes packages with `"version": "1.0.1"`. ocdskit only
//!   upgrades the exact string "1.0", so it leaves 1.0-shaped data in a 1.1
//!   compiled release. We upgrade any 1.0.x; the golden to compare with is
//!   ocdskit's run on the same files with the version set to "1.0"
//!   (`variants/`).
//! - When upgrading 1.0 transactions, ocdskit makes a party for
//!   `providerOrganization`/`receiverOrganization` but never adds it to
//!   `parties`, losing the organisation's identifier. We keep it. So our
//!   compiled releases may have extra parties, each with only the roles
//!   `payer`/`payee`; everything else must be equal.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;
use tuwhera_ocds::compile::{Collector, CompileOptions};
use tuwhera_ocds::{Limits, MergeRules};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn open_maybe_gz(path: &Path) -> Box<dyn Read> {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    }
}

fn read_lines(path: &Path) -> Vec<Value> {
    BufReader::new(open_maybe_gz(path))
        .lines()
        .map(|l| l.expect("golden file is readable"))
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(&l).expect("golden line is JSON"))
        .collect()
}

fn golden(name: &str) -> Vec<Value> {
    let dir = repo().join("crates/ocds/tests/golden/ocdskit");
    let plain = dir.join(format!("{name}.jsonl"));
    if plain.exists() {
        read_lines(&plain)
    } else {
        read_lines(&dir.join(format!("{name}.jsonl.gz")))
    }
}

fn compile_dir(dir: &str, versioned: bool) -> (Vec<Value>, u64) {
    let dir = repo().join("data/ocds/real-examples").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("publisher directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    // Byte order, as `LC_ALL=C sort` (ocdskit was fed files in this order; it matters for equal dates).
    files.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    let mut collector = Collector::new(Limits::default());
    for f in &files {
        collector.read(
            &f.display().to_string(),
            File::open(f).expect("file"),
            &mut || {},
        );
    }
    let mut out = Vec::new();
    let (summary, _problems) = collector
        .write(
            &MergeRules::ocds_1_1(),
            CompileOptions {
                versioned,
                limits: Limits::default(),
            },
            &mut out,
            &|_| {},
        )
        .expect("write to memory");
    let values = out
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("our output is JSON"))
        .collect();
    (values, summary.problems)
}

/// Remove parties we add for 1.0 transaction payers/payees (see the module comment),
/// checking that each removed one is exactly that.
fn without_transaction_parties(ours: &mut Value, theirs: &Value) -> usize {
    let their_ids: Vec<Value> = theirs["parties"]
        .as_array()
        .map(|a| a.iter().map(|p| p["id"].clone()).collect())
        .unwrap_or_default();
    let Some(parties) = ours.get_mut("parties").and_then(Value::as_array_mut) else {
        return 0;
    };
    let before = parties.len();
    parties.retain(|p| {
        let id = &p["id"];
        if their_ids.contains(id) {
            return true;
        }
        // For versioned releases, roles are a history of values; look at every value.
        let roles = p["roles"].to_string();
        assert!(
            roles.contains("payer") || roles.contains("payee"),
            "an extra party that is not a transaction party: {p}"
        );
        assert!(
            !roles.contains("buyer") && !roles.contains("supplier") && !roles.contains("tenderer"),
            "an extra party with other roles: {p}"
        );
        false
    });
    before - parties.len()
}

fn check(publisher: &str, dir: &str, expect_transaction_parties: bool) {
    for versioned in [false, true] {
        let kind = if versioned { "versioned" } else { "compiled" };
        let golden_name = if publisher == "australia-nsw" {
            format!("variants/{publisher}.version-1.0.{kind}")
        } else {
            format!("{publisher}.{kind}")
        };
        let theirs = golden(&golden_name);
        let (mut ours, _) = compile_dir(dir, versioned);
        assert_eq!(
            ours.len(),
            theirs.len(),
            "{publisher} {kind}: number of ocids"
        );
        let mut removed = 0;
        for (o, t) in ours.iter_mut().zip(&theirs) {
            assert_eq!(o["ocid"], t["ocid"], "{publisher} {kind}: ocid order");
            if expect_transaction_parties {
                removed += without_transaction_parties(o, t);
            }
            assert_eq!(
                o, t,
                "{publisher} {kind}: {} differs from ocdskit",
                t["ocid"]
            );
        }
        assert_eq!(
            removed > 0,
            expect_transaction_parties,
            "{publisher} {kind}: transaction parties added: {removed}"
        );
    }
}

#[test]
fn armenia() {
    check("armenia", "armenia/releases", false);
}

#[test]
fn australia_nsw_upgraded_from_1_0_1() {
    check("australia-nsw", "australia/new-south-wales/releases", false);
}

#[test]
fn mexico_cdmx_keeps_transaction_parties() {
    check("mexico-cdmx", "mexico/cdmx/releases", true);
}

#[test]
fn mexico_grupo_aeroportuario_keeps_transaction_parties() {
    check(
        "mexico-grupo-aeroportuario",
        "mexico/grupo-aeroportuario/releases",
        true,
    );
}

#[test]
fn mexico_inai() {
    check("mexico-inai", "mexico/inai/releases", false);
}

#[test]
fn mexico_jalisco() {
    check("mexico-jalisco", "mexico/jalisco/releases", false);
}

#[test]
fn moldova() {
    check("moldova", "moldova/releases", false);
}

#[test]
fn paraguay() {
    check("paraguay", "paraguay/releases", false);
}

#[test]
fn uganda() {
    check("uganda", "uganda/releases", false);
}

#[test]
fn ukraine() {
    check("ukraine", "ukraine/releases", false);
}

/// The Dominican Republic's compiled releases, split into tender/award/contract
/// releases (`data/ocds/dgcp-split-c1.jsonl.gz`), compile back to the originals.
#[test]
fn dgcp_round_trip() {
    let mut collector = Collector::new(Limits::default());
    let split = repo().join("data/ocds/dgcp-split-c1.jsonl.gz");
    collector.read(
        "dgcp-split-c1.jsonl.gz",
        File::open(&split).expect("split file"),
        &mut || {},
    );
    let mut out = Vec::new();
    let (summary, problems) = collector
        .write(
            &MergeRules::ocds_1_1(),
            CompileOptions::default(),
            &mut out,
            &|_| {},
        )
        .expect("write to memory");
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(summary.written, 10_000);
    let originals = read_lines(&repo().join("data/ocds/dr-dgcp-10000-compiled.jsonl.gz"));
    let mut by_ocid = std::collections::HashMap::new();
    for o in originals {
        by_ocid.insert(o["ocid"].as_str().expect("ocid").to_owned(), o);
    }
    let mut equal = 0;
    let mut different = Vec::new();
    for line in out.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let mut ours: Value = serde_json::from_slice(line).expect("JSON");
        let ocid = ours["ocid"].as_str().expect("ocid").to_owned();
        let mut original = by_ocid.remove(&ocid).expect("ocid in the original");
        for v in [&mut ours, &mut original] {
            let m = v.as_object_mut().expect("object");
            m.remove("id");
            m.remove("date");
            m.remove("tag");
        }
        if ours == original {
            equal += 1;
        } else {
            different.push(ocid);
        }
    }
    assert!(equal >= 9_999, "{equal} of 10,000 round-trip");
    // The one that does not: its party has `"identifier": {}`, and the merge routine
    // does not carry empty objects (ocdskit gives the same result).
    assert_eq!(
        different,
        vec!["ocds-6550wx-Bomberos SDE-DAF-CM-2021-0097".to_owned()]
    );
}

/// With a tiny memory budget every few releases go to a sorted run on disk; the
/// k-way merge of the runs must give exactly the in-memory result.
#[test]
fn spilled_runs_give_the_same_output() {
    let split = repo().join("data/ocds/dgcp-split-c1.jsonl.gz");
    let compile = |budget: usize| {
        let mut collector = Collector::with_budget(Limits::default(), budget);
        collector.read("split", File::open(&split).expect("split file"), &mut || {});
        let mut out = Vec::new();
        collector
            .write(
                &MergeRules::ocds_1_1(),
                CompileOptions::default(),
                &mut out,
                &|_| {},
            )
            .expect("write");
        out
    };
    let in_memory = compile(usize::MAX);
    let spilled = compile(4 * 1024 * 1024);
    assert_eq!(in_memory.len(), spilled.len());
    assert!(
        in_memory == spilled,
        "spilled output differs from in-memory output"
    );
}

/// Reading a memory-mapped file (what the CLI does for regular files) gives the
/// same output as reading it as a stream, for plain and gzip input.
#[test]
fn mapped_files_give_the_same_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plain = dir.path().join("split.jsonl");
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(
        File::open(repo().join("data/ocds/dgcp-split-c1.jsonl.gz")).expect("split"),
    )
    .take(8_000_000)
    .read_to_end(&mut text)
    .expect("gunzip");
    // Keep whole lines, and add a pretty-printed package and a bad line, so every path is used.
    let cut = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    text.truncate(cut);
    text.extend_from_slice(b"{not json}\n{\"releases\": [\n  {\"ocid\": \"ocds-aaaaaa-1\", \"id\": \"1\", \"date\": \"2020-01-01T00:00:00Z\"}\n]}\n");
    std::fs::write(&plain, &text).expect("write");
    let gz = dir.path().join("split.jsonl.gz");
    {
        let mut enc = flate2::write::GzEncoder::new(
            File::create(&gz).expect("gz"),
            flate2::Compression::fast(),
        );
        std::io::Write::write_all(&mut enc, &text).expect("gzip");
        enc.finish().expect("gzip end");
    }
    let run = |path: &Path, mapped: bool| {
        let mut collector = Collector::new(Limits::default());
        if mapped {
            collector.read_file(path, &mut || {}).expect("read file");
        } else {
            collector.read(
                &path.display().to_string(),
                File::open(path).expect("open"),
                &mut || {},
            );
        }
        let mut out = Vec::new();
        let (summary, problems) = collector
            .write(
                &MergeRules::ocds_1_1(),
                CompileOptions::default(),
                &mut out,
                &|_| {},
            )
            .expect("write");
        let problems: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        (out, summary, problems)
    };
    let streamed = run(&plain, false);
    assert!(streamed.1.written > 1000, "{:?}", streamed.1);
    assert_eq!(streamed.2.len(), 1, "one bad line: {:?}", streamed.2);
    let mapped = run(&plain, true);
    assert!(streamed.0 == mapped.0, "mapped output differs");
    assert_eq!(streamed.1, mapped.1);
    assert_eq!(streamed.2, mapped.2, "problems (with their places) differ");
    let mapped_gz = run(&gz, true);
    assert!(streamed.0 == mapped_gz.0, "gzip output differs");
}

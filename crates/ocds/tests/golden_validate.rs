//! Validation against the reports of libcoveocds (the OCDS Data Review Tool's
//! library) on the same real files (`tests/golden/libcoveocds/`, made by
//! `make-reports.sh` there): we must find every error it finds, counted per
//! kind. Where our count differs, the test says why.
//!
//! How the inputs differ: libcoveocds reads one package, so each publisher's
//! files were combined into one release package for it (with package fields
//! filled in). We validate the files as published. Findings about package
//! fields (`item == PACKAGE`) are therefore compared separately.
//!
//! Errors of ours that libcoveocds does not have, checked in `extra_errors_are_explained`:
//! `conflict` — a release repeats an earlier one's `ocid` and `id` with other
//! content; libcoveocds reports the repeated pair (`uniqueItems`) but never
//! compares content, so every conflict must sit on a pair it reported.
//! Warnings (deprecated, additional and empty fields, open codelists, missing
//! ids) are not errors in either tool and are not compared here.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tuwhera_ocds::validate::{self, Finding, Rule, PACKAGE};
use tuwhera_ocds::Limits;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn report(slug: &str) -> Value {
    let dir = repo().join("crates/ocds/tests/golden/libcoveocds");
    let plain = dir.join(format!("{slug}.json"));
    let mut text = String::new();
    if plain.exists() {
        File::open(plain)
            .and_then(|mut f| f.read_to_string(&mut text))
            .expect("report");
    } else {
        let f = File::open(dir.join(format!("{slug}.json.gz"))).expect("report");
        flate2::read::GzDecoder::new(f)
            .read_to_string(&mut text)
            .expect("gzip report");
    }
    serde_json::from_str(&text).expect("report is JSON")
}

fn validate_files(files: Vec<PathBuf>) -> Vec<Finding> {
    let sources = files
        .into_iter()
        .map(|p| {
            let r: Box<dyn Read + Send> = Box::new(File::open(&p).expect("input"));
            (p.display().to_string(), r)
        })
        .collect();
    let mut out = Vec::new();
    validate::validate_sources(
        sources,
        Limits::default(),
        &mut |f| out.push(f.clone()),
        &mut |_| {},
    );
    out
}

fn publisher_files(dir: &str) -> Vec<PathBuf> {
    let dir = repo().join("data/ocds/real-examples").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("publisher dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    files
}

/// libcoveocds' schema errors per kind.
fn their_kinds(r: &Value) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for e in r["validation_errors"]
        .as_array()
        .expect("validation_errors")
    {
        *m.entry(e["type"].as_str().expect("type").to_owned())
            .or_default() += 1;
    }
    m
}

fn our_kinds(findings: &[Finding], package: bool) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for f in findings.iter().filter(|f| (f.item == PACKAGE) == package) {
        if let Some(k) = f.rule.libcove_kind() {
            *m.entry(k.to_owned()).or_default() += 1;
        }
    }
    m
}

fn closed_codelists_theirs(r: &Value) -> BTreeSet<(String, String)> {
    let mut s = BTreeSet::new();
    if let Some(m) = r["additional_closed_codelist_values"].as_object() {
        for v in m.values() {
            for value in v["values"].as_array().into_iter().flatten() {
                s.insert((
                    v["field"].as_str().unwrap_or("").to_owned(),
                    value.as_str().unwrap_or("").to_owned(),
                ));
            }
        }
    }
    s
}

fn closed_codelists_ours(findings: &[Finding]) -> BTreeSet<(String, String)> {
    findings
        .iter()
        .filter(|f| matches!(f.rule, Rule::ClosedCodelist(_)))
        .map(|f| {
            let field = f
                .pointer
                .rsplit('/')
                .find(|s| s.parse::<usize>().is_err())
                .unwrap_or("")
                .to_owned();
            let value = match &f.value {
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => String::new(),
            };
            (field, value)
        })
        .collect()
}

fn prefixes_theirs(r: &Value) -> usize {
    r["conformance_errors"]["ocds_prefixes_bad_format"]
        .as_array()
        .map_or(0, Vec::len)
}

/// Every error of ours is of a kind libcoveocds reports, or a conflict on a
/// release pair it reported as repeated.
fn extra_errors_are_explained(findings: &[Finding], theirs: &Value, slug: &str) {
    let repeated: BTreeSet<String> = theirs["validation_errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"] == "uniqueItems" && e["path"] == "releases")
        .filter_map(|e| e["value"].as_str().map(str::to_owned))
        .collect();
    for f in findings
        .iter()
        .filter(|f| f.severity() == validate::Severity::Error)
    {
        match &f.rule {
            Rule::Conflict => {
                let pair = f.value.as_ref().and_then(Value::as_str).unwrap_or_default();
                assert!(
                    repeated.contains(pair),
                    "{slug}: conflict on a pair libcoveocds did not report: {pair}"
                );
            }
            rule => assert!(
                rule.libcove_kind().is_some()
                    || matches!(rule, Rule::OcidPrefix | Rule::ClosedCodelist(_)),
                "{slug}: an error kind libcoveocds does not have: {f}"
            ),
        }
    }
}

fn check(slug: &str, dir: &str, package_kinds: &[(&str, usize)]) {
    let theirs = report(slug);
    let findings = validate_files(publisher_files(dir));
    extra_errors_are_explained(&findings, &theirs, slug);
    let ours = our_kinds(&findings, false);
    let mut expected = their_kinds(&theirs);
    // Errors libcoveocds found in the package fields it was given (see the module comment).
    let mut our_package: BTreeMap<String, usize> = our_kinds(&findings, true);
    for (kind, n) in package_kinds {
        // libcoveocds saw the combined package once; we see each published package.
        if let Some(t) = expected.get_mut(*kind) {
            *t = t.saturating_sub(1);
            if *t == 0 {
                expected.remove(*kind);
            }
        }
        assert_eq!(
            our_package.remove(*kind),
            Some(*n),
            "{slug}: package-level {kind}"
        );
    }
    assert!(
        our_package.is_empty(),
        "{slug}: unexplained package findings {our_package:?}"
    );
    assert_eq!(
        ours, expected,
        "{slug}: schema errors per kind (ours vs libcoveocds)"
    );
    let ours_prefix = findings
        .iter()
        .filter(|f| f.rule == Rule::OcidPrefix)
        .count();
    assert_eq!(
        ours_prefix,
        prefixes_theirs(&theirs),
        "{slug}: ocid prefix findings"
    );
    assert_eq!(
        closed_codelists_ours(&findings),
        closed_codelists_theirs(&theirs),
        "{slug}: closed codelist values"
    );
}

#[test]
fn armenia() {
    check("armenia", "armenia/releases", &[]);
}

/// Published as 10 packages of version "1.0.1" without `uri` and with `extensions: [null, …]`.
/// libcoveocds refuses a "1.0.1" package outright, so it was fed one combined 1.1 package with a
/// `uri`; it reported the `null` extension once. We report, for each of the 10 packages as
/// published: the `null` extension (type string), the missing `uri` (required) and the version
/// that does not match `major.minor` (pattern).
#[test]
fn australia_nsw() {
    check(
        "australia-nsw",
        "australia/new-south-wales/releases",
        &[("string", 10), ("required", 10), ("pattern", 10)],
    );
}

#[test]
fn mexico_cdmx() {
    check("mexico-cdmx", "mexico/cdmx/releases", &[]);
}

#[test]
fn mexico_grupo_aeroportuario() {
    check(
        "mexico-grupo-aeroportuario",
        "mexico/grupo-aeroportuario/releases",
        &[],
    );
}

#[test]
fn mexico_inai() {
    check("mexico-inai", "mexico/inai/releases", &[]);
}

#[test]
fn mexico_jalisco() {
    check("mexico-jalisco", "mexico/jalisco/releases", &[]);
}

#[test]
fn moldova() {
    check("moldova", "moldova/releases", &[]);
}

#[test]
fn paraguay() {
    check("paraguay", "paraguay/releases", &[]);
}

#[test]
fn uganda() {
    check("uganda", "uganda/releases", &[]);
}

#[test]
fn ukraine() {
    check("ukraine", "ukraine/releases", &[]);
}

/// The split Dominican Republic data: 8,625 bad date-times (planning documents'
/// `datePublished`, like `2021-10-29 13:35:00.3011698`) and one award item without `id`.
#[test]
fn dgcp_split() {
    let theirs = report("dgcp-split-c1");
    let findings = validate_files(vec![repo().join("data/ocds/dgcp-split-c1.jsonl.gz")]);
    let ours = our_kinds(&findings, false);
    assert_eq!(ours, their_kinds(&theirs));
    assert_eq!(ours.get("date-time"), Some(&8_625));
    let dates: BTreeSet<&str> = findings
        .iter()
        .filter(|f| f.rule == Rule::Format("date-time"))
        .map(|f| f.pointer.as_str())
        .collect();
    assert_eq!(
        dates.into_iter().collect::<Vec<_>>(),
        vec!["/planning/documents/0/datePublished"]
    );
}

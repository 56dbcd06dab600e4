//! The cases of the `bods-v04-fixtures` package (PyPI, copied unchanged into
//! `tests/fixtures/bods-v04-fixtures/`; see its README.md) run through our
//! reader, validator and ownership graph.
//!
//! What the package says about its cases: every one is valid BODS 0.4 (it has
//! no invalid category yet; its own tests check that statement ids are
//! unique, string references resolve, `bodsVersion` is exactly "0.4" and each
//! case has its `.expected.md`), and each `.expected.md` states what a
//! correct "find UBO" query returns. So a case is as expected when:
//!
//! 1. it reads as a JSON array with no read error,
//! 2. validation gives no error (warnings are printed, not failed: they are
//!    the "additional checks" and the package claims nothing about them
//!    beyond resolving references, which is checked in 3),
//! 3. the package's own structural claims hold (unique ids, references
//!    resolve, `bodsVersion` "0.4", an `.expected.md` beside it),
//! 4. every statement goes into a [`Graph`] (none skipped), and
//! 5. the case's `.expected.md` query expectations hold (see [`semantic`]).
//!
//! A case with no entry in [`semantic`] (one added by a later copy of the
//! package) gets 1–4 only, and the output says so.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tuwhera_bods::graph::{Graph, Limits, PartyKind, Terminal};
use tuwhera_bods::read::{self, Limits as ReadLimits, Shape};
use tuwhera_bods::validate::{shape_finding, validate_all, Severity, Validator};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bods-v04-fixtures")
}

/// Every case as `category/name` (without `.json`), sorted, as the package's
/// `list_cases()` gives them.
fn cases() -> Vec<String> {
    let mut names = Vec::new();
    for category in std::fs::read_dir(root()).unwrap() {
        let category = category.unwrap().path();
        if !category.is_dir() {
            continue;
        }
        let cat = category.file_name().unwrap().to_string_lossy().into_owned();
        for file in std::fs::read_dir(&category).unwrap() {
            let name = file.unwrap().file_name().to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".json") {
                names.push(format!("{cat}/{stem}"));
            }
        }
    }
    names.sort();
    names
}

/// The case-specific expectations, from each `.expected.md`.
fn semantic(name: &str, graph: &Graph) -> Option<Result<(), String>> {
    let limits = Limits::default();
    let check = match name {
        // "A 'find UBO' query starting from rec-acme-holdings-ltd MUST return
        // rec-jane-smith-1975 with a single hop and a 75% aggregate interest."
        "core/01-direct-ownership" => (|| {
            let o = graph.ultimate_owners("rec-acme-holdings-ltd", &limits);
            let [jane] = o.owners.as_slice() else {
                return Err(format!("want one owner, got {}", o.owners.len()));
            };
            if jane.party.record_id.as_deref() != Some("rec-jane-smith-1975") {
                return Err(format!("owner is {:?}", jane.party.record_id));
            }
            if jane.terminal != Terminal::NaturalPerson || !jane.direct {
                return Err(format!(
                    "want a direct natural person, got {:?} direct={}",
                    jane.terminal, jane.direct
                ));
            }
            let hops: Vec<usize> = jane.paths.iter().map(|p| p.relationships.len()).collect();
            if hops != [1] {
                return Err(format!("want a single hop, got paths of {hops:?}"));
            }
            match jane.share {
                Some(s) if s.is_exact() && s.min == 75.0 => Ok(()),
                other => Err(format!("want exactly 75 %, got {other:?}")),
            }
        })(),
        // "MUST terminate, return either an explicit 'no natural-person UBO'
        // result OR flag the cycle, never return one of the cycle entities as
        // its own UBO"; totals must not be inflated to 200 %.
        "edge-cases/10-circular-ownership" => (|| {
            for start in ["rec-alpha-corp", "rec-beta-corp"] {
                let o = graph.ultimate_owners(start, &limits);
                if o.truncated {
                    return Err(format!("{start}: walk truncated: {:?}", o.truncation));
                }
                if let Some(p) = o.owners.iter().find(|x| x.party.kind == PartyKind::Person) {
                    return Err(format!("{start}: a person UBO {:?}", p.party.record_id));
                }
                if let Some(me) = o
                    .owners
                    .iter()
                    .find(|x| x.party.record_id.as_deref() == Some(start))
                {
                    return Err(format!("{start} is its own UBO: {:?}", me.terminal));
                }
                if let Some(big) = o
                    .owners
                    .iter()
                    .find(|x| x.share.is_some_and(|s| s.max > 100.0))
                {
                    return Err(format!("{start}: share above 100 %: {:?}", big.share));
                }
                let want = vec![vec![
                    "rec-alpha-corp".to_owned(),
                    "rec-beta-corp".to_owned(),
                ]];
                if o.cycles != want {
                    return Err(format!("{start}: cycle not flagged: {:?}", o.cycles));
                }
            }
            // The source-adapter rule: neither side of the cycle is dropped.
            for r in ["rec-rel-alpha-owns-beta", "rec-rel-beta-owns-alpha"] {
                if graph.record(r).and_then(|r| r.current()).is_none() {
                    return Err(format!("{r} missing from the graph"));
                }
            }
            Ok(())
        })(),
        // "A 'find UBO' query on this entity MUST distinguish ... 'declared
        // unknown UBO' (this fixture — a structured acknowledgement that an
        // unknown was declared, with the reason code)", description kept, no
        // placeholder person synthesised.
        "edge-cases/11-anonymous-person" => (|| {
            let o = graph.ultimate_owners("rec-opaque-holdings-sa", &limits);
            let [unknown] = o.owners.as_slice() else {
                return Err(format!("want one owner, got {}", o.owners.len()));
            };
            if unknown.party.kind != PartyKind::Unknown || unknown.terminal != Terminal::Unspecified
            {
                return Err(format!(
                    "want an unspecified party, got {:?} / {:?}",
                    unknown.party.kind, unknown.terminal
                ));
            }
            if unknown.party.reason.as_deref()
                != Some("subjectUnableToConfirmOrIdentifyBeneficialOwner")
            {
                return Err(format!("reason {:?}", unknown.party.reason));
            }
            if !unknown
                .party
                .description
                .as_deref()
                .is_some_and(|d| d.contains("unable to identify any beneficial owner"))
            {
                return Err(format!("description {:?}", unknown.party.description));
            }
            if graph
                .records()
                .iter()
                .any(|r| r.record_type == tuwhera_bods::graph::RecordType::Person)
            {
                return Err("a person record appeared".into());
            }
            Ok(())
        })(),
        _ => return None,
    };
    Some(check)
}

/// The package's own structural tests (`tests/test_fixtures_are_valid.py`).
fn structural(name: &str, statements: &[Value]) -> Result<(), String> {
    let mut ids = HashSet::new();
    for s in statements {
        let id = s["statementId"].as_str().unwrap_or_default();
        if !ids.insert(id) {
            return Err(format!("duplicate statementId {id}"));
        }
        if s["publicationDetails"]["bodsVersion"] != "0.4" {
            return Err(format!("{id}: bodsVersion is not exactly \"0.4\""));
        }
    }
    let records: HashSet<&str> = statements
        .iter()
        .filter_map(|s| s["recordId"].as_str())
        .collect();
    for s in statements {
        for side in ["subject", "interestedParty"] {
            if let Some(target) = s["recordDetails"][side].as_str() {
                if !records.contains(target) {
                    return Err(format!("{side} {target} resolves to no record"));
                }
            }
        }
    }
    if !root().join(format!("{name}.expected.md")).is_file() {
        return Err("no .expected.md".into());
    }
    Ok(())
}

#[test]
fn bods_v04_fixtures_cases() {
    let validator = Validator::new().unwrap();
    let names = cases();
    let mut passed = 0;
    let mut misses = Vec::new();
    let mut notes = Vec::new();
    for name in &names {
        let path = root().join(format!("{name}.json"));
        let source = path.display().to_string();
        let mut reader = read::read(&source, File::open(&path).unwrap(), ReadLimits::default());
        let mut statements = Vec::new();
        let mut why: Vec<String> = Vec::new();
        for item in reader.by_ref() {
            match item.statement {
                Ok(v) => statements.push(v),
                Err(e) => why.push(format!("read error at line {}: {e}", item.place.line)),
            }
        }
        if reader.shape() != Shape::Array {
            why.push(format!("layout {:?}, not a JSON array", reader.shape()));
        }
        let mut findings = validate_all(&validator, &statements);
        findings.extend(shape_finding(reader.shape(), &source));
        for f in &findings {
            match f.severity {
                Severity::Error => why.push(format!(
                    "error [{}] {}: {}",
                    f.rule.code(),
                    f.path,
                    f.message
                )),
                Severity::Warning => {
                    notes.push(format!("{name}: warning [{}] {}", f.rule.code(), f.path))
                }
            }
        }
        if let Err(e) = structural(name, &statements) {
            why.push(format!("package claim fails: {e}"));
        }
        let graph = Graph::build(&statements);
        for s in graph.skipped() {
            why.push(format!("statement {} skipped: {}", s.position, s.reason));
        }
        match semantic(name, &graph) {
            Some(Ok(())) => {}
            Some(Err(e)) => why.push(format!(".expected.md: {e}")),
            None => notes.push(format!(
                "{name}: no case-specific check (new case?): validity and graph only"
            )),
        }
        if why.is_empty() {
            passed += 1;
        } else {
            misses.push(format!("miss: {name}: {}", why.join("; ")));
        }
    }
    println!(
        "bods-v04-fixtures: {passed}/{} cases as expected",
        names.len()
    );
    for m in &misses {
        println!("{m}");
    }
    for n in &notes {
        println!("note: {n}");
    }
    assert!(
        misses.is_empty(),
        "{} cases not as expected (listed above)",
        misses.len()
    );
    // The copy of version 0.1.1 holds three cases; a new copy updates this.
    assert_eq!(names.len(), 3, "cases: {names:?}");
}

//! The reader (shapes, gzip, errors that do not stop it, limits) and the
//! legacy upgrader on a hand-made BODS 0.2 file with known defects.

use std::io::Write;

use serde_json::{json, Value};
use tuwhera_bods::read::{self, Limits, ReadError, Shape};
use tuwhera_bods::upgrade::{self, Upgrader, Version};
use tuwhera_bods::validate::{validate_all, Severity, Validator};

fn statements(items: &[read::Item]) -> Vec<Value> {
    items
        .iter()
        .filter_map(|i| i.statement.clone().ok())
        .collect()
}

#[test]
fn reads_an_array_with_places_and_goes_on_after_a_bad_statement() {
    let input =
        b"[\n {\"statementId\": \"a\"},\n {\"statementId\": oops},\n {\"statementId\": \"c\"}\n]\n";
    let mut reader = read::read("x.json", &input[..], Limits::default());
    let items: Vec<_> = reader.by_ref().collect();
    assert_eq!(items.len(), 3);
    assert_eq!(reader.shape(), Shape::Array);
    assert_eq!((items[0].place.line, items[0].place.index), (2, 0));
    assert!(matches!(items[1].statement, Err(ReadError::Syntax(_))));
    assert_eq!((items[1].place.line, items[1].place.index), (3, 1));
    assert_eq!(items[2].statement.as_ref().unwrap()["statementId"], "c");
    assert_eq!(items[2].place.line, 4);
}

#[test]
fn reads_json_lines_and_gzip() {
    let text =
        "{\"statementId\": \"a\"}\n\n{\"statementId\": \"b\"}\n{broken\n{\"statementId\": \"d\"}\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    for bytes in [text.as_bytes(), &gz[..]] {
        let mut reader = read::read("x.jsonl", bytes, Limits::default());
        let items: Vec<_> = reader.by_ref().collect();
        let ids: Vec<_> = statements(&items)
            .iter()
            .map(|s| s["statementId"].clone())
            .collect();
        assert_eq!(reader.shape(), Shape::Lines);
        assert!(items.iter().any(|i| i.statement.is_err()));
        assert_eq!(ids.first(), Some(&json!("a")));
        assert_eq!(
            ids.last(),
            Some(&json!("d")),
            "reading resumes after the broken line"
        );
    }
}

#[test]
fn limits_are_errors_not_crashes() {
    let deep = format!(
        "[{}{}, {{\"ok\": 1}}]",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let items = read::read_all("deep.json", deep.as_bytes(), Limits::default());
    assert!(matches!(items[0].statement, Err(ReadError::TooDeep { .. })));
    assert_eq!(items[1].statement.as_ref().unwrap()["ok"], 1);

    let big = format!("[{{\"a\": \"{}\"}}, {{\"ok\": 1}}]", "x".repeat(5000));
    let limits = Limits {
        max_statement_bytes: 1000,
        ..Limits::default()
    };
    let items = read::read_all("big.json", big.as_bytes(), limits);
    assert!(matches!(
        items[0].statement,
        Err(ReadError::TooLarge { .. })
    ));
    assert_eq!(items[1].statement.as_ref().unwrap()["ok"], 1);

    let items = read::read_all("cut.json", &b"[{\"a\": [1, 2"[..], Limits::default());
    assert!(matches!(
        items.last().unwrap().statement,
        Err(ReadError::Truncated)
    ));
}

#[test]
fn legacy_02_is_upgraded_and_each_defect_reported() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/legacy-0.2.json");
    let items = read::read_all(
        "legacy-0.2.json",
        std::fs::File::open(path).unwrap(),
        Limits::default(),
    );
    assert_eq!(items.len(), 5);
    let mut upgrader = Upgrader::new();
    let mut upgraded = Vec::new();
    let mut findings = Vec::new();
    for item in items {
        let value = item.statement.unwrap();
        if value.is_object() {
            assert_eq!(upgrade::detect(&value), Version::Legacy);
        }
        let out = upgrader.upgrade(value, &item.place);
        findings.extend(out.findings);
        upgraded.extend(out.statement);
    }
    let codes: Vec<(String, String)> = findings
        .iter()
        .map(|f| (f.rule.code().into_owned(), f.path.clone()))
        .collect();
    for expected in [
        ("upgrade.full-birth-date", "$[1].recordDetails.birthDate"),
        (
            "upgrade.unknown-interest-type",
            "$[2].recordDetails.interests[1].type",
        ),
        (
            "upgrade.missing-interested-party",
            "$[3].recordDetails.interestedParty",
        ),
        ("upgrade.not-an-object", "$[4]"),
    ] {
        assert!(
            codes
                .iter()
                .any(|(c, p)| c == expected.0 && p == expected.1),
            "{expected:?} not in {codes:?}"
        );
    }
    assert_eq!(findings.len(), 4, "{codes:?}");

    // The entity, the person and the good relationship are imported, and are valid 0.4.
    assert_eq!(upgraded.len(), 3);
    let types: Vec<_> = upgraded
        .iter()
        .map(|s| s["recordType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["entity", "person", "relationship"]);
    let relationship = &upgraded[2]["recordDetails"];
    assert_eq!(
        relationship["subject"],
        "legacy-entity-0001-aaaaaaaaaaaaaaaaaaaa"
    );
    assert_eq!(
        relationship["interestedParty"],
        "legacy-person-0001-bbbbbbbbbbbbbbbbbbbb"
    );
    assert_eq!(relationship["interests"][0]["directOrIndirect"], "direct");
    assert_eq!(
        relationship["interests"][0]["share"],
        json!({"maximum": 50, "exclusiveMinimum": 25})
    );
    assert_eq!(relationship["interests"][1]["type"], "unknownInterest");
    assert_eq!(
        upgraded[0]["recordDetails"]["entityType"],
        json!({"type": "registeredEntity"})
    );
    assert_eq!(upgraded[0]["recordDetails"]["jurisdiction"]["code"], "NZ");
    let validator = Validator::with_today(jiff::civil::date(2025, 1, 1)).unwrap();
    let report = validate_all(&validator, &upgraded);
    assert!(
        report.is_empty(),
        "{:#?}",
        report.iter().map(|f| f.to_string()).collect::<Vec<_>>()
    );
}

#[test]
fn cross_statement_rules() {
    let base = |id: &str, record: &str, kind: &str, details: Value| {
        json!({"statementId": format!("{id:0>32}"), "recordId": record, "recordType": kind,
               "declarationSubject": "e1", "statementDate": "2020-01-01", "recordStatus": "new",
               "recordDetails": details})
    };
    let statements = vec![
        // Points at e1 and p1 before they exist, and at nobody.
        base(
            "r0",
            "r0",
            "relationship",
            json!({"isComponent": false, "subject": "e1", "interestedParty": "ghost",
            "interests": [{"type": "trustee", "share": {"minimum": 60, "maximum": 40}, "startDate": "2020-01-01", "endDate": "2019-01-01"}]}),
        ),
        base(
            "e1",
            "e1",
            "entity",
            json!({"isComponent": false, "entityType": {"type": "registeredEntity"}}),
        ),
        base(
            "e2",
            "e2",
            "entity",
            json!({"isComponent": false, "entityType": {"type": "registeredEntity"}}),
        ),
        base(
            "r1",
            "r1",
            "relationship",
            json!({"isComponent": false, "subject": "e1", "interestedParty": "e2",
            "interests": [{"type": "shareholding", "beneficialOwnershipOrControl": true, "share": {"exact": 70, "maximum": 50}}]}),
        ),
        base(
            "e1",
            "e1",
            "entity",
            json!({"isComponent": false, "entityType": {"type": "registeredEntity"}}),
        ),
        base(
            "p1",
            "e1",
            "person",
            json!({"isComponent": false, "personType": "knownPerson",
            "birthDate": "1990-02", "deathDate": "1980"}),
        ),
        base(
            "c1",
            "c1",
            "relationship",
            json!({"isComponent": true, "subject": "e1", "interestedParty": "e2"}),
        ),
    ];
    let validator = Validator::with_today(jiff::civil::date(2025, 1, 1)).unwrap();
    let findings = validate_all(&validator, &statements);
    let codes: Vec<_> = findings
        .iter()
        .map(|f| f.rule.code().into_owned())
        .collect();
    for expected in [
        "reference-before-target",
        "reference-not-found",
        "interest-needs-trust",
        "share-range-empty",
        "interest-end-before-start",
        "beneficial-owner-not-person",
        "share-exact-outside-range",
        "duplicate-statement-id",
        "record-new-not-first",
        "record-type-changed",
        "death-before-birth",
        "component-not-listed",
    ] {
        assert!(
            codes.iter().any(|c| c == expected),
            "{expected} not in {codes:?}"
        );
    }
    assert!(
        findings.iter().all(|f| f.severity == Severity::Warning),
        "{codes:?}"
    );
}

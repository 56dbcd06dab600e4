//! Data quality per publisher (`tuwhera_flags::quality`).
//!
//! Hand-made releases check each key field, each placeholder kind, each date
//! issue and each missing-element kind one at a time, starting from a release
//! that is complete and clean; then merge, the score's bounds, the example in
//! `docs/indicators/quality.md`, and figures on the Dominican Republic's DGCP
//! data checked by hand with Python (the script is in the docs page).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use serde_json::{json, Value};
use tuwhera_flags::quality::{
    ocid_prefix, ByPublisher, DateIssue, Grade, Missing, Placeholder, Quality, Report, FIELDS,
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every key field filled, no placeholder, dates in order, all RFC 3339.
fn clean() -> Value {
    json!({
        "ocid": "ocds-abc123-0001",
        "id": "ocds-abc123-0001-2024-03-01",
        "date": "2024-03-01T00:00:00Z",
        "tag": ["compiled"],
        "initiationType": "tender",
        "buyer": {"id": "NZ-GOV-1", "name": "Ministry of Works"},
        "parties": [
            {"id": "NZ-GOV-1", "name": "Ministry of Works", "roles": ["buyer"],
             "identifier": {"scheme": "NZ-GOV", "id": "1"}},
            {"id": "NZ-NZBN-9429000000001", "name": "Kiwi Roads Ltd",
             "roles": ["tenderer", "supplier"],
             "identifier": {"scheme": "NZ-NZBN", "id": "9429000000001"}},
            {"id": "NZ-NZBN-9429000000002", "name": "Tui Paving Ltd", "roles": ["tenderer"],
             "identifier": {"scheme": "NZ-NZBN", "id": "9429000000002"}}
        ],
        "tender": {
            "id": "T1",
            "title": "Road resurfacing",
            "description": "Resurfacing of 3 km of State Highway 1",
            "status": "complete",
            "procurementMethod": "open",
            "mainProcurementCategory": "works",
            "value": {"amount": 1000000, "currency": "NZD"},
            "tenderPeriod": {"startDate": "2024-01-10T00:00:00Z",
                             "endDate": "2024-02-10T00:00:00Z"},
            "items": [{"id": "1", "description": "Asphalt",
                       "classification": {"scheme": "UNSPSC", "id": "72141103"}}],
            "documents": [{"id": "d1", "documentType": "tenderNotice",
                           "url": "https://example.org/t1",
                           "datePublished": "2024-01-10T00:00:00Z"}],
            "numberOfTenderers": 2,
            "tenderers": [
                {"id": "NZ-NZBN-9429000000001", "name": "Kiwi Roads Ltd"},
                {"id": "NZ-NZBN-9429000000002", "name": "Tui Paving Ltd"}
            ]
        },
        "bids": {"details": [
            {"id": "b1", "date": "2024-02-01T00:00:00Z", "status": "valid",
             "value": {"amount": 950000, "currency": "NZD"},
             "tenderers": [{"id": "NZ-NZBN-9429000000001", "name": "Kiwi Roads Ltd"}]},
            {"id": "b2", "date": "2024-02-02T00:00:00Z", "status": "valid",
             "value": {"amount": 990000, "currency": "NZD"},
             "tenderers": [{"id": "NZ-NZBN-9429000000002", "name": "Tui Paving Ltd"}]}
        ]},
        "awards": [{"id": "a1", "date": "2024-02-20T00:00:00Z", "status": "active",
                    "value": {"amount": 950000, "currency": "NZD"},
                    "suppliers": [{"id": "NZ-NZBN-9429000000001", "name": "Kiwi Roads Ltd"}]}],
        "contracts": [{"id": "c1", "awardID": "a1", "status": "active",
                       "dateSigned": "2024-02-28T00:00:00Z",
                       "value": {"amount": 950000, "currency": "NZD"},
                       "period": {"startDate": "2024-03-01T00:00:00Z",
                                  "endDate": "2030-09-30T00:00:00Z"}}]
    })
}

fn with(mut release: Value, pointer: &str, value: Value) -> Value {
    *release
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer}")) = value;
    release
}

fn without(mut release: Value, pointer: &str) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    release
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("{parent}"))
        .as_object_mut()
        .unwrap()
        .remove(key)
        .unwrap_or_else(|| panic!("{pointer}"));
    release
}

fn report(releases: &[Value]) -> Report {
    let mut q = Quality::default();
    for r in releases {
        q.fold(r);
    }
    q.report()
}

fn present(r: &Report, key: &str) -> u64 {
    r.coverage.iter().find(|c| c.key == key).unwrap().present
}

/// key → occurrences, for the kinds with any.
fn nonzero(counts: &[tuwhera_flags::quality::Count]) -> BTreeMap<String, u64> {
    counts
        .iter()
        .filter(|c| c.occurrences > 0)
        .map(|c| (c.key.clone(), c.occurrences))
        .collect()
}

fn map(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

#[test]
fn a_clean_complete_release_scores_100() {
    let r = report(&[clean()]);
    assert_eq!(r.processes, 1);
    assert_eq!(r.coverage.len(), FIELDS.len());
    for c in &r.coverage {
        assert_eq!(
            (c.key.as_str(), c.present, c.share),
            (c.key.as_str(), 1, 1.0)
        );
    }
    assert!(nonzero(&r.placeholders).is_empty(), "{:?}", r.placeholders);
    assert!(nonzero(&r.date_issues).is_empty(), "{:?}", r.date_issues);
    assert!(nonzero(&r.missing).is_empty(), "{:?}", r.missing);
    let n = FIELDS.len() as u64;
    assert_eq!(
        (
            r.fields_filled,
            r.fields_filled_without_placeholders,
            r.fields_filled_without_date_issues
        ),
        (n, n, n)
    );
    assert_eq!(r.score, 100.0);
    assert_eq!(r.grade, Some(Grade::A));
    assert!(r.explanation.contains("every key field is always filled"));
}

#[test]
fn empty_releases_score_low() {
    let r = report(&[json!({})]);
    assert_eq!(r.score, 0.0);
    assert_eq!(r.grade, Some(Grade::E));
    assert_eq!(r.fields_filled, 0);
    // Not a release at all: a process with nothing, not a crash.
    let r = report(&[json!([]), json!("x"), Value::Null]);
    assert_eq!((r.processes, r.score), (3, 0.0));
    // Only an ocid and a date: clean, but almost nothing to be clean about,
    // so it earns one field's worth (100 / 23 fields).
    let r = report(&[json!({"ocid": "ocds-abc123-1", "date": "2024-01-01T00:00:00Z"})]);
    assert_eq!(r.score, 4.35);
    assert_eq!(r.grade, Some(Grade::E));
    // No processes: nothing to judge.
    let r = Quality::default().report();
    assert_eq!((r.score, r.grade), (0.0, None));
}

/// Each field, blanked or removed, is absent; only the fields that hang on
/// it go with it.
#[test]
fn each_key_field_counts_only_when_not_empty() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("ocid", "/ocid", &[]),
        ("buyer.id", "/buyer/id", &[]),
        ("buyer.name", "/buyer/name", &[]),
        ("tender.title", "/tender/title", &[]),
        ("tender.description", "/tender/description", &[]),
        ("tender.status", "/tender/status", &[]),
        ("tender.procurementMethod", "/tender/procurementMethod", &[]),
        (
            "tender.mainProcurementCategory",
            "/tender/mainProcurementCategory",
            &[],
        ),
        ("tender.value", "/tender/value/amount", &[]),
        (
            "tender.tenderPeriod.startDate",
            "/tender/tenderPeriod/startDate",
            &[],
        ),
        (
            "tender.tenderPeriod.endDate",
            "/tender/tenderPeriod/endDate",
            &[],
        ),
        (
            "tender.items.classification",
            "/tender/items/0/classification/id",
            &[],
        ),
        (
            "awards.suppliers",
            "/awards/0/suppliers",
            &["suppliers.identifier"],
        ),
        ("suppliers.identifier", "/parties/1/identifier/scheme", &[]),
        ("awards.value", "/awards/0/value/amount", &[]),
        ("awards.date", "/awards/0/date", &[]),
        (
            "contracts",
            "/contracts",
            &[
                "contracts.dateSigned",
                "contracts.value",
                "contracts.period",
            ],
        ),
        ("contracts.dateSigned", "/contracts/0/dateSigned", &[]),
        ("contracts.value", "/contracts/0/value/amount", &[]),
        ("contracts.period", "/contracts/0/period", &[]),
        ("tender.documents", "/tender/documents", &[]),
        ("tender.numberOfTenderers", "/tender/numberOfTenderers", &[]),
        ("bids", "/bids/details", &[]),
    ];
    let covered: Vec<&str> = cases.iter().map(|(k, _, _)| *k).collect();
    let keys: Vec<&str> = FIELDS.iter().map(|f| f.key).collect();
    assert_eq!(covered, keys, "every field has a case, in order");
    let blanks = [
        Value::Null,
        json!(""),
        json!("   "),
        json!([]),
        json!({}),
        json!([{}]),
        json!({"a": null, "b": ""}),
    ];
    for (key, pointer, also) in cases {
        let mut variants: Vec<Value> = blanks
            .iter()
            .map(|b| with(clean(), pointer, b.clone()))
            .collect();
        variants.push(without(clean(), pointer));
        for release in variants {
            let r = report(std::slice::from_ref(&release));
            for c in &r.coverage {
                let expected = u64::from(c.key != *key && !also.contains(&c.key.as_str()));
                assert_eq!(c.present, expected, "{key} blanked: {} in {release}", c.key);
            }
        }
    }
    // Through an array, one element with the field is enough.
    let mut two_items = clean();
    two_items["tender"]["items"]
        .as_array_mut()
        .unwrap()
        .insert(0, json!({"id": "0", "classification": {}}));
    assert_eq!(
        present(&report(&[two_items]), "tender.items.classification"),
        1
    );
    // A zero amount is present (it is counted as a placeholder instead).
    let zero = with(clean(), "/tender/value/amount", json!(0));
    assert_eq!(present(&report(&[zero]), "tender.value"), 1);
    // The supplier's party must be found by the award's reference (numbers
    // and strings alike), and have both scheme and id.
    let unknown = with(clean(), "/awards/0/suppliers/0/id", json!("NZ-NZBN-1"));
    assert_eq!(present(&report(&[unknown]), "suppliers.identifier"), 0);
    let no_id = without(clean(), "/parties/1/identifier/id");
    assert_eq!(present(&report(&[no_id]), "suppliers.identifier"), 0);
    let numeric = with(
        with(clean(), "/awards/0/suppliers/0/id", json!(438)),
        "/parties/1/id",
        json!("438"),
    );
    assert_eq!(present(&report(&[numeric]), "suppliers.identifier"), 1);
}

#[test]
fn each_placeholder_kind() {
    let cases: Vec<(&str, Value)> = vec![
        (
            "tender.value.zero",
            with(clean(), "/tender/value/amount", json!(0)),
        ),
        (
            "tender.value.zero",
            with(clean(), "/tender/value/amount", json!(0.0)),
        ),
        (
            "bids.value.zero",
            with(clean(), "/bids/details/1/value/amount", json!(0)),
        ),
        (
            "awards.value.zero",
            with(clean(), "/awards/0/value/amount", json!(0)),
        ),
        (
            "contracts.value.zero",
            with(clean(), "/contracts/0/value/amount", json!(0)),
        ),
        (
            "organisation.identifier",
            with(clean(), "/parties/0/identifier/id", json!("N/A")),
        ),
        (
            "organisation.identifier",
            with(clean(), "/parties/0/identifier/id", json!(0)),
        ),
        (
            "organisation.name",
            with(clean(), "/buyer/name", json!("N/A")),
        ),
        (
            "organisation.name",
            with(clean(), "/parties/0/name", json!("")),
        ),
        (
            "organisation.name",
            with(clean(), "/parties/0/name", json!("  ")),
        ),
        (
            "organisation.name",
            with(clean(), "/tender/tenderers/0/name", json!("unknown")),
        ),
    ];
    let ids = [
        json!("0"),
        json!("N/A"),
        json!("n/a"),
        json!("-"),
        json!("null"),
        json!("undefined"),
        json!("Placeholder"),
        json!(" none "),
        json!("000000"),
        json!("..."),
        json!(""),
        json!(0),
    ];
    let mut cases = cases;
    for id in ids {
        cases.push(("organisation.id", with(clean(), "/buyer/id", id)));
    }
    for day in ["0001-01-01", "1899-12-30", "1900-01-01", "1970-01-01"] {
        let date = format!("{day}T00:00:00Z");
        cases.push((
            "date.placeholder",
            with(clean(), "/contracts/0/period/endDate", json!(date)),
        ));
    }
    for (key, release) in cases {
        let r = report(std::slice::from_ref(&release));
        assert_eq!(nonzero(&r.placeholders), map(&[(key, 1)]), "{release}");
        assert_eq!(r.processes_with_placeholders, 1);
        assert_eq!(r.fields_filled_without_placeholders, 0);
        let c = r.placeholders.iter().find(|c| c.key == key).unwrap();
        assert_eq!(c.examples, vec!["ocds-abc123-0001".to_string()]);
    }
    // Real ids and names that look close are not placeholders.
    for id in ["0001", "N/A-1", "-1", "NA1", "Nulla Ltd"] {
        let r = report(&[with(clean(), "/buyer/id", json!(id))]);
        assert!(nonzero(&r.placeholders).is_empty(), "{id}");
    }
    // Each occurrence is counted, the process once.
    let mut two = with(clean(), "/bids/details/0/value/amount", json!(0));
    two = with(two, "/bids/details/1/value/amount", json!(0));
    let r = report(&[two]);
    let bids = &r.placeholders[Placeholder::BidValueZero as usize];
    assert_eq!(
        (bids.key.as_str(), bids.occurrences, bids.processes),
        ("bids.value.zero", 2, 1)
    );
    assert_eq!(r.placeholders.len(), Placeholder::ALL.len());
}

#[test]
fn each_date_issue() {
    const TENDER_END: &str = "/tender/tenderPeriod/endDate";
    const AWARD: &str = "/awards/0/date";
    const SIGNED: &str = "/contracts/0/dateSigned";
    const PUBLISHED: &str = "/tender/documents/0/datePublished";
    const CONTRACT_END: &str = "/contracts/0/period/endDate";
    const BID: &str = "/bids/details/0/date";
    type Case = (&'static [(&'static str, u64)], &'static str, Value);
    let cases: Vec<Case> = vec![
        (
            &[("tender.period.reversed", 1)],
            TENDER_END,
            json!("2024-01-05T00:00:00Z"),
        ),
        (
            &[("award.before.tender", 1)],
            AWARD,
            json!("2024-01-05T00:00:00Z"),
        ),
        (
            &[("contract.before.award", 1)],
            SIGNED,
            json!("2024-02-15T00:00:00Z"),
        ),
        // The release is dated 2024-03-01: a year on is the limit.
        (
            &[("date.future", 1)],
            PUBLISHED,
            json!("2025-03-01T00:00:01Z"),
        ),
        (&[], PUBLISHED, json!("2025-03-01T00:00:00Z")),
        (&[("date.future", 1)], BID, json!("2026-01-01T00:00:00Z")),
        // Period ends are plans, not events, and may be years ahead.
        (&[], CONTRACT_END, json!("2040-01-01T00:00:00Z")),
        // Dates without an offset, as DGCP publishes bid dates.
        (
            &[("date.no_time_zone", 1)],
            BID,
            json!("2024-02-01 13:35:00.3011698"),
        ),
        (
            &[("date.no_time_zone", 1)],
            BID,
            json!("2024-02-01T13:35:00"),
        ),
        (&[("date.no_time_zone", 1)], BID, json!("2024-02-01T13:35")),
        (&[("date.no_time", 1)], BID, json!("2024-02-01")),
        (&[("date.invalid", 1)], BID, json!("01/02/2024")),
        (&[("date.invalid", 1)], BID, json!("2024-02-30T00:00:00Z")),
        (&[("date.invalid", 1)], BID, json!("2024-02-01 13:35:00Z")),
        (&[("date.invalid", 1)], BID, json!("2024-02-01T13:35Z")),
        (&[("date.invalid", 1)], BID, json!("2024-02-01T25:00:00Z")),
        (&[("date.invalid", 1)], BID, json!("0000-01-01T00:00:00Z")),
        (&[("date.invalid", 1)], BID, json!("")),
        (&[("date.invalid", 1)], BID, json!(20240201)),
        (
            &[("date.invalid", 1)],
            BID,
            json!("2024-02-01T13:35:00+1300"),
        ),
        (&[("date.invalid", 1)], BID, json!("2024-02-01T13:35:00Zé")),
        // Valid RFC 3339 in its other spellings.
        (&[], BID, json!("2024-02-01t13:35:00z")),
        (&[], BID, json!("2024-02-01T13:35:00.123456789012+13:00")),
        (&[], BID, json!("2024-02-01T13:35:00-05:00")),
        // null removes a field; it is not a date to judge.
        (&[], BID, Value::Null),
        // A date without time is compared by day: same day is not before.
        (&[("date.no_time", 1)], AWARD, json!("2024-01-10")),
        (
            &[("date.no_time", 1), ("award.before.tender", 1)],
            AWARD,
            json!("2024-01-09"),
        ),
        // Without an offset, compared as UTC.
        (
            &[("date.no_time_zone", 1), ("contract.before.award", 1)],
            SIGNED,
            json!("2024-02-19 23:00:00"),
        ),
        // Offsets are honoured: 2024-02-20T01:00+13:00 is 2024-02-19T12:00Z.
        (
            &[("contract.before.award", 1)],
            SIGNED,
            json!("2024-02-20T01:00:00+13:00"),
        ),
    ];
    for (expected, pointer, value) in cases {
        let release = with(clean(), pointer, value);
        let r = report(std::slice::from_ref(&release));
        assert_eq!(nonzero(&r.date_issues), map(expected), "{release}");
        assert_eq!(
            r.processes_with_date_issues,
            u64::from(!expected.is_empty())
        );
        let clean_fields = if expected.is_empty() {
            r.fields_filled
        } else {
            0
        };
        assert_eq!(r.fields_filled_without_date_issues, clean_fields);
    }
    // A contract is matched with its own award.
    let mut two_awards = clean();
    two_awards["awards"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "a2", "date": "2024-02-27T00:00:00Z", "status": "active"}));
    let r = report(&[with(two_awards, "/contracts/0/awardID", json!("a2"))]);
    assert!(nonzero(&r.date_issues).is_empty());
    assert_eq!(r.date_issues.len(), DateIssue::ALL.len());
    // The release date itself is not "in the future" of itself, and a
    // release without a date has no horizon.
    let undated = without(
        with(
            clean(),
            "/bids/details/0/date",
            json!("2030-01-01T00:00:00Z"),
        ),
        "/date",
    );
    assert!(nonzero(&report(&[undated]).date_issues).is_empty());
}

#[test]
fn each_missing_kind() {
    let cases: Vec<(&str, Value)> = vec![
        ("bids.status", without(clean(), "/bids/details/0/status")),
        ("bids.value", without(clean(), "/bids/details/0/value")),
        (
            "bids.value",
            with(clean(), "/bids/details/0/value/amount", json!("950000")),
        ),
        (
            "bids.tenderers",
            with(clean(), "/bids/details/0/tenderers", json!([])),
        ),
        (
            "awards.status",
            with(clean(), "/awards/0/status", json!("")),
        ),
        ("awards.suppliers", without(clean(), "/awards/0/suppliers")),
        (
            "contracts.awardID",
            without(clean(), "/contracts/0/awardID"),
        ),
        (
            "tender.items.classification",
            without(clean(), "/tender/items/0/classification"),
        ),
        (
            "parties.identifier",
            without(clean(), "/parties/2/identifier/scheme"),
        ),
    ];
    for (key, release) in cases {
        let r = report(std::slice::from_ref(&release));
        assert_eq!(nonzero(&r.missing), map(&[(key, 1)]), "{release}");
    }
    let r = report(&[with(clean(), "/bids/details/1", json!("not a bid"))]);
    assert_eq!(
        nonzero(&r.missing),
        map(&[("bids.status", 1), ("bids.value", 1), ("bids.tenderers", 1)])
    );
    assert_eq!(r.missing.len(), Missing::ALL.len());
}

/// A mix of the cases above, for merge tests.
fn mixed() -> Vec<Value> {
    let mut releases = vec![
        clean(),
        json!({}),
        with(clean(), "/bids/details/0/value/amount", json!(0)),
        with(
            clean(),
            "/bids/details/0/date",
            json!("2024-02-01 13:35:00.3011698"),
        ),
        without(clean(), "/bids/details/1/status"),
        with(clean(), "/buyer/id", json!("N/A")),
        without(clean(), "/contracts"),
        json!("not a release"),
    ];
    for (i, r) in releases.iter_mut().enumerate() {
        if r.get("ocid").is_some() {
            r["ocid"] = json!(format!("ocds-abc123-{i:04}"));
        }
    }
    releases
}

#[test]
fn folding_in_parts_and_merging_is_folding_all() {
    let releases = mixed();
    let all = report(&releases);
    for cut in 0..=releases.len() {
        let (a, b) = releases.split_at(cut);
        let mut left = Quality::default();
        a.iter().for_each(|r| left.fold(r));
        let mut right = Quality::default();
        b.iter().for_each(|r| right.fold(r));
        // Either order: the report may not depend on it.
        let mut ab = left.clone();
        ab.merge(right.clone());
        right.merge(left);
        assert_eq!(ab.report(), all, "cut at {cut}");
        assert_eq!(right.report(), all, "cut at {cut}, reversed");
    }
    assert_eq!(Quality::run(&releases).report(), all);
}

#[test]
fn examples_are_the_smallest_ocids() {
    let releases: Vec<Value> = (0..10)
        .rev()
        .map(|i| {
            let r = with(clean(), "/tender/value/amount", json!(0));
            with(r, "/ocid", json!(format!("ocds-abc123-{i}")))
        })
        .collect();
    let r = report(&releases);
    let c = &r.placeholders[Placeholder::TenderValueZero as usize];
    assert_eq!((c.occurrences, c.processes), (10, 10));
    assert_eq!(
        c.examples,
        ["ocds-abc123-0", "ocds-abc123-1", "ocds-abc123-2"]
    );
}

#[test]
fn store_findings_only_take_points_off() {
    let base = report(&[clean(), clean()]);
    assert_eq!(base.score, 100.0);
    // Not filled, or filled with nothing found: no change.
    let same = base.clone().with_store(BTreeMap::new(), 0, 0);
    assert_eq!(same, base);
    let errors = BTreeMap::from([("format.date-time".to_string(), 7)]);
    let one = base.clone().with_store(errors.clone(), 1, 0);
    assert_eq!((one.points.schema_penalty, one.score), (5.0, 95.0));
    assert!(one
        .explanation
        .contains("50% of processes have schema errors"));
    // More than all processes is all processes.
    assert_eq!(base.clone().with_store(errors, 9, 0).score, 90.0);
    // Quarantined releases were never folded: 2 of 4 put aside is half.
    let q = base.clone().with_store(BTreeMap::new(), 0, 2);
    assert_eq!((q.points.quarantine_penalty, q.score), (5.0, 95.0));
    // Never below 0.
    let low = report(&[json!({})]).with_store(BTreeMap::new(), 1, 10);
    assert_eq!(low.score, 0.0);
    // Setting the fields directly and rescoring is the same.
    let mut direct = base.clone();
    direct.quarantined = 2;
    direct.rescore();
    assert_eq!(direct, q);
}

#[test]
fn score_is_the_documented_formula() {
    let r = report(&mixed());
    let slots = (FIELDS.len() as u64 * r.processes) as f64;
    let expected = 60.0 * r.fields_filled as f64 / slots
        + 20.0 * r.fields_filled_without_placeholders as f64 / slots
        + 20.0 * r.fields_filled_without_date_issues as f64 / slots;
    assert!(
        (r.score - expected).abs() < 0.01,
        "{} vs {expected}",
        r.score
    );
    assert!((0.0..=100.0).contains(&r.score));
    let mean = r.coverage.iter().map(|c| c.share).sum::<f64>() / r.coverage.len() as f64;
    assert!((r.mean_coverage - mean).abs() < 0.001);
    let filled: u64 = r.coverage.iter().map(|c| c.present).sum();
    assert_eq!(filled, r.fields_filled);
}

#[test]
fn report_round_trips_through_json() {
    let r = report(&mixed()).with_store(BTreeMap::from([("required".into(), 3)]), 2, 1);
    let text = serde_json::to_string(&r).unwrap();
    let back: Report = serde_json::from_str(&text).unwrap();
    assert_eq!(back, r);
    // A snapshot saved without the store's fields still reads.
    let mut v = serde_json::to_value(report(&mixed())).unwrap();
    let o = v.as_object_mut().unwrap();
    o.remove("processes_with_schema_errors");
    o.remove("quarantined");
    let back: Report = serde_json::from_value(v).unwrap();
    assert_eq!(back, report(&mixed()));
}

#[test]
fn state_can_cross_threads() {
    fn send<T: Send + Default>() {}
    send::<Quality>();
    send::<ByPublisher>();
}

#[test]
fn grouped_by_publisher() {
    assert_eq!(
        ocid_prefix("ocds-6550wx-OISOE B&S-DAF-CM-2021-0027"),
        Some("ocds-6550wx")
    );
    assert_eq!(ocid_prefix("ocds-6550WX-1"), None);
    assert_eq!(ocid_prefix("ocds-655"), None);
    assert_eq!(ocid_prefix("ocds-6550w€-1"), None);
    let mut a = ByPublisher::default();
    let mut b = ByPublisher::default();
    a.fold("ocds-abc123", &clean());
    b.fold("ocds-abc123", &json!({}));
    b.fold("ocds-zzz999", &clean());
    a.merge(b);
    let reports = a.reports();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports["ocds-abc123"], report(&[clean(), json!({})]));
    assert_eq!(reports["ocds-zzz999"].score, 100.0);
}

/// The fenced code blocks in `text`: (info string, body).
fn fenced(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in text.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => open = Some((info.trim().to_string(), String::new())),
            (Some(_), Some("")) => blocks.extend(open.take()),
            (Some((_, body)), _) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "a code block is not closed");
    blocks
}

#[test]
fn the_docs_example_runs() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/indicators/quality.md"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let blocks = fenced(&text);
    let input = blocks
        .iter()
        .position(|(info, _)| info == "jsonl")
        .expect("a jsonl block");
    let expected = blocks[input..]
        .iter()
        .find(|(info, _)| info == "json")
        .expect("a json block after it");
    let releases: Vec<Value> = blocks[input]
        .1
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(releases.len(), 2);
    let got = serde_json::to_value(report(&releases)).unwrap();
    let want: Value = serde_json::from_str(&expected.1).unwrap();
    assert_eq!(
        got,
        want,
        "docs/indicators/quality.md example; the report is:\n{}",
        serde_json::to_string_pretty(&got).unwrap()
    );
    // Every field's label and reason is on the page.
    for f in FIELDS {
        assert!(text.contains(f.path), "{} not on the page", f.path);
    }
}

fn read_gz_lines(path: &PathBuf) -> Vec<Value> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    BufReader::new(flate2::read::GzDecoder::new(file))
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect()
}

/// Figures checked by hand with the Python script in the docs page.
#[test]
fn dgcp_figures() {
    let releases = read_gz_lines(&root().join("data/ocds/dr-dgcp-10000-compiled.jsonl.gz"));
    let mut by = ByPublisher::default();
    for r in &releases {
        let prefix = r["ocid"].as_str().and_then(ocid_prefix).unwrap();
        by.fold(prefix, r);
    }
    let reports = by.reports();
    assert_eq!(reports.keys().collect::<Vec<_>>(), ["ocds-6550wx"]);
    let r = &reports["ocds-6550wx"];
    assert_eq!(r.processes, 10_000);

    let coverage: BTreeMap<&str, u64> = r
        .coverage
        .iter()
        .map(|c| (c.key.as_str(), c.present))
        .collect();
    for (key, n) in [
        ("ocid", 10_000),
        ("buyer.id", 0),
        ("buyer.name", 0),
        ("tender.title", 10_000),
        ("tender.value", 10_000),
        ("tender.items.classification", 9_853),
        ("awards.suppliers", 9_079),
        ("suppliers.identifier", 9_000),
        ("awards.value", 0),
        ("awards.date", 9_097),
        ("contracts", 9_040),
        ("contracts.dateSigned", 9_040),
        ("contracts.value", 9_040),
        ("contracts.period", 8_766),
        ("bids", 9_501),
    ] {
        assert_eq!(coverage[key], n, "{key}");
    }

    let counts = |list: &[tuwhera_flags::quality::Count]| -> BTreeMap<String, (u64, u64)> {
        list.iter()
            .filter(|c| c.occurrences > 0)
            .map(|c| (c.key.clone(), (c.occurrences, c.processes)))
            .collect()
    };
    let pairs = |p: &[(&str, (u64, u64))]| -> BTreeMap<String, (u64, u64)> {
        p.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    };
    assert_eq!(
        counts(&r.placeholders),
        pairs(&[
            ("bids.value.zero", (942, 151)),
            ("contracts.value.zero", (3, 3)),
            ("tender.value.zero", (1, 1)),
        ])
    );
    assert_eq!(
        counts(&r.date_issues),
        pairs(&[
            ("award.before.tender", (145, 142)),
            ("contract.before.award", (491, 342)),
            ("date.future", (23, 19)),
            ("date.no_time_zone", (33_528, 9_944)),
            ("tender.period.reversed", (328, 328)),
        ])
    );
    assert_eq!(
        counts(&r.missing),
        pairs(&[
            ("awards.suppliers", (20, 18)),
            ("bids.status", (312, 108)),
            ("bids.value", (938, 411)),
            ("parties.identifier", (15, 15)),
        ])
    );
    assert_eq!(
        (r.processes_with_placeholders, r.processes_with_date_issues),
        (155, 9_944)
    );
    assert_eq!(
        (
            r.fields_filled,
            r.fields_filled_without_placeholders,
            r.fields_filled_without_date_issues
        ),
        (192_416, 189_675, 682)
    );
    assert_eq!(r.mean_coverage, 0.8366);
    assert_eq!(
        (r.points.coverage, r.points.placeholders, r.points.dates),
        (50.2, 16.49, 0.06)
    );
    assert_eq!(r.score, 66.75);
    assert_eq!(r.grade, Some(Grade::C));

    // In two halves, merged; and on every core.
    let (a, b) = releases.split_at(releases.len() / 2);
    let mut left = Quality::default();
    a.iter().for_each(|x| left.fold(x));
    let mut right = Quality::default();
    b.iter().for_each(|x| right.fold(x));
    left.merge(right);
    assert_eq!(&left.report(), r);
    assert_eq!(&Quality::run(&releases).report(), r);
}

//! The beneficial-ownership flags (`tuwhera_flags::ownership`): each page's
//! worked example, then one behaviour per test.
//!
//! Each `docs/indicators/BO-*.md` has an `## Example` section with an
//! optional ```` ```toml ```` block (settings), a ```` ```jsonl ```` block
//! (compiled releases, one a line), a ```` ```json register ```` block (the
//! register: declarations with the identifiers they are found by) and a
//! ```` ```json ```` block: the page's flags for those releases.

use std::path::PathBuf;

use serde_json::{json, Value};
use tuwhera_flags::ownership::{
    check_ownership, Declaration, Declarations, Identifier, OwnerKind, Ownership,
    OwnershipSettings, UltimateOwner, HIDDEN_OWNER, OWNER_SAME_BUYER, SHARED_OWNER, UNDECLARED,
};
use tuwhera_flags::{title, Flag, Subject, INDICATORS, OWNERSHIP_INDICATORS};

// ---------------------------------------------------------------- docs

fn docs() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/indicators"
    ))
}

fn page(name: &str) -> String {
    let path = docs().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const SECTIONS: &[&str] = &[
    "Definition",
    "Why it matters",
    "Fields used",
    "Settings",
    "Example",
    "Output",
];

/// The text under `## {heading}`, up to the next `## ` heading.
fn section<'a>(text: &'a str, heading: &str) -> Option<&'a str> {
    let marker = format!("\n## {heading}\n");
    let start = text.find(&marker)? + marker.len();
    let rest = &text[start..];
    Some(rest.find("\n## ").map_or(rest, |end| &rest[..end]))
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

/// Numbers as f64, so `25` and `25.0` are equal.
fn normalise(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64()),
        Value::Array(a) => Value::Array(a.iter().map(normalise).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), normalise(v))).collect())
        }
        other => other.clone(),
    }
}

fn check_page(code: &str, title: &str, text: &str) -> Result<(), String> {
    let first = text.lines().next().unwrap_or_default();
    let wanted = format!("# {code} — {title}");
    if first != wanted {
        return Err(format!("first line is {first:?}, not {wanted:?}"));
    }
    let headings: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("## ")).collect();
    if headings != SECTIONS {
        return Err(format!("sections are {headings:?}, not {SECTIONS:?}"));
    }
    let example = section(text, "Example").ok_or("no ## Example section")?;
    let blocks = fenced(example);
    let block = |info: &str| -> Vec<&String> {
        blocks
            .iter()
            .filter(|(i, _)| i == info)
            .map(|(_, b)| b)
            .collect()
    };
    let (tomls, jsonls, registers, jsons) = (
        block("toml"),
        block("jsonl"),
        block("json register"),
        block("json"),
    );
    if tomls.len() > 1 || jsonls.len() != 1 || registers.len() != 1 || jsons.len() != 1 {
        return Err(format!(
            "the example needs at most one toml block and exactly one jsonl, one `json register` and one json block; found {}, {}, {}, {}",
            tomls.len(),
            jsonls.len(),
            registers.len(),
            jsons.len()
        ));
    }
    let settings: OwnershipSettings = match tomls.first() {
        Some(t) => toml::from_str(t).map_err(|e| format!("toml block: {e}"))?,
        None => OwnershipSettings::default(),
    };
    let releases: Vec<Value> = jsonls[0]
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("jsonl line {}: {e}", i + 1)))
        .collect::<Result<_, _>>()?;
    let register: Declarations =
        serde_json::from_str(registers[0]).map_err(|e| format!("register block: {e}"))?;
    let expected: Value = serde_json::from_str(jsons[0]).map_err(|e| format!("json block: {e}"))?;

    let flags: Vec<Flag> = check_ownership(&releases, &register, &settings)
        .into_iter()
        .filter(|f| f.code == code)
        .collect();
    let actual = serde_json::to_value(&flags).map_err(|e| e.to_string())?;
    if normalise(&actual) != normalise(&expected) {
        return Err(format!(
            "expected\n{}\nbut the example gives\n{}",
            serde_json::to_string_pretty(&expected).unwrap_or_default(),
            serde_json::to_string_pretty(&actual).unwrap_or_default()
        ));
    }
    if flags.is_empty() {
        return Err("the example flags nothing".into());
    }
    let output = section(text, "Output").ok_or("no ## Output section")?;
    for f in &flags {
        if !output.contains(&f.reason) {
            return Err(format!(
                "## Output does not quote the reason {:?}",
                f.reason
            ));
        }
    }
    Ok(())
}

#[test]
fn every_page_example_runs() {
    let mut failures = Vec::new();
    for (code, title) in OWNERSHIP_INDICATORS {
        let name = format!("{code}.md");
        let checked = std::fs::read_to_string(docs().join(&name))
            .map_err(|e| e.to_string())
            .and_then(|text| check_page(code, title, &text));
        if let Err(e) = checked {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn readme_lists_every_page() {
    let readme = page("README.md");
    for (code, title) in OWNERSHIP_INDICATORS {
        let row = format!("| [{code}]({code}.md) | {title} |");
        assert!(readme.contains(&row), "README.md has no row {row:?}");
    }
}

#[test]
fn titles_are_found_but_not_among_the_engine_indicators() {
    for (code, t) in OWNERSHIP_INDICATORS {
        assert_eq!(title(code), Some(*t));
        assert!(INDICATORS.iter().all(|(c, _)| c != code));
    }
    let codes: Vec<&str> = OWNERSHIP_INDICATORS.iter().map(|(c, _)| *c).collect();
    assert_eq!(
        codes,
        [SHARED_OWNER, UNDECLARED, HIDDEN_OWNER, OWNER_SAME_BUYER]
    );
}

// ---------------------------------------------------------------- builders

/// A party with an NZBN (or no identifier).
fn party(id: &str, name: &str, nzbn: Option<&str>) -> Value {
    let mut p = json!({"id": id, "name": name});
    if let Some(n) = nzbn {
        p["identifier"] = json!({"scheme": "NZ-NZBN", "id": n});
    }
    p
}

fn reference(id: &str) -> Value {
    json!({"id": id})
}

/// A process whose bids are each by the given tenderers.
fn tendered(ocid: &str, parties: &[Value], bids: &[&[&str]]) -> Value {
    let details: Vec<Value> = bids
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({
                "id": i.to_string(),
                "status": "valid",
                "tenderers": t.iter().map(|id| reference(id)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "ocid": ocid,
        "parties": parties,
        "tender": {"id": "1", "status": "complete"},
        "bids": {"details": details},
    })
}

/// A process in which `buyer` made one award per supplier.
fn awarded(ocid: &str, buyer: &str, parties: &[Value], suppliers: &[&str]) -> Value {
    let awards: Vec<Value> = suppliers
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"id": i.to_string(), "status": "active", "suppliers": [reference(s)]}))
        .collect();
    let mut all = parties.to_vec();
    all.push(json!({"id": buyer, "name": format!("Buyer {buyer}"), "roles": ["buyer"]}));
    json!({
        "ocid": ocid,
        "parties": all,
        "buyer": {"id": buyer},
        "tender": {"id": "1", "status": "complete"},
        "awards": awards,
    })
}

fn person(key: &str, name: &str, share: Option<(f64, f64)>) -> UltimateOwner {
    UltimateOwner {
        key: key.into(),
        name: Some(name.into()),
        kind: OwnerKind::Person,
        reason: None,
        share,
    }
}

fn hidden(key: &str, kind: OwnerKind, reason: &str) -> UltimateOwner {
    UltimateOwner {
        key: key.into(),
        name: None,
        kind,
        reason: Some(reason.into()),
        share: None,
    }
}

fn register(entries: &[(&str, &str, Vec<UltimateOwner>)]) -> Declarations {
    let mut r = Declarations::new();
    for (nzbn, name, owners) in entries {
        r.insert(
            &[Identifier {
                scheme: "NZ-NZBN".into(),
                id: (*nzbn).into(),
            }],
            Declaration {
                record_id: format!("entity-{nzbn}"),
                name: (*name).into(),
                owners: owners.clone(),
            },
        );
    }
    r
}

fn run(releases: &[Value], register: &Declarations, settings: OwnershipSettings) -> Vec<Flag> {
    let mut o = Ownership::new(settings);
    for r in releases {
        o.fold(r, register);
    }
    o.finish()
}

fn with_code<'a>(flags: &'a [Flag], code: &str) -> Vec<&'a Flag> {
    flags.iter().filter(|f| f.code == code).collect()
}

fn three_firms() -> Vec<Value> {
    vec![
        party("A", "Alpha Ltd", Some("9429000000011")),
        party("B", "Beta Ltd", Some("9429000000028")),
        party("C", "Gamma Ltd", Some("9429000000035")),
    ]
}

// ---------------------------------------------------------------- BO-SHARED-OWNER

#[test]
fn shared_owner_between_two_of_three_tenderers() {
    let reg = register(&[
        (
            "9429000000011",
            "Alpha Ltd",
            vec![person("p-jane", "Jane Example", Some((25.0, 50.0)))],
        ),
        (
            "9429000000028",
            "Beta Ltd",
            vec![
                person("p-jane", "Jane Example", Some((50.0, 75.0))),
                person("p-tama", "Tama Sample", None),
            ],
        ),
        (
            "9429000000035",
            "Gamma Ltd",
            vec![person("p-tama-2", "Tama Sample", Some((100.0, 100.0)))],
        ),
    ]);
    let release = tendered("ocds-1", &three_firms(), &[&["A"], &["B"], &["C"]]);
    let flags = run(&[release], &reg, OwnershipSettings::default());
    let shared = with_code(&flags, SHARED_OWNER);
    assert_eq!(shared.len(), 1, "{flags:#?}");
    let f = shared[0];
    assert_eq!(f.subject, Subject::Process("ocds-1".into()));
    assert_eq!(f.organisations, ["A", "B"]);
    assert_eq!(f.value, 1.0);
    assert_eq!(
        f.reason,
        "Tenderers Alpha Ltd and Beta Ltd both have Jane Example as a beneficial owner (25–50 % and 50–75 %)."
    );
    let owner = &f.details["owners"][0];
    assert_eq!(owner["key"], "p-jane");
    assert_eq!(owner["name"], "Jane Example");
    assert_eq!(owner["tenderers"][0]["share"], json!([25.0, 50.0]));
    assert_eq!(owner["tenderers"][1]["share"], json!([50.0, 75.0]));
}

#[test]
fn tender_tenderers_count_as_well_as_bids() {
    let reg = register(&[
        (
            "9429000000011",
            "Alpha Ltd",
            vec![person("p-jane", "Jane Example", None)],
        ),
        (
            "9429000000028",
            "Beta Ltd",
            vec![person("p-jane", "Jane Example", None)],
        ),
    ]);
    let release = json!({
        "ocid": "ocds-2",
        "parties": three_firms(),
        "tender": {"id": "1", "status": "active", "tenderers": [reference("A"), reference("B")]},
    });
    let flags = run(&[release], &reg, OwnershipSettings::default());
    let shared = with_code(&flags, SHARED_OWNER);
    assert_eq!(shared.len(), 1);
    assert_eq!(
        shared[0].reason,
        "Tenderers Alpha Ltd and Beta Ltd both have Jane Example as a beneficial owner."
    );
}

#[test]
fn unspecified_owners_are_never_shared() {
    let exempt = || {
        hidden(
            "unspecified:exempt",
            OwnerKind::Unspecified,
            "interestedPartyExemptFromDisclosure: protected person",
        )
    };
    let anonymous = || hidden("p-anon", OwnerKind::AnonymousPerson, "withheld");
    let reg = register(&[
        ("9429000000011", "Alpha Ltd", vec![exempt(), anonymous()]),
        ("9429000000028", "Beta Ltd", vec![exempt(), anonymous()]),
    ]);
    let release = tendered("ocds-3", &three_firms(), &[&["A"], &["B"]]);
    let flags = run(&[release], &reg, OwnershipSettings::default());
    assert!(with_code(&flags, SHARED_OWNER).is_empty(), "{flags:#?}");
}

#[test]
fn members_of_one_joint_bid_are_not_compared() {
    let reg = register(&[
        (
            "9429000000011",
            "Alpha Ltd",
            vec![person("p-jane", "Jane Example", None)],
        ),
        (
            "9429000000028",
            "Beta Ltd",
            vec![person("p-jane", "Jane Example", None)],
        ),
        (
            "9429000000035",
            "Gamma Ltd",
            vec![person("p-ana", "Ana Placeholder", None)],
        ),
    ]);
    let joint = tendered("ocds-4", &three_firms(), &[&["A", "B"], &["C"]]);
    let flags = run(&[joint], &reg, OwnershipSettings::default());
    assert!(with_code(&flags, SHARED_OWNER).is_empty(), "{flags:#?}");
}

#[test]
fn two_party_ids_of_one_company_are_one_tenderer() {
    let reg = register(&[(
        "9429000000011",
        "Alpha Ltd",
        vec![person("p-jane", "Jane Example", None)],
    )]);
    let parties = [
        party("A", "Alpha Ltd", Some("9429000000011")),
        party("A2", "Alpha Limited", Some(" 9429000000011 ")),
    ];
    let release = tendered("ocds-5", &parties, &[&["A"], &["A2"]]);
    let flags = run(&[release], &reg, OwnershipSettings::default());
    assert!(with_code(&flags, SHARED_OWNER).is_empty(), "{flags:#?}");
}

// ---------------------------------------------------------------- BO-UNDECLARED

#[test]
fn supplier_without_identifier_vs_identifier_not_in_register() {
    let reg = register(&[("9429000000035", "Gamma Ltd", vec![person("p", "P", None)])]);
    let parties = [
        party("A", "Alpha Ltd", None),
        party("B", "Beta Ltd", Some("9429000000028")),
        party("C", "Gamma Ltd", Some("9429000000035")),
    ];
    let releases = [
        awarded("ocds-6", "BUY", &parties, &["A", "B", "C"]),
        awarded("ocds-7", "BUY", &parties, &["B"]),
    ];
    let flags = run(&releases, &reg, OwnershipSettings::default());
    let undeclared = with_code(&flags, UNDECLARED);
    assert_eq!(undeclared.len(), 2, "{flags:#?}");
    let (a, b) = (undeclared[0], undeclared[1]);
    assert_eq!(a.subject, Subject::Tenderer("A".into()));
    assert_eq!(a.ocids, ["ocds-6"]);
    assert_eq!(
        a.reason,
        "Supplier Alpha Ltd was awarded contracts in 1 process but has no organisation identifier in the data, so its beneficial owners cannot be looked up."
    );
    assert_eq!(b.subject, Subject::Tenderer("B".into()));
    assert_eq!(b.ocids, ["ocds-6", "ocds-7"]);
    assert_eq!(b.value, 2.0);
    assert_eq!(
        b.reason,
        "Supplier Beta Ltd was awarded contracts in 2 processes but the beneficial ownership register has no declaration for NZ-NZBN 9429000000028."
    );
    assert_eq!(
        b.details["identifiers"],
        json!([{"scheme": "NZ-NZBN", "id": "9429000000028"}])
    );
}

#[test]
fn scheme_case_and_id_spaces_do_not_matter_and_additional_identifiers_count() {
    let reg = register(&[("9429000000028", "Beta Ltd", vec![person("p", "P", None)])]);
    let parties = [json!({
        "id": "B",
        "name": "Beta Ltd",
        "identifier": {"scheme": "NZ-COY", "id": "123456"},
        "additionalIdentifiers": [{"scheme": "nz-nzbn", "id": " 9429000000028 "}],
    })];
    let flags = run(
        &[awarded("ocds-8", "BUY", &parties, &["B"])],
        &reg,
        OwnershipSettings::default(),
    );
    assert!(with_code(&flags, UNDECLARED).is_empty(), "{flags:#?}");
}

#[test]
fn only_made_awards_count() {
    let reg = Declarations::new();
    let parties = [party("A", "Alpha Ltd", None)];
    let mut release = awarded("ocds-9", "BUY", &parties, &["A"]);
    release["awards"][0]["status"] = json!("pending");
    assert!(run(&[release.clone()], &reg, OwnershipSettings::default()).is_empty());
    if let Some(award) = release["awards"][0].as_object_mut() {
        award.remove("status");
    }
    let flags = run(&[release], &reg, OwnershipSettings::default());
    assert_eq!(with_code(&flags, UNDECLARED).len(), 1);
}

// ---------------------------------------------------------------- BO-HIDDEN-OWNER

#[test]
fn hidden_owner_with_its_reason() {
    let reg = register(&[
        (
            "9429000000011",
            "Alpha Ltd",
            vec![
                person("p-jane", "Jane Example", None),
                hidden(
                    "unspecified:rel-9",
                    OwnerKind::Unspecified,
                    "interestedPartyExemptFromDisclosure: protected person",
                ),
            ],
        ),
        (
            "9429000000028",
            "Beta Ltd",
            vec![UltimateOwner {
                key: "entity-listed".into(),
                name: Some("Listed Holdings Ltd".into()),
                kind: OwnerKind::Entity,
                reason: None,
                share: Some((100.0, 100.0)),
            }],
        ),
    ]);
    let flags = run(
        &[awarded("ocds-10", "BUY", &three_firms(), &["A", "B"])],
        &reg,
        OwnershipSettings::default(),
    );
    let h = with_code(&flags, HIDDEN_OWNER);
    assert_eq!(h.len(), 1, "{flags:#?}");
    assert_eq!(h[0].subject, Subject::Tenderer("A".into()));
    assert_eq!(
        h[0].reason,
        "The beneficial ownership declaration of supplier Alpha Ltd names an ultimate owner who is not identified: an unspecified interested party (interestedPartyExemptFromDisclosure: protected person)."
    );
    assert_eq!(h[0].details["owners"][0]["kind"], "unspecified");
    assert!(!h[0].reason.contains("Jane"));
}

// ---------------------------------------------------------------- BO-OWNER-SAME-BUYER

fn jane_owns_alpha_and_beta() -> Declarations {
    register(&[
        (
            "9429000000011",
            "Alpha Ltd",
            vec![person("p-jane", "Jane Example", Some((25.0, 50.0)))],
        ),
        (
            "9429000000028",
            "Beta Ltd",
            vec![person("p-jane", "Jane Example", Some((5.0, 10.0)))],
        ),
    ])
}

#[test]
fn same_person_behind_two_suppliers_of_one_buyer() {
    let releases = [
        awarded("ocds-11", "BUY-1", &three_firms(), &["A"]),
        awarded("ocds-12", "BUY-1", &three_firms(), &["B"]),
    ];
    let flags = run(
        &releases,
        &jane_owns_alpha_and_beta(),
        OwnershipSettings::default(),
    );
    let s = with_code(&flags, OWNER_SAME_BUYER);
    assert_eq!(s.len(), 1, "{flags:#?}");
    let f = s[0];
    assert_eq!(f.subject, Subject::Buyer("BUY-1".into()));
    assert_eq!(f.organisations, ["A", "B"]);
    assert_eq!(f.ocids, ["ocds-11", "ocds-12"]);
    assert_eq!(f.value, 2.0);
    assert_eq!(f.details["count"], 2);
    assert_eq!(
        f.details["person"],
        json!({"key": "p-jane", "name": "Jane Example"})
    );
    assert_eq!(
        f.reason,
        "Jane Example is a beneficial owner of 2 suppliers that Buyer BUY-1 awarded contracts to in 2 processes: Alpha Ltd (25–50 %) and Beta Ltd (5–10 %)."
    );
}

#[test]
fn same_person_behind_suppliers_of_two_buyers_is_not_flagged() {
    let releases = [
        awarded("ocds-13", "BUY-1", &three_firms(), &["A"]),
        awarded("ocds-14", "BUY-2", &three_firms(), &["B"]),
    ];
    let flags = run(
        &releases,
        &jane_owns_alpha_and_beta(),
        OwnershipSettings::default(),
    );
    assert!(with_code(&flags, OWNER_SAME_BUYER).is_empty(), "{flags:#?}");
}

#[test]
fn min_share_leaves_out_small_holdings() {
    let releases = [
        awarded("ocds-11", "BUY-1", &three_firms(), &["A"]),
        awarded("ocds-12", "BUY-1", &three_firms(), &["B"]),
        tendered("ocds-15", &three_firms(), &[&["A"], &["B"]]),
    ];
    let reg = jane_owns_alpha_and_beta();
    let all = run(&releases, &reg, OwnershipSettings::default());
    assert_eq!(with_code(&all, OWNER_SAME_BUYER).len(), 1);
    assert_eq!(with_code(&all, SHARED_OWNER).len(), 1);
    // Jane's share in Beta is at most 10 %.
    let settings: OwnershipSettings = toml::from_str("min_share = 10.5").expect("settings");
    let some = run(&releases, &reg, settings);
    assert!(with_code(&some, OWNER_SAME_BUYER).is_empty(), "{some:#?}");
    assert!(with_code(&some, SHARED_OWNER).is_empty(), "{some:#?}");
    // At exactly the upper bound it still counts.
    let at = run(&releases, &reg, OwnershipSettings { min_share: 10.0 });
    assert_eq!(with_code(&at, OWNER_SAME_BUYER).len(), 1);
}

#[test]
fn settings_defaults_and_unknown_fields() {
    let s: OwnershipSettings = toml::from_str("").expect("empty");
    assert_eq!(s, OwnershipSettings { min_share: 0.0 });
    assert!(toml::from_str::<OwnershipSettings>("min_shares = 5").is_err());
}

// ---------------------------------------------------------------- merge

#[test]
fn merge_of_two_halves_equals_one_pass() {
    let reg = register(&[
        (
            "9429000000011",
            "Alpha Ltd",
            vec![
                person("p-jane", "Jane Example", Some((25.0, 50.0))),
                hidden(
                    "p-unknown",
                    OwnerKind::UnknownPerson,
                    "unknown to the company",
                ),
            ],
        ),
        (
            "9429000000028",
            "Beta Ltd",
            vec![person("p-jane", "Jane Example", Some((50.0, 75.0)))],
        ),
    ]);
    let mut parties = three_firms();
    parties.push(party("D", "Delta Ltd", None));
    let releases = [
        awarded("ocds-20", "BUY-1", &parties, &["A", "D"]),
        tendered("ocds-21", &parties, &[&["A"], &["B"], &["C"]]),
        awarded("ocds-22", "BUY-1", &parties, &["B", "C"]),
        awarded("ocds-23", "BUY-2", &parties, &["A", "D"]),
        tendered("ocds-24", &parties, &[&["A"], &["B"]]),
        awarded("ocds-25", "BUY-1", &parties, &["A"]),
    ];
    let one = run(&releases, &reg, OwnershipSettings::default());
    assert!(
        [SHARED_OWNER, UNDECLARED, HIDDEN_OWNER, OWNER_SAME_BUYER]
            .iter()
            .all(|c| !with_code(&one, c).is_empty()),
        "every flag should appear: {one:#?}"
    );
    for split in 0..=releases.len() {
        let (a, b) = releases.split_at(split);
        let mut left = Ownership::new(OwnershipSettings::default());
        let mut right = Ownership::new(OwnershipSettings::default());
        // The right half first: order must not matter either.
        for r in b.iter().rev() {
            right.fold(r, &reg);
        }
        for r in a {
            left.fold(r, &reg);
        }
        assert_eq!(right.merge(left).finish(), one, "split at {split}");
    }
    assert_eq!(
        check_ownership(&releases, &reg, &OwnershipSettings::default()),
        one
    );
}

#[test]
fn a_process_read_twice_flags_once() {
    let reg = jane_owns_alpha_and_beta();
    let release = tendered("ocds-30", &three_firms(), &[&["A"], &["B"]]);
    let flags = run(
        &[release.clone(), release],
        &reg,
        OwnershipSettings::default(),
    );
    assert_eq!(with_code(&flags, SHARED_OWNER).len(), 1);
}

#[test]
fn cancelled_and_malformed_releases_are_left_out() {
    let reg = Declarations::new();
    let mut cancelled = awarded("ocds-31", "BUY", &[party("A", "Alpha Ltd", None)], &["A"]);
    cancelled["tender"]["status"] = json!("cancelled");
    let flags = run(
        &[cancelled, json!([1, 2]), json!({"awards": []})],
        &reg,
        OwnershipSettings::default(),
    );
    assert!(flags.is_empty(), "{flags:#?}");
}

#[test]
fn register_reads_from_json() {
    let reg: Declarations = serde_json::from_value(json!([
        {
            "identifiers": [{"scheme": "GB-COH", "id": "01234567"}],
            "recordId": "gb-entity-1",
            "name": "Example UK Ltd",
            "owners": [
                {"key": "gb-person-1", "name": "Pat Example", "kind": "knownPerson", "share": [75, 100]},
                {"key": "unspecified:r2", "kind": "unspecified", "reason": "informationUnknownToPublisher"}
            ]
        }
    ]))
    .expect("register");
    use tuwhera_flags::ownership::Register;
    let d = reg.declaration("GB-COH", "01234567").expect("found");
    assert_eq!(d.owners[0].kind, OwnerKind::Person);
    assert_eq!(d.owners[0].share, Some((75.0, 100.0)));
    assert_eq!(d.owners[1].name, None);
    assert!(reg.declaration("GB-COH", "1234567").is_none());
}

//! The SYNTHETIC linked sample in `data/linked/` (written by its
//! `generate.py`; see its README.md): the BODS statements validate, the graph
//! gives the owners each case was built for, the protected person publishes
//! nothing, and the OCDS suppliers link to the BODS records by identifier.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use tuwhera_bods::graph::{parse_date, Graph, Limits, Owners, PartyKind, RecordStatus, Terminal};
use tuwhera_bods::privacy::{
    public_statement, restricted_paths, Policy, PROTECTED_DESCRIPTION, PROTECTED_PERSON_TYPE,
    PROTECTED_REASON,
};
use tuwhera_bods::validate::{validate_all, Severity, Validator};

// Record ids written by data/linked/generate.py.
const HARBOUR: &str = "NZ-NZBN-9429007700019";
const KOWHAI: &str = "NZ-NZBN-9429007700026";
const TOTARA: &str = "NZ-NZBN-9429007700033";
const RIMU: &str = "NZ-NZBN-9429007700040";
const MATAI_WORKS: &str = "NZ-NZBN-9429007700057";
const MATAI_HOLDINGS: &str = "NZ-NZBN-9429007700064";
const POHUTUKAWA_ENG: &str = "NZ-NZBN-9429007700071";
const UNDECLARED_NZBN: &str = "9429007700101";
const P1: &str = "NZ-SYNTH-PER-P1";
const P2: &str = "NZ-SYNTH-PER-P2";
const P3: &str = "NZ-SYNTH-PER-P3";
const P4: &str = "NZ-SYNTH-PER-P4";
const P5: &str = "NZ-SYNTH-PER-P5";
const CLOSED_REL: &str = "NZ-SYNTH-REL-HARBOUR-P5";

fn path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn load_jsonl(rel: &str) -> Vec<Value> {
    let p = path(rel);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn bods() -> Vec<Value> {
    load_jsonl("../../data/linked/bods-synthetic-nz.jsonl")
}

fn ocds() -> Vec<Value> {
    load_jsonl("../../data/linked/ocds-synthetic-suppliers.jsonl")
}

fn owners_of(g: &Graph, id: &str) -> Owners {
    g.ultimate_owners(id, &Limits::default())
}

fn owner_ids(o: &Owners) -> Vec<Option<&str>> {
    o.owners
        .iter()
        .map(|x| x.party.record_id.as_deref())
        .collect()
}

#[test]
fn statements_validate_and_all_enter_the_graph() {
    let statements = bods();
    let findings = validate_all(&Validator::new().unwrap(), &statements);
    for f in &findings {
        println!("{f}");
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    assert_eq!(errors, 0, "schema errors (listed above)");
    // Nothing for the additional checks either: the sample is meant to be clean.
    assert!(findings.is_empty(), "warnings (listed above)");
    let g = Graph::build(&statements);
    assert!(g.skipped().is_empty(), "{:?}", g.skipped());
    for s in &statements {
        let d = &s["source"]["description"];
        assert!(d.as_str().unwrap().starts_with("SYNTHETIC"), "{d}");
        let name = match s["recordType"].as_str().unwrap() {
            "entity" => s["recordDetails"]["name"].as_str(),
            "person" => s["recordDetails"]["names"][0]["fullName"].as_str(),
            _ => continue,
        };
        assert!(name.unwrap().starts_with("SYNTHETIC "), "{name:?}");
    }
    println!(
        "linked sample: {} statements, {} records, no finding",
        statements.len(),
        g.records().len()
    );
}

#[test]
fn p1_ultimately_owns_both_bidders() {
    let g = Graph::build(&bods());
    for (company, share) in [(HARBOUR, 60.0), (KOWHAI, 75.0)] {
        let o = owners_of(&g, company);
        let p1 = o
            .owners
            .iter()
            .find(|x| x.party.record_id.as_deref() == Some(P1))
            .unwrap_or_else(|| panic!("P1 not an owner of {company}: {:?}", owner_ids(&o)));
        assert_eq!(p1.terminal, Terminal::NaturalPerson);
        assert_eq!(p1.party.name.as_deref(), Some("SYNTHETIC Hemi Example"));
        let s = p1.share.unwrap();
        assert!(s.is_exact() && s.min == share, "{company}: {s:?}");
        assert!(p1.direct && p1.controls);
    }
    // The losing bidder's other quarter is the protected person's.
    let k = owners_of(&g, KOWHAI);
    assert_eq!(owner_ids(&k), [Some(P1), Some(P4)]);
    assert_eq!(k.owners[1].share.unwrap().min, 25.0);
    // P2 owns both of the Department's suppliers.
    for company in [TOTARA, RIMU] {
        let o = owners_of(&g, company);
        assert!(owner_ids(&o).contains(&Some(P2)), "{company}");
    }
}

#[test]
fn hidden_chain_ends_in_an_unspecified_party_with_its_reason() {
    let g = Graph::build(&bods());
    let o = owners_of(&g, MATAI_WORKS);
    assert_eq!(o.owners.len(), 1, "{:#?}", o.owners);
    let u = &o.owners[0];
    assert_eq!(u.party.kind, PartyKind::Unknown);
    assert_eq!(u.terminal, Terminal::Unspecified);
    assert_eq!(
        u.party.reason.as_deref(),
        Some("interestedPartyHasNotProvidedInformation")
    );
    assert!(u
        .party
        .description
        .as_deref()
        .unwrap()
        .contains("has not provided the information"));
    assert_eq!(u.paths[0].nodes, [MATAI_WORKS, MATAI_HOLDINGS]);
    assert_eq!(u.paths[0].relationships.len(), 2);
    let s = u.share.unwrap();
    assert!(s.is_exact() && s.min == 100.0);
}

#[test]
fn three_deep_chain_multiplies_share_ranges() {
    let g = Graph::build(&bods());
    let o = owners_of(&g, POHUTUKAWA_ENG);
    assert_eq!(owner_ids(&o), [Some(P3)]);
    let p3 = &o.owners[0];
    assert_eq!(p3.paths.len(), 1);
    assert_eq!(p3.paths[0].relationships.len(), 3);
    assert!(!p3.direct);
    // 50–75 % × 25–50 % × (more than 75 %)–100 %:
    // lower 50 × 25 × 75 / 100² = 9.375, exclusive (the last step's is);
    // upper 75 × 50 × 100 / 100² = 37.5, inclusive.
    let s = p3.share.unwrap();
    assert!((s.min - 9.375).abs() < 1e-9, "{s:?}");
    assert!((s.max - 37.5).abs() < 1e-9, "{s:?}");
    assert!(s.min_exclusive && !s.max_exclusive, "{s:?}");
}

#[test]
fn closed_relationship_is_history_and_renamed_entity_has_two_versions() {
    let g = Graph::build(&bods());
    let r = g.record(CLOSED_REL).unwrap();
    assert!(r.current().is_none(), "closed, so not current");
    assert_eq!(r.statements.len(), 2);
    assert_eq!(r.statements[0].status, RecordStatus::New);
    assert_eq!(r.statements[1].status, RecordStatus::Closed);
    assert!(r.as_at(parse_date("2024-12-31").unwrap()).is_some());
    assert!(r.as_at(parse_date("2025-04-01").unwrap()).is_none());
    // P5 owned 40 % of Harbour Freight until 31 March 2025, and no longer.
    assert!(!owner_ids(&owners_of(&g, HARBOUR)).contains(&Some(P5)));
    let then = g
        .as_at(parse_date("2024-12-31").unwrap())
        .ultimate_owners(HARBOUR, &Limits::default());
    let p5 = then
        .owners
        .iter()
        .find(|x| x.party.record_id.as_deref() == Some(P5))
        .expect("P5 an owner at the end of 2024");
    assert_eq!(p5.share.unwrap().min, 40.0);

    let k = g.record(KOWHAI).unwrap();
    let names: Vec<&str> = k
        .statements
        .iter()
        .map(|s| s.details()["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "SYNTHETIC Kowhai Transport Limited",
            "SYNTHETIC Kōwhai Logistics Limited"
        ]
    );
    assert_eq!(k.statements[1].status, RecordStatus::Updated);
    assert_eq!(
        k.current().unwrap().details()["name"],
        "SYNTHETIC Kōwhai Logistics Limited"
    );
}

fn policy() -> Policy {
    let text = std::fs::read_to_string(path("../../data/linked/protected.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let list = v["protectedRecords"].as_array().unwrap();
    for p in list {
        assert!(p["reason"].as_str().is_some_and(|r| !r.is_empty()));
    }
    Policy::protecting(list.iter().map(|p| p["recordId"].as_str().unwrap()))
}

#[test]
fn protected_person_publishes_nothing_and_no_public_statement_is_restricted() {
    let policy = policy();
    assert_eq!(policy.protected_records.len(), 1);
    assert!(policy.protected_records.contains(P4));
    let statements = bods();
    let mut persons = 0;
    for s in &statements {
        let public = public_statement(s, &policy);
        assert_eq!(restricted_paths(&public), Vec::<String>::new(), "{public}");
        if s["recordType"] == "person" {
            persons += 1;
            // The stored statement does carry every restricted field.
            let id = s["recordId"].as_str().unwrap();
            let r = restricted_paths(s);
            for want in [
                "$.recordDetails.birthDate",
                "$.recordDetails.addresses[0]",
                "$.recordDetails.identifiers[0]",
                "$.recordDetails.taxResidencies",
            ] {
                assert!(r.iter().any(|p| p == want), "{id}: {want} not in {r:?}");
            }
            let text = public.to_string();
            let ird = s["recordDetails"]["identifiers"][0]["id"].as_str().unwrap();
            let birth = s["recordDetails"]["birthDate"].as_str().unwrap();
            assert!(!text.contains(ird) && !text.contains(birth), "{text}");
            assert!(!text.contains("residence"), "{text}");
        }
    }
    assert_eq!(persons, 5);

    let p4 = statements.iter().find(|s| s["recordId"] == P4).unwrap();
    let public = public_statement(p4, &policy);
    let d = &public["recordDetails"];
    assert!(d.get("names").is_none(), "{d}");
    assert_eq!(d["personType"], PROTECTED_PERSON_TYPE);
    assert_eq!(d["unspecifiedPersonDetails"]["reason"], PROTECTED_REASON);
    assert_eq!(
        d["unspecifiedPersonDetails"]["description"],
        PROTECTED_DESCRIPTION
    );
    assert!(!public.to_string().contains("Withheld"), "{public}");
    // The public form is still valid BODS, and the others keep their names.
    let publics: Vec<Value> = statements
        .iter()
        .map(|s| public_statement(s, &policy))
        .collect();
    let findings = validate_all(&Validator::new().unwrap(), &publics);
    assert!(findings.is_empty(), "{findings:?}");
    let p1 = publics.iter().find(|s| s["recordId"] == P1).unwrap();
    assert_eq!(
        p1["recordDetails"]["names"][0]["fullName"],
        "SYNTHETIC Hemi Example"
    );
    assert_eq!(p1["recordDetails"]["birthDate"], "1971-08");
}

/// Each supplier or tenderer of the OCDS file by (scheme, id).
fn ocds_orgs(releases: &[Value]) -> BTreeSet<(String, String)> {
    releases
        .iter()
        .flat_map(|r| r["parties"].as_array().unwrap())
        .filter(|p| {
            p["roles"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r == "supplier" || r == "tenderer")
        })
        .map(|p| {
            let i = &p["identifier"];
            (
                i["scheme"].as_str().unwrap().to_owned(),
                i["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn ocds_suppliers_link_to_bods_records() {
    let releases = ocds();
    assert_eq!(releases.len(), 10);
    for r in &releases {
        assert!(r["ocid"]
            .as_str()
            .unwrap()
            .starts_with("ocds-synthnz-link-"));
        assert!(r["tender"]["title"]
            .as_str()
            .unwrap()
            .starts_with("SYNTHETIC "));
        assert!(r["tender"]["description"]
            .as_str()
            .unwrap()
            .starts_with("SYNTHETIC data"));
    }
    let orgs = ocds_orgs(&releases);

    // Every GB-COH supplier is a company of the real UK sample.
    let uk = Graph::build(&load_jsonl(
        "../../data/bods/uk-psc-gleif-bods04/all_demo.jsonl",
    ));
    let uk_view = uk.current();
    let mut gb = 0;
    for (scheme, id) in orgs.iter().filter(|(s, _)| s == "GB-COH") {
        let found = uk_view.find_by_identifier(scheme, id);
        assert!(!found.is_empty(), "GB-COH {id} not in the UK sample");
        gb += 1;
        let o = uk.ultimate_owners(&format!("GB-COH-{id}"), &Limits::default());
        let persons = o
            .owners
            .iter()
            .filter(|x| x.party.kind == PartyKind::Person)
            .count();
        println!(
            "GB-COH {id}: records {found:?}; {} ultimate owners, {persons} of them people",
            o.owners.len()
        );
    }
    assert_eq!(gb, 4);

    // Every NZBN supplier is declared, except the one meant to be undeclared.
    let g = Graph::build(&bods());
    let view = g.current();
    for (scheme, id) in orgs.iter().filter(|(s, _)| s == "NZ-NZBN") {
        let found = view.find_by_identifier(scheme, id);
        if id == UNDECLARED_NZBN {
            assert!(found.is_empty(), "{id} should have no declaration");
        } else {
            assert_eq!(found, [format!("NZ-NZBN-{id}")], "{id}");
        }
    }

    // The cases: P1's two companies tender in one process...
    let tenderers = |r: &Value| -> BTreeSet<String> {
        r["tender"]["tenderers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(releases
        .iter()
        .any(|r| tenderers(r) == BTreeSet::from([HARBOUR.to_owned(), KOWHAI.to_owned()])));
    // ... and P2's two win from one buyer.
    let buyer_of = |supplier: &str| -> Vec<String> {
        releases
            .iter()
            .filter(|r| r["awards"][0]["suppliers"][0]["id"] == supplier)
            .map(|r| r["buyer"]["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(buyer_of(TOTARA), buyer_of(RIMU));
    assert_eq!(buyer_of(MATAI_WORKS).len(), 1);
    // Names in the OCDS file are the BODS records' current names.
    for r in &releases {
        for p in r["parties"].as_array().unwrap() {
            if let Some(s) = view.state(p["id"].as_str().unwrap()) {
                assert_eq!(p["identifier"]["legalName"], s.details()["name"]);
            }
        }
    }
    // The other people own no two suppliers: P3 only through the chain, and
    // the protected P4 only a quarter of the losing bidder, so that no
    // awarded supplier has a withheld owner.
    let held = |p: &str| -> Vec<String> {
        g.owned_by(p, &Limits::default())
            .holdings
            .iter()
            .filter_map(|h| h.entity.record_id.clone())
            .collect()
    };
    assert_eq!(held(P4), [KOWHAI]);
    assert_eq!(held(P3).len(), 3);
}

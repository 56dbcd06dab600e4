//! The public form of statements: no restricted field survives, the rest does,
//! protected persons become anonymous with a reason, entities are untouched,
//! and the real UK PSC + GLEIF sample publishes nothing restricted.

use std::fs::File;
use std::path::Path;

use serde_json::{json, Value};
use tuwhera_bods::privacy::{
    is_restricted_identifier, public_statement, public_statements, restricted_paths, Policy,
    PROTECTED_DESCRIPTION, PROTECTED_REASON,
};
use tuwhera_bods::read::{self, Limits, Place};
use tuwhera_bods::validate::{Severity, Validator};

/// A person statement carrying every kind of restricted field.
fn person() -> Value {
    json!({
        "statementId": "11111111-2222-3333-4444-555555555555",
        "declarationSubject": "NZ-CO-123456",
        "recordId": "NZ-PER-0001",
        "recordType": "person",
        "recordStatus": "new",
        "statementDate": "2025-01-15",
        "recordDetails": {
            "isComponent": false,
            "personType": "knownPerson",
            "names": [{"type": "legal", "fullName": "Aroha Ngata", "givenName": "Aroha", "familyName": "Ngata"}],
            "nationalities": [{"name": "New Zealand", "code": "NZ"}],
            "birthDate": "1970-04-23",
            "placeOfBirth": {"type": "placeOfBirth", "address": "Rotorua", "country": {"name": "New Zealand", "code": "NZ"}},
            "addresses": [
                {"type": "residence", "address": "12 Home St, Wellington", "postCode": "6011", "country": {"name": "New Zealand", "code": "NZ"}},
                {"type": "service", "address": "Level 3, 1 Office Rd, Wellington", "country": {"name": "New Zealand", "code": "NZ"}},
                {"type": "alternative", "address": "Bach, Raglan"},
                {"address": "No type given"}
            ],
            "identifiers": [
                {"id": "LA123456", "scheme": "NZL-PASSPORT"},
                {"id": "123-456-789", "scheme": "NZ-IRD", "schemeName": "Inland Revenue"},
                {"id": "AB123456C", "schemeName": "UK National Insurance number"},
                {"id": "X1", "scheme": "NZL-IDCARD"},
                {"id": "DL99", "schemeName": "NZ Driver Licence"},
                {"id": "PER-77", "scheme": "NZ-TUWHERA-PERSON", "schemeName": "Tuwhera person register"},
                {"id": "no scheme at all"}
            ],
            "taxResidencies": [{"name": "New Zealand", "code": "NZ"}],
            "politicalExposure": {"status": "isPep", "details": [{"reason": "Member of Parliament", "startDate": "2020-10-17"}]}
        },
        "annotations": [
            {"statementPointerTarget": "/recordDetails/birthDate", "motivation": "transformation", "description": "cut", "transformedContent": "1970-04-23"},
            {"statementPointerTarget": "/recordDetails/names/0", "motivation": "commenting", "description": "as declared"},
            {"statementPointerTarget": "", "motivation": "commenting", "description": "whole statement"}
        ],
        "publicationDetails": {"publicationDate": "2025-01-16", "bodsVersion": "0.4", "publisher": {"name": "Tuwhera"}},
        "source": {"type": ["selfDeclaration"], "assertedBy": [{"name": "Aroha Ngata"}], "description": "declared by Aroha Ngata"}
    })
}

fn entity() -> Value {
    json!({
        "statementId": "aaaaaaaa-2222-3333-4444-555555555555",
        "declarationSubject": "NZ-CO-123456",
        "recordId": "NZ-CO-123456",
        "recordType": "entity",
        "statementDate": "2025-01-15",
        "recordDetails": {
            "isComponent": false,
            "entityType": {"type": "registeredEntity"},
            "name": "Kiwi Holdings Limited",
            "identifiers": [{"id": "9429000000000", "scheme": "NZ-NZBN"}, {"id": "123-456-789", "scheme": "NZ-IRD"}],
            "addresses": [{"type": "registered", "address": "1 Queen St, Auckland"}]
        }
    })
}

fn relationship() -> Value {
    json!({
        "statementId": "bbbbbbbb-2222-3333-4444-555555555555",
        "declarationSubject": "NZ-CO-123456",
        "recordId": "NZ-REL-1",
        "recordType": "relationship",
        "statementDate": "2025-01-15",
        "recordDetails": {
            "isComponent": false,
            "subject": "NZ-CO-123456",
            "interestedParty": "NZ-PER-0001",
            "interests": [{"type": "shareholding", "directOrIndirect": "direct", "beneficialOwnershipOrControl": true, "share": {"exact": 60}}]
        }
    })
}

fn schema_errors(statement: &Value) -> Vec<String> {
    Validator::new()
        .unwrap()
        .statement(statement, &Place::in_memory(0))
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.to_string())
        .collect()
}

#[test]
fn every_restricted_field_is_found_before() {
    let paths = restricted_paths(&person());
    for expected in [
        "$.recordDetails.birthDate",
        "$.recordDetails.addresses[0]",
        "$.recordDetails.addresses[2]",
        "$.recordDetails.addresses[3]",
        "$.recordDetails.identifiers[0]",
        "$.recordDetails.identifiers[1]",
        "$.recordDetails.identifiers[2]",
        "$.recordDetails.identifiers[3]",
        "$.recordDetails.identifiers[4]",
        "$.recordDetails.identifiers[6]",
        "$.recordDetails.taxResidencies",
        "$.recordDetails.politicalExposure.details",
        "$.recordDetails.placeOfBirth.address",
    ] {
        assert!(
            paths.iter().any(|p| p == expected),
            "{expected} not in {paths:?}"
        );
    }
    // The service address and the register's own person id are public.
    assert!(!paths.contains(&"$.recordDetails.addresses[1]".to_owned()));
    assert!(!paths.contains(&"$.recordDetails.identifiers[5]".to_owned()));
}

#[test]
fn public_person_has_no_restricted_field_and_keeps_the_rest() {
    let public = public_statement(&person(), &Policy::default());
    assert_eq!(restricted_paths(&public), Vec::<String>::new());
    let d = &public["recordDetails"];
    assert_eq!(d["personType"], "knownPerson");
    assert_eq!(d["names"][0]["fullName"], "Aroha Ngata");
    assert_eq!(d["nationalities"][0]["code"], "NZ");
    assert_eq!(d["birthDate"], "1970-04");
    assert_eq!(
        d["addresses"],
        json!([{"type": "service", "address": "Level 3, 1 Office Rd, Wellington", "country": {"name": "New Zealand", "code": "NZ"}}])
    );
    assert_eq!(
        d["identifiers"],
        json!([{"id": "PER-77", "scheme": "NZ-TUWHERA-PERSON", "schemeName": "Tuwhera person register"}])
    );
    assert_eq!(d["politicalExposure"], json!({"status": "isPep"}));
    assert_eq!(
        d["placeOfBirth"],
        json!({"type": "placeOfBirth", "country": {"name": "New Zealand", "code": "NZ"}})
    );
    assert!(d.get("taxResidencies").is_none());
    // The annotation quoting the full birth date is gone; the others stay.
    let targets: Vec<&str> = public["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["statementPointerTarget"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["/recordDetails/names/0", ""]);
    // Statement-level fields are untouched for a person who is not protected.
    assert_eq!(public["recordId"], "NZ-PER-0001");
    assert_eq!(public["source"], person()["source"]);
    assert_eq!(schema_errors(&public), Vec::<String>::new());
    // Public twice is public once.
    assert_eq!(public_statement(&public, &Policy::default()), public);
}

#[test]
fn birth_dates_are_cut_to_year_and_month() {
    let cases = [
        (json!("1970-04-23"), Some("1970-04")),
        (json!("1970-04"), Some("1970-04")),
        (json!("1970"), Some("1970")),
        (json!("1970-04-23T00:00:00Z"), Some("1970-04")),
        (json!("23/04/1970"), None),
        (json!("1970-13"), None),
        (json!(19700423), None),
    ];
    for (given, expected) in cases {
        let mut s = person();
        s["recordDetails"]["birthDate"] = given.clone();
        let public = public_statement(&s, &Policy::default());
        assert_eq!(
            public["recordDetails"]
                .get("birthDate")
                .and_then(Value::as_str),
            expected,
            "{given}"
        );
        assert!(restricted_paths(&public).is_empty(), "{given}");
    }
}

#[test]
fn identifier_schemes() {
    let restricted = [
        json!({"scheme": "GBR-TAXID"}),
        json!({"scheme": "USA-SSN"}),
        json!({"scheme": "GB-NINO"}),
        json!({"scheme": "XX-TIN"}),
        json!({"scheme": "AUS-DRIVERS-LICENCE"}),
        json!({"scheme": "ESP-NATIONAL_ID"}),
        json!({"schemeName": "Passport"}),
        json!({"schemeName": "Tax identification number"}),
        json!({"schemeName": "National Insurance"}),
        json!({"schemeName": "Identity Card"}),
        json!({"id": "1"}),
    ];
    for id in restricted {
        assert!(is_restricted_identifier(&id), "{id}");
    }
    let public = [
        json!({"scheme": "GB-COH", "schemeName": "Companies House"}),
        json!({"scheme": "XI-PLATINUM-REG"}),
        json!({"schemeName": "Register of officers"}),
    ];
    for id in public {
        assert!(!is_restricted_identifier(&id), "{id}");
    }
}

#[test]
fn protected_person_is_replaced_with_the_reason() {
    let policy = Policy::protecting(["NZ-PER-0001"]);
    let public = public_statement(&person(), &policy);
    assert_eq!(restricted_paths(&public), Vec::<String>::new());
    assert_eq!(
        public["recordDetails"],
        json!({
            "isComponent": false,
            "personType": "anonymousPerson",
            "unspecifiedPersonDetails": {"reason": PROTECTED_REASON, "description": PROTECTED_DESCRIPTION}
        })
    );
    assert_eq!(PROTECTED_REASON, "interestedPartyExemptFromDisclosure");
    // Same record id, so relationships still point at it; nothing that
    // names the person is left at statement level.
    assert_eq!(public["recordId"], "NZ-PER-0001");
    assert!(public.get("annotations").is_none());
    assert_eq!(public["source"], json!({"type": ["selfDeclaration"]}));
    assert!(!public.to_string().contains("Aroha"));
    assert_eq!(schema_errors(&public), Vec::<String>::new());
    // The relationship to the protected person is published as it is.
    assert_eq!(public_statement(&relationship(), &policy), relationship());
}

#[test]
fn anonymous_and_unknown_persons_keep_only_type_and_reason() {
    let mut s = person();
    s["recordDetails"]["personType"] = json!("unknownPerson");
    s["recordDetails"]["unspecifiedPersonDetails"] = json!({"reason": "interestedPartyHasNotProvidedInformation", "description": "not given", "extra": "x"});
    let public = public_statement(&s, &Policy::default());
    assert_eq!(
        public["recordDetails"],
        json!({
            "isComponent": false,
            "personType": "unknownPerson",
            "unspecifiedPersonDetails": {"reason": "interestedPartyHasNotProvidedInformation", "description": "not given"}
        })
    );
    // Anonymous with no valid reason: the protected reason is given.
    s["recordDetails"]["personType"] = json!("anonymousPerson");
    s["recordDetails"]["unspecifiedPersonDetails"] = json!({"reason": "because"});
    let public = public_statement(&s, &Policy::default());
    assert_eq!(public["recordDetails"]["personType"], "anonymousPerson");
    assert_eq!(
        public["recordDetails"]["unspecifiedPersonDetails"]["reason"],
        PROTECTED_REASON
    );
    assert!(restricted_paths(&public).is_empty());
}

#[test]
fn malformed_persons_are_withheld() {
    // An invalid personType, or details that are not an object: fail closed.
    let mut s = person();
    s["recordDetails"]["personType"] = json!("famousPerson");
    let public = public_statement(&s, &Policy::default());
    assert_eq!(
        public["recordDetails"]["unspecifiedPersonDetails"]["reason"],
        PROTECTED_REASON
    );
    // A person mislabelled as an entity is still treated as a person.
    let mut s = person();
    s["recordType"] = json!("entity");
    assert!(!restricted_paths(&s).is_empty());
    assert!(restricted_paths(&public_statement(&s, &Policy::default())).is_empty());
}

#[test]
fn entities_and_relationships_are_unchanged() {
    let policy = Policy::protecting(["NZ-CO-123456"]);
    assert_eq!(public_statement(&entity(), &policy), entity());
    assert!(restricted_paths(&entity()).is_empty());
    let all = public_statements(&[entity(), relationship()], &policy);
    assert_eq!(all, vec![entity(), relationship()]);
}

#[test]
fn real_sample_publishes_nothing_restricted() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/bods/uk-psc-gleif-bods04/all_demo.jsonl");
    let items = read::read_all(
        "all_demo.jsonl",
        File::open(&path).unwrap(),
        Limits::default(),
    );
    let statements: Vec<Value> = items.into_iter().map(|i| i.statement.unwrap()).collect();
    assert_eq!(statements.len(), 1204);
    // UK PSC data already publishes birth dates as YYYY-MM and no residential
    // addresses or identity numbers for persons, so none is restricted
    // (checked independently with a Python script over the same file).
    let before = statements
        .iter()
        .filter(|s| !restricted_paths(s).is_empty())
        .count();
    assert_eq!(before, 0);
    let public = public_statements(&statements, &Policy::default());
    for p in &public {
        assert_eq!(
            restricted_paths(p),
            Vec::<String>::new(),
            "{}",
            p["statementId"]
        );
    }
    // Nothing to cut, so nothing changed, and every public form is valid.
    assert_eq!(public, statements);
    let validator = Validator::new().unwrap();
    for (i, p) in public.iter().enumerate() {
        let errors: Vec<_> = validator
            .statement(p, &Place::in_memory(i as u64))
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{i}: {errors:?}");
    }
    // With every sample person protected, all are withheld and still valid.
    let persons: Vec<&str> = statements
        .iter()
        .filter(|s| s["recordType"] == "person")
        .filter_map(|s| s["recordId"].as_str())
        .collect();
    assert_eq!(persons.len(), 18);
    let policy = Policy::protecting(persons.iter().copied());
    let protected = public_statements(&statements, &policy);
    let withheld = protected
        .iter()
        .filter(|s| s["recordDetails"]["unspecifiedPersonDetails"]["reason"] == PROTECTED_REASON)
        .count();
    assert_eq!(withheld, 18);
    for p in &protected {
        assert!(restricted_paths(p).is_empty());
        assert!(validator
            .statement(p, &Place::in_memory(0))
            .iter()
            .all(|f| f.severity != Severity::Error));
    }
}

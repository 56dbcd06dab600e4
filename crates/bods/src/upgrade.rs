//! Lenient import of BODS 0.2 and 0.3 statements as 0.4.
//!
//! 0.4 replaced statement types with records: each statement now says which
//! record (`recordId`) it describes, and the details move under
//! `recordDetails`. What maps one to one is upgraded; what cannot be is
//! reported as a finding with its JSON path, and only the statement that
//! cannot be imported at all is dropped, never the file.
//!
//! Mapping (BODS 0.4 "changes from 0.3" and the official examples):
//! `statementID` → `statementId`; `statementType` → `recordType`; the
//! statement's own id becomes its `recordId`, unless it replaces earlier
//! statements (`replacesStatements`), when it continues their record with
//! `recordStatus: updated`; entity and person fields → `recordDetails`
//! (`entityType` string → `{type}`, `incorporatedInJurisdiction` →
//! `jurisdiction`, `hasPepStatus`/`pepStatusDetails` → `politicalExposure`);
//! ownership-or-control statements → relationship records with `subject` and
//! `interestedParty` as record ids (or an unspecified-record object);
//! kebab-case codes → camelCase; `interestLevel` → `directOrIndirect`;
//! 0.2's boolean `exclusiveMinimum`/`exclusiveMaximum` → numeric bounds.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::read::Place;
use crate::validate::{root_path, Finding, Rule};

/// The BODS version of a statement, as far as it can be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// 0.1, 0.2 or 0.3: statement types, `statementID`.
    Legacy,
    /// 0.4 (or later 0.x): records.
    Current,
    /// Not an object, or no sign of either.
    Unknown,
}

/// Tell a statement's version from `publicationDetails.bodsVersion`, or else its shape.
pub fn detect(statement: &Value) -> Version {
    let Some(object) = statement.as_object() else {
        return Version::Unknown;
    };
    let declared = object
        .get("publicationDetails")
        .and_then(|p| p.get("bodsVersion"))
        .and_then(Value::as_str);
    match declared {
        Some("0.1" | "0.2" | "0.3") => return Version::Legacy,
        Some(v) if v.starts_with("0.") => return Version::Current,
        _ => {}
    }
    if object.contains_key("statementType") || object.contains_key("statementID") {
        Version::Legacy
    } else if object.contains_key("recordType") || object.contains_key("recordDetails") {
        Version::Current
    } else {
        Version::Unknown
    }
}

/// Fields that stay at the top of a 0.4 statement; everything else of a
/// legacy statement describes the record.
const STATEMENT_FIELDS: [&str; 7] = [
    "statementId",
    "statementDate",
    "annotations",
    "publicationDetails",
    "source",
    "declaration",
    "declarationSubject",
];

/// 0.2 kebab-case interest types whose 0.3/0.4 name is not just camelCase.
const RENAMED_INTERESTS: [(&str, &str); 5] = [
    ("settlor-of-trust", "settlor"),
    ("trustee-of-trust", "trustee"),
    ("protector-of-trust", "protector"),
    ("beneficiary-of-trust", "beneficiaryOfLegalArrangement"),
    (
        "other-influence-or-control-of-trust",
        "otherInfluenceOrControl",
    ),
];

const INTEREST_TYPES: [&str; 23] = [
    "shareholding",
    "votingRights",
    "appointmentOfBoard",
    "otherInfluenceOrControl",
    "seniorManagingOfficial",
    "settlor",
    "trustee",
    "protector",
    "beneficiaryOfLegalArrangement",
    "rightsToSurplusAssetsOnDissolution",
    "rightsToProfitOrIncome",
    "rightsGrantedByContract",
    "conditionalRightsGrantedByContract",
    "controlViaCompanyRulesOrArticles",
    "controlByLegalFramework",
    "boardMember",
    "boardChair",
    "unknownInterest",
    "unpublishedInterest",
    "enjoymentAndUseOfAssets",
    "rightToProfitOrIncomeFromAssets",
    "nominee",
    "nominator",
];

fn camel(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut upper = false;
    for c in code.chars() {
        if c == '-' || c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The outcome of upgrading one statement.
#[derive(Debug, Clone)]
pub struct Upgraded {
    /// The 0.4 statement, or `None` when nothing usable could be made of it.
    pub statement: Option<Value>,
    /// What could not be upgraded (each an error) or was upgraded with a loss.
    pub findings: Vec<Finding>,
}

/// Upgrades a stream of statements in order (a statement that replaces
/// another continues that one's record, so the upgrader remembers ids).
#[derive(Debug, Default)]
pub struct Upgrader {
    /// Legacy statementID → the recordId given to it.
    records: HashMap<String, String>,
}

impl Upgrader {
    pub fn new() -> Upgrader {
        Upgrader::default()
    }

    /// Upgrade one statement. 0.4 statements pass through untouched.
    pub fn upgrade(&mut self, statement: Value, place: &Place) -> Upgraded {
        let root = root_path(place);
        let mut findings = Vec::new();
        let Value::Object(mut legacy) = statement else {
            findings.push(Finding::new(
                Rule::Upgrade("not-an-object"),
                "a statement must be a JSON object; skipped",
                place,
                None,
                root,
            ));
            return Upgraded {
                statement: None,
                findings,
            };
        };
        if detect_object(&legacy) != Version::Legacy {
            return Upgraded {
                statement: Some(Value::Object(legacy)),
                findings,
            };
        }
        let id = legacy
            .remove("statementID")
            .or_else(|| legacy.remove("statementId"))
            .and_then(|v| v.as_str().map(str::to_owned));
        let mut cx = Context {
            place,
            id: id.clone(),
            root: &root,
            findings: &mut findings,
        };
        let statement_type = legacy
            .remove("statementType")
            .and_then(|v| v.as_str().map(str::to_owned));
        let record_type = match statement_type.as_deref() {
            Some("entityStatement") => "entity",
            Some("personStatement") => "person",
            Some("ownershipOrControlStatement") => "relationship",
            other => {
                cx.error(
                    "unknown-statement-type",
                    format!("statementType {other:?} is not a 0.2/0.3 statement type; skipped"),
                    format!("{root}.statementType"),
                );
                return Upgraded {
                    statement: None,
                    findings,
                };
            }
        };
        // Continue the record of the statement this one replaces, if known.
        let replaced = legacy
            .remove("replacesStatements")
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default();
        let continued = replaced
            .iter()
            .filter_map(Value::as_str)
            .find_map(|r| self.records.get(r).cloned());
        let record_id = continued.clone().or_else(|| id.clone());
        let Some(record_id) = record_id else {
            cx.error(
                "missing-statement-id",
                "no statementID: the statement cannot be given a record; skipped".into(),
                format!("{root}.statementID"),
            );
            return Upgraded {
                statement: None,
                findings,
            };
        };
        if let Some(id) = &id {
            self.records.insert(id.clone(), record_id.clone());
        }

        let mut top = Map::new();
        if let Some(id) = &id {
            top.insert("statementId".into(), json!(id));
        }
        for field in STATEMENT_FIELDS {
            if let Some(v) = legacy.remove(field) {
                top.insert(field.into(), v);
            }
        }
        if !top.contains_key("statementDate") {
            let published = top
                .get("publicationDetails")
                .and_then(|p| p.get("publicationDate"))
                .cloned();
            match published {
                Some(date) => {
                    cx.warn(
                        "statement-date-from-publication",
                        "no statementDate (required in 0.4): the publication date was used".into(),
                        format!("{root}.statementDate"),
                    );
                    top.insert("statementDate".into(), date);
                }
                None => cx.error(
                    "missing-statement-date",
                    "no statementDate and no publication date to take it from".into(),
                    format!("{root}.statementDate"),
                ),
            }
        }
        if let Some(Value::Object(details)) = top.get_mut("publicationDetails") {
            details.insert("bodsVersion".into(), json!("0.4"));
        }
        let mut details = legacy;
        details.entry("isComponent").or_insert(json!(false));
        let declaration_subject = match record_type {
            "entity" => {
                cx.entity(&mut details);
                Some(record_id.clone())
            }
            "person" => {
                cx.person(&mut details);
                Some(record_id.clone())
            }
            _ => {
                let subject = cx.relationship(&mut details, &self.records);
                if !details.contains_key("interestedParty") {
                    return Upgraded {
                        statement: None,
                        findings,
                    };
                }
                subject
            }
        };
        if !top.contains_key("declarationSubject") {
            if let Some(subject) = declaration_subject {
                top.insert("declarationSubject".into(), json!(subject));
            }
        }
        top.insert("recordId".into(), json!(record_id));
        top.insert("recordType".into(), json!(record_type));
        let status = if continued.is_some() {
            "updated"
        } else {
            "new"
        };
        top.insert("recordStatus".into(), json!(status));
        top.insert("recordDetails".into(), Value::Object(details));
        Upgraded {
            statement: Some(Value::Object(top)),
            findings,
        }
    }
}

fn detect_object(object: &Map<String, Value>) -> Version {
    let declared = object
        .get("publicationDetails")
        .and_then(|p| p.get("bodsVersion"))
        .and_then(Value::as_str);
    match declared {
        Some("0.1" | "0.2" | "0.3") => return Version::Legacy,
        Some(v) if v.starts_with("0.") => return Version::Current,
        _ => {}
    }
    if object.contains_key("statementType") || object.contains_key("statementID") {
        Version::Legacy
    } else {
        Version::Current
    }
}

struct Context<'a> {
    place: &'a Place,
    id: Option<String>,
    root: &'a str,
    findings: &'a mut Vec<Finding>,
}

impl Context<'_> {
    fn error(&mut self, code: &'static str, message: String, path: String) {
        self.findings.push(Finding::new(
            Rule::Upgrade(code),
            message,
            self.place,
            self.id.as_deref(),
            path,
        ));
    }

    fn warn(&mut self, code: &'static str, message: String, path: String) {
        let mut f = Finding::new(
            Rule::Upgrade(code),
            message,
            self.place,
            self.id.as_deref(),
            path,
        );
        f.severity = crate::validate::Severity::Warning;
        self.findings.push(f);
    }

    fn details_path(&self, field: &str) -> String {
        format!("{}.recordDetails.{field}", self.root)
    }

    fn entity(&mut self, details: &mut Map<String, Value>) {
        if let Some(Value::String(t)) = details.remove("entityType") {
            let mut entity_type = Map::new();
            entity_type.insert("type".into(), json!(camel(&t)));
            // 0.3's entitySubtype: {generalCategory, localTerm}.
            if let Some(sub) = details.remove("entitySubtype") {
                if let Some(category) = sub.get("generalCategory").and_then(Value::as_str) {
                    let code = category.rsplit('-').next().unwrap_or(category);
                    entity_type.insert("subtype".into(), json!(camel(code)));
                }
                if let Some(local) = sub.get("localTerm") {
                    entity_type.insert("details".into(), local.clone());
                }
            }
            details.insert("entityType".into(), Value::Object(entity_type));
        } else if !details.contains_key("entityType") {
            self.error(
                "missing-entity-type",
                "no entityType (required)".into(),
                self.details_path("entityType"),
            );
        }
        if let Some(j) = details.remove("incorporatedInJurisdiction") {
            details.entry("jurisdiction").or_insert(j);
        }
    }

    fn person(&mut self, details: &mut Map<String, Value>) {
        if let Some(Value::String(t)) = details.get("personType") {
            let t = camel(t);
            details.insert("personType".into(), json!(t));
        } else {
            self.error(
                "missing-person-type",
                "no personType (required)".into(),
                self.details_path("personType"),
            );
        }
        // 0.2 placeOfResidence: an address, now an address of type residence.
        if let Some(Value::Object(mut residence)) = details.remove("placeOfResidence") {
            residence.insert("type".into(), json!("residence"));
            let addresses = details.entry("addresses").or_insert(json!([]));
            if let Some(list) = addresses.as_array_mut() {
                list.push(Value::Object(residence));
            }
        }
        if let Some(Value::String(birth)) = details.get("birthDate") {
            if birth.len() == 10 {
                self.warn(
                    "full-birth-date",
                    "a full date of birth is personal data that BODS 0.4 lets publishers reduce to YYYY-MM; kept as given"
                        .into(),
                    self.details_path("birthDate"),
                );
            }
        }
        let pep = details.remove("hasPepStatus");
        let pep_details = details.remove("pepStatusDetails");
        if pep.is_some() || pep_details.is_some() {
            let status = match pep {
                Some(Value::Bool(true)) => "isPep",
                Some(Value::Bool(false)) => "isNotPep",
                _ => "unknown",
            };
            let mut exposure = Map::new();
            exposure.insert("status".into(), json!(status));
            if let Some(d) = pep_details {
                exposure.insert("details".into(), d);
            }
            details.insert("politicalExposure".into(), Value::Object(exposure));
        }
        if let Some(Value::Array(addresses)) = details.get_mut("addresses") {
            for a in addresses.iter_mut() {
                camel_field(a, "type");
            }
        }
        // 0.2's "individual" name is 0.4's "legal" name; the other codes kept their names.
        if let Some(Value::Array(names)) = details.get_mut("names") {
            for name in names.iter_mut() {
                if name.get("type").and_then(Value::as_str) == Some("individual") {
                    if let Some(o) = name.as_object_mut() {
                        o.insert("type".into(), json!("legal"));
                    }
                }
            }
        }
    }

    /// Returns the subject's record id (the declaration subject of a relationship).
    fn relationship(
        &mut self,
        details: &mut Map<String, Value>,
        records: &HashMap<String, String>,
    ) -> Option<String> {
        let reference = |party: &Value| -> Option<Value> {
            for key in ["describedByEntityStatement", "describedByPersonStatement"] {
                if let Some(id) = party.get(key).and_then(Value::as_str) {
                    let record = records.get(id).cloned().unwrap_or_else(|| id.to_owned());
                    return Some(json!(record));
                }
            }
            let unspecified = party.get("unspecified")?;
            let reason = unspecified.get("reason").and_then(Value::as_str).map(camel);
            let mut out = Map::new();
            out.insert(
                "reason".into(),
                json!(reason.unwrap_or_else(|| "unknown".into())),
            );
            if let Some(d) = unspecified.get("description") {
                out.insert("description".into(), d.clone());
            }
            Some(Value::Object(out))
        };
        let mut subject_id = None;
        match details.remove("subject") {
            Some(s) => match reference(&s) {
                Some(r) => {
                    subject_id = r.as_str().map(str::to_owned);
                    details.insert("subject".into(), r);
                }
                None => self.error(
                    "unresolvable-subject",
                    "subject names no entity statement".into(),
                    self.details_path("subject"),
                ),
            },
            None => self.error(
                "missing-subject",
                "no subject (required)".into(),
                self.details_path("subject"),
            ),
        }
        match details.remove("interestedParty") {
            Some(p) => match reference(&p) {
                Some(r) => {
                    details.insert("interestedParty".into(), r);
                }
                None => self.error(
                    "unresolvable-interested-party",
                    "interestedParty names no statement and gives no unspecified reason; skipped".into(),
                    self.details_path("interestedParty"),
                ),
            },
            None => self.error(
                "missing-interested-party",
                "no interestedParty (required): an ownership statement without an owner cannot be imported; skipped".into(),
                self.details_path("interestedParty"),
            ),
        }
        if let Some(Value::Array(ids)) = details.remove("componentStatementIDs") {
            let records: Vec<Value> = ids
                .iter()
                .filter_map(Value::as_str)
                .map(|id| json!(records.get(id).cloned().unwrap_or_else(|| id.to_owned())))
                .collect();
            details.insert("componentRecords".into(), Value::Array(records));
        }
        if let Some(Value::Array(interests)) = details.get_mut("interests") {
            for (i, interest) in interests.iter_mut().enumerate() {
                let at = format!("{}.recordDetails.interests[{i}]", self.root);
                self.interest(interest, &at);
            }
        }
        subject_id
    }

    fn interest(&mut self, interest: &mut Value, at: &str) {
        let Some(interest) = interest.as_object_mut() else {
            return;
        };
        if let Some(level) = interest.remove("interestLevel") {
            interest.entry("directOrIndirect").or_insert(level);
        }
        if let Some(Value::String(t)) = interest.get("type") {
            let renamed = RENAMED_INTERESTS
                .iter()
                .find(|(old, _)| old == t)
                .map(|(_, new)| (*new).to_owned())
                .unwrap_or_else(|| camel(t));
            if INTEREST_TYPES.contains(&renamed.as_str()) {
                interest.insert("type".into(), json!(renamed));
            } else {
                self.error(
                    "unknown-interest-type",
                    format!("interest type {t:?} has no 0.4 equivalent: recorded as unknownInterest, the original kept in details"),
                    format!("{at}.type"),
                );
                let original = format!("type given as {t:?}");
                interest
                    .entry("details")
                    .and_modify(|d| {
                        if let Some(s) = d.as_str() {
                            *d = json!(format!("{s} ({original})"));
                        }
                    })
                    .or_insert(json!(original));
                interest.insert("type".into(), json!("unknownInterest"));
            }
        }
        if let Some(Value::Object(share)) = interest.get_mut("share") {
            // 0.2: exclusiveMinimum/Maximum are booleans qualifying minimum/maximum.
            for (flag, bound) in [
                ("exclusiveMinimum", "minimum"),
                ("exclusiveMaximum", "maximum"),
            ] {
                if let Some(Value::Bool(exclusive)) = share.get(flag).cloned() {
                    share.remove(flag);
                    if exclusive {
                        match share.remove(bound) {
                            Some(v) => {
                                share.insert(flag.into(), v);
                            }
                            None => self.error(
                                "share-flag-without-bound",
                                format!("{flag} is true but there is no {bound}; dropped"),
                                format!("{at}.share.{flag}"),
                            ),
                        }
                    }
                }
            }
        }
    }
}

fn camel_field(value: &mut Value, key: &str) {
    if let Some(Value::String(s)) = value.get(key) {
        let s = camel(s);
        if let Some(o) = value.as_object_mut() {
            o.insert(key.into(), json!(s));
        }
    }
}

//! What the public may see of a BODS 0.4 statement.
//!
//! The register's API, pages and downloads publish [`public_statement`], never
//! the stored statement. [`restricted_paths`] names any restricted field still
//! present, so a test can walk every public output and fail if one appears.
//!
//! Input must be BODS 0.4 (run [`crate::upgrade`] first). Pure: no I/O.
//!
//! Decisions (each one errs towards withholding):
//! - Only person statements are changed. Entities and relationships are public
//!   as they are: a relationship keeps pointing at the same person `recordId`,
//!   and entity identifiers (even tax-based ones such as `RU-INN`) are public
//!   company-register data.
//! - A person's `recordDetails` are rebuilt from an allow-list of fields, so a
//!   field this module does not know (a publisher extension) is dropped rather
//!   than published by default.
//! - `birthDate` is cut to `YYYY-MM`; `YYYY` and `YYYY-MM` stay; any other
//!   form is dropped, since it cannot be safely cut.
//! - Addresses: only `service` (and `business`/`registered`, which the schema
//!   reserves for entities but carry no home address) are kept. `residence` is
//!   removed, and so are `alternative` (the codelist allows it to be a second
//!   home), `placeOfBirth` and addresses with no or an unknown type: we cannot
//!   tell that they are not where the person lives.
//! - `placeOfBirth` keeps only its `type` and `country`: a town or street
//!   would help identity theft as much as a full birth date does.
//! - Identifiers: removed when the scheme or scheme name is a tax or identity
//!   document (see [`is_restricted_identifier`]), or when it has neither (we
//!   cannot tell what it is).
//! - `taxResidencies` is removed. `politicalExposure` keeps only `status`:
//!   the details (role, dates, source) are for the regulator, not the public.
//! - `deathDate`, `names`, `nationalities` are public.
//! - Protection: the 0.4 schema has no protection flag (no `isPrivate`, and no
//!   annotation motivation for it), so protection comes from the caller's
//!   [`Policy::protected_records`]. Such a person is replaced by an
//!   `anonymousPerson` with reason `interestedPartyExemptFromDisclosure` and
//!   [`PROTECTED_DESCRIPTION`]. The codelist defines `anonymousPerson` as
//!   "identified, but identifying information is being withheld" and that
//!   reason as "exempt from having their identity disclosed", which is exactly
//!   this case; `unknownPerson` would wrongly say the register does not know
//!   who it is.
//! - A person already `anonymousPerson`/`unknownPerson` keeps its type and its
//!   own `unspecifiedPersonDetails` (the publisher's reason is more accurate
//!   than ours) but nothing else; with no valid reason it gets the protected
//!   one.
//! - Annotations on a person's details may quote the removed values (e.g. a
//!   `transformation` annotation's `transformedContent`), so only those on the
//!   whole statement, statement-level fields, names, nationalities, type and
//!   `isComponent` are kept; a protected person keeps none, and loses
//!   `source.assertedBy`/`source.description` (a self-declaration names the
//!   declarer).

use std::collections::HashSet;

use rayon::prelude::*;
use serde_json::{Map, Value};

/// The description given to a protected person.
pub const PROTECTED_DESCRIPTION: &str =
    "Protected: details withheld under the register's protection rules";

/// The `unspecifiedReason` code given to a protected person.
pub const PROTECTED_REASON: &str = "interestedPartyExemptFromDisclosure";

/// The `personType` given to a protected person.
pub const PROTECTED_PERSON_TYPE: &str = "anonymousPerson";

/// Address types of a person that may be published.
const PUBLIC_ADDRESS_TYPES: &[&str] = &["service", "business", "registered"];

/// The `unspecifiedReason` codelist (closed), to check a publisher's reason.
const UNSPECIFIED_REASONS: &[&str] = &[
    "noBeneficialOwners",
    "subjectUnableToConfirmOrIdentifyBeneficialOwner",
    "interestedPartyHasNotProvidedInformation",
    "subjectExemptFromDisclosure",
    "interestedPartyExemptFromDisclosure",
    "unknown",
    "informationUnknownToPublisher",
];

/// Person detail fields whose annotations may stay: they are published whole.
const ANNOTATABLE_PERSON_FIELDS: &[&str] = &["names", "nationalities", "personType", "isComponent"];

/// Scheme code fragments naming a tax or identity document, matched anywhere
/// in the upper-cased scheme with separators removed. BODS person schemes are
/// `{JURISDICTION}-{PASSPORT|TAXID|IDCARD}`; the rest are common variants.
const RESTRICTED_SCHEME_FRAGMENTS: &[&str] = &[
    "PASSPORT",
    "TAX",
    "DRIVER",
    "IDCARD",
    "NATIONALID",
    "IDENTITY",
    "SOCIALSECURITY",
    "INSURANCENUMBER",
];

/// Scheme code tokens (whole parts between separators) naming a tax or
/// identity number. Whole tokens only: `TIN` must not match `PLATINUM`. Bare
/// `ID`/`NI` are left out: register person ids and Northern Ireland schemes
/// use them.
const RESTRICTED_SCHEME_TOKENS: &[&str] = &[
    "TIN", "ITIN", "NINO", "NIN", "SSN", "SIN", "IRD", "NID", "UTR", "TFN", "EIN", "VAT", "PPS",
    "PPSN", "NIF", "NIE", "DNI", "CPF", "BSN", "PESEL", "AADHAAR", "PAN", "NRIC", "CURP", "DL",
];

/// Scheme name phrases (lower case) naming a tax or identity document.
const RESTRICTED_SCHEME_NAME_PHRASES: &[&str] = &[
    "passport",
    "tax",
    "national insurance",
    "identity card",
    "identity document",
    "id card",
    "national id",
    "national identity",
    "social security",
    "driver",
    "driving licence",
    "driving license",
    "inland revenue",
    "ird number",
];

/// Who is protected, as decided by the register (not by the data).
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Person `recordId`s whose details are withheld (e.g. a suppression order
    /// or a protection application under consideration).
    pub protected_records: HashSet<String>,
}

impl Policy {
    /// A policy protecting the given person record ids.
    pub fn protecting<I, S>(record_ids: I) -> Policy
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Policy {
            protected_records: record_ids.into_iter().map(Into::into).collect(),
        }
    }
}

/// The public form of one statement (see the module notes for the rules).
pub fn public_statement(statement: &Value, policy: &Policy) -> Value {
    let Some(object) = statement.as_object() else {
        // Not a statement: nothing in it is recognisably a person, and the
        // publishing pipeline rejects it elsewhere.
        return statement.clone();
    };
    if !is_person(object) {
        return statement.clone();
    }
    let protected = object
        .get("recordId")
        .and_then(Value::as_str)
        .is_some_and(|id| policy.protected_records.contains(id));
    let details = object.get("recordDetails").and_then(Value::as_object);
    let mut out = object.clone();
    match details {
        Some(d) if !protected && person_type(d) == Some("knownPerson") => {
            out.insert("recordDetails".into(), Value::Object(public_known(d)));
            filter_annotations(&mut out);
        }
        Some(d)
            if !protected
                && matches!(person_type(d), Some("anonymousPerson" | "unknownPerson")) =>
        {
            out.insert("recordDetails".into(), Value::Object(public_unspecified(d)));
            out.remove("annotations");
        }
        // A known person with no (or an invalid) personType is published like
        // a known person: the allow-list still applies.
        Some(d) if !protected && d.get("personType").is_none() => {
            out.insert("recordDetails".into(), Value::Object(public_known(d)));
            filter_annotations(&mut out);
        }
        // Protected, an invalid personType, or details that are not an object:
        // withhold everything rather than guess.
        _ => {
            out.insert(
                "recordDetails".into(),
                Value::Object(protected_details(details)),
            );
            out.remove("annotations");
            if let Some(source) = out.get_mut("source").and_then(Value::as_object_mut) {
                source.remove("assertedBy");
                source.remove("description");
            }
        }
    }
    Value::Object(out)
}

/// The public form of many statements, in order (in parallel: downloads are
/// large).
pub fn public_statements(statements: &[Value], policy: &Policy) -> Vec<Value> {
    statements
        .par_iter()
        .map(|s| public_statement(s, policy))
        .collect()
}

/// JSONPaths (`$.recordDetails.birthDate` style, as in validation findings)
/// of the restricted fields present in a statement: a full birth date, a
/// non-public address, a tax or identity identifier, tax residencies,
/// political exposure details, a place of birth finer than its country.
/// Empty for entities, relationships, and every [`public_statement`].
pub fn restricted_paths(statement: &Value) -> Vec<String> {
    let mut paths = Vec::new();
    let Some(object) = statement.as_object() else {
        return paths;
    };
    if !is_person(object) {
        return paths;
    }
    let Some(d) = object.get("recordDetails").and_then(Value::as_object) else {
        return paths;
    };
    let at = |field: &str| format!("$.recordDetails.{field}");
    if let Some(birth) = d.get("birthDate") {
        if !birth.as_str().is_some_and(is_year_or_month) {
            paths.push(at("birthDate"));
        }
    }
    if let Some(addresses) = d.get("addresses") {
        match addresses.as_array() {
            Some(list) => {
                for (i, a) in list.iter().enumerate() {
                    if !is_public_address(a) {
                        paths.push(format!("{}[{i}]", at("addresses")));
                    }
                }
            }
            None => paths.push(at("addresses")),
        }
    }
    if let Some(identifiers) = d.get("identifiers") {
        match identifiers.as_array() {
            Some(list) => {
                for (i, id) in list.iter().enumerate() {
                    if is_restricted_identifier(id) {
                        paths.push(format!("{}[{i}]", at("identifiers")));
                    }
                }
            }
            None => paths.push(at("identifiers")),
        }
    }
    if d.contains_key("taxResidencies") {
        paths.push(at("taxResidencies"));
    }
    if let Some(pep) = d.get("politicalExposure") {
        match pep.as_object() {
            Some(p) => {
                if p.contains_key("details") {
                    paths.push(at("politicalExposure.details"));
                }
            }
            None => paths.push(at("politicalExposure")),
        }
    }
    if let Some(place) = d.get("placeOfBirth") {
        match place.as_object() {
            Some(p) => {
                for k in p
                    .keys()
                    .filter(|k| !matches!(k.as_str(), "type" | "country"))
                {
                    paths.push(format!("{}.{k}", at("placeOfBirth")));
                }
            }
            None => paths.push(at("placeOfBirth")),
        }
    }
    paths
}

/// Whether a person identifier is a tax or identity-document number, or
/// cannot be told apart from one (no scheme and no scheme name).
pub fn is_restricted_identifier(identifier: &Value) -> bool {
    let scheme = identifier.get("scheme").and_then(Value::as_str);
    let name = identifier.get("schemeName").and_then(Value::as_str);
    if scheme.is_none() && name.is_none() {
        return true;
    }
    scheme.is_some_and(is_restricted_scheme) || name.is_some_and(is_restricted_scheme_name)
}

fn is_restricted_scheme(scheme: &str) -> bool {
    let upper = scheme.to_ascii_uppercase();
    let squashed: String = upper.chars().filter(char::is_ascii_alphanumeric).collect();
    RESTRICTED_SCHEME_FRAGMENTS
        .iter()
        .any(|f| squashed.contains(f))
        || upper
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|token| RESTRICTED_SCHEME_TOKENS.contains(&token))
}

fn is_restricted_scheme_name(name: &str) -> bool {
    let lower = name.to_lowercase();
    RESTRICTED_SCHEME_NAME_PHRASES
        .iter()
        .any(|p| lower.contains(p))
}

/// A person statement by its `recordType`, or (if that is missing or wrong)
/// by carrying a `personType`: a mislabelled person must not slip through.
fn is_person(statement: &Map<String, Value>) -> bool {
    statement.get("recordType").and_then(Value::as_str) == Some("person")
        || statement
            .get("recordDetails")
            .and_then(|d| d.get("personType"))
            .is_some()
}

fn person_type(details: &Map<String, Value>) -> Option<&str> {
    details.get("personType").and_then(Value::as_str)
}

/// `YYYY` or `YYYY-MM` (month 01-12): precise enough to tell people apart,
/// not enough to impersonate them.
fn is_year_or_month(date: &str) -> bool {
    let b = date.as_bytes();
    let year = |s: &[u8]| s.len() == 4 && s.iter().all(u8::is_ascii_digit);
    match b.len() {
        4 => year(b),
        7 => year(&b[..4]) && b[4] == b'-' && is_month(&b[5..7]),
        _ => false,
    }
}

fn is_month(m: &[u8]) -> bool {
    matches!(m, [b'0', b'1'..=b'9'] | [b'1', b'0'..=b'2'])
}

/// The public birth date: `YYYY` and `YYYY-MM` as given, a longer date that
/// starts `YYYY-MM-` cut to `YYYY-MM`, anything else withheld.
fn public_birth_date(date: &str) -> Option<&str> {
    if is_year_or_month(date) {
        return Some(date);
    }
    let head = date.get(..7)?;
    (is_year_or_month(head) && date.as_bytes().get(7) == Some(&b'-')).then_some(head)
}

fn is_public_address(address: &Value) -> bool {
    address
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| PUBLIC_ADDRESS_TYPES.contains(&t))
}

/// The details of a known person, rebuilt from the allow-list.
fn public_known(d: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for key in [
        "isComponent",
        "personType",
        "names",
        "nationalities",
        "deathDate",
    ] {
        if let Some(v) = d.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    if let Some(date) = d
        .get("birthDate")
        .and_then(Value::as_str)
        .and_then(public_birth_date)
    {
        out.insert("birthDate".into(), Value::String(date.to_owned()));
    }
    if let Some(list) = d.get("addresses").and_then(Value::as_array) {
        let kept: Vec<Value> = list
            .iter()
            .filter(|a| is_public_address(a))
            .cloned()
            .collect();
        if !kept.is_empty() {
            out.insert("addresses".into(), Value::Array(kept));
        }
    }
    if let Some(list) = d.get("identifiers").and_then(Value::as_array) {
        let kept: Vec<Value> = list
            .iter()
            .filter(|i| !is_restricted_identifier(i))
            .cloned()
            .collect();
        if !kept.is_empty() {
            out.insert("identifiers".into(), Value::Array(kept));
        }
    }
    if let Some(place) = d.get("placeOfBirth").and_then(Value::as_object) {
        let kept: Map<String, Value> = place
            .iter()
            .filter(|(k, _)| matches!(k.as_str(), "type" | "country"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        // A place of birth with no country says nothing public.
        if kept.contains_key("country") {
            out.insert("placeOfBirth".into(), Value::Object(kept));
        }
    }
    if let Some(status) = d
        .get("politicalExposure")
        .and_then(|p| p.get("status"))
        .filter(|s| s.is_string())
    {
        let mut pep = Map::new();
        pep.insert("status".into(), status.clone());
        out.insert("politicalExposure".into(), Value::Object(pep));
    }
    out
}

/// The details of an anonymous or unknown person: its type and reason only.
fn public_unspecified(d: &Map<String, Value>) -> Map<String, Value> {
    let reason_ok = d
        .get("unspecifiedPersonDetails")
        .and_then(|u| u.get("reason"))
        .and_then(Value::as_str)
        .is_some_and(|r| UNSPECIFIED_REASONS.contains(&r));
    let mut out = protected_details(Some(d));
    if let Some(t) = d.get("personType") {
        out.insert("personType".into(), t.clone());
    }
    if reason_ok {
        if let Some(u) = d.get("unspecifiedPersonDetails").and_then(Value::as_object) {
            // Only the schema's two fields: an extension could carry anything.
            let kept: Map<String, Value> = u
                .iter()
                .filter(|(k, v)| matches!(k.as_str(), "reason" | "description") && v.is_string())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            out.insert("unspecifiedPersonDetails".into(), Value::Object(kept));
        }
    }
    out
}

/// The details of a protected person. `isComponent` is kept (the schema
/// requires it, and it only says how the person is linked, not who it is).
fn protected_details(d: Option<&Map<String, Value>>) -> Map<String, Value> {
    let is_component = d
        .and_then(|d| d.get("isComponent"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut unspecified = Map::new();
    unspecified.insert("reason".into(), PROTECTED_REASON.into());
    unspecified.insert("description".into(), PROTECTED_DESCRIPTION.into());
    let mut out = Map::new();
    out.insert("isComponent".into(), Value::Bool(is_component));
    out.insert("personType".into(), PROTECTED_PERSON_TYPE.into());
    out.insert(
        "unspecifiedPersonDetails".into(),
        Value::Object(unspecified),
    );
    out
}

/// Keep annotations on the whole statement, on statement-level fields, and on
/// person fields published whole; drop those on person fields that were cut.
fn filter_annotations(statement: &mut Map<String, Value>) {
    let Some(list) = statement
        .get_mut("annotations")
        .and_then(Value::as_array_mut)
    else {
        statement.remove("annotations");
        return;
    };
    list.retain(|a| {
        let Some(target) = a.get("statementPointerTarget").and_then(Value::as_str) else {
            // No target: it may be about anything; withhold it.
            return false;
        };
        match target.strip_prefix("/recordDetails") {
            None => true,
            Some(rest) => {
                let field = rest.strip_prefix('/').and_then(|r| r.split('/').next());
                field.is_some_and(|f| ANNOTATABLE_PERSON_FIELDS.contains(&f))
            }
        }
    });
    if list.is_empty() {
        statement.remove("annotations");
    }
}

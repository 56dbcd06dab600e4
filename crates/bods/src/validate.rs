//! Validation of BODS 0.4 statements: the JSON schema, and the rules beyond
//! it that the Open Ownership validator (libcovebods) checks across statements.
//!
//! Two severities, as libcovebods draws the line: an **error** means the
//! statement does not conform to the schema; a **warning** is one of the
//! "additional checks" (references that do not resolve, record series out of
//! order, impossible dates or shares…): the statement conforms, but the data
//! is inconsistent. The standard's own conformance suite is all schema: its
//! valid fragments refer to records they do not contain, so reference rules
//! cannot be errors without rejecting them.
//!
//! Single-statement checks ([`Validator::statement`]) are independent and run
//! in parallel; cross-statement checks ([`Tracker`]) need the stream's order
//! and are fed one statement at a time.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, OnceLock};

use jiff::civil::Date;
use rayon::prelude::*;
use serde_json::{Map, Value};

use crate::read::Place;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The statement does not conform to the BODS 0.4 schema (or could not be read or upgraded).
    Error,
    /// The statement conforms, but breaks a rule the schema cannot express.
    Warning,
}

/// The rule a finding breaks. [`Rule::code`] is stable and used in reports.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Rule {
    /// A JSON Schema keyword failed (`type`, `required`, `enum`, `format`, …).
    Schema(Cow<'static, str>),
    /// The statement could not be read (see [`crate::read::ReadError::code`]).
    Read(&'static str),
    /// A legacy (0.2/0.3) statement could not be fully upgraded (see [`crate::upgrade`]).
    Upgrade(&'static str),
    DuplicateStatementId,
    /// `subject`/`interestedParty` names no record in the data.
    ReferenceNotFound,
    /// `subject`/`interestedParty` names a record that only comes later.
    ReferenceBeforeTarget,
    /// The subject of a relationship is not an entity.
    SubjectNotEntity,
    /// The interested party is a relationship.
    InterestedPartyNotEntityOrPerson,
    /// `beneficialOwnershipOrControl: true` with an interested party that is not a person.
    BeneficialOwnerNotPerson,
    /// A trust role (settlor, trustee, protector, beneficiary) in a subject that is no trust or arrangement.
    InterestNeedsTrust,
    /// A nominee or nominator interest in a subject that is no nomination arrangement.
    InterestNeedsNomination,
    /// `declarationSubject` names no entity or person record.
    DeclarationSubjectNotFound,
    /// A second statement with `recordStatus: new` for one record.
    RecordNewNotFirst,
    /// A statement for a record after its `closed` statement.
    RecordAfterClosed,
    /// The `recordType` of a record changes.
    RecordTypeChanged,
    /// `isComponent: true` but no later primary relationship lists the record.
    ComponentNotListed,
    /// A `componentRecords` entry that is no earlier record with `isComponent: true`.
    ComponentRecordInvalid,
    DateInFuture,
    /// A birth date before 1800.
    BirthDateTooEarly,
    DeathBeforeBirth,
    DissolutionBeforeFounding,
    InterestEndBeforeStart,
    /// Both `minimum` and `exclusiveMinimum` (or both maxima).
    ShareBoundsTwice,
    /// The lower bound is above the upper, or an exclusive range is empty.
    ShareRangeEmpty,
    /// `exact` outside the range also given.
    ShareExactOutsideRange,
}

impl Rule {
    /// The stable code of the rule, e.g. `schema.required`, `reference-not-found`.
    pub fn code(&self) -> Cow<'static, str> {
        let code = match self {
            Rule::Schema(keyword) => return Cow::Owned(format!("schema.{keyword}")),
            Rule::Read(code) => code,
            Rule::Upgrade(code) => return Cow::Owned(format!("upgrade.{code}")),
            Rule::DuplicateStatementId => "duplicate-statement-id",
            Rule::ReferenceNotFound => "reference-not-found",
            Rule::ReferenceBeforeTarget => "reference-before-target",
            Rule::SubjectNotEntity => "subject-not-entity",
            Rule::InterestedPartyNotEntityOrPerson => "interested-party-not-entity-or-person",
            Rule::BeneficialOwnerNotPerson => "beneficial-owner-not-person",
            Rule::InterestNeedsTrust => "interest-needs-trust",
            Rule::InterestNeedsNomination => "interest-needs-nomination",
            Rule::DeclarationSubjectNotFound => "declaration-subject-not-found",
            Rule::RecordNewNotFirst => "record-new-not-first",
            Rule::RecordAfterClosed => "record-after-closed",
            Rule::RecordTypeChanged => "record-type-changed",
            Rule::ComponentNotListed => "component-not-listed",
            Rule::ComponentRecordInvalid => "component-record-invalid",
            Rule::DateInFuture => "date-in-future",
            Rule::BirthDateTooEarly => "birth-date-too-early",
            Rule::DeathBeforeBirth => "death-before-birth",
            Rule::DissolutionBeforeFounding => "dissolution-before-founding",
            Rule::InterestEndBeforeStart => "interest-end-before-start",
            Rule::ShareBoundsTwice => "share-bounds-twice",
            Rule::ShareRangeEmpty => "share-range-empty",
            Rule::ShareExactOutsideRange => "share-exact-outside-range",
        };
        Cow::Borrowed(code)
    }

    /// The JSON Schema keyword, for schema findings (the "error type" of the
    /// standard's conformance suite and of libcovebods).
    pub fn schema_keyword(&self) -> Option<&str> {
        match self {
            Rule::Schema(keyword) => Some(keyword),
            _ => None,
        }
    }

    pub fn severity(&self) -> Severity {
        match self {
            Rule::Schema(_) | Rule::Read(_) | Rule::Upgrade(_) => Severity::Error,
            _ => Severity::Warning,
        }
    }
}

/// One thing found in the data, with its place.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    pub message: String,
    /// Where the statement is: source, line, index.
    pub place: Place,
    pub statement_id: Option<String>,
    /// JSONPath of the offending value, from the statement's position in its
    /// source: `$[3].recordDetails.interests[0].type`.
    pub path: String,
}

impl Finding {
    pub fn new(
        rule: Rule,
        message: impl Into<String>,
        place: &Place,
        statement_id: Option<&str>,
        path: String,
    ) -> Self {
        Finding {
            severity: rule.severity(),
            rule,
            message: message.into(),
            place: place.clone(),
            statement_id: statement_id.map(str::to_owned),
            path,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}: {severity} [{}] {}: {}",
            self.place.source,
            self.place.line,
            self.rule.code(),
            self.path,
            self.message
        )
    }
}

/// The JSONPath of a statement's root, `$[index]`.
pub fn root_path(place: &Place) -> String {
    format!("$[{}]", place.index)
}

/// Append a JSON pointer (as jsonschema reports it) to a JSONPath.
fn join_pointer(root: &str, pointer: &str) -> String {
    let mut path = root.to_owned();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            path.push_str(&format!("[{segment}]"));
        } else {
            path.push('.');
            path.push_str(&segment);
        }
    }
    path
}

/// The BODS 0.4 schema files shipped with the crate, by their `$id`.
const SCHEMA_FILES: [(&str, &str); 5] = [
    (
        "urn:statement",
        include_str!("../schema/0.4.0/statement.json"),
    ),
    (
        "urn:components",
        include_str!("../schema/0.4.0/components.json"),
    ),
    (
        "urn:entity",
        include_str!("../schema/0.4.0/entity-record.json"),
    ),
    (
        "urn:person",
        include_str!("../schema/0.4.0/person-record.json"),
    ),
    (
        "urn:relationship",
        include_str!("../schema/0.4.0/relationship-record.json"),
    ),
];

/// Why the schema could not be compiled (a bug in the shipped files, never the data).
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("schema file {0} is not JSON: {1}")]
    Json(&'static str, serde_json::Error),
    #[error("schema reference: {0}")]
    Registry(String),
    #[error("schema does not compile: {0}")]
    Compile(String),
}

fn compile_schema() -> Result<jsonschema::Validator, SchemaError> {
    let mut registry = jsonschema::Registry::new();
    for (id, text) in SCHEMA_FILES {
        let value: Value = serde_json::from_str(text).map_err(|e| SchemaError::Json(id, e))?;
        registry = registry
            .add(id, value)
            .map_err(|e| SchemaError::Registry(e.to_string()))?;
    }
    let registry = registry
        .prepare()
        .map_err(|e| SchemaError::Registry(e.to_string()))?;
    // One statement at a time: the array wrapper of statement.json would make
    // every path start at the array and every error stop the whole file.
    let root = serde_json::json!({ "$ref": "urn:statement#/$defs/Statement" });
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .with_registry(&registry)
        // 2020-12 makes `format` an annotation; BODS relies on it for dates and URIs.
        .should_validate_formats(true)
        .build(&root)
        .map_err(|e| SchemaError::Compile(e.to_string()))
}

fn shared_schema() -> &'static Result<jsonschema::Validator, SchemaError> {
    static SCHEMA: OnceLock<Result<jsonschema::Validator, SchemaError>> = OnceLock::new();
    SCHEMA.get_or_init(compile_schema)
}

/// Checks one statement at a time: the schema, and the rules within a
/// statement (dates, shares). Cheap to create: the schema is compiled once per
/// process and shared.
#[derive(Clone)]
pub struct Validator {
    schema: &'static jsonschema::Validator,
    today: Date,
}

impl Validator {
    /// A validator that judges "the future" against today's date.
    pub fn new() -> Result<Validator, &'static SchemaError> {
        Self::with_today(jiff::Zoned::now().date())
    }

    /// A validator with a fixed "today" (for reproducible reports and tests).
    pub fn with_today(today: Date) -> Result<Validator, &'static SchemaError> {
        let schema = shared_schema().as_ref()?;
        Ok(Validator { schema, today })
    }

    /// Every finding about one statement on its own.
    pub fn statement(&self, value: &Value, place: &Place) -> Vec<Finding> {
        let root = root_path(place);
        let id = value.get("statementId").and_then(Value::as_str);
        let mut findings: Vec<Finding> = self
            .schema
            .iter_errors(value)
            .map(|e| {
                let keyword = match e.kind().keyword() {
                    k @ ("type" | "required" | "enum" | "format" | "anyOf" | "oneOf" | "const"
                    | "pattern" | "minLength" | "maxLength" | "minimum" | "maximum"
                    | "minProperties" | "minItems") => Cow::Borrowed(static_keyword(k)),
                    other => Cow::Owned(other.to_owned()),
                };
                let path = join_pointer(&root, e.instance_path().as_str());
                Finding::new(Rule::Schema(keyword), e.to_string(), place, id, path)
            })
            .collect();
        if let Some(statement) = value.as_object() {
            let mut rules = StatementRules {
                today: self.today,
                place,
                id,
                root: &root,
                findings: &mut findings,
            };
            rules.check(statement);
        }
        findings
    }
}

/// The common keywords as `'static` strings, so most findings do not allocate.
fn static_keyword(k: &str) -> &'static str {
    match k {
        "type" => "type",
        "required" => "required",
        "enum" => "enum",
        "format" => "format",
        "anyOf" => "anyOf",
        "oneOf" => "oneOf",
        "const" => "const",
        "pattern" => "pattern",
        "minLength" => "minLength",
        "maxLength" => "maxLength",
        "minimum" => "minimum",
        "maximum" => "maximum",
        "minProperties" => "minProperties",
        _ => "minItems",
    }
}

/// A date as published: a year, a month or a day, i.e. an interval of days.
#[derive(Debug, Clone, Copy)]
struct Fuzzy {
    first: Date,
    last: Date,
}

/// Parse `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or a date-time (its date part).
fn fuzzy_date(text: &str) -> Option<Fuzzy> {
    let year: i16 = text.get(0..4)?.parse().ok()?;
    let rest = &text[4..];
    if rest.is_empty() {
        return Some(Fuzzy {
            first: Date::new(year, 1, 1).ok()?,
            last: Date::new(year, 12, 31).ok()?,
        });
    }
    let month: i8 = rest.strip_prefix('-')?.get(0..2)?.parse().ok()?;
    let rest = &rest[3..];
    if rest.is_empty() {
        let first = Date::new(year, month, 1).ok()?;
        return Some(Fuzzy {
            first,
            last: first.last_of_month(),
        });
    }
    let day: i8 = rest.strip_prefix('-')?.get(0..2)?.parse().ok()?;
    let date = Date::new(year, month, day).ok()?;
    Some(Fuzzy {
        first: date,
        last: date,
    })
}

fn date_at(object: &Map<String, Value>, key: &str) -> Option<Fuzzy> {
    object.get(key).and_then(Value::as_str).and_then(fuzzy_date)
}

struct StatementRules<'a> {
    today: Date,
    place: &'a Place,
    id: Option<&'a str>,
    root: &'a str,
    findings: &'a mut Vec<Finding>,
}

impl StatementRules<'_> {
    fn push(&mut self, rule: Rule, message: String, path: String) {
        self.findings
            .push(Finding::new(rule, message, self.place, self.id, path));
    }

    fn not_future(&mut self, object: &Map<String, Value>, key: &str, at: &str) {
        if let Some(date) = date_at(object, key) {
            if date.first > self.today {
                let path = format!("{at}.{key}");
                self.push(
                    Rule::DateInFuture,
                    format!("{key} {} is after today ({})", date.first, self.today),
                    path,
                );
            }
        }
    }

    fn check(&mut self, statement: &Map<String, Value>) {
        let root = self.root.to_owned();
        self.not_future(statement, "statementDate", &root);
        if let Some(details) = statement
            .get("publicationDetails")
            .and_then(Value::as_object)
        {
            self.not_future(
                details,
                "publicationDate",
                &format!("{root}.publicationDetails"),
            );
        }
        if let Some(source) = statement.get("source").and_then(Value::as_object) {
            self.not_future(source, "retrievedAt", &format!("{root}.source"));
        }
        if let Some(annotations) = statement.get("annotations").and_then(Value::as_array) {
            for (i, a) in annotations.iter().enumerate() {
                if let Some(a) = a.as_object() {
                    self.not_future(a, "creationDate", &format!("{root}.annotations[{i}]"));
                }
            }
        }
        let Some(details) = statement.get("recordDetails").and_then(Value::as_object) else {
            return;
        };
        let at = format!("{root}.recordDetails");
        match statement.get("recordType").and_then(Value::as_str) {
            Some("person") => self.person(details, &at),
            Some("entity") => {
                if let (Some(founded), Some(dissolved)) = (
                    date_at(details, "foundingDate"),
                    date_at(details, "dissolutionDate"),
                ) {
                    if dissolved.last < founded.first {
                        self.push(
                            Rule::DissolutionBeforeFounding,
                            "the entity is dissolved before it is founded".into(),
                            format!("{at}.dissolutionDate"),
                        );
                    }
                }
            }
            Some("relationship") => {
                if let Some(interests) = details.get("interests").and_then(Value::as_array) {
                    for (i, interest) in interests.iter().enumerate() {
                        if let Some(interest) = interest.as_object() {
                            self.interest(interest, &format!("{at}.interests[{i}]"));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn person(&mut self, details: &Map<String, Value>, at: &str) {
        let birth = date_at(details, "birthDate");
        let death = date_at(details, "deathDate");
        if let Some(birth) = birth {
            if birth.first > self.today {
                self.push(
                    Rule::DateInFuture,
                    format!("birthDate {} is after today", birth.first),
                    format!("{at}.birthDate"),
                );
            } else if birth.last.year() < 1800 {
                self.push(
                    Rule::BirthDateTooEarly,
                    "birthDate is before 1800".into(),
                    format!("{at}.birthDate"),
                );
            }
        }
        if let Some(death) = death {
            if death.first > self.today {
                self.push(
                    Rule::DateInFuture,
                    format!("deathDate {} is after today", death.first),
                    format!("{at}.deathDate"),
                );
            }
            if let Some(birth) = birth {
                // Partial dates are intervals: only a death wholly before the birth is wrong.
                if death.last < birth.first {
                    self.push(
                        Rule::DeathBeforeBirth,
                        "deathDate is before birthDate".into(),
                        format!("{at}.deathDate"),
                    );
                }
            }
        }
    }

    fn interest(&mut self, interest: &Map<String, Value>, at: &str) {
        if let (Some(start), Some(end)) =
            (date_at(interest, "startDate"), date_at(interest, "endDate"))
        {
            if end.last < start.first {
                self.push(
                    Rule::InterestEndBeforeStart,
                    "the interest ends before it starts".into(),
                    format!("{at}.endDate"),
                );
            }
        }
        let Some(share) = interest.get("share").and_then(Value::as_object) else {
            return;
        };
        let at = format!("{at}.share");
        let number = |k: &str| share.get(k).and_then(Value::as_f64);
        let (min, xmin, max, xmax, exact) = (
            number("minimum"),
            number("exclusiveMinimum"),
            number("maximum"),
            number("exclusiveMaximum"),
            number("exact"),
        );
        if min.is_some() && xmin.is_some() {
            self.push(
                Rule::ShareBoundsTwice,
                "both minimum and exclusiveMinimum are given".into(),
                format!("{at}.exclusiveMinimum"),
            );
        }
        if max.is_some() && xmax.is_some() {
            self.push(
                Rule::ShareBoundsTwice,
                "both maximum and exclusiveMaximum are given".into(),
                format!("{at}.exclusiveMaximum"),
            );
        }
        // The tightest bounds given; (value, inclusive).
        let lower = match (min, xmin) {
            (Some(m), Some(x)) if x >= m => Some((x, false)),
            (Some(m), _) => Some((m, true)),
            (None, Some(x)) => Some((x, false)),
            (None, None) => None,
        };
        let upper = match (max, xmax) {
            (Some(m), Some(x)) if x <= m => Some((x, false)),
            (Some(m), _) => Some((m, true)),
            (None, Some(x)) => Some((x, false)),
            (None, None) => None,
        };
        if let (Some((lo, lo_inclusive)), Some((hi, hi_inclusive))) = (lower, upper) {
            let empty = if lo_inclusive && hi_inclusive {
                lo > hi
            } else {
                lo >= hi
            };
            if empty {
                self.push(
                    Rule::ShareRangeEmpty,
                    format!("no share lies between the lower bound {lo} and the upper bound {hi}"),
                    at.clone(),
                );
            }
        }
        if let Some(exact) = exact {
            let below = lower.is_some_and(|(lo, inc)| if inc { exact < lo } else { exact <= lo });
            let above = upper.is_some_and(|(hi, inc)| if inc { exact > hi } else { exact >= hi });
            if below || above {
                self.push(
                    Rule::ShareExactOutsideRange,
                    format!("the exact share {exact} is outside the range also given"),
                    format!("{at}.exact"),
                );
            }
        }
    }
}

/// What the tracker remembers of a record.
#[derive(Debug, Clone)]
struct RecordInfo {
    record_type: Option<String>,
    /// `entityType.type` and `entityType.subtype`, for entities.
    entity_type: Option<String>,
    entity_subtype: Option<String>,
    is_component: bool,
    closed: bool,
}

/// A reference seen before its target: resolved (or not) later.
#[derive(Debug, Clone)]
struct Pending {
    place: Place,
    statement_id: Option<String>,
    path: String,
    role: Role,
    /// Interest types and whether any is beneficial, for checks that need the target's type.
    beneficial: bool,
    interest_types: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Subject,
    InterestedParty,
    DeclarationSubject,
}

impl Role {
    fn field(self) -> &'static str {
        match self {
            Role::Subject => "subject",
            Role::InterestedParty => "interestedParty",
            Role::DeclarationSubject => "declarationSubject",
        }
    }
}

/// Cross-statement rules, fed statements in stream order. Memory grows with
/// the number of records (a few small strings each), not with their content.
#[derive(Debug, Default)]
pub struct Tracker {
    records: HashMap<Arc<str>, RecordInfo>,
    /// statementId → recordId, so that a reference by statementId also resolves.
    statements: HashMap<Arc<str>, Arc<str>>,
    /// References to ids not yet seen, by id.
    pending: HashMap<String, Vec<Pending>>,
    /// Components not yet listed by a primary relationship: recordId → where the component was.
    unlisted_components: HashMap<Arc<str>, (Place, Option<String>, String)>,
    listed_components: HashSet<Arc<str>>,
}

fn text<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key).and_then(Value::as_str)
}

impl Tracker {
    pub fn new() -> Tracker {
        Tracker::default()
    }

    fn lookup(&self, id: &str) -> Option<&RecordInfo> {
        self.records
            .get(id)
            .or_else(|| self.statements.get(id).and_then(|r| self.records.get(r)))
    }

    /// Feed the next statement; findings about it (and about earlier
    /// statements whose references it resolves).
    pub fn feed(&mut self, value: &Value, place: &Place) -> Vec<Finding> {
        let mut findings = Vec::new();
        if !value.is_object() {
            return findings;
        }
        let root = root_path(place);
        let id = text(value, "statementId");
        if let Some(id) = id {
            if let Some(record) = text(value, "recordId") {
                if self
                    .statements
                    .insert(Arc::from(id), Arc::from(record))
                    .is_some()
                {
                    findings.push(Finding::new(
                        Rule::DuplicateStatementId,
                        format!("statementId {id} was already used"),
                        place,
                        Some(id),
                        format!("{root}.statementId"),
                    ));
                }
            } else if self
                .statements
                .insert(Arc::from(id), Arc::from(""))
                .is_some()
            {
                findings.push(Finding::new(
                    Rule::DuplicateStatementId,
                    format!("statementId {id} was already used"),
                    place,
                    Some(id),
                    format!("{root}.statementId"),
                ));
            }
        }
        let record_type = text(value, "recordType");
        let details = value.get("recordDetails");
        if let Some(record_id) = text(value, "recordId") {
            self.series(
                value,
                record_id,
                record_type,
                place,
                id,
                &root,
                &mut findings,
            );
        }
        if let Some(subject) = text(value, "declarationSubject") {
            match self.lookup(subject) {
                Some(_) => {}
                None if text(value, "recordId") == Some(subject) => {}
                None => self
                    .pending
                    .entry(subject.to_owned())
                    .or_default()
                    .push(Pending {
                        place: place.clone(),
                        statement_id: id.map(str::to_owned),
                        path: format!("{root}.declarationSubject"),
                        role: Role::DeclarationSubject,
                        beneficial: false,
                        interest_types: Vec::new(),
                    }),
            }
        }
        if record_type == Some("relationship") {
            if let Some(details) = details.and_then(Value::as_object) {
                self.relationship(details, place, id, &root, &mut findings);
            }
        }
        findings
    }

    #[allow(clippy::too_many_arguments)]
    fn series(
        &mut self,
        value: &Value,
        record_id: &str,
        record_type: Option<&str>,
        place: &Place,
        id: Option<&str>,
        root: &str,
        findings: &mut Vec<Finding>,
    ) {
        let status = text(value, "recordStatus");
        let details = value.get("recordDetails");
        let entity_type = details.and_then(|d| d.get("entityType"));
        let is_component = details
            .and_then(|d| d.get("isComponent"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut push = |rule: Rule, message: String, path: String| {
            findings.push(Finding::new(rule, message, place, id, path));
        };
        match self.records.get_mut(record_id) {
            Some(info) => {
                if info.closed {
                    push(
                        Rule::RecordAfterClosed,
                        format!("record {record_id} was closed by an earlier statement"),
                        format!("{root}.recordId"),
                    );
                }
                if status == Some("new") {
                    push(
                        Rule::RecordNewNotFirst,
                        format!(
                            "record {record_id} already has statements: only its first can be new"
                        ),
                        format!("{root}.recordStatus"),
                    );
                }
                if let (Some(before), Some(now)) = (info.record_type.as_deref(), record_type) {
                    if before != now {
                        push(
                            Rule::RecordTypeChanged,
                            format!("record {record_id} was a {before}, now a {now}"),
                            format!("{root}.recordType"),
                        );
                    }
                }
                info.closed |= status == Some("closed");
                if record_type.is_some() {
                    info.record_type = record_type.map(str::to_owned);
                }
                if let Some(t) = entity_type {
                    info.entity_type = text(t, "type").map(str::to_owned);
                    info.entity_subtype = text(t, "subtype").map(str::to_owned);
                }
                info.is_component = is_component;
            }
            None => {
                let info = RecordInfo {
                    record_type: record_type.map(str::to_owned),
                    entity_type: entity_type.and_then(|t| text(t, "type")).map(str::to_owned),
                    entity_subtype: entity_type
                        .and_then(|t| text(t, "subtype"))
                        .map(str::to_owned),
                    is_component,
                    closed: status == Some("closed"),
                };
                self.records.insert(Arc::from(record_id), info);
                self.resolve(record_id, findings);
                if let Some(id) = id {
                    if id != record_id {
                        self.resolve(id, findings);
                    }
                }
            }
        }
        if is_component && !self.listed_components.contains(record_id) {
            self.unlisted_components.insert(
                Arc::from(record_id),
                (
                    place.clone(),
                    id.map(str::to_owned),
                    format!("{root}.recordDetails.isComponent"),
                ),
            );
        }
    }

    /// A record just appeared: references to it made earlier were out of order.
    fn resolve(&mut self, target: &str, findings: &mut Vec<Finding>) {
        let Some(waiting) = self.pending.remove(target) else {
            return;
        };
        let info = self.records.get(target).cloned();
        for p in waiting {
            if p.role != Role::DeclarationSubject {
                findings.push(Finding::new(
                    Rule::ReferenceBeforeTarget,
                    format!(
                        "{} {target} comes after this relationship; a relationship must follow the records it points to",
                        p.role.field()
                    ),
                    &p.place,
                    p.statement_id.as_deref(),
                    p.path.clone(),
                ));
            }
            if let Some(info) = &info {
                Self::check_target(&p, target, info, findings);
            }
        }
    }

    /// The checks that need the type of the record a relationship points to.
    fn check_target(p: &Pending, target: &str, info: &RecordInfo, findings: &mut Vec<Finding>) {
        let kind = info.record_type.as_deref().unwrap_or("unknown");
        let mut push = |rule: Rule, message: String| {
            findings.push(Finding::new(
                rule,
                message,
                &p.place,
                p.statement_id.as_deref(),
                p.path.clone(),
            ));
        };
        match p.role {
            Role::DeclarationSubject => {
                if kind == "relationship" {
                    push(
                        Rule::DeclarationSubjectNotFound,
                        format!("declarationSubject {target} is a relationship, not an entity or person"),
                    );
                }
            }
            Role::Subject => {
                if kind != "entity" {
                    push(
                        Rule::SubjectNotEntity,
                        format!("subject {target} is a {kind}, not an entity"),
                    );
                    return;
                }
                let arrangement = info.entity_type.as_deref() == Some("arrangement");
                let subtype = info.entity_subtype.as_deref();
                for t in &p.interest_types {
                    match t.as_str() {
                        "settlor" | "trustee" | "protector" | "beneficiaryOfLegalArrangement"
                            if !(arrangement || subtype == Some("trust")) =>
                        {
                            push(
                                Rule::InterestNeedsTrust,
                                format!("a {t} interest needs a subject that is a trust or another arrangement; {target} is not"),
                            );
                        }
                        "nominee" | "nominator"
                            if !(arrangement && subtype == Some("nomination")) =>
                        {
                            push(
                                Rule::InterestNeedsNomination,
                                format!("a {t} interest needs a subject that is a nomination arrangement; {target} is not"),
                            );
                        }
                        _ => {}
                    }
                }
            }
            Role::InterestedParty => {
                if kind != "entity" && kind != "person" {
                    push(
                        Rule::InterestedPartyNotEntityOrPerson,
                        format!("interestedParty {target} is a {kind}, not an entity or person"),
                    );
                } else if p.beneficial && kind != "person" {
                    push(
                        Rule::BeneficialOwnerNotPerson,
                        format!("a beneficial-ownership interest needs a person as interested party; {target} is an {kind}"),
                    );
                }
            }
        }
    }

    fn relationship(
        &mut self,
        details: &Map<String, Value>,
        place: &Place,
        id: Option<&str>,
        root: &str,
        findings: &mut Vec<Finding>,
    ) {
        let interests = details.get("interests").and_then(Value::as_array);
        let interests = interests.map(Vec::as_slice).unwrap_or(&[]);
        let beneficial = interests
            .iter()
            .any(|i| i.get("beneficialOwnershipOrControl") == Some(&Value::Bool(true)));
        let interest_types: Vec<String> = interests
            .iter()
            .filter_map(|i| text(i, "type"))
            .map(str::to_owned)
            .collect();
        for role in [Role::Subject, Role::InterestedParty] {
            let Some(target) = details.get(role.field()).and_then(Value::as_str) else {
                continue;
            };
            let p = Pending {
                place: place.clone(),
                statement_id: id.map(str::to_owned),
                path: format!("{root}.recordDetails.{}", role.field()),
                role,
                beneficial,
                interest_types: interest_types.clone(),
            };
            match self.lookup(target) {
                Some(info) => Self::check_target(&p, target, info, findings),
                None => self.pending.entry(target.to_owned()).or_default().push(p),
            }
        }
        if let Some(components) = details.get("componentRecords").and_then(Value::as_array) {
            for (i, c) in components.iter().enumerate() {
                let Some(c) = c.as_str() else { continue };
                let ok = self.records.get(c).is_some_and(|r| r.is_component);
                if ok {
                    self.unlisted_components.remove(c);
                    self.listed_components.insert(Arc::from(c));
                } else {
                    findings.push(Finding::new(
                        Rule::ComponentRecordInvalid,
                        format!(
                            "component record {c} is not an earlier record with isComponent true"
                        ),
                        place,
                        id,
                        format!("{root}.recordDetails.componentRecords[{i}]"),
                    ));
                }
            }
        }
    }

    /// The end of the data: references never resolved, components never listed.
    pub fn finish(self) -> Vec<Finding> {
        let mut findings = Vec::new();
        for (target, waiting) in self.pending {
            for p in waiting {
                let (rule, message) = if p.role == Role::DeclarationSubject {
                    (
                        Rule::DeclarationSubjectNotFound,
                        format!("declarationSubject {target} is no record in the data"),
                    )
                } else {
                    (
                        Rule::ReferenceNotFound,
                        format!("{} {target} is no record in the data", p.role.field()),
                    )
                };
                findings.push(Finding::new(
                    rule,
                    message,
                    &p.place,
                    p.statement_id.as_deref(),
                    p.path,
                ));
            }
        }
        for (record, (place, id, path)) in self.unlisted_components {
            findings.push(Finding::new(
                Rule::ComponentNotListed,
                format!("record {record} is a component, but no later relationship lists it in componentRecords"),
                &place,
                id.as_deref(),
                path,
            ));
        }
        findings.sort_by_key(|f| f.place.index);
        findings
    }
}

/// The finding for a file that is not laid out as BODS allows (see
/// [`crate::read::Shape::Other`]): the schema's top-level `type: array`.
pub fn shape_finding(shape: crate::read::Shape, source: &str) -> Option<Finding> {
    (shape == crate::read::Shape::Other).then(|| Finding {
        rule: Rule::Schema(Cow::Borrowed("type")),
        severity: Severity::Error,
        message:
            "a BODS file is a JSON array of statements, or JSON Lines with one statement a line; \
                  its statements were read one by one anyway"
                .into(),
        place: Place {
            source: Arc::from(source),
            line: 1,
            index: 0,
        },
        statement_id: None,
        path: "$".into(),
    })
}

/// Validate statements held in memory: the schema and single-statement rules
/// in parallel, then the cross-statement rules in order. Findings are sorted
/// by statement index.
pub fn validate_all(validator: &Validator, statements: &[Value]) -> Vec<Finding> {
    let mut findings: Vec<Finding> = statements
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, s)| validator.statement(s, &Place::in_memory(i as u64)))
        .collect();
    let mut tracker = Tracker::new();
    for (i, s) in statements.iter().enumerate() {
        findings.extend(tracker.feed(s, &Place::in_memory(i as u64)));
    }
    findings.extend(tracker.finish());
    findings.sort_by_key(|f| f.place.index);
    findings
}

/// Validate items from [`crate::read::read`] (or the upgrader): read errors
/// become findings, statements are checked in parallel in batches, and the
/// cross-statement rules run in order. `sink` receives findings batch by batch.
pub fn validate_stream(
    validator: &Validator,
    items: impl Iterator<Item = crate::read::Item>,
    mut sink: impl FnMut(Vec<Finding>),
) {
    const BATCH: usize = 4096;
    let mut tracker = Tracker::new();
    let mut batch: Vec<(Place, Value)> = Vec::with_capacity(BATCH);
    let flush = |batch: &mut Vec<(Place, Value)>,
                 tracker: &mut Tracker,
                 sink: &mut dyn FnMut(Vec<Finding>)| {
        let mut findings: Vec<Finding> = batch
            .par_iter()
            .flat_map_iter(|(place, value)| validator.statement(value, place))
            .collect();
        for (place, value) in batch.iter() {
            findings.extend(tracker.feed(value, place));
        }
        findings.sort_by_key(|f| f.place.index);
        batch.clear();
        sink(findings);
    };
    for item in items {
        match item.statement {
            Ok(value) => batch.push((item.place, value)),
            Err(e) => {
                let path = root_path(&item.place);
                let finding =
                    Finding::new(Rule::Read(e.code()), e.to_string(), &item.place, None, path);
                sink(vec![finding]);
            }
        }
        if batch.len() >= BATCH {
            flush(&mut batch, &mut tracker, &mut sink);
        }
    }
    flush(&mut batch, &mut tracker, &mut sink);
    sink(tracker.finish());
}

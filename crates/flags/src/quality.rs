//! Data quality per publisher: how often the fields readers rely on are
//! filled in, how many values are placeholders, how many dates contradict each
//! other or are not RFC 3339, and a 0–100 score that sums them up.
//!
//! Like the indicators, it runs as fold → reduce → finalize: [`Quality::fold`]
//! sees one compiled release (on any thread), [`Quality::merge`] combines two
//! partial states, [`Quality::report`] turns the state into a [`Report`]. The
//! caller groups by publisher (e.g. with [`ocid_prefix`] and [`ByPublisher`]);
//! one `Quality` is one publisher.
//!
//! The score is a guide to where the data needs work, not a verdict on the
//! publisher: `docs/indicators/quality.md` says how to read it.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, ToSpan};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::process::{array_at, object_at};

/// How many ocids each count keeps as examples: enough to go and look, few
/// enough that a snapshot per publisher per data version stays small.
pub const EXAMPLES: usize = 3;

/// Points each part of the score is worth. Coverage weighs most because a
/// missing field blocks every use of it; placeholders and bad dates mislead
/// only the analyses that touch them.
pub const COVERAGE_POINTS: f64 = 60.0;
pub const PLACEHOLDER_POINTS: f64 = 20.0;
pub const DATE_POINTS: f64 = 20.0;
/// The most the store's findings can take off, each.
pub const SCHEMA_PENALTY: f64 = 10.0;
pub const QUARANTINE_PENALTY: f64 = 10.0;

/// One key field whose coverage is measured.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// Stable name, kept across versions so snapshots can be compared.
    pub key: &'static str,
    /// Where it is in a compiled release. Through an array, the field counts
    /// as present when at least one element has it.
    pub path: &'static str,
    pub label: &'static str,
    /// Why readers need it, in one sentence.
    pub why: &'static str,
    check: Check,
}

#[derive(Clone, Copy, Debug)]
enum Check {
    /// The value at `path` is not empty.
    Path,
    /// An award supplier resolved to its party, which has an identifier
    /// scheme and id: the reference alone carries no registered identifier.
    SupplierIdentifier,
}

const fn field(
    key: &'static str,
    path: &'static str,
    label: &'static str,
    why: &'static str,
) -> Field {
    Field {
        key,
        path,
        label,
        why,
        check: Check::Path,
    }
}

/// The key fields, in display order.
pub const FIELDS: &[Field] = &[
    field(
        "ocid",
        "/ocid",
        "Process identifier",
        "Ties every release, document and flag to one contracting process.",
    ),
    field(
        "buyer.id",
        "/buyer/id",
        "Buyer identifier",
        "Lets spending be added up per agency across processes.",
    ),
    field(
        "buyer.name",
        "/buyer/name",
        "Buyer name",
        "Tells readers which agency is spending the money.",
    ),
    field(
        "tender.title",
        "/tender/title",
        "Tender title",
        "Says in a few words what is being bought, so processes can be found.",
    ),
    field(
        "tender.description",
        "/tender/description",
        "Tender description",
        "Explains the purchase well enough to judge its need and price.",
    ),
    field(
        "tender.status",
        "/tender/status",
        "Tender status",
        "Shows whether the tender is planned, open, finished or cancelled.",
    ),
    field(
        "tender.procurementMethod",
        "/tender/procurementMethod",
        "Procurement method",
        "Shows whether the process was open to all, the first question on competition.",
    ),
    field(
        "tender.mainProcurementCategory",
        "/tender/mainProcurementCategory",
        "Main category (goods, works, services)",
        "Lets processes be compared with others of the same kind.",
    ),
    field(
        "tender.value",
        "/tender/value/amount",
        "Tender value",
        "The estimate that awards and contracts are measured against.",
    ),
    field(
        "tender.tenderPeriod.startDate",
        "/tender/tenderPeriod/startDate",
        "Tender period start",
        "Needed to see how long firms had to bid.",
    ),
    field(
        "tender.tenderPeriod.endDate",
        "/tender/tenderPeriod/endDate",
        "Tender period end",
        "Needed to see how long firms had to bid and whether bids came late.",
    ),
    field(
        "tender.items.classification",
        "/tender/items/classification/id",
        "Item classification",
        "Lets purchases of the same thing be found and their prices compared.",
    ),
    field(
        "awards.suppliers",
        "/awards/suppliers",
        "Award suppliers",
        "Says who won the money.",
    ),
    Field {
        key: "suppliers.identifier",
        path: "/awards/suppliers → /parties/identifier/scheme+id",
        label: "Supplier registered identifier",
        why: "Lets a supplier be followed across buyers and matched with company registers.",
        check: Check::SupplierIdentifier,
    },
    field(
        "awards.value",
        "/awards/value/amount",
        "Award value",
        "The amount the buyer agreed to pay the winner.",
    ),
    field(
        "awards.date",
        "/awards/date",
        "Award date",
        "Puts the decision in time, against the tender and the contract.",
    ),
    field(
        "contracts",
        "/contracts",
        "Contracts",
        "Shows that the award led to a signed commitment.",
    ),
    field(
        "contracts.dateSigned",
        "/contracts/dateSigned",
        "Contract signature date",
        "Shows when the commitment became binding.",
    ),
    field(
        "contracts.value",
        "/contracts/value/amount",
        "Contract value",
        "The amount committed, to compare with the award and the estimate.",
    ),
    field(
        "contracts.period",
        "/contracts/period",
        "Contract period",
        "Shows how long the work runs, needed to judge price and delays.",
    ),
    field(
        "tender.documents",
        "/tender/documents",
        "Tender documents",
        "Lets readers check the terms firms bid against.",
    ),
    field(
        "tender.numberOfTenderers",
        "/tender/numberOfTenderers",
        "Number of tenderers",
        "The simplest measure of competition.",
    ),
    field(
        "bids",
        "/bids/details",
        "Bids",
        "Shows who bid and at what price, needed for most red flags.",
    ),
];

macro_rules! kinds {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $key:literal, $label:literal;)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $($variant),* }

        impl $name {
            /// Every kind, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            const COUNT: usize = [$($key),*].len();

            /// Stable name, kept across versions so snapshots can be compared.
            pub fn key(self) -> &'static str {
                match self { $($name::$variant => $key),* }
            }

            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),* }
            }
        }
    };
}

kinds! {
    /// A value that stands in for a missing one.
    Placeholder {
        TenderValueZero = "tender.value.zero", "Tender value amount of 0";
        BidValueZero = "bids.value.zero", "Bid value amount of 0";
        AwardValueZero = "awards.value.zero", "Award value amount of 0";
        ContractValueZero = "contracts.value.zero", "Contract value amount of 0";
        OrganisationId = "organisation.id",
            "Organisation id that is a placeholder (0, N/A, -, null…)";
        IdentifierId = "organisation.identifier",
            "Registered identifier that is a placeholder (0, N/A, -…)";
        OrganisationName = "organisation.name",
            "Organisation name that is blank or a placeholder (N/A…)";
        PlaceholderDate = "date.placeholder",
            "Date on a default day (0001-01-01, 1899-12-30, 1900-01-01, 1970-01-01)";
    }
}

kinds! {
    /// A date that contradicts another or cannot be read as a point in time.
    DateIssue {
        TenderPeriodReversed = "tender.period.reversed", "Tender period ends before it starts";
        AwardBeforeTender = "award.before.tender", "Award dated before the tender period starts";
        ContractBeforeAward = "contract.before.award", "Contract signed before its award's date";
        Future = "date.future", "Event dated more than a year after the release";
        NoTimeZone = "date.no_time_zone", "Date without time zone";
        NoTime = "date.no_time", "Date without time";
        Invalid = "date.invalid", "Not an RFC 3339 date-time";
    }
}

kinds! {
    /// An element of a list (a bid, an award…) without a field it needs.
    /// Coverage says whether a process has a field at all; this counts the
    /// elements that lack it.
    Missing {
        BidStatus = "bids.status", "Bid without status";
        BidValue = "bids.value", "Bid without value amount";
        BidTenderers = "bids.tenderers", "Bid without tenderers";
        AwardStatus = "awards.status", "Award without status";
        AwardSuppliers = "awards.suppliers", "Award without suppliers";
        ContractAwardId = "contracts.awardID", "Contract without awardID";
        ItemClassification = "tender.items.classification", "Tender item without classification";
        PartyIdentifier = "parties.identifier", "Party without identifier scheme and id";
    }
}

/// Occurrences of one kind, and which processes they are in.
#[derive(Clone, Debug, Default)]
struct Tally {
    occurrences: u64,
    processes: u64,
    /// The smallest ocids, so the examples do not depend on the order of
    /// folds and merges.
    examples: BTreeSet<String>,
}

impl Tally {
    fn add(&mut self, occurrences: u64, ocid: Option<&str>) {
        if occurrences == 0 {
            return;
        }
        self.occurrences += occurrences;
        self.processes += 1;
        if let Some(ocid) = ocid {
            let full = self.examples.len() >= EXAMPLES;
            if !full
                || self
                    .examples
                    .last()
                    .is_some_and(|last| ocid < last.as_str())
            {
                self.examples.insert(ocid.to_string());
                if self.examples.len() > EXAMPLES {
                    self.examples.pop_last();
                }
            }
        }
    }

    fn merge(&mut self, other: Tally) {
        self.occurrences += other.occurrences;
        self.processes += other.processes;
        self.examples.extend(other.examples);
        while self.examples.len() > EXAMPLES {
            self.examples.pop_last();
        }
    }

    fn count(&self, key: &str, label: &str) -> Count {
        Count {
            key: key.to_string(),
            label: label.to_string(),
            occurrences: self.occurrences,
            processes: self.processes,
            examples: self.examples.iter().cloned().collect(),
        }
    }
}

/// The data-quality state of one publisher. See the module documentation.
#[derive(Clone, Debug)]
pub struct Quality {
    processes: u64,
    present: [u64; FIELDS.len()],
    placeholders: [Tally; Placeholder::COUNT],
    date_issues: [Tally; DateIssue::COUNT],
    missing: [Tally; Missing::COUNT],
    with_placeholders: u64,
    with_date_issues: u64,
    filled: u64,
    filled_without_placeholders: u64,
    filled_without_date_issues: u64,
}

impl Default for Quality {
    fn default() -> Quality {
        Quality {
            processes: 0,
            present: [0; FIELDS.len()],
            placeholders: std::array::from_fn(|_| Tally::default()),
            date_issues: std::array::from_fn(|_| Tally::default()),
            missing: std::array::from_fn(|_| Tally::default()),
            with_placeholders: 0,
            with_date_issues: 0,
            filled: 0,
            filled_without_placeholders: 0,
            filled_without_date_issues: 0,
        }
    }
}

/// What one process contributes, before it is added to the state.
struct Seen {
    placeholders: [u64; Placeholder::COUNT],
    date_issues: [u64; DateIssue::COUNT],
    missing: [u64; Missing::COUNT],
}

impl Seen {
    fn new() -> Seen {
        Seen {
            placeholders: [0; Placeholder::COUNT],
            date_issues: [0; DateIssue::COUNT],
            missing: [0; Missing::COUNT],
        }
    }
}

impl Quality {
    /// Processes folded so far.
    pub fn processes(&self) -> u64 {
        self.processes
    }

    /// Looks at one compiled release (one contracting process).
    pub fn fold(&mut self, compiled: &Value) {
        self.processes += 1;
        let mut filled = 0;
        for (n, f) in self.present.iter_mut().zip(FIELDS) {
            if has_field(compiled, f) {
                *n += 1;
                filled += 1;
            }
        }
        self.filled += filled;
        // Anything else is not a release: every field absent is all it can say.
        let Some(release) = compiled.as_object() else {
            return;
        };
        let ocid = release.get("ocid").and_then(Value::as_str);
        let mut seen = Seen::new();
        placeholders(release, &mut seen);
        dates(release, &mut seen);
        missing(release, &mut seen);
        for (tally, n) in self.placeholders.iter_mut().zip(seen.placeholders) {
            tally.add(n, ocid);
        }
        for (tally, n) in self.date_issues.iter_mut().zip(seen.date_issues) {
            tally.add(n, ocid);
        }
        for (tally, n) in self.missing.iter_mut().zip(seen.missing) {
            tally.add(n, ocid);
        }
        let has_placeholder = seen.placeholders.iter().any(|n| *n > 0);
        let has_date_issue = seen.date_issues.iter().any(|n| *n > 0);
        self.with_placeholders += u64::from(has_placeholder);
        self.with_date_issues += u64::from(has_date_issue);
        if !has_placeholder {
            self.filled_without_placeholders += filled;
        }
        if !has_date_issue {
            self.filled_without_date_issues += filled;
        }
    }

    /// Adds another partial state (the reduce step).
    pub fn merge(&mut self, other: Quality) {
        self.processes += other.processes;
        for (a, b) in self.present.iter_mut().zip(other.present) {
            *a += b;
        }
        for (a, b) in self.placeholders.iter_mut().zip(other.placeholders) {
            a.merge(b);
        }
        for (a, b) in self.date_issues.iter_mut().zip(other.date_issues) {
            a.merge(b);
        }
        for (a, b) in self.missing.iter_mut().zip(other.missing) {
            a.merge(b);
        }
        self.with_placeholders += other.with_placeholders;
        self.with_date_issues += other.with_date_issues;
        self.filled += other.filled;
        self.filled_without_placeholders += other.filled_without_placeholders;
        self.filled_without_date_issues += other.filled_without_date_issues;
    }

    /// Folds releases already in memory, on every core.
    pub fn run(releases: &[Value]) -> Quality {
        releases
            .par_iter()
            .fold(Quality::default, |mut q, release| {
                q.fold(release);
                q
            })
            .reduce(Quality::default, |mut a, b| {
                a.merge(b);
                a
            })
    }

    /// The report (the finalize step), without the store's findings; add them
    /// with [`Report::with_store`].
    pub fn report(&self) -> Report {
        let processes = self.processes;
        let coverage = FIELDS
            .iter()
            .zip(self.present)
            .map(|(f, present)| Coverage {
                key: f.key.to_string(),
                path: f.path.to_string(),
                label: f.label.to_string(),
                why: f.why.to_string(),
                present,
                share: round(share(present, processes), 4),
            })
            .collect();
        let mut report = Report {
            processes,
            coverage,
            placeholders: Placeholder::ALL
                .iter()
                .zip(&self.placeholders)
                .map(|(k, t)| t.count(k.key(), k.label()))
                .collect(),
            date_issues: DateIssue::ALL
                .iter()
                .zip(&self.date_issues)
                .map(|(k, t)| t.count(k.key(), k.label()))
                .collect(),
            missing: Missing::ALL
                .iter()
                .zip(&self.missing)
                .map(|(k, t)| t.count(k.key(), k.label()))
                .collect(),
            processes_with_placeholders: self.with_placeholders,
            processes_with_date_issues: self.with_date_issues,
            fields_filled: self.filled,
            fields_filled_without_placeholders: self.filled_without_placeholders,
            fields_filled_without_date_issues: self.filled_without_date_issues,
            mean_coverage: round(share(self.filled, slots(FIELDS.len(), processes)), 4),
            schema_errors: BTreeMap::new(),
            processes_with_schema_errors: 0,
            quarantined: 0,
            points: Points::default(),
            score: 0.0,
            grade: None,
            explanation: String::new(),
        };
        report.rescore();
        report
    }
}

/// Per publisher, one [`Quality`].
#[derive(Clone, Debug, Default)]
pub struct ByPublisher {
    pub publishers: BTreeMap<String, Quality>,
}

impl ByPublisher {
    pub fn fold(&mut self, publisher: &str, compiled: &Value) {
        if let Some(q) = self.publishers.get_mut(publisher) {
            q.fold(compiled);
        } else {
            let mut q = Quality::default();
            q.fold(compiled);
            self.publishers.insert(publisher.to_string(), q);
        }
    }

    pub fn merge(&mut self, other: ByPublisher) {
        for (publisher, q) in other.publishers {
            self.publishers.entry(publisher).or_default().merge(q);
        }
    }

    pub fn reports(&self) -> BTreeMap<String, Report> {
        self.publishers
            .iter()
            .map(|(p, q)| (p.clone(), q.report()))
            .collect()
    }
}

/// The registered ocid prefix (`ocds-` and six lowercase letters or digits),
/// which names the publisher: `ocds-6550wx` for the Dominican Republic.
pub fn ocid_prefix(ocid: &str) -> Option<&str> {
    let prefix = ocid.get(..11)?;
    let code = prefix.strip_prefix("ocds-")?;
    code.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        .then_some(prefix)
}

/// The share of processes with one key field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// Stable name, e.g. `tender.title`.
    pub key: String,
    /// Where it is in a compiled release, e.g. `/tender/title`.
    pub path: String,
    pub label: String,
    /// Why readers need it.
    pub why: String,
    /// Processes where it is present and not empty.
    pub present: u64,
    /// `present / processes`, 0–1, to 4 decimals.
    pub share: f64,
}

/// How often one kind of problem occurs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Count {
    /// Stable name, e.g. `bids.value.zero`.
    pub key: String,
    pub label: String,
    /// Values (or elements, or pairs of dates) with the problem.
    pub occurrences: u64,
    /// Processes with at least one.
    pub processes: u64,
    /// Up to [`EXAMPLES`] ocids with the problem, the smallest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
}

/// The score, part by part, in points. A slot is one key field of one
/// process: `slots = key fields × processes`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Points {
    /// `60 × fields_filled / slots`.
    pub coverage: f64,
    /// `20 × fields_filled_without_placeholders / slots`.
    pub placeholders: f64,
    /// `20 × fields_filled_without_date_issues / slots`.
    pub dates: f64,
    /// Taken off: `10 × processes_with_schema_errors / processes`.
    pub schema_penalty: f64,
    /// Taken off: `10 × quarantined / (processes + quarantined)`.
    pub quarantine_penalty: f64,
}

/// A letter for the score: A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, E below.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Grade {
    A,
    B,
    C,
    D,
    E,
}

impl Grade {
    pub fn of(score: f64) -> Grade {
        match score {
            s if s >= 90.0 => Grade::A,
            s if s >= 75.0 => Grade::B,
            s if s >= 60.0 => Grade::C,
            s if s >= 40.0 => Grade::D,
            _ => Grade::E,
        }
    }
}

/// The data quality of one publisher. Saved per publisher per data version,
/// so every field is plain data and kinds are listed even when zero.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Compiled releases (contracting processes) read.
    pub processes: u64,
    /// One entry per key field, in [`FIELDS`] order.
    pub coverage: Vec<Coverage>,
    /// One entry per [`Placeholder`] kind.
    pub placeholders: Vec<Count>,
    /// One entry per [`DateIssue`] kind.
    pub date_issues: Vec<Count>,
    /// One entry per [`Missing`] kind. Not part of the score: coverage
    /// already counts the processes without a field.
    pub missing: Vec<Count>,
    /// Processes with at least one placeholder value.
    pub processes_with_placeholders: u64,
    /// Processes with at least one date issue.
    pub processes_with_date_issues: u64,
    /// Key fields filled, summed over processes (the sum of `present`).
    pub fields_filled: u64,
    /// Of those, the ones in processes without placeholder values.
    pub fields_filled_without_placeholders: u64,
    /// Of those, the ones in processes without date issues.
    pub fields_filled_without_date_issues: u64,
    /// The mean of the coverage shares, 0–1, to 4 decimals.
    pub mean_coverage: f64,
    /// Filled by the caller from schema validation: rule → errors. Shown,
    /// not scored; the score uses `processes_with_schema_errors`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub schema_errors: BTreeMap<String, u64>,
    /// Filled by the caller: processes with at least one schema error.
    /// 0 (not filled, or none found) takes nothing off the score.
    #[serde(default)]
    pub processes_with_schema_errors: u64,
    /// Filled by the caller: releases the store put aside and never folded.
    /// 0 takes nothing off the score.
    #[serde(default)]
    pub quarantined: u64,
    pub points: Points,
    /// 0–100, to 2 decimals: coverage + placeholders + dates − penalties.
    pub score: f64,
    /// `None` when there were no processes to judge.
    pub grade: Option<Grade>,
    /// The score in words, naming what pulled it down.
    pub explanation: String,
}

impl Report {
    /// Adds what the store found before folding (schema errors, quarantined
    /// releases) and scores again.
    pub fn with_store(
        mut self,
        schema_errors: BTreeMap<String, u64>,
        processes_with_schema_errors: u64,
        quarantined: u64,
    ) -> Report {
        self.schema_errors = schema_errors;
        self.processes_with_schema_errors = processes_with_schema_errors;
        self.quarantined = quarantined;
        self.rescore();
        self
    }

    /// Recomputes `points`, `score`, `grade` and `explanation` from the other
    /// fields, for a caller that set the store's fields directly.
    pub fn rescore(&mut self) {
        let n = self.processes;
        if n == 0 {
            self.points = Points::default();
            self.score = 0.0;
            self.grade = None;
            self.explanation = "No processes were read, so there is nothing to score.".into();
            return;
        }
        // Clean data earns its points only where there is data: a filled
        // field is worth 0.6, and 0.2 more for each problem its process
        // does not have, so an empty process cannot look clean.
        let slots = slots(self.coverage.len(), n);
        let coverage = COVERAGE_POINTS * share(self.fields_filled, slots);
        let placeholders =
            PLACEHOLDER_POINTS * share(self.fields_filled_without_placeholders, slots);
        let dates = DATE_POINTS * share(self.fields_filled_without_date_issues, slots);
        let schema = SCHEMA_PENALTY * share(self.processes_with_schema_errors.min(n), n);
        let quarantine =
            QUARANTINE_PENALTY * share(self.quarantined, n.saturating_add(self.quarantined));
        let score = (coverage + placeholders + dates - schema - quarantine).clamp(0.0, 100.0);
        self.points = Points {
            coverage: round(coverage, 2),
            placeholders: round(placeholders, 2),
            dates: round(dates, 2),
            schema_penalty: round(schema, 2),
            quarantine_penalty: round(quarantine, 2),
        };
        self.score = round(score, 2);
        let grade = Grade::of(self.score);
        self.grade = Some(grade);
        self.explanation = self.explain(grade);
    }

    fn explain(&self, grade: Grade) -> String {
        let n = self.processes;
        let mut text = format!(
            "Score {} of 100 (grade {grade:?}) over {n} processes. \
             On average a key field is filled in {} of processes",
            num(self.score),
            pct(self.mean_coverage),
        );
        let mut weakest: Vec<&Coverage> = self.coverage.iter().filter(|c| c.share < 1.0).collect();
        weakest.sort_by(|a, b| a.share.total_cmp(&b.share));
        if weakest.is_empty() {
            text.push_str("; every key field is always filled.");
        } else {
            let names: Vec<String> = weakest
                .iter()
                .take(3)
                .map(|c| format!("{} {}", lower_first(&c.label), pct(c.share)))
                .collect();
            text.push_str(&format!("; least filled: {}.", names.join(", ")));
        }
        text.push_str(&format!(
            " {} of processes have a placeholder value{}, {} a date issue{}.",
            pct(share(self.processes_with_placeholders, n)),
            most_common(&self.placeholders),
            pct(share(self.processes_with_date_issues, n)),
            most_common(&self.date_issues),
        ));
        if self.processes_with_schema_errors > 0 {
            text.push_str(&format!(
                " {} of processes have schema errors.",
                pct(share(self.processes_with_schema_errors.min(n), n))
            ));
        }
        if self.quarantined > 0 {
            text.push_str(&format!(" {} releases were quarantined.", self.quarantined));
        }
        text.push_str(" A guide to where the data needs work, not a verdict on the publisher.");
        text
    }
}

/// " (mostly: label)" for the kind in the most processes, or nothing.
fn most_common(counts: &[Count]) -> String {
    let mut top: Option<&Count> = None;
    for c in counts.iter().filter(|c| c.processes > 0) {
        if top.is_none_or(|t| c.processes > t.processes) {
            top = Some(c);
        }
    }
    top.map(|c| format!(" (mostly: {})", lower_first(&c.label)))
        .unwrap_or_default()
}

/// A label inside a sentence: "Bid without status" → "bid without status",
/// but "RFC 3339" stays as it is.
fn lower_first(label: &str) -> String {
    let mut chars = label.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if !second.is_uppercase() => first
            .to_lowercase()
            .chain(label[first.len_utf8()..].chars())
            .collect(),
        _ => label.to_string(),
    }
}

fn slots(fields: usize, processes: u64) -> u64 {
    (fields as u64).saturating_mul(processes)
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn round(v: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (v * scale).round() / scale
}

fn num(v: f64) -> String {
    crate::indicators::num(v)
}

fn pct(share: f64) -> String {
    format!("{}%", num(round(share * 100.0, 1)))
}

// ---- coverage ----

/// Not null, not a blank string, not an array or object of only empty values:
/// `[{}]` or `{"amount": null}` say nothing more than an absent field.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.iter().all(is_empty),
        Value::Object(o) => o.values().all(is_empty),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// Whether `path` (keys separated by `/`) leads to a non-empty value; an
/// array on the way counts when any element does.
fn present(v: &Value, path: &str) -> bool {
    if let Value::Array(items) = v {
        return items.iter().any(|item| present(item, path));
    }
    if path.is_empty() {
        return !is_empty(v);
    }
    let (key, rest) = path.split_once('/').unwrap_or((path, ""));
    v.get(key).is_some_and(|next| present(next, rest))
}

fn has_field(release: &Value, field: &Field) -> bool {
    match field.check {
        Check::Path => {
            let path = field.path.strip_prefix('/').unwrap_or(field.path);
            release.is_object() && present(release, path)
        }
        Check::SupplierIdentifier => release.as_object().is_some_and(supplier_identified),
    }
}

/// An id as text: ids may be strings or numbers, and `438` and `"438"` name
/// the same organisation, as in the OCDS merge.
fn id_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn supplier_identified(release: &Map<String, Value>) -> bool {
    let mut parties: BTreeMap<String, &Map<String, Value>> = BTreeMap::new();
    for party in array_at(release, "parties")
        .iter()
        .filter_map(Value::as_object)
    {
        if let Some(id) = id_text(party.get("id")) {
            // The first party with an id is the one a reader would find.
            parties.entry(id).or_insert(party);
        }
    }
    array_at(release, "awards")
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|a| array_at(a, "suppliers"))
        .filter_map(|s| id_text(s.get("id")))
        .filter_map(|id| parties.get(&id))
        .filter_map(|p| object_at(p, "identifier"))
        .any(|i| {
            i.get("scheme").is_some_and(|v| !is_empty(v))
                && i.get("id").is_some_and(|v| !is_empty(v))
        })
}

// ---- placeholders ----

/// Words publishers put where they have no value.
const PLACEHOLDER_WORDS: &[&str] = &[
    "n/a",
    "na",
    "n.a.",
    "none",
    "null",
    "nil",
    "undefined",
    "placeholder",
    "unknown",
];

/// Days systems fill in when a date is missing: .NET's minimum, Excel's and
/// SQL Server's zero, the Unix epoch.
const PLACEHOLDER_DAYS: &[&str] = &["0001-01-01", "1899-12-30", "1900-01-01", "1970-01-01"];

/// A blank string, a placeholder word, only zeros (`0`, `0000000`), only
/// punctuation (`-`, `...`), or the number 0.
fn is_placeholder(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => {
            let t = s.trim().to_lowercase();
            t.is_empty()
                || PLACEHOLDER_WORDS.contains(&t.as_str())
                || t.bytes().all(|b| b == b'0')
                || t.bytes().all(|b| b"-._*?".contains(&b))
        }
        _ => false,
    }
}

fn non_null<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.get(key).filter(|v| !v.is_null())
}

fn objects(values: &[Value]) -> impl Iterator<Item = &Map<String, Value>> {
    values.iter().filter_map(Value::as_object)
}

fn bid_details(release: &Map<String, Value>) -> &[Value] {
    object_at(release, "bids")
        .map(|b| array_at(b, "details"))
        .unwrap_or(&[])
}

fn placeholders(release: &Map<String, Value>, seen: &mut Seen) {
    let tender = object_at(release, "tender");
    let mut zero = |holder: &Map<String, Value>, kind: Placeholder| {
        let amount = object_at(holder, "value")
            .and_then(|v| v.get("amount"))
            .and_then(Value::as_f64);
        if amount == Some(0.0) {
            seen.placeholders[kind as usize] += 1;
        }
    };
    if let Some(tender) = tender {
        zero(tender, Placeholder::TenderValueZero);
    }
    for bid in objects(bid_details(release)) {
        zero(bid, Placeholder::BidValueZero);
    }
    for award in objects(array_at(release, "awards")) {
        zero(award, Placeholder::AwardValueZero);
    }
    for contract in objects(array_at(release, "contracts")) {
        zero(contract, Placeholder::ContractValueZero);
    }

    // Every place an organisation is named: its party and each reference.
    let mut organisations: Vec<&Map<String, Value>> = Vec::new();
    organisations.extend(object_at(release, "buyer"));
    if let Some(tender) = tender {
        organisations.extend(object_at(tender, "procuringEntity"));
        organisations.extend(objects(array_at(tender, "tenderers")));
    }
    for award in objects(array_at(release, "awards")) {
        organisations.extend(objects(array_at(award, "suppliers")));
    }
    for bid in objects(bid_details(release)) {
        organisations.extend(objects(array_at(bid, "tenderers")));
    }
    let parties: Vec<&Map<String, Value>> = objects(array_at(release, "parties")).collect();
    organisations.extend(&parties);
    for org in organisations {
        for (key, kind) in [
            ("id", Placeholder::OrganisationId),
            ("name", Placeholder::OrganisationName),
        ] {
            if non_null(org, key).is_some_and(is_placeholder) {
                seen.placeholders[kind as usize] += 1;
            }
        }
    }
    for party in parties {
        let id = object_at(party, "identifier").and_then(|i| non_null(i, "id"));
        if id.is_some_and(is_placeholder) {
            seen.placeholders[Placeholder::IdentifierId as usize] += 1;
        }
    }
}

// ---- dates ----

/// A point in time read from a date field. A date without a time is
/// midnight UTC and compared by day only, since its time is unknown.
#[derive(Clone, Copy, Debug)]
struct Moment {
    at: Timestamp,
    date_only: bool,
}

impl Moment {
    fn before(self, other: Moment) -> bool {
        if self.date_only || other.date_only {
            day(self.at) < day(other.at)
        } else {
            self.at < other.at
        }
    }
}

fn day(t: Timestamp) -> i64 {
    t.as_second().div_euclid(86_400)
}

/// How a date field's value reads.
#[derive(Clone, Copy, Debug)]
enum Form {
    Rfc3339(Moment),
    /// A date and time with no offset: compared as if UTC, which is what a
    /// comparison with `Z` dates has to assume.
    NoTimeZone(Moment),
    NoTime(Moment),
    Invalid,
}

impl Form {
    fn moment(self) -> Option<Moment> {
        match self {
            Form::Rfc3339(m) | Form::NoTimeZone(m) | Form::NoTime(m) => Some(m),
            Form::Invalid => None,
        }
    }
}

/// Fields OCDS holds dates in: `date`, `dateSigned`, `datePublished`,
/// `startDate`, `endDate`, `maxExtentDate`…
fn is_date_key(key: &str) -> bool {
    key.starts_with("date") || key.ends_with("Date")
}

/// Dates of things that have happened by the time they are published, unlike
/// period ends and plans, which may lie years ahead.
fn is_event_key(key: &str) -> bool {
    matches!(
        key,
        "date" | "dateSigned" | "datePublished" | "dateModified"
    )
}

fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn date_part(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&s[..4])?, digits(&s[5..7])?, digits(&s[8..10])?);
    // Year 0 is valid in jiff but not in RFC 3339 or the validators.
    if y == 0 {
        return None;
    }
    Date::new(y as i16, m as i8, d as i8).ok()
}

/// `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fraction` (at most nanoseconds), and
/// whether the seconds were there.
fn time_part(s: &str) -> Option<(Time, bool)> {
    let (hm, sec) = match s.len() {
        5 => (s, None),
        n if n >= 8 && s.as_bytes()[5] == b':' => (&s[..5], Some(&s[6..])),
        _ => return None,
    };
    if hm.as_bytes()[2] != b':' {
        return None;
    }
    let (h, m) = (digits(hm.get(..2)?)?, digits(hm.get(3..)?)?);
    let (sec, nanos) = match sec {
        None => (0, 0),
        Some(sec) => {
            let (whole, fraction) = sec.split_once('.').unwrap_or((sec, ""));
            if whole.len() != 2 || (sec.contains('.') && fraction.is_empty()) {
                return None;
            }
            if !fraction.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Finer than nanoseconds cannot be represented; nothing compared
            // here depends on it.
            let kept = fraction.get(..9).unwrap_or(fraction);
            let nanos = if kept.is_empty() {
                0
            } else {
                digits(kept)? * 10i64.pow(9 - kept.len() as u32)
            };
            (digits(whole)?, nanos)
        }
    };
    let time = Time::new(h as i8, m as i8, sec as i8, nanos as i32).ok()?;
    Some((time, s.len() >= 8))
}

/// `Z` or `±HH:MM`, in seconds east of UTC.
fn offset_part(s: &str) -> Option<i32> {
    if s.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    let b = s.as_bytes();
    if b.len() != 6 || b[3] != b':' {
        return None;
    }
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = (digits(&s[1..3])?, digits(&s[4..6])?);
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60) as i32)
}

/// Where the time ends and the offset begins.
fn split_offset(s: &str) -> (&str, Option<&str>) {
    if let Some(time) = s.strip_suffix(['Z', 'z']) {
        return (time, Some(&s[time.len()..]));
    }
    match s.rfind(['+', '-']) {
        Some(i) => (&s[..i], Some(&s[i..])),
        None => (s, None),
    }
}

/// Reads a date field's value. RFC 3339 here is the Data Review Tool's
/// pattern (a `T` and seconds required, `T` and `Z` in either case, one
/// trailing newline tolerated), so these counts agree with schema validation.
fn read_date(v: &Value) -> Form {
    let Some(text) = v.as_str() else {
        return Form::Invalid;
    };
    let s = text.strip_suffix('\n').unwrap_or(text);
    if let Some(date) = date_part(text) {
        return moment_of(DateTime::from_parts(date, Time::midnight()), 0, true)
            .map_or(Form::Invalid, Form::NoTime);
    }
    let (Some(date), Some(&sep), Some(rest)) = (
        s.get(..10).and_then(date_part),
        s.as_bytes().get(10),
        s.get(11..),
    ) else {
        return Form::Invalid;
    };
    let (time, offset) = split_offset(rest);
    let Some((time, seconds)) = time_part(time) else {
        return Form::Invalid;
    };
    let civil = DateTime::from_parts(date, time);
    match offset {
        None if s.len() == text.len() && matches!(sep, b'T' | b't' | b' ') => {
            moment_of(civil, 0, false).map_or(Form::Invalid, Form::NoTimeZone)
        }
        Some(offset) if matches!(sep, b'T' | b't') && seconds => offset_part(offset)
            .and_then(|secs| moment_of(civil, secs, false))
            .map_or(Form::Invalid, Form::Rfc3339),
        _ => Form::Invalid,
    }
}

fn moment_of(civil: DateTime, offset_seconds: i32, date_only: bool) -> Option<Moment> {
    let offset = Offset::from_seconds(offset_seconds).ok()?;
    let at = offset.to_timestamp(civil).ok()?;
    Some(Moment { at, date_only })
}

fn dates(release: &Map<String, Value>, seen: &mut Seen) {
    let published = release.get("date").map(read_date).and_then(Form::moment);
    let horizon = published.and_then(|p| {
        let later = p.at.to_zoned(TimeZone::UTC).checked_add(1.year()).ok()?;
        Some(Moment {
            at: later.timestamp(),
            date_only: p.date_only,
        })
    });
    walk_dates(release, true, horizon, seen);
    let at = date_at;

    let tender = object_at(release, "tender");
    let period = tender.and_then(|t| object_at(t, "tenderPeriod"));
    let start = at(period, "startDate");
    if let (Some(start), Some(end)) = (start, at(period, "endDate")) {
        if end.before(start) {
            seen.date_issues[DateIssue::TenderPeriodReversed as usize] += 1;
        }
    }
    let awards: Vec<&Map<String, Value>> = objects(array_at(release, "awards")).collect();
    if let Some(start) = start {
        for award in &awards {
            if at(Some(award), "date").is_some_and(|d| d.before(start)) {
                seen.date_issues[DateIssue::AwardBeforeTender as usize] += 1;
            }
        }
    }
    for contract in objects(array_at(release, "contracts")) {
        let Some(signed) = at(Some(contract), "dateSigned") else {
            continue;
        };
        let Some(award_id) = id_text(contract.get("awardID")) else {
            continue;
        };
        let award = awards
            .iter()
            .find(|a| id_text(a.get("id")).as_deref() == Some(award_id.as_str()));
        if let Some(awarded) = award.and_then(|a| at(Some(a), "date")) {
            if signed.before(awarded) {
                seen.date_issues[DateIssue::ContractBeforeAward as usize] += 1;
            }
        }
    }
}

fn date_at(o: Option<&Map<String, Value>>, key: &str) -> Option<Moment> {
    o.and_then(|o| non_null(o, key))
        .map(read_date)
        .and_then(Form::moment)
}

/// Checks every date field in the release. Recursion depth is bounded by the
/// JSON parser's nesting limit.
fn walk_dates(object: &Map<String, Value>, top: bool, horizon: Option<Moment>, seen: &mut Seen) {
    for (key, v) in object {
        match v {
            Value::Object(o) => walk_dates(o, false, horizon, seen),
            Value::Array(items) => {
                for item in items {
                    walk_values(item, horizon, seen);
                }
            }
            Value::Null => {}
            _ if is_date_key(key) => {
                let form = read_date(v);
                match form {
                    Form::Rfc3339(_) => {}
                    Form::NoTimeZone(_) => seen.date_issues[DateIssue::NoTimeZone as usize] += 1,
                    Form::NoTime(_) => seen.date_issues[DateIssue::NoTime as usize] += 1,
                    Form::Invalid => seen.date_issues[DateIssue::Invalid as usize] += 1,
                }
                if v.as_str()
                    .and_then(|s| s.trim().get(..10))
                    .is_some_and(|d| PLACEHOLDER_DAYS.contains(&d))
                {
                    seen.placeholders[Placeholder::PlaceholderDate as usize] += 1;
                }
                // The release's own date is what the others are measured from.
                let reference = top && key == "date";
                if let (Some(horizon), Some(m), false) = (horizon, form.moment(), reference) {
                    if is_event_key(key) && horizon.before(m) {
                        seen.date_issues[DateIssue::Future as usize] += 1;
                    }
                }
            }
            _ => {}
        }
    }
}

fn walk_values(v: &Value, horizon: Option<Moment>, seen: &mut Seen) {
    match v {
        Value::Object(o) => walk_dates(o, false, horizon, seen),
        Value::Array(items) => {
            for item in items {
                walk_values(item, horizon, seen);
            }
        }
        _ => {}
    }
}

// ---- missing ----

fn missing(release: &Map<String, Value>, seen: &mut Seen) {
    let mut count = |lacks: bool, kind: Missing| {
        if lacks {
            seen.missing[kind as usize] += 1;
        }
    };
    let lacks =
        |o: Option<&Map<String, Value>>, key: &str| o.and_then(|o| o.get(key)).is_none_or(is_empty);
    for bid in bid_details(release) {
        let bid = bid.as_object();
        count(lacks(bid, "status"), Missing::BidStatus);
        let amount = bid
            .and_then(|b| object_at(b, "value"))
            .and_then(|v| v.get("amount"));
        count(!amount.is_some_and(Value::is_number), Missing::BidValue);
        count(lacks(bid, "tenderers"), Missing::BidTenderers);
    }
    for award in array_at(release, "awards") {
        let award = award.as_object();
        count(lacks(award, "status"), Missing::AwardStatus);
        count(lacks(award, "suppliers"), Missing::AwardSuppliers);
    }
    for contract in array_at(release, "contracts") {
        count(
            lacks(contract.as_object(), "awardID"),
            Missing::ContractAwardId,
        );
    }
    if let Some(tender) = object_at(release, "tender") {
        for item in array_at(tender, "items") {
            let classification = item
                .as_object()
                .and_then(|i| object_at(i, "classification"));
            count(lacks(classification, "id"), Missing::ItemClassification);
        }
    }
    for party in array_at(release, "parties") {
        let identifier = party.as_object().and_then(|p| object_at(p, "identifier"));
        count(
            lacks(identifier, "scheme") || lacks(identifier, "id"),
            Missing::PartyIdentifier,
        );
    }
}

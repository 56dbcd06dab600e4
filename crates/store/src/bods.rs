//! The beneficial ownership register: BODS statements kept as received (upgraded
//! to 0.4), a quarantine for those that cannot be kept, and the tables the pages
//! read — records, identifiers, relationships, ultimate owners — derived from the
//! statements by [`Store::bods_resolve`].
//!
//! Privacy by design: the derived tables are built from each statement's public
//! form ([`tuwhera_bods::privacy::public_statement`] under the register's current
//! protection list), so a name, birth date or address that must not be published
//! never reaches a table a page reads. The statements as received stay in
//! `bods_statements`, read only to make public forms.
//!
//! Ingest is idempotent and crash-safe in the same way as releases: a statement is
//! keyed by its `statementId`; each batch is one transaction that stores new
//! statements and bumps the register's version; a rerun stores nothing twice, and
//! the next resolve (a full recompute, swapped in one transaction) sees all of it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::Row;
use tuwhera_bods::graph::{
    self, Graph, Limits as GraphLimits, Owner, PartyKind, RecordStatus, RecordType, Terminal,
};
use tuwhera_bods::privacy::{public_statement, Policy};
use tuwhera_bods::read::{Item, Place};
use tuwhera_bods::upgrade::{detect, Upgrader, Version};
use tuwhera_bods::validate::{Finding, Rule, Severity, Tracker, Validator};

use crate::{now, row_placeholders, sha256_hex, Store, StoreError, MAX_PARAMS};

/// Statements read per page when resolving or exporting.
const PAGE: i64 = 5000;

/// What one ingest did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BodsIngestSummary {
    pub new: u64,
    pub unchanged: u64,
    pub quarantined: u64,
    /// Cross-statement findings (kept statements; see [`BodsFinding`]).
    pub findings: u64,
}

impl std::ops::AddAssign for BodsIngestSummary {
    fn add_assign(&mut self, o: BodsIngestSummary) {
        self.new += o.new;
        self.unchanged += o.unchanged;
        self.quarantined += o.quarantined;
        self.findings += o.findings;
    }
}

/// A finding about a statement that was kept: rules across statements (a
/// reference that does not resolve yet, an order problem) or a warning.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BodsFinding {
    pub statement_id: Option<String>,
    pub rule: String,
    pub severity: String,
    pub message: String,
    pub path: String,
    pub source_file: String,
    pub source_line: i64,
}

impl From<&Finding> for BodsFinding {
    fn from(f: &Finding) -> Self {
        BodsFinding {
            statement_id: f.statement_id.clone(),
            rule: f.rule.code().into_owned(),
            severity: match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            }
            .to_owned(),
            message: f.message.clone(),
            path: f.path.clone(),
            source_file: f.place.source.to_string(),
            source_line: f.place.line as i64,
        }
    }
}

/// One statement, judged before anything touches the database.
enum Judged {
    Keep {
        statement_id: String,
        record_id: String,
        record_type: String,
        record_status: Option<String>,
        statement_date: Option<String>,
        hash: String,
        raw: String,
        place: Place,
    },
    Quarantine {
        statement_id: Option<String>,
        hash: String,
        reason: String,
        message: String,
        path: String,
        raw: String,
        place: Place,
    },
}

/// A batch ready for [`Store::bods_ingest`].
pub struct BodsPrepared {
    judged: Vec<Judged>,
    /// Findings on kept statements (stored in `bods_findings`).
    pub findings: Vec<Finding>,
    /// Every finding of this batch, quarantines included, for the caller to
    /// report as it goes.
    pub report: Vec<Finding>,
}

impl BodsPrepared {
    pub fn len(&self) -> usize {
        self.judged.len()
    }

    pub fn is_empty(&self) -> bool {
        self.judged.is_empty()
    }
}

/// Reads, upgrades and validates statements batch by batch. One per ingest run:
/// the upgrader and the cross-statement rules remember what came before.
pub struct BodsPreparer {
    validator: Validator,
    upgrader: Upgrader,
    tracker: Tracker,
}

impl BodsPreparer {
    pub fn new() -> Result<BodsPreparer, StoreError> {
        let validator = Validator::new().map_err(|e| StoreError::Invalid {
            field: "schema",
            message: format!("the bundled BODS 0.4 schema: {e}"),
        })?;
        Ok(BodsPreparer {
            validator,
            upgrader: Upgrader::new(),
            tracker: Tracker::new(),
        })
    }

    /// Judge a batch: unreadable items, statements that could not be upgraded
    /// and statements with schema errors go to quarantine with the finding that
    /// sent them there; the rest are kept. Schema checks run on every core.
    pub fn prepare(&mut self, items: Vec<Item>) -> BodsPrepared {
        let mut report: Vec<Finding> = Vec::new();
        let mut judged: Vec<Option<Judged>> = Vec::with_capacity(items.len());
        let mut candidates: Vec<(usize, Place, Value, String)> = Vec::new();
        for item in items {
            let Item { place, statement } = item;
            match statement {
                Err(e) => {
                    let message = e.to_string();
                    let finding = Finding::new(
                        Rule::Read(e.code()),
                        message.clone(),
                        &place,
                        None,
                        tuwhera_bods::validate::root_path(&place),
                    );
                    judged.push(Some(quarantine_of(&finding, String::new(), &place)));
                    report.push(finding);
                }
                Ok(value) => {
                    // What was received, before any upgrade: the quarantine keeps that.
                    let received = value.to_string();
                    let value = if detect(&value) == Version::Legacy {
                        let upgraded = self.upgrader.upgrade(value, &place);
                        let first_error = upgraded
                            .findings
                            .iter()
                            .find(|f| f.severity == Severity::Error)
                            .cloned();
                        report.extend(upgraded.findings);
                        match (upgraded.statement, first_error) {
                            (Some(s), None) => s,
                            (_, Some(f)) => {
                                judged.push(Some(quarantine_of(&f, received, &place)));
                                continue;
                            }
                            (None, None) => {
                                let f = Finding::new(
                                    Rule::Upgrade("not-upgraded"),
                                    "the statement could not be upgraded to BODS 0.4",
                                    &place,
                                    None,
                                    tuwhera_bods::validate::root_path(&place),
                                );
                                judged.push(Some(quarantine_of(&f, received, &place)));
                                report.push(f);
                                continue;
                            }
                        }
                    } else {
                        value
                    };
                    candidates.push((judged.len(), place, value, received));
                    judged.push(None);
                }
            }
        }
        let validator = &self.validator;
        let checked: Vec<(usize, Place, Value, String, Vec<Finding>)> = candidates
            .into_par_iter()
            .map(|(slot, place, value, received)| {
                let findings = validator.statement(&value, &place);
                (slot, place, value, received, findings)
            })
            .collect();
        let mut kept_findings = Vec::new();
        for (slot, place, value, received, findings) in checked {
            let error = findings
                .iter()
                .find(|f| f.severity == Severity::Error)
                .cloned();
            report.extend(findings.iter().cloned());
            if let Some(f) = error {
                judged[slot] = Some(quarantine_of(&f, received, &place));
                continue;
            }
            kept_findings.extend(findings);
            // Cross-statement rules see only what is kept, in order.
            let cross = self.tracker.feed(&value, &place);
            report.extend(cross.iter().cloned());
            kept_findings.extend(cross);
            let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
            let (Some(statement_id), Some(record_id), Some(record_type)) =
                (text("statementId"), text("recordId"), text("recordType"))
            else {
                // The schema requires all three; a statement without them was quarantined above.
                continue;
            };
            let raw = value.to_string();
            judged[slot] = Some(Judged::Keep {
                statement_id,
                record_id,
                record_type,
                record_status: text("recordStatus"),
                statement_date: text("statementDate"),
                hash: sha256_hex(raw.as_bytes()),
                raw,
                place,
            });
        }
        BodsPrepared {
            judged: judged.into_iter().flatten().collect(),
            findings: kept_findings,
            report,
        }
    }

    /// Findings only the end of the input can tell (references never resolved).
    pub fn finish(self) -> Vec<Finding> {
        self.tracker.finish()
    }
}

fn quarantine_of(f: &Finding, raw: String, place: &Place) -> Judged {
    Judged::Quarantine {
        statement_id: f.statement_id.clone(),
        hash: sha256_hex(if raw.is_empty() {
            f.message.as_bytes()
        } else {
            raw.as_bytes()
        }),
        reason: f.rule.code().into_owned(),
        message: f.message.clone(),
        path: f.path.clone(),
        raw,
        place: place.clone(),
    }
}

/// A record of the register, as the pages show it (public fields only).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BodsRecord {
    pub record_id: String,
    /// `entity`, `person` or `relationship`.
    pub record_type: String,
    pub name: String,
    /// Entity type or person type.
    pub subtype: Option<String>,
    pub jurisdiction: Option<String>,
    /// False once a `closed` statement ended it.
    pub current: bool,
    pub statements: i64,
    pub first_date: Option<String>,
    pub last_date: Option<String>,
    /// The publisher that sent its latest statement.
    pub publisher: String,
    /// Why a person's identity is withheld (protected, anonymous, unknown).
    pub withheld_reason: Option<String>,
}

/// A relationship as the pages show it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BodsRelationship {
    pub record_id: String,
    pub subject_id: String,
    pub subject_name: String,
    /// `None` when the interested party is unspecified.
    pub party_id: Option<String>,
    pub party_name: String,
    /// `person`, `entity`, or `unspecified`.
    pub party_kind: String,
    pub party_reason: Option<String>,
    /// Interest types, e.g. `shareholding`, `votingRights`.
    pub interests: Vec<String>,
    pub owns: bool,
    pub controls: bool,
    pub direct: bool,
    pub share_min: Option<f64>,
    pub share_max: Option<f64>,
    pub current: bool,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
}

/// An ultimate owner as stored.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BodsOwner {
    pub subject_id: String,
    /// The owner's recordId, or `unspecified:REASON` for an unspecified party.
    pub owner_key: String,
    pub owner_id: Option<String>,
    pub name: String,
    /// `person`, `entity`, `unknown`, `missing`.
    pub kind: String,
    /// Why the chain ends here (see the bods crate's `Terminal`), kebab-case.
    pub terminal: String,
    pub subtype: Option<String>,
    pub reason: Option<String>,
    pub share_min: Option<f64>,
    pub share_max: Option<f64>,
    pub controls: bool,
    pub direct: bool,
    /// Longest chain length in relationships.
    pub depth: i64,
    /// Each chain: `{"nodes": [...], "relationships": [...]}` (record ids).
    pub paths: Value,
}

/// What a resolve did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ResolveSummary {
    pub ran: bool,
    pub statements: u64,
    pub records: u64,
    pub relationships: u64,
    pub owners: u64,
    pub cycles: u64,
    pub truncated: u64,
}

/// A search of the register.
#[derive(Debug, Clone, Default)]
pub struct BodsSearch {
    /// Words of a name, or an identifier (`GB-COH-00102498`, `9429041234567`, an LEI).
    pub q: String,
    /// `entity` or `person`; both when `None`.
    pub record_type: Option<String>,
    pub limit: i64,
}

/// A link between a procurement organisation and a register entity.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BodsLink {
    pub org_id: String,
    pub org_name: String,
    pub record_id: String,
    pub entity_name: String,
}

/// A contract won by an entity someone holds an interest in.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WonContract {
    pub ocid: String,
    pub title: Option<String>,
    pub buyer_name: Option<String>,
    pub supplier_id: String,
    pub supplier_name: String,
    pub entity_id: String,
    pub amount: Option<f64>,
    pub currency: Option<String>,
    pub date: String,
}

fn terminal_code(t: Terminal) -> &'static str {
    match t {
        Terminal::NaturalPerson => "natural-person",
        Terminal::Unspecified => "unspecified",
        Terminal::PubliclyListed => "publicly-listed",
        Terminal::State => "state",
        Terminal::StateBody => "state-body",
        Terminal::AnonymousEntity => "anonymous-entity",
        Terminal::UnknownEntity => "unknown-entity",
        Terminal::NoFurtherOwners => "no-further-owners",
        Terminal::MissingRecord => "missing-record",
        Terminal::DepthLimit => "depth-limit",
    }
}

fn kind_code(k: PartyKind) -> &'static str {
    match k {
        PartyKind::Person => "person",
        PartyKind::Entity => "entity",
        PartyKind::Unknown => "unknown",
        PartyKind::Missing => "missing",
    }
}

/// The name a page shows for a record's public details.
fn display_name(record_type: RecordType, details: &Value) -> String {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::trim).map(str::to_owned);
    match record_type {
        RecordType::Entity => text(details.get("name"))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "Unnamed entity".to_owned()),
        RecordType::Person => {
            let names = details.get("names").and_then(Value::as_array);
            let pick = names.and_then(|ns| {
                ns.iter()
                    .find(|n| n.get("type").and_then(Value::as_str) == Some("legal"))
                    .or_else(|| ns.first())
            });
            let full = pick.and_then(|n| {
                text(n.get("fullName")).or_else(|| {
                    let parts: Vec<String> = ["givenName", "familyName"]
                        .iter()
                        .filter_map(|k| text(n.get(*k)))
                        .collect();
                    (!parts.is_empty()).then(|| parts.join(" "))
                })
            });
            match details.get("personType").and_then(Value::as_str) {
                Some("anonymousPerson") => "Anonymous person".to_owned(),
                Some("unknownPerson") => "Unknown person".to_owned(),
                _ => full
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "Unnamed person".to_owned()),
            }
        }
        RecordType::Relationship => "Relationship".to_owned(),
    }
}

fn record_type_code(t: RecordType) -> &'static str {
    match t {
        RecordType::Entity => "entity",
        RecordType::Person => "person",
        RecordType::Relationship => "relationship",
    }
}

/// Normalised form of an identifier for matching: the scheme upper-cased and
/// `SCHEME-ID` (org-id.guide's form, what procurement organisations use), and
/// the bare id upper-cased for a search by number.
pub fn org_key(scheme: &str, id: &str) -> String {
    format!(
        "{}-{}",
        scheme.trim().to_uppercase(),
        id.trim().to_uppercase()
    )
}

/// Interest types that are ownership (a share of the entity's value) rather
/// than control.
const OWNERSHIP_INTERESTS: &[&str] = &[
    "shareholding",
    "rightsToSurplusAssetsOnDissolution",
    "rightsToProfitOrIncome",
    "enjoymentAndUseOfAssets",
    "rightToProfitOrIncomeFromAssets",
];

/// Per-relationship summary for the derived table.
struct RelationshipRow {
    record_id: String,
    subject_id: String,
    party_id: Option<String>,
    party_reason: Option<String>,
    interests: Vec<String>,
    owns: bool,
    controls: bool,
    direct: bool,
    share_min: Option<f64>,
    share_max: Option<f64>,
    current: bool,
    start_date: Option<String>,
    end_date: Option<String>,
}

fn relationship_row(record_id: &str, details: &Value, current: bool) -> Option<RelationshipRow> {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let subject_id = text(details.get("subject"))?;
    let party = details.get("interestedParty");
    let (party_id, party_reason) = match party {
        Some(Value::String(s)) => (Some(s.clone()), None),
        Some(Value::Object(o)) => (
            None,
            o.get("reason")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| Some("unknown".to_owned())),
        ),
        _ => (None, Some("unknown".to_owned())),
    };
    let mut interests = Vec::new();
    let (mut owns, mut controls, mut direct) = (false, false, true);
    let (mut share_min, mut share_max): (Option<f64>, Option<f64>) = (None, None);
    let (mut start, mut end): (Option<String>, Option<String>) = (None, None);
    for i in details
        .get("interests")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let kind = i
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("unknownInterest");
        if !interests.iter().any(|k: &String| k == kind) {
            interests.push(kind.to_owned());
        }
        if OWNERSHIP_INTERESTS.contains(&kind) {
            owns = true;
        } else {
            controls = true;
        }
        if i.get("directOrIndirect").and_then(Value::as_str) == Some("indirect") {
            direct = false;
        }
        if let Some(iv) = i.get("share").and_then(graph::Interval::from_share) {
            if kind == "shareholding" || share_min.is_none() {
                share_min = Some(iv.min);
                share_max = Some(iv.max);
            }
        }
        if let Some(s) = text(i.get("startDate")) {
            start = Some(start.map_or(s.clone(), |p| p.min(s)));
        }
        if let Some(e) = text(i.get("endDate")) {
            end = Some(end.map_or(e.clone(), |p| p.max(e)));
        }
    }
    Some(RelationshipRow {
        record_id: record_id.to_owned(),
        subject_id,
        party_id,
        party_reason,
        interests,
        owns,
        controls,
        direct,
        share_min,
        share_max,
        current,
        start_date: start,
        end_date: end,
    })
}

impl Store {
    /// The register's version: bumped by every ingest that stored something new
    /// and by every change of the protection list.
    pub async fn bods_version(&self) -> Result<i64, StoreError> {
        self.meta("bods_version").await
    }

    pub(crate) async fn meta(&self, key: &str) -> Result<i64, StoreError> {
        let row = sqlx::query(&self.sql("SELECT value FROM meta WHERE key = ?"))
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get(0)?,
            None => 0,
        })
    }

    /// Store a prepared batch in one transaction. A statement already stored
    /// (same `statementId`, same content) is counted unchanged; the same
    /// `statementId` with other content is quarantined (`duplicate-statement-id`):
    /// statements are immutable, and a correction is a new statement.
    pub async fn bods_ingest(
        &self,
        prepared: BodsPrepared,
        publisher: &str,
    ) -> Result<BodsIngestSummary, StoreError> {
        let mut summary = BodsIngestSummary::default();
        let at = now();
        let mut tx = self.pool.begin().await?;
        // Which of the batch's statement ids are stored already, and with what content.
        let ids: Vec<&str> = prepared
            .judged
            .iter()
            .filter_map(|j| match j {
                Judged::Keep { statement_id, .. } => Some(statement_id.as_str()),
                _ => None,
            })
            .collect();
        let mut existing: HashMap<String, String> = HashMap::new();
        for chunk in ids.chunks(MAX_PARAMS / 2) {
            let sql = self.sql(&format!(
                "SELECT statement_id, content_hash FROM bods_statements WHERE statement_id IN ({})",
                crate::placeholders(chunk.len())
            ));
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&mut *tx).await? {
                existing.insert(r.try_get(0)?, r.try_get(1)?);
            }
        }
        let mut seq = self.meta_in(&mut tx, "bods_seq").await?;
        let mut keep_rows = Vec::new();
        let mut quarantine_rows = Vec::new();
        let mut seen_in_batch: HashMap<&str, &str> = HashMap::new();
        for j in &prepared.judged {
            match j {
                Judged::Keep {
                    statement_id,
                    hash,
                    raw,
                    place,
                    ..
                } => {
                    let before = existing
                        .get(statement_id.as_str())
                        .map(String::as_str)
                        .or_else(|| seen_in_batch.get(statement_id.as_str()).copied());
                    match before {
                        Some(h) if h == hash => summary.unchanged += 1,
                        Some(_) => {
                            summary.quarantined += 1;
                            quarantine_rows.push((
                                Some(statement_id.clone()),
                                hash.clone(),
                                "duplicate-statement-id".to_owned(),
                                format!("statementId {statement_id:?} was stored before with other content; a statement never changes (publish a new statement to correct a record)"),
                                "$.statementId".to_owned(),
                                raw.clone(),
                                place.clone(),
                            ));
                        }
                        None => {
                            seq += 1;
                            summary.new += 1;
                            seen_in_batch.insert(statement_id, hash);
                            keep_rows.push((j, seq));
                        }
                    }
                }
                Judged::Quarantine {
                    statement_id,
                    hash,
                    reason,
                    message,
                    path,
                    raw,
                    place,
                } => {
                    summary.quarantined += 1;
                    quarantine_rows.push((
                        statement_id.clone(),
                        hash.clone(),
                        reason.clone(),
                        message.clone(),
                        path.clone(),
                        raw.clone(),
                        place.clone(),
                    ));
                }
            }
        }
        const COLS: usize = 11;
        for chunk in keep_rows.chunks(MAX_PARAMS / COLS) {
            let sql = self.sql(&format!(
                "INSERT INTO bods_statements (statement_id, record_id, record_type, record_status, statement_date, seq, content_hash, raw, source_file, source_line, publisher, received_at) VALUES {}
                 ON CONFLICT (statement_id) DO NOTHING",
                row_placeholders(chunk.len(), COLS + 1)
            ));
            let mut q = sqlx::query(&sql).persistent(false);
            for (j, seq) in chunk {
                if let Judged::Keep {
                    statement_id,
                    record_id,
                    record_type,
                    record_status,
                    statement_date,
                    hash,
                    raw,
                    place,
                } = j
                {
                    q = q
                        .bind(statement_id.as_str())
                        .bind(record_id.as_str())
                        .bind(record_type.as_str())
                        .bind(record_status.clone())
                        .bind(statement_date.clone())
                        .bind(*seq)
                        .bind(hash.as_str())
                        .bind(raw.as_str())
                        .bind(place.source.to_string())
                        .bind(place.line as i64)
                        .bind(publisher)
                        .bind(at.as_str());
                }
            }
            q.execute(&mut *tx).await?;
        }
        const QCOLS: usize = 10;
        for chunk in quarantine_rows.chunks(MAX_PARAMS / QCOLS) {
            let sql = self.sql(&format!(
                "INSERT INTO bods_quarantine (content_hash, reason, statement_id, message, path, raw, source_file, source_line, publisher, received_at) VALUES {}
                 ON CONFLICT (content_hash, reason) DO NOTHING",
                row_placeholders(chunk.len(), QCOLS)
            ));
            let mut q = sqlx::query(&sql).persistent(false);
            for (statement_id, hash, reason, message, path, raw, place) in chunk {
                q = q
                    .bind(hash.as_str())
                    .bind(reason.as_str())
                    .bind(statement_id.clone())
                    .bind(message.as_str())
                    .bind(path.as_str())
                    .bind(raw.as_str())
                    .bind(place.source.to_string())
                    .bind(place.line as i64)
                    .bind(publisher)
                    .bind(at.as_str());
            }
            q.execute(&mut *tx).await?;
        }
        let finding_rows: Vec<BodsFinding> =
            prepared.findings.iter().map(BodsFinding::from).collect();
        summary.findings = finding_rows.len() as u64;
        self.insert_bods_findings(&mut tx, &finding_rows).await?;
        if summary.new > 0 {
            self.set_meta_in(&mut tx, "bods_seq", seq).await?;
            sqlx::query("UPDATE meta SET value = value + 1 WHERE key = 'bods_version'")
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(summary)
    }

    /// Store findings that only the end of an input could tell.
    pub async fn bods_record_findings(&self, findings: &[Finding]) -> Result<(), StoreError> {
        let rows: Vec<BodsFinding> = findings.iter().map(BodsFinding::from).collect();
        let mut tx = self.pool.begin().await?;
        self.insert_bods_findings(&mut tx, &rows).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn insert_bods_findings(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        rows: &[BodsFinding],
    ) -> Result<(), StoreError> {
        const COLS: usize = 7;
        for chunk in rows.chunks(MAX_PARAMS / COLS) {
            let sql = self.sql(&format!(
                "INSERT INTO bods_findings (statement_key, rule, path, severity, message, source_file, source_line) VALUES {}
                 ON CONFLICT (statement_key, rule, path) DO NOTHING",
                row_placeholders(chunk.len(), COLS)
            ));
            let mut q = sqlx::query(&sql).persistent(false);
            for f in chunk {
                q = q
                    .bind(f.statement_id.clone().unwrap_or_default())
                    .bind(f.rule.as_str())
                    .bind(f.path.as_str())
                    .bind(f.severity.as_str())
                    .bind(f.message.as_str())
                    .bind(f.source_file.as_str())
                    .bind(f.source_line);
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }

    async fn meta_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        key: &str,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(&self.sql("SELECT value FROM meta WHERE key = ?"))
            .bind(key)
            .fetch_optional(&mut **tx)
            .await?;
        Ok(match row {
            Some(r) => r.try_get(0)?,
            None => 0,
        })
    }

    async fn set_meta_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        key: &str,
        value: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(&self.sql(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        ))
        .bind(key)
        .bind(value)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Protect a person: from the next resolve on, every public output shows an
    /// anonymous person "exempt from disclosure" in their place.
    pub async fn bods_protect(&self, record_id: &str, reason: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(&self.sql(
            "INSERT INTO bods_protected (record_id, reason, protected_at) VALUES (?, ?, ?)
             ON CONFLICT (record_id) DO UPDATE SET reason = excluded.reason",
        ))
        .bind(record_id)
        .bind(reason)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE meta SET value = value + 1 WHERE key = 'bods_version'")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The protection list: person recordId → reason.
    pub async fn bods_protected(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let rows = sqlx::query("SELECT record_id, reason FROM bods_protected")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    async fn policy(&self) -> Result<Policy, StoreError> {
        Ok(Policy::protecting(self.bods_protected().await?.into_keys()))
    }

    /// Whether the derived tables reflect every stored statement.
    pub async fn bods_is_resolved(&self) -> Result<bool, StoreError> {
        Ok(self.meta("bods_resolved_version").await? == self.bods_version().await?)
    }

    /// Rebuild the derived tables (records, identifiers, relationships,
    /// ultimate owners) from the statements' public forms, when the register
    /// changed since the last resolve (or always, with `force`). Statements are
    /// read a page at a time and reduced to what the graph needs; ultimate
    /// owners are worked out on every core; the tables are swapped in one
    /// transaction.
    pub async fn bods_resolve(&self, force: bool) -> Result<ResolveSummary, StoreError> {
        let version = self.bods_version().await?;
        if !force && self.meta("bods_resolved_version").await? == version {
            return Ok(ResolveSummary::default());
        }
        let policy = Arc::new(self.policy().await?);
        let protected = self.bods_protected().await?;
        let mut essentials: Vec<Value> = Vec::new();
        let mut publishers: HashMap<String, String> = HashMap::new();
        let mut after = -1i64;
        loop {
            let rows = sqlx::query(&self.sql(
                "SELECT seq, raw, publisher, record_id FROM bods_statements WHERE seq > ? ORDER BY seq LIMIT ?",
            ))
            .bind(after)
            .bind(PAGE)
            .fetch_all(&self.pool)
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get(0)?;
            let page: Vec<(String, String, String)> = rows
                .iter()
                .map(|r| Ok((r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
                .collect::<Result<_, sqlx::Error>>()?;
            let policy = Arc::clone(&policy);
            let reduced: Vec<Value> = tokio::task::block_in_place(|| {
                page.par_iter()
                    .filter_map(|(raw, _, _)| serde_json::from_str::<Value>(raw).ok())
                    .map(|v| graph::essentials(&public_statement(&v, &policy)))
                    .collect()
            });
            essentials.extend(reduced);
            for (_, publisher, record_id) in page {
                publishers.insert(record_id, publisher);
            }
        }
        let statements = essentials.len() as u64;
        let graph = tokio::task::block_in_place(|| Graph::from_statements(essentials));
        let limits = GraphLimits::default();
        let view = graph.current();

        // Records and identifiers.
        struct RecordRow {
            record_id: String,
            record_type: &'static str,
            name: String,
            name_key: String,
            subtype: Option<String>,
            jurisdiction: Option<String>,
            current: bool,
            statements: i64,
            first_date: Option<String>,
            last_date: Option<String>,
            publisher: String,
            withheld: Option<String>,
        }
        let mut record_rows = Vec::new();
        let mut identifier_rows: Vec<(String, String, String, String)> = Vec::new();
        let mut relationship_rows = Vec::new();
        for r in graph.records() {
            let Some(last) = r.statements.last() else {
                continue;
            };
            let current = last.status != RecordStatus::Closed;
            let details = last.details();
            let first_date = r
                .statements
                .iter()
                .find_map(|s| s.date)
                .map(|d| d.to_string());
            let last_date = r
                .statements
                .iter()
                .rev()
                .find_map(|s| s.date)
                .map(|d| d.to_string());
            // A closed statement may carry no details: describe the record by its last details.
            let described = r
                .statements
                .iter()
                .rev()
                .map(|s| s.details())
                .find(|d| d.is_object() && d.as_object().is_some_and(|o| !o.is_empty()))
                .unwrap_or(details);
            match r.record_type {
                RecordType::Relationship => {
                    if let Some(row) = relationship_row(&r.record_id, described, current) {
                        relationship_rows.push(row);
                    }
                    continue;
                }
                RecordType::Entity => {
                    for i in graph::identifiers(described) {
                        let scheme = i.scheme.clone().unwrap_or_default();
                        identifier_rows.push((
                            r.record_id.clone(),
                            scheme.clone(),
                            i.id.clone(),
                            if scheme.is_empty() {
                                i.id.to_uppercase()
                            } else {
                                org_key(&scheme, &i.id)
                            },
                        ));
                    }
                }
                RecordType::Person => {}
            }
            let name = display_name(r.record_type, described);
            let subtype = match r.record_type {
                RecordType::Entity => described
                    .pointer("/entityType/type")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                _ => described
                    .get("personType")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            };
            let withheld = if protected.contains_key(&r.record_id) {
                Some("protected".to_owned())
            } else {
                described
                    .get("unspecifiedPersonDetails")
                    .or_else(|| described.get("unspecifiedEntityDetails"))
                    .and_then(|u| u.get("reason"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            record_rows.push(RecordRow {
                record_id: r.record_id.clone(),
                record_type: record_type_code(r.record_type),
                name_key: name.to_lowercase(),
                name,
                subtype,
                jurisdiction: described
                    .get("jurisdiction")
                    .and_then(|j| j.get("code").or_else(|| j.get("name")))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                current,
                statements: r.statements.len() as i64,
                first_date,
                last_date,
                publisher: publishers.get(&r.record_id).cloned().unwrap_or_default(),
                withheld,
            });
        }

        // Ultimate owners of every entity that is the subject of a relationship.
        let subjects: Vec<&str> = {
            let mut s: Vec<&str> = relationship_rows
                .iter()
                .filter(|r| r.current)
                .map(|r| r.subject_id.as_str())
                .collect();
            s.sort_unstable();
            s.dedup();
            s
        };
        let resolved: Vec<(String, Vec<Owner>, usize, bool)> = tokio::task::block_in_place(|| {
            subjects
                .par_iter()
                .filter(|id| {
                    graph
                        .record(id)
                        .is_some_and(|r| r.record_type == RecordType::Entity)
                })
                .map(|id| {
                    let o = view.ultimate_owners(id, &limits);
                    (id.to_string(), o.owners, o.cycles.len(), o.truncated)
                })
                .collect()
        });
        let mut owner_rows: Vec<BodsOwner> = Vec::new();
        let mut cycles = 0u64;
        let mut truncated = 0u64;
        for (subject, owners, c, t) in resolved {
            cycles += c as u64;
            truncated += u64::from(t);
            for o in owners {
                let key = match &o.party.record_id {
                    Some(id) => id.clone(),
                    None => format!(
                        "unspecified:{}",
                        o.party.reason.as_deref().unwrap_or("unknown")
                    ),
                };
                let name = match (&o.party.record_id, o.party.kind) {
                    (Some(_), PartyKind::Person) if protected.contains_key(&key) => {
                        "Protected person".to_owned()
                    }
                    (_, PartyKind::Unknown) => "Unspecified owner".to_owned(),
                    _ => o.party.name.clone().unwrap_or_else(|| match o.party.kind {
                        PartyKind::Person => "Unnamed person".to_owned(),
                        PartyKind::Missing => "Record not in the register".to_owned(),
                        _ => "Unnamed entity".to_owned(),
                    }),
                };
                let depth = o
                    .paths
                    .iter()
                    .map(|p| p.relationships.len())
                    .max()
                    .unwrap_or(0);
                let paths: Vec<Value> = o
                    .paths
                    .iter()
                    .map(|p| json!({"nodes": p.nodes, "relationships": p.relationships}))
                    .collect();
                owner_rows.push(BodsOwner {
                    subject_id: subject.clone(),
                    owner_key: key,
                    owner_id: o.party.record_id.clone(),
                    name,
                    kind: kind_code(o.party.kind).to_owned(),
                    terminal: terminal_code(o.terminal).to_owned(),
                    subtype: o.party.subtype.clone(),
                    reason: o.party.reason.clone(),
                    share_min: o.share.map(|s| s.min),
                    share_max: o.share.map(|s| s.max),
                    controls: o.controls,
                    direct: o.direct,
                    depth: depth as i64,
                    paths: Value::Array(paths),
                });
            }
        }

        let summary = ResolveSummary {
            ran: true,
            statements,
            records: record_rows.len() as u64,
            relationships: relationship_rows.len() as u64,
            owners: owner_rows.len() as u64,
            cycles,
            truncated,
        };

        let mut tx = self.pool.begin().await?;
        for table in [
            "bods_records",
            "bods_identifiers",
            "bods_relationships",
            "bods_owners",
        ] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await?;
        }
        const RCOLS: usize = 12;
        for chunk in record_rows.chunks(MAX_PARAMS / RCOLS) {
            let sql = self.sql(&format!(
                "INSERT INTO bods_records (record_id, record_type, name, name_key, subtype, jurisdiction, is_current, statement_count, first_date, last_date, publisher, withheld_reason) VALUES {}",
                row_placeholders(chunk.len(), RCOLS)
            ));
            let mut q = sqlx::query(&sql).persistent(false);
            for r in chunk {
                q = q
                    .bind(r.record_id.as_str())
                    .bind(r.record_type)
                    .bind(r.name.as_str())
                    .bind(r.name_key.as_str())
                    .bind(r.subtype.clone())
                    .bind(r.jurisdiction.clone())
                    .bind(i64::from(r.current))
                    .bind(r.statements)
                    .bind(r.first_date.clone())
                    .bind(r.last_date.clone())
                    .bind(r.publisher.as_str())
                    .bind(r.withheld.clone());
            }
            q.execute(&mut *tx).await?;
        }
        identifier_rows.sort();
        identifier_rows.dedup();
        const ICOLS: usize = 5;
        for chunk in identifier_rows.chunks(MAX_PARAMS / ICOLS) {
            let sql = self.sql(&format!(
                "INSERT INTO bods_identifiers (record_id, scheme, id, org_key, id_key) VALUES {}
                 ON CONFLICT (org_key, record_id) DO NOTHING",
                row_placeholders(chunk.len(), ICOLS)
            ));
            let mut q = sqlx::query(&sql).persistent(false);
            for (record_id, scheme, id, key) in chunk {
                q = q
                    .bind(record_id.as_str())
                    .bind(scheme.as_str())
                    .bind(id.as_str())
                    .bind(key.as_str())
                    .bind(id.trim().to_uppercase());
            }
            q.execute(&mut *tx).await?;
        }
        const LCOLS: usize = 13;
        for chunk in relationship_rows.chunks(MAX_PARAMS / LCOLS) {
            let sql = self.sql(&format!(
                "INSERT INTO bods_relationships (record_id, subject_id, party_id, party_reason, interests, owns, controls, is_direct, share_min, share_max, is_current, start_date, end_date) VALUES {}",
                row_placeholders(chunk.len(), LCOLS)
            ));
            let mut q = sqlx::query(&sql).persistent(false);
            for r in chunk {
                q = q
                    .bind(r.record_id.as_str())
                    .bind(r.subject_id.as_str())
                    .bind(r.party_id.clone())
                    .bind(r.party_reason.clone())
                    .bind(r.interests.join(" "))
                    .bind(i64::from(r.owns))
                    .bind(i64::from(r.controls))
                    .bind(i64::from(r.direct))
                    .bind(r.share_min)
                    .bind(r.share_max)
                    .bind(i64::from(r.current))
                    .bind(r.start_date.clone())
                    .bind(r.end_date.clone());
            }
            q.execute(&mut *tx).await?;
        }
        const OCOLS: usize = 15;
        // Positions keep the graph's order (largest share first) within each subject.
        for (base, chunk) in owner_rows
            .chunks(MAX_PARAMS / OCOLS)
            .enumerate()
            .map(|(n, c)| (n * (MAX_PARAMS / OCOLS), c))
        {
            let sql = self.sql(&format!(
                "INSERT INTO bods_owners (subject_id, owner_key, owner_id, name, kind, terminal, subtype, reason, share_min, share_max, controls, is_direct, depth, paths, position) VALUES {}",
                row_placeholders(chunk.len(), OCOLS)
            ));
            let mut q = sqlx::query(&sql).persistent(false);
            for (i, o) in chunk.iter().enumerate() {
                q = q
                    .bind(o.subject_id.as_str())
                    .bind(o.owner_key.as_str())
                    .bind(o.owner_id.clone())
                    .bind(o.name.as_str())
                    .bind(o.kind.as_str())
                    .bind(o.terminal.as_str())
                    .bind(o.subtype.clone())
                    .bind(o.reason.clone())
                    .bind(o.share_min)
                    .bind(o.share_max)
                    .bind(i64::from(o.controls))
                    .bind(i64::from(o.direct))
                    .bind(o.depth)
                    .bind(o.paths.to_string())
                    .bind((base + i) as i64);
            }
            q.execute(&mut *tx).await?;
        }
        self.set_meta_in(&mut tx, "bods_resolved_version", version)
            .await?;
        // The ownership flags read the register: the next risk pass must run again.
        sqlx::query("UPDATE meta SET value = -1 WHERE key = 'risk_version'")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(summary)
    }
}

const RECORD_COLS: &str = "r.record_id, r.record_type, r.name, r.subtype, r.jurisdiction, r.is_current, r.statement_count, r.first_date, r.last_date, r.publisher, r.withheld_reason";

fn record_from(r: &sqlx::any::AnyRow) -> Result<BodsRecord, sqlx::Error> {
    Ok(BodsRecord {
        record_id: r.try_get(0)?,
        record_type: r.try_get(1)?,
        name: r.try_get(2)?,
        subtype: r.try_get(3)?,
        jurisdiction: r.try_get(4)?,
        current: r.try_get::<i64, _>(5)? != 0,
        statements: r.try_get(6)?,
        first_date: r.try_get(7)?,
        last_date: r.try_get(8)?,
        publisher: r.try_get(9)?,
        withheld_reason: r.try_get(10)?,
    })
}

const RELATIONSHIP_SELECT: &str = "SELECT l.record_id, l.subject_id, COALESCE(s.name, ''), l.party_id, COALESCE(p.name, ''), p.record_type, l.party_reason, l.interests, l.owns, l.controls, l.is_direct, l.share_min, l.share_max, l.is_current, l.start_date, l.end_date
     FROM bods_relationships l LEFT JOIN bods_records s ON s.record_id = l.subject_id LEFT JOIN bods_records p ON p.record_id = l.party_id";

fn relationship_from(r: &sqlx::any::AnyRow) -> Result<BodsRelationship, sqlx::Error> {
    let party_id: Option<String> = r.try_get(3)?;
    let party_type: Option<String> = r.try_get(5)?;
    let party_reason: Option<String> = r.try_get(6)?;
    let mut party_name: String = r.try_get(4)?;
    let party_kind = match (&party_id, party_type) {
        (None, _) => {
            party_name = "Unspecified owner".to_owned();
            "unspecified".to_owned()
        }
        (Some(_), Some(t)) => t,
        (Some(_), None) => {
            party_name = "Record not in the register".to_owned();
            "missing".to_owned()
        }
    };
    let interests: String = r.try_get(7)?;
    Ok(BodsRelationship {
        record_id: r.try_get(0)?,
        subject_id: r.try_get(1)?,
        subject_name: r.try_get(2)?,
        party_id,
        party_name,
        party_kind,
        party_reason,
        interests: interests.split_whitespace().map(str::to_owned).collect(),
        owns: r.try_get::<i64, _>(8)? != 0,
        controls: r.try_get::<i64, _>(9)? != 0,
        direct: r.try_get::<i64, _>(10)? != 0,
        share_min: r.try_get(11)?,
        share_max: r.try_get(12)?,
        current: r.try_get::<i64, _>(13)? != 0,
        start_date: r.try_get(14)?,
        end_date: r.try_get(15)?,
    })
}

const OWNER_COLS: &str = "subject_id, owner_key, owner_id, name, kind, terminal, subtype, reason, share_min, share_max, controls, is_direct, depth, paths";

fn owner_from(r: &sqlx::any::AnyRow) -> Result<BodsOwner, sqlx::Error> {
    let paths: String = r.try_get(13)?;
    Ok(BodsOwner {
        subject_id: r.try_get(0)?,
        owner_key: r.try_get(1)?,
        owner_id: r.try_get(2)?,
        name: r.try_get(3)?,
        kind: r.try_get(4)?,
        terminal: r.try_get(5)?,
        subtype: r.try_get(6)?,
        reason: r.try_get(7)?,
        share_min: r.try_get(8)?,
        share_max: r.try_get(9)?,
        controls: r.try_get::<i64, _>(10)? != 0,
        direct: r.try_get::<i64, _>(11)? != 0,
        depth: r.try_get(12)?,
        paths: serde_json::from_str(&paths).unwrap_or(Value::Null),
    })
}

/// Counts for the register's front page.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct BodsCounts {
    pub statements: i64,
    pub entities: i64,
    pub people: i64,
    pub relationships: i64,
    pub quarantined: i64,
    pub findings: i64,
    /// Procurement organisations linked to a register entity by identifier.
    pub linked_organisations: i64,
}

/// A quarantined statement, as listed (its content stays on the server: it may
/// hold the very fields the register must not publish).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BodsQuarantined {
    pub statement_id: Option<String>,
    pub reason: String,
    pub message: String,
    pub path: String,
    pub source_file: String,
    pub source_line: i64,
    pub publisher: String,
    pub received_at: String,
}

impl Store {
    pub async fn bods_counts(&self) -> Result<BodsCounts, StoreError> {
        let one = |sql: &'static str| async move {
            let r = sqlx::query(sql).fetch_one(&self.pool).await?;
            Ok::<i64, StoreError>(r.try_get(0)?)
        };
        Ok(BodsCounts {
            statements: one("SELECT COUNT(*) FROM bods_statements").await?,
            entities: one("SELECT COUNT(*) FROM bods_records WHERE record_type = 'entity'").await?,
            people: one("SELECT COUNT(*) FROM bods_records WHERE record_type = 'person'").await?,
            relationships: one("SELECT COUNT(*) FROM bods_relationships").await?,
            quarantined: one("SELECT COUNT(*) FROM bods_quarantine").await?,
            findings: one("SELECT COUNT(*) FROM bods_findings").await?,
            linked_organisations: one(
                "SELECT COUNT(DISTINCT o.org_id) FROM organisations o JOIN bods_identifiers i ON i.org_key = UPPER(o.org_id)",
            )
            .await?,
        })
    }

    /// Search people and entities by identifier (`GB-COH-00102498`, a bare
    /// company number, NZBN or LEI: exact) and by name (every word, anywhere in
    /// the name). Identifier matches come first.
    pub async fn bods_search(&self, search: &BodsSearch) -> Result<Vec<BodsRecord>, StoreError> {
        let q = search.q.trim();
        let limit = search.limit.clamp(1, 200);
        let mut out: Vec<BodsRecord> = Vec::new();
        if q.is_empty() {
            return Ok(out);
        }
        let upper = q.to_uppercase();
        let type_filter = match search.record_type.as_deref() {
            Some("entity") => "r.record_type = 'entity'",
            Some("person") => "r.record_type = 'person'",
            _ => "r.record_type IN ('entity', 'person')",
        };
        let by_id = sqlx::query(&self.sql(&format!(
            "SELECT {RECORD_COLS} FROM bods_records r WHERE r.record_id IN
               (SELECT record_id FROM bods_identifiers WHERE org_key = ? OR id_key = ?)
             OR r.record_id = ?
             ORDER BY r.name_key, r.record_id LIMIT ?"
        )))
        .bind(upper.as_str())
        .bind(upper.as_str())
        .bind(q)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        for r in &by_id {
            out.push(record_from(r)?);
        }
        let words: Vec<String> = q
            .to_lowercase()
            .split_whitespace()
            .take(8)
            .map(|w| format!("%{}%", w.replace(['%', '_', '\\'], "")))
            .collect();
        if !words.is_empty() && (out.len() as i64) < limit {
            let conditions = vec!["r.name_key LIKE ?"; words.len()].join(" AND ");
            let sql = self.sql(&format!(
                "SELECT {RECORD_COLS} FROM bods_records r WHERE {type_filter} AND {conditions}
                 ORDER BY r.is_current DESC, r.name_key, r.record_id LIMIT ?"
            ));
            let mut query = sqlx::query(&sql).persistent(false);
            for w in &words {
                query = query.bind(w.as_str());
            }
            for r in query.bind(limit).fetch_all(&self.pool).await? {
                let rec = record_from(&r)?;
                if !out.iter().any(|o| o.record_id == rec.record_id) {
                    out.push(rec);
                }
            }
        }
        out.retain(|r| match search.record_type.as_deref() {
            Some(t) => r.record_type == t,
            None => r.record_type != "relationship",
        });
        out.truncate(limit as usize);
        Ok(out)
    }

    pub async fn bods_record(&self, record_id: &str) -> Result<Option<BodsRecord>, StoreError> {
        let row = sqlx::query(&self.sql(&format!(
            "SELECT {RECORD_COLS} FROM bods_records r WHERE r.record_id = ?"
        )))
        .bind(record_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(record_from).transpose()?)
    }

    /// An entity's identifiers: (scheme, id).
    pub async fn bods_identifiers_of(
        &self,
        record_id: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(&self.sql(
            "SELECT scheme, id FROM bods_identifiers WHERE record_id = ? ORDER BY scheme, id",
        ))
        .bind(record_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// A record's statements in publication order, in their public form.
    pub async fn bods_statements_of(&self, record_id: &str) -> Result<Vec<Value>, StoreError> {
        let rows = sqlx::query(
            &self
                .sql("SELECT raw FROM bods_statements WHERE record_id = ? ORDER BY seq LIMIT 1000"),
        )
        .bind(record_id)
        .fetch_all(&self.pool)
        .await?;
        let policy = self.policy().await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let raw: String = r.try_get(0)?;
            if let Ok(v) = serde_json::from_str::<Value>(&raw) {
                out.push(public_statement(&v, &policy));
            }
        }
        Ok(out)
    }

    /// Relationships whose subject is the entity (its direct owners and
    /// controllers, current and ended).
    pub async fn bods_owners_direct(
        &self,
        subject_id: &str,
    ) -> Result<Vec<BodsRelationship>, StoreError> {
        self.relationships_where("l.subject_id = ?", subject_id)
            .await
    }

    /// Relationships whose interested party is the record (what it holds directly).
    pub async fn bods_holdings(&self, party_id: &str) -> Result<Vec<BodsRelationship>, StoreError> {
        self.relationships_where("l.party_id = ?", party_id).await
    }

    async fn relationships_where(
        &self,
        condition: &str,
        value: &str,
    ) -> Result<Vec<BodsRelationship>, StoreError> {
        let rows = sqlx::query(&self.sql(&format!(
            "{RELATIONSHIP_SELECT} WHERE {condition}
             ORDER BY l.is_current DESC, l.share_max DESC, l.record_id LIMIT 5000"
        )))
        .bind(value)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(relationship_from)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Relationships by record id (for drawing the chains of ultimate owners).
    pub async fn bods_relationships(
        &self,
        record_ids: &[String],
    ) -> Result<Vec<BodsRelationship>, StoreError> {
        let mut out = Vec::new();
        for chunk in record_ids.chunks(MAX_PARAMS / 2) {
            let sql = self.sql(&format!(
                "{RELATIONSHIP_SELECT} WHERE l.record_id IN ({})",
                crate::placeholders(chunk.len())
            ));
            let mut q = sqlx::query(&sql).persistent(false);
            for id in chunk {
                q = q.bind(id.as_str());
            }
            for r in q.fetch_all(&self.pool).await? {
                out.push(relationship_from(&r)?);
            }
        }
        Ok(out)
    }

    /// Ultimate owners of an entity, largest share first.
    pub async fn bods_ultimate_owners(
        &self,
        subject_id: &str,
    ) -> Result<Vec<BodsOwner>, StoreError> {
        let rows = sqlx::query(&self.sql(&format!(
            "SELECT {OWNER_COLS} FROM bods_owners WHERE subject_id = ? ORDER BY position"
        )))
        .bind(subject_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(owner_from)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Entities of which the record (a person, usually) is an ultimate owner.
    pub async fn bods_ultimately_owned(
        &self,
        owner_id: &str,
    ) -> Result<Vec<BodsOwner>, StoreError> {
        let rows = sqlx::query(&self.sql(&format!(
            "SELECT {OWNER_COLS} FROM bods_owners WHERE owner_id = ? ORDER BY subject_id LIMIT 5000"
        )))
        .bind(owner_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(owner_from)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Procurement organisations whose identifier (`SCHEME-ID`) is one of the
    /// entity's identifiers.
    pub async fn bods_links_of_entities(
        &self,
        record_ids: &[String],
    ) -> Result<Vec<BodsLink>, StoreError> {
        let mut out = Vec::new();
        for chunk in record_ids.chunks(MAX_PARAMS / 2) {
            let sql = self.sql(&format!(
                "SELECT o.org_id, o.name, i.record_id, COALESCE(r.name, '') FROM bods_identifiers i
                 JOIN organisations o ON UPPER(o.org_id) = i.org_key
                 LEFT JOIN bods_records r ON r.record_id = i.record_id
                 WHERE i.record_id IN ({}) ORDER BY o.org_id",
                crate::placeholders(chunk.len())
            ));
            let mut q = sqlx::query(&sql).persistent(false);
            for id in chunk {
                q = q.bind(id.as_str());
            }
            for r in q.fetch_all(&self.pool).await? {
                out.push(BodsLink {
                    org_id: r.try_get(0)?,
                    org_name: r.try_get(1)?,
                    record_id: r.try_get(2)?,
                    entity_name: r.try_get(3)?,
                });
            }
        }
        Ok(out)
    }

    /// Register entities matching a procurement organisation's identifier.
    pub async fn bods_entities_of_org(&self, org_id: &str) -> Result<Vec<BodsLink>, StoreError> {
        let rows = sqlx::query(&self.sql(
            "SELECT i.record_id, COALESCE(r.name, '') FROM bods_identifiers i
             LEFT JOIN bods_records r ON r.record_id = i.record_id
             WHERE i.org_key = ? ORDER BY i.record_id",
        ))
        .bind(org_id.trim().to_uppercase())
        .fetch_all(&self.pool)
        .await?;
        let org_name = self
            .organisation_name(org_id)
            .await?
            .unwrap_or_else(|| org_id.to_owned());
        rows.iter()
            .map(|r| {
                Ok(BodsLink {
                    org_id: org_id.to_owned(),
                    org_name: org_name.clone(),
                    record_id: r.try_get(0)?,
                    entity_name: r.try_get(1)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    async fn organisation_name(&self, org_id: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(&self.sql("SELECT name FROM organisations WHERE org_id = ?"))
            .bind(org_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Contracts awarded to the procurement organisations linked to these entities.
    pub async fn bods_contracts_won(
        &self,
        record_ids: &[String],
    ) -> Result<Vec<WonContract>, StoreError> {
        let links = self.bods_links_of_entities(record_ids).await?;
        let mut out = Vec::new();
        for link in &links {
            let rows = sqlx::query(&self.sql(
                "SELECT p.ocid, r.title, r.buyer_name, p.amount, p.currency, r.date FROM process_parties p
                 JOIN records r ON r.ocid = p.ocid
                 WHERE p.org_id = ? AND p.role = 'supplier' ORDER BY r.date DESC, p.ocid LIMIT 500",
            ))
            .bind(link.org_id.as_str())
            .fetch_all(&self.pool)
            .await?;
            for r in rows {
                out.push(WonContract {
                    ocid: r.try_get(0)?,
                    title: r.try_get(1)?,
                    buyer_name: r.try_get(2)?,
                    supplier_id: link.org_id.clone(),
                    supplier_name: link.org_name.clone(),
                    entity_id: link.record_id.clone(),
                    amount: r.try_get(3)?,
                    currency: r.try_get(4)?,
                    date: r.try_get(5)?,
                });
            }
        }
        out.sort_by(|a, b| b.date.cmp(&a.date).then(a.ocid.cmp(&b.ocid)));
        Ok(out)
    }

    /// Every stored statement in its public form, in publication order, a page
    /// at a time (the bulk download streams these).
    pub async fn bods_export_page(
        &self,
        after_seq: i64,
        limit: i64,
        policy: &Policy,
    ) -> Result<(Vec<Value>, Option<i64>), StoreError> {
        let rows = sqlx::query(
            &self.sql("SELECT seq, raw FROM bods_statements WHERE seq > ? ORDER BY seq LIMIT ?"),
        )
        .bind(after_seq)
        .bind(limit.clamp(1, 10_000))
        .fetch_all(&self.pool)
        .await?;
        let last = match rows.last() {
            Some(r) => Some(r.try_get::<i64, _>(0)?),
            None => None,
        };
        let raws: Vec<String> = rows
            .iter()
            .map(|r| r.try_get(1))
            .collect::<Result<_, sqlx::Error>>()?;
        let out = tokio::task::block_in_place(|| {
            raws.par_iter()
                .filter_map(|raw| serde_json::from_str::<Value>(raw).ok())
                .map(|v| public_statement(&v, policy))
                .collect()
        });
        Ok((out, last))
    }

    /// The policy the public outputs are made under.
    pub async fn bods_policy(&self) -> Result<Policy, StoreError> {
        self.policy().await
    }

    /// Quarantined statements, newest first (reasons only).
    pub async fn bods_quarantine(&self, limit: i64) -> Result<Vec<BodsQuarantined>, StoreError> {
        let rows = sqlx::query(&self.sql(
            "SELECT statement_id, reason, message, path, source_file, source_line, publisher, received_at
             FROM bods_quarantine ORDER BY received_at DESC, source_file, source_line LIMIT ?",
        ))
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(BodsQuarantined {
                    statement_id: r.try_get(0)?,
                    reason: r.try_get(1)?,
                    message: r.try_get(2)?,
                    path: r.try_get(3)?,
                    source_file: r.try_get(4)?,
                    source_line: r.try_get(5)?,
                    publisher: r.try_get(6)?,
                    received_at: r.try_get(7)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Resolved ownership of every register entity matched to a procurement
    /// organisation, keyed by `SCHEME-ID` (upper case): what the ownership flags read.
    pub async fn bods_declarations(
        &self,
    ) -> Result<HashMap<String, (String, String, Vec<BodsOwner>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT i.org_key, i.record_id, COALESCE(r.name, '') FROM bods_identifiers i
             LEFT JOIN bods_records r ON r.record_id = i.record_id
             WHERE i.org_key IN (SELECT UPPER(org_id) FROM organisations)",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: HashMap<String, (String, String, Vec<BodsOwner>)> = HashMap::new();
        let mut seen: HashSet<String> = HashSet::new();
        for r in rows {
            let key: String = r.try_get(0)?;
            let record_id: String = r.try_get(1)?;
            let name: String = r.try_get(2)?;
            if !seen.insert(key.clone()) {
                continue;
            }
            let owners = self.bods_ultimate_owners(&record_id).await?;
            out.insert(key, (record_id, name, owners));
        }
        Ok(out)
    }
}

//! The action plan: the plan document as imported (every version kept), each commitment's
//! progress report per period (every version kept: imports and agencies' updates, with who,
//! when and through what), and the public's questions with their moderation and answers.
//!
//! Nothing is overwritten. The plan as it stands is the latest imported document with each
//! commitment's progress replaced by the latest stored version of each period's report.
//!
//! Writers take the `plan_seq` row of `meta` first (an update of that row, in the writer's
//! transaction): on PostgreSQL that is a row lock, on SQLite the database's write lock, so
//! two writers never give out the same version number, and a version read inside the
//! transaction is still the latest when the new one is written.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use tuwhera_plan::{validate, validate_progress, Plan, ProgressReport};

use crate::tokens::random_hex;
use crate::{now, sha256_hex, Store, StoreError, TokenInfo};

/// The longest question accepted, in characters.
pub const QUESTION_MAX: usize = 2000;
/// The longest name a person asking may give, in characters.
pub const NAME_MAX: usize = 100;
/// The longest answer accepted, in characters.
pub const ANSWER_MAX: usize = 10_000;
/// The longest moderation note or change note accepted, in characters.
pub const NOTE_MAX: usize = 500;

/// What one `plan import` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct PlanImportSummary {
    /// The plan document's version after the import (1 after the first).
    pub version: i64,
    /// Whether the import recorded a new version of the plan document.
    pub plan_changed: bool,
    /// Progress reports recorded as a new version.
    pub progress_new: u64,
    /// Progress reports the same as the last import of them, or as they stand.
    pub progress_unchanged: u64,
}

/// One version of one commitment's report for one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgressVersion {
    /// Orders every change to the plan's progress, across commitments.
    pub change_id: i64,
    pub commitment: u32,
    pub period: String,
    /// From 1, per commitment and period.
    pub version: i64,
    pub report: ProgressReport,
    /// `import` (from a plan file) or `update` (by the lead agency).
    pub kind: String,
    /// Who: the agency (the token's publisher), or the importer.
    pub publisher: String,
    /// The token that made an update.
    pub token_id: Option<String>,
    /// Through what: the imported file's name, `web form` or `API`.
    pub via: String,
    /// What the author said about the change, if anything.
    pub note: Option<String>,
    pub changed_at: String,
    /// SHA-256 of the report's JSON.
    pub content_hash: String,
}

/// One imported version of the plan document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanVersionInfo {
    pub version: i64,
    pub plan_id: String,
    pub content_hash: String,
    pub source: String,
    pub imported_at: String,
}

/// The plan as it stands.
#[derive(Debug, Clone)]
pub struct CurrentPlan {
    /// The latest imported document, each commitment's progress the latest versions.
    pub plan: Plan,
    /// The document's version, where it came from and when.
    pub info: PlanVersionInfo,
    /// The latest version of every commitment's report for every period.
    pub latest: Vec<ProgressVersion>,
}

impl CurrentPlan {
    /// The latest version of commitment `n`'s report for `period`.
    pub fn latest(&self, n: u32, period: &str) -> Option<&ProgressVersion> {
        self.latest
            .iter()
            .find(|v| v.commitment == n && v.period == period)
    }

    /// The last change to any progress report, or the import, whichever is later.
    pub fn updated_at(&self) -> &str {
        self.latest
            .iter()
            .map(|v| v.changed_at.as_str())
            .chain([self.info.imported_at.as_str()])
            .max()
            .unwrap_or_default()
    }
}

/// What an update did: the version that stands after it, and whether it is new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressUpdate {
    pub version: ProgressVersion,
    /// False when the report was the same as the latest version (nothing was recorded).
    pub changed: bool,
}

/// A question from the public on a commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Question {
    pub id: String,
    pub commitment: u32,
    pub asked_at: String,
    /// The name the person gave, if any (published with the question).
    pub name: Option<String>,
    pub question: String,
    /// `pending` (held for moderation), `published` or `rejected`.
    pub status: String,
    pub moderated_at: Option<String>,
    /// The moderator's agency.
    pub moderated_by: Option<String>,
    pub moderation_note: Option<String>,
    /// The lead agency's answer (the latest, if it was revised).
    pub answer: Option<String>,
    pub answered_at: Option<String>,
    pub answered_by: Option<String>,
}

/// One thing done to a question: `asked`, `published`, `rejected` or `answered`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuestionEvent {
    pub seq: i64,
    pub action: String,
    pub publisher: Option<String>,
    pub token_id: Option<String>,
    pub at: String,
    /// The answer given, or the moderator's note.
    pub text: Option<String>,
}

fn invalid(field: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field,
        message: message.into(),
    }
}

/// Text from a person, made tidy and checked: line breaks as `\n`, no other control
/// characters (which no one types, and which XML, and so the Atom feed, cannot carry),
/// trimmed, not empty, at most `max` characters.
pub fn clean_text(
    field: &'static str,
    text: &str,
    max: usize,
    multiline: bool,
) -> Result<String, StoreError> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid(field, format!("{field} is empty")));
    }
    let count = text.chars().count();
    if count > max {
        return Err(invalid(
            field,
            format!("{field} is {count} characters long; at most {max} are accepted"),
        ));
    }
    let bad = |c: char| {
        (c.is_control() && !(multiline && (c == '\n' || c == '\t')))
            || matches!(c, '\u{fffe}' | '\u{ffff}')
    };
    if text.chars().any(bad) {
        return Err(invalid(
            field,
            format!(
                "{field} holds a control character{}",
                if multiline {
                    " other than a line break or a tab"
                } else {
                    " (a line break, say)"
                }
            ),
        ));
    }
    Ok(text.to_owned())
}

/// A question and the asker's name, checked (see [`clean_text`]): the question at most
/// [`QUESTION_MAX`] characters, the name (optional; blank is none) at most [`NAME_MAX`] on one line.
pub fn check_question(
    name: Option<&str>,
    question: &str,
) -> Result<(Option<String>, String), StoreError> {
    let question = clean_text("question", question, QUESTION_MAX, true)?;
    let name = match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => Some(clean_text("name", n, NAME_MAX, false)?),
        None => None,
    };
    Ok((name, question))
}

fn hash_of(report: &ProgressReport) -> Result<(String, String), StoreError> {
    let json = serde_json::to_string(report).map_err(|e| invalid("progress", e.to_string()))?;
    Ok((sha256_hex(json.as_bytes()), json))
}

const PROGRESS_COLS: &str = "change_id, commitment, period, version, content_hash, document, kind, publisher, token_id, via, note, changed_at";

fn progress_version(r: &AnyRow) -> Result<ProgressVersion, StoreError> {
    let document: String = r.try_get(5)?;
    let report: ProgressReport = serde_json::from_str(&document).map_err(|e| {
        invalid(
            "progress",
            format!("a stored progress report is unreadable: {e}"),
        )
    })?;
    Ok(ProgressVersion {
        change_id: r.try_get(0)?,
        commitment: u32::try_from(r.try_get::<i64, _>(1)?).unwrap_or_default(),
        period: r.try_get(2)?,
        version: r.try_get(3)?,
        content_hash: r.try_get(4)?,
        report,
        kind: r.try_get(6)?,
        publisher: r.try_get(7)?,
        token_id: r.try_get(8)?,
        via: r.try_get(9)?,
        note: r.try_get(10)?,
        changed_at: r.try_get(11)?,
    })
}

const QUESTION_COLS: &str = "question_id, commitment, asked_at, name, question, status, moderated_at, moderated_by, moderation_note, answer, answered_at, answered_by";

fn question(r: &AnyRow) -> Result<Question, StoreError> {
    Ok(Question {
        id: r.try_get(0)?,
        commitment: u32::try_from(r.try_get::<i64, _>(1)?).unwrap_or_default(),
        asked_at: r.try_get(2)?,
        name: r.try_get(3)?,
        question: r.try_get(4)?,
        status: r.try_get(5)?,
        moderated_at: r.try_get(6)?,
        moderated_by: r.try_get(7)?,
        moderation_note: r.try_get(8)?,
        answer: r.try_get(9)?,
        answered_at: r.try_get(10)?,
        answered_by: r.try_get(11)?,
    })
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

impl Store {
    /// Begin a plan writer's transaction holding the `plan_seq` row; returns the sequence's value.
    async fn plan_writer(&self) -> Result<(Tx<'_>, i64), StoreError> {
        let mut tx = self.pool.begin().await?;
        let row =
            sqlx::query("UPDATE meta SET value = value WHERE key = 'plan_seq' RETURNING value")
                .fetch_one(&mut *tx)
                .await?;
        Ok((tx, row.try_get(0)?))
    }

    async fn set_plan_seq(&self, tx: &mut Tx<'_>, seq: i64) -> Result<(), StoreError> {
        sqlx::query(&self.sql("UPDATE meta SET value = ? WHERE key = 'plan_seq'"))
            .bind(seq)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// The latest two versions' hashes of a commitment's report for a period: the latest of
    /// any kind, and the latest import; and the latest version number.
    async fn progress_heads(
        &self,
        tx: &mut Tx<'_>,
        n: u32,
        period: &str,
    ) -> Result<(i64, Option<String>, Option<String>), StoreError> {
        let rows = sqlx::query(&self.sql(
            "SELECT version, content_hash, kind FROM plan_progress WHERE commitment = ? AND period = ? ORDER BY version DESC",
        ))
        .bind(i64::from(n))
        .bind(period)
        .fetch_all(&mut **tx)
        .await?;
        let mut latest = None;
        let mut imported = None;
        let mut version = 0;
        for (i, r) in rows.iter().enumerate() {
            let hash: String = r.try_get(1)?;
            if i == 0 {
                version = r.try_get(0)?;
                latest = Some(hash.clone());
            }
            if imported.is_none() && r.try_get::<String, _>(2)? == "import" {
                imported = Some(hash);
            }
        }
        Ok((version, latest, imported))
    }

    /// Store a plan read from `source` (a file name). The same plan again changes nothing.
    /// A changed plan is recorded as a new version of the document, and each progress report
    /// that differs from the last import of it (and from how it stands) as a new version of
    /// that report: an import does not undo an agency's later update unless the file itself
    /// changed that report. A plan with another `id` than the stored one is refused (the
    /// platform holds one plan).
    pub async fn plan_import(
        &self,
        plan: &Plan,
        source: &str,
        publisher: &str,
    ) -> Result<PlanImportSummary, StoreError> {
        let value = serde_json::to_value(plan).map_err(|e| invalid("plan", e.to_string()))?;
        let findings = validate(&value);
        if let Some(first) = findings.first() {
            return Err(invalid(
                "plan",
                format!(
                    "the plan is not valid ({} findings), first {first}",
                    findings.len()
                ),
            ));
        }
        let document = plan.to_json();
        let hash = sha256_hex(document.as_bytes());
        let at = now();
        let (mut tx, mut seq) = self.plan_writer().await?;
        let head = sqlx::query(
            "SELECT version, plan_id, content_hash FROM plan_versions ORDER BY version DESC LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let mut summary = PlanImportSummary::default();
        match &head {
            Some(r) => {
                let plan_id: String = r.try_get(1)?;
                if plan_id != plan.id {
                    return Err(StoreError::Conflict(format!(
                        "this database holds the plan {plan_id:?}; the file is the plan {:?}. One database holds one plan: use another database for another plan",
                        plan.id
                    )));
                }
                summary.version = r.try_get(0)?;
                summary.plan_changed = r.try_get::<String, _>(2)? != hash;
            }
            None => summary.plan_changed = true,
        }
        if summary.plan_changed {
            summary.version += 1;
            sqlx::query(&self.sql(
                "INSERT INTO plan_versions (version, plan_id, content_hash, document, source, imported_at) VALUES (?, ?, ?, ?, ?, ?)",
            ))
            .bind(summary.version)
            .bind(&plan.id)
            .bind(&hash)
            .bind(&document)
            .bind(source)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        }
        for commitment in &plan.commitments {
            for report in &commitment.progress {
                let (version, latest, imported) = self
                    .progress_heads(&mut tx, commitment.number, &report.period)
                    .await?;
                let (report_hash, json) = hash_of(report)?;
                if latest.as_ref() == Some(&report_hash) || imported.as_ref() == Some(&report_hash)
                {
                    summary.progress_unchanged += 1;
                    continue;
                }
                seq += 1;
                self.insert_progress(
                    &mut tx,
                    seq,
                    commitment.number,
                    &report.period,
                    version + 1,
                    (&report_hash, &json),
                    ("import", publisher, None, source, None),
                    &at,
                )
                .await?;
                summary.progress_new += 1;
            }
        }
        self.set_plan_seq(&mut tx, seq).await?;
        tx.commit().await?;
        Ok(summary)
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_progress(
        &self,
        tx: &mut Tx<'_>,
        change_id: i64,
        n: u32,
        period: &str,
        version: i64,
        (hash, json): (&str, &str),
        (kind, publisher, token_id, via, note): (&str, &str, Option<&str>, &str, Option<&str>),
        at: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(&self.sql(&format!(
            "INSERT INTO plan_progress ({PROGRESS_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )))
        .bind(change_id)
        .bind(i64::from(n))
        .bind(period)
        .bind(version)
        .bind(hash)
        .bind(json)
        .bind(kind)
        .bind(publisher)
        .bind(token_id.map(str::to_owned))
        .bind(via)
        .bind(note.map(str::to_owned))
        .bind(at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Every imported version of the plan document, oldest first.
    pub async fn plan_versions(&self) -> Result<Vec<PlanVersionInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, plan_id, content_hash, source, imported_at FROM plan_versions ORDER BY version",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PlanVersionInfo {
                    version: r.try_get(0)?,
                    plan_id: r.try_get(1)?,
                    content_hash: r.try_get(2)?,
                    source: r.try_get(3)?,
                    imported_at: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// The plan as it stands, or `None` before the first import.
    pub async fn plan_current(&self) -> Result<Option<CurrentPlan>, StoreError> {
        let Some(head) = sqlx::query(
            "SELECT version, plan_id, content_hash, source, imported_at, document FROM plan_versions ORDER BY version DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let info = PlanVersionInfo {
            version: head.try_get(0)?,
            plan_id: head.try_get(1)?,
            content_hash: head.try_get(2)?,
            source: head.try_get(3)?,
            imported_at: head.try_get(4)?,
        };
        let document: String = head.try_get(5)?;
        let mut plan = Plan::from_json(&document)
            .map_err(|e| invalid("plan", format!("the stored plan is unreadable: {e}")))?;
        let rows = sqlx::query(&format!(
            "SELECT {PROGRESS_COLS} FROM plan_progress p WHERE version = (SELECT MAX(version) FROM plan_progress q WHERE q.commitment = p.commitment AND q.period = p.period) ORDER BY commitment, change_id"
        ))
        .fetch_all(&self.pool)
        .await?;
        let latest = rows
            .iter()
            .map(progress_version)
            .collect::<Result<Vec<_>, _>>()?;
        let periods: Vec<String> = plan.periods().into_iter().map(str::to_owned).collect();
        let rank = |period: &str| {
            periods
                .iter()
                .position(|p| p == period)
                .unwrap_or(periods.len())
        };
        for commitment in &mut plan.commitments {
            let mut progress: Vec<&ProgressVersion> = latest
                .iter()
                .filter(|v| v.commitment == commitment.number)
                .collect();
            progress
                .sort_by(|a, b| (rank(&a.period), &a.period).cmp(&(rank(&b.period), &b.period)));
            commitment.progress = progress.into_iter().map(|v| v.report.clone()).collect();
        }
        Ok(Some(CurrentPlan { plan, info, latest }))
    }

    /// Record a new version of commitment `n`'s report for its period, by the lead agency
    /// (`token` must have `plan:N`). `expected` is the version the change was made on: if
    /// another has been recorded since, nothing is stored and the answer is a conflict.
    /// A report the same as the latest version records nothing.
    pub async fn plan_update_progress(
        &self,
        n: u32,
        report: &ProgressReport,
        token: &TokenInfo,
        via: &str,
        note: Option<&str>,
        expected: Option<i64>,
    ) -> Result<ProgressUpdate, StoreError> {
        if !token.may_update_commitment(n) {
            return Err(StoreError::Forbidden(format!(
                "this token (of {}) may not change commitment {n}: that needs the scope plan:{n}",
                token.publisher
            )));
        }
        let note = match note.map(str::trim).filter(|s| !s.is_empty()) {
            Some(note) => Some(clean_text("note", note, NOTE_MAX, false)?),
            None => None,
        };
        let current = self
            .plan_current()
            .await?
            .ok_or_else(|| StoreError::NotFound("no plan has been imported yet".into()))?;
        if current.plan.commitment(n).is_none() {
            return Err(StoreError::NotFound(format!(
                "the plan has no commitment {n}"
            )));
        }
        let findings = validate_progress(&current.plan, n, report);
        if let Some(first) = findings.first() {
            return Err(invalid("progress", first.to_string()));
        }
        let (hash, json) = hash_of(report)?;
        let at = now();
        let (mut tx, seq) = self.plan_writer().await?;
        let (version, latest, _) = self.progress_heads(&mut tx, n, &report.period).await?;
        if let Some(expected) = expected {
            if expected != version {
                return Err(StoreError::Conflict(format!(
                    "commitment {n}'s report for {} is at version {version}, not {expected}: someone changed it meanwhile; reload it, and make the change again",
                    report.period
                )));
            }
        }
        if latest.as_deref() == Some(hash.as_str()) {
            drop(tx);
            let standing = self
                .plan_progress_version(n, &report.period, version)
                .await?
                .ok_or_else(|| StoreError::NotFound("the latest version vanished".into()))?;
            return Ok(ProgressUpdate {
                version: standing,
                changed: false,
            });
        }
        let change_id = seq + 1;
        self.insert_progress(
            &mut tx,
            change_id,
            n,
            &report.period,
            version + 1,
            (&hash, &json),
            (
                "update",
                &token.publisher,
                Some(&token.token_id),
                via,
                note.as_deref(),
            ),
            &at,
        )
        .await?;
        self.set_plan_seq(&mut tx, change_id).await?;
        tx.commit().await?;
        Ok(ProgressUpdate {
            version: ProgressVersion {
                change_id,
                commitment: n,
                period: report.period.clone(),
                version: version + 1,
                report: report.clone(),
                kind: "update".into(),
                publisher: token.publisher.clone(),
                token_id: Some(token.token_id.clone()),
                via: via.to_owned(),
                note,
                changed_at: at,
                content_hash: hash,
            },
            changed: true,
        })
    }

    /// Every version of every period's report of commitment `n`: by period, oldest first.
    pub async fn plan_history(&self, n: u32) -> Result<Vec<ProgressVersion>, StoreError> {
        let rows = sqlx::query(&self.sql(&format!(
            "SELECT {PROGRESS_COLS} FROM plan_progress WHERE commitment = ? ORDER BY period, version"
        )))
        .bind(i64::from(n))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(progress_version).collect()
    }

    /// One version of commitment `n`'s report for `period`.
    pub async fn plan_progress_version(
        &self,
        n: u32,
        period: &str,
        version: i64,
    ) -> Result<Option<ProgressVersion>, StoreError> {
        let row = sqlx::query(&self.sql(&format!(
            "SELECT {PROGRESS_COLS} FROM plan_progress WHERE commitment = ? AND period = ? AND version = ?"
        )))
        .bind(i64::from(n))
        .bind(period)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(progress_version).transpose()
    }

    /// The latest changes to progress, newest first (for the feed).
    pub async fn plan_recent_changes(
        &self,
        limit: i64,
    ) -> Result<Vec<ProgressVersion>, StoreError> {
        let rows = sqlx::query(&self.sql(&format!(
            "SELECT {PROGRESS_COLS} FROM plan_progress ORDER BY change_id DESC LIMIT ?"
        )))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(progress_version).collect()
    }

    async fn question_event(
        &self,
        tx: &mut Tx<'_>,
        id: &str,
        action: &str,
        token: Option<&TokenInfo>,
        text: Option<&str>,
        at: &str,
    ) -> Result<(), StoreError> {
        let row =
            sqlx::query(&self.sql(
                "SELECT COALESCE(MAX(seq), 0) FROM plan_question_events WHERE question_id = ?",
            ))
            .bind(id)
            .fetch_one(&mut **tx)
            .await?;
        let seq: i64 = row.try_get(0)?;
        sqlx::query(&self.sql(
            "INSERT INTO plan_question_events (question_id, seq, action, publisher, token_id, at, text) VALUES (?, ?, ?, ?, ?, ?, ?)",
        ))
        .bind(id)
        .bind(seq + 1)
        .bind(action)
        .bind(token.map(|t| t.publisher.clone()))
        .bind(token.map(|t| t.token_id.clone()))
        .bind(at)
        .bind(text.map(str::to_owned))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Hold a question from the public on commitment `n` for moderation. The name and the
    /// question are checked with [`check_question`].
    pub async fn question_ask(
        &self,
        n: u32,
        name: Option<&str>,
        text: &str,
    ) -> Result<Question, StoreError> {
        let (name, text) = check_question(name, text)?;
        let current = self
            .plan_current()
            .await?
            .ok_or_else(|| StoreError::NotFound("no plan has been imported yet".into()))?;
        if current.plan.commitment(n).is_none() {
            return Err(StoreError::NotFound(format!(
                "the plan has no commitment {n}"
            )));
        }
        let q = Question {
            id: random_hex(8)?,
            commitment: n,
            asked_at: now(),
            name,
            question: text,
            status: "pending".into(),
            moderated_at: None,
            moderated_by: None,
            moderation_note: None,
            answer: None,
            answered_at: None,
            answered_by: None,
        };
        let (mut tx, _) = self.plan_writer().await?;
        sqlx::query(&self.sql(
            "INSERT INTO plan_questions (question_id, commitment, asked_at, name, question, status) VALUES (?, ?, ?, ?, ?, ?)",
        ))
        .bind(&q.id)
        .bind(i64::from(n))
        .bind(&q.asked_at)
        .bind(q.name.clone())
        .bind(&q.question)
        .bind(&q.status)
        .execute(&mut *tx)
        .await?;
        self.question_event(&mut tx, &q.id, "asked", None, None, &q.asked_at)
            .await?;
        tx.commit().await?;
        Ok(q)
    }

    /// One question, whatever its state.
    pub async fn question(&self, id: &str) -> Result<Option<Question>, StoreError> {
        let row = sqlx::query(&self.sql(&format!(
            "SELECT {QUESTION_COLS} FROM plan_questions WHERE question_id = ?"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(question).transpose()
    }

    /// Questions in a state (`pending`, `published`, `rejected`), of one commitment or all;
    /// oldest first.
    pub async fn questions(
        &self,
        n: Option<u32>,
        status: &str,
    ) -> Result<Vec<Question>, StoreError> {
        let rows = match n {
            Some(n) => {
                sqlx::query(&self.sql(&format!(
                    "SELECT {QUESTION_COLS} FROM plan_questions WHERE commitment = ? AND status = ? ORDER BY asked_at, question_id"
                )))
                .bind(i64::from(n))
                .bind(status)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&self.sql(&format!(
                    "SELECT {QUESTION_COLS} FROM plan_questions WHERE status = ? ORDER BY asked_at, question_id"
                )))
                .bind(status)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(question).collect()
    }

    /// How many questions on commitment `n` are in each state: (pending, published, rejected).
    pub async fn question_counts(&self, n: u32) -> Result<(i64, i64, i64), StoreError> {
        let rows = sqlx::query(&self.sql(
            "SELECT status, COUNT(*) FROM plan_questions WHERE commitment = ? GROUP BY status",
        ))
        .bind(i64::from(n))
        .fetch_all(&self.pool)
        .await?;
        let mut counts = (0, 0, 0);
        for r in &rows {
            let count: i64 = r.try_get(1)?;
            match r.try_get::<String, _>(0)?.as_str() {
                "pending" => counts.0 = count,
                "published" => counts.1 = count,
                "rejected" => counts.2 = count,
                _ => {}
            }
        }
        Ok(counts)
    }

    /// Everything done to a question, in order.
    pub async fn question_events(&self, id: &str) -> Result<Vec<QuestionEvent>, StoreError> {
        let rows = sqlx::query(&self.sql(
            "SELECT seq, action, publisher, token_id, at, text FROM plan_question_events WHERE question_id = ? ORDER BY seq",
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(QuestionEvent {
                    seq: r.try_get(0)?,
                    action: r.try_get(1)?,
                    publisher: r.try_get(2)?,
                    token_id: r.try_get(3)?,
                    at: r.try_get(4)?,
                    text: r.try_get(5)?,
                })
            })
            .collect()
    }

    async fn question_for(&self, id: &str) -> Result<Question, StoreError> {
        self.question(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no question has the id {id:?}")))
    }

    /// Publish (`approve`) or reject a question. `token` needs `plan:moderate` or the
    /// commitment's `plan:N`. A decision can be changed later (a published question taken
    /// down, a rejected one published); every decision is kept with who made it.
    pub async fn question_moderate(
        &self,
        id: &str,
        approve: bool,
        note: Option<&str>,
        token: &TokenInfo,
    ) -> Result<Question, StoreError> {
        let q = self.question_for(id).await?;
        if !token.may_moderate(q.commitment) {
            return Err(StoreError::Forbidden(format!(
                "this token (of {}) may not moderate questions on commitment {}: that needs plan:moderate or plan:{}",
                token.publisher, q.commitment, q.commitment
            )));
        }
        let note = match note.map(str::trim).filter(|s| !s.is_empty()) {
            Some(note) => Some(clean_text("note", note, NOTE_MAX, true)?),
            None => None,
        };
        let status = if approve { "published" } else { "rejected" };
        let at = now();
        let (mut tx, _) = self.plan_writer().await?;
        sqlx::query(&self.sql(
            "UPDATE plan_questions SET status = ?, moderated_at = ?, moderated_by = ?, moderation_note = ? WHERE question_id = ?",
        ))
        .bind(status)
        .bind(&at)
        .bind(&token.publisher)
        .bind(note.clone())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        self.question_event(&mut tx, id, status, Some(token), note.as_deref(), &at)
            .await?;
        tx.commit().await?;
        self.question_for(id).await
    }

    /// The lead agency's answer to a question (`token` needs the commitment's `plan:N`).
    /// Answering a question held for moderation publishes it; a rejected question cannot be
    /// answered. An answer may be revised: the question shows the latest, and every answer
    /// given stays in its events.
    pub async fn question_answer(
        &self,
        id: &str,
        answer: &str,
        token: &TokenInfo,
    ) -> Result<Question, StoreError> {
        let q = self.question_for(id).await?;
        if !token.may_update_commitment(q.commitment) {
            return Err(StoreError::Forbidden(format!(
                "this token (of {}) may not answer for commitment {}: that needs the lead agency's plan:{}",
                token.publisher, q.commitment, q.commitment
            )));
        }
        if q.status == "rejected" {
            return Err(StoreError::Conflict(
                "this question was rejected in moderation: publish it before answering it".into(),
            ));
        }
        let answer = clean_text("answer", answer, ANSWER_MAX, true)?;
        let at = now();
        let (mut tx, _) = self.plan_writer().await?;
        if q.status == "pending" {
            sqlx::query(&self.sql(
                "UPDATE plan_questions SET status = 'published', moderated_at = ?, moderated_by = ? WHERE question_id = ?",
            ))
            .bind(&at)
            .bind(&token.publisher)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            self.question_event(&mut tx, id, "published", Some(token), None, &at)
                .await?;
        }
        sqlx::query(&self.sql(
            "UPDATE plan_questions SET answer = ?, answered_at = ?, answered_by = ? WHERE question_id = ?",
        ))
        .bind(&answer)
        .bind(&at)
        .bind(&token.publisher)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        self.question_event(&mut tx, id, "answered", Some(token), Some(&answer), &at)
            .await?;
        tx.commit().await?;
        self.question_for(id).await
    }

    /// Published questions that have an answer, latest answer first (for the feed).
    pub async fn questions_answered(&self, limit: i64) -> Result<Vec<Question>, StoreError> {
        let rows = sqlx::query(&self.sql(&format!(
            "SELECT {QUESTION_COLS} FROM plan_questions WHERE status = 'published' AND answer IS NOT NULL ORDER BY answered_at DESC, question_id LIMIT ?"
        )))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(question).collect()
    }
}

//! Red flags, Procurement Rules findings and data-quality snapshots, computed
//! from the compiled records and kept beside them.
//!
//! Several indicators compare each process with all the others (quartiles of
//! price gaps, of disqualification rates…), so a change to one process can move
//! another's flag. [`Store::refresh_risk`] therefore recomputes everything in
//! one streaming pass whenever the data version has moved since the last pass,
//! and swaps the results in one transaction: readers see the old results or the
//! new, never half of each. The pass reads records a page at a time and works on
//! every core; on the 42,000-process benchmark set it takes seconds.
//!
//! Outlier fences are computed per publisher (ocid prefix): procurement systems
//! differ, and one publisher's habits must not set another's thresholds.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use tuwhera_flags::{quality, rules, Engine, Flag, Settings};

use crate::query::{bind_all, decode_cursor, encode_cursor, Param};
use crate::{row_placeholders, Store, StoreError, MAX_PARAMS};

/// Records read per page in a refresh.
const PAGE: i64 = 2000;

/// What a refresh did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RefreshSummary {
    /// False when nothing had changed since the last refresh.
    pub ran: bool,
    pub processes: u64,
    pub flags: u64,
    pub findings: u64,
    pub publishers: u64,
    pub data_version: i64,
}

/// A stored flag.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredFlag {
    pub code: String,
    pub subject_kind: String,
    pub subject_id: String,
    pub value: f64,
    pub reason: String,
    pub details: Value,
    pub organisations: Vec<String>,
    pub publisher: String,
}

/// A stored Procurement Rules finding.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredFinding {
    pub ocid: String,
    pub code: String,
    pub edition: String,
    pub rule: String,
    pub buyer_id: Option<String>,
    pub buyer_name: Option<String>,
    pub outcome: String,
    pub reason: String,
    pub details: Value,
}

/// One row of the risk list: a process and the flags on it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RiskRow {
    pub ocid: String,
    pub title: Option<String>,
    pub date: String,
    pub buyer_id: Option<String>,
    pub buyer_name: Option<String>,
    pub flag_count: i64,
    pub codes: Vec<String>,
}

/// A filter of the risk list.
#[derive(Debug, Clone, Default)]
pub struct RiskQuery {
    pub code: Option<String>,
    pub buyer: Option<String>,
    pub supplier: Option<String>,
    pub date_from: Option<String>,
    pub date_to: Option<String>,
    pub limit: u32,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RiskPage {
    pub results: Vec<RiskRow>,
    pub total: i64,
    pub next_cursor: Option<String>,
}

/// Flags raised per indicator, and on how many processes.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FlagCount {
    pub code: String,
    pub flags: i64,
    pub processes: i64,
}

/// One agency's compliance with one check.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ComplianceRate {
    pub buyer_id: String,
    pub buyer_name: Option<String>,
    pub code: String,
    pub met: i64,
    pub not_met: i64,
}

/// A publisher's data-quality snapshot.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QualitySnapshot {
    pub publisher: String,
    pub data_version: i64,
    pub taken_at: String,
    pub score: f64,
    pub report: Value,
}

/// The ocid prefix (`ocds-xxxxxx`) that names a publisher.
pub fn publisher_of(ocid: &str) -> &str {
    let mut dashes = ocid.match_indices('-').map(|(i, _)| i);
    match (dashes.next(), dashes.next()) {
        (Some(_), Some(second)) => &ocid[..second],
        _ => ocid,
    }
}

/// Everything one pass collects, per publisher.
#[derive(Default)]
struct Pass {
    partials: HashMap<String, tuwhera_flags::Partial>,
    quality: HashMap<String, quality::Quality>,
    /// Schema errors by rule, and processes with any, per publisher.
    schema: HashMap<String, (BTreeMap<String, u64>, u64)>,
    findings: Vec<rules::Finding>,
    splitting: rules::Splitting,
    /// Beneficial-ownership flags per publisher (they read the register).
    ownership: HashMap<String, tuwhera_flags::Ownership>,
}

impl Store {
    /// The flag settings in force (saved by `tuwhera flags --settings`), or the defaults.
    pub async fn flag_settings(&self) -> Result<(Settings, Option<String>), StoreError> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = 'flags'")
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok((Settings::default(), None));
        };
        let text: String = row.try_get(0)?;
        let settings = Settings::from_toml(&text).map_err(|e| StoreError::Invalid {
            field: "flag settings",
            message: e.to_string(),
        })?;
        Ok((settings, Some(text)))
    }

    /// Saves flag settings (TOML) and makes the next refresh run.
    pub async fn set_flag_settings(&self, toml_text: &str) -> Result<(), StoreError> {
        Settings::from_toml(toml_text).map_err(|e| StoreError::Invalid {
            field: "flag settings",
            message: e.to_string(),
        })?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(&self.sql("DELETE FROM settings WHERE key = 'flags'"))
            .execute(&mut *tx)
            .await?;
        sqlx::query(&self.sql("INSERT INTO settings (key, value) VALUES ('flags', ?)"))
            .bind(toml_text)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE meta SET value = -1 WHERE key = 'risk_version'")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether flags, findings and quality were computed on the current data.
    pub async fn risk_is_current(&self) -> Result<bool, StoreError> {
        Ok(self.risk_version().await? == self.data_version().await?)
    }

    /// The data version flags, findings and quality were last computed on (-1: never).
    pub async fn risk_version(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT value FROM meta WHERE key = 'risk_version'")
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get(0)?,
            None => -1,
        })
    }

    /// Recomputes flags, findings and quality if the data changed since the
    /// last time (or `force`).
    pub async fn refresh_risk(&self, force: bool) -> Result<RefreshSummary, StoreError> {
        let data_version = self.data_version().await?;
        if !force && self.risk_version().await? == data_version {
            return Ok(RefreshSummary {
                data_version,
                ..RefreshSummary::default()
            });
        }
        let (settings, _) = self.flag_settings().await?;
        let rules_settings = rules::RulesSettings::default();
        let engine = Engine::new(settings);
        // Without a register there is nothing to check suppliers against: every
        // supplier would be "undeclared". The ownership flags start with the register.
        let register = if self.bods_counts().await?.entities > 0 {
            Some(self.bods_declarations().await?)
        } else {
            None
        };
        let mut pass = Pass::default();
        let mut after = String::new();
        let mut processes = 0u64;
        loop {
            let rows = sqlx::query(
                &self
                    .sql("SELECT ocid, compiled FROM records WHERE ocid > ? ORDER BY ocid LIMIT ?"),
            )
            .bind(&after)
            .bind(PAGE)
            .fetch_all(&self.pool)
            .await?;
            let page: Vec<(String, String)> = rows
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_, sqlx::Error>>()?;
            let Some((last, _)) = page.last() else { break };
            after = last.clone();
            processes += page.len() as u64;
            // Parsing and judging are CPU work: every core, off the async threads.
            pass = tokio::task::block_in_place(|| {
                fold_page(&engine, &rules_settings, register.as_ref(), pass, page)
            });
        }

        let mut flags: Vec<(String, Flag)> = Vec::new();
        for (publisher, partial) in pass.partials {
            for flag in engine.finish(partial).flags {
                flags.push((publisher.clone(), flag));
            }
        }
        for (publisher, o) in pass.ownership {
            for flag in o.finish() {
                flags.push((publisher.clone(), flag));
            }
        }
        flags.sort_by(|a, b| (&a.1.code, &a.1.subject).cmp(&(&b.1.code, &b.1.subject)));
        let mut findings = pass.findings;
        findings.extend(pass.splitting.finish(&rules_settings));
        let quarantined = self.quarantined_by_publisher().await?;
        let mut schema = pass.schema;
        let reports: Vec<(String, quality::Report)> = pass
            .quality
            .into_iter()
            .map(|(p, q)| {
                let (errors, with_errors) = schema.remove(&p).unwrap_or_default();
                let held = quarantined.get(&p).copied().unwrap_or(0);
                let report = q.report().with_store(errors, with_errors, held);
                (p, report)
            })
            .collect();

        let summary = RefreshSummary {
            ran: true,
            processes,
            flags: flags.len() as u64,
            findings: findings.len() as u64,
            publishers: reports.len() as u64,
            data_version,
        };
        self.write_risk(data_version, flags, findings, reports)
            .await?;
        Ok(summary)
    }

    async fn write_risk(
        &self,
        data_version: i64,
        flags: Vec<(String, Flag)>,
        findings: Vec<rules::Finding>,
        reports: Vec<(String, quality::Report)>,
    ) -> Result<(), StoreError> {
        let at = crate::now_rfc3339();
        let mut tx = self.pool.begin().await?;
        for table in [
            "flags",
            "flag_processes",
            "process_risk",
            "findings",
            "flag_summary",
        ] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await?;
        }

        let mut flag_rows = Vec::with_capacity(flags.len());
        let mut link_rows = Vec::new();
        let mut per_process: BTreeMap<String, Vec<String>> = BTreeMap::new();
        // Per indicator: flags raised, and the distinct processes they concern.
        let mut per_code: BTreeMap<String, (i64, std::collections::BTreeSet<String>)> =
            BTreeMap::new();
        for (id, (publisher, flag)) in flags.into_iter().enumerate() {
            let id = id as i64;
            let summary = per_code.entry(flag.code.clone()).or_default();
            summary.0 += 1;
            summary.1.extend(flag.ocids.iter().cloned());
            for ocid in &flag.ocids {
                link_rows.push(vec![
                    Param::Text(ocid.clone()),
                    Param::Int(id),
                    Param::Text(flag.code.clone()),
                ]);
                per_process
                    .entry(ocid.clone())
                    .or_default()
                    .push(flag.code.clone());
            }
            flag_rows.push(vec![
                Param::Int(id),
                Param::Text(flag.code.clone()),
                Param::Text(flag.subject.kind().to_string()),
                Param::Text(flag.subject.id().to_string()),
                Param::Real(flag.value),
                Param::Text(flag.reason.clone()),
                Param::Text(Value::Object(flag.details).to_string()),
                Param::Text(serde_json::to_string(&flag.organisations).unwrap_or_default()),
                Param::Text(publisher),
            ]);
        }
        let risk_rows: Vec<Vec<Param>> = per_process
            .into_iter()
            .map(|(ocid, mut codes)| {
                let n = codes.len() as i64;
                codes.sort();
                codes.dedup();
                vec![
                    Param::Text(ocid),
                    Param::Int(n),
                    Param::Text(codes.join(" ")),
                ]
            })
            .collect();
        let finding_rows: Vec<Vec<Param>> = findings
            .into_iter()
            .map(|f| {
                let (buyer_id, buyer_name) = match &f.buyer {
                    Some(b) => (b.id.clone(), b.name.clone()),
                    None => (None, None),
                };
                vec![
                    Param::Text(f.ocid.clone()),
                    Param::Text(f.code.clone()),
                    Param::Text(f.edition.clone()),
                    Param::Text(f.rule.clone()),
                    opt(buyer_id),
                    opt(buyer_name),
                    Param::Text(f.outcome.as_str().to_string()),
                    Param::Text(f.reason.clone()),
                    Param::Text(Value::Object(f.details).to_string()),
                ]
            })
            .collect();
        let quality_rows: Vec<Vec<Param>> = reports
            .into_iter()
            .map(|(publisher, report)| {
                vec![
                    Param::Text(publisher),
                    Param::Int(data_version),
                    Param::Text(at.clone()),
                    Param::Real(report.score),
                    Param::Text(serde_json::to_string(&report).unwrap_or_default()),
                ]
            })
            .collect();

        self.insert_rows(
            &mut tx,
            "flags (flag_id, code, subject_kind, subject_id, value, reason, details, organisations, publisher)",
            flag_rows,
        )
        .await?;
        self.insert_rows(&mut tx, "flag_processes (ocid, flag_id, code)", link_rows)
            .await?;
        let summary_rows: Vec<Vec<Param>> = per_code
            .into_iter()
            .map(|(code, (flags, ocids))| {
                vec![
                    Param::Text(code),
                    Param::Int(flags),
                    Param::Int(ocids.len() as i64),
                ]
            })
            .collect();
        self.insert_rows(
            &mut tx,
            "flag_summary (code, flags, processes)",
            summary_rows,
        )
        .await?;
        self.insert_rows(&mut tx, "process_risk (ocid, flag_count, codes)", risk_rows)
            .await?;
        self.insert_rows(
            &mut tx,
            "findings (ocid, code, edition, rule, buyer_id, buyer_name, outcome, reason, details)",
            finding_rows,
        )
        .await?;
        // A snapshot per publisher per data version: the trend is the history.
        sqlx::query(&self.sql("DELETE FROM quality WHERE data_version = ?"))
            .bind(data_version)
            .execute(&mut *tx)
            .await?;
        self.insert_rows(
            &mut tx,
            "quality (publisher, data_version, taken_at, score, report)",
            quality_rows,
        )
        .await?;
        sqlx::query(&self.sql("UPDATE meta SET value = ? WHERE key = 'risk_version'"))
            .bind(data_version)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn insert_rows(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        table_columns: &str,
        rows: Vec<Vec<Param>>,
    ) -> Result<(), StoreError> {
        let Some(cols) = rows.first().map(Vec::len) else {
            return Ok(());
        };
        for chunk in rows.chunks((MAX_PARAMS / cols).max(1)) {
            let sql = self.sql(&format!(
                "INSERT INTO {table_columns} VALUES {}",
                row_placeholders(chunk.len(), cols)
            ));
            let params: Vec<Param> = chunk.iter().flatten().cloned().collect();
            bind_all(sqlx::query(&sql), &params)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// The flags on a process: its own, and those on organisations that name it.
    pub async fn process_flags(&self, ocid: &str) -> Result<Vec<StoredFlag>, StoreError> {
        let sql = self.sql(&format!(
            "SELECT {FLAG_COLUMNS} FROM flags f JOIN flag_processes fp ON fp.flag_id = f.flag_id WHERE fp.ocid = ? ORDER BY f.code, f.subject_kind, f.subject_id"
        ));
        let rows = sqlx::query(&sql).bind(ocid).fetch_all(&self.pool).await?;
        rows.iter().map(stored_flag).collect()
    }

    /// The flags raised on an organisation as a tenderer, buyer or procuring entity.
    pub async fn organisation_flags(&self, party_id: &str) -> Result<Vec<StoredFlag>, StoreError> {
        let sql = self.sql(&format!(
            "SELECT {FLAG_COLUMNS} FROM flags f WHERE f.subject_id = ? AND f.subject_kind <> 'process' ORDER BY f.code"
        ));
        let rows = sqlx::query(&sql)
            .bind(party_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(stored_flag).collect()
    }

    /// Processes with flags, most flags first.
    pub async fn risk_page(&self, query: &RiskQuery) -> Result<RiskPage, StoreError> {
        let mut clauses: Vec<String> = Vec::new();
        let mut params: Vec<Param> = Vec::new();
        let text = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        if let Some(code) = text(&query.code) {
            clauses.push("pr.ocid IN (SELECT ocid FROM flag_processes WHERE code = ?)".into());
            params.push(Param::Text(code));
        }
        if let Some(b) = text(&query.buyer) {
            clauses.push("r.buyer_id = ?".into());
            params.push(Param::Text(b));
        }
        if let Some(s) = text(&query.supplier) {
            clauses.push(
                "r.ocid IN (SELECT ocid FROM process_parties WHERE org_id = ? AND role = 'supplier')"
                    .into(),
            );
            params.push(Param::Text(s));
        }
        if let Some(d) = text(&query.date_from) {
            clauses.push("r.date >= ?".into());
            params.push(Param::Text(d));
        }
        if let Some(d) = text(&query.date_to) {
            clauses.push("r.date < ?".into());
            params.push(Param::Text(format!("{d}\u{7f}")));
        }
        let filter = |extra: &[String]| {
            let all: Vec<&String> = clauses.iter().chain(extra.iter()).collect();
            if all.is_empty() {
                String::new()
            } else {
                format!(
                    "WHERE {}",
                    all.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(" AND ")
                )
            }
        };
        let count_sql = self.sql(&format!(
            "SELECT COUNT(*) FROM process_risk pr JOIN records r ON r.ocid = pr.ocid {}",
            filter(&[])
        ));
        let total: i64 = bind_all(sqlx::query(&count_sql), &params)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;

        let mut page_params = params.clone();
        let mut extra = Vec::new();
        if let Some(c) = &query.cursor {
            let parts = decode_cursor(c, 2)?;
            let n: i64 = parts[0].parse().map_err(|_| StoreError::Invalid {
                field: "cursor",
                message: "not a cursor this list gave".into(),
            })?;
            extra.push("(pr.flag_count < ? OR (pr.flag_count = ? AND pr.ocid > ?))".to_string());
            page_params.extend([Param::Int(n), Param::Int(n), Param::Text(parts[1].clone())]);
        }
        let limit = query.limit.max(1);
        let sql = self.sql(&format!(
            "SELECT pr.ocid, r.title, r.date, r.buyer_id, r.buyer_name, pr.flag_count, pr.codes FROM process_risk pr JOIN records r ON r.ocid = pr.ocid {} ORDER BY pr.flag_count DESC, pr.ocid LIMIT {}",
            filter(&extra),
            limit + 1
        ));
        let rows = bind_all(sqlx::query(&sql), &page_params)
            .fetch_all(&self.pool)
            .await?;
        let mut results = rows
            .iter()
            .map(|r| {
                let codes: String = r.try_get(6)?;
                Ok(RiskRow {
                    ocid: r.try_get(0)?,
                    title: r.try_get(1)?,
                    date: r.try_get(2)?,
                    buyer_id: r.try_get(3)?,
                    buyer_name: r.try_get(4)?,
                    flag_count: r.try_get(5)?,
                    codes: codes.split_whitespace().map(String::from).collect(),
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let next_cursor = if results.len() > limit as usize {
            results.truncate(limit as usize);
            results
                .last()
                .map(|r| encode_cursor(&[&r.flag_count.to_string(), &r.ocid]))
        } else {
            None
        };
        Ok(RiskPage {
            results,
            total,
            next_cursor,
        })
    }

    /// Flags and flagged processes per indicator.
    pub async fn flag_counts(&self) -> Result<Vec<FlagCount>, StoreError> {
        // Counted when the flags were written: counting a million links per
        // request would cost a second.
        let rows = sqlx::query("SELECT code, flags, processes FROM flag_summary ORDER BY code")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(FlagCount {
                    code: r.try_get(0)?,
                    flags: r.try_get(1)?,
                    processes: r.try_get(2)?,
                })
            })
            .collect()
    }

    /// Procurement Rules findings on one process.
    pub async fn process_findings(&self, ocid: &str) -> Result<Vec<StoredFinding>, StoreError> {
        let sql = self.sql(&format!(
            "SELECT {FINDING_COLUMNS} FROM findings WHERE ocid = ? ORDER BY code"
        ));
        let rows = sqlx::query(&sql).bind(ocid).fetch_all(&self.pool).await?;
        rows.iter().map(stored_finding).collect()
    }

    /// Every agency's rate per check (applicable findings only).
    pub async fn compliance_rates(&self) -> Result<Vec<ComplianceRate>, StoreError> {
        let rows = sqlx::query(
            "SELECT buyer_id, MAX(buyer_name), code, SUM(CASE WHEN outcome = 'met' THEN 1 ELSE 0 END), SUM(CASE WHEN outcome = 'not-met' THEN 1 ELSE 0 END) FROM findings WHERE buyer_id IS NOT NULL AND outcome <> 'not-applicable' GROUP BY buyer_id, code ORDER BY buyer_id, code",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ComplianceRate {
                    buyer_id: r.try_get(0)?,
                    buyer_name: r.try_get(1)?,
                    code: r.try_get(2)?,
                    met: r.try_get(3)?,
                    not_met: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// One agency's findings, unmet first.
    pub async fn agency_findings(&self, buyer_id: &str) -> Result<Vec<StoredFinding>, StoreError> {
        let sql = self.sql(&format!(
            "SELECT {FINDING_COLUMNS} FROM findings WHERE buyer_id = ? ORDER BY CASE outcome WHEN 'not-met' THEN 0 WHEN 'met' THEN 1 ELSE 2 END, code, ocid LIMIT 2000"
        ));
        let rows = sqlx::query(&sql)
            .bind(buyer_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(stored_finding).collect()
    }

    /// Each publisher's latest quality snapshot.
    pub async fn quality_latest(&self) -> Result<Vec<QualitySnapshot>, StoreError> {
        let rows = sqlx::query(
            "SELECT q.publisher, q.data_version, q.taken_at, q.score, q.report FROM quality q WHERE q.data_version = (SELECT MAX(data_version) FROM quality q2 WHERE q2.publisher = q.publisher) ORDER BY q.publisher",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(snapshot).collect()
    }

    /// A publisher's snapshots, oldest first: its trend.
    pub async fn quality_history(
        &self,
        publisher: &str,
    ) -> Result<Vec<QualitySnapshot>, StoreError> {
        let rows = sqlx::query(&self.sql(
            "SELECT publisher, data_version, taken_at, score, report FROM quality WHERE publisher = ? ORDER BY data_version",
        ))
        .bind(publisher)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(snapshot).collect()
    }

    /// Quarantined items per publisher (ocid prefix), for the quality reports.
    async fn quarantined_by_publisher(&self) -> Result<HashMap<String, u64>, StoreError> {
        let rows = sqlx::query(
            "SELECT ocid, COUNT(*) FROM quarantine WHERE ocid IS NOT NULL GROUP BY ocid",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: HashMap<String, u64> = HashMap::new();
        for r in &rows {
            let ocid: String = r.try_get(0)?;
            let n: i64 = r.try_get(1)?;
            *out.entry(publisher_of(&ocid).to_string()).or_default() += n as u64;
        }
        Ok(out)
    }

    /// Quarantined items per publisher (by the ocid prefix, where there was an ocid).
    pub async fn quarantine_count(&self, publisher: &str) -> Result<i64, StoreError> {
        let row = sqlx::query(&self.sql("SELECT COUNT(*) FROM quarantine WHERE ocid LIKE ?"))
            .bind(format!("{publisher}-%"))
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }
}

fn opt(v: Option<String>) -> Param {
    match v {
        Some(s) => Param::Text(s),
        None => Param::Null,
    }
}

fn fold_page(
    engine: &Engine,
    rules_settings: &rules::RulesSettings,
    register: Option<&tuwhera_flags::ownership::Declarations>,
    pass: Pass,
    page: Vec<(String, String)>,
) -> Pass {
    let partial = page
        .par_iter()
        .with_min_len(256)
        .fold(Pass::default, |mut pass, (ocid, compiled)| {
            // A record the store wrote is JSON; one that is not is skipped here
            // and shows in the data-quality counts as missing.
            let Ok(release) = serde_json::from_str::<Value>(compiled) else {
                return pass;
            };
            let publisher = publisher_of(ocid).to_string();
            let partial = pass
                .partials
                .entry(publisher.clone())
                .or_insert_with(|| engine.partial());
            engine.fold(partial, &release);
            pass.quality.entry(publisher).or_default().fold(&release);
            pass.findings
                .extend(rules::check_process(&release, rules_settings));
            pass.splitting.fold(&release, rules_settings);
            if let Some(register) = register {
                pass.ownership
                    .entry(publisher_of(ocid).to_string())
                    .or_default()
                    .fold(&release, register);
            }
            pass
        })
        .reduce(Pass::default, |a, b| merge(engine, a, b));
    merge(engine, pass, partial)
}

fn merge(engine: &Engine, mut a: Pass, b: Pass) -> Pass {
    for (publisher, partial) in b.partials {
        let merged = match a.partials.remove(&publisher) {
            Some(mine) => engine.reduce(mine, partial),
            None => partial,
        };
        a.partials.insert(publisher, merged);
    }
    for (publisher, q) in b.quality {
        a.quality.entry(publisher).or_default().merge(q);
    }
    for (publisher, (errors, processes)) in b.schema {
        let mine = a.schema.entry(publisher).or_default();
        mine.1 += processes;
        for (code, n) in errors {
            *mine.0.entry(code).or_default() += n;
        }
    }
    a.findings.extend(b.findings);
    a.splitting.merge(b.splitting);
    for (publisher, o) in b.ownership {
        let merged = match a.ownership.remove(&publisher) {
            Some(mine) => mine.merge(o),
            None => o,
        };
        a.ownership.insert(publisher, merged);
    }
    a
}

const FLAG_COLUMNS: &str =
    "f.code, f.subject_kind, f.subject_id, f.value, f.reason, f.details, f.organisations, f.publisher";

fn stored_flag(r: &sqlx::any::AnyRow) -> Result<StoredFlag, StoreError> {
    let details: String = r.try_get(5)?;
    let organisations: String = r.try_get(6)?;
    Ok(StoredFlag {
        code: r.try_get(0)?,
        subject_kind: r.try_get(1)?,
        subject_id: r.try_get(2)?,
        value: r.try_get(3)?,
        reason: r.try_get(4)?,
        details: serde_json::from_str(&details).unwrap_or(Value::Null),
        organisations: serde_json::from_str(&organisations).unwrap_or_default(),
        publisher: r.try_get(7)?,
    })
}

const FINDING_COLUMNS: &str =
    "ocid, code, edition, rule, buyer_id, buyer_name, outcome, reason, details";

fn stored_finding(r: &sqlx::any::AnyRow) -> Result<StoredFinding, StoreError> {
    let details: String = r.try_get(8)?;
    Ok(StoredFinding {
        ocid: r.try_get(0)?,
        code: r.try_get(1)?,
        edition: r.try_get(2)?,
        rule: r.try_get(3)?,
        buyer_id: r.try_get(4)?,
        buyer_name: r.try_get(5)?,
        outcome: r.try_get(6)?,
        reason: r.try_get(7)?,
        details: serde_json::from_str(&details).unwrap_or(Value::Null),
    })
}

fn snapshot(r: &sqlx::any::AnyRow) -> Result<QualitySnapshot, StoreError> {
    let report: String = r.try_get(4)?;
    Ok(QualitySnapshot {
        publisher: r.try_get(0)?,
        data_version: r.try_get(1)?,
        taken_at: r.try_get(2)?,
        score: r.try_get(3)?,
        report: serde_json::from_str(&report).unwrap_or(Value::Null),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publisher_is_the_ocid_prefix() {
        assert_eq!(publisher_of("ocds-6550wx-ABC-2021-1"), "ocds-6550wx");
        assert_eq!(publisher_of("ocds-b5fd17-x"), "ocds-b5fd17");
        assert_eq!(publisher_of("odd"), "odd");
    }
}

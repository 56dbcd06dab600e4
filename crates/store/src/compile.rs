//! Compiling the processes whose releases changed, and extracting what searches need.

use serde_json::Value;
use sqlx::Row;
use tuwhera_ocds::compile::compile_process;
use tuwhera_ocds::summary::Summary;
use tuwhera_ocds::MergeRules;

use crate::{now, placeholders, row_placeholders, Backend, Store, StoreError, MAX_PARAMS};

/// A stored release's bytes and the version its package declared.
type StoredRelease = (Vec<u8>, Option<String>);

/// Processes compiled per transaction.
const CHUNK: usize = 1000;

/// What compiling one process gave.
enum Outcome {
    Compiled {
        compiled: String,
        summary: Box<Summary>,
        release_count: i64,
    },
    Failed(String),
    /// Its releases are gone: nothing to write, but it leaves the dirty list.
    Empty,
}

impl Store {
    /// Compile every process whose releases changed. Returns how many were compiled.
    ///
    /// A pipeline: while one chunk's records are written (one writer, the
    /// database's), the next chunk is read and merged on every core.
    pub async fn compile_dirty(&self, rules: &MergeRules) -> Result<u64, StoreError> {
        let timing = std::env::var_os("TUWHERA_TIMING").is_some();
        let mut compiled = 0;
        loop {
            let mut after = String::new();
            let mut writing: Option<tokio::task::JoinHandle<Result<(), StoreError>>> = None;
            let mut any = false;
            loop {
                let t0 = std::time::Instant::now();
                let marked: Vec<(String, i64)> = sqlx::query(
                    &self.sql("SELECT ocid, mark FROM dirty WHERE ocid > ? ORDER BY ocid LIMIT ?"),
                )
                .bind(&after)
                .bind(CHUNK as i64)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
                .collect::<Result<_, sqlx::Error>>()?;
                let seen_mark = marked.iter().map(|(_, m)| *m).max().unwrap_or(0);
                let ocids: Vec<String> = marked.into_iter().map(|(o, _)| o).collect();
                let Some(last) = ocids.last() else {
                    break;
                };
                after = last.clone();
                any = true;
                let groups = self.releases_of(&ocids).await?;
                let t1 = t0.elapsed();
                // Merging is CPU work: spread it over every core, outside the async runtime's threads.
                let results: Vec<(String, Outcome)> = tokio::task::block_in_place(|| {
                    use rayon::prelude::*;
                    groups
                        .into_par_iter()
                        .map(|(ocid, releases)| {
                            let outcome = compile_one(&releases, rules);
                            (ocid, outcome)
                        })
                        .collect()
                });
                let t2 = t0.elapsed();
                if let Some(w) = writing.take() {
                    w.await.map_err(|e| StoreError::Invalid {
                        field: "compile",
                        message: format!("the writer stopped: {e}"),
                    })??;
                }
                if timing {
                    eprintln!(
                        "compile chunk: read {t1:?}, merge {:?}, waited for writer {:?}",
                        t2 - t1,
                        t0.elapsed() - t2
                    );
                }
                compiled += ocids.len() as u64;
                let store = self.clone();
                writing = Some(tokio::spawn(async move {
                    store.write_records(&ocids, seen_mark, results).await
                }));
            }
            if let Some(w) = writing.take() {
                w.await.map_err(|e| StoreError::Invalid {
                    field: "compile",
                    message: format!("the writer stopped: {e}"),
                })??;
            }
            // Processes marked while this pass ran are compiled by the next one.
            if !any {
                return Ok(compiled);
            }
        }
    }

    /// Every release of these processes, grouped by ocid in the order they were received.
    async fn releases_of(
        &self,
        ocids: &[String],
    ) -> Result<Vec<(String, Vec<StoredRelease>)>, StoreError> {
        let mut groups: Vec<(String, Vec<StoredRelease>)> = Vec::with_capacity(ocids.len());
        for chunk in ocids.chunks(MAX_PARAMS) {
            // One query for the whole chunk: a round trip per process was most of the time.
            let select = self.sql(&format!(
                "SELECT ocid, raw, package_version FROM releases WHERE ocid IN ({})
                 ORDER BY ocid, received_at, source_file, source_line",
                placeholders(chunk.len())
            ));
            let mut query = sqlx::query(&select);
            for ocid in chunk {
                query = query.bind(ocid);
            }
            for r in query.fetch_all(&self.pool).await? {
                let ocid: String = r.try_get(0)?;
                let release = (
                    r.try_get::<Vec<u8>, _>(1)?,
                    r.try_get::<Option<String>, _>(2)?,
                );
                match groups.last_mut() {
                    Some((o, releases)) if *o == ocid => releases.push(release),
                    _ => groups.push((ocid, vec![release])),
                }
            }
        }
        for ocid in ocids {
            if !groups.iter().any(|(o, _)| o == ocid) {
                groups.push((ocid.clone(), Vec::new()));
            }
        }
        Ok(groups)
    }

    /// The versioned release of a process, made from its stored releases.
    pub async fn versioned(
        &self,
        ocid: &str,
        rules: &MergeRules,
    ) -> Result<Option<Value>, StoreError> {
        let groups = self.releases_of(&[ocid.to_owned()]).await?;
        let Some((_, releases)) = groups.into_iter().next() else {
            return Ok(None);
        };
        if releases.is_empty() {
            return Ok(None);
        }
        let refs: Vec<(&[u8], Option<&str>)> = releases
            .iter()
            .map(|(r, v)| (r.as_slice(), v.as_deref()))
            .collect();
        match compile_process(&refs, rules, true) {
            Ok(p) => Ok(p.versioned.and_then(|v| serde_json::from_slice(&v).ok())),
            Err(_) => Ok(None),
        }
    }

    /// Write one chunk's records, parties, organisations and search text, and
    /// clear their dirty marks, in one transaction.
    async fn write_records(
        &self,
        ocids: &[String],
        seen_mark: i64,
        results: Vec<(String, Outcome)>,
    ) -> Result<(), StoreError> {
        let at = now();
        let mut tx = self.pool.begin().await?;
        let in_list = |n: usize| placeholders(n);

        // Out with the old: search text (SQLite keeps it beside the record, by rowid), parties, errors.
        for chunk in ocids.chunks(MAX_PARAMS) {
            let mut statements = vec![
                format!(
                    "DELETE FROM process_parties WHERE ocid IN ({})",
                    in_list(chunk.len())
                ),
                format!(
                    "DELETE FROM compile_errors WHERE ocid IN ({})",
                    in_list(chunk.len())
                ),
            ];
            if self.backend == Backend::Sqlite {
                statements.insert(
                    0,
                    format!(
                        "DELETE FROM records_fts WHERE rowid IN (SELECT rowid FROM records WHERE ocid IN ({}))",
                        in_list(chunk.len())
                    ),
                );
            }
            for statement in statements {
                let sql = self.sql(&statement);
                let mut q = sqlx::query(&sql);
                for o in chunk {
                    q = q.bind(o.as_str());
                }
                q.execute(&mut *tx).await?;
            }
        }

        let mut records = Vec::new();
        let mut failures = Vec::new();
        for (ocid, outcome) in &results {
            match outcome {
                Outcome::Compiled {
                    compiled,
                    summary,
                    release_count,
                } => records.push((ocid, compiled, summary, *release_count)),
                Outcome::Failed(message) => failures.push((ocid, message)),
                Outcome::Empty => {}
            }
        }

        const RECORD_COLS: usize = 32;
        let columns = "ocid, compiled, release_count, date, title, description, buyer_id, buyer_name,
            procuring_entity_id, procuring_entity_name, status, procurement_method, procurement_method_details,
            main_category, tender_amount, tender_currency, awarded_amount, awarded_currency, contracted_amount,
            amount, currency, tender_start, tender_end, award_date, contract_date, suppliers, supplier_count,
            tenderer_count, award_count, contract_count, classifications, compiled_at";
        let updates: String = columns
            .split(',')
            .map(str::trim)
            .filter(|c| *c != "ocid")
            .map(|c| format!("{c} = excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let postgres = self.backend == Backend::Postgres;
        for chunk in records.chunks(MAX_PARAMS / (RECORD_COLS + 1)) {
            let (cols, values, extra_update) = if postgres {
                // PostgreSQL keeps the search vector in the record itself.
                let one = format!("({}, to_tsvector('simple', ?))", placeholders(RECORD_COLS));
                (
                    format!("{columns}, search"),
                    vec![one; chunk.len()].join(", "),
                    ", search = excluded.search",
                )
            } else {
                (
                    columns.to_owned(),
                    row_placeholders(chunk.len(), RECORD_COLS),
                    "",
                )
            };
            let sql = self.sql(&format!(
                "INSERT INTO records ({cols}) VALUES {values}
                 ON CONFLICT (ocid) DO UPDATE SET {updates}{extra_update}"
            ));
            // Not cached: a cached statement keeps the parameter types of its first use, and a NULL
            // there would later refuse a number in the same place (PostgreSQL).
            let mut q = sqlx::query(&sql).persistent(false);
            for (ocid, compiled, s, release_count) in chunk {
                let org = |o: &Option<tuwhera_ocds::summary::OrgRef>| {
                    o.as_ref().map(|o| (o.id.clone(), o.name.clone())).unzip()
                };
                let (buyer_id, buyer_name): (Option<String>, Option<String>) = org(&s.buyer);
                let (pe_id, pe_name): (Option<String>, Option<String>) = org(&s.procuring_entity);
                let suppliers = (!s.suppliers.is_empty()).then(|| {
                    s.suppliers
                        .iter()
                        .map(|o| o.name.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                });
                let classifications =
                    (!s.classifications.is_empty()).then(|| s.classifications.join(" "));
                q = q
                    .bind(ocid.as_str())
                    .bind(compiled.as_str())
                    .bind(*release_count)
                    .bind(s.date.clone().unwrap_or_default())
                    .bind(s.title.clone())
                    .bind(s.description.clone())
                    .bind(buyer_id)
                    .bind(buyer_name)
                    .bind(pe_id)
                    .bind(pe_name)
                    .bind(s.status.clone())
                    .bind(s.procurement_method.clone())
                    .bind(s.procurement_method_details.clone())
                    .bind(s.main_category.clone())
                    .bind(s.tender_amount)
                    .bind(s.tender_currency.clone())
                    .bind(s.awarded_amount)
                    .bind(s.awarded_currency.clone())
                    .bind(s.contracted_amount)
                    .bind(s.amount)
                    .bind(s.currency.clone())
                    .bind(s.tender_start.clone())
                    .bind(s.tender_end.clone())
                    .bind(s.award_date.clone())
                    .bind(s.contract_date.clone())
                    .bind(suppliers)
                    .bind(s.suppliers.len() as i64)
                    .bind(s.tenderers.len() as i64)
                    .bind(s.award_count as i64)
                    .bind(s.contract_count as i64)
                    .bind(classifications)
                    .bind(at.as_str());
                if postgres {
                    q = q.bind(s.search_text());
                }
            }
            q.execute(&mut *tx).await?;
        }

        if self.backend == Backend::Sqlite {
            // The search index holds the text under the record's rowid; it keeps no copy (contentless).
            for chunk in records.chunks(MAX_PARAMS / 2) {
                let select = format!(
                    "SELECT ocid, rowid FROM records WHERE ocid IN ({})",
                    in_list(chunk.len())
                );
                let mut q = sqlx::query(&select);
                for (ocid, ..) in chunk {
                    q = q.bind(ocid.as_str());
                }
                let rowids: std::collections::HashMap<String, i64> = q
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
                    .collect::<Result<_, sqlx::Error>>()?;
                let insert = format!(
                    "INSERT INTO records_fts (rowid, body) VALUES {}",
                    row_placeholders(chunk.len(), 2)
                );
                let mut q = sqlx::query(&insert);
                for (ocid, _, s, _) in chunk {
                    q = q
                        .bind(rowids.get(ocid.as_str()).copied().unwrap_or_default())
                        .bind(s.search_text());
                }
                q.execute(&mut *tx).await?;
            }
        }

        // Each organisation's part in each process, and the organisations' names.
        let roles: Vec<(&String, &tuwhera_ocds::summary::Role, Option<&String>)> = records
            .iter()
            .flat_map(|(ocid, _, s, _)| {
                s.roles.iter().map(move |r| (*ocid, r, s.currency.as_ref()))
            })
            .collect();
        const PARTY_COLS: usize = 6;
        for chunk in roles.chunks(MAX_PARAMS / PARTY_COLS) {
            let sql = self.sql(&format!(
                "INSERT INTO process_parties (ocid, org_id, role, name, amount, currency) VALUES {}
                 ON CONFLICT (ocid, org_id, role) DO NOTHING",
                row_placeholders(chunk.len(), PARTY_COLS)
            ));
            let mut q = sqlx::query(&sql).persistent(false);
            for (ocid, role, currency) in chunk {
                q = q
                    .bind(ocid.as_str())
                    .bind(role.org.id.as_str())
                    .bind(role.role.as_str())
                    .bind(role.org.name.as_str())
                    .bind(role.amount)
                    .bind(currency.map(|c| c.as_str()));
            }
            q.execute(&mut *tx).await?;
        }
        let mut orgs: Vec<(&str, &str)> = roles
            .iter()
            .map(|(_, r, _)| (r.org.id.as_str(), r.org.name.as_str()))
            .collect();
        orgs.sort_unstable();
        orgs.dedup_by(|a, b| a.0 == b.0);
        for chunk in orgs.chunks(MAX_PARAMS / 2) {
            let sql = self.sql(&format!(
                "INSERT INTO organisations (org_id, name) VALUES {}
                 ON CONFLICT (org_id) DO UPDATE SET name = excluded.name",
                row_placeholders(chunk.len(), 2)
            ));
            let mut q = sqlx::query(&sql);
            for (id, name) in chunk {
                q = q.bind(*id).bind(*name);
            }
            q.execute(&mut *tx).await?;
        }

        for chunk in failures.chunks(MAX_PARAMS / 2) {
            let sql = self.sql(&format!(
                "INSERT INTO compile_errors (ocid, message) VALUES {}
                 ON CONFLICT (ocid) DO UPDATE SET message = excluded.message",
                row_placeholders(chunk.len(), 2)
            ));
            let mut q = sqlx::query(&sql);
            for (ocid, message) in chunk {
                q = q.bind(ocid.as_str()).bind(message.as_str());
            }
            q.execute(&mut *tx).await?;
        }
        // Only the marks this compile saw: one set since (a higher version) stays for the next pass.
        for chunk in ocids.chunks(MAX_PARAMS - 1) {
            let sql = self.sql(&format!(
                "DELETE FROM dirty WHERE ocid IN ({}) AND mark <= ?",
                in_list(chunk.len())
            ));
            let mut q = sqlx::query(&sql);
            for o in chunk {
                q = q.bind(o.as_str());
            }
            q = q.bind(seen_mark);
            q.execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE meta SET value = value + 1 WHERE key = 'data_version'")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn compile_one(releases: &[StoredRelease], rules: &MergeRules) -> Outcome {
    if releases.is_empty() {
        return Outcome::Empty;
    }
    let refs: Vec<(&[u8], Option<&str>)> = releases
        .iter()
        .map(|(r, v)| (r.as_slice(), v.as_deref()))
        .collect();
    match compile_process(&refs, rules, false) {
        Ok(p) => {
            let value: Value = serde_json::from_slice(&p.compiled).unwrap_or(Value::Null);
            Outcome::Compiled {
                compiled: String::from_utf8_lossy(&p.compiled).into_owned(),
                summary: Box::new(Summary::of(&value)),
                release_count: releases.len() as i64,
            }
        }
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

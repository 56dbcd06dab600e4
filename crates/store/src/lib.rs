//! Tuwhera's database: OCDS releases kept exactly as received, a quarantine for
//! what cannot be kept, and one compiled record per contracting process.
//!
//! One interface, two databases: SQLite (embedded, the default, one file in WAL
//! mode) and PostgreSQL (production). Both run the same SQL through sqlx's
//! `Any` driver; only the placeholder syntax is translated.
//!
//! Designed to be distributed by ocid (Citus): every unique key of the large
//! tables starts with `ocid`, and no foreign key crosses processes.
//!
//! Ingest is idempotent and crash-safe: each batch of releases is one
//! transaction that inserts the new releases and marks their ocids *dirty* in
//! the same commit; compiling takes dirty ocids, writes their records and
//! clears the marks in one transaction. Killed at any point, a rerun leaves no
//! duplicate and no gap.

use std::sync::Arc;

use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use tuwhera_ocds::compile::compile_process;
use tuwhera_ocds::reader::{Event, PackageInfo};
use tuwhera_ocds::MergeRules;

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL {0:?} is not sqlite://PATH or postgres://…")]
    BadUrl(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool to the platform's database.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    "CREATE TABLE releases (
        ocid TEXT NOT NULL,
        release_id TEXT NOT NULL,
        release_date TEXT,
        package_version TEXT,
        content_hash TEXT NOT NULL,
        raw BLOB NOT NULL,
        source_file TEXT NOT NULL,
        source_line BIGINT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (ocid, release_id)
    );
    CREATE TABLE quarantine (
        ocid TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        reason TEXT NOT NULL,
        message TEXT NOT NULL,
        raw BLOB NOT NULL,
        source_file TEXT NOT NULL,
        source_line BIGINT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (ocid, content_hash, reason)
    );
    CREATE TABLE dirty (ocid TEXT PRIMARY KEY);
    CREATE TABLE records (
        ocid TEXT PRIMARY KEY,
        compiled TEXT NOT NULL,
        versioned TEXT NOT NULL,
        release_count BIGINT NOT NULL,
        buyer_id TEXT,
        buyer_name TEXT,
        title TEXT,
        tender_status TEXT,
        procurement_method TEXT,
        compiled_at TEXT NOT NULL
    );
    CREATE TABLE compile_errors (
        ocid TEXT PRIMARY KEY,
        message TEXT NOT NULL
    );",
)];

/// A stored release's bytes and the version its package declared.
type StoredRelease = (Vec<u8>, Option<String>);

/// A received item, as it is recorded wherever it ends up.
struct Held<'a> {
    hash: String,
    raw: &'a [u8],
    source_file: String,
    line: i64,
    received: &'a str,
}

/// What one ingest did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestSummary {
    pub new: u64,
    pub unchanged: u64,
    pub quarantined: u64,
}

/// Why a release went to quarantine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    pub ocid: String,
    pub reason: String,
    pub message: String,
    pub source_file: String,
    pub source_line: i64,
}

fn now() -> String {
    // RFC 3339 in UTC from the system clock, without a date crate.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Store {
    /// Connect to `sqlite://PATH` (created if missing) or `postgres://…`, and migrate.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::BadUrl(url.to_owned()));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_owned(),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 1 } else { 8 })
            .connect(&url)
            .await?;
        let store = Store { pool, backend };
        if backend == Backend::Sqlite {
            // WAL: readers never wait for the writer; NORMAL sync is safe with WAL.
            sqlx::query("PRAGMA journal_mode=WAL")
                .execute(&store.pool)
                .await?;
            sqlx::query("PRAGMA synchronous=NORMAL")
                .execute(&store.pool)
                .await?;
        }
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// SQL written with `?` placeholders, in the backend's own syntax.
    fn sql(&self, q: &str) -> String {
        let q = match self.backend {
            Backend::Postgres => q.replace("BLOB", "BYTEA"),
            Backend::Sqlite => q.to_owned(),
        };
        if self.backend == Backend::Sqlite {
            return q;
        }
        let mut out = String::with_capacity(q.len() + 8);
        let mut n = 0;
        for c in q.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)")
            .execute(&self.pool)
            .await?;
        for (version, script) in MIGRATIONS {
            let done: Option<AnyRow> =
                sqlx::query(&self.sql("SELECT version FROM schema_migrations WHERE version = ?"))
                    .bind(*version)
                    .fetch_optional(&self.pool)
                    .await?;
            if done.is_some() {
                continue;
            }
            let mut tx = self.pool.begin().await?;
            for statement in self.sql(script).split(';').filter(|s| !s.trim().is_empty()) {
                sqlx::query(statement).execute(&mut *tx).await?;
            }
            sqlx::query(&self.sql("INSERT INTO schema_migrations (version) VALUES (?)"))
                .bind(*version)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Store a batch of releases in one transaction: new ones are kept and their
    /// ocids marked for compiling; exact repeats change nothing; anything that
    /// cannot be kept goes to quarantine with its reason.
    ///
    /// Read errors (malformed JSON the reader could not cut into a release) are
    /// quarantined too, with their place and message; their bytes are not known.
    pub async fn ingest(&self, batch: Vec<Event>) -> Result<IngestSummary, StoreError> {
        let received = now();
        let mut summary = IngestSummary::default();
        let mut tx = self.pool.begin().await?;
        for event in batch {
            let item = match event {
                Event::Item(item) => item,
                Event::Error(e) => {
                    // The reader could not cut out a release: its bytes are unknown.
                    let message = e.to_string();
                    let held = Held {
                        hash: sha256_hex(message.as_bytes()),
                        raw: &[],
                        source_file: e.source.to_string(),
                        line: e.line as i64,
                        received: &received,
                    };
                    let reason = format!("read.{}", e.kind.code());
                    summary.quarantined += self
                        .quarantine(&mut tx, &held, "", &reason, &message)
                        .await?;
                    continue;
                }
                Event::Package(_) => continue,
            };
            let held = Held {
                hash: sha256_hex(&item.raw),
                raw: &item.raw,
                source_file: item.source.to_string(),
                line: item.line as i64,
                received: &received,
            };
            let value = match item.parse() {
                Ok(v) => v,
                Err(e) => {
                    let message = e.to_string();
                    summary.quarantined += self
                        .quarantine(&mut tx, &held, "", "read.json-syntax", &message)
                        .await?;
                    continue;
                }
            };
            let ocid = value.get("ocid").and_then(Value::as_str);
            let id = value.get("id").map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            let date = value.get("date").and_then(Value::as_str);
            let (reason, message) = match (ocid, &id, date) {
                (None, _, _) => ("no-ocid", "release has no `ocid` (a string); it cannot be grouped"),
                (_, None, _) => ("no-id", "release has no `id`; it cannot be told apart from the process's other releases"),
                (_, _, None) => ("no-date", "release has no `date` (a string); it cannot be put in order for compiling"),
                _ => ("", ""),
            };
            if !reason.is_empty() {
                summary.quarantined += self
                    .quarantine(&mut tx, &held, ocid.unwrap_or(""), reason, message)
                    .await?;
                continue;
            }
            let (Some(ocid), Some(id)) = (ocid, id) else {
                continue;
            };
            let version = item
                .package
                .as_ref()
                .and_then(|p: &Arc<PackageInfo>| p.version.clone());
            let inserted = sqlx::query(&self.sql(
                "INSERT INTO releases (ocid, release_id, release_date, package_version, content_hash, raw, source_file, source_line, received_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ocid, release_id) DO NOTHING",
            ))
            .bind(ocid)
            .bind(&id)
            .bind(date)
            .bind(version)
            .bind(&held.hash)
            .bind(item.raw.clone())
            .bind(&held.source_file)
            .bind(held.line)
            .bind(&received)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 1 {
                summary.new += 1;
                sqlx::query(
                    &self.sql("INSERT INTO dirty (ocid) VALUES (?) ON CONFLICT (ocid) DO NOTHING"),
                )
                .bind(ocid)
                .execute(&mut *tx)
                .await?;
                continue;
            }
            let existing: String = sqlx::query(
                &self.sql("SELECT content_hash FROM releases WHERE ocid = ? AND release_id = ?"),
            )
            .bind(ocid)
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            if existing == held.hash {
                summary.unchanged += 1;
            } else {
                let message = format!(
                    "release {id:?} of {ocid} was already received with other content; this version is kept here, not merged"
                );
                summary.quarantined += self
                    .quarantine(&mut tx, &held, ocid, "conflict", &message)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(summary)
    }

    async fn quarantine(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        held: &Held<'_>,
        ocid: &str,
        reason: &str,
        message: &str,
    ) -> Result<u64, StoreError> {
        let n = sqlx::query(&self.sql(
            "INSERT INTO quarantine (ocid, content_hash, reason, message, raw, source_file, source_line, received_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ocid, content_hash, reason) DO NOTHING",
        ))
        .bind(ocid)
        .bind(&held.hash)
        .bind(reason)
        .bind(message)
        .bind(held.raw.to_vec())
        .bind(&held.source_file)
        .bind(held.line)
        .bind(held.received)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        Ok(n)
    }

    /// Compile every process whose releases changed. Returns how many were compiled.
    pub async fn compile_dirty(&self, rules: &MergeRules) -> Result<u64, StoreError> {
        let mut compiled = 0;
        loop {
            let ocids: Vec<String> =
                sqlx::query(&self.sql("SELECT ocid FROM dirty ORDER BY ocid LIMIT ?"))
                    .bind(500i64)
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(|r| r.try_get::<String, _>(0))
                    .collect::<Result<_, _>>()?;
            if ocids.is_empty() {
                return Ok(compiled);
            }
            // One query for the whole chunk: a round trip per process was most of the time.
            let placeholders = vec!["?"; ocids.len()].join(", ");
            let select = self.sql(&format!(
                "SELECT ocid, raw, package_version FROM releases WHERE ocid IN ({placeholders})
                 ORDER BY ocid, received_at, source_file, source_line"
            ));
            let mut query = sqlx::query(&select);
            for ocid in &ocids {
                query = query.bind(ocid);
            }
            let rows = query.fetch_all(&self.pool).await?;
            let mut groups: Vec<(String, Vec<StoredRelease>)> = Vec::with_capacity(ocids.len());
            for r in rows {
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
            // A dirty process whose releases are all gone still has to leave the dirty list.
            for ocid in &ocids {
                if !groups.iter().any(|(o, _)| o == ocid) {
                    groups.push((ocid.clone(), Vec::new()));
                }
            }
            // Merging is CPU work: spread it over every core, outside the async runtime's threads.
            let results = tokio::task::block_in_place(|| {
                use rayon::prelude::*;
                groups
                    .into_par_iter()
                    .map(|(ocid, releases)| {
                        let refs: Vec<(&[u8], Option<&str>)> = releases
                            .iter()
                            .map(|(r, v)| (r.as_slice(), v.as_deref()))
                            .collect();
                        let n = releases.len() as i64;
                        (ocid, n, compile_process(&refs, rules))
                    })
                    .collect::<Vec<_>>()
            });
            let at = now();
            let mut tx = self.pool.begin().await?;
            for (ocid, n, result) in results {
                match result {
                    _ if n == 0 => {}
                    Ok(p) => {
                        let c: Value = serde_json::from_slice(&p.compiled).unwrap_or(Value::Null);
                        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
                        sqlx::query(&self.sql(
                            "INSERT INTO records (ocid, compiled, versioned, release_count, buyer_id, buyer_name, title, tender_status, procurement_method, compiled_at)
                             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                             ON CONFLICT (ocid) DO UPDATE SET compiled = excluded.compiled, versioned = excluded.versioned,
                               release_count = excluded.release_count, buyer_id = excluded.buyer_id, buyer_name = excluded.buyer_name,
                               title = excluded.title, tender_status = excluded.tender_status,
                               procurement_method = excluded.procurement_method, compiled_at = excluded.compiled_at",
                        ))
                        .bind(&ocid)
                        .bind(String::from_utf8_lossy(&p.compiled).into_owned())
                        .bind(String::from_utf8_lossy(&p.versioned).into_owned())
                        .bind(n)
                        .bind(text(c.pointer("/buyer/id")))
                        .bind(text(c.pointer("/buyer/name")))
                        .bind(text(c.pointer("/tender/title")))
                        .bind(text(c.pointer("/tender/status")))
                        .bind(text(c.pointer("/tender/procurementMethod")))
                        .bind(&at)
                        .execute(&mut *tx)
                        .await?;
                        sqlx::query(&self.sql("DELETE FROM compile_errors WHERE ocid = ?"))
                            .bind(&ocid)
                            .execute(&mut *tx)
                            .await?;
                    }
                    Err(e) => {
                        sqlx::query(&self.sql(
                            "INSERT INTO compile_errors (ocid, message) VALUES (?, ?)
                             ON CONFLICT (ocid) DO UPDATE SET message = excluded.message",
                        ))
                        .bind(&ocid)
                        .bind(e.to_string())
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                sqlx::query(&self.sql("DELETE FROM dirty WHERE ocid = ?"))
                    .bind(&ocid)
                    .execute(&mut *tx)
                    .await?;
                compiled += 1;
            }
            tx.commit().await?;
        }
    }

    async fn count(&self, table: &str) -> Result<i64, StoreError> {
        let row = sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }

    /// Rows in each table: releases, quarantine, records, dirty.
    pub async fn counts(&self) -> Result<[i64; 4], StoreError> {
        Ok([
            self.count("releases").await?,
            self.count("quarantine").await?,
            self.count("records").await?,
            self.count("dirty").await?,
        ])
    }

    /// The compiled release of a process.
    pub async fn compiled(&self, ocid: &str) -> Result<Option<Value>, StoreError> {
        let row = sqlx::query(&self.sql("SELECT compiled FROM records WHERE ocid = ?"))
            .bind(ocid)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => serde_json::from_str(&r.try_get::<String, _>(0)?).ok(),
            None => None,
        })
    }

    /// Everything in quarantine, oldest first.
    pub async fn quarantined(&self) -> Result<Vec<Quarantined>, StoreError> {
        let rows = sqlx::query(
            "SELECT ocid, reason, message, source_file, source_line FROM quarantine ORDER BY received_at, source_file, source_line",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Quarantined {
                    ocid: r.try_get(0)?,
                    reason: r.try_get(1)?,
                    message: r.try_get(2)?,
                    source_file: r.try_get(3)?,
                    source_line: r.try_get(4)?,
                })
            })
            .collect()
    }
}

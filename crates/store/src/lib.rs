//! Tuwhera's database: OCDS releases kept exactly as received, a quarantine for
//! what cannot be kept, one compiled record per contracting process with the
//! columns a search filters on, the organisations taking part, full-text search,
//! and the publishers' tokens.
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

pub mod bods;
mod compile;
mod dashboard;
mod ingest;
pub mod plan;
mod query;
pub mod risk;
mod tokens;

pub use dashboard::{Dashboard, Point, Ranked};
pub use ingest::{IngestSummary, Prepared, Quarantined};
pub use query::{
    Export, Facet, FacetCount, OrgPage, OrgRow, OrgTotal, Organisation, PartyRow, ProcessRow,
    QuarantinePage, ReleaseRow, SearchPage, SearchQuery, Stats,
};
pub use tokens::{valid_scope, NewToken, Session, TokenInfo};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL {0:?} is not sqlite://PATH or postgres://…")]
    BadUrl(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("invalid {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The caller may not do this (a token without the scope).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// What the request names does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The request was made against a state that has changed since (an edit of an old version).
    #[error("conflict: {0}")]
    Conflict(String),
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

/// One migration: its number, and its script for each backend (`None`: the same as SQLite's).
struct Migration {
    version: i64,
    sqlite: &'static str,
    postgres: Option<&'static str>,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sqlite: "CREATE TABLE releases (
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
        )",
        postgres: None,
    },
    // Records get every query column, organisations and their parts in each process,
    // full-text search and tokens. Records are derived data: they are rebuilt from the
    // releases (every process is marked dirty) rather than altered in place.
    Migration {
        version: 2,
        sqlite: "DROP TABLE records;
        CREATE TABLE records (
            ocid TEXT PRIMARY KEY,
            compiled TEXT NOT NULL,
            release_count BIGINT NOT NULL,
            date TEXT NOT NULL,
            title TEXT,
            description TEXT,
            buyer_id TEXT,
            buyer_name TEXT,
            procuring_entity_id TEXT,
            procuring_entity_name TEXT,
            status TEXT,
            procurement_method TEXT,
            procurement_method_details TEXT,
            main_category TEXT,
            tender_amount DOUBLE PRECISION,
            tender_currency TEXT,
            awarded_amount DOUBLE PRECISION,
            awarded_currency TEXT,
            contracted_amount DOUBLE PRECISION,
            amount DOUBLE PRECISION,
            currency TEXT,
            tender_start TEXT,
            tender_end TEXT,
            award_date TEXT,
            contract_date TEXT,
            suppliers TEXT,
            supplier_count BIGINT NOT NULL,
            tenderer_count BIGINT NOT NULL,
            award_count BIGINT NOT NULL,
            contract_count BIGINT NOT NULL,
            classifications TEXT,
            compiled_at TEXT NOT NULL
        );
        CREATE INDEX records_date ON records (date, ocid);
        CREATE INDEX records_buyer ON records (buyer_id, date);
        CREATE INDEX records_method ON records (procurement_method);
        CREATE INDEX records_status ON records (status);
        CREATE INDEX records_category ON records (main_category);
        CREATE INDEX records_amount ON records (amount);
        CREATE VIRTUAL TABLE records_fts USING fts5 (
            body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2'
        );
        CREATE TABLE process_parties (
            ocid TEXT NOT NULL,
            org_id TEXT NOT NULL,
            role TEXT NOT NULL,
            name TEXT NOT NULL,
            amount DOUBLE PRECISION,
            currency TEXT,
            PRIMARY KEY (ocid, org_id, role)
        );
        CREATE INDEX process_parties_org ON process_parties (org_id, role);
        CREATE TABLE organisations (
            org_id TEXT PRIMARY KEY,
            name TEXT NOT NULL
        );
        CREATE TABLE tokens (
            token_id TEXT PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            publisher TEXT NOT NULL,
            ocid_prefix TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        CREATE TABLE meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
        INSERT INTO meta (key, value) VALUES ('data_version', 1);
        DELETE FROM compile_errors;
        INSERT INTO dirty (ocid) SELECT DISTINCT ocid FROM releases WHERE true ON CONFLICT (ocid) DO NOTHING",
        postgres: Some(
            "DROP TABLE records;
        CREATE TABLE records (
            ocid TEXT PRIMARY KEY,
            compiled TEXT NOT NULL,
            release_count BIGINT NOT NULL,
            date TEXT NOT NULL,
            title TEXT,
            description TEXT,
            buyer_id TEXT,
            buyer_name TEXT,
            procuring_entity_id TEXT,
            procuring_entity_name TEXT,
            status TEXT,
            procurement_method TEXT,
            procurement_method_details TEXT,
            main_category TEXT,
            tender_amount DOUBLE PRECISION,
            tender_currency TEXT,
            awarded_amount DOUBLE PRECISION,
            awarded_currency TEXT,
            contracted_amount DOUBLE PRECISION,
            amount DOUBLE PRECISION,
            currency TEXT,
            tender_start TEXT,
            tender_end TEXT,
            award_date TEXT,
            contract_date TEXT,
            suppliers TEXT,
            supplier_count BIGINT NOT NULL,
            tenderer_count BIGINT NOT NULL,
            award_count BIGINT NOT NULL,
            contract_count BIGINT NOT NULL,
            classifications TEXT,
            compiled_at TEXT NOT NULL,
            search TSVECTOR NOT NULL
        );
        CREATE INDEX records_date ON records (date, ocid);
        CREATE INDEX records_buyer ON records (buyer_id, date);
        CREATE INDEX records_method ON records (procurement_method);
        CREATE INDEX records_status ON records (status);
        CREATE INDEX records_category ON records (main_category);
        CREATE INDEX records_amount ON records (amount);
        CREATE INDEX records_search ON records USING GIN (search);
        CREATE TABLE process_parties (
            ocid TEXT NOT NULL,
            org_id TEXT NOT NULL,
            role TEXT NOT NULL,
            name TEXT NOT NULL,
            amount DOUBLE PRECISION,
            currency TEXT,
            PRIMARY KEY (ocid, org_id, role)
        );
        CREATE INDEX process_parties_org ON process_parties (org_id, role);
        CREATE TABLE organisations (
            org_id TEXT PRIMARY KEY,
            name TEXT NOT NULL
        );
        CREATE TABLE tokens (
            token_id TEXT PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            publisher TEXT NOT NULL,
            ocid_prefix TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        CREATE TABLE meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
        INSERT INTO meta (key, value) VALUES ('data_version', 1);
        DELETE FROM compile_errors;
        INSERT INTO dirty (ocid) SELECT DISTINCT ocid FROM releases ON CONFLICT (ocid) DO NOTHING",
        ),
    },
    // PostgreSQL stores releases and compiled records compressed (TOAST); lz4 compresses several
    // times faster than the default pglz. A server built without lz4 (or older than 14) keeps its
    // default: the block swallows the error.
    Migration {
        version: 3,
        sqlite: "SELECT 1",
        postgres: Some(
            "DO $$ BEGIN
                ALTER TABLE releases ALTER COLUMN raw SET COMPRESSION lz4;
                ALTER TABLE records ALTER COLUMN compiled SET COMPRESSION lz4;
                ALTER TABLE quarantine ALTER COLUMN raw SET COMPRESSION lz4;
            EXCEPTION WHEN OTHERS THEN NULL;
            END $$",
        ),
    },
    // A release's tags, so that a process's timeline is listed without reading every release.
    Migration {
        version: 4,
        sqlite: "ALTER TABLE releases ADD COLUMN tag TEXT",
        postgres: None,
    },
    // Each dirty mark remembers the data version of the ingest that set it, so that compiling
    // clears only the marks it has seen: a process marked again while it was being compiled
    // (another ingest, another process) stays marked and is compiled again.
    Migration {
        version: 5,
        sqlite: "ALTER TABLE dirty ADD COLUMN mark BIGINT NOT NULL DEFAULT 0",
        postgres: None,
    },
    // Query columns changed (an award without a value is worth its contracts): every record is
    // compiled again from its releases by the next ingest or `serve`.
    Migration {
        version: 6,
        sqlite: "INSERT INTO dirty (ocid, mark) SELECT ocid, 0 FROM records WHERE true ON CONFLICT (ocid) DO NOTHING",
        postgres: Some("INSERT INTO dirty (ocid, mark) SELECT ocid, 0 FROM records ON CONFLICT (ocid) DO NOTHING"),
    },
    // Risk: red flags, Procurement Rules findings, data-quality snapshots (all recomputed by
    // `refresh_risk`), and settings kept as text.
    Migration {
        version: 7,
        sqlite: "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE flags (
            flag_id BIGINT PRIMARY KEY,
            code TEXT NOT NULL,
            subject_kind TEXT NOT NULL,
            subject_id TEXT NOT NULL,
            value DOUBLE PRECISION NOT NULL,
            reason TEXT NOT NULL,
            details TEXT NOT NULL,
            organisations TEXT NOT NULL,
            publisher TEXT NOT NULL
        );
        CREATE INDEX flags_subject ON flags (subject_id, subject_kind);
        CREATE TABLE flag_processes (ocid TEXT NOT NULL, flag_id BIGINT NOT NULL, code TEXT NOT NULL);
        CREATE INDEX flag_processes_ocid ON flag_processes (ocid);
        CREATE INDEX flag_processes_code ON flag_processes (code, ocid);
        CREATE TABLE process_risk (ocid TEXT PRIMARY KEY, flag_count BIGINT NOT NULL, codes TEXT NOT NULL);
        CREATE INDEX process_risk_order ON process_risk (flag_count DESC, ocid);
        CREATE TABLE flag_summary (code TEXT PRIMARY KEY, flags BIGINT NOT NULL, processes BIGINT NOT NULL);
        CREATE TABLE findings (
            ocid TEXT NOT NULL,
            code TEXT NOT NULL,
            edition TEXT NOT NULL,
            rule TEXT NOT NULL,
            buyer_id TEXT,
            buyer_name TEXT,
            outcome TEXT NOT NULL,
            reason TEXT NOT NULL,
            details TEXT NOT NULL
        );
        CREATE INDEX findings_ocid ON findings (ocid);
        CREATE INDEX findings_buyer ON findings (buyer_id, code);
        CREATE TABLE quality (
            publisher TEXT NOT NULL,
            data_version BIGINT NOT NULL,
            taken_at TEXT NOT NULL,
            score DOUBLE PRECISION NOT NULL,
            report TEXT NOT NULL,
            PRIMARY KEY (publisher, data_version)
        );
        INSERT INTO meta (key, value) VALUES ('risk_version', -1)",
        postgres: None,
    },
    // The beneficial ownership register: statements as received (upgraded to 0.4), their
    // quarantine and findings, the protection list, and the tables derived from the
    // statements' public forms by `bods_resolve`. Tokens get scopes (`bods:write`, `plan:N`).
    Migration {
        version: 8,
        sqlite: "CREATE TABLE bods_statements (
            statement_id TEXT PRIMARY KEY,
            record_id TEXT NOT NULL,
            record_type TEXT NOT NULL,
            record_status TEXT,
            statement_date TEXT,
            seq BIGINT NOT NULL UNIQUE,
            content_hash TEXT NOT NULL,
            raw TEXT NOT NULL,
            source_file TEXT NOT NULL,
            source_line BIGINT NOT NULL,
            publisher TEXT NOT NULL,
            received_at TEXT NOT NULL
        );
        CREATE INDEX bods_statements_record ON bods_statements (record_id, seq);
        CREATE TABLE bods_quarantine (
            content_hash TEXT NOT NULL,
            reason TEXT NOT NULL,
            statement_id TEXT,
            message TEXT NOT NULL,
            path TEXT NOT NULL,
            raw TEXT NOT NULL,
            source_file TEXT NOT NULL,
            source_line BIGINT NOT NULL,
            publisher TEXT NOT NULL,
            received_at TEXT NOT NULL,
            PRIMARY KEY (content_hash, reason)
        );
        CREATE TABLE bods_findings (
            statement_key TEXT NOT NULL,
            rule TEXT NOT NULL,
            path TEXT NOT NULL,
            severity TEXT NOT NULL,
            message TEXT NOT NULL,
            source_file TEXT NOT NULL,
            source_line BIGINT NOT NULL,
            PRIMARY KEY (statement_key, rule, path)
        );
        CREATE TABLE bods_protected (
            record_id TEXT PRIMARY KEY,
            reason TEXT NOT NULL,
            protected_at TEXT NOT NULL
        );
        CREATE TABLE bods_records (
            record_id TEXT PRIMARY KEY,
            record_type TEXT NOT NULL,
            name TEXT NOT NULL,
            name_key TEXT NOT NULL,
            subtype TEXT,
            jurisdiction TEXT,
            is_current BIGINT NOT NULL,
            statement_count BIGINT NOT NULL,
            first_date TEXT,
            last_date TEXT,
            publisher TEXT NOT NULL,
            withheld_reason TEXT
        );
        CREATE INDEX bods_records_name ON bods_records (name_key);
        CREATE TABLE bods_identifiers (
            record_id TEXT NOT NULL,
            scheme TEXT NOT NULL,
            id TEXT NOT NULL,
            org_key TEXT NOT NULL,
            id_key TEXT NOT NULL,
            PRIMARY KEY (org_key, record_id)
        );
        CREATE INDEX bods_identifiers_id ON bods_identifiers (id_key);
        CREATE INDEX bods_identifiers_record ON bods_identifiers (record_id);
        CREATE TABLE bods_relationships (
            record_id TEXT PRIMARY KEY,
            subject_id TEXT NOT NULL,
            party_id TEXT,
            party_reason TEXT,
            interests TEXT NOT NULL,
            owns BIGINT NOT NULL,
            controls BIGINT NOT NULL,
            is_direct BIGINT NOT NULL,
            share_min DOUBLE PRECISION,
            share_max DOUBLE PRECISION,
            is_current BIGINT NOT NULL,
            start_date TEXT,
            end_date TEXT
        );
        CREATE INDEX bods_relationships_subject ON bods_relationships (subject_id);
        CREATE INDEX bods_relationships_party ON bods_relationships (party_id);
        CREATE TABLE bods_owners (
            subject_id TEXT NOT NULL,
            position BIGINT NOT NULL,
            owner_key TEXT NOT NULL,
            owner_id TEXT,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            terminal TEXT NOT NULL,
            subtype TEXT,
            reason TEXT,
            share_min DOUBLE PRECISION,
            share_max DOUBLE PRECISION,
            controls BIGINT NOT NULL,
            is_direct BIGINT NOT NULL,
            depth BIGINT NOT NULL,
            paths TEXT NOT NULL,
            PRIMARY KEY (subject_id, position)
        );
        CREATE INDEX bods_owners_owner ON bods_owners (owner_id);
        INSERT INTO meta (key, value) VALUES ('bods_version', 0);
        INSERT INTO meta (key, value) VALUES ('bods_resolved_version', 0);
        INSERT INTO meta (key, value) VALUES ('bods_seq', 0);
        ALTER TABLE tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT ''",
        postgres: None,
    },
    // The action plan: every imported version of the plan document, every version of each
    // commitment's progress report (append-only: imports and agencies' updates, with who and
    // when), the public's questions with their moderation and answers (and a log of every
    // action on them), and agencies' sign-in sessions (the session id's hash, never the token).
    Migration {
        version: 9,
        sqlite: "CREATE TABLE plan_versions (
            version BIGINT PRIMARY KEY,
            plan_id TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            document TEXT NOT NULL,
            source TEXT NOT NULL,
            imported_at TEXT NOT NULL
        );
        CREATE TABLE plan_progress (
            change_id BIGINT PRIMARY KEY,
            commitment BIGINT NOT NULL,
            period TEXT NOT NULL,
            version BIGINT NOT NULL,
            content_hash TEXT NOT NULL,
            document TEXT NOT NULL,
            kind TEXT NOT NULL,
            publisher TEXT NOT NULL,
            token_id TEXT,
            via TEXT NOT NULL,
            note TEXT,
            changed_at TEXT NOT NULL,
            UNIQUE (commitment, period, version)
        );
        CREATE TABLE plan_questions (
            question_id TEXT PRIMARY KEY,
            commitment BIGINT NOT NULL,
            asked_at TEXT NOT NULL,
            name TEXT,
            question TEXT NOT NULL,
            status TEXT NOT NULL,
            moderated_at TEXT,
            moderated_by TEXT,
            moderation_note TEXT,
            answer TEXT,
            answered_at TEXT,
            answered_by TEXT
        );
        CREATE INDEX plan_questions_commitment ON plan_questions (commitment, status, asked_at);
        CREATE INDEX plan_questions_status ON plan_questions (status, asked_at);
        CREATE TABLE plan_question_events (
            question_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            action TEXT NOT NULL,
            publisher TEXT,
            token_id TEXT,
            at TEXT NOT NULL,
            text TEXT,
            PRIMARY KEY (question_id, seq)
        );
        CREATE TABLE sessions (
            session_hash TEXT PRIMARY KEY,
            token_id TEXT NOT NULL,
            csrf TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        CREATE INDEX sessions_token ON sessions (token_id);
        INSERT INTO meta (key, value) VALUES ('plan_seq', 0)",
        postgres: None,
    },
];

/// The largest number of bound parameters one statement gets: SQLite allows 32,766, PostgreSQL 65,535.
const MAX_PARAMS: usize = 30_000;

/// The time now, RFC 3339 in UTC (what OCDS dates look like).
pub fn now_rfc3339() -> String {
    now()
}

pub(crate) fn now() -> String {
    rfc3339(unix_now())
}

/// Seconds since 1970 by the system clock.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Seconds since 1970 as RFC 3339 in UTC, without a date crate.
pub(crate) fn rfc3339(secs: u64) -> String {
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

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    out
}

/// `?, ?, ?` for `n` parameters.
pub(crate) fn placeholders(n: usize) -> String {
    let mut s = String::with_capacity(n * 3);
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        s.push('?');
    }
    s
}

/// `(?, ?), (?, ?)` for `rows` rows of `cols` parameters.
pub(crate) fn row_placeholders(rows: usize, cols: usize) -> String {
    let one = format!("({})", placeholders(cols));
    vec![one; rows].join(", ")
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
        let options: AnyConnectOptions =
            url.parse().map_err(|_| StoreError::BadUrl(url.clone()))?;
        let pool = AnyPoolOptions::new()
            // SQLite in WAL mode: any number of readers beside one writer.
            .max_connections(if backend == Backend::Sqlite { 4 } else { 10 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // NORMAL is safe with WAL (a crash loses no committed transaction's
                        // consistency); the busy timeout lets a reader wait out a checkpoint.
                        for pragma in [
                            // Releases and compiled records are kilobytes each: bigger pages
                            // keep them off overflow chains (only takes effect on a new file).
                            "PRAGMA page_size=16384",
                            "PRAGMA journal_mode=WAL",
                            "PRAGMA synchronous=NORMAL",
                            "PRAGMA busy_timeout=10000",
                            // Checkpoint in fewer, larger steps during bulk ingest (pages of 16 KiB: 64 MiB).
                            "PRAGMA wal_autocheckpoint=4096",
                            "PRAGMA cache_size=-16384",
                            "PRAGMA temp_store=MEMORY",
                        ] {
                            sqlx::query(pragma).execute(&mut *conn).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let store = Store { pool, backend };
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// SQL written with `?` placeholders, in the backend's own syntax.
    pub(crate) fn sql(&self, q: &str) -> String {
        if self.backend == Backend::Sqlite {
            return q.to_owned();
        }
        let q = q.replace("BLOB", "BYTEA");
        let mut out = String::with_capacity(q.len() + 8);
        let mut n = 0;
        let mut in_string = false;
        for c in q.chars() {
            if c == '\'' {
                in_string = !in_string;
            }
            if c == '?' && !in_string {
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
        for migration in MIGRATIONS {
            let done: Option<AnyRow> =
                sqlx::query(&self.sql("SELECT version FROM schema_migrations WHERE version = ?"))
                    .bind(migration.version)
                    .fetch_optional(&self.pool)
                    .await?;
            if done.is_some() {
                continue;
            }
            let script = match self.backend {
                Backend::Postgres => migration.postgres.unwrap_or(migration.sqlite),
                Backend::Sqlite => migration.sqlite,
            };
            let mut tx = self.pool.begin().await?;
            // A PL/pgSQL block is one statement, semicolons and all.
            let statements: Vec<String> = if script.trim_start().starts_with("DO $$") {
                vec![script.to_owned()]
            } else {
                self.sql(script).split(';').map(str::to_owned).collect()
            };
            for statement in statements.iter().filter(|s| !s.trim().is_empty()) {
                sqlx::query(statement).execute(&mut *tx).await?;
            }
            sqlx::query(&self.sql("INSERT INTO schema_migrations (version) VALUES (?)"))
                .bind(migration.version)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(())
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

    /// A number that changes whenever the published data changes: the bulk downloads' ETag.
    pub async fn data_version(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT value FROM meta WHERE key = 'data_version'")
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get(0)?,
            None => 0,
        })
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

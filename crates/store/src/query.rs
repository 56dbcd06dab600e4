//! Reading: search with facets, one process, organisations, quarantine, bulk exports.
//!
//! Every value from outside is bound as a parameter, never spliced into SQL;
//! full-text queries are rebuilt from their words so that search syntax typed
//! by a user is searched for, not obeyed.

use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;
use tokio::sync::mpsc;

use crate::{placeholders, Backend, Store, StoreError};

/// A search of contracting processes. Every filter is optional; `limit` is bounded by the caller.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// Words that must all appear (title, description, buyer, suppliers).
    pub q: Option<String>,
    /// Organisation id of the buyer.
    pub buyer: Option<String>,
    /// Organisation id of a supplier.
    pub supplier: Option<String>,
    /// Organisation id taking any part.
    pub org: Option<String>,
    pub method: Option<String>,
    pub status: Option<String>,
    pub category: Option<String>,
    /// Inclusive bounds on the process's date (its latest release), `YYYY-MM-DD`.
    pub date_from: Option<String>,
    pub date_to: Option<String>,
    /// Inclusive bounds on the amount (awarded, or else the tender's estimate).
    pub value_min: Option<f64>,
    pub value_max: Option<f64>,
    pub limit: u32,
    /// Where the previous page ended (opaque to callers).
    pub cursor: Option<String>,
    /// Count the facets too (the API always does; a next page needs not).
    pub facets: bool,
}

/// A process as a search result lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessRow {
    pub ocid: String,
    pub date: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub buyer_id: Option<String>,
    pub buyer_name: Option<String>,
    pub procuring_entity_id: Option<String>,
    pub procuring_entity_name: Option<String>,
    pub status: Option<String>,
    pub procurement_method: Option<String>,
    pub procurement_method_details: Option<String>,
    pub main_category: Option<String>,
    pub tender_amount: Option<f64>,
    pub tender_currency: Option<String>,
    pub awarded_amount: Option<f64>,
    pub awarded_currency: Option<String>,
    pub contracted_amount: Option<f64>,
    pub amount: Option<f64>,
    pub currency: Option<String>,
    pub tender_start: Option<String>,
    pub tender_end: Option<String>,
    pub award_date: Option<String>,
    pub contract_date: Option<String>,
    pub suppliers: Option<String>,
    pub supplier_count: i64,
    pub tenderer_count: i64,
    pub award_count: i64,
    pub contract_count: i64,
    pub release_count: i64,
    pub classifications: Option<String>,
}

const ROW_COLUMNS: &str = "r.ocid, r.date, r.title, r.description, r.buyer_id, r.buyer_name, r.procuring_entity_id,
    r.procuring_entity_name, r.status, r.procurement_method, r.procurement_method_details, r.main_category,
    r.tender_amount, r.tender_currency, r.awarded_amount, r.awarded_currency, r.contracted_amount, r.amount,
    r.currency, r.tender_start, r.tender_end, r.award_date, r.contract_date, r.suppliers, r.supplier_count,
    r.tenderer_count, r.award_count, r.contract_count, r.release_count, r.classifications";

impl ProcessRow {
    fn from_row(r: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(ProcessRow {
            ocid: r.try_get(0)?,
            date: r.try_get(1)?,
            title: r.try_get(2)?,
            description: r.try_get(3)?,
            buyer_id: r.try_get(4)?,
            buyer_name: r.try_get(5)?,
            procuring_entity_id: r.try_get(6)?,
            procuring_entity_name: r.try_get(7)?,
            status: r.try_get(8)?,
            procurement_method: r.try_get(9)?,
            procurement_method_details: r.try_get(10)?,
            main_category: r.try_get(11)?,
            tender_amount: r.try_get(12)?,
            tender_currency: r.try_get(13)?,
            awarded_amount: r.try_get(14)?,
            awarded_currency: r.try_get(15)?,
            contracted_amount: r.try_get(16)?,
            amount: r.try_get(17)?,
            currency: r.try_get(18)?,
            tender_start: r.try_get(19)?,
            tender_end: r.try_get(20)?,
            award_date: r.try_get(21)?,
            contract_date: r.try_get(22)?,
            suppliers: r.try_get(23)?,
            supplier_count: r.try_get(24)?,
            tenderer_count: r.try_get(25)?,
            award_count: r.try_get(26)?,
            contract_count: r.try_get(27)?,
            release_count: r.try_get(28)?,
            classifications: r.try_get(29)?,
        })
    }
}

/// The facets a search counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Facet {
    Method,
    Status,
    Category,
    Buyer,
}

impl Facet {
    pub const ALL: [Facet; 4] = [Facet::Method, Facet::Status, Facet::Category, Facet::Buyer];

    pub fn name(self) -> &'static str {
        match self {
            Facet::Method => "method",
            Facet::Status => "status",
            Facet::Category => "category",
            Facet::Buyer => "buyer",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Facet::Method => "r.procurement_method",
            Facet::Status => "r.status",
            Facet::Category => "r.main_category",
            Facet::Buyer => "r.buyer_id",
        }
    }
}

/// One value of a facet and how many results have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetCount {
    pub value: String,
    /// A name to show, where the value is an identifier (buyers).
    pub label: Option<String>,
    pub count: i64,
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    pub results: Vec<ProcessRow>,
    /// How many processes match, over every page.
    pub total: i64,
    pub facets: Vec<(Facet, Vec<FacetCount>)>,
    pub next_cursor: Option<String>,
}

/// A stored release, as received.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseRow {
    pub release_id: String,
    pub date: Option<String>,
    pub package_version: Option<String>,
    pub source_file: String,
    pub source_line: i64,
    pub received_at: String,
    pub content_hash: String,
    /// Space-separated tags, as stored at ingest (absent for releases stored before tags were).
    pub tag: Option<String>,
    /// The bytes as received; empty from [`Store::release_list`].
    pub raw: Vec<u8>,
}

/// An organisation's part in a process.
#[derive(Debug, Clone, PartialEq)]
pub struct PartyRow {
    pub ocid: String,
    pub org_id: String,
    pub name: String,
    pub role: String,
    pub amount: Option<f64>,
    pub currency: Option<String>,
}

/// An organisation in a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRow {
    pub org_id: String,
    pub name: String,
    pub as_buyer: i64,
    pub as_supplier: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgPage {
    pub results: Vec<OrgRow>,
    pub next_cursor: Option<String>,
}

/// What an organisation did in one role, in one currency.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgTotal {
    pub role: String,
    pub currency: Option<String>,
    pub processes: i64,
    pub amount: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Organisation {
    pub org_id: String,
    pub name: String,
    pub totals: Vec<OrgTotal>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinePage {
    pub items: Vec<crate::Quarantined>,
    pub total: i64,
    pub next_cursor: Option<String>,
}

/// Counts for the home page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    pub processes: i64,
    pub releases: i64,
    pub quarantined: i64,
    pub organisations: i64,
    pub buyers: i64,
    pub suppliers: i64,
}

/// Cursors are the sort key of the last row, hex-encoded so they are opaque and URL-safe.
pub(crate) fn encode_cursor(parts: &[&str]) -> String {
    let joined = parts.join("\u{1f}");
    let mut s = String::with_capacity(joined.len() * 2);
    for b in joined.bytes() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

pub(crate) fn decode_cursor(cursor: &str, parts: usize) -> Result<Vec<String>, StoreError> {
    let bad = || StoreError::Invalid {
        field: "cursor",
        message: "not a cursor this server gave; start again from the first page".into(),
    };
    if !cursor.len().is_multiple_of(2) || cursor.len() > 8192 {
        return Err(bad());
    }
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(cursor.get(i..i + 2).ok_or_else(bad)?, 16).map_err(|_| bad()))
        .collect::<Result<Vec<u8>, _>>()?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let out: Vec<String> = text.split('\u{1f}').map(str::to_owned).collect();
    if out.len() != parts {
        return Err(bad());
    }
    Ok(out)
}

/// The words of a full-text query, each quoted for FTS5 so that none is read as an operator.
fn fts5_query(q: &str) -> Option<String> {
    let words: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(32)
        .map(|w| format!("\"{w}\""))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// A WHERE clause under construction, with its parameters in order.
#[derive(Default)]
struct Filter {
    clauses: Vec<String>,
    params: Vec<Param>,
}

#[derive(Clone)]
pub(crate) enum Param {
    Text(String),
    Real(f64),
    Int(i64),
    Null,
}

impl Filter {
    fn push(&mut self, clause: impl Into<String>, params: Vec<Param>) {
        self.clauses.push(clause.into());
        self.params.extend(params);
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }
}

pub(crate) fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    params: &[Param],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for p in params {
        q = match p {
            Param::Text(s) => q.bind(s.clone()),
            Param::Real(f) => q.bind(*f),
            Param::Int(i) => q.bind(*i),
            Param::Null => q.bind(None::<String>),
        };
    }
    q
}

/// `%text%` for LIKE, with LIKE's own wildcards in the text escaped.
fn like_pattern(text: &str) -> String {
    let mut s = String::from("%");
    for c in text.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}

impl Store {
    fn search_filter(&self, query: &SearchQuery) -> Filter {
        let mut f = Filter::default();
        let text = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        if let Some(q) = text(&query.q) {
            match self.backend {
                Backend::Sqlite => {
                    if let Some(m) = fts5_query(&q) {
                        f.push(
                            "r.rowid IN (SELECT rowid FROM records_fts WHERE records_fts MATCH ?)",
                            vec![Param::Text(m)],
                        );
                    }
                }
                Backend::Postgres => f.push(
                    "r.search @@ plainto_tsquery('simple', ?)",
                    vec![Param::Text(q)],
                ),
            }
        }
        if let Some(b) = text(&query.buyer) {
            f.push("r.buyer_id = ?", vec![Param::Text(b)]);
        }
        if let Some(s) = text(&query.supplier) {
            f.push(
                "r.ocid IN (SELECT ocid FROM process_parties WHERE org_id = ? AND role = 'supplier')",
                vec![Param::Text(s)],
            );
        }
        if let Some(o) = text(&query.org) {
            f.push(
                "r.ocid IN (SELECT ocid FROM process_parties WHERE org_id = ?)",
                vec![Param::Text(o)],
            );
        }
        for (value, column) in [
            (&query.method, "r.procurement_method"),
            (&query.status, "r.status"),
            (&query.category, "r.main_category"),
        ] {
            if let Some(v) = text(value) {
                f.push(format!("{column} = ?"), vec![Param::Text(v)]);
            }
        }
        if let Some(d) = text(&query.date_from) {
            f.push("r.date >= ?", vec![Param::Text(d)]);
        }
        if let Some(d) = text(&query.date_to) {
            // Inclusive of the whole day: every timestamp of that day sorts before the next day.
            f.push("r.date < ?", vec![Param::Text(format!("{d}\u{7f}"))]);
        }
        if let Some(v) = query.value_min {
            f.push("r.amount >= ?", vec![Param::Real(v)]);
        }
        if let Some(v) = query.value_max {
            f.push("r.amount <= ?", vec![Param::Real(v)]);
        }
        f
    }

    /// Search processes, newest first, a page at a time.
    pub async fn search(&self, query: &SearchQuery) -> Result<SearchPage, StoreError> {
        let filter = self.search_filter(query);
        let limit = query.limit.max(1);
        let mut page_filter = Filter {
            clauses: filter.clauses.clone(),
            params: filter.params.clone(),
        };
        if let Some(c) = &query.cursor {
            let parts = decode_cursor(c, 2)?;
            page_filter.push(
                "(r.date < ? OR (r.date = ? AND r.ocid < ?))",
                vec![
                    Param::Text(parts[0].clone()),
                    Param::Text(parts[0].clone()),
                    Param::Text(parts[1].clone()),
                ],
            );
        }
        let sql = self.sql(&format!(
            "SELECT {ROW_COLUMNS} FROM records r {} ORDER BY r.date DESC, r.ocid DESC LIMIT {}",
            page_filter.sql(),
            limit + 1
        ));
        let rows = bind_all(sqlx::query(&sql), &page_filter.params)
            .fetch_all(&self.pool)
            .await?;
        let mut results = rows
            .iter()
            .map(ProcessRow::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = if results.len() > limit as usize {
            results.truncate(limit as usize);
            results.last().map(|r| encode_cursor(&[&r.date, &r.ocid]))
        } else {
            None
        };
        let count_sql = self.sql(&format!("SELECT COUNT(*) FROM records r {}", filter.sql()));
        let total: i64 = bind_all(sqlx::query(&count_sql), &filter.params)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        let mut facets = Vec::new();
        if query.facets {
            for facet in Facet::ALL {
                facets.push((facet, self.facet(&filter, facet).await?));
            }
        }
        Ok(SearchPage {
            results,
            total,
            facets,
            next_cursor,
        })
    }

    async fn facet(&self, filter: &Filter, facet: Facet) -> Result<Vec<FacetCount>, StoreError> {
        let column = facet.column();
        let mut f = Filter {
            clauses: filter.clauses.clone(),
            params: filter.params.clone(),
        };
        f.push(format!("{column} IS NOT NULL"), vec![]);
        let label = if facet == Facet::Buyer {
            "MAX(r.buyer_name)"
        } else {
            "NULL"
        };
        let sql = self.sql(&format!(
            "SELECT {column}, {label}, COUNT(*) AS n FROM records r {} GROUP BY {column} ORDER BY n DESC, {column} LIMIT 10",
            f.sql()
        ));
        let rows = bind_all(sqlx::query(&sql), &f.params)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(FacetCount {
                    value: r.try_get(0)?,
                    label: r.try_get(1)?,
                    count: r.try_get(2)?,
                })
            })
            .collect()
    }

    /// One process: its summary row and compiled release.
    pub async fn process(&self, ocid: &str) -> Result<Option<(ProcessRow, Value)>, StoreError> {
        let sql = self.sql(&format!(
            "SELECT {ROW_COLUMNS}, r.compiled FROM records r WHERE r.ocid = ?"
        ));
        let Some(row) = sqlx::query(&sql)
            .bind(ocid)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let summary = ProcessRow::from_row(&row)?;
        let compiled: String = row.try_get(30)?;
        Ok(Some((
            summary,
            serde_json::from_str(&compiled).unwrap_or(Value::Null),
        )))
    }

    /// The compiled release of a process.
    pub async fn compiled(&self, ocid: &str) -> Result<Option<Value>, StoreError> {
        Ok(self.process(ocid).await?.map(|(_, c)| c))
    }

    /// A process's releases as received, oldest first.
    pub async fn releases(&self, ocid: &str) -> Result<Vec<ReleaseRow>, StoreError> {
        self.release_rows(ocid, true).await
    }

    /// A process's releases without their bytes (for a timeline): the bytes are
    /// read only for a release stored before tags were kept.
    pub async fn release_list(&self, ocid: &str) -> Result<Vec<ReleaseRow>, StoreError> {
        self.release_rows(ocid, false).await
    }

    async fn release_rows(&self, ocid: &str, raw: bool) -> Result<Vec<ReleaseRow>, StoreError> {
        let raw_column = if raw {
            "raw"
        } else {
            "CASE WHEN tag IS NULL THEN raw ELSE NULL END"
        };
        let rows = sqlx::query(&self.sql(&format!(
            "SELECT release_id, release_date, package_version, source_file, source_line, received_at, content_hash, tag, {raw_column}
             FROM releases WHERE ocid = ? ORDER BY release_date, received_at, source_file, source_line"
        )))
        .bind(ocid)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReleaseRow {
                    release_id: r.try_get(0)?,
                    date: r.try_get(1)?,
                    package_version: r.try_get(2)?,
                    source_file: r.try_get(3)?,
                    source_line: r.try_get(4)?,
                    received_at: r.try_get(5)?,
                    content_hash: r.try_get(6)?,
                    tag: r.try_get(7)?,
                    raw: r.try_get::<Option<Vec<u8>>, _>(8)?.unwrap_or_default(),
                })
            })
            .collect()
    }

    /// The organisations taking part in a process, and their parts.
    pub async fn parties(&self, ocid: &str) -> Result<Vec<PartyRow>, StoreError> {
        let rows = sqlx::query(&self.sql(
            "SELECT ocid, org_id, name, role, amount, currency FROM process_parties WHERE ocid = ? ORDER BY role, name, org_id",
        ))
        .bind(ocid)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PartyRow {
                    ocid: r.try_get(0)?,
                    org_id: r.try_get(1)?,
                    name: r.try_get(2)?,
                    role: r.try_get(3)?,
                    amount: r.try_get(4)?,
                    currency: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// Organisations whose name or identifier contains `q`, by name.
    pub async fn organisations(
        &self,
        q: Option<&str>,
        role: Option<&str>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<OrgPage, StoreError> {
        let mut f = Filter::default();
        if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
            let pattern = like_pattern(q);
            f.push(
                "(LOWER(o.name) LIKE ? ESCAPE '\\' OR LOWER(o.org_id) LIKE ? ESCAPE '\\')",
                vec![Param::Text(pattern.clone()), Param::Text(pattern)],
            );
        }
        if let Some(role) = role.map(str::trim).filter(|r| !r.is_empty()) {
            f.push(
                "EXISTS (SELECT 1 FROM process_parties p WHERE p.org_id = o.org_id AND p.role = ?)",
                vec![Param::Text(role.to_owned())],
            );
        }
        if let Some(c) = cursor {
            let parts = decode_cursor(c, 2)?;
            f.push(
                "(o.name > ? OR (o.name = ? AND o.org_id > ?))",
                vec![
                    Param::Text(parts[0].clone()),
                    Param::Text(parts[0].clone()),
                    Param::Text(parts[1].clone()),
                ],
            );
        }
        let limit = limit.max(1);
        let sql = self.sql(&format!(
            "SELECT o.org_id, o.name,
               (SELECT COUNT(*) FROM process_parties p WHERE p.org_id = o.org_id AND p.role = 'buyer'),
               (SELECT COUNT(*) FROM process_parties p WHERE p.org_id = o.org_id AND p.role = 'supplier')
             FROM organisations o {} ORDER BY o.name, o.org_id LIMIT {}",
            f.sql(),
            limit + 1
        ));
        let rows = bind_all(sqlx::query(&sql), &f.params)
            .fetch_all(&self.pool)
            .await?;
        let mut results = rows
            .iter()
            .map(|r| {
                Ok(OrgRow {
                    org_id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    as_buyer: r.try_get(2)?,
                    as_supplier: r.try_get(3)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let next_cursor = if results.len() > limit as usize {
            results.truncate(limit as usize);
            results.last().map(|o| encode_cursor(&[&o.name, &o.org_id]))
        } else {
            None
        };
        Ok(OrgPage {
            results,
            next_cursor,
        })
    }

    /// One organisation with its totals in each role and currency.
    pub async fn organisation(&self, org_id: &str) -> Result<Option<Organisation>, StoreError> {
        let Some(row) =
            sqlx::query(&self.sql("SELECT org_id, name FROM organisations WHERE org_id = ?"))
                .bind(org_id)
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(None);
        };
        let rows = sqlx::query(&self.sql(
            "SELECT role, currency, COUNT(*), SUM(amount) FROM process_parties WHERE org_id = ?
             GROUP BY role, currency ORDER BY role, COUNT(*) DESC",
        ))
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        let totals = rows
            .iter()
            .map(|r| {
                Ok(OrgTotal {
                    role: r.try_get(0)?,
                    currency: r.try_get(1)?,
                    processes: r.try_get(2)?,
                    amount: r.try_get(3)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(Some(Organisation {
            org_id: row.try_get(0)?,
            name: row.try_get(1)?,
            totals,
        }))
    }

    /// Quarantined items, oldest first, optionally of one reason.
    pub async fn quarantine_page(
        &self,
        reason: Option<&str>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<QuarantinePage, StoreError> {
        let mut f = Filter::default();
        if let Some(r) = reason.map(str::trim).filter(|r| !r.is_empty()) {
            f.push("reason = ?", vec![Param::Text(r.to_owned())]);
        }
        let total: i64 = bind_all(
            sqlx::query(&self.sql(&format!("SELECT COUNT(*) FROM quarantine {}", f.sql()))),
            &f.params,
        )
        .fetch_one(&self.pool)
        .await?
        .try_get(0)?;
        if let Some(c) = cursor {
            let p = decode_cursor(c, 6)?;
            let line: f64 = p[2].parse().map_err(|_| StoreError::Invalid {
                field: "cursor",
                message: "not a cursor this server gave".into(),
            })?;
            // Row values compare lexicographically, in SQLite and PostgreSQL alike.
            f.push(
                "(received_at, source_file, source_line, ocid, content_hash, reason) > (?, ?, ?, ?, ?, ?)",
                vec![
                    Param::Text(p[0].clone()),
                    Param::Text(p[1].clone()),
                    Param::Real(line),
                    Param::Text(p[3].clone()),
                    Param::Text(p[4].clone()),
                    Param::Text(p[5].clone()),
                ],
            );
        }
        let limit = limit.max(1);
        let sql = self.sql(&format!(
            "SELECT ocid, reason, message, source_file, source_line, received_at, content_hash FROM quarantine {}
             ORDER BY received_at, source_file, source_line, ocid, content_hash, reason LIMIT {}",
            f.sql(),
            limit + 1
        ));
        let rows = bind_all(sqlx::query(&sql), &f.params)
            .fetch_all(&self.pool)
            .await?;
        let mut items = rows
            .iter()
            .map(|r| {
                Ok(crate::Quarantined {
                    ocid: r.try_get(0)?,
                    reason: r.try_get(1)?,
                    message: r.try_get(2)?,
                    source_file: r.try_get(3)?,
                    source_line: r.try_get(4)?,
                    received_at: r.try_get(5)?,
                    content_hash: r.try_get(6)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|q| {
                encode_cursor(&[
                    &q.received_at,
                    &q.source_file,
                    &q.source_line.to_string(),
                    &q.ocid,
                    &q.content_hash,
                    &q.reason,
                ])
            })
        } else {
            None
        };
        Ok(QuarantinePage {
            items,
            total,
            next_cursor,
        })
    }

    /// The bytes of a quarantined item, as received.
    pub async fn quarantined_raw(&self, content_hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row =
            sqlx::query(&self.sql("SELECT raw FROM quarantine WHERE content_hash = ? LIMIT 1"))
                .bind(content_hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Counts for the home page.
    pub async fn stats(&self) -> Result<Stats, StoreError> {
        let one = |sql: &'static str| async move {
            let r = sqlx::query(sql).fetch_one(&self.pool).await?;
            Ok::<i64, StoreError>(r.try_get(0)?)
        };
        Ok(Stats {
            processes: one("SELECT COUNT(*) FROM records").await?,
            releases: one("SELECT COUNT(*) FROM releases").await?,
            quarantined: one("SELECT COUNT(*) FROM quarantine").await?,
            organisations: one("SELECT COUNT(*) FROM organisations").await?,
            buyers: one("SELECT COUNT(DISTINCT org_id) FROM process_parties WHERE role = 'buyer'")
                .await?,
            suppliers: one(
                "SELECT COUNT(DISTINCT org_id) FROM process_parties WHERE role = 'supplier'",
            )
            .await?,
        })
    }

    /// Stream every stored release (one JSON per line), every compiled release, or
    /// every record, in ocid order. A task reads the database a page at a time and
    /// sends each page's bytes; memory stays bounded by one page whatever the size.
    ///
    /// `uri` is where the file is published (a record package states it).
    pub fn export(&self, what: Export, uri: String) -> mpsc::Receiver<Result<Vec<u8>, StoreError>> {
        let (tx, rx) = mpsc::channel(4);
        let store = self.clone();
        tokio::spawn(async move {
            if let Err(e) = store.export_pages(what, &uri, &tx).await {
                let _ = tx.send(Err(e)).await;
            }
        });
        rx
    }

    async fn export_pages(
        &self,
        what: Export,
        uri: &str,
        tx: &mpsc::Sender<Result<Vec<u8>, StoreError>>,
    ) -> Result<(), StoreError> {
        const PAGE: i64 = 500;
        let mut after = String::new();
        let mut first = true;
        if what == Export::RecordPackage {
            let head = format!(
                "{{\"uri\":{},\"version\":\"1.1\",\"publishedDate\":\"{}\",\"publisher\":{{\"name\":\"Tuwhera\"}},\"records\":[",
                Value::from(uri),
                crate::now()
            );
            if tx.send(Ok(head.into_bytes())).await.is_err() {
                return Ok(());
            }
        }
        loop {
            let ocids: Vec<(String, String)> = sqlx::query(
                &self
                    .sql("SELECT ocid, compiled FROM records WHERE ocid > ? ORDER BY ocid LIMIT ?"),
            )
            .bind(&after)
            .bind(PAGE)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()?;
            let Some((last, _)) = ocids.last() else {
                break;
            };
            after = last.clone();
            let mut out = Vec::with_capacity(1 << 20);
            match what {
                Export::Compiled => {
                    for (_, compiled) in &ocids {
                        out.extend_from_slice(compiled.as_bytes());
                        out.push(b'\n');
                    }
                }
                Export::Releases | Export::RecordPackage => {
                    let names: Vec<&str> = ocids.iter().map(|(o, _)| o.as_str()).collect();
                    let sql = self.sql(&format!(
                        "SELECT ocid, raw FROM releases WHERE ocid IN ({}) ORDER BY ocid, release_date, received_at, source_file, source_line",
                        placeholders(names.len())
                    ));
                    let mut q = sqlx::query(&sql);
                    for o in &names {
                        q = q.bind(*o);
                    }
                    let rows = q.fetch_all(&self.pool).await?;
                    let mut releases: Vec<(String, Vec<u8>)> = Vec::with_capacity(rows.len());
                    for r in rows {
                        releases.push((r.try_get(0)?, r.try_get(1)?));
                    }
                    if what == Export::Releases {
                        for (_, raw) in &releases {
                            one_line(raw, &mut out);
                            out.push(b'\n');
                        }
                    } else {
                        let mut at = 0;
                        for (ocid, compiled) in &ocids {
                            if !first {
                                out.push(b',');
                            }
                            first = false;
                            out.extend_from_slice(b"{\"ocid\":");
                            out.extend_from_slice(
                                serde_json::to_string(ocid).unwrap_or_default().as_bytes(),
                            );
                            out.extend_from_slice(b",\"releases\":[");
                            let mut n = 0;
                            while at < releases.len() && releases[at].0 == *ocid {
                                if n > 0 {
                                    out.push(b',');
                                }
                                one_line(&releases[at].1, &mut out);
                                n += 1;
                                at += 1;
                            }
                            out.extend_from_slice(b"],\"compiledRelease\":");
                            out.extend_from_slice(compiled.as_bytes());
                            out.push(b'}');
                        }
                    }
                }
            }
            if tx.send(Ok(out)).await.is_err() {
                // The client went away: stop reading.
                return Ok(());
            }
        }
        if what == Export::RecordPackage {
            let _ = tx.send(Ok(b"]}\n".to_vec())).await;
        }
        Ok(())
    }
}

/// Which bulk file to stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    Releases,
    Compiled,
    RecordPackage,
}

/// A release as received, on one line: JSON's whitespace may include line
/// breaks, which JSON Lines cannot carry; inside strings they are always
/// escaped, so every raw CR or LF byte is whitespace and becomes a space.
fn one_line(raw: &[u8], out: &mut Vec<u8>) {
    out.extend(
        raw.iter()
            .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let c = encode_cursor(&["2024-01-01T00:00:00Z", "ocds-abc-1 'x'"]);
        assert_eq!(
            decode_cursor(&c, 2).expect("own cursor"),
            vec!["2024-01-01T00:00:00Z", "ocds-abc-1 'x'"]
        );
        assert!(decode_cursor("zz", 2).is_err());
        assert!(decode_cursor("abc", 2).is_err());
        assert!(decode_cursor(&c, 3).is_err());
    }

    #[test]
    fn full_text_queries_are_only_words() {
        assert_eq!(
            fts5_query("' OR 1=1; -- \"x\" NEAR(a b)").as_deref(),
            Some("\"OR\" \"1\" \"1\" \"x\" \"NEAR\" \"a\" \"b\"")
        );
        assert_eq!(fts5_query("  ;;  "), None);
        assert_eq!(like_pattern("50%_a"), "%50\\%\\_a%");
    }
}

//! Storing releases: kept exactly as received, or quarantined with the reason.

use std::collections::HashMap;

use serde_json::Value;
use sqlx::Row;
use tuwhera_ocds::reader::Event;

use crate::{now, placeholders, row_placeholders, sha256_hex, Store, StoreError, MAX_PARAMS};

/// What one ingest did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestSummary {
    pub new: u64,
    pub unchanged: u64,
    pub quarantined: u64,
}

impl std::ops::AddAssign for IngestSummary {
    fn add_assign(&mut self, o: IngestSummary) {
        self.new += o.new;
        self.unchanged += o.unchanged;
        self.quarantined += o.quarantined;
    }
}

/// Why a release went to quarantine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    pub ocid: String,
    pub reason: String,
    pub message: String,
    pub source_file: String,
    pub source_line: i64,
    pub received_at: String,
    pub content_hash: String,
}

/// A received item, worked out before anything touches the database.
struct Received {
    hash: String,
    raw: Vec<u8>,
    source_file: String,
    line: i64,
    verdict: Verdict,
}

enum Verdict {
    Keep {
        ocid: String,
        id: String,
        date: String,
        version: Option<String>,
        /// The release's tags, space-separated.
        tag: Option<String>,
    },
    Quarantine {
        ocid: String,
        reason: String,
        message: String,
    },
}

/// Whether a release date begins `YYYY-MM-DD` with a real month and day: the
/// rest (time, zone) varies between publishers, but dates that sort as text
/// must at least start alike.
fn starts_with_a_date(date: &str) -> bool {
    let b = date.as_bytes();
    let two = |i: usize| {
        (b[i].is_ascii_digit() && b[i + 1].is_ascii_digit())
            .then(|| (b[i] - b'0') * 10 + (b[i + 1] - b'0'))
    };
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && matches!(two(5), Some(1..=12))
        && matches!(two(8), Some(1..=31))
}

/// Parse and hash one item. CPU work, done for a whole batch in parallel.
fn examine(event: Event) -> Option<Received> {
    let item = match event {
        Event::Item(item) => item,
        Event::Error(e) => {
            // The reader could not cut out a release: its bytes are unknown.
            let message = e.to_string();
            return Some(Received {
                hash: sha256_hex(message.as_bytes()),
                raw: Vec::new(),
                source_file: e.source.to_string(),
                line: e.line as i64,
                verdict: Verdict::Quarantine {
                    ocid: String::new(),
                    reason: format!("read.{}", e.kind.code()),
                    message,
                },
            });
        }
        Event::Package(_) => return None,
    };
    let hash = sha256_hex(&item.raw);
    let quarantine = |ocid: &str, reason: &str, message: String| Verdict::Quarantine {
        ocid: ocid.to_owned(),
        reason: reason.to_owned(),
        message,
    };
    let verdict = match item.parse() {
        Err(e) => quarantine("", "read.json-syntax", e.to_string()),
        Ok(value) => {
            let ocid = value.get("ocid").and_then(Value::as_str);
            let id = value.get("id").map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            let date = value.get("date").and_then(Value::as_str);
            match (ocid, id, date) {
                (None, _, _) => quarantine(
                    "",
                    "no-ocid",
                    "release has no `ocid` (a string); it cannot be grouped".into(),
                ),
                (Some(o), None, _) => quarantine(
                    o,
                    "no-id",
                    "release has no `id`; it cannot be told apart from the process's other releases".into(),
                ),
                (Some(o), _, None) => quarantine(
                    o,
                    "no-date",
                    "release has no `date` (a string); it cannot be put in order for compiling".into(),
                ),
                (Some(o), Some(_), Some(date)) if !starts_with_a_date(date) => quarantine(
                    o,
                    "bad-date",
                    format!("release `date` {date:?} is not a date (YYYY-MM-DDThh:mm:ssZ); it cannot be put in order for compiling"),
                ),
                (Some(o), Some(id), Some(date)) => Verdict::Keep {
                    ocid: o.to_owned(),
                    id,
                    date: date.to_owned(),
                    version: item.package.as_ref().and_then(|p| p.version.clone()),
                    // Empty when the release has no tags: NULL is kept for "not extracted".
                    tag: Some(
                        value
                            .get("tag")
                            .and_then(Value::as_array)
                            .map(|tags| {
                                tags.iter()
                                    .filter_map(Value::as_str)
                                    .collect::<Vec<_>>()
                                    .join(" ")
                            })
                            .unwrap_or_default(),
                    ),
                },
            }
        }
    };
    Some(Received {
        hash,
        source_file: item.source.to_string(),
        line: item.line as i64,
        raw: item.raw,
        verdict,
    })
}

/// A batch of received items, parsed and hashed, ready to be stored.
pub struct Prepared {
    items: Vec<Received>,
}

impl Prepared {
    /// Parse and hash every item of a batch, in parallel. No database work:
    /// callers can prepare the next batch while the store writes this one.
    pub fn new(batch: Vec<Event>, sender: Option<&str>) -> Prepared {
        use rayon::prelude::*;
        let mut items: Vec<Received> = batch.into_par_iter().filter_map(examine).collect();
        if let Some(sender) = sender {
            for item in &mut items {
                item.source_file = format!("{sender} ({})", item.source_file);
            }
        }
        Prepared { items }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl Store {
    /// Store a batch of releases in one transaction: new ones are kept and their
    /// ocids marked for compiling; exact repeats change nothing; anything that
    /// cannot be kept goes to quarantine with its reason. A release whose ocid
    /// and id were already received with other content is quarantined as a
    /// `conflict`: the first version received stays.
    ///
    /// Read errors (malformed JSON the reader could not cut into a release) are
    /// quarantined too, with their place and message; their bytes are not known.
    pub async fn ingest(&self, batch: Vec<Event>) -> Result<IngestSummary, StoreError> {
        self.ingest_as(batch, None).await
    }

    /// [`Store::ingest`], recording who sent the releases (a publisher's token) in place of a file.
    pub async fn ingest_as(
        &self,
        batch: Vec<Event>,
        sender: Option<&str>,
    ) -> Result<IngestSummary, StoreError> {
        Ok(self.ingest_report(batch, sender).await?.0)
    }

    /// [`Store::ingest_as`], also saying what was held and why, item by item:
    /// what a publisher needs to hear back.
    pub async fn ingest_report(
        &self,
        batch: Vec<Event>,
        sender: Option<&str>,
    ) -> Result<(IngestSummary, Vec<Quarantined>), StoreError> {
        let prepared = tokio::task::block_in_place(|| Prepared::new(batch, sender));
        self.ingest_detailed(prepared).await
    }

    /// Store a batch that [`Prepared::new`] made (maybe on another thread, while
    /// the previous batch was being written).
    pub async fn ingest_prepared(&self, prepared: Prepared) -> Result<IngestSummary, StoreError> {
        Ok(self.ingest_detailed(prepared).await?.0)
    }

    async fn ingest_detailed(
        &self,
        prepared: Prepared,
    ) -> Result<(IngestSummary, Vec<Quarantined>), StoreError> {
        let received_at = now();
        let items = prepared.items;
        let mut tx = self.pool.begin().await?;
        // What is already stored for these processes, in one query per chunk of ocids.
        let mut ocids: Vec<&str> = items
            .iter()
            .filter_map(|r| match &r.verdict {
                Verdict::Keep { ocid, .. } => Some(ocid.as_str()),
                _ => None,
            })
            .collect();
        ocids.sort_unstable();
        ocids.dedup();
        let mut stored: HashMap<(String, String), String> = HashMap::new();
        for chunk in ocids.chunks(MAX_PARAMS) {
            let select = self.sql(&format!(
                "SELECT ocid, release_id, content_hash FROM releases WHERE ocid IN ({})",
                placeholders(chunk.len())
            ));
            let mut q = sqlx::query(&select);
            for o in chunk {
                q = q.bind(*o);
            }
            for row in q.fetch_all(&mut *tx).await? {
                stored.insert((row.try_get(0)?, row.try_get(1)?), row.try_get(2)?);
            }
        }

        let mut summary = IngestSummary::default();
        let mut keep: Vec<&Received> = Vec::new();
        let mut held: Vec<(&Received, String, String, String)> = Vec::new();
        for item in &items {
            match &item.verdict {
                Verdict::Quarantine {
                    ocid,
                    reason,
                    message,
                } => held.push((item, ocid.clone(), reason.clone(), message.clone())),
                Verdict::Keep { ocid, id, .. } => {
                    match stored.get(&(ocid.clone(), id.clone())) {
                        None => {
                            // Later copies in this same batch are compared with this one.
                            stored.insert((ocid.clone(), id.clone()), item.hash.clone());
                            keep.push(item);
                        }
                        Some(hash) if *hash == item.hash => summary.unchanged += 1,
                        Some(_) => held.push((
                            item,
                            ocid.clone(),
                            "conflict".to_owned(),
                            format!(
                                "release {id:?} of {ocid} was already received with other content; this version is kept here, not merged"
                            ),
                        )),
                    }
                }
            }
        }

        const RELEASE_COLS: usize = 10;
        for chunk in keep.chunks(MAX_PARAMS / RELEASE_COLS) {
            let insert = self.sql(&format!(
                "INSERT INTO releases (ocid, release_id, release_date, package_version, content_hash, raw, source_file, source_line, received_at, tag)
                 VALUES {} ON CONFLICT (ocid, release_id) DO NOTHING",
                row_placeholders(chunk.len(), RELEASE_COLS)
            ));
            let mut q = sqlx::query(&insert).persistent(false);
            for item in chunk {
                let Verdict::Keep {
                    ocid,
                    id,
                    date,
                    version,
                    tag,
                } = &item.verdict
                else {
                    continue;
                };
                q = q
                    .bind(ocid.as_str())
                    .bind(id.as_str())
                    .bind(date.as_str())
                    .bind(version.as_deref())
                    .bind(item.hash.as_str())
                    .bind(item.raw.as_slice())
                    .bind(item.source_file.as_str())
                    .bind(item.line)
                    .bind(received_at.as_str())
                    .bind(tag.as_deref());
            }
            summary.new += q.execute(&mut *tx).await?.rows_affected();
        }
        // The data version this batch makes, taken before its marks are written. Writers wait
        // for each other on this row, so every batch committed after a compile read the dirty
        // marks has a higher version than any mark that compile saw.
        let mark: i64 = if keep.is_empty() && held.is_empty() {
            0
        } else {
            sqlx::query(
                "UPDATE meta SET value = value + 1 WHERE key = 'data_version' RETURNING value",
            )
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?
        };
        let mut dirty: Vec<&str> = keep
            .iter()
            .filter_map(|r| match &r.verdict {
                Verdict::Keep { ocid, .. } => Some(ocid.as_str()),
                _ => None,
            })
            .collect();
        dirty.sort_unstable();
        dirty.dedup();
        for chunk in dirty.chunks(MAX_PARAMS / 2) {
            let insert = self.sql(&format!(
                "INSERT INTO dirty (ocid, mark) VALUES {} ON CONFLICT (ocid) DO UPDATE SET mark = excluded.mark",
                row_placeholders(chunk.len(), 2)
            ));
            let mut q = sqlx::query(&insert);
            for o in chunk {
                q = q.bind(*o).bind(mark);
            }
            q.execute(&mut *tx).await?;
        }

        // The same item twice in one batch is held once (the key includes its hash and reason).
        held.sort_by(|a, b| (&a.1, &a.0.hash, &a.2).cmp(&(&b.1, &b.0.hash, &b.2)));
        held.dedup_by(|a, b| a.1 == b.1 && a.0.hash == b.0.hash && a.2 == b.2);
        const QUARANTINE_COLS: usize = 8;
        for chunk in held.chunks(MAX_PARAMS / QUARANTINE_COLS) {
            let insert = self.sql(&format!(
                "INSERT INTO quarantine (ocid, content_hash, reason, message, raw, source_file, source_line, received_at)
                 VALUES {} ON CONFLICT (ocid, content_hash, reason) DO NOTHING",
                row_placeholders(chunk.len(), QUARANTINE_COLS)
            ));
            let mut q = sqlx::query(&insert).persistent(false);
            for (item, ocid, reason, message) in chunk {
                q = q
                    .bind(ocid.as_str())
                    .bind(item.hash.as_str())
                    .bind(reason.as_str())
                    .bind(message.as_str())
                    .bind(item.raw.as_slice())
                    .bind(item.source_file.as_str())
                    .bind(item.line)
                    .bind(received_at.as_str());
            }
            summary.quarantined += q.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        let report = held
            .iter()
            .map(|(item, ocid, reason, message)| Quarantined {
                ocid: ocid.clone(),
                reason: reason.clone(),
                message: message.clone(),
                source_file: item.source_file.clone(),
                source_line: item.line,
                received_at: received_at.clone(),
                content_hash: item.hash.clone(),
            })
            .collect();
        Ok((summary, report))
    }

    /// Everything in quarantine, oldest first.
    pub async fn quarantined(&self) -> Result<Vec<Quarantined>, StoreError> {
        Ok(self.quarantine_page(None, 1_000_000, None).await?.items)
    }
}

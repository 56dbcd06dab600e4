//! The store's behaviour, run against SQLite and against PostgreSQL: the same
//! tests, through the same interface. PostgreSQL comes from
//! `TUWHERA_TEST_POSTGRES` (a server URL), which `scripts/test.sh` sets after
//! starting a throwaway server; each test makes its own database on it.

use std::fs::File;
use std::path::{Path, PathBuf};

use tuwhera_ocds::reader::{self, Event, Limits};
use tuwhera_ocds::MergeRules;
use tuwhera_store::Store;

mod common;
use common::{repo, stores};

fn items_of(path: &Path) -> Vec<Event> {
    reader::read_all(
        &path.display().to_string(),
        File::open(path).expect("input"),
        Limits::default(),
    )
}

fn items_from(name: &str, text: &str) -> Vec<Event> {
    reader::read_all(name, text.as_bytes(), Limits::default())
}

#[tokio::test(flavor = "multi_thread")]
async fn ingest_is_idempotent_and_compiles_changed_processes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files: Vec<PathBuf> = {
        let d = repo().join("data/ocds/real-examples/mexico/jalisco/releases");
        let mut f: Vec<PathBuf> = std::fs::read_dir(d)
            .expect("dir")
            .map(|e| e.expect("e").path())
            .collect();
        f.sort();
        f
    };
    for store in stores(dir.path(), "idem").await {
        let rules = MergeRules::ocds_1_1();
        let mut first = tuwhera_store::IngestSummary::default();
        for f in &files {
            let s = store.ingest(items_of(f)).await.expect("ingest");
            first.new += s.new;
            first.unchanged += s.unchanged;
            first.quarantined += s.quarantined;
        }
        assert_eq!((first.new, first.unchanged, first.quarantined), (10, 0, 0));
        assert_eq!(store.compile_dirty(&rules).await.expect("compile"), 3);
        let before = store.counts().await.expect("counts");
        assert_eq!(before, [10, 0, 3, 0]);
        // The same files again: nothing changes, nothing to compile.
        for f in &files {
            let s = store.ingest(items_of(f)).await.expect("ingest");
            assert_eq!((s.new, s.quarantined), (0, 0));
            assert_eq!(s.unchanged, 1);
        }
        assert_eq!(store.compile_dirty(&rules).await.expect("compile"), 0);
        assert_eq!(store.counts().await.expect("counts"), before);
        // The stored record is the merge of the files (checked against ocdskit elsewhere).
        let compiled = store
            .compiled("ocds-xs1qbl-SFIN-03-0001-00-2017")
            .await
            .expect("query")
            .expect("record");
        assert_eq!(compiled["tag"], serde_json::json!(["compiled"]));
        assert!(compiled["parties"]
            .as_array()
            .is_some_and(|p| !p.is_empty()));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn what_cannot_be_kept_is_quarantined_with_its_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    for store in stores(dir.path(), "quar").await {
        let text = r#"{"ocid":"ocds-aaaaaa-1","id":"1","date":"2024-01-01T00:00:00Z","tender":{"title":"A"}}
{"ocid":"ocds-aaaaaa-1","id":"1","date":"2024-01-01T00:00:00Z","tender":{"title":"B"}}
{"id":"2","date":"2024-01-01T00:00:00Z"}
{"ocid":"ocds-aaaaaa-3","date":"2024-01-01T00:00:00Z"}
{"ocid":"ocds-aaaaaa-4","id":"4"}
{"ocid": "ocds-aaaaaa-5", "id": "5", oops}
{"ocid":"ocds-aaaaaa-6","id":"6","date":"not-a-date"}
"#;
        let s = store
            .ingest(items_from("batch.jsonl", text))
            .await
            .expect("ingest");
        assert_eq!((s.new, s.unchanged, s.quarantined), (1, 0, 6));
        let mut reasons: Vec<(String, i64)> = store
            .quarantined()
            .await
            .expect("list")
            .into_iter()
            .map(|q| (q.reason, q.source_line))
            .collect();
        reasons.sort();
        assert_eq!(
            reasons,
            vec![
                ("bad-date".to_owned(), 7),
                ("conflict".to_owned(), 2),
                ("no-date".to_owned(), 5),
                ("no-id".to_owned(), 4),
                ("no-ocid".to_owned(), 3),
                ("read.json-syntax".to_owned(), 6),
            ]
        );
        // Again: the quarantine does not grow.
        let again = store
            .ingest(items_from("batch.jsonl", text))
            .await
            .expect("ingest");
        assert_eq!((again.new, again.unchanged, again.quarantined), (0, 1, 0));
        assert_eq!(store.counts().await.expect("counts")[1], 6);
        // The first version was kept and compiled; the conflicting one was not merged.
        store
            .compile_dirty(&MergeRules::ocds_1_1())
            .await
            .expect("compile");
        let c = store
            .compiled("ocds-aaaaaa-1")
            .await
            .expect("q")
            .expect("record");
        assert_eq!(c["tender"]["title"], "A");
    }
}

/// Flags, Procurement Rules findings and data quality are computed from the
/// stored records, agree with the flags crate run on the same records, and are
/// recomputed only when the data changes.
#[tokio::test(flavor = "multi_thread")]
async fn flags_findings_and_quality_follow_the_data() {
    use std::collections::{BTreeMap, BTreeSet};
    use tuwhera_store::SearchQuery;

    let dir = tempfile::tempdir().expect("temp dir");
    let nz = repo().join("data/ocds/synthetic-nz/releases.jsonl");
    let dgcp = repo().join("data/ocds/dgcp-1000.jsonl.gz");
    for store in stores(dir.path(), "risk").await {
        let rules = MergeRules::ocds_1_1();
        store.ingest(items_of(&nz)).await.expect("ingest nz");
        store.ingest(items_of(&dgcp)).await.expect("ingest dgcp");
        store.compile_dirty(&rules).await.expect("compile");
        assert!(!store.risk_is_current().await.expect("version"));
        let first = store.refresh_risk(false).await.expect("refresh");
        assert!(first.ran);
        assert_eq!(first.publishers, 2, "{first:?}");
        assert!(first.flags > 100 && first.findings > 50, "{first:?}");
        assert!(store.risk_is_current().await.expect("version"));
        // Nothing changed: nothing recomputed.
        assert!(!store.refresh_risk(false).await.expect("again").ran);

        // The stored flags are exactly what the flags crate finds on the stored
        // records, publisher by publisher.
        let mut ocids = Vec::new();
        let mut query = SearchQuery {
            limit: 500,
            ..SearchQuery::default()
        };
        loop {
            let page = store.search(&query).await.expect("search");
            ocids.extend(page.results.iter().map(|r| r.ocid.clone()));
            match page.next_cursor {
                Some(c) => query.cursor = Some(c),
                None => break,
            }
        }
        let mut by_publisher: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
        let mut stored: BTreeSet<(String, String, String)> = BTreeSet::new();
        for ocid in &ocids {
            let compiled = store
                .compiled(ocid)
                .await
                .expect("compiled")
                .expect("record");
            by_publisher
                .entry(tuwhera_store::risk::publisher_of(ocid).to_string())
                .or_default()
                .push(compiled);
            for f in store.process_flags(ocid).await.expect("flags") {
                stored.insert((f.code, f.subject_kind, f.subject_id));
            }
        }
        let mut expected: BTreeSet<(String, String, String)> = BTreeSet::new();
        for releases in by_publisher.values() {
            let outcome =
                tuwhera_flags::Engine::new(tuwhera_flags::Settings::default()).run(releases);
            for f in outcome.flags.into_iter().filter(|f| !f.ocids.is_empty()) {
                expected.insert((
                    f.code,
                    f.subject.kind().to_string(),
                    f.subject.id().to_string(),
                ));
            }
        }
        assert!(!expected.is_empty());
        assert_eq!(stored, expected);
        let r003 = store
            .risk_page(&tuwhera_store::risk::RiskQuery {
                code: Some("R003".into()),
                limit: 5,
                ..Default::default()
            })
            .await
            .expect("risk list");
        assert!(
            r003.total > 0
                && r003
                    .results
                    .iter()
                    .all(|r| r.codes.contains(&"R003".to_string()))
        );

        // Procurement Rules: the New Zealand processes have met and unmet checks.
        let rates = store.compliance_rates().await.expect("rates");
        assert!(
            rates.iter().any(|r| r.not_met > 0) && rates.iter().any(|r| r.met > 0),
            "{rates:?}"
        );
        assert!(
            rates.iter().all(|r| r.buyer_id.starts_with("NZ-NZBN-")),
            "only NZD processes are checked"
        );
        let agency = store
            .agency_findings(&rates[0].buyer_id)
            .await
            .expect("agency");
        assert!(!agency.is_empty());

        // Quality: one snapshot per publisher now, two after the data changes.
        let latest = store.quality_latest().await.expect("quality");
        assert_eq!(latest.len(), 2);
        assert!(latest.iter().all(|q| (0.0..=100.0).contains(&q.score)));
        let changed = r#"{"ocid":"ocds-tuwhnz-000001","id":"ocds-tuwhnz-000001-99","date":"2025-01-01T00:00:00Z","tag":["tenderUpdate"],"tender":{"title":"SYNTHETIC changed title"}}"#;
        store
            .ingest(items_from("change.json", changed))
            .await
            .expect("ingest change");
        store.compile_dirty(&rules).await.expect("compile change");
        assert!(!store.risk_is_current().await.expect("version"));
        assert!(
            store
                .refresh_risk(false)
                .await
                .expect("refresh after change")
                .ran
        );
        assert_eq!(
            store
                .quality_history("ocds-tuwhnz")
                .await
                .expect("history")
                .len(),
            2
        );
    }
}

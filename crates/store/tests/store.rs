//! The store's behaviour, run against SQLite and against PostgreSQL: the same
//! tests, through the same interface. PostgreSQL comes from
//! `TUWHERA_TEST_POSTGRES` (a server URL), which `scripts/test.sh` sets after
//! starting a throwaway server; each test makes its own database on it.

use std::fs::File;
use std::path::{Path, PathBuf};

use tuwhera_ocds::reader::{self, Event, Limits};
use tuwhera_ocds::MergeRules;
use tuwhera_store::Store;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

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

/// A fresh database of each kind.
async fn stores(dir: &Path, name: &str) -> Vec<Store> {
    let sqlite = Store::connect(&format!(
        "sqlite://{}",
        dir.join(format!("{name}.db")).display()
    ))
    .await
    .expect("sqlite");
    let mut out = vec![sqlite];
    match std::env::var("TUWHERA_TEST_POSTGRES") {
        Ok(server) => {
            let admin = sqlx::PgPool::connect(&format!("{server}/postgres")).await.expect("postgres server");
            let db = format!("t_{name}_{}", std::process::id());
            sqlx::query(&format!("DROP DATABASE IF EXISTS {db}")).execute(&admin).await.expect("drop");
            sqlx::query(&format!("CREATE DATABASE {db}")).execute(&admin).await.expect("create");
            out.push(Store::connect(&format!("{server}/{db}")).await.expect("postgres"));
        }
        Err(_) => assert!(
            std::env::var_os("TUWHERA_SKIP_POSTGRES").is_some(),
            "TUWHERA_TEST_POSTGRES is not set: run the tests with scripts/test.sh, which starts PostgreSQL \
             (or set TUWHERA_SKIP_POSTGRES=1 to run against SQLite only)"
        ),
    }
    out
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

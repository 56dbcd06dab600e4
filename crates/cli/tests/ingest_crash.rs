//! Crash safety: `tuwhera ingest` killed (SIGKILL) halfway through a large file,
//! then run again, leaves exactly what a clean ingest leaves: no duplicate, no gap.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tuwhera_store::Store;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ingest(db: &Path, input: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tuwhera"));
    cmd.args(["ingest", "--database"])
        .arg(format!("sqlite://{}", db.display()))
        .arg(input)
        .env_remove("DATABASE_URL");
    cmd
}

async fn state(db: &Path) -> ([i64; 4], Vec<Option<serde_json::Value>>) {
    let store = Store::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("open database");
    let sample = [
        "ocds-6550wx-911-CCC-CP-2022-0003",
        "ocds-6550wx-Bomberos SDE-DAF-CM-2021-0097",
    ];
    let mut compiled = Vec::new();
    for ocid in sample {
        compiled.push(store.compiled(ocid).await.expect("query"));
    }
    (store.counts().await.expect("counts"), compiled)
}

/// Releases committed so far, or 0 while the database is not there yet.
async fn stored_releases(db: &Path) -> i64 {
    let url = format!("sqlite://{}?mode=ro", db.display());
    let Ok(pool) = sqlx::SqlitePool::connect(&url).await else {
        return 0;
    };
    let n = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM releases")
        .fetch_one(&pool)
        .await
        .unwrap_or(0);
    pool.close().await;
    n
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_ingest_rerun_equals_clean_ingest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = repo().join("data/ocds/dgcp-split-c1.jsonl.gz");
    let clean = dir.path().join("clean.db");
    let started = Instant::now();
    let status = ingest(&clean, &input).status().expect("run clean ingest");
    assert_eq!(status.code(), Some(0));
    let took = started.elapsed();
    let expected = state(&clean).await;
    assert_eq!(expected.0[0], 29_040, "all releases stored");
    assert_eq!(expected.0[2], 10_000, "all processes compiled");
    assert_eq!(expected.0[3], 0, "nothing left to compile");

    let crashed = dir.path().join("crashed.db");
    let mut child = ingest(&crashed, &input).spawn().expect("start ingest");
    // Kill once some batches are committed, well before all are: watch the database
    // through a read-only connection (WAL lets it read while the ingest writes).
    let deadline = Instant::now() + took * 3;
    loop {
        let stored = stored_releases(&crashed).await;
        if stored >= 3_000 || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    let killed = child.wait().expect("wait");
    assert!(
        !killed.success(),
        "the ingest finished before it could be killed; the test proves nothing"
    );
    let partial = state(&crashed).await;
    assert!(
        partial.0[0] < 29_040,
        "the kill came after everything was stored: {:?}",
        partial.0
    );

    let status = ingest(&crashed, &input).status().expect("rerun ingest");
    assert_eq!(status.code(), Some(0));
    assert_eq!(state(&crashed).await, expected);
}

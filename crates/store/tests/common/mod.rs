//! Shared by the store's test files: a fresh database of each kind.

use std::path::{Path, PathBuf};

use tuwhera_store::Store;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh database of each kind.
pub async fn stores(dir: &Path, name: &str) -> Vec<Store> {
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

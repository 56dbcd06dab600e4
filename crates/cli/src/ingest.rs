//! `tuwhera ingest`: read OCDS files into the database, then compile what changed.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use tuwhera_ocds::reader::{self, Event, Limits};
use tuwhera_ocds::MergeRules;
use tuwhera_store::{IngestSummary, Store};

use crate::{EXIT_DATA_ERRORS, EXIT_FAILURE};

#[derive(Args)]
pub struct IngestArgs {
    /// Files to read (JSON, JSON Lines, packages, gzip); `-` for standard input.
    #[arg(value_name = "FILES", required = true)]
    files: Vec<PathBuf>,
    /// The database: sqlite://PATH or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://tuwhera.db")]
    database: String,
}

/// Releases per transaction: big enough to be fast, small enough that a crash loses little work.
const BATCH: usize = 1000;

pub fn run(args: IngestArgs) -> Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let store = runtime
        .block_on(Store::connect(&args.database))
        .with_context(|| format!("opening the database {}", args.database))?;
    let bar = crate::ocds::progress("storing releases");
    let mut total = IngestSummary::default();
    let mut failures = 0;
    for path in &args.files {
        let input = match reader::open(path) {
            Ok(r) => r,
            Err(e) => {
                failures += 1;
                eprintln!("{}: could not open: {e}", path.display());
                continue;
            }
        };
        let mut batch: Vec<Event> = Vec::with_capacity(BATCH);
        let mut error: Option<anyhow::Error> = None;
        let flush = |batch: &mut Vec<Event>, total: &mut IngestSummary| -> Result<()> {
            let n = batch.len() as u64;
            let s = runtime.block_on(store.ingest(std::mem::take(batch)))?;
            total.new += s.new;
            total.unchanged += s.unchanged;
            total.quarantined += s.quarantined;
            bar.inc(n);
            Ok(())
        };
        reader::read(
            std::sync::Arc::from(path.display().to_string().as_str()),
            input,
            Limits::default(),
            &mut |event| {
                if error.is_some() {
                    return;
                }
                batch.push(event);
                if batch.len() >= BATCH {
                    if let Err(e) = flush(&mut batch, &mut total) {
                        error = Some(e);
                    }
                }
            },
        );
        if let Some(e) = error {
            return Err(e).context("storing releases");
        }
        flush(&mut batch, &mut total).context("storing releases")?;
    }
    bar.finish_and_clear();
    let compiled = runtime
        .block_on(store.compile_dirty(&MergeRules::ocds_1_1()))
        .context("compiling the processes that changed")?;
    eprintln!(
        "{} new releases, {} unchanged, {} quarantined; {} processes compiled",
        total.new, total.unchanged, total.quarantined, compiled
    );
    Ok(if failures > 0 {
        EXIT_FAILURE
    } else if total.quarantined > 0 {
        EXIT_DATA_ERRORS
    } else {
        0
    })
}

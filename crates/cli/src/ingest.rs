//! `tuwhera ingest`: read OCDS files into the database, then compile what changed.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use tuwhera_ocds::reader::{self, Event, Limits};
use tuwhera_ocds::MergeRules;
use tuwhera_store::{IngestSummary, Prepared, Store};

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

impl IngestArgs {
    pub fn new(files: Vec<PathBuf>, database: String) -> IngestArgs {
        IngestArgs { files, database }
    }
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
    let timing = std::env::var_os("TUWHERA_TIMING").is_some();
    let started = std::time::Instant::now();
    let bar = crate::ocds::progress("storing releases");
    let mut total = IngestSummary::default();
    let mut failures = 0;
    // Reading and parsing (every core) run on their own thread, one batch ahead
    // of the database writer; the channel's bound keeps memory to a few batches.
    let (send, receive) = std::sync::mpsc::sync_channel::<Prepared>(2);
    let files = args.files.clone();
    let reader_thread = std::thread::spawn(move || {
        let mut failures = 0;
        for path in &files {
            let input = match reader::open(path) {
                Ok(r) => r,
                Err(e) => {
                    failures += 1;
                    eprintln!("{}: could not open: {e}", path.display());
                    continue;
                }
            };
            let mut batch: Vec<Event> = Vec::with_capacity(BATCH);
            let mut stopped = false;
            reader::read(
                std::sync::Arc::from(path.display().to_string().as_str()),
                input,
                Limits::default(),
                &mut |event| {
                    if stopped {
                        return;
                    }
                    batch.push(event);
                    if batch.len() >= BATCH {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                        // The writer hung up: it failed, and says why.
                        stopped = send.send(Prepared::new(full, None)).is_err();
                    }
                },
            );
            if stopped || send.send(Prepared::new(batch, None)).is_err() {
                break;
            }
        }
        failures
    });
    for prepared in receive {
        let n = prepared.len() as u64;
        let s = runtime
            .block_on(store.ingest_prepared(prepared))
            .context("storing releases")?;
        total += s;
        bar.inc(n);
    }
    failures += reader_thread
        .join()
        .map_err(|_| anyhow::anyhow!("the reading thread panicked"))?;
    bar.finish_and_clear();
    if timing {
        eprintln!("timing: storing {:.2} s", started.elapsed().as_secs_f64());
    }
    let compiled = runtime
        .block_on(store.compile_dirty(&MergeRules::ocds_1_1()))
        .context("compiling the processes that changed")?;
    let risk = runtime
        .block_on(store.refresh_risk(false))
        .context("computing flags, Procurement Rules findings and data quality")?;
    if timing {
        eprintln!("timing: total {:.2} s", started.elapsed().as_secs_f64());
    }
    eprintln!(
        "{} new releases, {} unchanged, {} quarantined; {} processes compiled; {} flags",
        total.new, total.unchanged, total.quarantined, compiled, risk.flags
    );
    Ok(if failures > 0 {
        EXIT_FAILURE
    } else if total.quarantined > 0 {
        EXIT_DATA_ERRORS
    } else {
        0
    })
}

//! `tuwhera bods`: Beneficial Ownership Data Standard files — validate them,
//! and resolve who ultimately owns an entity.

use std::cell::RefCell;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};
use tuwhera_bods::read::{self, Item, Limits};
use tuwhera_bods::upgrade::{detect, Upgrader, Version};
use tuwhera_bods::validate::{validate_stream, Finding, Severity, Validator};

use crate::{EXIT_DATA_ERRORS, EXIT_FAILURE};

#[derive(Subcommand)]
pub enum BodsCommand {
    /// Check statements against BODS 0.4: the schema and the rules across statements
    /// (references, record history, shares, dates). BODS 0.2/0.3 is upgraded first,
    /// and what could not be upgraded is reported.
    #[command(
        after_help = "Examples:\n  tuwhera bods validate statements.jsonl\n  tuwhera bods validate --format json register.json.gz > findings.json\n\nExit status: 0 no errors (warnings may be printed), 1 errors found, 2 a file could not be read."
    )]
    Validate(ValidateArgs),
    /// The ultimate owners of an entity: chains of any depth, shares as ranges,
    /// unknown owners with their reason, cycles reported.
    #[command(
        after_help = "Example:\n  tuwhera bods owners data/bods/uk-psc-gleif-bods04/all_demo.jsonl --entity RECORD_ID"
    )]
    Owners(OwnersArgs),
    /// Store statements in the register: upgraded, validated, kept or quarantined
    /// with the reason; then resolve ultimate owners and link them to procurement.
    #[command(
        after_help = "Examples:\n  tuwhera bods ingest data/bods/uk-psc-gleif-bods04/all_demo.jsonl\n  tuwhera bods ingest --database postgres://localhost/tuwhera --publisher \"Companies Office\" register.jsonl.gz\n  tuwhera bods ingest --protected protected.json statements.jsonl\n\nIngesting the same file twice changes nothing. A statement with schema errors (or that could not be upgraded from 0.2/0.3) is quarantined with its file, line, rule and path; the rest are kept.\nExit status: 0 all kept, 1 some quarantined, 2 usage, I/O or database failure."
    )]
    Ingest(IngestArgs),
    /// Withhold a person's identity everywhere the register publishes (pages, API, downloads).
    #[command(
        after_help = "Example:\n  tuwhera bods protect --record 7f3a… --reason \"suppression order granted\""
    )]
    Protect(ProtectArgs),
}

#[derive(Args)]
pub struct IngestArgs {
    /// Statement files: a JSON array or JSON Lines, gzip or not; `-` for standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The database: sqlite://PATH or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://tuwhera.db")]
    database: String,
    /// Who published the statements (shown as each record's source).
    #[arg(long, default_value = "bulk import")]
    publisher: String,
    /// A JSON file listing protected persons: {"protectedRecords": [{"recordId": …, "reason": …}]}.
    #[arg(long)]
    protected: Option<PathBuf>,
}

impl IngestArgs {
    pub fn new(files: Vec<PathBuf>, database: String, protected: Option<PathBuf>) -> IngestArgs {
        IngestArgs {
            files,
            database,
            publisher: "bulk import".into(),
            protected,
        }
    }
}

#[derive(Args)]
pub struct ProtectArgs {
    /// The person's recordId.
    #[arg(long)]
    record: String,
    /// Why (kept on the server; the public sees "exempt from disclosure").
    #[arg(long)]
    reason: String,
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://tuwhera.db")]
    database: String,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Args)]
pub struct ValidateArgs {
    /// Statement files: a JSON array or JSON Lines, gzip or not; `-` for standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Args)]
pub struct OwnersArgs {
    /// Statement files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The entity's recordId.
    #[arg(long)]
    entity: String,
}

pub fn run(cmd: BodsCommand) -> Result<u8> {
    match cmd {
        BodsCommand::Validate(args) => validate(args),
        BodsCommand::Owners(args) => owners(args),
        BodsCommand::Ingest(args) => ingest(args),
        BodsCommand::Protect(args) => protect(args),
    }
}

fn open(path: &PathBuf) -> Result<Box<dyn std::io::Read>> {
    if path.as_os_str() == "-" {
        Ok(Box::new(std::io::stdin()))
    } else {
        Ok(Box::new(
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
        ))
    }
}

fn finding_json(f: &Finding) -> Value {
    json!({
        "severity": match f.severity { Severity::Error => "error", Severity::Warning => "warning" },
        "rule": f.rule.code(),
        "message": f.message,
        "source": &*f.place.source,
        "line": f.place.line,
        "statement": f.place.index,
        "statementId": f.statement_id,
        "path": f.path,
    })
}

fn validate(args: ValidateArgs) -> Result<u8> {
    let validator =
        Validator::new().map_err(|e| anyhow::anyhow!("the bundled BODS 0.4 schema: {e}"))?;
    let errors = RefCell::new(0u64);
    let warnings = RefCell::new(0u64);
    let statements = RefCell::new(0u64);
    let mut json_out: Vec<Value> = Vec::new();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut unreadable = 0;
    for path in &args.files {
        let input = match open(path) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("{e:#}");
                unreadable += 1;
                continue;
            }
        };
        let name = path.display().to_string();
        let upgrader = RefCell::new(Upgrader::new());
        let pending: RefCell<Vec<Finding>> = RefCell::new(Vec::new());
        // Legacy statements are upgraded on the way in; their findings join the rest.
        let items = read::read(&name, input, Limits::default()).filter_map(|item| {
            *statements.borrow_mut() += 1;
            let Item { place, statement } = item;
            match statement {
                Ok(value) if detect(&value) == Version::Legacy => {
                    let upgraded = upgrader.borrow_mut().upgrade(value, &place);
                    pending.borrow_mut().extend(upgraded.findings);
                    upgraded.statement.map(|s| Item {
                        place,
                        statement: Ok(s),
                    })
                }
                statement => Some(Item { place, statement }),
            }
        });
        let mut emit = |findings: Vec<Finding>| {
            let mut all = std::mem::take(&mut *pending.borrow_mut());
            all.extend(findings);
            for f in all {
                match f.severity {
                    Severity::Error => *errors.borrow_mut() += 1,
                    Severity::Warning => *warnings.borrow_mut() += 1,
                }
                match args.format {
                    Format::Json => json_out.push(finding_json(&f)),
                    Format::Text => {
                        let _ = writeln!(out, "{f}");
                    }
                }
            }
        };
        validate_stream(&validator, items, &mut emit);
        emit(Vec::new());
    }
    if let Format::Json = args.format {
        serde_json::to_writer_pretty(&mut out, &json_out)?;
        writeln!(out)?;
    }
    out.flush()?;
    eprintln!(
        "{} statements: {} errors, {} warnings",
        statements.borrow(),
        errors.borrow(),
        warnings.borrow()
    );
    Ok(if unreadable > 0 {
        EXIT_FAILURE
    } else if *errors.borrow() > 0 {
        EXIT_DATA_ERRORS
    } else {
        0
    })
}

fn owners(args: OwnersArgs) -> Result<u8> {
    let mut statements = Vec::new();
    let mut bad = 0;
    for path in &args.files {
        let name = path.display().to_string();
        for item in read::read(&name, open(path)?, Limits::default()) {
            match item.statement {
                Ok(v) => statements.push(v),
                Err(e) => {
                    bad += 1;
                    eprintln!("{name}: line {}: {e}", item.place.line);
                }
            }
        }
    }
    let graph = tuwhera_bods::graph::Graph::from_statements(statements);
    if graph.record(&args.entity).is_none() {
        eprintln!("no record {:?} in the statements", args.entity);
        return Ok(EXIT_FAILURE);
    }
    let owners = graph.ultimate_owners(&args.entity, &tuwhera_bods::graph::Limits::default());
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &owners)?;
    writeln!(out)?;
    Ok(if bad > 0 { EXIT_DATA_ERRORS } else { 0 })
}

/// Statements per transaction.
const BATCH: usize = 2000;

/// The protection list file: `{"protectedRecords": [{"recordId": …, "reason": …}]}`.
pub fn read_protected(path: &PathBuf) -> Result<Vec<(String, String)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    let list = value
        .get("protectedRecords")
        .and_then(Value::as_array)
        .with_context(|| format!("{}: no `protectedRecords` array", path.display()))?;
    let mut out = Vec::new();
    for (i, p) in list.iter().enumerate() {
        let id = p.get("recordId").and_then(Value::as_str).with_context(|| {
            format!(
                "{}: protectedRecords[{i}].recordId is missing",
                path.display()
            )
        })?;
        let reason = p
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or("protected");
        out.push((id.to_owned(), reason.to_owned()));
    }
    Ok(out)
}

/// What `ingest` did, for the demo's own summary.
pub struct Ingested {
    pub summary: tuwhera_store::bods::BodsIngestSummary,
    pub resolve: tuwhera_store::bods::ResolveSummary,
    pub failures: u32,
}

pub fn ingest(args: IngestArgs) -> Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let store = runtime
        .block_on(tuwhera_store::Store::connect(&args.database))
        .with_context(|| format!("opening the database {}", args.database))?;
    let done = ingest_into(&runtime, &store, &args, true)?;
    let risk = runtime
        .block_on(store.refresh_risk(false))
        .context("computing flags with the register's ownership")?;
    let s = done.summary;
    eprintln!(
        "{} new statements, {} unchanged, {} quarantined, {} findings; {} records, {} ultimate owners resolved; {} flags",
        s.new, s.unchanged, s.quarantined, s.findings, done.resolve.records, done.resolve.owners, risk.flags
    );
    Ok(if done.failures > 0 {
        EXIT_FAILURE
    } else if s.quarantined > 0 {
        EXIT_DATA_ERRORS
    } else {
        0
    })
}

/// Read, judge and store statements, then resolve. Reading, upgrading and
/// validating (every core) run on their own thread one batch ahead of the
/// database writer; the channel's bound keeps memory to a few batches.
pub fn ingest_into(
    runtime: &tokio::runtime::Runtime,
    store: &tuwhera_store::Store,
    args: &IngestArgs,
    print: bool,
) -> Result<Ingested> {
    use tuwhera_store::bods::{BodsIngestSummary, BodsPrepared, BodsPreparer};
    if let Some(path) = &args.protected {
        for (id, reason) in read_protected(path)? {
            runtime
                .block_on(store.bods_protect(&id, &reason))
                .context("storing the protection list")?;
        }
    }
    let timing = std::env::var_os("TUWHERA_TIMING").is_some();
    let started = std::time::Instant::now();
    let bar = crate::ocds::progress("storing statements");
    let (send, receive) = std::sync::mpsc::sync_channel::<BodsPrepared>(2);
    let files = args.files.clone();
    let mut preparer = BodsPreparer::new().context("loading the BODS schema")?;
    let reader_thread = std::thread::spawn(move || {
        let mut failures = 0u32;
        'files: for path in &files {
            let input = match open_any(path) {
                Ok(r) => r,
                Err(e) => {
                    failures += 1;
                    eprintln!("{e:#}");
                    continue;
                }
            };
            let name = path.display().to_string();
            let mut batch = Vec::with_capacity(BATCH);
            for item in read::read(&name, input, Limits::default()) {
                batch.push(item);
                if batch.len() >= BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    if send.send(preparer.prepare(full)).is_err() {
                        break 'files;
                    }
                }
            }
            if send.send(preparer.prepare(batch)).is_err() {
                break;
            }
        }
        (failures, preparer.finish())
    });
    let mut total = BodsIngestSummary::default();
    let stderr = std::io::stderr();
    for prepared in receive {
        if print {
            let mut err = stderr.lock();
            for f in &prepared.report {
                let _ = writeln!(err, "{f}");
            }
        }
        let n = prepared.len() as u64;
        total += runtime
            .block_on(store.bods_ingest(prepared, &args.publisher))
            .context("storing statements")?;
        bar.inc(n);
    }
    let (failures, last) = reader_thread
        .join()
        .map_err(|_| anyhow::anyhow!("the reading thread panicked"))?;
    if print {
        for f in &last {
            eprintln!("{f}");
        }
    }
    total.findings += last.len() as u64;
    runtime
        .block_on(store.bods_record_findings(&last))
        .context("storing findings")?;
    bar.finish_and_clear();
    if timing {
        eprintln!("timing: storing {:.2} s", started.elapsed().as_secs_f64());
    }
    let resolve = runtime
        .block_on(store.bods_resolve(false))
        .context("resolving ultimate owners")?;
    if timing {
        eprintln!("timing: total {:.2} s", started.elapsed().as_secs_f64());
    }
    Ok(Ingested {
        summary: total,
        resolve,
        failures,
    })
}

/// A statement file or standard input (the reader itself sees gzip).
fn open_any(path: &PathBuf) -> Result<Box<dyn std::io::Read + Send>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(std::io::stdin()));
    }
    let file =
        std::fs::File::open(path).with_context(|| format!("{}: could not open", path.display()))?;
    Ok(Box::new(file))
}

fn protect(args: ProtectArgs) -> Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let store = runtime
        .block_on(tuwhera_store::Store::connect(&args.database))
        .with_context(|| format!("opening the database {}", args.database))?;
    runtime.block_on(async {
        store.bods_protect(&args.record, &args.reason).await?;
        store.bods_resolve(false).await?;
        store.refresh_risk(false).await
    })?;
    eprintln!(
        "{} is protected: every public output now withholds this person's identity",
        args.record
    );
    Ok(0)
}

//! `tuwhera plan`: the Open Government Partnership action plan as data — check a plan file
//! against its schema, and import it into the platform's database.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::Value;
use tuwhera_plan::{position, validate, Plan, PlanError};
use tuwhera_store::Store;

use crate::EXIT_DATA_ERRORS;

#[derive(Subcommand)]
pub enum PlanCommand {
    /// Check a plan file: JSON syntax, the plan's JSON Schema, the rules across fields.
    #[command(
        after_help = "Example:\n  tuwhera plan validate data/plan/nap4.json\n\nEach problem is printed as FILE:LINE:COLUMN: error PATH: message.\nExit status: 0 valid, 1 problems found, 2 the file could not be read."
    )]
    Validate(ValidateArgs),
    /// Store a plan file in the platform's database (it is checked first; nothing is stored
    /// if it has a problem).
    #[command(
        after_help = "Examples:\n  tuwhera plan import data/plan/nap4.json\n  tuwhera plan import --database postgres://localhost/tuwhera nap4.json\n\nImporting the same file twice changes nothing. A changed file is recorded as a new version of the plan, and each commitment's progress report that changed as a new version of that report; earlier versions are kept, and agencies' updates are not undone by an import that does not change them.\nExit status: 0 imported, 1 the file has problems (each printed as FILE:LINE:COLUMN: error PATH: message), 2 usage, I/O or database failure."
    )]
    Import(ImportArgs),
}

#[derive(Args)]
pub struct ValidateArgs {
    /// The plan file (JSON, in the shape of crates/plan/schema/plan.schema.json); `-` for standard input.
    file: PathBuf,
}

#[derive(Args)]
pub struct ImportArgs {
    /// The plan file (JSON); `-` for standard input.
    file: PathBuf,
    /// The database: sqlite://PATH or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://tuwhera.db")]
    database: String,
    /// Who the progress reports of this file are recorded as coming from.
    #[arg(long, default_value = "plan import")]
    publisher: String,
}

pub fn run(cmd: PlanCommand) -> Result<u8> {
    match cmd {
        PlanCommand::Validate(args) => {
            let text = read(&args.file)?;
            Ok(match check(&name_of(&args.file), &text) {
                Some(_) => {
                    eprintln!("{}: a valid plan", name_of(&args.file));
                    0
                }
                None => EXIT_DATA_ERRORS,
            })
        }
        PlanCommand::Import(args) => import(args),
    }
}

fn name_of(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    }
}

fn read(path: &Path) -> Result<String> {
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
    } else {
        text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    }
    Ok(text)
}

/// The plan in `text`, or `None` after printing every problem with its place (on standard
/// output, one line each, as `tuwhera ocds validate` does).
pub fn check(name: &str, text: &str) -> Option<Plan> {
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => {
            let message = e.to_string();
            let message = message
                .rfind(" at line ")
                .map_or(message.as_str(), |at| &message[..at]);
            println!(
                "{name}:{}:{}: error $: not JSON: {message}",
                e.line(),
                e.column()
            );
            return None;
        }
    };
    let findings = validate(&value);
    if !findings.is_empty() {
        for finding in &findings {
            let (line, column) = position(text, &finding.path).unwrap_or((1, 1));
            println!(
                "{name}:{line}:{column}: error {}: {}",
                finding.path, finding.message
            );
        }
        eprintln!(
            "{name}: {} problem{}; nothing was stored",
            findings.len(),
            if findings.len() == 1 { "" } else { "s" }
        );
        return None;
    }
    match Plan::from_json(text) {
        Ok(plan) => Some(plan),
        Err(PlanError::Json {
            path,
            line,
            column,
            message,
        }) => {
            println!("{name}:{line}:{column}: error {path}: {message}");
            None
        }
        Err(e) => {
            eprintln!("{name}: error: {e}");
            None
        }
    }
}

fn import(args: ImportArgs) -> Result<u8> {
    let name = name_of(&args.file);
    let text = read(&args.file)?;
    let Some(plan) = check(&name, &text) else {
        return Ok(EXIT_DATA_ERRORS);
    };
    let source = args
        .file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("stdin")
        .to_owned();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async {
        let store = Store::connect(&args.database)
            .await
            .with_context(|| format!("opening the database {}", args.database))?;
        import_plan(&store, &plan, &source, &args.publisher).await
    })?;
    Ok(0)
}

/// Store `plan` and say what changed.
pub async fn import_plan(store: &Store, plan: &Plan, source: &str, publisher: &str) -> Result<()> {
    let summary = store
        .plan_import(plan, source, publisher)
        .await
        .with_context(|| format!("importing {source}"))?;
    eprintln!(
        "{source}: plan {} version {}{}; {} progress report{} recorded as new, {} unchanged",
        plan.id,
        summary.version,
        if summary.plan_changed {
            " (new)"
        } else {
            " (unchanged)"
        },
        summary.progress_new,
        if summary.progress_new == 1 { "" } else { "s" },
        summary.progress_unchanged
    );
    Ok(())
}

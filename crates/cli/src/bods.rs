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

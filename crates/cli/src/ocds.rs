//! `tuwhera ocds …`: read, upgrade, validate, compile and flatten OCDS data.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use tuwhera_ocds::compile::{Collector, CompileOptions, Problem};
use tuwhera_ocds::reader::{self, Event, Item, Limits};
use tuwhera_ocds::{flatten, upgrade, validate, MergeRules};

use crate::{EXIT_DATA_ERRORS, EXIT_FAILURE};

#[derive(Subcommand)]
pub enum OcdsCommand {
    /// Check releases against the OCDS 1.1.5 schema and the standard's quality rules.
    #[command(
        after_help = "Examples:\n  tuwhera ocds validate releases.jsonl\n  tuwhera ocds validate --format json data/*.json > report.json\n\nExit status: 0 no errors, 1 the data has errors, 2 a file could not be read."
    )]
    Validate(ValidateArgs),
    /// Upgrade OCDS 1.0 releases to 1.1 (1.1 releases pass through unchanged).
    #[command(
        after_help = "Example:\n  tuwhera ocds upgrade old-package.json --output upgraded.jsonl\n\nWrites one release per line (JSON Lines)."
    )]
    Upgrade(InputArgs),
    /// Merge releases into one compiled (or versioned) release per contracting process.
    #[command(
        after_help = "Examples:\n  tuwhera ocds compile releases/*.json > compiled.jsonl\n  zcat releases.jsonl.gz | tuwhera ocds compile --versioned - --output versioned.jsonl\n\nWrites one JSON line per ocid, in ocid order. OCDS 1.0 input is upgraded first."
    )]
    Compile(CompileArgs),
    /// Flatten compiled releases into CSV tables (one per array) or an XLSX workbook.
    #[command(
        after_help = "Examples:\n  tuwhera ocds flatten compiled.jsonl --output tables/\n  tuwhera ocds flatten compiled.jsonl --xlsx --output compiled.xlsx"
    )]
    Flatten(FlattenArgs),
}

#[derive(Args)]
pub struct InputArgs {
    /// Files to read (JSON, JSON Lines, packages, gzip); `-` or nothing for standard input.
    #[arg(value_name = "FILES")]
    files: Vec<PathBuf>,
    /// Write here instead of standard output.
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,
    /// How to print problems found in the data.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Largest single release accepted, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    max_item_size: usize,
}

#[derive(Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    input: InputArgs,
}

#[derive(Args)]
pub struct CompileArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Write versioned releases (every value with its history) instead of compiled releases.
    #[arg(long)]
    versioned: bool,
    /// Releases kept in memory before sorted runs are spilled to temporary files, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 512)]
    memory: usize,
}

#[derive(Args)]
pub struct FlattenArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Write one XLSX workbook (a sheet per table) instead of a folder of CSV files.
    #[arg(long)]
    xlsx: bool,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

pub fn run(cmd: OcdsCommand) -> Result<u8> {
    match cmd {
        OcdsCommand::Compile(args) => compile(args),
        OcdsCommand::Upgrade(args) => upgrade_cmd(args),
        OcdsCommand::Validate(args) => validate_cmd(args),
        OcdsCommand::Flatten(args) => flatten_cmd(args),
    }
}

impl InputArgs {
    fn limits(&self) -> Limits {
        Limits {
            max_item_bytes: self.max_item_size.saturating_mul(1024 * 1024),
            ..Limits::default()
        }
    }

    fn sources(&self) -> Vec<PathBuf> {
        if self.files.is_empty() {
            vec![PathBuf::from("-")]
        } else {
            self.files.clone()
        }
    }

    fn writer(&self) -> Result<Box<dyn Write + Send>> {
        Ok(match &self.output {
            Some(p) => Box::new(BufWriter::with_capacity(
                1 << 20,
                File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
            )),
            None => Box::new(BufWriter::with_capacity(1 << 20, io::stdout())),
        })
    }
}

/// A spinner on stderr when it is a terminal; hidden otherwise (pipes, CI).
pub fn progress(what: &str) -> ProgressBar {
    let bar = if io::stderr().is_terminal() {
        ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(8))
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {human_pos} {per_sec} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(what.to_owned());
    bar
}

/// Open a source, or report why not (the other sources go on).
fn open(path: &Path, failures: &mut u32, format: Format) -> Option<Box<dyn Read + Send>> {
    match reader::open(path) {
        Ok(r) => Some(r),
        Err(e) => {
            *failures += 1;
            match format {
                Format::Text => eprintln!("{}: could not open: {e}", path.display()),
                Format::Json => eprintln!(
                    "{}",
                    json!({"file": path.display().to_string(), "code": "io", "message": format!("could not open: {e}")})
                ),
            }
            None
        }
    }
}

fn print_problem(p: &Problem, format: Format) {
    match format {
        Format::Text => eprintln!("{p}"),
        Format::Json => eprintln!("{}", problem_json(p)),
    }
}

fn problem_json(p: &Problem) -> serde_json::Value {
    let mut v = json!({"code": p.code(), "message": p.to_string()});
    match p {
        Problem::Read(e) => {
            v["file"] = json!(&*e.source);
            v["line"] = json!(e.line);
            v["column"] = json!(e.column);
        }
        Problem::NoOcid(at) => {
            v["file"] = json!(&*at.source);
            v["line"] = json!(at.line);
        }
        Problem::Conflict {
            ocid,
            release_id,
            second,
            ..
        } => {
            v["file"] = json!(&*second.source);
            v["line"] = json!(second.line);
            v["ocid"] = json!(ocid);
            v["release_id"] = json!(release_id);
        }
        Problem::Merge { ocid, releases, .. } => {
            v["ocid"] = json!(ocid);
            if let Some(at) = releases.first() {
                v["file"] = json!(&*at.source);
                v["line"] = json!(at.line);
            }
        }
    }
    v
}

fn exit_code(problems: u64, failures: u32) -> u8 {
    if failures > 0 {
        EXIT_FAILURE
    } else if problems > 0 {
        EXIT_DATA_ERRORS
    } else {
        0
    }
}

fn compile(args: CompileArgs) -> Result<u8> {
    let input = &args.input;
    let rules = MergeRules::ocds_1_1();
    let started = std::time::Instant::now();
    let mut collector =
        Collector::with_budget(input.limits(), args.memory.saturating_mul(1024 * 1024));
    let bar = progress("reading releases");
    let mut failures = 0;
    for path in input.sources() {
        if path.as_os_str() != "-" {
            // Regular files are memory-mapped: releases stay in the page cache, not copied.
            if let Err(e) = collector.read_file(&path, &mut || bar.inc(1)) {
                failures += 1;
                match input.format {
                    Format::Text => eprintln!("{}: could not open: {e}", path.display()),
                    Format::Json => eprintln!(
                        "{}",
                        json!({"file": path.display().to_string(), "code": "io", "message": format!("could not open: {e}")})
                    ),
                }
            }
            continue;
        }
        let Some(r) = open(&path, &mut failures, input.format) else {
            continue;
        };
        collector.read(&path.display().to_string(), r, &mut || bar.inc(1));
    }
    bar.finish_and_clear();
    let read_time = started.elapsed();
    let mut out = input.writer()?;
    let bar = progress("compiling ocids");
    let (summary, problems) = collector
        .write(
            &rules,
            CompileOptions {
                versioned: args.versioned,
                limits: input.limits(),
            },
            &mut out,
            &|n| bar.inc(n),
        )
        .context("writing compiled releases")?;
    out.flush().context("writing compiled releases")?;
    bar.finish_and_clear();
    for p in &problems {
        print_problem(p, input.format);
    }
    tracing_time("read", read_time);
    tracing_time("total", started.elapsed());
    if input.format == Format::Text {
        eprintln!(
            "compiled {} ocids from {} releases ({} upgraded from 1.0); {} problems",
            summary.written, summary.releases, summary.upgraded, summary.problems
        );
    }
    Ok(exit_code(summary.problems, failures))
}

fn upgrade_cmd(args: InputArgs) -> Result<u8> {
    let mut out = args.writer()?;
    let mut failures = 0;
    let mut problems = 0u64;
    let mut upgraded = 0u64;
    let mut releases = 0u64;
    let bar = progress("upgrading releases");
    for path in args.sources() {
        let Some(r) = open(&path, &mut failures, args.format) else {
            continue;
        };
        let mut write_error: Option<io::Error> = None;
        reader::read(
            std::sync::Arc::from(path.display().to_string().as_str()),
            r,
            args.limits(),
            &mut |event| match event {
                Event::Item(item) => {
                    bar.inc(1);
                    match item.parse() {
                        Ok(mut v) => {
                            releases += 1;
                            if upgrade::upgrade_if_needed(&mut v, item.package.as_deref()) {
                                upgraded += 1;
                            }
                            if write_error.is_none() {
                                let res = serde_json::to_writer(&mut out, &v)
                                    .map_err(io::Error::from)
                                    .and_then(|()| out.write_all(b"\n"));
                                if let Err(e) = res {
                                    write_error = Some(e);
                                }
                            }
                        }
                        Err(e) => {
                            problems += 1;
                            print_problem(&Problem::Read(e), args.format);
                        }
                    }
                }
                Event::Error(e) => {
                    problems += 1;
                    print_problem(&Problem::Read(e), args.format);
                }
                Event::Package(_) => {}
            },
        );
        if let Some(e) = write_error {
            return Err(e).context("writing upgraded releases");
        }
    }
    out.flush().context("writing upgraded releases")?;
    bar.finish_and_clear();
    if args.format == Format::Text {
        eprintln!(
            "{releases} releases written, {upgraded} upgraded from OCDS 1.0; {problems} problems"
        );
    }
    Ok(exit_code(problems, failures))
}

fn validate_cmd(args: ValidateArgs) -> Result<u8> {
    let input = &args.input;
    let mut failures = 0;
    let mut sources = Vec::new();
    for path in input.sources() {
        if let Some(r) = open(&path, &mut failures, input.format) {
            sources.push((path.display().to_string(), r));
        }
    }
    let mut out = input.writer()?;
    let bar = progress("validating releases");
    let mut write_error: Option<io::Error> = None;
    let format = input.format;
    let summary = validate::validate_sources(
        sources,
        input.limits(),
        &mut |f| {
            if write_error.is_some() {
                return;
            }
            let res = match format {
                Format::Text => writeln!(out, "{f}"),
                Format::Json => serde_json::to_writer(&mut out, &finding_json(f))
                    .map_err(io::Error::from)
                    .and_then(|()| out.write_all(b"\n")),
            };
            if let Err(e) = res {
                write_error = Some(e);
            }
        },
        &mut |n| bar.inc(n),
    );
    bar.finish_and_clear();
    if let Some(e) = write_error {
        return Err(e).context("writing the validation report");
    }
    match format {
        Format::Json => {
            let line = json!({"summary": {
                "items": summary.items, "errors": summary.errors, "warnings": summary.warnings,
                "by_rule": summary.by_rule,
            }});
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        }
        Format::Text => {
            out.flush()?;
            eprintln!(
                "{} items checked: {} errors, {} warnings",
                summary.items, summary.errors, summary.warnings
            );
            for (rule, n) in &summary.by_rule {
                eprintln!("  {rule:<28} {n}");
            }
        }
    }
    out.flush().context("writing the validation report")?;
    Ok(exit_code(summary.errors, failures))
}

fn finding_json(f: &validate::Finding) -> serde_json::Value {
    json!({
        "severity": f.severity().as_str(),
        "rule": f.rule.code(),
        "file": &*f.source,
        "line": f.line,
        "column": f.column,
        "item": f.item,
        "ocid": f.ocid,
        "pointer": f.pointer,
        "value": f.value,
        "message": f.message,
    })
}

fn flatten_cmd(args: FlattenArgs) -> Result<u8> {
    use rayon::prelude::*;
    let input = &args.input;
    let Some(output) = input.output.clone() else {
        anyhow::bail!(
            "flatten needs --output: a folder for CSV tables, or a file name for --xlsx (e.g. --output tables/)"
        );
    };
    // One of each lives for the whole command; their sizes do not matter.
    #[allow(clippy::large_enum_variant)]
    enum Sink {
        Csv(flatten::CsvFlattener),
        Xlsx(flatten::XlsxFlattener),
    }
    let mut sink = if args.xlsx {
        Sink::Xlsx(flatten::XlsxFlattener::create(&output)?)
    } else {
        Sink::Csv(flatten::CsvFlattener::create(&output)?)
    };
    let mut failures = 0;
    let mut problems = 0u64;
    let bar = progress("flattening releases");
    // Parse a batch on every core, then hand it over in order.
    let flush = |batch: &mut Vec<Item>, sink: &mut Sink, problems: &mut u64| -> Result<()> {
        let parsed: Vec<std::result::Result<serde_json::Value, reader::ReadError>> = batch
            .par_iter()
            .map(|item| {
                item.parse().map(|v| match v.get("compiledRelease") {
                    // A record: its compiled release is the row.
                    Some(c) if item.kind == reader::ItemKind::Record => c.clone(),
                    _ => v,
                })
            })
            .collect();
        let mut values = Vec::with_capacity(parsed.len());
        for p in parsed {
            match p {
                Ok(v) => values.push(v),
                Err(e) => {
                    *problems += 1;
                    print_problem(&Problem::Read(e), input.format);
                }
            }
        }
        bar.inc(values.len() as u64);
        match sink {
            Sink::Csv(f) => f.add_batch(&values)?,
            Sink::Xlsx(f) => {
                for v in &values {
                    f.add(v)?;
                }
            }
        }
        batch.clear();
        Ok(())
    };
    for path in input.sources() {
        let Some(r) = open(&path, &mut failures, input.format) else {
            continue;
        };
        let mut batch: Vec<Item> = Vec::with_capacity(1024);
        let mut error: Option<anyhow::Error> = None;
        reader::read(
            std::sync::Arc::from(path.display().to_string().as_str()),
            r,
            input.limits(),
            &mut |event| {
                if error.is_some() {
                    return;
                }
                match event {
                    Event::Item(item) => {
                        batch.push(item);
                        if batch.len() >= 1024 {
                            if let Err(e) = flush(&mut batch, &mut sink, &mut problems) {
                                error = Some(e);
                            }
                        }
                    }
                    Event::Error(e) => {
                        problems += 1;
                        print_problem(&Problem::Read(e), input.format);
                    }
                    Event::Package(_) => {}
                }
            },
        );
        if let Some(e) = error {
            return Err(e);
        }
        flush(&mut batch, &mut sink, &mut problems)?;
    }
    bar.finish_and_clear();
    let summary = match sink {
        Sink::Csv(f) => f.finish()?,
        Sink::Xlsx(f) => f.finish()?,
    };
    if input.format == Format::Text {
        eprintln!(
            "flattened {} releases into {}:",
            summary.releases,
            output.display()
        );
        for t in &summary.tables {
            if t.rows > 0 {
                eprintln!("  {:<24} {:>9} rows", t.name, t.rows);
            }
        }
        if summary.truncated_cells > 0 {
            eprintln!(
                "  {} cells were longer than Excel allows and were cut",
                summary.truncated_cells
            );
        }
    }
    Ok(exit_code(problems, failures))
}

/// Phase times on stderr when TUWHERA_TIMING is set (for profiling; see docs/benchmarks.md).
fn tracing_time(phase: &str, d: std::time::Duration) {
    if std::env::var_os("TUWHERA_TIMING").is_some() {
        eprintln!("timing: {phase} {:.3}s", d.as_secs_f64());
    }
}

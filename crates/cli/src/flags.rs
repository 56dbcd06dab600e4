//! `tuwhera flags`: red flags over compiled releases, from a file or the database.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use rayon::prelude::*;
use serde_json::Value;
use tuwhera_flags::{prepare, Engine, Settings};
use tuwhera_store::Store;

use crate::{EXIT_DATA_ERRORS, EXIT_FAILURE};

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// Every flag with its reason, the fences' figures and what was skipped.
    Json,
    /// One row per flag.
    Csv,
    /// Cardinal's `indicators` shape: group → id → code → value.
    Cardinal,
}

#[derive(Args)]
pub struct FlagsArgs {
    /// Compiled releases, one per line (JSON Lines, optionally .gz); `-` for standard input.
    #[arg(value_name = "FILE", required_unless_present = "database")]
    file: Option<PathBuf>,
    /// Compute over the database instead (and keep the results there for the web pages).
    #[arg(long, conflicts_with = "file")]
    database: Option<String>,
    /// Settings: Tuwhera's TOML, or Cardinal's INI (by the .ini extension).
    /// With --database, they are saved there and used from then on.
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// Apply the prepare step first (corrections set in the settings' [prepare]
    /// section; shape fixes always) and report its changes on stderr.
    #[arg(long)]
    prepare: bool,
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// Write here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Lines handed to the workers at a time: enough to keep both cores busy,
/// few enough that memory stays a few megabytes whatever the file's size.
const BATCH: usize = 4096;

fn read_settings(path: &PathBuf) -> Result<(Settings, String)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let settings = if path.extension().is_some_and(|e| e == "ini") {
        Settings::from_cardinal_ini(&text)
    } else {
        Settings::from_toml(&text)
    }
    .with_context(|| format!("{}: invalid settings", path.display()))?;
    // The database keeps TOML: Cardinal's INI is converted once.
    let toml_text = toml_of(&settings)?;
    Ok((settings, toml_text))
}

fn toml_of(settings: &Settings) -> Result<String> {
    // serde_json → TOML goes through the settings' own Serialize.
    let value = serde_json::to_value(settings)?;
    json_to_toml(&value)
}

/// Writes settings as TOML by hand: the tables are flat and known, and this
/// keeps the CLI from needing a second TOML crate just to write them.
fn json_to_toml(value: &Value) -> Result<String> {
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(serde_json::to_string(s).unwrap_or_default()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Array(a) => Some(format!(
                "[{}]",
                a.iter().filter_map(scalar).collect::<Vec<_>>().join(", ")
            )),
            _ => None,
        }
    }
    fn table(out: &mut String, path: &str, object: &serde_json::Map<String, Value>) {
        let mut nested = Vec::new();
        if !path.is_empty() {
            out.push_str(&format!("\n[{path}]\n"));
        }
        for (k, v) in object {
            match v {
                Value::Null => {}
                Value::Object(o) => nested.push((k, o)),
                _ => {
                    if let Some(s) = scalar(v) {
                        let key = if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                            k.clone()
                        } else {
                            serde_json::to_string(k).unwrap_or_default()
                        };
                        out.push_str(&format!("{key} = {s}\n"));
                    }
                }
            }
        }
        for (k, o) in nested {
            let key = if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                k.clone()
            } else {
                serde_json::to_string(k).unwrap_or_default()
            };
            let p = if path.is_empty() {
                key
            } else {
                format!("{path}.{key}")
            };
            table(out, &p, o);
        }
    }
    let Value::Object(o) = value else {
        bail!("settings are not a table")
    };
    let mut out = String::new();
    table(&mut out, "", o);
    Ok(out)
}

pub fn run(args: FlagsArgs) -> Result<u8> {
    if let Some(url) = &args.database {
        return run_database(url, &args);
    }
    let (settings, _) = match &args.settings {
        Some(p) => read_settings(p)?,
        None => (Settings::default(), String::new()),
    };
    let path = args.file.clone().unwrap_or_else(|| PathBuf::from("-"));
    let name = path.display().to_string();
    let input: Box<dyn Read + Send> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        let file = std::fs::File::open(&path).with_context(|| format!("opening {name}"))?;
        if path.extension().is_some_and(|e| e == "gz") {
            Box::new(flate2::read::MultiGzDecoder::new(file))
        } else {
            Box::new(file)
        }
    };
    let engine = Engine::new(settings);
    let prepare_settings = engine.settings().prepare.clone();
    let mut total = engine.partial();
    let mut bad_lines = 0u64;
    let mut changes = 0u64;
    let mut issues = 0u64;
    // Reading runs one batch ahead on its own thread while the workers judge
    // the previous batch; the channel's bound keeps memory to a few batches.
    let (send, receive) = std::sync::mpsc::sync_channel::<Result<Vec<(u64, String)>>>(2);
    let reader_name = name.clone();
    let reader = std::thread::spawn(move || {
        let mut lines = BufReader::with_capacity(1 << 20, input).lines();
        let mut line_no = 0u64;
        loop {
            let mut batch: Vec<(u64, String)> = Vec::with_capacity(BATCH);
            for line in lines.by_ref() {
                line_no += 1;
                match line {
                    Ok(line) if line.trim().is_empty() => continue,
                    Ok(line) => batch.push((line_no, line)),
                    Err(e) => {
                        let _ = send.send(Err(anyhow::anyhow!(
                            "{reader_name}: line {line_no}: could not read: {e}"
                        )));
                        return;
                    }
                }
                if batch.len() == BATCH {
                    break;
                }
            }
            if batch.is_empty() || send.send(Ok(batch)).is_err() {
                return;
            }
        }
    });
    let stderr = std::io::stderr();
    for batch in receive {
        let batch = batch?;
        let (partial, bad, prepared) = batch
            .par_iter()
            // Few, large pieces: merging partial states (maps of tenderers) costs
            // more than it saves once both cores have work.
            .with_min_len(1024)
            .fold(
                || (engine.partial(), Vec::new(), (0u64, 0u64, Vec::new())),
                |(mut partial, mut bad, mut prepared), (no, line)| {
                    // Prepare needs the whole release; the indicators alone need less.
                    let parsed = if args.prepare {
                        serde_json::from_str::<Value>(line)
                    } else {
                        tuwhera_flags::parse_for_indicators(line)
                    };
                    match parsed {
                        Ok(mut release) => {
                            if args.prepare {
                                let report = prepare::prepare(&mut release, &prepare_settings, *no);
                                prepared.0 += report.changes.len() as u64;
                                prepared.1 += report.issues.len() as u64;
                                prepared
                                    .2
                                    .extend(report.changes.into_iter().chain(report.issues));
                            }
                            engine.fold(&mut partial, &release);
                        }
                        Err(e) => bad.push(format!("{name}: line {no}: not JSON: {e}")),
                    }
                    (partial, bad, prepared)
                },
            )
            .reduce(
                || (engine.partial(), Vec::new(), (0, 0, Vec::new())),
                |(a, mut ba, mut pa), (b, bb, pb)| {
                    ba.extend(bb);
                    pa.0 += pb.0;
                    pa.1 += pb.1;
                    pa.2.extend(pb.2);
                    (engine.reduce(a, b), ba, pa)
                },
            );
        total = engine.reduce(total, partial);
        bad_lines += bad.len() as u64;
        changes += prepared.0;
        issues += prepared.1;
        let mut err = stderr.lock();
        for b in bad {
            let _ = writeln!(err, "{b}");
        }
        for c in prepared.2 {
            let _ = writeln!(
                err,
                "prepare: {name}: line {}: {} {} [{}] {:?}: {}",
                c.line, c.ocid, c.path, c.index, c.value, c.action
            );
        }
    }
    if reader.join().is_err() {
        bail!("{name}: the reader thread failed");
    }
    let outcome = engine.finish(total);
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match args.format {
        Format::Json => serde_json::to_writer_pretty(&mut out, &outcome)?,
        Format::Cardinal => serde_json::to_writer(&mut out, &outcome.cardinal_json())?,
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record([
                "code",
                "subject_kind",
                "subject_id",
                "value",
                "ocids",
                "organisations",
                "reason",
            ])?;
            for f in &outcome.flags {
                w.write_record([
                    f.code.as_str(),
                    f.subject.kind(),
                    f.subject.id(),
                    &f.value.to_string(),
                    &f.ocids.join(" "),
                    &f.organisations.join(" "),
                    &f.reason,
                ])?;
            }
            w.flush()?;
        }
    }
    writeln!(out)?;
    out.flush()?;
    eprintln!(
        "{} processes, {} flags from {} indicators{}",
        outcome.processes,
        outcome.flags.len(),
        outcome.indicators.len(),
        if args.prepare {
            format!("; prepare: {changes} changes, {issues} issues")
        } else {
            String::new()
        }
    );
    for note in &outcome.notes {
        eprintln!(
            "not judged ({}): {} — {} processes",
            note.code, note.reason, note.processes
        );
    }
    Ok(if bad_lines > 0 { EXIT_DATA_ERRORS } else { 0 })
}

fn run_database(url: &str, args: &FlagsArgs) -> Result<u8> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async {
        let store = Store::connect(url)
            .await
            .with_context(|| format!("opening the database {url}"))?;
        if let Some(p) = &args.settings {
            let (_, text) = read_settings(p)?;
            store
                .set_flag_settings(&text)
                .await
                .context("saving the settings")?;
            eprintln!("settings from {} saved in the database", p.display());
        }
        let summary = store.refresh_risk(true).await.context("computing flags")?;
        eprintln!(
            "{} processes: {} flags, {} Procurement Rules findings, {} publishers' quality reports",
            summary.processes, summary.flags, summary.findings, summary.publishers
        );
        let mut out: Box<dyn Write> = match &args.output {
            Some(p) => Box::new(std::fs::File::create(p)?),
            None => Box::new(std::io::stdout().lock()),
        };
        serde_json::to_writer_pretty(&mut out, &summary)?;
        writeln!(out)?;
        Ok::<u8, anyhow::Error>(0)
    })
    .or_else(|e| {
        eprintln!("tuwhera: error: {e:#}");
        Ok(EXIT_FAILURE)
    })
}

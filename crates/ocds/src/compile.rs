//! Compile: group releases by ocid and merge each group.
//!
//! Reading is one pass over the input that keeps each release as raw bytes
//! (a compact form: parsing waits until the group is complete). Merging then
//! runs on every core, one group per task, and results are written in ocid
//! order — the order ocdskit writes — so outputs can be compared line by line.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::Value;

use crate::merge::{MergeError, MergeRules, Merger};
use crate::reader::{self, Event, Item, ItemKind, Limits, PackageInfo, ReadError};
use crate::upgrade;

/// Where a release was read from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub source: Arc<str>,
    pub line: u64,
    pub column: u64,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.source, self.line, self.column)
    }
}

/// Something wrong with the input, found while compiling. The rest goes on.
#[derive(Debug, Clone)]
pub enum Problem {
    /// The input could not be read or parsed at this place.
    Read(ReadError),
    /// A release without an `ocid` cannot be grouped.
    NoOcid(Location),
    /// Two releases share an ocid and id but differ. Both were merged, in date order.
    Conflict {
        ocid: String,
        release_id: String,
        first: Location,
        second: Location,
    },
    /// The group could not be merged; no compiled release was written for it.
    Merge {
        ocid: String,
        error: MergeError,
        releases: Vec<Location>,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Read(e) => write!(f, "{e}"),
            Problem::NoOcid(at) => write!(
                f,
                "{at}: release has no `ocid` (a string); it cannot be compiled and was skipped"
            ),
            Problem::Conflict {
                ocid,
                release_id,
                first,
                second,
            } => write!(
                f,
                "{second}: release {release_id:?} of {ocid} differs from the release with the same id at {first}; both were merged in date order"
            ),
            Problem::Merge {
                ocid,
                error,
                releases,
            } => {
                let at = releases.first().map(|l| l.to_string()).unwrap_or_default();
                write!(f, "{at}: {ocid}: {error}; no compiled release was written for it")
            }
        }
    }
}

impl Problem {
    pub fn code(&self) -> &'static str {
        match self {
            Problem::Read(e) => e.kind.code(),
            Problem::NoOcid(_) => "no-ocid",
            Problem::Conflict { .. } => "conflict",
            Problem::Merge { .. } => "merge",
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct CompileOptions {
    /// Write versioned releases instead of compiled releases.
    pub versioned: bool,
    pub limits: Limits,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub releases: u64,
    pub upgraded: u64,
    pub ocids: u64,
    pub written: u64,
    pub problems: u64,
}

/// One release waiting for its group to be complete.
struct Pending {
    ocid: Box<str>,
    seq: u64,
    raw: Box<[u8]>,
    package: Option<Arc<PackageInfo>>,
    at: Location,
}

/// Collects releases from any number of sources.
pub struct Collector {
    pending: Vec<Pending>,
    seq: u64,
    limits: Limits,
    problems: Vec<Problem>,
}

impl Collector {
    pub fn new(limits: Limits) -> Self {
        Collector {
            pending: Vec::new(),
            seq: 0,
            limits,
            problems: Vec::new(),
        }
    }

    /// Read one source to its end. `on_item` is told of each item (for progress).
    pub fn read<R: Read>(&mut self, source: &str, input: R, on_item: &mut dyn FnMut()) {
        let limits = self.limits;
        reader::read(Arc::from(source), input, limits, &mut |event| {
            on_item();
            match event {
                Event::Item(item) => self.add(item),
                Event::Error(e) => self.problems.push(Problem::Read(e)),
                Event::Package(_) => {}
            }
        });
    }

    fn add(&mut self, item: Item) {
        let at = Location {
            source: item.source.clone(),
            line: item.line,
            column: item.column,
        };
        if item.kind == ItemKind::Record {
            self.add_record(item, at);
            return;
        }
        let ocid = match &item.ocid {
            Some(o) => o.clone(),
            None => {
                // The scanner only sees plain top-level strings; parse to be sure.
                match item.parse() {
                    Err(e) => {
                        self.problems.push(Problem::Read(e));
                        return;
                    }
                    Ok(v) => match v.get("ocid").and_then(Value::as_str) {
                        Some(o) => o.to_owned(),
                        None => {
                            self.problems.push(Problem::NoOcid(at));
                            return;
                        }
                    },
                }
            }
        };
        self.seq += 1;
        self.pending.push(Pending {
            ocid: ocid.into_boxed_str(),
            seq: self.seq,
            raw: item.raw.into_boxed_slice(),
            package: item.package,
            at,
        });
    }

    /// A record's embedded releases are releases like any other.
    fn add_record(&mut self, item: Item, at: Location) {
        let record = match item.parse() {
            Ok(v) => v,
            Err(e) => {
                self.problems.push(Problem::Read(e));
                return;
            }
        };
        let Some(Value::Array(releases)) = record.get("releases") else {
            return;
        };
        for release in releases {
            // Linked releases (`url` only) carry no data to merge.
            if release.get("date").is_none()
                || release.get("url").is_some() && release.get("ocid").is_none()
            {
                continue;
            }
            let Some(ocid) = release.get("ocid").and_then(Value::as_str) else {
                self.problems.push(Problem::NoOcid(at.clone()));
                continue;
            };
            self.seq += 1;
            self.pending.push(Pending {
                ocid: ocid.into(),
                seq: self.seq,
                raw: serde_json::to_vec(release)
                    .unwrap_or_default()
                    .into_boxed_slice(),
                package: item.package.clone(),
                at: at.clone(),
            });
        }
    }

    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Merge every group and write one JSON line per ocid, in ocid order.
    pub fn write<W: Write>(
        self,
        rules: &MergeRules,
        options: CompileOptions,
        out: &mut W,
        on_group: &(dyn Fn(u64) + Sync),
    ) -> io::Result<(Summary, Vec<Problem>)> {
        let Collector {
            mut pending,
            mut problems,
            ..
        } = self;
        let mut summary = Summary {
            releases: pending.len() as u64,
            ..Summary::default()
        };
        pending.par_sort_unstable_by(|a, b| a.ocid.cmp(&b.ocid).then(a.seq.cmp(&b.seq)));
        // Cut into groups without copying: each group is a run of equal ocids.
        let mut groups: Vec<Vec<Pending>> = Vec::new();
        let mut iter = pending.into_iter().peekable();
        while let Some(first) = iter.next() {
            let mut group = vec![first];
            while iter.peek().is_some_and(|p| p.ocid == group[0].ocid) {
                if let Some(p) = iter.next() {
                    group.push(p);
                }
            }
            groups.push(group);
        }
        summary.ocids = groups.len() as u64;
        // Batches bound the memory held by results waiting to be written.
        const BATCH: usize = 2048;
        let mut groups = groups.into_iter();
        loop {
            let batch: Vec<Vec<Pending>> = groups.by_ref().take(BATCH).collect();
            if batch.is_empty() {
                break;
            }
            let n = batch.len() as u64;
            let results: Vec<GroupResult> = batch
                .into_par_iter()
                .map(|g| compile_group(g, rules, options.versioned))
                .collect();
            for r in results {
                summary.upgraded += r.upgraded;
                problems.extend(r.problems);
                if let Some(bytes) = r.output {
                    out.write_all(&bytes)?;
                    out.write_all(b"\n")?;
                    summary.written += 1;
                }
            }
            on_group(n);
        }
        summary.problems = problems.len() as u64;
        Ok((summary, problems))
    }
}

struct GroupResult {
    output: Option<Vec<u8>>,
    problems: Vec<Problem>,
    upgraded: u64,
}

fn compile_group(group: Vec<Pending>, rules: &MergeRules, versioned: bool) -> GroupResult {
    let mut problems = Vec::new();
    let mut upgraded = 0;
    let ocid = group[0].ocid.to_string();
    let mut releases = Vec::with_capacity(group.len());
    let mut locations: Vec<Location> = Vec::with_capacity(group.len());
    // Release ids seen in this group, to report conflicting duplicates.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for p in group {
        let mut value: Value = match serde_json::from_slice(&p.raw) {
            Ok(v) => v,
            Err(e) => {
                let item = Item {
                    kind: ItemKind::Release,
                    source: p.at.source.clone(),
                    line: p.at.line,
                    column: p.at.column,
                    index: 0,
                    package: None,
                    ocid: None,
                    raw: Vec::new(),
                };
                problems.push(Problem::Read(item.parse_error(&e)));
                continue;
            }
        };
        if upgrade::upgrade_if_needed(&mut value, p.package.as_deref()) {
            upgraded += 1;
        }
        if let Some(id) = value.get("id").map(release_id_string) {
            match seen.get(&id) {
                Some(&i) => {
                    if !crate::merge::py_eq(&releases[i], &value) {
                        problems.push(Problem::Conflict {
                            ocid: ocid.clone(),
                            release_id: id,
                            first: locations[i].clone(),
                            second: p.at.clone(),
                        });
                    }
                }
                None => {
                    seen.insert(id, releases.len());
                }
            }
        }
        releases.push(value);
        locations.push(p.at);
    }
    if releases.is_empty() {
        return GroupResult {
            output: None,
            problems,
            upgraded,
        };
    }
    let output = match Merger::merge_json(rules, releases, versioned) {
        Ok(v) => Some(v),
        Err(error) => {
            problems.push(Problem::Merge {
                ocid,
                error,
                releases: locations,
            });
            None
        }
    };
    GroupResult {
        output,
        problems,
        upgraded,
    }
}

fn release_id_string(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

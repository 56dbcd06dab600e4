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

/// Releases held in memory before a sorted run is spilled to a temporary file.
/// Beyond it, memory stays flat however large the input: the groups are put
/// together again by a k-way merge of the runs.
pub const DEFAULT_MEMORY_BUDGET: usize = 512 * 1024 * 1024;

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub releases: u64,
    pub upgraded: u64,
    pub ocids: u64,
    pub written: u64,
    pub problems: u64,
}

/// A release's bytes: its own copy, or a slice of a memory-mapped file.
enum Raw {
    Owned(Box<[u8]>),
    Mapped {
        map: Arc<memmap2::Mmap>,
        offset: usize,
        len: usize,
    },
}

impl Raw {
    fn bytes(&self) -> &[u8] {
        match self {
            Raw::Owned(b) => b,
            Raw::Mapped { map, offset, len } => map.get(*offset..offset + len).unwrap_or_default(),
        }
    }
}

/// One release waiting for its group to be complete.
struct Pending {
    ocid: Box<str>,
    seq: u64,
    raw: Raw,
    package: Option<Arc<PackageInfo>>,
    at: Location,
}

/// Collects releases from any number of sources.
pub struct Collector {
    pending: Vec<Pending>,
    pending_bytes: usize,
    budget: usize,
    runs: Vec<spill::Run>,
    spill_error: Option<io::Error>,
    seq: u64,
    limits: Limits,
    problems: Vec<Problem>,
}

impl Collector {
    pub fn new(limits: Limits) -> Self {
        Self::with_budget(limits, DEFAULT_MEMORY_BUDGET)
    }

    /// A collector that keeps at most about `budget` bytes of releases in memory.
    pub fn with_budget(limits: Limits, budget: usize) -> Self {
        Collector {
            pending: Vec::new(),
            pending_bytes: 0,
            budget,
            runs: Vec::new(),
            spill_error: None,
            seq: 0,
            limits,
            problems: Vec::new(),
        }
    }

    fn push(&mut self, p: Pending) {
        // Mapped bytes live in the page cache, not in our memory: count only our part.
        let own = match &p.raw {
            Raw::Owned(b) => b.len(),
            Raw::Mapped { .. } => 0,
        };
        self.pending_bytes += own + p.ocid.len() + 96;
        self.pending.push(p);
        if self.pending_bytes > self.budget && self.spill_error.is_none() {
            let mut batch = std::mem::take(&mut self.pending);
            self.pending_bytes = 0;
            batch.par_sort_unstable_by(|a, b| a.ocid.cmp(&b.ocid).then(a.seq.cmp(&b.seq)));
            match spill::Run::write(batch) {
                Ok(run) => self.runs.push(run),
                Err(e) => self.spill_error = Some(e),
            }
        }
    }

    /// Read a file, memory-mapped when it is a regular file that fits the memory
    /// budget: releases are then kept as slices of the map rather than copies.
    /// The file must not change while compiling (as with any tool that maps its input).
    pub fn read_file(
        &mut self,
        path: &std::path::Path,
        on_item: &mut dyn FnMut(),
    ) -> io::Result<()> {
        let name = path.display().to_string();
        let file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        // A map larger than the memory budget would hold the whole file resident;
        // such files are streamed, and the budget's sorted runs keep memory flat.
        if !meta.is_file() || meta.len() == 0 || meta.len() > self.budget as u64 {
            self.read(&name, file, on_item);
            return Ok(());
        }
        // SAFETY: the map is read-only and private to this process; the documented
        // condition is that the file is not truncated while we read it.
        let map = Arc::new(unsafe { memmap2::MmapOptions::new().populate().map(&file)? });
        let limits = self.limits;
        let mapped = !map.starts_with(&[0x1f, 0x8b]);
        reader::read_mapped(Arc::from(name.as_str()), &map, limits, &mut |event| {
            on_item();
            match event {
                Event::Item(item) if mapped => self.add(item, Some(&map)),
                Event::Item(item) => self.add(item, None),
                Event::Error(e) => self.problems.push(Problem::Read(e)),
                Event::Package(_) => {}
            }
        });
        Ok(())
    }

    /// Read one source to its end. `on_item` is told of each item (for progress).
    pub fn read<R: Read>(&mut self, source: &str, input: R, on_item: &mut dyn FnMut()) {
        let limits = self.limits;
        reader::read(Arc::from(source), input, limits, &mut |event| {
            on_item();
            match event {
                Event::Item(item) => self.add(item, None),
                Event::Error(e) => self.problems.push(Problem::Read(e)),
                Event::Package(_) => {}
            }
        });
    }

    fn add(&mut self, mut item: Item, map: Option<&Arc<memmap2::Mmap>>) {
        let raw = match map {
            Some(map) => Raw::Mapped {
                map: map.clone(),
                offset: item.offset as usize,
                len: item.len as usize,
            },
            None => Raw::Owned(std::mem::take(&mut item.raw).into_boxed_slice()),
        };
        let at = Location {
            source: item.source.clone(),
            line: item.line,
            column: item.column,
        };
        if item.kind == ItemKind::Record {
            self.add_record(&item, raw.bytes(), at);
            return;
        }
        let ocid = match &item.ocid {
            Some(o) => o.clone(),
            None => {
                // The scanner only sees plain top-level strings; parse to be sure.
                match item.parse_bytes(raw.bytes()) {
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
        self.push(Pending {
            ocid: ocid.into_boxed_str(),
            seq: self.seq,
            raw,
            package: item.package,
            at,
        });
    }

    /// A record's embedded releases are releases like any other.
    fn add_record(&mut self, item: &Item, bytes: &[u8], at: Location) {
        let record = match item.parse_bytes(bytes) {
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
            self.push(Pending {
                ocid: ocid.into(),
                seq: self.seq,
                raw: Raw::Owned(
                    serde_json::to_vec(release)
                        .unwrap_or_default()
                        .into_boxed_slice(),
                ),
                package: item.package.clone(),
                at: at.clone(),
            });
        }
    }

    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Merge every group and write one JSON line per ocid, in ocid order.
    pub fn write<W: Write + Send>(
        self,
        rules: &MergeRules,
        options: CompileOptions,
        out: &mut W,
        on_group: &(dyn Fn(u64) + Sync),
    ) -> io::Result<(Summary, Vec<Problem>)> {
        let Collector {
            mut pending,
            mut problems,
            runs,
            spill_error,
            ..
        } = self;
        if let Some(e) = spill_error {
            return Err(io::Error::new(
                e.kind(),
                format!("spilling releases to a temporary file: {e}"),
            ));
        }
        pending.par_sort_unstable_by(|a, b| a.ocid.cmp(&b.ocid).then(a.seq.cmp(&b.seq)));
        let mut summary = Summary {
            releases: pending.len() as u64 + runs.iter().map(|r| r.len).sum::<u64>(),
            ..Summary::default()
        };
        let mut sorted = spill::Merged::new(pending, runs)?;
        // Cut into groups: each group is a run of equal ocids in the merged order.
        let mut next_group = move || -> io::Result<Option<Vec<Pending>>> {
            let Some(first) = sorted.next()? else {
                return Ok(None);
            };
            let mut group = vec![first];
            while sorted.peek_ocid()? == Some(&*group[0].ocid) {
                if let Some(p) = sorted.next()? {
                    group.push(p);
                }
            }
            Ok(Some(group))
        };
        // Batches bound the memory held by results waiting to be written. A writer
        // thread writes one batch while the next is merged.
        const BATCH: usize = 2048;
        let written = std::thread::scope(|scope| -> io::Result<u64> {
            let (tx, rx) = crossbeam_channel::bounded::<Vec<Vec<u8>>>(2);
            let writer = scope.spawn(move || -> io::Result<u64> {
                let mut written = 0;
                for outputs in rx {
                    for bytes in outputs {
                        out.write_all(&bytes)?;
                        out.write_all(b"\n")?;
                        written += 1;
                    }
                }
                Ok(written)
            });
            loop {
                let mut batch: Vec<Vec<Pending>> = Vec::with_capacity(BATCH);
                while batch.len() < BATCH {
                    match next_group()? {
                        Some(g) => batch.push(g),
                        None => break,
                    }
                }
                if batch.is_empty() {
                    break;
                }
                summary.ocids += batch.len() as u64;
                let n = batch.len() as u64;
                let results: Vec<GroupResult> = batch
                    .into_par_iter()
                    .map(|g| compile_group(g, rules, options.versioned))
                    .collect();
                let mut outputs = Vec::with_capacity(results.len());
                for r in results {
                    summary.upgraded += r.upgraded;
                    problems.extend(r.problems);
                    outputs.extend(r.output);
                }
                if tx.send(outputs).is_err() {
                    // The writer stopped on an error; it reports it below.
                    break;
                }
                on_group(n);
            }
            drop(tx);
            writer
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e))
        })?;
        summary.written = written;
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
        let mut value: Value = match serde_json::from_slice(p.raw.bytes()) {
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
                    offset: 0,
                    len: 0,
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

/// Sorted runs of releases on disk, and their k-way merge with the in-memory rest.
mod spill {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
    use std::sync::Arc;

    use super::{Location, Pending};
    use crate::reader::PackageInfo;

    pub struct Run {
        file: std::fs::File,
        pub len: u64,
    }

    fn put_bytes(w: &mut impl Write, b: &[u8]) -> io::Result<()> {
        w.write_all(&(b.len() as u64).to_le_bytes())?;
        w.write_all(b)
    }

    fn get_u64(r: &mut impl Read) -> io::Result<u64> {
        let mut b = [0u8; 8];
        r.read_exact(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn get_bytes(r: &mut impl Read) -> io::Result<Vec<u8>> {
        let n = get_u64(r)?;
        let mut v = vec![0u8; usize::try_from(n).map_err(|_| io::ErrorKind::InvalidData)?];
        r.read_exact(&mut v)?;
        Ok(v)
    }

    fn get_string(r: &mut impl Read) -> io::Result<String> {
        String::from_utf8(get_bytes(r)?).map_err(|_| io::ErrorKind::InvalidData.into())
    }

    impl Run {
        /// Write releases (already sorted) to an anonymous temporary file.
        pub fn write(batch: Vec<Pending>) -> io::Result<Run> {
            let mut file = tempfile::tempfile()?;
            let len = batch.len() as u64;
            {
                let mut w = BufWriter::with_capacity(1 << 20, &mut file);
                for p in batch {
                    put_bytes(&mut w, p.ocid.as_bytes())?;
                    w.write_all(&p.seq.to_le_bytes())?;
                    let version = p.package.as_ref().and_then(|i| i.version.as_deref());
                    match version {
                        Some(v) => {
                            w.write_all(&[1])?;
                            put_bytes(&mut w, v.as_bytes())?;
                        }
                        None => w.write_all(&[if p.package.is_some() { 2 } else { 0 }])?,
                    }
                    put_bytes(&mut w, p.at.source.as_bytes())?;
                    w.write_all(&p.at.line.to_le_bytes())?;
                    w.write_all(&p.at.column.to_le_bytes())?;
                    put_bytes(&mut w, p.raw.bytes())?;
                }
                w.flush()?;
            }
            file.rewind()?;
            Ok(Run { file, len })
        }
    }

    struct RunReader {
        reader: BufReader<std::fs::File>,
        left: u64,
        /// Sources repeat for every release; share one string per name.
        sources: Vec<Arc<str>>,
    }

    impl RunReader {
        fn next(&mut self) -> io::Result<Option<Pending>> {
            if self.left == 0 {
                return Ok(None);
            }
            self.left -= 1;
            let r = &mut self.reader;
            let ocid = get_string(r)?.into_boxed_str();
            let seq = get_u64(r)?;
            let mut tag = [0u8; 1];
            r.read_exact(&mut tag)?;
            let package = match tag[0] {
                1 => Some(Arc::new(PackageInfo {
                    version: Some(get_string(r)?),
                    uri: None,
                })),
                2 => Some(Arc::new(PackageInfo::default())),
                _ => None,
            };
            let name = get_string(r)?;
            let source = match self.sources.iter().find(|s| ***s == *name) {
                Some(s) => s.clone(),
                None => {
                    let s: Arc<str> = Arc::from(name.as_str());
                    self.sources.push(s.clone());
                    s
                }
            };
            let line = get_u64(r)?;
            let column = get_u64(r)?;
            let raw = super::Raw::Owned(get_bytes(r)?.into_boxed_slice());
            Ok(Some(Pending {
                ocid,
                seq,
                raw,
                package,
                at: Location {
                    source,
                    line,
                    column,
                },
            }))
        }
    }

    /// Releases from the runs and from memory, in (ocid, input order).
    pub struct Merged {
        memory: std::iter::Peekable<std::vec::IntoIter<Pending>>,
        readers: Vec<RunReader>,
        heads: Vec<Option<Pending>>,
        heap: BinaryHeap<Reverse<(Box<str>, u64, usize)>>,
    }

    const MEMORY: usize = usize::MAX;

    impl Merged {
        pub fn new(memory: Vec<Pending>, runs: Vec<Run>) -> io::Result<Merged> {
            let mut m = Merged {
                memory: memory.into_iter().peekable(),
                readers: runs
                    .into_iter()
                    .map(|r| RunReader {
                        left: r.len,
                        reader: BufReader::with_capacity(1 << 20, r.file),
                        sources: Vec::new(),
                    })
                    .collect(),
                heads: Vec::new(),
                heap: BinaryHeap::new(),
            };
            for i in 0..m.readers.len() {
                let head = m.readers[i].next()?;
                if let Some(p) = &head {
                    m.heap.push(Reverse((p.ocid.clone(), p.seq, i)));
                }
                m.heads.push(head);
            }
            if let Some(p) = m.memory.peek() {
                m.heap.push(Reverse((p.ocid.clone(), p.seq, MEMORY)));
            }
            Ok(m)
        }

        pub fn peek_ocid(&mut self) -> io::Result<Option<&str>> {
            Ok(self.heap.peek().map(|Reverse((o, _, _))| &**o))
        }

        pub fn next(&mut self) -> io::Result<Option<Pending>> {
            let Some(Reverse((_, _, from))) = self.heap.pop() else {
                return Ok(None);
            };
            if from == MEMORY {
                let p = self.memory.next();
                if let Some(n) = self.memory.peek() {
                    self.heap.push(Reverse((n.ocid.clone(), n.seq, MEMORY)));
                }
                return Ok(p);
            }
            let p = self.heads[from].take();
            let next = self.readers[from].next()?;
            if let Some(n) = &next {
                self.heap.push(Reverse((n.ocid.clone(), n.seq, from)));
            }
            self.heads[from] = next;
            Ok(p)
        }
    }
}

/// The compiled release of one contracting process, and its versioned release if asked for.
#[derive(Debug, Clone)]
pub struct Process {
    pub compiled: Vec<u8>,
    pub versioned: Option<Vec<u8>>,
}

/// Merge one process's releases, each given as its raw JSON and the `version`
/// its package declared (if any); OCDS 1.0 releases are upgraded first. Used
/// by the store, which keeps releases exactly as received. The versioned
/// release is made only when `versioned` is true: it is three times the size
/// of the compiled one and the store makes it on request.
pub fn compile_process(
    releases: &[(&[u8], Option<&str>)],
    rules: &MergeRules,
    versioned: bool,
) -> Result<Process, MergeError> {
    let mut values = Vec::with_capacity(releases.len());
    for (raw, version) in releases {
        let mut v: Value = serde_json::from_slice(raw).map_err(|_| MergeError::NotAnObject)?;
        let info = version.map(|v| PackageInfo {
            version: Some(v.to_owned()),
            uri: None,
        });
        upgrade::upgrade_if_needed(&mut v, info.as_ref());
        values.push(v);
    }
    let versioned = if versioned {
        Some(Merger::merge_json(rules, values.clone(), true)?)
    } else {
        None
    };
    let compiled = Merger::merge_json(rules, values, false)?;
    Ok(Process {
        compiled,
        versioned,
    })
}

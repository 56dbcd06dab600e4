//! Streaming reader for every common shape of OCDS data.
//!
//! The reader never parses a whole file into memory. It scans bytes once,
//! tracking only strings and nesting depth, and cuts the input into *items*:
//! one release (or record) each, as raw JSON bytes with the line and column
//! where it starts. Parsing an item is left to the caller, so that items can
//! be parsed in parallel and errors can still name the file, line and column.
//!
//! Shapes recognised, in any mix and in any number per file:
//! a release package or record package (its `releases` / `records` array is
//! streamed element by element, whatever its size), a bare release, a JSON
//! array of releases or packages, JSON Lines, concatenated JSON, gzip of any
//! of these (detected by its magic bytes), with or without a UTF-8 BOM.
//!
//! Why hand-written: serde_json's streaming deserializer can only hand back
//! whole top-level values, and no maintained crate streams the elements of a
//! nested array while keeping byte positions for error messages.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

/// Limits that keep a hostile or broken input from exhausting memory or stack.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest single item (release or record) kept, in bytes.
    pub max_item_bytes: usize,
    /// Deepest nesting accepted inside one item.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_item_bytes: 64 * 1024 * 1024,
            max_depth: 128,
        }
    }
}

/// What an item is, as far as its container says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// An element of a package's `releases` array, or a bare release.
    Release,
    /// An element of a record package's `records` array.
    Record,
}

/// The package an item came from, as known when the item was read.
#[derive(Debug, Clone, Default)]
pub struct PackageInfo {
    /// The package's `version`, if it appeared before the item.
    pub version: Option<String>,
    /// The package's `uri`, if it appeared before the item.
    pub uri: Option<String>,
}

/// One release or record, as raw JSON, with where it came from.
#[derive(Debug, Clone)]
pub struct Item {
    pub kind: ItemKind,
    /// The file name (or `-` for standard input).
    pub source: Arc<str>,
    /// 1-based line and column where the item starts.
    pub line: u64,
    pub column: u64,
    /// 0-based position of the item in its source, counting every item.
    pub index: u64,
    /// Set when the item sits in a release or record package.
    pub package: Option<Arc<PackageInfo>>,
    /// The item's `ocid`, when it is a top-level string (captured while scanning).
    pub ocid: Option<String>,
    /// Byte offset of the item's first byte in the (decompressed) stream, and its length.
    pub offset: u64,
    pub len: u64,
    /// The item's bytes, exactly as in the source. Empty when read with
    /// [`read_mapped`]: the caller holds the bytes, at `offset`.
    pub raw: Vec<u8>,
}

impl Item {
    /// Parse the item, translating the parser's position into the source's.
    pub fn parse(&self) -> Result<serde_json::Value, ReadError> {
        self.parse_bytes(&self.raw)
    }

    /// Parse the item's bytes held elsewhere (see [`read_mapped`]).
    pub fn parse_bytes(&self, bytes: &[u8]) -> Result<serde_json::Value, ReadError> {
        serde_json::from_slice(bytes).map_err(|e| self.parse_error(&e))
    }

    pub fn parse_error(&self, e: &serde_json::Error) -> ReadError {
        let (line, column) = self.position_of(e.line() as u64, e.column() as u64);
        let mut message = e.to_string();
        // serde_json appends " at line L column C" relative to the item: drop it, we give the real one.
        if let Some(cut) = message.rfind(" at line ") {
            message.truncate(cut);
        }
        ReadError {
            source: self.source.clone(),
            line,
            column,
            kind: ReadErrorKind::Syntax(message),
        }
    }

    fn position_of(&self, line: u64, column: u64) -> (u64, u64) {
        if line <= 1 {
            (self.line, self.column + column.saturating_sub(1))
        } else {
            (self.line + line - 1, column)
        }
    }

    /// "file:line:column", as compilers write it.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.source, self.line, self.column)
    }
}

/// A problem found while reading, with its place in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub source: Arc<str>,
    pub line: u64,
    pub column: u64,
    pub kind: ReadErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadErrorKind {
    /// Malformed JSON.
    Syntax(String),
    /// The input ended inside a value (a truncated file or gzip stream).
    Truncated(String),
    /// Nesting deeper than the limit.
    TooDeep(usize),
    /// An item larger than the limit.
    TooLarge { limit: usize },
    /// A top-level value that is not an object or array.
    NotAnObject,
    /// The file could not be read.
    Io(String),
}

impl ReadErrorKind {
    /// A short stable code for reports and tests.
    pub fn code(&self) -> &'static str {
        match self {
            ReadErrorKind::Syntax(_) => "json-syntax",
            ReadErrorKind::Truncated(_) => "truncated",
            ReadErrorKind::TooDeep(_) => "too-deep",
            ReadErrorKind::TooLarge { .. } => "too-large",
            ReadErrorKind::NotAnObject => "not-an-object",
            ReadErrorKind::Io(_) => "io",
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.source, self.line, self.column)?;
        match &self.kind {
            ReadErrorKind::Syntax(m) => write!(f, "invalid JSON: {m}"),
            ReadErrorKind::Truncated(m) => write!(f, "input ends early: {m}"),
            ReadErrorKind::TooDeep(limit) => write!(
                f,
                "JSON nested deeper than {limit} levels; the value was skipped (no OCDS data is this deep)"
            ),
            ReadErrorKind::TooLarge { limit } => write!(
                f,
                "item larger than {} MiB; it was skipped (raise the limit with --max-item-size)",
                limit / (1024 * 1024)
            ),
            ReadErrorKind::NotAnObject => write!(
                f,
                "expected a release, a package or an array of them; found another JSON value, skipped to the next line"
            ),
            ReadErrorKind::Io(m) => write!(f, "could not read: {m}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// What the reader hands to its caller.
#[derive(Debug)]
pub enum Event {
    Item(Item),
    Error(ReadError),
    /// A package's own fields (everything but its `releases`/`records`), once it ends.
    Package(PackageMeta),
}

/// The metadata of a release or record package, as raw JSON of an object.
#[derive(Debug, Clone)]
pub struct PackageMeta {
    pub source: Arc<str>,
    pub line: u64,
    pub column: u64,
    /// `Release` for a release package, `Record` for a record package.
    pub kind: ItemKind,
    pub raw: Vec<u8>,
}

/// Open a file (or `-` for standard input) for [`read`], unwrapping gzip if present.
pub fn open(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    if path.as_os_str() == "-" {
        Ok(Box::new(io::stdin()))
    } else {
        Ok(Box::new(std::fs::File::open(path)?))
    }
}

/// Read one source, calling `sink` for every item and every error, in order.
///
/// Errors inside one item do not stop the reader: it goes on with the next
/// item where it can find one. Only a truncated or unreadable stream ends it.
/// How a read ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The input ended between top-level values (not inside one, not on an I/O error).
    pub clean: bool,
    /// Newlines read.
    pub lines: u64,
    /// Items seen (including those refused).
    pub items: u64,
}

pub fn read<R: Read>(
    source: Arc<str>,
    input: R,
    limits: Limits,
    sink: &mut dyn FnMut(Event),
) -> Outcome {
    let mut buffered = BufReader::with_capacity(1 << 20, input);
    let is_gzip = match buffered.fill_buf() {
        Ok(head) => head.starts_with(&[0x1f, 0x8b]),
        Err(e) => {
            sink(Event::Error(ReadError {
                source,
                line: 0,
                column: 0,
                kind: ReadErrorKind::Io(e.to_string()),
            }));
            return Outcome::default();
        }
    };
    if is_gzip {
        let decoder = MultiGzDecoder::new(buffered);
        let mut scanner = Scanner::new(source, decoder, limits);
        scanner.gzip = true;
        scanner.run(sink)
    } else {
        let mut scanner = Scanner::new(source, buffered, limits);
        scanner.run(sink)
    }
}

/// Read bytes the caller already holds (a memory-mapped file, say) without
/// copying each item: items come with `offset` set and `raw` empty, and the
/// caller slices its own bytes. Gzip input is decompressed and copied as usual.
pub fn read_mapped(
    source: Arc<str>,
    bytes: &[u8],
    limits: Limits,
    sink: &mut dyn FnMut(Event),
) -> Outcome {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return read(source, bytes, limits, sink);
    }
    let mut scanner = Scanner::new(source, bytes, limits);
    scanner.offsets_only = true;
    scanner.run(sink)
}

/// Read a whole source into a vector of events (for tests and small inputs).
pub fn read_all<R: Read>(source: &str, input: R, limits: Limits) -> Vec<Event> {
    let mut events = Vec::new();
    read(Arc::from(source), input, limits, &mut |e| events.push(e));
    events
}

/// Signals that end a scan early.
enum Stop {
    /// End of input where a value was still open.
    Eof,
    /// The stream failed.
    Io(String),
}

struct Scanner<R: Read> {
    source: Arc<str>,
    /// Emit items without their bytes (see [`read_mapped`]).
    offsets_only: bool,
    /// Reused buffer for the item being read.
    scratch: Vec<u8>,
    input: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
    line: u64,
    /// Byte offset (within the stream) where the current line starts.
    line_start: u64,
    consumed: u64,
    limits: Limits,
    index: u64,
    /// The bytes come out of a gzip decoder: a read failure means the stream is damaged.
    gzip: bool,
}

#[derive(Default)]
struct ValueScan {
    too_deep: bool,
    too_large: bool,
    ocid: Option<String>,
}

impl<R: Read> Scanner<R> {
    fn new(source: Arc<str>, input: R, limits: Limits) -> Self {
        Scanner {
            source,
            offsets_only: false,
            scratch: Vec::with_capacity(1 << 16),
            input,
            buf: vec![0; 1 << 20],
            pos: 0,
            end: 0,
            eof: false,
            line: 1,
            line_start: 0,
            consumed: 0,
            limits,
            index: 0,
            gzip: false,
        }
    }

    fn column(&self) -> u64 {
        self.consumed + self.pos as u64 - self.line_start + 1
    }

    fn error(&self, line: u64, column: u64, kind: ReadErrorKind) -> ReadError {
        ReadError {
            source: self.source.clone(),
            line,
            column,
            kind,
        }
    }

    /// Make sure at least one byte is buffered; false at end of input.
    fn fill(&mut self) -> Result<bool, Stop> {
        if self.pos < self.end {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        self.consumed += self.end as u64;
        self.pos = 0;
        self.end = 0;
        loop {
            match self.input.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end = n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Stop::Io(e.to_string())),
            }
        }
    }

    fn peek(&mut self) -> Result<Option<u8>, Stop> {
        if self.fill()? {
            Ok(Some(self.buf[self.pos]))
        } else {
            Ok(None)
        }
    }

    fn bump(&mut self) {
        if self.buf[self.pos] == b'\n' {
            self.line += 1;
            self.line_start = self.consumed + self.pos as u64 + 1;
        }
        self.pos += 1;
    }

    /// Skip whitespace; return the next byte without consuming it.
    fn skip_ws(&mut self) -> Result<Option<u8>, Stop> {
        while let Some(b) = self.peek()? {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' | 0x1e => self.bump(),
                _ => return Ok(Some(b)),
            }
        }
        Ok(None)
    }

    /// [`Self::skip_ws`] inside an item: the whitespace is kept in `out`, so that the
    /// item's bytes stay those of the source and parse errors keep their line and
    /// column. Past the item limit nothing more is kept (the item is then dropped).
    fn skip_ws_into(&mut self, out: &mut Vec<u8>) -> Result<Option<u8>, Stop> {
        let max = self.limits.max_item_bytes;
        while let Some(b) = self.peek()? {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' | 0x1e => {
                    if out.len() <= max {
                        // A record separator is not JSON whitespace; a space keeps the columns.
                        out.push(if b == 0x1e { b' ' } else { b });
                    }
                    self.bump();
                }
                _ => return Ok(Some(b)),
            }
        }
        Ok(None)
    }

    /// The next byte in an array (after whitespace), with stray `}` stepped over
    /// and comma mistakes reported: the caller sees only values, `,` and `]`.
    fn next_in_array(
        &mut self,
        commas: &mut Separators,
        sink: &mut dyn FnMut(Event),
    ) -> Result<Option<u8>, Stop> {
        loop {
            let next = self.skip_ws()?;
            if next == Some(b'}') {
                // Not a value: step over it, or the scan would stop here for ever.
                sink(Event::Error(
                    self.syntax_error("unexpected '}' in an array"),
                ));
                self.bump();
                continue;
            }
            if let Some(message) = next.and_then(|b| commas.check(b, b']')) {
                sink(Event::Error(self.syntax_error(message)));
            }
            return Ok(next);
        }
    }

    fn syntax_error(&self, message: &str) -> ReadError {
        self.error(
            self.line,
            self.column(),
            ReadErrorKind::Syntax(message.to_owned()),
        )
    }

    fn skip_bom(&mut self) -> Result<(), Stop> {
        // A BOM can straddle reads only if the first read returned < 3 bytes;
        // fill until we have 3 bytes or end of input.
        if !self.fill()? {
            return Ok(());
        }
        while self.end - self.pos < 3 && !self.eof {
            let have = self.end - self.pos;
            self.buf.copy_within(self.pos..self.end, 0);
            self.consumed += self.pos as u64;
            self.pos = 0;
            self.end = have;
            match self.input.read(&mut self.buf[have..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Stop::Io(e.to_string())),
            }
        }
        if self.buf[self.pos..self.end].starts_with(&[0xEF, 0xBB, 0xBF]) {
            self.pos += 3;
            // The BOM is not a column.
            self.line_start += 3;
        }
        Ok(())
    }

    /// Skip to just after the next newline (recovery after garbage at top level).
    fn skip_line(&mut self) -> Result<(), Stop> {
        while self.fill()? {
            let slice = &self.buf[self.pos..self.end];
            if let Some(i) = memchr::memchr(b'\n', slice) {
                self.pos += i;
                self.bump();
                return Ok(());
            }
            self.pos = self.end;
        }
        Ok(())
    }

    fn run(&mut self, sink: &mut dyn FnMut(Event)) -> Outcome {
        let result = self.skip_bom().and_then(|()| self.top_level(sink));
        let outcome = Outcome {
            clean: result.is_ok(),
            lines: self.line - 1,
            items: self.index,
        };
        match result {
            Ok(()) => {}
            Err(Stop::Eof) => {
                let (line, column) = (self.line, self.column());
                sink(Event::Error(self.error(
                    line,
                    column,
                    ReadErrorKind::Truncated(
                        "a value was still open at the end of the input (truncated file?)".into(),
                    ),
                )))
            }
            Err(Stop::Io(message)) => {
                let (line, column) = (self.line, self.column());
                // flate2's wording varies ("incomplete deflate stream", "corrupt deflate
                // stream", "invalid gzip header", an unexpected end of file in the trailer…).
                let message = if self.gzip {
                    format!("gzip stream is damaged or truncated: {message}")
                } else {
                    message
                };
                sink(Event::Error(self.error(
                    line,
                    column,
                    ReadErrorKind::Io(message),
                )))
            }
        }
        outcome
    }

    fn top_level(&mut self, sink: &mut dyn FnMut(Event)) -> Result<(), Stop> {
        loop {
            let Some(b) = self.skip_ws()? else {
                return Ok(());
            };
            match b {
                b'{' => self.document(sink)?,
                b'[' => {
                    self.bump();
                    let mut commas = Separators::default();
                    loop {
                        let next = self.next_in_array(&mut commas, sink)?;
                        match next {
                            None => return Err(Stop::Eof),
                            Some(b']') => {
                                self.bump();
                                break;
                            }
                            Some(b',') => self.bump(),
                            Some(b'{') => self.document(sink)?,
                            Some(_) => {
                                let (line, column) = (self.line, self.column());
                                let s = self.scan_value(None)?;
                                let kind = if s.too_deep {
                                    ReadErrorKind::TooDeep(self.limits.max_depth)
                                } else {
                                    ReadErrorKind::NotAnObject
                                };
                                sink(Event::Error(self.error(line, column, kind)));
                            }
                        }
                    }
                }
                _ => {
                    let (line, column) = (self.line, self.column());
                    sink(Event::Error(self.error(
                        line,
                        column,
                        ReadErrorKind::NotAnObject,
                    )));
                    self.skip_line()?;
                }
            }
        }
    }

    /// A top-level object: a package (whose array is streamed) or a release.
    fn document(&mut self, sink: &mut dyn FnMut(Event)) -> Result<(), Stop> {
        let (line, column) = (self.line, self.column());
        let max = self.limits.max_item_bytes;
        let mut raw = std::mem::take(&mut self.scratch);
        raw.clear();
        let mut package: Option<PackageInfo> = None;
        let mut package_kind: Option<ItemKind> = None;
        let mut meta = PackageInfo::default();
        let mut scan = ValueScan::default();
        let mut depth_error = false;
        // The bytes are kept as they are in the source, whitespace and commas included: the
        // parser then judges the real text, and its error positions map back to the source.
        // Misplaced commas at this level are the parser's to report for a release; for a
        // package (whose own fields are never parsed as an item) they are reported here, so
        // they wait until the document shows which it is.
        let mut commas = Separators::default();
        let mut comma_errors: Vec<ReadError> = Vec::new();
        // Where the comma before the current member sits in `raw`, and whether to leave out
        // the next comma: both to cut a package's array out of its metadata cleanly.
        let mut member_comma: Option<usize> = None;
        let mut drop_comma = false;
        // '{'
        raw.push(b'{');
        self.bump();
        loop {
            let Some(b) = self.skip_ws_into(&mut raw)? else {
                return Err(Stop::Eof);
            };
            if let Some(message) = commas.check(b, b'}') {
                let e = self.syntax_error(message);
                if package_kind.is_some() {
                    sink(Event::Error(e));
                } else {
                    comma_errors.push(e);
                }
            }
            match b {
                b'}' => {
                    self.bump();
                    raw.push(b'}');
                    break;
                }
                b',' => {
                    self.bump();
                    if drop_comma {
                        drop_comma = false;
                    } else {
                        member_comma = Some(raw.len());
                        raw.push(b',');
                    }
                    continue;
                }
                b'"' => {}
                _ => {
                    // Malformed object: hand what we have to the parser, which names the error.
                    let (l, c) = (self.line, self.column());
                    sink(Event::Error(self.error(
                        l,
                        c,
                        ReadErrorKind::Syntax(format!(
                            "expected a key string in an object, found {:?}",
                            b as char
                        )),
                    )));
                    self.skip_line()?;
                    return Ok(());
                }
            }
            let comma = member_comma.take();
            let key_start = raw.len();
            let key = if self.scan_string(&mut raw, max.saturating_add(1))? {
                raw[key_start + 1..raw.len() - 1].to_vec()
            } else {
                // A key longer than the item limit: the item is dropped.
                scan.too_large = true;
                Vec::new()
            };
            if self.skip_ws_into(&mut raw)? != Some(b':') {
                let (l, c) = (self.line, self.column());
                sink(Event::Error(self.error(
                    l,
                    c,
                    ReadErrorKind::Syntax("expected ':' after an object key".into()),
                )));
                self.skip_line()?;
                return Ok(());
            }
            self.bump();
            raw.push(b':');
            let next = self.skip_ws_into(&mut raw)?;
            let is_container = (key == b"releases" || key == b"records") && next == Some(b'[');
            if is_container {
                // A package: stream its array. What was buffered so far is package metadata;
                // the array and one comma next to it are left out of it.
                match comma {
                    Some(at) => raw.truncate(at),
                    None => {
                        raw.truncate(key_start);
                        drop_comma = true;
                    }
                }
                for e in comma_errors.drain(..) {
                    sink(Event::Error(e));
                }
                let info = Arc::new(PackageInfo {
                    version: meta.version.clone(),
                    uri: meta.uri.clone(),
                });
                package = Some((*info).clone());
                let kind = if key == b"records" {
                    ItemKind::Record
                } else {
                    ItemKind::Release
                };
                package_kind = Some(kind);
                self.bump(); // '['
                let mut item_commas = Separators::default();
                loop {
                    let next = self.next_in_array(&mut item_commas, sink)?;
                    match next {
                        None => return Err(Stop::Eof),
                        Some(b']') => {
                            self.bump();
                            break;
                        }
                        Some(b',') => self.bump(),
                        Some(_) => {
                            let (l, c) = (self.line, self.column());
                            let mut item_raw = std::mem::take(&mut self.scratch);
                            item_raw.clear();
                            let s = self.scan_value(Some(&mut item_raw))?;
                            self.emit(sink, kind, l, c, Some(info.clone()), s, item_raw);
                        }
                    }
                }
                continue;
            }
            let value_at = raw.len();
            let s = self.scan_value(Some(&mut raw))?;
            depth_error |= s.too_deep;
            if s.too_large {
                scan.too_large = true;
            }
            if key == b"ocid" {
                scan.ocid = string_value(&raw[value_at..]);
            } else if key == b"version" {
                meta.version = string_value(&raw[value_at..]);
            } else if key == b"uri" {
                meta.uri = string_value(&raw[value_at..]);
            }
            if raw.len() > max {
                scan.too_large = true;
                raw.clear();
                raw.push(b'{');
                member_comma = None;
                drop_comma = true;
            }
        }
        if raw.len() > max {
            // Whitespace alone can pass the limit.
            scan.too_large = true;
        }
        if let Some(kind) = package_kind {
            sink(Event::Package(PackageMeta {
                source: self.source.clone(),
                line,
                column,
                kind,
                raw: std::mem::take(&mut raw),
            }));
        }
        if package.is_some() {
            // Package metadata is not an item. A version that came after the array
            // could not be applied to the items already read; they fall back to
            // per-release detection (see `upgrade::release_version`).
            if depth_error {
                sink(Event::Error(self.error(
                    line,
                    column,
                    ReadErrorKind::TooDeep(self.limits.max_depth),
                )));
            }
            return Ok(());
        }
        scan.too_deep = depth_error;
        self.emit(sink, ItemKind::Release, line, column, None, scan, raw);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        sink: &mut dyn FnMut(Event),
        kind: ItemKind,
        line: u64,
        column: u64,
        package: Option<Arc<PackageInfo>>,
        scan: ValueScan,
        raw: Vec<u8>,
    ) {
        let index = self.index;
        self.index += 1;
        if scan.too_deep {
            sink(Event::Error(self.error(
                line,
                column,
                ReadErrorKind::TooDeep(self.limits.max_depth),
            )));
            return;
        }
        if scan.too_large {
            sink(Event::Error(self.error(
                line,
                column,
                ReadErrorKind::TooLarge {
                    limit: self.limits.max_item_bytes,
                },
            )));
            return;
        }
        // The item's bytes end here, and are exactly the source's bytes.
        let offset = (self.consumed + self.pos as u64).saturating_sub(raw.len() as u64);
        let raw_exact = if self.offsets_only {
            Vec::new()
        } else {
            raw.as_slice().to_vec()
        };
        self.scratch = raw;
        sink(Event::Item(Item {
            kind,
            source: self.source.clone(),
            line,
            column,
            index,
            package,
            ocid: scan.ocid,
            offset,
            len: self.scratch.len() as u64,
            // An exact-size copy: the scratch buffer keeps its capacity for the next
            // item, and the item costs no growth or shrink reallocations.
            raw: raw_exact,
        }));
    }

    /// Consume one string (the opening quote is next), appending it to `out` while
    /// `out` is shorter than `cap`. True if the whole string was kept.
    fn scan_string(&mut self, out: &mut Vec<u8>, cap: usize) -> Result<bool, Stop> {
        fn keep(out: &mut Vec<u8>, bytes: &[u8], cap: usize) -> bool {
            let room = cap.saturating_sub(out.len());
            let n = bytes.len().min(room);
            out.extend_from_slice(&bytes[..n]);
            n == bytes.len()
        }
        let mut kept = keep(out, b"\"", cap);
        self.bump();
        loop {
            if !self.fill()? {
                return Err(Stop::Eof);
            }
            let slice = &self.buf[self.pos..self.end];
            match memchr::memchr3(b'"', b'\\', b'\n', slice) {
                None => {
                    kept &= keep(out, slice, cap);
                    self.pos = self.end;
                }
                Some(i) => {
                    kept &= keep(out, &slice[..=i], cap);
                    self.pos += i;
                    let b = self.buf[self.pos];
                    self.bump();
                    match b {
                        b'"' => return Ok(kept),
                        b'\\' => {
                            if !self.fill()? {
                                return Err(Stop::Eof);
                            }
                            kept &= keep(out, &self.buf[self.pos..=self.pos], cap);
                            self.bump();
                        }
                        // A raw newline inside a string is invalid JSON; keep it, the parser reports it.
                        _ => {}
                    }
                }
            }
        }
    }

    /// Consume one complete JSON value, appending its bytes to `out` when given.
    ///
    /// Tracks nesting with a counter, not recursion, so any depth is safe here;
    /// values deeper than the limit, or larger than the item limit, are consumed
    /// to their end but not kept. This is the reader's hot loop: it classifies
    /// bytes with a table, lets memchr find string ends, and copies whole
    /// buffer chunks at once.
    fn scan_value(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<ValueScan, Stop> {
        let mut scan = ValueScan::default();
        let start_len = out.as_ref().map_or(0, |o| o.len());
        let max_bytes = self.limits.max_item_bytes;
        let max_depth = self.limits.max_depth;
        let mut depth: usize = 0;
        let mut in_string = false;
        let mut escape = false;
        // Capture a top-level `"ocid": "…"` on the way, so callers can group items without parsing them.
        let mut top_is_object = false;
        let mut key_next = false;
        let mut ocid_key = false;
        let mut ocid_value_next = false;
        // Item coordinates: bytes of this value consumed so far, and where the current string began.
        let mut consumed: usize = 0;
        let mut string_start: usize = 0;
        loop {
            if !self.fill()? {
                if depth == 0 && !in_string && consumed > 0 {
                    // A scalar at the very end of input is complete.
                    return Ok(scan);
                }
                return Err(Stop::Eof);
            }
            let abs_base = self.consumed + self.pos as u64;
            let buf = &self.buf[self.pos..self.end];
            let chunk_base = consumed;
            let mut lines = 0u64;
            let mut last_line_start = 0u64;
            let mut i = 0usize;
            let mut done = false;
            if escape {
                escape = false;
                if buf[0] == b'\n' {
                    lines += 1;
                    last_line_start = abs_base + 1;
                }
                i = 1;
            }
            while i < buf.len() {
                if in_string {
                    match memchr::memchr3(b'"', b'\\', b'\n', &buf[i..]) {
                        None => {
                            i = buf.len();
                        }
                        Some(k) => {
                            i += k;
                            match buf[i] {
                                b'"' => {
                                    in_string = false;
                                    i += 1;
                                    if depth == 0 {
                                        done = true;
                                        break;
                                    }
                                    if depth == 1 && top_is_object && (key_next || ocid_value_next)
                                    {
                                        let token: Option<std::borrow::Cow<[u8]>> = if string_start
                                            >= chunk_base
                                        {
                                            Some(std::borrow::Cow::Borrowed(
                                                &buf[string_start - chunk_base..i],
                                            ))
                                        } else {
                                            out.as_deref().map(|o| {
                                                let mut t = o[start_len + string_start..].to_vec();
                                                t.extend_from_slice(&buf[..i]);
                                                std::borrow::Cow::Owned(t)
                                            })
                                        };
                                        if key_next {
                                            ocid_key = token.as_deref() == Some(b"\"ocid\"");
                                            key_next = false;
                                        } else {
                                            scan.ocid = token.as_deref().and_then(string_value);
                                            ocid_value_next = false;
                                        }
                                    }
                                }
                                b'\\' => {
                                    if i + 1 < buf.len() {
                                        if buf[i + 1] == b'\n' {
                                            lines += 1;
                                            last_line_start = abs_base + i as u64 + 2;
                                        }
                                        i += 2;
                                    } else {
                                        escape = true;
                                        i += 1;
                                    }
                                }
                                _ => {
                                    // A raw newline in a string is invalid JSON; the parser reports it.
                                    lines += 1;
                                    last_line_start = abs_base + i as u64 + 1;
                                    i += 1;
                                }
                            }
                        }
                    }
                    continue;
                }
                let c = buf[i];
                match CLASS[c as usize] {
                    PLAIN => {
                        i += 1;
                        while i < buf.len() && CLASS[buf[i] as usize] == PLAIN {
                            i += 1;
                        }
                    }
                    QUOTE => {
                        in_string = true;
                        string_start = chunk_base + i;
                        i += 1;
                    }
                    OPEN => {
                        depth += 1;
                        if depth == 1 {
                            top_is_object = c == b'{';
                            key_next = top_is_object;
                        } else {
                            ocid_value_next = false;
                        }
                        if depth > max_depth && !scan.too_deep {
                            scan.too_deep = true;
                            if let Some(o) = out.as_deref_mut() {
                                o.truncate(start_len);
                            }
                            out = None;
                        }
                        i += 1;
                    }
                    CLOSE => {
                        if depth == 0 {
                            // Belongs to the container: leave it.
                            done = true;
                            break;
                        }
                        depth -= 1;
                        i += 1;
                        if depth == 0 {
                            done = true;
                            break;
                        }
                    }
                    COMMA => {
                        if depth == 0 {
                            done = true;
                            break;
                        }
                        if depth == 1 && top_is_object {
                            key_next = true;
                            ocid_value_next = false;
                        }
                        i += 1;
                    }
                    COLON => {
                        if depth == 1 && top_is_object {
                            ocid_value_next = ocid_key;
                            ocid_key = false;
                        }
                        i += 1;
                    }
                    NEWLINE => {
                        if depth == 0 {
                            done = true;
                            break;
                        }
                        lines += 1;
                        last_line_start = abs_base + i as u64 + 1;
                        i += 1;
                    }
                    _ => {
                        // Other whitespace.
                        if depth == 0 {
                            done = true;
                            break;
                        }
                        i += 1;
                    }
                }
            }
            if let Some(o) = out.as_deref_mut() {
                o.extend_from_slice(&buf[..i]);
                if o.len() - start_len > max_bytes {
                    scan.too_large = true;
                    o.truncate(start_len);
                    out = None;
                }
            }
            consumed += i;
            if lines > 0 {
                self.line += lines;
                self.line_start = last_line_start;
            }
            self.pos += i;
            if done {
                return Ok(scan);
            }
        }
    }
}

const PLAIN: u8 = 0;
const QUOTE: u8 = 1;
const OPEN: u8 = 2;
const CLOSE: u8 = 3;
const COMMA: u8 = 4;
const COLON: u8 = 5;
const NEWLINE: u8 = 6;
const SPACE: u8 = 7;

/// Byte classes for the scanner's hot loop.
static CLASS: [u8; 256] = {
    let mut t = [PLAIN; 256];
    t[b'"' as usize] = QUOTE;
    t[b'{' as usize] = OPEN;
    t[b'[' as usize] = OPEN;
    t[b'}' as usize] = CLOSE;
    t[b']' as usize] = CLOSE;
    t[b',' as usize] = COMMA;
    t[b':' as usize] = COLON;
    t[b'\n' as usize] = NEWLINE;
    t[b' ' as usize] = SPACE;
    t[b'\t' as usize] = SPACE;
    t[b'\r' as usize] = SPACE;
    t
};

/// Checks the commas between the members of an object or the elements of an
/// array that the scanner walks itself (their contents are judged by the parser).
#[derive(Default)]
struct Separators {
    after_value: bool,
    after_comma: bool,
}

impl Separators {
    /// Look at the next byte (`close` ends the container): a message if it is out of place.
    fn check(&mut self, b: u8, close: u8) -> Option<&'static str> {
        if b == close {
            return self.after_comma.then_some("trailing comma");
        }
        if b == b',' {
            let misplaced = !self.after_value;
            self.after_value = false;
            self.after_comma = true;
            return misplaced.then_some("unexpected ','");
        }
        let missing = self.after_value;
        self.after_value = true;
        self.after_comma = false;
        missing.then_some("missing ',' before this value")
    }
}

/// The value of a raw JSON string token, or None if it is not a string.
fn string_value(raw: &[u8]) -> Option<String> {
    let raw = raw.trim_ascii();
    if raw.first() != Some(&b'"') {
        return None;
    }
    if !raw.contains(&b'\\') && raw.len() >= 2 {
        return std::str::from_utf8(&raw[1..raw.len() - 1])
            .ok()
            .map(str::to_owned);
    }
    serde_json::from_slice(raw).ok()
}

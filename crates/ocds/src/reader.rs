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
    pub raw: Vec<u8>,
}

impl Item {
    /// Parse the item, translating the parser's position into the source's.
    pub fn parse(&self) -> Result<serde_json::Value, ReadError> {
        serde_json::from_slice(&self.raw).map_err(|e| self.parse_error(&e))
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
pub fn read<R: Read>(source: Arc<str>, input: R, limits: Limits, sink: &mut dyn FnMut(Event)) {
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
            return;
        }
    };
    if is_gzip {
        let decoder = MultiGzDecoder::new(buffered);
        let mut scanner = Scanner::new(source, decoder, limits);
        scanner.run(sink);
    } else {
        let mut scanner = Scanner::new(source, buffered, limits);
        scanner.run(sink);
    }
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

    fn run(&mut self, sink: &mut dyn FnMut(Event)) {
        let result = self.skip_bom().and_then(|()| self.top_level(sink));
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
                let message = if message.contains("corrupt deflate")
                    || message.contains("invalid gzip")
                    || message.contains("unexpected end of file")
                {
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
                    loop {
                        match self.skip_ws()? {
                            None => return Err(Stop::Eof),
                            Some(b']') => {
                                self.bump();
                                break;
                            }
                            Some(b',') => self.bump(),
                            Some(b'{') => self.document(sink)?,
                            Some(_) => {
                                let (line, column) = (self.line, self.column());
                                self.scan_value(None)?;
                                sink(Event::Error(self.error(
                                    line,
                                    column,
                                    ReadErrorKind::NotAnObject,
                                )));
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
        let mut raw = Vec::with_capacity(4096);
        let mut package: Option<PackageInfo> = None;
        let mut package_kind: Option<ItemKind> = None;
        let mut meta = PackageInfo::default();
        let mut scan = ValueScan::default();
        let mut depth_error = false;
        // '{'
        raw.push(b'{');
        self.bump();
        let mut first = true;
        loop {
            let Some(b) = self.skip_ws()? else {
                return Err(Stop::Eof);
            };
            match b {
                b'}' => {
                    self.bump();
                    raw.push(b'}');
                    break;
                }
                b',' => {
                    self.bump();
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
            let key_start = raw.len();
            if !first {
                raw.push(b',');
            }
            first = false;
            let key_at = raw.len();
            self.scan_string(&mut raw)?;
            let key = raw[key_at + 1..raw.len() - 1].to_vec();
            if self.skip_ws()? != Some(b':') {
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
            let next = self.skip_ws()?;
            let is_container = (key == b"releases" || key == b"records") && next == Some(b'[');
            if is_container {
                // A package: stream its array. What was buffered so far is package metadata.
                raw.truncate(key_start);
                first = raw.len() <= 1;
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
                loop {
                    match self.skip_ws()? {
                        None => return Err(Stop::Eof),
                        Some(b']') => {
                            self.bump();
                            break;
                        }
                        Some(b',') => self.bump(),
                        Some(_) => {
                            let (l, c) = (self.line, self.column());
                            let mut item_raw = Vec::with_capacity(4096);
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
            if raw.len() > self.limits.max_item_bytes {
                scan.too_large = true;
                raw.clear();
                raw.push(b'{');
                first = true;
            }
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
        sink(Event::Item(Item {
            kind,
            source: self.source.clone(),
            line,
            column,
            index,
            package,
            ocid: scan.ocid,
            raw,
        }));
    }

    /// Consume one string (the opening quote is next), appending it to `out`.
    fn scan_string(&mut self, out: &mut Vec<u8>) -> Result<(), Stop> {
        out.push(b'"');
        self.bump();
        loop {
            if !self.fill()? {
                return Err(Stop::Eof);
            }
            let slice = &self.buf[self.pos..self.end];
            match memchr::memchr3(b'"', b'\\', b'\n', slice) {
                None => {
                    out.extend_from_slice(slice);
                    self.pos = self.end;
                }
                Some(i) => {
                    out.extend_from_slice(&slice[..i]);
                    self.pos += i;
                    let b = self.buf[self.pos];
                    out.push(b);
                    self.bump();
                    match b {
                        b'"' => return Ok(()),
                        b'\\' => {
                            if !self.fill()? {
                                return Err(Stop::Eof);
                            }
                            out.push(self.buf[self.pos]);
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
    /// to their end but not kept.
    fn scan_value(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<ValueScan, Stop> {
        let mut scan = ValueScan::default();
        let mut depth: usize = 0;
        let start_len = out.as_ref().map_or(0, |o| o.len());
        let max_bytes = self.limits.max_item_bytes;
        // A scratch buffer for strings when we are not keeping the value.
        let mut sink_buf = Vec::new();
        // Capture a top-level `"ocid": "…"` on the way, so callers can group items without parsing them.
        let mut top_is_object = false;
        let mut key_next = false;
        let mut ocid_key = false;
        let mut ocid_value_next = false;
        loop {
            if !self.fill()? {
                if depth == 0 {
                    // A scalar at the very end of input is complete.
                    return Ok(scan);
                }
                return Err(Stop::Eof);
            }
            let b = self.buf[self.pos];
            match b {
                b'"' => {
                    let at = out.as_ref().map_or(0, |o| o.len());
                    match out.as_deref_mut() {
                        Some(o) => self.scan_string(o)?,
                        None => {
                            sink_buf.clear();
                            self.scan_string(&mut sink_buf)?;
                        }
                    }
                    if depth == 0 {
                        return Ok(scan);
                    }
                    if depth == 1 && top_is_object {
                        let token = match out.as_deref() {
                            Some(o) => &o[at..],
                            None => &sink_buf[..],
                        };
                        if key_next {
                            ocid_key = token == b"\"ocid\"";
                            key_next = false;
                        } else if ocid_value_next {
                            scan.ocid = string_value(token);
                            ocid_value_next = false;
                        }
                    }
                }
                b':' if depth == 1 && top_is_object => {
                    ocid_value_next = ocid_key;
                    ocid_key = false;
                    if let Some(o) = out.as_deref_mut() {
                        o.push(b);
                    }
                    self.bump();
                }
                b',' if depth == 1 && top_is_object => {
                    key_next = true;
                    ocid_value_next = false;
                    if let Some(o) = out.as_deref_mut() {
                        o.push(b);
                    }
                    self.bump();
                }
                b'{' | b'[' => {
                    depth += 1;
                    if depth == 1 {
                        top_is_object = b == b'{';
                        key_next = top_is_object;
                    } else {
                        ocid_value_next = false;
                    }
                    if depth > self.limits.max_depth && !scan.too_deep {
                        scan.too_deep = true;
                        if let Some(o) = out.as_deref_mut() {
                            o.truncate(start_len);
                        }
                        out = None;
                    }
                    if let Some(o) = out.as_deref_mut() {
                        o.push(b);
                    }
                    self.bump();
                }
                b'}' | b']' => {
                    if depth == 0 {
                        // Belongs to the container: leave it.
                        return Ok(scan);
                    }
                    depth -= 1;
                    if let Some(o) = out.as_deref_mut() {
                        o.push(b);
                    }
                    self.bump();
                    if depth == 0 {
                        return Ok(scan);
                    }
                }
                b',' if depth == 0 => return Ok(scan),
                b' ' | b'\t' | b'\r' | b'\n' if depth == 0 => return Ok(scan),
                _ => {
                    // Copy a run of plain bytes up to the next structural byte.
                    // The first byte is always taken, so the scan makes progress on any input.
                    let slice = &self.buf[self.pos..self.end];
                    let mut n = 1;
                    let mut newlines = 0u64;
                    let mut last_nl = 0usize;
                    if slice[0] == b'\n' {
                        newlines = 1;
                    }
                    for (i, &c) in slice.iter().enumerate().skip(1) {
                        match c {
                            b'"' | b'{' | b'[' | b'}' | b']' => break,
                            b',' | b' ' | b'\t' | b'\r' if depth == 0 => break,
                            b',' | b':' if depth == 1 => break,
                            b'\n' => {
                                if depth == 0 {
                                    break;
                                }
                                newlines += 1;
                                last_nl = i;
                            }
                            _ => {}
                        }
                        n = i + 1;
                    }
                    if let Some(o) = out.as_deref_mut() {
                        o.extend_from_slice(&slice[..n]);
                    }
                    if newlines > 0 {
                        self.line += newlines;
                        self.line_start = self.consumed + (self.pos + last_nl) as u64 + 1;
                    }
                    self.pos += n;
                }
            }
            if let Some(o) = out.as_deref_mut() {
                if o.len() - start_len > max_bytes {
                    scan.too_large = true;
                    o.truncate(start_len);
                    out = None;
                }
            }
        }
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

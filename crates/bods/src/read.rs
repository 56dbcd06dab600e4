//! Streaming reader for BODS statements.
//!
//! A BODS file is a JSON array of statements (often very large) or JSON Lines
//! (one statement a line), either possibly gzipped. The reader never parses the
//! whole file: it scans bytes once, tracking only strings and nesting depth,
//! cuts out one statement at a time and parses just that. A statement that is
//! not valid JSON, or is too large or too deep, becomes an error item with its
//! line, and reading goes on with the next one.
//!
//! Why hand-written: serde_json's `StreamDeserializer` hands back whole
//! top-level values only (so a top-level array would be loaded in one piece),
//! and it cannot resume after a syntax error.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use serde_json::Value;

/// Bounds that keep a hostile or broken input from exhausting memory or stack.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest single statement kept, in bytes.
    pub max_statement_bytes: usize,
    /// Deepest nesting accepted inside one statement. Kept below serde_json's
    /// own recursion limit (128), so that our message, not its, is reported.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // The largest real statements (entities with many identifiers and
            // addresses) are a few kilobytes.
            max_statement_bytes: 16 * 1024 * 1024,
            max_depth: 64,
        }
    }
}

/// Where a statement came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The file name, or `-` for standard input.
    pub source: Arc<str>,
    /// 1-based line where the statement starts.
    pub line: u64,
    /// 0-based position among the items of the source (errors count too, so
    /// that the index is the element's position in the array).
    pub index: u64,
}

impl Place {
    /// A place for statements held in memory (no file, no line).
    pub fn in_memory(index: u64) -> Place {
        Place {
            source: Arc::from("-"),
            line: 0,
            index,
        }
    }
}

/// Why an item could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("invalid JSON: {0}")]
    Syntax(String),
    #[error("statement larger than {limit} bytes; skipped")]
    TooLarge { limit: usize },
    #[error("JSON nested deeper than {limit} levels; skipped (no BODS statement is this deep)")]
    TooDeep { limit: usize },
    #[error("the input ends inside a statement (truncated file?)")]
    Truncated,
    #[error("could not read: {0}")]
    Io(String),
}

impl ReadError {
    /// A short stable code for reports and tests.
    pub fn code(&self) -> &'static str {
        match self {
            ReadError::Syntax(_) => "read.json-syntax",
            ReadError::TooLarge { .. } => "read.too-large",
            ReadError::TooDeep { .. } => "read.too-deep",
            ReadError::Truncated => "read.truncated",
            ReadError::Io(_) => "read.io",
        }
    }
}

/// One statement (parsed, but not yet checked in any way) or the reason it
/// could not be read, with its place.
#[derive(Debug, Clone)]
pub struct Item {
    pub place: Place,
    pub statement: Result<Value, ReadError>,
}

/// Read statements from `input`, gzip or not, as a JSON array or JSON Lines
/// (or concatenated JSON values). `source` names the input in places.
pub fn read<'a, R: Read + 'a>(
    source: &str,
    input: R,
    limits: Limits,
) -> Reader<Box<dyn BufRead + 'a>> {
    let mut buffered = BufReader::with_capacity(1 << 16, input);
    let source: Arc<str> = Arc::from(source);
    let is_gzip = match buffered.fill_buf() {
        Ok(head) => head.starts_with(&[0x1f, 0x8b]),
        Err(e) => {
            let mut reader = Reader::new(
                source,
                Box::new(io::empty()) as Box<dyn BufRead + 'a>,
                limits,
            );
            reader.pending = Some(ReadError::Io(e.to_string()));
            return reader;
        }
    };
    let input: Box<dyn BufRead + 'a> = if is_gzip {
        Box::new(BufReader::with_capacity(
            1 << 16,
            MultiGzDecoder::new(buffered),
        ))
    } else {
        Box::new(buffered)
    };
    Reader::new(source, input, limits)
}

/// Read every item of a source into memory (for tests and small inputs).
pub fn read_all<R: Read>(source: &str, input: R, limits: Limits) -> Vec<Item> {
    read(source, input, limits).collect()
}

/// How the statements were laid out in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Nothing but whitespace.
    Empty,
    /// A JSON array of statements: the standard's serialisation.
    Array,
    /// JSON Lines: one value a line.
    Lines,
    /// A top-level value outside an array spanning several lines: a single
    /// pretty-printed statement or concatenated JSON, neither of which BODS
    /// allows (each is still read, statement by statement).
    Other,
}

/// What the reader is inside of, at the top level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Before the first value: not yet known.
    Start,
    /// Inside a top-level array: each element is a statement.
    Array,
    /// A sequence of top-level values (JSON Lines or concatenated).
    Sequence,
    Done,
}

/// The iterator returned by [`read`].
pub struct Reader<R: BufRead> {
    input: R,
    source: Arc<str>,
    limits: Limits,
    mode: Mode,
    line: u64,
    index: u64,
    /// An error found before any item (reported first, then the reader stops).
    pending: Option<ReadError>,
    scratch: Vec<u8>,
    shape: Shape,
}

/// The result of scanning one value.
struct Scanned {
    too_large: bool,
    too_deep: bool,
    truncated: bool,
}

impl<R: BufRead> Reader<R> {
    fn new(source: Arc<str>, input: R, limits: Limits) -> Self {
        Reader {
            input,
            source,
            limits,
            mode: Mode::Start,
            line: 1,
            index: 0,
            pending: None,
            scratch: Vec::new(),
            shape: Shape::Empty,
        }
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        loop {
            match self.input.fill_buf() {
                Ok(buf) => return Ok(buf.first().copied()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn bump(&mut self, b: u8) {
        if b == b'\n' {
            self.line += 1;
        }
        self.input.consume(1);
    }

    /// Skip whitespace (and a UTF-8 byte-order mark, and the record separator
    /// of RFC 7464 JSON text sequences); the next byte, not consumed.
    fn skip_ws(&mut self) -> io::Result<Option<u8>> {
        while let Some(b) = self.peek()? {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' | 0x1e | 0xef | 0xbb | 0xbf => self.bump(b),
                _ => return Ok(Some(b)),
            }
        }
        Ok(None)
    }

    /// Consume one value into `scratch` (bytes past the size limit are
    /// consumed but not kept). Stops at a `,` or `]` at depth zero (left
    /// unconsumed), after a closing bracket back at depth zero, or at a
    /// newline at depth zero (which ends a scalar in JSON Lines).
    fn scan_value(&mut self) -> io::Result<Scanned> {
        self.scratch.clear();
        let max_bytes = self.limits.max_statement_bytes;
        let mut scanned = Scanned {
            too_large: false,
            too_deep: false,
            truncated: false,
        };
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escape = false;
        // Once the input has shown itself to be JSON Lines, a newline always
        // ends a statement, so that one broken line does not swallow the next.
        let lines_mode = self.mode == Mode::Sequence && self.shape == Shape::Lines;
        loop {
            let buf = loop {
                match self.input.fill_buf() {
                    Ok(buf) => break buf,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            if buf.is_empty() {
                scanned.truncated = depth > 0 || in_string;
                return Ok(scanned);
            }
            let mut i = 0;
            let mut done = false;
            let mut newlines = 0;
            while i < buf.len() {
                let b = buf[i];
                if b == b'\n' && lines_mode {
                    // JSON Lines: a line is a statement, complete or not.
                    done = true;
                    break;
                }
                if in_string {
                    if escape {
                        escape = false;
                    } else if b == b'\\' {
                        escape = true;
                    } else if b == b'"' {
                        in_string = false;
                    }
                    if b == b'\n' {
                        // A raw newline in a string is invalid JSON: the parser says so.
                        newlines += 1;
                    }
                    i += 1;
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => {
                        depth += 1;
                        if depth > self.limits.max_depth {
                            scanned.too_deep = true;
                        }
                    }
                    b'}' | b']' => {
                        if depth == 0 {
                            done = true;
                            break;
                        }
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            done = true;
                            break;
                        }
                    }
                    b',' if depth == 0 => {
                        done = true;
                        break;
                    }
                    b'\n' => {
                        if depth == 0 {
                            done = true;
                            break;
                        }
                        newlines += 1;
                    }
                    _ => {}
                }
                i += 1;
            }
            if !scanned.too_large {
                if self.scratch.len() + i > max_bytes {
                    scanned.too_large = true;
                    self.scratch.clear();
                } else {
                    self.scratch.extend_from_slice(&buf[..i]);
                }
            }
            self.line += newlines;
            self.input.consume(i);
            if done {
                return Ok(scanned);
            }
        }
    }

    /// Read the value that starts here and turn it into an item.
    fn item(&mut self) -> Item {
        let place = Place {
            source: self.source.clone(),
            line: self.line,
            index: self.index,
        };
        self.index += 1;
        let scanned = self.scan_value();
        if self.mode == Mode::Sequence && self.shape != Shape::Other {
            self.shape = if self.line > place.line {
                Shape::Other
            } else {
                Shape::Lines
            };
        }
        let statement = match scanned {
            Err(e) => {
                self.mode = Mode::Done;
                Err(ReadError::Io(e.to_string()))
            }
            Ok(s) if s.too_large => Err(ReadError::TooLarge {
                limit: self.limits.max_statement_bytes,
            }),
            Ok(s) if s.too_deep => Err(ReadError::TooDeep {
                limit: self.limits.max_depth,
            }),
            Ok(s) if s.truncated => {
                self.mode = Mode::Done;
                Err(ReadError::Truncated)
            }
            Ok(_) => serde_json::from_slice(&self.scratch).map_err(|e| {
                let mut message = e.to_string();
                // serde_json counts lines within the statement; the place gives the file's.
                if let Some(cut) = message.rfind(" at line ") {
                    message.truncate(cut);
                }
                ReadError::Syntax(message)
            }),
        };
        if self.scratch.capacity() > 1 << 20 {
            // One huge statement should not pin its buffer for the rest of the file.
            self.scratch = Vec::new();
        }
        Item { place, statement }
    }

    fn error_here(&mut self, error: ReadError) -> Item {
        let place = Place {
            source: self.source.clone(),
            line: self.line,
            index: self.index,
        };
        Item {
            place,
            statement: Err(error),
        }
    }

    fn next_item(&mut self) -> io::Result<Option<Item>> {
        loop {
            let Some(b) = self.skip_ws()? else {
                if self.mode == Mode::Array {
                    self.mode = Mode::Done;
                    return Ok(Some(self.error_here(ReadError::Truncated)));
                }
                self.mode = Mode::Done;
                return Ok(None);
            };
            match self.mode {
                Mode::Done => return Ok(None),
                Mode::Start => {
                    if b == b'[' {
                        self.bump(b);
                        self.mode = Mode::Array;
                        if self.shape == Shape::Empty {
                            self.shape = Shape::Array;
                        }
                    } else {
                        self.mode = Mode::Sequence;
                    }
                }
                Mode::Array => match b {
                    b',' => self.bump(b),
                    b']' => {
                        self.bump(b);
                        // Anything after the array is read as more values (concatenated arrays are rare, but harmless).
                        self.mode = Mode::Start;
                    }
                    _ => return Ok(Some(self.item())),
                },
                Mode::Sequence => match b {
                    b',' | b']' | b'}' => {
                        // Stray separators cannot start a value: report and step over, or the scan would stall.
                        self.bump(b);
                        let message = format!("unexpected '{}' between statements", b as char);
                        return Ok(Some(self.error_here(ReadError::Syntax(message))));
                    }
                    _ => return Ok(Some(self.item())),
                },
            }
        }
    }
}

impl<R: BufRead> Reader<R> {
    /// The layout seen so far (final once the iterator is exhausted).
    pub fn shape(&self) -> Shape {
        self.shape
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if let Some(error) = self.pending.take() {
            self.mode = Mode::Done;
            return Some(self.error_here(error));
        }
        if self.mode == Mode::Done {
            return None;
        }
        match self.next_item() {
            Ok(item) => item,
            Err(e) => {
                self.mode = Mode::Done;
                Some(self.error_here(ReadError::Io(e.to_string())))
            }
        }
    }
}

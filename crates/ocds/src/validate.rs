//! Validation: the OCDS 1.1.5 schema, plus the quality checks that the Data
//! Review Tool (libcoveocds) adds, each finding with its file, line, JSON
//! pointer, rule and value.
//!
//! Why not a general JSON Schema validator: OCDS validation is not plain JSON
//! Schema. `uniqueItems` means "unique `id`s" (and unique `ocid`+`id` across a
//! package), bad codes in closed codelists are reported as codelist findings
//! rather than `enum` failures, `patternProperties` (language variants) are
//! not enforced, and the checks beyond the schema (ocid prefix, deprecated
//! and additional fields, empty values, missing ids) walk the same tree. The
//! release schema uses eleven keywords, so a validator compiled from it is
//! small, and it lets every finding carry the place and the rule in words a
//! publisher can act on.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use regex::Regex;
use serde_json::{Map, Value};

use crate::schema;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The data breaks the standard: the schema, a closed codelist, a conformance rule.
    Error,
    /// Allowed but worth fixing: extra fields, open-codelist values, deprecated or empty fields.
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// The rule a finding breaks. `code()` is stable and used in reports.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The value is not of the type the schema wants (the first type it lists).
    Type(&'static str),
    /// A string is not in the format the schema wants (`date-time`, `uri`, `email`).
    Format(&'static str),
    Required,
    MinLength,
    MinItems,
    /// Two objects in one array share an `id` (or two releases share `ocid`+`id`).
    UniqueIds,
    /// Objects without ids that are identical.
    NonUniqueElements,
    Pattern,
    Enum,
    /// The ocid does not start with a registered-looking prefix (`ocds-` + 6 characters).
    OcidPrefix,
    /// Two releases share `ocid`+`id` but differ in content.
    Conflict,
    ClosedCodelist(&'static str),
    OpenCodelist(&'static str),
    Deprecated,
    AdditionalField,
    EmptyField,
    MissingId,
    /// The item could not be read or parsed.
    Read(&'static str),
}

impl Rule {
    pub fn code(&self) -> String {
        match self {
            Rule::Type(t) => format!("type.{t}"),
            Rule::Format(f) => format!("format.{f}"),
            Rule::Required => "required".into(),
            Rule::MinLength => "minLength".into(),
            Rule::MinItems => "minItems".into(),
            Rule::UniqueIds => "uniqueItems".into(),
            Rule::NonUniqueElements => "uniqueItems.elements".into(),
            Rule::Pattern => "pattern".into(),
            Rule::Enum => "enum".into(),
            Rule::OcidPrefix => "ocid-prefix".into(),
            Rule::Conflict => "conflict".into(),
            Rule::ClosedCodelist(_) => "codelist.closed".into(),
            Rule::OpenCodelist(_) => "codelist.open".into(),
            Rule::Deprecated => "deprecated".into(),
            Rule::AdditionalField => "additional-field".into(),
            Rule::EmptyField => "empty-field".into(),
            Rule::MissingId => "missing-id".into(),
            Rule::Read(code) => format!("read.{code}"),
        }
    }

    /// The name libcoveocds gives this kind of schema error (its `type`), if it has one.
    pub fn libcove_kind(&self) -> Option<&'static str> {
        Some(match self {
            Rule::Type(t) => t,
            Rule::Format(f) => f,
            Rule::Required => "required",
            Rule::MinLength => "minLength",
            Rule::MinItems => "minItems",
            Rule::UniqueIds | Rule::NonUniqueElements => "uniqueItems",
            Rule::Pattern => "pattern",
            Rule::Enum => "enum",
            _ => return None,
        })
    }

    pub fn severity(&self) -> Severity {
        match self {
            Rule::OpenCodelist(_)
            | Rule::Deprecated
            | Rule::AdditionalField
            | Rule::EmptyField
            | Rule::MissingId => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

/// The `item` of a finding about a package's own fields.
pub const PACKAGE: u64 = u64::MAX;

/// One thing found in the data, with its place.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: Rule,
    pub source: Arc<str>,
    pub line: u64,
    pub column: u64,
    /// Position of the release among the items of its source.
    pub item: u64,
    pub ocid: Option<String>,
    /// JSON pointer inside the release (or package), e.g. `/tender/items/0/id`.
    pub pointer: String,
    /// The offending value (scalars only; objects and arrays are summarised).
    pub value: Option<Value>,
    pub message: String,
}

impl Finding {
    pub fn severity(&self) -> Severity {
        self.rule.severity()
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}[{}] {}: {}",
            self.source,
            self.line,
            self.column,
            self.severity().as_str(),
            self.rule.code(),
            if self.pointer.is_empty() {
                "/"
            } else {
                &self.pointer
            },
            self.message
        )?;
        if let Some(v) = &self.value {
            let mut s = v.to_string();
            if s.len() > 120 {
                let mut cut = 117;
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                s.truncate(cut);
                s.push_str("...");
            }
            write!(f, " (value: {s})")?;
        }
        Ok(())
    }
}

const STRING: u8 = 1;
const NUMBER: u8 = 2;
const INTEGER: u8 = 4;
const BOOLEAN: u8 = 8;
const OBJECT: u8 = 16;
const ARRAY: u8 = 32;
const NULL: u8 = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    DateTime,
    Uri,
    Email,
}

struct Codelist {
    name: &'static str,
    open: bool,
    codes: HashSet<String>,
}

/// A schema node, compiled: every `$ref` resolved, every keyword parsed once.
#[derive(Default)]
struct Node {
    types: u8,
    type_name: &'static str,
    properties: rustc_hash::FxHashMap<String, Arc<Node>>,
    items: Option<Arc<Node>>,
    required: Vec<String>,
    min_length: Option<u64>,
    min_items: Option<u64>,
    unique: bool,
    format: Option<Format>,
    codelist: Option<Arc<Codelist>>,
    enum_values: Option<Vec<Value>>,
    pattern: Option<Regex>,
    deprecated: Option<String>,
    /// An array of objects whose `id` is optional: items without one are reported.
    ids_optional: bool,
}

struct Compiler<'a> {
    root: &'a Value,
    codelists: HashMap<&'static str, Arc<Codelist>>,
    defs: HashMap<String, Arc<Node>>,
}

fn codelists() -> HashMap<&'static str, Arc<Codelist>> {
    let mut out = HashMap::new();
    for (name, csv_text) in schema::CODELISTS {
        let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
        let code_col = reader
            .headers()
            .ok()
            .and_then(|h| h.iter().position(|c| c == "Code"))
            .unwrap_or(0);
        let codes = reader
            .records()
            .filter_map(Result::ok)
            .filter_map(|r| r.get(code_col).map(str::to_owned))
            .collect();
        out.insert(
            *name,
            Arc::new(Codelist {
                name,
                open: false,
                codes,
            }),
        );
    }
    out
}

impl Compiler<'_> {
    fn node(&mut self, value: &Value, depth: usize) -> Arc<Node> {
        if let Some(r) = value.get("$ref").and_then(Value::as_str) {
            if let Some(n) = self.defs.get(r) {
                return n.clone();
            }
            let target = r
                .strip_prefix('#')
                .and_then(|p| self.root.pointer(p))
                .cloned()
                .unwrap_or(Value::Null);
            let n = if depth > 48 {
                Arc::new(Node::default())
            } else {
                self.node(&target, depth + 1)
            };
            self.defs.insert(r.to_owned(), n.clone());
            return n;
        }
        let mut node = Node::default();
        let type_list: Vec<&str> = match value.get("type") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        for t in &type_list {
            node.types |= match *t {
                "string" => STRING,
                "number" => NUMBER,
                "integer" => INTEGER,
                "boolean" => BOOLEAN,
                "object" => OBJECT,
                "array" => ARRAY,
                "null" => NULL,
                _ => 0,
            };
        }
        node.type_name = match type_list.first().copied() {
            Some("string") => "string",
            Some("number") => "number",
            Some("integer") => "integer",
            Some("boolean") => "boolean",
            Some("object") => "object",
            Some("array") => "array",
            Some("null") => "null",
            _ => "",
        };
        if let Some(Value::Object(props)) = value.get("properties") {
            for (k, v) in props {
                let child = self.node(v, depth + 1);
                node.properties.insert(k.clone(), child);
            }
        }
        if let Some(items) = value.get("items") {
            // A closed codelist on an array is checked as a codelist; the items' `enum`
            // would only repeat it as a less helpful error.
            let item = if value.get("codelist").is_some() && items.get("enum").is_some() {
                let mut stripped = items.clone();
                if let Some(m) = stripped.as_object_mut() {
                    m.remove("enum");
                }
                self.node(&stripped, depth + 1)
            } else {
                self.node(items, depth + 1)
            };
            let id_optional = item.properties.contains_key("id")
                && !item.required.iter().any(|r| r == "id")
                && value.get("wholeListMerge").and_then(Value::as_bool) != Some(true);
            node.ids_optional = id_optional;
            node.items = Some(item);
        }
        if let Some(Value::Array(req)) = value.get("required") {
            node.required = req
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
        }
        node.min_length = value.get("minLength").and_then(Value::as_u64);
        node.min_items = value.get("minItems").and_then(Value::as_u64);
        node.unique = value.get("uniqueItems").and_then(Value::as_bool) == Some(true);
        node.format = match value.get("format").and_then(Value::as_str) {
            Some("date-time") => Some(Format::DateTime),
            Some("uri") => Some(Format::Uri),
            Some("email") => Some(Format::Email),
            _ => None,
        };
        if let Some(name) = value.get("codelist").and_then(Value::as_str) {
            let stem = name.trim_end_matches(".csv");
            if let Some(base) = self.codelists.get(stem) {
                let open = value.get("openCodelist").and_then(Value::as_bool) == Some(true);
                node.codelist = Some(Arc::new(Codelist {
                    name: base.name,
                    open,
                    codes: base.codes.clone(),
                }));
            }
        } else if let Some(Value::Array(e)) = value.get("enum") {
            node.enum_values = Some(e.clone());
        }
        if let Some(p) = value.get("pattern").and_then(Value::as_str) {
            node.pattern = Regex::new(p).ok();
        }
        if value.get("deprecated").is_some() {
            let d = value.get("deprecated");
            let desc = d
                .and_then(|d| d.get("description"))
                .and_then(Value::as_str)
                .unwrap_or("deprecated")
                .to_owned();
            let since = d
                .and_then(|d| d.get("deprecatedVersion"))
                .and_then(Value::as_str)
                .unwrap_or("1.1");
            node.deprecated = Some(format!("deprecated since OCDS {since}: {desc}"));
        }
        Arc::new(node)
    }
}

/// The compiled release and package schemas.
pub struct Schema {
    release: Arc<Node>,
    release_package: Arc<Node>,
    record_package: Arc<Node>,
}

impl Schema {
    /// The OCDS 1.1.5 schemas shipped with this crate.
    pub fn ocds_1_1() -> &'static Schema {
        static SCHEMA: OnceLock<Schema> = OnceLock::new();
        SCHEMA.get_or_init(|| {
            let lists = codelists();
            let compile = |text: &str| {
                let root: Value = serde_json::from_str(text).unwrap_or(Value::Null);
                let mut c = Compiler {
                    root: &root,
                    codelists: lists.clone(),
                    defs: HashMap::new(),
                };
                c.node(&root, 0)
            };
            Schema {
                release: compile(schema::RELEASE_SCHEMA),
                release_package: compile(schema::RELEASE_PACKAGE_SCHEMA),
                record_package: compile(schema::RECORD_PACKAGE_SCHEMA),
            }
        })
    }
}

/// Where a value sits, for findings.
pub struct Place<'a> {
    pub source: &'a Arc<str>,
    pub line: u64,
    pub column: u64,
    pub item: u64,
    pub ocid: Option<&'a str>,
}

struct Walker<'a> {
    place: &'a Place<'a>,
    out: Vec<Finding>,
    path: Vec<Seg>,
}

#[derive(Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn escape_pointer(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

impl Walker<'_> {
    fn pointer(&self) -> String {
        let mut p = String::new();
        for s in &self.path {
            p.push('/');
            match s {
                Seg::Key(k) => p.push_str(&escape_pointer(k)),
                Seg::Index(i) => p.push_str(&i.to_string()),
            }
        }
        p
    }

    fn name(&self) -> String {
        match self.path.last() {
            Some(Seg::Key(k)) => format!("'{k}'"),
            Some(Seg::Index(i)) => format!("array element {i}"),
            None => "the release".into(),
        }
    }

    fn push(&mut self, rule: Rule, value: Option<&Value>, message: String) {
        let value = value.map(|v| match v {
            Value::Object(_) => Value::String("{…}".into()),
            Value::Array(a) => Value::String(format!("[… {} items]", a.len())),
            other => other.clone(),
        });
        self.out.push(Finding {
            rule,
            source: self.place.source.clone(),
            line: self.place.line,
            column: self.place.column,
            item: self.place.item,
            ocid: self.place.ocid.map(str::to_owned),
            pointer: self.pointer(),
            value,
            message,
        });
    }

    fn walk(&mut self, value: &Value, node: &Node) {
        if let Some(d) = &node.deprecated {
            self.push(Rule::Deprecated, None, d.clone());
        }
        let t = type_bits(value);
        if node.types != 0 && node.types & t == 0 && !(t == INTEGER && node.types & NUMBER != 0) {
            let msg = format!(
                "{} should be {} {}, not {}",
                self.name(),
                article(node.type_name),
                node.type_name,
                json_type_name(value)
            );
            self.push(Rule::Type(node.type_name), Some(value), msg);
        }
        match value {
            Value::String(s) => self.walk_string(s, value, node),
            Value::Object(m) => self.walk_object(m, node),
            Value::Array(a) => self.walk_array(a, value, node),
            _ => {}
        }
        if let Some(list) = &node.codelist {
            self.check_codelist(value, list);
        }
        if let Some(e) = &node.enum_values {
            if !value.is_null() && !e.contains(value) {
                let msg = format!("{} is not one of the allowed values", self.name());
                self.push(Rule::Enum, Some(value), msg);
            }
        }
    }

    fn walk_string(&mut self, s: &str, value: &Value, node: &Node) {
        // Strings inside arrays are not checked for emptiness (as the Data Review Tool).
        if s.trim().is_empty() && !matches!(self.path.last(), Some(Seg::Index(_))) {
            self.push(
                Rule::EmptyField,
                Some(value),
                "empty or blank string".into(),
            );
        }
        if let Some(min) = node.min_length {
            if (s.chars().count() as u64) < min {
                let msg = format!("{} should not be empty", self.name());
                self.push(Rule::MinLength, Some(value), msg);
            }
        }
        if let Some(f) = node.format {
            let ok = match f {
                Format::DateTime => is_date_time(s),
                Format::Uri => is_uri(s),
                Format::Email => s.contains('@'),
            };
            if !ok {
                let (name, hint) = match f {
                    Format::DateTime => (
                        "date-time",
                        "a date and time with a time zone, like 2024-03-31T14:00:00+13:00 (RFC 3339)",
                    ),
                    Format::Uri => ("uri", "an absolute URI with a scheme, like https://…"),
                    Format::Email => ("email", "an email address"),
                };
                let msg = format!("{} should be {hint}", self.name());
                self.push(Rule::Format(name), Some(value), msg);
            }
        }
        if let Some(p) = &node.pattern {
            if !p.is_match(s) {
                let msg = format!("{} does not match the pattern {}", self.name(), p.as_str());
                self.push(Rule::Pattern, Some(value), msg);
            }
        }
    }

    fn walk_object(&mut self, m: &Map<String, Value>, node: &Node) {
        if m.is_empty() && !matches!(self.path.last(), Some(Seg::Index(_)) | None) {
            self.push(Rule::EmptyField, None, "empty object".into());
        }
        for r in &node.required {
            if !m.contains_key(r) {
                let msg = format!("'{r}' is missing but required");
                self.push(Rule::Required, None, msg);
            }
        }
        for (k, v) in m {
            self.path.push(Seg::Key(k.clone()));
            match node.properties.get(k) {
                Some(child) => self.walk(v, child),
                None if node.types & OBJECT != 0 && !is_language_variant(k) => {
                    self.push(
                        Rule::AdditionalField,
                        None,
                        format!("'{k}' is not in the OCDS schema"),
                    );
                    self.walk_unknown(v);
                }
                None => self.walk_unknown(v),
            }
            self.path.pop();
        }
    }

    /// Outside the schema only emptiness is checked.
    fn walk_unknown(&mut self, value: &Value) {
        match value {
            Value::String(s) if s.trim().is_empty() => self.push(
                Rule::EmptyField,
                Some(value),
                "empty or blank string".into(),
            ),
            Value::Object(m) => {
                if m.is_empty() && !matches!(self.path.last(), Some(Seg::Index(_))) {
                    self.push(Rule::EmptyField, None, "empty object".into());
                }
                for (k, v) in m {
                    self.path.push(Seg::Key(k.clone()));
                    self.walk_unknown(v);
                    self.path.pop();
                }
            }
            Value::Array(a) => {
                if a.is_empty() {
                    self.push(Rule::EmptyField, None, "empty array".into());
                }
                for (i, v) in a.iter().enumerate() {
                    if v.is_object() {
                        self.path.push(Seg::Index(i));
                        self.walk_unknown(v);
                        self.path.pop();
                    }
                }
            }
            _ => {}
        }
    }

    fn walk_array(&mut self, a: &[Value], value: &Value, node: &Node) {
        if a.is_empty() {
            self.push(Rule::EmptyField, None, "empty array".into());
        }
        if let Some(min) = node.min_items {
            if (a.len() as u64) < min {
                let msg = format!("{} should have at least {min} item(s)", self.name());
                self.push(Rule::MinItems, Some(value), msg);
            }
        }
        if node.unique {
            self.check_unique(a);
        }
        if let Some(item) = &node.items {
            for (i, v) in a.iter().enumerate() {
                self.path.push(Seg::Index(i));
                if node.ids_optional {
                    if let Value::Object(m) = v {
                        if !m.contains_key("id") {
                            self.path.push(Seg::Key("id".into()));
                            self.push(
                                Rule::MissingId,
                                None,
                                "object has no 'id', so later releases cannot update it".into(),
                            );
                            self.path.pop();
                        }
                    }
                }
                // Strings in arrays are not checked for emptiness (as the Data Review Tool).
                self.walk(v, item);
                self.path.pop();
            }
        }
    }

    /// Unique `id`s, the way the OCDS Data Review Tool reads `uniqueItems`.
    fn check_unique(&mut self, a: &[Value]) {
        let mut seen: HashSet<String> = HashSet::new();
        let mut dups: Vec<String> = Vec::new();
        let mut elements_checked = false;
        for v in a {
            let id = v
                .get("id")
                .filter(|id| !id.is_null() && !id.is_object() && !id.is_array());
            match (v.is_object(), id) {
                (true, Some(id)) => {
                    let key = id_key(id);
                    if !seen.insert(key.clone()) && !dups.contains(&key) {
                        dups.push(key);
                    }
                }
                _ => {
                    if !elements_checked {
                        elements_checked = true;
                        let mut hashes = HashSet::new();
                        if a.iter().any(|x| !hashes.insert(canonical_hash(x))) {
                            self.push(
                                Rule::NonUniqueElements,
                                None,
                                format!("{} has identical elements", self.name()),
                            );
                            return;
                        }
                    }
                }
            }
        }
        dups.sort();
        for d in dups {
            let shown = d[1..].to_owned();
            self.push(
                Rule::UniqueIds,
                Some(&Value::String(shown.clone())),
                format!("{} has more than one object with id {shown:?}", self.name()),
            );
        }
    }

    fn check_codelist(&mut self, value: &Value, list: &Codelist) {
        let values: Vec<&Value> = match value {
            Value::Array(a) if a.first().is_some_and(Value::is_object) => return,
            Value::Array(a) => a.iter().collect(),
            v => vec![v],
        };
        for v in values {
            if is_falsy(v) {
                continue;
            }
            let code = py_str(v);
            if !list.codes.contains(&code) {
                let (rule, msg) = if list.open {
                    (
                        Rule::OpenCodelist(list.name),
                        format!("'{code}' is not in the open codelist {}.csv (allowed, but check it is not a typo for a listed code)", list.name),
                    )
                } else {
                    (
                        Rule::ClosedCodelist(list.name),
                        format!("'{code}' is not in the closed codelist {}.csv", list.name),
                    )
                };
                self.push(rule, Some(v), msg);
            }
        }
    }
}

fn article(t: &str) -> &'static str {
    if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn type_bits(v: &Value) -> u8 {
    match v {
        Value::Null => NULL,
        Value::Bool(_) => BOOLEAN,
        Value::Number(n) if n.is_f64() => NUMBER,
        Value::Number(_) => INTEGER | NUMBER,
        Value::String(_) => STRING,
        Value::Array(_) => ARRAY,
        Value::Object(_) => OBJECT,
    }
}

fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn is_falsy(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
    }
}

fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => crate::merge::py_number_str(n),
        other => other.to_string(),
    }
}

/// Ids compare by JSON value, as Python compares them: `438` ≠ `"438"`, `1` = `1.0`.
fn id_key(id: &Value) -> String {
    match id {
        Value::String(s) => format!("s{s}"),
        Value::Number(n) => format!(
            "n{}",
            n.as_f64().map_or_else(|| n.to_string(), |f| f.to_string())
        ),
        other => format!("v{other}"),
    }
}

/// A hash of a value that ignores object key order: entries are combined by
/// addition, which commutes, so no sorting is needed.
fn canonical_hash(v: &Value) -> u64 {
    use rustc_hash::FxHasher;
    fn hash_of(v: &Value) -> u64 {
        let mut h = FxHasher::default();
        match v {
            Value::Null => 0u8.hash(&mut h),
            Value::Bool(b) => (1u8, b).hash(&mut h),
            Value::Number(n) => (2u8, n.as_f64().map(f64::to_bits)).hash(&mut h),
            Value::String(s) => (3u8, s).hash(&mut h),
            Value::Array(a) => {
                (4u8, a.len()).hash(&mut h);
                for x in a {
                    hash_of(x).hash(&mut h);
                }
            }
            Value::Object(m) => {
                let mut sum = 0u64;
                for (k, x) in m {
                    let mut e = FxHasher::default();
                    k.hash(&mut e);
                    hash_of(x).hash(&mut e);
                    sum = sum.wrapping_add(e.finish());
                }
                (5u8, m.len(), sum).hash(&mut h);
            }
        }
        h.finish()
    }
    hash_of(v)
}

/// Keys like `title_es` or `description_mi-NZ` are language variants, allowed by the standard.
fn is_language_variant(key: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"^(.*_(((([A-Za-z]{2,3}(-([A-Za-z]{3}(-[A-Za-z]{3}){0,2}))?)|[A-Za-z]{4}|[A-Za-z]{5,8})(-([A-Za-z]{4}))?(-([A-Za-z]{2}|[0-9]{3}))?(-([A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*(-([0-9A-WY-Za-wy-z](-[A-Za-z0-9]{2,8})+))*(-(x(-[A-Za-z0-9]{1,8})+))?)|(x(-[A-Za-z0-9]{1,8})+)))$")
            .unwrap_or_else(|e| panic!("language-tag pattern: {e}"))
    });
    key.contains('_') && re.is_match(key)
}

/// RFC 3339 date-time, as the Data Review Tool checks it (case-insensitive `T`/`Z`).
pub fn is_date_time(s: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"^(\d{4})-(0[1-9]|1[0-2])-(\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)\n?$")
            .unwrap_or_else(|e| panic!("date-time pattern: {e}"))
    });
    let upper = s.to_ascii_uppercase();
    let Some(c) = re.captures(&upper) else {
        return false;
    };
    let (Ok(year), Ok(month), Ok(day)) = (
        c[1].parse::<u32>(),
        c[2].parse::<u32>(),
        c[3].parse::<u32>(),
    ) else {
        return false;
    };
    if year == 0 || day == 0 {
        return false;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    day <= days
}

/// An absolute URI (RFC 3986 characters, a scheme, valid percent-escapes).
pub fn is_uri(s: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"^[A-Za-z][A-Za-z0-9+.\-]*:([A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$",
        )
        .unwrap_or_else(|e| panic!("uri pattern: {e}"))
    });
    re.is_match(s)
}

fn ocid_prefix_ok(ocid: &str) -> bool {
    let b = ocid.as_bytes();
    b.len() >= 11
        && b.starts_with(b"ocds-")
        && b[5..11]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// Validate one release. Cross-release checks live in [`Tracker`].
pub fn validate_release(release: &Value, place: &Place<'_>) -> Vec<Finding> {
    let schema = Schema::ocds_1_1();
    let mut w = Walker {
        place,
        out: Vec::new(),
        path: Vec::new(),
    };
    w.walk(release, &schema.release);
    if let Some(ocid) = release.get("ocid").and_then(Value::as_str) {
        if !ocid.is_empty() && !ocid_prefix_ok(ocid) {
            w.path.push(Seg::Key("ocid".into()));
            w.push(
                Rule::OcidPrefix,
                release.get("ocid"),
                "ocid should start with a registered prefix: 'ocds-' and 6 lowercase letters or digits".into(),
            );
            w.path.pop();
        }
    }
    w.out
}

/// Validate one record: its ocid, its releases and its compiled release.
pub fn validate_record(record: &Value, place: &Place<'_>) -> Vec<Finding> {
    let schema = Schema::ocds_1_1();
    let mut out = Vec::new();
    if let Some(ocid) = record.get("ocid").and_then(Value::as_str) {
        if !ocid_prefix_ok(ocid) {
            let mut w = Walker {
                place,
                out: Vec::new(),
                path: vec![Seg::Key("ocid".into())],
            };
            w.push(
                Rule::OcidPrefix,
                record.get("ocid"),
                "ocid should start with a registered prefix: 'ocds-' and 6 lowercase letters or digits".into(),
            );
            out.extend(w.out);
        }
    }
    if let Some(Value::Array(releases)) = record.get("releases") {
        for (i, r) in releases.iter().enumerate() {
            // Linked releases (no `id`) are references, not releases.
            if r.get("id").is_none() {
                continue;
            }
            let mut w = Walker {
                place,
                out: Vec::new(),
                path: vec![Seg::Key("releases".into()), Seg::Index(i)],
            };
            w.walk(r, &schema.release);
            out.extend(w.out);
        }
    }
    if let Some(c) = record.get("compiledRelease") {
        let mut w = Walker {
            place,
            out: Vec::new(),
            path: vec![Seg::Key("compiledRelease".into())],
        };
        w.walk(c, &schema.release);
        out.extend(w.out);
    }
    out
}

/// Validate a package's own fields (not its releases or records).
pub fn validate_package(meta: &Value, record_package: bool, place: &Place<'_>) -> Vec<Finding> {
    let schema = Schema::ocds_1_1();
    let node = if record_package {
        &schema.record_package
    } else {
        &schema.release_package
    };
    let mut w = Walker {
        place,
        out: Vec::new(),
        path: Vec::new(),
    };
    if let Value::Object(m) = meta {
        let array = if record_package {
            "records"
        } else {
            "releases"
        };
        for r in &node.required {
            if r != array && !m.contains_key(r) {
                w.push(
                    Rule::Required,
                    None,
                    format!("package field '{r}' is missing but required"),
                );
            }
        }
        for (k, v) in m {
            w.path.push(Seg::Key(k.clone()));
            match node.properties.get(k) {
                Some(child) => w.walk(v, child),
                None => w.push(
                    Rule::AdditionalField,
                    None,
                    format!("'{k}' is not a field of an OCDS package"),
                ),
            }
            w.path.pop();
        }
    }
    w.out
}

/// Checks across releases: unique `ocid`+`id`, and conflicts between duplicates.
#[derive(Default)]
pub struct Tracker {
    seen: HashMap<(String, String), (u64, Arc<str>, u64)>,
    reported: HashSet<(String, String)>,
}

impl Tracker {
    /// Record a release; returns findings if it repeats an earlier `ocid`+`id`.
    pub fn observe(&mut self, release: &Value, place: &Place<'_>) -> Vec<Finding> {
        let (Some(ocid), Some(id)) = (release.get("ocid"), release.get("id")) else {
            return Vec::new();
        };
        if ocid.is_null() || id.is_null() || ocid.is_object() || id.is_object() {
            return Vec::new();
        }
        let key = (id_key(ocid), id_key(id));
        let hash = canonical_hash(release);
        let mut out = Vec::new();
        match self.seen.get(&key) {
            None => {
                self.seen
                    .insert(key, (hash, place.source.clone(), place.line));
            }
            Some((first_hash, first_source, first_line)) => {
                let shown = format!("{}, {}", py_str(ocid), py_str(id));
                let mut w = Walker {
                    place,
                    out: Vec::new(),
                    path: Vec::new(),
                };
                if self.reported.insert(key.clone()) {
                    w.push(
                        Rule::UniqueIds,
                        Some(&Value::String(shown.clone())),
                        format!("another release has the same ocid and id ({shown}), first at {first_source}:{first_line}"),
                    );
                }
                if *first_hash != hash {
                    w.push(
                        Rule::Conflict,
                        Some(&Value::String(shown)),
                        format!("this release has the same ocid and id as the one at {first_source}:{first_line} but different content"),
                    );
                }
                out = w.out;
            }
        }
        out
    }
}

/// Counts for a validation run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub items: u64,
    pub errors: u64,
    pub warnings: u64,
    /// Findings per rule code.
    pub by_rule: std::collections::BTreeMap<String, u64>,
}

impl Summary {
    fn count(&mut self, f: &Finding) {
        match f.severity() {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
        }
        *self.by_rule.entry(f.rule.code()).or_default() += 1;
    }
}

fn read_finding(e: &crate::reader::ReadError, item: u64) -> Finding {
    Finding {
        rule: Rule::Read(e.kind.code()),
        source: e.source.clone(),
        line: e.line,
        column: e.column,
        item,
        ocid: None,
        pointer: String::new(),
        value: None,
        message: e
            .to_string()
            .split_once(": ")
            .map(|(_, m)| m.to_owned())
            .unwrap_or_default(),
    }
}

fn check_item(item: &crate::reader::Item) -> (Option<Value>, Vec<Finding>) {
    let value = match item.parse() {
        Ok(v) => v,
        Err(e) => return (None, vec![read_finding(&e, item.index)]),
    };
    let ocid = value.get("ocid").and_then(Value::as_str);
    let place = Place {
        source: &item.source,
        line: item.line,
        column: item.column,
        item: item.index,
        ocid,
    };
    let findings = match item.kind {
        crate::reader::ItemKind::Release => validate_release(&value, &place),
        crate::reader::ItemKind::Record => validate_record(&value, &place),
    };
    (Some(value), findings)
}

/// Validate sources in order, on every core, handing each finding to `on_finding`
/// in input order. The reader runs on its own thread; items are checked in batches.
pub fn validate_sources(
    sources: Vec<(String, Box<dyn std::io::Read + Send>)>,
    limits: crate::reader::Limits,
    on_finding: &mut dyn FnMut(&Finding),
    on_items: &mut dyn FnMut(u64),
) -> Summary {
    use crate::reader::{self, Event};
    use rayon::prelude::*;
    const BATCH: usize = 256;
    let (tx, rx) = crossbeam_channel::bounded::<Vec<Event>>(8);
    let producer = std::thread::spawn(move || {
        for (name, input) in sources {
            let mut batch = Vec::with_capacity(BATCH);
            reader::read(Arc::from(name.as_str()), input, limits, &mut |e| {
                batch.push(e);
                if batch.len() >= BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    // A closed receiver means the consumer stopped: nothing left to do.
                    let _ = tx.send(full);
                }
            });
            if !batch.is_empty() {
                let _ = tx.send(batch);
            }
        }
    });
    let mut summary = Summary::default();
    let mut tracker = Tracker::default();
    for batch in rx {
        let results: Vec<(Option<Value>, Vec<Finding>)> = batch
            .par_iter()
            .map(|event| match event {
                Event::Item(item) => check_item(item),
                Event::Error(e) => (None, vec![read_finding(e, 0)]),
                Event::Package(meta) => {
                    let place = Place {
                        source: &meta.source,
                        line: meta.line,
                        column: meta.column,
                        item: PACKAGE,
                        ocid: None,
                    };
                    match serde_json::from_slice::<Value>(&meta.raw) {
                        Ok(v) => (
                            None,
                            validate_package(
                                &v,
                                meta.kind == crate::reader::ItemKind::Record,
                                &place,
                            ),
                        ),
                        Err(_) => (None, Vec::new()),
                    }
                }
            })
            .collect();
        let mut items = 0;
        for (event, (value, findings)) in batch.iter().zip(results) {
            for f in &findings {
                summary.count(f);
                on_finding(f);
            }
            if let (Event::Item(item), Some(value)) = (event, value) {
                items += 1;
                if item.kind == crate::reader::ItemKind::Release {
                    let place = Place {
                        source: &item.source,
                        line: item.line,
                        column: item.column,
                        item: item.index,
                        ocid: value.get("ocid").and_then(Value::as_str),
                    };
                    for f in tracker.observe(&value, &place) {
                        summary.count(&f);
                        on_finding(&f);
                    }
                }
            } else if matches!(event, Event::Item(_)) {
                items += 1;
            }
        }
        summary.items += items;
        on_items(items);
    }
    // The producer only ends by finishing its sources; a panic there is a bug worth surfacing.
    if let Err(e) = producer.join() {
        std::panic::resume_unwind(e);
    }
    summary
}

//! The OCDS 1.1 merge routine: releases → compiled release or versioned release.
//!
//! The standard defines merging over a "flattened" release: every leaf value
//! gets a path, objects in arrays are addressed by their `id`, and applying a
//! release sets each of its paths (a `null` deletes). The reference
//! implementation (ocdsmerge, used by ocdskit) builds that flat map for every
//! release and a flat map for the result, then rebuilds the tree.
//!
//! We keep the result as a tree instead, whose nodes are exactly the flat
//! map's path prefixes, and record for each leaf the order in which its path
//! first appeared. That is enough to rebuild what the flat map would give —
//! including its corner cases (a `null` keeps a path's place; array items
//! keep the order in which they were first seen; a path that is a value in one
//! release and an object in another resolves the way the reference does) —
//! without hashing a path per leaf, and while moving values instead of
//! copying them.
//!
//! Merge rules (`omitWhenMerged`, `wholeListMerge`) come from the release
//! schema, as in the standard.

use std::collections::HashMap;
use std::fmt;

use serde_json::{Map, Number, Value};

/// The merge rule attached to a path in the release schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Omit,
    WholeList,
}

/// Merge rules derived from a release schema, as a tree of property names.
#[derive(Debug, Default, Clone)]
pub struct MergeRules {
    rule: Option<Rule>,
    children: HashMap<String, MergeRules>,
}

/// A problem in a schema used for merge rules.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("release schema is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("release schema has no `properties`")]
    NoProperties,
    #[error("release schema refers to {0}, which it does not define")]
    BadRef(String),
}

impl MergeRules {
    /// The rules of the OCDS 1.1.5 release schema shipped with this crate.
    pub fn ocds_1_1() -> MergeRules {
        // The bundled schema is part of this crate and tested: failing here is a build defect.
        MergeRules::from_schema_str(crate::schema::RELEASE_SCHEMA)
            .unwrap_or_else(|e| panic!("bundled release schema: {e}"))
    }

    pub fn from_schema_str(schema: &str) -> Result<MergeRules, RulesError> {
        let schema: Value = serde_json::from_str(schema)?;
        Self::from_schema(&schema)
    }

    pub fn from_schema(schema: &Value) -> Result<MergeRules, RulesError> {
        let props = schema
            .get("properties")
            .and_then(Value::as_object)
            .ok_or(RulesError::NoProperties)?;
        let mut root = MergeRules::default();
        collect_rules(schema, props, &mut root, 0)?;
        Ok(root)
    }

    fn child(&self, key: &str) -> Option<&MergeRules> {
        self.children.get(key)
    }
}

fn resolve<'a>(root: &'a Value, value: &'a Value) -> Result<&'a Value, RulesError> {
    let mut value = value;
    // A `$ref` replaces its whole object (siblings are ignored, as JSON Reference says).
    for _ in 0..32 {
        match value.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let pointer = r
                    .strip_prefix('#')
                    .ok_or_else(|| RulesError::BadRef(r.into()))?;
                value = root
                    .pointer(pointer)
                    .ok_or_else(|| RulesError::BadRef(r.into()))?;
            }
            None => return Ok(value),
        }
    }
    Err(RulesError::BadRef("a chain of $ref too long".into()))
}

fn types(value: &Value) -> Vec<&str> {
    match value.get("type") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn collect_rules(
    root: &Value,
    properties: &Map<String, Value>,
    into: &mut MergeRules,
    depth: usize,
) -> Result<(), RulesError> {
    if depth > 32 {
        // Recursive definitions: nothing in OCDS is this deep; stop rather than loop.
        return Ok(());
    }
    for (key, value) in properties {
        let value = resolve(root, value)?;
        let t = types(value);
        let is = |name: &str| t.contains(&name);
        let mut node = MergeRules::default();
        if value.get("omitWhenMerged").and_then(Value::as_bool) == Some(true)
            || value.get("mergeStrategy").and_then(Value::as_str) == Some("ocdsOmit")
        {
            node.rule = Some(Rule::Omit);
        } else if is("array")
            && (value.get("wholeListMerge").and_then(Value::as_bool) == Some(true)
                || value.get("mergeStrategy").and_then(Value::as_str) == Some("ocdsVersion"))
        {
            node.rule = Some(Rule::WholeList);
        } else if is("object") && value.get("properties").is_some() {
            if let Some(p) = value.get("properties").and_then(Value::as_object) {
                collect_rules(root, p, &mut node, depth + 1)?;
            }
        } else if is("array") && value.get("items").is_some() {
            let items = resolve(root, &value["items"])?;
            let item_types = types(items);
            if item_types.iter().any(|t| *t != "object") {
                node.rule = Some(Rule::WholeList);
            } else if item_types.contains(&"object") {
                if let Some(p) = items.get("properties").and_then(Value::as_object) {
                    if p.contains_key("id") {
                        collect_rules(root, p, &mut node, depth + 1)?;
                    } else {
                        node.rule = Some(Rule::WholeList);
                    }
                }
            }
        }
        if node.rule.is_some() || !node.children.is_empty() {
            into.children.insert(key.clone(), node);
        }
    }
    Ok(())
}

/// Why a group of releases could not be merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeError {
    /// A release has no `date`, so releases cannot be put in order.
    MissingDate { release_id: Option<String> },
    /// A release's `date` is not a string.
    NonStringDate { release_id: Option<String> },
    /// A release is not a JSON object.
    NotAnObject,
    /// One release has a value where another has an object or array (or the reverse).
    InconsistentType { path: String },
}

impl fmt::Display for MergeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = |r: &Option<String>| r.clone().unwrap_or_else(|| "(no id)".into());
        match self {
            MergeError::MissingDate { release_id } => write!(
                f,
                "release {} has no `date`, so the releases cannot be ordered for merging",
                id(release_id)
            ),
            MergeError::NonStringDate { release_id } => write!(
                f,
                "release {} has a `date` that is not a string, so the releases cannot be ordered",
                id(release_id)
            ),
            MergeError::NotAnObject => write!(f, "a release is not a JSON object"),
            MergeError::InconsistentType { path } => write!(
                f,
                "releases disagree on the type at {path}: one has a value, another an object or array"
            ),
        }
    }
}

impl std::error::Error for MergeError {}

/// One entry in a versioned value's history.
#[derive(Debug, Clone)]
struct Version {
    release_id: Value,
    release_date: Value,
    release_tag: Value,
    value: Value,
}

#[derive(Debug)]
enum LeafValue {
    Compiled(Value),
    Versioned(Vec<Version>),
}

#[derive(Debug)]
struct Leaf {
    seq: u32,
    value: LeafValue,
    /// Which release last set this leaf, and whether that release added a version.
    /// A release that sets one path twice (duplicate ids in an array) counts once,
    /// with its last value, as in the standard's flattened form.
    stamp: u32,
    pushed: bool,
}

/// A flat-path prefix. `props` and `items` are both kept so that data which
/// uses one path as both an object and an array can be reported, not guessed.
#[derive(Debug, Default)]
struct Node {
    /// Smallest sequence number at or under this node; set by `annotate` before output.
    first: Option<u32>,
    leaf: Option<Leaf>,
    props: Vec<(String, Node)>,
    items: Vec<ArrayItem>,
    /// Index by id key once an array grows (linear search is faster below that).
    item_index: Option<HashMap<String, usize>>,
}

#[derive(Debug)]
struct ArrayItem {
    /// `None` for objects without an `id` (each is a new item, never merged).
    key: Option<String>,
    original_id: Option<Value>,
    node: Node,
}

const INDEX_AFTER: usize = 16;

impl Node {
    fn prop(&mut self, key: &str) -> &mut Node {
        // Linear search: release objects have few keys, and this avoids hashing.
        let at = match self.props.iter().position(|(k, _)| k == key) {
            Some(at) => at,
            None => {
                self.props.push((key.to_owned(), Node::default()));
                self.props.len() - 1
            }
        };
        &mut self.props[at].1
    }

    fn item(&mut self, id: Option<&Value>) -> &mut Node {
        let Some(id) = id else {
            self.items.push(ArrayItem {
                key: None,
                original_id: None,
                node: Node::default(),
            });
            let last = self.items.len() - 1;
            return &mut self.items[last].node;
        };
        let key = id_key(id);
        let found = match &self.item_index {
            Some(index) => index.get(&key).copied(),
            None => self
                .items
                .iter()
                .position(|i| i.key.as_deref() == Some(key.as_str())),
        };
        let at = match found {
            Some(at) => at,
            None => {
                let at = self.items.len();
                if let Some(index) = &mut self.item_index {
                    index.insert(key.clone(), at);
                }
                self.items.push(ArrayItem {
                    key: Some(key),
                    original_id: if id.is_null() { None } else { Some(id.clone()) },
                    node: Node::default(),
                });
                if self.item_index.is_none() && self.items.len() > INDEX_AFTER {
                    self.item_index = Some(
                        self.items
                            .iter()
                            .enumerate()
                            .filter_map(|(i, it)| it.key.clone().map(|k| (k, i)))
                            .collect(),
                    );
                }
                at
            }
        };
        &mut self.items[at].node
    }
}

fn min_opt(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// How the reference identifies an object in an array: `str(id)` in Python, so
/// `438` and `"438"` are the same object.
fn id_key(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        Value::Number(n) => py_number_str(n),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

/// `str()` of a JSON number as Python prints it (`1.0`, `1e+20`, `438`).
pub fn py_number_str(n: &Number) -> String {
    if !n.is_f64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    let abs = f.abs();
    if f == 0.0 || (1e-4..1e16).contains(&abs) {
        let s = format!("{f}");
        if s.contains('.') || s.contains("inf") || s.contains("NaN") {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        // Python: shortest mantissa, exponent signed and at least two digits.
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((m, e)) => match e.strip_prefix('-') {
                Some(digits) => format!("{m}e-{digits:0>2}"),
                None => format!("{m}e+{e:0>2}"),
            },
            None => s,
        }
    }
}

/// Equality as Python's `==` on parsed JSON: `1 == 1.0`, object order ignored.
pub fn py_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if x.is_f64() || y.is_f64() {
                x.as_f64() == y.as_f64()
            } else {
                x == y
            }
        }
        (Value::Bool(x), Value::Number(y)) | (Value::Number(y), Value::Bool(x)) => {
            y.as_f64() == Some(if *x { 1.0 } else { 0.0 })
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Merges releases of one contracting process.
pub struct Merger<'r> {
    rules: &'r MergeRules,
    versioned: bool,
    root: Node,
    seq: u32,
    releases: u32,
    ocid: Value,
    id: Value,
    date: Value,
}

struct Meta {
    stamp: u32,
    release_id: Value,
    date: Value,
    tag: Value,
}

impl<'r> Merger<'r> {
    pub fn new(rules: &'r MergeRules, versioned: bool) -> Self {
        Merger {
            rules,
            versioned,
            root: Node::default(),
            seq: 0,
            releases: 0,
            ocid: Value::Null,
            id: Value::Null,
            date: Value::Null,
        }
    }

    /// Merge releases (in any order: they are sorted by `date`, stably) into compact JSON.
    pub fn merge_json(
        rules: &'r MergeRules,
        mut releases: Vec<Value>,
        versioned: bool,
    ) -> Result<Vec<u8>, MergeError> {
        sort_releases(&mut releases)?;
        let mut merger = Merger::new(rules, versioned);
        for r in releases {
            merger.append(r)?;
        }
        merger.finish_json()
    }

    /// Merge releases (in any order: they are sorted by `date`, stably) into one result.
    pub fn merge(
        rules: &'r MergeRules,
        mut releases: Vec<Value>,
        versioned: bool,
    ) -> Result<Value, MergeError> {
        sort_releases(&mut releases)?;
        let mut merger = Merger::new(rules, versioned);
        for r in releases {
            merger.append(r)?;
        }
        merger.finish()
    }

    /// Apply one release (already in date order).
    pub fn append(&mut self, release: Value) -> Result<(), MergeError> {
        let Value::Object(mut release) = release else {
            return Err(MergeError::NotAnObject);
        };
        let ocid = release.get("ocid").cloned().unwrap_or(Value::Null);
        let release_id = release.get("id").cloned().unwrap_or(Value::Null);
        let date = release.get("date").cloned().unwrap_or(Value::Null);
        // `shift_remove`, not `remove`: the latter moves the last key into the gap, and the
        // merged release's keys would no longer come in the order the reference writes them.
        let tag = release.shift_remove("tag").unwrap_or(Value::Null);
        if self.versioned {
            release.shift_remove("ocid");
        }
        if self.versioned {
            self.ocid = ocid;
        } else {
            self.id = Value::String(format!("{}-{}", py_str(&ocid), py_str(&date)));
            self.date = date.clone();
            self.ocid = ocid;
        }
        self.releases += 1;
        let meta = Meta {
            stamp: self.releases,
            release_id,
            date,
            tag,
        };
        let rules = self.rules;
        let mut seq = self.seq;
        apply_object(
            &mut self.root,
            release,
            Some(rules),
            self.versioned,
            &meta,
            &mut seq,
        );
        self.seq = seq;
        Ok(())
    }

    /// The merged release.
    pub fn finish(self) -> Result<Value, MergeError> {
        let bytes = self.finish_json()?;
        // We wrote this JSON ourselves from parsed values; it always parses.
        Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// The merged release, serialised as compact JSON (keys in first-seen order).
    ///
    /// Written straight from the merge tree: building a `serde_json::Value`
    /// first would cost a map insertion per key for nothing.
    pub fn finish_json(mut self) -> Result<Vec<u8>, MergeError> {
        annotate(&mut self.root);
        let mut w = Vec::with_capacity(4096);
        w.push(b'{');
        let mut first = true;
        let mut field = |w: &mut Vec<u8>, key: &str, value: &Value| {
            if !first {
                w.push(b',');
            }
            first = false;
            write_json(w, &Value::String(key.to_owned()));
            w.push(b':');
            write_json(w, value);
        };
        if !self.ocid.is_null() {
            field(&mut w, "ocid", &self.ocid);
        }
        if !self.versioned {
            field(&mut w, "id", &self.id);
            if !self.date.is_null() {
                field(&mut w, "date", &self.date);
            }
            field(
                &mut w,
                "tag",
                &Value::Array(vec![Value::String("compiled".into())]),
            );
        }
        let skip: &[&str] = if self.versioned {
            &["ocid"]
        } else {
            &["ocid", "id", "date", "tag"]
        };
        let mut path = String::new();
        emit_props(&self.root.props, skip, !first, &mut w, &mut path)?;
        w.push(b'}');
        Ok(w)
    }
}

/// `str()` of a value as Python formats it into the compiled release's id.
fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "None".into(),
        Value::Number(n) => py_number_str(n),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        other => other.to_string(),
    }
}

/// Sort releases by `date`, stably; a single release needs no date.
pub fn sort_releases(releases: &mut [Value]) -> Result<(), MergeError> {
    if releases.len() <= 1 {
        return Ok(());
    }
    for r in releases.iter() {
        let id = || r.get("id").map(py_str);
        match r {
            Value::Object(m) => match m.get("date") {
                None | Some(Value::Null) => {
                    return Err(MergeError::MissingDate { release_id: id() })
                }
                Some(Value::String(_)) => {}
                Some(_) => return Err(MergeError::NonStringDate { release_id: id() }),
            },
            _ => return Err(MergeError::NotAnObject),
        }
    }
    releases.sort_by(|a, b| {
        let da = a.get("date").and_then(Value::as_str).unwrap_or("");
        let db = b.get("date").and_then(Value::as_str).unwrap_or("");
        da.cmp(db)
    });
    Ok(())
}

fn is_whole(value: &Value, rule: Option<Rule>) -> bool {
    if rule == Some(Rule::WholeList) {
        return true;
    }
    match value {
        Value::Object(_) => false,
        Value::Array(list) => list.iter().any(|v| !v.is_object()),
        _ => true,
    }
}

fn apply_object(
    node: &mut Node,
    object: Map<String, Value>,
    rules: Option<&MergeRules>,
    versioned: bool,
    meta: &Meta,
    seq: &mut u32,
) {
    for (key, value) in object {
        let child_rules = rules.and_then(|r| r.child(&key));
        let rule = child_rules.and_then(|r| r.rule);
        if rule == Some(Rule::Omit) {
            continue;
        }
        if is_whole(&value, rule) {
            set_leaf(node.prop(&key), value, versioned, meta, seq);
            continue;
        }
        match value {
            Value::Object(m) if !m.is_empty() => {
                apply_object(node.prop(&key), m, child_rules, versioned, meta, seq);
            }
            Value::Array(list) if !list.is_empty() => {
                let child = node.prop(&key);
                for element in list {
                    let Value::Object(m) = element else { continue };
                    let item = child.item(m.get("id"));
                    apply_object(item, m, child_rules, versioned, meta, seq);
                }
            }
            // Empty objects and arrays set nothing (the standard's "empty" is not a delete).
            _ => {}
        }
    }
}

fn set_leaf(node: &mut Node, value: Value, versioned: bool, meta: &Meta, seq: &mut u32) {
    match &mut node.leaf {
        None => {
            let value = if versioned {
                LeafValue::Versioned(vec![version(meta, value)])
            } else {
                LeafValue::Compiled(value)
            };
            node.leaf = Some(Leaf {
                seq: *seq,
                value,
                stamp: meta.stamp,
                pushed: true,
            });
            *seq += 1;
        }
        Some(leaf) => match &mut leaf.value {
            LeafValue::Compiled(v) => *v = value,
            LeafValue::Versioned(history) => {
                if leaf.stamp == meta.stamp && leaf.pushed {
                    // Set twice by one release: only its last value counts.
                    history.pop();
                }
                let unchanged = history
                    .last()
                    .is_some_and(|last| py_eq(&last.value, &value));
                leaf.pushed = !unchanged || history.is_empty();
                if leaf.pushed {
                    history.push(version(meta, value));
                }
                leaf.stamp = meta.stamp;
            }
        },
    }
}

fn version(meta: &Meta, value: Value) -> Version {
    Version {
        release_id: meta.release_id.clone(),
        release_date: meta.date.clone(),
        release_tag: meta.tag.clone(),
        value,
    }
}

fn write_json(w: &mut Vec<u8>, v: &Value) {
    // Serialising a parsed value into memory cannot fail.
    let _ = serde_json::to_writer(&mut *w, v);
}

/// Store in each node the first sequence number at or under it.
fn annotate(node: &mut Node) -> Option<u32> {
    let mut best = node.leaf.as_ref().map(|l| l.seq);
    for (_, n) in &mut node.props {
        best = min_opt(best, annotate(n));
    }
    for i in &mut node.items {
        best = min_opt(best, annotate(&mut i.node));
    }
    node.first = best;
    best
}

fn kids_first(node: &Node) -> Option<u32> {
    let mut best = None;
    for (_, n) in &node.props {
        best = min_opt(best, n.first);
    }
    for i in &node.items {
        best = min_opt(best, i.node.first);
    }
    best
}

fn leaf_is_null(leaf: &Leaf) -> bool {
    matches!(leaf.value, LeafValue::Compiled(Value::Null))
}

/// Whether the reference would put this key in its output at all.
fn produces(node: &Node) -> bool {
    match (&node.leaf, kids_first(node)) {
        (_, Some(_)) => true,
        (Some(l), None) => !leaf_is_null(l),
        (None, None) => false,
    }
}

fn write_leaf(w: &mut Vec<u8>, leaf: &Leaf) {
    match &leaf.value {
        LeafValue::Compiled(v) => write_json(w, v),
        LeafValue::Versioned(history) => {
            w.push(b'[');
            for (i, v) in history.iter().enumerate() {
                if i > 0 {
                    w.push(b',');
                }
                w.extend_from_slice(b"{\"releaseID\":");
                write_json(w, &v.release_id);
                w.extend_from_slice(b",\"releaseDate\":");
                write_json(w, &v.release_date);
                w.extend_from_slice(b",\"releaseTag\":");
                write_json(w, &v.release_tag);
                w.extend_from_slice(b",\"value\":");
                write_json(w, &v.value);
                w.push(b'}');
            }
            w.push(b']');
        }
    }
}

/// Write a node's value the way the reference rebuilds it from the flat map.
/// Only called when [`produces`] is true.
fn emit(node: &Node, w: &mut Vec<u8>, path: &mut String) -> Result<(), MergeError> {
    let kids = kids_first(node);
    let has_props = node.props.iter().any(|(_, n)| n.first.is_some());
    let has_items = node.items.iter().any(|i| i.node.first.is_some());
    if let Some(leaf) = &node.leaf {
        let leaf_first = kids.is_none_or(|k| leaf.seq < k);
        if leaf_first && !leaf_is_null(leaf) {
            if kids.is_none() {
                write_leaf(w, leaf);
                return Ok(());
            }
            if let (LeafValue::Compiled(Value::Array(list)), false) = (&leaf.value, has_props) {
                // The reference appends new array objects to a list set earlier.
                w.push(b'[');
                let mut first = true;
                for v in list {
                    if !first {
                        w.push(b',');
                    }
                    first = false;
                    write_json(w, v);
                }
                emit_items(&node.items, !first, w, path)?;
                w.push(b']');
                return Ok(());
            }
            return Err(MergeError::InconsistentType { path: path.clone() });
        }
        // A null keeps its place but sets nothing; the children build the container.
        // Children that came first decide the form; a later leaf is ignored, as in the reference.
    }
    if has_props && has_items {
        return Err(MergeError::InconsistentType { path: path.clone() });
    }
    if has_items {
        w.push(b'[');
        emit_items(&node.items, false, w, path)?;
        w.push(b']');
    } else {
        w.push(b'{');
        emit_props(&node.props, &[], false, w, path)?;
        w.push(b'}');
    }
    Ok(())
}

fn emit_items(
    items: &[ArrayItem],
    mut comma: bool,
    w: &mut Vec<u8>,
    path: &mut String,
) -> Result<(), MergeError> {
    let mut order: Vec<(u32, &ArrayItem)> = items
        .iter()
        .filter_map(|i| i.node.first.map(|s| (s, i)))
        .collect();
    order.sort_by_key(|(s, _)| *s);
    for (_, item) in order {
        if comma {
            w.push(b',');
        }
        comma = true;
        let at = path.len();
        path.push('/');
        path.push_str(item.key.as_deref().unwrap_or("?"));
        w.push(b'{');
        let mut wrote = false;
        let skip: &[&str] = match &item.original_id {
            Some(id) => {
                w.extend_from_slice(b"\"id\":");
                write_json(w, id);
                wrote = true;
                &["id"]
            }
            None => &[],
        };
        emit_props(&item.node.props, skip, wrote, w, path)?;
        w.push(b'}');
        path.truncate(at);
    }
    Ok(())
}

fn emit_props(
    props: &[(String, Node)],
    skip: &[&str],
    mut comma: bool,
    w: &mut Vec<u8>,
    path: &mut String,
) -> Result<(), MergeError> {
    for (key, child) in props {
        if skip.contains(&key.as_str()) || !produces(child) {
            continue;
        }
        if comma {
            w.push(b',');
        }
        comma = true;
        write_json(w, &Value::String(key.clone()));
        w.push(b':');
        let at = path.len();
        path.push('/');
        path.push_str(key);
        emit(child, w, path)?;
        path.truncate(at);
    }
    Ok(())
}

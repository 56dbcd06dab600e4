//! What changed in a commitment's report from one period to the next, word by word.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use crate::model::ProgressReport;

/// Whether a piece of text is in both versions, only the new one, or only the old one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OpKind {
    Equal,
    Insert,
    Delete,
}

/// A run of text. The `Equal` and `Delete` runs of a change, in order, spell `before`; the
/// `Equal` and `Insert` runs spell `after`. Runs carry their whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Op {
    pub kind: OpKind,
    pub text: String,
}

/// One field that differs between two reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// The JSON name of the field: `status`, `statusQuote`, `progress`, `challenges`,
    /// `nextSteps` or `comment`.
    pub field: String,
    /// Paragraphs joined with a blank line ("\n\n"); empty when the field was absent.
    pub before: String,
    pub after: String,
    pub ops: Vec<Op>,
}

/// Every field of `new` that differs from `old`, in the report's order. The period is not
/// compared: the two are expected to be different periods of one commitment.
pub fn diff_progress(old: &ProgressReport, new: &ProgressReport) -> Vec<FieldChange> {
    let status = |r: &ProgressReport| r.status.map(|s| s.code().to_owned()).unwrap_or_default();
    let fields = [
        ("status", status(old), status(new)),
        (
            "statusQuote",
            old.status_quote.clone().unwrap_or_default(),
            new.status_quote.clone().unwrap_or_default(),
        ),
        ("progress", join(&old.progress), join(&new.progress)),
        ("challenges", join(&old.challenges), join(&new.challenges)),
        ("nextSteps", join(&old.next_steps), join(&new.next_steps)),
        ("comment", join(&old.comment), join(&new.comment)),
    ];
    fields
        .into_iter()
        .filter(|(_, before, after)| before != after)
        .map(|(field, before, after)| FieldChange {
            field: field.to_owned(),
            ops: diff_words(&before, &after),
            before,
            after,
        })
        .collect()
}

fn join(paragraphs: &[String]) -> String {
    paragraphs.join("\n\n")
}

/// A word-level diff of two texts, as runs.
///
/// Within a changed stretch, the spaces between changed words are common to both sides, and a
/// diff of words alone would report each word as its own delete/insert pair ("paused" →
/// "resumed", " ", "due" → "owing"). Folding such spaces into the change gives one deletion and
/// one insertion per stretch, which is how a reader sees a reworded phrase.
pub fn diff_words(before: &str, after: &str) -> Vec<Op> {
    let diff = TextDiff::from_words(before, after);
    let mut ops = Vec::new();
    let mut equal = String::new();
    let mut deleted = String::new();
    let mut inserted = String::new();
    // Whitespace seen inside a changed stretch, not yet known to be inside or after it.
    let mut gap = String::new();
    for change in diff.iter_all_changes() {
        let token: &str = change.value();
        let in_change = !deleted.is_empty() || !inserted.is_empty();
        match change.tag() {
            ChangeTag::Equal if in_change && token.trim().is_empty() => gap.push_str(token),
            ChangeTag::Equal => {
                flush_change(&mut ops, &mut deleted, &mut inserted, &mut equal);
                equal.push_str(&gap);
                gap.clear();
                equal.push_str(token);
            }
            tag => {
                flush(&mut ops, OpKind::Equal, &mut equal);
                deleted.push_str(&gap);
                inserted.push_str(&gap);
                gap.clear();
                if tag == ChangeTag::Delete {
                    deleted.push_str(token);
                } else {
                    inserted.push_str(token);
                }
            }
        }
    }
    flush_change(&mut ops, &mut deleted, &mut inserted, &mut equal);
    equal.push_str(&gap);
    flush(&mut ops, OpKind::Equal, &mut equal);
    ops
}

/// Emit a changed stretch. Text both sides begin or end with (the folded spaces, mostly) is
/// not a change: it joins the equal run before, or starts the one after in `equal_after`.
fn flush_change(
    ops: &mut Vec<Op>,
    deleted: &mut String,
    inserted: &mut String,
    equal_after: &mut String,
) {
    let prefix = common_prefix(deleted, inserted);
    if prefix > 0 {
        let shared: String = deleted[..prefix].to_owned();
        match ops.last_mut() {
            Some(Op {
                kind: OpKind::Equal,
                text,
            }) => text.push_str(&shared),
            _ => ops.push(Op {
                kind: OpKind::Equal,
                text: shared,
            }),
        }
        deleted.drain(..prefix);
        inserted.drain(..prefix);
    }
    let suffix = common_suffix(deleted, inserted);
    if suffix > 0 {
        equal_after.insert_str(0, &deleted[deleted.len() - suffix..]);
        deleted.truncate(deleted.len() - suffix);
        inserted.truncate(inserted.len() - suffix);
    }
    flush(ops, OpKind::Delete, deleted);
    flush(ops, OpKind::Insert, inserted);
}

/// Length in bytes of the whitespace both begin with. Only whitespace: a shared start of a word
/// ("pa" of "paused" and "passed") would split the word, and the diff is of whole words.
fn common_prefix(a: &str, b: &str) -> usize {
    a.chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y && x.is_whitespace())
        .map(|(x, _)| x.len_utf8())
        .sum()
}

/// Length in bytes of the whitespace both end with.
fn common_suffix(a: &str, b: &str) -> usize {
    a.chars()
        .rev()
        .zip(b.chars().rev())
        .take_while(|(x, y)| x == y && x.is_whitespace())
        .map(|(x, _)| x.len_utf8())
        .sum()
}

fn flush(ops: &mut Vec<Op>, kind: OpKind, text: &mut String) {
    if text.is_empty() {
        return;
    }
    // A stretch that turned out to be all shared spaces leaves two equal runs side by side.
    match ops.last_mut() {
        Some(last) if last.kind == kind => last.text.push_str(text),
        _ => ops.push(Op {
            kind,
            text: text.clone(),
        }),
    }
    text.clear();
}

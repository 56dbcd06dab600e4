//! Word-level history of a commitment's report.

mod common;

use tuwhera_plan::diff::diff_words;
use tuwhera_plan::{diff_progress, FieldChange, Op, OpKind, ProgressReport, Status};

fn op(kind: OpKind, text: &str) -> Op {
    Op {
        kind,
        text: text.to_owned(),
    }
}

fn report(progress: &[&str]) -> ProgressReport {
    ProgressReport {
        period: "2024".to_owned(),
        status: None,
        status_quote: None,
        progress: progress.iter().map(|s| s.to_string()).collect(),
        challenges: vec!["Resourcing.".to_owned()],
        next_steps: vec!["Await direction.".to_owned()],
        comment: Vec::new(),
    }
}

/// The two texts a diff spells: equal + deleted runs, and equal + inserted runs.
fn sides(ops: &[Op]) -> (String, String) {
    let side = |skip: OpKind| {
        ops.iter()
            .filter(|o| o.kind != skip)
            .map(|o| o.text.as_str())
            .collect::<String>()
    };
    (side(OpKind::Insert), side(OpKind::Delete))
}

#[test]
fn a_changed_sentence_gives_exactly_the_changed_words() {
    let old = report(&[
        "- The strategy remains in design and development and has been paused, due to resourcing issues, pending Ministerial direction.",
    ]);
    let new = report(&[
        "- The strategy remains in design and development and has been resumed, due to new funding, pending Ministerial direction.",
    ]);
    let changes = diff_progress(&old, &new);
    assert_eq!(changes.len(), 1);
    let FieldChange {
        field,
        before,
        after,
        ops,
    } = &changes[0];
    assert_eq!(field, "progress");
    assert_eq!(before, &old.progress[0]);
    assert_eq!(after, &new.progress[0]);
    assert_eq!(
        ops,
        &[
            op(
                OpKind::Equal,
                "- The strategy remains in design and development and has been "
            ),
            op(OpKind::Delete, "paused,"),
            op(OpKind::Insert, "resumed,"),
            op(OpKind::Equal, " due to "),
            op(OpKind::Delete, "resourcing issues,"),
            op(OpKind::Insert, "new funding,"),
            op(OpKind::Equal, " pending Ministerial direction."),
        ]
    );
}

#[test]
fn added_and_removed_words_alone() {
    assert_eq!(
        diff_words(
            "Stats NZ will publish guidance.",
            "Stats NZ will not publish guidance."
        ),
        [
            op(OpKind::Equal, "Stats NZ will "),
            op(OpKind::Insert, "not "),
            op(OpKind::Equal, "publish guidance."),
        ]
    );
    assert_eq!(
        diff_words(
            "Work has been paused, due to resourcing.",
            "Work has been paused."
        ),
        [
            op(OpKind::Equal, "Work has been "),
            op(OpKind::Delete, "paused, due to resourcing."),
            op(OpKind::Insert, "paused."),
        ]
    );
}

#[test]
fn identical_reports_have_no_changes() {
    let plan = common::plan();
    for c in &plan.commitments {
        assert!(diff_progress(&c.progress[0], &c.progress[0]).is_empty());
    }
}

#[test]
fn status_and_paragraph_changes_are_fields_in_report_order() {
    let old = report(&["First paragraph.", "Second paragraph."]);
    let mut new = report(&["First paragraph.", "Second paragraph, revised."]);
    new.status = Some(Status::Completed);
    new.status_quote = Some("It is done.".to_owned());
    new.comment = vec!["A comment.".to_owned()];
    let changes = diff_progress(&old, &new);
    let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["status", "statusQuote", "progress", "comment"]);
    assert_eq!(changes[0].before, "");
    assert_eq!(changes[0].after, "completed");
    assert_eq!(changes[0].ops, [op(OpKind::Insert, "completed")]);
    // Paragraphs are joined by a blank line, and the untouched one is equal.
    assert_eq!(changes[2].before, "First paragraph.\n\nSecond paragraph.");
    assert_eq!(
        changes[2].ops,
        [
            op(OpKind::Equal, "First paragraph.\n\nSecond "),
            op(OpKind::Delete, "paragraph."),
            op(OpKind::Insert, "paragraph, revised."),
        ]
    );
}

#[test]
fn ops_always_spell_both_texts() {
    // Every pair of the report's own texts, however unlike: the runs must rebuild each side.
    let plan = common::plan();
    let texts: Vec<String> = plan
        .commitments
        .iter()
        .flat_map(|c| {
            let r = &c.progress[0];
            [r.progress.join("\n\n"), r.next_steps.join("\n\n")]
        })
        .collect();
    for before in &texts {
        for after in &texts {
            let ops = diff_words(before, after);
            assert_eq!(sides(&ops), (before.clone(), after.clone()));
            // Runs alternate: no two neighbours of the same kind, and no empty run.
            assert!(ops.iter().all(|o| !o.text.is_empty()));
            assert!(ops.windows(2).all(|w| w[0].kind != w[1].kind));
        }
    }
}

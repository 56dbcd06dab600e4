//! The transcribed plan: it parses, it is valid, and it has the report's eight commitments.

mod common;

use common::{data_text, plan};
use tuwhera_plan::{blocks, sections, validate, Block, Plan, Status};

#[test]
fn parses_and_validates_with_no_findings() {
    let value: serde_json::Value = serde_json::from_str(&data_text()).unwrap();
    let findings = validate(&value);
    assert!(findings.is_empty(), "findings: {findings:#?}");
    plan();
}

#[test]
fn writing_it_back_gives_the_file_unchanged() {
    // So the file is in the model's canonical form, and nothing in it is lost by the model.
    assert_eq!(plan().to_json(), data_text());
}

#[test]
fn eight_commitments_in_order_with_their_lead_agencies() {
    let plan = plan();
    assert_eq!(plan.id, "nz-nap4");
    assert_eq!(plan.country, "New Zealand");
    let got: Vec<(u32, &str)> = plan
        .commitments
        .iter()
        .map(|c| (c.number, c.lead_agency.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (1, "Te Kawa Maataho Public Service Commission"),
            (2, "Te Kawa Maataho Public Service Commission"),
            (3, "Department of Internal Affairs"),
            (4, "Serious Fraud Office"),
            (
                5,
                "Buildings, Resources and Markets, Ministry of Business, Innovation and Employment"
            ),
            (
                6,
                "Government Procurement and Property, Ministry of Business, Innovation and Employment"
            ),
            (7, "Democracy and Open Government Policy, Ministry of Justice"),
            (8, "Statistics NZ"),
        ]
    );
}

#[test]
fn every_commitment_has_its_2024_report() {
    let plan = plan();
    assert_eq!(plan.periods(), ["2024"]);
    let report = plan.report("2024").unwrap();
    assert_eq!(
        report.title,
        "Fourth National Action Plan Progress Report August 2024"
    );
    for commitment in &plan.commitments {
        let progress = commitment.progress_for("2024").unwrap();
        assert!(!progress.progress.is_empty(), "{}", commitment.number);
        assert!(!progress.challenges.is_empty(), "{}", commitment.number);
        assert!(!progress.next_steps.is_empty(), "{}", commitment.number);
    }
    // Only commitment 3 has a "Comment" section in the report.
    let with_comment: Vec<u32> = plan
        .commitments
        .iter()
        .filter(|c| !c.progress[0].comment.is_empty())
        .map(|c| c.number)
        .collect();
    assert_eq!(with_comment, [3]);
}

#[test]
fn statuses_are_read_from_the_reports_own_sentences() {
    let plan = plan();
    let statuses: Vec<(u32, Option<Status>)> = plan
        .commitments
        .iter()
        .map(|c| (c.number, c.progress[0].status))
        .collect();
    assert_eq!(
        statuses,
        [
            (1, None),
            (2, Some(Status::NoProgress)),
            (3, Some(Status::NoProgress)),
            (4, Some(Status::Paused)),
            (5, None),
            (6, Some(Status::OnTrack)),
            (7, None),
            (8, Some(Status::PartiallyCompleted)),
        ]
    );
    for commitment in &plan.commitments {
        let report = &commitment.progress[0];
        // A status always comes with the words it was read from, and those words are the
        // report's: in the same commitment's text for the period.
        assert_eq!(report.status.is_some(), report.status_quote.is_some());
        if let Some(quote) = &report.status_quote {
            let text = [&report.progress, &report.next_steps]
                .map(|p| p.join(" "))
                .join(" ");
            assert!(
                text.contains(quote.as_str()),
                "{}: {quote}",
                commitment.number
            );
        }
    }
}

#[test]
fn commitment_8_lists_its_three_milestones_with_due_dates() {
    let plan = plan();
    let c8 = plan.commitment(8).unwrap();
    let got: Vec<(u32, &str, &str)> = c8
        .milestones
        .iter()
        .map(|m| {
            (
                m.number,
                m.due.as_deref().unwrap(),
                m.due_date.as_deref().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (1, "by June 2023", "2023-06"),
            (2, "by December 2023", "2023-12"),
            (3, "by December 2024", "2024-12"),
        ]
    );
    // The report does not say which milestone is the partially completed one.
    assert!(c8.milestones.iter().all(|m| m.status.is_none()));
    // Each milestone is the numbered item of the description, minus its due date.
    for (m, item) in c8.milestones.iter().zip(&c8.description[1..]) {
        let expected = format!(
            "{}. {} ({})",
            m.number,
            m.description,
            m.due.as_deref().unwrap()
        );
        assert!(item.starts_with(&expected), "{item}");
    }
    let others: usize = plan
        .commitments
        .iter()
        .filter(|c| c.number != 8)
        .map(|c| c.milestones.len())
        .sum();
    assert_eq!(others, 0, "only commitment 8's report lists milestones");
}

#[test]
fn sections_follow_the_plan_order_and_skip_nothing() {
    let plan = plan();
    let sections = sections(&plan, "2024");
    let numbers: Vec<u32> = sections.iter().map(|s| s.number).collect();
    assert_eq!(numbers, (1..=8).collect::<Vec<_>>());
    assert_eq!(
        sections[2].heading(),
        "Commitment 3: Establish a Multi-channel Approach to Delivery of Government Information and Services"
    );
    let parts: Vec<String> = sections[2]
        .parts("2024")
        .into_iter()
        .map(|(h, _)| h)
        .collect();
    assert_eq!(
        parts,
        [
            "Description",
            "Progress in 2024",
            "Challenges",
            "Next steps",
            "Comment"
        ]
    );
    // A period no commitment reports on still lists every commitment, with nothing reported.
    let none = tuwhera_plan::sections(&plan, "2031");
    assert_eq!(none.len(), 8);
    assert!(none
        .iter()
        .all(|s| s.progress.is_empty() && s.status.is_none()));
}

#[test]
fn list_markers_are_read_as_blocks() {
    let paragraphs = [
        "The milestones are:".to_owned(),
        "1. Establish a community (by June 2023);".to_owned(),
        "- a bullet".to_owned(),
        "2024 was a year".to_owned(),
        "-not a bullet".to_owned(),
    ];
    assert_eq!(
        blocks(&paragraphs),
        [
            Block::Paragraph("The milestones are:"),
            Block::Numbered(1, "Establish a community (by June 2023);"),
            Block::Bullet("a bullet"),
            Block::Paragraph("2024 was a year"),
            Block::Paragraph("-not a bullet"),
        ]
    );
}

#[test]
fn a_plan_without_optional_fields_still_parses() {
    let plan = Plan::from_json(
        r#"{"id": "x-nap1", "title": "T", "country": "C", "period": {"start": "2020", "end": "2021"},
            "source": "S", "licence": "L",
            "commitments": [{"number": 1, "title": "T", "leadAgency": "A", "description": ["D"]}]}"#,
    )
    .unwrap();
    assert!(plan.reports.is_empty());
    assert!(plan.commitments[0].progress.is_empty());
}

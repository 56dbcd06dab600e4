//! The 2024 report as PDF: real text, in the report's order.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{plan, squash};
use regex::Regex;
use tuwhera_plan::{blocks, report_pdf, sections, Block, PlanError};

/// The text of a PDF as `pdftotext -layout` extracts it, or None when pdftotext is not
/// installed here (outside CI only: in CI a missing pdftotext is a failure).
fn pdftotext(pdf: &[u8]) -> Option<String> {
    let child = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::env::var_os("CI").is_some() {
                panic!("pdftotext is missing (apt-get install -y poppler-utils); CI must run this test");
            }
            // Straight to stderr: the test harness hides eprintln! output of a passing test.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: pdftotext not found; install poppler-utils to check the PDF's text"
            );
            return None;
        }
        Err(e) => panic!("pdftotext: {e}"),
    };
    let mut stdin = child.stdin.take().unwrap();
    let bytes = pdf.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        output.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8(output.stdout).unwrap())
}

/// The extracted text without page footers, whitespace squashed.
fn body_text(extracted: &str) -> String {
    let footer = Regex::new(r"(?m)^\s*Page \d+ of \d+\s*$").unwrap();
    squash(&footer.replace_all(extracted, ""))
}

/// Finds each needle after the previous one; panics naming the first one out of order.
fn find_in_order(haystack: &str, needles: &[String]) -> Vec<usize> {
    let mut from = 0;
    needles
        .iter()
        .map(|needle| match haystack[from..].find(needle.as_str()) {
            Some(at) => {
                from += at + needle.len();
                from - needle.len()
            }
            None => panic!(
                "{needle:?} not found after byte {from}; the text from there:\n{}",
                &haystack[from..(from + 600).min(haystack.len())]
            ),
        })
        .collect()
}

/// A field's text as the PDF sets it: bullets as "•", numbers kept.
fn as_set(paragraphs: &[String]) -> Vec<String> {
    blocks(paragraphs)
        .into_iter()
        .map(|block| match block {
            Block::Paragraph(text) => text.to_owned(),
            Block::Bullet(text) => format!("• {text}"),
            Block::Numbered(n, text) => format!("{n}. {text}"),
        })
        .collect()
}

#[test]
fn the_2024_report_is_a_small_real_pdf() {
    let pdf = report_pdf(&plan(), "2024").unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(pdf.ends_with(b"%%EOF") || pdf.ends_with(b"%%EOF\n"));
    // Two subset fonts and nine pages of text; the whole fonts alone would be 800 KB.
    assert!(pdf.len() < 120_000, "{} bytes", pdf.len());
    // Reproducible: the same plan gives the same bytes.
    assert_eq!(pdf, report_pdf(&plan(), "2024").unwrap());
}

#[test]
fn an_unknown_period_is_refused() {
    assert!(matches!(
        report_pdf(&plan(), "2019"),
        Err(PlanError::UnknownPeriod(p)) if p == "2019"
    ));
}

#[test]
fn headings_and_sections_come_in_the_reports_order() {
    let plan = plan();
    let pdf = report_pdf(&plan, "2024").unwrap();
    let Some(extracted) = pdftotext(&pdf) else {
        return;
    };
    let text = body_text(&extracted);

    let mut needles = vec![
        "Fourth National Action Plan Progress Report August 2024".to_owned(),
        "Report on the Fourth National Action Plan Commitments under OGP".to_owned(),
    ];
    for section in sections(&plan, "2024") {
        needles.push(section.heading());
        needles.push("Lead agency".to_owned());
        needles.push(squash(&section.lead_agency));
        for (heading, _) in section.parts("2024") {
            needles.push(heading);
        }
    }
    needles.push("ogpnz@publicservice.govt.nz".to_owned());
    find_in_order(&text, &needles);

    let headings: Vec<String> = (1..=8).map(|n| format!("Commitment {n}: ")).collect();
    find_in_order(&text, &headings);
    assert_eq!(text.matches("Commitment 3: ").count(), 1);
    assert_eq!(
        text.matches("Comment").count() - text.matches("Comments").count(),
        1,
        "one Comment section"
    );
}

#[test]
fn every_sections_text_is_under_its_heading() {
    let plan = plan();
    let pdf = report_pdf(&plan, "2024").unwrap();
    let Some(extracted) = pdftotext(&pdf) else {
        return;
    };
    // A long address is broken over lines without a hyphen, which extraction turns into a
    // space: compare without whitespace here (word order is checked above and below).
    let text: String = body_text(&extracted).split_whitespace().collect();
    let mut needles = Vec::new();
    for section in sections(&plan, "2024") {
        needles.push(section.heading());
        for (heading, paragraphs) in section.parts("2024") {
            needles.push(heading);
            needles.extend(as_set(paragraphs));
        }
    }
    let needles: Vec<String> = needles
        .iter()
        .map(|n| n.split_whitespace().collect())
        .collect();
    find_in_order(&text, &needles);
}

#[test]
fn key_sentences_survive_extraction_with_their_characters() {
    let plan = plan();
    let pdf = report_pdf(&plan, "2024").unwrap();
    let Some(extracted) = pdftotext(&pdf) else {
        return;
    };
    let text = body_text(&extracted);
    for sentence in [
        // A macron, curly quotes and an en dash, each through the font's ToUnicode map.
        "A summary of each CoP wānanga is published on data.govt.nz.",
        "Hui E! recently spoke at a CGSCoP virtual hui on “Doing more with less”, on how the community sector manages fiscal restraint.",
        "Resource constraints are the biggest challenge – Stats NZ currently cannot resource engagement with stakeholders or implementation of the remaining recommendations from the One Year Review.",
        "DIA continues to be unable to resource and prioritise work on commitment 3.",
        "The strategy, involving the SFO, Ministry of Justice and NZ Police, remains in design and development and has been paused, due to resourcing issues, pending Ministerial direction.",
        "Milestone measures for laying the foundations for integrated data system capability are slated to be completed by February 2025 in the Action plan and are currently on track.",
    ] {
        assert!(text.contains(sentence), "missing from the PDF: {sentence}");
    }
    // The first sentence of every section, whatever the data says it is.
    for section in sections(&plan, "2024") {
        for (heading, paragraphs) in section.parts("2024") {
            let first = &as_set(paragraphs)[0];
            let sentence = first.split_inclusive(". ").next().unwrap().trim();
            // Only words that fit on a line: a broken address gains a space in extraction.
            if sentence.contains("https://") {
                continue;
            }
            assert!(
                text.contains(&squash(sentence)),
                "commitment {} {heading}: {sentence}",
                section.number
            );
        }
    }
}

#[test]
fn long_text_flows_over_pages_in_order() {
    let mut plan = plan();
    let long: Vec<String> = (1..=60)
        .map(|i| {
            format!(
                "- Paragraph {i} of the long progress section, with enough words in it to wrap over two or three lines of the page, so that the section runs over several pages."
            )
        })
        .collect();
    plan.commitments[0].progress[0].progress = long;
    // Wider than a line and without a space: broken where it must be, nothing lost.
    let word = "x".repeat(90) + "/" + &"y".repeat(90);
    plan.commitments[0].progress[0].challenges = vec![format!("Before {word} after.")];
    // A character the font lacks is set as its empty glyph rather than failing the report.
    plan.commitments[0].progress[0].next_steps = vec!["Kia ora 漢 koutou.".to_owned()];

    let pdf = report_pdf(&plan, "2024").unwrap();
    let Some(extracted) = pdftotext(&pdf) else {
        return;
    };
    let pages = extracted.matches('\u{c}').count();
    assert!(pages > 9, "{pages} pages");
    let footers: Vec<String> = (1..=pages)
        .map(|i| format!("Page {i} of {pages}"))
        .collect();
    find_in_order(&extracted, &footers);

    let text = body_text(&extracted);
    let mut needles: Vec<String> = (1..=60).map(|i| format!("• Paragraph {i} of")).collect();
    needles.push("Challenges".to_owned());
    needles.push("Commitment 2: ".to_owned());
    find_in_order(&text, &needles);
    let bare: String = text.split_whitespace().collect();
    assert!(bare.contains(&format!("Before{word}after.")));
    assert!(text.contains("Kia ora") && text.contains("koutou."));
}

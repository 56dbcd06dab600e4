//! A period's report as plain data, in the report's order: the one place that order is decided,
//! shared by the PDF and the HTML page.

use serde::Serialize;

use crate::model::{Plan, Status};

/// One commitment's part of a period's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Section {
    pub number: u32,
    pub title: String,
    pub lead_agency: String,
    pub description: Vec<String>,
    /// The period's status, where the report states one.
    pub status: Option<Status>,
    /// Empty when the commitment has no report for the period.
    pub progress: Vec<String>,
    pub challenges: Vec<String>,
    pub next_steps: Vec<String>,
    /// Only some commitments have a comment; it follows the next steps, as in the report.
    pub comment: Vec<String>,
}

impl Section {
    /// "Commitment 3: Establish a Multi-channel Approach …"
    pub fn heading(&self) -> String {
        format!("Commitment {}: {}", self.number, self.title)
    }

    /// The section's parts after the lead agency, in the report's order, with their headings;
    /// empty parts are left out. Renderers walk this rather than naming the parts, so all of
    /// them agree on order and wording.
    pub fn parts(&self, period: &str) -> Vec<(String, &[String])> {
        let parts: [(String, &[String]); 5] = [
            ("Description".to_owned(), &self.description),
            (format!("Progress in {period}"), &self.progress),
            ("Challenges".to_owned(), &self.challenges),
            ("Next steps".to_owned(), &self.next_steps),
            ("Comment".to_owned(), &self.comment),
        ];
        parts
            .into_iter()
            .filter(|(_, text)| !text.is_empty())
            .collect()
    }
}

/// Every commitment's section for `period`, in the plan's order (which is the report's). A
/// commitment without a report for the period still has its section, with empty progress, so
/// that a reader sees it was not reported on rather than missing it.
pub fn sections(plan: &Plan, period: &str) -> Vec<Section> {
    plan.commitments
        .iter()
        .map(|commitment| {
            let progress = commitment.progress_for(period);
            let field = |get: fn(&crate::model::ProgressReport) -> &Vec<String>| {
                progress.map(|p| get(p).clone()).unwrap_or_default()
            };
            Section {
                number: commitment.number,
                title: commitment.title.clone(),
                lead_agency: commitment.lead_agency.clone(),
                description: commitment.description.clone(),
                status: progress.and_then(|p| p.status),
                progress: field(|p| &p.progress),
                challenges: field(|p| &p.challenges),
                next_steps: field(|p| &p.next_steps),
                comment: field(|p| &p.comment),
            }
        })
        .collect()
}

/// A paragraph or list item, with the list marker read off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block<'a> {
    Paragraph(&'a str),
    /// A bullet item (`"- "` in the data), without its marker.
    Bullet(&'a str),
    /// A numbered item (`"1. "` in the data): its number and text.
    Numbered(u32, &'a str),
}

/// The paragraphs of a text field as blocks, reading the list markers the data keeps.
pub fn blocks(paragraphs: &[String]) -> Vec<Block<'_>> {
    paragraphs.iter().map(|p| block(p)).collect()
}

fn block(paragraph: &str) -> Block<'_> {
    if let Some(text) = paragraph.strip_prefix("- ") {
        return Block::Bullet(text);
    }
    let digits = paragraph.len()
        - paragraph
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .len();
    if digits > 0 && digits <= 3 {
        if let Some(text) = paragraph[digits..].strip_prefix(". ") {
            if let Ok(number) = paragraph[..digits].parse() {
                return Block::Numbered(number, text);
            }
        }
    }
    Block::Paragraph(paragraph)
}

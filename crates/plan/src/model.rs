//! The plan as data, in the JSON shape of `schema/plan.schema.json` (camelCase fields).
//!
//! Text the source gives as paragraphs is a `Vec<String>`: one element per paragraph or list
//! item, in order, each exactly as the source words it. A list item keeps its marker (`"- "` for a
//! bullet, `"1. "` for a numbered item) so that a page can render the list and a test can still
//! find the source's sentences verbatim; [`crate::report::blocks`] reads the markers.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::PlanError;

/// A National Action Plan: its commitments and the progress reports on them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Plan {
    /// A short stable identifier, e.g. `nz-nap4`.
    pub id: String,
    pub title: String,
    pub country: String,
    pub period: Period,
    /// Where the text came from and what was changed in transcribing it.
    pub source: String,
    pub licence: String,
    /// One entry per progress report the data was taken from.
    #[serde(default)]
    pub reports: Vec<PeriodReport>,
    /// In the source's order.
    pub commitments: Vec<Commitment>,
}

/// The years a plan covers: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Period {
    pub start: String,
    pub end: String,
}

/// What one progress report says outside the commitments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PeriodReport {
    /// The period id that commitments' [`ProgressReport::period`] refer to, e.g. `2024`.
    pub period: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Paragraphs after the last commitment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closing: Vec<String>,
}

/// One commitment of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Commitment {
    /// From 1, as numbered in the plan.
    pub number: u32,
    /// Without the "Commitment N" prefix.
    pub title: String,
    pub lead_agency: String,
    #[serde(default)]
    pub supporting_agencies: Vec<String>,
    pub description: Vec<String>,
    #[serde(default)]
    pub ogp_values: Vec<OgpValue>,
    #[serde(default)]
    pub milestones: Vec<Milestone>,
    /// One entry per reporting period, oldest first.
    #[serde(default)]
    pub progress: Vec<ProgressReport>,
}

/// One milestone of a commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Milestone {
    pub number: u32,
    pub description: String,
    /// In the source's words, e.g. "by June 2023".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    /// `due` as a date, only as precise as the source: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// Only where the source states it for this milestone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// What one period's report says about one commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProgressReport {
    /// e.g. `2024`; matches a [`PeriodReport::period`].
    pub period: String,
    /// Only where the report states one; [`ProgressReport::status_quote`] holds its words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// The report's own sentence the status is read from, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_quote: Option<String>,
    pub progress: Vec<String>,
    pub challenges: Vec<String>,
    pub next_steps: Vec<String>,
    /// A "Comment" section, which only some commitments have.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comment: Vec<String>,
}

/// How far a commitment or milestone has got.
///
/// The first four are the OGP Independent Reporting Mechanism's completion scale; the rest are
/// the states progress reports use in their own words, kept so that data transcribed from a
/// report does not have to translate the report into the IRM's judgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    NotStarted,
    Limited,
    Substantial,
    Complete,
    /// The report says the work "continues".
    Ongoing,
    OnTrack,
    Paused,
    Ceased,
    PartiallyCompleted,
    Completed,
    /// The report says no work was done in the period.
    NoProgress,
}

impl Status {
    pub const ALL: [Status; 11] = [
        Status::NotStarted,
        Status::Limited,
        Status::Substantial,
        Status::Complete,
        Status::Ongoing,
        Status::OnTrack,
        Status::Paused,
        Status::Ceased,
        Status::PartiallyCompleted,
        Status::Completed,
        Status::NoProgress,
    ];

    /// The JSON value, e.g. `partiallyCompleted`.
    pub fn code(self) -> &'static str {
        match self {
            Status::NotStarted => "notStarted",
            Status::Limited => "limited",
            Status::Substantial => "substantial",
            Status::Complete => "complete",
            Status::Ongoing => "ongoing",
            Status::OnTrack => "onTrack",
            Status::Paused => "paused",
            Status::Ceased => "ceased",
            Status::PartiallyCompleted => "partiallyCompleted",
            Status::Completed => "completed",
            Status::NoProgress => "noProgress",
        }
    }

    /// For people, in English, e.g. "Partially completed".
    pub fn label(self) -> &'static str {
        match self {
            Status::NotStarted => "Not started",
            Status::Limited => "Limited",
            Status::Substantial => "Substantial",
            Status::Complete => "Complete",
            Status::Ongoing => "Ongoing",
            Status::OnTrack => "On track",
            Status::Paused => "Paused",
            Status::Ceased => "Ceased",
            Status::PartiallyCompleted => "Partially completed",
            Status::Completed => "Completed",
            Status::NoProgress => "No progress",
        }
    }

    /// Whether this is one of the IRM's four completion levels.
    pub fn is_irm_scale(self) -> bool {
        matches!(
            self,
            Status::NotStarted | Status::Limited | Status::Substantial | Status::Complete
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// An Open Government Partnership value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OgpValue {
    AccessToInformation,
    CivicParticipation,
    PublicAccountability,
    TechnologyAndInnovation,
}

impl OgpValue {
    pub fn label(self) -> &'static str {
        match self {
            OgpValue::AccessToInformation => "Access to information",
            OgpValue::CivicParticipation => "Civic participation",
            OgpValue::PublicAccountability => "Public accountability",
            OgpValue::TechnologyAndInnovation => {
                "Technology and innovation for openness and accountability"
            }
        }
    }
}

impl Plan {
    /// Parse the JSON form. An error names the JSONPath of the offending value (e.g.
    /// `$.commitments[2].leadAgency`) and its line and column.
    ///
    /// This checks the shape only; [`crate::validate`] checks the schema's constraints and the
    /// rules across fields.
    pub fn from_json(text: &str) -> Result<Plan, PlanError> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let plan: Plan = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            let path = json_path(e.path());
            let inner = e.into_inner();
            PlanError::Json {
                path,
                line: inner.line(),
                column: inner.column(),
                message: strip_position(&inner.to_string()),
            }
        })?;
        // Trailing content would otherwise be ignored silently.
        deserializer.end().map_err(|e| PlanError::Json {
            path: "$".to_owned(),
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        })?;
        Ok(plan)
    }

    /// Pretty JSON with a final newline, in the field order of the schema.
    pub fn to_json(&self) -> String {
        // Serialising these plain structs with string keys cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    pub fn commitment(&self, number: u32) -> Option<&Commitment> {
        self.commitments.iter().find(|c| c.number == number)
    }

    pub fn report(&self, period: &str) -> Option<&PeriodReport> {
        self.reports.iter().find(|r| r.period == period)
    }

    /// Every period that a report or a commitment's progress names, in first-seen order.
    pub fn periods(&self) -> Vec<&str> {
        let mut periods: Vec<&str> = Vec::new();
        let named = self.reports.iter().map(|r| r.period.as_str()).chain(
            self.commitments
                .iter()
                .flat_map(|c| c.progress.iter().map(|p| p.period.as_str())),
        );
        for period in named {
            if !periods.contains(&period) {
                periods.push(period);
            }
        }
        periods
    }
}

impl Commitment {
    pub fn progress_for(&self, period: &str) -> Option<&ProgressReport> {
        self.progress.iter().find(|p| p.period == period)
    }
}

/// serde_path_to_error's path as a JSONPath, the same notation as [`crate::Finding::path`].
fn json_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::from("$");
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                out.push('.');
                out.push_str(key);
            }
            Segment::Enum { variant } => {
                out.push('.');
                out.push_str(variant);
            }
            Segment::Unknown => out.push_str(".?"),
        }
    }
    out
}

/// serde_json appends " at line L column C"; the error keeps those as fields instead.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

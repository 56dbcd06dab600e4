//! The Open Government Partnership National Action Plan as data.
//!
//! Pure: values in, values out. [`Plan`] is the typed model, [`validate`] checks a JSON value
//! against the embedded schema (`schema/plan.schema.json`) and the rules across fields,
//! [`diff::diff_progress`] compares two periods' reports word by word, [`report::sections`]
//! gives a report's sections in order for any renderer, and [`pdf::report_pdf`] renders them;
//! [`locate::position`] finds the line and column of a finding's path in the text it came from.
//!
//! The data itself lives in the workspace's `data/plan/`.

pub mod diff;
pub mod locate;
pub mod model;
pub mod pdf;
pub mod report;
mod schema;

pub use diff::{diff_progress, FieldChange, Op, OpKind};
pub use locate::position;
pub use model::{
    Commitment, Milestone, OgpValue, Period, PeriodReport, Plan, ProgressReport, Status,
};
pub use pdf::report_pdf;
pub use report::{blocks, sections, Block, Section};
pub use schema::{validate, validate_progress, Finding, SCHEMA};

/// Why a plan could not be read or rendered.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The JSON is malformed or does not have the plan's shape; `path` is a JSONPath such as
    /// `$.commitments[2].leadAgency`.
    #[error("{path} (line {line}, column {column}): {message}")]
    Json {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// The plan has no report for the period asked for.
    #[error("the plan has no report for period {0:?}")]
    UnknownPeriod(String),
    /// The PDF could not be made: the embedded font could not be read or subset, or a stream
    /// not compressed (a defect of the build, not of the data).
    #[error("the PDF could not be made: {0}")]
    Pdf(String),
}

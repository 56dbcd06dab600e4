//! Risk signals over compiled OCDS releases: red-flag indicators, checks of the
//! New Zealand Government Procurement Rules, and data quality.
//!
//! Pure: this crate opens no file, database or socket. Callers hand it compiled
//! releases (`serde_json::Value`) and get back findings, each with the reason a
//! person can read and the figures behind it.
//!
//! - [`indicators`]: the red flags, defined as Open Contracting Partnership's
//!   Cardinal 0.0.8 defines them, so results are comparable; each in its own
//!   file with its own state, run as fold → reduce → finalize over releases.
//! - [`prepare`]: Cardinal's `prepare` corrections as a step that reports every
//!   change it makes.
//! - [`rules`]: the Government Procurement Rules, per edition.
//! - [`ownership`]: beneficial-ownership red flags, over ownership the caller
//!   resolves and hands in as plain data.
//! - [`quality`]: field coverage and data-quality scores per publisher.
//! - [`settings`]: one TOML file with documented defaults; Cardinal's INI read too.
//!
//! A flag is a risk signal, not proof of wrongdoing: every reason says what was
//! measured and against what threshold, so a reader can judge it.

pub mod indicators;
pub mod ownership;
pub mod prepare;
pub mod process;
pub mod quality;
pub mod rules;
pub mod settings;
pub mod stats;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use indicators::{parse_for_indicators, Engine, Outcome, Partial};
pub use ownership::{Ownership, OwnershipSettings, OWNERSHIP_INDICATORS};
pub use settings::{Settings, SettingsError};

/// What a flag is about. Most indicators flag a contracting process; some flag
/// an organisation across all the processes it took part in.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum Subject {
    /// A contracting process, by ocid.
    Process(String),
    /// A buyer, by `/buyer/id`.
    Buyer(String),
    /// A procuring entity, by `/tender/procuringEntity/id`.
    ProcuringEntity(String),
    /// A tenderer (bidder or supplier), by its party id.
    Tenderer(String),
}

impl Subject {
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::Process(_) => "process",
            Subject::Buyer(_) => "buyer",
            Subject::ProcuringEntity(_) => "procuring-entity",
            Subject::Tenderer(_) => "tenderer",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Subject::Process(id)
            | Subject::Buyer(id)
            | Subject::ProcuringEntity(id)
            | Subject::Tenderer(id) => id,
        }
    }
}

/// One raised flag.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    /// The indicator's code, e.g. `R003`.
    pub code: String,
    pub subject: Subject,
    /// The indicator's output, as Cardinal defines it (often 1.0; a ratio or a
    /// count for some).
    pub value: f64,
    /// The contracting processes this flag concerns: the process itself, or for
    /// an organisation the processes behind the figure.
    pub ocids: Vec<String>,
    /// The organisations the flag names (the late winner, the tenderers with
    /// identical prices…), by party id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organisations: Vec<String>,
    /// One sentence: what was measured and the threshold it crossed.
    pub reason: String,
    /// The figures behind the reason (measured value, threshold, …).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub details: Map<String, Value>,
}

/// The codes and titles of every indicator, in display order.
pub const INDICATORS: &[(&str, &str)] = &[
    ("R003", "Short submission period"),
    ("R018", "Single bid received"),
    ("R024", "Price close to the winning bid"),
    ("R025", "Excessive unsuccessful bids"),
    ("R028", "Identical bid prices"),
    ("R030", "Late bid won"),
    ("R035", "All except the winning bid disqualified"),
    ("R036", "Lowest bid disqualified"),
    ("R038", "Excessive disqualified bids"),
    ("R048", "Heterogeneous supplier"),
    ("R058", "Heavily discounted bid"),
];

/// The title of an indicator, rule check or beneficial-ownership flag, by
/// code.
pub fn title(code: &str) -> Option<&'static str> {
    INDICATORS
        .iter()
        .chain(rules::CHECKS.iter())
        .chain(ownership::OWNERSHIP_INDICATORS.iter())
        .find(|(c, _)| *c == code)
        .map(|(_, t)| *t)
}

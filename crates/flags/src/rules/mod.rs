//! Checks of the New Zealand Government Procurement Rules, per edition.
//!
//! Four checks, each citing the rule and the edition in force for the
//! process (see [`editions`]):
//!
//! - `GPR-ADVERTISE`: a procurement at or over the value threshold that was
//!   not openly advertised and records no exemption or opt-out.
//! - `GPR-AWARD-NOTICE`: a contract award notice published more than 30
//!   business days after the contract was signed.
//! - `GPR-NOTICE-CONTENT`: a contract award notice missing content the Rules
//!   require.
//! - `GPR-SPLITTING`: several awards by one buyer to one supplier within a
//!   window, each under the threshold, together at or over it (cross-process:
//!   [`Splitting`]).
//!
//! Every process in scope gets a finding per check, `met`, `not-met` or
//! `not-applicable` with the reason, so compliance rates per agency can be
//! computed and nothing is left out silently. Pure: no file, clock or network.
//! The definitions, the OCDS fields read and what was verified against the
//! Rules' text are in `docs/indicators/GPR-*.md`.

pub mod editions;
pub mod holidays;

mod checks;
mod facts;
mod splitting;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use editions::{edition_for, Edition, EDITIONS};
pub use splitting::{check_splitting, Splitting};

/// The codes and titles of the rule checks, in display order.
pub const CHECKS: &[(&str, &str)] = &[
    (
        "GPR-ADVERTISE",
        "Not openly advertised and no exemption or opt-out recorded",
    ),
    (
        "GPR-AWARD-NOTICE",
        "Contract award notice later than 30 business days after signing",
    ),
    (
        "GPR-NOTICE-CONTENT",
        "Contract award notice missing required content",
    ),
    (
        "GPR-SPLITTING",
        "Possible contract splitting under the threshold",
    ),
];

/// An organisation as the release names it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OrgName {
    pub id: Option<String>,
    pub name: Option<String>,
}

impl OrgName {
    /// The name for a sentence: the name, else the id.
    pub fn label(&self) -> &str {
        self.name
            .as_deref()
            .or(self.id.as_deref())
            .unwrap_or("an unnamed organisation")
    }
}

/// Whether a process met a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Met,
    NotMet,
    /// The rule does not apply to this process, or the data cannot tell: the
    /// reason says which.
    NotApplicable,
}

impl Outcome {
    /// As serialised: `met`, `not-met`, `not-applicable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Met => "met",
            Outcome::NotMet => "not-met",
            Outcome::NotApplicable => "not-applicable",
        }
    }
}

/// The result of one check on one process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// One of [`CHECKS`], e.g. `GPR-AWARD-NOTICE`.
    pub code: String,
    /// The edition in force for the process, e.g. "4th edition (2019)"; empty
    /// when none applies (undated, or before 1 October 2019).
    pub edition: String,
    /// The rule in that edition, e.g. "Rule 48"; empty when no edition applies.
    pub rule: String,
    pub ocid: String,
    pub buyer: Option<OrgName>,
    pub outcome: Outcome,
    /// One plain-English sentence with the figures.
    pub reason: String,
    /// The figures behind the reason.
    pub details: Map<String, Value>,
}

/// Settings of the rule checks. Every field has a default; unknown fields are
/// an error so a typo does not silently fall back to a default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RulesSettings {
    /// GPR-SPLITTING: the most days between the first and the last award of a
    /// possible split. Default 90.
    pub window_days: u32,
    /// Currency codes counted as New Zealand dollars. Default `["NZD"]`. A
    /// process valued in any other currency is not applicable: the thresholds
    /// are in NZ$ and no exchange rate is assumed.
    pub nzd_currencies: Vec<String>,
    /// Which processes the checks look at. Default: all.
    pub apply_to: ApplyTo,
    /// Words in `tender.procurementMethodRationale` or
    /// `procurementMethodDetails` that mark an opt-out (matched ignoring
    /// case). Default `["opt-out", "opt out", "optout"]`.
    pub opt_out_markers: Vec<String>,
    /// Words in `tender.procurementMethodDetails` that mark an exemption from
    /// open advertising when no rationale is given (ignoring case). Default
    /// `["exemption", "exempt"]`.
    pub exemption_markers: Vec<String>,
    /// Words in the tender's title or description that make `works`
    /// refurbishment works (goods-and-services threshold) rather than new
    /// construction works (ignoring case). Default `["refurbish"]`.
    pub refurbishment_markers: Vec<String>,
}

impl Default for RulesSettings {
    fn default() -> RulesSettings {
        RulesSettings {
            window_days: 90,
            nzd_currencies: vec!["NZD".into()],
            apply_to: ApplyTo::default(),
            opt_out_markers: vec!["opt-out".into(), "opt out".into(), "optout".into()],
            exemption_markers: vec!["exemption".into(), "exempt".into()],
            refurbishment_markers: vec!["refurbish".into()],
        }
    }
}

/// A filter on processes. Empty lists mean no filter; with both set a process
/// must match both.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApplyTo {
    /// Only processes whose ocid starts with one of these, e.g.
    /// `["ocds-tuwhnz-"]`: the Rules bind New Zealand agencies, not every
    /// publisher in a mixed store.
    pub ocid_prefixes: Vec<String>,
    /// Only processes whose `buyer.id` is one of these.
    pub buyer_ids: Vec<String>,
}

/// Checks 1–3 on one process (a compiled release, or a release carrying the
/// tender, awards and contracts). Returns one finding per check, or nothing
/// when the release is not a JSON object, has no ocid, or is outside
/// `apply_to`.
pub fn check_process(release: &Value, settings: &RulesSettings) -> Vec<Finding> {
    let Some(facts) = facts::Facts::new(release, settings) else {
        return Vec::new();
    };
    checks::run(&facts, settings)
}

/// All four checks over releases in memory, on every core: checks 1–3 per
/// process in input order, then GPR-SPLITTING sorted by ocid.
pub fn check_releases(releases: &[Value], settings: &RulesSettings) -> Vec<Finding> {
    let mut out: Vec<Finding> = releases
        .par_iter()
        .flat_map_iter(|r| check_process(r, settings))
        .collect();
    out.extend(check_splitting(releases, settings));
    out
}

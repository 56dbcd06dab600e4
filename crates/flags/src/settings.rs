//! Settings for the indicators and the `prepare` step: one TOML file, every
//! field optional with a documented default (`docs/indicators/settings.md`).
//!
//! Cardinal's INI settings file is read too ([`Settings::from_cardinal_ini`]),
//! so an analyst who tuned Cardinal keeps their work: the same sections, keys
//! and pipe-separated lists mean the same here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    #[error("line {line}: {message}")]
    Ini { line: usize, message: String },
    #[error("[{section}] {key} = {value:?}: {message}")]
    Value {
        section: String,
        key: String,
        value: String,
        message: String,
    },
}

/// Every setting. `Default` gives Cardinal's defaults with every indicator on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The main currency. Within a process, bids are compared in their own
    /// currency when they share one; when they do not, amounts are converted
    /// to this currency with `currency_rates`. Unset, or no rate: such a
    /// process is not compared, and the outcome's notes count it.
    pub currency: Option<String>,
    /// Units of the main currency per unit of another, e.g. `USD = 58.9`.
    pub currency_rates: BTreeMap<String, f64>,
    /// `procurementMethodDetails` values whose prices are not compared (R024,
    /// R028, R058), e.g. random selection.
    pub no_price_comparison_procurement_methods: Vec<String>,
    /// If set, only these `procurementMethodDetails` have prices compared.
    pub price_comparison_procurement_methods: Vec<String>,
    pub exclusions: Exclusions,
    pub prepare: PrepareSettings,
    #[serde(rename = "R003")]
    pub r003: R003,
    #[serde(rename = "R018")]
    pub r018: R018,
    #[serde(rename = "R024")]
    pub r024: Threshold,
    #[serde(rename = "R025")]
    pub r025: R025,
    #[serde(rename = "R028")]
    pub r028: Switch,
    #[serde(rename = "R030")]
    pub r030: Switch,
    #[serde(rename = "R035")]
    pub r035: R035,
    #[serde(rename = "R036")]
    pub r036: Switch,
    #[serde(rename = "R038")]
    pub r038: R038,
    #[serde(rename = "R048")]
    pub r048: R048,
    #[serde(rename = "R058")]
    pub r058: Threshold,
}

fn on() -> bool {
    true
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Exclusions {
    /// Processes with these `procurementMethodDetails` are left out of every
    /// indicator (and counted as excluded in the outcome).
    pub procurement_method_details: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Switch {
    #[serde(default = "on")]
    pub enabled: bool,
}

impl Default for Switch {
    fn default() -> Self {
        Switch { enabled: true }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Threshold {
    pub enabled: bool,
    /// A fixed threshold; unset, the fence comes from the data's quartiles
    /// (Tukey's fences: Q1 − 1.5·IQR or Q3 + 1.5·IQR).
    pub threshold: Option<f64>,
}

impl Default for Threshold {
    fn default() -> Self {
        Threshold {
            enabled: true,
            threshold: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct R003 {
    pub enabled: bool,
    /// Fewest days a tender period may last (default 15).
    pub threshold: i64,
    /// Only these `procurementMethod` values (default: all).
    pub procurement_methods: Vec<String>,
    /// A threshold per `procurementMethodDetails` value.
    pub procurement_method_details: BTreeMap<String, i64>,
}

impl Default for R003 {
    fn default() -> Self {
        R003 {
            enabled: true,
            threshold: 15,
            procurement_methods: Vec::new(),
            procurement_method_details: BTreeMap::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct R018 {
    pub enabled: bool,
    /// Only these `procurementMethod` values (default: open and selective,
    /// where more than one bid is expected).
    pub procurement_methods: Vec<String>,
}

impl Default for R018 {
    fn default() -> Self {
        R018 {
            enabled: true,
            procurement_methods: vec!["open".into(), "selective".into()],
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct R025 {
    pub enabled: bool,
    /// Tenderers must have bid in more processes than this percentile of all
    /// tenderers (default 75).
    pub percentile: f64,
    /// A fixed ratio of won to submitted; unset, Q1 − 1.5·IQR.
    pub threshold: Option<f64>,
}

impl Default for R025 {
    fn default() -> Self {
        R025 {
            enabled: true,
            percentile: 75.0,
            threshold: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct R035 {
    pub enabled: bool,
    /// Fewest other tenderers disqualified (default 1).
    pub threshold: usize,
}

impl Default for R035 {
    fn default() -> Self {
        R035 {
            enabled: true,
            threshold: 1,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct R038 {
    pub enabled: bool,
    /// A fixed ratio of disqualified to submitted bids; unset, Q3 + 1.5·IQR.
    pub threshold: Option<f64>,
    /// Fewest submitted bids for a tenderer to be judged (default 2).
    pub minimum_submitted_bids: usize,
    /// Fewest processes for a buyer or procuring entity to be judged (default 2).
    pub minimum_contracting_processes: usize,
}

impl Default for R038 {
    fn default() -> Self {
        R038 {
            enabled: true,
            threshold: None,
            minimum_submitted_bids: 2,
            minimum_contracting_processes: 2,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct R048 {
    pub enabled: bool,
    /// Leading digits of the item classification compared (default 2: the
    /// UNSPSC segment).
    pub digits: usize,
    /// A fixed number of distinct segments; unset, Q3 + 1.5·IQR.
    pub threshold: Option<f64>,
    /// Fewest processes won for a supplier to be judged (default 20).
    pub minimum_contracting_processes: usize,
}

impl Default for R048 {
    fn default() -> Self {
        R048 {
            enabled: true,
            digits: 2,
            threshold: None,
            minimum_contracting_processes: 20,
        }
    }
}

/// The `prepare` step: each setting changes data only when set; by default
/// the step only converts shapes (numeric ids to strings, objects to arrays)
/// and reports issues.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrepareSettings {
    /// Fill missing fields: `currency`, `item_classification_scheme`,
    /// `bid_status`, `award_status`; `party_roles = true` adds roles to
    /// parties from where they are referenced.
    pub defaults: PrepareDefaults,
    /// Placeholder values removed: amounts (e.g. `[0]`), organisation ids.
    pub redactions: Redactions,
    /// An award is `cancelled` when all of its contracts are.
    pub award_status_by_contract_status: bool,
    /// Move `/auctions/stages/bids` to `/bids/details`.
    pub move_auctions: bool,
    pub prefix_buyer_or_procuring_entity_id: String,
    pub prefix_tenderer_or_supplier_id: String,
    /// Keep only what comes before this separator in `procurementMethodDetails`.
    pub split_procurement_method_details: Option<String>,
    /// Codelist remaps, e.g. `bid_status = { qualified = "valid" }`.
    pub codelists: Codelists,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrepareDefaults {
    pub currency: Option<String>,
    pub item_classification_scheme: Option<String>,
    pub bid_status: Option<String>,
    pub award_status: Option<String>,
    pub party_roles: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Redactions {
    pub amount: Vec<f64>,
    pub organization_id: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Codelists {
    pub bid_status: BTreeMap<String, String>,
    pub award_status: BTreeMap<String, String>,
}

impl Settings {
    /// Reads our TOML settings.
    pub fn from_toml(text: &str) -> Result<Settings, SettingsError> {
        Ok(toml::from_str(text)?)
    }

    /// Reads a Cardinal settings file. As in Cardinal, an indicator runs only
    /// if its section is present.
    pub fn from_cardinal_ini(text: &str) -> Result<Settings, SettingsError> {
        let ini = ini::Ini::load_from_str(text).map_err(|e| SettingsError::Ini {
            line: e.line,
            message: e.msg.to_string(),
        })?;
        let mut s = Settings::default();
        let present = |name: &str| ini.section(Some(name)).is_some();
        s.r003.enabled = present("R003");
        s.r018.enabled = present("R018");
        s.r024.enabled = present("R024");
        s.r025.enabled = present("R025");
        s.r028.enabled = present("R028");
        s.r030.enabled = present("R030");
        s.r035.enabled = present("R035");
        s.r036.enabled = present("R036");
        s.r038.enabled = present("R038");
        s.r048.enabled = present("R048");
        s.r058.enabled = present("R058");

        for (section, props) in ini.iter() {
            let section_name = section.unwrap_or("");
            for (key, value) in props.iter() {
                let bad = |message: &str| SettingsError::Value {
                    section: section_name.to_string(),
                    key: key.to_string(),
                    value: value.to_string(),
                    message: message.to_string(),
                };
                let float = || value.trim().parse::<f64>().map_err(|_| bad("not a number"));
                let int = || {
                    value
                        .trim()
                        .parse::<i64>()
                        .map_err(|_| bad("not a whole number"))
                };
                let count = || {
                    value
                        .trim()
                        .parse::<usize>()
                        .map_err(|_| bad("not a count"))
                };
                let boolean = || match value.trim() {
                    "true" => Ok(true),
                    "false" => Ok(false),
                    _ => Err(bad("not true or false")),
                };
                let list = || pipe_list(value);
                match (section_name, key) {
                    ("", "currency") => s.currency = Some(value.trim().to_string()),
                    ("", "no_price_comparison_procurement_methods") => {
                        s.no_price_comparison_procurement_methods = list()
                    }
                    ("", "price_comparison_procurement_methods") => {
                        s.price_comparison_procurement_methods = list()
                    }
                    ("output", _) => {}
                    ("defaults", "currency") => s.prepare.defaults.currency = Some(value.into()),
                    ("defaults", "item_classification_scheme") => {
                        s.prepare.defaults.item_classification_scheme = Some(value.into())
                    }
                    ("defaults", "bid_status") => {
                        s.prepare.defaults.bid_status = Some(value.into())
                    }
                    ("defaults", "award_status") => {
                        s.prepare.defaults.award_status = Some(value.into())
                    }
                    ("defaults", "party_roles") => s.prepare.defaults.party_roles = boolean()?,
                    ("redactions", "amount") => {
                        s.prepare.redactions.amount = list()
                            .iter()
                            .map(|v| v.parse::<f64>().map_err(|_| bad("not a number")))
                            .collect::<Result<_, _>>()?
                    }
                    ("redactions", "organization_id") => {
                        s.prepare.redactions.organization_id = list()
                    }
                    ("corrections", "award_status_by_contract_status") => {
                        s.prepare.award_status_by_contract_status = boolean()?
                    }
                    ("modifications", "move_auctions") => s.prepare.move_auctions = boolean()?,
                    ("modifications", "prefix_buyer_or_procuring_entity_id") => {
                        s.prepare.prefix_buyer_or_procuring_entity_id = value.into()
                    }
                    ("modifications", "prefix_tenderer_or_supplier_id") => {
                        s.prepare.prefix_tenderer_or_supplier_id = value.into()
                    }
                    ("modifications", "split_procurement_method_details") => {
                        s.prepare.split_procurement_method_details = Some(value.into())
                    }
                    ("codelists.bid_status", from) => {
                        s.prepare
                            .codelists
                            .bid_status
                            .insert(from.into(), value.into());
                    }
                    ("codelists.award_status", from) => {
                        s.prepare
                            .codelists
                            .award_status
                            .insert(from.into(), value.into());
                    }
                    ("exclusions", "procurement_method_details") => {
                        s.exclusions.procurement_method_details = list()
                    }
                    ("R003", "threshold") => s.r003.threshold = int()?,
                    ("R003", "procurement_methods") => s.r003.procurement_methods = list(),
                    ("R003.procurement_method_details", details) => {
                        s.r003
                            .procurement_method_details
                            .insert(details.into(), int()?);
                    }
                    ("R018", "procurement_methods") => s.r018.procurement_methods = list(),
                    ("R024", "threshold") => s.r024.threshold = Some(float()?),
                    ("R025", "percentile") => s.r025.percentile = float()?,
                    ("R025", "threshold") => s.r025.threshold = Some(float()?),
                    ("R035", "threshold") => s.r035.threshold = count()?.max(1),
                    ("R038", "threshold") => s.r038.threshold = Some(float()?),
                    ("R038", "minimum_submitted_bids") => s.r038.minimum_submitted_bids = count()?,
                    ("R038", "minimum_contracting_processes") => {
                        s.r038.minimum_contracting_processes = count()?
                    }
                    ("R048", "digits") => s.r048.digits = count()?,
                    ("R048", "threshold") => s.r048.threshold = Some(float()?),
                    ("R048", "minimum_contracting_processes") => {
                        s.r048.minimum_contracting_processes = count()?
                    }
                    ("R058", "threshold") => s.r058.threshold = Some(float()?),
                    _ => return Err(bad("not a setting Cardinal 0.0.8 or Tuwhera knows")),
                }
            }
        }
        Ok(s)
    }
}

fn pipe_list(value: &str) -> Vec<String> {
    value
        .split_terminator('|')
        .map(|v| v.trim().to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_defaults_are_cardinals() {
        let s = Settings::from_toml("").unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(s.r003.threshold, 15);
        assert_eq!(s.r018.procurement_methods, ["open", "selective"]);
        assert!(s.r058.enabled);
    }

    #[test]
    fn toml_overrides_and_rejects_unknown_keys() {
        let s = Settings::from_toml(
            "currency = \"NZD\"\n[currency_rates]\nAUD = 1.09\n[R003]\nthreshold = 20\n[R003.procurement_method_details]\nemergency = 5\n[R058]\nenabled = false\n",
        )
        .unwrap();
        assert_eq!(s.currency.as_deref(), Some("NZD"));
        assert_eq!(s.currency_rates["AUD"], 1.09);
        assert_eq!(s.r003.threshold, 20);
        assert_eq!(s.r003.procurement_method_details["emergency"], 5);
        assert!(!s.r058.enabled);
        let err = Settings::from_toml("[R003]\nthreshhold = 1\n").unwrap_err();
        assert!(err.to_string().contains("threshhold"), "{err}");
    }

    #[test]
    fn cardinal_ini_sections_switch_indicators_on() {
        let s = Settings::from_cardinal_ini(
            "currency = DOP\n[defaults]\n; currency = USD\n[R003]\nthreshold = 10\n[R003.procurement_method_details]\nemergency = 3\n[R038]\n[exclusions]\nprocurement_method_details = Random Selection|Lottery\n",
        )
        .unwrap();
        assert_eq!(s.currency.as_deref(), Some("DOP"));
        assert!(s.r003.enabled && s.r038.enabled);
        assert!(!s.r024.enabled && !s.r058.enabled);
        assert_eq!(s.r003.threshold, 10);
        assert_eq!(s.r003.procurement_method_details["emergency"], 3);
        assert_eq!(
            s.exclusions.procurement_method_details,
            ["Random Selection", "Lottery"]
        );
        let err = Settings::from_cardinal_ini("[R003]\nthreshold = soon\n").unwrap_err();
        assert!(err.to_string().contains("[R003] threshold"), "{err}");
    }
}

//! What the checks need to know about one process: its date and edition, its
//! value in NZ$, the threshold for its category, how it was procured and
//! whether an exemption or opt-out is recorded.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde_json::{json, Map, Value};

use super::editions::{edition_for, Edition};
use super::holidays::nz_date;
use super::{Finding, OrgName, Outcome, RulesSettings};
use crate::process::{array_at, object_at, str_at};

/// A date with the field it came from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dated {
    pub date: Date,
    pub source: &'static str,
}

/// An exemption from open advertising or an opt-out, as recorded.
#[derive(Clone, Debug)]
pub(crate) enum Justification {
    OptOut(String),
    Exemption(String),
}

impl Justification {
    pub fn text(&self) -> &str {
        match self {
            Justification::OptOut(t) | Justification::Exemption(t) => t,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Justification::OptOut(_) => "opt-out",
            Justification::Exemption(_) => "exemption",
        }
    }
}

/// A process dated in an encoded edition and valued in NZ$, with the
/// threshold for its category.
#[derive(Clone, Debug)]
pub(crate) struct Scope {
    pub edition: &'static Edition,
    pub amount: f64,
    pub currency: String,
    pub value_source: &'static str,
    /// "goods", "services", "refurbishment works", "new construction works".
    pub kind: &'static str,
    pub threshold: f64,
    /// Under the threshold: the Rules do not require open advertising or a
    /// contract award notice, but the process may be part of a split.
    pub under: bool,
}

impl Scope {
    /// Why checks 1–3 do not apply to a process under its threshold.
    pub fn under_reason(&self) -> String {
        format!(
            "{} for {} is under the {} threshold, so the {}'s open-advertising and award-notice requirements do not apply.",
            nzd(self.amount),
            self.kind,
            nzd(self.threshold),
            self.edition.short
        )
    }
}

/// Why a process is out of scope, with what is known of it.
#[derive(Clone, Debug)]
pub(crate) struct OutOfScope {
    pub edition: Option<&'static Edition>,
    pub reason: String,
    pub details: Map<String, Value>,
}

/// A value, its currency and its source, before the scope is decided.
pub(crate) struct Valued {
    pub amount: f64,
    pub currency: String,
    pub source: &'static str,
}

/// The category's threshold, or why it cannot be chosen.
pub(crate) enum Category {
    Known {
        kind: &'static str,
        threshold: f64,
    },
    /// No `mainProcurementCategory`: the threshold is $100,000 or $9 million.
    Unstated,
}

pub(crate) struct Facts<'a> {
    pub ocid: &'a str,
    pub release: &'a Map<String, Value>,
    pub tender: Option<&'a Map<String, Value>>,
    pub buyer: Option<OrgName>,
    pub parties: BTreeMap<String, &'a Map<String, Value>>,
    pub dated: Option<Dated>,
    pub edition: Option<&'static Edition>,
    pub method: Option<&'a str>,
    pub justification: Option<Justification>,
}

/// An OCDS identifier: a string, or an integer written as one.
pub(crate) fn id_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A non-blank string field.
pub(crate) fn text_at<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    str_at(object, key).filter(|s| !s.trim().is_empty())
}

fn contains_any(text: &str, markers: &[String]) -> bool {
    let text = text.to_lowercase();
    markers
        .iter()
        .any(|m| !m.is_empty() && text.contains(&m.to_lowercase()))
}

/// The earliest parseable date among strings.
fn earliest<'v>(dates: impl Iterator<Item = &'v str>) -> Option<Date> {
    dates.filter_map(nz_date).min()
}

impl<'a> Facts<'a> {
    pub fn new(release: &'a Value, settings: &RulesSettings) -> Option<Facts<'a>> {
        let release = release.as_object()?;
        let ocid = text_at(release, "ocid")?;
        let apply = &settings.apply_to;
        if !apply.ocid_prefixes.is_empty()
            && !apply
                .ocid_prefixes
                .iter()
                .any(|p| ocid.starts_with(p.as_str()))
        {
            return None;
        }
        let buyer_ref = object_at(release, "buyer");
        if !apply.buyer_ids.is_empty() {
            let id = id_of(buyer_ref.and_then(|b| b.get("id")));
            if !id.is_some_and(|id| apply.buyer_ids.contains(&id)) {
                return None;
            }
        }
        let parties: BTreeMap<String, &Map<String, Value>> = array_at(release, "parties")
            .iter()
            .filter_map(Value::as_object)
            .filter_map(|p| Some((id_of(p.get("id"))?, p)))
            .collect();
        let tender = object_at(release, "tender");
        let buyer = buyer_name(buyer_ref, &parties);
        let dated = date_of(release, tender);
        let edition = dated.and_then(|d| edition_for(d.date));
        let method = tender.and_then(|t| text_at(t, "procurementMethod"));
        let justification = tender.and_then(|t| justification(t, settings));
        Some(Facts {
            ocid,
            release,
            tender,
            buyer,
            parties,
            dated,
            edition,
            method,
            justification,
        })
    }

    pub fn party(&self, id: Option<&Value>) -> Option<&'a Map<String, Value>> {
        id_of(id).and_then(|id| self.parties.get(&id).copied())
    }

    /// The buyer's party, by `buyer.id`, else the party with the buyer role.
    pub fn buyer_party(&self) -> Option<&'a Map<String, Value>> {
        self.party(object_at(self.release, "buyer").and_then(|b| b.get("id")))
            .or_else(|| {
                self.parties
                    .values()
                    .copied()
                    .find(|p| has_role(p, "buyer"))
            })
    }

    /// Awards that are made: status `active`, or no status given.
    pub fn active_awards(&self) -> Vec<&'a Map<String, Value>> {
        array_at(self.release, "awards")
            .iter()
            .filter_map(Value::as_object)
            .filter(|a| matches!(str_at(a, "status"), None | Some("active")))
            .collect()
    }

    /// Contracts not cancelled.
    pub fn contracts(&self) -> Vec<&'a Map<String, Value>> {
        array_at(self.release, "contracts")
            .iter()
            .filter_map(Value::as_object)
            .filter(|c| str_at(c, "status") != Some("cancelled"))
            .collect()
    }

    /// The contracts that implement an award, by `awardID`.
    pub fn contracts_of(&self, award: &Map<String, Value>) -> Vec<&'a Map<String, Value>> {
        let Some(id) = id_of(award.get("id")) else {
            return Vec::new();
        };
        self.contracts()
            .into_iter()
            .filter(|c| id_of(c.get("awardID")).as_deref() == Some(id.as_str()))
            .collect()
    }

    pub fn award_by_id(&self, id: Option<&Value>) -> Option<&'a Map<String, Value>> {
        let id = id_of(id)?;
        array_at(self.release, "awards")
            .iter()
            .filter_map(Value::as_object)
            .find(|a| id_of(a.get("id")).as_deref() == Some(id.as_str()))
    }

    pub fn is_cancelled(&self) -> bool {
        self.tender.and_then(|t| str_at(t, "status")) == Some("cancelled")
    }

    /// The process's value: `tender.value`, else the sum of the made awards'
    /// values, in a currency counted as NZD.
    pub fn value(&self, settings: &RulesSettings) -> Result<Valued, String> {
        let is_nzd = |c: &str| settings.nzd_currencies.iter().any(|n| n == c);
        if let Some(v) = self
            .tender
            .and_then(|t| object_at(t, "value"))
            .filter(|v| v.get("amount").is_some_and(Value::is_number))
        {
            let amount = v.get("amount").and_then(Value::as_f64).unwrap_or(0.0);
            return match text_at(v, "currency") {
                None => Err("tender.value has no currency, so it cannot be taken as NZ$.".into()),
                Some(c) if !is_nzd(c) => Err(format!(
                    "The value is in {c}, not NZD: the Rules' thresholds are in New Zealand dollars."
                )),
                Some(c) => Ok(Valued {
                    amount,
                    currency: c.to_string(),
                    source: "tender.value",
                }),
            };
        }
        let mut total = 0.0;
        let mut currency = None;
        for award in self.active_awards() {
            let Some(v) = object_at(award, "value") else {
                continue;
            };
            let Some(amount) = v.get("amount").and_then(Value::as_f64) else {
                continue;
            };
            match text_at(v, "currency") {
                None => return Err("An award's value has no currency, so it cannot be taken as NZ$.".into()),
                Some(c) if !is_nzd(c) => {
                    return Err(format!(
                        "An award's value is in {c}, not NZD: the Rules' thresholds are in New Zealand dollars."
                    ))
                }
                Some(c) => {
                    total += amount;
                    currency.get_or_insert(c.to_string());
                }
            }
        }
        match currency {
            Some(currency) => Ok(Valued {
                amount: total,
                currency,
                source: "awards[].value",
            }),
            None => Err("No value: neither tender.value nor any award's value is given.".into()),
        }
    }

    /// The threshold for the process's `mainProcurementCategory`.
    pub fn category(&self, edition: &Edition, settings: &RulesSettings) -> Category {
        let goods = edition.goods_services_threshold;
        let known = |kind, threshold| Category::Known { kind, threshold };
        match self
            .tender
            .and_then(|t| str_at(t, "mainProcurementCategory"))
        {
            Some("goods") => known("goods", goods),
            Some("services") => known("services", goods),
            Some("works") => {
                // OCDS has one `works` code; the Rules tell refurbishment
                // ($100,000) from new construction ($9 million). Without a
                // word saying refurbishment, the higher threshold is used, so
                // a works process is never flagged on the lower one by guess.
                let text = self
                    .tender
                    .map(|t| {
                        format!(
                            "{} {}",
                            str_at(t, "title").unwrap_or(""),
                            str_at(t, "description").unwrap_or("")
                        )
                    })
                    .unwrap_or_default();
                if contains_any(&text, &settings.refurbishment_markers) {
                    known("refurbishment works", goods)
                } else {
                    known("new construction works", edition.new_construction_threshold)
                }
            }
            _ => Category::Unstated,
        }
    }

    /// Whether the Rules can be applied: dated in an encoded edition, valued in
    /// NZ$, with a known threshold (whether the value reaches it is
    /// [`Scope::under`]).
    pub fn scope(&self, settings: &RulesSettings) -> Result<Scope, OutOfScope> {
        let mut details = Map::new();
        if let Some(d) = self.dated {
            details.insert("date".into(), json!(d.date.to_string()));
            details.insert("date_source".into(), json!(d.source));
        }
        let out = |edition, reason: String, details: &Map<String, Value>| OutOfScope {
            edition,
            reason,
            details: details.clone(),
        };
        if self.is_cancelled() {
            return Err(out(
                self.edition,
                "The tender was cancelled.".into(),
                &details,
            ));
        }
        let Some(dated) = self.dated else {
            return Err(out(
                None,
                "No date (tender period start, tender, award, contract or release date) to choose an edition of the Rules by.".into(),
                &details,
            ));
        };
        let Some(edition) = self.edition else {
            return Err(out(
                None,
                format!(
                    "Dated {} ({}), before the 4th edition came into force on 1 October 2019; earlier editions are not encoded.",
                    dated.date, dated.source
                ),
                &details,
            ));
        };
        let valued = match self.value(settings) {
            Ok(v) => v,
            Err(reason) => return Err(out(Some(edition), reason, &details)),
        };
        details.insert("amount".into(), json!(valued.amount));
        details.insert("currency".into(), json!(valued.currency));
        details.insert("value_source".into(), json!(valued.source));
        let goods = edition.goods_services_threshold;
        let construction = edition.new_construction_threshold;
        let (kind, threshold) = match self.category(edition, settings) {
            Category::Known { kind, threshold } => (kind, threshold),
            Category::Unstated if valued.amount >= goods.max(construction) => {
                ("an unstated category", goods.max(construction))
            }
            Category::Unstated if valued.amount < goods.min(construction) => {
                ("an unstated category", goods.min(construction))
            }
            Category::Unstated => {
                return Err(out(
                    Some(edition),
                    format!(
                        "No mainProcurementCategory: {} is at or over the {} threshold for goods and services but under the {} one for new construction works, so whether the Rules apply cannot be told.",
                        nzd(valued.amount),
                        nzd(goods),
                        nzd(construction)
                    ),
                    &details,
                ))
            }
        };
        details.insert("category".into(), json!(kind));
        details.insert("threshold".into(), json!(threshold));
        Ok(Scope {
            edition,
            amount: valued.amount,
            currency: valued.currency,
            value_source: valued.source,
            kind,
            threshold,
            under: valued.amount < threshold,
        })
    }

    /// A finding on this process.
    pub fn finding(
        &self,
        code: &str,
        edition: Option<&Edition>,
        rule: impl Fn(&Edition) -> &'static str,
        outcome: Outcome,
        reason: String,
        details: Map<String, Value>,
    ) -> Finding {
        Finding {
            code: code.to_string(),
            edition: edition.map(|e| e.name.to_string()).unwrap_or_default(),
            rule: edition.map(|e| rule(e).to_string()).unwrap_or_default(),
            ocid: self.ocid.to_string(),
            buyer: self.buyer.clone(),
            outcome,
            reason,
            details,
        }
    }
}

pub(crate) fn has_role(party: &Map<String, Value>, role: &str) -> bool {
    array_at(party, "roles")
        .iter()
        .any(|r| r.as_str() == Some(role))
}

/// `buyer` with the name from its party when the reference has none; else the
/// party with the buyer role.
fn buyer_name(
    buyer: Option<&Map<String, Value>>,
    parties: &BTreeMap<String, &Map<String, Value>>,
) -> Option<OrgName> {
    if let Some(b) = buyer {
        let id = id_of(b.get("id"));
        let name = text_at(b, "name").map(String::from).or_else(|| {
            id.as_ref()
                .and_then(|id| parties.get(id))
                .and_then(|p| text_at(p, "name"))
                .map(String::from)
        });
        if id.is_some() || name.is_some() {
            return Some(OrgName { id, name });
        }
    }
    let party = parties.values().find(|p| has_role(p, "buyer"))?;
    Some(OrgName {
        id: id_of(party.get("id")),
        name: text_at(party, "name").map(String::from),
    })
}

/// The date that picks the edition: the tender period's start, else the
/// tender's publication, else the first award, else the first signature, else
/// the release date.
fn date_of(release: &Map<String, Value>, tender: Option<&Map<String, Value>>) -> Option<Dated> {
    let dated = |date: Option<Date>, source| date.map(|date| Dated { date, source });
    let tender_start = tender
        .and_then(|t| object_at(t, "tenderPeriod"))
        .and_then(|p| str_at(p, "startDate"))
        .and_then(nz_date);
    let tender_published = tender
        .and_then(|t| str_at(t, "datePublished"))
        .and_then(nz_date);
    let award = earliest(
        array_at(release, "awards")
            .iter()
            .filter_map(|a| a.get("date").and_then(Value::as_str)),
    );
    let signed = earliest(
        array_at(release, "contracts")
            .iter()
            .filter_map(|c| c.get("dateSigned").and_then(Value::as_str)),
    );
    dated(tender_start, "tender.tenderPeriod.startDate")
        .or_else(|| dated(tender_published, "tender.datePublished"))
        .or_else(|| dated(award, "awards[].date"))
        .or_else(|| dated(signed, "contracts[].dateSigned"))
        .or_else(|| dated(str_at(release, "date").and_then(nz_date), "date"))
}

/// An exemption or opt-out, as recorded: `procurementMethodRationale` (OCDS:
/// "especially important to provide a justification in the case of limited
/// tenders or direct awards"), or `procurementMethodDetails` naming an
/// exemption or opt-out. Opt-out markers in either field make it an opt-out.
fn justification(tender: &Map<String, Value>, settings: &RulesSettings) -> Option<Justification> {
    let rationale = text_at(tender, "procurementMethodRationale").map(str::trim);
    let details = text_at(tender, "procurementMethodDetails").map(str::trim);
    let both = format!("{} {}", rationale.unwrap_or(""), details.unwrap_or(""));
    let text = rationale.or(details)?.to_string();
    if contains_any(&both, &settings.opt_out_markers) {
        return Some(Justification::OptOut(text));
    }
    if rationale.is_some() {
        return Some(Justification::Exemption(text));
    }
    details
        .filter(|d| contains_any(d, &settings.exemption_markers))
        .map(|d| Justification::Exemption(d.to_string()))
}

/// NZ$ with thousands separators, cents only when there are some:
/// `NZ$99,999.99`, `NZ$100,000`.
pub(crate) fn nzd(amount: f64) -> String {
    let cents = (amount.abs() * 100.0).round();
    let whole = (cents / 100.0).trunc();
    let frac = cents - whole * 100.0;
    let digits = format!("{whole:.0}");
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if amount < 0.0 { "-" } else { "" };
    if frac == 0.0 {
        format!("{sign}NZ${grouped}")
    } else {
        format!("{sign}NZ${grouped}.{frac:02.0}")
    }
}

/// A quotation for a reason sentence, cut at 120 characters.
pub(crate) fn quote(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > 120 {
        let cut: String = text.chars().take(119).collect();
        format!("\"{cut}…\"")
    } else {
        format!("\"{text}\"")
    }
}

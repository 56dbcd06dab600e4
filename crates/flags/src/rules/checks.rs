//! GPR-ADVERTISE, GPR-AWARD-NOTICE and GPR-NOTICE-CONTENT: the checks one
//! process can answer on its own.

use jiff::civil::Date;
use serde_json::{json, Map, Value};

use super::editions::Edition;
use super::facts::{id_of, nzd, quote, text_at, Facts, Justification, OutOfScope, Scope};
use super::holidays::{nz_date, Calendar};
use super::{Finding, Outcome, RulesSettings};
use crate::process::{array_at, object_at, str_at};

pub(crate) const ADVERTISE: &str = "GPR-ADVERTISE";
pub(crate) const AWARD_NOTICE: &str = "GPR-AWARD-NOTICE";
pub(crate) const NOTICE_CONTENT: &str = "GPR-NOTICE-CONTENT";

fn advertising_rule(e: &Edition) -> &'static str {
    e.open_advertising
}

fn notice_rule(e: &Edition) -> &'static str {
    e.award_notice
}

pub(crate) fn run(f: &Facts<'_>, settings: &RulesSettings) -> Vec<Finding> {
    let scope = f.scope(settings).and_then(|s| {
        if s.under {
            Err(OutOfScope {
                edition: Some(s.edition),
                reason: s.under_reason(),
                details: base(f, &s),
            })
        } else {
            Ok(s)
        }
    });
    match scope {
        Err(out) => [
            (ADVERTISE, advertising_rule as fn(&Edition) -> &'static str),
            (AWARD_NOTICE, notice_rule),
            (NOTICE_CONTENT, notice_rule),
        ]
        .into_iter()
        .map(|(code, rule)| {
            f.finding(
                code,
                out.edition,
                rule,
                Outcome::NotApplicable,
                out.reason.clone(),
                out.details.clone(),
            )
        })
        .collect(),
        Ok(scope) => vec![
            advertise(f, &scope),
            award_notice(f, &scope),
            notice_content(f, &scope),
        ],
    }
}

/// The figures every in-scope finding carries.
pub(crate) fn base(f: &Facts<'_>, s: &Scope) -> Map<String, Value> {
    let mut d = Map::new();
    if let Some(dated) = f.dated {
        d.insert("date".into(), json!(dated.date.to_string()));
        d.insert("date_source".into(), json!(dated.source));
    }
    d.insert("amount".into(), json!(s.amount));
    d.insert("currency".into(), json!(s.currency));
    d.insert("value_source".into(), json!(s.value_source));
    d.insert("category".into(), json!(s.kind));
    d.insert("threshold".into(), json!(s.threshold));
    d
}

fn advertise(f: &Facts<'_>, s: &Scope) -> Finding {
    let e = s.edition;
    let mut d = base(f, s);
    d.insert("procurementMethod".into(), json!(f.method));
    let what = format!(
        "{} for {}, at or over the {} threshold,",
        nzd(s.amount),
        s.kind,
        nzd(s.threshold)
    );
    let cite = format!("({}, {})", e.open_advertising, e.short);
    let (outcome, reason) = match (f.method, &f.justification) {
        (None, _) => (
            Outcome::NotApplicable,
            format!("{what} records no procurementMethod, so whether it was openly advertised cannot be told."),
        ),
        (Some("open"), _) => (
            Outcome::Met,
            format!("{what} was openly advertised (procurementMethod open) {cite}."),
        ),
        (Some(m), Some(j)) => {
            d.insert("justification".into(), json!(j.kind()));
            d.insert("justification_text".into(), json!(j.text()));
            let rule = match j {
                Justification::OptOut(_) => e.opt_outs,
                Justification::Exemption(_) => e.exemptions,
            };
            (
                Outcome::Met,
                format!(
                    "{what} was not openly advertised (procurementMethod {m}) but records an {} ({rule}, {}): {}.",
                    j.kind(),
                    e.short,
                    quote(j.text())
                ),
            )
        }
        (Some(m), None) => (
            Outcome::NotMet,
            format!(
                "{what} was not openly advertised (procurementMethod {m}) and records no exemption ({}) or opt-out ({}) {cite}.",
                e.exemptions, e.opt_outs
            ),
        ),
    };
    f.finding(ADVERTISE, Some(e), advertising_rule, outcome, reason, d)
}

/// Whether a contract award notice is due, or why not.
fn notice_due<'a>(f: &Facts<'a>, e: &Edition) -> Result<Vec<&'a Map<String, Value>>, String> {
    if !e.opt_out_needs_award_notice && matches!(f.justification, Some(Justification::OptOut(_))) {
        return Err(format!(
            "An opt-out procurement ({}) needs no contract award notice under {}.1 of the {}.",
            e.opt_outs, e.award_notice, e.short
        ));
    }
    let awards = f.active_awards();
    if awards.is_empty() {
        return Err(
            "No award has been made (no active award), so no contract award notice is due yet."
                .into(),
        );
    }
    Ok(awards)
}

/// When the award notice for a contract was published: the earliest
/// `datePublished` of an `awardNotice` or `contractNotice` document of the
/// contract or its award; else, for a release tagged award or contract (the
/// release is then the notice), the release's `date`.
fn notice_date(f: &Facts<'_>, contract: &Map<String, Value>) -> Option<(Date, &'static str)> {
    let award = f.award_by_id(contract.get("awardID"));
    let award_docs = award.map(|a| array_at(a, "documents")).unwrap_or(&[]);
    let from_docs = array_at(contract, "documents")
        .iter()
        .chain(award_docs)
        .filter_map(Value::as_object)
        .filter(|d| {
            matches!(
                str_at(d, "documentType"),
                Some("awardNotice" | "contractNotice")
            )
        })
        .filter_map(|d| str_at(d, "datePublished").and_then(nz_date))
        .min();
    if let Some(d) = from_docs {
        return Some((d, "documents[].datePublished"));
    }
    let tagged = array_at(f.release, "tag").iter().any(|t| {
        matches!(
            t.as_str(),
            Some("award" | "awardUpdate" | "contract" | "contractUpdate")
        )
    });
    if tagged {
        return str_at(f.release, "date")
            .and_then(nz_date)
            .map(|d| (d, "date"));
    }
    None
}

fn award_notice(f: &Facts<'_>, s: &Scope) -> Finding {
    let e = s.edition;
    let mut d = base(f, s);
    let na = |reason: String, d: Map<String, Value>| {
        f.finding(
            AWARD_NOTICE,
            Some(e),
            notice_rule,
            Outcome::NotApplicable,
            reason,
            d,
        )
    };
    if let Err(reason) = notice_due(f, e) {
        return na(reason, d);
    }
    let limit = e.award_notice_business_days;
    d.insert("limit_business_days".into(), json!(limit));
    let mut calendar = Calendar::new();
    let mut rows = Vec::new();
    let mut signed_any = false;
    for contract in f.contracts() {
        let Some(signed) = str_at(contract, "dateSigned").and_then(nz_date) else {
            continue;
        };
        signed_any = true;
        let Some((published, source)) = notice_date(f, contract) else {
            continue;
        };
        let days = calendar.business_days_after(signed, published);
        rows.push((id_of(contract.get("id")), signed, published, source, days));
    }
    if rows.is_empty() {
        let reason = if signed_any {
            "No publication date for the contract award notice: no awardNotice or contractNotice document with datePublished, and the release is not itself an award or contract release."
        } else {
            "No contract has a signature date (contracts[].dateSigned), so the business days to the notice cannot be counted."
        };
        return na(reason.into(), d);
    }
    d.insert(
        "contracts".into(),
        Value::Array(
            rows.iter()
                .map(|(id, signed, published, source, days)| {
                    json!({
                        "id": id,
                        "dateSigned": signed.to_string(),
                        "noticePublished": published.to_string(),
                        "noticeDateSource": source,
                        "businessDays": days,
                    })
                })
                .collect(),
        ),
    );
    // The contract whose notice came latest decides.
    let worst = rows
        .iter()
        .max_by_key(|(_, _, _, _, days)| *days)
        .map(|(_, signed, published, _, days)| (*signed, *published, *days));
    let Some((signed, published, days)) = worst else {
        return na("No contract to check.".into(), d);
    };
    let cite = format!("({}, {})", e.award_notice, e.short);
    let (outcome, reason) = if published <= signed {
        (
            Outcome::Met,
            format!("The contract award notice was published on {published}, not after the contract was signed on {signed} {cite}."),
        )
    } else if days <= limit {
        (
            Outcome::Met,
            format!("The contract award notice was published on {published}, {days} business days after the contract was signed on {signed}, within the {limit} allowed {cite}."),
        )
    } else {
        (
            Outcome::NotMet,
            format!("The contract award notice was published on {published}, {days} business days after the contract was signed on {signed}, more than the {limit} allowed {cite}."),
        )
    };
    f.finding(AWARD_NOTICE, Some(e), notice_rule, outcome, reason, d)
}

/// The content Rule 48.2 (4th edition) and Rule 32.2 (5th edition) require
/// that OCDS can carry, by id and as a reason names it.
const CONTENT: [(&str, &str); 11] = [
    ("agency_name", "the agency's name"),
    ("agency_address", "the agency's address"),
    ("supplier_name", "the supplier's name"),
    ("supplier_address", "the supplier's address"),
    ("supplier_nzbn", "the supplier's NZBN"),
    (
        "description",
        "a description of the goods, services or works",
    ),
    ("award_date", "the award date"),
    ("contract_term", "the contract term"),
    ("expected_spend", "the expected spend"),
    ("process_type", "the type of procurement process"),
    (
        "justification",
        "the circumstances justifying the exemption or opt-out",
    ),
];

fn has_address(party: &Map<String, Value>) -> bool {
    object_at(party, "address").is_some_and(|a| {
        [
            "streetAddress",
            "locality",
            "region",
            "postalCode",
            "countryName",
        ]
        .iter()
        .any(|k| text_at(a, k).is_some())
    })
}

/// An identifier with scheme `NZ-NZBN`, as `identifier` or among
/// `additionalIdentifiers`.
pub(crate) fn nzbn(party: &Map<String, Value>) -> Option<String> {
    object_at(party, "identifier")
        .into_iter()
        .chain(
            array_at(party, "additionalIdentifiers")
                .iter()
                .filter_map(Value::as_object),
        )
        .filter(|i| str_at(i, "scheme") == Some("NZ-NZBN"))
        .find_map(|i| id_of(i.get("id")))
}

fn has_period(period: Option<&Map<String, Value>>) -> bool {
    period.is_some_and(|p| {
        text_at(p, "startDate").is_some()
            && (text_at(p, "endDate").is_some()
                || text_at(p, "maxExtentDate").is_some()
                || p.get("durationInDays").is_some_and(Value::is_number))
    })
}

fn has_amount(object: &Map<String, Value>) -> bool {
    object_at(object, "value").is_some_and(|v| v.get("amount").is_some_and(Value::is_number))
}

fn described(object: &Map<String, Value>) -> bool {
    text_at(object, "description").is_some()
        || array_at(object, "items")
            .iter()
            .filter_map(Value::as_object)
            .any(|i| text_at(i, "description").is_some())
}

fn notice_content(f: &Facts<'_>, s: &Scope) -> Finding {
    let e = s.edition;
    let mut d = base(f, s);
    let awards = match notice_due(f, e) {
        Ok(awards) => awards,
        Err(reason) => {
            return f.finding(
                NOTICE_CONTENT,
                Some(e),
                notice_rule,
                Outcome::NotApplicable,
                reason,
                d,
            )
        }
    };
    let mut missing: Vec<&str> = Vec::new();
    let mut miss = |id: &'static str| {
        if !missing.contains(&id) {
            missing.push(id);
        }
    };
    if f.buyer.as_ref().and_then(|b| b.name.as_ref()).is_none() {
        miss("agency_name");
    }
    if !f.buyer_party().is_some_and(has_address) {
        miss("agency_address");
    }
    for award in &awards {
        let suppliers: Vec<&Map<String, Value>> = array_at(award, "suppliers")
            .iter()
            .filter_map(Value::as_object)
            .collect();
        if suppliers.is_empty() {
            miss("supplier_name");
            miss("supplier_address");
            miss("supplier_nzbn");
        }
        for supplier in suppliers {
            let party = f.party(supplier.get("id"));
            if text_at(supplier, "name").is_none()
                && party.and_then(|p| text_at(p, "name")).is_none()
            {
                miss("supplier_name");
            }
            if !party.is_some_and(has_address) {
                miss("supplier_address");
            }
            if party.and_then(nzbn).is_none() {
                miss("supplier_nzbn");
            }
        }
        let contracts = f.contracts_of(award);
        if !(described(award)
            || contracts.iter().any(|c| described(c))
            || f.tender.is_some_and(described))
        {
            miss("description");
        }
        if str_at(award, "date").and_then(nz_date).is_none() {
            miss("award_date");
        }
        if !(has_period(object_at(award, "contractPeriod"))
            || contracts.iter().any(|c| has_period(object_at(c, "period"))))
        {
            miss("contract_term");
        }
        if !(has_amount(award) || contracts.iter().any(|c| has_amount(c))) {
            miss("expected_spend");
        }
    }
    let details_given = f
        .tender
        .and_then(|t| text_at(t, "procurementMethodDetails"))
        .is_some();
    if f.method.is_none() && !details_given {
        miss("process_type");
    }
    // The justification is due when the process was not openly advertised.
    let justification_due = f.method.is_some_and(|m| m != "open");
    let rationale = f
        .tender
        .and_then(|t| text_at(t, "procurementMethodRationale"))
        .is_some();
    if justification_due && !rationale {
        miss("justification");
    }
    let checked: Vec<&str> = CONTENT
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| *id != "justification" || justification_due)
        .collect();
    let ordered: Vec<&(&str, &str)> = CONTENT
        .iter()
        .filter(|(id, _)| missing.contains(id))
        .collect();
    d.insert("checked".into(), json!(checked));
    d.insert(
        "missing".into(),
        json!(ordered.iter().map(|(id, _)| *id).collect::<Vec<_>>()),
    );
    let cite = format!("({}, {})", e.award_notice, e.short);
    let (outcome, reason) = if ordered.is_empty() {
        (
            Outcome::Met,
            format!(
                "The contract award notice has all {} items checked {cite}.",
                checked.len()
            ),
        )
    } else {
        let labels: Vec<&str> = ordered.iter().map(|(_, label)| *label).collect();
        (
            Outcome::NotMet,
            format!(
                "The contract award notice lacks {} of {} items checked: {} {cite}.",
                labels.len(),
                checked.len(),
                join(&labels)
            ),
        )
    };
    f.finding(NOTICE_CONTENT, Some(e), notice_rule, outcome, reason, d)
}

/// "a", "a and b", "a, b and c".
pub(crate) fn join(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

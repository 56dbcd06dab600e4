//! GPR-SPLITTING: several awards by one buyer to one supplier within a window,
//! each under the threshold for open advertising, together at or over it — a
//! sign, not proof, that one procurement was divided to stay under the
//! threshold (non-avoidance: Rule 9, 4th edition).
//!
//! Cross-process, so it runs as fold → merge → finish like the indicators:
//! `fold` reads one release at a time (on any thread) and keeps a small
//! summary; `merge` (or `reduce`, by value) joins two accumulators; `finish`
//! groups the summaries by buyer, supplier and threshold and slides the
//! window over each group.
//! The result does not depend on the order releases were folded in.

use std::collections::BTreeMap;

use jiff::civil::Date;
use rayon::prelude::*;
use serde_json::{json, Map, Value};

use super::checks::{base, join, nzbn};
use super::editions::Edition;
use super::facts::{id_of, nzd, text_at, Facts, OutOfScope};
use super::holidays::nz_date;
use super::{Finding, OrgName, Outcome, RulesSettings};
use crate::process::{array_at, str_at};

pub(crate) const SPLITTING: &str = "GPR-SPLITTING";

fn rule(e: &Edition) -> &'static str {
    e.non_avoidance
}

/// One process's award to one supplier, as the window sees it.
#[derive(Clone, Debug)]
struct Entry {
    /// Buyer key, supplier key, threshold (as bits, so it can be a key).
    group: (String, String, u64),
    ocid: String,
    date: Date,
    amount: f64,
    supplier: OrgName,
}

/// A process under the threshold, waiting for `finish` to see its
/// neighbours.
#[derive(Clone, Debug)]
struct Candidate {
    ocid: String,
    buyer: Option<OrgName>,
    edition: &'static Edition,
    amount: f64,
    kind: &'static str,
    threshold: f64,
    suppliers: Vec<OrgName>,
    details: Map<String, Value>,
}

/// The GPR-SPLITTING accumulator. See the module documentation.
#[derive(Clone, Debug, Default)]
pub struct Splitting {
    entries: Vec<Entry>,
    candidates: Vec<Candidate>,
    /// Processes decided in `fold`: not applicable, with the reason.
    decided: Vec<Finding>,
}

/// A stable key for an organisation across processes: its NZBN, else its
/// main identifier, else its party id, else its name. Party ids are only
/// unique within one process, so a registered identifier comes first.
fn org_key(reference: &Map<String, Value>, party: Option<&Map<String, Value>>) -> Option<String> {
    if let Some(nzbn) = party.and_then(nzbn) {
        return Some(format!("NZ-NZBN-{nzbn}"));
    }
    let identifier = party
        .and_then(|p| p.get("identifier"))
        .and_then(Value::as_object);
    if let Some(i) = identifier {
        if let (Some(scheme), Some(id)) = (text_at(i, "scheme"), id_of(i.get("id"))) {
            return Some(format!("{scheme}-{id}"));
        }
    }
    if let Some(id) = id_of(reference.get("id")) {
        return Some(format!("id:{id}"));
    }
    text_at(reference, "name")
        .or_else(|| party.and_then(|p| text_at(p, "name")))
        .map(|n| format!("name:{}", n.trim().to_lowercase()))
}

fn org_name(reference: &Map<String, Value>, party: Option<&Map<String, Value>>) -> OrgName {
    OrgName {
        id: id_of(reference.get("id")),
        name: text_at(reference, "name")
            .or_else(|| party.and_then(|p| text_at(p, "name")))
            .map(String::from),
    }
}

impl Splitting {
    pub fn new() -> Splitting {
        Splitting::default()
    }

    /// Reads one release (a compiled release, or one carrying the tender and
    /// awards).
    pub fn fold(&mut self, release: &Value, settings: &RulesSettings) {
        let Some(f) = Facts::new(release, settings) else {
            return;
        };
        match self.candidate(&f, settings) {
            Ok(()) => {}
            Err(out) => self.decided.push(f.finding(
                SPLITTING,
                out.edition,
                rule,
                Outcome::NotApplicable,
                out.reason,
                out.details,
            )),
        }
    }

    /// Adds a process under its threshold, or says why it cannot be part of a
    /// split.
    fn candidate(&mut self, f: &Facts<'_>, settings: &RulesSettings) -> Result<(), OutOfScope> {
        let s = f.scope(settings)?;
        let mut details = base(f, &s);
        details.insert("window_days".into(), json!(settings.window_days));
        let e = Some(s.edition);
        if !s.under {
            return Err(OutOfScope {
                edition: e,
                reason: format!(
                    "{} for {} is at or over the {} threshold itself: see GPR-ADVERTISE.",
                    nzd(s.amount),
                    s.kind,
                    nzd(s.threshold)
                ),
                details,
            });
        }
        if f.method == Some("open") {
            return Err(OutOfScope {
                edition: e,
                reason: "The process was openly advertised (procurementMethod open), so it avoided nothing.".into(),
                details,
            });
        }
        let buyer_key = f
            .buyer_party()
            .and_then(nzbn)
            .map(|n| format!("NZ-NZBN-{n}"))
            .or_else(|| {
                f.buyer
                    .as_ref()
                    .and_then(|b| b.id.as_ref())
                    .map(|id| format!("id:{id}"))
            });
        let Some(buyer_key) = buyer_key else {
            return Err(OutOfScope {
                edition: e,
                reason: "No buyer id, so the buyer's other awards cannot be found.".into(),
                details,
            });
        };
        // Per supplier: the sum of its awards' values (if any has one) and
        // the earliest award date, else signature date.
        let mut per_supplier: BTreeMap<String, (OrgName, Option<f64>, Option<Date>)> =
            BTreeMap::new();
        for award in f.active_awards() {
            let award_amount = award
                .get("value")
                .and_then(|v| v.get("amount"))
                .and_then(Value::as_f64);
            let signed = f
                .contracts_of(award)
                .iter()
                .filter_map(|c| str_at(c, "dateSigned").and_then(nz_date))
                .min();
            let date = str_at(award, "date").and_then(nz_date).or(signed);
            for supplier in array_at(award, "suppliers")
                .iter()
                .filter_map(Value::as_object)
            {
                let party = f.party(supplier.get("id"));
                let Some(key) = org_key(supplier, party) else {
                    continue;
                };
                let slot = per_supplier
                    .entry(key)
                    .or_insert_with(|| (org_name(supplier, party), None, None));
                if let Some(a) = award_amount {
                    slot.1 = Some(slot.1.unwrap_or(0.0) + a);
                }
                slot.2 = match (slot.2, date) {
                    (Some(x), Some(y)) => Some(x.min(y)),
                    (x, y) => x.or(y),
                };
            }
        }
        let single = per_supplier.len() == 1;
        let mut suppliers = Vec::new();
        for (key, (name, sum, date)) in per_supplier {
            // A supplier's share is its awards' values; the process value when
            // it is the only supplier and its awards carry none.
            let Some(share) = sum.or(single.then_some(s.amount)) else {
                continue;
            };
            let Some(date) = date.or(f.dated.map(|d| d.date)) else {
                continue;
            };
            suppliers.push(name.clone());
            self.entries.push(Entry {
                group: (buyer_key.clone(), key, s.threshold.to_bits()),
                ocid: f.ocid.to_string(),
                date,
                amount: share,
                supplier: name,
            });
        }
        if suppliers.is_empty() {
            return Err(OutOfScope {
                edition: e,
                reason: "No made award names a supplier with a value and a date, so there is nothing to add up.".into(),
                details,
            });
        }
        self.candidates.push(Candidate {
            ocid: f.ocid.to_string(),
            buyer: f.buyer.clone(),
            edition: s.edition,
            amount: s.amount,
            kind: s.kind,
            threshold: s.threshold,
            suppliers,
            details,
        });
        Ok(())
    }

    /// Merges another accumulator into this one.
    pub fn merge(&mut self, other: Splitting) {
        self.entries.extend(other.entries);
        self.candidates.extend(other.candidates);
        self.decided.extend(other.decided);
    }

    /// [`Splitting::merge`] by value, for rayon's `reduce`.
    pub fn reduce(mut self, other: Splitting) -> Splitting {
        self.merge(other);
        self
    }

    /// One finding per process read: `not-met` for a process in a run of
    /// awards that together reach the threshold, `met` for one that is not,
    /// `not-applicable` with the reason otherwise. Sorted by ocid.
    pub fn finish(self, settings: &RulesSettings) -> Vec<Finding> {
        let window = i64::from(settings.window_days);
        let mut groups: BTreeMap<(String, String, u64), Vec<Entry>> = BTreeMap::new();
        for entry in self.entries {
            groups.entry(entry.group.clone()).or_default().push(entry);
        }
        // ocid → the runs it is part of (one per supplier at most).
        let mut runs: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (_, mut entries) in groups {
            entries.sort_by(|a, b| (a.date, &a.ocid).cmp(&(b.date, &b.ocid)));
            let Some(threshold) = entries.first().map(|e| f64::from_bits(e.group.2)) else {
                continue;
            };
            // Windows [i, j]: the most awards ending at j whose first and last
            // dates are at most `window` days apart, kept when two or more of
            // them reach the threshold together.
            let mut windows: Vec<(usize, usize, f64)> = Vec::new();
            let mut i = 0;
            for j in 0..entries.len() {
                while i < j && days(entries[i].date, entries[j].date) > window {
                    i += 1;
                }
                // Summed afresh, not kept running, so rounding does not drift.
                let total: f64 = entries[i..=j].iter().map(|e| e.amount).sum();
                if j > i && total >= threshold {
                    windows.push((i, j, total));
                }
            }
            for (k, entry) in entries.iter().enumerate() {
                // The largest window holding this award speaks for it.
                let best = windows
                    .iter()
                    .filter(|(i, j, _)| *i <= k && k <= *j)
                    .max_by(|a, b| a.2.total_cmp(&b.2).then(b.0.cmp(&a.0)));
                let Some(&(i, j, total)) = best else { continue };
                let members = entries.get(i..=j).unwrap_or_default();
                let (Some(first), Some(last)) = (members.first(), members.last()) else {
                    continue;
                };
                runs.entry(entry.ocid.clone()).or_default().push(json!({
                    "supplier": entry.supplier,
                    "first_date": first.date.to_string(),
                    "last_date": last.date.to_string(),
                    "days": days(first.date, last.date),
                    "total": total,
                    "awards": members.iter().map(|m| json!({
                        "ocid": m.ocid,
                        "date": m.date.to_string(),
                        "amount": m.amount,
                    })).collect::<Vec<_>>(),
                }));
            }
        }
        let mut out = self.decided;
        for c in self.candidates {
            let found = runs.remove(&c.ocid).unwrap_or_default();
            out.push(candidate_finding(c, found, window));
        }
        out.sort_by(|a, b| a.ocid.cmp(&b.ocid));
        out
    }
}

/// Whole days from `a` to `b`.
fn days(a: Date, b: Date) -> i64 {
    a.until(b)
        .map(|s| i64::from(s.get_days()))
        .unwrap_or(i64::MAX)
}

fn candidate_finding(c: Candidate, mut found: Vec<Value>, window: i64) -> Finding {
    let e = c.edition;
    let buyer = c.buyer.as_ref().map_or("the buyer", OrgName::label);
    let cite = format!("({}, {})", e.non_avoidance, e.short);
    let mut details = c.details;
    // The run with the largest total first.
    found.sort_by(|a, b| {
        let total = |v: &Value| v.get("total").and_then(Value::as_f64).unwrap_or(0.0);
        total(b).total_cmp(&total(a))
    });
    let (outcome, reason) = match found.first() {
        Some(run) => {
            let n = run
                .get("awards")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let supplier = run
                .get("supplier")
                .and_then(|s| s.get("name").or_else(|| s.get("id")))
                .and_then(Value::as_str)
                .unwrap_or("one supplier");
            let text = |k: &str| {
                run.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string()
            };
            let total = run.get("total").and_then(Value::as_f64).unwrap_or(0.0);
            let span = run.get("days").and_then(Value::as_i64).unwrap_or(0);
            (
                Outcome::NotMet,
                format!(
                    "{} for {} is one of {n} awards by {buyer} to {supplier} between {} and {} ({span} days apart, window {window}), each under the {} threshold but together {} {cite}.",
                    nzd(c.amount),
                    c.kind,
                    text("first_date"),
                    text("last_date"),
                    nzd(c.threshold),
                    nzd(total)
                ),
            )
        }
        None => {
            let names: Vec<&str> = c.suppliers.iter().map(OrgName::label).collect();
            (
                Outcome::Met,
                format!(
                    "No awards by {buyer} to {} within {window} days of each other reach the {} threshold for {} together; this one was {} {cite}.",
                    join(&names),
                    nzd(c.threshold),
                    c.kind,
                    nzd(c.amount)
                ),
            )
        }
    };
    details.insert("suppliers".into(), json!(c.suppliers));
    if !found.is_empty() {
        details.insert("runs".into(), Value::Array(found));
    }
    Finding {
        code: SPLITTING.to_string(),
        edition: e.name.to_string(),
        rule: e.non_avoidance.to_string(),
        ocid: c.ocid,
        buyer: c.buyer,
        outcome,
        reason,
        details,
    }
}

/// GPR-SPLITTING over releases in memory, on every core.
pub fn check_splitting(releases: &[Value], settings: &RulesSettings) -> Vec<Finding> {
    releases
        .par_iter()
        .fold(Splitting::new, |mut acc, release| {
            acc.fold(release, settings);
            acc
        })
        .reduce(Splitting::new, Splitting::reduce)
        .finish(settings)
}

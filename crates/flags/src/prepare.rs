//! Cardinal's `prepare` step: corrections made before indicators run.
//!
//! Each correction is off unless its setting is set, except the shape fixes
//! every indicator relies on (numeric ids written as strings; a single object
//! where an array belongs). Every change and every issue is reported with the
//! line, ocid and path, so nothing is corrected silently.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::settings::PrepareSettings;

/// A change made, or an issue found and left for the publisher.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    pub line: u64,
    pub ocid: String,
    /// The field, with `[]` for array members, as Cardinal writes it.
    pub path: String,
    /// Array indexes along the path, dot-separated.
    pub index: String,
    /// The value found (empty when there was none).
    pub value: String,
    /// What was done or found.
    pub action: String,
}

#[derive(Debug, Default)]
pub struct Report {
    /// Data changed.
    pub changes: Vec<Change>,
    /// Issues found and left as they are (Cardinal's issues file).
    pub issues: Vec<Change>,
}

const BID_STATUS: &[&str] = &["invited", "pending", "valid", "disqualified", "withdrawn"];
const AWARD_STATUS: &[&str] = &["pending", "active", "cancelled", "unsuccessful"];

struct Ctx<'a> {
    s: &'a PrepareSettings,
    line: u64,
    ocid: String,
    report: Report,
}

impl Ctx<'_> {
    fn record(
        &mut self,
        change: bool,
        path: &str,
        index: String,
        value: &str,
        action: impl Into<String>,
    ) {
        let c = Change {
            line: self.line,
            ocid: self.ocid.clone(),
            path: path.to_string(),
            index,
            value: value.to_string(),
            action: action.into(),
        };
        if change {
            self.report.changes.push(c);
        } else {
            self.report.issues.push(c);
        }
    }

    /// Numeric id → string; redacted id removed; prefix added; roles noted.
    fn organisation(
        &mut self,
        object: &mut Map<String, Value>,
        path: &str,
        index: String,
        prefix: &str,
    ) -> Option<String> {
        if let Some(Value::Number(n)) = object.get("id") {
            let text = n.to_string();
            self.record(
                true,
                &format!("{path}/id"),
                index.clone(),
                &text,
                "stringified",
            );
            object.insert("id".into(), Value::String(text));
        }
        let id = object.get("id").and_then(Value::as_str)?.to_string();
        if self.s.redactions.organization_id.contains(&id) {
            object.remove("id");
            self.record(true, &format!("{path}/id"), index, &id, "redacted");
            return None;
        }
        if !prefix.is_empty() && !id.starts_with(prefix) {
            let prefixed = format!("{prefix}{id}");
            object.insert("id".into(), Value::String(prefixed.clone()));
            self.record(
                true,
                &format!("{path}/id"),
                index,
                &id,
                format!("prefixed to {prefixed}"),
            );
            return Some(prefixed);
        }
        Some(id)
    }

    /// An organisation array (tenderers, suppliers, parties): a lone object is
    /// wrapped in an array first.
    fn organisations(
        &mut self,
        parent: &mut Map<String, Value>,
        key: &str,
        path: &str,
        index: &str,
        prefix: &str,
    ) -> Vec<String> {
        if parent.get(key).is_some_and(Value::is_object) {
            if let Some(v) = parent.remove(key) {
                parent.insert(key.into(), Value::Array(vec![v]));
                self.record(
                    true,
                    &format!("{path}/{key}"),
                    index.to_string(),
                    "",
                    "wrapped in an array",
                );
            }
        }
        let mut ids = Vec::new();
        if let Some(Value::Array(array)) = parent.get_mut(key) {
            for (k, entry) in array.iter_mut().enumerate() {
                if let Value::Object(object) = entry {
                    let i = if index.is_empty() {
                        k.to_string()
                    } else {
                        format!("{index}.{k}")
                    };
                    if let Some(id) =
                        self.organisation(object, &format!("{path}/{key}[]"), i, prefix)
                    {
                        ids.push(id);
                    }
                }
            }
        }
        ids
    }

    fn status(
        &mut self,
        object: &mut Map<String, Value>,
        path: &str,
        index: String,
        default: &Option<String>,
        remap: &BTreeMap<String, String>,
        codes: &[&str],
    ) {
        if !object.contains_key("status") {
            match default {
                Some(d) => {
                    object.insert("status".into(), Value::String(d.clone()));
                    self.record(true, path, index.clone(), d, "set to default");
                }
                None => self.record(false, path, index.clone(), "", "not set"),
            }
        }
        if let Some(Value::String(status)) = object.get_mut("status") {
            if let Some(to) = remap.get(status.as_str()) {
                let from = std::mem::replace(status, to.clone());
                let to = to.clone();
                self.record(
                    true,
                    path,
                    index.clone(),
                    &from,
                    format!("remapped to {to}"),
                );
            }
        }
        if let Some(Value::String(status)) = object.get("status") {
            if !codes.contains(&status.as_str()) {
                let status = status.clone();
                self.record(false, path, index, &status, "invalid");
            }
        }
    }

    fn classification_scheme(&mut self, item: &mut Map<String, Value>, path: &str, index: String) {
        if let Some(Value::Object(classification)) = item.get_mut("classification") {
            if let Some(Value::Number(n)) = classification.get("id") {
                let text = n.to_string();
                classification.insert("id".into(), Value::String(text.clone()));
                self.record(
                    true,
                    &format!("{path}/classification/id"),
                    index.clone(),
                    &text,
                    "stringified",
                );
            }
            if !classification.contains_key("scheme") {
                match &self.s.defaults.item_classification_scheme {
                    Some(d) => {
                        classification.insert("scheme".into(), Value::String(d.clone()));
                        self.record(
                            true,
                            &format!("{path}/classification/scheme"),
                            index,
                            d,
                            "set to default",
                        );
                    }
                    None => self.record(
                        false,
                        &format!("{path}/classification/scheme"),
                        index,
                        "",
                        "not set",
                    ),
                }
            }
        }
    }
}

/// Prepares one compiled release in place. `line` is its line in the input,
/// for the report.
pub fn prepare(release: &mut Value, settings: &PrepareSettings, line: u64) -> Report {
    let Value::Object(release) = release else {
        return Report::default();
    };
    let mut ctx = Ctx {
        s: settings,
        line,
        ocid: release
            .get("ocid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        report: Report::default(),
    };
    let s = settings;
    let buyer_prefix = s.prefix_buyer_or_procuring_entity_id.as_str();
    let tenderer_prefix = s.prefix_tenderer_or_supplier_id.as_str();

    ctx.organisations(release, "parties", "", "", "");
    // Roles a party is referenced in, for `party_roles`.
    let mut roles: Vec<(String, &'static str)> = Vec::new();

    if let Some(Value::Object(buyer)) = release.get_mut("buyer") {
        if let Some(id) = ctx.organisation(buyer, "/buyer", String::new(), buyer_prefix) {
            roles.push((id, "buyer"));
        }
    }
    if let Some(Value::Object(tender)) = release.get_mut("tender") {
        if let Some(Value::Object(pe)) = tender.get_mut("procuringEntity") {
            if let Some(id) =
                ctx.organisation(pe, "/tender/procuringEntity", String::new(), buyer_prefix)
            {
                roles.push((id, "procuringEntity"));
            }
        }
        if let (Some(sep), Some(Value::String(details))) = (
            &s.split_procurement_method_details,
            tender.get_mut("procurementMethodDetails"),
        ) {
            if let Some((head, _)) = details.split_once(sep.as_str()) {
                let head = head.trim_end().to_string();
                let from = std::mem::replace(details, head.clone());
                ctx.record(
                    true,
                    "/tender/procurementMethodDetails",
                    String::new(),
                    &from,
                    format!("split to {head}"),
                );
            }
        }
    }

    if s.move_auctions {
        if release.contains_key("auctions") && release.contains_key("bids") {
            ctx.record(
                false,
                "/auctions",
                String::new(),
                "",
                "not moved: /bids is occupied",
            );
        } else if let Some(Value::Array(auctions)) = release.remove("auctions") {
            let mut details = Vec::new();
            for auction in auctions {
                if let Value::Object(mut auction) = auction {
                    if let Some(Value::Array(stages)) = auction.remove("stages") {
                        for stage in stages {
                            if let Value::Object(mut stage) = stage {
                                if let Some(Value::Array(bids)) = stage.remove("bids") {
                                    details.extend(bids);
                                }
                            }
                        }
                    }
                }
            }
            ctx.record(
                true,
                "/auctions",
                String::new(),
                "",
                format!("moved {} bids to /bids/details", details.len()),
            );
            let mut bids = Map::new();
            bids.insert("details".into(), Value::Array(details));
            release.insert("bids".into(), Value::Object(bids));
        }
    }

    if let Some(Value::Object(bids)) = release.get_mut("bids") {
        if let Some(Value::Array(details)) = bids.get_mut("details") {
            for (j, bid) in details.iter_mut().enumerate() {
                let Value::Object(bid) = bid else { continue };
                if let Some(Value::Object(value)) = bid.get_mut("value") {
                    if let Some(amount) = value.get("amount").and_then(Value::as_f64) {
                        if s.redactions.amount.contains(&amount) {
                            value.remove("amount");
                            ctx.record(
                                true,
                                "/bids/details[]/value/amount",
                                j.to_string(),
                                &amount.to_string(),
                                "redacted",
                            );
                        } else if amount == 0.0 {
                            ctx.record(
                                false,
                                "/bids/details[]/value/amount",
                                j.to_string(),
                                "",
                                "is zero",
                            );
                        }
                    }
                    if !value.contains_key("currency") {
                        match &s.defaults.currency {
                            Some(d) => {
                                value.insert("currency".into(), Value::String(d.clone()));
                                ctx.record(
                                    true,
                                    "/bids/details[]/value/currency",
                                    j.to_string(),
                                    d,
                                    "set to default",
                                );
                            }
                            None => ctx.record(
                                false,
                                "/bids/details[]/value/currency",
                                j.to_string(),
                                "",
                                "not set",
                            ),
                        }
                    }
                }
                if let Some(Value::Array(items)) = bid.get_mut("items") {
                    for (k, item) in items.iter_mut().enumerate() {
                        if let Value::Object(item) = item {
                            ctx.classification_scheme(
                                item,
                                "/bids/details[]/items[]",
                                format!("{j}.{k}"),
                            );
                        }
                    }
                }
                ctx.status(
                    bid,
                    "/bids/details[]/status",
                    j.to_string(),
                    &s.defaults.bid_status,
                    &s.codelists.bid_status,
                    BID_STATUS,
                );
                for id in ctx.organisations(
                    bid,
                    "tenderers",
                    "/bids/details[]",
                    &j.to_string(),
                    tenderer_prefix,
                ) {
                    roles.push((id, "tenderer"));
                }
            }
        }
    }

    // awardID → whether every contract for it is cancelled.
    let mut cancelled: BTreeMap<String, bool> = BTreeMap::new();
    if s.award_status_by_contract_status {
        if let Some(Value::Array(contracts)) = release.get_mut("contracts") {
            for contract in contracts.iter_mut().filter_map(Value::as_object_mut) {
                if let Some(Value::Number(n)) = contract.get("awardID") {
                    let text = n.to_string();
                    contract.insert("awardID".into(), Value::String(text));
                }
                if let Some(award_id) = contract.get("awardID").and_then(Value::as_str) {
                    let is_cancelled =
                        contract.get("status").and_then(Value::as_str) == Some("cancelled");
                    let entry = cancelled.entry(award_id.to_string()).or_insert(true);
                    *entry &= is_cancelled;
                }
            }
        }
    }

    if let Some(Value::Array(awards)) = release.get_mut("awards") {
        for (j, award) in awards.iter_mut().enumerate() {
            let Value::Object(award) = award else {
                continue;
            };
            if let Some(Value::Number(n)) = award.get("id") {
                let text = n.to_string();
                award.insert("id".into(), Value::String(text));
            }
            if let Some(Value::Array(items)) = award.get_mut("items") {
                for (k, item) in items.iter_mut().enumerate() {
                    if let Value::Object(item) = item {
                        ctx.classification_scheme(item, "/awards[]/items[]", format!("{j}.{k}"));
                    }
                }
            }
            ctx.status(
                award,
                "/awards[]/status",
                j.to_string(),
                &s.defaults.award_status,
                &s.codelists.award_status,
                AWARD_STATUS,
            );
            let id = award.get("id").and_then(Value::as_str).map(String::from);
            if let Some(true) = id.and_then(|id| cancelled.get(&id).copied()) {
                if award.get("status").and_then(Value::as_str) != Some("cancelled") {
                    award.insert("status".into(), Value::String("cancelled".into()));
                    ctx.record(
                        true,
                        "/awards[]/status",
                        j.to_string(),
                        "",
                        "set to cancelled: all its contracts are cancelled",
                    );
                }
            }
            for supplier in ctx.organisations(
                award,
                "suppliers",
                "/awards[]",
                &j.to_string(),
                tenderer_prefix,
            ) {
                roles.push((supplier, "supplier"));
            }
        }
    }

    if s.defaults.party_roles {
        if let Some(Value::Array(parties)) = release.get_mut("parties") {
            for (k, party) in parties.iter_mut().enumerate() {
                let Value::Object(party) = party else {
                    continue;
                };
                let Some(id) = party.get("id").and_then(Value::as_str).map(String::from) else {
                    continue;
                };
                let existing = party
                    .entry("roles")
                    .or_insert_with(|| Value::Array(Vec::new()));
                let Value::Array(list) = existing else {
                    continue;
                };
                for (_, role) in roles.iter().filter(|(rid, _)| *rid == id) {
                    if !list.iter().any(|r| r.as_str() == Some(role)) {
                        list.push(Value::String((*role).into()));
                        ctx.record(true, "/parties[]/roles", k.to_string(), role, "role added");
                    }
                }
            }
        }
    }
    ctx.report
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_zero_amounts_and_missing_status_without_changing_them() {
        let mut r = json!({"ocid": "ocds-1", "bids": {"details": [
            {"value": {"amount": 0, "currency": "NZD"}, "status": "valid", "tenderers": [{"id": 7}]},
            {"value": {"amount": 5, "currency": "NZD"}}
        ]}});
        let report = prepare(&mut r, &PrepareSettings::default(), 3);
        let issues: Vec<_> = report
            .issues
            .iter()
            .map(|c| (c.path.as_str(), c.index.as_str(), c.action.as_str()))
            .collect();
        assert_eq!(
            issues,
            [
                ("/bids/details[]/value/amount", "0", "is zero"),
                ("/bids/details[]/status", "1", "not set")
            ]
        );
        // The numeric tenderer id became a string, and that is reported.
        assert_eq!(r["bids"]["details"][0]["tenderers"][0]["id"], "7");
        assert_eq!(report.changes.len(), 1);
        assert_eq!(report.changes[0].line, 3);
    }

    #[test]
    fn settings_drive_each_correction() {
        let mut s = PrepareSettings::default();
        s.defaults.bid_status = Some("valid".into());
        s.defaults.party_roles = true;
        s.redactions.amount = vec![0.0];
        s.redactions.organization_id = vec!["placeholder".into()];
        s.prefix_tenderer_or_supplier_id = "DO-RPE-".into();
        s.codelists
            .award_status
            .insert("Active".into(), "active".into());
        s.award_status_by_contract_status = true;
        s.split_procurement_method_details = Some(" - ".into());
        let mut r = json!({"ocid": "ocds-2",
            "parties": {"id": "DO-RPE-1"},
            "tender": {"procurementMethodDetails": "Open - national"},
            "bids": {"details": [{"value": {"amount": 0, "currency": "DOP"}, "tenderers": [{"id": "1"}, {"id": "placeholder"}]}]},
            "awards": [{"id": 9, "status": "Active", "suppliers": {"id": "1"}}],
            "contracts": [{"awardID": 9, "status": "cancelled"}]});
        let report = prepare(&mut r, &s, 1);
        assert!(r["parties"].is_array());
        assert_eq!(r["tender"]["procurementMethodDetails"], "Open");
        let bid = &r["bids"]["details"][0];
        assert_eq!(bid["status"], "valid");
        assert!(bid["value"].get("amount").is_none());
        assert_eq!(bid["tenderers"][0]["id"], "DO-RPE-1");
        assert!(bid["tenderers"][1].get("id").is_none());
        assert_eq!(r["awards"][0]["status"], "cancelled");
        assert_eq!(r["awards"][0]["suppliers"][0]["id"], "DO-RPE-1");
        assert_eq!(r["parties"][0]["roles"], json!(["tenderer", "supplier"]));
        assert!(report.issues.is_empty(), "{:?}", report.issues);
        let actions: Vec<_> = report.changes.iter().map(|c| c.action.as_str()).collect();
        for expected in [
            "redacted",
            "set to default",
            "prefixed to DO-RPE-1",
            "remapped to active",
            "wrapped in an array",
            "split to Open",
            "role added",
        ] {
            assert!(
                actions.contains(&expected),
                "{expected} missing from {actions:?}"
            );
        }
    }
}

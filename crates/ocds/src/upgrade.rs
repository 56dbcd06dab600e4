//! Upgrade OCDS 1.0 releases to 1.1.
//!
//! OCDS 1.1 moved organisations into a top-level `parties` array, referenced by
//! `{id, name}` from `buyer`, `tender.procuringEntity`, `tender.tenderers`,
//! `awards.suppliers` and transactions; renamed `amendment` to `amendments`;
//! and renamed the transaction fields. The rules here follow `ocdskit upgrade
//! 1.0:1.1`, so that compiled output is comparable with the reference tools:
//! a party without an `id` gets the MD5 of its identifying fields, and a party
//! that appears in several roles is kept once with all its roles.
//!
//! One deliberate difference: ocdskit drops the organisation details of a 1.0
//! transaction's `providerOrganization` / `receiverOrganization` (it makes the
//! party but never adds it to `parties`). We add those parties, so nothing the
//! publisher said is lost.

use md5::{Digest, Md5};
use serde_json::{Map, Value};

use crate::reader::PackageInfo;

/// Which minor version of OCDS an item is, the way ocdskit decides it.
///
/// A package says so in `version` (a package without one is 1.0). A bare
/// release is 1.1 if it has `parties` (1.0 had none), else 1.0.
pub fn release_version(release: &Value, package: Option<&PackageInfo>) -> &'static str {
    if let Some(version) = package.and_then(|p| p.version.as_deref()) {
        return if version.starts_with("1.0") {
            "1.0"
        } else {
            "1.1"
        };
    }
    match release.get("parties") {
        Some(_) => "1.1",
        None => "1.0",
    }
}

/// Upgrade the release in place if it is OCDS 1.0. Returns whether it changed version.
pub fn upgrade_if_needed(release: &mut Value, package: Option<&PackageInfo>) -> bool {
    if release_version(release, package) == "1.0" {
        if let Value::Object(map) = release {
            upgrade_release(map);
            return true;
        }
    }
    false
}

/// Upgrade one release from 1.0 to 1.1.
pub fn upgrade_release(release: &mut Map<String, Value>) {
    let mut parties = Parties::from_release(release);
    if let Some(buyer) = non_null_mut(release, "buyer") {
        *buyer = parties.add(buyer, "buyer");
    }
    if let Some(Value::Object(tender)) = non_null_mut(release, "tender") {
        if let Some(pe) = non_null_mut(tender, "procuringEntity") {
            *pe = parties.add(pe, "procuringEntity");
        }
        if let Some(Value::Array(tenderers)) = non_null_mut(tender, "tenderers") {
            for t in tenderers.iter_mut() {
                *t = parties.add(t, "tenderer");
            }
        }
    }
    if let Some(Value::Array(awards)) = non_null_mut(release, "awards") {
        for award in awards.iter_mut() {
            if let Some(Value::Array(suppliers)) = award
                .as_object_mut()
                .and_then(|a| non_null_mut(a, "suppliers"))
            {
                for s in suppliers.iter_mut() {
                    *s = parties.add(s, "supplier");
                }
            }
        }
    }
    upgrade_amendments(release);
    upgrade_transactions(release, &mut parties);
    parties.write_back(release);
}

fn non_null_mut<'a>(map: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Value> {
    match map.get_mut(key) {
        Some(Value::Null) | None => None,
        Some(v) => Some(v),
    }
}

/// The release's parties while upgrading, keyed by `id` as JSON (so `438` and
/// `"438"` stay distinct here, as in ocdskit).
struct Parties {
    entries: Vec<(String, PartySlot)>,
    /// Roles to add, in order, once the release can be borrowed again.
    pending_roles: Vec<(usize, String)>,
}

enum PartySlot {
    /// Index into the release's existing `parties` array.
    Existing(usize),
    New(Value),
}

impl Parties {
    fn from_release(release: &Map<String, Value>) -> Parties {
        let mut entries: Vec<(String, PartySlot)> = Vec::new();
        if let Some(Value::Array(list)) = release.get("parties") {
            for (i, party) in list.iter().enumerate() {
                let key = match party.get("id") {
                    Some(id) => id_key(id),
                    None => id_key(&Value::String(party_id(party))),
                };
                match entries.iter().position(|(k, _)| *k == key) {
                    Some(at) => entries[at].1 = PartySlot::Existing(i),
                    None => entries.push((key, PartySlot::Existing(i))),
                }
            }
        }
        Parties {
            entries,
            pending_roles: Vec::new(),
        }
    }

    /// Register `org` in `role`; return the organisation reference that replaces it.
    fn add(&mut self, org: &Value, role: &str) -> Value {
        let mut party = match org {
            Value::Object(m) => m.clone(),
            // Not an object: nothing to reference; leave it for the validator to report.
            other => return other.clone(),
        };
        let id = match party.get("id") {
            Some(id) => id.clone(),
            None => {
                let id = Value::String(party_id(org));
                party.insert("id".into(), id.clone());
                id
            }
        };
        let key = id_key(&id);
        let mut reference = Map::new();
        reference.insert("id".into(), id);
        if let Some(name) = party.get("name") {
            reference.insert("name".into(), name.clone());
        }
        let at = match self.entries.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                self.entries
                    .push((key, PartySlot::New(Value::Object(party))));
                self.entries.len() - 1
            }
        };
        self.pending_roles.push((at, role.to_owned()));
        Value::Object(reference)
    }

    fn write_back(mut self, release: &mut Map<String, Value>) {
        if self.entries.is_empty() {
            return;
        }
        for (at, role) in std::mem::take(&mut self.pending_roles) {
            let party = match &mut self.entries[at].1 {
                PartySlot::New(v) => Some(v),
                PartySlot::Existing(i) => release
                    .get_mut("parties")
                    .and_then(Value::as_array_mut)
                    .and_then(|list| list.get_mut(*i)),
            };
            if let Some(Value::Object(party)) = party {
                add_role(party, &role);
            }
        }
        let list = release
            .entry("parties")
            .or_insert_with(|| Value::Array(Vec::new()));
        let Value::Array(list) = list else {
            return;
        };
        for (_, slot) in self.entries {
            if let PartySlot::New(party) = slot {
                if !list.contains(&party) {
                    list.push(party);
                }
            }
        }
    }
}

fn add_role(party: &mut Map<String, Value>, role: &str) {
    let roles = party
        .entry("roles")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::String(s) = roles {
        *roles = Value::Array(vec![Value::String(std::mem::take(s))]);
    }
    if roles.is_null() {
        *roles = Value::Array(Vec::new());
    }
    if let Value::Array(list) = roles {
        if !list.iter().any(|r| r.as_str() == Some(role)) {
            list.push(Value::String(role.to_owned()));
        }
    }
}

/// The id ocdskit gives a 1.0 organisation without one: MD5 of its identifying fields.
fn party_id(party: &Value) -> String {
    const FIELDS: [(Option<&str>, &[&str]); 4] = [
        (None, &["name"]),
        (Some("identifier"), &["scheme", "id", "legalName", "uri"]),
        (
            Some("address"),
            &[
                "streetAddress",
                "locality",
                "region",
                "postalCode",
                "countryName",
            ],
        ),
        (
            Some("contactPoint"),
            &["name", "email", "telephone", "faxNumber", "url"],
        ),
    ];
    let mut parts: Vec<String> = Vec::new();
    for (parent, fields) in FIELDS {
        let obj = match parent {
            None => Some(party),
            Some(p) => party.get(p),
        };
        if let Some(obj) = obj {
            if parent.is_some() && obj.is_null() {
                // `parent in party` is true for null; ocdskit would then fail on `.get`. Treat as empty.
                parts.extend(fields.iter().map(|_| String::new()));
                continue;
            }
            for f in fields {
                parts.push(py_truthy_str(obj.get(*f)));
            }
        }
    }
    let mut hasher = Md5::new();
    hasher.update(parts.join("-").as_bytes());
    format!("{:x}", hasher.finalize())
}

/// `str(value or "")` in Python, for the scalar values identifiers hold.
fn py_truthy_str(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::Bool(false)) => String::new(),
        Some(Value::Bool(true)) => "True".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => {
            if n.as_f64() == Some(0.0) {
                String::new()
            } else {
                crate::merge::py_number_str(n)
            }
        }
        Some(other) => other.to_string(),
    }
}

/// A key that keeps JSON types apart: `438` and `"438"` differ.
fn id_key(id: &Value) -> String {
    match id {
        Value::String(s) => format!("s{s}"),
        other => format!("v{other}"),
    }
}

fn upgrade_amendments(release: &mut Map<String, Value>) {
    if let Some(Value::Object(tender)) = non_null_mut(release, "tender") {
        upgrade_amendment(tender);
    }
    for field in ["awards", "contracts"] {
        if let Some(Value::Array(blocks)) = non_null_mut(release, field) {
            for block in blocks.iter_mut() {
                if let Value::Object(b) = block {
                    upgrade_amendment(b);
                }
            }
        }
    }
}

fn upgrade_amendment(block: &mut Map<String, Value>) {
    if let Some(amendment) = block.shift_remove("amendment") {
        let list = block
            .entry("amendments")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = list {
            if !list.contains(&amendment) {
                list.push(amendment);
            }
        }
    }
}

fn upgrade_transactions(release: &mut Map<String, Value>, parties: &mut Parties) {
    let Some(Value::Array(contracts)) = non_null_mut(release, "contracts") else {
        return;
    };
    for contract in contracts.iter_mut() {
        let Some(Value::Array(transactions)) = contract
            .as_object_mut()
            .and_then(|c| non_null_mut(c, "implementation"))
            .and_then(Value::as_object_mut)
            .and_then(|i| non_null_mut(i, "transactions"))
        else {
            continue;
        };
        for transaction in transactions.iter_mut() {
            let Value::Object(t) = transaction else {
                continue;
            };
            if !t.contains_key("value") {
                if let Some(amount) = t.shift_remove("amount") {
                    t.insert("value".into(), amount);
                }
            }
            for (old, new) in [
                ("providerOrganization", "payer"),
                ("receiverOrganization", "payee"),
            ] {
                if t.contains_key(old) && !t.contains_key(new) {
                    let Some(identifier) = t.shift_remove(old) else {
                        continue;
                    };
                    let mut party = Map::new();
                    if let Some(name) = identifier.get("legalName") {
                        party.insert("name".into(), name.clone());
                    }
                    party.insert("identifier".into(), identifier);
                    let reference = parties.add(&Value::Object(party), new);
                    t.insert(new.into(), reference);
                }
            }
        }
    }
}

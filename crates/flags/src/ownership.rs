//! Beneficial-ownership red flags: who stands behind the firms that bid for
//! and win public contracts.
//!
//! - `BO-SHARED-OWNER`: tenderers competing in one process have a beneficial
//!   owner in common.
//! - `BO-UNDECLARED`: an awarded supplier has no declaration in the register
//!   (or no identifier to look one up by).
//! - `BO-HIDDEN-OWNER`: an awarded supplier's declaration ends at an owner who
//!   is not identified (unknown, anonymous or unspecified).
//! - `BO-OWNER-SAME-BUYER`: one person is a beneficial owner of two or more
//!   suppliers of the same buyer.
//!
//! Pure like the rest of the crate, and independent of any register format:
//! the caller resolves each organisation's ultimate owners (from BODS
//! statements or anything else) and hands them over through [`Register`] as
//! plain [`Declaration`]s. Privacy is the caller's decision too: a protected
//! person is given as an owner of kind [`OwnerKind::Unspecified`] with the
//! reason, and the flags only ever name persons by the names they were given.
//!
//! Runs as fold → merge → finish ([`Ownership`]), so it can run per chunk in
//! parallel ([`check_ownership`]) or streaming; the result does not depend on
//! the order releases are folded in. Definitions and worked examples are in
//! `docs/indicators/BO-*.md`.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::indicators::num;
use crate::process::{array_at, object_at, str_at, Process};
use crate::{Flag, Subject};

pub const SHARED_OWNER: &str = "BO-SHARED-OWNER";
pub const UNDECLARED: &str = "BO-UNDECLARED";
pub const HIDDEN_OWNER: &str = "BO-HIDDEN-OWNER";
pub const OWNER_SAME_BUYER: &str = "BO-OWNER-SAME-BUYER";

/// The codes and titles of the beneficial-ownership flags, in display order.
/// Kept apart from [`crate::INDICATORS`], which lists the indicators the
/// [`crate::Engine`] runs.
pub const OWNERSHIP_INDICATORS: &[(&str, &str)] = &[
    (SHARED_OWNER, "Tenderers share a beneficial owner"),
    (
        UNDECLARED,
        "Supplier without a beneficial ownership declaration",
    ),
    (
        HIDDEN_OWNER,
        "Supplier with a beneficial owner who is not identified",
    ),
    (
        OWNER_SAME_BUYER,
        "One person behind several suppliers of a buyer",
    ),
];

/// Settings of the beneficial-ownership flags (`docs/indicators/BO-*.md`).
/// Every field is optional; unknown fields are an error.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OwnershipSettings {
    /// The smallest share, in percent (0–100), for an owner to count. An
    /// owner whose stated share cannot reach it (the upper bound of its
    /// range is under `min_share`) is left out of every flag; one with no
    /// share stated (control without a measurable share) always counts,
    /// since nothing shows it is small. Default 0: any share counts.
    pub min_share: f64,
}

/// What the beneficial ownership register says about one organisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Declaration {
    /// The entity's BODS `recordId`. Two organisations in a release with the
    /// same record are one company.
    pub record_id: String,
    pub name: String,
    /// The ultimate owners at the ends of the ownership chains, already
    /// resolved by the caller.
    #[serde(default)]
    pub owners: Vec<UltimateOwner>,
}

/// What kind of party an ownership chain ends at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OwnerKind {
    /// A natural person the register identifies (BODS `knownPerson`).
    #[serde(alias = "knownPerson")]
    Person,
    /// A person the declaring company does not know (BODS `unknownPerson`).
    UnknownPerson,
    /// A person whose identity is withheld (BODS `anonymousPerson`).
    AnonymousPerson,
    /// An unspecified interested party, with a reason (BODS
    /// `unspecifiedReason`); also how the caller gives a protected person.
    Unspecified,
    /// An entity the chain ends at: a listed company, a state body…
    Entity,
}

impl OwnerKind {
    /// An owner of this kind is not identified by the register.
    pub fn is_hidden(self) -> bool {
        matches!(
            self,
            OwnerKind::UnknownPerson | OwnerKind::AnonymousPerson | OwnerKind::Unspecified
        )
    }

    /// How a reason sentence refers to a hidden owner: never by name.
    fn phrase(self) -> &'static str {
        match self {
            OwnerKind::Person => "a person",
            OwnerKind::UnknownPerson => "an unknown person",
            OwnerKind::AnonymousPerson => "an anonymous person",
            OwnerKind::Unspecified => "an unspecified interested party",
            OwnerKind::Entity => "an entity",
        }
    }

    fn code(self) -> &'static str {
        match self {
            OwnerKind::Person => "person",
            OwnerKind::UnknownPerson => "unknownPerson",
            OwnerKind::AnonymousPerson => "anonymousPerson",
            OwnerKind::Unspecified => "unspecified",
            OwnerKind::Entity => "entity",
        }
    }
}

/// One ultimate owner of a declared organisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UltimateOwner {
    /// What identifies the owner across declarations: the person's BODS
    /// `recordId`, or `unspecified:<…>` for an unspecified party.
    pub key: String,
    /// As the caller will have it shown; `None` for hidden owners.
    #[serde(default)]
    pub name: Option<String>,
    pub kind: OwnerKind,
    /// The register's stated reason for an unknown, anonymous or unspecified
    /// owner, e.g. `interestedPartyExemptFromDisclosure: …`.
    #[serde(default)]
    pub reason: Option<String>,
    /// The share through all chains, (minimum, maximum) in percent, equal
    /// for an exact share; `None` when no chain carries a share.
    #[serde(default)]
    pub share: Option<(f64, f64)>,
}

/// Where the flags look organisations up.
pub trait Register {
    /// The declaration for an organisation identifier, by its org-id.guide
    /// scheme (`NZ-NZBN`, `NZ-COY`, `GB-COH`, `XI-LEI`) and id. Called with
    /// the scheme in upper case and both trimmed.
    fn declaration(&self, scheme: &str, id: &str) -> Option<&Declaration>;
}

impl<R: Register + ?Sized> Register for &R {
    fn declaration(&self, scheme: &str, id: &str) -> Option<&Declaration> {
        (**self).declaration(scheme, id)
    }
}

/// An organisation identifier, as org-id.guide defines it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Identifier {
    pub scheme: String,
    pub id: String,
}

/// One declaration with the identifiers it is found by: the shape of the
/// register in JSON (`[{"identifiers": [...], "recordId": ..., ...}]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegisterEntry {
    pub identifiers: Vec<Identifier>,
    #[serde(flatten)]
    pub declaration: Declaration,
}

/// A [`Register`] held in memory, e.g. read from JSON.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(from = "Vec<RegisterEntry>")]
pub struct Declarations {
    declarations: Vec<Declaration>,
    index: BTreeMap<(String, String), usize>,
}

fn normalised(scheme: &str, id: &str) -> (String, String) {
    (scheme.trim().to_ascii_uppercase(), id.trim().to_string())
}

impl Declarations {
    pub fn new() -> Declarations {
        Declarations::default()
    }

    /// Adds a declaration found by these identifiers. An identifier already
    /// taken keeps its first declaration, so the result does not depend on
    /// which entry a duplicate came in.
    pub fn insert(&mut self, identifiers: &[Identifier], declaration: Declaration) {
        let at = self.declarations.len();
        self.declarations.push(declaration);
        for i in identifiers {
            self.index.entry(normalised(&i.scheme, &i.id)).or_insert(at);
        }
    }

    pub fn len(&self) -> usize {
        self.declarations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.declarations.is_empty()
    }
}

impl From<Vec<RegisterEntry>> for Declarations {
    fn from(entries: Vec<RegisterEntry>) -> Declarations {
        entries.into_iter().collect()
    }
}

impl FromIterator<RegisterEntry> for Declarations {
    fn from_iter<I: IntoIterator<Item = RegisterEntry>>(entries: I) -> Declarations {
        let mut register = Declarations::new();
        for e in entries {
            register.insert(&e.identifiers, e.declaration);
        }
        register
    }
}

impl Register for Declarations {
    fn declaration(&self, scheme: &str, id: &str) -> Option<&Declaration> {
        self.index
            .get(&normalised(scheme, id))
            .and_then(|&at| self.declarations.get(at))
    }
}

// ---------------------------------------------------------------- reading

/// A party id or identifier id: a non-blank string, or a number.
fn text_id(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn non_blank<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    str_at(object, key).filter(|s| !s.trim().is_empty())
}

/// The release's parties, by id.
struct Parties<'a> {
    by_id: BTreeMap<String, &'a Map<String, Value>>,
}

impl<'a> Parties<'a> {
    fn new(release: &'a Map<String, Value>) -> Parties<'a> {
        let mut by_id = BTreeMap::new();
        for party in array_at(release, "parties")
            .iter()
            .filter_map(Value::as_object)
        {
            if let Some(id) = text_id(party.get("id")) {
                // A duplicated party id keeps its first party, as a reader
                // following the reference would find it.
                by_id.entry(id).or_insert(party);
            }
        }
        Parties { by_id }
    }

    /// The organisation a reference (tenderer, supplier, buyer) points at.
    fn org(&self, reference: &Map<String, Value>) -> Option<Org> {
        let id = text_id(reference.get("id"))?;
        let party = self.by_id.get(&id).copied();
        let name = non_blank(reference, "name")
            .or_else(|| party.and_then(|p| non_blank(p, "name")))
            .map(str::to_string);
        let mut identifiers: Vec<(String, String)> = Vec::new();
        if let Some(party) = party {
            let all = object_at(party, "identifier").into_iter().chain(
                array_at(party, "additionalIdentifiers")
                    .iter()
                    .filter_map(Value::as_object),
            );
            for i in all {
                if let (Some(scheme), Some(value)) = (non_blank(i, "scheme"), text_id(i.get("id")))
                {
                    let pair = normalised(scheme, &value);
                    if !identifiers.contains(&pair) {
                        identifiers.push(pair);
                    }
                }
            }
        }
        Some(Org {
            id,
            name,
            identifiers,
        })
    }

    fn buyer(&self, release: &Map<String, Value>) -> Option<Org> {
        if let Some(org) = object_at(release, "buyer").and_then(|b| self.org(b)) {
            return Some(org);
        }
        // Releases that omit `buyer` still name it by role; with more than
        // one such party the buyer cannot be told.
        let mut buyers = self.by_id.values().filter(|p| {
            array_at(p, "roles")
                .iter()
                .any(|r| r.as_str() == Some("buyer"))
        });
        match (buyers.next(), buyers.next()) {
            (Some(party), None) => self.org(party),
            _ => None,
        }
    }
}

/// An organisation as one release names it.
struct Org {
    id: String,
    name: Option<String>,
    /// (scheme upper-cased, id trimmed), main identifier first.
    identifiers: Vec<(String, String)>,
}

impl Org {
    fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.id.clone())
    }
}

enum Lookup<'r> {
    NoIdentifier,
    NotFound,
    Found(&'r Declaration),
}

fn look_up<'r, R: Register + ?Sized>(org: &Org, register: &'r R) -> Lookup<'r> {
    if org.identifiers.is_empty() {
        return Lookup::NoIdentifier;
    }
    org.identifiers
        .iter()
        .find_map(|(scheme, id)| register.declaration(scheme, id))
        .map_or(Lookup::NotFound, Lookup::Found)
}

type Share = Option<(f64, f64)>;

/// Of two statements of one share, the larger known one, whichever came
/// first: merging partial states must not depend on their order.
fn larger(a: Share, b: Share) -> Share {
    match (a, b) {
        (Some(x), Some(y)) => {
            let order = x.1.total_cmp(&y.1).then(x.0.total_cmp(&y.0));
            Some(if order == Ordering::Less { y } else { x })
        }
        (x, None) => x,
        (None, y) => y,
    }
}

fn counts(share: Share, min_share: f64) -> bool {
    share.is_none_or(|(_, max)| max >= min_share)
}

/// A person's holding in a declared organisation.
#[derive(Clone, Debug)]
struct Holding<'r> {
    name: Option<&'r str>,
    share: Share,
}

/// The identified persons behind a declaration, by key, at `min_share` or
/// over. A person listed more than once keeps the largest stated share.
fn persons(declaration: &Declaration, min_share: f64) -> BTreeMap<&str, Holding<'_>> {
    let mut found: BTreeMap<&str, Holding<'_>> = BTreeMap::new();
    for o in &declaration.owners {
        // Anonymous and unknown persons are not matched across companies:
        // who they are is not known, or withheld on purpose, and a match
        // would tell what the withholding protects.
        if o.kind != OwnerKind::Person {
            continue;
        }
        let h = found.entry(o.key.as_str()).or_insert(Holding {
            name: None,
            share: None,
        });
        h.share = larger(h.share, o.share);
        h.name = h.name.or(o.name.as_deref());
    }
    found.retain(|_, h| counts(h.share, min_share));
    found
}

// ---------------------------------------------------------------- text

fn share_text(share: Share) -> Option<String> {
    share.map(|(lo, hi)| {
        if lo == hi {
            format!("{} %", num(lo))
        } else {
            format!("{}–{} %", num(lo), num(hi))
        }
    })
}

fn share_json(share: Share) -> Value {
    share.map_or(Value::Null, |(lo, hi)| json!([lo, hi]))
}

/// "A", "A and B", "A, B and C".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn person_label(key: &str, name: Option<&str>) -> String {
    name.map_or_else(|| format!("the person with record {key}"), str::to_string)
}

/// The first name in sorted order: chosen the same way whatever order the
/// names were met in.
fn first_name(names: &BTreeSet<String>, fallback: &str) -> String {
    names
        .iter()
        .next()
        .cloned()
        .unwrap_or_else(|| fallback.to_string())
}

// ---------------------------------------------------------------- state

/// An awarded supplier across its processes, by party id.
#[derive(Clone, Debug, Default)]
struct Supplier {
    names: BTreeSet<String>,
    /// Processes in which it has no identifier to look up.
    no_identifier: BTreeSet<String>,
    /// Processes in which none of its identifiers is in the register.
    not_found: BTreeSet<String>,
    tried: BTreeSet<(String, String)>,
    /// Processes in which its declaration was found.
    declared: BTreeSet<String>,
    /// By declaration record id: its hidden owners by key.
    declarations: BTreeMap<String, BTreeMap<String, Hidden>>,
}

#[derive(Clone, Debug, PartialEq)]
struct Hidden {
    kind: OwnerKind,
    reason: Option<String>,
    share: Share,
}

/// One person behind the suppliers of one buyer.
#[derive(Clone, Debug, Default)]
struct PersonAtBuyer {
    person_names: BTreeSet<String>,
    buyer_names: BTreeSet<String>,
    /// By the supplier's declaration record id.
    suppliers: BTreeMap<String, SupplierAtBuyer>,
}

#[derive(Clone, Debug, Default)]
struct SupplierAtBuyer {
    ids: BTreeSet<String>,
    names: BTreeSet<String>,
    share: Share,
    ocids: BTreeSet<String>,
}

/// The beneficial-ownership flags over compiled releases. See the module
/// documentation.
#[derive(Clone, Debug, Default)]
pub struct Ownership {
    settings: OwnershipSettings,
    /// `BO-SHARED-OWNER` flags: decided within one process.
    shared: Vec<Flag>,
    suppliers: BTreeMap<String, Supplier>,
    /// By (buyer party id, person key).
    same_buyer: BTreeMap<(String, String), PersonAtBuyer>,
}

impl Ownership {
    pub fn new(settings: OwnershipSettings) -> Ownership {
        Ownership {
            settings,
            ..Ownership::default()
        }
    }

    pub fn settings(&self) -> &OwnershipSettings {
        &self.settings
    }

    /// Reads one compiled release. Releases that are not objects, have no
    /// ocid or whose tender was cancelled are left out, as the indicators
    /// leave them out.
    pub fn fold<R: Register + ?Sized>(&mut self, release: &Value, register: &R) {
        let Some(release) = release.as_object() else {
            return;
        };
        let Some(ocid) = non_blank(release, "ocid") else {
            return;
        };
        let p = Process { ocid, release };
        if p.is_cancelled() {
            return;
        }
        let parties = Parties::new(release);
        self.fold_tenderers(&p, &parties, register);
        self.fold_suppliers(&p, &parties, register);
    }

    /// Joins another partial state (from another chunk of releases) to this
    /// one. This one's settings are kept.
    pub fn merge(mut self, other: Ownership) -> Ownership {
        self.shared.extend(other.shared);
        for (id, s) in other.suppliers {
            let into = self.suppliers.entry(id).or_default();
            into.names.extend(s.names);
            into.no_identifier.extend(s.no_identifier);
            into.not_found.extend(s.not_found);
            into.tried.extend(s.tried);
            into.declared.extend(s.declared);
            for (record, hidden) in s.declarations {
                into.declarations.entry(record).or_default().extend(hidden);
            }
        }
        for (key, p) in other.same_buyer {
            let into = self.same_buyer.entry(key).or_default();
            into.person_names.extend(p.person_names);
            into.buyer_names.extend(p.buyer_names);
            for (record, s) in p.suppliers {
                let at = into.suppliers.entry(record).or_default();
                at.ids.extend(s.ids);
                at.names.extend(s.names);
                at.share = larger(at.share, s.share);
                at.ocids.extend(s.ocids);
            }
        }
        self
    }

    /// The flags, sorted by code, subject, then reason.
    pub fn finish(self) -> Vec<Flag> {
        let mut flags = self.shared;
        for (id, s) in &self.suppliers {
            flags.extend(undeclared(id, s));
            flags.extend(hidden_owner(id, s));
        }
        for ((buyer, person), p) in &self.same_buyer {
            flags.extend(same_buyer(buyer, person, p));
        }
        flags.sort_by(|a, b| {
            (&a.code, &a.subject, &a.reason, &a.organisations, &a.ocids)
                .cmp(&(&b.code, &b.subject, &b.reason, &b.organisations, &b.ocids))
                .then_with(|| {
                    let text = |f: &Flag| serde_json::to_string(&f.details).unwrap_or_default();
                    text(a).cmp(&text(b))
                })
        });
        // A process read twice (in two chunks) flags the same way twice.
        flags.dedup();
        flags
    }

    fn fold_tenderers<R: Register + ?Sized>(
        &mut self,
        p: &Process<'_>,
        parties: &Parties<'_>,
        register: &R,
    ) {
        // Who bid with whom: members of one joint bid are expected to be
        // related, so only tenderers in different bids are compared.
        let mut orgs: BTreeMap<String, Org> = BTreeMap::new();
        let mut units: Vec<BTreeSet<String>> = Vec::new();
        for bid in p
            .bid_details()
            .unwrap_or(&[])
            .iter()
            .filter_map(Value::as_object)
        {
            // An invited firm that never bid is not a tenderer.
            if str_at(bid, "status") == Some("invited") {
                continue;
            }
            let mut unit = BTreeSet::new();
            for r in array_at(bid, "tenderers")
                .iter()
                .filter_map(Value::as_object)
            {
                if let Some(org) = parties.org(r) {
                    unit.insert(org.id.clone());
                    orgs.entry(org.id.clone()).or_insert(org);
                }
            }
            if !unit.is_empty() {
                units.push(unit);
            }
        }
        let listed = p.tender().map(|t| array_at(t, "tenderers")).unwrap_or(&[]);
        for r in listed.iter().filter_map(Value::as_object) {
            if let Some(org) = parties.org(r) {
                if !orgs.contains_key(&org.id) {
                    units.push(BTreeSet::from([org.id.clone()]));
                    orgs.insert(org.id.clone(), org);
                }
            }
        }
        if units.len() < 2 {
            return;
        }

        // Party ids → the company (declaration) each stands for.
        let mut company_of: BTreeMap<&str, &Declaration> = BTreeMap::new();
        for (id, org) in &orgs {
            if let Lookup::Found(d) = look_up(org, register) {
                company_of.insert(id.as_str(), d);
            }
        }
        // Person key → record id → holding.
        let mut owned: BTreeMap<&str, BTreeMap<&str, Holding<'_>>> = BTreeMap::new();
        let mut declarations: BTreeMap<&str, &Declaration> = BTreeMap::new();
        for d in company_of.values() {
            if declarations.insert(d.record_id.as_str(), d).is_none() {
                for (key, h) in persons(d, self.settings.min_share) {
                    owned
                        .entry(key)
                        .or_default()
                        .insert(d.record_id.as_str(), h);
                }
            }
        }
        let unit_records: Vec<BTreeSet<&str>> = units
            .iter()
            .map(|u| {
                u.iter()
                    .filter_map(|id| company_of.get(id.as_str()))
                    .map(|d| d.record_id.as_str())
                    .collect()
            })
            .collect();

        let mut shared: Vec<SharedOwner<'_>> = Vec::new();
        for (key, companies) in &owned {
            if companies.len() < 2 {
                continue;
            }
            let records: Vec<&str> = companies.keys().copied().collect();
            let competing = competing(&records, &unit_records);
            if competing.len() < 2 {
                continue;
            }
            let mut name = None;
            let mut holders = Vec::new();
            for record in competing {
                let Some(h) = companies.get(record) else {
                    continue;
                };
                name = name.or(h.name);
                let ids: Vec<&str> = company_of
                    .iter()
                    .filter(|(_, d)| d.record_id == record)
                    .map(|(id, _)| *id)
                    .collect();
                let label = ids
                    .first()
                    .and_then(|id| orgs.get(*id))
                    .map(Org::label)
                    .unwrap_or_else(|| record.to_string());
                holders.push(Holder {
                    record,
                    ids,
                    label,
                    share: h.share,
                });
            }
            shared.push(SharedOwner { key, name, holders });
        }
        if !shared.is_empty() {
            self.shared.push(shared_flag(p.ocid, &shared));
        }
    }

    fn fold_suppliers<R: Register + ?Sized>(
        &mut self,
        p: &Process<'_>,
        parties: &Parties<'_>,
        register: &R,
    ) {
        let mut awarded: BTreeMap<String, Org> = BTreeMap::new();
        for award in p.awards().iter().filter_map(Value::as_object) {
            // A made award: active, or no status (publishers that never set
            // one still publish made awards).
            if !matches!(str_at(award, "status"), None | Some("active")) {
                continue;
            }
            for r in array_at(award, "suppliers")
                .iter()
                .filter_map(Value::as_object)
            {
                if let Some(org) = parties.org(r) {
                    awarded.entry(org.id.clone()).or_insert(org);
                }
            }
        }
        if awarded.is_empty() {
            return;
        }
        let ocid = p.ocid.to_string();
        let buyer = parties.buyer(p.release);
        let min_share = self.settings.min_share;
        for (id, org) in &awarded {
            let s = self.suppliers.entry(id.clone()).or_default();
            s.names.extend(org.name.clone());
            let d = match look_up(org, register) {
                Lookup::NoIdentifier => {
                    s.no_identifier.insert(ocid.clone());
                    continue;
                }
                Lookup::NotFound => {
                    s.not_found.insert(ocid.clone());
                    s.tried.extend(org.identifiers.iter().cloned());
                    continue;
                }
                Lookup::Found(d) => d,
            };
            s.declared.insert(ocid.clone());
            let hidden = s.declarations.entry(d.record_id.clone()).or_default();
            for o in &d.owners {
                if o.kind.is_hidden() && counts(o.share, min_share) {
                    hidden.insert(
                        o.key.clone(),
                        Hidden {
                            kind: o.kind,
                            reason: o.reason.clone(),
                            share: o.share,
                        },
                    );
                }
            }
            let Some(buyer) = &buyer else { continue };
            for (key, h) in persons(d, min_share) {
                let at = self
                    .same_buyer
                    .entry((buyer.id.clone(), key.to_string()))
                    .or_default();
                at.person_names.extend(h.name.map(str::to_string));
                at.buyer_names.extend(buyer.name.clone());
                let supplier = at.suppliers.entry(d.record_id.clone()).or_default();
                supplier.ids.insert(id.clone());
                supplier.names.extend(org.name.clone());
                supplier.share = larger(supplier.share, h.share);
                supplier.ocids.insert(ocid.clone());
            }
        }
    }
}

/// Of these companies, those that bid against another of them: A and B
/// compete when some bid has A without B and some other bid B without A.
/// Two firms only ever bidding together are one consortium, and a firm
/// bidding both alone and in a consortium with the other is not bidding
/// against it.
fn competing<'a>(records: &[&'a str], bids: &[BTreeSet<&str>]) -> BTreeSet<&'a str> {
    let alone = |a: &str, b: &str| bids.iter().any(|u| u.contains(a) && !u.contains(b));
    let mut found = BTreeSet::new();
    for (i, a) in records.iter().enumerate() {
        for b in &records[i + 1..] {
            if alone(a, b) && alone(b, a) {
                found.insert(*a);
                found.insert(*b);
            }
        }
    }
    found
}

/// Runs the beneficial-ownership flags over releases in memory, on every
/// core.
pub fn check_ownership<R: Register + Sync + ?Sized>(
    releases: &[Value],
    register: &R,
    settings: &OwnershipSettings,
) -> Vec<Flag> {
    releases
        .par_iter()
        .fold(
            || Ownership::new(settings.clone()),
            |mut acc, release| {
                acc.fold(release, register);
                acc
            },
        )
        .reduce(|| Ownership::new(settings.clone()), Ownership::merge)
        .finish()
}

// ---------------------------------------------------------------- flags

struct SharedOwner<'a> {
    key: &'a str,
    name: Option<&'a str>,
    holders: Vec<Holder<'a>>,
}

struct Holder<'a> {
    record: &'a str,
    ids: Vec<&'a str>,
    label: String,
    share: Share,
}

fn shared_flag(ocid: &str, shared: &[SharedOwner<'_>]) -> Flag {
    let mut organisations: BTreeSet<&str> = BTreeSet::new();
    let mut owners = Vec::new();
    for o in shared {
        let mut tenderers = Vec::new();
        for h in &o.holders {
            organisations.extend(h.ids.iter().copied());
            tenderers.push(json!({
                "ids": h.ids,
                "name": h.label,
                "declaration": h.record,
                "share": share_json(h.share),
            }));
        }
        owners.push(json!({"key": o.key, "name": o.name, "tenderers": tenderers}));
    }
    let reason = match shared {
        [o] => {
            let labels: Vec<String> = o.holders.iter().map(|h| h.label.clone()).collect();
            let both = if labels.len() == 2 { "both" } else { "all" };
            let shares: Vec<Option<String>> =
                o.holders.iter().map(|h| share_text(h.share)).collect();
            let shares = if shares.iter().all(Option::is_none) {
                String::new()
            } else {
                let texts: Vec<String> = shares
                    .into_iter()
                    .map(|s| s.unwrap_or_else(|| "share not stated".into()))
                    .collect();
                format!(" ({})", and_list(&texts))
            };
            format!(
                "Tenderers {} {both} have {} as a beneficial owner{shares}.",
                and_list(&labels),
                person_label(o.key, o.name)
            )
        }
        _ => {
            let clauses: Vec<String> = shared
                .iter()
                .map(|o| {
                    let of: Vec<String> = o
                        .holders
                        .iter()
                        .map(|h| match share_text(h.share) {
                            Some(s) => format!("{} ({s})", h.label),
                            None => h.label.clone(),
                        })
                        .collect();
                    format!("{}, of {}", person_label(o.key, o.name), and_list(&of))
                })
                .collect();
            format!(
                "Tenderers share {} beneficial owners: {}.",
                shared.len(),
                clauses.join("; ")
            )
        }
    };
    let mut details = Map::new();
    details.insert("owners".into(), Value::Array(owners));
    Flag {
        code: SHARED_OWNER.into(),
        subject: Subject::Process(ocid.to_string()),
        value: shared.len() as f64,
        ocids: vec![ocid.to_string()],
        organisations: organisations.into_iter().map(str::to_string).collect(),
        reason,
        details,
    }
}

fn undeclared(id: &str, s: &Supplier) -> Option<Flag> {
    // Found through any of its processes: the register knows the company,
    // whatever another release left out.
    if !s.declared.is_empty() || (s.no_identifier.is_empty() && s.not_found.is_empty()) {
        return None;
    }
    let ocids: BTreeSet<&String> = s.no_identifier.iter().chain(&s.not_found).collect();
    let label = first_name(&s.names, id);
    let processes = plural(ocids.len(), "process", "processes");
    let tried: Vec<String> = s.tried.iter().map(|(sc, i)| format!("{sc} {i}")).collect();
    let reason = match (s.no_identifier.len(), s.not_found.len()) {
        (_, 0) => format!(
            "Supplier {label} was awarded contracts in {processes} but has no organisation identifier in the data, so its beneficial owners cannot be looked up."
        ),
        (0, _) => format!(
            "Supplier {label} was awarded contracts in {processes} but the beneficial ownership register has no declaration for {}.",
            and_list(&tried)
        ),
        (n, _) => format!(
            "Supplier {label} was awarded contracts in {processes}; in {} it has no organisation identifier, and the beneficial ownership register has no declaration for {}.",
            plural(n, "process", "processes"),
            and_list(&tried)
        ),
    };
    let mut details = Map::new();
    details.insert("processes".into(), json!(ocids.len()));
    details.insert("without_identifier".into(), json!(s.no_identifier.len()));
    details.insert("not_in_register".into(), json!(s.not_found.len()));
    details.insert(
        "identifiers".into(),
        Value::Array(
            s.tried
                .iter()
                .map(|(scheme, i)| json!({"scheme": scheme, "id": i}))
                .collect(),
        ),
    );
    Some(Flag {
        code: UNDECLARED.into(),
        subject: Subject::Tenderer(id.to_string()),
        value: ocids.len() as f64,
        ocids: ocids.into_iter().cloned().collect(),
        organisations: vec![id.to_string()],
        reason,
        details,
    })
}

fn hidden_owner(id: &str, s: &Supplier) -> Option<Flag> {
    let mut owners: Vec<(&str, &Hidden)> = Vec::new();
    let mut records: Vec<&str> = Vec::new();
    for (record, hidden) in &s.declarations {
        if !hidden.is_empty() {
            records.push(record);
        }
        owners.extend(hidden.iter().map(|(k, h)| (k.as_str(), h)));
    }
    if owners.is_empty() {
        return None;
    }
    let label = first_name(&s.names, id);
    let described: Vec<String> = owners
        .iter()
        .map(|(_, h)| match &h.reason {
            Some(r) if !r.trim().is_empty() => format!("{} ({})", h.kind.phrase(), r.trim()),
            _ => format!("{} (no reason stated)", h.kind.phrase()),
        })
        .collect();
    let who = if owners.len() == 1 {
        "an ultimate owner who is".to_string()
    } else {
        format!("{} ultimate owners who are", owners.len())
    };
    let reason = format!(
        "The beneficial ownership declaration of supplier {label} names {who} not identified: {}.",
        and_list(&described)
    );
    let mut details = Map::new();
    details.insert("declarations".into(), json!(records));
    details.insert(
        "owners".into(),
        Value::Array(
            owners
                .iter()
                .map(|(key, h)| {
                    json!({
                        "key": key,
                        "kind": h.kind.code(),
                        "reason": h.reason,
                        "share": share_json(h.share),
                    })
                })
                .collect(),
        ),
    );
    details.insert("processes".into(), json!(s.declared.len()));
    Some(Flag {
        code: HIDDEN_OWNER.into(),
        subject: Subject::Tenderer(id.to_string()),
        value: owners.len() as f64,
        ocids: s.declared.iter().cloned().collect(),
        organisations: vec![id.to_string()],
        reason,
        details,
    })
}

fn same_buyer(buyer: &str, person: &str, p: &PersonAtBuyer) -> Option<Flag> {
    if p.suppliers.len() < 2 {
        return None;
    }
    let person_name = p.person_names.iter().next().map(String::as_str);
    let buyer_label = first_name(&p.buyer_names, buyer);
    let mut ocids: BTreeSet<&str> = BTreeSet::new();
    let mut organisations: BTreeSet<&str> = BTreeSet::new();
    let mut described = Vec::new();
    let mut suppliers = Vec::new();
    for (record, s) in &p.suppliers {
        ocids.extend(s.ocids.iter().map(String::as_str));
        organisations.extend(s.ids.iter().map(String::as_str));
        let first_id = s.ids.iter().next().map_or(record.as_str(), String::as_str);
        let label = first_name(&s.names, first_id);
        described.push(match share_text(s.share) {
            Some(t) => format!("{label} ({t})"),
            None => label.clone(),
        });
        suppliers.push(json!({
            "ids": s.ids,
            "name": label,
            "declaration": record,
            "share": share_json(s.share),
            "ocids": s.ocids,
        }));
    }
    let reason = format!(
        "{} is a beneficial owner of {} suppliers that {buyer_label} awarded contracts to in {}: {}.",
        person_label(person, person_name),
        p.suppliers.len(),
        plural(ocids.len(), "process", "processes"),
        and_list(&described)
    );
    let mut details = Map::new();
    details.insert("person".into(), json!({"key": person, "name": person_name}));
    details.insert("count".into(), json!(p.suppliers.len()));
    details.insert("processes".into(), json!(ocids.len()));
    details.insert("suppliers".into(), Value::Array(suppliers));
    Some(Flag {
        code: OWNER_SAME_BUYER.into(),
        subject: Subject::Buyer(buyer.to_string()),
        value: p.suppliers.len() as f64,
        ocids: ocids.into_iter().map(str::to_string).collect(),
        organisations: organisations.into_iter().map(str::to_string).collect(),
        reason,
        details,
    })
}

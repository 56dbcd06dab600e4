//! The beneficial ownership register: search, entity and person pages with the
//! ownership drawing, the per-record BODS API, the bulk download, and the
//! publishing endpoint.
//!
//! Everything here reads the register's derived tables, which hold public forms
//! only, or makes public forms on the way out
//! ([`tuwhera_bods::privacy::public_statement`]): a restricted field (full birth
//! date, home address, tax or identity number) never leaves the server, and a
//! protected person is shown as "Protected person" with the reason code.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup, PreEscaped};
use serde::Serialize;
use serde_json::Value;
use tuwhera_bods::diagram::{self, Diagram, Edge, Interest, Node, NodeKind};
use tuwhera_store::bods::{
    BodsCounts, BodsLink, BodsOwner, BodsPreparer, BodsRecord, BodsRelationship, BodsSearch,
    WonContract,
};
use utoipa::ToSchema;

use crate::api::json;
use crate::pages::{error_page, layout, money, page, server_error, Section};
use crate::params;
use crate::{segment, ApiError, AppState, Messages};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ownership", get(search_page))
        .route("/ownership/entities/{id}", get(entity_page))
        .route("/ownership/entities/{id}/graph.svg", get(graph_svg))
        .route("/ownership/people/{id}", get(person_page))
        .route("/api/v1/ownership", get(search_api))
        .route("/api/v1/ownership/records/{id}", get(record_api))
        .route("/api/v1/ownership/entities/{id}", get(entity_api))
        .route("/api/v1/ownership/people/{id}", get(person_api))
        .route(
            "/api/v1/ownership/organisations/{org_id}",
            get(organisation_api),
        )
        .route("/api/v1/ownership/quarantine", get(quarantine_api))
        .route("/api/v1/downloads/statements.jsonl", get(statements_jsonl))
        .route("/api/v1/statements", post(publish))
}

/// Most owners drawn per layer before the rest collapse into "+n more".
const DRAWN_PER_LAYER: usize = 12;
/// With `?expand=all`: still bounded, so one request cannot draw a million nodes.
const DRAWN_EXPANDED: usize = 400;

fn share_text(min: Option<f64>, max: Option<f64>) -> Option<String> {
    let fmt = |x: f64| {
        if (x - x.round()).abs() < 0.005 {
            format!("{x:.0}")
        } else {
            format!("{x:.2}")
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_owned()
        }
    };
    match (min, max) {
        (Some(a), Some(b)) if (a - b).abs() < 1e-9 => Some(format!("{} %", fmt(a))),
        (Some(a), Some(b)) => Some(format!("{}–{} %", fmt(a), fmt(b))),
        (Some(a), None) => Some(format!("at least {} %", fmt(a))),
        (None, Some(b)) => Some(format!("up to {} %", fmt(b))),
        (None, None) => None,
    }
}

fn record_href(record_type: &str, id: &str) -> String {
    match record_type {
        "person" => format!("/ownership/people/{}", segment(id)),
        _ => format!("/ownership/entities/{}", segment(id)),
    }
}

fn reason_text<'a>(m: &'a Messages, reason: &'a str) -> &'a str {
    m.t_or(&format!("ownership.reason.{reason}"), reason)
}

// ---------------------------------------------------------------- API types

/// A person or entity in the register (public fields only).
#[derive(Serialize, ToSchema)]
pub struct RecordOut {
    pub record_id: String,
    /// entity or person.
    pub record_type: String,
    pub name: String,
    pub subtype: Option<String>,
    pub jurisdiction: Option<String>,
    /// False once the record was closed.
    pub current: bool,
    pub statements: i64,
    pub first_date: Option<String>,
    pub last_date: Option<String>,
    /// Why a person's identity is withheld (protected, anonymous, unknown).
    pub withheld_reason: Option<String>,
    pub url: String,
}

impl From<&BodsRecord> for RecordOut {
    fn from(r: &BodsRecord) -> Self {
        RecordOut {
            url: record_href(&r.record_type, &r.record_id),
            record_id: r.record_id.clone(),
            record_type: r.record_type.clone(),
            name: r.name.clone(),
            subtype: r.subtype.clone(),
            jurisdiction: r.jurisdiction.clone(),
            current: r.current,
            statements: r.statements,
            first_date: r.first_date.clone(),
            last_date: r.last_date.clone(),
            withheld_reason: r.withheld_reason.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SearchOut {
    pub q: String,
    pub results: Vec<RecordOut>,
}

/// A relationship: who holds what interest in whom.
#[derive(Serialize, ToSchema)]
pub struct RelationshipOut {
    pub record_id: String,
    pub subject_id: String,
    pub subject_name: String,
    pub party_id: Option<String>,
    pub party_name: String,
    /// person, entity, unspecified or missing.
    pub party_kind: String,
    pub party_reason: Option<String>,
    pub interests: Vec<String>,
    pub owns: bool,
    pub controls: bool,
    pub direct: bool,
    pub share_min: Option<f64>,
    pub share_max: Option<f64>,
    pub current: bool,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
}

impl From<&BodsRelationship> for RelationshipOut {
    fn from(r: &BodsRelationship) -> Self {
        RelationshipOut {
            record_id: r.record_id.clone(),
            subject_id: r.subject_id.clone(),
            subject_name: r.subject_name.clone(),
            party_id: r.party_id.clone(),
            party_name: r.party_name.clone(),
            party_kind: r.party_kind.clone(),
            party_reason: r.party_reason.clone(),
            interests: r.interests.clone(),
            owns: r.owns,
            controls: r.controls,
            direct: r.direct,
            share_min: r.share_min,
            share_max: r.share_max,
            current: r.current,
            start_date: r.start_date.clone(),
            end_date: r.end_date.clone(),
        }
    }
}

/// An ultimate owner: where a chain of ownership or control ends.
#[derive(Serialize, ToSchema)]
pub struct OwnerOut {
    pub subject_id: String,
    /// The owner's recordId, or `unspecified:REASON`.
    pub owner_key: String,
    pub owner_id: Option<String>,
    pub name: String,
    /// person, entity, unknown or missing.
    pub kind: String,
    /// Why the chain ends here: natural-person, unspecified, publicly-listed, state, …
    pub terminal: String,
    pub subtype: Option<String>,
    pub reason: Option<String>,
    /// Share of the subject reaching this owner, as a range (percent).
    pub share_min: Option<f64>,
    pub share_max: Option<f64>,
    pub controls: bool,
    pub direct: bool,
    /// Longest chain, in relationships.
    pub depth: i64,
    /// Each chain: `{"nodes": [record ids], "relationships": [record ids]}`.
    #[schema(value_type = Vec<Object>)]
    pub paths: Value,
}

impl From<&BodsOwner> for OwnerOut {
    fn from(o: &BodsOwner) -> Self {
        OwnerOut {
            subject_id: o.subject_id.clone(),
            owner_key: o.owner_key.clone(),
            owner_id: o.owner_id.clone(),
            name: o.name.clone(),
            kind: o.kind.clone(),
            terminal: o.terminal.clone(),
            subtype: o.subtype.clone(),
            reason: o.reason.clone(),
            share_min: o.share_min,
            share_max: o.share_max,
            controls: o.controls,
            direct: o.direct,
            depth: o.depth,
            paths: o.paths.clone(),
        }
    }
}

/// A procurement organisation matched to a register entity by identifier.
#[derive(Serialize, ToSchema)]
pub struct LinkOut {
    pub org_id: String,
    pub org_name: String,
    pub record_id: String,
    pub entity_name: String,
}

impl From<&BodsLink> for LinkOut {
    fn from(l: &BodsLink) -> Self {
        LinkOut {
            org_id: l.org_id.clone(),
            org_name: l.org_name.clone(),
            record_id: l.record_id.clone(),
            entity_name: l.entity_name.clone(),
        }
    }
}

/// A contract awarded to a linked organisation.
#[derive(Serialize, ToSchema)]
pub struct ContractOut {
    pub ocid: String,
    pub title: Option<String>,
    pub buyer_name: Option<String>,
    pub supplier_id: String,
    pub supplier_name: String,
    pub entity_id: String,
    pub amount: Option<f64>,
    pub currency: Option<String>,
    pub date: String,
}

impl From<&WonContract> for ContractOut {
    fn from(c: &WonContract) -> Self {
        ContractOut {
            ocid: c.ocid.clone(),
            title: c.title.clone(),
            buyer_name: c.buyer_name.clone(),
            supplier_id: c.supplier_id.clone(),
            supplier_name: c.supplier_name.clone(),
            entity_id: c.entity_id.clone(),
            amount: c.amount,
            currency: c.currency.clone(),
            date: c.date.clone(),
        }
    }
}

/// An entity with its owners, holdings and procurement links.
#[derive(Serialize, ToSchema)]
pub struct EntityOut {
    pub record: RecordOut,
    /// (scheme, id) pairs.
    pub identifiers: Vec<IdentifierOut>,
    /// Relationships with this entity as subject, current first.
    pub direct_owners: Vec<RelationshipOut>,
    pub ultimate_owners: Vec<OwnerOut>,
    /// Relationships in which this entity holds an interest in another.
    pub holdings: Vec<RelationshipOut>,
    pub organisations: Vec<LinkOut>,
    pub contracts: Vec<ContractOut>,
}

#[derive(Serialize, ToSchema)]
pub struct IdentifierOut {
    pub scheme: String,
    pub id: String,
}

/// A person with what they hold and the contracts of what they hold.
#[derive(Serialize, ToSchema)]
pub struct PersonOut {
    pub record: RecordOut,
    /// Direct interests.
    pub holdings: Vec<RelationshipOut>,
    /// Entities of which the person is an ultimate owner.
    pub ultimately_owns: Vec<OwnerOut>,
    pub contracts: Vec<ContractOut>,
}

/// A procurement organisation's beneficial ownership.
#[derive(Serialize, ToSchema)]
pub struct OrganisationOwnershipOut {
    pub org_id: String,
    /// Register entities with the organisation's identifier (none: no declaration).
    pub entities: Vec<LinkOut>,
    pub ultimate_owners: Vec<OwnerOut>,
}

#[derive(Serialize, ToSchema)]
pub struct QuarantineOut {
    pub statement_id: Option<String>,
    pub reason: String,
    pub message: String,
    pub path: String,
    pub source_file: String,
    pub source_line: i64,
    pub publisher: String,
    pub received_at: String,
}

/// What a publication did.
#[derive(Serialize, ToSchema)]
pub struct PublishOut {
    pub new: u64,
    pub unchanged: u64,
    pub quarantined: u64,
    /// Every finding, quarantines included: rule, message, statement, JSONPath.
    pub findings: Vec<PublishFinding>,
}

#[derive(Serialize, ToSchema)]
pub struct PublishFinding {
    pub severity: String,
    pub rule: String,
    pub message: String,
    pub statement_id: Option<String>,
    /// The statement's position in the body (0-based) and the JSONPath of the value.
    pub index: u64,
    pub path: String,
}

// ---------------------------------------------------------------- loading

struct EntityView {
    record: BodsRecord,
    identifiers: Vec<(String, String)>,
    direct: Vec<BodsRelationship>,
    ultimate: Vec<BodsOwner>,
    holdings: Vec<BodsRelationship>,
    links: Vec<BodsLink>,
    contracts: Vec<WonContract>,
}

async fn load_entity(state: &AppState, id: &str) -> Result<Option<EntityView>, ApiError> {
    state.fresh_register().await?;
    let store = &state.store;
    let Some(record) = store.bods_record(id).await? else {
        return Ok(None);
    };
    if record.record_type != "entity" {
        return Ok(None);
    }
    let ids = [record.record_id.clone()];
    let links = store.bods_links_of_entities(&ids).await?;
    Ok(Some(EntityView {
        identifiers: store.bods_identifiers_of(id).await?,
        direct: store.bods_owners_direct(id).await?,
        ultimate: store.bods_ultimate_owners(id).await?,
        holdings: store.bods_holdings(id).await?,
        contracts: store.bods_contracts_of_links(&links).await?,
        links,
        record,
    }))
}

struct PersonView {
    record: BodsRecord,
    details: Value,
    holdings: Vec<BodsRelationship>,
    owned: Vec<BodsOwner>,
    contracts: Vec<WonContract>,
}

async fn load_person(state: &AppState, id: &str) -> Result<Option<PersonView>, ApiError> {
    state.fresh_register().await?;
    let store = &state.store;
    let Some(record) = store.bods_record(id).await? else {
        return Ok(None);
    };
    if record.record_type != "person" {
        return Ok(None);
    }
    let statements = store.bods_statements_of(id).await?;
    let details = statements
        .iter()
        .rev()
        .filter_map(|s| s.get("recordDetails"))
        .find(|d| d.as_object().is_some_and(|o| !o.is_empty()))
        .cloned()
        .unwrap_or(Value::Null);
    let owned = store.bods_ultimately_owned(id).await?;
    let entities: Vec<String> = owned.iter().map(|o| o.subject_id.clone()).collect();
    Ok(Some(PersonView {
        holdings: store.bods_holdings(id).await?,
        contracts: store.bods_contracts_won(&entities).await?,
        owned,
        details,
        record,
    }))
}

fn entity_out(v: &EntityView) -> EntityOut {
    EntityOut {
        record: RecordOut::from(&v.record),
        identifiers: v
            .identifiers
            .iter()
            .map(|(scheme, id)| IdentifierOut {
                scheme: scheme.clone(),
                id: id.clone(),
            })
            .collect(),
        direct_owners: v.direct.iter().map(RelationshipOut::from).collect(),
        ultimate_owners: v.ultimate.iter().map(OwnerOut::from).collect(),
        holdings: v.holdings.iter().map(RelationshipOut::from).collect(),
        organisations: v.links.iter().map(LinkOut::from).collect(),
        contracts: v.contracts.iter().map(ContractOut::from).collect(),
    }
}

// ---------------------------------------------------------------- drawing

/// The drawing of an entity: its ultimate owners' chains above it, what it
/// holds directly below it.
async fn entity_diagram(
    state: &AppState,
    v: &EntityView,
    expanded: bool,
) -> Result<Diagram, ApiError> {
    let focus = v.record.record_id.clone();
    let mut rel_ids: BTreeSet<String> = BTreeSet::new();
    for o in &v.ultimate {
        for p in o.paths.as_array().into_iter().flatten() {
            for r in p
                .get("relationships")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(id) = r.as_str() {
                    rel_ids.insert(id.to_owned());
                }
            }
        }
    }
    let rel_ids: Vec<String> = rel_ids.into_iter().collect();
    let mut relationships = state.store.bods_relationships(&rel_ids).await?;
    relationships.extend(v.holdings.iter().filter(|h| h.current).cloned());
    relationships.extend(v.direct.iter().filter(|h| h.current).cloned());
    relationships.sort_by(|a, b| a.record_id.cmp(&b.record_id));
    relationships.dedup_by(|a, b| a.record_id == b.record_id);

    let mut record_ids: BTreeSet<String> = BTreeSet::new();
    for r in &relationships {
        record_ids.insert(r.subject_id.clone());
        if let Some(p) = &r.party_id {
            record_ids.insert(p.clone());
        }
    }
    let records: HashMap<String, BodsRecord> = state
        .store
        .bods_records(&record_ids.into_iter().collect::<Vec<_>>())
        .await?
        .into_iter()
        .map(|r| (r.record_id.clone(), r))
        .collect();

    let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
    let add_record = |nodes: &mut BTreeMap<String, Node>, id: &str| {
        if nodes.contains_key(id) {
            return;
        }
        let node = match records.get(id) {
            Some(r) => {
                let kind = match (r.record_type.as_str(), r.withheld_reason.as_deref()) {
                    ("person", Some("protected")) => NodeKind::Protected,
                    ("person", Some(_)) => NodeKind::Unknown,
                    ("person", None) => NodeKind::Person,
                    _ => NodeKind::Entity,
                };
                Node {
                    id: id.to_owned(),
                    label: r.name.clone(),
                    kind,
                    href: Some(record_href(&r.record_type, id)),
                    focus: id == focus,
                    note: r.jurisdiction.clone(),
                }
            }
            None => Node {
                id: id.to_owned(),
                label: "Record not in the register".to_owned(),
                kind: NodeKind::Unknown,
                href: None,
                focus: false,
                note: None,
            },
        };
        nodes.insert(id.to_owned(), node);
    };
    add_record(&mut nodes, &focus);
    let mut edges = Vec::new();
    for r in &relationships {
        add_record(&mut nodes, &r.subject_id);
        let from = match &r.party_id {
            Some(p) => {
                add_record(&mut nodes, p);
                p.clone()
            }
            None => {
                let id = format!("unspecified:{}", r.record_id);
                let reason = r.party_reason.clone().unwrap_or_default();
                nodes.insert(
                    id.clone(),
                    Node {
                        id: id.clone(),
                        label: "Unspecified owner".to_owned(),
                        kind: NodeKind::Unknown,
                        href: None,
                        focus: false,
                        note: Some(reason_text(&state.messages, &reason).to_owned()),
                    },
                );
                id
            }
        };
        let interest = match (r.owns, r.controls) {
            (true, true) => Interest::OwnsAndControls,
            (false, true) => Interest::Controls,
            _ => Interest::Owns,
        };
        edges.push(Edge {
            from,
            to: r.subject_id.clone(),
            interest,
            direct: r.direct,
            label: share_text(r.share_min, r.share_max),
            share: r.share_max,
        });
    }
    let d = Diagram {
        title: format!("Ownership of {}", v.record.name),
        description: format!(
            "{} ultimate owners and {} direct holdings of {}, drawn with owners above and holdings below.",
            v.ultimate.len(),
            v.holdings.iter().filter(|h| h.current).count(),
            v.record.name
        ),
        nodes: nodes.into_values().collect(),
        edges,
    };
    let href = format!("/ownership/entities/{}?expand=all#graph", segment(&focus));
    Ok(diagram::collapse(
        d,
        if expanded {
            DRAWN_EXPANDED
        } else {
            DRAWN_PER_LAYER
        },
        |_| href.clone(),
    ))
}

// ---------------------------------------------------------------- pages

const SEARCH_PARAMS: &[&str] = &["q", "type", "limit"];

fn search_query(raw: Option<&str>) -> Result<BodsSearch, ApiError> {
    let pairs = params::pairs(raw, SEARCH_PARAMS)?;
    let q = params::text(&pairs, "q", 200)?.unwrap_or_default();
    let record_type = params::text(&pairs, "type", 20)?;
    if let Some(t) = &record_type {
        if t != "entity" && t != "person" {
            return Err(ApiError::invalid("type", "type is entity or person"));
        }
    }
    Ok(BodsSearch {
        q,
        record_type,
        limit: i64::from(params::limit(&pairs)?),
    })
}

async fn search_page(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let m = &state.messages;
    let search = match search_query(raw.as_deref()) {
        Ok(s) => s,
        Err(e) => return server_error(m, e),
    };
    if let Err(e) = state.fresh_register().await {
        return server_error(m, e);
    }
    let (results, counts) =
        match tokio::try_join!(state.store.bods_search(&search), state.store.bods_counts()) {
            Ok(x) => x,
            Err(e) => return server_error(m, e.into()),
        };
    let counts: BodsCounts = counts;
    let body = html! {
        h1 { (m.t("ownership.title")) }
        p { (m.t("ownership.intro")) }
        p { (m.t("ownership.privacy")) }
        form.search #ownership-form role="search" method="get" action="/ownership" {
            div.field {
                label for="q" { (m.t("ownership.search.label")) }
                input #q type="search" name="q" value=(search.q) maxlength="200" aria-describedby="q-hint";
                p #q-hint.hint { (m.t("ownership.search.hint")) }
            }
            div.field {
                label for="type" { (m.t("ownership.search.type")) }
                select #type name="type" {
                    option value="" selected[search.record_type.is_none()] { (m.t("ownership.type.any")) }
                    option value="entity" selected[search.record_type.as_deref() == Some("entity")] { (m.t("ownership.type.entity")) }
                    option value="person" selected[search.record_type.as_deref() == Some("person")] { (m.t("ownership.type.person")) }
                }
            }
            button type="submit" { (m.t("ownership.search.button")) }
        }
        @if !search.q.trim().is_empty() {
            section aria-labelledby="h-results" {
                h2 #h-results { (m.t("ownership.results")) }
                p role="status" { (m.f("ownership.results.count", &[("n", &results.len().to_string())])) }
                @if !results.is_empty() {
                    div.table-scroll { table {
                        caption.visually-hidden { (m.t("ownership.results")) }
                        thead { tr {
                            th scope="col" { (m.t("ownership.col.name")) }
                            th scope="col" { (m.t("ownership.col.type")) }
                            th scope="col" { (m.t("ownership.col.jurisdiction")) }
                            th scope="col" { (m.t("ownership.col.status")) }
                        } }
                        tbody { @for r in &results { tr {
                            td { a.record-link href=(record_href(&r.record_type, &r.record_id)) { (r.name) } }
                            td { (r.subtype.clone().unwrap_or_else(|| r.record_type.clone())) }
                            td { (r.jurisdiction.clone().unwrap_or_default()) }
                            td { @if r.current { (m.t("ownership.current")) } @else { (m.t("ownership.closed")) } }
                        } } }
                    } }
                }
            }
        }
        section aria-labelledby="h-register" {
            h2 #h-register { (m.t("ownership.register")) }
            dl.facts {
                dt { (m.t("ownership.count.statements")) } dd { (counts.statements) }
                dt { (m.t("ownership.count.entities")) } dd { (counts.entities) }
                dt { (m.t("ownership.count.people")) } dd { (counts.people) }
                dt { (m.t("ownership.count.relationships")) } dd { (counts.relationships) }
                dt { (m.t("ownership.count.linked")) } dd { (counts.linked_organisations) }
                dt { (m.t("ownership.count.quarantined")) } dd { (counts.quarantined) }
            }
            p {
                a href="/api/v1/downloads/statements.jsonl" download { (m.t("ownership.download")) }
                " · "
                a href=(format!("/api/v1/ownership?{}", params::encode(&[("q", search.q.clone())]))) { (m.t("ownership.json")) }
            }
        }
    };
    page(layout(m, Section::Ownership, m.t("ownership.title"), body))
}

fn owner_cell(m: &Messages, o: &BodsOwner) -> Markup {
    html! {
        @match (&o.owner_id, o.kind.as_str()) {
            (Some(id), "person") => { a.owner-link href=(record_href("person", id)) { (o.name) } }
            (Some(id), "entity") => { a.owner-link href=(record_href("entity", id)) { (o.name) } }
            _ => { (o.name) }
        }
        @if let Some(r) = &o.reason {
            " "
            span.note { "(" (reason_text(m, r)) ")" }
        }
    }
}

fn relationship_party(m: &Messages, r: &BodsRelationship) -> Markup {
    html! {
        @match &r.party_id {
            Some(id) if r.party_kind != "missing" => { a href=(record_href(&r.party_kind, id)) { (r.party_name) } }
            _ => { (r.party_name) }
        }
        @if let Some(reason) = &r.party_reason {
            " " span.note { "(" (reason_text(m, reason)) ")" }
        }
    }
}

fn interest_text(m: &Messages, r: &BodsRelationship) -> String {
    let kinds: Vec<&str> = r
        .interests
        .iter()
        .map(|k| m.t_or(&format!("ownership.interest.{k}"), k))
        .collect();
    let mut s = kinds.join(", ");
    if !r.direct {
        s.push_str(" (");
        s.push_str(m.t("ownership.indirect"));
        s.push(')');
    }
    s
}

fn contracts_table(m: &Messages, contracts: &[WonContract]) -> Markup {
    html! {
        @if contracts.is_empty() {
            p { (m.t("ownership.contracts.none")) }
        } @else {
            div.table-scroll { table {
                caption.visually-hidden { (m.t("ownership.contracts")) }
                thead { tr {
                    th scope="col" { (m.t("ownership.col.process")) }
                    th scope="col" { (m.t("ownership.col.supplier")) }
                    th scope="col" { (m.t("ownership.col.buyer")) }
                    th scope="col" .num { (m.t("ownership.col.amount")) }
                    th scope="col" { (m.t("ownership.col.date")) }
                } }
                tbody { @for c in contracts { tr {
                    td { a href=(format!("/procurement/{}", segment(&c.ocid))) { (c.title.clone().unwrap_or_else(|| c.ocid.clone())) } }
                    td { a href=(format!("/organisations/{}", segment(&c.supplier_id))) { (c.supplier_name) } }
                    td { (c.buyer_name.clone().unwrap_or_default()) }
                    td.num { (money(c.amount, c.currency.as_deref()).unwrap_or_default()) }
                    td { (crate::pages::day(Some(&c.date))) }
                } } }
            } }
        }
    }
}

fn history_list(m: &Messages, statements: &[Value]) -> Markup {
    html! {
        ol.history {
            @for s in statements {
                li {
                    (s.get("statementDate").and_then(Value::as_str).unwrap_or("undated"))
                    " — "
                    (m.t_or(&format!("ownership.status.{}", s.get("recordStatus").and_then(Value::as_str).unwrap_or("updated")), "updated"))
                    @if let Some(id) = s.get("statementId").and_then(Value::as_str) {
                        " · " code { (id) }
                    }
                    @if let Some(src) = s.get("source") {
                        @let types = src.get("type").and_then(Value::as_array).map(|t| t.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")).unwrap_or_default();
                        @let desc = src.get("description").and_then(Value::as_str).unwrap_or("");
                        " · " (m.t("ownership.source")) ": " (types)
                        @if !desc.is_empty() { " — " (desc) }
                        @if let Some(url) = src.get("url").and_then(Value::as_str).filter(|u| u.starts_with("https://") || u.starts_with("http://")) {
                            " (" a href=(url) rel="nofollow noopener" { (m.t("ownership.source.link")) } ")"
                        }
                    }
                }
            }
        }
    }
}

fn expanded(raw: Option<&str>) -> bool {
    raw.is_some_and(|q| q.split('&').any(|p| p == "expand=all"))
}

async fn entity_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let m = &state.messages;
    let v = match load_entity(&state, &id).await {
        Ok(Some(v)) => v,
        Ok(None) => {
            return error_page(
                m,
                StatusCode::NOT_FOUND,
                m.t("error.not_found"),
                &m.f("ownership.not_found", &[("id", &id)]),
            )
        }
        Err(e) => return server_error(m, e),
    };
    let (diagram, statements) = match tokio::try_join!(
        entity_diagram(&state, &v, expanded(raw.as_deref())),
        async { Ok::<_, ApiError>(state.store.bods_statements_of(&id).await?) }
    ) {
        Ok(x) => x,
        Err(e) => return server_error(m, e),
    };
    let svg = diagram::render(&diagram);
    let sentences = diagram::text_alternative(&diagram);
    let r = &v.record;
    let body = html! {
        h1 { (r.name) }
        @if !r.current { p.notice { (m.t("ownership.record_closed")) } }
        dl.facts {
            dt { (m.t("ownership.col.type")) } dd { (r.subtype.clone().unwrap_or_else(|| "entity".into())) }
            @if let Some(j) = &r.jurisdiction { dt { (m.t("ownership.col.jurisdiction")) } dd { (j) } }
            @for (scheme, ident) in &v.identifiers {
                dt { (scheme) } dd { code { (ident) } }
            }
            dt { (m.t("ownership.record_id")) } dd { code { (r.record_id) } }
        }
        p {
            a href=(format!("/api/v1/ownership/entities/{}", segment(&r.record_id))) { (m.t("ownership.json")) }
            " · "
            a href=(format!("/api/v1/ownership/records/{}", segment(&r.record_id))) { (m.t("ownership.bods")) }
        }
        section aria-labelledby="h-ultimate" {
            h2 #h-ultimate { (m.t("ownership.ultimate")) }
            p.hint { (m.t("ownership.ultimate.hint")) }
            @if v.ultimate.is_empty() {
                p { (m.t("ownership.ultimate.none")) }
            } @else {
                div.table-scroll { table #ultimate-owners {
                    caption.visually-hidden { (m.t("ownership.ultimate")) }
                    thead { tr {
                        th scope="col" { (m.t("ownership.col.owner")) }
                        th scope="col" { (m.t("ownership.col.share")) }
                        th scope="col" { (m.t("ownership.col.how")) }
                        th scope="col" .num { (m.t("ownership.col.depth")) }
                    } }
                    tbody { @for o in &v.ultimate { tr {
                        td { (owner_cell(m, o)) }
                        td { (share_text(o.share_min, o.share_max).unwrap_or_else(|| m.t("ownership.share.unknown").to_owned())) }
                        td {
                            (m.t_or(&format!("ownership.terminal.{}", o.terminal), &o.terminal))
                            @if o.controls { " · " (m.t("ownership.controls")) }
                            @if o.direct { " · " (m.t("ownership.direct")) } @else { " · " (m.t("ownership.indirect")) }
                        }
                        td.num { (o.depth) }
                    } } }
                } }
            }
        }
        section #graph aria-labelledby="h-graph" {
            h2 #h-graph { (m.t("ownership.graph")) }
            figure.ownership-graph {
                (PreEscaped(svg))
                figcaption { (m.t("ownership.graph.caption")) " "
                    a href=(format!("/ownership/entities/{}/graph.svg", segment(&r.record_id))) { (m.t("ownership.graph.svg")) }
                }
            }
            details {
                summary { (m.t("ownership.graph.text")) }
                ul { @for s in &sentences { li { (s) } } }
            }
        }
        section aria-labelledby="h-direct" {
            h2 #h-direct { (m.t("ownership.direct_owners")) }
            (relationships_table(m, &v.direct, true))
        }
        @if !v.holdings.is_empty() {
            section aria-labelledby="h-holdings" {
                h2 #h-holdings { (m.t("ownership.holdings")) }
                (relationships_table(m, &v.holdings, false))
            }
        }
        section aria-labelledby="h-procurement" {
            h2 #h-procurement { (m.t("ownership.procurement")) }
            @if v.links.is_empty() {
                p { (m.t("ownership.procurement.none")) }
            } @else {
                ul { @for l in &v.links { li { a href=(format!("/organisations/{}", segment(&l.org_id))) { (l.org_name) } " (" code { (l.org_id) } ")" } } }
                (contracts_table(m, &v.contracts))
            }
        }
        section aria-labelledby="h-history" {
            h2 #h-history { (m.t("ownership.history")) }
            (history_list(m, &statements))
        }
    };
    page(layout(m, Section::Ownership, &r.name, body))
}

fn relationships_table(m: &Messages, rels: &[BodsRelationship], owners: bool) -> Markup {
    html! {
        @if rels.is_empty() {
            p { (m.t("ownership.direct_owners.none")) }
        } @else {
            div.table-scroll { table {
                caption.visually-hidden { @if owners { (m.t("ownership.direct_owners")) } @else { (m.t("ownership.holdings")) } }
                thead { tr {
                    th scope="col" { @if owners { (m.t("ownership.col.owner")) } @else { (m.t("ownership.col.entity")) } }
                    th scope="col" { (m.t("ownership.col.interest")) }
                    th scope="col" { (m.t("ownership.col.share")) }
                    th scope="col" { (m.t("ownership.col.period")) }
                    th scope="col" { (m.t("ownership.col.status")) }
                } }
                tbody { @for r in rels { tr {
                    td { @if owners { (relationship_party(m, r)) } @else { a href=(record_href("entity", &r.subject_id)) { (r.subject_name) } } }
                    td { (interest_text(m, r)) }
                    td { (share_text(r.share_min, r.share_max).unwrap_or_default()) }
                    td { (r.start_date.clone().unwrap_or_default()) @if let Some(e) = &r.end_date { " – " (e) } }
                    td { @if r.current { (m.t("ownership.current")) } @else { (m.t("ownership.closed")) } }
                } } }
            } }
        }
    }
}

async fn graph_svg(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let v = load_entity(&state, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no entity {id:?} in the register")))?;
    let d = entity_diagram(&state, &v, expanded(raw.as_deref())).await?;
    Ok((
        [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
        diagram::render(&d),
    )
        .into_response())
}

async fn person_page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let m = &state.messages;
    let v = match load_person(&state, &id).await {
        Ok(Some(v)) => v,
        Ok(None) => {
            return error_page(
                m,
                StatusCode::NOT_FOUND,
                m.t("error.not_found"),
                &m.f("ownership.not_found", &[("id", &id)]),
            )
        }
        Err(e) => return server_error(m, e),
    };
    let r = &v.record;
    let protected = r.withheld_reason.as_deref() == Some("protected");
    let d = &v.details;
    let text = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_owned);
    let nationalities: Vec<String> = d
        .get("nationalities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|n| {
            n.get("name")
                .or_else(|| n.get("code"))
                .and_then(Value::as_str)
        })
        .map(str::to_owned)
        .collect();
    let title = if protected {
        m.t("ownership.protected").to_owned()
    } else {
        r.name.clone()
    };
    let body = html! {
        h1 { (title) }
        @if protected {
            p.notice { (m.t("ownership.protected.notice")) }
        } @else if let Some(reason) = &r.withheld_reason {
            p.notice { (reason_text(m, reason)) }
        }
        dl.facts {
            @if !protected {
                @if let Some(t) = &r.subtype { dt { (m.t("ownership.col.type")) } dd { (m.t_or(&format!("ownership.person.{t}"), t)) } }
                @if let Some(b) = text("birthDate") { dt { (m.t("ownership.birth")) } dd { (b) } }
                @if !nationalities.is_empty() { dt { (m.t("ownership.nationality")) } dd { (nationalities.join(", ")) } }
            }
            dt { (m.t("ownership.record_id")) } dd { code { (r.record_id) } }
        }
        p.hint { (m.t("ownership.person.privacy")) }
        p { a href=(format!("/api/v1/ownership/people/{}", segment(&r.record_id))) { (m.t("ownership.json")) } }
        section aria-labelledby="h-owns" {
            h2 #h-owns { (m.t("ownership.person.owns")) }
            @if v.owned.is_empty() {
                p { (m.t("ownership.person.owns.none")) }
            } @else {
                div.table-scroll { table #person-owns {
                    caption.visually-hidden { (m.t("ownership.person.owns")) }
                    thead { tr {
                        th scope="col" { (m.t("ownership.col.entity")) }
                        th scope="col" { (m.t("ownership.col.share")) }
                        th scope="col" { (m.t("ownership.col.how")) }
                    } }
                    tbody { @for o in &v.owned { tr {
                        td { a href=(record_href("entity", &o.subject_id)) { (entity_name(&v.holdings, &o.subject_id)) } }
                        td { (share_text(o.share_min, o.share_max).unwrap_or_else(|| m.t("ownership.share.unknown").to_owned())) }
                        td { @if o.direct { (m.t("ownership.direct")) } @else { (m.t("ownership.indirect")) } @if o.controls { " · " (m.t("ownership.controls")) } }
                    } } }
                } }
            }
        }
        section aria-labelledby="h-contracts" {
            h2 #h-contracts { (m.t("ownership.person.contracts")) }
            (contracts_table(m, &v.contracts))
        }
        @if !v.holdings.is_empty() {
            section aria-labelledby="h-holdings" {
                h2 #h-holdings { (m.t("ownership.holdings")) }
                (relationships_table(m, &v.holdings, false))
            }
        }
    };
    page(layout(m, Section::Ownership, &title, body))
}

/// The entity's name from the person's direct holdings, or its id (an entity
/// held through others is named on its own page).
fn entity_name(holdings: &[BodsRelationship], id: &str) -> String {
    holdings
        .iter()
        .find(|h| h.subject_id == id)
        .map(|h| h.subject_name.clone())
        .unwrap_or_else(|| id.to_owned())
}

// ---------------------------------------------------------------- API

/// Search the register by name or identifier.
#[utoipa::path(get, path = "/api/v1/ownership", tag = "ownership",
    params(
        ("q" = String, Query, description = "Words of a name, or an identifier: GB-COH-00102498, a company number, an NZBN, an LEI"),
        ("type" = Option<String>, Query, description = "entity or person"),
        ("limit" = Option<u32>, Query, description = "At most this many (1–200, default 20)"),
    ),
    responses((status = 200, description = "Matching people and entities", body = SearchOut), (status = 400, body = ApiError)))]
pub async fn search_api(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let search = search_query(raw.as_deref())?;
    state.fresh_register().await?;
    let results = state.store.bods_search(&search).await?;
    Ok(json(&SearchOut {
        q: search.q,
        results: results.iter().map(RecordOut::from).collect(),
    }))
}

/// One record's statements in BODS 0.4, public form, in publication order.
#[utoipa::path(get, path = "/api/v1/ownership/records/{id}", tag = "ownership",
    params(("id" = String, Path, description = "recordId")),
    responses((status = 200, description = "A JSON array of BODS 0.4 statements", body = Object), (status = 404, body = ApiError)))]
pub async fn record_api(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let statements = state.store.bods_statements_of(&id).await?;
    if statements.is_empty() {
        return Err(ApiError::not_found(format!(
            "no record {id:?} in the register"
        )));
    }
    Ok(json(&statements))
}

/// An entity: identifiers, direct and ultimate owners, holdings, procurement links.
#[utoipa::path(get, path = "/api/v1/ownership/entities/{id}", tag = "ownership",
    params(("id" = String, Path, description = "The entity's recordId")),
    responses((status = 200, body = EntityOut), (status = 404, body = ApiError)))]
pub async fn entity_api(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let v = load_entity(&state, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no entity {id:?} in the register")))?;
    Ok(json(&entity_out(&v)))
}

/// A person (public fields only): holdings, entities ultimately owned, their contracts.
#[utoipa::path(get, path = "/api/v1/ownership/people/{id}", tag = "ownership",
    params(("id" = String, Path, description = "The person's recordId")),
    responses((status = 200, body = PersonOut), (status = 404, body = ApiError)))]
pub async fn person_api(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let v = load_person(&state, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no person {id:?} in the register")))?;
    Ok(json(&PersonOut {
        record: RecordOut::from(&v.record),
        holdings: v.holdings.iter().map(RelationshipOut::from).collect(),
        ultimately_owns: v.owned.iter().map(OwnerOut::from).collect(),
        contracts: v.contracts.iter().map(ContractOut::from).collect(),
    }))
}

/// The beneficial owners of a procurement organisation, matched by identifier.
#[utoipa::path(get, path = "/api/v1/ownership/organisations/{org_id}", tag = "ownership",
    params(("org_id" = String, Path, description = "The organisation's id, SCHEME-ID (e.g. NZ-NZBN-9429041234567)")),
    responses((status = 200, body = OrganisationOwnershipOut)))]
pub async fn organisation_api(
    State(state): State<AppState>,
    Path(org_id): Path<String>,
) -> Result<Response, ApiError> {
    state.fresh_register().await?;
    let entities = state.store.bods_entities_of_org(&org_id).await?;
    let mut owners = Vec::new();
    for e in &entities {
        owners.extend(state.store.bods_ultimate_owners(&e.record_id).await?);
    }
    Ok(json(&OrganisationOwnershipOut {
        org_id,
        entities: entities.iter().map(LinkOut::from).collect(),
        ultimate_owners: owners.iter().map(OwnerOut::from).collect(),
    }))
}

/// Statements held back, with the reason (their content stays on the server).
#[utoipa::path(get, path = "/api/v1/ownership/quarantine", tag = "ownership",
    responses((status = 200, body = Vec<QuarantineOut>)))]
pub async fn quarantine_api(State(state): State<AppState>) -> Result<Response, ApiError> {
    let rows = state.store.bods_quarantine(500).await?;
    let out: Vec<QuarantineOut> = rows
        .into_iter()
        .map(|q| QuarantineOut {
            statement_id: q.statement_id,
            reason: q.reason,
            message: q.message,
            path: q.path,
            source_file: crate::api::public_source(&q.source_file),
            source_line: q.source_line,
            publisher: q.publisher,
            received_at: q.received_at,
        })
        .collect();
    Ok(json(&out))
}

/// Every statement in its public form (JSON Lines), streamed.
#[utoipa::path(get, path = "/api/v1/downloads/statements.jsonl", tag = "ownership", responses(
    (status = 200, description = "JSON Lines of BODS 0.4 statements", content_type = "application/x-ndjson", body = String),
    (status = 304, description = "Not modified since the ETag given in If-None-Match"),
))]
pub async fn statements_jsonl(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let tag = crate::downloads::etag(state.store.bods_version().await?, "statements.jsonl");
    if let Some(r) = crate::downloads::not_modified(&headers, &tag) {
        return Ok(r);
    }
    let policy = state.store.bods_policy().await?;
    let store = state.store.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(2);
    tokio::spawn(async move {
        let mut after = -1i64;
        loop {
            match store.bods_export_page(after, 2000, &policy).await {
                Ok((statements, Some(last))) => {
                    after = last;
                    let mut buf = Vec::with_capacity(statements.len() * 512);
                    for s in &statements {
                        if serde_json::to_writer(&mut buf, s).is_ok() {
                            buf.push(b'\n');
                        }
                    }
                    if tx.send(Ok(buf)).await.is_err() {
                        return;
                    }
                }
                Ok((_, None)) => return,
                Err(e) => {
                    tracing::error!(error = %e, "exporting statements");
                    let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
                    return;
                }
            }
        }
    });
    let stream = crate::downloads::tokio_stream_from(rx);
    Ok(crate::downloads::streamed(
        &tag,
        "application/x-ndjson",
        "statements.jsonl",
        Body::from_stream(stream),
    ))
}

/// Publish BODS statements (a JSON array or JSON Lines; 0.2/0.3 upgraded). Needs
/// a bearer token with the `bods:write` scope. Statements with schema errors are
/// quarantined and reported; the rest are kept; the same statement twice is stored once.
#[utoipa::path(post, path = "/api/v1/statements", tag = "ownership",
    request_body(content = String, content_type = "application/json", description = "BODS statements"),
    responses(
        (status = 200, description = "All kept (findings may hold warnings)", body = PublishOut),
        (status = 422, description = "Some statements were quarantined; the rest were kept", body = PublishOut),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 413, body = ApiError),
    ),
    security(("publisher_token" = [])))]
pub async fn publish(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let token = crate::api::authorised(&state, &headers).await?;
    if !token.has_scope("bods:write") {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this token may not publish ownership statements: it needs the bods:write scope (tuwhera token create --scope bods:write)",
        ));
    }
    let bytes =
        crate::api::bounded_body(&state, &headers, body, "body", "; publish in smaller parts")
            .await?;
    let source = format!(
        "POST /api/v1/statements by {} (token {})",
        token.publisher, token.token_id
    );
    let items =
        tuwhera_bods::read::read_all(&source, &bytes[..], tuwhera_bods::read::Limits::default());
    let _writing = state.write_lock.lock().await;
    let mut preparer = BodsPreparer::new()?;
    let prepared = tokio::task::block_in_place(|| preparer.prepare(items));
    let mut findings: Vec<PublishFinding> = prepared
        .report
        .iter()
        .map(|f| PublishFinding {
            severity: match f.severity {
                tuwhera_bods::validate::Severity::Error => "error",
                tuwhera_bods::validate::Severity::Warning => "warning",
            }
            .to_owned(),
            rule: f.rule.code().into_owned(),
            message: f.message.clone(),
            statement_id: f.statement_id.clone(),
            index: f.place.index,
            path: f.path.clone(),
        })
        .collect();
    let summary = state.store.bods_ingest(prepared, &token.publisher).await?;
    let last = preparer.finish();
    state.store.bods_record_findings(&last).await?;
    findings.extend(last.iter().map(|f| PublishFinding {
        severity: "warning".to_owned(),
        rule: f.rule.code().into_owned(),
        message: f.message.clone(),
        statement_id: f.statement_id.clone(),
        index: f.place.index,
        path: f.path.clone(),
    }));
    drop(_writing);
    // The publisher's statements are visible when the answer comes back; the
    // flags, which read the register, follow in the background.
    state.store.bods_resolve(false).await?;
    state.fresh_risk().await?;
    let status = if summary.quarantined > 0 {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut response = json(&PublishOut {
        new: summary.new,
        unchanged: summary.unchanged,
        quarantined: summary.quarantined,
        findings,
    });
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The "Beneficial owners" section of a procurement organisation's page.
pub(crate) async fn organisation_section(state: &AppState, org_id: &str) -> Markup {
    let m = &state.messages;
    let _ = state.fresh_register().await;
    let entities = state
        .store
        .bods_entities_of_org(org_id)
        .await
        .unwrap_or_default();
    let mut owners: Vec<BodsOwner> = Vec::new();
    for e in &entities {
        owners.extend(
            state
                .store
                .bods_ultimate_owners(&e.record_id)
                .await
                .unwrap_or_default(),
        );
    }
    html! {
        section #beneficial-owners aria-labelledby="h-owners" {
            h2 #h-owners { (m.t("ownership.org.title")) }
            @if entities.is_empty() {
                p { (m.t("ownership.org.none")) }
            } @else {
                p { (m.t("ownership.org.register")) " "
                    @for (i, e) in entities.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href=(record_href("entity", &e.record_id)) { (e.entity_name) }
                    }
                }
                @if owners.is_empty() {
                    p { (m.t("ownership.ultimate.none")) }
                } @else {
                    ul { @for o in &owners { li {
                        (owner_cell(m, o))
                        @if let Some(s) = share_text(o.share_min, o.share_max) { " — " (s) }
                    } } }
                }
            }
        }
    }
}

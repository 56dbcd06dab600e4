//! The JSON API under `/api/v1`, and its OpenAPI document.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;
use tuwhera_ocds::reader::{self, Event, Limits};
use tuwhera_ocds::MergeRules;
use tuwhera_store::{Facet, ProcessRow, SearchPage};
use utoipa::{OpenApi, ToSchema};

use crate::params::{self, SEARCH_PARAMS};
use crate::{segment, ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/processes", get(search_processes))
        .route("/api/v1/processes/{ocid}", get(process))
        .route("/api/v1/processes/{ocid}/versioned", get(versioned))
        .route("/api/v1/processes/{ocid}/releases", get(process_releases))
        .route("/api/v1/organisations", get(organisations))
        .route("/api/v1/organisations/{id}", get(organisation))
        .route("/api/v1/quarantine", get(quarantine))
        .route("/api/v1/quarantine/{content_hash}", get(quarantined_item))
        .route("/api/v1/releases", post(publish))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tuwhera API",
        description = "Open procurement data (OCDS 1.1) and the Open Government Partnership action plan of New Zealand's open-government platform. Reading is public; publishing and updating need a publisher's bearer token. Errors are JSON: `{\"error\", \"message\", \"field\"}`.",
        license(name = "Apache-2.0")
    ),
    paths(
        search_processes, process, versioned, process_releases, organisations, organisation,
        quarantine, quarantined_item, publish, healthz, readyz,
        crate::downloads::list, crate::downloads::releases_jsonl, crate::downloads::compiled_jsonl,
        crate::downloads::record_package, crate::downloads::flattened_zip,
        crate::risk::flags_api, crate::risk::indicators_api, crate::risk::process_flags_api,
        crate::risk::compliance_api, crate::risk::agency_api, crate::risk::quality_api,
        crate::risk::publisher_api, crate::risk::dashboards_api,
        crate::ownership::search_api, crate::ownership::record_api, crate::ownership::entity_api,
        crate::ownership::person_api, crate::ownership::organisation_api,
        crate::ownership::quarantine_api, crate::ownership::statements_jsonl,
        crate::ownership::publish,
        crate::plan_api::plan_api, crate::plan_api::schema_api, crate::plan_api::versions_api,
        crate::plan_api::commitments_api, crate::plan_api::commitment_api,
        crate::plan_api::history_api, crate::plan_api::diff_api, crate::plan_api::progress_api,
        crate::plan_api::update_progress_api, crate::plan_api::commitment_questions_api,
        crate::plan_api::ask_api, crate::plan_api::questions_api, crate::plan_api::moderation_api,
        crate::plan_api::moderate_api, crate::plan_api::answer_api, crate::plan_api::report_api
    ),
    components(schemas(
        ApiError, SearchResponse, ProcessSummary, Facets, FacetValue, ProcessResponse, ReleaseInfo,
        PartyRole, OrgList, OrgSummary, OrgResponse, OrgTotalOut, QuarantineList, QuarantineItem,
        PublishResponse, HeldItem, Health, crate::downloads::DownloadList, crate::downloads::DownloadInfo,
        crate::risk::FlagOut, crate::risk::FindingOut, crate::risk::RiskRowOut, crate::risk::RiskList,
        crate::risk::IndicatorOut, crate::risk::ProcessFlags, crate::risk::ComplianceRateOut,
        crate::risk::AgencyFindings, crate::risk::QualityOut, crate::risk::QualityHistory,
        crate::ownership::RecordOut, crate::ownership::SearchOut, crate::ownership::RelationshipOut,
        crate::ownership::OwnerOut, crate::ownership::LinkOut, crate::ownership::ContractOut,
        crate::ownership::EntityOut, crate::ownership::IdentifierOut, crate::ownership::PersonOut,
        crate::ownership::OrganisationOwnershipOut, crate::ownership::QuarantineOut,
        crate::ownership::PublishOut, crate::ownership::PublishFinding,
        crate::plan_api::Licence, crate::plan_api::ModuleOut, crate::plan_api::CommitmentSummary,
        crate::plan_api::CommitmentList, crate::plan_api::QuestionOut, crate::plan_api::VersionRef,
        crate::plan_api::CommitmentOut, crate::plan_api::VersionOut, crate::plan_api::HistoryOut,
        crate::plan_api::OpOut, crate::plan_api::FieldChangeOut, crate::plan_api::DiffOut,
        crate::plan_api::PartOut, crate::plan_api::SectionOut, crate::plan_api::ReportOut,
        crate::plan_api::PlanVersionOut, crate::plan_api::ProgressOut,
        crate::plan_api::ProgressUpdateOut, crate::plan_api::ProgressIn,
        crate::plan_api::QuestionIn, crate::plan_api::QuestionReceived,
        crate::plan_api::ModerationIn, crate::plan_api::AnswerIn
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "procurement", description = "Contracting processes, organisations and publishing"),
        (name = "risk", description = "Red flags (risk signals, not proof), Government Procurement Rules compliance, data quality, dashboards"),
        (name = "ownership", description = "The beneficial ownership register (BODS 0.4): people and entities, ultimate owners, links to procurement; public fields only"),
        (name = "plan", description = "The Open Government Partnership action plan: commitments, progress reports and their history, the public's questions and the lead agencies' answers. Updating needs the lead agency's token (scope plan:N); moderating, plan:moderate or plan:N")
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "publisher_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

async fn openapi() -> Response {
    let mut response = Json(ApiDoc::openapi()).into_response();
    cors(&mut response);
    response
}

/// Open data: any site may read the API from a browser.
fn cors(response: &mut Response) {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::HeaderValue::from_static("*"),
    );
}

/// The token a request carries, or 401 with what to do.
pub(crate) async fn authorised(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<tuwhera_store::TokenInfo, ApiError> {
    let Some(secret) = bearer(headers) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "publishing needs a bearer token: Authorization: Bearer TOKEN (made with `tuwhera token create`)",
        ));
    };
    let Some(token) = state.store.token(secret).await? else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this token is not valid (unknown or revoked)",
        ));
    };
    Ok(token)
}

/// A request body read whole, bounded by the configured limit: refused before a
/// byte is read when its declared length is over, and cut off when it grows over.
/// The message reads "the {what} is larger than N bytes{advice}".
pub(crate) async fn bounded_body(
    state: &AppState,
    headers: &HeaderMap,
    body: axum::body::Body,
    what: &str,
    advice: &str,
) -> Result<axum::body::Bytes, ApiError> {
    let limit = state.config.max_body;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!("the {what} is larger than {limit} bytes{advice}"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())
}

pub(crate) fn json<T: Serialize>(value: &T) -> Response {
    let mut response = Json(value).into_response();
    cors(&mut response);
    response
}

/// A contracting process as listed.
#[derive(Serialize, ToSchema)]
pub struct ProcessSummary {
    pub ocid: String,
    /// When the process was last published (its latest release's date).
    pub date: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// The buyer's organisation id; where the publisher names no buyer, the procuring entity's.
    pub buyer_id: Option<String>,
    pub buyer_name: Option<String>,
    pub procuring_entity_id: Option<String>,
    pub procuring_entity_name: Option<String>,
    /// Tender status (OCDS tenderStatus codelist).
    pub status: Option<String>,
    pub procurement_method: Option<String>,
    pub procurement_method_details: Option<String>,
    pub main_category: Option<String>,
    pub tender_amount: Option<f64>,
    pub tender_currency: Option<String>,
    /// Total of active awards in the first award's currency.
    pub awarded_amount: Option<f64>,
    pub awarded_currency: Option<String>,
    pub contracted_amount: Option<f64>,
    /// What a value filter compares: the awarded amount, else the tender's estimate.
    pub amount: Option<f64>,
    pub currency: Option<String>,
    pub tender_start: Option<String>,
    pub tender_end: Option<String>,
    pub award_date: Option<String>,
    pub contract_date: Option<String>,
    /// Suppliers' names, separated by "; ".
    pub suppliers: Option<String>,
    pub supplier_count: i64,
    pub tenderer_count: i64,
    pub award_count: i64,
    pub contract_count: i64,
    pub release_count: i64,
    /// Item classifications as SCHEME-ID.
    pub classifications: Vec<String>,
    /// This process in the API.
    pub url: String,
    /// This process's page.
    pub html_url: String,
}

impl From<ProcessRow> for ProcessSummary {
    fn from(r: ProcessRow) -> Self {
        let url = format!("/api/v1/processes/{}", segment(&r.ocid));
        let html_url = format!("/procurement/{}", segment(&r.ocid));
        ProcessSummary {
            classifications: r
                .classifications
                .as_deref()
                .map(|c| c.split(' ').map(str::to_owned).collect())
                .unwrap_or_default(),
            ocid: r.ocid,
            date: r.date,
            title: r.title,
            description: r.description,
            buyer_id: r.buyer_id,
            buyer_name: r.buyer_name,
            procuring_entity_id: r.procuring_entity_id,
            procuring_entity_name: r.procuring_entity_name,
            status: r.status,
            procurement_method: r.procurement_method,
            procurement_method_details: r.procurement_method_details,
            main_category: r.main_category,
            tender_amount: r.tender_amount,
            tender_currency: r.tender_currency,
            awarded_amount: r.awarded_amount,
            awarded_currency: r.awarded_currency,
            contracted_amount: r.contracted_amount,
            amount: r.amount,
            currency: r.currency,
            tender_start: r.tender_start,
            tender_end: r.tender_end,
            award_date: r.award_date,
            contract_date: r.contract_date,
            suppliers: r.suppliers,
            supplier_count: r.supplier_count,
            tenderer_count: r.tenderer_count,
            award_count: r.award_count,
            contract_count: r.contract_count,
            release_count: r.release_count,
            url,
            html_url,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct FacetValue {
    pub value: String,
    /// A name for the value, where it is an identifier (buyers).
    pub label: Option<String>,
    pub count: i64,
}

/// Counts of the matching processes by each value (the ten most common).
#[derive(Serialize, ToSchema, Default)]
pub struct Facets {
    pub method: Vec<FacetValue>,
    pub status: Vec<FacetValue>,
    pub category: Vec<FacetValue>,
    pub buyer: Vec<FacetValue>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResponse {
    /// Matching processes, over every page.
    pub total: i64,
    pub results: Vec<ProcessSummary>,
    pub facets: Facets,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// The next page's URL.
    pub next: Option<String>,
}

pub fn facets_of(page: &SearchPage) -> Facets {
    let mut f = Facets::default();
    for (facet, counts) in &page.facets {
        let values = counts
            .iter()
            .map(|c| FacetValue {
                value: c.value.clone(),
                label: c.label.clone(),
                count: c.count,
            })
            .collect();
        match *facet {
            Facet::Method => f.method = values,
            Facet::Status => f.status = values,
            Facet::Category => f.category = values,
            Facet::Buyer => f.buyer = values,
        }
    }
    f
}

/// Search contracting processes, newest first.
///
/// Every filter is optional and they combine (AND). Pages are cursor-based and
/// stable while data is added: follow `next` until it is absent.
#[utoipa::path(
    get, path = "/api/v1/processes", tag = "procurement",
    params(
        ("q" = Option<String>, Query, description = "Words that must all appear in the title, description, buyer or supplier names"),
        ("buyer" = Option<String>, Query, description = "Buyer's organisation identifier"),
        ("supplier" = Option<String>, Query, description = "A supplier's organisation identifier"),
        ("org" = Option<String>, Query, description = "An organisation taking any part"),
        ("method" = Option<String>, Query, description = "Procurement method: open, selective, limited, direct"),
        ("status" = Option<String>, Query, description = "Tender status: planning, planned, active, cancelled, unsuccessful, complete, withdrawn"),
        ("category" = Option<String>, Query, description = "Main procurement category: goods, works, services"),
        ("date_from" = Option<String>, Query, description = "Last updated on or after (YYYY-MM-DD)"),
        ("date_to" = Option<String>, Query, description = "Last updated on or before (YYYY-MM-DD)"),
        ("value_min" = Option<f64>, Query, description = "Amount at least"),
        ("value_max" = Option<f64>, Query, description = "Amount at most"),
        ("limit" = Option<u32>, Query, description = "Results per page, 1 to 100 (default 20)"),
        ("cursor" = Option<String>, Query, description = "From the previous page's next_cursor"),
    ),
    responses(
        (status = 200, description = "A page of results with facet counts", body = SearchResponse),
        (status = 400, description = "A parameter is invalid", body = ApiError),
    )
)]
pub async fn search_processes(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = params::pairs(raw.as_deref(), SEARCH_PARAMS)?;
    let query = params::search(&pairs)?;
    let page = state.search(&query).await?;
    let facets = facets_of(&page);
    let next = page.next_cursor.as_ref().map(|c| {
        let mut link = params::search_link(&query);
        link.push(("cursor", c.clone()));
        format!("/api/v1/processes?{}", params::encode(&link))
    });
    Ok(json(&SearchResponse {
        total: page.total,
        results: page
            .results
            .iter()
            .cloned()
            .map(ProcessSummary::from)
            .collect(),
        facets,
        next_cursor: page.next_cursor.clone(),
        next,
    }))
}

/// A release as received: where it came from and when.
#[derive(Serialize, ToSchema)]
pub struct ReleaseInfo {
    pub id: String,
    pub date: Option<String>,
    pub tag: Vec<String>,
    /// The OCDS version its package declared.
    pub package_version: Option<String>,
    pub source_file: String,
    pub source_line: i64,
    pub received_at: String,
    /// SHA-256 of the release's bytes as received.
    pub content_hash: String,
}

/// An organisation's part in a process.
#[derive(Serialize, ToSchema)]
pub struct PartyRole {
    pub org_id: String,
    pub name: String,
    pub role: String,
    /// For buyers, the process's amount; for suppliers, what they were awarded.
    pub amount: Option<f64>,
    pub currency: Option<String>,
    pub url: String,
}

#[derive(Serialize, ToSchema)]
pub struct ProcessResponse {
    pub summary: ProcessSummary,
    /// The compiled release: the process's latest state (OCDS merge routine).
    #[schema(value_type = Object)]
    pub compiled_release: Value,
    /// Every release received, oldest first.
    pub releases: Vec<ReleaseInfo>,
    pub parties: Vec<PartyRole>,
    /// The versioned release (every field's history).
    pub versioned_url: String,
    /// The releases as received, in a release package.
    pub releases_url: String,
}

fn no_process(ocid: &str) -> ApiError {
    ApiError::not_found(format!("no contracting process has the ocid {ocid:?}"))
}

/// Where an item came from, as the public sees it: the file's name, not the
/// server's directories (which say nothing to a reader and something to an attacker).
pub fn public_source(source: &str) -> String {
    if source.starts_with("POST ") {
        return source.to_owned();
    }
    std::path::Path::new(source)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(source)
        .to_owned()
}

pub fn release_infos(rows: &[tuwhera_store::ReleaseRow]) -> Vec<ReleaseInfo> {
    rows.iter()
        .map(|r| {
            let stored = r
                .tag
                .as_deref()
                .map(|t| t.split_whitespace().map(str::to_owned).collect::<Vec<_>>());
            let tag = stored
                .or_else(|| {
                    serde_json::from_slice::<Value>(&r.raw)
                        .ok()
                        .and_then(|v| v.get("tag").cloned())
                        .and_then(|t| t.as_array().cloned())
                        .map(|a| {
                            a.iter()
                                .filter_map(|t| t.as_str().map(str::to_owned))
                                .collect()
                        })
                })
                .unwrap_or_default();
            ReleaseInfo {
                id: r.release_id.clone(),
                date: r.date.clone(),
                tag,
                package_version: r.package_version.clone(),
                source_file: public_source(&r.source_file),
                source_line: r.source_line,
                received_at: r.received_at.clone(),
                content_hash: r.content_hash.clone(),
            }
        })
        .collect()
}

pub fn party_roles(rows: Vec<tuwhera_store::PartyRow>) -> Vec<PartyRole> {
    rows.into_iter()
        .map(|p| PartyRole {
            url: format!("/api/v1/organisations/{}", segment(&p.org_id)),
            org_id: p.org_id,
            name: p.name,
            role: p.role,
            amount: p.amount,
            currency: p.currency,
        })
        .collect()
}

/// One contracting process: its summary, compiled release, releases and parties.
#[utoipa::path(
    get, path = "/api/v1/processes/{ocid}", tag = "procurement",
    params(("ocid" = String, Path, description = "Open contracting ID (percent-encoded)")),
    responses(
        (status = 200, description = "The process", body = ProcessResponse),
        (status = 404, description = "No such process", body = ApiError),
    )
)]
pub async fn process(
    State(state): State<AppState>,
    Path(ocid): Path<String>,
) -> Result<Response, ApiError> {
    let Some((row, compiled)) = state.store.process(&ocid).await? else {
        return Err(no_process(&ocid));
    };
    let releases = state.store.release_list(&ocid).await?;
    let parties = state.store.parties(&ocid).await?;
    let enc = segment(&ocid);
    Ok(json(&ProcessResponse {
        summary: row.into(),
        compiled_release: compiled,
        releases: release_infos(&releases),
        parties: party_roles(parties),
        versioned_url: format!("/api/v1/processes/{enc}/versioned"),
        releases_url: format!("/api/v1/processes/{enc}/releases"),
    }))
}

/// The versioned release of a process: every field with the history of its values.
#[utoipa::path(
    get, path = "/api/v1/processes/{ocid}/versioned", tag = "procurement",
    params(("ocid" = String, Path, description = "Open contracting ID (percent-encoded)")),
    responses(
        (status = 200, description = "The versioned release (OCDS)", body = Object),
        (status = 404, description = "No such process", body = ApiError),
    )
)]
pub async fn versioned(
    State(state): State<AppState>,
    Path(ocid): Path<String>,
) -> Result<Response, ApiError> {
    match state
        .store
        .versioned(&ocid, &MergeRules::ocds_1_1())
        .await?
    {
        Some(v) => Ok(json(&v)),
        None => Err(no_process(&ocid)),
    }
}

/// A process's releases exactly as received, in one release package.
#[utoipa::path(
    get, path = "/api/v1/processes/{ocid}/releases", tag = "procurement",
    params(("ocid" = String, Path, description = "Open contracting ID (percent-encoded)")),
    responses(
        (status = 200, description = "A release package (OCDS)", body = Object),
        (status = 404, description = "No such process", body = ApiError),
    )
)]
pub async fn process_releases(
    State(state): State<AppState>,
    Path(ocid): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let rows = state.store.releases(&ocid).await?;
    if rows.is_empty() {
        return Err(no_process(&ocid));
    }
    // Built as bytes: each release goes out exactly as it was received.
    let uri = format!(
        "{}/api/v1/processes/{}/releases",
        base_url(&headers),
        segment(&ocid)
    );
    let mut body = format!(
        "{{\"uri\":{},\"version\":\"1.1\",\"publishedDate\":{},\"publisher\":{{\"name\":\"Tuwhera\"}},\"releases\":[",
        Value::from(uri),
        Value::from(tuwhera_store::now_rfc3339())
    )
    .into_bytes();
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&r.raw);
    }
    body.extend_from_slice(b"]}");
    let mut response = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    cors(&mut response);
    Ok(response)
}

#[derive(Serialize, ToSchema)]
pub struct OrgSummary {
    pub id: String,
    pub name: String,
    /// Processes it bought in.
    pub as_buyer: i64,
    /// Processes it supplied in.
    pub as_supplier: i64,
    pub url: String,
}

#[derive(Serialize, ToSchema)]
pub struct OrgList {
    pub results: Vec<OrgSummary>,
    pub next_cursor: Option<String>,
    pub next: Option<String>,
}

/// Organisations (buyers, suppliers, tenderers…) by name.
#[utoipa::path(
    get, path = "/api/v1/organisations", tag = "procurement",
    params(
        ("q" = Option<String>, Query, description = "Part of the name or identifier"),
        ("role" = Option<String>, Query, description = "Only organisations that took this part: buyer, supplier, tenderer, procuringEntity…"),
        ("limit" = Option<u32>, Query, description = "1 to 100 (default 20)"),
        ("cursor" = Option<String>, Query, description = "From the previous page's next_cursor"),
    ),
    responses(
        (status = 200, description = "A page of organisations", body = OrgList),
        (status = 400, description = "A parameter is invalid", body = ApiError),
    )
)]
pub async fn organisations(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = params::pairs(raw.as_deref(), &["q", "role", "limit", "cursor"])?;
    let limit = params::limit(&pairs)?;
    let q = params::get(&pairs, "q");
    if q.is_some_and(|q| q.chars().count() > 200) {
        return Err(ApiError::invalid("q", "q is longer than 200 characters"));
    }
    let role = params::get(&pairs, "role");
    let page = state
        .organisations(q, role, limit, params::get(&pairs, "cursor"))
        .await?;
    let next = page
        .next_cursor
        .as_ref()
        .map(|c| params::next_page("/api/v1/organisations", &pairs, c));
    Ok(json(&OrgList {
        results: page
            .results
            .iter()
            .map(|o| OrgSummary {
                url: format!("/api/v1/organisations/{}", segment(&o.org_id)),
                id: o.org_id.clone(),
                name: o.name.clone(),
                as_buyer: o.as_buyer,
                as_supplier: o.as_supplier,
            })
            .collect(),
        next_cursor: page.next_cursor.clone(),
        next,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct OrgTotalOut {
    pub role: String,
    pub currency: Option<String>,
    pub processes: i64,
    /// Sum of the amounts of that part (see PartyRole.amount); absent where none was published.
    pub amount: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct OrgResponse {
    pub id: String,
    pub name: String,
    /// By role and currency.
    pub totals: Vec<OrgTotalOut>,
    /// Its latest processes (any role); the rest through `processes_url`.
    pub processes: Vec<ProcessSummary>,
    pub processes_url: String,
}

/// One organisation: its totals as buyer and as supplier, and its latest processes.
#[utoipa::path(
    get, path = "/api/v1/organisations/{id}", tag = "procurement",
    params(("id" = String, Path, description = "Organisation identifier (percent-encoded)")),
    responses(
        (status = 200, description = "The organisation", body = OrgResponse),
        (status = 404, description = "No such organisation", body = ApiError),
    )
)]
pub async fn organisation(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let Some(org) = state.store.organisation(&id).await? else {
        return Err(ApiError::not_found(format!(
            "no organisation has the identifier {id:?}"
        )));
    };
    let page = state
        .search(&tuwhera_store::SearchQuery {
            org: Some(org.org_id.clone()),
            limit: 20,
            ..Default::default()
        })
        .await?;
    Ok(json(&OrgResponse {
        processes_url: format!(
            "/api/v1/processes?{}",
            params::encode(&[("org", org.org_id.clone())])
        ),
        id: org.org_id,
        name: org.name,
        totals: org
            .totals
            .into_iter()
            .map(|t| OrgTotalOut {
                role: t.role,
                currency: t.currency,
                processes: t.processes,
                amount: t.amount,
            })
            .collect(),
        processes: page
            .results
            .iter()
            .cloned()
            .map(ProcessSummary::from)
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct QuarantineItem {
    /// The process it claimed to belong to (empty when it had no ocid).
    pub ocid: String,
    /// A stable code: no-ocid, no-id, no-date, bad-date, conflict, read.json-syntax, read.…
    pub reason: String,
    pub message: String,
    pub source_file: String,
    pub source_line: i64,
    pub received_at: String,
    pub content_hash: String,
    /// The item's bytes as received.
    pub raw_url: String,
}

#[derive(Serialize, ToSchema)]
pub struct QuarantineList {
    pub total: i64,
    pub results: Vec<QuarantineItem>,
    pub next_cursor: Option<String>,
    pub next: Option<String>,
}

/// What was received but could not be kept as a release, with the reasons.
#[utoipa::path(
    get, path = "/api/v1/quarantine", tag = "procurement",
    params(
        ("reason" = Option<String>, Query, description = "Only this reason"),
        ("limit" = Option<u32>, Query, description = "1 to 100 (default 20)"),
        ("cursor" = Option<String>, Query, description = "From the previous page's next_cursor"),
    ),
    responses(
        (status = 200, description = "A page of quarantined items", body = QuarantineList),
        (status = 400, description = "A parameter is invalid", body = ApiError),
    )
)]
pub async fn quarantine(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = params::pairs(raw.as_deref(), &["reason", "limit", "cursor"])?;
    let limit = params::limit(&pairs)?;
    let reason = params::get(&pairs, "reason");
    let page = state
        .store
        .quarantine_page(reason, limit, params::get(&pairs, "cursor"))
        .await?;
    let next = page
        .next_cursor
        .as_ref()
        .map(|c| params::next_page("/api/v1/quarantine", &pairs, c));
    Ok(json(&QuarantineList {
        total: page.total,
        results: page
            .items
            .into_iter()
            .map(|q| QuarantineItem {
                raw_url: format!("/api/v1/quarantine/{}", q.content_hash),
                ocid: q.ocid,
                reason: q.reason,
                message: q.message,
                source_file: public_source(&q.source_file),
                source_line: q.source_line,
                received_at: q.received_at,
                content_hash: q.content_hash,
            })
            .collect(),
        next_cursor: page.next_cursor,
        next,
    }))
}

/// A quarantined item's bytes, exactly as received (a download, never rendered).
#[utoipa::path(
    get, path = "/api/v1/quarantine/{content_hash}", tag = "procurement",
    params(("content_hash" = String, Path, description = "The item's content_hash")),
    responses(
        (status = 200, description = "The bytes as received", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, description = "No such item", body = ApiError),
    )
)]
pub async fn quarantined_item(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> Result<Response, ApiError> {
    let valid = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    if !valid {
        return Err(ApiError::invalid(
            "content_hash",
            "a content hash is 64 hexadecimal digits",
        ));
    }
    match state.store.quarantined_raw(&hash).await? {
        Some(raw) => Ok((
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"quarantined-{}.json\"", &hash[..12]),
                ),
            ],
            raw,
        )
            .into_response()),
        None => Err(ApiError::not_found(
            "nothing in quarantine has that content hash",
        )),
    }
}

#[derive(Serialize, ToSchema)]
pub struct PublishResponse {
    pub publisher: String,
    /// Releases stored for the first time.
    pub new: u64,
    /// Releases already stored, byte for byte.
    pub unchanged: u64,
    /// Items held in quarantine, with reasons (see /api/v1/quarantine).
    pub quarantined: u64,
    /// Processes compiled again.
    pub compiled: u64,
    /// The processes the package touched.
    pub processes: Vec<String>,
    /// Each item of this package that was held, and why (also listed at /api/v1/quarantine).
    pub held: Vec<HeldItem>,
}

/// An item of a published package that could not be kept as a release.
#[derive(Serialize, ToSchema)]
pub struct HeldItem {
    pub ocid: String,
    /// no-ocid, no-id, no-date, bad-date, conflict, read.…
    pub reason: String,
    pub message: String,
    /// Line of the item in the request body.
    pub line: i64,
}

/// This server's address as the client reached it (an OCDS package's `uri` must be absolute).
pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Publish a release package. Needs a publisher's bearer token; every release's
/// ocid must start with the token's prefix, or nothing is stored.
#[utoipa::path(
    post, path = "/api/v1/releases", tag = "procurement",
    request_body(content = Object, description = "An OCDS release package", content_type = "application/json"),
    responses(
        (status = 200, description = "Stored: what was new, unchanged or quarantined", body = PublishResponse),
        (status = 400, description = "Not a release package", body = ApiError),
        (status = 401, description = "No token, or not a valid one", body = ApiError),
        (status = 403, description = "A release is outside the token's ocid prefix", body = ApiError),
        (status = 413, description = "The package is larger than the limit", body = ApiError),
    ),
    security(("publisher_token" = []))
)]
pub async fn publish(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let token = authorised(&state, &headers).await?;
    let bytes = bounded_body(
        &state,
        &headers,
        body,
        "package",
        "; split it into smaller packages",
    )
    .await?;
    let source = format!(
        "POST /api/v1/releases by {} (token {})",
        token.publisher, token.token_id
    );
    let events = reader::read_all(&source, &bytes[..], Limits::default());
    let mut is_package = false;
    let mut processes: Vec<String> = Vec::new();
    for event in &events {
        match event {
            Event::Package(_) => is_package = true,
            Event::Item(item) => {
                if item.package.is_some() {
                    is_package = true;
                }
                if let Some(ocid) = &item.ocid {
                    if !token.may_write(ocid) {
                        return Err(ApiError {
                            field: Some(format!("releases/{}/ocid", item.index)),
                            ..ApiError::new(
                                StatusCode::FORBIDDEN,
                                "forbidden",
                                format!(
                                    "release {} has ocid {ocid:?}, outside this token's prefix {:?}; nothing was stored",
                                    item.index, token.ocid_prefix
                                ),
                            )
                        });
                    }
                    if !processes.contains(ocid) {
                        processes.push(ocid.clone());
                    }
                }
            }
            Event::Error(_) => {}
        }
    }
    if !is_package {
        let detail = events.iter().find_map(|e| match e {
            Event::Error(e) => Some(e.to_string()),
            _ => None,
        });
        return Err(ApiError::invalid(
            "body",
            detail.unwrap_or_else(|| {
                "the body is not a release package (an object with `releases`)".into()
            }),
        ));
    }
    let _writing = state.write_lock.lock().await;
    let (summary, held) = state.store.ingest_report(events, None).await?;
    let compiled = state.store.compile_dirty(&MergeRules::ocds_1_1()).await?;
    // Flags compare each process with the others: recomputed in the background.
    state.fresh_risk().await?;
    tracing::info!(publisher = %token.publisher, token = %token.token_id, new = summary.new,
        unchanged = summary.unchanged, quarantined = summary.quarantined, "published");
    Ok(json(&PublishResponse {
        publisher: token.publisher,
        new: summary.new,
        unchanged: summary.unchanged,
        quarantined: summary.quarantined,
        compiled,
        processes,
        held: held
            .into_iter()
            .map(|q| HeldItem {
                ocid: q.ocid,
                reason: q.reason,
                message: q.message,
                line: q.source_line,
            })
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}

/// The server is up.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "Up", body = Health)))]
pub async fn healthz() -> Response {
    json(&Health {
        status: "ok".into(),
    })
}

/// The server can reach its database.
#[utoipa::path(get, path = "/readyz", responses(
    (status = 200, description = "Ready", body = Health),
    (status = 503, description = "The database does not answer", body = ApiError),
))]
pub async fn readyz(State(state): State<AppState>) -> Result<Response, ApiError> {
    state.store.ping().await.map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not-ready",
            "the database does not answer",
        )
    })?;
    Ok(json(&Health {
        status: "ready".into(),
    }))
}

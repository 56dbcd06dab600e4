//! Risk signals, Procurement Rules compliance, data quality and dashboards:
//! the pages and the API endpoints behind them.
//!
//! Every page that shows a flag says what a flag is: a signal to look closer,
//! not proof of wrongdoing. Every chart has its numbers as a table and a CSV.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use serde::Serialize;
use serde_json::Value;
use tuwhera_store::risk::{RiskQuery, StoredFinding, StoredFlag};
use tuwhera_store::Dashboard;
use utoipa::ToSchema;

use crate::api::json;
use crate::charts::{self, Chart, Kind, Unit};
use crate::pages::{day, error_page, layout, page, server_error, Section};
use crate::params;
use crate::{segment, ApiError, AppState, Messages};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/risk", get(risk_page))
        .route("/compliance", get(compliance_page))
        .route("/compliance/{agency}", get(agency_page))
        .route("/quality", get(quality_page))
        .route("/quality/{publisher}", get(publisher_page))
        .route("/dashboards", get(dashboards_page))
        .route("/dashboards/{file}", get(dashboard_csv))
        .route("/api/v1/flags", get(flags_api))
        .route("/api/v1/flags/indicators", get(indicators_api))
        .route("/api/v1/processes/{ocid}/flags", get(process_flags_api))
        .route("/api/v1/compliance", get(compliance_api))
        .route("/api/v1/compliance/{agency}", get(agency_api))
        .route("/api/v1/quality", get(quality_api))
        .route("/api/v1/quality/{publisher}", get(publisher_api))
        .route("/api/v1/dashboards", get(dashboards_api))
}

const RISK_PARAMS: &[&str] = &[
    "code",
    "buyer",
    "supplier",
    "date_from",
    "date_to",
    "limit",
    "cursor",
];

fn risk_query(pairs: &[(String, String)]) -> Result<RiskQuery, ApiError> {
    let text = |key| params::text(pairs, key, 200);
    let code = text("code")?;
    if let Some(c) = &code {
        if tuwhera_flags::title(c).is_none() {
            return Err(ApiError::invalid(
                "code",
                format!("{c} is not an indicator code (R003, R018, …)"),
            ));
        }
    }
    Ok(RiskQuery {
        code,
        buyer: text("buyer")?,
        supplier: text("supplier")?,
        date_from: params::date(pairs, "date_from")?,
        date_to: params::date(pairs, "date_to")?,
        limit: params::limit(pairs)?,
        cursor: params::get(pairs, "cursor").map(String::from),
    })
}

// ---------------------------------------------------------------- API types

/// A flag raised on a process or an organisation.
#[derive(Serialize, ToSchema)]
pub struct FlagOut {
    /// Indicator code, e.g. R003.
    pub code: String,
    pub title: String,
    /// process, buyer, procuring-entity or tenderer.
    pub subject_kind: String,
    pub subject_id: String,
    /// The indicator's output (as Cardinal defines it).
    pub value: f64,
    /// What was measured and the threshold it crossed.
    pub reason: String,
    #[schema(value_type = Object)]
    pub details: Value,
    /// Organisations the flag names.
    pub organisations: Vec<String>,
    /// The publisher (ocid prefix) whose data the flag was computed over.
    pub publisher: String,
}

impl From<StoredFlag> for FlagOut {
    fn from(f: StoredFlag) -> FlagOut {
        FlagOut {
            title: tuwhera_flags::title(&f.code)
                .unwrap_or_default()
                .to_string(),
            code: f.code,
            subject_kind: f.subject_kind,
            subject_id: f.subject_id,
            value: f.value,
            reason: f.reason,
            details: f.details,
            organisations: f.organisations,
            publisher: f.publisher,
        }
    }
}

/// A Government Procurement Rules finding.
#[derive(Serialize, ToSchema)]
pub struct FindingOut {
    pub ocid: String,
    pub code: String,
    pub title: String,
    pub edition: String,
    pub rule: String,
    pub buyer_id: Option<String>,
    pub buyer_name: Option<String>,
    /// met, not-met or not-applicable.
    pub outcome: String,
    pub reason: String,
    #[schema(value_type = Object)]
    pub details: Value,
}

impl From<StoredFinding> for FindingOut {
    fn from(f: StoredFinding) -> FindingOut {
        FindingOut {
            title: tuwhera_flags::title(&f.code)
                .unwrap_or_default()
                .to_string(),
            ocid: f.ocid,
            code: f.code,
            edition: f.edition,
            rule: f.rule,
            buyer_id: f.buyer_id,
            buyer_name: f.buyer_name,
            outcome: f.outcome,
            reason: f.reason,
            details: f.details,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RiskRowOut {
    pub ocid: String,
    pub title: Option<String>,
    pub date: String,
    pub buyer_id: Option<String>,
    pub buyer_name: Option<String>,
    /// Flags on the process (its own and its organisations').
    pub flag_count: i64,
    /// The indicators that flagged it.
    pub codes: Vec<String>,
    pub url: String,
}

#[derive(Serialize, ToSchema)]
pub struct RiskList {
    /// A flag is a risk signal, not proof of wrongdoing.
    pub notice: String,
    pub total: i64,
    pub results: Vec<RiskRowOut>,
    pub next_cursor: Option<String>,
    pub next: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct IndicatorOut {
    pub code: String,
    pub title: String,
    pub flags: i64,
    pub processes: i64,
    /// Its documentation page.
    pub documentation: String,
}

#[derive(Serialize, ToSchema)]
pub struct ProcessFlags {
    pub ocid: String,
    pub notice: String,
    pub flags: Vec<FlagOut>,
    pub findings: Vec<FindingOut>,
}

#[derive(Serialize, ToSchema)]
pub struct ComplianceRateOut {
    pub buyer_id: String,
    pub buyer_name: Option<String>,
    pub code: String,
    pub met: i64,
    pub not_met: i64,
    /// met / (met + not met), 0–100.
    pub rate: f64,
}

#[derive(Serialize, ToSchema)]
pub struct AgencyFindings {
    pub buyer_id: String,
    pub findings: Vec<FindingOut>,
}

#[derive(Serialize, ToSchema)]
pub struct QualityOut {
    pub publisher: String,
    pub data_version: i64,
    pub taken_at: String,
    /// 0–100: a guide, not a verdict (see docs/indicators/quality.md).
    pub score: f64,
    pub quarantined: i64,
    #[schema(value_type = Object)]
    pub report: Value,
}

#[derive(Serialize, ToSchema)]
pub struct QualityHistory {
    pub publisher: String,
    /// Oldest first.
    pub snapshots: Vec<QualityOut>,
}

// ---------------------------------------------------------------- API

/// Processes with red flags, most flags first.
#[utoipa::path(
    get, path = "/api/v1/flags", tag = "risk",
    params(
        ("code" = Option<String>, Query, description = "Only processes flagged by this indicator (R003, R018, …)"),
        ("buyer" = Option<String>, Query, description = "Buyer's organisation id"),
        ("supplier" = Option<String>, Query, description = "A supplier's organisation id"),
        ("date_from" = Option<String>, Query, description = "YYYY-MM-DD"),
        ("date_to" = Option<String>, Query, description = "YYYY-MM-DD"),
        ("limit" = Option<u32>, Query, description = "1 to 100 (default 20)"),
        ("cursor" = Option<String>, Query, description = "From the previous page's next_cursor"),
    ),
    responses(
        (status = 200, description = "A page of flagged processes", body = RiskList),
        (status = 400, description = "A parameter is invalid", body = ApiError),
    )
)]
pub async fn flags_api(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    state.fresh_risk().await?;
    let pairs = params::pairs(raw.as_deref(), RISK_PARAMS)?;
    let query = risk_query(&pairs)?;
    let page = state.risk_page(&query).await?;
    let next = page
        .next_cursor
        .as_ref()
        .map(|c| params::next_page("/api/v1/flags", &pairs, c));
    Ok(json(&RiskList {
        notice: format!(
            "{} {}",
            state.messages.t("risk.notice.title"),
            state.messages.t("risk.notice")
        ),
        total: page.total,
        results: page
            .results
            .iter()
            .map(|r| RiskRowOut {
                url: format!("/api/v1/processes/{}/flags", segment(&r.ocid)),
                ocid: r.ocid.clone(),
                title: r.title.clone(),
                date: r.date.clone(),
                buyer_id: r.buyer_id.clone(),
                buyer_name: r.buyer_name.clone(),
                flag_count: r.flag_count,
                codes: r.codes.clone(),
            })
            .collect(),
        next_cursor: page.next_cursor.clone(),
        next,
    }))
}

/// Every indicator, with the flags it raised.
#[utoipa::path(
    get, path = "/api/v1/flags/indicators", tag = "risk",
    responses((status = 200, description = "Indicators and their counts", body = [IndicatorOut]))
)]
pub async fn indicators_api(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(json(&indicators(&state).await?))
}

async fn indicators(state: &AppState) -> Result<Vec<IndicatorOut>, ApiError> {
    state.fresh_risk().await?;
    let counts = state.store.flag_counts().await?;
    Ok(tuwhera_flags::INDICATORS
        .iter()
        .chain(tuwhera_flags::OWNERSHIP_INDICATORS)
        .map(|(code, title)| {
            let c = counts.iter().find(|c| c.code == *code);
            IndicatorOut {
                code: code.to_string(),
                title: title.to_string(),
                flags: c.map_or(0, |c| c.flags),
                processes: c.map_or(0, |c| c.processes),
                documentation: format!("docs/indicators/{code}.md"),
            }
        })
        .collect())
}

/// The flags and Procurement Rules findings on one process.
#[utoipa::path(
    get, path = "/api/v1/processes/{ocid}/flags", tag = "risk",
    params(("ocid" = String, Path, description = "The process's ocid")),
    responses(
        (status = 200, description = "Flags and findings", body = ProcessFlags),
        (status = 404, description = "No such process", body = ApiError),
    )
)]
pub async fn process_flags_api(
    State(state): State<AppState>,
    Path(ocid): Path<String>,
) -> Result<Response, ApiError> {
    state.fresh_risk().await?;
    if state.store.process(&ocid).await?.is_none() {
        return Err(ApiError::not_found(format!("no process {ocid}")));
    }
    let (flags, findings) = process_risk(&state, &ocid).await?;
    Ok(json(&ProcessFlags {
        ocid,
        notice: format!(
            "{} {}",
            state.messages.t("risk.notice.title"),
            state.messages.t("risk.notice")
        ),
        flags,
        findings,
    }))
}

pub(crate) async fn process_risk(
    state: &AppState,
    ocid: &str,
) -> Result<(Vec<FlagOut>, Vec<FindingOut>), ApiError> {
    let flags = state.store.process_flags(ocid).await?;
    let findings = state.store.process_findings(ocid).await?;
    Ok((
        flags.into_iter().map(FlagOut::from).collect(),
        findings.into_iter().map(FindingOut::from).collect(),
    ))
}

/// Each agency's compliance with each Government Procurement Rules check.
#[utoipa::path(
    get, path = "/api/v1/compliance", tag = "risk",
    responses((status = 200, description = "Rates per agency and check", body = [ComplianceRateOut]))
)]
pub async fn compliance_api(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(json(&rates(&state).await?))
}

async fn rates(state: &AppState) -> Result<Vec<ComplianceRateOut>, ApiError> {
    state.fresh_risk().await?;
    Ok(state
        .store
        .compliance_rates()
        .await?
        .into_iter()
        .map(|r| ComplianceRateOut {
            rate: rate(r.met, r.not_met),
            buyer_id: r.buyer_id,
            buyer_name: r.buyer_name,
            code: r.code,
            met: r.met,
            not_met: r.not_met,
        })
        .collect())
}

fn rate(met: i64, not_met: i64) -> f64 {
    if met + not_met == 0 {
        0.0
    } else {
        met as f64 * 100.0 / (met + not_met) as f64
    }
}

/// One agency's findings, unmet first.
#[utoipa::path(
    get, path = "/api/v1/compliance/{agency}", tag = "risk",
    params(("agency" = String, Path, description = "The buyer's organisation id")),
    responses(
        (status = 200, description = "Findings", body = AgencyFindings),
        (status = 404, description = "No findings for this agency", body = ApiError),
    )
)]
pub async fn agency_api(
    State(state): State<AppState>,
    Path(agency): Path<String>,
) -> Result<Response, ApiError> {
    state.fresh_risk().await?;
    let findings = state.store.agency_findings(&agency).await?;
    if findings.is_empty() {
        return Err(ApiError::not_found(format!(
            "no Procurement Rules findings for {agency}"
        )));
    }
    Ok(json(&AgencyFindings {
        buyer_id: agency,
        findings: findings.into_iter().map(FindingOut::from).collect(),
    }))
}

/// Each publisher's latest data-quality snapshot.
#[utoipa::path(
    get, path = "/api/v1/quality", tag = "risk",
    responses((status = 200, description = "Latest snapshot per publisher", body = [QualityOut]))
)]
pub async fn quality_api(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(json(&latest_quality(&state).await?))
}

async fn latest_quality(state: &AppState) -> Result<Vec<QualityOut>, ApiError> {
    state.fresh_risk().await?;
    let mut out = Vec::new();
    for s in state.store.quality_latest().await? {
        let quarantined = state.store.quarantine_count(&s.publisher).await?;
        out.push(QualityOut {
            publisher: s.publisher,
            data_version: s.data_version,
            taken_at: s.taken_at,
            score: s.score,
            quarantined,
            report: s.report,
        });
    }
    Ok(out)
}

/// A publisher's data-quality snapshots, oldest first (its trend).
#[utoipa::path(
    get, path = "/api/v1/quality/{publisher}", tag = "risk",
    params(("publisher" = String, Path, description = "The ocid prefix, e.g. ocds-6550wx")),
    responses(
        (status = 200, description = "Snapshots", body = QualityHistory),
        (status = 404, description = "No such publisher", body = ApiError),
    )
)]
pub async fn publisher_api(
    State(state): State<AppState>,
    Path(publisher): Path<String>,
) -> Result<Response, ApiError> {
    Ok(json(&history(&state, &publisher).await?))
}

async fn history(state: &AppState, publisher: &str) -> Result<QualityHistory, ApiError> {
    state.fresh_risk().await?;
    let snapshots = state.store.quality_history(publisher).await?;
    if snapshots.is_empty() {
        return Err(ApiError::not_found(format!("no publisher {publisher}")));
    }
    let quarantined = state.store.quarantine_count(publisher).await?;
    Ok(QualityHistory {
        publisher: publisher.to_string(),
        snapshots: snapshots
            .into_iter()
            .map(|s| QualityOut {
                publisher: s.publisher,
                data_version: s.data_version,
                taken_at: s.taken_at,
                score: s.score,
                quarantined,
                report: s.report,
            })
            .collect(),
    })
}

/// The dashboards' figures.
#[utoipa::path(
    get, path = "/api/v1/dashboards", tag = "risk",
    params(("currency" = Option<String>, Query, description = "Currency of the money figures (default: the commonest)")),
    responses(
        (status = 200, description = "Every dashboard series", body = Object),
        (status = 400, description = "A parameter is invalid", body = ApiError),
    )
)]
pub async fn dashboards_api(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = params::pairs(raw.as_deref(), &["currency"])?;
    let d = state.dashboard(currency_param(&pairs)?).await?;
    Ok(json(&*d))
}

fn currency_param(pairs: &[(String, String)]) -> Result<Option<&str>, ApiError> {
    match params::get(pairs, "currency") {
        Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => Ok(Some(c)),
        Some(_) => Err(ApiError::invalid(
            "currency",
            "currency must be a three-letter ISO 4217 code, e.g. NZD",
        )),
        None => Ok(None),
    }
}

// ---------------------------------------------------------------- pages

fn notice(m: &Messages) -> Markup {
    html! { p.notice role="note" { strong { (m.t("risk.notice.title")) } " " (m.t("risk.notice")) } }
}

fn process_link(ocid: &str, title: Option<&str>) -> Markup {
    html! { a.process-link href=(format!("/procurement/{}", segment(ocid))) { (title.unwrap_or(ocid)) } }
}

fn code_label(code: &str) -> Markup {
    let title = tuwhera_flags::title(code).unwrap_or_default();
    html! { abbr title=(title) { (code) } }
}

async fn risk_page(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let m = &state.messages;
    let pairs = match params::pairs(raw.as_deref(), RISK_PARAMS) {
        Ok(p) => p,
        Err(e) => return server_error(m, e),
    };
    let query = match risk_query(&pairs) {
        Ok(q) => q,
        Err(e) => return server_error(m, e),
    };
    if let Err(e) = state.fresh_risk().await {
        return server_error(m, e);
    }
    let (list, counts) = match (state.risk_page(&query).await, indicators(&state).await) {
        (Ok(l), Ok(c)) => (l, c),
        (Err(e), _) | (_, Err(e)) => return server_error(m, e),
    };
    let next = list
        .next_cursor
        .as_ref()
        .map(|c| params::next_page("/risk", &pairs, c));
    let v = |s: &Option<String>| s.clone().unwrap_or_default();
    let body = html! {
        h1 { (m.t("risk.title")) }
        (notice(m))
        form #risk-form role="search" action="/risk" method="get" {
            div.field {
                label for="f-code" { (m.t("risk.indicator")) }
                select #f-code name="code" {
                    option value="" { (m.t("risk.any")) }
                    @for (code, title) in tuwhera_flags::INDICATORS.iter().chain(tuwhera_flags::OWNERSHIP_INDICATORS) {
                        option value=(code) selected[query.code.as_deref() == Some(*code)] { (code) " — " (title) }
                    }
                }
            }
            div.field {
                label for="f-buyer" { (m.t("risk.buyer")) }
                input #f-buyer name="buyer" type="text" maxlength="200" value=(v(&query.buyer));
            }
            div.field {
                label for="f-supplier" { (m.t("risk.supplier")) }
                input #f-supplier name="supplier" type="text" maxlength="200" value=(v(&query.supplier));
            }
            div.field {
                label for="f-from" { (m.t("search.date_from")) }
                input #f-from name="date_from" type="date" value=(v(&query.date_from));
            }
            div.field {
                label for="f-to" { (m.t("search.date_to")) }
                input #f-to name="date_to" type="date" value=(v(&query.date_to));
            }
            button type="submit" { (m.t("search.submit")) }
        }
        section aria-labelledby="h-indicators" {
            h2 #h-indicators { (m.t("risk.indicators")) }
            div.table-scroll { table {
                caption { (m.t("risk.indicators.caption")) }
                thead { tr {
                    th scope="col" { (m.t("risk.col.code")) }
                    th scope="col" { (m.t("risk.col.indicator")) }
                    th scope="col" .num { (m.t("risk.col.flags")) }
                    th scope="col" .num { (m.t("risk.col.processes")) }
                } }
                tbody { @for c in &counts { tr {
                    td { a href=(format!("/risk?code={}", c.code)) { (c.code) } }
                    td { (c.title) }
                    td.num { (c.flags) }
                    td.num { (c.processes) }
                } } }
            } }
        }
        section aria-labelledby="h-flagged" {
            h2 #h-flagged { (m.f("risk.flagged", &[("total", &list.total.to_string())])) }
            @if list.results.is_empty() { p { (m.t("risk.none")) } } @else {
                div.table-scroll { table #risk-list {
                    caption.visually-hidden { (m.t("risk.flagged.caption")) }
                    thead { tr {
                        th scope="col" { (m.t("search.col.process")) }
                        th scope="col" { (m.t("process.buyer")) }
                        th scope="col" { (m.t("process.col.date")) }
                        th scope="col" .num { (m.t("risk.col.flags")) }
                        th scope="col" { (m.t("risk.col.indicators")) }
                    } }
                    tbody { @for r in &list.results { tr {
                        td { (process_link(&r.ocid, r.title.as_deref())) }
                        td { (r.buyer_name.clone().unwrap_or_default()) }
                        td { (day(Some(&r.date))) }
                        td.num { (r.flag_count) }
                        td { @for (i, c) in r.codes.iter().enumerate() { @if i > 0 { ", " } (code_label(c)) } }
                    } } }
                } }
            }
            @if let Some(n) = next { nav.pager aria-label=(m.t("nav.pages")) { a rel="next" href=(n) { (m.t("search.next")) } } }
        }
        p { a href="/api/v1/flags" { (m.t("risk.as_json")) } }
    };
    page(layout(m, Section::Risk, m.t("risk.title"), body))
}

/// The risk section of a process page.
pub(crate) fn process_section(m: &Messages, flags: &[FlagOut], findings: &[FindingOut]) -> Markup {
    let applicable: Vec<&FindingOut> = findings
        .iter()
        .filter(|f| f.outcome != "not-applicable")
        .collect();
    html! {
        section aria-labelledby="h-risk" #risk {
            h2 #h-risk { (m.t("risk.process.title")) }
            (notice(m))
            @if flags.is_empty() { p { (m.t("risk.process.none")) } } @else {
                ul.flags { @for f in flags { li {
                    strong { (f.code) " — " (f.title) } ": "
                    (m.t("risk.flagged_because")) " " (f.reason)
                    @if f.subject_kind != "process" { " " span.subject { "(" (m.f("risk.about", &[("kind", &f.subject_kind), ("id", &f.subject_id)])) ")" } }
                    " " a href=(format!("/risk?code={}", f.code)) { (m.t("risk.others")) }
                } } }
            }
            @if !applicable.is_empty() {
                h3 { (m.t("compliance.process.title")) }
                ul.findings { @for f in &applicable { li {
                    strong { (f.title) } " (" (f.rule) ", " (f.edition) "): "
                    span class=(format!("outcome {}", f.outcome)) { (outcome_label(m, &f.outcome)) } ". " (f.reason)
                } } }
            }
        }
    }
}

fn outcome_label<'a>(m: &'a Messages, outcome: &str) -> &'a str {
    match outcome {
        "met" => m.t("compliance.met"),
        "not-met" => m.t("compliance.not_met"),
        _ => m.t("compliance.not_applicable"),
    }
}

async fn compliance_page(State(state): State<AppState>) -> Response {
    let m = &state.messages;
    let rates = match rates(&state).await {
        Ok(r) => r,
        Err(e) => return server_error(m, e),
    };
    let checks: Vec<&str> = tuwhera_flags::rules::CHECKS
        .iter()
        .map(|(c, _)| *c)
        .collect();
    let mut agencies: Vec<(String, Option<String>)> = Vec::new();
    for r in &rates {
        if !agencies.iter().any(|(id, _)| *id == r.buyer_id) {
            agencies.push((r.buyer_id.clone(), r.buyer_name.clone()));
        }
    }
    let body = html! {
        h1 { (m.t("compliance.title")) }
        p { (m.t("compliance.intro")) }
        p.notice role="note" { (m.t("compliance.notice")) }
        @if agencies.is_empty() { p { (m.t("compliance.none")) } } @else {
            div.table-scroll { table #compliance-table {
                caption { (m.t("compliance.caption")) }
                thead { tr {
                    th scope="col" { (m.t("compliance.agency")) }
                    @for c in &checks { th scope="col" .num { (code_label(c)) } }
                } }
                tbody { @for (id, name) in &agencies { tr {
                    th scope="row" { a.agency-link href=(format!("/compliance/{}", segment(id))) { (name.clone().unwrap_or_else(|| id.clone())) } }
                    @for c in &checks {
                        @match rates.iter().find(|r| r.buyer_id == *id && r.code == *c) {
                            Some(r) => td.num { (format!("{:.0}%", r.rate)) " " span.small { "(" (r.met) "/" (r.met + r.not_met) ")" } },
                            None => td.num { "—" },
                        }
                    }
                } } }
            } }
        }
        h2 { (m.t("compliance.checks")) }
        ul { @for (c, t) in tuwhera_flags::rules::CHECKS { li { strong { (c) } " — " (t) } } }
        p { a href="/api/v1/compliance" { (m.t("risk.as_json")) } }
    };
    page(layout(
        m,
        Section::Compliance,
        m.t("compliance.title"),
        body,
    ))
}

async fn agency_page(State(state): State<AppState>, Path(agency): Path<String>) -> Response {
    let m = &state.messages;
    if let Err(e) = state.fresh_risk().await {
        return server_error(m, e);
    }
    let findings = match state.store.agency_findings(&agency).await {
        Ok(f) => f,
        Err(e) => return server_error(m, e.into()),
    };
    if findings.is_empty() {
        return error_page(
            m,
            StatusCode::NOT_FOUND,
            m.t("error.not_found"),
            m.t("compliance.none"),
        );
    }
    let name = findings
        .iter()
        .find_map(|f| f.buyer_name.clone())
        .unwrap_or_else(|| agency.clone());
    let title = m.f("compliance.agency.title", &[("agency", &name)]);
    let body = html! {
        h1 { (title) }
        p.notice role="note" { (m.t("compliance.notice")) }
        @for (code, check) in tuwhera_flags::rules::CHECKS {
            @let these: Vec<&StoredFinding> = findings.iter().filter(|f| f.code == *code && f.outcome != "not-applicable").collect();
            @if !these.is_empty() {
                section aria-labelledby=(format!("h-{code}")) {
                    h2 id=(format!("h-{code}")) { (check) }
                    @let met = these.iter().filter(|f| f.outcome == "met").count();
                    p { (m.f("compliance.summary", &[("met", &met.to_string()), ("all", &these.len().to_string())])) }
                    div.table-scroll { table {
                        caption.visually-hidden { (check) }
                        thead { tr {
                            th scope="col" { (m.t("compliance.process")) }
                            th scope="col" { (m.t("compliance.rule")) }
                            th scope="col" { (m.t("compliance.outcome")) }
                            th scope="col" { (m.t("compliance.reason")) }
                        } }
                        tbody { @for f in &these { tr {
                            td { (process_link(&f.ocid, None)) }
                            td { (f.rule) ", " (f.edition) }
                            td { span class=(format!("outcome {}", f.outcome)) { (outcome_label(m, &f.outcome)) } }
                            td { (f.reason) }
                        } } }
                    } }
                }
            }
        }
        p { a href=(format!("/api/v1/compliance/{}", segment(&agency))) { (m.t("risk.as_json")) } }
    };
    page(layout(m, Section::Compliance, &title, body))
}

async fn quality_page(State(state): State<AppState>) -> Response {
    let m = &state.messages;
    let list = match latest_quality(&state).await {
        Ok(l) => l,
        Err(e) => return server_error(m, e),
    };
    let body = html! {
        h1 { (m.t("quality.title")) }
        p { (m.t("quality.intro")) }
        @if list.is_empty() { p { (m.t("quality.none")) } } @else {
            div.table-scroll { table #quality-table {
                caption { (m.t("quality.caption")) }
                thead { tr {
                    th scope="col" { (m.t("quality.publisher")) }
                    th scope="col" .num { (m.t("quality.processes")) }
                    th scope="col" .num { (m.t("quality.quarantined")) }
                    th scope="col" .num { (m.t("quality.score")) }
                } }
                tbody { @for q in &list { tr {
                    th scope="row" { a.publisher-link href=(format!("/quality/{}", segment(&q.publisher))) { code { (q.publisher) } } }
                    td.num { (q.report.get("processes").and_then(Value::as_u64).unwrap_or(0)) }
                    td.num { (q.quarantined) }
                    td.num { (format!("{:.0}", q.score)) }
                } } }
            } }
        }
        p { a href="/api/v1/quality" { (m.t("risk.as_json")) } }
    };
    page(layout(m, Section::Quality, m.t("quality.title"), body))
}

async fn publisher_page(State(state): State<AppState>, Path(publisher): Path<String>) -> Response {
    let m = &state.messages;
    let h = match history(&state, &publisher).await {
        Ok(h) => h,
        Err(e) if e.status == 404 => {
            return error_page(
                m,
                StatusCode::NOT_FOUND,
                m.t("error.not_found"),
                m.t("quality.none"),
            )
        }
        Err(e) => return server_error(m, e),
    };
    let Some(latest) = h.snapshots.last() else {
        return error_page(
            m,
            StatusCode::NOT_FOUND,
            m.t("error.not_found"),
            m.t("quality.none"),
        );
    };
    let title = m.f("quality.publisher.title", &[("publisher", &publisher)]);
    let trend = Chart {
        id: "quality-trend".into(),
        title: m.t("quality.trend").into(),
        description: String::new(),
        label_heading: m.t("quality.taken_at").into(),
        value_heading: m.t("quality.score").into(),
        rows: h
            .snapshots
            .iter()
            .map(|s| (day(Some(&s.taken_at)), s.score))
            .collect(),
        unit: Unit::Count,
        kind: Kind::Columns,
    };
    let trend = Chart {
        description: charts::summary_sentence(&trend),
        ..trend
    };
    let report = &latest.report;
    let body = html! {
        h1 { (title) }
        p.score { (m.t("quality.score")) ": " strong { (format!("{:.0}", latest.score)) } " / 100" }
        p { (m.t("quality.score.help")) }
        p { (m.f("quality.quarantine", &[("n", &latest.quarantined.to_string())])) " " a href="/quarantine" { (m.t("nav.quarantine")) } }
        (charts::figure(&trend, &format!("/api/v1/quality/{}", segment(&publisher))))
        @if let Some(errors) = report.get("schema_errors").and_then(Value::as_object).filter(|e| !e.is_empty()) {
            section aria-labelledby="h-schema" {
                h2 #h-schema { (m.t("quality.schema_errors")) }
                div.table-scroll { table #schema-errors {
                    caption.visually-hidden { (m.t("quality.schema_errors")) }
                    thead { tr { th scope="col" { (m.t("quality.rule")) } th scope="col" .num { (m.t("quality.occurrences")) } } }
                    tbody { @for (rule, n) in errors { tr { td { code { (rule) } } td.num { (n) } } } }
                } }
            }
        }
        (report_tables(m, report))
        p { a href=(format!("/api/v1/quality/{}", segment(&publisher))) { (m.t("risk.as_json")) } }
    };
    page(layout(m, Section::Quality, &title, body))
}

/// The quality report's lists as tables: each array of objects becomes one.
fn report_tables(m: &Messages, report: &Value) -> Markup {
    let Some(object) = report.as_object() else {
        return html! {};
    };
    html! {
        @for (key, value) in object {
            @if let Some(rows) = value.as_array().filter(|a| a.first().is_some_and(Value::is_object)) {
                @let columns: Vec<&String> = rows[0].as_object().map(|o| o.keys().collect()).unwrap_or_default();
                section aria-labelledby=(format!("h-{key}")) {
                    h2 id=(format!("h-{key}")) { (m.t_or(&format!("quality.{key}"), key)) }
                    div.table-scroll { table {
                        caption.visually-hidden { (key) }
                        thead { tr { @for c in &columns { th scope="col" { (c) } } } }
                        tbody { @for row in rows { tr { @for c in &columns {
                            @let cell = row.get(c.as_str()).cloned().unwrap_or(Value::Null);
                            @match cell {
                                Value::Number(n) => td.num { (format_number(n.as_f64().unwrap_or(0.0))) },
                                Value::String(s) => td { (s) },
                                Value::Null => td { "—" },
                                other => td { (other.to_string()) },
                            }
                        } } } }
                    } }
                }
            }
        }
    }
}

fn format_number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn dashboard_charts(m: &Messages, d: &Dashboard) -> Vec<Chart> {
    let cur = d.currency.clone().unwrap_or_default();
    let money_unit = Unit::Money(cur.clone());
    let mk = |id: &str,
              title: String,
              label: &str,
              value: &str,
              rows: Vec<(String, f64)>,
              unit: Unit| {
        let chart = Chart {
            id: id.into(),
            title,
            description: String::new(),
            label_heading: m.t(label).into(),
            value_heading: m.t(value).into(),
            rows,
            unit,
            kind: if id == "spend" {
                Kind::Columns
            } else {
                Kind::Bars
            },
        };
        Chart {
            description: charts::summary_sentence(&chart),
            ..chart
        }
    };
    let pts = |v: &[tuwhera_store::Point]| {
        v.iter()
            .map(|p| (p.label.clone(), p.value))
            .collect::<Vec<_>>()
    };
    vec![
        mk(
            "spend",
            m.f("dash.spend", &[("currency", &cur)]),
            "dash.month",
            "dash.amount",
            pts(&d.spend_by_month),
            money_unit.clone(),
        ),
        mk(
            "methods",
            m.t("dash.methods").into(),
            "dash.method",
            "dash.processes",
            pts(&d.methods),
            Unit::Count,
        ),
        mk(
            "bidders",
            m.t("dash.bidders").into(),
            "dash.tenderers",
            "dash.processes",
            pts(&d.bidders),
            Unit::Count,
        ),
        mk(
            "flag-rates",
            m.t("dash.flag_rates").into(),
            "risk.col.indicator",
            "dash.share",
            d.flag_rates
                .iter()
                .map(|p| {
                    (
                        format!(
                            "{} {}",
                            p.label,
                            tuwhera_flags::title(&p.label).unwrap_or_default()
                        ),
                        p.value,
                    )
                })
                .collect(),
            Unit::Percent,
        ),
        mk(
            "compliance-rates",
            m.t("dash.compliance_rates").into(),
            "compliance.check",
            "dash.share",
            d.compliance_rates
                .iter()
                .map(|p| {
                    (
                        tuwhera_flags::title(&p.label)
                            .unwrap_or(&p.label)
                            .to_string(),
                        p.value,
                    )
                })
                .collect(),
            Unit::Percent,
        ),
        mk(
            "top-suppliers",
            m.f("dash.top_suppliers", &[("currency", &cur)]),
            "dash.supplier",
            "dash.amount",
            d.top_suppliers
                .iter()
                .map(|r| (r.name.clone(), r.amount))
                .collect(),
            money_unit.clone(),
        ),
        mk(
            "top-buyers",
            m.f("dash.top_buyers", &[("currency", &cur)]),
            "dash.buyer",
            "dash.amount",
            d.top_buyers
                .iter()
                .map(|r| (r.name.clone(), r.amount))
                .collect(),
            money_unit,
        ),
    ]
}

async fn dashboards_page(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let m = &state.messages;
    let pairs = match params::pairs(raw.as_deref(), &["currency"]) {
        Ok(p) => p,
        Err(e) => return server_error(m, e),
    };
    let currency = match currency_param(&pairs) {
        Ok(c) => c,
        Err(e) => return server_error(m, e),
    };
    let d = match state.dashboard(currency).await {
        Ok(d) => d,
        Err(e) => return server_error(m, e),
    };
    let suffix = d
        .currency
        .as_ref()
        .map(|c| format!("?currency={c}"))
        .unwrap_or_default();
    let charts_list = dashboard_charts(m, &d);
    let body = html! {
        h1 { (m.t("dash.title")) }
        p { (m.f("dash.intro", &[("processes", &d.processes.to_string())])) }
        @if d.currencies.len() > 1 {
            form #currency-form action="/dashboards" method="get" {
                div.field {
                    label for="f-currency" { (m.t("dash.currency")) }
                    select #f-currency name="currency" {
                        @for c in &d.currencies {
                            option value=(c.label) selected[d.currency.as_deref() == Some(c.label.as_str())] { (c.label) " (" (c.value) " " (m.t("dash.processes")) ")" }
                        }
                    }
                }
                button type="submit" { (m.t("dash.show")) }
            }
        }
        @if let Some(share) = d.single_bid_share {
            p.kpi { (m.f("dash.single_bid", &[("share", &format!("{share:.1}"))])) }
        }
        (notice(m))
        @for c in &charts_list {
            section.dashboard aria-labelledby=(format!("{}-title", c.id)) {
                (charts::figure(c, &format!("/dashboards/{}.csv{suffix}", c.id)))
            }
        }
        p { a href=(format!("/api/v1/dashboards{suffix}")) { (m.t("risk.as_json")) } }
        p { (m.f("dash.money_note", &[("currency", d.currency.as_deref().unwrap_or("—"))])) }
    };
    page(layout(m, Section::Dashboards, m.t("dash.title"), body))
}

async fn dashboard_csv(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let m = &state.messages;
    let Some(id) = file.strip_suffix(".csv") else {
        return error_page(
            m,
            StatusCode::NOT_FOUND,
            m.t("error.not_found"),
            m.t("error.not_found.text"),
        );
    };
    let pairs = match params::pairs(raw.as_deref(), &["currency"]) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let currency = match currency_param(&pairs) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let d = match state.dashboard(currency).await {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let Some(chart) = dashboard_charts(m, &d).into_iter().find(|c| c.id == id) else {
        return error_page(
            m,
            StatusCode::NOT_FOUND,
            m.t("error.not_found"),
            m.t("error.not_found.text"),
        );
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}.csv\""),
            ),
            (header::CACHE_CONTROL, "no-cache".to_string()),
        ],
        charts::csv(&chart),
    )
        .into_response()
}

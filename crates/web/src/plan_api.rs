//! The action plan's JSON API under `/api/v1/plan`, and the JSON each plan page also
//! gives (`/commitments/3.json` is `/api/v1/plan/commitments/3`): one builder per answer.
//!
//! Reading is public. Updating a commitment's progress, moderating and answering
//! questions need an agency's bearer token with the right scope (`plan:N`,
//! `plan:moderate`); asking a question needs nothing, and is limited per client.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tuwhera_plan::{diff_progress, sections, OpKind, ProgressReport, Status};
use tuwhera_store::plan::{CurrentPlan, ProgressVersion, Question};
use tuwhera_store::TokenInfo;
use utoipa::ToSchema;

use crate::api::{bearer, json};
use crate::params;
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/plan", get(plan_api))
        .route("/api/v1/plan/schema.json", get(schema_api))
        .route("/api/v1/plan/versions", get(versions_api))
        .route("/api/v1/plan/commitments", get(commitments_api))
        .route("/api/v1/plan/commitments/{n}", get(commitment_api))
        .route("/api/v1/plan/commitments/{n}/history", get(history_api))
        .route("/api/v1/plan/commitments/{n}/diff", get(diff_api))
        .route(
            "/api/v1/plan/commitments/{n}/progress/{period}",
            get(progress_api)
                .put(update_progress_api)
                .post(update_progress_api),
        )
        .route(
            "/api/v1/plan/commitments/{n}/questions",
            get(commitment_questions_api).post(ask_api),
        )
        .route("/api/v1/plan/questions", get(questions_api))
        .route("/api/v1/plan/moderation", get(moderation_api))
        .route("/api/v1/plan/questions/{id}/moderation", post(moderate_api))
        .route(
            "/api/v1/plan/questions/{id}/answer",
            axum::routing::put(answer_api).post(answer_api),
        )
        .route("/api/v1/plan/reports/{period}", get(report_api))
}

/// The platform module that delivers a commitment, where one exists.
pub fn module_of(n: u32) -> Option<(&'static str, &'static str)> {
    match n {
        4 => Some(("/risk", "plan.module.risk")),
        5 => Some(("/ownership", "plan.module.ownership")),
        6 => Some(("/procurement", "plan.module.procurement")),
        _ => None,
    }
}

/// The plan as it stands, or a 404 that says how to load one.
pub async fn current(state: &AppState) -> Result<CurrentPlan, ApiError> {
    state.store.plan_current().await?.ok_or_else(|| {
        ApiError::not_found(
            "no action plan has been imported yet: run `tuwhera plan import FILE` (the demo imports data/plan/nap4.json)",
        )
    })
}

/// A commitment number from a path segment (`3`, or `3.json` with its extension split off).
pub fn commitment_number(
    plan: &CurrentPlan,
    segment: &str,
) -> Result<(u32, Option<String>), ApiError> {
    let (number, ext) = match segment.rsplit_once('.') {
        Some((n, ext)) => (n, Some(ext.to_owned())),
        None => (segment, None),
    };
    let n: u32 = number
        .parse()
        .map_err(|_| ApiError::invalid("n", format!("{segment:?} is not a commitment number")))?;
    if plan.plan.commitment(n).is_none() {
        return Err(ApiError::not_found(format!(
            "the plan has no commitment {n}"
        )));
    }
    Ok((n, ext))
}

/// The period whose report a commitment's status is read from: its latest.
pub fn latest_progress(commitment: &tuwhera_plan::Commitment) -> Option<&ProgressReport> {
    commitment.progress.last()
}

// ---------------------------------------------------------------- types

/// The plan's statement of licence, as pages and data carry it.
#[derive(Serialize, ToSchema)]
pub struct Licence {
    /// e.g. New Zealand Crown copyright, licensed under CC BY 4.0.
    pub text: String,
    pub url: String,
}

pub fn licence(plan: &CurrentPlan) -> Licence {
    Licence {
        text: plan.plan.licence.clone(),
        url: "https://creativecommons.org/licenses/by/4.0/".into(),
    }
}

/// The module of the platform that delivers a commitment.
#[derive(Serialize, ToSchema)]
pub struct ModuleOut {
    pub name: String,
    /// Its pages; absent while the module is planned.
    pub url: Option<String>,
    /// `live` or `planned`.
    pub state: String,
}

fn module_out(state: &AppState, n: u32) -> ModuleOut {
    let m = &state.messages;
    match module_of(n) {
        Some((url, key)) => ModuleOut {
            name: m.t(key).to_owned(),
            url: Some(url.to_owned()),
            state: "live".into(),
        },
        None => ModuleOut {
            name: m.t("plan.module.planned").to_owned(),
            url: None,
            state: "planned".into(),
        },
    }
}

/// A commitment as the plan's list shows it.
#[derive(Serialize, ToSchema)]
pub struct CommitmentSummary {
    pub number: u32,
    pub title: String,
    pub lead_agency: String,
    /// The status the latest report states (a code of the plan schema's status), if it states one.
    pub status: Option<String>,
    /// The status for people, e.g. "Partially completed".
    pub status_label: Option<String>,
    /// The period of the latest report.
    pub period: Option<String>,
    pub module: ModuleOut,
    pub html_url: String,
    pub url: String,
}

fn summary(state: &AppState, c: &tuwhera_plan::Commitment) -> CommitmentSummary {
    let latest = latest_progress(c);
    let status = latest.and_then(|p| p.status);
    CommitmentSummary {
        number: c.number,
        title: c.title.clone(),
        lead_agency: c.lead_agency.clone(),
        status: status.map(|s| s.code().to_owned()),
        status_label: status.map(|s| s.label().to_owned()),
        period: latest.map(|p| p.period.clone()),
        module: module_out(state, c.number),
        html_url: format!("/commitments/{}", c.number),
        url: format!("/api/v1/plan/commitments/{}", c.number),
    }
}

#[derive(Serialize, ToSchema)]
pub struct CommitmentList {
    pub plan_id: String,
    pub title: String,
    pub licence: Licence,
    pub commitments: Vec<CommitmentSummary>,
}

pub fn commitment_list(state: &AppState, plan: &CurrentPlan) -> CommitmentList {
    CommitmentList {
        plan_id: plan.plan.id.clone(),
        title: plan.plan.title.clone(),
        licence: licence(plan),
        commitments: plan
            .plan
            .commitments
            .iter()
            .map(|c| summary(state, c))
            .collect(),
    }
}

/// A question from the public, as published.
#[derive(Serialize, ToSchema)]
pub struct QuestionOut {
    pub id: String,
    pub commitment: u32,
    pub asked_at: String,
    /// The name the person gave, if any.
    pub name: Option<String>,
    pub question: String,
    /// `pending`, `published` or `rejected` (only `published` questions are public).
    pub status: String,
    /// The lead agency's answer (the latest, if it was revised).
    pub answer: Option<String>,
    pub answered_at: Option<String>,
    pub answered_by: Option<String>,
    pub html_url: String,
}

pub fn question_out(q: &Question) -> QuestionOut {
    QuestionOut {
        id: q.id.clone(),
        commitment: q.commitment,
        asked_at: q.asked_at.clone(),
        name: q.name.clone(),
        question: q.question.clone(),
        status: q.status.clone(),
        answer: q.answer.clone(),
        answered_at: q.answered_at.clone(),
        answered_by: q.answered_by.clone(),
        html_url: format!("/commitments/{}#q-{}", q.commitment, q.id),
    }
}

/// The latest version of one period's report.
#[derive(Serialize, ToSchema)]
pub struct VersionRef {
    pub period: String,
    pub version: i64,
    /// `import` or `update`.
    pub kind: String,
    pub publisher: String,
    pub changed_at: String,
}

/// One commitment: the plan's data for it, its status, its module, its published questions.
#[derive(Serialize, ToSchema)]
pub struct CommitmentOut {
    pub number: u32,
    pub title: String,
    pub lead_agency: String,
    pub status: Option<String>,
    pub status_label: Option<String>,
    pub module: ModuleOut,
    /// The commitment in the plan schema's shape (`/api/v1/plan/schema.json`, `$defs/commitment`).
    #[schema(value_type = Object)]
    pub commitment: Value,
    /// The version of each period's report shown.
    pub versions: Vec<VersionRef>,
    /// Published questions and their answers, oldest first.
    pub questions: Vec<QuestionOut>,
    /// Questions held for moderation.
    pub questions_pending: i64,
    pub licence: Licence,
    pub schema_url: String,
    pub html_url: String,
    pub history_url: String,
}

pub async fn commitment_out(
    state: &AppState,
    plan: &CurrentPlan,
    n: u32,
) -> Result<CommitmentOut, ApiError> {
    let c = plan
        .plan
        .commitment(n)
        .ok_or_else(|| ApiError::not_found(format!("the plan has no commitment {n}")))?;
    let s = summary(state, c);
    let questions = state.store.questions(Some(n), "published").await?;
    let (pending, _, _) = state.store.question_counts(n).await?;
    Ok(CommitmentOut {
        number: n,
        title: c.title.clone(),
        lead_agency: c.lead_agency.clone(),
        status: s.status,
        status_label: s.status_label,
        module: s.module,
        commitment: serde_json::to_value(c).unwrap_or(Value::Null),
        versions: c
            .progress
            .iter()
            .filter_map(|p| plan.latest(n, &p.period))
            .map(|v| VersionRef {
                period: v.period.clone(),
                version: v.version,
                kind: v.kind.clone(),
                publisher: v.publisher.clone(),
                changed_at: v.changed_at.clone(),
            })
            .collect(),
        questions: questions.iter().map(question_out).collect(),
        questions_pending: pending,
        licence: licence(plan),
        schema_url: "/api/v1/plan/schema.json".into(),
        html_url: format!("/commitments/{n}"),
        history_url: format!("/commitments/{n}/history"),
    })
}

/// One version of a period's report, with who made it, when and how.
#[derive(Serialize, ToSchema)]
pub struct VersionOut {
    pub commitment: u32,
    pub period: String,
    pub version: i64,
    /// `import` (from a plan file) or `update` (by the lead agency).
    pub kind: String,
    /// The agency (a token's publisher) or the importer.
    pub publisher: String,
    /// The token an update was made with.
    pub token_id: Option<String>,
    /// The imported file's name, `web form` or `API`.
    pub via: String,
    pub note: Option<String>,
    pub changed_at: String,
    /// SHA-256 of the report's JSON.
    pub content_hash: String,
    /// The report, in the plan schema's shape (`$defs/progressReport`).
    #[schema(value_type = Object)]
    pub report: Value,
    /// What changed from the previous version (absent for the first).
    pub diff_url: Option<String>,
}

pub fn version_out(v: &ProgressVersion) -> VersionOut {
    VersionOut {
        commitment: v.commitment,
        period: v.period.clone(),
        version: v.version,
        kind: v.kind.clone(),
        publisher: v.publisher.clone(),
        token_id: v.token_id.clone(),
        via: v.via.clone(),
        note: v.note.clone(),
        changed_at: v.changed_at.clone(),
        content_hash: v.content_hash.clone(),
        report: serde_json::to_value(&v.report).unwrap_or(Value::Null),
        diff_url: (v.version > 1)
            .then(|| diff_url(v.commitment, &v.period, v.version - 1, v.version)),
    }
}

pub fn diff_url(n: u32, period: &str, from: i64, to: i64) -> String {
    format!(
        "/commitments/{n}/diff?{}",
        params::encode(&[
            ("period", period.to_owned()),
            ("from", from.to_string()),
            ("to", to.to_string())
        ])
    )
}

/// Every version of a commitment's reports: nothing is overwritten.
#[derive(Serialize, ToSchema)]
pub struct HistoryOut {
    pub commitment: u32,
    pub title: String,
    /// By period, oldest version first.
    pub versions: Vec<VersionOut>,
}

pub async fn history_out(
    state: &AppState,
    plan: &CurrentPlan,
    n: u32,
) -> Result<HistoryOut, ApiError> {
    let c = plan
        .plan
        .commitment(n)
        .ok_or_else(|| ApiError::not_found(format!("the plan has no commitment {n}")))?;
    let versions = state.store.plan_history(n).await?;
    Ok(HistoryOut {
        commitment: n,
        title: c.title.clone(),
        versions: versions.iter().map(version_out).collect(),
    })
}

/// A run of text: in both versions, only the new one, or only the old one.
#[derive(Serialize, ToSchema)]
pub struct OpOut {
    /// `equal`, `insert` or `delete`.
    pub kind: String,
    pub text: String,
}

/// One field that differs between the versions, word by word.
#[derive(Serialize, ToSchema)]
pub struct FieldChangeOut {
    /// status, statusQuote, progress, challenges, nextSteps or comment.
    pub field: String,
    /// Paragraphs joined with a blank line.
    pub before: String,
    pub after: String,
    pub ops: Vec<OpOut>,
}

/// What changed between two versions of a period's report.
#[derive(Serialize, ToSchema)]
pub struct DiffOut {
    pub commitment: u32,
    pub period: String,
    pub from: VersionOut,
    pub to: VersionOut,
    /// Empty when the two are the same.
    pub changes: Vec<FieldChangeOut>,
}

/// The diff a query asks for (`period`, `from`, `to`; `from` defaults to the version before `to`,
/// `to` to the latest).
pub async fn diff_out(
    state: &AppState,
    plan: &CurrentPlan,
    n: u32,
    raw: Option<&str>,
) -> Result<DiffOut, ApiError> {
    let pairs = params::pairs(raw, &["period", "from", "to"])?;
    let commitment = plan
        .plan
        .commitment(n)
        .ok_or_else(|| ApiError::not_found(format!("the plan has no commitment {n}")))?;
    let period = match params::get(&pairs, "period") {
        Some(p) => p.to_owned(),
        None => latest_progress(commitment)
            .map(|p| p.period.clone())
            .ok_or_else(|| ApiError::invalid("period", "this commitment has no report yet"))?,
    };
    let latest = plan.latest(n, &period).ok_or_else(|| {
        ApiError::not_found(format!("commitment {n} has no report for {period:?}"))
    })?;
    let version = |key: &str| -> Result<Option<i64>, ApiError> {
        params::get(&pairs, key)
            .map(|v| {
                v.parse::<i64>().ok().filter(|v| *v >= 1).ok_or_else(|| {
                    ApiError::invalid(
                        key,
                        format!("{key} must be a version number (1, 2, …), not {v:?}"),
                    )
                })
            })
            .transpose()
    };
    let to = version("to")?.unwrap_or(latest.version);
    let from = version("from")?.unwrap_or((to - 1).max(1));
    let fetch = |v: i64| {
        let period = period.clone();
        async move {
            state
                .store
                .plan_progress_version(n, &period, v)
                .await?
                .ok_or_else(|| {
                    ApiError::not_found(format!(
                        "commitment {n}'s report for {period} has no version {v} (the latest is {})",
                        latest.version
                    ))
                })
        }
    };
    let old = fetch(from).await?;
    let new = fetch(to).await?;
    let changes = diff_progress(&old.report, &new.report)
        .into_iter()
        .map(|c| FieldChangeOut {
            field: c.field,
            before: c.before,
            after: c.after,
            ops: c
                .ops
                .into_iter()
                .map(|op| OpOut {
                    kind: match op.kind {
                        OpKind::Equal => "equal",
                        OpKind::Insert => "insert",
                        OpKind::Delete => "delete",
                    }
                    .into(),
                    text: op.text,
                })
                .collect(),
        })
        .collect();
    Ok(DiffOut {
        commitment: n,
        period,
        from: version_out(&old),
        to: version_out(&new),
        changes,
    })
}

/// One part of a commitment's section of a report: its heading and paragraphs.
#[derive(Serialize, ToSchema)]
pub struct PartOut {
    pub heading: String,
    /// As in the data: a list item keeps its marker ("- ", "1. ").
    pub paragraphs: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SectionOut {
    pub number: u32,
    /// "Commitment 3: …"
    pub heading: String,
    pub title: String,
    pub lead_agency: String,
    pub status: Option<String>,
    /// Description, progress, challenges, next steps, comment: in the report's order, empty ones left out.
    pub parts: Vec<PartOut>,
}

/// A period's progress report, in the report's order (the HTML and PDF forms follow it too).
#[derive(Serialize, ToSchema)]
pub struct ReportOut {
    pub period: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub published: Option<String>,
    pub country: String,
    pub plan_title: String,
    pub sections: Vec<SectionOut>,
    pub closing: Vec<String>,
    pub licence: Licence,
    pub html_url: String,
    pub pdf_url: String,
}

/// A report's period from a path segment (`2024`, `2024.pdf`), checked against the plan.
pub fn report_period(
    plan: &CurrentPlan,
    segment: &str,
) -> Result<(String, Option<String>), ApiError> {
    let (period, ext) = match segment.rsplit_once('.') {
        Some((p, ext)) if matches!(ext, "pdf" | "json" | "csv" | "html") => {
            (p, Some(ext.to_owned()))
        }
        _ => (segment, None),
    };
    if plan.plan.report(period).is_none() {
        return Err(ApiError::not_found(format!(
            "the plan has no report for {period:?}; it has: {}",
            plan.plan
                .reports
                .iter()
                .map(|r| r.period.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok((period.to_owned(), ext))
}

pub fn report_out(plan: &CurrentPlan, period: &str) -> Result<ReportOut, ApiError> {
    let report = plan
        .plan
        .report(period)
        .ok_or_else(|| ApiError::not_found(format!("the plan has no report for {period:?}")))?;
    Ok(ReportOut {
        period: period.to_owned(),
        title: report.title.clone(),
        subtitle: report.subtitle.clone(),
        published: report.published.clone(),
        country: plan.plan.country.clone(),
        plan_title: plan.plan.title.clone(),
        sections: sections(&plan.plan, period)
            .iter()
            .map(|s| SectionOut {
                number: s.number,
                heading: s.heading(),
                title: s.title.clone(),
                lead_agency: s.lead_agency.clone(),
                status: s.status.map(|s| s.code().to_owned()),
                parts: s
                    .parts(period)
                    .into_iter()
                    .map(|(heading, paragraphs)| PartOut {
                        heading,
                        paragraphs: paragraphs.to_vec(),
                    })
                    .collect(),
            })
            .collect(),
        closing: report.closing.clone(),
        licence: licence(plan),
        html_url: format!("/report/{period}"),
        pdf_url: format!("/report/{period}.pdf"),
    })
}

/// One imported version of the plan document.
#[derive(Serialize, ToSchema)]
pub struct PlanVersionOut {
    pub version: i64,
    pub plan_id: String,
    pub content_hash: String,
    /// The imported file's name.
    pub source: String,
    pub imported_at: String,
}

/// A progress report as it stands, with its version (also the ETag, `"vN"`).
#[derive(Serialize, ToSchema)]
pub struct ProgressOut {
    pub commitment: u32,
    pub period: String,
    pub version: i64,
    pub changed_at: String,
    pub publisher: String,
    /// The report in the plan schema's shape.
    #[schema(value_type = Object)]
    pub report: Value,
}

/// What an update did.
#[derive(Serialize, ToSchema)]
pub struct ProgressUpdateOut {
    pub commitment: u32,
    pub period: String,
    /// The version that stands now.
    pub version: i64,
    /// False when the report sent was the same as the latest version (nothing recorded).
    pub changed: bool,
    pub history_url: String,
    /// What this update changed (absent when nothing changed, or for a first version).
    pub diff_url: Option<String>,
}

/// A new progress report for a period, in the plan schema's `progressReport` shape (the
/// period may be left out: it is the path's), and an optional note on what changed.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProgressIn {
    pub period: Option<String>,
    /// A status code of the plan schema (notStarted … noProgress), if the report states one.
    pub status: Option<String>,
    /// The report's sentence the status is read from; required with a status.
    pub status_quote: Option<String>,
    pub progress: Vec<String>,
    pub challenges: Vec<String>,
    pub next_steps: Vec<String>,
    #[serde(default)]
    pub comment: Vec<String>,
    /// What changed, in a few words (kept in the history; at most 500 characters).
    pub note: Option<String>,
}

/// A question for a commitment's lead agency.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionIn {
    /// At most 2,000 characters; HTML is shown as text.
    pub question: String,
    /// Optional, published with the question; at most 100 characters.
    pub name: Option<String>,
    /// Leave out or empty: a form's trap for robots (anything in it discards the question).
    pub website: Option<String>,
}

/// A question received (held for moderation before it is published).
#[derive(Serialize, ToSchema)]
pub struct QuestionReceived {
    pub id: String,
    /// Always `pending`: a moderator publishes or rejects it.
    pub status: String,
    pub message: String,
}

/// A moderator's decision.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModerationIn {
    /// `publish` or `reject`.
    pub decision: String,
    /// Why (kept with the decision; not published).
    pub note: Option<String>,
}

/// The lead agency's answer.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerIn {
    /// At most 10,000 characters.
    pub answer: String,
}

// ---------------------------------------------------------------- handlers

/// The token behind `Authorization: Bearer`, or 401.
pub async fn bearer_token(state: &AppState, headers: &HeaderMap) -> Result<TokenInfo, ApiError> {
    let Some(secret) = bearer(headers) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this needs an agency's bearer token: Authorization: Bearer TOKEN (made with `tuwhera token create --scope plan:N`)",
        ));
    };
    state.store.token(secret).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this token is not valid (unknown or revoked)",
        )
    })
}

async fn body_json<T: serde::de::DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: axum::body::Body,
) -> Result<T, ApiError> {
    let bytes = crate::api::bounded_body(state, headers, body, "body", "").await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        let message = e.to_string();
        let field = message
            .split('`')
            .nth(1)
            .filter(|_| message.contains("field"))
            .unwrap_or("body")
            .to_owned();
        ApiError {
            field: Some(field),
            ..ApiError::invalid(
                "body",
                format!("the body is not what this endpoint takes: {message}"),
            )
        }
    })
}

/// The plan as it stands, in the shape of its JSON Schema (`/api/v1/plan/schema.json`):
/// the open data of the plan, with its licence.
#[utoipa::path(
    get, path = "/api/v1/plan", tag = "plan",
    responses(
        (status = 200, description = "The plan document (valid against /api/v1/plan/schema.json)", body = Object),
        (status = 404, description = "No plan has been imported", body = ApiError),
    )
)]
pub async fn plan_api(State(state): State<AppState>) -> Result<Response, ApiError> {
    let plan = current(&state).await?;
    Ok(plan_document(&plan))
}

/// The plan document as a response, with its schema linked.
pub fn plan_document(plan: &CurrentPlan) -> Response {
    let mut response = json(&plan.plan);
    response.headers_mut().insert(
        header::LINK,
        HeaderValue::from_static("</api/v1/plan/schema.json>; rel=\"describedby\""),
    );
    response
}

/// The plan's JSON Schema (draft 2020-12): every field described.
#[utoipa::path(
    get, path = "/api/v1/plan/schema.json", tag = "plan",
    responses((status = 200, description = "The JSON Schema of the plan document", body = Object))
)]
pub async fn schema_api() -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, "application/schema+json"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        tuwhera_plan::SCHEMA,
    )
        .into_response();
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// Every imported version of the plan document, oldest first.
#[utoipa::path(
    get, path = "/api/v1/plan/versions", tag = "plan",
    responses((status = 200, description = "The plan document's versions", body = [PlanVersionOut]))
)]
pub async fn versions_api(State(state): State<AppState>) -> Result<Response, ApiError> {
    let versions = state.store.plan_versions().await?;
    Ok(json(
        &versions
            .into_iter()
            .map(|v| PlanVersionOut {
                version: v.version,
                plan_id: v.plan_id,
                content_hash: v.content_hash,
                source: v.source,
                imported_at: v.imported_at,
            })
            .collect::<Vec<_>>(),
    ))
}

/// The commitments: lead agency, status, and the module that delivers each.
#[utoipa::path(
    get, path = "/api/v1/plan/commitments", tag = "plan",
    responses(
        (status = 200, description = "The plan's commitments in order", body = CommitmentList),
        (status = 404, description = "No plan has been imported", body = ApiError),
    )
)]
pub async fn commitments_api(State(state): State<AppState>) -> Result<Response, ApiError> {
    let plan = current(&state).await?;
    Ok(json(&commitment_list(&state, &plan)))
}

/// One commitment: its data, status, module, and published questions with answers.
#[utoipa::path(
    get, path = "/api/v1/plan/commitments/{n}", tag = "plan",
    params(("n" = u32, Path, description = "The commitment's number")),
    responses(
        (status = 200, description = "The commitment", body = CommitmentOut),
        (status = 404, description = "No such commitment", body = ApiError),
    )
)]
pub async fn commitment_api(
    State(state): State<AppState>,
    Path(n): Path<String>,
) -> Result<Response, ApiError> {
    let plan = current(&state).await?;
    let (n, _) = commitment_number(&plan, &n)?;
    Ok(json(&commitment_out(&state, &plan, n).await?))
}

/// Every version of a commitment's progress reports, with who changed them, when and how.
#[utoipa::path(
    get, path = "/api/v1/plan/commitments/{n}/history", tag = "plan",
    params(("n" = u32, Path, description = "The commitment's number")),
    responses(
        (status = 200, description = "The versions", body = HistoryOut),
        (status = 404, description = "No such commitment", body = ApiError),
    )
)]
pub async fn history_api(
    State(state): State<AppState>,
    Path(n): Path<String>,
) -> Result<Response, ApiError> {
    let plan = current(&state).await?;
    let (n, _) = commitment_number(&plan, &n)?;
    Ok(json(&history_out(&state, &plan, n).await?))
}

/// What changed between two versions of a period's report, word by word.
#[utoipa::path(
    get, path = "/api/v1/plan/commitments/{n}/diff", tag = "plan",
    params(
        ("n" = u32, Path, description = "The commitment's number"),
        ("period" = Option<String>, Query, description = "The report's period (default: the latest)"),
        ("from" = Option<i64>, Query, description = "The older version (default: the one before `to`)"),
        ("to" = Option<i64>, Query, description = "The newer version (default: the latest)"),
    ),
    responses(
        (status = 200, description = "The changes", body = DiffOut),
        (status = 400, description = "A parameter is invalid", body = ApiError),
        (status = 404, description = "No such commitment, period or version", body = ApiError),
    )
)]
pub async fn diff_api(
    State(state): State<AppState>,
    Path(n): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let plan = current(&state).await?;
    let (n, _) = commitment_number(&plan, &n)?;
    Ok(json(&diff_out(&state, &plan, n, raw.as_deref()).await?))
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"v{version}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

/// A commitment's report for a period as it stands. Its ETag (`"vN"`) is the version, for
/// `If-Match` on an update.
#[utoipa::path(
    get, path = "/api/v1/plan/commitments/{n}/progress/{period}", tag = "plan",
    params(
        ("n" = u32, Path, description = "The commitment's number"),
        ("period" = String, Path, description = "The reporting period, e.g. 2024"),
    ),
    responses(
        (status = 200, description = "The report", body = ProgressOut),
        (status = 404, description = "No such commitment or report", body = ApiError),
    )
)]
pub async fn progress_api(
    State(state): State<AppState>,
    Path((n, period)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let plan = current(&state).await?;
    let (n, _) = commitment_number(&plan, &n)?;
    let latest = plan.latest(n, &period).ok_or_else(|| {
        ApiError::not_found(format!("commitment {n} has no report for {period:?}"))
    })?;
    let mut response = json(&ProgressOut {
        commitment: n,
        period: period.clone(),
        version: latest.version,
        changed_at: latest.changed_at.clone(),
        publisher: latest.publisher.clone(),
        report: serde_json::to_value(&latest.report).unwrap_or(Value::Null),
    });
    response
        .headers_mut()
        .insert(header::ETAG, etag(latest.version));
    Ok(response)
}

/// A report from the API's JSON body, checked: the status a code of the schema, the period the path's.
fn report_from(
    input: ProgressIn,
    period: &str,
) -> Result<(ProgressReport, Option<String>), ApiError> {
    if let Some(p) = &input.period {
        if p != period {
            return Err(ApiError::invalid(
                "period",
                format!("the body's period {p:?} is not the path's {period:?}"),
            ));
        }
    }
    let status = match &input.status {
        Some(code) => Some(
            Status::ALL
                .into_iter()
                .find(|s| s.code() == code)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "status",
                        format!(
                            "{code:?} is not a status; use one of: {}",
                            Status::ALL.map(|s| s.code()).join(", ")
                        ),
                    )
                })?,
        ),
        None => None,
    };
    Ok((
        ProgressReport {
            period: period.to_owned(),
            status,
            status_quote: input.status_quote,
            progress: input.progress,
            challenges: input.challenges,
            next_steps: input.next_steps,
            comment: input.comment,
        },
        input.note,
    ))
}

/// The first finding about a report as an API error naming the field (`progress[2]`).
pub fn check_report(plan: &CurrentPlan, n: u32, report: &ProgressReport) -> Result<(), ApiError> {
    let findings = tuwhera_plan::validate_progress(&plan.plan, n, report);
    match findings.first() {
        None => Ok(()),
        Some(first) => {
            let field = first.path.trim_start_matches("$.").trim_start_matches('$');
            let field = if field.is_empty() { "body" } else { field };
            let others = findings.len() - 1;
            Err(ApiError::invalid(
                field,
                if others == 0 {
                    format!("{}: {}", first.path, first.message)
                } else {
                    format!("{}: {} (and {others} more)", first.path, first.message)
                },
            ))
        }
    }
}

/// Record a new version of a commitment's report for a period: the lead agency's token
/// (`plan:N`) only. Nothing is overwritten: the history keeps every version. With
/// `If-Match: "vN"`, the update is made only if N is still the latest version.
#[utoipa::path(
    put, path = "/api/v1/plan/commitments/{n}/progress/{period}", tag = "plan",
    params(
        ("n" = u32, Path, description = "The commitment's number"),
        ("period" = String, Path, description = "The reporting period: one of the plan's reports"),
        ("If-Match" = Option<String>, Header, description = "The version the change was made on, as the GET's ETag (\"vN\")"),
    ),
    request_body(content = ProgressIn, description = "The report as it should stand", content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded (or the same as the latest: nothing recorded)", body = ProgressUpdateOut),
        (status = 400, description = "The report is not valid; `field` names where", body = ApiError),
        (status = 401, description = "No token, or not a valid one", body = ApiError),
        (status = 403, description = "The token may not change this commitment", body = ApiError),
        (status = 404, description = "No such commitment", body = ApiError),
        (status = 412, description = "The version in If-Match is no longer the latest", body = ApiError),
    ),
    security(("publisher_token" = []))
)]
pub async fn update_progress_api(
    State(state): State<AppState>,
    Path((n, period)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let token = bearer_token(&state, &headers).await?;
    let plan = current(&state).await?;
    let (n, _) = commitment_number(&plan, &n)?;
    if !token.may_update_commitment(n) {
        return Err(forbidden_update(&token, n));
    }
    let expected = match headers.get(header::IF_MATCH) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|v| v.trim().trim_matches('"').strip_prefix('v'))
                .and_then(|v| v.parse::<i64>().ok())
                .ok_or_else(|| {
                    ApiError::invalid("If-Match", "If-Match must be a version's ETag, e.g. \"v2\"")
                })?,
        ),
    };
    let input: ProgressIn = body_json(&state, &headers, body).await?;
    let (report, note) = report_from(input, &period)?;
    check_report(&plan, n, &report)?;
    let _writing = state.write_lock.lock().await;
    let update = state
        .store
        .plan_update_progress(n, &report, &token, "API", note.as_deref(), expected)
        .await
        .map_err(|e| match e {
            tuwhera_store::StoreError::Conflict(message) if expected.is_some() => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                message,
            ),
            other => other.into(),
        })?;
    tracing::info!(publisher = %token.publisher, token = %token.token_id, commitment = n, period = %period,
        version = update.version.version, changed = update.changed, "plan progress updated");
    let v = &update.version;
    let mut response = json(&ProgressUpdateOut {
        commitment: n,
        period: period.clone(),
        version: v.version,
        changed: update.changed,
        history_url: format!("/commitments/{n}/history"),
        diff_url: (update.changed && v.version > 1)
            .then(|| diff_url(n, &period, v.version - 1, v.version)),
    });
    response.headers_mut().insert(header::ETAG, etag(v.version));
    Ok(response)
}

pub fn forbidden_update(token: &TokenInfo, n: u32) -> ApiError {
    let may = token.plan_commitments();
    ApiError {
        field: Some("n".into()),
        ..ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "this token (of {}) may not change commitment {n}: that needs the scope plan:{n}; it may change {}",
                token.publisher,
                if may.is_empty() {
                    "no commitment".to_owned()
                } else {
                    may.iter().map(|n| format!("commitment {n}")).collect::<Vec<_>>().join(", ")
                }
            ),
        )
    }
}

/// A commitment's published questions and their answers.
#[utoipa::path(
    get, path = "/api/v1/plan/commitments/{n}/questions", tag = "plan",
    params(("n" = u32, Path, description = "The commitment's number")),
    responses(
        (status = 200, description = "Published questions, oldest first", body = [QuestionOut]),
        (status = 404, description = "No such commitment", body = ApiError),
    )
)]
pub async fn commitment_questions_api(
    State(state): State<AppState>,
    Path(n): Path<String>,
) -> Result<Response, ApiError> {
    let plan = current(&state).await?;
    let (n, _) = commitment_number(&plan, &n)?;
    let questions = state.store.questions(Some(n), "published").await?;
    Ok(json(
        &questions.iter().map(question_out).collect::<Vec<_>>(),
    ))
}

/// Every published question and its answer, on every commitment.
#[utoipa::path(
    get, path = "/api/v1/plan/questions", tag = "plan",
    responses((status = 200, description = "Published questions, oldest first", body = [QuestionOut]))
)]
pub async fn questions_api(State(state): State<AppState>) -> Result<Response, ApiError> {
    let questions = state.store.questions(None, "published").await?;
    Ok(json(
        &questions.iter().map(question_out).collect::<Vec<_>>(),
    ))
}

/// What a question submission comes to: stored, or discarded as a robot's.
pub enum Asked {
    /// Held for moderation: the question's id.
    Held(String),
    /// The trap field was filled: nothing was stored, but the answer looks the same.
    Discarded(String),
}

/// Take a question from the public: checked, counted against the client's limit, then held
/// for moderation (or discarded, if the robots' trap field is filled).
pub async fn take_question(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<std::net::SocketAddr>,
    n: u32,
    name: Option<&str>,
    question: &str,
    trap: Option<&str>,
) -> Result<Asked, ApiError> {
    tuwhera_store::plan::check_question(name, question)?;
    if let Some(ip) = crate::session::client_ip(state, headers, peer) {
        if let Err(wait) = state.limiter.hit(ip) {
            let minutes = wait.as_secs().div_ceil(60).max(1);
            return Err(ApiError {
                field: Some("question".into()),
                retry_after: Some(wait.as_secs().max(1)),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too-many-questions",
                    state.messages.f(
                        "ask.too_many",
                        &[
                            ("limit", &state.config.question_limit.to_string()),
                            ("minutes", &minutes.to_string()),
                        ],
                    ),
                )
            });
        }
    }
    if trap.is_some_and(|t| !t.trim().is_empty()) {
        tracing::info!(
            commitment = n,
            "a question with the robots' trap filled was discarded"
        );
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "no random bytes",
            )
        })?;
        return Ok(Asked::Discarded(
            id.iter().map(|b| format!("{b:02x}")).collect(),
        ));
    }
    Ok(Asked::Held(
        state.store.question_ask(n, name, question).await?.id,
    ))
}

/// Ask a commitment's lead agency a question. It is held for moderation, then published
/// with the agency's answer. At most 2,000 characters (and a name of at most 100); a few
/// questions per hour from one address.
#[utoipa::path(
    post, path = "/api/v1/plan/commitments/{n}/questions", tag = "plan",
    params(("n" = u32, Path, description = "The commitment's number")),
    request_body(content = QuestionIn, content_type = "application/json"),
    responses(
        (status = 202, description = "Received and held for moderation", body = QuestionReceived),
        (status = 400, description = "Empty, too long, or with control characters; `field` names which", body = ApiError),
        (status = 404, description = "No such commitment", body = ApiError),
        (status = 429, description = "Too many questions from this address; Retry-After says when to try again", body = ApiError),
    )
)]
pub async fn ask_api(
    State(state): State<AppState>,
    Path(n): Path<String>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let peer = crate::session::peer(request.extensions());
    let plan = current(&state).await?;
    let (n, _) = commitment_number(&plan, &n)?;
    let input: QuestionIn = body_json(&state, &headers, request.into_body()).await?;
    let asked = take_question(
        &state,
        &headers,
        peer,
        n,
        input.name.as_deref(),
        &input.question,
        input.website.as_deref(),
    )
    .await?;
    let id = match asked {
        Asked::Held(id) => id,
        Asked::Discarded(id) => id,
    };
    let mut response = json(&QuestionReceived {
        id,
        status: "pending".into(),
        message: state.messages.t("ask.thanks").to_owned(),
    });
    *response.status_mut() = StatusCode::ACCEPTED;
    Ok(response)
}

/// Questions held for moderation that this token may moderate (`plan:moderate`: all;
/// `plan:N`: commitment N's).
#[utoipa::path(
    get, path = "/api/v1/plan/moderation", tag = "plan",
    responses(
        (status = 200, description = "Pending questions, oldest first", body = [QuestionOut]),
        (status = 401, description = "No token, or not a valid one", body = ApiError),
        (status = 403, description = "The token moderates nothing", body = ApiError),
    ),
    security(("publisher_token" = []))
)]
pub async fn moderation_api(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = bearer_token(&state, &headers).await?;
    if !token.has_plan_scope() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this token has no action-plan scope (plan:N or plan:moderate)",
        ));
    }
    let pending = state.store.questions(None, "pending").await?;
    Ok(json(
        &pending
            .iter()
            .filter(|q| token.may_moderate(q.commitment))
            .map(question_out)
            .collect::<Vec<_>>(),
    ))
}

/// Publish or reject a question (`plan:moderate`, or the commitment's `plan:N`).
#[utoipa::path(
    post, path = "/api/v1/plan/questions/{id}/moderation", tag = "plan",
    params(("id" = String, Path, description = "The question's id")),
    request_body(content = ModerationIn, content_type = "application/json"),
    responses(
        (status = 200, description = "The question after the decision", body = QuestionOut),
        (status = 400, description = "The decision is not publish or reject", body = ApiError),
        (status = 401, description = "No token, or not a valid one", body = ApiError),
        (status = 403, description = "The token may not moderate this commitment's questions", body = ApiError),
        (status = 404, description = "No such question", body = ApiError),
    ),
    security(("publisher_token" = []))
)]
pub async fn moderate_api(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let token = bearer_token(&state, &headers).await?;
    let input: ModerationIn = body_json(&state, &headers, body).await?;
    let approve = match input.decision.as_str() {
        "publish" => true,
        "reject" => false,
        other => {
            return Err(ApiError::invalid(
                "decision",
                format!("decision is publish or reject, not {other:?}"),
            ))
        }
    };
    let q = state
        .store
        .question_moderate(&id, approve, input.note.as_deref(), &token)
        .await?;
    tracing::info!(publisher = %token.publisher, token = %token.token_id, question = %id, decision = %input.decision, "question moderated");
    Ok(json(&question_out(&q)))
}

/// The lead agency's answer to a question (the commitment's `plan:N`); answering a held
/// question publishes it. An answer may be revised; every answer given is kept.
#[utoipa::path(
    put, path = "/api/v1/plan/questions/{id}/answer", tag = "plan",
    params(("id" = String, Path, description = "The question's id")),
    request_body(content = AnswerIn, content_type = "application/json"),
    responses(
        (status = 200, description = "The question with its answer", body = QuestionOut),
        (status = 400, description = "The answer is empty or too long", body = ApiError),
        (status = 401, description = "No token, or not a valid one", body = ApiError),
        (status = 403, description = "The token is not the lead agency's", body = ApiError),
        (status = 404, description = "No such question", body = ApiError),
        (status = 409, description = "The question was rejected", body = ApiError),
    ),
    security(("publisher_token" = []))
)]
pub async fn answer_api(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let token = bearer_token(&state, &headers).await?;
    let input: AnswerIn = body_json(&state, &headers, body).await?;
    let q = state
        .store
        .question_answer(&id, &input.answer, &token)
        .await?;
    tracing::info!(publisher = %token.publisher, token = %token.token_id, question = %id, "question answered");
    Ok(json(&question_out(&q)))
}

/// A period's progress report: every commitment's section in the report's order.
#[utoipa::path(
    get, path = "/api/v1/plan/reports/{period}", tag = "plan",
    params(("period" = String, Path, description = "The reporting period, e.g. 2024")),
    responses(
        (status = 200, description = "The report", body = ReportOut),
        (status = 404, description = "No report for that period", body = ApiError),
    )
)]
pub async fn report_api(
    State(state): State<AppState>,
    Path(period): Path<String>,
) -> Result<Response, ApiError> {
    let plan = current(&state).await?;
    let (period, _) = report_period(&plan, &period)?;
    Ok(json(&report_out(&plan, &period)?))
}

//! The action plan's pages: the plan (the home page), each commitment with its progress and
//! the public's questions, the history of its reports and what changed between versions,
//! the progress report (HTML for screen and print, and PDF), agencies' edit and moderation
//! forms, and the Atom feed of progress updates and answers.
//!
//! Every page's data is also JSON and CSV: `.json` / `.csv` on its path, or `Accept:`.
//! User text (questions, names, answers) is only ever rendered through maud's escaping.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use tuwhera_plan::{blocks, Block, ProgressReport, Status};
use tuwhera_store::plan::{CurrentPlan, Question, ANSWER_MAX, NAME_MAX, NOTE_MAX, QUESTION_MAX};
use tuwhera_store::Session;

use crate::api::json;
use crate::pages::{error_page, layout_with_head, page, Section};
use crate::plan_api::{self as data, commitment_number, current, module_of, report_period, Asked};
use crate::session::{self, csrf_field, field, form_fields, form_session, sign_in_first};
use crate::{ApiError, AppState, Messages};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/plan.json", get(plan_json))
        .route("/plan.csv", get(plan_csv))
        .route("/commitments", get(|| async { Redirect::permanent("/") }))
        .route("/commitments/{n}", get(commitment_page))
        .route(
            "/commitments/{n}/questions",
            get(questions_anchor).post(ask_form),
        )
        .route("/commitments/{n}/{page}", get(commitment_subpage))
        .route(
            "/commitments/{n}/progress/{period}/edit",
            get(edit_page).post(edit_save),
        )
        .route("/report/{period}", get(report_page))
        .route(
            "/sign-in",
            get(session::sign_in_page).post(session::sign_in),
        )
        .route("/sign-out", post(session::sign_out))
        .route("/moderation", get(moderation_page))
        .route("/moderation/{id}", post(moderate_form))
        .route("/feeds/plan.atom", get(feed))
}

// ---------------------------------------------------------------- formats

/// The forms a page's data comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Json,
    Csv,
}

/// The form asked for: by the path's extension, else by `Accept` (the highest-rated of HTML,
/// JSON and CSV; HTML when none is named).
pub fn negotiate(ext: Option<&str>, headers: &HeaderMap) -> Result<Format, ApiError> {
    match ext {
        Some("json") => return Ok(Format::Json),
        Some("csv") => return Ok(Format::Csv),
        Some("html") => return Ok(Format::Html),
        Some(other) => {
            return Err(ApiError::not_found(format!(
                "no .{other} form of this page: it has .json and .csv"
            )))
        }
        None => {}
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut best: Option<(f32, Format)> = None;
    for part in accept.split(',') {
        let mut pieces = part.split(';');
        let media = pieces.next().unwrap_or("").trim();
        let q = pieces
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let format = match media {
            "text/html" | "application/xhtml+xml" => Format::Html,
            "application/json" => Format::Json,
            "text/csv" => Format::Csv,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, format));
        }
    }
    Ok(best.map_or(Format::Html, |(_, f)| f))
}

fn vary(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    response
}

/// A cell of text a member of the public wrote, made safe for spreadsheets: one that a
/// spreadsheet would take for a formula gets a leading apostrophe.
fn public_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// A CSV file (UTF-8 with a byte-order mark, CRLF: what spreadsheets open cleanly).
pub fn csv_response(filename: &str, headings: &[&str], rows: &[Vec<String>]) -> Response {
    let mut out = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer("\u{feff}".as_bytes().to_vec());
    let written = out
        .write_record(headings)
        .and_then(|()| rows.iter().try_for_each(|r| out.write_record(r)));
    let bytes = match (written, out.into_inner()) {
        (Ok(()), Ok(bytes)) => bytes,
        _ => {
            tracing::error!(file = filename, "writing a CSV in memory failed");
            Vec::new()
        }
    };
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        bytes,
    )
        .into_response();
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    // A CSV file has nowhere to say its licence: the plan's text is Crown copyright under
    // CC BY 4.0 (the JSON forms carry it as `licence`).
    response.headers_mut().insert(
        header::LINK,
        HeaderValue::from_static("<https://creativecommons.org/licenses/by/4.0/>; rel=\"license\""),
    );
    response
}

/// An error as a page: what went wrong, in the API's own words for the 4xx.
pub fn error_response(m: &Messages, e: ApiError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = if status == StatusCode::NOT_FOUND {
        error_page(m, status, m.t("error.not_found"), &e.message)
    } else if status.is_client_error() {
        error_page(m, status, m.t("error.request"), &e.message)
    } else {
        error_page(m, status, m.t("error.server"), m.t("error.server.text"))
    };
    if let Some(secs) = e.retry_after {
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    response
}

/// An error in the form asked for.
fn error_as(format: Format, m: &Messages, e: ApiError) -> Response {
    match format {
        Format::Html => error_response(m, e),
        _ => e.into_response(),
    }
}

// ---------------------------------------------------------------- pieces of pages

fn plan_layout(m: &Messages, title: &str, body: Markup) -> Markup {
    let head = html! {
        link rel="alternate" type="application/atom+xml" title=(m.t("feed.title")) href="/feeds/plan.atom";
    };
    layout_with_head(m, Section::Plan, title, head, body)
}

/// Paragraphs and list items as HTML: runs of bullets as one list, runs of numbered items
/// as one ordered list starting at the first number.
pub fn paragraphs(texts: &[String]) -> Markup {
    enum Group<'a> {
        P(&'a str),
        Ul(Vec<&'a str>),
        Ol(u32, Vec<&'a str>),
    }
    let mut groups: Vec<Group> = Vec::new();
    for block in blocks(texts) {
        match (block, groups.last_mut()) {
            (Block::Bullet(t), Some(Group::Ul(items))) => items.push(t),
            (Block::Bullet(t), _) => groups.push(Group::Ul(vec![t])),
            (Block::Numbered(_, t), Some(Group::Ol(_, items))) => items.push(t),
            (Block::Numbered(n, t), _) => groups.push(Group::Ol(n, vec![t])),
            (Block::Paragraph(t), _) => groups.push(Group::P(t)),
        }
    }
    html! {
        @for group in &groups {
            @match group {
                Group::P(t) => p { (t) },
                Group::Ul(items) => ul { @for t in items { li { (t) } } },
                Group::Ol(start, items) => ol start=(start) { @for t in items { li { (t) } } },
            }
        }
    }
}

/// Text a person typed: paragraphs at blank lines, line breaks kept. Escaped like all text.
fn typed_text(text: &str) -> Markup {
    html! {
        @for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
            p { @for (i, line) in para.lines().enumerate() { @if i > 0 { br; } (line) } }
        }
    }
}

/// "2026-05-01T10:00:00Z" as "2026-05-01 10:00 UTC".
fn when(at: &str) -> String {
    match (at.get(..10), at.get(11..16)) {
        (Some(day), Some(time)) if at.ends_with('Z') => format!("{day} {time} UTC"),
        _ => at.to_owned(),
    }
}

fn time_el(at: &str) -> Markup {
    html! { time datetime=(at) { (when(at)) } }
}

/// The status a commitment's latest report states, for people.
fn status_text(m: &Messages, commitment: &tuwhera_plan::Commitment) -> String {
    match data::latest_progress(commitment) {
        Some(ProgressReport {
            status: Some(s),
            period,
            ..
        }) => m.f(
            "plan.status.stated",
            &[("status", s.label()), ("period", period)],
        ),
        Some(p) => m.f("plan.status.none", &[("period", &p.period)]),
        None => m.t("plan.status.no_report").to_owned(),
    }
}

fn module_link(m: &Messages, n: u32) -> Markup {
    match module_of(n) {
        Some((href, key)) => html! { a.module-link href=(href) { (m.t(key)) } },
        None => html! { span.planned { (m.t("plan.module.planned")) } },
    }
}

fn licence_note(m: &Messages, plan: &CurrentPlan) -> Markup {
    html! {
        p.licence {
            strong { (m.t("plan.licence")) } " " (plan.plan.licence) " "
            a href="https://creativecommons.org/licenses/by/4.0/" rel="license" { (m.t("plan.licence.link")) }
        }
    }
}

fn data_links(m: &Messages, links: &[(&str, String)]) -> Markup {
    html! {
        section.data-links aria-labelledby="h-data" {
            h2 #h-data { (m.t("plan.data")) }
            ul {
                @for (key, href) in links {
                    li { a href=(href) { (m.t(key)) } }
                }
            }
        }
    }
}

// ---------------------------------------------------------------- the plan

async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let m = &state.messages;
    let format = match negotiate(None, &headers) {
        Ok(f) => f,
        Err(e) => return error_response(m, e),
    };
    let plan = match current(&state).await {
        Ok(p) => p,
        Err(e) if e.status == 404 && format == Format::Html => return no_plan_page(m),
        Err(e) => return error_as(format, m, e),
    };
    vary(match format {
        Format::Json => data::plan_document(&plan),
        Format::Csv => plan_csv_of(&state, &plan),
        Format::Html => home_html(&state, &plan),
    })
}

fn no_plan_page(m: &Messages) -> Response {
    let body = html! {
        h1 { (m.t("plan.none.title")) }
        p { (m.t("plan.none.text")) }
        p { a href="/procurement" { (m.t("plan.module.procurement")) } }
    };
    page(plan_layout(m, m.t("plan.none.title"), body))
}

fn home_html(state: &AppState, plan: &CurrentPlan) -> Response {
    let m = &state.messages;
    let p = &plan.plan;
    let body = html! {
        h1 { (p.title) }
        p.lead { (m.f("plan.intro", &[
            ("country", &p.country),
            ("start", &p.period.start),
            ("end", &p.period.end),
            ("count", &p.commitments.len().to_string()),
        ])) }
        @if !p.reports.is_empty() {
            section aria-labelledby="h-reports" {
                h2 #h-reports { (m.t("plan.reports")) }
                ul.reports {
                    @for r in &p.reports {
                        li {
                            a href=(format!("/report/{}", r.period)) { (r.title) }
                            " (" a href=(format!("/report/{}.pdf", r.period)) { (m.t("plan.report.pdf_short")) } ")"
                        }
                    }
                }
            }
        }
        section aria-labelledby="h-commitments" {
            h2 #h-commitments { (m.t("plan.commitments")) }
            ol.commitment-list {
                @for c in &p.commitments {
                    li.commitment-card id=(format!("c{}", c.number)) {
                        h3 { a.commitment-link href=(format!("/commitments/{}", c.number)) { (m.f("plan.commitment.heading", &[("n", &c.number.to_string()), ("title", &c.title)])) } }
                        dl.summary {
                            dt { (m.t("plan.lead_agency")) } dd.lead-agency { (c.lead_agency) }
                            dt { (m.t("plan.status")) } dd.status { (status_text(m, c)) }
                            dt { (m.t("plan.module")) } dd { (module_link(m, c.number)) }
                        }
                    }
                }
            }
        }
        (data_links(m, &[
            ("plan.data.json", "/plan.json".to_owned()),
            ("plan.data.csv", "/plan.csv".to_owned()),
            ("plan.data.feed", "/feeds/plan.atom".to_owned()),
            ("plan.data.schema", "/api/v1/plan/schema.json".to_owned()),
            ("plan.data.api", "/api".to_owned()),
        ]))
        (licence_note(m, plan))
        p.source { (p.source) }
    };
    page(plan_layout(m, &p.title, body))
}

async fn plan_json(State(state): State<AppState>) -> Response {
    match current(&state).await {
        Ok(plan) => data::plan_document(&plan),
        Err(e) => e.into_response(),
    }
}

async fn plan_csv(State(state): State<AppState>) -> Response {
    match current(&state).await {
        Ok(plan) => plan_csv_of(&state, &plan),
        Err(e) => e.into_response(),
    }
}

fn plan_csv_of(state: &AppState, plan: &CurrentPlan) -> Response {
    let list = data::commitment_list(state, plan);
    let rows: Vec<Vec<String>> = list
        .commitments
        .iter()
        .map(|c| {
            vec![
                c.number.to_string(),
                c.title.clone(),
                c.lead_agency.clone(),
                c.status.clone().unwrap_or_default(),
                c.period.clone().unwrap_or_default(),
                c.module.url.clone().unwrap_or_default(),
                c.html_url.clone(),
            ]
        })
        .collect();
    csv_response(
        &format!("{}.csv", plan.plan.id),
        &[
            "number",
            "title",
            "lead_agency",
            "status",
            "status_period",
            "module_url",
            "page_url",
        ],
        &rows,
    )
}

// ---------------------------------------------------------------- a commitment

/// What the question form shows again when a submission was refused.
#[derive(Default)]
struct AskForm {
    name: String,
    question: String,
    /// The field at fault and what to do.
    error: Option<(String, String)>,
}

async fn commitment_page(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    headers: HeaderMap,
) -> Response {
    let m = &state.messages;
    let plan = match current(&state).await {
        Ok(p) => p,
        Err(e) => return error_response(m, e),
    };
    let (n, ext) = match commitment_number(&plan, &segment) {
        Ok(x) => x,
        Err(e) => return error_response(m, e),
    };
    let format = match negotiate(ext.as_deref(), &headers) {
        Ok(f) => f,
        Err(e) => return error_response(m, e),
    };
    match format {
        Format::Html => {
            commitment_html(
                &state,
                &plan,
                n,
                &headers,
                AskForm::default(),
                StatusCode::OK,
            )
            .await
        }
        Format::Json => vary(match data::commitment_out(&state, &plan, n).await {
            Ok(out) => json(&out),
            Err(e) => e.into_response(),
        }),
        Format::Csv => vary(match commitment_csv(&state, &plan, n).await {
            Ok(r) => r,
            Err(e) => e.into_response(),
        }),
    }
}

async fn commitment_csv(
    state: &AppState,
    plan: &CurrentPlan,
    n: u32,
) -> Result<Response, ApiError> {
    let c = plan
        .plan
        .commitment(n)
        .ok_or_else(|| ApiError::not_found(format!("the plan has no commitment {n}")))?;
    let mut rows = Vec::new();
    let mut add = |period: &str, section: &str, item: String, text: String| {
        rows.push(vec![
            n.to_string(),
            period.to_owned(),
            section.to_owned(),
            item,
            text,
        ]);
    };
    for (i, t) in c.description.iter().enumerate() {
        add("", "description", (i + 1).to_string(), t.clone());
    }
    for p in &c.progress {
        if let Some(s) = p.status {
            add(&p.period, "status", String::new(), s.code().to_owned());
        }
        if let Some(q) = &p.status_quote {
            add(&p.period, "statusQuote", String::new(), q.clone());
        }
        for (name, texts) in [
            ("progress", &p.progress),
            ("challenges", &p.challenges),
            ("nextSteps", &p.next_steps),
            ("comment", &p.comment),
        ] {
            for (i, t) in texts.iter().enumerate() {
                add(&p.period, name, (i + 1).to_string(), t.clone());
            }
        }
    }
    for q in state.store.questions(Some(n), "published").await? {
        add("", "question", q.id.clone(), public_cell(&q.question));
        if let Some(answer) = &q.answer {
            add("", "answer", q.id.clone(), public_cell(answer));
        }
    }
    Ok(csv_response(
        &format!("commitment-{n}.csv"),
        &["commitment", "period", "section", "item", "text"],
        &rows,
    ))
}

fn progress_section(
    m: &Messages,
    plan: &CurrentPlan,
    n: u32,
    p: &ProgressReport,
    session: Option<&Session>,
) -> Markup {
    let id = format!("progress-{}", p.period);
    let latest = plan.latest(n, &p.period);
    let heading = |key: &str| m.f(key, &[("period", &p.period)]);
    html! {
        section.progress aria-labelledby=(id) {
            h2 id=(id) { (heading("plan.progress_in")) }
            @if let Some(status) = p.status {
                p.status-line { strong { (m.t("plan.status")) ": " } (status.label()) }
                @if let Some(q) = &p.status_quote {
                    blockquote.status-quote { p { (q) } }
                }
            }
            @for (key, texts) in [("plan.part.progress", &p.progress), ("plan.part.challenges", &p.challenges), ("plan.part.next_steps", &p.next_steps), ("plan.part.comment", &p.comment)] {
                @if !texts.is_empty() {
                    h3 { (m.t(key)) }
                    (paragraphs(texts))
                }
            }
            @if let Some(v) = latest {
                p.version-line {
                    (m.f("plan.version_line", &[("version", &v.version.to_string()), ("publisher", &v.publisher)])) " "
                    (time_el(&v.changed_at)) ". "
                    a href=(format!("/commitments/{n}/history")) { (m.t("plan.history.link")) }
                    @if v.version > 1 {
                        " · " a href=(data::diff_url(n, &p.period, v.version - 1, v.version)) { (m.t("plan.diff.last")) }
                    }
                }
            }
            @if session.is_some_and(|s| s.token.may_update_commitment(n)) {
                p { a.edit-link href=(format!("/commitments/{n}/progress/{}/edit", p.period)) { (heading("plan.edit.link")) } }
            }
        }
    }
}

fn question_item(m: &Messages, q: &Question, lead: &str) -> Markup {
    html! {
        li.question id=(format!("q-{}", q.id)) {
            div.asked {
                p.meta {
                    @match &q.name {
                        Some(name) => { (m.f("ask.asked_by", &[("name", name)])) },
                        None => { (m.t("ask.asked_anonymously")) },
                    }
                    ", " (time_el(&q.asked_at))
                }
                div.question-text { (typed_text(&q.question)) }
            }
            @match (&q.answer, &q.answered_at) {
                (Some(answer), Some(at)) => {
                    div.answer {
                        p.meta { strong { (m.f("ask.answer_by", &[("agency", q.answered_by.as_deref().unwrap_or(lead))])) } ", " (time_el(at)) }
                        div.answer-text { (typed_text(answer)) }
                    }
                },
                _ => { p.awaiting { (m.f("ask.awaiting", &[("agency", lead)])) } },
            }
        }
    }
}

fn ask_form_html(m: &Messages, n: u32, form: &AskForm) -> Markup {
    let err = |f: &str| {
        form.error
            .as_ref()
            .filter(|(field, _)| field == f)
            .map(|(_, e)| e.as_str())
    };
    let described = |f: &str, hint: &str| match err(f) {
        Some(_) => format!("{hint} f-{f}-error"),
        None => hint.to_owned(),
    };
    html! {
        section.ask aria-labelledby="h-ask" #ask {
            h2 #h-ask { (m.t("ask.title")) }
            p { (m.t("ask.intro")) }
            @if let Some((f, message)) = &form.error {
                div.error-summary role="alert" aria-labelledby="h-ask-errors" tabindex="-1" {
                    h3 #h-ask-errors { (m.t("form.errors")) }
                    ul { li { a href=(format!("#f-{f}")) { (message) } } }
                }
            }
            form #ask-form method="post" action=(format!("/commitments/{n}/questions")) {
                div.field {
                    label for="f-question" { (m.t("ask.question")) }
                    p #f-question-hint.hint { (m.f("ask.question.hint", &[("max", &QUESTION_MAX.to_string())])) }
                    @if let Some(e) = err("question") { p #f-question-error.field-error { (e) } }
                    textarea #f-question name="question" rows="6" maxlength=(QUESTION_MAX) required
                        aria-describedby=(described("question", "f-question-hint"))
                        aria-invalid=[err("question").map(|_| "true")] { (form.question) }
                }
                div.field {
                    label for="f-name" { (m.t("ask.name")) }
                    p #f-name-hint.hint { (m.f("ask.name.hint", &[("max", &NAME_MAX.to_string())])) }
                    @if let Some(e) = err("name") { p #f-name-error.field-error { (e) } }
                    input #f-name type="text" name="name" maxlength=(NAME_MAX) autocomplete="name" value=(form.name)
                        aria-describedby=(described("name", "f-name-hint"))
                        aria-invalid=[err("name").map(|_| "true")];
                }
                // The robots' trap: off screen and out of the tab order, hidden from
                // assistive technology; a person never fills it.
                div.hp aria-hidden="true" {
                    label for="f-website" { (m.t("ask.trap")) }
                    input #f-website type="text" name="website" tabindex="-1" autocomplete="off";
                }
                button type="submit" { (m.t("ask.submit")) }
            }
            p.hint { (m.t("ask.moderation")) }
        }
    }
}

async fn commitment_html(
    state: &AppState,
    plan: &CurrentPlan,
    n: u32,
    headers: &HeaderMap,
    form: AskForm,
    status: StatusCode,
) -> Response {
    let m = &state.messages;
    let Some(c) = plan.plan.commitment(n) else {
        return error_response(
            m,
            ApiError::not_found(format!("the plan has no commitment {n}")),
        );
    };
    let session = match session::session_of(state, headers).await {
        Ok(s) => s,
        Err(e) => return error_response(m, e),
    };
    let (questions, counts) = match (
        state.store.questions(Some(n), "published").await,
        state.store.question_counts(n).await,
    ) {
        (Ok(q), Ok(c)) => (q, c),
        (Err(e), _) | (_, Err(e)) => return error_response(m, e.into()),
    };
    let title = m.f(
        "plan.commitment.heading",
        &[("n", &n.to_string()), ("title", &c.title)],
    );
    let page_title = if form.error.is_some() {
        format!("{}: {title}", m.t("form.error_title"))
    } else {
        title.clone()
    };
    let body = html! {
        p.breadcrumb { a href="/" { (plan.plan.title) } }
        h1 { (title) }
        dl.summary {
            dt { (m.t("plan.lead_agency")) } dd.lead-agency { (c.lead_agency) }
            @if !c.supporting_agencies.is_empty() {
                dt { (m.t("plan.supporting")) } dd { (c.supporting_agencies.join("; ")) }
            }
            dt { (m.t("plan.status")) } dd.status { (status_text(m, c)) }
            dt { (m.t("plan.module")) } dd { (module_link(m, n)) }
            @if !c.ogp_values.is_empty() {
                dt { (m.t("plan.ogp_values")) } dd { (c.ogp_values.iter().map(|v| v.label()).collect::<Vec<_>>().join("; ")) }
            }
        }
        section aria-labelledby="h-description" {
            h2 #h-description { (m.t("plan.part.description")) }
            (paragraphs(&c.description))
        }
        @if !c.milestones.is_empty() {
            section aria-labelledby="h-milestones" {
                h2 #h-milestones { (m.t("plan.milestones")) }
                div.table-scroll { table {
                    caption.visually-hidden { (m.t("plan.milestones")) }
                    thead { tr {
                        th scope="col" { (m.t("plan.milestone.number")) }
                        th scope="col" { (m.t("plan.milestone.description")) }
                        th scope="col" { (m.t("plan.milestone.due")) }
                        th scope="col" { (m.t("plan.status")) }
                    } }
                    tbody { @for ms in &c.milestones { tr {
                        td { (ms.number) }
                        td { (ms.description) }
                        td { (ms.due.clone().unwrap_or_default()) }
                        td { (ms.status.map(Status::label).unwrap_or_default()) }
                    } } }
                } }
            }
        }
        @for p in c.progress.iter().rev() {
            (progress_section(m, plan, n, p, session.as_ref()))
        }
        @if c.progress.is_empty() { p { (m.t("plan.status.no_report")) } }
        section aria-labelledby="h-questions" #questions {
            h2 #h-questions { (m.t("ask.questions")) }
            @if questions.is_empty() {
                p { (m.t("ask.none")) }
            } @else {
                ol.questions { @for q in &questions { (question_item(m, q, &c.lead_agency)) } }
            }
            @if counts.0 > 0 {
                p.pending { (m.f("ask.pending_count", &[("n", &counts.0.to_string())])) }
            }
            @if session.as_ref().is_some_and(|s| s.token.may_moderate(n)) {
                p { a href="/moderation" { (m.t("moderation.link")) } }
            }
        }
        (ask_form_html(m, n, &form))
        (data_links(m, &[
            ("plan.data.commitment_json", format!("/commitments/{n}.json")),
            ("plan.data.commitment_csv", format!("/commitments/{n}.csv")),
            ("plan.history.link", format!("/commitments/{n}/history")),
            ("plan.data.feed", "/feeds/plan.atom".to_owned()),
            ("plan.data.schema", "/api/v1/plan/schema.json".to_owned()),
        ]))
        (licence_note(m, plan))
    };
    let mut response = page(plan_layout(m, &page_title, body));
    *response.status_mut() = status;
    vary(response)
}

async fn questions_anchor(Path(n): Path<String>) -> Response {
    Redirect::to(&format!("/commitments/{}#questions", crate::segment(&n))).into_response()
}

/// The question form's post: held for moderation and a thank-you page, or the commitment
/// page again with the form, its text and what to fix.
async fn ask_form(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let m = &state.messages;
    let peer = session::peer(request.extensions());
    if session::from_another_site(&headers) {
        return error_page(
            m,
            StatusCode::FORBIDDEN,
            m.t("session.refused"),
            m.t("session.cross_site"),
        );
    }
    let plan = match current(&state).await {
        Ok(p) => p,
        Err(e) => return error_response(m, e),
    };
    let (n, _) = match commitment_number(&plan, &segment) {
        Ok(x) => x,
        Err(e) => return error_response(m, e),
    };
    let fields = match form_fields(request.into_body()).await {
        Ok(f) => f,
        Err(e) => return error_response(m, e),
    };
    let name = field(&fields, "name");
    let question = field(&fields, "question");
    let asked = data::take_question(
        &state,
        &headers,
        peer,
        n,
        Some(name),
        question,
        Some(field(&fields, "website")),
    )
    .await;
    match asked {
        Ok(Asked::Held(_) | Asked::Discarded(_)) => {
            Redirect::to(&format!("/commitments/{n}/asked")).into_response()
        }
        Err(e) if e.status == 400 || e.status == 429 => {
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
            let field_name = e.field.clone().unwrap_or_else(|| "question".into());
            let message = friendly(m, &field_name, &e);
            let form = AskForm {
                name: name.to_owned(),
                question: question.to_owned(),
                error: Some((field_name, message)),
            };
            let mut response = commitment_html(&state, &plan, n, &headers, form, status).await;
            if let Some(secs) = e.retry_after {
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            response
        }
        Err(e) => error_response(m, e),
    }
}

/// A refused question's message, for people: what is wrong and what to do.
fn friendly(m: &Messages, field_name: &str, e: &ApiError) -> String {
    if e.status == 429 {
        return e.message.clone();
    }
    let max = if field_name == "name" {
        NAME_MAX
    } else {
        QUESTION_MAX
    };
    if e.message.ends_with("is empty") {
        m.t("ask.empty").to_owned()
    } else if e.message.contains("characters long") {
        let count = e
            .message
            .split_whitespace()
            .find_map(|w| w.parse::<usize>().ok())
            .unwrap_or(0);
        m.f(
            if field_name == "name" {
                "ask.name_too_long"
            } else {
                "ask.too_long"
            },
            &[("max", &max.to_string()), ("count", &count.to_string())],
        )
    } else {
        e.message.clone()
    }
}

async fn commitment_subpage(
    State(state): State<AppState>,
    Path((segment, sub)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let m = &state.messages;
    let plan = match current(&state).await {
        Ok(p) => p,
        Err(e) => return error_response(m, e),
    };
    let (n, _) = match commitment_number(&plan, &segment) {
        Ok(x) => x,
        Err(e) => return error_response(m, e),
    };
    let (name, ext) = match sub.rsplit_once('.') {
        Some((name, ext)) => (name, Some(ext)),
        None => (sub.as_str(), None),
    };
    let format = match negotiate(ext, &headers) {
        Ok(f) => f,
        Err(e) => return error_response(m, e),
    };
    match name {
        "history" => vary(history(&state, &plan, n, format).await),
        "diff" => vary(diff(&state, &plan, n, format, raw.as_deref()).await),
        "asked" if format == Format::Html => asked_page(m, &plan, n),
        _ => error_response(
            m,
            ApiError::not_found(format!("no page {sub:?} under commitment {n}")),
        ),
    }
}

fn asked_page(m: &Messages, plan: &CurrentPlan, n: u32) -> Response {
    let lead = plan
        .plan
        .commitment(n)
        .map(|c| c.lead_agency.as_str())
        .unwrap_or_default();
    let body = html! {
        div.confirmation role="status" {
            h1 { (m.t("ask.thanks.title")) }
            p { (m.f("ask.thanks.text", &[("agency", lead)])) }
        }
        p { a href=(format!("/commitments/{n}#questions")) { (m.f("ask.back", &[("n", &n.to_string())])) } }
    };
    page(plan_layout(m, m.t("ask.thanks.title"), body))
}

// ---------------------------------------------------------------- history and diff

async fn history(state: &AppState, plan: &CurrentPlan, n: u32, format: Format) -> Response {
    let m = &state.messages;
    let out = match data::history_out(state, plan, n).await {
        Ok(o) => o,
        Err(e) => return error_as(format, m, e),
    };
    match format {
        Format::Json => json(&out),
        Format::Csv => {
            let rows: Vec<Vec<String>> = out
                .versions
                .iter()
                .map(|v| {
                    vec![
                        n.to_string(),
                        v.period.clone(),
                        v.version.to_string(),
                        v.kind.clone(),
                        v.publisher.clone(),
                        v.token_id.clone().unwrap_or_default(),
                        v.via.clone(),
                        v.note.clone().unwrap_or_default(),
                        v.changed_at.clone(),
                        v.content_hash.clone(),
                    ]
                })
                .collect();
            csv_response(
                &format!("commitment-{n}-history.csv"),
                &[
                    "commitment",
                    "period",
                    "version",
                    "kind",
                    "publisher",
                    "token_id",
                    "via",
                    "note",
                    "changed_at",
                    "content_hash",
                ],
                &rows,
            )
        }
        Format::Html => {
            let title = m.f(
                "plan.history.title",
                &[("n", &n.to_string()), ("title", &out.title)],
            );
            let mut periods: Vec<&str> = Vec::new();
            for v in &out.versions {
                if !periods.contains(&v.period.as_str()) {
                    periods.push(&v.period);
                }
            }
            let body = html! {
                p.breadcrumb { a href="/" { (plan.plan.title) } " › " a href=(format!("/commitments/{n}")) { (m.f("plan.commitment.short", &[("n", &n.to_string())])) } }
                h1 { (title) }
                p { (m.t("plan.history.intro")) }
                @for period in &periods {
                    @let versions: Vec<_> = out.versions.iter().filter(|v| v.period == *period).collect();
                    @let latest = versions.last().map_or(1, |v| v.version);
                    section aria-labelledby=(format!("h-{period}")) {
                        h2 id=(format!("h-{period}")) { (m.f("plan.history.period", &[("period", period)])) }
                        form.compare method="get" action=(format!("/commitments/{n}/diff")) {
                            input type="hidden" name="period" value=(period);
                            div.table-scroll { table.history {
                                caption { (m.f("plan.history.caption", &[("period", period)])) }
                                thead { tr {
                                    th scope="col" { (m.t("plan.history.version")) }
                                    th scope="col" { (m.t("plan.history.when")) }
                                    th scope="col" { (m.t("plan.history.who")) }
                                    th scope="col" { (m.t("plan.history.via")) }
                                    th scope="col" { (m.t("plan.history.note")) }
                                    th scope="col" { (m.t("plan.history.from")) }
                                    th scope="col" { (m.t("plan.history.to")) }
                                    th scope="col" { (m.t("plan.history.changes")) }
                                } }
                                tbody { @for v in versions.iter().rev() {
                                    tr id=(format!("v-{period}-{}", v.version)) {
                                        td { (v.version) }
                                        td { (time_el(&v.changed_at)) }
                                        td { (v.publisher) @if let Some(t) = &v.token_id { br; span.muted { (m.f("plan.history.token", &[("token", t)])) } } }
                                        td { (v.via) }
                                        td { (v.note.clone().unwrap_or_default()) }
                                        td {
                                            @let id = format!("from-{period}-{}", v.version);
                                            input type="radio" name="from" value=(v.version) id=(id) checked[v.version == (latest - 1).max(1)];
                                            label.visually-hidden for=(id) { (m.f("plan.history.from_label", &[("version", &v.version.to_string())])) }
                                        }
                                        td {
                                            @let id = format!("to-{period}-{}", v.version);
                                            input type="radio" name="to" value=(v.version) id=(id) checked[v.version == latest];
                                            label.visually-hidden for=(id) { (m.f("plan.history.to_label", &[("version", &v.version.to_string())])) }
                                        }
                                        td { @if let Some(d) = &v.diff_url { a href=(d) { (m.f("plan.history.diff_prev", &[("version", &v.version.to_string())])) } } @else { span.muted { (m.t("plan.history.first")) } } }
                                    }
                                } }
                            } }
                            @if versions.len() > 1 { button type="submit" { (m.t("plan.history.compare")) } }
                        }
                    }
                }
                (data_links(m, &[
                    ("plan.data.history_json", format!("/commitments/{n}/history.json")),
                    ("plan.data.history_csv", format!("/commitments/{n}/history.csv")),
                ]))
                (licence_note(m, plan))
            };
            page(plan_layout(m, &title, body))
        }
    }
}

fn field_label<'a>(m: &'a Messages, field: &'a str) -> &'a str {
    match field {
        "status" => m.t("plan.status"),
        "statusQuote" => m.t("plan.edit.status_quote"),
        "progress" => m.t("plan.part.progress"),
        "challenges" => m.t("plan.part.challenges"),
        "nextSteps" => m.t("plan.part.next_steps"),
        "comment" => m.t("plan.part.comment"),
        other => other,
    }
}

async fn diff(
    state: &AppState,
    plan: &CurrentPlan,
    n: u32,
    format: Format,
    raw: Option<&str>,
) -> Response {
    let m = &state.messages;
    let out = match data::diff_out(state, plan, n, raw).await {
        Ok(o) => o,
        Err(e) => return error_as(format, m, e),
    };
    match format {
        Format::Json => json(&out),
        Format::Csv => {
            let rows: Vec<Vec<String>> = out
                .changes
                .iter()
                .flat_map(|c| {
                    c.ops
                        .iter()
                        .map(|op| vec![c.field.clone(), op.kind.clone(), op.text.clone()])
                })
                .collect();
            csv_response(
                &format!(
                    "commitment-{n}-{}-v{}-v{}.csv",
                    out.period, out.from.version, out.to.version
                ),
                &["field", "op", "text"],
                &rows,
            )
        }
        Format::Html => {
            let title = m.f(
                "plan.diff.title",
                &[
                    ("n", &n.to_string()),
                    ("period", &out.period),
                    ("from", &out.from.version.to_string()),
                    ("to", &out.to.version.to_string()),
                ],
            );
            let meta = |v: &data::VersionOut| {
                html! {
                    (m.f("plan.diff.version", &[("version", &v.version.to_string()), ("publisher", &v.publisher)])) " " (time_el(&v.changed_at))
                    @if let Some(note) = &v.note { " — " (note) }
                }
            };
            let query = raw.unwrap_or_default();
            let body = html! {
                p.breadcrumb { a href="/" { (plan.plan.title) } " › " a href=(format!("/commitments/{n}")) { (m.f("plan.commitment.short", &[("n", &n.to_string())])) } " › " a href=(format!("/commitments/{n}/history")) { (m.t("plan.history.link")) } }
                h1 { (title) }
                dl.summary {
                    dt { (m.t("plan.diff.from")) } dd { (meta(&out.from)) }
                    dt { (m.t("plan.diff.to")) } dd { (meta(&out.to)) }
                }
                p.diff-legend { (m.t("plan.diff.legend")) " " ins { (m.t("plan.diff.legend.ins")) } " " del { (m.t("plan.diff.legend.del")) } }
                @if out.changes.is_empty() {
                    p { (m.t("plan.diff.same")) }
                }
                @for c in &out.changes {
                    section.change aria-labelledby=(format!("h-{}", c.field)) {
                        h2 id=(format!("h-{}", c.field)) { (field_label(m, &c.field)) }
                        div.diff {
                            @for op in &c.ops {
                                @match op.kind.as_str() {
                                    "insert" => { span.visually-hidden { (m.t("plan.diff.sr.ins")) } ins { (op.text) } span.visually-hidden { (m.t("plan.diff.sr.end")) } },
                                    "delete" => { span.visually-hidden { (m.t("plan.diff.sr.del")) } del { (op.text) } span.visually-hidden { (m.t("plan.diff.sr.end")) } },
                                    _ => { (op.text) },
                                }
                            }
                        }
                    }
                }
                (data_links(m, &[
                    ("plan.data.diff_json", format!("/commitments/{n}/diff.json?{query}")),
                    ("plan.data.diff_csv", format!("/commitments/{n}/diff.csv?{query}")),
                ]))
                (licence_note(m, plan))
            };
            page(plan_layout(m, &title, body))
        }
    }
}

// ---------------------------------------------------------------- the report

async fn report_page(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    headers: HeaderMap,
) -> Response {
    let m = &state.messages;
    let plan = match current(&state).await {
        Ok(p) => p,
        Err(e) => return error_response(m, e),
    };
    let (period, ext) = match report_period(&plan, &segment) {
        Ok(x) => x,
        Err(e) => return error_response(m, e),
    };
    if ext.as_deref() == Some("pdf") {
        return match tuwhera_plan::report_pdf(&plan.plan, &period) {
            Ok(bytes) => (
                [
                    (header::CONTENT_TYPE, "application/pdf".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("inline; filename=\"{}-report-{period}.pdf\"", plan.plan.id),
                    ),
                    (header::CACHE_CONTROL, "no-cache".to_owned()),
                ],
                bytes,
            )
                .into_response(),
            Err(e) => {
                tracing::error!(error = %e, "making the report's PDF");
                error_response(
                    m,
                    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()),
                )
            }
        };
    }
    let format = match negotiate(ext.as_deref(), &headers) {
        Ok(f) => f,
        Err(e) => return error_response(m, e),
    };
    let out = match data::report_out(&plan, &period) {
        Ok(o) => o,
        Err(e) => return error_as(format, m, e),
    };
    vary(match format {
        Format::Json => json(&out),
        Format::Csv => {
            let mut rows = Vec::new();
            for s in &out.sections {
                rows.push(vec![
                    s.number.to_string(),
                    s.title.clone(),
                    s.lead_agency.clone(),
                    "leadAgency".into(),
                    String::new(),
                    s.lead_agency.clone(),
                ]);
                for part in &s.parts {
                    for (i, text) in part.paragraphs.iter().enumerate() {
                        rows.push(vec![
                            s.number.to_string(),
                            s.title.clone(),
                            s.lead_agency.clone(),
                            part.heading.clone(),
                            (i + 1).to_string(),
                            text.clone(),
                        ]);
                    }
                }
            }
            csv_response(
                &format!("{}-report-{period}.csv", plan.plan.id),
                &[
                    "commitment",
                    "title",
                    "lead_agency",
                    "section",
                    "item",
                    "text",
                ],
                &rows,
            )
        }
        Format::Html => {
            let body = html! {
                article.report {
                    header.report-head {
                        h1 { (out.title) }
                        @if let Some(sub) = &out.subtitle { p.lead { (sub) } }
                        p { (out.country) ": " (out.plan_title) }
                        p.no-print {
                            a href=(out.pdf_url) { (m.t("plan.report.pdf")) } " · "
                            a href=(format!("/report/{period}.json")) { (m.t("plan.report.json")) } " · "
                            a href=(format!("/report/{period}.csv")) { (m.t("plan.report.csv")) }
                        }
                    }
                    nav.toc aria-labelledby="h-toc" {
                        h2 #h-toc { (m.t("plan.report.contents")) }
                        ol { @for s in &out.sections { li { a href=(format!("#c{}", s.number)) { (s.heading) } } } }
                    }
                    @for s in &out.sections {
                        section.report-commitment id=(format!("c{}", s.number)) aria-labelledby=(format!("h-c{}", s.number)) {
                            h2 id=(format!("h-c{}", s.number)) { (s.heading) }
                            h3 { (m.t("plan.lead_agency")) }
                            p.lead-agency { (s.lead_agency) }
                            @for part in &s.parts {
                                h3 { (part.heading) }
                                (paragraphs(&part.paragraphs))
                            }
                            p.no-print { a href=(format!("/commitments/{}", s.number)) { (m.f("plan.report.commitment_page", &[("n", &s.number.to_string())])) } }
                        }
                    }
                    @if !out.closing.is_empty() {
                        footer.report-closing { (paragraphs(&out.closing)) }
                    }
                    (licence_note(m, &plan))
                }
            };
            page(plan_layout(m, &out.title, body))
        }
    })
}

// ---------------------------------------------------------------- agencies' forms

/// Paragraphs from a text area: blocks at blank lines; inside a block, a line that starts
/// a list item ("- ", "1. ") starts a new element, other lines join the one before.
pub fn paragraphs_from(text: &str) -> Vec<String> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out: Vec<String> = Vec::new();
    for block in text.split("\n\n") {
        let mut current: Option<String> = None;
        for line in block.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let starts_item = line.starts_with("- ")
                || line.split_once(". ").is_some_and(|(n, _)| {
                    !n.is_empty() && n.len() <= 3 && n.bytes().all(|b| b.is_ascii_digit())
                });
            match &mut current {
                Some(c) if !starts_item => {
                    c.push(' ');
                    c.push_str(line);
                }
                _ => {
                    if let Some(c) = current.take() {
                        out.push(c);
                    }
                    current = Some(line.to_owned());
                }
            }
        }
        out.extend(current);
    }
    out
}

/// The edit form's values, as typed.
#[derive(Default)]
struct EditForm {
    status: String,
    status_quote: String,
    progress: String,
    challenges: String,
    next_steps: String,
    comment: String,
    note: String,
    version: i64,
    /// (field id, message)
    errors: Vec<(String, String)>,
}

impl EditForm {
    fn of(report: &ProgressReport, version: i64) -> EditForm {
        EditForm {
            status: report
                .status
                .map(|s| s.code().to_owned())
                .unwrap_or_default(),
            status_quote: report.status_quote.clone().unwrap_or_default(),
            progress: report.progress.join("\n\n"),
            challenges: report.challenges.join("\n\n"),
            next_steps: report.next_steps.join("\n\n"),
            comment: report.comment.join("\n\n"),
            note: String::new(),
            version,
            errors: Vec::new(),
        }
    }
}

/// The edit page's session, or the response that replaces the page: sign in first, or
/// a refusal for a commitment the token may not change.
async fn edit_session(
    state: &AppState,
    headers: &HeaderMap,
    n: u32,
    path: &str,
) -> Result<Session, Response> {
    let m = &state.messages;
    let session = match session::session_of(state, headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(sign_in_first(path)),
        Err(e) => return Err(error_response(m, e)),
    };
    if !session.token.may_update_commitment(n) {
        return Err(error_response(m, data::forbidden_update(&session.token, n)));
    }
    Ok(session)
}

fn edit_html(
    m: &Messages,
    plan: &CurrentPlan,
    n: u32,
    period: &str,
    session: &Session,
    form: &EditForm,
    status: StatusCode,
) -> Response {
    let c = plan.plan.commitment(n);
    let title = m.f(
        "plan.edit.title",
        &[("n", &n.to_string()), ("period", period)],
    );
    let err = |f: &str| {
        form.errors
            .iter()
            .find(|(field, _)| field == f)
            .map(|(_, e)| e.as_str())
    };
    let area = |name: &str, label: &str, value: &str, rows: u32| {
        let id = format!("f-{name}");
        let hint = format!("{id}-hint");
        let error_id = format!("{id}-error");
        html! {
            div.field {
                label for=(id) { (label) }
                p.hint id=(hint) { (m.t("plan.edit.paragraphs_hint")) }
                @if let Some(e) = err(name) { p.field-error id=(error_id) { (e) } }
                textarea id=(id) name=(name) rows=(rows)
                    aria-describedby=(if err(name).is_some() { format!("{hint} {error_id}") } else { hint.clone() })
                    aria-invalid=[err(name).map(|_| "true")] { (value) }
            }
        }
    };
    let body = html! {
        p.breadcrumb { a href="/" { (plan.plan.title) } " › " a href=(format!("/commitments/{n}")) { (m.f("plan.commitment.short", &[("n", &n.to_string())])) } }
        h1 { (title) }
        @if let Some(c) = c { p.lead { (c.title) } }
        p { (m.f("session.as", &[("publisher", &session.token.publisher), ("token", &session.token.token_id), ("until", &session.expires_at)])) }
        p { (m.f("plan.edit.intro", &[("version", &form.version.to_string())])) }
        @if !form.errors.is_empty() {
            div.error-summary role="alert" aria-labelledby="h-errors" tabindex="-1" {
                h2 #h-errors { (m.t("form.errors")) }
                ul { @for (f, e) in &form.errors { li { a href=(format!("#f-{f}")) { (e) } } } }
            }
        }
        form #edit-form method="post" action=(format!("/commitments/{n}/progress/{period}/edit")) {
            (csrf_field(session))
            input type="hidden" name="version" value=(form.version);
            div.field {
                label for="f-status" { (m.t("plan.status")) }
                p #f-status-hint.hint { (m.t("plan.edit.status_hint")) }
                @if let Some(e) = err("status") { p #f-status-error.field-error { (e) } }
                select #f-status name="status" aria-describedby="f-status-hint" aria-invalid=[err("status").map(|_| "true")] {
                    option value="" selected[form.status.is_empty()] { (m.t("plan.edit.no_status")) }
                    @for s in Status::ALL {
                        option value=(s.code()) selected[form.status == s.code()] { (s.label()) }
                    }
                }
            }
            div.field {
                label for="f-statusQuote" { (m.t("plan.edit.status_quote")) }
                p #f-statusQuote-hint.hint { (m.t("plan.edit.status_quote_hint")) }
                @if let Some(e) = err("statusQuote") { p #f-statusQuote-error.field-error { (e) } }
                input #f-statusQuote type="text" name="statusQuote" value=(form.status_quote)
                    aria-describedby=(if err("statusQuote").is_some() { "f-statusQuote-hint f-statusQuote-error" } else { "f-statusQuote-hint" })
                    aria-invalid=[err("statusQuote").map(|_| "true")];
            }
            (area("progress", m.t("plan.part.progress"), &form.progress, 12))
            (area("challenges", m.t("plan.part.challenges"), &form.challenges, 6))
            (area("nextSteps", m.t("plan.part.next_steps"), &form.next_steps, 6))
            (area("comment", m.t("plan.part.comment"), &form.comment, 3))
            div.field {
                label for="f-note" { (m.t("plan.edit.note")) }
                p #f-note-hint.hint { (m.f("plan.edit.note_hint", &[("max", &NOTE_MAX.to_string())])) }
                @if let Some(e) = err("note") { p #f-note-error.field-error { (e) } }
                input #f-note type="text" name="note" maxlength=(NOTE_MAX) value=(form.note) aria-describedby="f-note-hint";
            }
            button type="submit" { (m.t("plan.edit.save")) }
        }
        p.hint { (m.t("plan.edit.kept")) }
    };
    let page_title = if form.errors.is_empty() {
        title
    } else {
        format!("{}: {title}", m.t("form.error_title"))
    };
    let mut response = (
        [(header::CACHE_CONTROL, "no-store")],
        plan_layout(m, &page_title, body),
    )
        .into_response();
    *response.status_mut() = status;
    response
}

async fn edit_page(
    State(state): State<AppState>,
    Path((segment, period)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let m = &state.messages;
    let plan = match current(&state).await {
        Ok(p) => p,
        Err(e) => return error_response(m, e),
    };
    let (n, _) = match commitment_number(&plan, &segment) {
        Ok(x) => x,
        Err(e) => return error_response(m, e),
    };
    let path = format!("/commitments/{n}/progress/{}/edit", crate::segment(&period));
    let session = match edit_session(&state, &headers, n, &path).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if plan.plan.report(&period).is_none() {
        return error_response(
            m,
            ApiError::not_found(format!("the plan has no report for {period:?}")),
        );
    }
    let form = match plan.latest(n, &period) {
        Some(v) => EditForm::of(&v.report, v.version),
        None => EditForm::default(),
    };
    edit_html(m, &plan, n, &period, &session, &form, StatusCode::OK)
}

async fn edit_save(
    State(state): State<AppState>,
    Path((segment, period)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let m = &state.messages;
    let plan = match current(&state).await {
        Ok(p) => p,
        Err(e) => return error_response(m, e),
    };
    let (n, _) = match commitment_number(&plan, &segment) {
        Ok(x) => x,
        Err(e) => return error_response(m, e),
    };
    let fields = match form_fields(body).await {
        Ok(f) => f,
        Err(e) => return error_response(m, e),
    };
    let session = match form_session(&state, &headers, &fields).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !session.token.may_update_commitment(n) {
        return error_response(m, data::forbidden_update(&session.token, n));
    }
    let mut form = EditForm {
        status: field(&fields, "status").to_owned(),
        status_quote: field(&fields, "statusQuote").to_owned(),
        progress: field(&fields, "progress").to_owned(),
        challenges: field(&fields, "challenges").to_owned(),
        next_steps: field(&fields, "nextSteps").to_owned(),
        comment: field(&fields, "comment").to_owned(),
        note: field(&fields, "note").to_owned(),
        version: field(&fields, "version").parse().unwrap_or(0),
        errors: Vec::new(),
    };
    let status = if form.status.is_empty() {
        None
    } else {
        match Status::ALL.into_iter().find(|s| s.code() == form.status) {
            Some(s) => Some(s),
            None => {
                form.errors
                    .push(("status".into(), m.t("plan.edit.bad_status").to_owned()));
                None
            }
        }
    };
    let quote = form.status_quote.trim();
    let report = ProgressReport {
        period: period.clone(),
        status,
        status_quote: (!quote.is_empty()).then(|| quote.to_owned()),
        progress: paragraphs_from(&form.progress),
        challenges: paragraphs_from(&form.challenges),
        next_steps: paragraphs_from(&form.next_steps),
        comment: paragraphs_from(&form.comment),
    };
    for finding in tuwhera_plan::validate_progress(&plan.plan, n, &report) {
        let name = finding
            .path
            .trim_start_matches("$.")
            .split(['[', '.'])
            .next()
            .unwrap_or("")
            .to_owned();
        let name = if name.is_empty() || name == "$" {
            "progress".to_owned()
        } else {
            name
        };
        let message = if finding
            .message
            .contains("required property \"statusQuote\"")
        {
            m.t("plan.edit.quote_needed").to_owned()
        } else {
            format!("{}: {}", field_label(m, &name), finding.message)
        };
        if !form.errors.iter().any(|(f, _)| *f == name) {
            form.errors.push((name, message));
        }
    }
    if !form.errors.is_empty() {
        return edit_html(
            m,
            &plan,
            n,
            &period,
            &session,
            &form,
            StatusCode::BAD_REQUEST,
        );
    }
    let expected = (form.version > 0).then_some(form.version);
    let update = {
        let _writing = state.write_lock.lock().await;
        state
            .store
            .plan_update_progress(
                n,
                &report,
                &session.token,
                "web form",
                Some(&form.note),
                expected,
            )
            .await
    };
    match update {
        Ok(u) if u.changed && u.version.version > 1 => {
            tracing::info!(publisher = %session.token.publisher, token = %session.token.token_id, commitment = n, period = %period, version = u.version.version, "plan progress updated");
            Redirect::to(&data::diff_url(
                n,
                &period,
                u.version.version - 1,
                u.version.version,
            ))
            .into_response()
        }
        Ok(_) => Redirect::to(&format!("/commitments/{n}#progress-{period}")).into_response(),
        Err(tuwhera_store::StoreError::Conflict(message)) => {
            form.errors.push(("progress".into(), message));
            edit_html(m, &plan, n, &period, &session, &form, StatusCode::CONFLICT)
        }
        Err(tuwhera_store::StoreError::Invalid { field, message }) => {
            form.errors.push((field.to_owned(), message));
            edit_html(
                m,
                &plan,
                n,
                &period,
                &session,
                &form,
                StatusCode::BAD_REQUEST,
            )
        }
        Err(e) => error_response(m, e.into()),
    }
}

async fn moderation_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let m = &state.messages;
    let session = match session::session_of(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return sign_in_first("/moderation"),
        Err(e) => return error_response(m, e),
    };
    let token = &session.token;
    if !token.has_plan_scope() {
        return error_response(
            m,
            ApiError::new(StatusCode::FORBIDDEN, "forbidden", m.t("session.no_scope")),
        );
    }
    let (pending, published) = match (
        state.store.questions(None, "pending").await,
        state.store.questions(None, "published").await,
    ) {
        (Ok(p), Ok(q)) => (p, q),
        (Err(e), _) | (_, Err(e)) => return error_response(m, e.into()),
    };
    let pending: Vec<&Question> = pending
        .iter()
        .filter(|q| token.may_moderate(q.commitment))
        .collect();
    let unanswered: Vec<&Question> = published
        .iter()
        .filter(|q| q.answer.is_none() && token.may_update_commitment(q.commitment))
        .collect();
    let item = |q: &Question, moderate: bool| {
        let answer_id = format!("answer-{}", q.id);
        let note_id = format!("note-{}", q.id);
        html! {
            li.moderation-item id=(format!("q-{}", q.id)) {
                h3 { (m.f("moderation.question_on", &[("n", &q.commitment.to_string())])) }
                p.meta {
                    @match &q.name { Some(name) => { (m.f("ask.asked_by", &[("name", name)])) }, None => { (m.t("ask.asked_anonymously")) } }
                    ", " (time_el(&q.asked_at))
                }
                blockquote.question-text { (typed_text(&q.question)) }
                @if moderate {
                    form.moderate method="post" action=(format!("/moderation/{}", q.id)) {
                        (csrf_field(&session))
                        div.field {
                            label for=(note_id) { (m.t("moderation.note")) }
                            input type="text" id=(note_id) name="note" maxlength=(NOTE_MAX);
                        }
                        button type="submit" name="action" value="publish" { (m.t("moderation.publish")) } " "
                        button.secondary type="submit" name="action" value="reject" { (m.t("moderation.reject")) }
                    }
                }
                @if token.may_update_commitment(q.commitment) {
                    form.answer method="post" action=(format!("/moderation/{}", q.id)) {
                        (csrf_field(&session))
                        input type="hidden" name="action" value="answer";
                        div.field {
                            label for=(answer_id) { (m.t("moderation.answer")) }
                            textarea id=(answer_id) name="answer" rows="5" maxlength=(ANSWER_MAX) required {}
                        }
                        button type="submit" { (m.t("moderation.answer_submit")) }
                    }
                }
            }
        }
    };
    let body = html! {
        h1 { (m.t("moderation.title")) }
        p { (m.f("session.as", &[("publisher", &token.publisher), ("token", &token.token_id), ("until", &session.expires_at)])) }
        p { (m.t("moderation.intro")) }
        section aria-labelledby="h-pending" {
            h2 #h-pending { (m.f("moderation.pending", &[("n", &pending.len().to_string())])) }
            @if pending.is_empty() { p { (m.t("moderation.none")) } }
            ol.moderation-list { @for q in &pending { (item(q, true)) } }
        }
        @if !token.plan_commitments().is_empty() {
            section aria-labelledby="h-unanswered" {
                h2 #h-unanswered { (m.f("moderation.unanswered", &[("n", &unanswered.len().to_string())])) }
                @if unanswered.is_empty() { p { (m.t("moderation.none_unanswered")) } }
                ol.moderation-list { @for q in &unanswered { (item(q, false)) } }
            }
        }
        form #sign-out-form method="post" action="/sign-out" {
            (csrf_field(&session))
            button.secondary type="submit" { (m.t("session.sign_out")) }
        }
    };
    (
        [(header::CACHE_CONTROL, "no-store")],
        plan_layout(m, m.t("moderation.title"), body),
    )
        .into_response()
}

async fn moderate_form(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let m = &state.messages;
    let fields = match form_fields(body).await {
        Ok(f) => f,
        Err(e) => return error_response(m, e),
    };
    let session = match form_session(&state, &headers, &fields).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let token = &session.token;
    let note = Some(field(&fields, "note"));
    let done = match field(&fields, "action") {
        "publish" => state.store.question_moderate(&id, true, note, token).await,
        "reject" => state.store.question_moderate(&id, false, note, token).await,
        "answer" => {
            state
                .store
                .question_answer(&id, field(&fields, "answer"), token)
                .await
        }
        other => {
            return error_response(
                m,
                ApiError::invalid(
                    "action",
                    format!("action is publish, reject or answer, not {other:?}"),
                ),
            )
        }
    };
    match done {
        Ok(q) => {
            tracing::info!(publisher = %token.publisher, token = %token.token_id, question = %q.id, action = field(&fields, "action"), "question moderated");
            Redirect::to("/moderation").into_response()
        }
        Err(e) => error_response(m, e.into()),
    }
}

// ---------------------------------------------------------------- the feed

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry are left out (stored text has none; this is a guard).
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            '\u{fffe}' | '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

struct Entry {
    id: String,
    title: String,
    updated: String,
    link: String,
    author: String,
    content: String,
}

/// The Atom 1.0 feed of the plan: every progress report published or updated, and every
/// answer to a published question; newest first.
async fn feed(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let m = &state.messages;
    let plan = match current(&state).await {
        Ok(p) => p,
        Err(e) => return error_response(m, e),
    };
    let (changes, answered) = match (
        state.store.plan_recent_changes(50).await,
        state.store.questions_answered(50).await,
    ) {
        (Ok(c), Ok(a)) => (c, a),
        (Err(e), _) | (_, Err(e)) => return error_response(m, e.into()),
    };
    let base = crate::api::base_url(&headers);
    let urn = format!("urn:tuwhera:plan:{}", plan.plan.id);
    let title_of = |n: u32| {
        plan.plan
            .commitment(n)
            .map(|c| c.title.clone())
            .unwrap_or_default()
    };
    let mut entries: Vec<Entry> = changes
        .iter()
        .map(|v| {
            let key = if v.kind == "import" {
                "feed.progress.published"
            } else {
                "feed.progress.updated"
            };
            let mut content = String::new();
            if let Some(s) = v.report.status {
                content.push_str(&format!("{}: {}\n\n", m.t("plan.status"), s.label()));
            }
            content.push_str(&v.report.progress.join("\n\n"));
            if let Some(note) = &v.note {
                content.push_str(&format!("\n\n{}: {note}", m.t("plan.history.note")));
            }
            Entry {
                id: format!(
                    "{urn}:commitment:{}:progress:{}:v{}",
                    v.commitment, v.period, v.version
                ),
                title: m.f(
                    key,
                    &[
                        ("n", &v.commitment.to_string()),
                        ("title", &title_of(v.commitment)),
                        ("period", &v.period),
                        ("version", &v.version.to_string()),
                        ("publisher", &v.publisher),
                    ],
                ),
                updated: v.changed_at.clone(),
                link: if v.version > 1 {
                    format!(
                        "{base}{}",
                        data::diff_url(v.commitment, &v.period, v.version - 1, v.version)
                    )
                } else {
                    format!("{base}/commitments/{}#progress-{}", v.commitment, v.period)
                },
                author: v.publisher.clone(),
                content,
            }
        })
        .collect();
    for q in &answered {
        let (Some(answer), Some(at)) = (&q.answer, &q.answered_at) else {
            continue;
        };
        let by = q.answered_by.clone().unwrap_or_default();
        entries.push(Entry {
            id: format!("{urn}:question:{}", q.id),
            title: m.f(
                "feed.answer",
                &[
                    ("n", &q.commitment.to_string()),
                    ("title", &title_of(q.commitment)),
                ],
            ),
            updated: at.clone(),
            link: format!("{base}/commitments/{}#q-{}", q.commitment, q.id),
            author: by.clone(),
            content: format!(
                "{}: {}\n\n{}: {answer}",
                m.t("feed.question"),
                q.question,
                m.f("ask.answer_by", &[("agency", &by)])
            ),
        });
    }
    entries.sort_by(|a, b| b.updated.cmp(&a.updated).then(b.id.cmp(&a.id)));
    entries.truncate(50);
    let updated = entries
        .iter()
        .map(|e| e.updated.as_str())
        .chain([plan.info.imported_at.as_str()])
        .max()
        .unwrap_or_default()
        .to_owned();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">\n");
    let e = xml_escape;
    xml.push_str(&format!("  <id>{}:feed</id>\n", e(&urn)));
    xml.push_str(&format!(
        "  <title>{}</title>\n",
        e(&m.f("feed.feed_title", &[("title", &plan.plan.title)]))
    ));
    xml.push_str(&format!(
        "  <subtitle>{}</subtitle>\n",
        e(m.t("feed.subtitle"))
    ));
    xml.push_str(&format!("  <updated>{}</updated>\n", e(&updated)));
    xml.push_str(&format!(
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}/feeds/plan.atom\"/>\n",
        e(&base)
    ));
    xml.push_str(&format!(
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}/\"/>\n",
        e(&base)
    ));
    xml.push_str(&format!(
        "  <author><name>{}</name></author>\n",
        e(m.t("site.name"))
    ));
    xml.push_str(&format!("  <rights>{}</rights>\n", e(&plan.plan.licence)));
    for entry in &entries {
        xml.push_str("  <entry>\n");
        xml.push_str(&format!("    <id>{}</id>\n", e(&entry.id)));
        xml.push_str(&format!("    <title>{}</title>\n", e(&entry.title)));
        xml.push_str(&format!("    <updated>{}</updated>\n", e(&entry.updated)));
        xml.push_str(&format!(
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
            e(&entry.link)
        ));
        xml.push_str(&format!(
            "    <author><name>{}</name></author>\n",
            e(&entry.author)
        ));
        xml.push_str(&format!(
            "    <content type=\"text\">{}</content>\n",
            e(&entry.content)
        ));
        xml.push_str("  </entry>\n");
    }
    xml.push_str("</feed>\n");
    (
        [
            (header::CONTENT_TYPE, "application/atom+xml; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        xml,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_areas_become_paragraphs_and_list_items() {
        assert_eq!(
            paragraphs_from("First para\ncontinued.\n\n- one\n- two\nmore of two\n\n1. a\n2. b\r\n\r\n\r\nLast."),
            ["First para continued.", "- one", "- two more of two", "1. a", "2. b", "Last."]
        );
        assert!(paragraphs_from("  \n\n ").is_empty());
    }

    #[test]
    fn accept_picks_the_best_rated_form() {
        let with = |accept: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT, HeaderValue::from_str(accept).unwrap());
            negotiate(None, &h).unwrap()
        };
        assert_eq!(with("application/json"), Format::Json);
        assert_eq!(with("text/csv"), Format::Csv);
        assert_eq!(
            with("text/html,application/xhtml+xml,*/*;q=0.8"),
            Format::Html
        );
        assert_eq!(with("text/html;q=0.5, application/json"), Format::Json);
        assert_eq!(with("*/*"), Format::Html);
        assert_eq!(
            negotiate(Some("csv"), &HeaderMap::new()).unwrap(),
            Format::Csv
        );
        assert!(negotiate(Some("xml"), &HeaderMap::new()).is_err());
    }

    #[test]
    fn formulas_in_public_text_are_defused_for_spreadsheets() {
        assert_eq!(public_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(public_cell("Why?"), "Why?");
    }

    #[test]
    fn xml_text_is_escaped_and_kept_legal() {
        assert_eq!(
            xml_escape("<a href=\"x\">&'\u{1}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
    }
}

//! Server-rendered HTML pages. No JavaScript: forms and links do everything.
//!
//! Accessibility (WCAG 2.1 AA): one `h1` per page and headings in order; a skip
//! link; landmarks (`header`, `nav`, `main`, `footer`); every input labelled;
//! tables with captions and header cells; colours with at least 4.5:1 contrast;
//! visible focus; the page language declared.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde_json::Value;
use tuwhera_store::{ProcessRow, SearchQuery};
use utoipa::OpenApi;

use crate::api::{facets_of, party_roles, release_infos, FacetValue};
use crate::params::{self, CATEGORIES, METHODS, SEARCH_PARAMS, STATUSES};
use crate::{segment, ApiError, AppState, Messages};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/procurement", get(search))
        .route("/procurement/{ocid}", get(process))
        .route("/organisations", get(organisations))
        .route("/organisations/{id}", get(organisation))
        .route("/downloads", get(downloads))
        .route("/api", get(api_docs))
        .route("/quarantine", get(quarantine))
        .route("/static/style.css", get(stylesheet))
}

const STYLE: &str = include_str!("../static/style.css");

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    /// Pages of no section (errors).
    Home,
    /// The action plan: the home page, commitments, reports, questions.
    Plan,
    /// Agencies' sign-in.
    SignIn,
    Procurement,
    Organisations,
    Downloads,
    Api,
    Quarantine,
    Risk,
    Dashboards,
    Compliance,
    Quality,
    Ownership,
}

pub(crate) fn layout(m: &Messages, section: Section, title: &str, body: Markup) -> Markup {
    layout_with_head(m, section, title, html! {}, body)
}

/// The layout, with more in the `head` (a feed's link, say).
pub(crate) fn layout_with_head(
    m: &Messages,
    section: Section,
    title: &str,
    head: Markup,
    body: Markup,
) -> Markup {
    let nav = [
        (Section::Plan, "/", "nav.plan"),
        (Section::Procurement, "/procurement", "nav.procurement"),
        (
            Section::Organisations,
            "/organisations",
            "nav.organisations",
        ),
        (Section::Ownership, "/ownership", "nav.ownership"),
        (Section::Risk, "/risk", "nav.risk"),
        (Section::Dashboards, "/dashboards", "nav.dashboards"),
        (Section::Compliance, "/compliance", "nav.compliance"),
        (Section::Quality, "/quality", "nav.quality"),
        (Section::Downloads, "/downloads", "nav.downloads"),
        (Section::Api, "/api", "nav.api"),
        (Section::Quarantine, "/quarantine", "nav.quarantine"),
    ];
    html! {
        (DOCTYPE)
        html lang=(m.lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — " (m.t("site.name")) }
                link rel="stylesheet" href="/static/style.css";
                (head)
            }
            body {
                a.skip-link href="#main" { (m.t("site.skip")) }
                header.site-header {
                    div.wrap {
                        a.brand href="/" { (m.t("site.name")) }
                        span.tagline { (m.t("site.tagline")) }
                    }
                    nav aria-label=(m.t("nav.label")) {
                        ul.wrap {
                            @for (s, href, key) in nav {
                                li {
                                    @if s == section {
                                        a href=(href) aria-current="page" { (m.t(key)) }
                                    } @else {
                                        a href=(href) { (m.t(key)) }
                                    }
                                }
                            }
                        }
                    }
                }
                main #main.wrap tabindex="-1" { (body) }
                footer.site-footer {
                    div.wrap {
                        p { (m.t("footer.text")) }
                        ul.footer-links {
                            li { a href="/api/openapi.json" { (m.t("footer.source")) } }
                            li {
                                @if section == Section::SignIn {
                                    a href="/sign-in" aria-current="page" { (m.t("footer.sign_in")) }
                                } @else {
                                    a href="/sign-in" { (m.t("footer.sign_in")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub(crate) fn page(markup: Markup) -> Response {
    ([(header::CACHE_CONTROL, "no-cache")], markup).into_response()
}

pub(crate) fn error_page(m: &Messages, status: StatusCode, title: &str, text: &str) -> Response {
    let body = html! { h1 { (title) } p { (text) } p { a href="/" { (m.t("nav.home")) } } };
    (status, layout(m, Section::Home, title, body)).into_response()
}

pub(crate) fn server_error(m: &Messages, e: ApiError) -> Response {
    if e.status == 400 {
        let text = m.f("search.error", &[("message", &e.message)]);
        return error_page(
            m,
            StatusCode::BAD_REQUEST,
            m.t("search.error").split(':').next().unwrap_or("Error"),
            &text,
        );
    }
    error_page(
        m,
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        m.t("error.server"),
        m.t("error.server.text"),
    )
}

pub async fn not_found(State(state): State<AppState>, uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return ApiError::not_found(format!("no endpoint at {}", uri.path())).into_response();
    }
    let m = &state.messages;
    error_page(
        m,
        StatusCode::NOT_FOUND,
        m.t("error.not_found"),
        m.t("error.not_found.text"),
    )
}

/// 1234567.5 → "1,234,567.50"; whole amounts without decimals.
pub fn money(amount: Option<f64>, currency: Option<&str>) -> Option<String> {
    let a = amount?;
    let whole = a.trunc();
    let cents = ((a - whole).abs() * 100.0).round() as u64;
    let digits = format!("{}", whole.abs() as u128);
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if a < 0.0 { "-" } else { "" };
    let frac = if cents > 0 {
        format!(".{cents:02}")
    } else {
        String::new()
    };
    Some(match currency {
        Some(c) => format!("{c} {sign}{grouped}{frac}"),
        None => format!("{sign}{grouped}{frac}"),
    })
}

pub(crate) fn day(date: Option<&str>) -> String {
    date.map(|d| d.get(..10).unwrap_or(d).to_owned())
        .unwrap_or_default()
}

fn or_none(m: &Messages, v: Option<String>) -> Markup {
    match v {
        Some(v) if !v.is_empty() => html! { (v) },
        _ => html! { span.muted { (m.t("value.none")) } },
    }
}

fn search_form(m: &Messages, q: &SearchQuery, full: bool) -> Markup {
    let select = |name: &str, label: &str, options: &[&str], current: &Option<String>| {
        html! {
            div.field {
                label for=(format!("f-{name}")) { (label) }
                select id=(format!("f-{name}")) name=(name) {
                    option value="" { (m.t("search.any")) }
                    @for o in options {
                        option value=(o) selected[current.as_deref() == Some(*o)] { (o) }
                    }
                }
            }
        }
    };
    html! {
        form #search-form role="search" action="/procurement" method="get" {
            div.field.field-q {
                label for="f-q" { (m.t("search.q")) }
                input #f-q type="search" name="q" value=(q.q.clone().unwrap_or_default()) aria-describedby="f-q-hint" maxlength="200";
                p #f-q-hint.hint { (m.t("search.q.hint")) }
            }
            @if full {
                fieldset.filters {
                    legend { (m.t("search.filters")) }
                    (select("method", m.t("search.method"), METHODS, &q.method))
                    (select("status", m.t("search.status"), STATUSES, &q.status))
                    (select("category", m.t("search.category"), CATEGORIES, &q.category))
                    div.field {
                        label for="f-date_from" { (m.t("search.date_from")) }
                        input #f-date_from type="date" name="date_from" value=(q.date_from.clone().unwrap_or_default());
                    }
                    div.field {
                        label for="f-date_to" { (m.t("search.date_to")) }
                        input #f-date_to type="date" name="date_to" value=(q.date_to.clone().unwrap_or_default());
                    }
                    div.field {
                        label for="f-value_min" { (m.t("search.value_min")) }
                        input #f-value_min type="number" min="0" step="any" name="value_min" value=(q.value_min.map(|v| v.to_string()).unwrap_or_default());
                    }
                    div.field {
                        label for="f-value_max" { (m.t("search.value_max")) }
                        input #f-value_max type="number" min="0" step="any" name="value_max" value=(q.value_max.map(|v| v.to_string()).unwrap_or_default());
                    }
                    @if let Some(b) = &q.buyer { input type="hidden" name="buyer" value=(b); }
                    @if let Some(s) = &q.supplier { input type="hidden" name="supplier" value=(s); }
                    @if let Some(o) = &q.org { input type="hidden" name="org" value=(o); }
                }
            }
            button type="submit" { (m.t("search.submit")) }
        }
    }
}

/// The procurement data at a glance: shown above the search when nothing is searched yet.
fn overview(m: &Messages, stats: &tuwhera_store::Stats) -> Markup {
    let figure = |n: i64, key: &str, href: &str| {
        html! { li { a href=(href) { strong { (money(Some(n as f64), None).unwrap_or_default()) } " " (m.t(key)) } } }
    };
    html! {
        p.lead { (m.t("home.intro")) }
        section aria-labelledby="h-stats" {
            h2 #h-stats { (m.t("home.stats")) }
            ul.stats {
                (figure(stats.processes, "home.processes", "#h-results"))
                (figure(stats.releases, "home.releases", "/downloads"))
                (figure(stats.organisations, "home.organisations", "/organisations"))
                (figure(stats.buyers, "home.buyers", "/organisations?role=buyer"))
                (figure(stats.suppliers, "home.suppliers", "/organisations?role=supplier"))
                (figure(stats.quarantined, "home.quarantined", "/quarantine"))
            }
        }
    }
}

fn results_table(m: &Messages, rows: &[ProcessRow]) -> Markup {
    html! {
        div.table-scroll {
            table.results {
                caption.visually-hidden { (m.t("search.results")) }
                thead { tr {
                    th scope="col" { (m.t("search.col.process")) }
                    th scope="col" { (m.t("search.col.buyer")) }
                    th scope="col" { (m.t("search.col.status")) }
                    th scope="col" .num { (m.t("search.col.value")) }
                    th scope="col" { (m.t("search.col.date")) }
                } }
                tbody {
                    @for r in rows {
                        tr {
                            td {
                                a.process-link href=(format!("/procurement/{}", segment(&r.ocid))) {
                                    (r.title.clone().unwrap_or_else(|| r.ocid.clone()))
                                }
                                br;
                                span.ocid { (r.ocid) }
                            }
                            td {
                                @if let (Some(id), Some(name)) = (&r.buyer_id, &r.buyer_name) {
                                    a.org-link href=(format!("/organisations/{}", segment(id))) { (name) }
                                } @else { (or_none(m, r.buyer_name.clone())) }
                            }
                            td { (or_none(m, r.status.clone())) }
                            td.num { (or_none(m, money(r.amount, r.currency.as_deref()))) }
                            td { (day(Some(&r.date))) }
                        }
                    }
                }
            }
        }
    }
}

fn facet_list(
    m: &Messages,
    title: &str,
    key: &'static str,
    values: &[FacetValue],
    q: &SearchQuery,
    current: &Option<String>,
) -> Markup {
    let base = params::search_link(q);
    let with = |v: Option<&str>| {
        let mut link: Vec<(&str, String)> =
            base.iter().filter(|(k, _)| *k != key).cloned().collect();
        if let Some(v) = v {
            link.push((key, v.to_owned()));
        }
        format!("/procurement?{}", params::encode(&link))
    };
    html! {
        @if !values.is_empty() || current.is_some() {
            section.facet aria-label=(title) {
                h3 { (title) }
                ul {
                    @if let Some(c) = current {
                        li { a href=(with(None)) { (m.t("search.remove")) ": " (c) } }
                    }
                    @for v in values {
                        li {
                            @if current.as_deref() == Some(v.value.as_str()) {
                                strong { (v.label.clone().unwrap_or_else(|| v.value.clone())) " (" (v.count) ")" }
                            } @else {
                                a href=(with(Some(&v.value))) { (v.label.clone().unwrap_or_else(|| v.value.clone())) } " (" (v.count) ")"
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn search(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let m = &state.messages;
    let query = match params::pairs(raw.as_deref(), SEARCH_PARAMS).and_then(|p| params::search(&p))
    {
        Ok(q) => q,
        Err(e) => return server_error(m, e),
    };
    let page_data = match state.search(&query).await {
        Ok(p) => p,
        Err(e) => return server_error(m, e),
    };
    let facets = facets_of(&page_data);
    let link = params::search_link(&query);
    let next = page_data.next_cursor.as_ref().map(|c| {
        let mut l = link.clone();
        l.push(("cursor", c.clone()));
        format!("/procurement?{}", params::encode(&l))
    });
    let json_link = format!("/api/v1/processes?{}", params::encode(&link));
    // Nothing searched yet: the data at a glance first (what the front page showed before
    // the action plan became the front page).
    let glance = if raw.as_deref().unwrap_or("").is_empty() {
        match state.stats().await {
            Ok(stats) => Some(overview(m, &stats)),
            Err(e) => return server_error(m, e),
        }
    } else {
        None
    };
    let body = html! {
        h1 { (m.t("search.heading")) }
        @if let Some(glance) = glance { (glance) }
        (search_form(m, &query, true))
        div.search-layout {
            aside aria-label=(m.t("search.facets")) {
                h2 { (m.t("search.facets")) }
                (facet_list(m, m.t("search.method"), "method", &facets.method, &query, &query.method))
                (facet_list(m, m.t("search.status"), "status", &facets.status, &query, &query.status))
                (facet_list(m, m.t("search.category"), "category", &facets.category, &query, &query.category))
                (facet_list(m, m.t("search.col.buyer"), "buyer", &facets.buyer, &query, &query.buyer))
            }
            section.results-section aria-labelledby="h-results" {
                h2 #h-results { (m.t("search.results")) }
                @let chips = [("org", m.t("search.org"), &query.org), ("supplier", m.t("search.supplier"), &query.supplier), ("buyer", m.t("search.buyer"), &query.buyer)];
                @if chips.iter().any(|(_, _, v)| v.is_some()) {
                    ul.active-filters {
                        @for (key, label, value) in chips {
                            @if let Some(v) = value {
                                li {
                                    (label) ": " code { (v) } " "
                                    a href=(format!("/procurement?{}", params::encode(&link.iter().filter(|(k, _)| *k != key).cloned().collect::<Vec<_>>()))) { (m.t("search.remove")) }
                                }
                            }
                        }
                    }
                }
                p role="status" { (m.f("search.count", &[("n", &money(Some(page_data.total as f64), None).unwrap_or_default())])) }
                @if page_data.results.is_empty() {
                    p { (m.t("search.none")) }
                } @else {
                    (results_table(m, &page_data.results))
                }
                nav.pager aria-label=(m.t("nav.pages")) {
                    @if query.cursor.is_some() {
                        a href=(format!("/procurement?{}", params::encode(&link))) { (m.t("search.first")) }
                    }
                    @if let Some(n) = &next { a rel="next" href=(n) { (m.t("search.next")) } }
                }
                p { a href=(json_link) { (m.t("search.as_json")) } }
            }
        }
    };
    page(layout(m, Section::Procurement, m.t("search.title"), body))
}

fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn value_of(v: Option<&Value>) -> Option<String> {
    let v = v?;
    let amount = match v.get("amount")? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    money(amount, v.get("currency").and_then(Value::as_str))
}

fn items(v: Option<&Value>) -> Vec<&Value> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn names(refs: Option<&Value>) -> String {
    items(refs)
        .iter()
        .filter_map(|r| text_of(r.get("name")).or_else(|| text_of(r.get("id"))))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Only web links become links: a `javascript:` URL in published data must not run.
fn safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

async fn process(State(state): State<AppState>, Path(ocid): Path<String>) -> Response {
    let m = &state.messages;
    let (row, compiled) = match state.store.process(&ocid).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return error_page(
                m,
                StatusCode::NOT_FOUND,
                m.t("error.not_found"),
                &m.f("process.not_found", &[("ocid", &ocid)]),
            )
        }
        Err(e) => return server_error(m, e.into()),
    };
    let (releases, parties) = match (
        state.store.release_list(&ocid).await,
        state.store.parties(&ocid).await,
    ) {
        (Ok(r), Ok(p)) => (release_infos(&r), party_roles(p)),
        (Err(e), _) | (_, Err(e)) => return server_error(m, e.into()),
    };
    let (flags, findings) = match crate::risk::process_risk(&state, &ocid).await {
        Ok(r) => r,
        Err(e) => return server_error(m, e),
    };
    // One row per organisation, its roles together.
    let mut orgs: Vec<(String, String, Vec<String>)> = Vec::new();
    for p in &parties {
        match orgs.iter_mut().find(|(id, _, _)| *id == p.org_id) {
            Some((_, _, roles)) => roles.push(p.role.clone()),
            None => orgs.push((p.org_id.clone(), p.name.clone(), vec![p.role.clone()])),
        }
    }
    let tender = compiled.get("tender");
    let enc = segment(&ocid);
    let title = row.title.clone().unwrap_or_else(|| ocid.clone());
    let mut documents: Vec<(String, String, String)> = Vec::new();
    let mut collect_docs = |where_: &str, v: Option<&Value>| {
        for d in items(v.and_then(|v| v.get("documents"))) {
            if let Some(url) = text_of(d.get("url")) {
                let title = text_of(d.get("title")).unwrap_or_else(|| url.clone());
                let kind = text_of(d.get("documentType")).unwrap_or_else(|| where_.to_owned());
                documents.push((title, kind, url));
            }
        }
    };
    collect_docs("planning", compiled.get("planning"));
    collect_docs("tender", tender);
    for a in items(compiled.get("awards")) {
        collect_docs("award", Some(a));
    }
    for c in items(compiled.get("contracts")) {
        collect_docs("contract", Some(c));
    }
    let bids = items(compiled.pointer("/bids/details"));
    let dl = |label: &str, value: Markup| html! { dt { (label) } dd { (value) } };
    let org_link = |id: &Option<String>, name: &Option<String>| match (id, name) {
        (Some(id), Some(name)) => {
            html! { a.org-link href=(format!("/organisations/{}", segment(id))) { (name) } }
        }
        _ => or_none(m, name.clone()),
    };
    let body = html! {
        h1 { (title) }
        p.ocid { (m.t("process.ocid")) ": " code { (row.ocid) } }
        section aria-labelledby="h-summary" {
            h2 #h-summary { (m.t("process.summary")) }
            dl.summary {
                (dl(m.t("process.buyer"), org_link(&row.buyer_id, &row.buyer_name)))
                (dl(m.t("process.procuring_entity"), org_link(&row.procuring_entity_id, &row.procuring_entity_name)))
                (dl(m.t("process.status"), or_none(m, row.status.clone())))
                (dl(m.t("process.method"), or_none(m, row.procurement_method.clone())))
                (dl(m.t("process.method_details"), or_none(m, row.procurement_method_details.clone())))
                (dl(m.t("process.category"), or_none(m, row.main_category.clone())))
                (dl(m.t("process.tender_value"), or_none(m, money(row.tender_amount, row.tender_currency.as_deref()))))
                (dl(m.t("process.awarded"), or_none(m, money(row.awarded_amount, row.awarded_currency.as_deref()))))
                (dl(m.t("process.contracted"), or_none(m, money(row.contracted_amount, row.awarded_currency.as_deref().or(row.tender_currency.as_deref())))))
                (dl(m.t("process.tender_period"), or_none(m, row.tender_start.as_ref().map(|s| format!("{} – {}", day(Some(s)), day(row.tender_end.as_deref()))))))
                (dl(m.t("process.award_date"), or_none(m, row.award_date.as_deref().map(|d| day(Some(d))))))
                (dl(m.t("process.contract_date"), or_none(m, row.contract_date.as_deref().map(|d| day(Some(d))))))
                (dl(m.t("process.releases"), html! { (row.release_count) }))
            }
        }
        (crate::risk::process_section(m, &flags, &findings))
        section aria-labelledby="h-timeline" {
            h2 #h-timeline { (m.t("process.timeline")) }
            div.table-scroll { table {
                caption { (m.t("process.timeline.caption")) }
                thead { tr {
                    th scope="col" { (m.t("process.col.date")) }
                    th scope="col" { (m.t("process.col.id")) }
                    th scope="col" { (m.t("process.col.tags")) }
                    th scope="col" { (m.t("process.col.source")) }
                } }
                tbody { @for r in &releases { tr {
                    td { (day(r.date.as_deref())) }
                    td { code { (r.id) } }
                    td { (r.tag.join(", ")) }
                    td { (r.source_file) ":" (r.source_line) }
                } } }
            } }
        }
        section aria-labelledby="h-parties" {
            h2 #h-parties { (m.t("process.parties")) }
            div.table-scroll { table {
                caption { (m.t("process.parties.caption")) }
                thead { tr {
                    th scope="col" { (m.t("process.col.name")) }
                    th scope="col" { (m.t("process.col.identifier")) }
                    th scope="col" { (m.t("process.col.roles")) }
                } }
                tbody { @for (id, name, roles) in &orgs { tr {
                    td { a.org-link href=(format!("/organisations/{}", segment(id))) { (name) } }
                    td { code { (id) } }
                    td { (roles.join(", ")) }
                } } }
            } }
        }
        section aria-labelledby="h-tender" {
            h2 #h-tender { (m.t("process.tender")) }
            @if let Some(d) = text_of(tender.and_then(|t| t.get("description"))) {
                h3 { (m.t("process.description")) }
                p { (d) }
            }
            @let tender_items = items(tender.and_then(|t| t.get("items")));
            @if !tender_items.is_empty() {
                div.table-scroll { table {
                    caption { (m.t("process.items")) }
                    thead { tr {
                        th scope="col" { (m.t("process.col.item")) }
                        th scope="col" .num { (m.t("process.col.quantity")) }
                        th scope="col" { (m.t("process.col.classification")) }
                    } }
                    tbody { @for i in tender_items.iter().take(200) { tr {
                        td { (text_of(i.get("description")).unwrap_or_default()) }
                        td.num { (text_of(i.get("quantity")).unwrap_or_default()) }
                        td { (text_of(i.pointer("/classification/id")).unwrap_or_default()) " " (text_of(i.pointer("/classification/description")).unwrap_or_default()) }
                    } } }
                } }
            }
        }
        section aria-labelledby="h-bids" {
            h2 #h-bids { (m.t("process.bids")) }
            @if bids.is_empty() { p { (m.t("process.bids.none")) } } @else {
                div.table-scroll { table {
                    caption { (m.t("process.bids")) }
                    thead { tr {
                        th scope="col" { (m.t("process.col.bid")) }
                        th scope="col" { (m.t("process.col.tenderers")) }
                        th scope="col" .num { (m.t("process.col.value")) }
                        th scope="col" { (m.t("process.col.status")) }
                    } }
                    tbody { @for b in bids.iter().take(500) { tr {
                        td { (text_of(b.get("id")).unwrap_or_default()) }
                        td { (names(b.get("tenderers"))) }
                        td.num { (value_of(b.get("value")).unwrap_or_default()) }
                        td { (text_of(b.get("status")).unwrap_or_default()) }
                    } } }
                } }
            }
        }
        section aria-labelledby="h-awards" {
            h2 #h-awards { (m.t("process.awards")) }
            @let awards = items(compiled.get("awards"));
            @if awards.is_empty() { p { (m.t("process.awards.none")) } } @else {
                div.table-scroll { table {
                    caption { (m.t("process.awards")) }
                    thead { tr {
                        th scope="col" { (m.t("process.col.award")) }
                        th scope="col" { (m.t("process.col.date")) }
                        th scope="col" { (m.t("process.col.status")) }
                        th scope="col" { (m.t("process.col.suppliers")) }
                        th scope="col" .num { (m.t("process.col.value")) }
                    } }
                    tbody { @for a in awards.iter().take(500) { tr {
                        td { (text_of(a.get("title")).or_else(|| text_of(a.get("id"))).unwrap_or_default()) }
                        td { (day(text_of(a.get("date")).as_deref())) }
                        td { (text_of(a.get("status")).unwrap_or_default()) }
                        td { (names(a.get("suppliers"))) }
                        td.num { (value_of(a.get("value")).unwrap_or_default()) }
                    } } }
                } }
            }
        }
        section aria-labelledby="h-contracts" {
            h2 #h-contracts { (m.t("process.contracts")) }
            @let contracts = items(compiled.get("contracts"));
            @if contracts.is_empty() { p { (m.t("process.contracts.none")) } } @else {
                div.table-scroll { table {
                    caption { (m.t("process.contracts")) }
                    thead { tr {
                        th scope="col" { (m.t("process.col.contract")) }
                        th scope="col" { (m.t("process.col.signed")) }
                        th scope="col" { (m.t("process.col.status")) }
                        th scope="col" .num { (m.t("process.col.value")) }
                    } }
                    tbody { @for c in contracts.iter().take(500) { tr {
                        td { (text_of(c.get("title")).or_else(|| text_of(c.get("id"))).unwrap_or_default()) }
                        td { (day(text_of(c.get("dateSigned")).as_deref())) }
                        td { (text_of(c.get("status")).unwrap_or_default()) }
                        td.num { (value_of(c.get("value")).unwrap_or_default()) }
                    } } }
                } }
            }
        }
        section aria-labelledby="h-documents" {
            h2 #h-documents { (m.t("process.documents")) }
            @if documents.is_empty() { p { (m.t("process.documents.none")) } } @else {
                ul { @for (title, kind, url) in documents.iter().take(500) { li {
                    @if safe_url(url) {
                        a href=(url) rel="noopener noreferrer nofollow" { (title) }
                    } @else { (title) }
                    " (" (kind) ")"
                } } }
            }
        }
        section aria-labelledby="h-raw" {
            h2 #h-raw { (m.t("process.raw")) }
            ul {
                li { a href=(format!("/api/v1/processes/{enc}")) { (m.t("process.raw.compiled")) } }
                li { a href=(format!("/api/v1/processes/{enc}/versioned")) { (m.t("process.raw.versioned")) } }
                li { a href=(format!("/api/v1/processes/{enc}/releases")) { (m.t("process.raw.releases")) } }
            }
        }
    };
    page(layout(m, Section::Procurement, &title, body))
}

async fn organisations(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let m = &state.messages;
    let pairs = match params::pairs(raw.as_deref(), &["q", "role", "limit", "cursor"]) {
        Ok(p) => p,
        Err(e) => return server_error(m, e),
    };
    let limit = match params::limit(&pairs) {
        Ok(l) => l,
        Err(e) => return server_error(m, e),
    };
    let q = params::get(&pairs, "q").map(|q| q.chars().take(200).collect::<String>());
    let role = params::get(&pairs, "role");
    let result = state
        .organisations(q.as_deref(), role, limit, params::get(&pairs, "cursor"))
        .await;
    let page_data = match result {
        Ok(p) => p,
        Err(e) => return server_error(m, e),
    };
    let next = page_data
        .next_cursor
        .as_ref()
        .map(|c| params::next_page("/organisations", &pairs, c));
    let body = html! {
        h1 { (m.t("org.list")) }
        form #org-search-form role="search" action="/organisations" method="get" {
            div.field.field-q {
                label for="f-org-q" { (m.t("org.q")) }
                input #f-org-q type="search" name="q" value=(q.clone().unwrap_or_default()) maxlength="200";
            }
            @if let Some(r) = role { input type="hidden" name="role" value=(r); }
            button type="submit" { (m.t("search.submit")) }
        }
        @if page_data.results.is_empty() { p { (m.t("org.none")) } } @else {
            div.table-scroll { table {
                caption.visually-hidden { (m.t("org.list")) }
                thead { tr {
                    th scope="col" { (m.t("process.col.name")) }
                    th scope="col" { (m.t("org.identifier")) }
                    th scope="col" .num { (m.t("org.col.as_buyer")) }
                    th scope="col" .num { (m.t("org.col.as_supplier")) }
                } }
                tbody { @for o in &page_data.results { tr {
                    td { a.org-link href=(format!("/organisations/{}", segment(&o.org_id))) { (o.name) } }
                    td { code { (o.org_id) } }
                    td.num { (o.as_buyer) }
                    td.num { (o.as_supplier) }
                } } }
            } }
        }
        @if let Some(n) = next { nav.pager aria-label=(m.t("nav.pages")) { a rel="next" href=(n) { (m.t("search.next")) } } }
    };
    page(layout(m, Section::Organisations, m.t("org.list"), body))
}

async fn organisation(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let m = &state.messages;
    let org = match state.store.organisation(&id).await {
        Ok(Some(o)) => o,
        Ok(None) => {
            return error_page(
                m,
                StatusCode::NOT_FOUND,
                m.t("error.not_found"),
                &m.f("org.not_found", &[("id", &id)]),
            )
        }
        Err(e) => return server_error(m, e.into()),
    };
    let processes = match state
        .search(&SearchQuery {
            org: Some(org.org_id.clone()),
            limit: 20,
            ..Default::default()
        })
        .await
    {
        Ok(p) => p,
        Err(e) => return server_error(m, e),
    };
    let all = format!(
        "/procurement?{}",
        params::encode(&[("org", org.org_id.clone())])
    );
    let owners = crate::ownership::organisation_section(&state, &org.org_id).await;
    let body = html! {
        h1 { (org.name) }
        p { (m.t("org.identifier")) ": " code { (org.org_id) } }
        section aria-labelledby="h-totals" {
            h2 #h-totals { (m.t("org.totals")) }
            div.table-scroll { table {
                caption { (m.t("org.totals.caption")) }
                thead { tr {
                    th scope="col" { (m.t("org.col.role")) }
                    th scope="col" { (m.t("org.col.currency")) }
                    th scope="col" .num { (m.t("org.col.processes")) }
                    th scope="col" .num { (m.t("org.col.amount")) }
                } }
                tbody { @for t in &org.totals { tr {
                    td { (t.role) }
                    td { (t.currency.clone().unwrap_or_default()) }
                    td.num { (t.processes) }
                    td.num { (money(t.amount, None).unwrap_or_default()) }
                } } }
            } }
        }
        section aria-labelledby="h-processes" {
            h2 #h-processes { (m.t("org.processes")) }
            p role="status" { (m.f("search.count", &[("n", &processes.total.to_string())])) }
            (results_table(m, &processes.results))
            p { a href=(all) { (m.t("org.all")) } }
        }
        (owners)
    };
    page(layout(m, Section::Organisations, &org.name, body))
}

async fn downloads(State(state): State<AppState>) -> Response {
    let m = &state.messages;
    let body = html! {
        h1 { (m.t("downloads.title")) }
        p { (m.t("downloads.intro")) }
        div.table-scroll { table {
            caption.visually-hidden { (m.t("downloads.title")) }
            thead { tr {
                th scope="col" { (m.t("downloads.col.file")) }
                th scope="col" { (m.t("downloads.col.format")) }
                th scope="col" { (m.t("downloads.col.what")) }
            } }
            tbody { @for f in crate::downloads::files() { tr {
                td { a href=(f.url) download { (f.name) } }
                td { (f.media_type) }
                td { (f.description) }
            } } }
        } }
        p { (m.t("downloads.licence")) }
    };
    page(layout(m, Section::Downloads, m.t("downloads.title"), body))
}

async fn api_docs(State(state): State<AppState>) -> Response {
    let m = &state.messages;
    let doc = serde_json::to_value(crate::ApiDoc::openapi()).unwrap_or(Value::Null);
    let mut endpoints: Vec<(String, String, String)> = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, ops) in paths {
            if let Some(ops) = ops.as_object() {
                for (method, op) in ops {
                    let summary = text_of(op.get("summary")).unwrap_or_default();
                    endpoints.push((method.to_uppercase(), path.clone(), summary));
                }
            }
        }
    }
    let body = html! {
        h1 { (m.t("api.title")) }
        p { (m.t("api.intro")) }
        p { a href="/api/openapi.json" { (m.t("api.openapi")) } }
        h2 { (m.t("api.endpoints")) }
        div.table-scroll { table {
            caption.visually-hidden { (m.t("api.endpoints")) }
            thead { tr {
                th scope="col" { (m.t("api.col.method")) }
                th scope="col" { (m.t("api.col.path")) }
                th scope="col" { (m.t("api.col.summary")) }
            } }
            tbody { @for (method, path, summary) in &endpoints { tr {
                td { code { (method) } }
                td { code { (path) } }
                td { (summary) }
            } } }
        } }
        h2 { (m.t("api.publish")) }
        p { (m.t("api.publish.text")) }
        pre { code { (PreEscaped("curl -H &quot;Authorization: Bearer $TOKEN&quot; -H &quot;Content-Type: application/json&quot; \\\n     --data-binary @release-package.json http://127.0.0.1:8080/api/v1/releases")) } }
    };
    page(layout(m, Section::Api, m.t("api.title"), body))
}

async fn quarantine(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let m = &state.messages;
    let pairs = match params::pairs(raw.as_deref(), &["reason", "limit", "cursor"]) {
        Ok(p) => p,
        Err(e) => return server_error(m, e),
    };
    let limit = match params::limit(&pairs) {
        Ok(l) => l,
        Err(e) => return server_error(m, e),
    };
    let reason = params::get(&pairs, "reason");
    let page_data = match state
        .store
        .quarantine_page(reason, limit, params::get(&pairs, "cursor"))
        .await
    {
        Ok(p) => p,
        Err(e) => return server_error(m, e.into()),
    };
    let next = page_data
        .next_cursor
        .as_ref()
        .map(|c| params::next_page("/quarantine", &pairs, c));
    let body = html! {
        h1 { (m.t("quarantine.title")) }
        p { (m.t("quarantine.intro")) }
        p role="status" { (m.f("quarantine.count", &[("n", &page_data.total.to_string())])) }
        @if page_data.items.is_empty() { p { (m.t("quarantine.none")) } } @else {
            div.table-scroll { table {
                caption.visually-hidden { (m.t("quarantine.title")) }
                thead { tr {
                    th scope="col" { (m.t("quarantine.col.reason")) }
                    th scope="col" { (m.t("quarantine.col.message")) }
                    th scope="col" { (m.t("quarantine.col.ocid")) }
                    th scope="col" { (m.t("quarantine.col.source")) }
                    th scope="col" { (m.t("quarantine.col.received")) }
                } }
                tbody { @for q in &page_data.items { tr {
                    td { a href=(format!("/quarantine?{}", params::encode(&[("reason", q.reason.clone())]))) { code { (q.reason) } } }
                    td { (q.message) " " "(" a href=(format!("/api/v1/quarantine/{}", q.content_hash)) { (m.t("quarantine.raw")) } ")" }
                    td { code { (q.ocid) } }
                    td { (crate::api::public_source(&q.source_file)) ":" (q.source_line) }
                    td { (q.received_at) }
                } } }
            } }
        }
        @if let Some(n) = next { nav.pager aria-label=(m.t("nav.pages")) { a rel="next" href=(n) { (m.t("search.next")) } } }
    };
    page(layout(
        m,
        Section::Quarantine,
        m.t("quarantine.title"),
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands() {
        assert_eq!(
            money(Some(1234567.5), Some("NZD")).as_deref(),
            Some("NZD 1,234,567.50")
        );
        assert_eq!(money(Some(999.0), None).as_deref(), Some("999"));
        assert_eq!(money(Some(-1000.0), None).as_deref(), Some("-1,000"));
        assert_eq!(money(None, None), None);
    }

    #[test]
    fn only_web_links_are_links() {
        assert!(safe_url("https://example.org/a"));
        assert!(!safe_url("javascript:alert(1)"));
        assert!(!safe_url(" JAVASCRIPT:alert(1)"));
    }
}

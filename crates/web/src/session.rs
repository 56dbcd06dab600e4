//! Agencies' sign-in sessions, the forms' protections, and the limit on questions.
//!
//! An agency signs in with its token on a form; the server keeps a session (in the
//! database, by the hash of a random id) and gives the browser only that id, in a cookie
//! that scripts cannot read (`HttpOnly`), that is sent only over HTTPS (`Secure`; browsers
//! treat `localhost` as secure) and never with a request another site starts
//! (`SameSite=Strict`). The token itself is never put in a cookie or a page. Every form of
//! a session carries the session's CSRF secret, and every form post is refused when the
//! browser says another site made it (`Sec-Fetch-Site`).

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use tuwhera_store::Session;

use crate::pages::{error_page, layout, page, Section};
use crate::{ApiError, AppState, Messages};

/// The session cookie's name.
pub const COOKIE: &str = "tuwhera_session";
/// How long a session lasts: a working day.
pub const SESSION_SECONDS: u64 = 8 * 3600;
/// The largest form accepted, in bytes (an edited progress report is a few kilobytes).
pub const MAX_FORM: usize = 256 * 1024;

/// The session id in the request's cookie, if it looks like one.
fn cookie_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The request's session, if it has a live one.
pub async fn session_of(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Session>, ApiError> {
    match cookie_id(headers) {
        Some(id) => Ok(state.store.session(&id).await?),
        None => Ok(None),
    }
}

fn set_cookie(value: &str, max_age: u64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Whether the browser says another site made this request (`Sec-Fetch-Site`). Requests
/// without the header (not from a browser, or from an old one) are not refused by this;
/// sessions' forms also need their CSRF secret.
pub fn from_another_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site" || v == "same-site")
}

/// Equal secrets, compared in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A form body's fields, refusing what is too large or malformed.
pub async fn form_fields(body: axum::body::Body) -> Result<Vec<(String, String)>, ApiError> {
    let bytes = axum::body::to_bytes(body, MAX_FORM).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!("the form is larger than {MAX_FORM} bytes"),
        )
    })?;
    serde_urlencoded::from_bytes(&bytes)
        .map_err(|e| ApiError::invalid("body", format!("the form is malformed: {e}")))
}

/// The last value of a form field (empty when absent).
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// A path on this site to return to after signing in, or `None` for anything else.
fn local_path(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.len() <= 500
        && next.bytes().all(|b| b.is_ascii_graphic());
    ok.then_some(next)
}

/// The hidden field that carries a session's CSRF secret.
pub fn csrf_field(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// The session behind a form post, if its CSRF secret and origin check out.
pub async fn form_session(
    state: &AppState,
    headers: &HeaderMap,
    fields: &[(String, String)],
) -> Result<Session, Response> {
    let m = &state.messages;
    let refused = |text: &str| error_page(m, StatusCode::FORBIDDEN, m.t("session.refused"), text);
    if from_another_site(headers) {
        return Err(refused(m.t("session.cross_site")));
    }
    let session = match session_of(state, headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(refused(m.t("session.expired"))),
        Err(e) => return Err(crate::plan::error_response(m, e)),
    };
    if !same_secret(field(fields, "csrf"), &session.csrf) {
        return Err(refused(m.t("session.csrf")));
    }
    Ok(session)
}

/// Where a page that needs a session sends a visitor without one.
pub fn sign_in_first(path: &str) -> Response {
    Redirect::to(&format!(
        "/sign-in?{}",
        crate::params::encode(&[("next", path.to_owned())])
    ))
    .into_response()
}

fn what_it_may_do(m: &Messages, session: &Session) -> Markup {
    let numbers = session.token.plan_commitments();
    html! {
        ul {
            @for n in &numbers {
                li { a href=(format!("/commitments/{n}")) { (m.f("session.may_update", &[("n", &n.to_string())])) } }
            }
            @if session.token.has_scope("plan:moderate") || !numbers.is_empty() {
                li { a href="/moderation" { (m.t("session.may_moderate")) } }
            }
        }
    }
}

fn sign_in_form(m: &Messages, next: Option<&str>, error: Option<&str>) -> Markup {
    html! {
        @if let Some(error) = error {
            div.error-summary role="alert" aria-labelledby="h-errors" tabindex="-1" {
                h2 #h-errors { (m.t("form.errors")) }
                ul { li { a href="#f-token" { (error) } } }
            }
        }
        form #sign-in-form method="post" action="/sign-in" {
            div.field {
                label for="f-token" { (m.t("session.token")) }
                p #f-token-hint.hint { (m.t("session.token.hint")) }
                @if let Some(error) = error {
                    p #f-token-error.field-error { (error) }
                }
                input #f-token type="password" name="token" autocomplete="off" spellcheck="false" required
                    aria-describedby=(if error.is_some() { "f-token-hint f-token-error" } else { "f-token-hint" })
                    aria-invalid=[error.map(|_| "true")];
            }
            @if let Some(next) = next { input type="hidden" name="next" value=(next); }
            button type="submit" { (m.t("session.sign_in")) }
        }
    }
}

/// The sign-in page, or, for a signed-in agency, what its session may do.
pub async fn sign_in_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let m = &state.messages;
    let pairs = crate::params::pairs(raw.as_deref(), &["next"]).unwrap_or_default();
    let next = crate::params::get(&pairs, "next").and_then(local_path);
    let session = match session_of(&state, &headers).await {
        Ok(s) => s,
        Err(e) => return crate::plan::error_response(m, e),
    };
    let body = match &session {
        Some(session) => html! {
            h1 { (m.t("session.signed_in")) }
            p { (m.f("session.as", &[("publisher", &session.token.publisher), ("token", &session.token.token_id), ("until", &session.expires_at)])) }
            (what_it_may_do(m, session))
            form #sign-out-form method="post" action="/sign-out" {
                (csrf_field(session))
                button type="submit" { (m.t("session.sign_out")) }
            }
        },
        None => html! {
            h1 { (m.t("session.title")) }
            p { (m.t("session.intro")) }
            (sign_in_form(m, next, None))
        },
    };
    page(layout(m, Section::SignIn, m.t("session.title"), body))
}

/// Sign in with a token: a session is opened and its id set in the cookie.
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let m = &state.messages;
    if from_another_site(&headers) {
        return error_page(
            m,
            StatusCode::FORBIDDEN,
            m.t("session.refused"),
            m.t("session.cross_site"),
        );
    }
    let fields = match form_fields(body).await {
        Ok(f) => f,
        Err(e) => return crate::plan::error_response(m, e),
    };
    let next = local_path(field(&fields, "next"));
    let secret = field(&fields, "token").trim();
    let token = if secret.is_empty() || secret.len() > 200 {
        None
    } else {
        match state.store.token(secret).await {
            Ok(t) => t,
            Err(e) => return crate::plan::error_response(m, e.into()),
        }
    };
    let error = match &token {
        None => Some(m.t("session.bad_token")),
        Some(t) if !t.has_plan_scope() => Some(m.t("session.no_scope")),
        Some(_) => None,
    };
    if let Some(error) = error {
        let body = html! {
            h1 { (m.t("session.title")) }
            p { (m.t("session.intro")) }
            (sign_in_form(m, next, Some(error)))
        };
        let title = format!("{}: {}", m.t("form.error_title"), m.t("session.title"));
        return (
            StatusCode::UNAUTHORIZED,
            [(header::CACHE_CONTROL, "no-store")],
            layout(m, Section::SignIn, &title, body),
        )
            .into_response();
    }
    let Some(token) = token else {
        return crate::plan::error_response(
            m,
            ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "no token"),
        );
    };
    let (id, _) = match state.store.session_start(&token, SESSION_SECONDS).await {
        Ok(s) => s,
        Err(e) => return crate::plan::error_response(m, e.into()),
    };
    tracing::info!(publisher = %token.publisher, token = %token.token_id, "signed in");
    let mut response = Redirect::to(next.unwrap_or("/sign-in")).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie(&id, SESSION_SECONDS));
    response
}

/// End the session and clear the cookie.
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let m = &state.messages;
    let fields = match form_fields(body).await {
        Ok(f) => f,
        Err(e) => return crate::plan::error_response(m, e),
    };
    if let Err(refused) = form_session(&state, &headers, &fields).await {
        return refused;
    }
    if let Some(id) = cookie_id(&headers) {
        if let Err(e) = state.store.session_end(&id).await {
            return crate::plan::error_response(m, e.into());
        }
    }
    let mut response = Redirect::to("/").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie("", 0));
    response
}

/// The client's address: the connection's peer, or, when the server is told to trust a
/// proxy in front of it, the address that proxy appended last to `X-Forwarded-For`.
pub fn client_ip(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Option<IpAddr> {
    if state.config.trust_forwarded_for {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .next_back();
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer.map(|p| p.ip())
}

/// The peer address axum recorded for the connection, if it was served with it.
pub fn peer(extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr)
}

/// At most `limit` questions per `window` from one client address, counted in memory.
///
/// In memory on purpose: the addresses of people asking questions are never written to
/// disk, and are forgotten once their window has passed. The price: a restart forgets the
/// counts, and each server behind a load balancer counts on its own. An IPv6 client is
/// counted by its /64 network (one household or device usually has a whole /64).
pub struct RateLimiter {
    limit: usize,
    window: Duration,
    seen: std::sync::Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

/// Addresses remembered before old entries are swept out.
const SWEEP_AT: usize = 10_000;

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            limit: limit as usize,
            window,
            seen: std::sync::Mutex::new(HashMap::new()),
        }
    }

    fn key(ip: IpAddr) -> IpAddr {
        match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let mut octets = v6.octets();
                    octets[8..].fill(0);
                    IpAddr::V6(octets.into())
                }
            },
            v4 => v4,
        }
    }

    /// Count one submission from `ip`, or say how long until it may submit again.
    pub fn hit(&self, ip: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.len() >= SWEEP_AT {
            let window = self.window;
            seen.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        let times = seen.entry(Self::key(ip)).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() >= self.limit {
            let oldest = times.front().copied().unwrap_or(now);
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        times.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_address_and_ipv6_network() {
        let limiter = RateLimiter::new(2, Duration::from_secs(3600));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(limiter.hit(a).is_ok());
        assert!(limiter.hit(a).is_ok());
        let wait = limiter.hit(a).expect_err("third in the hour");
        assert!(wait > Duration::from_secs(3500));
        assert!(limiter.hit(b).is_ok(), "another address has its own count");
        let v6a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert!(limiter.hit(v6a).is_ok());
        assert!(limiter.hit(v6b).is_ok());
        assert!(limiter.hit(v6a).is_err(), "one /64 is one client");
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path("/commitments/3"), Some("/commitments/3"));
        assert_eq!(local_path("//evil.example/"), None);
        assert_eq!(local_path("https://evil.example/"), None);
        assert_eq!(local_path("/\\evil.example"), None);
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("", "a"));
    }
}

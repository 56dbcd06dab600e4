//! Tuwhera over HTTP: the JSON API under `/api/v1` (documented by the OpenAPI
//! document at `/api/openapi.json`), server-rendered HTML pages that work
//! without JavaScript, and the bulk downloads.
//!
//! Reading is public. Writing (`POST /api/v1/releases`) needs a publisher's
//! bearer token, and a token writes only the processes under its ocid prefix.
//! The action plan is the home page: agencies sign in with their token to update
//! their commitments' progress and answer the public's questions.
//! Every request is bounded: body size, query length, page size and time.

mod api;
pub mod charts;
mod downloads;
mod messages;
mod ownership;
mod pages;
mod params;
mod plan;
mod plan_api;
mod risk;
mod session;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::sync::Mutex;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tuwhera_store::Store;

pub use api::ApiDoc;
pub use messages::Messages;

/// How the server is run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest request body accepted (a release package), in bytes.
    pub max_body: usize,
    /// Longest a request may take to produce its response.
    pub timeout: Duration,
    /// Where generated bulk files (the flattened CSV zip) are kept.
    pub cache_dir: std::path::PathBuf,
    /// Questions accepted from one client address per `question_window`.
    pub question_limit: u32,
    pub question_window: Duration,
    /// Take the client's address from `X-Forwarded-For` (set only behind a proxy that
    /// writes it; otherwise anyone could claim any address).
    pub trust_forwarded_for: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_body: 16 * 1024 * 1024,
            timeout: Duration::from_secs(30),
            cache_dir: std::env::temp_dir().join("tuwhera-cache"),
            question_limit: 5,
            question_window: Duration::from_secs(3600),
            trust_forwarded_for: false,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub messages: Arc<Messages>,
    /// Writes (publishing, compiling) go one at a time, so that a process
    /// compiled for one request is never unmarked while another is adding to it.
    pub write_lock: Arc<Mutex<()>>,
    /// One flattened zip is built at a time; others wait for it.
    pub build_lock: Arc<Mutex<()>>,
    cache: Arc<std::sync::Mutex<Cache>>,
    /// Set while flags, findings and quality are being recomputed.
    refreshing: Arc<std::sync::atomic::AtomicBool>,
    /// Set while the register's ultimate owners are being resolved.
    resolving: Arc<std::sync::atomic::AtomicBool>,
    /// When the register was last checked for news (ms since `started`).
    register_checked: Arc<std::sync::atomic::AtomicU64>,
    started: std::time::Instant,
    /// Questions from the public, counted per client address (in memory).
    pub limiter: Arc<session::RateLimiter>,
}

/// Search results and counts, kept until the data changes. The data changes
/// only when something is ingested, and every change bumps the store's data
/// version, so a cached answer is never stale; the same searches (a buyer's
/// processes, the front page's counts) are asked for again and again.
#[derive(Default)]
struct Cache {
    version: i64,
    searches: std::collections::HashMap<String, Arc<tuwhera_store::SearchPage>>,
    organisations: std::collections::HashMap<String, Arc<tuwhera_store::OrgPage>>,
    stats: Option<tuwhera_store::Stats>,
    /// Dashboards by currency and the risk version they were computed on.
    dashboards: std::collections::HashMap<(String, i64), Arc<tuwhera_store::Dashboard>>,
    /// Risk-list pages by query and risk version.
    risk_pages: std::collections::HashMap<(String, i64), Arc<tuwhera_store::risk::RiskPage>>,
}

/// Searches kept at most: the cache is emptied when it would grow past this.
const CACHED_SEARCHES: usize = 4096;

impl AppState {
    pub fn new(store: Store, config: Config) -> AppState {
        AppState {
            store,
            limiter: Arc::new(session::RateLimiter::new(
                config.question_limit,
                config.question_window,
            )),
            config: Arc::new(config),
            messages: Arc::new(Messages::english()),
            write_lock: Arc::new(Mutex::new(())),
            build_lock: Arc::new(Mutex::new(())),
            cache: Arc::new(std::sync::Mutex::new(Cache::default())),
            refreshing: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            resolving: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            register_checked: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            started: std::time::Instant::now(),
        }
    }

    /// Starts resolving the register (then the flags, which read it) in the
    /// background if statements arrived since the last resolve. Readers see the
    /// last complete resolution meanwhile.
    pub async fn fresh_register(&self) -> Result<(), ApiError> {
        use std::sync::atomic::Ordering;
        // Asked on every register page: the answer is read at most once a second,
        // since a resolve takes longer than that anyway.
        let now = self.started.elapsed().as_millis() as u64;
        let last = self.register_checked.load(Ordering::Acquire);
        if last != 0 && now.saturating_sub(last) < 1000 {
            return Ok(());
        }
        self.register_checked.store(now.max(1), Ordering::Release);
        if self.store.bods_is_resolved().await? {
            return Ok(());
        }
        if self.resolving.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let state = self.clone();
        tokio::spawn(async move {
            match state.store.bods_resolve(false).await {
                Ok(_) => {
                    if let Err(e) = state.fresh_risk().await {
                        tracing::error!(
                            "recomputing flags after the register changed: {}",
                            e.message
                        );
                    }
                }
                Err(e) => tracing::error!("resolving the register failed: {e}"),
            }
            state.resolving.store(false, Ordering::Release);
        });
        Ok(())
    }

    /// Starts recomputing flags, findings and quality in the background if the
    /// data changed since they were last computed. Readers meanwhile see the
    /// last complete results; the switch to new ones is one transaction.
    pub async fn fresh_risk(&self) -> Result<(), ApiError> {
        if self.store.risk_is_current().await? {
            return Ok(());
        }
        use std::sync::atomic::Ordering;
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let state = self.clone();
        tokio::spawn(async move {
            if let Err(e) = state.store.refresh_risk(false).await {
                tracing::error!("recomputing flags failed: {e}");
            }
            state.refreshing.store(false, Ordering::Release);
        });
        Ok(())
    }

    /// A page of the risk list, from the cache when asked before on the same results.
    pub async fn risk_page(
        &self,
        query: &tuwhera_store::risk::RiskQuery,
    ) -> Result<Arc<tuwhera_store::risk::RiskPage>, ApiError> {
        self.fresh_risk().await?;
        let key = (format!("{query:?}"), self.store.risk_version().await?);
        if let Some(hit) = self.fresh_cache().await?.risk_pages.get(&key) {
            return Ok(hit.clone());
        }
        let page = Arc::new(self.store.risk_page(query).await?);
        let mut cache = self.fresh_cache().await?;
        if cache.risk_pages.len() >= CACHED_SEARCHES {
            cache.risk_pages.clear();
        }
        cache.risk_pages.insert(key, page.clone());
        Ok(page)
    }

    /// The dashboards' figures, computed once per data and risk version.
    pub async fn dashboard(
        &self,
        currency: Option<&str>,
    ) -> Result<Arc<tuwhera_store::Dashboard>, ApiError> {
        self.fresh_risk().await?;
        let key = (
            currency.unwrap_or_default().to_owned(),
            self.store.risk_version().await?,
        );
        if let Some(hit) = self.fresh_cache().await?.dashboards.get(&key) {
            return Ok(hit.clone());
        }
        let d = Arc::new(self.store.dashboard(currency).await?);
        self.fresh_cache().await?.dashboards.insert(key, d.clone());
        Ok(d)
    }

    /// The cache, emptied first if the data changed since it was filled.
    async fn fresh_cache(&self) -> Result<std::sync::MutexGuard<'_, Cache>, ApiError> {
        let version = self.store.data_version().await?;
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.version != version {
            *cache = Cache {
                version,
                ..Cache::default()
            };
        }
        Ok(cache)
    }

    /// A search, from the cache when the same one was run on the same data.
    pub async fn search(
        &self,
        query: &tuwhera_store::SearchQuery,
    ) -> Result<Arc<tuwhera_store::SearchPage>, ApiError> {
        let key = format!("{query:?}");
        if let Some(hit) = self.fresh_cache().await?.searches.get(&key) {
            return Ok(hit.clone());
        }
        let page = Arc::new(self.store.search(query).await?);
        let mut cache = self.fresh_cache().await?;
        if cache.searches.len() >= CACHED_SEARCHES {
            cache.searches.clear();
        }
        cache.searches.insert(key, page.clone());
        Ok(page)
    }

    /// A page of organisations, cached like searches.
    pub async fn organisations(
        &self,
        q: Option<&str>,
        role: Option<&str>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Arc<tuwhera_store::OrgPage>, ApiError> {
        let key = format!("{q:?}|{role:?}|{limit}|{cursor:?}");
        if let Some(hit) = self.fresh_cache().await?.organisations.get(&key) {
            return Ok(hit.clone());
        }
        let page = Arc::new(self.store.organisations(q, role, limit, cursor).await?);
        let mut cache = self.fresh_cache().await?;
        if cache.organisations.len() >= CACHED_SEARCHES {
            cache.organisations.clear();
        }
        cache.organisations.insert(key, page.clone());
        Ok(page)
    }

    /// The home page's counts, cached like searches.
    pub async fn stats(&self) -> Result<tuwhera_store::Stats, ApiError> {
        if let Some(s) = self.fresh_cache().await?.stats {
            return Ok(s);
        }
        let stats = self.store.stats().await?;
        self.fresh_cache().await?.stats = Some(stats);
        Ok(stats)
    }
}

/// An API error: `{"error": code, "message": text, "field": where}` with its status.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ApiError {
    /// A stable code a program can match on.
    pub error: String,
    /// What went wrong, for a person.
    pub message: String,
    /// The parameter or field at fault, if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip)]
    #[schema(ignore)]
    pub status: u16,
    /// Seconds after which to try again (a 429's `Retry-After`).
    #[serde(skip)]
    #[schema(ignore)]
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            error: error.to_owned(),
            message: message.into(),
            field: None,
            status: status.as_u16(),
            retry_after: None,
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.to_owned()),
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid-parameter", message)
        }
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", message)
    }
}

impl From<tuwhera_store::StoreError> for ApiError {
    fn from(e: tuwhera_store::StoreError) -> ApiError {
        match e {
            tuwhera_store::StoreError::Invalid { field, message } => {
                ApiError::invalid(field, message)
            }
            tuwhera_store::StoreError::Forbidden(message) => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
            }
            tuwhera_store::StoreError::NotFound(message) => ApiError::not_found(message),
            tuwhera_store::StoreError::Conflict(message) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", message)
            }
            other => {
                // The details stay in the server's log: they can name tables and queries.
                tracing::error!(error = %other, "database error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the server could not answer; try again later",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(&self)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tuwhera\""),
            );
        }
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// The whole application: API, pages, downloads, with security headers and limits on every response.
pub fn router(state: AppState) -> Router {
    let timeout = state.config.timeout;
    let security = [
        (
            header::CONTENT_SECURITY_POLICY,
            // No scripts at all: every page works without them.
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), interest-cohort=()",
        ),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    let mut app = Router::new()
        .merge(api::routes())
        .merge(downloads::routes())
        .merge(pages::routes())
        .merge(plan::routes())
        .merge(plan_api::routes())
        .merge(risk::routes())
        .merge(ownership::routes())
        .fallback(pages::not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        // Only publishing and the plan's posts read a body, and each enforces its own
        // limit (with a JSON 413): a GET's body is never read.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ));
    for (name, value) in security {
        app = app.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    app.layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        format!("{} is not a method {} takes", method, uri.path()),
    )
}

/// Serve on `listener` until the process is stopped (Ctrl-C or SIGTERM).
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

/// Percent-encode one path segment (ocids and organisation ids may hold spaces and slashes).
pub fn segment(s: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

//! Bulk downloads: everything, streamed, with an ETag that changes with the data.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::StreamExt;
use serde::Serialize;
use tuwhera_store::Export;
use utoipa::ToSchema;

use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/downloads", get(list))
        .route("/api/v1/downloads/releases.jsonl", get(releases_jsonl))
        .route(
            "/api/v1/downloads/compiled-releases.jsonl",
            get(compiled_jsonl),
        )
        .route("/api/v1/downloads/record-package.json", get(record_package))
        .route("/api/v1/downloads/flattened.zip", get(flattened_zip))
}

#[derive(Serialize, ToSchema, Clone)]
pub struct DownloadInfo {
    pub name: String,
    pub url: String,
    pub media_type: String,
    pub description: String,
}

#[derive(Serialize, ToSchema)]
pub struct DownloadList {
    /// Changes whenever the data does; the files' ETags are made from it.
    pub data_version: i64,
    pub licence: String,
    pub downloads: Vec<DownloadInfo>,
}

pub const LICENCE: &str = "Each release is published under its publisher's licence, named in the release package it came in. The platform adds no restriction.";

pub fn files() -> Vec<DownloadInfo> {
    let one = |name: &str, media: &str, description: &str| DownloadInfo {
        name: name.to_owned(),
        url: format!("/api/v1/downloads/{name}"),
        media_type: media.to_owned(),
        description: description.to_owned(),
    };
    vec![
        one(
            "releases.jsonl",
            "application/x-ndjson",
            "Every release exactly as received, one per line (JSON Lines), by process.",
        ),
        one(
            "compiled-releases.jsonl",
            "application/x-ndjson",
            "One compiled release per process: its latest state (JSON Lines).",
        ),
        one(
            "record-package.json",
            "application/json",
            "An OCDS record package: each process's releases and compiled release.",
        ),
        one(
            "flattened.zip",
            "application/zip",
            "Compiled releases flattened into CSV tables (one per section), in a zip.",
        ),
        one(
            "statements.jsonl",
            "application/x-ndjson",
            "The beneficial ownership register: every BODS 0.4 statement in its public form, one per line, in publication order (each statement names its own licence in publicationDetails).",
        ),
    ]
}

/// Every bulk file there is.
#[utoipa::path(get, path = "/api/v1/downloads", tag = "procurement", responses(
    (status = 200, description = "The bulk files", body = DownloadList)
))]
pub async fn list(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(axum::Json(DownloadList {
        data_version: state.store.data_version().await?,
        licence: LICENCE.to_owned(),
        downloads: files(),
    })
    .into_response())
}

pub(crate) fn etag(version: i64, name: &str) -> String {
    format!("\"{name}-v{version}\"")
}

/// 304 when the client already has this version.
pub(crate) fn not_modified(headers: &HeaderMap, tag: &str) -> Option<Response> {
    let given = headers.get(header::IF_NONE_MATCH)?.to_str().ok()?;
    given
        .split(',')
        .any(|t| t.trim() == tag || t.trim() == "*")
        .then(|| {
            let mut r = StatusCode::NOT_MODIFIED.into_response();
            if let Ok(v) = HeaderValue::from_str(tag) {
                r.headers_mut().insert(header::ETAG, v);
            }
            r
        })
}

pub(crate) fn streamed(tag: &str, media: &str, name: &str, body: Body) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(media)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(tag) {
        h.insert(header::ETAG, v);
    }
    // Mirrors may keep a copy for five minutes, then ask again with If-None-Match.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}

async fn export(
    state: AppState,
    headers: HeaderMap,
    what: Export,
    name: &str,
    media: &str,
) -> Result<Response, ApiError> {
    let tag = etag(state.store.data_version().await?, name);
    if let Some(r) = not_modified(&headers, &tag) {
        return Ok(r);
    }
    let uri = format!("{}/api/v1/downloads/{name}", crate::api::base_url(&headers));
    let rx = state.store.export(what, uri);
    let stream = tokio_stream_from(rx).map(|chunk| chunk.map_err(std::io::Error::other));
    Ok(streamed(&tag, media, name, Body::from_stream(stream)))
}

pub(crate) fn tokio_stream_from<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> + Send {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// Every release as received (JSON Lines).
#[utoipa::path(get, path = "/api/v1/downloads/releases.jsonl", tag = "procurement", responses(
    (status = 200, description = "JSON Lines of releases", content_type = "application/x-ndjson", body = String),
    (status = 304, description = "Not modified since the ETag given in If-None-Match"),
))]
pub async fn releases_jsonl(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    export(
        state,
        headers,
        Export::Releases,
        "releases.jsonl",
        "application/x-ndjson",
    )
    .await
}

/// Every compiled release (JSON Lines).
#[utoipa::path(get, path = "/api/v1/downloads/compiled-releases.jsonl", tag = "procurement", responses(
    (status = 200, description = "JSON Lines of compiled releases", content_type = "application/x-ndjson", body = String),
    (status = 304, description = "Not modified since the ETag given in If-None-Match"),
))]
pub async fn compiled_jsonl(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    export(
        state,
        headers,
        Export::Compiled,
        "compiled-releases.jsonl",
        "application/x-ndjson",
    )
    .await
}

/// Every process as an OCDS record (a record package).
#[utoipa::path(get, path = "/api/v1/downloads/record-package.json", tag = "procurement", responses(
    (status = 200, description = "An OCDS record package", content_type = "application/json", body = Object),
    (status = 304, description = "Not modified since the ETag given in If-None-Match"),
))]
pub async fn record_package(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    export(
        state,
        headers,
        Export::RecordPackage,
        "record-package.json",
        "application/json",
    )
    .await
}

/// Compiled releases flattened to CSV tables, zipped. Built once per data version and kept.
#[utoipa::path(get, path = "/api/v1/downloads/flattened.zip", tag = "procurement", responses(
    (status = 200, description = "A zip of CSV files", content_type = "application/zip", body = Vec<u8>),
    (status = 304, description = "Not modified since the ETag given in If-None-Match"),
))]
pub async fn flattened_zip(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let version = state.store.data_version().await?;
    let tag = etag(version, "flattened.zip");
    if let Some(r) = not_modified(&headers, &tag) {
        return Ok(r);
    }
    let path = state
        .config
        .cache_dir
        .join(format!("flattened-v{version}.zip"));
    {
        let _building = state.build_lock.lock().await;
        if !path.exists() {
            build_zip(&state, &path).await.map_err(|e| {
                tracing::error!(error = %e, "building the flattened zip");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the zip could not be built; try again later",
                )
            })?;
        }
    }
    let file = tokio::fs::File::open(&path).await.map_err(|e| {
        tracing::error!(error = %e, "opening the flattened zip");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the zip could not be read; try again later",
        )
    })?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    Ok(streamed(&tag, "application/zip", "flattened.zip", body))
}

/// Flatten every compiled release into CSV files in a temporary directory, zip
/// them, and move the zip into place (so a half-built zip is never served).
async fn build_zip(
    state: &AppState,
    path: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    use tuwhera_ocds::flatten::CsvFlattener;
    std::fs::create_dir_all(&state.config.cache_dir)?;
    let work = tempfile::tempdir_in(&state.config.cache_dir)?;
    let csv_dir = work.path().join("csv");
    let mut flattener = CsvFlattener::create(&csv_dir)?;
    let mut rx = state.store.export(Export::Compiled, String::new());
    while let Some(chunk) = rx.recv().await {
        let chunk = chunk?;
        tokio::task::block_in_place(|| -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
            let values = chunk
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .map(serde_json::from_slice)
                .collect::<Result<Vec<serde_json::Value>, _>>()?;
            flattener.add_batch(&values)?;
            Ok(())
        })?;
    }
    flattener.finish()?;
    let tmp_zip = work.path().join("out.zip");
    tokio::task::block_in_place(|| -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&tmp_zip)?);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let mut names: Vec<_> = std::fs::read_dir(&csv_dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        names.sort();
        for p in names {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("table.csv")
                .to_owned();
            zip.start_file(name, options)?;
            std::io::copy(&mut std::fs::File::open(&p)?, &mut zip)?;
        }
        zip.finish()?;
        Ok(())
    })?;
    std::fs::rename(&tmp_zip, path)?;
    Ok(())
}

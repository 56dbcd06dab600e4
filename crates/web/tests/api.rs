//! The JSON API against a running server, on SQLite and on PostgreSQL: every
//! endpoint, its filters and pages, its errors, publishing with tokens, the
//! security rules — and every response checked against the OpenAPI document.
//!
//! PostgreSQL comes from `TUWHERA_TEST_POSTGRES`, which `scripts/test.sh` sets.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tuwhera_ocds::reader::{self, Limits};
use tuwhera_ocds::MergeRules;
use tuwhera_store::Store;
use tuwhera_web::{AppState, Config};
use utoipa::OpenApi;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The sample the tests run on: three real publishers and the 1,000 DGCP processes.
fn sample_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in [
        "data/ocds/real-examples/moldova/releases",
        "data/ocds/real-examples/mexico/jalisco/releases",
        "data/ocds/real-examples/paraguay/releases",
    ] {
        let mut f: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
            .expect("sample dir")
            .map(|e| e.expect("entry").path())
            .collect();
        f.sort();
        files.extend(f);
    }
    files.push(repo().join("data/ocds/dgcp-1000.jsonl.gz"));
    files.push(repo().join("data/ocds/synthetic-nz/releases.jsonl"));
    files
}

struct App {
    base: String,
    store: Store,
    client: reqwest::Client,
    doc: Value,
    name: &'static str,
    _dir: tempfile::TempDir,
}

/// A fresh database of each kind, with the sample ingested, each behind its own server.
async fn spawn_apps(test: &str) -> Vec<App> {
    spawn_apps_with(test, sample_files(), &[]).await
}

/// As [`spawn_apps`], with these releases, and these BODS statements in the register.
async fn spawn_apps_with(test: &str, ocds: Vec<PathBuf>, bods: &[PathBuf]) -> Vec<App> {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut urls = vec![(
        "sqlite",
        format!(
            "sqlite://{}",
            dir.path().join(format!("{test}.db")).display()
        ),
    )];
    match std::env::var("TUWHERA_TEST_POSTGRES") {
        Ok(server) => {
            let admin = sqlx::PgPool::connect(&format!("{server}/postgres"))
                .await
                .expect("postgres server");
            let db = format!("w_{test}_{}", std::process::id());
            sqlx::query(&format!("DROP DATABASE IF EXISTS {db}"))
                .execute(&admin)
                .await
                .expect("drop");
            sqlx::query(&format!("CREATE DATABASE {db}"))
                .execute(&admin)
                .await
                .expect("create");
            urls.push(("postgres", format!("{server}/{db}")));
        }
        Err(_) => assert!(
            std::env::var_os("TUWHERA_SKIP_POSTGRES").is_some(),
            "TUWHERA_TEST_POSTGRES is not set: run the tests with scripts/test.sh, which starts PostgreSQL \
             (or set TUWHERA_SKIP_POSTGRES=1 to run against SQLite only)"
        ),
    }
    let mut apps = Vec::new();
    for (name, url) in urls {
        let store = Store::connect(&url).await.expect("connect");
        for f in &ocds {
            let events = reader::read_all(
                &f.display().to_string(),
                reader::open(f).expect("open sample"),
                Limits::default(),
            );
            store.ingest(events).await.expect("ingest");
        }
        store
            .compile_dirty(&MergeRules::ocds_1_1())
            .await
            .expect("compile");
        for f in bods {
            let items = tuwhera_bods::read::read_all(
                &f.display().to_string(),
                std::fs::File::open(f).expect("open statements"),
                tuwhera_bods::read::Limits::default(),
            );
            let mut preparer = tuwhera_store::bods::BodsPreparer::new().expect("schema");
            let prepared = preparer.prepare(items);
            store
                .bods_ingest(prepared, "test")
                .await
                .expect("statements");
        }
        store.bods_resolve(false).await.expect("resolve");
        store.refresh_risk(false).await.expect("flags");
        // The action plan, as the demo loads it.
        let plan = std::fs::read_to_string(repo().join("data/plan/nap4.json")).expect("plan");
        let plan = tuwhera_plan::Plan::from_json(&plan).expect("plan parses");
        store
            .plan_import(&plan, "nap4.json", "plan import")
            .await
            .expect("plan import");
        let config = Config {
            max_body: 1024 * 1024,
            cache_dir: dir.path().join(format!("cache-{name}")),
            ..Config::default()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = AppState::new(store.clone(), config);
        tokio::spawn(async move {
            let _ = tuwhera_web::serve(listener, state).await;
        });
        apps.push(App {
            base: format!("http://{addr}"),
            store,
            client: reqwest::Client::new(),
            doc: serde_json::to_value(tuwhera_web::ApiDoc::openapi()).expect("doc"),
            name,
            _dir: tempfile::tempdir().expect("dir"),
        });
    }
    // Keep the databases' directory alive as long as the apps.
    if let Some(first) = apps.first_mut() {
        first._dir = dir;
    }
    apps
}

impl App {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request")
    }

    /// GET `path`, check the status, and check the body against the OpenAPI
    /// document's schema for `template` (the documented path) and that status.
    async fn api(&self, template: &str, path: &str, status: u16) -> Value {
        let response = self.get(path).await;
        assert_eq!(
            response.status().as_u16(),
            status,
            "[{}] GET {path}",
            self.name
        );
        let body: Value = response.json().await.expect("JSON body");
        self.conforms(template, "get", status, &body);
        body
    }

    fn conforms(&self, template: &str, method: &str, status: u16, body: &Value) {
        let op = &self.doc["paths"][template][method];
        assert!(
            op.is_object(),
            "{method} {template} is not in the OpenAPI document"
        );
        let schema = &op["responses"][status.to_string()]["content"]["application/json"]["schema"];
        assert!(
            schema.is_object(),
            "{method} {template}: no JSON response documented for status {status}"
        );
        let mut root = schema.clone();
        root["components"] = self.doc["components"].clone();
        let validator = jsonschema::validator_for(&root).expect("the document's schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(body)
            .take(5)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "[{}] {method} {template} ({status}) does not match its OpenAPI schema: {errors:#?}",
            self.name
        );
    }
}

fn ocids(page: &Value) -> Vec<String> {
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["ocid"].as_str().expect("ocid").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_read_endpoint_answers_as_documented() {
    for app in spawn_apps("read").await {
        let all = app.api("/api/v1/processes", "/api/v1/processes", 200).await;
        let total = all["total"].as_i64().expect("total");
        let counts = app.store.counts().await.expect("counts");
        assert_eq!(total, counts[2], "[{}] total is every record", app.name);
        assert!(
            total > 1000,
            "the sample has the 1,000 DGCP processes and more"
        );
        assert_eq!(ocids(&all).len(), 20, "default page size");

        // One process, its versioned release and its releases as received.
        let ocid = "ocds-xs1qbl-SFIN-03-0001-00-2017";
        let p = app
            .api(
                "/api/v1/processes/{ocid}",
                &format!("/api/v1/processes/{ocid}"),
                200,
            )
            .await;
        assert_eq!(p["summary"]["ocid"], ocid);
        assert_eq!(p["compiled_release"]["ocid"], ocid);
        assert_eq!(p["compiled_release"]["tag"], json!(["compiled"]));
        assert!(!p["releases"].as_array().expect("releases").is_empty());
        assert!(
            p["releases"]
                .as_array()
                .expect("releases")
                .iter()
                .all(|r| r["tag"].as_array().is_some_and(|t| !t.is_empty())),
            "every Jalisco release is tagged, and the timeline shows it"
        );
        assert!(p["parties"].as_array().is_some_and(|a| !a.is_empty()));
        let v = app
            .api(
                "/api/v1/processes/{ocid}/versioned",
                &format!("/api/v1/processes/{ocid}/versioned"),
                200,
            )
            .await;
        assert_eq!(v["ocid"], ocid);
        let rp = app
            .api(
                "/api/v1/processes/{ocid}/releases",
                &format!("/api/v1/processes/{ocid}/releases"),
                200,
            )
            .await;
        assert_eq!(
            rp["releases"].as_array().map(Vec::len),
            p["releases"].as_array().map(Vec::len)
        );

        // An ocid with a space and a slash-like character, percent-encoded.
        let dgcp = app
            .api(
                "/api/v1/processes",
                "/api/v1/processes?q=Bomberos&limit=100",
                200,
            )
            .await;
        if let Some(odd) = ocids(&dgcp).into_iter().find(|o| o.contains(' ')) {
            let url = format!("/api/v1/processes/{}", tuwhera_web::segment(&odd));
            let got = app.api("/api/v1/processes/{ocid}", &url, 200).await;
            assert_eq!(got["summary"]["ocid"], odd.as_str());
        }

        // Organisations: a list, a search, one with totals.
        let orgs = app
            .api("/api/v1/organisations", "/api/v1/organisations", 200)
            .await;
        assert_eq!(orgs["results"].as_array().map(Vec::len), Some(20));
        let buyer_id = p["summary"]["buyer_id"]
            .as_str()
            .expect("jalisco has a buyer")
            .to_owned();
        let org = app
            .api(
                "/api/v1/organisations/{id}",
                &format!("/api/v1/organisations/{}", tuwhera_web::segment(&buyer_id)),
                200,
            )
            .await;
        assert_eq!(org["id"], buyer_id.as_str());
        assert!(org["totals"]
            .as_array()
            .expect("totals")
            .iter()
            .any(|t| t["role"] == "buyer" && t["processes"].as_i64() >= Some(1)));
        assert!(ocids(&json!({"results": org["processes"]})).contains(&ocid.to_owned()));
        let found = app
            .api(
                "/api/v1/organisations",
                &format!(
                    "/api/v1/organisations?q={}",
                    &org["name"].as_str().expect("name")[..6]
                ),
                200,
            )
            .await;
        assert!(found["results"]
            .as_array()
            .expect("results")
            .iter()
            .any(|o| o["id"] == buyer_id.as_str()));

        // Quarantine and downloads list.
        app.api("/api/v1/quarantine", "/api/v1/quarantine", 200)
            .await;
        let d = app.api("/api/v1/downloads", "/api/v1/downloads", 200).await;
        assert_eq!(d["downloads"].as_array().map(Vec::len), Some(5));
        app.api("/healthz", "/healthz", 200).await;
        app.api("/readyz", "/readyz", 200).await;

        // Not found, as JSON with the documented error shape.
        app.api(
            "/api/v1/processes/{ocid}",
            "/api/v1/processes/ocds-nope-1",
            404,
        )
        .await;
        app.api(
            "/api/v1/processes/{ocid}/versioned",
            "/api/v1/processes/ocds-nope-1/versioned",
            404,
        )
        .await;
        app.api(
            "/api/v1/processes/{ocid}/releases",
            "/api/v1/processes/ocds-nope-1/releases",
            404,
        )
        .await;
        app.api(
            "/api/v1/organisations/{id}",
            "/api/v1/organisations/XX-NOPE-1",
            404,
        )
        .await;
        let missing = app.get("/api/v1/nothing-here").await;
        assert_eq!(missing.status().as_u16(), 404);
        let body: Value = missing.json().await.expect("JSON");
        assert_eq!(body["error"], "not-found");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_select_what_they_say_and_facets_count_it() {
    for app in spawn_apps("filters").await {
        let all = app
            .api("/api/v1/processes", "/api/v1/processes?limit=1", 200)
            .await;
        let total = all["total"].as_i64().expect("total");
        // Each facet value, used as a filter, gives exactly its count, and every result has that value.
        for (facet, param, field) in [
            ("method", "method", "procurement_method"),
            ("status", "status", "status"),
            ("category", "category", "main_category"),
            ("buyer", "buyer", "buyer_id"),
        ] {
            let values = all["facets"][facet].as_array().expect("facet").clone();
            assert!(!values.is_empty(), "[{}] facet {facet} is empty", app.name);
            let sum: i64 = values
                .iter()
                .map(|v| v["count"].as_i64().expect("count"))
                .sum();
            assert!(sum <= total);
            for v in values.iter().take(3) {
                let value = v["value"].as_str().expect("value");
                let url = format!(
                    "/api/v1/processes?{param}={}&limit=100",
                    tuwhera_web::segment(value)
                );
                let page = app.api("/api/v1/processes", &url, 200).await;
                assert_eq!(page["total"], v["count"], "[{}] {url}", app.name);
                for r in page["results"].as_array().expect("results") {
                    assert_eq!(r[field].as_str(), Some(value), "[{}] {url}", app.name);
                }
            }
        }
        // Text: every word must appear.
        let page = app
            .api(
                "/api/v1/processes",
                "/api/v1/processes?q=MANTENIMIENTO&limit=100",
                200,
            )
            .await;
        assert!(
            page["total"].as_i64() > Some(0),
            "[{}] a common word finds processes",
            app.name
        );
        for r in page["results"].as_array().expect("results") {
            let text = format!(
                "{} {} {} {} {}",
                r["title"].as_str().unwrap_or(""),
                r["description"].as_str().unwrap_or(""),
                r["buyer_name"].as_str().unwrap_or(""),
                r["procuring_entity_name"].as_str().unwrap_or(""),
                r["suppliers"].as_str().unwrap_or("")
            )
            .to_lowercase();
            assert!(text.contains("mantenimiento"), "[{}] {text}", app.name);
        }
        // Dates and values: bounds are inclusive and respected.
        let page = app
            .api(
                "/api/v1/processes",
                "/api/v1/processes?date_from=2022-01-01&date_to=2022-12-31&value_min=100000&value_max=5000000&limit=100",
                200,
            )
            .await;
        assert!(
            page["total"].as_i64() > Some(0),
            "[{}] the range has processes",
            app.name
        );
        for r in page["results"].as_array().expect("results") {
            let date = r["date"].as_str().expect("date");
            assert!(("2022-01-01".."2023-01-01").contains(&date), "{date}");
            let amount = r["amount"].as_f64().expect("amount");
            assert!((100000.0..=5000000.0).contains(&amount), "{amount}");
        }
        // Supplier: every result has that supplier among its parties.
        let orgs = app
            .api(
                "/api/v1/organisations",
                "/api/v1/organisations?role=supplier&limit=5",
                200,
            )
            .await;
        let supplier = orgs["results"][0]["id"]
            .as_str()
            .expect("a supplier")
            .to_owned();
        let page = app
            .api(
                "/api/v1/processes",
                &format!(
                    "/api/v1/processes?supplier={}&limit=100",
                    tuwhera_web::segment(&supplier)
                ),
                200,
            )
            .await;
        assert_eq!(
            page["total"], orgs["results"][0]["as_supplier"],
            "[{}]",
            app.name
        );
        for o in ocids(&page) {
            let parties = app.store.parties(&o).await.expect("parties");
            assert!(parties
                .iter()
                .any(|p| p.org_id == supplier && p.role == "supplier"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_cover_everything_once_even_while_data_arrives() {
    for app in spawn_apps("pages").await {
        let total = app
            .api("/api/v1/processes", "/api/v1/processes?limit=1", 200)
            .await["total"]
            .as_i64()
            .expect("total");
        let mut seen: Vec<String> = Vec::new();
        let mut next = Some("/api/v1/processes?limit=97".to_owned());
        let mut pages = 0;
        let token = app
            .store
            .create_token("Test agency", "ocds-zzzzzz")
            .await
            .expect("token");
        while let Some(url) = next {
            let page = app.api("/api/v1/processes", &url, 200).await;
            seen.extend(ocids(&page));
            next = page["next"].as_str().map(str::to_owned);
            pages += 1;
            if pages == 3 {
                // New processes arrive mid-way: dated today, they sort before every page
                // already read, so the pages still to come neither repeat nor skip anything.
                let package = json!({"uri": "x", "version": "1.1", "publishedDate": "2026-01-01T00:00:00Z",
                    "publisher": {"name": "Test"}, "releases": [
                    {"ocid": "ocds-zzzzzz-new-1", "id": "1", "date": "2099-01-01T00:00:00Z", "tag": ["tender"],
                     "initiationType": "tender", "tender": {"id": "t", "title": "Arrived mid-way"}}
                ]});
                let r = app
                    .client
                    .post(format!("{}/api/v1/releases", app.base))
                    .bearer_auth(&token.token)
                    .json(&package)
                    .send()
                    .await
                    .expect("post");
                assert_eq!(r.status().as_u16(), 200);
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "[{}] no process twice", app.name);
        assert_eq!(
            seen.len() as i64,
            total,
            "[{}] every process once",
            app.name
        );
        assert!(pages > 3);
        // A cursor that is not ours is a 400 naming the parameter.
        let bad = app
            .api("/api/v1/processes", "/api/v1/processes?cursor=zz", 400)
            .await;
        assert_eq!(bad["field"], "cursor");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_parameters_are_400_with_the_parameter_named() {
    for app in spawn_apps("invalid").await {
        let long_method = format!("/api/v1/processes?method={}", "x".repeat(101));
        let long_q = format!("/api/v1/processes?q={}", "word+".repeat(60));
        let cases: Vec<(&str, &str)> = vec![
            (&long_method, "method"),
            (&long_q, "q"),
            ("/api/v1/processes?date_from=01/02/2024", "date_from"),
            ("/api/v1/processes?date_to=2024-02-30x", "date_to"),
            ("/api/v1/processes?value_min=ten", "value_min"),
            ("/api/v1/processes?value_max=1e999", "value_max"),
            ("/api/v1/processes?limit=1000", "limit"),
            ("/api/v1/processes?limit=-1", "limit"),
            ("/api/v1/processes?colour=red", "colour"),
            ("/api/v1/organisations?limit=0", "limit"),
            ("/api/v1/organisations?cursor=0g", "cursor"),
            ("/api/v1/quarantine?cursor=abc", "cursor"),
            ("/api/v1/quarantine?sort=x", "sort"),
        ];
        for (url, field) in cases {
            let template = url.split('?').next().expect("path");
            let body = app.api(template, url, 400).await;
            assert_eq!(body["field"], field, "[{}] {url}", app.name);
            assert!(
                body["message"].as_str().is_some_and(|m| m.len() > 10),
                "{url}: {body}"
            );
        }
    }
}

/// Headers declaring a body of `len` bytes, and none of it: the answer must come anyway.
async fn too_large_request(base: &str, token: &str, len: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /api/v1/releases HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// Strings that break a query built by pasting text into SQL.
const INJECTIONS: &[&str] = &[
    "' OR '1'='1",
    "'; DROP TABLE records; --",
    "\" OR 1=1 --",
    "1) UNION SELECT ocid, compiled FROM records --",
    "%' AND 1=0 UNION SELECT name FROM sqlite_master --",
    "\\'; SELECT pg_sleep(5); --",
    "NEAR(a b) OR * ^ \"",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_injection_strings_are_just_text() {
    for app in spawn_apps("inject").await {
        let before = app.store.counts().await.expect("counts");
        for s in INJECTIONS {
            let v = tuwhera_web::segment(s);
            // Free-text parameters: searched for as text, found nowhere.
            for p in [
                "q", "buyer", "supplier", "org", "method", "status", "category",
            ] {
                let body = app
                    .api(
                        "/api/v1/processes",
                        &format!("/api/v1/processes?{p}={v}"),
                        200,
                    )
                    .await;
                assert_eq!(body["total"], 0, "[{}] {p}={s}", app.name);
            }
            let body = app
                .api(
                    "/api/v1/organisations",
                    &format!("/api/v1/organisations?q={v}"),
                    200,
                )
                .await;
            assert_eq!(
                body["results"],
                json!([]),
                "[{}] organisations q={s}",
                app.name
            );
            let body = app
                .api(
                    "/api/v1/organisations",
                    &format!("/api/v1/organisations?role={v}"),
                    200,
                )
                .await;
            assert_eq!(body["results"], json!([]));
            let body = app
                .api(
                    "/api/v1/quarantine",
                    &format!("/api/v1/quarantine?reason={v}"),
                    200,
                )
                .await;
            assert_eq!(body["total"], 0);
            // Parameters with a fixed form: refused as invalid, naming the parameter.
            for p in [
                "date_from",
                "date_to",
                "value_min",
                "value_max",
                "limit",
                "cursor",
            ] {
                let body = app
                    .api(
                        "/api/v1/processes",
                        &format!("/api/v1/processes?{p}={v}"),
                        400,
                    )
                    .await;
                assert_eq!(body["field"], p);
            }
            // Path parameters: simply not found.
            app.api(
                "/api/v1/processes/{ocid}",
                &format!("/api/v1/processes/{v}"),
                404,
            )
            .await;
            app.api(
                "/api/v1/organisations/{id}",
                &format!("/api/v1/organisations/{v}"),
                404,
            )
            .await;
            // Pages too.
            let r = app.get(&format!("/procurement?q={v}")).await;
            assert_eq!(r.status().as_u16(), 200);
        }
        assert_eq!(
            app.store.counts().await.expect("counts"),
            before,
            "nothing changed"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_needs_a_token_for_the_prefix() {
    for app in spawn_apps("publish").await {
        let token = app
            .store
            .create_token("Ministry of Tests", "ocds-abc123")
            .await
            .expect("token");
        let package = |ocid: &str| {
            json!({"uri": "https://example.govt.nz/p/1", "version": "1.1", "publishedDate": "2026-01-01T00:00:00Z",
                "publisher": {"name": "Ministry of Tests"}, "releases": [
                {"ocid": ocid, "id": "r1", "date": "2026-01-01T00:00:00Z", "tag": ["tender"],
                 "initiationType": "tender", "buyer": {"id": "NZ-GOVT-1", "name": "Ministry of Tests"},
                 "parties": [{"id": "NZ-GOVT-1", "name": "Ministry of Tests", "roles": ["buyer"]}],
                 "tender": {"id": "t1", "title": "Published through the API", "status": "active"}}]})
        };
        let url = format!("{}/api/v1/releases", app.base);
        let before = app.store.counts().await.expect("counts");

        // No token: 401 with a Bearer challenge.
        let r = app
            .client
            .post(&url)
            .json(&package("ocds-abc123-1"))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status().as_u16(), 401);
        assert!(r.headers().get("www-authenticate").is_some());
        let body: Value = r.json().await.expect("json");
        app.conforms("/api/v1/releases", "post", 401, &body);
        // A wrong token: 401.
        let r = app
            .client
            .post(&url)
            .bearer_auth("tuw_000000000000_0000")
            .json(&package("ocds-abc123-1"))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status().as_u16(), 401);
        // A real token outside its prefix: 403, and nothing stored.
        let r = app
            .client
            .post(&url)
            .bearer_auth(&token.token)
            .json(&package("ocds-other1-1"))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status().as_u16(), 403);
        let body: Value = r.json().await.expect("json");
        app.conforms("/api/v1/releases", "post", 403, &body);
        assert!(body["message"]
            .as_str()
            .is_some_and(|m| m.contains("ocds-other1-1")));
        // A longer prefix is another publisher's, even though it starts the same.
        let r = app
            .client
            .post(&url)
            .bearer_auth(&token.token)
            .json(&package("ocds-abc1234-1"))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status().as_u16(), 403);
        assert_eq!(app.store.counts().await.expect("counts"), before);
        // The wrong method: a JSON error too.
        let r = app.get("/api/v1/releases").await;
        assert_eq!(r.status().as_u16(), 405);
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["error"], "method-not-allowed");
        // Not a package: 400.
        let r = app
            .client
            .post(&url)
            .bearer_auth(&token.token)
            .body("{\"ocid\": \"ocds-abc123-1\"")
            .send()
            .await
            .expect("post");
        assert_eq!(r.status().as_u16(), 400);
        // Over the body limit (1 MiB in these tests): 413 as soon as the length is declared,
        // without reading the body (sent by hand: a client library would fail writing it).
        let raw = too_large_request(&app.base, &token.token, 2 * 1024 * 1024).await;
        assert!(raw.starts_with("HTTP/1.1 413"), "{raw}");
        assert!(raw.contains("\"too-large\""), "{raw}");
        // Chunked, with no declared length: refused when the limit is crossed.
        let big = format!(
            "{{\"releases\": [], \"pad\": \"{}\"}}",
            "x".repeat(2 * 1024 * 1024)
        );
        let stream = futures_util::stream::iter(
            big.into_bytes()
                .chunks(64 * 1024)
                .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
                .collect::<Vec<_>>(),
        );
        let r = app
            .client
            .post(&url)
            .bearer_auth(&token.token)
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await;
        if let Ok(r) = r {
            assert_eq!(r.status().as_u16(), 413);
        }
        assert_eq!(app.store.counts().await.expect("counts"), before);
        // The right token and prefix: stored, compiled, searchable.
        let r = app
            .client
            .post(&url)
            .bearer_auth(&token.token)
            .json(&package("ocds-abc123-1"))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status().as_u16(), 200);
        let body: Value = r.json().await.expect("json");
        app.conforms("/api/v1/releases", "post", 200, &body);
        assert_eq!(
            (body["new"].as_u64(), body["compiled"].as_u64()),
            (Some(1), Some(1))
        );
        let p = app
            .api(
                "/api/v1/processes/{ocid}",
                "/api/v1/processes/ocds-abc123-1",
                200,
            )
            .await;
        assert_eq!(p["summary"]["title"], "Published through the API");
        assert!(
            p["releases"][0]["source_file"]
                .as_str()
                .is_some_and(|s| s.contains("Ministry of Tests")),
            "who published is recorded"
        );
        // The same again changes nothing.
        let r = app
            .client
            .post(&url)
            .bearer_auth(&token.token)
            .json(&package("ocds-abc123-1"))
            .send()
            .await
            .expect("post");
        let body: Value = r.json().await.expect("json");
        assert_eq!(
            (body["new"].as_u64(), body["unchanged"].as_u64()),
            (Some(0), Some(1))
        );
        // What cannot be kept is held, and the answer says which item and why.
        let mut bad = package("ocds-abc123-2");
        bad["releases"][0]
            .as_object_mut()
            .expect("release")
            .remove("date");
        let r = app
            .client
            .post(&url)
            .bearer_auth(&token.token)
            .json(&bad)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status().as_u16(), 200);
        let body: Value = r.json().await.expect("json");
        app.conforms("/api/v1/releases", "post", 200, &body);
        assert_eq!(body["quarantined"], 1);
        assert_eq!(body["held"][0]["reason"], "no-date");
        assert_eq!(body["held"][0]["ocid"], "ocds-abc123-2");
        // A revoked token is refused.
        assert!(app
            .store
            .revoke_token(&token.info.token_id)
            .await
            .expect("revoke"));
        let r = app
            .client
            .post(&url)
            .bearer_auth(&token.token)
            .json(&package("ocds-abc123-2"))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status().as_u16(), 401);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_carry_security_headers() {
    for app in spawn_apps("headers").await {
        for path in [
            "/",
            "/procurement",
            "/api/v1/processes",
            "/api/openapi.json",
            "/nowhere",
        ] {
            let r = app.get(path).await;
            let h = r.headers();
            let csp = h
                .get("content-security-policy")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
            assert!(csp.contains("frame-ancestors 'none'"), "{path}");
            assert_eq!(
                h.get("x-content-type-options").map(|v| v.as_bytes()),
                Some(&b"nosniff"[..]),
                "{path}"
            );
            assert!(h.get("referrer-policy").is_some(), "{path}");
            assert!(h.get("x-request-id").is_some(), "{path}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_stream_everything_with_etags() {
    for app in spawn_apps("downloads").await {
        let [releases, _, records, _] = app.store.counts().await.expect("counts");
        let r = app.get("/api/v1/downloads/releases.jsonl").await;
        assert_eq!(r.status().as_u16(), 200);
        let etag = r
            .headers()
            .get("etag")
            .expect("etag")
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(r.headers().get("cache-control").is_some());
        let text = r.text().await.expect("body");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.len() as i64,
            releases,
            "[{}] one line per release",
            app.name
        );
        for l in &lines {
            let v: Value = serde_json::from_str(l).expect("each line is JSON");
            assert!(v["ocid"].is_string());
        }
        // The same version again: 304, no body.
        let r = app
            .client
            .get(format!("{}/api/v1/downloads/releases.jsonl", app.base))
            .header("if-none-match", &etag)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status().as_u16(), 304);

        let text = app
            .get("/api/v1/downloads/compiled-releases.jsonl")
            .await
            .text()
            .await
            .expect("body");
        assert_eq!(text.lines().count() as i64, records);
        let package: Value = app
            .get("/api/v1/downloads/record-package.json")
            .await
            .json()
            .await
            .expect("JSON");
        let recs = package["records"].as_array().expect("records");
        assert_eq!(recs.len() as i64, records);
        let with_releases: usize = recs
            .iter()
            .map(|r| r["releases"].as_array().map_or(0, Vec::len))
            .sum();
        assert_eq!(with_releases as i64, releases);

        let r = app.get("/api/v1/downloads/flattened.zip").await;
        assert_eq!(r.status().as_u16(), 200);
        let bytes = r.bytes().await.expect("zip");
        assert_eq!(&bytes[..2], b"PK", "a zip file");
        let mut zip =
            zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("zip opens");
        let mut main = zip.by_name("releases.csv").expect("main table");
        let mut text = String::new();
        std::io::Read::read_to_string(&mut main, &mut text).expect("csv");
        // One row per compiled release (fields may hold line breaks: count CSV records, not lines).
        let rows = csv::Reader::from_reader(text.as_bytes()).records().count();
        assert_eq!(rows as i64, records, "[{}]", app.name);

        // After new data, the ETag changes.
        let token = app
            .store
            .create_token("T", "ocds-abc123")
            .await
            .expect("token");
        let package = json!({"uri": "x", "version": "1.1", "publishedDate": "2026-01-01T00:00:00Z",
            "publisher": {"name": "T"}, "releases": [{"ocid": "ocds-abc123-9", "id": "1", "date": "2026-01-01T00:00:00Z",
            "tag": ["planning"], "initiationType": "tender"}]});
        app.client
            .post(format!("{}/api/v1/releases", app.base))
            .bearer_auth(&token.token)
            .json(&package)
            .send()
            .await
            .expect("post");
        let r = app.get("/api/v1/downloads/releases.jsonl").await;
        assert_ne!(
            r.headers().get("etag").and_then(|v| v.to_str().ok()),
            Some(etag.as_str())
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_covers_every_endpoint() {
    let apps = spawn_apps("openapi").await;
    let app = &apps[0];
    let served: Value = app
        .get("/api/openapi.json")
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(served, app.doc);
    assert!(served["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.")));
    let paths: Vec<&String> = served["paths"].as_object().expect("paths").keys().collect();
    for p in [
        "/api/v1/processes",
        "/api/v1/processes/{ocid}",
        "/api/v1/processes/{ocid}/versioned",
        "/api/v1/processes/{ocid}/releases",
        "/api/v1/organisations",
        "/api/v1/organisations/{id}",
        "/api/v1/quarantine",
        "/api/v1/quarantine/{content_hash}",
        "/api/v1/releases",
        "/api/v1/downloads",
        "/api/v1/downloads/releases.jsonl",
        "/api/v1/downloads/compiled-releases.jsonl",
        "/api/v1/downloads/record-package.json",
        "/api/v1/downloads/flattened.zip",
        "/healthz",
        "/readyz",
        "/api/v1/flags",
        "/api/v1/flags/indicators",
        "/api/v1/processes/{ocid}/flags",
        "/api/v1/compliance",
        "/api/v1/compliance/{agency}",
        "/api/v1/quality",
        "/api/v1/quality/{publisher}",
        "/api/v1/dashboards",
        "/api/v1/ownership",
        "/api/v1/ownership/records/{id}",
        "/api/v1/ownership/entities/{id}",
        "/api/v1/ownership/people/{id}",
        "/api/v1/ownership/organisations/{org_id}",
        "/api/v1/ownership/quarantine",
        "/api/v1/downloads/statements.jsonl",
        "/api/v1/statements",
        "/api/v1/plan",
        "/api/v1/plan/schema.json",
        "/api/v1/plan/versions",
        "/api/v1/plan/commitments",
        "/api/v1/plan/commitments/{n}",
        "/api/v1/plan/commitments/{n}/history",
        "/api/v1/plan/commitments/{n}/diff",
        "/api/v1/plan/commitments/{n}/progress/{period}",
        "/api/v1/plan/commitments/{n}/questions",
        "/api/v1/plan/questions",
        "/api/v1/plan/moderation",
        "/api/v1/plan/questions/{id}/moderation",
        "/api/v1/plan/questions/{id}/answer",
        "/api/v1/plan/reports/{period}",
    ] {
        assert!(
            paths.iter().any(|k| k.as_str() == p),
            "{p} is not documented"
        );
    }
    // Every documented GET without path parameters or a token answers with its documented 200.
    for p in &paths {
        let get = &served["paths"][p.as_str()]["get"];
        if p.contains('{') || get.is_null() || !get["security"].is_null() {
            continue;
        }
        let r = app.get(p).await;
        assert_eq!(r.status().as_u16(), 200, "{p}");
    }
}

/// The risk endpoints: the flag list, each process's flags with reasons, the
/// Procurement Rules rates and findings, data quality and the dashboards, each
/// body checked against the OpenAPI document.
#[tokio::test(flavor = "multi_thread")]
async fn risk_endpoints_answer_as_documented() {
    for app in spawn_apps("risk").await {
        let list = app.api("/api/v1/flags", "/api/v1/flags?limit=5", 200).await;
        assert!(list["notice"].as_str().is_some_and(|n| n.contains("not")));
        assert!(list["total"].as_i64().unwrap_or(0) > 5);
        let counts: Vec<i64> = list["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| r["flag_count"].as_i64().expect("count"))
            .collect();
        assert!(
            counts.windows(2).all(|w| w[0] >= w[1]),
            "most flags first: {counts:?}"
        );
        // Paging the R003 list visits each flagged process once, every one flagged R003.
        let mut seen = std::collections::BTreeSet::new();
        let mut next = Some("/api/v1/flags?code=R003&limit=100".to_string());
        let mut total = 0;
        while let Some(path) = next {
            let page = app.api("/api/v1/flags", &path, 200).await;
            total = page["total"].as_i64().expect("total");
            for r in page["results"].as_array().expect("results") {
                assert!(r["codes"]
                    .as_array()
                    .expect("codes")
                    .iter()
                    .any(|c| c == "R003"));
                assert!(
                    seen.insert(r["ocid"].as_str().expect("ocid").to_string()),
                    "repeated"
                );
            }
            next = page["next"].as_str().map(String::from);
        }
        assert_eq!(seen.len() as i64, total);
        let ocid = seen.iter().next().expect("a flagged process").clone();
        let flags = app
            .api(
                "/api/v1/processes/{ocid}/flags",
                &format!("/api/v1/processes/{}/flags", tuwhera_web::segment(&ocid)),
                200,
            )
            .await;
        let r003 = flags["flags"]
            .as_array()
            .expect("flags")
            .iter()
            .find(|f| f["code"] == "R003")
            .expect("its R003 flag");
        assert!(
            r003["reason"]
                .as_str()
                .is_some_and(|r| r.contains("threshold of 15 days")),
            "{r003}"
        );
        app.api(
            "/api/v1/processes/{ocid}/flags",
            "/api/v1/processes/ocds-none-x/flags",
            404,
        )
        .await;
        let indicators = app
            .api("/api/v1/flags/indicators", "/api/v1/flags/indicators", 200)
            .await;
        assert_eq!(
            indicators.as_array().expect("list").len(),
            tuwhera_flags::INDICATORS.len() + tuwhera_flags::OWNERSHIP_INDICATORS.len()
        );
        app.api("/api/v1/flags", "/api/v1/flags?code=R999", 400)
            .await;
        app.api("/api/v1/flags", "/api/v1/flags?date_from=yesterday", 400)
            .await;

        let rates = app
            .api("/api/v1/compliance", "/api/v1/compliance", 200)
            .await;
        let first = &rates.as_array().expect("rates")[0];
        let agency = first["buyer_id"].as_str().expect("agency");
        let findings = app
            .api(
                "/api/v1/compliance/{agency}",
                &format!("/api/v1/compliance/{}", tuwhera_web::segment(agency)),
                200,
            )
            .await;
        assert!(findings["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f["rule"].as_str().is_some_and(|r| r.starts_with("Rule "))));
        app.api(
            "/api/v1/compliance/{agency}",
            "/api/v1/compliance/NZ-NZBN-0",
            404,
        )
        .await;

        let quality = app.api("/api/v1/quality", "/api/v1/quality", 200).await;
        assert!(quality.as_array().expect("publishers").len() >= 4);
        app.api(
            "/api/v1/quality/{publisher}",
            "/api/v1/quality/ocds-6550wx",
            200,
        )
        .await;
        app.api(
            "/api/v1/quality/{publisher}",
            "/api/v1/quality/ocds-nobody",
            404,
        )
        .await;

        let dash = app
            .api("/api/v1/dashboards", "/api/v1/dashboards", 200)
            .await;
        assert!(dash["spend_by_month"]
            .as_array()
            .is_some_and(|s| !s.is_empty()));
        app.api("/api/v1/dashboards", "/api/v1/dashboards?currency=nz", 400)
            .await;
        let nzd = app
            .api("/api/v1/dashboards", "/api/v1/dashboards?currency=NZD", 200)
            .await;
        assert_eq!(nzd["currency"], "NZD");
        let csv = app.get("/dashboards/top-buyers.csv?currency=NZD").await;
        assert_eq!(csv.status().as_u16(), 200);
        let text = csv.text().await.expect("csv");
        assert!(
            text.lines().count() > 1 && text.contains("Ministry"),
            "{text}"
        );
    }
}

/// The register's sample: the real UK PSC + GLEIF statements and the SYNTHETIC
/// NZ companies, with the releases that name them as suppliers.
fn register_apps(test: &str) -> impl std::future::Future<Output = Vec<App>> + '_ {
    let ocds = vec![
        repo().join("data/ocds/synthetic-nz/releases.jsonl"),
        repo().join("data/linked/ocds-synthetic-suppliers.jsonl"),
    ];
    let bods = [
        repo().join("data/bods/uk-psc-gleif-bods04/all_demo.jsonl"),
        repo().join("data/linked/bods-synthetic-nz.jsonl"),
    ];
    async move { spawn_apps_with(test, ocds, &bods).await }
}

/// Values the register holds but must never publish: full birth dates, home
/// addresses, tax and identity numbers of everyone, and every name of the
/// protected person.
fn restricted_values(protected: &str) -> Vec<String> {
    let mut out = Vec::new();
    for f in [
        "data/bods/uk-psc-gleif-bods04/all_demo.jsonl",
        "data/linked/bods-synthetic-nz.jsonl",
    ] {
        let text = std::fs::read_to_string(repo().join(f)).expect("statements");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let s: Value = serde_json::from_str(line).expect("statement");
            if s["recordType"] != "person" {
                continue;
            }
            let d = &s["recordDetails"];
            if let Some(b) = d["birthDate"].as_str().filter(|b| b.len() == 10) {
                out.push(b.to_owned());
            }
            for a in d["addresses"].as_array().into_iter().flatten() {
                if a["type"] != "service" {
                    if let Some(text) = a["address"].as_str() {
                        out.push(text.to_owned());
                    }
                }
            }
            for i in d["identifiers"].as_array().into_iter().flatten() {
                if tuwhera_bods::privacy::is_restricted_identifier(i) {
                    if let Some(id) = i["id"].as_str() {
                        out.push(id.to_owned());
                    }
                }
            }
            if s["recordId"] == protected {
                for n in d["names"].as_array().into_iter().flatten() {
                    for k in ["fullName", "givenName", "familyName"] {
                        if let Some(v) = n[k].as_str() {
                            out.push(v.to_owned());
                        }
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Every public endpoint and download of the register, walked for every record:
/// no restricted value appears in any body, every statement published is in its
/// public form, and the JSON answers match the OpenAPI document.
#[tokio::test(flavor = "multi_thread")]
async fn no_restricted_field_leaves_the_register() {
    const PROTECTED: &str = "NZ-SYNTH-PER-P4";
    let restricted = restricted_values(PROTECTED);
    assert!(
        restricted.iter().any(|v| v == "1990-05-21")
            && restricted.iter().any(|v| v.contains("Kiri")),
        "the walk knows what to look for: {restricted:?}"
    );
    for app in register_apps("privacy").await {
        app.store
            .bods_protect(PROTECTED, "test: protection granted")
            .await
            .expect("protect");
        app.store.bods_resolve(false).await.expect("resolve");
        app.store.refresh_risk(false).await.expect("flags");

        let check = |path: &str, body: &str| {
            for v in &restricted {
                assert!(
                    !body.contains(v.as_str()),
                    "[{}] {path} shows the restricted value {v:?}",
                    app.name
                );
            }
            for key in ["taxResidencies", "\"residence\"", "NZ-IRD"] {
                assert!(!body.contains(key), "[{}] {path} has {key}", app.name);
            }
        };
        let mut paths: Vec<String> = vec![
            "/ownership".into(),
            "/ownership?q=synthetic".into(),
            "/api/v1/ownership?q=synthetic&limit=100".into(),
            "/api/v1/ownership/quarantine".into(),
            "/risk".into(),
            "/api/v1/flags?limit=100".into(),
        ];
        // Every record of the register, through every page and endpoint that shows one.
        let download = app.get("/api/v1/downloads/statements.jsonl").await;
        assert_eq!(download.status().as_u16(), 200);
        let tag = download
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .expect("an ETag");
        let text = download.text().await.expect("download");
        check("/api/v1/downloads/statements.jsonl", &text);
        let mut records = std::collections::BTreeMap::new();
        let mut statements = 0;
        for line in text.lines() {
            let s: Value = serde_json::from_str(line).expect("a statement per line");
            assert!(
                tuwhera_bods::privacy::restricted_paths(&s).is_empty(),
                "{s}"
            );
            statements += 1;
            records.insert(
                s["recordId"].as_str().expect("recordId").to_owned(),
                s["recordType"].as_str().expect("recordType").to_owned(),
            );
        }
        assert_eq!(
            statements,
            app.store.bods_counts().await.expect("counts").statements
        );
        let again = app
            .client
            .get(format!("{}/api/v1/downloads/statements.jsonl", app.base))
            .header("If-None-Match", &tag)
            .send()
            .await
            .expect("request");
        assert_eq!(again.status().as_u16(), 304);
        for (id, kind) in &records {
            let seg = tuwhera_web::segment(id);
            paths.push(format!("/api/v1/ownership/records/{seg}"));
            match kind.as_str() {
                "entity" => {
                    paths.push(format!("/ownership/entities/{seg}"));
                    paths.push(format!("/ownership/entities/{seg}/graph.svg"));
                    paths.push(format!("/api/v1/ownership/entities/{seg}"));
                }
                "person" => {
                    paths.push(format!("/ownership/people/{seg}"));
                    paths.push(format!("/api/v1/ownership/people/{seg}"));
                }
                _ => {}
            }
        }
        for org in [
            "NZ-NZBN-9429007700019",
            "NZ-NZBN-9429007700026",
            "GB-COH-00184594",
        ] {
            paths.push(format!("/organisations/{org}"));
            paths.push(format!("/api/v1/ownership/organisations/{org}"));
        }
        for path in &paths {
            let r = app.get(path).await;
            assert_eq!(r.status().as_u16(), 200, "[{}] {path}", app.name);
            let body = r.text().await.expect("body");
            check(path, &body);
            if path.starts_with("/api/v1/ownership/records/") {
                let statements: Value = serde_json::from_str(&body).expect("JSON");
                for s in statements.as_array().expect("an array of statements") {
                    assert!(tuwhera_bods::privacy::restricted_paths(s).is_empty(), "{s}");
                }
            }
        }
        // A search for the protected person's name finds nothing (the search page echoes
        // the words asked, so it is checked through the API).
        let found = app
            .api("/api/v1/ownership", "/api/v1/ownership?q=Kiri", 200)
            .await;
        assert_eq!(found["results"], json!([]), "[{}]", app.name);
        // The protected person is there, as protected: never by name.
        let person = app
            .api(
                "/api/v1/ownership/people/{id}",
                &format!("/api/v1/ownership/people/{PROTECTED}"),
                200,
            )
            .await;
        assert_eq!(person["record"]["withheld_reason"], "protected");
        let page = app
            .get(&format!("/ownership/people/{PROTECTED}"))
            .await
            .text()
            .await
            .expect("page");
        assert!(page.contains("Protected person"));
    }
}

/// Search by name and identifier, an entity with its chain of owners and its
/// contracts, a person with the contracts of what they own, the ownership flags
/// in the risk list, and publishing with a bods:write token.
#[tokio::test(flavor = "multi_thread")]
async fn ownership_endpoints_answer_as_documented() {
    for app in register_apps("ownership").await {
        // Identifiers: an NZBN, a company number, SCHEME-ID, an LEI.
        for (q, id) in [
            ("9429007700019", "NZ-NZBN-9429007700019"),
            ("NZ-NZBN-9429007700019", "NZ-NZBN-9429007700019"),
            ("gb-coh-00184594", "GB-COH-00184594"),
            ("00184594", "GB-COH-00184594"),
            ("4OFD47D73QFJ1T1MOF29", "XI-LEI-4OFD47D73QFJ1T1MOF29"),
        ] {
            let found = app
                .api(
                    "/api/v1/ownership",
                    &format!("/api/v1/ownership?q={q}"),
                    200,
                )
                .await;
            assert!(
                found["results"]
                    .as_array()
                    .expect("results")
                    .iter()
                    .any(|r| r["record_id"] == id),
                "[{}] {q}: {found}",
                app.name
            );
        }
        let by_name = app
            .api(
                "/api/v1/ownership",
                "/api/v1/ownership?q=harbour%20freight&type=entity",
                200,
            )
            .await;
        assert_eq!(by_name["results"][0]["record_id"], "NZ-NZBN-9429007700019");
        app.api("/api/v1/ownership", "/api/v1/ownership?type=company", 400)
            .await;

        // A chain three deep with ranges, and the contract it won.
        let entity = app
            .api(
                "/api/v1/ownership/entities/{id}",
                "/api/v1/ownership/entities/NZ-NZBN-9429007700071",
                200,
            )
            .await;
        let owner = &entity["ultimate_owners"][0];
        assert_eq!(owner["owner_id"], "NZ-SYNTH-PER-P3");
        assert_eq!(owner["depth"], 3);
        assert_eq!(owner["share_min"], 9.375);
        assert_eq!(owner["share_max"], 37.5);
        assert_eq!(entity["contracts"][0]["ocid"], "ocds-synthnz-link-000006");
        app.api(
            "/api/v1/ownership/entities/{id}",
            "/api/v1/ownership/entities/NO-SUCH-RECORD",
            404,
        )
        .await;
        let person = app
            .api(
                "/api/v1/ownership/people/{id}",
                "/api/v1/ownership/people/NZ-SYNTH-PER-P2",
                200,
            )
            .await;
        assert_eq!(person["contracts"].as_array().expect("contracts").len(), 2);
        let org = app
            .api(
                "/api/v1/ownership/organisations/{org_id}",
                "/api/v1/ownership/organisations/NZ-NZBN-9429007700057",
                200,
            )
            .await;
        assert!(org["ultimate_owners"]
            .as_array()
            .expect("owners")
            .iter()
            .any(|o| o["kind"] == "unknown"));

        // The four ownership flags are in the risk list.
        for (code, subject) in [
            ("BO-SHARED-OWNER", "ocds-synthnz-link-000001"),
            ("BO-OWNER-SAME-BUYER", "ocds-synthnz-link-000002"),
            ("BO-HIDDEN-OWNER", "ocds-synthnz-link-000004"),
            ("BO-UNDECLARED", "ocds-synthnz-link-000005"),
        ] {
            let list = app
                .api("/api/v1/flags", &format!("/api/v1/flags?code={code}"), 200)
                .await;
            assert!(
                list["results"]
                    .as_array()
                    .expect("results")
                    .iter()
                    .any(|r| r["ocid"] == subject),
                "[{}] {code}: {list}",
                app.name
            );
        }

        // Publishing: no token 401; a token without bods:write 403; with it, kept once.
        let url = format!("{}/api/v1/statements", app.base);
        let entity = json!([{
            "statementId": "c0ffee00-0000-4000-8000-000000000001",
            "statementDate": "2025-02-03",
            "declarationSubject": "NZ-NZBN-9429009900001",
            "recordId": "NZ-NZBN-9429009900001",
            "recordType": "entity",
            "recordStatus": "new",
            "recordDetails": {
                "isComponent": false,
                "entityType": {"type": "registeredEntity"},
                "name": "Published Through The API Limited",
                "jurisdiction": {"name": "New Zealand", "code": "NZ"},
                "identifiers": [{"scheme": "NZ-NZBN", "id": "9429009900001"}]
            },
            "publicationDetails": {"publicationDate": "2025-02-03", "bodsVersion": "0.4",
                "publisher": {"name": "Companies Office"}}
        }]);
        let r = app
            .client
            .post(&url)
            .json(&entity)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status().as_u16(), 401);
        let ocds_only = app
            .store
            .create_token("Ministry of Tests", "ocds-abc123")
            .await
            .expect("token");
        let r = app
            .client
            .post(&url)
            .bearer_auth(&ocds_only.token)
            .json(&entity)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status().as_u16(), 403);
        let body: Value = r.json().await.expect("json");
        app.conforms("/api/v1/statements", "post", 403, &body);
        let writer = app
            .store
            .create_token_scoped("Companies Office", None, &["bods:write".to_owned()])
            .await
            .expect("token");
        for expected_new in [1, 0] {
            let r = app
                .client
                .post(&url)
                .bearer_auth(&writer.token)
                .json(&entity)
                .send()
                .await
                .expect("post");
            let status = r.status().as_u16();
            let body: Value = r.json().await.expect("json");
            assert_eq!(status, 200, "{body}");
            app.conforms("/api/v1/statements", "post", 200, &body);
            assert_eq!(body["new"], expected_new, "{body}");
        }
        let found = app
            .api(
                "/api/v1/ownership",
                "/api/v1/ownership?q=9429009900001",
                200,
            )
            .await;
        assert_eq!(
            found["results"][0]["name"],
            "Published Through The API Limited"
        );
        // A statement with a schema error is quarantined and named by path.
        let mut bad = entity.clone();
        bad[0]["statementId"] = "c0ffee00-0000-4000-8000-000000000002".into();
        bad[0]["recordDetails"]["entityType"]["type"] = "notAType".into();
        let r = app
            .client
            .post(&url)
            .bearer_auth(&writer.token)
            .json(&bad)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status().as_u16(), 422);
        let body: Value = r.json().await.expect("json");
        app.conforms("/api/v1/statements", "post", 422, &body);
        assert_eq!(body["quarantined"], 1);
        assert!(body["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["path"].as_str().is_some_and(|p| p.contains("entityType"))));
    }
}

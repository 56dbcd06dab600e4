//! The action plan over HTTP, on SQLite and on PostgreSQL: the plan as the home page, each
//! commitment's page against the report's own text, the report as HTML and PDF in the
//! report's order, agencies' updates (scoped tokens, sessions, CSRF, history, diffs), the
//! public's questions (moderation, answers, limits, the robots' trap, escaping), and every
//! page's JSON, CSV and Atom forms — each API body checked against the OpenAPI document.
//!
//! PostgreSQL comes from `TUWHERA_TEST_POSTGRES`, which `scripts/test.sh` sets.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use regex::Regex;
use serde_json::{json, Value};
use tuwhera_plan::{blocks, sections, Block, Plan};
use tuwhera_store::Store;
use tuwhera_web::{AppState, Config};
use utoipa::OpenApi;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn plan_file() -> Plan {
    let text = std::fs::read_to_string(repo().join("data/plan/nap4.json")).expect("nap4.json");
    Plan::from_json(&text).expect("nap4.json parses")
}

struct App {
    base: String,
    store: Store,
    client: reqwest::Client,
    doc: Value,
    name: &'static str,
    _dir: tempfile::TempDir,
}

/// A fresh database of each kind with the plan imported, each behind its own server.
async fn spawn_apps(test: &str, config: impl Fn() -> Config) -> Vec<App> {
    let mut urls = vec![("sqlite", None)];
    match std::env::var("TUWHERA_TEST_POSTGRES") {
        Ok(server) => {
            let admin = sqlx::PgPool::connect(&format!("{server}/postgres"))
                .await
                .expect("postgres server");
            let db = format!("p_{test}_{}", std::process::id());
            sqlx::query(&format!("DROP DATABASE IF EXISTS {db}"))
                .execute(&admin)
                .await
                .expect("drop");
            sqlx::query(&format!("CREATE DATABASE {db}"))
                .execute(&admin)
                .await
                .expect("create");
            urls.push(("postgres", Some(format!("{server}/{db}"))));
        }
        Err(_) => assert!(
            std::env::var_os("TUWHERA_SKIP_POSTGRES").is_some(),
            "TUWHERA_TEST_POSTGRES is not set: run the tests with scripts/test.sh, which starts PostgreSQL \
             (or set TUWHERA_SKIP_POSTGRES=1 to run against SQLite only)"
        ),
    }
    let mut apps = Vec::new();
    for (name, url) in urls {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = url.unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                dir.path().join(format!("{test}.db")).display()
            )
        });
        let store = Store::connect(&url).await.expect("connect");
        store
            .plan_import(&plan_file(), "nap4.json", "plan import")
            .await
            .expect("import");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = AppState::new(
            store.clone(),
            Config {
                cache_dir: dir.path().join("cache"),
                ..config()
            },
        );
        tokio::spawn(async move {
            let _ = tuwhera_web::serve(listener, state).await;
        });
        apps.push(App {
            base: format!("http://{addr}"),
            store,
            // Redirects are checked, not followed.
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            doc: serde_json::to_value(tuwhera_web::ApiDoc::openapi()).expect("doc"),
            name,
            _dir: dir,
        });
    }
    apps
}

impl App {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    async fn text(&self, path: &str, status: u16) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status().as_u16(), status, "[{}] GET {path}", self.name);
        r.text().await.expect("body")
    }

    /// GET `path`, check the status and the body against the OpenAPI document.
    async fn api(&self, template: &str, path: &str, status: u16) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status().as_u16(), status, "[{}] GET {path}", self.name);
        let body: Value = r.json().await.expect("JSON body");
        self.conforms(template, "get", status, &body);
        body
    }

    /// Send JSON with an optional token; check the status and the body against the document.
    async fn send(
        &self,
        method: reqwest::Method,
        template: &str,
        path: &str,
        token: Option<&str>,
        body: &Value,
        status: u16,
    ) -> Value {
        let mut request = self
            .client
            .request(method.clone(), self.url(path))
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let r = request.send().await.expect("request");
        assert_eq!(
            r.status().as_u16(),
            status,
            "[{}] {method} {path}",
            self.name
        );
        let body: Value = r.json().await.expect("JSON body");
        self.conforms(template, &method.as_str().to_lowercase(), status, &body);
        body
    }

    async fn form(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(fields).expect("form"));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("request")
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

/// A page's text as a reader sees it: tags out, entities decoded, whitespace squashed.
fn page_text(html: &str) -> String {
    let tags = Regex::new(r"(?s)<[^>]*>").expect("regex");
    let text = tags.replace_all(html, " ");
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&");
    squash(&text)
}

fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Finds each needle after the previous one; panics naming the first one out of order.
fn find_in_order(haystack: &str, needles: &[String]) {
    let mut from = 0;
    for needle in needles {
        match haystack[from..].find(needle.as_str()) {
            Some(at) => from += at + needle.len(),
            None => panic!(
                "{needle:?} not found after byte {from}; the text from there:\n{}",
                haystack
                    .get(from..(from + 600).min(haystack.len()))
                    .unwrap_or_default()
            ),
        }
    }
}

/// The seed report's "Progress in 2024" text per commitment, as sentences: the page headers
/// ("Commitment 6") and list markers left out, extraction's link artefacts made visible text
/// (as data/plan/README.md says the data does).
fn seed_progress_sentences() -> Vec<(u32, Vec<String>)> {
    let seed = std::fs::read_to_string(
        repo().join("crates/plan/tests/seed/nap4-progress-report-2024.txt"),
    )
    .expect("seed");
    let start = Regex::new(r"^Commitment (1|One|Two|Three|Four|Five|Six|Seven|Eight) [–-] ")
        .expect("regex");
    let page_header =
        Regex::new(r"^Commitment (\d|One|Two|Three|Four|Five|Six|Seven|Eight)$").expect("regex");
    let link = Regex::new(r"\[([^\]]*)\]\(#\)").expect("regex");
    let url = Regex::new(r"<(https?://[^>]+)>").expect("regex");
    let marker = Regex::new(r"^(- |\d{1,3}\. )").expect("regex");
    let mut out: Vec<(u32, Vec<String>)> = Vec::new();
    let mut in_progress = false;
    for line in seed.lines().map(str::trim) {
        if start.is_match(line) {
            out.push((out.len() as u32 + 1, Vec::new()));
            in_progress = false;
            continue;
        }
        if line.starts_with("Progress in 2024") {
            in_progress = true;
            continue;
        }
        if line.starts_with("Challenges")
            || line.starts_with("Next ")
            || line.starts_with("Comment") && !line.starts_with("Commitment")
        {
            in_progress = false;
            continue;
        }
        if !in_progress || line.is_empty() || page_header.is_match(line) {
            continue;
        }
        let line = link.replace_all(line, "$1");
        let line = url.replace_all(&line, "$1");
        let line = line.replace("\\(", "(").replace("\\)", ")");
        let line = marker.replace(&line, "").into_owned();
        if let Some((_, sentences)) = out.last_mut() {
            sentences.extend(
                line.split_inclusive(". ")
                    .map(str::trim)
                    .filter(|s| s.len() > 12)
                    .map(str::to_owned),
            );
        }
    }
    out
}

/// Acceptance 1: the home page lists the eight commitments with their lead agencies and
/// status; each commitment's page shows the 2024 progress exactly as the report words it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_is_the_home_page_and_each_commitment_shows_the_reports_words() {
    let plan = plan_file();
    let seed = seed_progress_sentences();
    assert_eq!(seed.len(), 8, "eight commitments in the seed");
    for app in spawn_apps("home", Config::default).await {
        let home = app.text("/", 200).await;
        let text = page_text(&home);
        assert!(text.contains("Fourth National Action Plan"), "{text}");
        assert_eq!(home.matches("class=\"commitment-card\"").count(), 8);
        let mut needles = Vec::new();
        for c in &plan.commitments {
            needles.push(format!("Commitment {}: {}", c.number, c.title));
            needles.push(format!("Lead agency {}", c.lead_agency));
            let status = match c.progress[0].status {
                Some(s) => format!("Status {} (2024 report)", s.label()),
                None => "Status Not stated in the 2024 report".to_owned(),
            };
            needles.push(status);
        }
        find_in_order(&text, &needles);
        // Each commitment leads to the module that delivers it, or says it is planned.
        for (n, href) in [(4, "/risk"), (5, "/ownership"), (6, "/procurement")] {
            let card = home
                .split(&format!("id=\"c{n}\""))
                .nth(1)
                .and_then(|rest| rest.split("</li>").next())
                .expect("card");
            assert!(
                card.contains(&format!("href=\"{href}\"")),
                "commitment {n}: {card}"
            );
        }
        assert_eq!(home.matches("Planned: not on this platform yet").count(), 5);
        assert!(
            text.contains("Creative Commons Attribution 4.0"),
            "licence on the page"
        );
        assert!(home.contains("href=\"/api/v1/plan/schema.json\""));
        assert!(home.contains("type=\"application/atom+xml\""));

        let mut compared = 0;
        for (n, sentences) in &seed {
            let page = page_text(&app.text(&format!("/commitments/{n}"), 200).await);
            assert!(
                !sentences.is_empty(),
                "commitment {n} has progress text in the seed"
            );
            for sentence in sentences {
                assert!(
                    page.contains(&squash(sentence)),
                    "[{}] commitment {n}: the report's sentence is not on the page: {sentence:?}",
                    app.name
                );
                compared += 1;
            }
            let c = plan.commitment(*n).expect("commitment");
            assert!(page.contains(&format!("Lead agency {}", c.lead_agency)));
        }
        assert!(compared >= 35, "{compared} sentences compared");
        // An unknown commitment is a 404 page, and its JSON a JSON 404.
        app.text("/commitments/9", 404).await;
        app.api(
            "/api/v1/plan/commitments/{n}",
            "/api/v1/plan/commitments/9",
            404,
        )
        .await;
    }
}

/// The text of a PDF as `pdftotext -layout` extracts it (CI must have pdftotext).
fn pdftotext(pdf: &[u8]) -> Option<String> {
    let child = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var_os("CI").is_none(),
                "pdftotext is missing (apt-get install -y poppler-utils); CI must run this test"
            );
            let _ = writeln!(std::io::stderr(), "SKIPPED: pdftotext not found");
            return None;
        }
        Err(e) => panic!("pdftotext: {e}"),
    };
    let mut stdin = child.stdin.take().expect("stdin");
    let bytes = pdf.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let output = child.wait_with_output().expect("pdftotext runs");
    writer.join().expect("writer").expect("write");
    assert!(output.status.success(), "pdftotext failed");
    Some(String::from_utf8(output.stdout).expect("UTF-8"))
}

/// Headings and key sentences of the 2024 report in its order, as a renderer sets them
/// (`bullet` before a list item).
fn report_needles(plan: &Plan, bullet: &str) -> Vec<String> {
    let mut needles = vec![
        "Fourth National Action Plan Progress Report August 2024".to_owned(),
        "Report on the Fourth National Action Plan Commitments under OGP".to_owned(),
    ];
    for section in sections(plan, "2024") {
        needles.push(section.heading());
        needles.push("Lead agency".to_owned());
        needles.push(squash(&section.lead_agency));
        for (heading, paragraphs) in section.parts("2024") {
            needles.push(heading);
            let first = match blocks(paragraphs)[0] {
                Block::Paragraph(t) => t.to_owned(),
                Block::Bullet(t) => format!("{bullet}{t}"),
                Block::Numbered(n, t) if bullet.is_empty() => {
                    let _ = n;
                    t.to_owned()
                }
                Block::Numbered(n, t) => format!("{n}. {t}"),
            };
            // The first sentence: whole words on a line (a long address gains a space in a PDF).
            let sentence = first.split_inclusive(". ").next().unwrap_or("").trim();
            if !sentence.contains("https://") {
                needles.push(squash(sentence));
            }
        }
    }
    needles.push("ogpnz@publicservice.govt.nz".to_owned());
    needles
}

/// Acceptance 2: the report as HTML and as PDF has every commitment's sections in the
/// report's order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_is_html_and_pdf_in_the_reports_order() {
    let plan = plan_file();
    let footer = Regex::new(r"(?m)^\s*Page \d+ of \d+\s*$").expect("regex");
    for app in spawn_apps("report", Config::default).await {
        let html = app.text("/report/2024", 200).await;
        assert!(html.contains("href=\"/report/2024.pdf\""));
        let css = app.text("/static/style.css", 200).await;
        assert!(css.contains("@media print"), "a printable stylesheet");
        assert!(css.contains(".report-commitment { break-before: page; }"));
        let text = page_text(&html);
        find_in_order(&text, &report_needles(&plan, ""));
        let headings: Vec<String> = (1..=8)
            .map(|n| format!("<h2 id=\"h-c{n}\">Commitment {n}: "))
            .collect();
        find_in_order(&html, &headings);
        assert_eq!(html.matches("<h3>Lead agency</h3>").count(), 8);

        let r = app.get("/report/2024.pdf").await;
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(
            r.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/pdf")
        );
        let pdf = r.bytes().await.expect("pdf");
        assert!(pdf.starts_with(b"%PDF-"));
        if let Some(extracted) = pdftotext(&pdf) {
            let text = squash(&footer.replace_all(&extracted, ""));
            find_in_order(&text, &report_needles(&plan, "• "));
            let headings: Vec<String> = (1..=8).map(|n| format!("Commitment {n}: ")).collect();
            find_in_order(&text, &headings);
        }
        // The JSON form has the same order; an unknown period is a 404.
        let json = app
            .api(
                "/api/v1/plan/reports/{period}",
                "/api/v1/plan/reports/2024",
                200,
            )
            .await;
        let numbers: Vec<u64> = json["sections"]
            .as_array()
            .expect("sections")
            .iter()
            .map(|s| s["number"].as_u64().expect("number"))
            .collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            app.get("/report/2024.json")
                .await
                .json::<Value>()
                .await
                .expect("json"),
            json
        );
        let csv = app.text("/report/2024.csv", 200).await;
        assert!(csv.starts_with("\u{feff}commitment,title,lead_agency,section,item,text\r\n"));
        app.text("/report/2019", 404).await;
        app.text("/report/2019.pdf", 404).await;
    }
}

/// Acceptance 3: an agency's token updates only its own commitments (403 otherwise, as
/// JSON); the history keeps both versions; the diff says exactly what changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agency_updates_only_its_commitment_and_every_version_is_kept() {
    let plan = plan_file();
    for app in spawn_apps("update", Config::default).await {
        let dia = app
            .store
            .create_token_scoped("Department of Internal Affairs", None, &["plan:3".into()])
            .await
            .expect("token");
        let path3 = "/api/v1/plan/commitments/3/progress/2024";
        let template = "/api/v1/plan/commitments/{n}/progress/{period}";
        let original = plan.commitment(3).expect("3").progress[0].clone();
        let mut body = serde_json::to_value(&original).expect("json");
        let new_text = "DIA continues to be unable to prioritise work on commitment 3. Work will resume in 2025.";
        body["progress"] = json!([new_text]);
        body["note"] = json!("Work resumed");

        // No token: 401. Another commitment: 403, nothing stored.
        let e = app
            .send(reqwest::Method::PUT, template, path3, None, &body, 401)
            .await;
        assert_eq!(e["error"], "unauthorized");
        let e = app
            .send(
                reqwest::Method::PUT,
                template,
                "/api/v1/plan/commitments/4/progress/2024",
                Some(&dia.token),
                &body,
                403,
            )
            .await;
        assert_eq!(e["error"], "forbidden");
        assert!(
            e["message"]
                .as_str()
                .is_some_and(|m| m.contains("plan:4") && m.contains("commitment 3")),
            "{e}"
        );
        assert_eq!(app.store.plan_history(4).await.expect("history").len(), 1);

        // Its own: version 2.
        let got = app
            .send(
                reqwest::Method::PUT,
                template,
                path3,
                Some(&dia.token),
                &body,
                200,
            )
            .await;
        assert_eq!(
            (got["version"].as_i64(), got["changed"].as_bool()),
            (Some(2), Some(true))
        );
        // The same again records nothing.
        let again = app
            .send(
                reqwest::Method::PUT,
                template,
                path3,
                Some(&dia.token),
                &body,
                200,
            )
            .await;
        assert_eq!(
            (again["version"].as_i64(), again["changed"].as_bool()),
            (Some(2), Some(false))
        );
        // Invalid: a status without its sentence names the field; an unknown field too.
        let mut bad = body.clone();
        bad["statusQuote"] = Value::Null;
        let e = app
            .send(
                reqwest::Method::PUT,
                template,
                path3,
                Some(&dia.token),
                &bad,
                400,
            )
            .await;
        assert_eq!(e["field"], "statusQuote", "{e}");
        let mut bad = body.clone();
        bad["progres"] = json!([]);
        let e = app
            .send(
                reqwest::Method::PUT,
                template,
                path3,
                Some(&dia.token),
                &bad,
                400,
            )
            .await;
        assert_eq!(e["field"], "progres", "{e}");
        // An update made on version 1 after version 2 exists: 412, nothing stored.
        let r = app
            .client
            .put(app.url(path3))
            .bearer_auth(&dia.token)
            .header("if-match", "\"v1\"")
            .json(&body)
            .send()
            .await
            .expect("put");
        assert_eq!(r.status().as_u16(), 412);
        let current = app.api(template, path3, 200).await;
        assert_eq!(current["version"], 2);

        // The history keeps both versions, with who and how.
        let history = app
            .api(
                "/api/v1/plan/commitments/{n}/history",
                "/api/v1/plan/commitments/3/history",
                200,
            )
            .await;
        let versions = history["versions"].as_array().expect("versions");
        assert_eq!(versions.len(), 2);
        assert_eq!(
            versions[0]["report"],
            serde_json::to_value(&original).expect("json")
        );
        assert_eq!(versions[1]["report"]["progress"], body["progress"]);
        assert_eq!(versions[1]["publisher"], "Department of Internal Affairs");
        assert_eq!(versions[1]["token_id"], dia.info.token_id.as_str());
        assert_eq!(versions[1]["via"], "API");
        assert_eq!(versions[1]["note"], "Work resumed");
        let page = app.text("/commitments/3/history", 200).await;
        assert!(page.contains("Work resumed") && page.contains("nap4.json"));

        // The diff: what was deleted and inserted, and nothing else.
        let diff = app
            .api(
                "/api/v1/plan/commitments/{n}/diff",
                "/api/v1/plan/commitments/3/diff?period=2024&from=1&to=2",
                200,
            )
            .await;
        let changes = diff["changes"].as_array().expect("changes");
        assert_eq!(changes.len(), 1, "{diff}");
        let change = &changes[0];
        assert_eq!(change["field"], "progress");
        let spell = |keep: &str| -> String {
            change["ops"]
                .as_array()
                .expect("ops")
                .iter()
                .filter(|op| op["kind"] == "equal" || op["kind"] == keep)
                .map(|op| op["text"].as_str().expect("text"))
                .collect()
        };
        assert_eq!(spell("delete"), original.progress[0]);
        assert_eq!(spell("insert"), new_text);
        let runs = |kind: &str| -> String {
            change["ops"]
                .as_array()
                .expect("ops")
                .iter()
                .filter(|op| op["kind"] == kind)
                .map(|op| op["text"].as_str().expect("text"))
                .collect::<Vec<_>>()
                .join("|")
        };
        assert_eq!(runs("delete").trim(), "resource and", "{diff}");
        assert!(
            runs("insert").contains("Work will resume in 2025."),
            "{diff}"
        );
        let html = app
            .text("/commitments/3/diff?period=2024&from=1&to=2", 200)
            .await;
        let marked = |tag: &str| -> Vec<String> {
            Regex::new(&format!("<{tag}>([^<]*)</{tag}>"))
                .expect("regex")
                .captures_iter(&html)
                .map(|c| c[1].trim().to_owned())
                .collect()
        };
        // The legend's own examples come first; then the change itself.
        assert_eq!(&marked("del")[1..], ["resource and"], "{html}");
        assert!(
            marked("ins")[1..]
                .iter()
                .any(|t| t.contains("Work will resume in 2025.")),
            "{html}"
        );
        assert_eq!(
            app.get("/commitments/3/diff.json?period=2024&from=1&to=2")
                .await
                .json::<Value>()
                .await
                .expect("json"),
            diff
        );
        // The plan as it stands, and its pages, show the update.
        let page = page_text(&app.text("/commitments/3", 200).await);
        assert!(page.contains("Work will resume in 2025."));
        let doc: Value = app.get("/api/v1/plan").await.json().await.expect("json");
        assert_eq!(
            doc["commitments"][2]["progress"][0]["progress"],
            body["progress"]
        );
        let feed = app.text("/feeds/plan.atom", 200).await;
        assert!(feed.contains(
            "Department of Internal Affairs updated the 2024 progress report (version 2)"
        ));
    }
}

/// The session cookie in a response's Set-Cookie, as a Cookie header value.
fn session_cookie(r: &reqwest::Response) -> String {
    let set = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("Set-Cookie")
        .to_owned();
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attribute), "{set} lacks {attribute}");
    }
    set.split(';').next().expect("name=value").to_owned()
}

fn hidden(html: &str, name: &str) -> String {
    let re = Regex::new(&format!(r#"name="{name}" value="([^"]*)""#)).expect("regex");
    re.captures(html)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| panic!("no hidden {name} in the page"))
}

/// Sign in with a token (a session, never the token, in a secure cookie), edit through the
/// form with its CSRF secret, and be refused another agency's commitment or a forged form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agency_signs_in_and_edits_through_the_form() {
    for app in spawn_apps("session", Config::default).await {
        let dia = app
            .store
            .create_token_scoped("Department of Internal Affairs", None, &["plan:3".into()])
            .await
            .expect("token");
        let procurement_only = app
            .store
            .create_token("Ministry of Tests", "ocds-abc123")
            .await
            .expect("token");
        let edit = "/commitments/3/progress/2024/edit";
        // Without a session: to the sign-in form, which says where to come back.
        let r = app.get(edit).await;
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(
            r.headers().get("location").and_then(|v| v.to_str().ok()),
            Some("/sign-in?next=%2Fcommitments%2F3%2Fprogress%2F2024%2Fedit")
        );
        let form = app
            .text(
                "/sign-in?next=%2Fcommitments%2F3%2Fprogress%2F2024%2Fedit",
                200,
            )
            .await;
        assert!(form.contains("type=\"password\" name=\"token\""));
        // A wrong token, and a token without a plan scope: refused, no cookie.
        for bad in ["tuw_nope", procurement_only.token.as_str()] {
            let r = app.form("/sign-in", &[("token", bad)], None).await;
            assert_eq!(r.status().as_u16(), 401, "[{}]", app.name);
            assert!(r.headers().get("set-cookie").is_none());
        }
        // Another site's post is refused even with a good token.
        let r = app
            .client
            .post(app.url("/sign-in"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "cross-site")
            .body(format!("token={}", dia.token))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status().as_u16(), 403);
        let r = app
            .form("/sign-in", &[("token", &dia.token), ("next", edit)], None)
            .await;
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(
            r.headers().get("location").and_then(|v| v.to_str().ok()),
            Some(edit)
        );
        let cookie = session_cookie(&r);
        assert!(
            !cookie.contains(&dia.token) && !cookie.contains(&dia.info.token_id),
            "the cookie holds a session id only"
        );

        let page = app
            .client
            .get(app.url(edit))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("get");
        assert_eq!(page.status().as_u16(), 200);
        let page = page.text().await.expect("html");
        assert!(page.contains(
            "DIA continues to be unable to resource and prioritise work on commitment 3."
        ));
        let csrf = hidden(&page, "csrf");
        assert_eq!(hidden(&page, "version"), "1");
        assert!(!page.contains(&dia.token));

        let fields = |csrf: &str| {
            vec![
                ("csrf", csrf.to_owned()),
                ("version", "1".to_owned()),
                ("status", "onTrack".to_owned()),
                ("statusQuote", "Work has resumed and is on track.".to_owned()),
                ("progress", "Work has resumed and is on track.\n\n- A first channel is live.\n- A second is planned.".to_owned()),
                ("challenges", "- Resourcing.".to_owned()),
                ("nextSteps", "- Publish the plan.".to_owned()),
                ("comment", String::new()),
                ("note", "Resumed".to_owned()),
            ]
        };
        // Without the CSRF secret, or with another: refused.
        for wrong in ["", "0000"] {
            let f = fields(wrong);
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = app.form(edit, &f, Some(&cookie)).await;
            assert_eq!(r.status().as_u16(), 403, "csrf {wrong:?}");
        }
        assert_eq!(app.store.plan_history(3).await.expect("history").len(), 1);
        // A status without its sentence: the form again, with the error and the text kept.
        let mut f = fields(&csrf);
        f[3].1 = String::new();
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app.form(edit, &f, Some(&cookie)).await;
        assert_eq!(r.status().as_u16(), 400);
        let again = r.text().await.expect("html");
        assert!(
            again.contains("With a status, give the report&#39;s sentence for it.")
                || again.contains("With a status, give the report's sentence for it."),
            "{again}"
        );
        assert!(again.contains("A first channel is live."));
        // Saved: a new version, and the diff of it.
        let f = fields(&csrf);
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app.form(edit, &f, Some(&cookie)).await;
        assert_eq!(r.status().as_u16(), 303);
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("location")
            .to_owned();
        assert_eq!(location, "/commitments/3/diff?period=2024&from=1&to=2");
        let history = app.store.plan_history(3).await.expect("history");
        assert_eq!(history.len(), 2);
        let saved = &history[1];
        assert_eq!(saved.via, "web form");
        assert_eq!(saved.report.status, Some(tuwhera_plan::Status::OnTrack));
        assert_eq!(
            saved.report.progress,
            [
                "Work has resumed and is on track.",
                "- A first channel is live.",
                "- A second is planned."
            ]
        );
        // The same form again (made on version 1) is a conflict now.
        let r = app.form(edit, &f, Some(&cookie)).await;
        assert_eq!(r.status().as_u16(), 409);
        // Another agency's commitment: 403 for the page and the post.
        let r = app
            .client
            .get(app.url("/commitments/4/progress/2024/edit"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status().as_u16(), 403);
        let r = app
            .form("/commitments/4/progress/2024/edit", &f, Some(&cookie))
            .await;
        assert_eq!(r.status().as_u16(), 403);
        assert_eq!(app.store.plan_history(4).await.expect("history").len(), 1);
        // Signing out ends the session.
        let r = app
            .form("/sign-out", &[("csrf", &csrf)], Some(&cookie))
            .await;
        assert_eq!(r.status().as_u16(), 303);
        let r = app
            .client
            .get(app.url(edit))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("get");
        assert_eq!(
            r.status().as_u16(),
            303,
            "signed out: to the sign-in form again"
        );
    }
}

/// Acceptance 4: a question is not public until moderated, then public with its answer on
/// the page, in the JSON and in the feed; bad and excess submissions are refused clearly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_is_moderated_answered_and_published_everywhere() {
    for app in spawn_apps("questions", Config::default).await {
        let template = "/api/v1/plan/commitments/{n}/questions";
        let path = "/api/v1/plan/commitments/6/questions";
        let text = "When will the 2025 procurement data be published?";
        let got = app
            .send(
                reqwest::Method::POST,
                template,
                path,
                None,
                &json!({"question": text, "name": "Aroha"}),
                202,
            )
            .await;
        assert_eq!(got["status"], "pending");
        let id = got["id"].as_str().expect("id").to_owned();
        // Not public yet: not on the page, in the JSON or in the feed.
        assert!(!app.text("/commitments/6", 200).await.contains(text));
        let json = app
            .api(
                "/api/v1/plan/commitments/{n}",
                "/api/v1/plan/commitments/6",
                200,
            )
            .await;
        assert_eq!(json["questions"], json!([]));
        assert_eq!(json["questions_pending"], 1);
        assert!(!app.text("/feeds/plan.atom", 200).await.contains(text));
        assert_eq!(
            app.api("/api/v1/plan/questions", "/api/v1/plan/questions", 200)
                .await,
            json!([])
        );

        // Moderation: a token for another commitment may not; plan:moderate may.
        let token = |scope: &'static str| {
            let store = app.store.clone();
            async move {
                store
                    .create_token_scoped("Agency", None, &[scope.to_owned()])
                    .await
                    .expect("token")
                    .token
            }
        };
        let moderator = token("plan:moderate").await;
        let mbie = token("plan:6").await;
        let other = token("plan:4").await;
        let queue = app
            .client
            .get(app.url("/api/v1/plan/moderation"))
            .bearer_auth(&moderator)
            .send()
            .await
            .expect("get");
        assert_eq!(queue.status().as_u16(), 200);
        let queue: Value = queue.json().await.expect("json");
        app.conforms("/api/v1/plan/moderation", "get", 200, &queue);
        assert_eq!(queue[0]["id"], id.as_str());
        app.api("/api/v1/plan/moderation", "/api/v1/plan/moderation", 401)
            .await;
        let moderation = "/api/v1/plan/questions/{id}/moderation";
        let mpath = format!("/api/v1/plan/questions/{id}/moderation");
        app.send(
            reqwest::Method::POST,
            moderation,
            &mpath,
            Some(&other),
            &json!({"decision": "publish"}),
            403,
        )
        .await;
        app.send(
            reqwest::Method::POST,
            moderation,
            &mpath,
            Some(&moderator),
            &json!({"decision": "maybe"}),
            400,
        )
        .await;
        let published = app
            .send(
                reqwest::Method::POST,
                moderation,
                &mpath,
                Some(&moderator),
                &json!({"decision": "publish"}),
                200,
            )
            .await;
        assert_eq!(published["status"], "published");
        let page = app.text("/commitments/6", 200).await;
        assert!(page.contains(text) && page.contains("Asked by Aroha"));
        assert!(
            page_text(&page).contains("Waiting for an answer from Government Procurement and Property, Ministry of Business, Innovation and Employment."),
            "{}",
            page_text(&page)
        );

        // The answer: only the lead agency's token.
        let answer = "In March 2025, on this platform and on data.govt.nz.";
        let atemplate = "/api/v1/plan/questions/{id}/answer";
        let apath = format!("/api/v1/plan/questions/{id}/answer");
        app.send(
            reqwest::Method::PUT,
            atemplate,
            &apath,
            Some(&moderator),
            &json!({"answer": answer}),
            403,
        )
        .await;
        let answered = app
            .send(
                reqwest::Method::PUT,
                atemplate,
                &apath,
                Some(&mbie),
                &json!({"answer": answer}),
                200,
            )
            .await;
        assert_eq!(answered["answer"], answer);

        // Public everywhere: the page, the JSON (page and API), the CSV and the feed.
        let page = app.text("/commitments/6", 200).await;
        assert!(page.contains(text) && page.contains(answer));
        let json = app
            .api(
                "/api/v1/plan/commitments/{n}",
                "/api/v1/plan/commitments/6",
                200,
            )
            .await;
        assert_eq!(json["questions"][0]["question"], text);
        assert_eq!(json["questions"][0]["answer"], answer);
        assert_eq!(json["questions"][0]["name"], "Aroha");
        assert_eq!(
            app.get("/commitments/6.json")
                .await
                .json::<Value>()
                .await
                .expect("json"),
            json
        );
        let all = app
            .api("/api/v1/plan/questions", "/api/v1/plan/questions", 200)
            .await;
        assert_eq!(all[0]["answer"], answer);
        let csv = app.text("/commitments/6.csv", 200).await;
        assert!(
            csv.contains(&format!("6,,question,{id},{text}")) && csv.contains(answer),
            "{csv}"
        );
        let feed = app.text("/feeds/plan.atom", 200).await;
        let doc = roxmltree::Document::parse(&feed).expect("the feed is XML");
        let entry = doc
            .descendants()
            .filter(|n| n.has_tag_name("entry"))
            .find(|e| {
                e.descendants()
                    .any(|n| n.has_tag_name("id") && n.text().is_some_and(|t| t.ends_with(&id)))
            })
            .expect("an entry for the answer");
        let content = entry
            .children()
            .find(|n| n.has_tag_name("content"))
            .and_then(|n| n.text())
            .expect("content");
        assert!(
            content.contains(text) && content.contains(answer),
            "{content}"
        );

        // Refused, each with a message that says what to do; nothing stored.
        let before = app
            .store
            .questions(None, "pending")
            .await
            .expect("pending")
            .len();
        for (body, field, words) in [
            (
                json!({"question": "x".repeat(2001)}),
                "question",
                "2001 characters long; at most 2000",
            ),
            (json!({"question": "   "}), "question", "question is empty"),
            (
                json!({"question": "Why?", "name": "n".repeat(101)}),
                "name",
                "101 characters long; at most 100",
            ),
        ] {
            let e = app
                .send(reqwest::Method::POST, template, path, None, &body, 400)
                .await;
            assert_eq!(e["field"], field, "{e}");
            assert!(
                e["message"].as_str().is_some_and(|m| m.contains(words)),
                "{e}"
            );
        }
        let r = app
            .form(
                "/commitments/6/questions",
                &[("question", &"x".repeat(2001)), ("name", "")],
                None,
            )
            .await;
        assert_eq!(r.status().as_u16(), 400);
        let html = r.text().await.expect("html");
        assert!(html.contains(
            "Your question is 2001 characters long: shorten it to 2000 characters or fewer."
        ));
        let r = app
            .form(
                "/commitments/6/questions",
                &[("question", ""), ("name", "")],
                None,
            )
            .await;
        assert_eq!(r.status().as_u16(), 400);
        assert!(r
            .text()
            .await
            .expect("html")
            .contains("Write your question."));
        assert_eq!(
            app.store
                .questions(None, "pending")
                .await
                .expect("pending")
                .len(),
            before
        );

        // The form's way: a thank-you page.
        let r = app
            .form(
                "/commitments/6/questions",
                &[
                    ("question", "Is the tender data complete?"),
                    ("name", ""),
                    ("website", ""),
                ],
                None,
            )
            .await;
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(
            r.headers().get("location").and_then(|v| v.to_str().ok()),
            Some("/commitments/6/asked")
        );
        assert!(app
            .text("/commitments/6/asked", 200)
            .await
            .contains("Thank you for your question"));
        assert_eq!(
            app.store
                .questions(None, "pending")
                .await
                .expect("pending")
                .len(),
            before + 1
        );
    }
}

/// More than five questions an hour from one address are refused, with when to try again;
/// the robots' trap answers like a success and stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_are_limited_per_address_and_the_trap_stores_nothing() {
    for app in spawn_apps("limits", Config::default).await {
        let template = "/api/v1/plan/commitments/{n}/questions";
        let path = "/api/v1/plan/commitments/2/questions";
        // The trap: accepted-looking (202 with an id), nothing stored.
        let trapped = app
            .send(
                reqwest::Method::POST,
                template,
                path,
                None,
                &json!({"question": "Cheap watches", "website": "http://spam.example"}),
                202,
            )
            .await;
        assert_eq!(trapped["status"], "pending");
        assert_eq!(trapped["id"].as_str().map(str::len), Some(16));
        let r = app
            .form(
                "/commitments/2/questions",
                &[
                    ("question", "Cheap watches"),
                    ("name", ""),
                    ("website", "http://spam.example"),
                ],
                None,
            )
            .await;
        assert_eq!(
            r.status().as_u16(),
            303,
            "the form's trap looks like a success too"
        );
        assert!(app
            .store
            .questions(None, "pending")
            .await
            .expect("pending")
            .is_empty());
        // Two trapped, three real: the sixth in the hour is refused.
        for i in 0..3 {
            app.send(
                reqwest::Method::POST,
                template,
                path,
                None,
                &json!({"question": format!("Question {i}?")}),
                202,
            )
            .await;
        }
        let r = app
            .client
            .post(app.url(path))
            .json(&json!({"question": "One more?"}))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status().as_u16(), 429);
        let wait: u64 = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("Retry-After");
        assert!(wait > 3000 && wait <= 3600, "{wait}");
        let e: Value = r.json().await.expect("json");
        app.conforms(template, "post", 429, &e);
        assert!(
            e["message"]
                .as_str()
                .is_some_and(|m| m.contains("5 questions in the last hour")),
            "{e}"
        );
        let r = app
            .form(
                "/commitments/2/questions",
                &[("question", "And through the form?"), ("name", "")],
                None,
            )
            .await;
        assert_eq!(r.status().as_u16(), 429);
        assert!(r.headers().get("retry-after").is_some());
        assert!(r.text().await.expect("html").contains("try again in"));
        assert_eq!(
            app.store
                .questions(None, "pending")
                .await
                .expect("pending")
                .len(),
            3
        );
    }
}

/// HTML in questions, names and answers is text everywhere: escaped on the pages (in
/// elements and in attributes), plain in the JSON, escaped in the feed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_in_questions_is_shown_as_text() {
    let config = || Config {
        question_limit: 50,
        ..Config::default()
    };
    for app in spawn_apps("xss", config).await {
        let script = "<script>alert(1)</script>";
        let name = "\"><img src=x onerror=alert(1)>";
        let got = app
            .send(
                reqwest::Method::POST,
                "/api/v1/plan/commitments/{n}/questions",
                "/api/v1/plan/commitments/4/questions",
                None,
                &json!({"question": script, "name": name}),
                202,
            )
            .await;
        let id = got["id"].as_str().expect("id");
        let sfo = app
            .store
            .create_token_scoped("Serious Fraud Office", None, &["plan:4".into()])
            .await
            .expect("token")
            .info;
        app.store
            .question_answer(
                id,
                "<b>Not bold</b> & <a href=\"javascript:alert(1)\">no link</a>",
                &sfo,
            )
            .await
            .expect("answer");
        let page = app.text("/commitments/4", 200).await;
        assert!(!page.contains(script), "a script element in the page");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.contains("<img src=x"), "an img element in the page");
        assert!(page.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
        assert!(!page.contains("<b>Not bold</b>") && !page.contains("href=\"javascript:"));
        assert!(page.contains("&lt;b&gt;Not bold&lt;/b&gt; &amp; &lt;a href=&quot;javascript:alert(1)&quot;&gt;no link&lt;/a&gt;"));

        // Attribute injection through the form's values when it is shown again.
        let attack = "\" autofocus onfocus=\"alert(1)";
        let r = app
            .form(
                "/commitments/4/questions",
                &[("question", &"y".repeat(2001)), ("name", attack)],
                None,
            )
            .await;
        assert_eq!(r.status().as_u16(), 400);
        let html = r.text().await.expect("html");
        assert!(
            !html.contains("onfocus=\"alert(1)"),
            "the value broke out of its attribute"
        );
        assert!(html.contains("value=\"&quot; autofocus onfocus=&quot;alert(1)\""));
        let r = app
            .form(
                "/commitments/4/questions",
                &[
                    ("question", "</textarea><script>alert(2)</script>"),
                    ("name", ""),
                ],
                None,
            )
            .await;
        assert_eq!(r.status().as_u16(), 303);

        // The JSON keeps the text as it was written; the feed escapes it as XML.
        let json = app
            .api(
                "/api/v1/plan/commitments/{n}",
                "/api/v1/plan/commitments/4",
                200,
            )
            .await;
        assert_eq!(json["questions"][0]["question"], script);
        assert_eq!(json["questions"][0]["name"], name);
        let feed = app.text("/feeds/plan.atom", 200).await;
        assert!(!feed.contains(script));
        let doc = roxmltree::Document::parse(&feed).expect("XML");
        assert!(doc
            .descendants()
            .filter(|n| n.has_tag_name("content"))
            .any(|n| n.text().is_some_and(|t| t.contains(script))));
        // Control characters are refused before they reach the feed.
        app.send(
            reqwest::Method::POST,
            "/api/v1/plan/commitments/{n}/questions",
            "/api/v1/plan/commitments/4/questions",
            None,
            &json!({"question": "bell \u{7}"}),
            400,
        )
        .await;
    }
}

/// Every page's data as JSON and CSV (by extension or Accept), the plan as schema-valid
/// open data with its licence, the schema published, the feed valid Atom 1.0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_has_its_data_as_json_csv_and_atom() {
    let plan = plan_file();
    let rfc3339 = Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$").expect("regex");
    for app in spawn_apps("channels", Config::default).await {
        let doc = app.api("/api/v1/plan", "/api/v1/plan", 200).await;
        assert_eq!(
            doc,
            serde_json::to_value(&plan).expect("json"),
            "the plan as imported"
        );
        assert!(
            tuwhera_plan::validate(&doc).is_empty(),
            "valid against the schema"
        );
        assert!(doc["licence"]
            .as_str()
            .is_some_and(|l| l.contains("Creative Commons Attribution 4.0")));
        let r = app.get("/api/v1/plan/schema.json").await;
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.text().await.expect("schema"), tuwhera_plan::SCHEMA);
        let r = app.get("/api/v1/plan").await;
        assert!(r
            .headers()
            .get("link")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|l| l.contains("schema.json")));
        assert_eq!(
            app.get("/plan.json")
                .await
                .json::<Value>()
                .await
                .expect("json"),
            doc
        );

        let with_accept = |path: &'static str, accept: &'static str| {
            let client = app.client.clone();
            let url = app.url(path);
            async move {
                client
                    .get(url)
                    .header("accept", accept)
                    .send()
                    .await
                    .expect("get")
            }
        };
        let r = with_accept("/", "application/json").await;
        assert_eq!(
            r.headers().get("vary").and_then(|v| v.to_str().ok()),
            Some("Accept")
        );
        assert_eq!(r.json::<Value>().await.expect("json"), doc);
        let csv = with_accept("/", "text/csv")
            .await
            .text()
            .await
            .expect("csv");
        let rows: Vec<csv::StringRecord> =
            csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes())
                .records()
                .map(|r| r.expect("row"))
                .collect();
        assert_eq!(rows.len(), 8);
        assert_eq!(&rows[5][0], "6");
        assert_eq!(&rows[5][5], "/procurement");
        assert_eq!(app.text("/plan.csv", 200).await, csv);
        let r = app.get("/plan.csv").await;
        assert!(
            r.headers()
                .get("link")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|l| l.contains("creativecommons.org/licenses/by/4.0/")
                    && l.contains("rel=\"license\"")),
            "the CSV names its licence"
        );
        for page in ["/commitments/8", "/commitments/8/history", "/report/2024"] {
            assert!(
                page_text(&app.text(page, 200).await).contains("Creative Commons Attribution 4.0"),
                "{page} shows the licence"
            );
        }

        let api = app
            .api(
                "/api/v1/plan/commitments/{n}",
                "/api/v1/plan/commitments/8",
                200,
            )
            .await;
        assert_eq!(api["status"], "partiallyCompleted");
        assert_eq!(
            api["commitment"],
            serde_json::to_value(plan.commitment(8).expect("8")).expect("json")
        );
        assert_eq!(
            with_accept("/commitments/8", "application/json")
                .await
                .json::<Value>()
                .await
                .expect("json"),
            api
        );
        assert_eq!(
            app.get("/commitments/8.json")
                .await
                .json::<Value>()
                .await
                .expect("json"),
            api
        );
        let csv = app.text("/commitments/8.csv", 200).await;
        assert!(csv.starts_with("\u{feff}commitment,period,section,item,text\r\n"));
        assert!(csv.contains("8,2024,status,,partiallyCompleted"));
        assert_eq!(
            with_accept("/commitments/8", "text/csv")
                .await
                .text()
                .await
                .expect("csv"),
            csv
        );
        app.text("/commitments/8.xml", 404).await;
        let list = app
            .api("/api/v1/plan/commitments", "/api/v1/plan/commitments", 200)
            .await;
        assert_eq!(list["commitments"].as_array().map(Vec::len), Some(8));
        let history = app.text("/commitments/8/history.csv", 200).await;
        assert!(
            history.contains("8,2024,1,import,plan import,,nap4.json"),
            "{history}"
        );
        app.api("/api/v1/plan/versions", "/api/v1/plan/versions", 200)
            .await;
        app.api(
            "/api/v1/plan/commitments/{n}/progress/{period}",
            "/api/v1/plan/commitments/8/progress/2031",
            404,
        )
        .await;
        app.api(
            "/api/v1/plan/commitments/{n}/diff",
            "/api/v1/plan/commitments/8/diff?from=0",
            400,
        )
        .await;

        // The feed: Atom 1.0 with what a reader needs, one entry per published report.
        let r = app.get("/feeds/plan.atom").await;
        assert_eq!(
            r.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/atom+xml; charset=utf-8")
        );
        let feed = r.text().await.expect("feed");
        let xml = roxmltree::Document::parse(&feed).expect("the feed is XML");
        let root = xml.root_element();
        assert_eq!(root.tag_name().name(), "feed");
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2005/Atom")
        );
        let child = |node: roxmltree::Node, name: &str| {
            node.children()
                .find(|n| n.has_tag_name(name))
                .and_then(|n| n.text().map(str::to_owned))
        };
        assert!(child(root, "id").is_some() && child(root, "title").is_some());
        assert!(child(root, "updated").is_some_and(|u| rfc3339.is_match(&u)));
        assert!(root.children().any(|n| n.has_tag_name("author")));
        assert!(root
            .children()
            .any(|n| n.has_tag_name("link") && n.attribute("rel") == Some("self")));
        let entries: Vec<_> = root
            .children()
            .filter(|n| n.has_tag_name("entry"))
            .collect();
        assert_eq!(entries.len(), 8);
        let mut ids = std::collections::HashSet::new();
        for e in &entries {
            assert!(
                ids.insert(child(*e, "id").expect("id")),
                "entry ids are unique"
            );
            assert!(child(*e, "title").is_some_and(|t| !t.is_empty()));
            assert!(child(*e, "updated").is_some_and(|u| rfc3339.is_match(&u)));
            let link = e.children().find(|n| n.has_tag_name("link")).expect("link");
            assert!(link
                .attribute("href")
                .is_some_and(|h| h.starts_with("http://")));
            assert_eq!(
                e.children()
                    .find(|n| n.has_tag_name("content"))
                    .and_then(|c| c.attribute("type")),
                Some("text")
            );
        }
    }
}

/// The plan's paths are in the OpenAPI document, with the API's tag and error shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_api_is_documented() {
    let doc = serde_json::to_value(tuwhera_web::ApiDoc::openapi()).expect("doc");
    for (path, method) in [
        ("/api/v1/plan", "get"),
        ("/api/v1/plan/schema.json", "get"),
        ("/api/v1/plan/versions", "get"),
        ("/api/v1/plan/commitments", "get"),
        ("/api/v1/plan/commitments/{n}", "get"),
        ("/api/v1/plan/commitments/{n}/history", "get"),
        ("/api/v1/plan/commitments/{n}/diff", "get"),
        ("/api/v1/plan/commitments/{n}/progress/{period}", "get"),
        ("/api/v1/plan/commitments/{n}/progress/{period}", "put"),
        ("/api/v1/plan/commitments/{n}/questions", "get"),
        ("/api/v1/plan/commitments/{n}/questions", "post"),
        ("/api/v1/plan/questions", "get"),
        ("/api/v1/plan/moderation", "get"),
        ("/api/v1/plan/questions/{id}/moderation", "post"),
        ("/api/v1/plan/questions/{id}/answer", "put"),
        ("/api/v1/plan/reports/{period}", "get"),
    ] {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is not documented");
        assert_eq!(op["tags"], json!(["plan"]), "{method} {path}");
    }
}

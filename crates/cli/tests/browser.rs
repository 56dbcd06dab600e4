//! The web pages as a person uses them, in headless Chromium driven through
//! chromedriver: the action plan (home, a commitment, asking a question through its form,
//! the report; an agency signing in with its token, editing its report, seeing the
//! change, moderating the question), then search, open a result, follow its
//! organisation, search for a word, and visit the other pages. axe-core checks every
//! page against WCAG 2.1 A and AA; a serious or critical violation fails the test.
//!
//! The test ingests the bundled data into a fresh SQLite database and starts
//! `tuwhera serve` on it. It needs Debian's `chromium` and `chromium-driver` and the
//! axe-core pinned in `scripts/browser-tools`, which `scripts/test.sh` installs before
//! setting:
//! - `TUWHERA_AXE_JS`: the path of `axe.min.js` (required);
//! - `TUWHERA_CHROMEDRIVER`, `TUWHERA_CHROMIUM`: default `/usr/bin/chromedriver` and
//!   `/usr/bin/chromium`;
//! - `TUWHERA_SCREENSHOTS`: where each page's PNG goes, default `target/screenshots`.
//!
//! Without axe-core, Chromium or chromedriver the test fails, unless
//! `TUWHERA_SKIP_BROWSER=1`, so that a run which skipped the setup cannot pass unnoticed. `TUWHERA_BROWSER_URL` points the test at a
//! server that is already running instead (no ingest, no `tuwhera serve`), for working
//! on the pages; `TUWHERA_BROWSER_TOKEN` then gives an agency's token with the scopes
//! `plan:3` and `plan:6` for the sign-in part (without it, that part is skipped).

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

const WCAG_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// How long a page may take to appear after a click or a submit.
const NAVIGATION: Duration = Duration::from_secs(10);

const CHROMIUM_ARGS: [&str; 9] = [
    "--headless",
    // Chromium's sandbox cannot start as root, which the test machines are.
    "--no-sandbox",
    "--disable-gpu",
    // The machines reach no network beyond the package registries: without these,
    // Chromium's background connections are refused, many at a time, at every start.
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1024",
];

/// Runs axe-core on the whole document and returns its violations, trimmed to what a
/// failure message needs.
const AXE_RUN: &str = r#"
const [tags, done] = arguments;
axe.run(document, { runOnly: { type: 'tag', values: tags } })
  .then(r => done({ violations: r.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.length,
    targets: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
    summary: v.nodes.length ? v.nodes[0].failureSummary : '',
  })) }))
  .catch(e => done({ error: String((e && e.stack) || e) }));
"#;

/// What every page must have, read in one round trip.
const PAGE_FACTS: &str = r#"
const nav = performance.getEntriesByType('navigation')[0];
const skip = document.querySelector('a.skip-link');
return {
  title: document.title,
  lang: document.documentElement.getAttribute('lang'),
  main: document.querySelector('main#main') !== null,
  skip: skip ? skip.getAttribute('href') : null,
  status: nav && nav.responseStatus ? nav.responseStatus : null,
  href: location.href,
};
"#;

/// The workspace root, without `..`: the process pages show each release's file as
/// it was given to the ingest.
fn repo() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

struct Tools {
    axe_js: String,
    chromedriver: PathBuf,
    chromium: PathBuf,
    screenshots: PathBuf,
}

fn env_path(name: &str, default: &str) -> PathBuf {
    std::env::var_os(name).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// The browser, its driver and axe-core; `None` when they are missing and the caller
/// asked to skip.
fn tools() -> Option<Tools> {
    let chromedriver = env_path("TUWHERA_CHROMEDRIVER", "/usr/bin/chromedriver");
    let chromium = env_path("TUWHERA_CHROMIUM", "/usr/bin/chromium");
    let axe = std::env::var_os("TUWHERA_AXE_JS").map(PathBuf::from);
    let mut missing = Vec::new();
    match &axe {
        None => missing.push("TUWHERA_AXE_JS is not set".to_owned()),
        Some(path) if !path.is_file() => {
            missing.push(format!("TUWHERA_AXE_JS={} is not a file", path.display()));
        }
        Some(_) => {}
    }
    for (what, path) in [("chromedriver", &chromedriver), ("chromium", &chromium)] {
        if !path.is_file() {
            missing.push(format!("{what} is not at {}", path.display()));
        }
    }
    if !missing.is_empty() {
        let why = missing.join("; ");
        if std::env::var("TUWHERA_SKIP_BROWSER").as_deref() == Ok("1") {
            println!("browser test skipped (TUWHERA_SKIP_BROWSER=1): {why}");
            return None;
        }
        panic!(
            "{why}: run the tests with `bash scripts/test.sh`, which installs Chromium, ChromeDriver \
             and axe-core and sets TUWHERA_AXE_JS (or set TUWHERA_SKIP_BROWSER=1 to skip the browser tests)"
        );
    }
    let axe = axe.expect("checked above");
    let axe_js = std::fs::read_to_string(&axe)
        .unwrap_or_else(|e| panic!("reading axe-core from {}: {e}", axe.display()));
    let screenshots = std::env::var_os("TUWHERA_SCREENSHOTS")
        .map_or_else(|| repo().join("target/screenshots"), PathBuf::from);
    Some(Tools {
        axe_js,
        chromedriver,
        chromium,
        screenshots,
    })
}

/// A child process that is killed when this is dropped, so that a failed assertion
/// leaves no server or browser running.
struct Running {
    child: Child,
    /// The child leads its own process group, which is killed whole: chromedriver's
    /// Chromium would otherwise outlive it.
    group: bool,
}

impl Drop for Running {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if self.group {
            if let Ok(pid) = i32::try_from(self.child.id()) {
                // SAFETY: kill takes plain integers and touches no memory of ours; the group
                // is the one this child leads, so nothing outside it is signalled.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
            .path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn ingest(database: &str) {
    let mut files = Vec::new();
    files_under(&repo().join("data/ocds/real-examples"), &mut files);
    files.sort();
    assert!(!files.is_empty(), "no file under data/ocds/real-examples");
    // The DGCP sample makes the search and the organisation pages look real.
    let sample = repo().join("data/ocds/dgcp-1000.jsonl.gz");
    if sample.is_file() {
        files.push(sample);
    }
    // The synthetic New Zealand sample gives the compliance pages something to show;
    // the linked one names the register's companies as suppliers.
    files.push(repo().join("data/ocds/synthetic-nz/releases.jsonl"));
    files.push(repo().join("data/linked/ocds-synthetic-suppliers.jsonl"));
    let out = Command::new(env!("CARGO_BIN_EXE_tuwhera"))
        .arg("ingest")
        .args(&files)
        .args(["--database", database])
        .env_remove("DATABASE_URL")
        .output()
        .expect("running tuwhera ingest");
    // 1 means some releases were quarantined: the quarantine page is there to show them.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "tuwhera ingest failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // The register: the real UK sample and the SYNTHETIC NZ companies, one person protected.
    let out = Command::new(env!("CARGO_BIN_EXE_tuwhera"))
        .args(["bods", "ingest", "--database", database, "--protected"])
        .arg(repo().join("data/linked/protected.json"))
        .arg(repo().join("data/bods/uk-psc-gleif-bods04/all_demo.jsonl"))
        .arg(repo().join("data/linked/bods-synthetic-nz.jsonl"))
        .env_remove("DATABASE_URL")
        .output()
        .expect("running tuwhera bods ingest");
    assert!(
        out.status.success(),
        "tuwhera bods ingest failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Imports the action plan and makes an agency token (commitments 3 and 6) for the
/// sign-in part of the walk; returns the token.
fn prepare_plan(database: &str) -> String {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_tuwhera"))
            .args(args)
            .args(["--database", database])
            .env_remove("DATABASE_URL")
            .output()
            .expect("running tuwhera");
        assert!(
            out.status.success(),
            "tuwhera {args:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    run(&[
        "plan",
        "import",
        &repo().join("data/plan/nap4.json").display().to_string(),
    ]);
    run(&[
        "token",
        "create",
        "--publisher",
        "Browser Test Agency",
        "--scope",
        "plan:3",
        "--scope",
        "plan:6",
    ])
    .trim()
    .to_owned()
}

/// The base URL in a line such as `listening on http://127.0.0.1:41234/`, without its
/// trailing slash.
fn url_in(line: &str) -> Option<String> {
    let start = line.find("http://")?;
    let url = line[start..].split_whitespace().next()?;
    Some(url.trim_end_matches(['/', '.', ',', ')']).to_owned())
}

/// Starts `tuwhera serve` on a port of its choosing and returns it with its base URL.
fn serve(database: &str) -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tuwhera"))
        .args(["serve", "--database", database, "--bind", "127.0.0.1:0"])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting tuwhera serve");
    let stdout = child.stdout.take().expect("serve's stdout is piped");
    let mut server = Running {
        child,
        group: false,
    };
    let (lines, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Reads on after the URL: a server that logs to stdout would otherwise block once
        // the pipe is full.
        let mut lines = Some(lines);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.as_ref().is_some_and(|tx| tx.send(line).is_err()) {
                lines = None;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut printed = Vec::new();
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                if let Some(url) = url_in(&line) {
                    return (server, url);
                }
                printed.push(line);
            }
            Err(RecvTimeoutError::Timeout) => panic!(
                "tuwhera serve printed no http:// URL on stdout within 60 s; it printed:\n{}",
                printed.join("\n")
            ),
            Err(RecvTimeoutError::Disconnected) => panic!(
                "tuwhera serve {} without printing an http:// URL on stdout; it printed:\n{}",
                exit_of(&mut server.child),
                printed.join("\n")
            ),
        }
    }
}

/// How a child that closed its stdout ended, given a moment to do so.
fn exit_of(child: &mut Child) -> String {
    for _ in 0..40 {
        if let Ok(Some(status)) = child.try_wait() {
            return format!("exited ({status})");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    "closed its stdout".to_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("finding a free port")
        .port()
}

/// Starts chromedriver and returns it with its URL once it accepts connections.
fn start_chromedriver(tools: &Tools, log: &Path) -> (Running, String) {
    let port = free_port();
    let mut cmd = Command::new(&tools.chromedriver);
    cmd.arg(format!("--port={port}"))
        .arg(format!("--log-path={}", log.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", tools.chromedriver.display()));
    let mut driver = Running { child, group: true };
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = driver.child.try_wait() {
            panic!(
                "chromedriver exited ({status}) before listening on port {port}; log: {}",
                tail(log)
            );
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on port {port} within 20 s; log: {}",
            tail(log)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (driver, format!("http://127.0.0.1:{port}"))
}

/// The end of a log file, for a failure message.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

async fn connect(tools: &Tools, driver: &str, profile: &Path, log: &Path) -> Client {
    let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| (*a).to_owned()).collect();
    // A fresh profile each run: nothing cached or remembered from an earlier run.
    args.push(format!("--user-data-dir={}", profile.display()));
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({ "binary": tools.chromium.display().to_string(), "args": args }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(driver)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "chromedriver could not start {}: {e}\nchromedriver log:\n{}",
                tools.chromium.display(),
                tail(log)
            )
        })
}

struct PageReport {
    name: &'static str,
    url: String,
    /// axe-core's serious and critical violations.
    blocking: Vec<Value>,
    /// How many violations of lesser impact axe-core found, reported but not failed on.
    lesser: usize,
}

#[derive(Default)]
struct Findings {
    pages: Vec<PageReport>,
    /// Pages that lack what every page must have.
    problems: Vec<String>,
}

impl Findings {
    fn failed(&self) -> bool {
        !self.problems.is_empty() || self.pages.iter().any(|p| !p.blocking.is_empty())
    }

    fn report(&self) -> String {
        let mut out = String::new();
        for problem in &self.problems {
            let _ = writeln!(out, "- {problem}");
        }
        for page in self.pages.iter().filter(|p| !p.blocking.is_empty()) {
            let _ = writeln!(out, "page `{}` ({}):", page.name, page.url);
            for v in &page.blocking {
                let text = |key: &str| v[key].as_str().unwrap_or("").to_owned();
                let _ = writeln!(
                    out,
                    "  [{}] {}: {} ({} elements) {}",
                    text("impact"),
                    text("id"),
                    text("help"),
                    v["nodes"],
                    text("helpUrl")
                );
                for target in v["targets"].as_array().into_iter().flatten() {
                    let _ = writeln!(out, "      {}", target.as_str().unwrap_or(""));
                }
                let summary = text("summary");
                if !summary.is_empty() {
                    let _ = writeln!(out, "      {}", summary.replace('\n', "\n      "));
                }
            }
        }
        out
    }
}

struct Browser<'a> {
    client: &'a Client,
    base: &'a str,
    tools: &'a Tools,
    findings: Findings,
    /// An agency's token (plan:3 and plan:6) for the sign-in part, if there is one.
    token: Option<String>,
}

impl Browser<'_> {
    async fn open(&self, path: &str) -> Result<()> {
        let url = format!("{}{path}", self.base);
        self.client
            .goto(&url)
            .await
            .with_context(|| format!("opening {url}"))
    }

    async fn find(&self, css: &str) -> Result<Element> {
        let url = self.current_url().await?;
        self.client
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("no `{css}` on {url}"))
    }

    async fn current_url(&self) -> Result<String> {
        Ok(self.client.current_url().await?.to_string())
    }

    async fn current_path(&self) -> Result<String> {
        Ok(self.client.current_url().await?.path().to_owned())
    }

    /// Clicks and waits until the browser has loaded another document. The old one is
    /// marked rather than its URL remembered: a search may land on the very same URL.
    async fn click_through(&self, element: &Element, what: &str) -> Result<()> {
        let before = self.current_url().await?;
        self.client
            .execute("window.tuwheraOldDocument = true", vec![])
            .await
            .with_context(|| format!("marking {before}"))?;
        element
            .click()
            .await
            .with_context(|| format!("clicking {what} on {before}"))?;
        let deadline = Instant::now() + NAVIGATION;
        loop {
            // Mid-navigation the script may find no document to run in: that is not yet
            // a failure, only not yet arrived.
            let state = self
                .client
                .execute(
                    "return window.tuwheraOldDocument ? 'old' : document.readyState",
                    vec![],
                )
                .await;
            if matches!(&state, Ok(s) if s == "complete") {
                return Ok(());
            }
            if Instant::now() > deadline {
                let here = self.current_url().await?;
                bail!(
                    "clicking {what} on {before} loaded no new page within {NAVIGATION:?} \
                     (now at {here}, state {state:?})"
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn search(&self, query: &str) -> Result<()> {
        let field = self.find("form#search-form input[name=q]").await?;
        field.clear().await.context("clearing the search field")?;
        if !query.is_empty() {
            field
                .send_keys(query)
                .await
                .context("typing into the search field")?;
        }
        let submit = self.find("form#search-form button[type=submit]").await?;
        self.click_through(&submit, &format!("search for {query:?}"))
            .await
    }

    async fn process_links(&self) -> Result<Vec<Element>> {
        Ok(self.client.find_all(Locator::Css("a.process-link")).await?)
    }

    /// Checks the page every page must be, runs axe-core on it and takes its screenshot.
    async fn audit(&mut self, name: &'static str) -> Result<()> {
        let url = self.current_url().await?;
        let facts = self
            .client
            .execute(PAGE_FACTS, vec![])
            .await
            .with_context(|| format!("reading {url}"))?;
        // A refused connection or a reset shows Chromium's own error page, which would
        // otherwise fail every check below with a misleading message.
        if facts["href"]
            .as_str()
            .is_some_and(|h| h.starts_with("chrome-error:"))
        {
            bail!("Chromium could not load {url} (it shows its error page)");
        }
        let mut problem = |what: String| {
            self.findings
                .problems
                .push(format!("page `{name}` ({url}): {what}"));
        };
        if facts["title"].as_str().is_none_or(|t| t.trim().is_empty()) {
            problem("empty <title>".into());
        }
        if facts["lang"] != "en" {
            problem(format!("<html lang> is {}, not \"en\"", facts["lang"]));
        }
        if facts["main"] != true {
            problem("no <main id=\"main\">".into());
        }
        if facts["skip"] != "#main" {
            problem(format!(
                "no skip link a.skip-link to #main (found href {})",
                facts["skip"]
            ));
        }
        if facts["status"].as_u64().is_some_and(|s| s >= 400) {
            problem(format!("HTTP status {}", facts["status"]));
        }

        self.client
            .execute(&self.tools.axe_js, vec![])
            .await
            .with_context(|| format!("injecting axe-core into {url}"))?;
        let result = self
            .client
            .execute_async(AXE_RUN, vec![json!(WCAG_TAGS)])
            .await
            .with_context(|| format!("running axe-core on {url}"))?;
        if let Some(error) = result.get("error") {
            bail!("axe-core failed on {url}: {error}");
        }
        let violations = result["violations"].as_array().cloned().unwrap_or_default();
        let (blocking, lesser): (Vec<Value>, Vec<Value>) = violations
            .into_iter()
            .partition(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")));

        std::fs::create_dir_all(&self.tools.screenshots)
            .with_context(|| format!("creating {}", self.tools.screenshots.display()))?;
        let png = self.tools.screenshots.join(format!("{name}.png"));
        let shot = self
            .client
            .screenshot()
            .await
            .with_context(|| format!("screenshot of {url}"))?;
        std::fs::write(&png, shot).with_context(|| format!("writing {}", png.display()))?;

        println!(
            "browser: {name:<14} {url} — {} serious/critical, {} lesser violations {:?}; {}",
            blocking.len(),
            lesser.len(),
            lesser
                .iter()
                .map(|v| v["id"].as_str().unwrap_or("?"))
                .collect::<Vec<_>>(),
            png.display()
        );
        self.findings.pages.push(PageReport {
            name,
            url,
            blocking,
            lesser: lesser.len(),
        });
        Ok(())
    }

    /// Types into a field (after what it holds) and checks the field is there.
    async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        self.find(css)
            .await?
            .send_keys(text)
            .await
            .with_context(|| format!("typing into `{css}`"))
    }

    async fn problem_unless(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            let url = self.current_url().await.unwrap_or_default();
            self.findings
                .problems
                .push(format!("{} ({url})", what.into()));
        }
    }

    /// The action plan: home, a commitment, a question through its form, the report, and
    /// an agency signing in to edit its report and moderate the question.
    async fn walk_plan(&mut self) -> Result<()> {
        self.open("/").await?;
        let cards = self
            .client
            .find_all(Locator::Css("li.commitment-card"))
            .await?;
        self.problem_unless(
            cards.len() == 8,
            format!("the home page lists {} commitments, not 8", cards.len()),
        )
        .await;
        self.audit("home").await?;

        let six = self
            .find("a.commitment-link[href='/commitments/6']")
            .await?;
        self.click_through(&six, "commitment 6").await?;
        let h1 = self.find("h1").await?.text().await?;
        self.problem_unless(
            h1.starts_with("Commitment 6:"),
            format!("commitment 6's page has the h1 {h1:?}"),
        )
        .await;
        self.audit("commitment").await?;

        // Ask a question through the form; the thank-you page says it is held.
        let question =
            "Will the procurement data include contract variations? <b>Asked in a browser.</b>";
        self.type_into("form#ask-form textarea[name=question]", question)
            .await?;
        self.type_into("form#ask-form input[name=name]", "Browser test")
            .await?;
        let send = self.find("form#ask-form button[type=submit]").await?;
        self.click_through(&send, "sending the question").await?;
        let path = self.current_path().await?;
        self.problem_unless(
            path == "/commitments/6/asked",
            format!("sending a question led to {path}, not /commitments/6/asked"),
        )
        .await;
        self.audit("question-sent").await?;

        self.open("/report/2024").await?;
        let sections = self
            .client
            .find_all(Locator::Css("section.report-commitment"))
            .await?;
        self.problem_unless(
            sections.len() == 8,
            format!(
                "the report has {} commitment sections, not 8",
                sections.len()
            ),
        )
        .await;
        self.audit("report").await?;

        let Some(token) = self.token.clone() else {
            println!("browser: no agency token (TUWHERA_BROWSER_TOKEN): sign-in, edit and moderation not walked");
            return Ok(());
        };
        // The edit form needs a session: the browser is sent to sign in first, then back.
        self.open("/commitments/3/progress/2024/edit").await?;
        let path = self.current_path().await?;
        self.problem_unless(
            path == "/sign-in",
            format!("the edit form without a session led to {path}, not /sign-in"),
        )
        .await;
        self.audit("sign-in").await?;
        self.type_into("form#sign-in-form input[name=token]", &token)
            .await?;
        let sign_in = self.find("form#sign-in-form button[type=submit]").await?;
        self.click_through(&sign_in, "signing in").await?;
        let path = self.current_path().await?;
        if path != "/commitments/3/progress/2024/edit" {
            bail!("signing in led to {path}, not back to the edit form (was the session cookie kept?)");
        }
        self.audit("edit").await?;
        self.type_into(
            "form#edit-form textarea[name=progress]",
            "\n\nChecked in a browser: the report can be updated.",
        )
        .await?;
        self.type_into("form#edit-form input[name=note]", "Browser test")
            .await?;
        let save = self.find("form#edit-form button[type=submit]").await?;
        self.click_through(&save, "saving the report").await?;
        let path = self.current_path().await?;
        self.problem_unless(
            path == "/commitments/3/diff",
            format!("saving the report led to {path}, not its diff"),
        )
        .await;
        let inserted = self.client.find_all(Locator::Css(".diff ins")).await?;
        let mut found = false;
        for ins in &inserted {
            found |= ins.text().await?.contains("Checked in a browser");
        }
        self.problem_unless(found, "the diff does not mark the added text with <ins>")
            .await;
        self.audit("diff").await?;
        self.open("/commitments/3/history").await?;
        self.audit("history").await?;

        // Moderation: the question is there; publishing it puts it on the commitment's page.
        self.open("/moderation").await?;
        self.audit("moderation").await?;
        let publish = self
            .find("form.moderate button[value=publish]")
            .await
            .context("the question sent above is not waiting for moderation")?;
        self.click_through(&publish, "publishing the question")
            .await?;
        self.open("/commitments/6").await?;
        let questions = self.find("#questions").await?.text().await?;
        self.problem_unless(
            questions.contains("<b>Asked in a browser.</b>"),
            "the published question is not on the commitment's page, as text",
        )
        .await;
        self.audit("commitment-questions").await?;
        Ok(())
    }

    async fn walk(&mut self) -> Result<()> {
        self.walk_plan().await?;

        self.open("/procurement").await?;
        self.audit("search").await?;

        // An empty query lists every process, so there is always a first result to follow.
        self.search("").await?;
        self.audit("search-results").await?;
        let first = self
            .process_links()
            .await?
            .into_iter()
            .next()
            .context("the empty search listed no a.process-link")?;
        self.click_through(&first, "the first a.process-link")
            .await?;
        let path = self.current_path().await?;
        if !path.starts_with("/procurement/") {
            bail!("the first a.process-link led to {path}, not /procurement/{{ocid}}");
        }
        let title = self.find("h1").await?.text().await?;
        if title.trim().is_empty() {
            bail!("the process page {path} has an empty h1");
        }
        self.audit("process").await?;

        let org = self.client.find_all(Locator::Css("a.org-link")).await?;
        if let Some(org) = org.first() {
            self.click_through(org, "the first a.org-link").await?;
            let path = self.current_path().await?;
            if !path.starts_with("/organisations/") {
                bail!("the first a.org-link led to {path}, not /organisations/{{id}}");
            }
            self.audit("organisation").await?;
        } else {
            println!(
                "browser: the process page {path} has no a.org-link; no organisation page checked"
            );
        }

        let word = search_word(&title);
        self.open("/procurement").await?;
        self.search(&word).await?;
        if self.process_links().await?.is_empty() {
            let url = self.current_url().await?;
            self.findings.problems.push(format!(
                "searching for {word:?} (from the process title {title:?}) listed no a.process-link ({url})"
            ));
        }
        self.audit("search-word").await?;

        // Risk list → a flagged process, whose page gives its reasons.
        self.open("/risk").await?;
        self.audit("risk").await?;
        let flagged = self
            .client
            .find_all(Locator::Css("#risk-list a.process-link"))
            .await?;
        let first = flagged
            .first()
            .context("the risk list listed no flagged process")?;
        self.click_through(first, "the first flagged process")
            .await?;
        let reasons = self
            .client
            .find_all(Locator::Css("#risk ul.flags li"))
            .await?;
        if reasons.is_empty() {
            self.findings
                .problems
                .push("a flagged process's page shows no reason in #risk".into());
        }
        self.audit("process-flagged").await?;

        // Dashboards: every chart with its data table and its CSV link.
        self.open("/dashboards").await?;
        let figures = self.client.find_all(Locator::Css("figure.chart")).await?;
        if figures.len() < 5 {
            self.findings.problems.push(format!(
                "/dashboards shows {} charts, expected 7",
                figures.len()
            ));
        }
        for figure in &figures {
            let id = figure.attr("id").await?.unwrap_or_default();
            let tables = figure.find_all(Locator::Css("table")).await?;
            let csv = figure.find_all(Locator::Css("a[href*='.csv']")).await?;
            let svg_or_empty = figure
                .find_all(Locator::Css("svg[role='img'], .chart-empty, p"))
                .await?;
            if tables.len() != 1 || csv.len() != 1 || svg_or_empty.is_empty() {
                self.findings.problems.push(format!(
                    "chart {id}: {} tables, {} CSV links (expected one of each)",
                    tables.len(),
                    csv.len()
                ));
            }
        }
        self.audit("dashboards").await?;

        self.open("/compliance").await?;
        self.audit("compliance").await?;
        let agencies = self.client.find_all(Locator::Css("a.agency-link")).await?;
        let agency = agencies
            .first()
            .context("the compliance page lists no agency")?;
        self.click_through(agency, "the first a.agency-link")
            .await?;
        self.audit("compliance-agency").await?;

        self.open("/quality").await?;
        self.audit("quality").await?;
        let publishers = self
            .client
            .find_all(Locator::Css("a.publisher-link"))
            .await?;
        let publisher = publishers
            .first()
            .context("the quality page lists no publisher")?;
        self.click_through(publisher, "the first a.publisher-link")
            .await?;
        self.audit("quality-publisher").await?;

        // The register: search by name → an entity with its diagram → an owner's page.
        self.open("/ownership").await?;
        self.audit("ownership").await?;
        let field = self.find("form#ownership-form input[name=q]").await?;
        field
            .send_keys("Harbour Freight")
            .await
            .context("typing into the register's search")?;
        let submit = self.find("form#ownership-form button[type=submit]").await?;
        self.click_through(&submit, "the register's search").await?;
        self.audit("ownership-search").await?;
        let found = self.client.find_all(Locator::Css("a.record-link")).await?;
        let first = found
            .first()
            .context("searching the register for \"Harbour Freight\" found no a.record-link")?;
        self.click_through(first, "the first a.record-link").await?;
        let path = self.current_path().await?;
        if !path.starts_with("/ownership/entities/") {
            bail!("the first a.record-link led to {path}, not /ownership/entities/{{id}}");
        }
        let drawings = self
            .client
            .find_all(Locator::Css("figure.ownership-graph svg[role] title"))
            .await?;
        if drawings.is_empty() {
            self.findings
                .problems
                .push(format!("{path} has no ownership diagram with a title"));
        }
        self.audit("ownership-entity").await?;
        let owners = self
            .client
            .find_all(Locator::Css("#ultimate-owners a.owner-link"))
            .await?;
        let owner = owners
            .first()
            .context("the entity page lists no ultimate owner link")?;
        self.click_through(owner, "the first a.owner-link").await?;
        let path = self.current_path().await?;
        if !path.starts_with("/ownership/people/") {
            bail!("the first a.owner-link led to {path}, not /ownership/people/{{id}}");
        }
        self.audit("ownership-person").await?;
        // A larger network: the real company with five controllers and three holdings.
        self.open("/ownership/entities/GB-COH-00184594").await?;
        self.audit("ownership-graph").await?;
        self.open("/ownership/people/NZ-SYNTH-PER-P4").await?;
        let text = self.find("main").await?.text().await?;
        if text.contains("Kiri") || !text.contains("Protected person") {
            self.findings
                .problems
                .push("the protected person's page names them or does not say protected".into());
        }
        self.audit("ownership-protected").await?;

        for (name, path) in [
            ("downloads", "/downloads"),
            ("quarantine", "/quarantine"),
            ("api", "/api"),
        ] {
            self.open(path).await?;
            self.audit(name).await?;
        }
        Ok(())
    }
}

/// The first word of at least four letters in a process title, or the whole title
/// (an ocid, say) when it has none.
fn search_word(title: &str) -> String {
    title
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .find(|w| w.chars().count() >= 4 && w.chars().all(char::is_alphabetic))
        .unwrap_or(title.trim())
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_work_in_a_browser_and_pass_axe() {
    let Some(tools) = tools() else { return };
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");

    let (_server, base, token) = match std::env::var("TUWHERA_BROWSER_URL") {
        Ok(url) => (
            None,
            url.trim_end_matches('/').to_owned(),
            std::env::var("TUWHERA_BROWSER_TOKEN").ok(),
        ),
        Err(_) => {
            let database = format!("sqlite://{}", dir.path().join("t.db").display());
            ingest(&database);
            let token = prepare_plan(&database);
            let (server, base) = serve(&database);
            (Some(server), base, Some(token))
        }
    };

    let profile = dir.path().join("chromium-profile");
    let log = dir.path().join("chromedriver.log");
    let (_driver, driver_url) = start_chromedriver(&tools, &log);
    let client = connect(&tools, &driver_url, &profile, &log).await;

    let mut browser = Browser {
        client: &client,
        base: &base,
        tools: &tools,
        findings: Findings::default(),
        token,
    };
    let walked = browser.walk().await;
    let findings = browser.findings;
    // Closing the session makes chromedriver stop Chromium cleanly; the guards only
    // kill what is left.
    let _ = client.close().await;

    if let Err(e) = walked {
        panic!(
            "browser walk failed: {e:#}\nfindings before it failed:\n{}",
            findings.report()
        );
    }
    let lesser: usize = findings.pages.iter().map(|p| p.lesser).sum();
    println!(
        "browser: {} pages in {:.1} s; {lesser} minor/moderate axe-core violations in all",
        findings.pages.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        !findings.failed(),
        "accessibility or page structure failures:\n{}",
        findings.report()
    );
}

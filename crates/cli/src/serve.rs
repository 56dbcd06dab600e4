//! `tuwhera serve`, `tuwhera demo` and `tuwhera token`: the platform over HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use tuwhera_ocds::MergeRules;
use tuwhera_store::Store;
use tuwhera_web::{AppState, Config};

#[derive(Args)]
pub struct ServeArgs {
    /// The database: sqlite://PATH or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://tuwhera.db")]
    database: String,
    /// Address to listen on. Port 0 picks a free one.
    #[arg(long, env = "TUWHERA_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// Largest request body accepted (a published release package), in MiB.
    #[arg(long, env = "TUWHERA_MAX_BODY_MIB", default_value_t = 16)]
    max_body_mib: usize,
    /// Take clients' addresses (for the limit on questions) from X-Forwarded-For: only
    /// behind a reverse proxy that sets it.
    #[arg(long, env = "TUWHERA_TRUST_FORWARDED_FOR")]
    trust_forwarded_for: bool,
}

#[derive(Args)]
pub struct DemoArgs {
    /// Address to listen on. If the port is taken, the next free one is used.
    #[arg(long, env = "TUWHERA_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// The demo's database (made if missing; ingesting again changes nothing).
    #[arg(long, default_value = "sqlite://tuwhera-demo.db")]
    database: String,
    /// The sample data: a directory of OCDS files (default: the repository's `data/ocds`).
    #[arg(long)]
    data: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Make a publishing token. It is printed once; only its hash is kept.
    Create {
        /// The publisher (agency) the token belongs to.
        #[arg(long)]
        publisher: String,
        /// The ocid prefix the token may write, e.g. ocds-abc123.
        #[arg(long)]
        ocid_prefix: Option<String>,
        /// Further scopes: `bods:write` (publish ownership statements), `plan:N`
        /// (update commitment N of the action plan, answer and moderate its questions),
        /// `plan:moderate` (moderate every commitment's questions). Repeat for several.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://tuwhera.db")]
        database: String,
    },
    /// Revoke a token by its id (the part after `tuw_`).
    Revoke {
        token_id: String,
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://tuwhera.db")]
        database: String,
    },
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TUWHERA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn open(database: &str) -> Result<Store> {
    Store::connect(database)
        .await
        .with_context(|| format!("opening the database {database}"))
}

async fn run_server(store: Store, listener: tokio::net::TcpListener, config: Config) -> Result<()> {
    let addr = listener.local_addr().context("reading the bound address")?;
    // The first line on stdout is the address: tests and scripts read it.
    println!("Tuwhera is serving on http://{addr}  (Ctrl-C to stop)");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    tuwhera_web::serve(listener, AppState::new(store, config))
        .await
        .context("serving HTTP")
}

pub fn serve(args: ServeArgs) -> Result<u8> {
    init_tracing();
    let rt = runtime()?;
    rt.block_on(async {
        let store = open(&args.database).await?;
        // Anything left uncompiled by an interrupted ingest is compiled before serving.
        store
            .compile_dirty(&MergeRules::ocds_1_1())
            .await
            .context("compiling pending processes")?;
        store.refresh_risk(false).await.context("computing flags")?;
        let listener = tokio::net::TcpListener::bind(&args.bind)
            .await
            .with_context(|| format!("listening on {}", args.bind))?;
        let config = Config {
            max_body: args.max_body_mib * 1024 * 1024,
            trust_forwarded_for: args.trust_forwarded_for,
            ..Config::default()
        };
        run_server(store, listener, config).await
    })?;
    Ok(0)
}

/// Listen on `bind`, or on the next free port above it (up to 100 further).
async fn bind_next_free(bind: &str) -> Result<tokio::net::TcpListener> {
    let addr: SocketAddr = bind
        .parse()
        .with_context(|| format!("{bind:?} is not an address such as 127.0.0.1:8080"))?;
    if addr.port() == 0 {
        return Ok(tokio::net::TcpListener::bind(addr).await?);
    }
    for port in addr.port()..addr.port().saturating_add(100) {
        let mut a = addr;
        a.set_port(port);
        if let Ok(l) = tokio::net::TcpListener::bind(a).await {
            return Ok(l);
        }
    }
    bail!(
        "no free port from {} to {}",
        addr.port(),
        addr.port().saturating_add(99)
    )
}

/// The sample data built into the repository.
fn default_data() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/ocds"))
}

fn sample_files(dir: &std::path::Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            // The demo takes the real publishers and the 1,000 DGCP processes; the larger
            // DGCP files are test inputs for the compile and validate commands.
            let wanted =
                (name.ends_with(".json") || name.ends_with(".jsonl") || name.ends_with(".json.gz"))
                    || name == "dgcp-1000.jsonl.gz";
            if wanted && !path.components().any(|c| c.as_os_str() == "records") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

pub fn demo(args: DemoArgs) -> Result<u8> {
    init_tracing();
    let data = args.data.unwrap_or_else(default_data);
    let files = sample_files(&data)?;
    if files.is_empty() {
        bail!("no sample data in {}: pass --data DIR", data.display());
    }
    eprintln!(
        "Tuwhera demo: {} sample files from {} into {}",
        files.len(),
        data.display(),
        args.database
    );
    // The linked sample: SYNTHETIC New Zealand releases whose suppliers are in the register.
    let linked = data.join("../linked");
    let mut files = files;
    let linked_ocds = linked.join("ocds-synthetic-suppliers.jsonl");
    if linked_ocds.is_file() {
        files.push(linked_ocds);
    }
    let ingest = crate::ingest::IngestArgs::new(files, args.database.clone());
    // Quarantined items are part of the demo (the quarantine page shows them), not a failure.
    let code = crate::ingest::run(ingest)?;
    if code == crate::EXIT_FAILURE {
        bail!("the sample data could not be read");
    }
    // The register: the real UK PSC + GLEIF sample and the SYNTHETIC NZ companies.
    let bods_files: Vec<PathBuf> = [
        data.join("../bods/uk-psc-gleif-bods04/all_demo.jsonl"),
        linked.join("bods-synthetic-nz.jsonl"),
    ]
    .into_iter()
    .filter(|p| p.is_file())
    .collect();
    if !bods_files.is_empty() {
        let protected = Some(linked.join("protected.json")).filter(|p| p.is_file());
        let bods = crate::bods::IngestArgs::new(bods_files, args.database.clone(), protected);
        if crate::bods::ingest(bods)? == crate::EXIT_FAILURE {
            bail!("the register's sample data could not be read");
        }
    }
    let rt = runtime()?;
    rt.block_on(async {
        let store = open(&args.database).await?;
        // The action plan, unless the database has one already (then it is left as it
        // stands, agencies' updates and all).
        let plan_file = data.join("../plan/nap4.json");
        if plan_file.is_file() && store.plan_current().await?.is_none() {
            let text = std::fs::read_to_string(&plan_file)
                .with_context(|| format!("reading {}", plan_file.display()))?;
            let Some(plan) = crate::plan::check(&plan_file.display().to_string(), &text) else {
                bail!("the sample plan {} is not valid", plan_file.display());
            };
            crate::plan::import_plan(&store, &plan, "nap4.json", "plan import").await?;
        }
        let listener = bind_next_free(&args.bind).await?;
        run_server(store, listener, Config::default()).await
    })?;
    Ok(0)
}

pub fn token(cmd: TokenCommand) -> Result<u8> {
    let rt = runtime()?;
    rt.block_on(async {
        match cmd {
            TokenCommand::Create {
                publisher,
                ocid_prefix,
                scopes,
                database,
            } => {
                let store = open(&database).await?;
                let t = store
                    .create_token_scoped(&publisher, ocid_prefix.as_deref(), &scopes)
                    .await?;
                let mut can = Vec::new();
                if !t.info.ocid_prefix.is_empty() {
                    can.push(format!("ocids starting {}", t.info.ocid_prefix));
                }
                can.extend(t.info.scopes.iter().cloned());
                eprintln!(
                    "Token {} for {} ({}). It is shown once: keep it secret.",
                    t.info.token_id,
                    t.info.publisher,
                    can.join(", ")
                );
                println!("{}", t.token);
            }
            TokenCommand::Revoke { token_id, database } => {
                let store = open(&database).await?;
                if !store.revoke_token(&token_id).await? {
                    bail!("no active token has the id {token_id}");
                }
                eprintln!("Token {token_id} revoked.");
            }
        }
        Ok(0)
    })
}

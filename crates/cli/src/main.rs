//! `tuwhera`: the command-line entry point of the Tuwhera platform.

mod bods;
mod flags;
mod ingest;
mod ocds;
mod plan;
mod serve;

// The merge and parse paths allocate many small objects; mimalloc is markedly faster there than glibc malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Tuwhera: open-government transparency — procurement data (OCDS), beneficial
/// ownership (BODS) and New Zealand's Open Government Partnership action plan.
#[derive(Parser)]
#[command(name = "tuwhera", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Work with Open Contracting Data Standard (OCDS) files.
    #[command(subcommand)]
    Ocds(ocds::OcdsCommand),
    /// Store OCDS releases in the platform's database and compile the processes that changed.
    #[command(
        after_help = "Examples:\n  tuwhera ingest data/ocds/real-examples/moldova/releases/*.json\n  tuwhera ingest --database postgres://localhost/tuwhera releases.jsonl.gz\n\nIngesting the same file twice changes nothing. Releases that cannot be kept go to the quarantine, with their reasons.\nExit status: 0 all kept, 1 some quarantined, 2 usage, I/O or database failure."
    )]
    Ingest(ingest::IngestArgs),
    /// Work with Beneficial Ownership Data Standard (BODS 0.4) statements.
    #[command(subcommand)]
    Bods(bods::BodsCommand),
    /// Red flags (risk signals, not proof) over compiled releases: a file, or the database.
    #[command(
        after_help = "Examples:\n  tuwhera flags compiled.jsonl.gz > flags.json\n  tuwhera flags --settings cardinal-settings.ini --format cardinal compiled.jsonl\n  tuwhera flags --format csv -o flags.csv compiled.jsonl\n  tuwhera flags --database sqlite://tuwhera.db --settings flags.toml\n\nSettings and every indicator: docs/indicators/. Exit status: 0 done, 1 some lines were not JSON (named on stderr), 2 usage or I/O failure."
    )]
    Flags(flags::FlagsArgs),
    /// The Open Government Partnership action plan as data: check a plan file, import it.
    #[command(subcommand)]
    Plan(plan::PlanCommand),
    /// Serve the platform over HTTP: the JSON API, its OpenAPI document, the web pages and the downloads.
    #[command(
        after_help = "Examples:\n  tuwhera serve\n  tuwhera serve --database postgres://localhost/tuwhera --bind 0.0.0.0:8080\n\nThe first line printed is the address. Logs go to stderr; set TUWHERA_LOG=info for one line per request."
    )]
    Serve(serve::ServeArgs),
    /// Try the platform: ingest the bundled sample data into an embedded database and serve it.
    #[command(
        after_help = "Examples:\n  tuwhera demo\n  tuwhera demo --bind 127.0.0.1:9000\n\nThe sample: every .json/.jsonl file under data/ocds (the real publishers) and data/ocds/dgcp-1000.jsonl.gz; the beneficial ownership register: data/bods/uk-psc-gleif-bods04 (real UK PSC + GLEIF) and data/linked (SYNTHETIC NZ companies and the releases that link them); the action plan: data/plan/nap4.json (imported when the database has no plan yet).\nIngesting again changes nothing. Ctrl-C stops the server."
    )]
    Demo(serve::DemoArgs),
    /// Manage publishers' tokens for POST /api/v1/releases and /api/v1/statements, and agencies' tokens for the action plan.
    #[command(
        subcommand,
        after_help = "Examples:\n  tuwhera token create --publisher \"Ministry of Health\" --ocid-prefix ocds-abc123\n  tuwhera token create --publisher \"Companies Office\" --scope bods:write\n  tuwhera token create --publisher \"Department of Internal Affairs\" --scope plan:3\n  tuwhera token create --publisher \"OGP moderators\" --scope plan:moderate\n  tuwhera token revoke 24460ca9a6fe\n\nA token is printed once; only its hash is kept. It writes only ocids that start with its prefix and a dash, and what its scopes allow: bods:write (POST /api/v1/statements), plan:N (commitment N's progress, and answering and moderating its questions; sign in at /sign-in), plan:moderate (moderating every commitment's questions)."
    )]
    Token(serve::TokenCommand),
}

/// Exit codes: 0 clean, 1 the data had errors, 2 usage or I/O failure.
pub const EXIT_DATA_ERRORS: u8 = 1;
pub const EXIT_FAILURE: u8 = 2;

/// Refuse transparent huge pages for this process. Compile and validate allocate
/// hundreds of MB at once; when the kernel has to compact memory to back them with
/// huge pages, reading a 290 MB file measured 1.5–2 s instead of 0.5–0.7 s.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE takes integer arguments only and touches no
    // memory of ours; a failure (old kernel) only leaves the default in place.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> ExitCode {
    no_transparent_huge_pages();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_FAILURE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Ocds(cmd) => ocds::run(cmd),
        Command::Ingest(args) => ingest::run(args),
        Command::Flags(args) => flags::run(args),
        Command::Bods(cmd) => bods::run(cmd),
        Command::Plan(cmd) => plan::run(cmd),
        Command::Serve(args) => serve::serve(args),
        Command::Demo(args) => serve::demo(args),
        Command::Token(cmd) => serve::token(cmd),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("tuwhera: error: {e:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

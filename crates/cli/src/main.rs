//! `rekisteri`: runs the whole system locally (`up`), runs one service (`serve`), and is the
//! command-line client of every service.

mod catalogue;
mod connect;
mod customers;
mod disclosures;
mod enrich;
mod operations;
mod output;
mod serve;
mod up;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator: request handling allocates many small, short-lived
/// buffers across threads, where glibc's allocator showed up as a seventh of the CPU in profiles.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "rekisteri",
    version,
    about = "Personal data registers the way Finnish and EU law expects"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole system locally: every service on SQLite under --data-dir, and NATS (started
    /// here when none is reachable). Prints the endpoints and an admin token; Ctrl-C stops it.
    Up(up::UpArgs),
    /// Run one service, configured by defaults, --config FILE and REKISTERI_<SECTION>__<KEY>.
    Serve(serve::ServeArgs),
    /// The register catalogue: create, edit, publish, retire and read registers.
    Catalogue(catalogue::CatalogueArgs),
    /// The customer data: persons, organisations and their contacts, finds, marketing
    /// prohibitions, export and erasure.
    Customers(customers::CustomersArgs),
    /// The disclosure log: record and list disclosures, summaries, a subject's disclosures with
    /// proofs, checkpoints, and verification of the log from outside.
    Disclosures(disclosures::DisclosuresArgs),
    /// Outside data: businesses from PRH/YTJ, credit information, company contacts, the opt-out
    /// list and plugged-in adapters; enrich a subject; sources and provenance.
    Enrich(enrich::EnrichArgs),
    /// A service's state: database, NATS, outbox backlog, parked events, dead letters.
    Status(operations::StatusArgs),
    /// Outbox events the relay parked after repeated failures: list them, retry them.
    Outbox(operations::OutboxArgs),
    /// Messages a consumer gave up on: list them, replay them.
    DeadLetters(operations::DeadLetterArgs),
    /// Make a new random bearer token and print the SHA-256 to put in `auth.static_tokens`.
    Token,
}

#[tokio::main]
async fn main() -> ExitCode {
    no_transparent_huge_pages();
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Up(_) | Command::Serve(_)) {
        restore_sigpipe();
    }
    let result = match cli.command {
        Command::Up(args) => up::run(args).await,
        Command::Serve(args) => serve::run(args).await,
        Command::Catalogue(args) => catalogue::run(args).await,
        Command::Customers(args) => customers::run(args).await,
        Command::Disclosures(args) => disclosures::run(args).await,
        Command::Enrich(args) => enrich::run(args).await,
        Command::Status(args) => operations::status(args).await,
        Command::Outbox(args) => operations::outbox(args).await,
        Command::DeadLetters(args) => operations::dead_letters(args).await,
        Command::Token => {
            let token = new_token();
            println!("token:  {token}");
            println!("sha256: {}", rekisteri_platform::auth::hash_token(&token));
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => output::report_error(&err),
    }
}

/// 32 random bytes as hex.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// Where `up` keeps its data unless told otherwise, and where client commands look for the
/// local admin token.
pub const DEFAULT_DATA_DIR: &str = ".rekisteri";

/// mimalloc commits its arenas eagerly, and with transparent huge pages the kernel backs each
/// touched region with 2 MiB pages: an idle service held 23 MiB of anonymous memory, 5 MiB without
/// them (measured with /proc/PID/status, `rekisteri serve catalogue`, docs/performance.md). The
/// services allocate small objects; huge pages buy them nothing.
#[allow(unsafe_code)]
fn no_transparent_huge_pages() {
    // SAFETY: prctl(PR_SET_THP_DISABLE) only sets a flag on this process; no memory is touched.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// `rekisteri catalogue import FILE | head` should end quietly, as other Unix tools do, rather
/// than panic on the closed pipe: Rust ignores SIGPIPE by default; restore the default action.
/// Only for the client commands: a server (`up`, `serve`) writing to a socket its peer has just
/// closed must get EPIPE and carry on, not be killed by the signal.
#[allow(unsafe_code)]
fn restore_sigpipe() {
    // SAFETY: changes only the process-wide disposition of SIGPIPE, which no other code here sets.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

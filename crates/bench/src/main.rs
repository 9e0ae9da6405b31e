//! `sundial-bench`: every scenario of the benchmark issue against the peer a user would pick
//! instead, in one run on one machine, written to docs/BENCHMARKS.md with ratios.
//!
//! `--quick` runs tiny sizes (the test suite does, so the harness cannot rot).
//! `child …` subcommands run one side of a scenario in a process of its own, so memory and
//! wake-ups are measured for that side alone.

mod b10;
mod b11;
mod b7;
mod b8;
mod b9;
mod report;
mod scenarios;
mod util;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "sundial-bench",
    about = "Sundial's benchmarks against their peers"
)]
struct Args {
    /// Tiny sizes, for the test suite: checks the harness, not the numbers.
    #[arg(long)]
    quick: bool,
    /// Only these scenarios (b1,b2,… or B1,B2,…); the other rows of the report are kept.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Where the report goes.
    #[arg(long, default_value = "docs/BENCHMARKS.md")]
    out: PathBuf,
    #[command(subcommand)]
    child: Option<Child>,
}

#[derive(Subcommand)]
enum Child {
    /// One side of B3: load N jobs, stay idle, report load time, wake-ups and memory.
    B3 {
        #[arg(long)]
        peer: bool,
        #[arg(long)]
        jobs: usize,
        #[arg(long)]
        idle_secs: u64,
        #[arg(long)]
        db: PathBuf,
    },
    /// Sundial's side of B4: run a job writing `bytes` of lines, report time and peak memory.
    B4 {
        #[arg(long)]
        bytes: u64,
        #[arg(long)]
        dir: PathBuf,
    },
    /// One side of B10: the scheduling engine (or, with --peer, the old daemon's 500 ms
    /// revision poll) on a database another process edits; a line per `JobChanged`.
    B10 {
        #[arg(long)]
        peer: bool,
        #[arg(long)]
        db: PathBuf,
    },
}

fn main() {
    let args = Args::parse();
    if let Some(child) = args.child {
        // A child measures one thing on one thread, so wake-ups are those of the scheduler.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        let runtime = runtime.unwrap_or_else(|e| fail(&format!("no runtime: {e}")));
        let out = runtime.block_on(async {
            match child {
                Child::B3 {
                    peer,
                    jobs,
                    idle_secs,
                    db,
                } => scenarios::b3_child(peer, jobs, idle_secs, &db).await,
                Child::B4 { bytes, dir } => scenarios::b4_child(bytes, &dir).await,
                Child::B10 { peer, db } => b10::b10_child(peer, &db).await,
            }
        });
        println!("{out}");
        return;
    }
    let runtime =
        tokio::runtime::Runtime::new().unwrap_or_else(|e| fail(&format!("no runtime: {e}")));
    let wanted =
        |id: &str| args.only.is_empty() || args.only.iter().any(|o| o.eq_ignore_ascii_case(id));
    let sizes = scenarios::Sizes::new(args.quick);
    let mut rows = Vec::new();
    for (id, run) in scenarios::ALL {
        if wanted(id) {
            eprintln!("sundial-bench: {id} …");
            match runtime.block_on(run(&sizes)) {
                Ok(mut r) => rows.append(&mut r),
                Err(e) => fail(&format!("{id}: {e}")),
            }
        }
    }
    // With --only, the other scenarios' rows of the existing report are kept.
    let kept: Vec<String> = if args.only.is_empty() {
        Vec::new()
    } else {
        std::fs::read_to_string(&args.out)
            .unwrap_or_default()
            .lines()
            .filter(|l| {
                l.strip_prefix("| B")
                    .and_then(|rest| rest.split(' ').next())
                    .is_some_and(|n| {
                        !args
                            .only
                            .iter()
                            .any(|o| o.eq_ignore_ascii_case(&format!("b{n}")))
                    })
            })
            .map(str::to_string)
            .collect()
    };
    let text = report::render(
        &rows,
        &kept,
        &sizes,
        &std::env::args().collect::<Vec<_>>().join(" "),
    );
    if let Some(parent) = args.out.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    std::fs::write(&args.out, text)
        .unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", args.out.display())));
    eprintln!("sundial-bench: wrote {}", args.out.display());
}

fn fail(message: &str) -> ! {
    eprintln!("sundial-bench: {message}");
    std::process::exit(1)
}

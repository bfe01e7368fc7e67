//! `lot`: headless runs of lagrangian-ot experiments.
//!
//! ```text
//! lot list
//! lot reproduce <experiment> [--quick] [--seed N] [--out DIR]
//! ```

use clap::{Parser, Subcommand};
use lagrangian_ot::experiments::{self, RunConfig};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "lot",
    version,
    about = "Neural optimal transport with Lagrangian costs: headless runs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the registered experiments.
    List,
    /// Run an experiment; write DIR/metrics.json (ours beside the paper's) and DIR/figure.svg.
    Reproduce {
        /// Experiment name (see `lot list`).
        experiment: String,
        /// CI-sized run: fewer iterations and samples.
        #[arg(long)]
        quick: bool,
        /// Seed for every random draw.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output folder (default: out/<experiment>).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List => {
            let width = experiments::REGISTRY
                .iter()
                .map(|e| e.name.len())
                .max()
                .unwrap_or(0);
            for e in experiments::REGISTRY {
                println!("{:<width$}  {}", e.name, e.description);
            }
            Ok(())
        }
        Command::Reproduce {
            experiment,
            quick,
            seed,
            out,
        } => {
            let out_dir = out.unwrap_or_else(|| PathBuf::from("out").join(&experiment));
            let config = RunConfig {
                quick,
                seed,
                out_dir: out_dir.clone(),
            };
            experiments::reproduce(&experiment, &config).map(|report| {
                println!("{report}");
                println!(
                    "wrote {} and {}",
                    out_dir.join("metrics.json").display(),
                    out_dir.join("figure.svg").display()
                );
            })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lot: {e}");
            ExitCode::FAILURE
        }
    }
}

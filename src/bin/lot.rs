//! `lot`: headless runs of lagrangian-ot experiments.
//!
//! ```text
//! lot list
//! lot reproduce <experiment> [--quick] [--seed N] [--out DIR]
//! lot hti fit --data DIR [--anchors 0,2] [--variant ktheta-u] [--preset fast|paper|quick] --save MODEL
//! lot hti sample --model MODEL --at T [--cond FILE.npy] [--n N] --out OUT.npy
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
    /// Hyperparameter trajectory inference on your own data.
    Hti {
        #[command(subcommand)]
        command: HtiCommand,
    },
}

#[derive(Subcommand)]
enum HtiCommand {
    /// Fit a CLOT surrogate on a dataset folder (y.npy [K,N,D], x.npy [K,N,C] or label.npy [K,N],
    /// hyperparam.npy [K]) and save it.
    Fit {
        /// The dataset folder.
        #[arg(long)]
        data: PathBuf,
        /// Which of the K slices are training anchors, comma-separated (default: the manifest's
        /// training anchors, else all). They are placed at their hyperparameter values.
        #[arg(long, value_delimiter = ',')]
        anchors: Option<Vec<usize>>,
        /// ki, ki-u, ktheta, ktheta-u (the full method), nlot, fixed-u.
        #[arg(long, default_value = "ktheta-u")]
        variant: String,
        /// fast (CPU default), paper (the reference configuration, hours on a CPU) or quick (smoke test).
        #[arg(long, default_value = "fast")]
        preset: String,
        /// Training steps (default: the preset's).
        #[arg(long)]
        iterations: Option<usize>,
        /// Seed of weights and batches.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Folder to write the fitted surrogate to.
        #[arg(long)]
        save: PathBuf,
    },
    /// Sample a saved surrogate at hyperparameter T.
    Sample {
        /// A folder written by `lot hti fit --save`.
        #[arg(long)]
        model: PathBuf,
        /// The hyperparameter value, inside the training anchors' range.
        #[arg(long)]
        at: f32,
        /// Conditions: labels [N] (integers) or continuous rows [N, C] (float32); one row is repeated
        /// --n times. Omit for unconditional data.
        #[arg(long)]
        cond: Option<PathBuf>,
        /// Number of samples (default: the number of condition rows).
        #[arg(long)]
        n: Option<usize>,
        /// Seed of the start samples drawn from the first anchor.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Where to write the samples [N, D] (float32 .npy).
        #[arg(long)]
        out: PathBuf,
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
        Command::Hti { command } => hti::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lot: {e}");
            ExitCode::FAILURE
        }
    }
}

mod hti {
    use super::HtiCommand;
    use lagrangian_ot::data::{AnchoredDataset, ConditionView};
    use lagrangian_ot::progress::ProgressMode;
    use lagrangian_ot::solver::{Hti, HtiPreset, HtiVariant};
    use lagrangian_ot::surrogate::{ConditionEncoding, HtiSurrogate, Surrogate};
    use lagrangian_ot::{Error, Result};
    use ndarray::{Array1, Array2, Axis};
    use std::path::Path;

    pub fn run(command: HtiCommand) -> Result<()> {
        match command {
            HtiCommand::Fit {
                data,
                anchors,
                variant,
                preset,
                iterations,
                seed,
                save,
            } => fit(&data, anchors, &variant, &preset, iterations, seed, &save),
            HtiCommand::Sample {
                model,
                at,
                cond,
                n,
                seed,
                out,
            } => sample(&model, at, cond.as_deref(), n, seed, &out),
        }
    }

    fn fit(
        data: &Path,
        anchors: Option<Vec<usize>>,
        variant: &str,
        preset: &str,
        iterations: Option<usize>,
        seed: u64,
        save: &Path,
    ) -> Result<()> {
        let variant = HtiVariant::from_name(variant)?;
        let preset = HtiPreset::from_name(preset)?;
        let dataset = AnchoredDataset::load(data)?;
        let anchors = anchors.unwrap_or_else(|| dataset.training_anchors().to_vec());
        let mut builder = Hti::builder()
            .data(&dataset)
            .anchors(&anchors)
            .preset(preset)
            .variant(variant)
            .seed(seed)
            .progress(ProgressMode::Auto);
        if let Some(n) = iterations {
            builder = builder.iterations(n);
        }
        let model = builder.build()?.fit()?;
        model.surrogate().save(save)?;
        let times = model.surrogate().anchor_times();
        println!(
            "fitted CLOT {} on {} anchors at {:?} in {:.1} s; saved to {}",
            variant.paper_name(),
            times.len(),
            times,
            model.history().seconds,
            save.display()
        );
        Ok(())
    }

    fn sample(
        model: &Path,
        at: f32,
        cond: Option<&Path>,
        n: Option<usize>,
        seed: u64,
        out: &Path,
    ) -> Result<()> {
        let surrogate = HtiSurrogate::load(model)?;
        let samples = match (surrogate.encoding(), cond) {
            (ConditionEncoding::None, None) => {
                let n = n.ok_or_else(|| Error::InvalidArgument("give --n for unconditional data".into()))?;
                surrogate.sample(at, &ConditionView::None, n, seed)?
            }
            (ConditionEncoding::None, Some(_)) => {
                return Err(Error::InvalidArgument(
                    "this model is unconditional: drop --cond".into(),
                ))
            }
            (_, None) => {
                return Err(Error::InvalidArgument(
                    "this model is conditional: give --cond FILE.npy".into(),
                ))
            }
            (ConditionEncoding::Categorical { .. }, Some(path)) => {
                let labels = repeat_rows(read_labels(path)?.insert_axis(Axis(1)), n, path)?
                    .column(0)
                    .to_owned();
                surrogate.sample(at, &ConditionView::Categorical(labels.view()), labels.len(), seed)?
            }
            (ConditionEncoding::Continuous { .. }, Some(path)) => {
                let x: Array2<f32> = ndarray_npy::read_npy(path).map_err(|e| npy_error(path, e))?;
                let x = repeat_rows(x, n, path)?;
                surrogate.sample(at, &ConditionView::Continuous(x.view()), x.nrows(), seed)?
            }
        };
        ndarray_npy::write_npy(out, &samples).map_err(|e| npy_error(out, e))?;
        println!(
            "wrote {} samples [{}, {}] at {at} to {}",
            samples.nrows(),
            samples.nrows(),
            samples.ncols(),
            out.display()
        );
        Ok(())
    }

    fn npy_error(path: &Path, e: impl std::fmt::Display) -> Error {
        Error::Npy(format!("{}: {e}", path.display()))
    }

    /// Labels as integers of any width, or as whole-valued floats.
    fn read_labels(path: &Path) -> Result<Array1<i64>> {
        if let Ok(l) = ndarray_npy::read_npy::<_, Array1<i64>>(path) {
            return Ok(l);
        }
        if let Ok(l) = ndarray_npy::read_npy::<_, Array1<i32>>(path) {
            return Ok(l.mapv(i64::from));
        }
        let l: Array1<f32> = ndarray_npy::read_npy(path).map_err(|e| npy_error(path, e))?;
        if let Some(bad) = l.iter().find(|v| !(v.is_finite() && v.fract() == 0.0)) {
            return Err(Error::InvalidArgument(format!(
                "{}: label {bad} is not an integer",
                path.display()
            )));
        }
        Ok(l.mapv(|v| v as i64))
    }

    /// The rows as they are, or one row repeated `n` times.
    fn repeat_rows<T: Clone>(rows: Array2<T>, n: Option<usize>, path: &Path) -> Result<Array2<T>> {
        match n {
            None => Ok(rows),
            Some(n) if n == rows.nrows() => Ok(rows),
            Some(n) if rows.nrows() == 1 => Ok(rows
                .broadcast((n, rows.ncols()))
                .expect("one row broadcasts")
                .to_owned()),
            Some(n) => Err(Error::shape(
                format!("conditions in {}", path.display()),
                format!("{n} rows (--n) or 1 row"),
                rows.nrows().to_string(),
            )),
        }
    }
}

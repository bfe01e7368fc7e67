//! Reproducible experiments, registered in one table and run by `lot reproduce <name>`.
//!
//! An experiment is a plain function `fn(&RunConfig) -> Result<Report>` that uses only the public API a
//! notebook user has. [`reproduce`] runs one, times it, prints our numbers beside the paper's and writes
//! `metrics.json` and `figure.svg`. Later solvers add rows to [`REGISTRY`], not plumbing.

mod demo;
pub mod hota;
pub mod hota_digits;
pub mod hti;
pub mod metric_learning;
pub mod nctm;
pub mod nlot;
mod report;

pub use report::{Report, RunConfig};

use crate::error::{Error, Result};
use std::path::Path;
use std::time::Instant;

/// One registered experiment.
pub struct Experiment {
    /// The name `lot reproduce` takes.
    pub name: &'static str,
    /// One line saying what it reproduces.
    pub description: &'static str,
    /// Runs it.
    pub run: fn(&RunConfig) -> Result<Report>,
}

/// Every experiment `lot` knows, in the order `lot list` prints them.
pub const REGISTRY: &[Experiment] = &[
    Experiment {
        name: "demo",
        description: "two Gaussians: exact OT and Sinkhorn divergence on samples vs the closed-form Bures W2",
        run: demo::run,
    },
    Experiment {
        name: "nlot-box",
        description: "NLOT Table 1: strips around the box obstacle (W2 x100)",
        run: nlot::box_obstacle,
    },
    Experiment {
        name: "nlot-slit",
        description: "NLOT Table 1: strips through the slit (W2 x100)",
        run: nlot::slit,
    },
    Experiment {
        name: "nlot-hill",
        description: "NLOT Table 1: strips over the hill potential (W2 x100)",
        run: nlot::hill,
    },
    Experiment {
        name: "nlot-well",
        description: "NLOT Table 1: strips in the well potential (W2 x100)",
        run: nlot::well,
    },
    Experiment {
        name: "nlot-gmm",
        description: "NLOT: N(0, I) to 8 Gaussians around three GMM discs",
        run: nlot::gmm,
    },
    Experiment {
        name: "nlot-circle",
        description: "NLOT Table 2: metric learning on the circle sequence (alignment)",
        run: metric_learning::circle,
    },
    Experiment {
        name: "nlot-mass-split",
        description: "NLOT Table 2: metric learning on the mass-splitting sequence (alignment)",
        run: metric_learning::mass_split,
    },
    Experiment {
        name: "nlot-xpath",
        description: "NLOT Table 2: metric learning on the X-paths sequence (alignment)",
        run: metric_learning::xpath,
    },
    Experiment {
        name: "hti-semicircle",
        description: "HTI conditional semicircles: CLOT variants and baselines, NLL and circle distance at t = 0.25, 0.75",
        run: hti::semicircle_experiment,
    },
    Experiment {
        name: "hota-stunnel",
        description: "HOTA Table 1: S-tunnel between two ellipses (Sinkhorn W2, cost)",
        run: hota::stunnel,
    },
    Experiment {
        name: "hota-vneck",
        description: "HOTA Table 1: V-neck through the neck (Sinkhorn W2, cost)",
        run: hota::vneck,
    },
    Experiment {
        name: "hota-gmm",
        description: "HOTA Table 1: 4 to 8 Gaussians past three discs (Sinkhorn W2, cost)",
        run: hota::gmm,
    },
    Experiment {
        name: "hota-babymaze",
        description: "HOTA Table 1: strips through the baby maze (Sinkhorn W2, cost)",
        run: hota::babymaze,
    },
    Experiment {
        name: "hota-slit",
        description: "HOTA Table 1: strips through the slit (Sinkhorn W2, cost)",
        run: hota::slit,
    },
    Experiment {
        name: "hota-box",
        description: "HOTA Table 1: strips around the box (Sinkhorn W2, cost)",
        run: hota::box_obstacle,
    },
    Experiment {
        name: "hota-ablation",
        description: "HOTA Table 2: without buffer, gradient balancing, EMA target on S-tunnel, V-neck, GMM",
        run: hota::ablations,
    },
    Experiment {
        name: "hota-sphere",
        description: "HOTA sphere: pole to pole around the ball in d = 3, 10, 100, 1000 (W2/dim, cost, time per step)",
        run: hota::run_sphere,
    },
    Experiment {
        name: "nctm-gaussian",
        description: "NCTM: conditional Gaussians (3 scenarios x horizon u), map error vs the Brenier map and W2 on held-out u",
        run: nctm::gaussian,
    },
    Experiment {
        name: "nctm-ablation",
        description: "NCTM ablation: hypernetwork vs FiLM vs concatenation, positional vs scalar u, with vs without pre-training",
        run: nctm::ablation,
    },
    Experiment {
        name: "nctm-sensitivity",
        description: "NCTM: OT sensitivity indices of an analytic IAM-style model, given-data exact OT vs one conditional map",
        run: nctm::sensitivity,
    },
    Experiment {
        name: "hota-digits",
        description: "HOTA image translation on the 8x8 UCI digits: FID-style distance and target-class accuracy vs a plain W2 map",
        run: hota_digits::run,
    },
];

/// Looks an experiment up by name, with a typed error listing the known names.
pub fn find(name: &str) -> Result<&'static Experiment> {
    REGISTRY
        .iter()
        .find(|e| e.name == name)
        .ok_or_else(|| Error::UnknownExperiment {
            name: name.to_string(),
            known: REGISTRY.iter().map(|e| e.name).collect::<Vec<_>>().join(", "),
        })
}

/// Runs experiment `name`, prints the metrics table and writes `metrics.json` and `figure.svg` into
/// `config.out_dir`. Returns the report with its wall-clock time filled in.
pub fn reproduce(name: &str, config: &RunConfig) -> Result<Report> {
    let experiment = find(name)?;
    let started = Instant::now();
    let mut report = (experiment.run)(config)?;
    report.seconds = started.elapsed().as_secs_f64();
    report.experiment = experiment.name.to_string();
    report.quick = config.quick;
    report.seed = config.seed;
    write_outputs(&report, &config.out_dir)?;
    Ok(report)
}

fn write_outputs(report: &Report, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    crate::io::write_atomic(&dir.join("metrics.json"), report.to_json()?.as_bytes())?;
    report.figure.save_svg(dir.join("figure.svg"))?;
    Ok(())
}

use crate::error::Result;
use crate::plot::Figure;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// How an experiment is run: quick (CI-sized) or full (the paper's settings), its seed, where it writes.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Shrink iteration counts and sample sizes so the run takes seconds to a minute.
    pub quick: bool,
    /// Seed for every random draw of the run.
    pub seed: u64,
    /// Folder for `metrics.json` and `figure.svg`.
    pub out_dir: PathBuf,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            quick: false,
            seed: 0,
            out_dir: PathBuf::from("out"),
        }
    }
}

impl RunConfig {
    /// The configuration a notebook uses: quick when the env var `LOT_QUICK` is set to anything but `0`.
    pub fn from_env(seed: u64) -> Self {
        RunConfig {
            quick: crate::quick_mode(),
            seed,
            ..Default::default()
        }
    }
}

/// What an experiment measured, beside the paper's numbers, with its figure.
#[derive(Debug)]
pub struct Report {
    /// Registered name of the experiment (filled in by `reproduce`).
    pub experiment: String,
    /// Whether it ran in quick mode.
    pub quick: bool,
    /// Its seed.
    pub seed: u64,
    /// Our measured numbers, by metric name.
    pub metrics: BTreeMap<String, f64>,
    /// The reference numbers (paper table or closed form) under the same names.
    pub paper: BTreeMap<String, f64>,
    /// Wall-clock seconds of the run.
    pub seconds: f64,
    /// The figure the run draws.
    pub figure: Figure,
}

impl Report {
    /// An empty report holding `figure`; add numbers with [`Report::metric`].
    pub fn new(figure: Figure) -> Self {
        Report {
            experiment: String::new(),
            quick: false,
            seed: 0,
            metrics: BTreeMap::new(),
            paper: BTreeMap::new(),
            seconds: 0.0,
            figure,
        }
    }

    /// Records metric `name` = `ours`, with the reference value `paper` when there is one.
    pub fn metric(mut self, name: &str, ours: f64, paper: Option<f64>) -> Self {
        self.metrics.insert(name.to_string(), ours);
        if let Some(p) = paper {
            self.paper.insert(name.to_string(), p);
        }
        self
    }

    /// The `metrics.json` document: `{experiment, quick, seed, metrics, paper, seconds}`.
    pub fn to_json(&self) -> Result<String> {
        let doc = json!({
            "experiment": self.experiment,
            "quick": self.quick,
            "seed": self.seed,
            "metrics": self.metrics,
            "paper": self.paper,
            "seconds": self.seconds,
        });
        Ok(serde_json::to_string_pretty(&doc)?)
    }

    /// Shows the table as text and the figure as SVG in one notebook output.
    pub fn evcxr_display(&self) {
        crate::plot::print_locked(&self.figure.evcxr_output_with_text(&self.to_string()));
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.metrics.keys().map(|k| k.len()).max().unwrap_or(6).max(6);
        writeln!(
            f,
            "{} (seed {}{}, {:.1} s)",
            self.experiment,
            self.seed,
            if self.quick { ", quick" } else { "" },
            self.seconds
        )?;
        writeln!(f, "{:<width$}  {:>12}  {:>12}", "metric", "ours", "paper")?;
        for (name, ours) in &self.metrics {
            let paper = self
                .paper
                .get(name)
                .map_or("-".to_string(), |p| format_number(*p));
            writeln!(f, "{:<width$}  {:>12}  {:>12}", name, format_number(*ours), paper)?;
        }
        Ok(())
    }
}

fn format_number(v: f64) -> String {
    if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e5) {
        format!("{v:.4e}")
    } else {
        format!("{v:.5}")
    }
}

//! NLOT's metric-learning experiments (Table 2 of Pooladian et al.): learn a Riemannian metric from a
//! sequence of measures generated under a known one, scored by the alignment of eigenvectors on a
//! 100 × 100 grid. Full mode uses the paper's settings (3001 iterations); quick mode a scaled-down run.

use super::{Report, RunConfig};
use crate::data::scarvelis::{self, ScarvelisConfig, ScarvelisData, ScarvelisKind};
use crate::error::Result;
use crate::lagrangian::{Eigenvalues, GivensMetric};
use crate::nn::AdamConfig;
use crate::optim::{LbfgsConfig, LineSearch};
use crate::path::{Quadrature, SplineAmortiserConfig};
use crate::plot::Plot;
use crate::progress::ProgressMode;
use crate::solver::{LearnedMetric, MetricLearning, MetricLearningBuilder, PathSchedule};

/// The scaled-down run of quick mode on `data` (meant for 9 slices × 32 points): small networks and
/// amortiser, 8-knot paths on 10 points, ≤ 5 Armijo L-BFGS steps, larger learning rates, one metric
/// step per iteration after 20, 80 iterations, alignment every 10 on a 30 × 30 grid.
pub fn quick_builder(data: &ScarvelisData) -> MetricLearningBuilder {
    MetricLearning::scarvelis(data)
        .learned_metric(LearnedMetric::Givens(
            GivensMetric::builder(2)
                .hidden(&[32, 32])
                .eigenvalues(Eigenvalues::nlot()),
        ))
        .amortiser(SplineAmortiserConfig {
            hidden: vec![64, 64],
            adam: AdamConfig::with_lr(1e-3).clip_grad_norm(1.0),
            ..Default::default()
        })
        .paths(8, Quadrature::Reference { points: 10 })
        .path_schedule(PathSchedule {
            prefit_steps: 100,
            online: true,
            refit_every: 25,
            refit_steps: 20,
        })
        .ctransform(LbfgsConfig {
            max_iters: 5,
            line_search: LineSearch::Armijo {
                c1: 1e-4,
                shrink: 0.5,
                max_steps: 8,
            },
            curvature_safeguard: true,
            ..Default::default()
        })
        .optimizer(AdamConfig::with_lr(3e-3).weight_decay(1e-4))
        .metric_optimizer(AdamConfig::with_lr(3e-3).weight_decay(1e-4))
        .metric_schedule(20, 1)
        .iterations(80)
        .evaluation(10, 30)
}

fn run(kind: ScarvelisKind, paper_alignment: f64, config: &RunConfig) -> Result<Report> {
    let data_config = ScarvelisConfig::paper(kind, config.seed);
    let data_config = if config.quick {
        data_config.slices(9).samples(32)
    } else {
        data_config
    };
    let data = scarvelis::generate(&data_config)?;
    let builder = if config.quick {
        quick_builder(&data)
    } else {
        MetricLearning::scarvelis(&data)
    };
    let builder = builder.seed(config.seed).progress(ProgressMode::Auto);
    let model = builder.build()?.fit()?;
    let h = &model.history;
    let initial = h.alignment.first().copied().unwrap_or(f64::NAN);
    let last = h.alignment.last().copied().unwrap_or(f64::NAN);
    Ok(Report::new(model.figure())
        .metric("alignment", last, Some(paper_alignment))
        .metric("alignment_at_start", initial, None)
        .metric(
            "seconds_per_iteration",
            h.seconds / h.dual_objective.len().max(1) as f64,
            None,
        ))
}

pub(super) fn circle(config: &RunConfig) -> Result<Report> {
    run(ScarvelisKind::Circle, 0.997, config)
}
pub(super) fn mass_split(config: &RunConfig) -> Result<Report> {
    run(ScarvelisKind::MassSplitting, 0.986, config)
}
pub(super) fn xpath(config: &RunConfig) -> Result<Report> {
    run(ScarvelisKind::XPaths, 0.957, config)
}

//! NLOT's two-measure experiments (Table 1 of Pooladian et al.): transport between two vertical strips
//! under the box, slit, hill and well potentials, and the GMM-discs task, with the paper's settings in
//! full mode. The marginal W2 × 100 is measured exactly as the reference does (Sinkhorn ε = 1e-3 on
//! |x − y|², 128 fixed points), and the exact-OT W2² × 100 of the same points is reported beside it.

use super::{Report, RunConfig};
use crate::data::{toy, Measure};
use crate::device::{default_device, rng, SeededRng};
use crate::error::Result;
use crate::lagrangian::{Annealing, Euclidean, Lagrangian, Obstacle, ObstacleShape, Potential};
use crate::nn::AdamConfig;
use crate::path::{
    ActionKind, CubicSplinePath, Quadrature, SplineAction, SplineAmortiser, SplineAmortiserConfig,
};
use crate::plot::{Figure, Plot};
use crate::progress::ProgressMode;
use crate::solver::nlot::{defaults as nlot_defaults, paper_optimizer_with_peak};
use crate::solver::{AmortiserSchedule, LagrangianCost, Nlot, PathRefresh};

/// The sizes of an NLOT run; [`NlotSettings::paper`] is Table 3 of the paper as the reference runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct NlotSettings {
    /// Training iterations.
    pub iterations: usize,
    /// Minibatch size of each measure.
    pub batch_size: usize,
    /// Hidden widths of the spline amortiser.
    pub amortiser_hidden: Vec<usize>,
    /// When the amortiser learns.
    pub amortiser: AmortiserSchedule,
    /// How often a c-transform solve re-predicts the paths (default
    /// [`PathRefresh::EveryEvaluation`], the reference's).
    pub path_refresh: PathRefresh,
    /// Iterations over which the obstacle is annealed in.
    pub annealing_steps: usize,
    /// Evaluation period (iterations).
    pub eval_every: usize,
    /// AdamW of the potential and the map; `None` is the paper's cosine-decayed 5e-5.
    pub optimizer: Option<AdamConfig>,
}

impl NlotSettings {
    /// 10 001 iterations, batch 1024, amortiser 1024×1024, pre-fit/refit 5001 steps every 25 its,
    /// annealing over 2000 its, evaluation every 250.
    pub fn paper() -> Self {
        NlotSettings {
            iterations: 10_001,
            batch_size: 1024,
            amortiser_hidden: vec![1024, 1024],
            amortiser: AmortiserSchedule::default(),
            path_refresh: PathRefresh::default(),
            annealing_steps: 2000,
            eval_every: 250,
            optimizer: None,
        }
    }

    /// A CPU-sized run (minutes on 2 cores): a quarter of the paper's iterations at a 4× higher peak
    /// rate (same cosine decay, to 1e-4 of the peak), a 256×256 amortiser, shorter refits, and paths
    /// held fixed per c-transform solve ([`PathRefresh::OncePerSolve`]).
    ///
    /// Not yet the paper's accuracy on average. Box, seeds 0 / 1 / 2 (`examples/nlot_table1.rs`, two
    /// jobs at a time on 2 cores, 1755–2152 s per run), with NLOT's default c-transform (the reference
    /// code's line search): final W2 × 100 2.59 / 2.17 / 3.61, best after annealing 2.35 / 1.29 /
    /// 3.57 (paper 1.6 ± 0.2); the exact W2² × 100 on 2048 fresh points is 0.40 / 0.60 / 0.16
    /// against a floor of 0.05–0.06.
    ///
    /// Most of the gap to the paper is now the 128-point protocol
    /// ([`NlotModel::sampling_check`](crate::solver::NlotModel::sampling_check)): a perfect map would
    /// score 2.15 ± 1.15, 2.23 ± 1.21 and 1.98 ± 0.60 on average on the evaluation points of seeds 0,
    /// 1 and 2 (20 fresh target samples each), and the translation x ↦ x + (2.25, 0), which maps the
    /// source strip onto the target strip exactly, scores 3.77 on seed 2's. Seed 2's map, the most
    /// accurate on 2048 points, scores 3.61.
    ///
    /// With the paper's Armijo search ([`paper_ctransform`](crate::solver::nlot::paper_ctransform)) in
    /// training and evaluation the same runs gave final 3.34 / 1.39 / 3.99 (best 2.95 / 1.21 / 3.50) and
    /// 2048-point errors of 1.06 / 0.60 / 0.65: the Armijo search lets the refinement leave the target
    /// (see its doc). The paper's `PathRefresh::EveryEvaluation` in place of `OncePerSolve`, with the
    /// Armijo search, lowered box seed 0's 2048-point error only from 1.06 to 0.90.
    ///
    /// Slit, hill and well, seeds 0 / 1 / 2, with the default search: final slit 4.60 / 3.75 / 3.72
    /// (paper 1.3 ± 0.2; 2048-point error 4.27 / 2.86 / 0.12), hill 2.53 / 1.14 / 4.05 (1.8 ± 1.3;
    /// 0.36 / 0.90 / 0.34), well 2.96 / 1.30 / 3.91 (1.3 ± 0.3; 0.81 / 0.57 / 0.46). The
    /// Armijo search gave slit 2.50 / 2.85 / 2.52, hill 3.01 / 1.16 / 4.49 and well 2.71 / 1.30 / 3.91.
    /// Slit seeds 0 and 1 learned the reversed assignment along the strips (correlation of x2 with
    /// T(x)'s x2: −0.97), which the paths pay for by crossing in the opening: on seed 0's pushforward
    /// the order-keeping reassignment costs 0.153 by geodesics against the map's 0.167. The
    /// amortiser, refitted online on the map's own pairs, prices those order-keeping pairs at 0.88
    /// (through the wall), so the c-transform never moves to them
    /// (`examples/nlot_table1.rs diagnose=DIR`).
    pub fn fast() -> Self {
        let iterations = 2501;
        NlotSettings {
            iterations,
            batch_size: 1024,
            amortiser_hidden: vec![256, 256],
            amortiser: AmortiserSchedule {
                prefit_steps: 2001,
                batch: 1024,
                online: true,
                refit_every: 25,
                refit_steps: 501,
                refit_until: iterations - 500,
            },
            path_refresh: PathRefresh::OncePerSolve,
            annealing_steps: 500,
            eval_every: 100,
            optimizer: Some(paper_optimizer_with_peak(
                4.0 * nlot_defaults::LEARNING_RATE,
                iterations,
            )),
        }
    }

    /// A CI-sized run (seconds to a minute on 2 cores) that still has to move the mass across.
    pub fn quick() -> Self {
        NlotSettings {
            iterations: 300,
            batch_size: 256,
            amortiser_hidden: vec![128, 128],
            amortiser: AmortiserSchedule {
                prefit_steps: 200,
                batch: 256,
                online: true,
                refit_every: 50,
                refit_steps: 50,
                refit_until: 250,
            },
            path_refresh: PathRefresh::default(),
            annealing_steps: 100,
            eval_every: 100,
            // 300 steps at the paper's 5e-5 barely move the networks; a larger constant rate does.
            optimizer: Some(AdamConfig::with_lr(1e-3).weight_decay(1e-4).clip_grad_norm(5.0)),
        }
    }
}

/// The two strips of the `lsb_*` tasks: x₁ ~ U[−1.25, −1], x₂ ~ U[−1, 1] and its mirror image.
pub fn strips() -> (Measure, Measure) {
    (
        Measure::from_fn("left strip", 2, |r, n| {
            toy::uniform_box(r, n, &[-1.25, -1.0], &[-1.0, 1.0])
        }),
        Measure::from_fn("right strip", 2, |r, n| {
            toy::uniform_box(r, n, &[1.0, -1.0], &[1.25, 1.0])
        }),
    )
}

/// The `gsb_gmm` task: N(0, I) to eight unit Gaussians on the circle of radius 16. (The reference draws
/// both from one random stream, so its target noise repeats the source's; here they are independent.)
pub fn gmm_measures() -> (Measure, Measure) {
    let centres: Vec<Vec<f32>> = (0..8)
        .map(|k| {
            let a = k as f32 * std::f32::consts::FRAC_PI_4;
            vec![16.0 * a.cos(), 16.0 * a.sin()]
        })
        .collect();
    (
        Measure::from_fn("N(0, I)", 2, |r, n| toy::gaussian(r, n, &[0.0, 0.0], 1.0)),
        Measure::from_fn("8 Gaussians, radius 16", 2, move |r, n| {
            toy::gaussian_mixture(r, n, &centres, 1.0)
        }),
    )
}

/// The configured (not yet trained) NLOT problem for one obstacle: Euclidean kinetic energy minus the
/// obstacle (annealed in), action on the reference 20-point polygon, spline amortiser, c-transform
/// clipped to the obstacle's bounds.
pub fn obstacle_problem(
    shape: ObstacleShape,
    settings: &NlotSettings,
    seed: u64,
) -> Result<crate::solver::NlotBuilder<LagrangianCost<Euclidean, Obstacle>>> {
    let obstacle = Obstacle::new(shape);
    let bounds = Potential::<crate::device::Device>::bounds(&obstacle);
    let annealing = Annealing {
        steps: settings.annealing_steps,
        ..Annealing::for_obstacle(&obstacle)
    };
    let dev = default_device(seed);
    let action = SplineAction::new(
        &dev,
        CubicSplinePath::nlot(2)?,
        Quadrature::default(),
        ActionKind::Lagrangian,
    )?;
    let amortiser_config = SplineAmortiserConfig {
        hidden: settings.amortiser_hidden.clone(),
        ..Default::default()
    };
    let amortiser = SplineAmortiser::new(action, 0, amortiser_config)?;
    let cost = LagrangianCost::new(Lagrangian::euclidean(2).with_potential(obstacle), amortiser)
        .schedule(settings.amortiser.clone())
        .path_refresh(settings.path_refresh)
        .on_step(move |it, lagrangian| annealing.apply(&mut lagrangian.potential, it));
    let (source, target) = if shape == ObstacleShape::GmmDiscs {
        gmm_measures()
    } else {
        strips()
    };
    let builder = Nlot::builder(cost)
        .source(source)
        .target(target)
        .iterations(settings.iterations)
        .batch_size(settings.batch_size)
        .evaluation(settings.eval_every, crate::solver::nlot::defaults::EVAL_SIZE)
        .seed(seed);
    let builder = match settings.optimizer {
        Some(adam) => builder.optimizer(adam),
        None => builder,
    };
    Ok(match bounds {
        Some(b) => builder.bounds(b),
        None => builder,
    })
}

/// Trains one obstacle task and reports its marginal W2 × 100 beside the paper's.
fn run_obstacle(shape: ObstacleShape, paper_w2_x100: Option<f64>, config: &RunConfig) -> Result<Report> {
    let settings = if config.quick {
        NlotSettings::quick()
    } else {
        NlotSettings::paper()
    };
    let model = obstacle_problem(shape, &settings, config.seed)?
        .progress(ProgressMode::Auto)
        .build()?
        .fit()?;
    let check = model.sampling_check(
        SAMPLING_TRIALS,
        if config.quick { 256 } else { LARGE_SAMPLE },
        &mut sampling_rng(config.seed),
    )?;
    let h = &model.history;
    let last = h.eval_sinkhorn_w2_x100.last().copied().unwrap_or(f64::NAN);
    let last_exact = h.eval_exact_w2_x100.last().copied().unwrap_or(f64::NAN);
    // The reference keeps the best evaluation after annealing as its checkpoint.
    let best = h.best_w2_x100_from(settings.annealing_steps).unwrap_or(last);

    let pushed = model.transport(&model.eval_source)?;
    let shown = model.eval_source.nrows().min(64);
    let paths = model.paths(&model.eval_source.slice(ndarray::s![..shown, ..]).to_owned(), 20)?;
    let scene = model
        .cost
        .lagrangian
        .plot()
        .paths_by_time(&paths)
        .samples(&model.eval_source, "source")
        .samples(&model.eval_target, "target")
        .samples(&pushed, "pushforward")
        .title(&format!(
            "NLOT, {} obstacle",
            Potential::<crate::device::Device>::name(&model.cost.lagrangian.potential)
        ))
        .figure();
    let mut panels = vec![scene];
    panels.extend(training_curves(&model.history));
    let figure = Figure::grid(3, panels);
    Ok(Report::new(figure)
        .metric("w2_x100", last, paper_w2_x100)
        .metric("w2_x100_best_after_annealing", best, paper_w2_x100)
        .metric("exact_w2sq_x100", last_exact, None)
        .metric("sampling_floor_w2_x100", check.floor_x100, None)
        .metric("sampling_floor_std_w2_x100", check.floor_std_x100, None)
        .metric("large_sample_exact_w2sq_x100", check.large_x100, None)
        .metric("large_sample_floor_exact_w2sq_x100", check.large_floor_x100, None)
        .metric(
            "mean_ctransform_iterations",
            mean_tail(&h.ctransform_iterations),
            None,
        )
        .metric(
            "seconds_per_iteration",
            h.seconds / settings.iterations as f64,
            None,
        ))
}

/// Fresh target samples scored for the sampling floor of [`crate::solver::SamplingCheck`].
pub const SAMPLING_TRIALS: usize = 20;
/// Points per cloud of the large-sample check in full mode.
pub const LARGE_SAMPLE: usize = 2048;

/// The stream of [`crate::solver::NlotModel::sampling_check`]'s fresh samples for a run seeded
/// `seed`: split off the training stream, whose first draws are the evaluation points themselves.
pub fn sampling_rng(seed: u64) -> SeededRng {
    rng(seed ^ 0x5a3c_9e37_79b9_7f4a)
}

fn mean_tail(values: &[f64]) -> f64 {
    let tail = &values[values.len().saturating_sub(50)..];
    tail.iter().sum::<f64>() / tail.len().max(1) as f64
}

fn training_curves(h: &crate::solver::NlotHistory) -> Vec<Figure> {
    let steps: Vec<f64> = (0..h.dual_objective.len()).map(|i| i as f64).collect();
    let at: Vec<f64> = h.eval_iteration.iter().map(|&i| i as f64).collect();
    vec![
        Figure::new()
            .title("dual objective")
            .x_label("iteration")
            .line_xy(&steps, &h.dual_objective, "dual"),
        Figure::new()
            .title("evaluation W2 × 100 (Sinkhorn ε = 1e-3)")
            .x_label("iteration")
            .line_xy(&at, &h.eval_sinkhorn_w2_x100, "pushforward vs target"),
    ]
}

pub(super) fn box_obstacle(config: &RunConfig) -> Result<Report> {
    run_obstacle(ObstacleShape::Box, Some(1.6), config)
}
pub(super) fn slit(config: &RunConfig) -> Result<Report> {
    run_obstacle(ObstacleShape::Slit, Some(1.3), config)
}
pub(super) fn hill(config: &RunConfig) -> Result<Report> {
    run_obstacle(ObstacleShape::Hill, Some(1.8), config)
}
pub(super) fn well(config: &RunConfig) -> Result<Report> {
    run_obstacle(ObstacleShape::Well, Some(1.3), config)
}
pub(super) fn gmm(config: &RunConfig) -> Result<Report> {
    run_obstacle(ObstacleShape::GmmDiscs, None, config)
}

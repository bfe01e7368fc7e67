//! Metric learning from a sequence of measures: Algorithm 2 of Pooladian et al., "Neural Optimal
//! Transport with Lagrangian Costs" (spec: the project's `specs/nlot.md` §13).
//!
//! Given snapshots ρ₀ … ρ_{K−1} of a population that drifts along an unknown direction field, learn
//! the Riemannian metric A under which the drift is cheapest: the metric that minimises the total
//! optimal-transport cost Σ_t OT_A(ρ_t, ρ_{t+1}). Each consecutive pair gets its own Kantorovich
//! potential g_t and amortised map T_t; all pairs share one learned metric (a [`GivensMetric`]) and
//! one spline amortiser that predicts the paths whose action is the cost (½L², the squared
//! Riemannian length). The metric is updated far less often than the potentials, by the envelope
//! theorem: at the optimal potentials and c-transforms, the gradient of the dual value with respect
//! to the metric is the gradient of the cost at the fixed transport pairs and fixed paths.
//!
//! One deliberate simplification: the metric step reuses the iteration's c-transforms ŷ_t (computed
//! under the current metric, before g_t's step of that iteration) instead of solving them again, which
//! halves the cost of a metric step; the reference recomputes them after g_t's step.
//!
//! A learned metric is judged by its alignment with the true one ([`alignment_on_grid`], NLOT Table
//! 2): whether its cheap direction matches the true cheap direction over the data's box.
//!
//! ```no_run
//! use lagrangian_ot::data::scarvelis;
//! use lagrangian_ot::solver::MetricLearning;
//! let data = scarvelis::circle(0)?;
//! let model = MetricLearning::scarvelis(&data).iterations(3001).build()?.fit()?;
//! println!("alignment {:.3}", model.alignment(&data.metric, 100)?);
//! # Ok::<(), lagrangian_ot::Error>(())
//! ```

use std::sync::Arc;

use dfdx::prelude::*;
use ndarray::{concatenate, Array2, Array3, Axis};
use rand::seq::SliceRandom;

use super::ctransform::c_transform;
use super::dual::{apply_map, dual_step, map_step, mean};
use super::lagrangian_cost::LagrangianCost;
use crate::data::scarvelis::{scatter_slices, ScarvelisData};
use crate::device::{default_device, rng, Device, SeededRng};
use crate::error::{Error, Result};
use crate::lagrangian::{
    Bounds, Eigenvalues, GivensMetric, GivensMetricBuilder, Lagrangian, Metric, NoPotential, Potential,
};
use crate::metrics::{alignment_score, grid_2d};
use crate::nn::{check_loss, traced, Activation, Adam, AdamConfig, Mlp, MlpBuilder, Param, Trainable};
use crate::optim::{Lbfgs, LbfgsConfig};
use crate::path::{
    ActionKind, CubicSplinePath, PathPairs, Quadrature, SplineAction, SplineAmortiser, SplineAmortiserConfig,
    NLOT_KNOTS,
};
use crate::plot::{Figure, Plot, Rgb};
use crate::progress::{Progress, ProgressMode};

/// The reference's settings (`train_ot_scarvelis.yaml`, spec §13).
pub mod defaults {
    /// Hidden widths of every potential g_t and map T_t.
    pub const HIDDEN: [usize; 4] = [64, 64, 64, 64];
    /// Leaky-ReLU slope of those networks.
    pub const LEAKY_SLOPE: f32 = 0.01;
    /// Constant learning rate of the potentials' and maps' AdamW.
    pub const LEARNING_RATE: f64 = 1e-4;
    /// Decoupled weight decay of every AdamW here.
    pub const WEIGHT_DECAY: f64 = 1e-4;
    /// Learning rate of the metric's AdamW.
    pub const METRIC_LEARNING_RATE: f64 = 5e-3;
    /// Training iterations.
    pub const ITERATIONS: usize = 3001;
    /// No metric step during the first iterations.
    pub const WARMUP: usize = 50;
    /// One metric step every this many iterations (after the warm-up).
    pub const METRIC_EVERY: usize = 10;
    /// Amortiser pre-fit steps (early stop applies).
    pub const PREFIT_STEPS: usize = 1001;
    /// Amortiser refit period in iterations.
    pub const REFIT_EVERY: usize = 25;
    /// Steps of each refit (early stop applies).
    pub const REFIT_STEPS: usize = 1001;
    /// Alignment evaluation period in iterations.
    pub const EVAL_EVERY: usize = 100;
    /// Points per axis of the alignment grid.
    pub const ALIGNMENT_GRID: usize = 100;
}

/// Which learned metric family; both are [`GivensMetric`]s.
#[derive(Debug, Clone, PartialEq)]
pub enum LearnedMetric {
    /// NLOT's form: 2 → 128 → 128 → 2 leaky-ReLU net, A = Rᵀ diag(1, 0.1) R (the default).
    Nlot,
    /// Any Givens metric, e.g. HTI's eigenvalue budget:
    /// `GivensMetric::builder(2).eigenvalues(Eigenvalues::hti())`.
    Givens(GivensMetricBuilder),
}

impl LearnedMetric {
    fn builder(&self, dim: usize) -> GivensMetricBuilder {
        match self {
            LearnedMetric::Nlot => GivensMetric::builder(dim).eigenvalues(Eigenvalues::nlot()),
            LearnedMetric::Givens(b) => b.clone(),
        }
    }
}

/// When the shared spline amortiser learns (the reference's schedule by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathSchedule {
    /// Pre-fit steps on (mixture, mixture) pairs of consecutive slices, cycling over pairs.
    pub prefit_steps: usize,
    /// One step on every pair's c-transform pairs after its dual step.
    pub online: bool,
    /// Refit period in iterations (0: never).
    pub refit_every: usize,
    /// Steps of each refit, on (slice t, T_t(slice t)) cycling over pairs.
    pub refit_steps: usize,
}

impl Default for PathSchedule {
    fn default() -> Self {
        PathSchedule {
            prefit_steps: defaults::PREFIT_STEPS,
            online: true,
            refit_every: defaults::REFIT_EVERY,
            refit_steps: defaults::REFIT_STEPS,
        }
    }
}

/// Chainable configuration of a metric-learning run; defaults are the paper's.
pub struct MetricLearningBuilder {
    slices: Array3<f32>,
    metric: LearnedMetric,
    true_metric: Option<Arc<dyn Metric<Device>>>,
    bounds: Option<Bounds>,
    potential: MlpBuilder,
    map: MlpBuilder,
    optimizer: AdamConfig,
    metric_optimizer: AdamConfig,
    ctransform: LbfgsConfig,
    amortiser: SplineAmortiserConfig,
    knots: usize,
    quadrature: Quadrature,
    paths: PathSchedule,
    iterations: usize,
    warmup: usize,
    metric_every: usize,
    eval_every: usize,
    alignment_grid: usize,
    seed: u64,
    progress: ProgressMode,
}

/// Entry point: `MetricLearning::builder(slices)`; a validated run whose [`MetricLearning::fit`]
/// trains.
pub struct MetricLearning {
    config: MetricLearningBuilder,
}

impl MetricLearning {
    /// Starts configuring a run on the sequence `slices` (`[K, N, d]`: K measures of N points).
    pub fn builder(slices: Array3<f32>) -> MetricLearningBuilder {
        let dim = slices.len_of(Axis(2));
        let net = |out| {
            Mlp::builder(dim)
                .hidden(&defaults::HIDDEN)
                .output(out)
                .activation(Activation::LeakyReLU(defaults::LEAKY_SLOPE))
        };
        let adamw = |lr| AdamConfig::with_lr(lr).weight_decay(defaults::WEIGHT_DECAY);
        MetricLearningBuilder {
            potential: net(1),
            map: net(dim),
            slices,
            metric: LearnedMetric::Nlot,
            true_metric: None,
            bounds: None,
            optimizer: adamw(defaults::LEARNING_RATE),
            metric_optimizer: adamw(defaults::METRIC_LEARNING_RATE),
            ctransform: LbfgsConfig::default(),
            amortiser: SplineAmortiserConfig::default(),
            knots: NLOT_KNOTS,
            quadrature: Quadrature::default(),
            paths: PathSchedule::default(),
            iterations: defaults::ITERATIONS,
            warmup: defaults::WARMUP,
            metric_every: defaults::METRIC_EVERY,
            eval_every: defaults::EVAL_EVERY,
            alignment_grid: defaults::ALIGNMENT_GRID,
            seed: 0,
            progress: ProgressMode::Auto,
        }
    }

    /// A run on a generated Scarvelis sequence: its slices, its bounds, and its metric as the truth
    /// the alignment is measured against.
    pub fn scarvelis(data: &ScarvelisData) -> MetricLearningBuilder {
        Self::builder(data.slices.clone())
            .bounds(data.bounds.clone())
            .true_metric(data.metric)
    }
}

impl MetricLearningBuilder {
    /// The learned metric family (default [`LearnedMetric::Nlot`]).
    pub fn learned_metric(mut self, metric: LearnedMetric) -> Self {
        self.metric = metric;
        self
    }
    /// The ground truth, if known: the alignment score is then logged during training.
    pub fn true_metric(mut self, metric: impl Metric<Device> + 'static) -> Self {
        self.true_metric = Some(Arc::new(metric));
        self
    }
    /// The box the c-transform clips to and the alignment grid spans (default: the data's bounding
    /// box, widened by 10% on each side).
    pub fn bounds(mut self, bounds: Bounds) -> Self {
        self.bounds = Some(bounds);
        self
    }
    /// Architecture of every potential g_t (one output).
    pub fn potential_net(mut self, net: MlpBuilder) -> Self {
        self.potential = net;
        self
    }
    /// Architecture of every residual map T_t(x) = x + net(x).
    pub fn map_net(mut self, net: MlpBuilder) -> Self {
        self.map = net;
        self
    }
    /// AdamW of the potentials and maps (default constant 1e-4, weight decay 1e-4).
    pub fn optimizer(mut self, config: AdamConfig) -> Self {
        self.optimizer = config;
        self
    }
    /// AdamW of the metric (default constant 5e-3, weight decay 1e-4).
    pub fn metric_optimizer(mut self, config: AdamConfig) -> Self {
        self.metric_optimizer = config;
        self
    }
    /// L-BFGS of the c-transforms (default: the reference's 20 iterations).
    pub fn ctransform(mut self, config: LbfgsConfig) -> Self {
        self.ctransform = config;
        self
    }
    /// The spline amortiser's network and optimiser (default: 1024 × 1024 ReLU, Adam 1e-4, clip 1).
    pub fn amortiser(mut self, config: SplineAmortiserConfig) -> Self {
        self.amortiser = config;
        self
    }
    /// Knots of the spline paths (default 30) and the action's quadrature (default the reference's
    /// 20-point polygon).
    pub fn paths(mut self, knots: usize, quadrature: Quadrature) -> Self {
        self.knots = knots;
        self.quadrature = quadrature;
        self
    }
    /// When the amortiser learns.
    pub fn path_schedule(mut self, schedule: PathSchedule) -> Self {
        self.paths = schedule;
        self
    }
    /// Training iterations (one pass over all pairs each).
    pub fn iterations(mut self, n: usize) -> Self {
        self.iterations = n;
        self
    }
    /// One metric step every `every` iterations once more than `warmup` iterations have run
    /// (reference: 50 and 10).
    pub fn metric_schedule(mut self, warmup: usize, every: usize) -> Self {
        self.warmup = warmup;
        self.metric_every = every;
        self
    }
    /// Alignment every `every` iterations (0: only at the start and the end) on an `n × n` grid.
    pub fn evaluation(mut self, every: usize, grid: usize) -> Self {
        self.eval_every = every;
        self.alignment_grid = grid;
        self
    }
    /// Seed of every random draw.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// How training reports progress.
    pub fn progress(mut self, mode: ProgressMode) -> Self {
        self.progress = mode;
        self
    }

    /// Validates the configuration: at least 2 slices of at least one finite point, a metric, bounds
    /// and truth of the data's dimension, positive counts.
    pub fn build(mut self) -> Result<MetricLearning> {
        let (k, n, dim) = self.slices.dim();
        if k < 2 {
            return Err(Error::InvalidArgument(format!(
                "metric learning needs a sequence of at least 2 slices, got {k}"
            )));
        }
        if n == 0 || dim == 0 {
            return Err(Error::Empty(format!(
                "metric learning slices of shape {:?}",
                self.slices.dim()
            )));
        }
        crate::error::ensure_finite("metric learning slices", self.slices.iter())?;
        let expect_dim = |what: &str, got: usize| {
            if got == dim {
                Ok(())
            } else {
                Err(Error::shape(
                    format!("metric learning {what}"),
                    format!("dimension {dim} (the slices')"),
                    format!("dimension {got}"),
                ))
            }
        };
        if let Some(truth) = &self.true_metric {
            expect_dim("true metric", truth.dim())?;
        }
        match &self.bounds {
            Some(b) => expect_dim("bounds", b.dim())?,
            None => self.bounds = Some(padded_bounding_box(&self.slices)?),
        }
        if self.iterations == 0 || self.metric_every == 0 {
            return Err(Error::InvalidArgument(
                "metric learning needs iterations > 0 and metric_every > 0".into(),
            ));
        }
        if self.true_metric.is_some() && (dim != 2 || self.alignment_grid == 0) {
            return Err(Error::InvalidArgument(format!(
                "the alignment score needs 2-D data and a grid of at least 1 point, got dimension {dim} and grid {}",
                self.alignment_grid
            )));
        }
        self.ctransform.validate()?;
        Adam::<Device>::new(self.optimizer)?;
        Adam::<Device>::new(self.metric_optimizer)?;
        Ok(MetricLearning { config: self })
    }
}

/// The bounding box of all points, widened by 10% of its extent (at least 0.1) on each side.
fn padded_bounding_box(slices: &Array3<f32>) -> Result<Bounds> {
    let dim = slices.len_of(Axis(2));
    let (mut lo, mut hi) = (vec![f32::INFINITY; dim], vec![f32::NEG_INFINITY; dim]);
    for point in slices.lanes(Axis(2)) {
        for (c, &v) in point.iter().enumerate() {
            lo[c] = lo[c].min(v);
            hi[c] = hi[c].max(v);
        }
    }
    for c in 0..dim {
        let pad = (0.1 * (hi[c] - lo[c])).max(0.1);
        lo[c] -= pad;
        hi[c] += pad;
    }
    Bounds::new(lo, hi)
}

/// What training recorded.
#[derive(Debug, Clone, Default)]
pub struct MetricLearningHistory {
    /// Per iteration: the dual objective mean[c(x, ŷ) − g_t(ŷ)] + mean g_t(y) averaged over pairs
    /// (the mean OT cost estimate the metric minimises).
    pub dual_objective: Vec<f64>,
    /// Per iteration: the maps' regression loss mean (T_t(x) − ŷ)², averaged over pairs.
    pub map_loss: Vec<f64>,
    /// Per iteration: mean L-BFGS iterations of the c-transforms.
    pub ctransform_iterations: Vec<f64>,
    /// Iterations (counted from 1) after which the metric took a step.
    pub metric_iteration: Vec<usize>,
    /// The metric loss (the pair-averaged dual value at the iteration's c-transforms) before each step.
    pub metric_loss: Vec<f64>,
    /// Completed iterations at each alignment evaluation (0: before training).
    pub eval_iteration: Vec<usize>,
    /// Alignment score with the true metric at those points (empty without a true metric).
    pub alignment: Vec<f64>,
    /// Steps of the amortiser pre-fit.
    pub prefit_steps: usize,
    /// Wall-clock seconds of the training loop (pre-fit excluded).
    pub seconds: f64,
    /// Wall-clock seconds of the pre-fit.
    pub prefit_seconds: f64,
}

/// A trained metric: the shared metric and paths (inside [`MetricLearningModel::cost`]), the
/// per-pair potentials and maps, the data and the history.
pub struct MetricLearningModel {
    /// The shared cost: the learned metric (`cost.lagrangian.metric`) and the spline amortiser.
    pub cost: LagrangianCost<GivensMetric, NoPotential>,
    /// g_t of every pair (t, t + 1).
    pub potentials: Vec<Mlp<Device>>,
    /// The residual networks of the maps T_t(x) = x + net(x).
    pub maps: Vec<Mlp<Device>>,
    /// The sequence trained on, `[K, N, d]`.
    pub slices: Array3<f32>,
    /// The c-transform clip box and alignment domain.
    pub bounds: Bounds,
    /// What training recorded.
    pub history: MetricLearningHistory,
    true_metric: Option<Arc<dyn Metric<Device>>>,
    lbfgs: Lbfgs,
}

impl MetricLearning {
    /// Trains; a non-finite loss stops with [`Error::Diverged`] naming the iteration.
    pub fn fit(self) -> Result<MetricLearningModel> {
        let c = self.config;
        let (k, _, dim) = c.slices.dim();
        let pairs = k - 1;
        let dev = default_device(c.seed);
        let mut r = rng(c.seed);

        let metric = c.metric.builder(dim).build(&dev)?;
        if Metric::<Device>::dim(&metric) != dim {
            return Err(Error::shape(
                "metric learning learned metric",
                format!("dimension {dim} (the slices')"),
                format!("dimension {}", Metric::<Device>::dim(&metric)),
            ));
        }
        let action = SplineAction::new(
            &dev,
            CubicSplinePath::new(dim, c.knots)?,
            c.quadrature,
            ActionKind::SquaredGeodesic,
        )?;
        let amortiser = SplineAmortiser::new(action, 0, c.amortiser.clone())?;
        let mut cost = LagrangianCost::new(Lagrangian::new(metric, NoPotential), amortiser);

        // Every pair starts from the same weights (reference).
        let g0 = c.potential.build(&dev)?;
        let t0 = c.map.build(&dev)?;
        if g0.in_dim() != dim || g0.out_dim() != 1 || t0.in_dim() != dim || t0.out_dim() != dim {
            return Err(Error::shape(
                "metric learning networks",
                format!("g: {dim} -> 1, T: {dim} -> {dim}"),
                format!("g: {:?}, T: {:?}", g0.widths(), t0.widths()),
            ));
        }
        let mut potentials = vec![g0; pairs];
        let mut maps = vec![t0; pairs];
        let mut adam_g: Vec<Adam<Device>> = (0..pairs)
            .map(|_| Adam::new(c.optimizer))
            .collect::<Result<_>>()?;
        let mut adam_t: Vec<Adam<Device>> = (0..pairs)
            .map(|_| Adam::new(c.optimizer))
            .collect::<Result<_>>()?;
        let mut adam_metric = Adam::new(c.metric_optimizer)?;
        let lbfgs = Lbfgs::new(c.ctransform)?;
        let slices: Vec<Array2<f32>> = c.slices.outer_iter().map(|s| s.to_owned()).collect();
        let bounds = c
            .bounds
            .clone()
            .ok_or_else(|| Error::InvalidArgument("bounds are set by build()".into()))?;
        let mut history = MetricLearningHistory::default();

        let prefit = std::time::Instant::now();
        history.prefit_steps = fit_paths(
            &mut cost,
            c.paths.prefit_steps,
            |step, rng| {
                let t = step % pairs;
                mixture_pairs(rng, &slices[t], &slices[t + 1])
            },
            &mut r,
        )?;
        history.prefit_seconds = prefit.elapsed().as_secs_f64();

        let mut model = MetricLearningModel {
            cost,
            potentials: Vec::new(),
            maps: Vec::new(),
            slices: c.slices.clone(),
            bounds,
            history,
            true_metric: c.true_metric.clone(),
            lbfgs,
        };
        model.record_alignment(0, c.alignment_grid)?;

        let mut bar = Progress::new("metric learning", c.iterations as u64, c.progress);
        for step in 0..c.iterations {
            let (mut dual, mut map_loss, mut lbfgs_its) = (0.0, 0.0, 0.0);
            let mut y_hats = Vec::with_capacity(pairs);
            for t in 0..pairs {
                let (x, y) = (&slices[t], &slices[t + 1]);
                let refined = c_transform(
                    &model.lbfgs,
                    &model.cost.with_frozen_metric(),
                    &potentials[t],
                    Some(&model.bounds),
                    x,
                    apply_map(&maps[t], x, None)?,
                )?;
                dual += dual_step(
                    &dev,
                    &mut potentials[t],
                    &mut adam_g[t],
                    &refined.y,
                    None,
                    &refined.value,
                    y,
                    None,
                    step,
                )?;
                map_loss += map_step(&dev, &mut maps[t], &mut adam_t[t], x, None, &refined.y, step)?;
                lbfgs_its += refined.lbfgs.mean_iterations();
                if c.paths.online {
                    let LagrangianCost {
                        lagrangian,
                        amortiser,
                        ..
                    } = &mut model.cost;
                    let frozen = Lagrangian::new(lagrangian.metric.frozen(), NoPotential);
                    amortiser.step(&frozen, &PathPairs::new(x.clone(), refined.y.clone()))?;
                }
                y_hats.push(refined.y);
            }
            let h = &mut model.history;
            h.dual_objective.push(dual / pairs as f64);
            h.map_loss.push(map_loss / pairs as f64);
            h.ctransform_iterations.push(lbfgs_its / pairs as f64);

            if c.paths.refit_every > 0 && step % c.paths.refit_every == 0 {
                fit_paths(
                    &mut model.cost,
                    c.paths.refit_steps,
                    |k, _| {
                        let t = k % pairs;
                        Ok(PathPairs::new(
                            slices[t].clone(),
                            apply_map(&maps[t], &slices[t], None)?,
                        ))
                    },
                    &mut r,
                )?;
            }

            let done = step + 1;
            if done > c.warmup && done % c.metric_every == 0 {
                let loss = model.metric_step(&mut adam_metric, &potentials, y_hats, step)?;
                model.history.metric_iteration.push(done);
                model.history.metric_loss.push(loss);
            }
            if (c.eval_every > 0 && done % c.eval_every == 0) || done == c.iterations {
                model.record_alignment(done, c.alignment_grid)?;
            }
            let dual_now = model.history.dual_objective[step];
            bar.update(done as u64, || format!("dual {dual_now:.4}"));
        }
        model.history.seconds = bar.finish();
        model.potentials = potentials;
        model.maps = maps;
        Ok(model)
    }
}

/// Up to `max_steps` amortiser steps on `batches(step, rng)` with the reference's early stop;
/// returns the steps taken.
fn fit_paths(
    cost: &mut LagrangianCost<GivensMetric, NoPotential>,
    max_steps: usize,
    mut batches: impl FnMut(usize, &mut SeededRng) -> Result<PathPairs>,
    r: &mut SeededRng,
) -> Result<usize> {
    if max_steps == 0 {
        return Ok(0);
    }
    let LagrangianCost {
        lagrangian,
        amortiser,
        ..
    } = cost;
    // The metric does not move during a path fit: evaluate it frozen on the host.
    let frozen = Lagrangian::new(lagrangian.metric.frozen(), NoPotential);
    Ok(amortiser.fit_with(&frozen, max_steps, |k| batches(k, r))?.steps)
}

/// The reference's pre-fit pairs for one pair of slices: both slices pooled, permuted twice.
fn mixture_pairs(r: &mut SeededRng, a: &Array2<f32>, b: &Array2<f32>) -> Result<PathPairs> {
    let pool = concatenate(Axis(0), &[a.view(), b.view()])
        .map_err(|e| Error::shape("pre-fit pairs", "equal widths", e.to_string()))?;
    let mut order: Vec<usize> = (0..pool.nrows()).collect();
    order.shuffle(r);
    let x = pool.select(Axis(0), &order);
    order.shuffle(r);
    Ok(PathPairs::new(x, pool.select(Axis(0), &order)))
}

/// Transport pairs (x_i, ŷ_i) of one pair of measures with their frozen path parameters: one term
/// of the metric loss.
#[derive(Debug, Clone)]
pub struct EnvelopeBatch {
    /// Source points `[B, d]`.
    pub x: Array2<f32>,
    /// Their c-transforms `[B, d]`.
    pub y_hat: Array2<f32>,
    /// The spline parameters of the paths, held fixed `[B, num_params]`.
    pub params: Array2<f32>,
    /// One condition row per pair `[B, c]` for a conditional Lagrangian (HTI), or `None`.
    pub cond: Option<Array2<f32>>,
}

/// The cost part of the metric loss, mean over batches of mean_i c_A(x_i, ŷ_i), and its gradient
/// with respect to the metric's parameters, with the transport pairs and the paths held fixed (the
/// envelope theorem, NLOT eq. 25): one backward pass through the action into the metric network.
/// The potentials' terms of the dual do not depend on the metric, so this gradient is the whole
/// metric gradient. Gradients come in [`Trainable::params`] order.
pub fn metric_cost_gradient<M, P>(
    action: &SplineAction<Device>,
    lagrangian: &Lagrangian<M, P>,
    batches: &[EnvelopeBatch],
) -> Result<(f64, Vec<Param<Device>>)>
where
    M: Metric<Device> + Trainable<Device>,
    P: Potential<Device>,
{
    if batches.is_empty() {
        return Err(Error::Empty("metric_cost_gradient: no batches".into()));
    }
    let join = |part: fn(&EnvelopeBatch) -> &Array2<f32>| {
        let views: Vec<_> = batches.iter().map(|b| part(b).view()).collect();
        concatenate(Axis(0), &views)
            .map_err(|e| Error::shape("metric_cost_gradient batches", "equal widths", e.to_string()))
    };
    let (x, y, params) = (join(|b| &b.x)?, join(|b| &b.y_hat)?, join(|b| &b.params)?);
    let cond = match batches
        .iter()
        .map(|b| b.cond.as_ref())
        .collect::<Option<Vec<_>>>()
    {
        Some(conds) => {
            let views: Vec<_> = conds.iter().map(|c| c.view()).collect();
            Some(concatenate(Axis(0), &views).map_err(|e| {
                Error::shape("metric_cost_gradient conditions", "equal widths", e.to_string())
            })?)
        }
        None if batches.iter().any(|b| b.cond.is_some()) => {
            return Err(Error::InvalidArgument(
                "metric_cost_gradient: conditions on some batches only".into(),
            ))
        }
        None => None,
    };
    let weights: Vec<f32> = batches
        .iter()
        .flat_map(|b| std::iter::repeat_n(1.0 / (batches.len() * b.x.nrows().max(1)) as f32, b.x.nrows()))
        .collect();
    let inputs = action.upload(&x, &y, &params, cond.as_ref())?;
    let costs = action.cost(
        lagrangian,
        traced(&inputs.x),
        traced(&inputs.y),
        traced(&inputs.params),
        inputs.cond.as_ref(),
    )?;
    let weights = action.device().tensor_from_vec(weights, (x.nrows(),));
    let loss = (costs * weights).sum::<Rank0, _>();
    let value = loss.array() as f64;
    let mut grads = loss.backward();
    Ok((value, lagrangian.metric.gradients(&mut grads)?))
}

impl MetricLearningModel {
    /// The learned metric.
    pub fn metric(&self) -> &GivensMetric {
        &self.cost.lagrangian.metric
    }

    /// Number of slices K.
    pub fn num_slices(&self) -> usize {
        self.slices.len_of(Axis(0))
    }

    /// Slice k `[N, d]`.
    fn slice(&self, k: usize) -> Array2<f32> {
        self.slices.index_axis(Axis(0), k).to_owned()
    }

    /// The learned transport of pair `t` applied to `x`: T_t(x) refined by the c-transform under the
    /// learned metric. Errors past the last pair.
    pub fn transport(&self, t: usize, x: &Array2<f32>) -> Result<Array2<f32>> {
        let (map, potential) = match (self.maps.get(t), self.potentials.get(t)) {
            (Some(m), Some(g)) => (m, g),
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "pair {t} of a sequence with {} pairs",
                    self.potentials.len()
                )))
            }
        };
        Ok(c_transform(
            &self.lbfgs,
            &self.cost,
            potential,
            Some(&self.bounds),
            x,
            apply_map(map, x, None)?,
        )?
        .y)
    }

    /// The alignment score of the learned metric with `truth` on an `n × n` grid over the bounds.
    pub fn alignment<M: Metric<Device> + ?Sized>(&self, truth: &M, n: usize) -> Result<f64> {
        alignment_on_grid(truth, self.metric(), &self.bounds, n)
    }

    /// Logs the alignment with the true metric, if one was given.
    fn record_alignment(&mut self, done: usize, n: usize) -> Result<()> {
        if let Some(truth) = self.true_metric.clone() {
            let score = self.alignment(truth.as_ref(), n)?;
            self.history.eval_iteration.push(done);
            self.history.alignment.push(score);
        }
        Ok(())
    }

    /// One AdamW step on the metric at this iteration's c-transforms `y_hats` (computed under the
    /// current metric), paths frozen at the amortiser's prediction, gradient by
    /// [`metric_cost_gradient`]. Returns the pair-averaged dual value before the step.
    fn metric_step(
        &mut self,
        adam: &mut Adam<Device>,
        potentials: &[Mlp<Device>],
        y_hats: Vec<Array2<f32>>,
        step: usize,
    ) -> Result<f64> {
        let mut batches = Vec::with_capacity(potentials.len());
        let mut potential_terms = 0.0;
        for (t, (g, y_hat)) in potentials.iter().zip(y_hats).enumerate() {
            let (x, y) = (self.slice(t), self.slice(t + 1));
            let g_hat = g.forward_array(&y_hat)?.column(0).to_owned();
            let g_y = g.forward_array(&y)?.column(0).to_owned();
            potential_terms += mean(&g_y) - mean(&g_hat);
            let params = self.cost.predict(&x, &y_hat)?;
            batches.push(EnvelopeBatch {
                x,
                y_hat,
                params,
                cond: None,
            });
        }
        let (cost_term, gradients) =
            metric_cost_gradient(self.cost.amortiser.action(), &self.cost.lagrangian, &batches)?;
        let loss = cost_term + potential_terms / potentials.len() as f64;
        check_loss(step, loss)?;
        adam.step_with(&mut self.cost.lagrangian.metric, &gradients)?;
        Ok(loss)
    }

    /// The cheap direction (eigenvector of the smallest eigenvalue) of the learned metric at `points`.
    pub fn cheap_directions(&self, points: &Array2<f32>) -> Result<Array2<f32>> {
        cheap_directions(&Metric::<Device>::matrix_at(self.metric(), points, None)?)
    }
}

/// The alignment score (NLOT eq. 28, spec §12) of `learned` with `truth` on the `n × n` grid over
/// the first two coordinates of `bounds`, endpoints included.
pub fn alignment_on_grid<A, B>(truth: &A, learned: &B, bounds: &Bounds, n: usize) -> Result<f64>
where
    A: Metric<Device> + ?Sized,
    B: Metric<Device> + ?Sized,
{
    let (x, y) = match (bounds.range(0), bounds.range(1), bounds.dim()) {
        (Some(x), Some(y), 2) => (x, y),
        _ => {
            return Err(Error::shape(
                "alignment grid bounds",
                "2 intervals",
                bounds.dim().to_string(),
            ))
        }
    };
    if n == 0 {
        return Err(Error::InvalidArgument(
            "the alignment grid needs at least 1 point per axis".into(),
        ));
    }
    let grid = grid_2d((x.0 as f32, x.1 as f32), (y.0 as f32, y.1 as f32), n);
    alignment_score(&truth.matrix_at(&grid, None)?, &learned.matrix_at(&grid, None)?)
}

/// Unit eigenvectors `[M, 2]` of the smallest eigenvalue of 2 × 2 symmetric matrices `[M, 2, 2]`
/// (the direction a metric makes cheapest), sign chosen with a non-negative first component.
///
/// ```
/// use lagrangian_ot::solver::cheap_directions;
/// let a = ndarray::array![[[1.0f32, 0.0], [0.0, 0.1]], [[0.55, 0.45], [0.45, 0.55]]];
/// let u = cheap_directions(&a)?;
/// assert!(u[[0, 0]].abs() < 1e-6 && (u[[0, 1]].abs() - 1.0).abs() < 1e-6);
/// assert!((u[[1, 0]] - 0.5f32.sqrt()).abs() < 1e-6 && (u[[1, 1]] + 0.5f32.sqrt()).abs() < 1e-6);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn cheap_directions(matrices: &Array3<f32>) -> Result<Array2<f32>> {
    let (m, r, c) = matrices.dim();
    if (r, c) != (2, 2) {
        return Err(Error::shape(
            "cheap_directions",
            "[M, 2, 2]",
            format!("{:?}", matrices.dim()),
        ));
    }
    crate::error::ensure_finite("cheap_directions matrices", matrices.iter())?;
    Ok(Array2::from_shape_fn((m, 2), |(i, j)| {
        let (a, b, d) = (
            matrices[[i, 0, 0]] as f64,
            matrices[[i, 0, 1]] as f64,
            matrices[[i, 1, 1]] as f64,
        );
        // The largest eigenvalue's axis is at ½·atan2(2b, a − d); the cheap one is perpendicular.
        let major = 0.5 * (2.0 * b).atan2(a - d);
        let (mut ux, mut uy) = (-major.sin(), major.cos());
        if ux < 0.0 || (ux == 0.0 && uy < 0.0) {
            (ux, uy) = (-ux, -uy);
        }
        (if j == 0 { ux } else { uy }) as f32
    }))
}

impl Plot for MetricLearningModel {
    /// Learned (and true, if known) cheap directions on a grid over the data slices coloured by
    /// time, and the training curves (dual objective, alignment).
    fn figure(&self) -> Figure {
        let (x, y) = match (self.bounds.range(0), self.bounds.range(1)) {
            (Some(x), Some(y)) => (x, y),
            _ => return Figure::failed(Error::Plot("metric learning draws 2-D data only".into())),
        };
        let grid = grid_2d((x.0 as f32, x.1 as f32), (y.0 as f32, y.1 as f32), 15);
        let learned = match self.cheap_directions(&grid) {
            Ok(u) => u,
            Err(e) => return Figure::failed(e),
        };
        let mut arrows = Figure::new().title("cheap directions");
        if let Some(truth) = &self.true_metric {
            match truth.matrix_at(&grid, None).and_then(|a| cheap_directions(&a)) {
                Ok(u) => {
                    arrows = arrows
                        .quiver(&grid, &u, None)
                        .label("true")
                        .color(Rgb(0xbb, 0xbb, 0xbb));
                }
                Err(e) => return Figure::failed(e),
            }
        }
        arrows = arrows
            .quiver(&grid, &learned, None)
            .label("learned")
            .color(Rgb(0xd6, 0x27, 0x28));
        let arrows = scatter_slices(arrows, &self.slices)
            .x_range(x.0, x.1)
            .y_range(y.0, y.1)
            .equal_aspect();
        let h = &self.history;
        let iterations: Vec<f64> = (1..=h.dual_objective.len()).map(|i| i as f64).collect();
        let mut curves = Figure::new().title("training").x_label("iteration").line_xy(
            &iterations,
            &h.dual_objective,
            "mean dual objective",
        );
        if !h.alignment.is_empty() {
            let at: Vec<f64> = h.eval_iteration.iter().map(|&i| i as f64).collect();
            curves = curves
                .next_panel()
                .title("alignment")
                .x_label("iteration")
                .line_xy(&at, &h.alignment, "alignment");
        }
        Figure::grid(3, vec![arrows, curves])
    }
}

impl MetricLearningModel {
    /// Draws the model inline in a notebook (cheap directions, slices, training curves).
    pub fn evcxr_display(&self) {
        Plot::evcxr_display(self)
    }
}

//! Conditional Lagrangian optimal transport (CLOT), the solver behind hyperparameter trajectory
//! inference (HTI spec §1–§5): given a base model's outputs at anchors t_0 < … < t_{K−1}, learn per
//! interval a conditional Kantorovich potential g_k(y | x) and transport map T_k(y | x), a shared
//! conditional spline amortiser for the least-action paths, and (variant permitting) a learned metric
//! G_θ(q | x) and the KDE density potential Û(q | x).
//!
//! One training step (spec §5.4): for every interval, the c-transform ŷ = argmin c(y, ·|x) − g_k by
//! the batched L-BFGS warm-started at T_k(y|x), one AdamW step on the negated dual (Danskin) and on
//! the map's regression onto ŷ; every `metric_every` steps one AdamW step of the metric on the
//! estimated OT cost (envelope theorem); every `refit_every` steps a refit of the spline amortiser on
//! (y, T_k(y)). The fitted [`HtiModel`] owns an inference-only [`HtiSurrogate`].
//!
//! Deviations from the reference code, all documented in `ARCHITECTURE.md`:
//! - paths are this crate's C² natural cubic splines with `knots` knots (the reference's stochman
//!   basis is C¹ with 15 free nodes); the cost is the reference's ½(Σ segment lengths − ΣÛ)² on 20
//!   points ([`Quadrature::Reference`], [`ActionKind::SquaredGeodesic`]);
//! - FiLM modulates every hidden layer of the potentials, maps and metric (the reference: the first);
//!   a label condition enters as a one-hot row (a dense layer on it is an embedding);
//! - the spline amortiser concatenates the source condition for both condition kinds;
//! - L-BFGS moves only the output coordinates (the reference also drifts continuous conditions);
//! - the metric step reuses the step's c-transforms instead of recomputing them under the metric
//!   (the same simplification as [`MetricLearning`](super::MetricLearning)).

use ndarray::{concatenate, s, Array1, Array2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::ctransform::c_transform_with;
use super::dual::{apply_map, dual_step, map_step, mean, value_and_gradient};
use super::metric_learning::{metric_cost_gradient, EnvelopeBatch};
use crate::data::AnchoredDataset;
use crate::device::{default_device, Device, SeededRng};
use crate::error::{Error, Result};
use crate::lagrangian::{
    Bounds, Condition, Eigenvalues, Euclidean, FrozenGivensMetric, GivensMetric, KdePotential, Lagrangian,
    Metric, Points, Potential, Scalars,
};
use crate::nn::{
    check_loss, Activation, Adam, AdamConfig, ConditionalMlp, FilmMlp, LrSchedule, Param, Trainable,
};
use crate::optim::{Lbfgs, LbfgsConfig, LineSearch};
use crate::path::{
    ActionKind, CubicSplinePath, PathPairs, Quadrature, SplineAction, SplineAmortiser, SplineAmortiserConfig,
};
use crate::progress::{Progress, ProgressMode};
use crate::surrogate::{Anchors, ConditionEncoding, HtiSurrogate};

/// The variants HTI compares (spec §7): metric × density potential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HtiVariant {
    /// K_I: Euclidean metric, no potential.
    Euclidean,
    /// K_I − Û: Euclidean metric with the KDE potential.
    EuclideanDensity,
    /// K_θ: learned Givens metric with the eigenvalue budget, no potential.
    Learned,
    /// K_θ − Û: learned metric and KDE potential — the full method.
    LearnedDensity,
    /// NLOT's learned metric with fixed eigenvalues (1, 0.1), no potential (the NLOT baseline; 2-D only).
    FixedEigen,
    /// Fixed-eigenvalue metric with the KDE potential (the eigenvalue-budget ablation; 2-D only).
    FixedEigenDensity,
}

impl HtiVariant {
    /// Every variant, in the paper's table order.
    pub const ALL: [HtiVariant; 6] = [
        HtiVariant::Euclidean,
        HtiVariant::Learned,
        HtiVariant::EuclideanDensity,
        HtiVariant::LearnedDensity,
        HtiVariant::FixedEigen,
        HtiVariant::FixedEigenDensity,
    ];

    /// The paper's name (K_I, K_θ − Û, …).
    pub fn paper_name(&self) -> &'static str {
        match self {
            HtiVariant::Euclidean => "K_I",
            HtiVariant::EuclideanDensity => "K_I − Û",
            HtiVariant::Learned => "K_θ",
            HtiVariant::LearnedDensity => "K_θ − Û",
            HtiVariant::FixedEigen => "NLOT (fixed eig.)",
            HtiVariant::FixedEigenDensity => "fixed eig. − Û",
        }
    }

    /// The command-line name (`ki`, `ki-u`, `ktheta`, `ktheta-u`, `nlot`, `fixed-u`).
    pub fn cli_name(&self) -> &'static str {
        match self {
            HtiVariant::Euclidean => "ki",
            HtiVariant::EuclideanDensity => "ki-u",
            HtiVariant::Learned => "ktheta",
            HtiVariant::LearnedDensity => "ktheta-u",
            HtiVariant::FixedEigen => "nlot",
            HtiVariant::FixedEigenDensity => "fixed-u",
        }
    }

    /// Parses a command-line name; the error lists the known ones.
    pub fn from_name(name: &str) -> Result<Self> {
        HtiVariant::ALL
            .into_iter()
            .find(|v| v.cli_name() == name)
            .ok_or_else(|| {
                let known: Vec<_> = HtiVariant::ALL.iter().map(|v| v.cli_name()).collect();
                Error::InvalidArgument(format!(
                    "unknown HTI variant '{name}'; known: {}",
                    known.join(", ")
                ))
            })
    }

    /// Whether the metric is learned.
    pub fn learns_metric(&self) -> bool {
        !matches!(self, HtiVariant::Euclidean | HtiVariant::EuclideanDensity)
    }

    /// Whether the KDE density potential is subtracted.
    pub fn uses_density(&self) -> bool {
        matches!(
            self,
            HtiVariant::EuclideanDensity | HtiVariant::LearnedDensity | HtiVariant::FixedEigenDensity
        )
    }
}

/// The KDE density potential's settings (spec §3.3).
#[derive(Debug, Clone, PartialEq)]
pub struct DensitySettings {
    /// Output bandwidth h_y.
    pub bandwidth: f32,
    /// Condition bandwidth h_x (continuous conditions).
    pub cond_bandwidth: f32,
    /// Strength α of Û = α log(p̂ + 1e-8).
    pub alpha: f32,
    /// At most this many pooled anchor samples (evenly thinned; `None`: all, as the reference).
    pub max_pool: Option<usize>,
}

impl Default for DensitySettings {
    /// The semicircle's (h 0.05, α 0.05), full pool.
    fn default() -> Self {
        DensitySettings {
            bandwidth: 0.05,
            cond_bandwidth: 1.0,
            alpha: 0.05,
            max_pool: None,
        }
    }
}

/// Which cost the preset trims (spec §13 and the issue: the paper configuration costs 10–40 CPU
/// hours per run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HtiPreset {
    /// The reference configuration: spline net 2×1024, 2001 steps, refits of 1001 steps every 25.
    Paper,
    /// CPU default (minutes on 2 cores): spline net 2×256 at lr 1e-3, metric 2×64, minibatches of 128,
    /// 600 steps at potential lr 1e-3 decayed (cosine) to 1e-5, ≤ 5 Armijo L-BFGS steps per c-transform,
    /// initial path fit 2000 steps, refits of 300 steps every 25.
    Fast,
    /// CI: a few dozen steps, for smoke tests and notebooks in quick mode.
    Quick,
}

impl HtiPreset {
    /// Parses `paper`, `fast` or `quick`.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "paper" => Ok(HtiPreset::Paper),
            "fast" => Ok(HtiPreset::Fast),
            "quick" => Ok(HtiPreset::Quick),
            other => Err(Error::InvalidArgument(format!(
                "unknown HTI preset '{other}'; known: fast, paper, quick"
            ))),
        }
    }
}

/// Every setting of a CLOT fit. Build one with [`Hti::builder`]; the defaults are [`HtiPreset::Fast`].
#[derive(Debug, Clone, PartialEq)]
pub struct HtiConfig {
    /// Metric × potential.
    pub variant: HtiVariant,
    /// Hidden widths of each potential g_k (reference 4×64).
    pub potential_hidden: Vec<usize>,
    /// Hidden widths of each residual map T_k (reference 4×64).
    pub map_hidden: Vec<usize>,
    /// Hidden widths of the FiLM condition nets of g_k and T_k (reference 16).
    pub film_hidden: Vec<usize>,
    /// Hidden widths of the learned metric (reference 2×128, leaky ReLU).
    pub metric_hidden: Vec<usize>,
    /// Hidden widths of the metric's FiLM condition nets (reference 32).
    pub metric_film_hidden: Vec<usize>,
    /// Knots of the spline paths, ends included.
    pub knots: usize,
    /// How the path cost is discretised (reference: 20-point polygon).
    pub quadrature: Quadrature,
    /// The spline amortiser (network and optimiser).
    pub amortiser: SplineAmortiserConfig,
    /// AdamW of g_k and T_k (reference lr 1e-4, weight decay 1e-4).
    pub potential_optimizer: AdamConfig,
    /// Cosine decay of the potentials' and maps' learning rate, from its initial value to this one
    /// over `iterations` (`None`: constant, the reference). With a few hundred minibatch steps at a
    /// high rate the final maps are otherwise a noisy snapshot: on the semicircles the decay halved
    /// the circle distance of K_θ − Û.
    pub potential_lr_final: Option<f64>,
    /// AdamW of the metric (reference lr 5e-3, weight decay 1e-4).
    pub metric_optimizer: AdamConfig,
    /// The c-transform's L-BFGS (reference: jaxopt's search, 10 iterations).
    pub ctransform: LbfgsConfig,
    /// Training steps (reference 2001).
    pub iterations: usize,
    /// Rows per interval per step (`None`: all rows, the reference's full batch).
    pub batch_size: Option<usize>,
    /// Metric update period (reference 10).
    pub metric_every: usize,
    /// Initial amortiser fit steps (reference 1001).
    pub initial_path_steps: usize,
    /// Amortiser refit period (reference 25; 0 never).
    pub refit_every: usize,
    /// Steps per refit (reference 1001).
    pub refit_steps: usize,
    /// The density potential.
    pub density: DensitySettings,
    /// Box the c-transform and (if `clip_predictions`) the predictions are clipped to; `None`: the
    /// anchors' bounding box padded by half its size.
    pub bounds: Option<Bounds>,
    /// Clip surrogate predictions to `bounds` (reference: semicircle and dropout yes, RL no).
    pub clip_predictions: bool,
    /// Seed of the weights and the batches.
    pub seed: u64,
    /// Progress output.
    pub progress: ProgressMode,
}

impl HtiConfig {
    /// The settings of `preset` for `variant`.
    pub fn preset(preset: HtiPreset, variant: HtiVariant) -> Self {
        let paper = HtiConfig {
            variant,
            potential_hidden: vec![64; 4],
            map_hidden: vec![64; 4],
            film_hidden: vec![16],
            metric_hidden: vec![128, 128],
            metric_film_hidden: vec![32],
            knots: 15,
            quadrature: Quadrature::default(),
            amortiser: SplineAmortiserConfig::default(),
            potential_optimizer: AdamConfig::with_lr(1e-4).weight_decay(1e-4),
            potential_lr_final: None,
            metric_optimizer: AdamConfig::with_lr(5e-3).weight_decay(1e-4),
            ctransform: LbfgsConfig {
                max_iters: 10,
                ..LbfgsConfig::default()
            },
            iterations: 2001,
            batch_size: None,
            metric_every: 10,
            initial_path_steps: 1001,
            refit_every: 25,
            refit_steps: 1001,
            density: DensitySettings::default(),
            bounds: None,
            clip_predictions: true,
            seed: 0,
            progress: ProgressMode::Auto,
        };
        // Armijo backtracking instead of the reference's strong-Wolfe backtracking: that search fails
        // whenever the unit step is too short and then burns all 30 trials per iteration.
        let armijo = |max_iters| LbfgsConfig {
            max_iters,
            line_search: LineSearch::Armijo {
                c1: 1e-4,
                shrink: 0.5,
                max_steps: 10,
            },
            curvature_safeguard: true,
            ..LbfgsConfig::default()
        };
        match preset {
            HtiPreset::Paper => paper,
            HtiPreset::Fast => HtiConfig {
                amortiser: SplineAmortiserConfig {
                    hidden: vec![256, 256],
                    adam: AdamConfig::with_lr(1e-3).clip_grad_norm(1.0),
                    ..SplineAmortiserConfig::default()
                },
                potential_optimizer: AdamConfig::with_lr(1e-3).weight_decay(1e-4),
                metric_hidden: vec![64, 64],
                iterations: 600,
                batch_size: Some(128),
                initial_path_steps: 2000,
                refit_steps: 300,
                ctransform: armijo(5),
                potential_lr_final: Some(1e-5),
                ..paper
            },
            HtiPreset::Quick => HtiConfig {
                amortiser: SplineAmortiserConfig {
                    hidden: vec![128, 128],
                    adam: AdamConfig::with_lr(1e-3).clip_grad_norm(1.0),
                    ..SplineAmortiserConfig::default()
                },
                potential_optimizer: AdamConfig::with_lr(1e-3).weight_decay(1e-4),
                metric_hidden: vec![32, 32],
                metric_film_hidden: vec![16],
                iterations: 60,
                batch_size: Some(100),
                initial_path_steps: 600,
                refit_steps: 80,
                ctransform: armijo(5),
                ..paper
            },
        }
    }
}

/// Describes a CLOT fit; see [`Hti::builder`].
#[derive(Debug, Clone)]
pub struct HtiBuilder {
    config: HtiConfig,
    data: Option<AnchoredDataset>,
    anchors: Option<Vec<usize>>,
}

/// A validated CLOT problem, ready to [`Hti::fit`].
#[derive(Debug, Clone)]
pub struct Hti {
    config: HtiConfig,
    anchors: Anchors,
    bounds: Bounds,
}

impl Hti {
    /// Starts describing a fit with the [`HtiPreset::Fast`] settings for the full method K_θ − Û.
    ///
    /// ```no_run
    /// use lagrangian_ot::prelude::*;
    /// use lagrangian_ot::solver::{Hti, HtiVariant};
    /// let data = AnchoredDataset::load_shared("semicircle")?;
    /// let model = Hti::builder().data(&data).variant(HtiVariant::LearnedDensity).build()?.fit()?;
    /// let at_quarter = model.surrogate().sample_at(0.25, 100, 0)?;
    /// # Ok::<(), lagrangian_ot::Error>(())
    /// ```
    pub fn builder() -> HtiBuilder {
        HtiBuilder {
            config: HtiConfig::preset(HtiPreset::Fast, HtiVariant::LearnedDensity),
            data: None,
            anchors: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &HtiConfig {
        &self.config
    }

    /// The training anchors.
    pub fn anchors(&self) -> &Anchors {
        &self.anchors
    }
}

impl HtiBuilder {
    /// The data: an [`AnchoredDataset`] (its manifest's training anchors and time points are used
    /// unless [`HtiBuilder::anchors`] picks others).
    pub fn data(mut self, data: &AnchoredDataset) -> Self {
        self.data = Some(data.clone());
        self
    }

    /// Trains on the dataset slices `indices` (at least 2, strictly increasing), placed at their
    /// hyperparameter values: queries are then in hyperparameter units.
    pub fn anchors(mut self, indices: &[usize]) -> Self {
        self.anchors = Some(indices.to_vec());
        self
    }

    /// Replaces every setting by those of `preset`, keeping the variant and seed.
    pub fn preset(mut self, preset: HtiPreset) -> Self {
        let (variant, seed, progress) = (self.config.variant, self.config.seed, self.config.progress);
        self.config = HtiConfig {
            seed,
            progress,
            ..HtiConfig::preset(preset, variant)
        };
        self
    }

    /// Metric × potential variant.
    pub fn variant(mut self, variant: HtiVariant) -> Self {
        self.config.variant = variant;
        self
    }

    /// The density potential's settings.
    pub fn density(mut self, density: DensitySettings) -> Self {
        self.config.density = density;
        self
    }

    /// The clipping box.
    pub fn bounds(mut self, bounds: Bounds) -> Self {
        self.config.bounds = Some(bounds);
        self
    }

    /// Whether predictions are clipped to the box.
    pub fn clip_predictions(mut self, clip: bool) -> Self {
        self.config.clip_predictions = clip;
        self
    }

    /// Training steps.
    pub fn iterations(mut self, n: usize) -> Self {
        self.config.iterations = n;
        self
    }

    /// Rows per interval per step (`None`: full batch).
    pub fn batch_size(mut self, rows: Option<usize>) -> Self {
        self.config.batch_size = rows;
        self
    }

    /// The spline amortiser.
    pub fn amortiser(mut self, config: SplineAmortiserConfig) -> Self {
        self.config.amortiser = config;
        self
    }

    /// The c-transform's L-BFGS.
    pub fn ctransform(mut self, config: LbfgsConfig) -> Self {
        self.config.ctransform = config;
        self
    }

    /// Amortiser schedule: initial fit steps, refit period, steps per refit.
    pub fn path_schedule(mut self, initial: usize, refit_every: usize, refit_steps: usize) -> Self {
        self.config.initial_path_steps = initial;
        self.config.refit_every = refit_every;
        self.config.refit_steps = refit_steps;
        self
    }

    /// Replaces the whole configuration.
    pub fn config(mut self, config: HtiConfig) -> Self {
        self.config = config;
        self
    }

    /// Seed of weights and batches.
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// Progress output.
    pub fn progress(mut self, mode: ProgressMode) -> Self {
        self.config.progress = mode;
        self
    }

    /// Validates everything once: the data (at least 2 anchors, strictly increasing, finite, known
    /// labels), the settings, and that fixed-eigenvalue metrics get 2-D data.
    pub fn build(self) -> Result<Hti> {
        let data = self
            .data
            .ok_or_else(|| Error::InvalidArgument("HTI needs data: call .data(&dataset)".into()))?;
        let data = match &self.anchors {
            Some(indices) => {
                if indices.len() < 2 {
                    return Err(Error::InvalidArgument(format!(
                        "HTI needs at least 2 anchors, got {}",
                        indices.len()
                    )));
                }
                let mut times = Vec::with_capacity(indices.len());
                for &k in indices {
                    let value = *data.hyperparam().get(k).ok_or_else(|| {
                        Error::InvalidArgument(format!(
                            "anchor {k} does not exist; the dataset has {}",
                            data.num_anchors()
                        ))
                    })?;
                    times.push(value);
                }
                crate::surrogate::check_times(&times)?;
                data.with_training_anchors(indices, &times)?
            }
            None => data,
        };
        let anchors = Anchors::from_dataset(&data)?;
        let c = &self.config;
        let dim = anchors.dim();
        if matches!(c.variant, HtiVariant::FixedEigen | HtiVariant::FixedEigenDensity) && dim != 2 {
            return Err(Error::InvalidArgument(format!(
                "the fixed-eigenvalue metric is 2-D only; the data are {dim}-D"
            )));
        }
        for (what, v) in [
            ("iterations", c.iterations),
            ("knots - 2", c.knots.saturating_sub(2)),
            ("metric_every", c.metric_every),
        ] {
            if v == 0 {
                return Err(Error::InvalidArgument(format!(
                    "HTI setting {what} must be positive"
                )));
            }
        }
        if c.batch_size == Some(0) {
            return Err(Error::InvalidArgument("HTI batch size must be positive".into()));
        }
        c.ctransform.validate()?;
        if c.potential_lr_final
            .is_some_and(|lr| !(lr.is_finite() && lr >= 0.0))
        {
            return Err(Error::InvalidArgument(format!(
                "HTI potential_lr_final must be finite and >= 0, got {:?}",
                c.potential_lr_final
            )));
        }
        let bounds = match &c.bounds {
            Some(b) if b.dim() != dim => {
                return Err(Error::shape(
                    "HTI bounds",
                    format!("{dim}-D"),
                    format!("{}-D", b.dim()),
                ))
            }
            Some(b) => b.clone(),
            None => padded_box(&anchors)?,
        };
        Ok(Hti {
            config: self.config,
            anchors,
            bounds,
        })
    }
}

/// The anchors' bounding box, padded by half its extent on each side.
fn padded_box(anchors: &Anchors) -> Result<Bounds> {
    let dim = anchors.dim();
    let (mut lo, mut hi) = (vec![f32::INFINITY; dim], vec![f32::NEG_INFINITY; dim]);
    for y in &anchors.samples {
        for row in y.rows() {
            for j in 0..dim {
                lo[j] = lo[j].min(row[j]);
                hi[j] = hi[j].max(row[j]);
            }
        }
    }
    for j in 0..dim {
        let pad = 0.5 * (hi[j] - lo[j]).max(1e-3);
        lo[j] -= pad;
        hi[j] += pad;
    }
    Bounds::new(lo, hi)
}

/// The metric of a CLOT geometry: Euclidean or learned. `L` is the trainable [`GivensMetric`], or its
/// host copy ([`FrozenGivensMetric`], see [`HtiMetric::frozen`]) in the loops that move only points and
/// paths.
#[derive(Debug, Clone)]
pub enum HtiMetric<L = GivensMetric> {
    /// G = I.
    Euclidean(Euclidean),
    /// A learned Givens metric G_θ(q | x).
    Learned(L),
}

impl HtiMetric {
    /// The current weights frozen on the host: the same metric in value and first derivatives in q
    /// and v, many times cheaper to evaluate, with no gradient for the weights.
    pub fn frozen(&self) -> HtiMetric<FrozenGivensMetric> {
        match self {
            HtiMetric::Euclidean(m) => HtiMetric::Euclidean(*m),
            HtiMetric::Learned(m) => HtiMetric::Learned(m.frozen()),
        }
    }
}

impl<L: Metric<Device>> Metric<Device> for HtiMetric<L> {
    fn dim(&self) -> usize {
        match self {
            HtiMetric::Euclidean(m) => Metric::<Device>::dim(m),
            HtiMetric::Learned(m) => m.dim(),
        }
    }
    fn name(&self) -> String {
        match self {
            HtiMetric::Euclidean(m) => Metric::<Device>::name(m),
            HtiMetric::Learned(m) => m.name(),
        }
    }
    fn squared_speed(
        &self,
        q: Points<Device>,
        v: Points<Device>,
        cond: Option<&Condition<Device>>,
    ) -> Result<Scalars<Device>> {
        match self {
            HtiMetric::Euclidean(m) => m.squared_speed(q, v, cond),
            HtiMetric::Learned(m) => m.squared_speed(q, v, cond),
        }
    }
    fn matrix_at(&self, q: &Array2<f32>, cond: Option<&Array2<f32>>) -> Result<ndarray::Array3<f32>> {
        match self {
            HtiMetric::Euclidean(m) => Metric::<Device>::matrix_at(m, q, cond),
            HtiMetric::Learned(m) => m.matrix_at(q, cond),
        }
    }
    fn is_euclidean(&self) -> bool {
        matches!(self, HtiMetric::Euclidean(_))
    }
}

impl Trainable<Device> for HtiMetric {
    fn params(&self) -> Vec<&Param<Device>> {
        match self {
            HtiMetric::Euclidean(_) => Vec::new(),
            HtiMetric::Learned(m) => m.params(),
        }
    }
    fn params_mut(&mut self) -> Vec<&mut Param<Device>> {
        match self {
            HtiMetric::Euclidean(_) => Vec::new(),
            HtiMetric::Learned(m) => m.params_mut(),
        }
    }
}

/// The potential of a CLOT geometry: none or the KDE density potential.
#[derive(Debug, Clone)]
pub enum HtiPotential {
    /// Û = 0.
    None,
    /// Û = α log(p̂(q | x) + 1e-8).
    Density(Box<KdePotential>),
}

impl Potential<Device> for HtiPotential {
    fn name(&self) -> String {
        match self {
            HtiPotential::None => "no potential".into(),
            HtiPotential::Density(p) => p.name(),
        }
    }
    fn value(&self, q: Points<Device>, cond: Option<&Condition<Device>>) -> Result<Scalars<Device>> {
        match self {
            HtiPotential::None => crate::lagrangian::NoPotential.value(q, cond),
            HtiPotential::Density(p) => p.value(q, cond),
        }
    }
    fn is_zero(&self) -> bool {
        match self {
            HtiPotential::None => true,
            HtiPotential::Density(p) => Potential::<Device>::is_zero(p.as_ref()),
        }
    }
}

/// What a CLOT fit recorded, one entry per step (intervals averaged) unless said otherwise.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HtiHistory {
    /// The dual objective mean[c(y, ŷ) − g(ŷ)] + mean g(y′).
    pub dual_objective: Vec<f64>,
    /// The maps' regression loss onto the c-transforms.
    pub map_loss: Vec<f64>,
    /// Mean L-BFGS iterations of the c-transform.
    pub ctransform_iterations: Vec<f64>,
    /// Steps at which the metric was updated.
    pub metric_steps: Vec<usize>,
    /// The metric loss (estimated OT cost) at those steps.
    pub metric_loss: Vec<f64>,
    /// Final loss (mean path length − ΣÛ) of the initial fit and of every refit.
    pub path_loss: Vec<f64>,
    /// Wall time of the initial path fit, in seconds.
    pub initial_fit_seconds: f64,
    /// Wall time of the whole fit, in seconds.
    pub seconds: f64,
}

/// A fitted CLOT model: the geometry and networks it learned, its history, and the surrogate.
pub struct HtiModel {
    config: HtiConfig,
    anchors: Anchors,
    bounds: Bounds,
    lagrangian: Lagrangian<HtiMetric, HtiPotential>,
    potentials: Vec<ConditionalMlp>,
    surrogate: HtiSurrogate,
    history: HtiHistory,
}

/// The KDE pool: all training anchors concatenated (evenly thinned to `max_pool`).
fn density_potential(
    dev: &Device,
    anchors: &Anchors,
    settings: &DensitySettings,
    bounds: &Bounds,
) -> Result<KdePotential> {
    let views: Vec<_> = anchors.samples.iter().map(|y| y.view()).collect();
    let pool =
        concatenate(Axis(0), &views).map_err(|e| Error::shape("KDE pool", "equal widths", e.to_string()))?;
    let cond_views: Vec<_> = anchors.conditions.iter().map(|c| c.view()).collect();
    let cond_pool = concatenate(Axis(0), &cond_views)
        .map_err(|e| Error::shape("KDE pool", "equal widths", e.to_string()))?;
    let keep: Vec<usize> = match settings.max_pool {
        Some(m) if m > 0 && m < pool.nrows() => (0..m).map(|i| i * pool.nrows() / m).collect(),
        _ => (0..pool.nrows()).collect(),
    };
    let (pool, cond_pool) = (pool.select(Axis(0), &keep), cond_pool.select(Axis(0), &keep));
    let builder = KdePotential::builder(&pool)
        .bandwidth(settings.bandwidth)
        .alpha(settings.alpha)
        .bounds(bounds.clone());
    let builder = match anchors.encoding {
        ConditionEncoding::None => builder,
        ConditionEncoding::Continuous { .. } => builder.continuous(&cond_pool, settings.cond_bandwidth),
        ConditionEncoding::Categorical { num_categories } => {
            let labels: Vec<usize> = cond_pool
                .rows()
                .into_iter()
                .map(|r| r.iter().position(|&v| v > 0.5).unwrap_or(0))
                .collect();
            builder.categorical(&labels, num_categories)
        }
    };
    builder.build(dev)
}

/// Rows `idx` of an optional condition matrix (zero-width conditions become `None`).
fn rows(cond: &Array2<f32>, idx: &[usize]) -> Option<Array2<f32>> {
    (cond.ncols() > 0).then(|| cond.select(Axis(0), idx))
}

impl Hti {
    /// Trains (spec §5.4); a non-finite loss stops with [`Error::Diverged`] naming the step.
    pub fn fit(self) -> Result<HtiModel> {
        let Hti {
            config: c,
            anchors,
            bounds,
        } = self;
        let dev = default_device(c.seed);
        let mut r = SeededRng::seed_from_u64(c.seed);
        let (k_anchors, dim, width) = (anchors.len(), anchors.dim(), anchors.encoding.width());
        let intervals = k_anchors - 1;

        let metric = match c.variant {
            HtiVariant::Euclidean | HtiVariant::EuclideanDensity => HtiMetric::Euclidean(Euclidean { dim }),
            variant => {
                let eigenvalues = if matches!(variant, HtiVariant::FixedEigen | HtiVariant::FixedEigenDensity)
                {
                    Eigenvalues::nlot()
                } else {
                    Eigenvalues::hti()
                };
                let mut builder = GivensMetric::builder(dim)
                    .hidden(&c.metric_hidden)
                    .cond_hidden(&c.metric_film_hidden)
                    .eigenvalues(eigenvalues);
                if width > 0 {
                    builder = builder.condition(width);
                }
                HtiMetric::Learned(builder.build(&dev)?)
            }
        };
        let potential = if c.variant.uses_density() {
            HtiPotential::Density(Box::new(density_potential(&dev, &anchors, &c.density, &bounds)?))
        } else {
            HtiPotential::None
        };
        let lagrangian = Lagrangian::new(metric, potential);
        let action = SplineAction::new(
            &dev,
            CubicSplinePath::new(dim, c.knots)?,
            c.quadrature,
            ActionKind::SquaredGeodesic,
        )?;
        let mut amortiser = SplineAmortiser::new(action, width, c.amortiser.clone())?;

        // Every interval starts from the same weights (reference).
        let net = |hidden: &[usize], out: usize| {
            FilmMlp::builder(dim, width)
                .hidden(hidden)
                .output(out)
                .activation(Activation::ReLU)
                .cond_hidden(&c.film_hidden)
                .build_conditional(&dev)
        };
        let g0 = net(&c.potential_hidden, 1)?;
        let t0 = net(&c.map_hidden, dim)?;
        let mut potentials = vec![g0; intervals];
        let mut maps = vec![t0; intervals];
        let adams =
            |n: usize, config: AdamConfig| (0..n).map(|_| Adam::new(config)).collect::<Result<Vec<_>>>();
        let potential_optimizer = match c.potential_lr_final {
            Some(end) => c.potential_optimizer.schedule(LrSchedule::warmup_cosine(
                c.potential_optimizer.schedule.lr_at(0),
                end,
                0,
                c.iterations,
            )),
            None => c.potential_optimizer,
        };
        let mut adam_g = adams(intervals, potential_optimizer)?;
        let mut adam_t = adams(intervals, potential_optimizer)?;
        let mut adam_metric = Adam::new(c.metric_optimizer)?;
        let lbfgs = Lbfgs::new(c.ctransform)?;
        let mut lagrangian = lagrangian;
        let mut history = HtiHistory::default();

        // Initial path fit on random pairs from the union of each interval's two anchors.
        let started = std::time::Instant::now();
        if c.initial_path_steps > 0 {
            let frozen = Lagrangian::new(lagrangian.metric.frozen(), &lagrangian.potential);
            let fit = amortiser.fit_with(&frozen, c.initial_path_steps, |step| {
                mixture_pairs(&mut r, &anchors, step % intervals, c.batch_size)
            })?;
            history
                .path_loss
                .push(fit.losses.last().copied().unwrap_or(f32::NAN) as f64);
        }
        history.initial_fit_seconds = started.elapsed().as_secs_f64();

        let mut bar = Progress::new("CLOT", c.iterations as u64, c.progress);
        for step in 0..c.iterations {
            let (mut dual, mut map_loss, mut lbfgs_its) = (0.0, 0.0, 0.0);
            let mut envelopes = Vec::with_capacity(intervals);
            let mut potential_terms = 0.0;
            // The c-transforms move points only: the metric is evaluated frozen on the host.
            let frozen = Lagrangian::new(lagrangian.metric.frozen(), &lagrangian.potential);
            for k in 0..intervals {
                let src = batch_rows(&mut r, anchors.samples[k].nrows(), c.batch_size);
                let tgt = batch_rows(&mut r, anchors.samples[k + 1].nrows(), c.batch_size);
                let y = anchors.samples[k].select(Axis(0), &src);
                let cond = rows(&anchors.conditions[k], &src);
                let y_next = anchors.samples[k + 1].select(Axis(0), &tgt);
                let cond_next = rows(&anchors.conditions[k + 1], &tgt);
                let warm = apply_map(&maps[k], &y, cond.as_ref())?;
                let g = &potentials[k];
                let refined = c_transform_with(
                    &lbfgs,
                    Some(&bounds),
                    warm,
                    |active, z| {
                        let y_a = y.select(Axis(0), active);
                        let cond_a = cond.as_ref().map(|x| x.select(Axis(0), active));
                        let mut pairs = PathPairs::new(y_a.clone(), z.clone());
                        if let Some(x) = &cond_a {
                            pairs = pairs.with_condition(x.clone());
                        }
                        let params = amortiser.predict(&pairs)?;
                        let grads = amortiser.action().cost_and_gradients(
                            &frozen,
                            &y_a,
                            z,
                            &params,
                            cond_a.as_ref(),
                        )?;
                        Ok((grads.costs, grads.d_y))
                    },
                    |active, z| {
                        let cond_a = cond.as_ref().map(|x| x.select(Axis(0), active));
                        value_and_gradient(&dev, g, z, cond_a.as_ref())
                    },
                )?;
                dual += dual_step(
                    &dev,
                    &mut potentials[k],
                    &mut adam_g[k],
                    &refined.y,
                    cond.as_ref(),
                    &refined.value,
                    &y_next,
                    cond_next.as_ref(),
                    step,
                )?;
                map_loss += map_step(
                    &dev,
                    &mut maps[k],
                    &mut adam_t[k],
                    &y,
                    cond.as_ref(),
                    &refined.y,
                    step,
                )?;
                lbfgs_its += refined.lbfgs.mean_iterations();
                if c.variant.learns_metric() && step % c.metric_every == 0 {
                    let g = &potentials[k];
                    let g_hat = g.forward_array(&refined.y, cond.as_ref())?.column(0).to_owned();
                    let g_next = g.forward_array(&y_next, cond_next.as_ref())?.column(0).to_owned();
                    potential_terms += mean(&g_next) - mean(&g_hat);
                    let mut pairs = PathPairs::new(y.clone(), refined.y.clone());
                    if let Some(x) = &cond {
                        pairs = pairs.with_condition(x.clone());
                    }
                    let params = amortiser.predict(&pairs)?;
                    envelopes.push(EnvelopeBatch {
                        x: y,
                        y_hat: refined.y,
                        params,
                        cond,
                    });
                }
            }
            let h = &mut history;
            h.dual_objective.push(dual / intervals as f64);
            h.map_loss.push(map_loss / intervals as f64);
            h.ctransform_iterations.push(lbfgs_its / intervals as f64);
            if !envelopes.is_empty() {
                let (cost_term, gradients) =
                    metric_cost_gradient(amortiser.action(), &lagrangian, &envelopes)?;
                let loss = cost_term + potential_terms / intervals as f64;
                check_loss(step, loss)?;
                adam_metric.step_with(&mut lagrangian.metric, &gradients)?;
                h.metric_steps.push(step);
                h.metric_loss.push(loss);
            }
            if c.refit_every > 0 && step % c.refit_every == 0 && c.refit_steps > 0 {
                let frozen = Lagrangian::new(lagrangian.metric.frozen(), &lagrangian.potential);
                let fit = amortiser.fit_with(&frozen, c.refit_steps, |it| {
                    let k = it % intervals;
                    let idx = batch_rows(&mut r, anchors.samples[k].nrows(), c.batch_size);
                    let y = anchors.samples[k].select(Axis(0), &idx);
                    let cond = rows(&anchors.conditions[k], &idx);
                    let y_end = apply_map(&maps[k], &y, cond.as_ref())?;
                    let pairs = PathPairs::new(y, y_end);
                    Ok(match cond {
                        Some(x) => pairs.with_condition(x),
                        None => pairs,
                    })
                })?;
                h.path_loss
                    .push(fit.losses.last().copied().unwrap_or(f32::NAN) as f64);
            }
            let (dual_now, its_now) = (h.dual_objective[step], h.ctransform_iterations[step]);
            bar.update(step as u64 + 1, || {
                format!("dual {dual_now:.4}, c-transform {its_now:.1} L-BFGS its")
            });
        }
        history.seconds = bar.finish() + history.initial_fit_seconds;

        let surrogate = HtiSurrogate::new(
            &c,
            &anchors,
            maps,
            amortiser,
            c.clip_predictions.then(|| bounds.clone()),
        )?;
        Ok(HtiModel {
            config: c,
            anchors,
            bounds,
            lagrangian,
            potentials,
            surrogate,
            history,
        })
    }
}

/// Row indices of one batch: all rows in order (full batch) or `size` drawn without replacement.
fn batch_rows(r: &mut SeededRng, n: usize, size: Option<usize>) -> Vec<usize> {
    match size {
        Some(b) if b < n => rand::seq::index::sample(r, n, b).into_vec(),
        _ => (0..n).collect(),
    }
}

/// Random pairs from the union of anchors k and k+1 (permuted twice), with the start's condition.
fn mixture_pairs(r: &mut SeededRng, anchors: &Anchors, k: usize, size: Option<usize>) -> Result<PathPairs> {
    let join = |a: &Array2<f32>, b: &Array2<f32>| {
        concatenate(Axis(0), &[a.view(), b.view()])
            .map_err(|e| Error::shape("path pairs", "equal widths", e.to_string()))
    };
    let pool = join(&anchors.samples[k], &anchors.samples[k + 1])?;
    let cond = join(&anchors.conditions[k], &anchors.conditions[k + 1])?;
    let n = pool.nrows();
    let take = size.map_or(n, |b| b.min(n));
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(r);
    let start = &order[..take];
    let (y0, x0) = (pool.select(Axis(0), start), cond.select(Axis(0), start));
    order.shuffle(r);
    let y1 = pool.select(Axis(0), &order[..take]);
    let pairs = PathPairs::new(y0, y1);
    Ok(if x0.ncols() > 0 {
        pairs.with_condition(x0)
    } else {
        pairs
    })
}

impl HtiModel {
    /// The inference-only surrogate (maps, spline amortiser, start pool).
    pub fn surrogate(&self) -> &HtiSurrogate {
        &self.surrogate
    }

    /// Gives up the training state and keeps the surrogate.
    pub fn into_surrogate(self) -> HtiSurrogate {
        self.surrogate
    }

    /// The settings it was trained with.
    pub fn config(&self) -> &HtiConfig {
        &self.config
    }

    /// The training history.
    pub fn history(&self) -> &HtiHistory {
        &self.history
    }

    /// The training anchors.
    pub fn anchors(&self) -> &Anchors {
        &self.anchors
    }

    /// The box used for clipping.
    pub fn bounds(&self) -> &Bounds {
        &self.bounds
    }

    /// The learned Lagrangian (metric and density potential).
    pub fn lagrangian(&self) -> &Lagrangian<HtiMetric, HtiPotential> {
        &self.lagrangian
    }

    /// g_k(y | x) for interval `k` at host points.
    pub fn potential_at(&self, k: usize, y: &Array2<f32>, cond: Option<&Array2<f32>>) -> Result<Array1<f32>> {
        let g = self.potentials.get(k).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "interval {k} does not exist; there are {}",
                self.potentials.len()
            ))
        })?;
        Ok(g.forward_array(y, cond)?.column(0).to_owned())
    }

    /// The metric's cheap direction and eigenvalue ratio on a grid for class/condition row `cond`
    /// (drawing); `None` for a Euclidean metric.
    pub fn metric_matrices(
        &self,
        q: &Array2<f32>,
        cond: Option<&Array2<f32>>,
    ) -> Result<Option<ndarray::Array3<f32>>> {
        match &self.lagrangian.metric {
            HtiMetric::Euclidean(_) => Ok(None),
            m => Ok(Some(m.matrix_at(q, cond)?)),
        }
    }

    /// The density potential Û(q | x) at host points (`None` for variants without it); `cond` holds
    /// one encoded condition row per point.
    pub fn density_at(&self, q: &Array2<f32>, cond: Option<&Array2<f32>>) -> Result<Option<Array1<f32>>> {
        match &self.lagrangian.potential {
            HtiPotential::None => Ok(None),
            HtiPotential::Density(kde) => Ok(Some(kde.value_and_gradient(q, cond)?.0)),
        }
    }

    /// The learned metric's cheap direction (eigenvector of the smallest eigenvalue) at 2-D host
    /// points (`None` for a Euclidean metric).
    pub fn cheap_directions_at(
        &self,
        q: &Array2<f32>,
        cond: Option<&Array2<f32>>,
    ) -> Result<Option<Array2<f32>>> {
        match self.metric_matrices(q, cond)? {
            Some(m) => Ok(Some(super::cheap_directions(&m)?)),
            None => Ok(None),
        }
    }

    /// Shows the model inline in an evcxr notebook.
    pub fn evcxr_display(&self) {
        use crate::plot::Plot;
        self.figure().evcxr_display();
    }
}

impl crate::plot::Plot for HtiModel {
    /// Training curves (dual objective, map loss, metric loss) beside the anchors and the
    /// surrogate's trajectories from the first anchor (first two output coordinates).
    fn figure(&self) -> crate::plot::Figure {
        use crate::plot::{ColorMap, Figure};
        let h = &self.history;
        let mut curves = Figure::new()
            .title(&format!("CLOT {}: training", self.config.variant.paper_name()))
            .x_label("step")
            .loss_curve(&h.dual_objective, "dual objective")
            .loss_curve(&h.map_loss, "map loss");
        if !h.metric_loss.is_empty() {
            let steps: Vec<f64> = h.metric_steps.iter().map(|&s| s as f64).collect();
            curves = curves.line_xy(&steps, &h.metric_loss, "metric loss");
        }
        let times = &self.anchors.times;
        let (lo, hi) = (times[0], times[times.len() - 1]);
        let query: Vec<f32> = (0..=20).map(|i| lo + (hi - lo) * i as f32 / 20.0).collect();
        let panel = match self.surrogate.trajectories_from_pool(&query) {
            Ok(traj) => {
                let n = traj.points[0].nrows();
                let stride = n.div_ceil(150).max(1);
                let paths: Vec<Array2<f32>> = (0..n).step_by(stride).map(|i| traj.path(i)).collect();
                let mut fig = Figure::new()
                    .title("anchors and inferred trajectories")
                    .x_label("y₁")
                    .y_label("y₂")
                    .paths_by_time(&paths, ColorMap::Viridis);
                for (k, y) in self.anchors.samples.iter().enumerate() {
                    fig = fig.scatter(
                        y.slice(s![.., ..y.ncols().min(2)]),
                        &format!("anchor t = {:.2}", times[k]),
                    );
                }
                fig
            }
            Err(e) => Figure::failed(e),
        };
        Figure::grid(2, vec![curves, panel])
    }
}

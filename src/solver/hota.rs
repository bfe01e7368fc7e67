//! HOTA: optimal transport with a state cost through the dual of the Hamilton–Jacobi–Bellman
//! equation (Buzun et al., "HOTA: Hamiltonian framework for Optimal Transport Advection"; spec
//! `hota.md` §1–3).
//!
//! One network s(t, x) (a [`TimeValueNet`]) is the value function; mass moves by the controlled SDE
//! dx = −∇ₓs dt + σ_t dW (Euler–Maruyama, 30 steps). Two losses train it:
//!
//! - the **potential loss** (every other step): simulate the source batch to x_T with the current
//!   controls, m = mean s(1, y) − mean s(1, x_T), L_pot = m·|m|; it moves s(1, ·) (= −g, the
//!   Kantorovich potential) so trajectories land on the target;
//! - the **HJB residual** (every step) R = ∂ₜs − ½|∇ₓs|² + V + λ_a|a| at points drawn first from a
//!   noisy straight interpolant between the marginals, then from a replay buffer of simulated states,
//!   paired against an EMA target network s̄: r₁ = ∂ₜs − ½|∇ₓs̄|² + …, r₂ = ∂ₜs̄ − ½|∇ₓs|² + …,
//!   L_hjb = mean r₁² + mean r₂². V is the state cost −U of the obstacle, smoothed along the drift
//!   (0.4 V(x) + 0.3 V(x − δ∇s) + 0.3 V(x − 2δ∇s)); a = ∂ₜ(∇s/|∇s|) is the angular acceleration of the
//!   drift direction.
//!
//! Gradient balancing: on potential steps the update is g_pot + λ_hjb·κ·g_hjb with
//! κ ← 0.9 κ + 0.1 |g_pot|/|g_hjb|; on the other steps λ_hjb·κ·g_hjb alone. Each ingredient can be
//! switched off ([`HotaAblation`]) to reproduce the paper's Table 2.
//!
//! κ can be capped ([`HotaConfig::max_balance`], off in the paper's configuration). Uncapped, κ
//! rescales the HJB gradient to λ_hjb times the potential gradient's norm however small the residual
//! is. In 4000-step runs this amplifies the noise of a nearly satisfied residual until it cancels
//! the potential step. V-neck then stalls with κ ≈ 10⁵ and the mass short of the target; see
//! [`HotaConfig::max_balance`] for the measured effect.
//!
//! Training can happen in normalised coordinates ([`Normalization`]: by default for [`Hota::builder`]
//! the marginals' joint mean and RMS spread), in which the problem is again a HOTA problem and whose
//! solution maps back exactly; every public method takes and returns original coordinates. The
//! paper's benchmarks ([`Hota::benchmark`]) train in the original coordinates, as the reference does:
//! their constants (σ, λ_hjb, λ_a, the obstacle weight) were tuned there.
//!
//! The trunk of s is piecewise linear, so Δₓs = 0 almost everywhere and the diffusion term of the
//! HJB vanishes (as in the reference code); the derivatives come from
//! [`TimeValueNet::derivatives`], since dfdx has no double backward.
//!
//! ```
//! use lagrangian_ot::prelude::*;
//! use lagrangian_ot::solver::{Hota, HotaPreset};
//! let model = Hota::benchmark(HotaBenchmark::VNeck)?
//!     .preset(HotaPreset::Quick).iterations(4).progress(ProgressMode::Silent)
//!     .build()?.fit()?;
//! assert_eq!(model.history().hjb_loss.len(), 4);
//! # Ok::<(), lagrangian_ot::Error>(())
//! ```

use super::replay::ReplayBuffer;
use crate::data::{HotaBenchmark, Measure};
use crate::device::{default_device, rng, Device, SeededRng};
use crate::error::{Error, Result};
use crate::lagrangian::{potential_at, Bounds, Euclidean, Lagrangian, Potential};
use crate::metrics::{sinkhorn_divergence_with, GroundCost, SinkhornConfig};
use crate::nn::{
    array_to_tensor, check_loss, combine_gradients, global_norm, tensor_to_array, Adam, AdamConfig,
    LrSchedule, NoneTape, Taped, Tensor1, TimeValueNet, TimeValueNetBuilder, Trainable,
};
use crate::plot::{Figure, Plot};
use crate::progress::{Progress, ProgressMode};
use dfdx::prelude::*;
use ndarray::{s, Array1, Array2};
use rand::Rng;
use rand_distr::StandardNormal;

/// Cells per side of the state-cost heatmap under drawn trajectories (keeps notebook SVGs small).
const HEATMAP_RESOLUTION: usize = 40;

/// The noise level σ_t of the controlled SDE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoiseSchedule {
    /// σ_t = σ (the paper's text).
    Constant,
    /// σ_t = σ·√(t(1 − t)), a Brownian-bridge profile (the authors' dynamics code; the default).
    Bridge,
}

impl NoiseSchedule {
    /// σ_t for base level `sigma`.
    pub fn at(self, sigma: f32, t: f32) -> f32 {
        match self {
            NoiseSchedule::Constant => sigma,
            NoiseSchedule::Bridge => sigma * (t * (1.0 - t)).max(0.0).sqrt(),
        }
    }
}

/// Which of HOTA's ingredients are on (all by default); the paper's Table 2 switches each off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HotaAblation {
    /// Draw HJB points from the replay buffer after the warm-up (off: always the interpolant).
    pub replay_buffer: bool,
    /// Adapt κ to the gradient-norm ratio (off: κ = 1).
    pub gradient_balancing: bool,
    /// Pair the residuals with an EMA target network (off: the online network itself).
    pub ema_target: bool,
}

impl Default for HotaAblation {
    fn default() -> Self {
        HotaAblation {
            replay_buffer: true,
            gradient_balancing: true,
            ema_target: true,
        }
    }
}

impl HotaAblation {
    /// The paper's Table 2 rows: full HOTA, then without buffer, balancing, EMA target.
    pub fn table_2() -> [(&'static str, HotaAblation); 4] {
        let full = HotaAblation::default();
        [
            ("HOTA", full),
            (
                "w/o buffer",
                HotaAblation {
                    replay_buffer: false,
                    ..full
                },
            ),
            (
                "w/o grad. balancing",
                HotaAblation {
                    gradient_balancing: false,
                    ..full
                },
            ),
            (
                "w/o EMA target",
                HotaAblation {
                    ema_target: false,
                    ..full
                },
            ),
        ]
    }
}

/// Size presets. `Paper` is the reference configuration (512-wide trunk, 70 000 steps, batch 1024:
/// hours per task on a CPU); `Fast` is the CPU default; `Quick` is for tests and CI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HotaPreset {
    /// Table 3 of the paper: trunk 3×512, FiLM 100, lr 5e-4 cosine to 5e-6, 70 000 steps, batch 1024,
    /// warm-up 5000 steps.
    Paper,
    /// Trunk 3×128, FiLM 64, lr 1e-3 cosine to 1e-5, 4000 steps (a benchmark may ask for more:
    /// [`HotaBenchmark::fast_iterations`]), HJB batch 512, potential batch 256, warm-up 500 steps,
    /// κ capped at 1 ([`HotaConfig::max_balance`]; the paper's run is 17× longer and uncapped).
    Fast,
    /// Trunk 2×64, FiLM 32, lr 2e-3, 400 steps, batches 256 / 128, warm-up 100 steps.
    Quick,
}

impl HotaPreset {
    /// The preset called `name` (`paper`, `fast`, `quick`).
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "paper" => Ok(HotaPreset::Paper),
            "fast" => Ok(HotaPreset::Fast),
            "quick" => Ok(HotaPreset::Quick),
            other => Err(Error::InvalidArgument(format!(
                "unknown HOTA preset '{other}'; known: paper, fast, quick"
            ))),
        }
    }
}

/// Every setting of a HOTA run; [`Hota::builder`] fills it with the paper's values.
#[derive(Debug, Clone, PartialEq)]
pub struct HotaConfig {
    /// Base noise level σ.
    pub sigma: f32,
    /// How σ_t varies along the path.
    pub noise: NoiseSchedule,
    /// λ_hjb: weight of the HJB residual.
    pub hjb_weight: f32,
    /// λ_a: weight of the angular-acceleration term.
    pub acceleration_weight: f32,
    /// Architecture of s(t, x).
    pub net: TimeValueNetBuilder,
    /// Initial Adam learning rate (cosine-decayed over the run).
    pub learning_rate: f64,
    /// Final learning rate as a fraction of the initial one.
    pub final_lr_fraction: f64,
    /// Adam's β₂ (β₁ = 0.9).
    pub beta2: f64,
    /// Training steps.
    pub iterations: usize,
    /// Points per HJB batch.
    pub batch_size: usize,
    /// Source/target points per potential step (the simulated batch).
    pub potential_batch: usize,
    /// Euler–Maruyama steps over [0, 1].
    pub control_steps: usize,
    /// Steps during which HJB points come from the straight interpolant before the buffer is used.
    pub warmup_steps: usize,
    /// Replay buffer capacity (points).
    pub buffer_capacity: usize,
    /// EMA rate of the target network (s̄ ← (1 − rate) s̄ + rate s).
    pub target_rate: f32,
    /// Weight of the old κ in its moving average.
    pub balance_decay: f32,
    /// κ at the start.
    pub initial_balance: f32,
    /// Upper bound on κ (`None`: unbounded, as in the paper). With a cap of 1 the balancing can only
    /// shrink the HJB gradient towards λ_hjb times the potential gradient's norm, never inflate it.
    ///
    /// Measured with the `Fast` preset (4000 steps), seeds 0–2, W2 on 2000 vs 2000 points unless
    /// marked: V-neck 0.081 / 0.028 / 7.7 capped at 1 against 41.8 / 191.6 / 20.5 uncapped, where the
    /// mass stalls short of the target with κ up to 10⁵; Slit 0.006 / 0.008 / 0.016 against
    /// 0.41 (5000 points) / 0.014 / 0.30. Box, where κ settles below 0.01 after the first few hundred
    /// steps: 0.0037 / 0.0053 / 0.0037 capped against 0.0024 / 0.0035 / 0.0035 uncapped (all three on
    /// 5000 points).
    pub max_balance: Option<f32>,
    /// Lower bound on κ (`None`: none, as in the paper). The potential gradient vanishes as the
    /// marginals come to match (m → 0), and with it κ; a floor keeps the HJB residual in the update.
    /// With a floor equal to the cap, κ is constant (as with balancing switched off).
    ///
    /// The sphere benchmark sets a floor of 1 ([`HotaBenchmark::min_balance`]); see there for
    /// the measured effect.
    pub min_balance: Option<f32>,
    /// δ of the smoothed state cost.
    pub smoothing_step: f32,
    /// Which ingredients are on.
    pub ablation: HotaAblation,
    /// Train in coordinates x' = (x − c)/L ([`Normalization`]); `None` chooses c and L from the
    /// marginals (their joint mean and RMS spread), `Some(Normalization::identity())` trains in the
    /// original coordinates as the reference code does.
    pub normalization: Option<Normalization>,
    /// Evaluate every this many steps and after the last (0: never; the history then has no
    /// evaluation curve).
    pub eval_every: usize,
    /// Points of the fixed evaluation samples.
    pub eval_size: usize,
}

impl HotaConfig {
    /// The settings of `preset` for a `dim`-dimensional task with the paper's σ = 0.1, λ_hjb = 1,
    /// λ_a = 0 (benchmarks override these, see [`Hota::benchmark`]).
    pub fn preset(preset: HotaPreset, dim: usize) -> Self {
        let paper = HotaConfig {
            sigma: 0.1,
            noise: NoiseSchedule::Bridge,
            hjb_weight: 1.0,
            acceleration_weight: 0.0,
            net: TimeValueNet::builder(dim),
            learning_rate: 5e-4,
            final_lr_fraction: 1e-2,
            beta2: 0.99,
            iterations: 70_000,
            batch_size: 1024,
            potential_batch: 1024,
            control_steps: 30,
            warmup_steps: 5000,
            buffer_capacity: 100_000,
            target_rate: 0.01,
            balance_decay: 0.9,
            initial_balance: 0.1,
            max_balance: None,
            min_balance: None,
            smoothing_step: 0.01,
            ablation: HotaAblation::default(),
            normalization: None,
            eval_every: 1000,
            eval_size: 1000,
        };
        match preset {
            HotaPreset::Paper => paper,
            HotaPreset::Fast => HotaConfig {
                net: TimeValueNet::builder(dim).hidden(&[128, 128, 128]).film_width(64),
                learning_rate: 1e-3,
                iterations: 4000,
                batch_size: 512,
                potential_batch: 256,
                warmup_steps: 500,
                buffer_capacity: 50_000,
                max_balance: Some(1.0),
                eval_every: 500,
                eval_size: 500,
                ..paper
            },
            HotaPreset::Quick => HotaConfig {
                net: TimeValueNet::builder(dim).hidden(&[64, 64]).film_width(32),
                learning_rate: 2e-3,
                iterations: 400,
                batch_size: 256,
                potential_batch: 128,
                warmup_steps: 100,
                buffer_capacity: 20_000,
                eval_every: 0,
                eval_size: 300,
                ..paper
            },
        }
    }

    /// κ clipped to [`Self::min_balance`], [`Self::max_balance`].
    fn bounded_balance(&self, balance: f32) -> f32 {
        let capped = self.max_balance.map_or(balance, |cap| balance.min(cap));
        self.min_balance.map_or(capped, |floor| capped.max(floor))
    }

    fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(Error::InvalidArgument(format!("HOTA: {what}")));
        if !(self.sigma.is_finite() && self.sigma >= 0.0) {
            return bad(&format!("sigma must be finite and >= 0, got {}", self.sigma));
        }
        if !(self.hjb_weight.is_finite() && self.hjb_weight > 0.0) {
            return bad(&format!("hjb_weight must be positive, got {}", self.hjb_weight));
        }
        if !(self.acceleration_weight.is_finite() && self.acceleration_weight >= 0.0) {
            return bad(&format!(
                "acceleration_weight must be >= 0, got {}",
                self.acceleration_weight
            ));
        }
        if self.iterations == 0 || self.batch_size == 0 || self.potential_batch == 0 {
            return bad("iterations, batch_size and potential_batch must be positive");
        }
        if self.control_steps == 0 {
            return bad("control_steps must be positive");
        }
        if !(0.0..=1.0).contains(&self.target_rate) || !(0.0..1.0).contains(&self.balance_decay) {
            return bad("target_rate must be in [0, 1] and balance_decay in [0, 1)");
        }
        if !(self.initial_balance.is_finite() && self.initial_balance > 0.0) {
            return bad("initial_balance must be positive");
        }
        for (name, bound) in [
            ("min_balance", self.min_balance),
            ("max_balance", self.max_balance),
        ] {
            if let Some(value) = bound.filter(|v| !(v.is_finite() && *v > 0.0)) {
                return bad(&format!("{name} must be positive and finite, got {value}"));
            }
        }
        if let (Some(floor), Some(cap)) = (self.min_balance, self.max_balance) {
            if floor > cap {
                return bad(&format!("min_balance {floor} is above max_balance {cap}"));
            }
        }
        if self.eval_size == 0 {
            return bad("eval_size must be positive");
        }
        Ok(())
    }
}

/// The affine change of coordinates x' = (x − centre)/scale HOTA trains in.
///
/// The problem in x' is again a HOTA problem, with value s'(t, x') = s(t, x)/L², state cost
/// V'(x') = V(x)/L², noise σ/L and acceleration weight λ_a/L² (L = scale), so solutions map back
/// exactly: v(t, x) = L·v'(t, x'). Training in units where the marginals have spread 1 lets one set of
/// network and optimiser settings work from the unit box to the S-tunnel (spread 11), which in the
/// original coordinates needs s to reach values in the hundreds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Normalization {
    /// c, subtracted from every point.
    pub centre: Vec<f32>,
    /// L > 0, dividing every point after centring.
    pub scale: f32,
}

impl Normalization {
    /// No change of coordinates in `dim` dimensions.
    pub fn identity(dim: usize) -> Self {
        Normalization {
            centre: vec![0.0; dim],
            scale: 1.0,
        }
    }

    /// The joint mean of `samples` and their RMS distance to it (at least 1e-3).
    pub fn fit(samples: &[&Array2<f32>]) -> Result<Self> {
        let all = ndarray::concatenate(
            ndarray::Axis(0),
            &samples.iter().map(|s| s.view()).collect::<Vec<_>>(),
        )
        .map_err(|e| Error::InvalidArgument(format!("Normalization::fit: {e}")))?;
        let centre = all
            .mean_axis(ndarray::Axis(0))
            .ok_or_else(|| Error::Empty("Normalization::fit: no samples".into()))?;
        let spread = (&all - &centre).mapv(|v| v * v).sum() / all.nrows() as f32;
        Ok(Normalization {
            centre: centre.to_vec(),
            scale: spread.sqrt().max(1e-3),
        })
    }

    fn validate(&self, dim: usize) -> Result<()> {
        if self.centre.len() != dim || !(self.scale.is_finite() && self.scale > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "HOTA normalization needs a centre of length {dim} and a positive scale, got length {} and scale {}",
                self.centre.len(),
                self.scale
            )));
        }
        crate::error::ensure_finite("HOTA normalization centre", self.centre.iter())
    }

    /// x' = (x − c)/L.
    pub fn to_scaled(&self, x: &Array2<f32>) -> Array2<f32> {
        let centre = Array1::from(self.centre.clone());
        (x - &centre) / self.scale
    }

    /// x = L x' + c.
    pub fn to_original(&self, x: &Array2<f32>) -> Array2<f32> {
        let centre = Array1::from(self.centre.clone());
        x * self.scale + &centre
    }

    fn measure(&self, measure: &Measure) -> Measure {
        let (inner, norm) = (measure.clone(), self.clone());
        Measure::from_fn(measure.name(), measure.dim(), move |r, n| {
            Ok(norm.to_scaled(&inner.sample_exact(r, n)?))
        })
    }

    /// The settings of the problem in scaled coordinates.
    fn config(&self, config: &HotaConfig) -> HotaConfig {
        let l2 = self.scale * self.scale;
        HotaConfig {
            sigma: config.sigma / self.scale,
            acceleration_weight: config.acceleration_weight / l2,
            ..config.clone()
        }
    }
}

/// Where [`HotaModel::save`] puts the normalization beside the weights.
fn normalization_path(weights: &std::path::Path) -> std::path::PathBuf {
    let mut name = weights.as_os_str().to_owned();
    name.push(".normalization.json");
    std::path::PathBuf::from(name)
}

/// U'(q') = U(L q' + c)/L²: the obstacle seen in scaled coordinates.
struct ScaledPotential<P> {
    inner: P,
    normalization: Normalization,
}

impl<P: Potential<Device>> Potential<Device> for ScaledPotential<P> {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn value(
        &self,
        q: crate::lagrangian::Points<Device>,
        cond: Option<&crate::lagrangian::Condition<Device>>,
    ) -> Result<crate::lagrangian::Scalars<Device>> {
        let shape = *q.shape();
        let l = self.normalization.scale;
        let centre = crate::lagrangian::constant_rows(q.device(), shape.0, &self.normalization.centre);
        Ok(self.inner.value(q * l + centre, cond)? * (1.0 / (l * l)))
    }
    fn is_zero(&self) -> bool {
        self.inner.is_zero()
    }
}

/// Chainable configuration of a HOTA run; see the module docs.
pub struct HotaBuilder<P> {
    potential: P,
    source: Option<Measure>,
    target: Option<Measure>,
    config: HotaConfig,
    bounds: Option<Bounds>,
    seed: u64,
    progress: ProgressMode,
    /// The paper's task this builder was made for, whose per-task settings survive `.preset()`.
    benchmark: Option<HotaBenchmark>,
}

/// Entry points: [`Hota::builder`] for any obstacle potential, [`Hota::benchmark`] for the paper's tasks.
pub struct Hota<P> {
    builder: HotaBuilder<P>,
    source: Measure,
    target: Measure,
}

impl Hota<()> {
    /// Starts configuring HOTA under the obstacle `potential` (U ≤ 0 on obstacles; the state cost is
    /// −U) on `dim`-dimensional points, with the paper's settings.
    pub fn builder<P: Potential<Device>>(potential: P, dim: usize) -> HotaBuilder<P> {
        HotaBuilder {
            potential,
            source: None,
            target: None,
            config: HotaConfig::preset(HotaPreset::Paper, dim),
            bounds: None,
            seed: 0,
            progress: ProgressMode::Auto,
            benchmark: None,
        }
    }

    /// A builder for one of the paper's benchmarks: its marginals, weighted obstacle, σ, λ_hjb and
    /// λ_a, its floor on κ ([`HotaBenchmark::min_balance`]) and learning-rate factor
    /// ([`HotaBenchmark::learning_rate_factor`]), at the `Fast` size with the task's own length
    /// ([`HotaBenchmark::fast_iterations`]; call `.preset(HotaPreset::Paper)` for the reference
    /// size), trained in the original coordinates as the reference trains them.
    ///
    /// Measured (box, Fast, seed 0): W2 0.0024 and cost 2.96 in the original coordinates (paper 0.002
    /// and 2.84); normalised coordinates (scale 1.25) diverged after 3000 steps (W2 17.7).
    pub fn benchmark(benchmark: HotaBenchmark) -> Result<HotaBuilder<crate::lagrangian::Obstacle>> {
        let dim = benchmark.dim();
        let mut builder = Hota::builder(benchmark.obstacle()?, dim)
            .source(benchmark.source())
            .target(benchmark.target())
            .bounds(benchmark.bounds())
            .normalization(Normalization::identity(dim));
        builder.config.sigma = benchmark.sigma();
        builder.config.hjb_weight = benchmark.hjb_weight();
        builder.config.acceleration_weight = benchmark.acceleration_weight();
        builder.config.min_balance = benchmark.min_balance();
        builder.benchmark = Some(benchmark);
        let builder = builder.preset(HotaPreset::Fast);
        Ok(builder)
    }
}

impl<P: Potential<Device>> HotaBuilder<P> {
    /// The measure transported from.
    pub fn source(mut self, source: Measure) -> Self {
        self.source = Some(source);
        self
    }
    /// The measure transported to.
    pub fn target(mut self, target: Measure) -> Self {
        self.target = Some(target);
        self
    }
    /// Size preset (keeps σ, λ_hjb, λ_a, the floor on κ and the ablation switches; a benchmark's
    /// builder scales the preset's learning rate by [`HotaBenchmark::learning_rate_factor`] and, for
    /// `Fast`, takes the task's [`HotaBenchmark::fast_iterations`]).
    pub fn preset(mut self, preset: HotaPreset) -> Self {
        let keep = self.config.clone();
        let sized = HotaConfig::preset(preset, keep.net.dim());
        let lr_factor = self.benchmark.map_or(1.0, HotaBenchmark::learning_rate_factor);
        let iterations = match (preset, self.benchmark.and_then(HotaBenchmark::fast_iterations)) {
            (HotaPreset::Fast, Some(n)) => n,
            _ => sized.iterations,
        };
        self.config = HotaConfig {
            sigma: keep.sigma,
            noise: keep.noise,
            hjb_weight: keep.hjb_weight,
            acceleration_weight: keep.acceleration_weight,
            min_balance: keep.min_balance,
            ablation: keep.ablation,
            normalization: keep.normalization,
            learning_rate: sized.learning_rate * lr_factor,
            iterations,
            ..sized
        };
        self
    }
    /// Every setting at once.
    pub fn config(mut self, config: HotaConfig) -> Self {
        self.config = config;
        self
    }
    /// Base noise level σ.
    pub fn sigma(mut self, sigma: f32) -> Self {
        self.config.sigma = sigma;
        self
    }
    /// How σ_t varies in time.
    pub fn noise(mut self, noise: NoiseSchedule) -> Self {
        self.config.noise = noise;
        self
    }
    /// λ_hjb.
    pub fn hjb_weight(mut self, weight: f32) -> Self {
        self.config.hjb_weight = weight;
        self
    }
    /// λ_a.
    pub fn acceleration_weight(mut self, weight: f32) -> Self {
        self.config.acceleration_weight = weight;
        self
    }
    /// Architecture of s(t, x).
    pub fn net(mut self, net: TimeValueNetBuilder) -> Self {
        self.config.net = net;
        self
    }
    /// Initial learning rate.
    pub fn learning_rate(mut self, lr: f64) -> Self {
        self.config.learning_rate = lr;
        self
    }
    /// Training steps.
    pub fn iterations(mut self, n: usize) -> Self {
        self.config.iterations = n;
        self
    }
    /// HJB batch size.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.config.batch_size = n;
        self
    }
    /// Simulated batch of the potential loss.
    pub fn potential_batch(mut self, n: usize) -> Self {
        self.config.potential_batch = n;
        self
    }
    /// Interpolant warm-up steps.
    pub fn warmup_steps(mut self, n: usize) -> Self {
        self.config.warmup_steps = n;
        self
    }
    /// Caps the gradient-balancing factor κ ([`HotaConfig::max_balance`]).
    pub fn max_balance(mut self, cap: f32) -> Self {
        self.config.max_balance = Some(cap);
        self
    }
    /// Bounds the gradient-balancing factor κ from below ([`HotaConfig::min_balance`]).
    pub fn min_balance(mut self, floor: f32) -> Self {
        self.config.min_balance = Some(floor);
        self
    }
    /// Which ingredients are on.
    pub fn ablation(mut self, ablation: HotaAblation) -> Self {
        self.config.ablation = ablation;
        self
    }
    /// Fixed coordinates for training (default: chosen from the marginals); see [`HotaConfig::normalization`].
    pub fn normalization(mut self, normalization: Normalization) -> Self {
        self.config.normalization = Some(normalization);
        self
    }
    /// Evaluate every `every` steps (and after the last; 0 never) on `size` fixed points.
    pub fn evaluation(mut self, every: usize, size: usize) -> Self {
        self.config.eval_every = every;
        self.config.eval_size = size;
        self
    }
    /// Drawing window (2-D).
    pub fn bounds(mut self, bounds: Bounds) -> Self {
        self.bounds = Some(bounds);
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
    /// The settings as they stand.
    pub fn settings(&self) -> &HotaConfig {
        &self.config
    }

    /// Validates the configuration.
    pub fn build(self) -> Result<Hota<P>> {
        self.config.validate()?;
        let need = |m: &Option<Measure>, role: &str| {
            m.clone()
                .ok_or_else(|| Error::InvalidArgument(format!("HOTA needs .{role}(..)")))
        };
        let (source, target) = (need(&self.source, "source")?, need(&self.target, "target")?);
        let dim = self.config.net.dim();
        for (m, role) in [(&source, "source"), (&target, "target")] {
            if m.dim() != dim {
                return Err(Error::shape(
                    format!("HOTA {role} measure {}", m.name()),
                    format!("dimension {dim}"),
                    format!("dimension {}", m.dim()),
                ));
            }
        }
        Ok(Hota {
            builder: self,
            source,
            target,
        })
    }
}

/// What training recorded.
#[derive(Debug, Clone, Default)]
pub struct HotaHistory {
    /// L_hjb at every step.
    pub hjb_loss: Vec<f64>,
    /// (step, L_pot) at every potential step.
    pub potential_loss: Vec<(usize, f64)>,
    /// κ after every step.
    pub balance: Vec<f64>,
    /// Steps at which the model was evaluated.
    pub eval_iteration: Vec<usize>,
    /// Sinkhorn divergence (ε = 1e-2) of the rollout's end against the evaluation target.
    pub eval_w2: Vec<f64>,
    /// Action of the evaluation rollout, ∫ ½ mean|v|² − mean U dt (kinetic energy plus obstacle penalty).
    pub eval_action: Vec<f64>,
    /// Wall-clock seconds of training.
    pub seconds: f64,
}

/// A simulated batch of trajectories and its integrated cost.
#[derive(Debug, Clone)]
pub struct Rollout {
    /// States at t_k = k/T, k = 0 … T, each `[n, d]`.
    pub states: Vec<Array2<f32>>,
    /// ∫ ½ mean |v|² dt (Riemann sum over the T steps).
    pub kinetic: f64,
    /// ∫ mean U(x_t) dt (≤ 0: the obstacle's share, with the crate's sign).
    pub potential: f64,
}

impl Rollout {
    /// The action ∫ (½ mean|v|² − mean U) dt: kinetic energy plus the obstacle penalty −∫U ≥ 0.
    pub fn action(&self) -> f64 {
        self.kinetic - self.potential
    }

    /// The end points x_T.
    pub fn end(&self) -> &Array2<f32> {
        self.states.last().expect("a rollout has at least its start")
    }

    /// Path `i` as a `[T + 1, d]` array.
    pub fn path(&self, i: usize) -> Array2<f32> {
        let d = self.states[0].ncols();
        let mut out = Array2::zeros((self.states.len(), d));
        for (k, state) in self.states.iter().enumerate() {
            out.row_mut(k).assign(&state.row(i));
        }
        out
    }

    /// The first `n` paths.
    pub fn paths(&self, n: usize) -> Vec<Array2<f32>> {
        (0..n.min(self.states[0].nrows())).map(|i| self.path(i)).collect()
    }

    /// The fraction of visited states (all steps) where the state cost −U exceeds `level`.
    pub fn fraction_in_obstacle<P: Potential<Device>>(&self, potential: &P, level: f32) -> Result<f64> {
        let dev = default_device(0);
        let (mut inside, mut total) = (0usize, 0usize);
        for state in &self.states {
            let u = potential_at(potential, &dev, state, None)?;
            inside += u.iter().filter(|&&v| -v > level).count();
            total += u.len();
        }
        Ok(inside as f64 / total.max(1) as f64)
    }
}

/// A trained HOTA model: the value network, the obstacle, and what training recorded.
pub struct HotaModel<P> {
    net: TimeValueNet,
    potential: ScaledPotential<P>,
    config: HotaConfig,
    scaled_config: HotaConfig,
    normalization: Normalization,
    history: HotaHistory,
    eval_source: Array2<f32>,
    eval_target: Array2<f32>,
    bounds: Option<Bounds>,
    source_name: String,
    target_name: String,
}

impl<P: Potential<Device>> Hota<P> {
    /// Trains the value network; see the module docs. A NaN or infinite loss stops training with
    /// [`Error::Diverged`] naming the step.
    pub fn fit(self) -> Result<HotaModel<P>> {
        let Hota {
            builder,
            source,
            target,
        } = self;
        let HotaBuilder {
            potential,
            config,
            bounds,
            seed,
            progress,
            ..
        } = builder;
        let dev = default_device(seed);
        let mut rng = crate::device::rng(seed);
        let dim = config.net.dim();
        let eval_source = source.sample_exact(&mut rng, config.eval_size)?;
        let eval_target = target.sample_exact(&mut rng, config.eval_size)?;
        let normalization = match &config.normalization {
            Some(n) => n.clone(),
            None => Normalization::fit(&[&eval_source, &eval_target])?,
        };
        normalization.validate(dim)?;
        let user_config = config;
        let config = normalization.config(&user_config);
        let (source_name, target_name) = (source.name().to_string(), target.name().to_string());
        let (source, target) = (normalization.measure(&source), normalization.measure(&target));
        let potential = ScaledPotential {
            inner: potential,
            normalization: normalization.clone(),
        };
        let mut online = config.net.build(&dev)?;
        let mut target_net = online.clone();
        let schedule = LrSchedule::warmup_cosine(
            config.learning_rate,
            config.learning_rate * config.final_lr_fraction,
            0,
            config.iterations,
        );
        let mut adam = Adam::new(
            AdamConfig::with_lr(config.learning_rate)
                .schedule(schedule)
                .betas(0.9, config.beta2),
        )?;
        let mut buffer = ReplayBuffer::new(dim, config.buffer_capacity.max(1))?;
        let scaled_eval_source = normalization.to_scaled(&eval_source);
        let scaled_eval_target = normalization.to_scaled(&eval_target);
        let mut history = HotaHistory::default();
        let mut balance = if config.ablation.gradient_balancing {
            config.bounded_balance(config.initial_balance)
        } else {
            1.0
        };
        let lambda = config.hjb_weight;

        let mut bar = Progress::new("HOTA", config.iterations as u64, progress);
        for step in 0..config.iterations {
            let use_buffer =
                config.ablation.replay_buffer && step >= config.warmup_steps && !buffer.is_empty();
            let (times, points) = if use_buffer {
                buffer.sample(&mut rng, config.batch_size)?
            } else {
                interpolant_points(&config, &source, &target, &mut rng)?
            };
            let reference = if config.ablation.ema_target {
                &target_net
            } else {
                &online
            };
            let (hjb, hjb_grads) =
                hjb_residual_loss(&online, reference, &potential, &config, &times, &points)?;
            check_loss(step, hjb)?;
            history.hjb_loss.push(hjb);

            let gradients = if step % 2 == 0 {
                let x0 = source.sample_exact(&mut rng, config.potential_batch)?;
                let y = target.sample_exact(&mut rng, config.potential_batch)?;
                let rollout = simulate(&online, None::<&ScaledPotential<P>>, &config, &x0, &mut rng)?;
                let (pot, pot_grads) = potential_loss(&online, &y, rollout.end())?;
                check_loss(step, pot)?;
                history.potential_loss.push((step, pot));
                if config.ablation.gradient_balancing {
                    let ratio = global_norm(&pot_grads) / global_norm(&hjb_grads).max(1e-30);
                    balance = config.bounded_balance(
                        config.balance_decay * balance + (1.0 - config.balance_decay) * ratio as f32,
                    );
                }
                store_trajectory(&mut buffer, &rollout, rng.gen_range(0..x0.nrows()))?;
                combine_gradients(1.0, &pot_grads, lambda * balance, &hjb_grads)?
            } else {
                combine_gradients(0.0, &hjb_grads, lambda * balance, &hjb_grads)?
            };
            adam.step_with(&mut online, &gradients)?;
            if config.ablation.ema_target {
                target_net.track(&online, config.target_rate)?;
            }
            history.balance.push(balance as f64);

            let last = step + 1 == config.iterations;
            if config.eval_every > 0 && (step % config.eval_every == 0 || last) {
                let rollout = simulate(
                    &online,
                    Some(&potential),
                    &config,
                    &scaled_eval_source,
                    &mut crate::device::rng(seed),
                )?;
                history.eval_iteration.push(step);
                // In scaled units; the divergence scales by L² and so does the action.
                let l2 = (normalization.scale * normalization.scale) as f64;
                history
                    .eval_w2
                    .push(l2 * evaluation_divergence(rollout.end(), &scaled_eval_target)?);
                history.eval_action.push(l2 * rollout.action());
            }
            bar.update(step as u64 + 1, || {
                let pot = history.potential_loss.last().map_or(0.0, |p| p.1);
                format!("hjb {hjb:.3e} pot {pot:+.3e} kappa {balance:.3}")
            });
        }
        history.seconds = bar.finish();
        Ok(HotaModel {
            net: online,
            potential,
            config: user_config,
            scaled_config: config,
            normalization,
            history,
            eval_source,
            eval_target,
            bounds,
            source_name,
            target_name,
        })
    }
}

/// (t, x) on the noisy straight interpolant (1 − t)x₀ + t y + σ_t ε between independent samples.
fn interpolant_points(
    config: &HotaConfig,
    source: &Measure,
    target: &Measure,
    rng: &mut SeededRng,
) -> Result<(Vec<f32>, Array2<f32>)> {
    let x0 = source.sample_exact(rng, config.batch_size)?;
    let y = target.sample_exact(rng, config.batch_size)?;
    let times: Vec<f32> = (0..config.batch_size).map(|_| rng.gen::<f32>()).collect();
    let mut points = x0;
    for ((mut row, y), &t) in points.rows_mut().into_iter().zip(y.rows()).zip(&times) {
        let sigma_t = config.noise.at(config.sigma, t);
        for (p, &target) in row.iter_mut().zip(y) {
            let noise: f32 = rng.sample(StandardNormal);
            *p = (1.0 - t) * *p + t * target + sigma_t * noise;
        }
    }
    Ok((times, points))
}

/// Euler–Maruyama under the current controls; with `potential`, also accumulates its integral.
fn simulate<P: Potential<Device>>(
    net: &TimeValueNet,
    potential: Option<&P>,
    config: &HotaConfig,
    x0: &Array2<f32>,
    rng: &mut SeededRng,
) -> Result<Rollout> {
    let steps = config.control_steps;
    let dt = 1.0 / steps as f32;
    let dev = default_device(0);
    let mut states = Vec::with_capacity(steps + 1);
    let mut x = x0.to_owned();
    let (mut kinetic, mut integral) = (0.0f64, 0.0f64);
    let host = net.host_snapshot();
    for k in 0..steps {
        let t = k as f32 * dt;
        let grad = host.input_gradient(&vec![t; x.nrows()], &x)?;
        kinetic += 0.5
            * grad
                .map_axis(ndarray::Axis(1), |g| g.dot(&g))
                .mean()
                .unwrap_or(0.0) as f64
            * dt as f64;
        if let Some(p) = potential {
            integral += potential_at(p, &dev, &x, None)?.mean().unwrap_or(0.0) as f64 * dt as f64;
        }
        states.push(x.clone());
        let noise_scale = config.noise.at(config.sigma, t) * dt.sqrt();
        x.zip_mut_with(&grad, |xi, &g| *xi -= dt * g);
        if noise_scale > 0.0 {
            x.mapv_inplace(|xi| xi + noise_scale * rng.sample::<f32, _>(StandardNormal));
        }
        crate::error::ensure_finite("HOTA trajectory", x.iter())?;
    }
    states.push(x);
    Ok(Rollout {
        states,
        kinetic,
        potential: integral,
    })
}

/// Stores the pre-step states (t_k, x_k), k < T, of trajectory `i`.
fn store_trajectory(buffer: &mut ReplayBuffer, rollout: &Rollout, i: usize) -> Result<()> {
    let steps = rollout.states.len() - 1;
    let path = rollout.path(i);
    let times: Vec<f32> = (0..steps).map(|k| k as f32 / steps as f32).collect();
    buffer.push(&times, path.slice(s![..steps, ..]))
}

/// The state cost V = −U, smoothed along the drift: 0.4 V(x) + 0.3 V(x − δg) + 0.3 V(x − 2δg).
fn smoothed_state_cost<P: Potential<Device>>(
    potential: &P,
    points: &Array2<f32>,
    grad: &Array2<f32>,
    delta: f32,
) -> Result<Array1<f32>> {
    let dev = default_device(0);
    let mut total = Array1::zeros(points.nrows());
    for (weight, shift) in [(0.4f32, 0.0f32), (0.3, delta), (0.3, 2.0 * delta)] {
        let moved = points - &(grad * shift);
        let u = potential_at(potential, &dev, &moved, None)?;
        total.zip_mut_with(&u, |acc, &u| *acc -= weight * u);
    }
    Ok(total)
}

/// L_hjb = mean r₁² + mean r₂² at the points `(times, points)` and its gradient with respect to
/// `online`'s weights (in [`Trainable::params`] order), with `reference` as the paired target network
/// and the state cost −U of `potential` (see the module docs). Public so that the residual's
/// weight gradient can be checked against finite differences.
pub fn hjb_residual_loss<P: Potential<Device>>(
    online: &TimeValueNet,
    reference: &TimeValueNet,
    potential: &P,
    config: &HotaConfig,
    times: &[f32],
    points: &Array2<f32>,
) -> Result<(f64, Vec<crate::nn::Param<Device>>)> {
    let dev = online_device(online);
    let x = array_to_tensor(&dev, points, "HOTA HJB points")?;
    let n = points.nrows();
    let on = online.derivatives::<Taped<Device>>(times, &x)?;
    let fixed = reference.derivatives::<NoneTape>(times, &x)?;

    let grad_host = tensor_to_array(&on.grad_x);
    let state_cost = smoothed_state_cost(potential, points, &grad_host, config.smoothing_step)?;
    let state_cost: Tensor<(usize,), f32, Device> = dev.tensor_from_vec(state_cost.to_vec(), (n,));
    let fixed_speed = (fixed.grad_x.clone().square().sum::<(usize,), Axis<1>>()) * 0.5;

    // The acceleration term, shared by both residuals (second use through a copy of the same id).
    let accel: Option<Tensor1<Device, Taped<Device>>> = if config.acceleration_weight > 0.0 {
        Some(angular_acceleration_cost(
            on.grad_x.retaped::<Taped<Device>>(),
            on.dt_grad_x,
            config.acceleration_weight,
        ))
    } else {
        None
    };
    let online_speed = on.grad_x.square().sum::<(usize,), Axis<1>>() * 0.5;

    let mut r1 = on.dt - fixed_speed + state_cost.clone();
    let mut r2 = (-online_speed) + (fixed.dt + state_cost);
    if let Some(a) = accel {
        r2 = r2 + a.retaped::<Taped<Device>>();
        r1 = r1 + a;
    }
    let loss = r1.square().mean::<Rank0, _>() + r2.square().mean::<Rank0, _>();
    let value = loss.array() as f64;
    let mut grads = loss.backward();
    Ok((value, online.gradients(&mut grads)?))
}

/// λ_a·√(|a|² + 1e-8) with a = ∂ₜ(g/|g|) = (ġ − n (n·ġ))/|g| for g = ∇ₓs, ġ = ∂ₜ∇ₓs (∇ₓ of the unit
/// drift vanishes for a piecewise-linear s, so this is the whole material derivative).
fn angular_acceleration_cost(
    grad: crate::nn::Tensor2<Device, Taped<Device>>,
    grad_rate: crate::nn::Tensor2<Device, Taped<Device>>,
    weight: f32,
) -> Tensor1<Device, Taped<Device>> {
    let shape = *grad.shape();
    let norm = (grad
        .retaped::<Taped<Device>>()
        .square()
        .sum::<(usize,), Axis<1>>()
        + 1e-16)
        .sqrt();
    let inv_norm = (norm + 1e-8).recip();
    let unit = grad
        * inv_norm
            .retaped::<Taped<Device>>()
            .broadcast_like::<_, Axis<1>>(&shape);
    let along =
        (unit.retaped::<Taped<Device>>() * grad_rate.retaped::<Taped<Device>>()).sum::<(usize,), Axis<1>>();
    let tangential = grad_rate - unit * along.broadcast_like::<_, Axis<1>>(&shape);
    let accel = tangential * inv_norm.broadcast_like::<_, Axis<1>>(&shape);
    (accel.square().sum::<(usize,), Axis<1>>() + 1e-8).sqrt() * weight
}

/// L_pot = m·|m| with m = mean s(1, y) − mean s(1, x_T), and its weight gradient.
fn potential_loss(
    online: &TimeValueNet,
    y: &Array2<f32>,
    ends: &Array2<f32>,
) -> Result<(f64, Vec<crate::nn::Param<Device>>)> {
    let dev = online_device(online);
    let y_t = array_to_tensor(&dev, y, "HOTA target batch")?;
    let x_t = array_to_tensor(&dev, ends, "HOTA simulated ends")?;
    let on_target = online.forward::<Taped<Device>>(&vec![1.0; y.nrows()], &y_t)?;
    let on_ends = online.forward::<Taped<Device>>(&vec![1.0; ends.nrows()], &x_t)?;
    let gap = on_target.mean::<Rank0, _>() - on_ends.mean::<Rank0, _>();
    let sign = if gap.array() >= 0.0 { 1.0 } else { -1.0 };
    let loss = gap.square() * sign;
    let value = loss.array() as f64;
    let mut grads = loss.backward();
    Ok((value, online.gradients(&mut grads)?))
}

fn online_device(net: &TimeValueNet) -> Device {
    net.params()[0].device().clone()
}

/// The feasibility score used during training: debiased Sinkhorn, ε = 1e-2, |x − y|².
fn evaluation_divergence(x: &Array2<f32>, y: &Array2<f32>) -> Result<f64> {
    let config = SinkhornConfig {
        epsilon: 1e-2,
        max_iters: 2000,
        tol: 1e-3,
        cost: GroundCost::SqEuclidean,
        epsilon_scaling: true,
    };
    sinkhorn_divergence_with(x, y, &config)
}

impl<P: Potential<Device>> HotaModel<P> {
    /// The value network s(t, x).
    pub fn net(&self) -> &TimeValueNet {
        &self.net
    }
    /// The obstacle potential it was trained with.
    pub fn potential(&self) -> &P {
        &self.potential.inner
    }
    /// The coordinates it was trained in.
    pub fn normalization(&self) -> &Normalization {
        &self.normalization
    }
    /// The settings it was trained with.
    pub fn config(&self) -> &HotaConfig {
        &self.config
    }
    /// What training recorded.
    pub fn history(&self) -> &HotaHistory {
        &self.history
    }
    /// The fixed evaluation samples (source, target).
    pub fn eval_samples(&self) -> (&Array2<f32>, &Array2<f32>) {
        (&self.eval_source, &self.eval_target)
    }

    /// The control v(t, x) = −∇ₓs(t, x) at one time for a batch `[n, d]`.
    pub fn velocity(&self, t: f32, x: &Array2<f32>) -> Result<Array2<f32>> {
        let scaled = self.normalization.to_scaled(x);
        Ok(self.net.gradient_array(&vec![t; x.nrows()], &scaled)? * (-self.normalization.scale))
    }

    /// Simulates `x0` under the learned controls with the training noise (seeded), accumulating the
    /// kinetic energy and the obstacle integral (HOTA's inference loop, spec §2.6).
    pub fn rollout(&self, x0: &Array2<f32>, seed: u64) -> Result<Rollout> {
        if x0.ncols() != self.net.dim() {
            return Err(Error::shape(
                "HotaModel::rollout",
                format!("[n, {}]", self.net.dim()),
                format!("{:?}", x0.dim()),
            ));
        }
        crate::error::ensure_finite("HotaModel::rollout start", x0.iter())?;
        let scaled = simulate(
            &self.net,
            Some(&self.potential),
            &self.scaled_config,
            &self.normalization.to_scaled(x0),
            &mut rng(seed),
        )?;
        let l2 = (self.normalization.scale * self.normalization.scale) as f64;
        Ok(Rollout {
            states: scaled
                .states
                .iter()
                .map(|x| self.normalization.to_original(x))
                .collect(),
            kinetic: l2 * scaled.kinetic,
            potential: l2 * scaled.potential,
        })
    }

    /// The transported points x_T of `x0`.
    pub fn transport(&self, x0: &Array2<f32>, seed: u64) -> Result<Array2<f32>> {
        Ok(self.rollout(x0, seed)?.end().clone())
    }

    /// Saves the value network's weights to `path` (`.npz`) and the training coordinates to
    /// `path` + `.normalization.json`, each atomically.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let path = path.as_ref();
        self.net.save(path)?;
        crate::io::write_checkpoint_json(&normalization_path(path), &self.normalization)
    }

    /// Loads what [`HotaModel::save`] wrote into this model (same architecture and dimension).
    pub fn load(&mut self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let path = path.as_ref();
        let normalization: Normalization = crate::io::read_checkpoint_json(&normalization_path(path))?;
        normalization.validate(self.net.dim())?;
        self.net.load(path)?;
        self.scaled_config = normalization.config(&self.config);
        self.potential.normalization = normalization.clone();
        self.normalization = normalization;
        Ok(())
    }

    /// The evaluation source's trajectories over the obstacle's heatmap (2-D) or their first two
    /// coordinates, with the target and the pushforward.
    pub fn trajectories_figure(&self) -> Figure {
        match self.rollout(&self.eval_source, 0) {
            Ok(rollout) => self.trajectories_panel(&rollout),
            Err(e) => Figure::failed(e),
        }
    }

    fn trajectories_panel(&self, rollout: &Rollout) -> Figure {
        let title = format!("{} → {}", self.source_name, self.target_name);
        if self.net.dim() != 2 {
            let (a, b) = most_moving_coordinates(rollout);
            let project = |m: &Array2<f32>| ndarray::stack![ndarray::Axis(1), m.column(a), m.column(b)];
            let paths: Vec<Array2<f32>> = rollout.paths(40).iter().map(project).collect();
            return Figure::new()
                .title(&format!("{title} (coordinates {a}, {b})"))
                .paths(&paths, "paths")
                .scatter(&project(&self.eval_target), "target")
                .scatter(&project(rollout.end()), "pushforward")
                .equal_aspect();
        }
        let lagrangian = Lagrangian::new(Euclidean { dim: 2 }, &self.potential.inner);
        let bounds = self
            .bounds
            .clone()
            .or_else(|| Potential::<Device>::bounds(&self.potential.inner));
        let base = match bounds {
            Some(b) => lagrangian.plot_on(&b, HEATMAP_RESOLUTION, None),
            None => lagrangian.plot(),
        };
        base.title(&title)
            .samples(&self.eval_source, "source")
            .samples(&self.eval_target, "target")
            .samples(rollout.end(), "pushforward")
            .paths(&rollout.paths(40), "paths")
            .figure()
    }
}

/// The two coordinates (in index order) along which the rollout's states spread most: the plane a
/// high-dimensional transport is drawn in.
fn most_moving_coordinates(rollout: &Rollout) -> (usize, usize) {
    let all = ndarray::concatenate(
        ndarray::Axis(0),
        &rollout.states.iter().map(|s| s.view()).collect::<Vec<_>>(),
    )
    .expect("states share their width");
    let variance = all.var_axis(ndarray::Axis(0), 0.0);
    let mut order: Vec<usize> = (0..variance.len()).collect();
    order.sort_by(|&i, &j| variance[j].total_cmp(&variance[i]));
    let (a, b) = (order[0], order.get(1).copied().unwrap_or(order[0]));
    (a.min(b), a.max(b))
}

impl<P: Potential<Device>> Plot for HotaModel<P> {
    fn figure(&self) -> Figure {
        let rollout = match self.rollout(&self.eval_source, 0) {
            Ok(r) => r,
            Err(e) => return Figure::failed(e),
        };
        let paths = self.trajectories_panel(&rollout);
        let h = &self.history;
        let mut losses = Figure::new()
            .title("training")
            .x_label("step")
            .loss_curve(
                &h.hjb_loss.iter().map(|v| v.max(1e-12)).collect::<Vec<_>>(),
                "HJB residual",
            )
            .log_y();
        if !h.potential_loss.is_empty() {
            let at: Vec<f64> = h.potential_loss.iter().map(|p| p.0 as f64).collect();
            let abs: Vec<f64> = h.potential_loss.iter().map(|p| p.1.abs().max(1e-12)).collect();
            losses = losses.line_xy(&at, &abs, "|potential loss|");
        }
        let mut panels = vec![paths, losses];
        if h.eval_iteration.len() > 1 {
            let at: Vec<f64> = h.eval_iteration.iter().map(|&i| i as f64).collect();
            panels.push(
                Figure::new()
                    .title("evaluation")
                    .x_label("step")
                    .line_xy(
                        &at,
                        &h.eval_w2.iter().map(|v| v.max(1e-12)).collect::<Vec<_>>(),
                        "Sinkhorn divergence",
                    )
                    .log_y(),
            );
        }
        Figure::grid(panels.len(), panels)
    }
}

impl<P: Potential<Device>> HotaModel<P> {
    /// Draws the model inline in a notebook (trajectories over the obstacle, losses, evaluation).
    pub fn evcxr_display(&self) {
        Plot::evcxr_display(self)
    }
}

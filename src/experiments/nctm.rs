//! NCTM experiments (spec `specs/nctm.md` §4, ours: the paper's climate–economy data is not public).
//!
//! `nctm-gaussian`: the source is `N(0, I₂)` for every condition; the target for scenario `s ∈ {0, 1, 2}`
//! (categorical) and horizon `u ∈ [0, 1]` (continuous) is `N(m(s, u), Σ(s, u))` with
//! `m = (1 + 1.5u)(cos φ_s, sin φ_s)`, `φ_s = 2πs/3`, and `Σ = A²` for
//! `A = R(φ_s + πu/3) diag(0.5 + 0.7u, 0.4 + 0.1s) R(φ_s + πu/3)ᵀ`. Since the source is standard, the
//! closed-form Brenier map is `T*(x) = m + A x` (spec §4 with `Σ₁ = I`). Training uses
//! `u ∈ {0, 0.25, 0.5, 0.75, 1}`; evaluation uses the held-out `u ∈ {0.125, 0.375, 0.625, 0.875}` of every
//! scenario. Metrics (means over the held-out conditions):
//! - `map_error`: `E|T(x, c) − T*(x, c)|²` (and `map_error_identity` for `T = id`, `map_error_train` on the
//!   training conditions);
//! - `w2`: exact-OT W2 (not squared) between the pushforward of `eval` source points and as many fresh
//!   target points (`w2_identity`: the source itself; `w2_true_map`: `T*` of the source, the sampling floor);
//! - `bures_w2`: the closed-form W2 between a Gaussian fitted to the pushforward and the true target;
//! - `rho`: Pearson correlation between the pushforward's fitted statistics (mean, covariance entries)
//!   and the true ones, pooled over held-out conditions (our reading of the paper's ρ).
//!
//! `nctm-ablation`: the same problem and metrics for hypernetwork / FiLM / concatenation conditioning,
//! positional vs scalar encoding of `u`, and with vs without pre-training. The paper's numbers
//! (W 0.170 with pre-training vs 0.214 without; ρ 0.942 positional vs 0.305 scalar) come from its
//! climate–economy task, not this one, and are listed only for the direction of the comparison.
//!
//! `nctm-sensitivity`: per-input OT sensitivity indices (spec §3, gsaot's given-data estimator with the
//! cost ‖·‖²) of an analytic IAM-style model ([`iam_outputs`]; the paper's RICE50+ runs are not public)
//! at two held-out (scenario, year) conditions: the exact-OT estimate on an input/output sample
//! ([`ot_sensitivity_indices`]) against the estimate from one NCTM map conditioned on (input, quantile
//! bin, scenario; year), `W₂²(P_Y, P_{Y|bin}) ≈ E‖y − T(y)‖²`. The NCTM target for bin `m` of an input is
//! sampled from the model with that input drawn inside the bin (the population bins of a uniform input),
//! so the map needs no per-bin OT solve. Both estimates carry finite-sample bias; neither is ground truth.

use super::{Report, RunConfig};
use crate::data::toy;
use crate::device::{rng, SeededRng};
use crate::error::Result;
use crate::metrics::{exact_ot, fit_gaussian, gaussian_w2, GroundCost};
use crate::plot::{Figure, Plot};
use crate::progress::ProgressMode;
use crate::solver::{Conditioning, Conditions, ContinuousEncoding, Nctm, NctmBuilder, NctmModel};
use ndarray::{array, Array1, Array2};

/// Number of categorical scenarios of the Gaussian task.
pub const SCENARIOS: usize = 3;
/// Training horizons of the Gaussian task.
pub const TRAIN_HORIZONS: [f32; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];
/// Held-out horizons (between the training ones).
pub const HELDOUT_HORIZONS: [f32; 4] = [0.125, 0.375, 0.625, 0.875];

/// The sizes of an NCTM run in the experiments.
#[derive(Debug, Clone, PartialEq)]
pub struct NctmSettings {
    /// Pre-training steps.
    pub pretrain_steps: usize,
    /// Minimax iterations.
    pub iterations: usize,
    /// Map steps per critic step, K_T.
    pub transport_steps: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Points per condition in the evaluation.
    pub eval_samples: usize,
}

impl NctmSettings {
    /// The full run: 300 pre-training steps, 3000 iterations of K_T = 4, batch 256, 512 evaluation points.
    pub fn full() -> Self {
        NctmSettings {
            pretrain_steps: 300,
            iterations: 3000,
            transport_steps: 4,
            batch_size: 256,
            eval_samples: 512,
        }
    }

    /// A CI-sized run (seconds on 2 cores).
    pub fn quick() -> Self {
        NctmSettings {
            pretrain_steps: 100,
            iterations: 400,
            transport_steps: 4,
            batch_size: 128,
            eval_samples: 256,
        }
    }

    /// [`NctmSettings::quick`] or [`NctmSettings::full`].
    pub fn for_config(config: &RunConfig) -> Self {
        if config.quick {
            Self::quick()
        } else {
            Self::full()
        }
    }
}

/// Mean `m(s, u)` of the target of scenario `s` at horizon `u`.
pub fn scenario_mean(s: usize, u: f32) -> [f64; 2] {
    let phi = 2.0 * std::f64::consts::PI * s as f64 / SCENARIOS as f64;
    let r = 1.0 + 1.5 * u as f64;
    [r * phi.cos(), r * phi.sin()]
}

/// The symmetric square root `A(s, u)` of the target covariance (so `Σ = A²`).
pub fn scenario_sqrt_cov(s: usize, u: f32) -> Array2<f64> {
    let phi = 2.0 * std::f64::consts::PI * s as f64 / SCENARIOS as f64;
    let theta = phi + std::f64::consts::PI * u as f64 / 3.0;
    let (c, si) = (theta.cos(), theta.sin());
    let rot = array![[c, -si], [si, c]];
    let diag = array![[0.5 + 0.7 * u as f64, 0.0], [0.0, 0.4 + 0.1 * s as f64]];
    rot.dot(&diag).dot(&rot.t())
}

/// The closed-form Brenier map `T*(x) = m(s, u) + A(s, u) x` of row `i` under condition row `i`.
///
/// # Errors
/// [`crate::Error::Shape`] unless `x` is `[N, 2]` and `conditions` has `N` rows of one scenario label
/// and one horizon; [`crate::Error::InvalidArgument`] for a scenario `>= SCENARIOS`.
pub fn brenier_map(x: &Array2<f32>, conditions: &Conditions) -> Result<Array2<f32>> {
    let space = crate::solver::ConditionSpace {
        levels: vec![SCENARIOS],
        continuous: 1,
    };
    space.check(conditions)?;
    if x.ncols() != 2 || x.nrows() != conditions.len() {
        return Err(crate::Error::shape(
            "brenier_map",
            format!("[{}, 2]", conditions.len()),
            format!("{:?}", x.shape()),
        ));
    }
    let mut out = Array2::zeros(x.dim());
    for i in 0..x.nrows() {
        let (s, u) = (conditions.categorical()[[i, 0]], conditions.continuous()[[i, 0]]);
        let (m, a) = (scenario_mean(s, u), scenario_sqrt_cov(s, u));
        for j in 0..2 {
            let v = m[j] + a[[j, 0]] * x[[i, 0]] as f64 + a[[j, 1]] * x[[i, 1]] as f64;
            out[[i, j]] = v as f32;
        }
    }
    Ok(out)
}

/// The target sampler of the Gaussian task: `T*(z)` for `z ~ N(0, I)`, one point per condition row.
pub fn gaussian_target(rng: &mut SeededRng, conditions: &Conditions) -> Result<Array2<f32>> {
    let z = toy::gaussian(rng, conditions.len(), &[0.0, 0.0], 1.0)?;
    brenier_map(&z, conditions)
}

/// Every scenario at each of `horizons`.
pub fn conditions_at(horizons: &[f32]) -> Result<Conditions> {
    let cats: Vec<Vec<usize>> = (0..SCENARIOS).map(|s| vec![s]).collect();
    let values: Vec<Vec<f32>> = horizons.iter().map(|&u| vec![u]).collect();
    Conditions::grid(&cats, &values)
}

/// The configured (not yet trained) Gaussian task with `settings`.
pub fn gaussian_builder(settings: &NctmSettings, seed: u64) -> Result<NctmBuilder> {
    Ok(Nctm::builder(2)
        .categorical(&[SCENARIOS])
        .continuous(1)
        .target(gaussian_target)
        .train_conditions(conditions_at(&TRAIN_HORIZONS)?)
        .plot_conditions(Conditions::new(
            array![[0], [1], [2], [0]],
            array![[0.125], [0.375], [0.625], [0.875]],
        )?)
        .pretrain_steps(settings.pretrain_steps)
        .iterations(settings.iterations)
        .transport_steps(settings.transport_steps)
        .batch_size(settings.batch_size)
        .seed(seed)
        .progress(ProgressMode::Silent))
}

/// What [`evaluate_gaussian`] measures (means over the conditions evaluated).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GaussianEvaluation {
    /// `E|T(x, c) − T*(x, c)|²`.
    pub map_error: f64,
    /// `E|x − T*(x, c)|²` (the identity map's error).
    pub map_error_identity: f64,
    /// Exact-OT W2 between the pushforward and fresh target samples.
    pub w2: f64,
    /// Exact-OT W2 between the source and the target samples.
    pub w2_identity: f64,
    /// Exact-OT W2 between `T*` of the source and the target samples (the sampling floor).
    pub w2_true_map: f64,
    /// Closed-form W2 between a Gaussian fitted to the pushforward and the true target.
    pub bures_w2: f64,
    /// Pearson ρ between fitted and true statistics (2 means, 3 covariance entries per condition).
    pub rho: f64,
}

/// Evaluates `model` on the Gaussian task at every row of `conditions` with `n` points each.
pub fn evaluate_gaussian(
    model: &NctmModel,
    conditions: &Conditions,
    n: usize,
    seed: u64,
) -> Result<GaussianEvaluation> {
    let mut r = rng(seed);
    let mut sums = [0.0f64; 6];
    let (mut predicted, mut truth) = (Vec::new(), Vec::new());
    for i in 0..conditions.len() {
        let (cat, cont) = conditions.row(i)?;
        let (x, y) = model.sample_pair(&mut r, &cat, &cont, n)?;
        let cond = Conditions::repeat(&cat, &cont, n)?;
        let pushed = model.transport(&x, &cond)?;
        let ideal = brenier_map(&x, &cond)?;
        let sq = |a: &Array2<f32>, b: &Array2<f32>| -> f64 {
            a.iter()
                .zip(b.iter())
                .map(|(p, q)| ((p - q) as f64).powi(2))
                .sum::<f64>()
                / n as f64
        };
        sums[0] += sq(&pushed, &ideal);
        sums[1] += sq(&x, &ideal);
        sums[2] += exact_ot(&pushed, &y, GroundCost::SqEuclidean)?.w2;
        sums[3] += exact_ot(&x, &y, GroundCost::SqEuclidean)?.w2;
        sums[4] += exact_ot(&ideal, &y, GroundCost::SqEuclidean)?.w2;
        let (mean, cov) = fit_gaussian(&pushed)?;
        let (s, u) = (cat[0], cont[0]);
        let m_true = Array1::from(scenario_mean(s, u).to_vec());
        let a = scenario_sqrt_cov(s, u);
        let cov_true = a.dot(&a);
        sums[5] += gaussian_w2(&mean, &cov, &m_true, &cov_true)?;
        predicted.extend([mean[0], mean[1], cov[[0, 0]], cov[[0, 1]], cov[[1, 1]]]);
        truth.extend([
            m_true[0],
            m_true[1],
            cov_true[[0, 0]],
            cov_true[[0, 1]],
            cov_true[[1, 1]],
        ]);
    }
    let k = conditions.len() as f64;
    Ok(GaussianEvaluation {
        map_error: sums[0] / k,
        map_error_identity: sums[1] / k,
        w2: sums[2] / k,
        w2_identity: sums[3] / k,
        w2_true_map: sums[4] / k,
        bures_w2: sums[5] / k,
        rho: pearson(&predicted, &truth),
    })
}

/// Pearson correlation of two equally long samples (0 when either is constant).
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    if saa <= 0.0 || sbb <= 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

/// `lot reproduce nctm-gaussian`: the hypernetwork model on the conditional Gaussians.
pub fn gaussian(config: &RunConfig) -> Result<Report> {
    let settings = NctmSettings::for_config(config);
    let model = gaussian_builder(&settings, config.seed)?.build()?.fit()?;
    let heldout = evaluate_gaussian(
        &model,
        &conditions_at(&HELDOUT_HORIZONS)?,
        settings.eval_samples,
        config.seed + 7,
    )?;
    let train = evaluate_gaussian(
        &model,
        &conditions_at(&TRAIN_HORIZONS)?,
        settings.eval_samples,
        config.seed + 8,
    )?;
    Ok(Report::new(model.figure())
        .metric("map_error", heldout.map_error, None)
        .metric("map_error_identity", heldout.map_error_identity, None)
        .metric("map_error_train", train.map_error, None)
        .metric("w2", heldout.w2, None)
        .metric("w2_identity", heldout.w2_identity, None)
        .metric("w2_true_map", heldout.w2_true_map, None)
        .metric("w2_train", train.w2, None)
        .metric("bures_w2", heldout.bures_w2, None)
        .metric("rho", heldout.rho, None)
        .metric("fit_seconds", model.history.seconds, None))
}

/// One ablation variant: a name and how it changes the builder.
struct Variant {
    name: &'static str,
    conditioning: Conditioning,
    encoding: ContinuousEncoding,
    pretrain: bool,
}

/// `lot reproduce nctm-ablation`: hypernetwork vs FiLM vs concatenation, positional vs scalar,
/// with vs without pre-training, on the held-out conditions of the Gaussian task.
pub fn ablation(config: &RunConfig) -> Result<Report> {
    let settings = NctmSettings::for_config(config);
    let variants = [
        Variant {
            name: "hypernetwork",
            conditioning: Conditioning::Hypernetwork,
            encoding: ContinuousEncoding::Positional,
            pretrain: true,
        },
        Variant {
            name: "film",
            conditioning: Conditioning::Film,
            encoding: ContinuousEncoding::Positional,
            pretrain: true,
        },
        Variant {
            name: "concatenation",
            conditioning: Conditioning::Concatenation,
            encoding: ContinuousEncoding::Positional,
            pretrain: true,
        },
        Variant {
            name: "scalar",
            conditioning: Conditioning::Hypernetwork,
            encoding: ContinuousEncoding::Scalar,
            pretrain: true,
        },
        Variant {
            name: "no_pretrain",
            conditioning: Conditioning::Hypernetwork,
            encoding: ContinuousEncoding::Positional,
            pretrain: false,
        },
    ];
    let heldout = conditions_at(&HELDOUT_HORIZONS)?;
    let mut report_metrics = Vec::new();
    let mut w2s = Vec::new();
    let mut figure = None;
    for v in &variants {
        let mut builder = gaussian_builder(&settings, config.seed)?
            .conditioning(v.conditioning)
            .encoding(v.encoding);
        if !v.pretrain {
            builder = builder.pretrain_steps(0);
        }
        let model = builder.build()?.fit()?;
        let e = evaluate_gaussian(&model, &heldout, settings.eval_samples, config.seed + 7)?;
        w2s.push(e.w2);
        report_metrics.push((format!("w2_{}", v.name), e.w2));
        report_metrics.push((format!("map_error_{}", v.name), e.map_error));
        report_metrics.push((format!("bures_w2_{}", v.name), e.bures_w2));
        report_metrics.push((format!("rho_{}", v.name), e.rho));
        if figure.is_none() {
            figure = Some(model.figure());
        }
    }
    let names: Vec<f64> = (0..w2s.len()).map(|i| i as f64).collect();
    let bars = Figure::new()
        .title("held-out W2: hyper, FiLM, concat, scalar, no pre-train")
        .x_label("variant")
        .y_label("W2")
        .line_xy(&names, &w2s, "W2 held-out");
    let fig = Figure::grid(3, vec![figure.unwrap_or_default(), bars]);
    let mut report = Report::new(fig);
    for (name, value) in report_metrics {
        let paper = match name.as_str() {
            "w2_hypernetwork" => Some(0.170),
            "w2_no_pretrain" => Some(0.214),
            "rho_hypernetwork" => Some(0.942),
            "rho_scalar" => Some(0.305),
            _ => None,
        };
        report = report.metric(&name, value, paper);
    }
    Ok(report)
}

/// Number of inputs of the analytic IAM-style model of `nctm-sensitivity`.
pub const IAM_INPUTS: usize = 3;

/// The analytic IAM-style model of `nctm-sensitivity` (ours): inputs `X ∈ [0, 1]³` (a TFP-growth
/// factor `X₀`, a damage coefficient `X₁`, a climate-sensitivity factor `X₂`), scenario `s ∈ {0, 1, 2}`
/// and year `τ ∈ [0, 1]`; outputs (GDP, damages):
/// `GDP = (1 + τ(0.5 + 0.25s))(1 + 0.8X₀) + 0.1X₂`, `damages = X₁ · T · (0.5 + X₂)` with warming
/// `T = 1 + τ(1 + 0.5s)`.
pub fn iam_outputs(x: &[f32; IAM_INPUTS], s: usize, tau: f32) -> [f32; 2] {
    let growth = 1.0 + tau * (0.5 + 0.25 * s as f32);
    let warming = 1.0 + tau * (1.0 + 0.5 * s as f32);
    [
        growth * (1.0 + 0.8 * x[0]) + 0.1 * x[2],
        x[1] * warming * (0.5 + x[2]),
    ]
}

/// Given-data OT sensitivity indices (gsaot's estimator, spec §3) under the cost `‖·‖²`: for each input
/// `k`, the rows are split into `bins` equal-count quantile bins of `x[:, k]` and
/// `ι_k = Σ_m n_m W₂²(P̂_Y, P̂_{Y | bin m}) / (N V)` with `V = 2 tr Cov Y`, the exact W₂² from [`exact_ot`].
///
/// # Errors
/// [`crate::Error::Shape`] (row counts differ), [`crate::Error::InvalidArgument`] (`bins` is 0 or leaves
/// a bin with fewer than two rows, or the output is constant), and those of [`exact_ot`].
pub fn ot_sensitivity_indices(x: &Array2<f32>, y: &Array2<f32>, bins: usize) -> Result<Vec<f64>> {
    let n = x.nrows();
    if y.nrows() != n {
        return Err(crate::Error::shape(
            "ot_sensitivity_indices",
            format!("{n} output rows (one per input row)"),
            format!("{}", y.nrows()),
        ));
    }
    if bins == 0 || n < 2 * bins {
        return Err(crate::Error::InvalidArgument(format!(
            "ot_sensitivity_indices: {bins} bins for {n} rows (need at least two rows per bin)"
        )));
    }
    let variance = output_variance(y)?;
    let mut indices = Vec::with_capacity(x.ncols());
    for k in 0..x.ncols() {
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| x[[a, k]].total_cmp(&x[[b, k]]));
        let mut total = 0.0;
        for m in 0..bins {
            let rows = &order[m * n / bins..(m + 1) * n / bins];
            let subset = y.select(ndarray::Axis(0), rows);
            total += rows.len() as f64 * exact_ot(y, &subset, GroundCost::SqEuclidean)?.w2_squared;
        }
        indices.push(total / (n as f64 * variance));
    }
    Ok(indices)
}

/// `V = 2 tr Cov Y = E‖Y − Y′‖²` of an output sample.
fn output_variance(y: &Array2<f32>) -> Result<f64> {
    let (_, cov) = fit_gaussian(y)?;
    let v = 2.0 * cov.diag().sum();
    if v > 0.0 {
        Ok(v)
    } else {
        Err(crate::Error::InvalidArgument(
            "ot_sensitivity_indices: the output is constant".into(),
        ))
    }
}

/// Quantile bins per input in `nctm-sensitivity`.
pub const SENSITIVITY_BINS: usize = 4;

/// Draws inputs `X ~ U[0, 1]³` per condition row `(k, m, s; τ)` (with `X_k` restricted to its `m`-th
/// quantile bin when `k < IAM_INPUTS`; `k = IAM_INPUTS` means unrestricted) and returns the outputs.
fn iam_sampler(rng: &mut SeededRng, conditions: &Conditions, restrict: bool) -> Result<Array2<f32>> {
    use rand::Rng;
    let mut y = Array2::zeros((conditions.len(), 2));
    for i in 0..conditions.len() {
        let cat = conditions.categorical().row(i);
        let (k, m, s) = (cat[0], cat[1], cat[2]);
        let tau = conditions.continuous()[[i, 0]];
        let mut x = [0.0f32; IAM_INPUTS];
        for (j, v) in x.iter_mut().enumerate() {
            let u: f32 = rng.gen();
            *v = if restrict && j == k {
                (m as f32 + u) / SENSITIVITY_BINS as f32
            } else {
                u
            };
        }
        let out = iam_outputs(&x, s, tau);
        y[[i, 0]] = out[0];
        y[[i, 1]] = out[1];
    }
    Ok(y)
}

/// `lot reproduce nctm-sensitivity`: per-input OT sensitivity indices of the analytic IAM-style model at
/// held-out years, by the given-data exact-OT estimator on samples and by one NCTM map
/// `T(y; k, m, s, τ)` from the output law to each bin-conditional law (`W₂² ≈ E‖y − T(y)‖²`, no per-bin
/// OT solve at evaluation time). Conditions: categorical input `k`, bin `m`, scenario `s`; continuous year.
pub fn sensitivity(config: &RunConfig) -> Result<Report> {
    let settings = NctmSettings::for_config(config);
    let n_eval = if config.quick { 400 } else { 800 };
    let train_years: Vec<Vec<f32>> = [0.0f32, 0.5, 1.0].iter().map(|&t| vec![t]).collect();
    let cats: Vec<Vec<usize>> = (0..IAM_INPUTS)
        .flat_map(|k| (0..SENSITIVITY_BINS).flat_map(move |m| (0..SCENARIOS).map(move |s| vec![k, m, s])))
        .collect();
    let model = Nctm::builder(2)
        .categorical(&[IAM_INPUTS, SENSITIVITY_BINS, SCENARIOS])
        .continuous(1)
        .source(|r, c| iam_sampler(r, c, false))
        .target(|r, c| iam_sampler(r, c, true))
        .train_conditions(Conditions::grid(&cats, &train_years)?)
        .pretrain_steps(settings.pretrain_steps)
        .iterations(settings.iterations)
        .transport_steps(settings.transport_steps)
        .batch_size(settings.batch_size)
        .seed(config.seed)
        .progress(ProgressMode::Silent)
        .build()?
        .fit()?;
    let mut r = rng(config.seed + 11);
    let (mut exact_all, mut neural_all) = (Vec::new(), Vec::new());
    let mut report_metrics = Vec::new();
    for &(s, tau) in &[(0usize, 0.25f32), (2, 0.75)] {
        // Given-data estimate on one input/output sample.
        let x = Array2::from_shape_fn((n_eval, IAM_INPUTS), |_| {
            use rand::Rng;
            r.gen::<f32>()
        });
        let mut y = Array2::zeros((n_eval, 2));
        for i in 0..n_eval {
            let out = iam_outputs(&[x[[i, 0]], x[[i, 1]], x[[i, 2]]], s, tau);
            y[[i, 0]] = out[0];
            y[[i, 1]] = out[1];
        }
        let exact = ot_sensitivity_indices(&x, &y, SENSITIVITY_BINS)?;
        let variance = output_variance(&y)?;
        for (k, &iota) in exact.iter().enumerate() {
            let mut total = 0.0;
            for m in 0..SENSITIVITY_BINS {
                let pushed = model.transport_at(&y, &[k, m, s], &[tau])?;
                let cost = y
                    .iter()
                    .zip(pushed.iter())
                    .map(|(a, b)| ((a - b) as f64).powi(2))
                    .sum::<f64>()
                    / n_eval as f64;
                total += cost / SENSITIVITY_BINS as f64;
            }
            let neural = total / variance;
            report_metrics.push((format!("iota_exact_s{s}_x{k}"), iota));
            report_metrics.push((format!("iota_nctm_s{s}_x{k}"), neural));
            exact_all.push(iota);
            neural_all.push(neural);
        }
    }
    let mae = exact_all
        .iter()
        .zip(&neural_all)
        .map(|(a, b)| (a - b).abs())
        .sum::<f64>()
        / exact_all.len() as f64;
    let mut report = Report::new(model.figure())
        .metric("iota_mean_abs_difference", mae, None)
        .metric("iota_pearson", pearson(&exact_all, &neural_all), None);
    for (name, value) in report_metrics {
        report = report.metric(&name, value, None);
    }
    Ok(report)
}

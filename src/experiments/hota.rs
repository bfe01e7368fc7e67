//! HOTA's benchmarks (spec `hota.md` §4–6): the six 2-D tasks of Table 1, the ablations of Table 2
//! and the sphere in growing dimension, scored as the paper scores them.
//!
//! - feasibility: debiased Sinkhorn divergence (ε = 1e-3, |x − y|², no ½) between the rollout's end
//!   and fresh target samples, 5000 vs 5000 as in the paper ([`FULL_EVAL_POINTS`]) or 500 in quick
//!   mode, reported with its sampling floor (the same divergence between two target samples);
//! - optimality: the integrated cost of the rollout as HOTA's evaluation loop computes it,
//!   Σₖ [½ mean|v|² + mean ψ]·dt with the raw (unweighted) ψ ≤ 0, so essentially the kinetic energy;
//!   we also report the kinetic energy alone and the share of visited states inside an obstacle.

use super::{Report, RunConfig};
use crate::data::HotaBenchmark;
use crate::error::Result;
use crate::lagrangian::Obstacle;
use crate::metrics::{sinkhorn_divergence_with, GroundCost, SinkhornConfig};
use crate::plot::{Figure, Plot};
use crate::progress::ProgressMode;
use crate::solver::{Hota, HotaAblation, HotaModel, HotaPreset};

/// Scores of one trained model on one benchmark.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HotaScores {
    /// Sinkhorn divergence of the pushforward against fresh target samples.
    pub w2: f64,
    /// HOTA's integrated cost (kinetic + raw ψ integral).
    pub cost: f64,
    /// ½∫ mean|v|² dt alone.
    pub kinetic: f64,
    /// Fraction of visited states where the weighted state cost exceeds 1.
    pub in_obstacle: f64,
    /// The same divergence between two independent target samples of the same size: the sampling
    /// floor below which `w2` cannot be resolved.
    pub w2_floor: f64,
}

/// Trains HOTA on `benchmark` at `preset` with `ablation` and `seed`.
pub fn fit_benchmark(
    benchmark: HotaBenchmark,
    preset: HotaPreset,
    ablation: HotaAblation,
    seed: u64,
    progress: ProgressMode,
) -> Result<HotaModel<Obstacle>> {
    Hota::benchmark(benchmark)?
        .preset(preset)
        .ablation(ablation)
        .seed(seed)
        .progress(progress)
        .build()?
        .fit()
}

/// The Sinkhorn settings of the feasibility score: ε = 1e-3 on |x − y|² as the paper (ott-jax's
/// default cost), with ε-scaling, marginal tolerance 1e-3 and at most 3000 final iterations.
pub fn scoring_sinkhorn() -> SinkhornConfig {
    SinkhornConfig {
        epsilon: 1e-3,
        max_iters: 3000,
        tol: 1e-3,
        cost: GroundCost::SqEuclidean,
        epsilon_scaling: true,
    }
}

/// Scores `model` on `benchmark` with `n` evaluation points (fresh source and target samples drawn
/// from `seed`; the rollout noise is seeded too).
pub fn score_benchmark(
    model: &HotaModel<Obstacle>,
    benchmark: HotaBenchmark,
    n: usize,
    seed: u64,
) -> Result<HotaScores> {
    let mut rng = crate::device::rng(seed.wrapping_add(10_007));
    let x0 = benchmark.source().sample(&mut rng, n)?;
    let y = benchmark.target().sample(&mut rng, n)?;
    let y_again = benchmark.target().sample(&mut rng, n)?;
    let rollout = model.rollout(&x0, seed)?;
    let config = scoring_sinkhorn();
    let w2 = sinkhorn_divergence_with(rollout.end(), &y, &config)?;
    let w2_floor = sinkhorn_divergence_with(&y_again, &y, &config)?;
    let weight = benchmark.potential_weight() as f64;
    Ok(HotaScores {
        w2,
        cost: rollout.kinetic + rollout.potential / weight,
        kinetic: rollout.kinetic,
        in_obstacle: rollout.fraction_in_obstacle(model.potential(), 1.0)?,
        w2_floor,
    })
}

/// Evaluation points in full mode: the paper's 5000 vs 5000. One divergence at ε = 1e-3 takes about
/// 100 s at this size on one core of a 2-core AVX-512 machine (`examples/sinkhorn_timing.rs`: 3.8 s
/// at 1000 points, 19 s at 2000); the sampling floor beside it costs as much again.
pub const FULL_EVAL_POINTS: usize = 5000;

fn preset_for(config: &RunConfig) -> (HotaPreset, usize) {
    if config.quick {
        (HotaPreset::Quick, 500)
    } else {
        (HotaPreset::Fast, FULL_EVAL_POINTS)
    }
}

/// One Table 1 column: train, score, draw.
pub fn run_benchmark(benchmark: HotaBenchmark, config: &RunConfig) -> Result<Report> {
    let (preset, n) = preset_for(config);
    let model = fit_benchmark(
        benchmark,
        preset,
        HotaAblation::default(),
        config.seed,
        ProgressMode::Auto,
    )?;
    let scores = score_benchmark(&model, benchmark, n, config.seed)?;
    let seconds_per_step = model.history().seconds / model.config().iterations as f64;
    Ok(Report::new(model.figure())
        .metric("w2", scores.w2, benchmark.paper_w2())
        .metric("cost", scores.cost, benchmark.paper_cost())
        .metric("w2_sampling_floor", scores.w2_floor, None)
        .metric("kinetic", scores.kinetic, None)
        .metric("fraction_in_obstacle", scores.in_obstacle, None)
        .metric("train_seconds_per_step", seconds_per_step, None))
}

/// The paper's Table 2 (HOTA, w/o buffer, w/o gradient balancing, w/o EMA target) on one task.
pub fn run_ablation(benchmark: HotaBenchmark, config: &RunConfig) -> Result<Report> {
    let (preset, n) = preset_for(config);
    let paper: [(f64, f64); 4] = match benchmark {
        HotaBenchmark::STunnel => [
            (0.006, 320.90),
            (0.076, 706.89),
            (3.60, 325.22),
            (0.018, f64::NAN),
        ],
        HotaBenchmark::VNeck => [
            (0.002, 115.09),
            (16.47, 82.49),
            (0.026, 109.25),
            (0.004, f64::NAN),
        ],
        HotaBenchmark::Gmm => [(0.19, 80.44), (1.248, 121.6), (2.64, 72.77), (0.65, f64::NAN)],
        _ => [(f64::NAN, f64::NAN); 4],
    };
    let known = |v: f64| v.is_finite().then_some(v);
    let mut figures = Vec::new();
    let mut report_rows = Vec::new();
    for ((label, ablation), (paper_w2, paper_cost)) in HotaAblation::table_2().into_iter().zip(paper) {
        let model = fit_benchmark(benchmark, preset, ablation, config.seed, ProgressMode::Auto)?;
        let scores = score_benchmark(&model, benchmark, n, config.seed)?;
        let key = label.replace(['/', '.'], "").replace(' ', "_").to_lowercase();
        report_rows.push((format!("{key}_w2"), scores.w2, known(paper_w2)));
        report_rows.push((format!("{key}_cost"), scores.cost, known(paper_cost)));
        figures.push(
            model
                .trajectories_figure()
                .title(&format!("{} {label}", benchmark.name())),
        );
    }
    Ok(report_with_rows(Figure::grid(4, figures), report_rows))
}

/// The sphere in d = 3, 10, 100, 1000 (quick: 3 and 10): W2 per dimension beside its sampling floor,
/// cost, the share of visited states inside the ball (the cost counts them at −1), seconds per step.
///
/// Measured with `lot reproduce hota-sphere` (`Fast`, 4000 steps, 2000 scoring points), seeds 0 / 1 / 2,
/// W2/d with its sampling floor and cost:
/// - d = 3: W2/d 0.00048 / 0.00084 / 0.00051, cost 1.63 / 1.38 / 1.42, 94 % of visited states
///   inside the ball (seeds 1 and 2).
/// - d = 10: W2/d 0.0040 / 0.0064 / 0.0030 (floor 0.0026–0.0027; paper 0.001), cost 3.14 / 7.06 /
///   4.54 (paper 3.37).
/// - d = 100: W2/d 0.061 / 0.043 / 0.016 (floor 0.0068), cost 13.2 / 30.0 / 3.05.
/// - d = 1000: W2/d 0.0021 / 0.0019 / 0.0040 (floor 0.0016; paper 0.051), cost 0.76 / 20.5 / 33.5
///   (paper 3.17).
///
/// W2/d is under the paper's at d = 1000 on every seed. The cost depends on the seed above d = 3:
/// at d = 10 it is 0.93 / 2.1 / 1.35× the paper's, at d = 1000 0.24 / 6.5 / 10.6× while W2/d stays
/// within 2.5× of its floor: the mass arrives, but not along the cheapest paths. (Seed 0 is an
/// earlier session's run; seeds 1 and 2 took 936 s and 940 s, two jobs at a time on 2 cores.)
pub fn run_sphere(config: &RunConfig) -> Result<Report> {
    let (preset, n) = preset_for(config);
    let dims: &[usize] = if config.quick {
        &[3, 10]
    } else {
        &[3, 10, 100, 1000]
    };
    let mut report_rows = Vec::new();
    let mut figures = Vec::new();
    for &dim in dims {
        let benchmark = HotaBenchmark::Sphere { dim };
        let model = fit_benchmark(
            benchmark,
            preset,
            HotaAblation::default(),
            config.seed,
            ProgressMode::Auto,
        )?;
        let scores = score_benchmark(&model, benchmark, n.min(2000), config.seed)?;
        let per_dim = scores.w2 / dim as f64;
        report_rows.push((format!("d{dim}_w2_per_dim"), per_dim, benchmark.paper_w2()));
        report_rows.push((
            format!("d{dim}_w2_floor_per_dim"),
            scores.w2_floor / dim as f64,
            None,
        ));
        report_rows.push((format!("d{dim}_cost"), scores.cost, benchmark.paper_cost()));
        report_rows.push((format!("d{dim}_fraction_in_obstacle"), scores.in_obstacle, None));
        report_rows.push((
            format!("d{dim}_seconds_per_step"),
            model.history().seconds / model.config().iterations as f64,
            None,
        ));
        figures.push(model.trajectories_figure().title(&format!("sphere d = {dim}")));
    }
    Ok(report_with_rows(Figure::grid(2, figures), report_rows))
}

/// A report of `figure` with one metric per (name, ours, paper) row.
fn report_with_rows(figure: Figure, rows: Vec<(String, f64, Option<f64>)>) -> Report {
    rows.into_iter()
        .fold(Report::new(figure), |report, (name, ours, paper)| {
            report.metric(&name, ours, paper)
        })
}

macro_rules! benchmark_runner {
    ($($name:ident => $bench:expr),* $(,)?) => {$(
        /// Runs this Table 1 task (see [`run_benchmark`]).
        pub fn $name(config: &RunConfig) -> Result<Report> {
            run_benchmark($bench, config)
        }
    )*};
}

benchmark_runner! {
    stunnel => HotaBenchmark::STunnel,
    vneck => HotaBenchmark::VNeck,
    gmm => HotaBenchmark::Gmm,
    babymaze => HotaBenchmark::BabyMaze,
    slit => HotaBenchmark::Slit,
    box_obstacle => HotaBenchmark::Box,
}

/// Table 2 on S-tunnel, V-neck and GMM.
///
/// Measured with `examples/hota_benchmark.rs` (`Fast`, W2 on 2000 points, each task at its `Fast`
/// length), W2 (cost) on seeds 0 / 1 / 2, then the paper's:
///
/// | task | full HOTA | w/o buffer | w/o balancing | w/o EMA target |
/// |---|---|---|---|---|
/// | S-tunnel (4000) | 0.307 (320.1) / 0.317 (446.8) / 0.238 (332.7) | 38.2 (1268) / 24.5 (701.4) / 0.792 (415.5) | 2.08 (343.9) / 5.60 (340.1) / 0.535 (349.8) | 0.238 (352.6) / 0.390 (349.9) / 0.213 (346.0) |
/// | paper | 0.006 (320.90) | 0.076 (706.89) | 3.60 (325.22) | 0.018 |
/// | V-neck (16 000) | 0.0069 (102.4) / 0.164 (119.5) / 0.0117 (111.6) | 0.231 (322.0) / 0.420 (281.0) / 9.19 (1882) | 0.849 (131.7) / 0.786 (102.2) / 1.05 (119.7) | 0.038 (107.8) / 0.0231 (98.9) / 0.0187 (99.9) |
/// | paper | 0.002 (115.09) | 16.47 (82.49) | 0.026 (109.25) | 0.004 |
/// | GMM (16 000; floors 3.20 / 4.46 / 2.50) | 2.01 (78.4) / 4.20 (77.7) / 3.88 (82.9) | 5.09 (123.0) / 4.79 (118.6) / 4.22 (128.4) | 3.84 (76.0) / 6.45 (74.8) / 7.53 (73.0) | 3.55 (82.2) / 4.71 (81.0) / 2.97 (81.4) |
/// | paper | 0.19 (80.44) | 1.248 (121.6) | 2.64 (72.77) | 0.65 |
///
/// Removing the buffer does the most harm here: the largest W2 on S-tunnel and V-neck (a 3-seed
/// mean of 21.2 and 3.28 against the full runs' 0.287 and 0.061) and on GMM a cost of 123 against
/// 80 (in the paper it is the worst on V-neck's W2 and on S-tunnel's and GMM's cost). Removing the
/// balancing raises W2 on every seed run, on all three tasks, as in the paper. Removing the EMA
/// target changes little at these lengths (V-neck's mean W2 without it, 0.027, is below the full
/// runs', which seed 1's 0.164 dominates).
pub fn ablations(config: &RunConfig) -> Result<Report> {
    let mut figures = Vec::new();
    let mut merged = Report::new(Figure::new());
    for benchmark in [HotaBenchmark::STunnel, HotaBenchmark::VNeck, HotaBenchmark::Gmm] {
        let report = run_ablation(benchmark, config)?;
        for (name, &ours) in &report.metrics {
            let key = format!("{}_{name}", benchmark.name());
            merged = merged.metric(&key, ours, report.paper.get(name).copied());
        }
        figures.push(report.figure);
    }
    merged.figure = Figure::grid(4, figures);
    Ok(merged)
}

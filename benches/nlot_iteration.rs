//! Time of one NLOT training iteration (box obstacle), at the paper's configuration (batch 1024, g and T
//! 4×64, spline amortiser 1024×1024, 30 knots, ≤ 20 L-BFGS iterations) and at a small one, under each
//! [`PathRefresh`] mode of the c-transform.
//!
//! `cargo bench --bench nlot_iteration [-- ITERATIONS] [every|once|K ...]` (default 5 timed iterations
//! after 1 warm-up, both `every` = [`PathRefresh::EveryEvaluation`], the reference, and `once` =
//! [`PathRefresh::OncePerSolve`]; `rK` is [`PathRefresh::restarts`]`(K)`, an integer K is
//! [`PathRefresh::every`]`(K)`).
//! Amortiser pre-fit and refits are switched off so that only the per-iteration work is timed:
//! sampling, amortised map, L-BFGS c-transform through the spline cost, dual and map steps, one
//! online amortiser step. The reference JAX code takes ≈ 9.2 s per such iteration on a 2-core CPU
//! (specs/nlot.md §16).
//!
//! # FLOPs of one paper-size iteration
//! Counting 2 FLOPs per multiply-add of the dense layers (biases, activations and the host-side
//! bookkeeping are below 1 % and left out), with B = 1024 rows:
//! - amortiser forward φ(x, y), 4 → 1024 → 1024 → 56: 2·(4·1024 + 1024² + 1024·56) = 2.22 MFLOP per
//!   row, 2.27 GFLOP per batch of 1024;
//! - action and ∇_y on the 20-point polygon (30-knot spline positions and velocities by [20 × 30]
//!   basis products per coordinate, obstacle and its gradient, the backward pass): ≈ 0.02 MFLOP per row;
//! - g value and ∇g on the host, 2 → 64⁴ → 1: ≈ 0.05 MFLOP per row per evaluation;
//! - per iteration besides the c-transform: T(x) forward (0.03 GFLOP), the dual step's forward and
//!   backward of g on 2B rows (0.15 GFLOP), the map step on B rows (0.08 GFLOP), one online amortiser
//!   step (forward + backward through weights and inputs ≈ 3 forwards: 6.8 GFLOP).
//!
//! The c-transform evaluates the cost on E·B rows (E = mean evaluations per point, printed below,
//! plus one final value evaluation per point); the amortiser runs on all of them under `every` and on
//! B rows (the first evaluation) under `once`. The bench prints the resulting FLOPs per iteration and
//! the achieved GFLOP/s; `examples/gemm_peak.rs` measures the machine's f32 GEMM peak to compare.
//!
//! `armijo` among the arguments runs every mode with [`paper_ctransform`] (the paper's Armijo search)
//! in place of NLOT's default, the reference code's effective search ([`LbfgsConfig::default`], which
//! also requires strong curvature; [`paper_ctransform`] says why the reference search is the default).
//!
//! Measured on the 2-core development machine (Xeon with AVX-512; other jobs paused; 10 timed
//! iterations from a fresh start, so the c-transform counts are early-training ones), both searches
//! back to back:
//!
//! | search | mode  | s / iteration | L-BFGS its | evaluations / point | GFLOP / iteration | GFLOP/s | vs JAX |
//! |--------|-------|---------------|------------|---------------------|-------------------|---------|--------|
//! | reference (default) | every | 1.692 | 2.99 | 106.7 | 259.7 | 153.5 | 5.4× |
//! | reference (default) | once  | 0.454 | 3.94 | 102.3 | 16.8  | 36.9  | 20.3× |
//! | Armijo  | every | 0.847 | 3.28 | 45.6 | 116.2 | 137.3 | 10.9× |
//! | Armijo  | once  | 0.272 | 12.45 | 48.7 | 12.9 | 47.4 | 33.8× |
//!
//! The JAX code's 9.2 s is for the reference search, so its like-for-like ratio is the first row:
//! 5.4×. The reference search spends about twice the Armijo search's evaluations (most of them in
//! line searches that exhaust their 30 trials), and under `every` each evaluation runs the amortiser,
//! so the iteration's 260 GFLOP at this machine's measured sgemm peak (266–276 GFLOP/s) cannot take
//! less than ≈ 0.94 s: ≈ 9.8× is the ceiling for this algorithm on this CPU. Over a whole training
//! run the count falls (box seed 0, `NlotSettings::fast`: 113 evaluations per point in the first 10
//! iterations, 86 on average, 64 in the last 500).
//!
//! Earlier (Armijo search, before the c-transform's amortiser moved to OpenBLAS:
//! `path::SplineAmortiser::frozen`, one host copy per solve, layers through `nn::blas`) the same bench
//! gave 1.421 s (`every`) and 0.335 s (`once`). `examples/gemm_peak.rs` measures the f32 GEMM peak at
//! 1024³: OpenBLAS sgemm 266–276 GFLOP/s, dfdx's matmul 164–177 GFLOP/s; the amortiser's forward pass
//! alone (`examples/amortiser_forward.rs`) runs at 234 GFLOP/s on 1024 rows and 141 on 64 (dfdx: 102
//! and 48). The rest of the reference mode's time goes to the active sets of the line search (many
//! small batches, each packing the 1024 × 1024 weights again), the host-side action, potential and
//! L-BFGS work, and the taped online amortiser step (dfdx). The cached mode does far fewer FLOPs,
//! about half of them in that online step, and is bound by the host-side work, not by GEMM.
//! Accuracy of the cached mode: see [`PathRefresh::OncePerSolve`].

use lagrangian_ot::experiments::nlot::{obstacle_problem, NlotSettings};
use lagrangian_ot::lagrangian::ObstacleShape;
use lagrangian_ot::optim::LbfgsConfig;
use lagrangian_ot::prelude::*;
use lagrangian_ot::solver::nlot::paper_ctransform;
use lagrangian_ot::solver::PathRefresh;
use std::time::Instant;

/// Dense-layer FLOPs per row of a forward pass through `widths`.
fn mlp_flops(widths: &[usize]) -> f64 {
    widths.windows(2).map(|w| 2.0 * (w[0] * w[1]) as f64).sum()
}

fn time_config(
    name: &str,
    batch: usize,
    hidden: usize,
    refresh: PathRefresh,
    ctransform: &LbfgsConfig,
    iterations: usize,
) -> Result<()> {
    let mut settings = NlotSettings::paper();
    settings.batch_size = batch;
    settings.amortiser_hidden = vec![hidden, hidden];
    settings.amortiser.prefit_steps = 0;
    settings.amortiser.refit_every = 0;
    settings.eval_every = 0;
    settings.path_refresh = refresh;
    let run = |n: usize| -> Result<(f64, f64, f64)> {
        let mut s = settings.clone();
        s.iterations = n;
        let start = Instant::now();
        let model = obstacle_problem(ObstacleShape::Box, &s, 0)?
            .ctransform(*ctransform)
            .progress(ProgressMode::Silent)
            .build()?
            .fit()?;
        let h = &model.history;
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        Ok((
            start.elapsed().as_secs_f64(),
            mean(&h.ctransform_iterations),
            mean(&h.ctransform_evaluations),
        ))
    };
    let (warm, _, _) = run(1)?;
    let (total, mean_its, mean_evals) = run(iterations + 1)?;
    let per_iteration = (total - warm) / iterations as f64;

    let b = batch as f64;
    let amortiser = mlp_flops(&[4, hidden, hidden, 56]);
    let (action, potential, small_net) = (2.0e4, 5.0e4, mlp_flops(&[2, 64, 64, 64, 64, 2]));
    let cost_rows = (mean_evals + 1.0) * b;
    let amortiser_rows = match refresh {
        PathRefresh::EveryEvaluation => cost_rows,
        PathRefresh::OncePerSolve => b,
        PathRefresh::Restarts(k) => b * (k.get() + 1) as f64,
        PathRefresh::Every(k) => b * ((mean_evals / k.get() as f64).ceil() + 1.0),
    };
    let flops = amortiser_rows * amortiser
        + cost_rows * (action + potential)
        + b * small_net * (1.0 + 3.0 * 2.0 + 3.0)
        + 3.0 * b * amortiser;
    println!(
        "{name} [{refresh:?}]: batch {batch}, amortiser {hidden}x{hidden}: {per_iteration:.3} s per iteration \
         (mean c-transform L-BFGS iterations {mean_its:.2}, evaluations per point {mean_evals:.1}); \
         ≈ {:.1} GFLOP per iteration, {:.1} GFLOP/s; reference JAX on 2 CPU cores: ~9.2 s -> {:.1}x",
        flops / 1e9,
        flops / 1e9 / per_iteration,
        9.2 / per_iteration
    );
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    // A leading integer is the number of timed iterations; the rest name modes.
    let (iterations, rest) = match args.first().and_then(|a| a.parse::<usize>().ok()) {
        Some(n) => (n, &args[1..]),
        None => (5, &args[..]),
    };
    let mut modes = Vec::new();
    let mut ctransform = LbfgsConfig::default();
    for a in rest {
        if a == "armijo" {
            ctransform = paper_ctransform();
            continue;
        }
        modes.push(match a.as_str() {
            "every" => PathRefresh::EveryEvaluation,
            "once" => PathRefresh::OncePerSolve,
            r if r.starts_with('r') && r[1..].parse::<usize>().is_ok() => {
                PathRefresh::restarts(r[1..].parse().unwrap_or(0))?
            }
            k => PathRefresh::every(k.parse().map_err(|_| {
                Error::InvalidArgument(format!(
                    "bench mode {k:?}: every, once, rK (K restarts) or an integer K (every K evaluations)"
                ))
            })?)?,
        });
    }
    if modes.is_empty() {
        modes = vec![PathRefresh::EveryEvaluation, PathRefresh::OncePerSolve];
    }
    println!(
        "machine: {} threads available to rayon; c-transform line search {:?}",
        rayon::current_num_threads(),
        ctransform.line_search
    );
    for &mode in &modes {
        time_config("small", 256, 128, mode, &ctransform, iterations)?;
    }
    for &mode in &modes {
        time_config("paper", 1024, 1024, mode, &ctransform, iterations)?;
    }
    Ok(())
}

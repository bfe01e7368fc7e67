//! Time of one NLOT training iteration (box obstacle), at the paper's configuration (batch 1024, g and T
//! 4×64, spline amortiser 1024×1024, 30 knots, ≤ 20 L-BFGS iterations) and at a small one.
//!
//! `cargo bench --bench nlot_iteration [-- ITERATIONS]` (default 5 timed iterations after 1 warm-up).
//! Amortiser pre-fit and refits are switched off so that only the per-iteration work is timed:
//! sampling, amortised map, L-BFGS c-transform through the spline cost, dual and map steps, one
//! online amortiser step. The reference JAX code takes ≈ 9.2 s per such iteration on a 2-core CPU
//! (specs/nlot.md §16).

use lagrangian_ot::experiments::nlot::{obstacle_problem, NlotSettings};
use lagrangian_ot::lagrangian::ObstacleShape;
use lagrangian_ot::prelude::*;
use std::time::Instant;

fn time_config(name: &str, batch: usize, hidden: usize, iterations: usize) -> Result<()> {
    let mut settings = NlotSettings::paper();
    settings.batch_size = batch;
    settings.amortiser_hidden = vec![hidden, hidden];
    settings.amortiser.prefit_steps = 0;
    settings.amortiser.refit_every = 0;
    settings.eval_every = 0;
    let run = |n: usize| -> Result<(f64, f64)> {
        let mut s = settings.clone();
        s.iterations = n;
        let start = Instant::now();
        let model = obstacle_problem(ObstacleShape::Box, &s, 0)?
            .progress(ProgressMode::Silent)
            .build()?
            .fit()?;
        let its = &model.history.ctransform_iterations;
        Ok((
            start.elapsed().as_secs_f64(),
            its.iter().sum::<f64>() / its.len() as f64,
        ))
    };
    let (warm, _) = run(1)?;
    let (total, mean_its) = run(iterations + 1)?;
    let per_iteration = (total - warm) / iterations as f64;
    println!(
        "{name}: batch {batch}, amortiser {hidden}x{hidden}: {per_iteration:.3} s per iteration \
         (mean c-transform L-BFGS iterations {mean_its:.2}); reference JAX on 2 CPU cores: ~9.2 s -> {:.1}x",
        9.2 / per_iteration
    );
    Ok(())
}

fn main() -> Result<()> {
    let iterations = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(5);
    println!(
        "machine: {} threads available to rayon",
        rayon::current_num_threads()
    );
    time_config("small", 256, 128, iterations)?;
    time_config("paper", 1024, 1024, iterations)?;
    Ok(())
}

//! Seconds per metric-learning iteration (NLOT Algorithm 2) at the paper's configuration on the
//! Scarvelis circle: per pair of consecutive slices an L-BFGS c-transform through the amortised
//! spline cost under the learned metric, dual and map steps, one online amortiser step; pre-fit and
//! refits switched off so that only the per-iteration work is timed. The metric is evaluated frozen on
//! the host inside the c-transforms and path steps (`LagrangianCost::with_frozen_metric`).
//!
//! `cargo run --release --example metric_learning_iteration [-- ITERATIONS]` (default 3).
use lagrangian_ot::data::scarvelis;
use lagrangian_ot::progress::ProgressMode;
use lagrangian_ot::solver::{MetricLearning, PathSchedule};

fn main() -> lagrangian_ot::Result<()> {
    let iterations: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let data = scarvelis::circle(0)?;
    let model = MetricLearning::scarvelis(&data)
        .path_schedule(PathSchedule {
            prefit_steps: 0,
            refit_every: 0,
            ..PathSchedule::default()
        })
        .iterations(iterations)
        .evaluation(0, 8)
        .progress(ProgressMode::Silent)
        .build()?
        .fit()?;
    let h = &model.history;
    println!(
        "{iterations} iterations, {} slices of {} points: {:.2} s per iteration ({:.1} L-BFGS its per c-transform)",
        data.slices.dim().0,
        data.slices.dim().1,
        h.seconds / iterations as f64,
        h.ctransform_iterations.iter().sum::<f64>() / iterations as f64
    );
    Ok(())
}

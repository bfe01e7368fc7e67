//! The quick box task of `lot reproduce nlot-box --quick` under each c-transform [`PathRefresh`]
//! mode, to check that holding the paths fixed per solve loses no accuracy.
//!
//! `cargo run --release --example nlot_path_refresh [-- every|once|K ...] [--seed N]` (default: `every`
//! then `once`, seed 0 as the CLI); prints the final and best-after-annealing Sinkhorn W2 × 100 and
//! the wall time of each fit.

use lagrangian_ot::experiments::nlot::{obstacle_problem, NlotSettings};
use lagrangian_ot::lagrangian::ObstacleShape;
use lagrangian_ot::prelude::*;
use lagrangian_ot::solver::PathRefresh;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut seed = 0u64;
    let mut modes = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seed" => {
                seed = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| Error::InvalidArgument("--seed needs an integer".into()))?
            }
            "every" => modes.push(PathRefresh::EveryEvaluation),
            "once" => modes.push(PathRefresh::OncePerSolve),
            r if r.starts_with('r') && r[1..].parse::<usize>().is_ok() => {
                modes.push(PathRefresh::restarts(r[1..].parse().unwrap_or(0))?)
            }
            k => modes.push(PathRefresh::every(k.parse().map_err(|_| {
                Error::InvalidArgument(format!(
                    "mode {k:?}: every, once, rK (K restarts) or an integer K (every K evaluations)"
                ))
            })?)?),
        }
    }
    if modes.is_empty() {
        modes = vec![PathRefresh::EveryEvaluation, PathRefresh::OncePerSolve];
    }
    for refresh in modes {
        let mut settings = NlotSettings::quick();
        settings.path_refresh = refresh;
        let model = obstacle_problem(ObstacleShape::Box, &settings, seed)?
            .progress(ProgressMode::Silent)
            .build()?
            .fit()?;
        let h = &model.history;
        let best = h.best_w2_x100_from(settings.annealing_steps).unwrap_or(f64::NAN);
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        println!(
            "box quick, seed {seed}, {refresh:?}: W2x100 {:.3} (best after annealing {best:.3}, exact {:.3}), \
             mean L-BFGS its {:.2}, evaluations per point {:.1}, {:.1} s",
            h.eval_sinkhorn_w2_x100.last().copied().unwrap_or(f64::NAN),
            h.eval_exact_w2_x100.last().copied().unwrap_or(f64::NAN),
            mean(&h.ctransform_iterations),
            mean(&h.ctransform_evaluations),
            h.seconds
        );
    }
    Ok(())
}

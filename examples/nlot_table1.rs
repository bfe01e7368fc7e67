//! One Table 1 task of NLOT under the paper's settings with `key=value` overrides, to measure which
//! cuts of the reference configuration keep its accuracy.
//!
//! `cargo run --release --example nlot_table1 -- task=box seed=0 preset=paper its=2000 batch=512
//! hidden=256,256 refresh=once lr=2e-4 anneal=500 prefit=1000 refit_every=25 refit_steps=500
//! refit_until=1500 eval=100`
//!
//! `preset` is `paper` (default), `fast` or `quick`; the other keys override it. `lr` sets the peak of
//! the paper's cosine decay (to 1e-4 of itself over the run). Prints the Sinkhorn W2 × 100 at every
//! evaluation, the final and best-after-annealing values, the wall time, and the sampling check
//! ([`lagrangian_ot::solver::SamplingCheck`]: the floor of the evaluation points, and the exact W2² on
//! 2048 fresh points beside its own floor).

use lagrangian_ot::experiments::nlot::{
    obstacle_problem, sampling_rng, NlotSettings, LARGE_SAMPLE, SAMPLING_TRIALS,
};
use lagrangian_ot::lagrangian::ObstacleShape;
use lagrangian_ot::prelude::*;
use lagrangian_ot::solver::nlot::paper_optimizer_with_peak;
use lagrangian_ot::solver::PathRefresh;

fn main() -> Result<()> {
    let mut task = ObstacleShape::Box;
    let mut seed = 0u64;
    let mut settings = NlotSettings::paper();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bad = |k: &str, v: &str| Error::InvalidArgument(format!("{k}={v}: cannot parse"));
    // The preset first, so the other keys override it whatever their order.
    for a in &args {
        match a.as_str() {
            "preset=paper" => settings = NlotSettings::paper(),
            "preset=fast" => settings = NlotSettings::fast(),
            "preset=quick" => settings = NlotSettings::quick(),
            _ => {}
        }
    }
    let mut lr = None;
    for a in &args {
        let (k, v) = a
            .split_once('=')
            .ok_or_else(|| Error::InvalidArgument(format!("{a:?}: expected key=value")))?;
        let n = || v.parse::<usize>().map_err(|_| bad(k, v));
        match k {
            "preset" => {}
            "task" => {
                task = match v {
                    "box" => ObstacleShape::Box,
                    "slit" => ObstacleShape::Slit,
                    "hill" => ObstacleShape::Hill,
                    "well" => ObstacleShape::Well,
                    "gmm" => ObstacleShape::GmmDiscs,
                    _ => return Err(bad(k, v)),
                }
            }
            "seed" => seed = n()? as u64,
            "its" => settings.iterations = n()?,
            "batch" => settings.batch_size = n()?,
            "hidden" => {
                settings.amortiser_hidden = v
                    .split(',')
                    .map(|w| w.parse().map_err(|_| bad(k, v)))
                    .collect::<Result<_>>()?
            }
            "refresh" => {
                settings.path_refresh = match v {
                    "once" => PathRefresh::OncePerSolve,
                    "every" => PathRefresh::EveryEvaluation,
                    _ => return Err(bad(k, v)),
                }
            }
            "lr" => lr = Some(v.parse::<f64>().map_err(|_| bad(k, v))?),
            "anneal" => settings.annealing_steps = n()?,
            "prefit" => settings.amortiser.prefit_steps = n()?,
            "pairs" => settings.amortiser.batch = n()?,
            "refit_every" => settings.amortiser.refit_every = n()?,
            "refit_steps" => settings.amortiser.refit_steps = n()?,
            "refit_until" => settings.amortiser.refit_until = n()?,
            "eval" => settings.eval_every = n()?,
            _ => return Err(Error::InvalidArgument(format!("unknown key {k:?}"))),
        }
    }
    if let Some(peak) = lr {
        settings.optimizer = Some(paper_optimizer_with_peak(peak, settings.iterations));
    }
    println!("{task:?}, seed {seed}: {settings:?}");
    let model = obstacle_problem(task, &settings, seed)?
        .progress(ProgressMode::Lines)
        .build()?
        .fit()?;
    let h = &model.history;
    for (it, (w, e)) in h
        .eval_iteration
        .iter()
        .zip(h.eval_sinkhorn_w2_x100.iter().zip(&h.eval_exact_w2_x100))
    {
        println!("  it {it:>6}: W2x100 {w:>9.3} (exact W2²x100 {e:.3})");
    }
    let check = model.sampling_check(SAMPLING_TRIALS, LARGE_SAMPLE, &mut sampling_rng(seed))?;
    println!(
        "{task:?} seed {seed}: sampling floor of these evaluation points {:.3} ± {:.3} \
         ({} fresh target samples); exact W2²x100 on {} fresh points {:.3} (floor {:.3})",
        check.floor_x100,
        check.floor_std_x100,
        check.trials,
        check.large_size,
        check.large_x100,
        check.large_floor_x100
    );
    let best = h.best_w2_x100_from(settings.annealing_steps).unwrap_or(f64::NAN);
    println!(
        "{task:?} seed {seed}: final W2x100 {:.3}, best after annealing {best:.3}, {:.0} s ({:.3} s/it)",
        h.eval_sinkhorn_w2_x100.last().copied().unwrap_or(f64::NAN),
        h.seconds,
        h.seconds / settings.iterations as f64
    );
    Ok(())
}

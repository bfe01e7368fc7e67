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
//!
//! `ctransform=reference` (the default, NLOT's: the reference code's effective jaxopt search,
//! [`LbfgsConfig::default`]) or `paper` (the paper's Armijo search, [`paper_ctransform`]) picks the
//! c-transform's L-BFGS, for training and evaluation alike.
//!
//! `save=DIR` saves the trained model ([`NlotModel::save`]); `load=DIR` loads one saved under the
//! same settings instead of training ([`lagrangian_ot::solver::Nlot::load`]).
//!
//! `diagnose=DIR` then looks for where the transport error comes from, on 1024 fresh points:
//! - the W2² × 100 of each coordinate's marginal (sorted, exact in 1-D), pushforward against target;
//! - a multi-start c-transform: the trained potential's c-transform refined from a grid of 36 warm
//!   starts besides T(x), every answer re-priced with freshly predicted paths; how often and by how
//!   much the best start beats the training solver's answer, and the W2² × 100 of the best answers;
//! - whether the map keeps the order along the strips: the correlation of x2 with T(x)'s x2, and the
//!   map's mean cost beside that of its own pushforward reassigned to the source in x2 order (a
//!   lower second number means the map is not optimal: its paths cross), priced both by the amortised
//!   paths and by geodesics (started from the amortiser's paths and from the path through the origin,
//!   the cheaper kept);
//! - the amortised paths' excess cost: the amortised action of (x, ŷ) against the geodesic solver's
//!   optimum started from it;
//! - and writes `x`, `y` (fresh target), `pushed`, `best`, `map` (raw T(x)), `amortised_cost` and
//!   `geodesic_cost` as `.npy` into `DIR`, with the potential g on a 121 × 121 grid over [−1.5, 1.5]²
//!   (`potential_grid`, x1-major).

use lagrangian_ot::experiments::nctm::pearson;
use lagrangian_ot::experiments::nlot::{
    obstacle_problem, sampling_rng, NlotSettings, LARGE_SAMPLE, SAMPLING_TRIALS,
};
use lagrangian_ot::lagrangian::ObstacleShape;
use lagrangian_ot::lagrangian::{Euclidean, Obstacle};
use lagrangian_ot::metrics::{exact_ot, GroundCost};
use lagrangian_ot::optim::LbfgsConfig;
use lagrangian_ot::path::{GeodesicConfig, GeodesicSolver};
use lagrangian_ot::prelude::*;
use lagrangian_ot::solver::nlot::{paper_ctransform, paper_optimizer_with_peak};
use lagrangian_ot::solver::{LagrangianCost, NlotModel, PathRefresh};
use ndarray::{Array1, Array2, Axis};
use std::path::{Path, PathBuf};

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
    let mut diagnose_dir: Option<PathBuf> = None;
    let (mut save_dir, mut load_dir): (Option<PathBuf>, Option<PathBuf>) = (None, None);
    let mut ctransform = LbfgsConfig::default();
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
            "diagnose" => diagnose_dir = Some(PathBuf::from(v)),
            "save" => save_dir = Some(PathBuf::from(v)),
            "ctransform" => {
                ctransform = match v {
                    "paper" => paper_ctransform(),
                    "reference" => LbfgsConfig::default(),
                    _ => return Err(bad(k, v)),
                }
            }
            "load" => load_dir = Some(PathBuf::from(v)),
            _ => return Err(Error::InvalidArgument(format!("unknown key {k:?}"))),
        }
    }
    if let Some(peak) = lr {
        settings.optimizer = Some(paper_optimizer_with_peak(peak, settings.iterations));
    }
    println!("{task:?}, seed {seed}: {settings:?}");
    let problem = obstacle_problem(task, &settings, seed)?
        .ctransform(ctransform)
        .progress(ProgressMode::Lines)
        .build()?;
    let model = match &load_dir {
        Some(dir) => problem.load(dir)?,
        None => problem.fit()?,
    };
    if let Some(dir) = &save_dir {
        model.save(dir)?;
    }
    let h = &model.history;
    for (it, (w, e)) in h
        .eval_iteration
        .iter()
        .zip(h.eval_sinkhorn_w2_x100.iter().zip(&h.eval_exact_w2_x100))
    {
        println!("  it {it:>6}: W2x100 {w:>9.3} (exact W2²x100 {e:.3})");
    }
    if load_dir.is_some() {
        let (sinkhorn_x100, exact_x100) = model.evaluate()?;
        println!("loaded model, evaluated now: W2x100 {sinkhorn_x100:.3} (exact W2²x100 {exact_x100:.3})");
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
    if let Some(dir) = diagnose_dir {
        diagnose(&model, seed, &dir)?;
    }
    Ok(())
}

type ObstacleModel = NlotModel<LagrangianCost<Euclidean, Obstacle>>;

/// See the module docs.
fn diagnose(model: &ObstacleModel, seed: u64, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let n = 1024;
    let mut rng = sampling_rng(seed.wrapping_add(7919));
    let x = model.source.sample(&mut rng, n)?;
    let y = model.target.sample(&mut rng, n)?;
    let y_other = model.target.sample(&mut rng, n)?;
    let map = model.predict_map(&x)?;
    let pushed = model.transport(&x)?;
    let w2_x100 = |a: &Array2<f32>, b: &Array2<f32>| -> Result<f64> {
        Ok(100.0 * exact_ot(a, b, GroundCost::SqEuclidean)?.w2_squared)
    };
    let coordinate_w2_x100 = |a: &Array2<f32>, b: &Array2<f32>, j: usize| -> f64 {
        let sorted = |m: &Array2<f32>| {
            let mut v = m.column(j).to_vec();
            v.sort_by(f32::total_cmp);
            v
        };
        let (u, v) = (sorted(a), sorted(b));
        100.0
            * u.iter()
                .zip(&v)
                .map(|(p, q)| ((p - q) as f64).powi(2))
                .sum::<f64>()
            / u.len() as f64
    };
    println!("diagnosis on {n} fresh points:");
    for (name, cloud) in [
        ("pushforward", &pushed),
        ("raw map T(x)", &map),
        ("target (floor)", &y_other),
    ] {
        println!(
            "  {name:>15}: W2²x100 {:.3}; per coordinate x1 {:.4}, x2 {:.4}",
            w2_x100(cloud, &y)?,
            coordinate_w2_x100(cloud, &y, 0),
            coordinate_w2_x100(cloud, &y, 1)
        );
    }

    // Objective of the c-transform priced with freshly predicted paths, the same for every candidate.
    let objective =
        |y: &Array2<f32>| -> Result<Array1<f32>> { Ok(model.cost.cost(&x, y)? - model.potential_at(y)?) };
    let trained = objective(&pushed)?;
    let mut best = pushed.clone();
    let mut best_value = trained.clone();
    for i in 0..4 {
        for j in 0..9 {
            let start = [0.9 + 0.15 * i as f32, -1.2 + 0.3 * j as f32];
            let y0 = Array2::from_shape_fn((n, 2), |(_, k)| start[k]);
            let answer = model.transport_from(&x, y0)?.y;
            let value = objective(&answer)?;
            for r in 0..n {
                if value[r] < best_value[r] {
                    best_value[r] = value[r];
                    best.row_mut(r).assign(&answer.row(r));
                }
            }
        }
    }
    let gain = &trained - &best_value;
    let moved = (&best - &pushed)
        .mapv(|d| d * d)
        .sum_axis(Axis(1))
        .mapv(f32::sqrt);
    let band = |r: usize| x[[r, 1]].abs() < 0.5;
    for (name, rows) in [
        ("all", (0..n).collect::<Vec<_>>()),
        ("|x2| < 0.5", (0..n).filter(|&r| band(r)).collect()),
        ("|x2| ≥ 0.5", (0..n).filter(|&r| !band(r)).collect()),
    ] {
        let beaten: Vec<usize> = rows.iter().copied().filter(|&r| gain[r] > 1e-4).collect();
        let far = beaten.iter().filter(|&&r| moved[r] > 0.05).count();
        println!(
            "  multi-start, {name} ({} points): beaten by > 1e-4 at {} ({} of them moved > 0.05), \
             mean gain {:.2e}, max gain {:.2e}",
            rows.len(),
            beaten.len(),
            far,
            rows.iter().map(|&r| gain[r] as f64).sum::<f64>() / rows.len().max(1) as f64,
            rows.iter().map(|&r| gain[r]).fold(0.0f32, f32::max),
        );
    }
    println!("  multi-start best answers: W2²x100 {:.3}", w2_x100(&best, &y)?);

    // How far the amortised paths of the trained pairs are from geodesics.
    let amortised = model.cost.cost(&x, &pushed)?;
    let solver = GeodesicSolver::new(model.cost.amortiser.action().clone(), GeodesicConfig::default())?;
    let init = model.cost.predict(&x, &pushed)?;
    let geodesic = solver
        .solve(&model.cost.lagrangian, &x, &pushed, Some(&init), None)?
        .costs;
    let excess = &amortised - &geodesic;
    // The optimal map keeps the order along the strips; a reversed one (paths crossing) can still
    // land on the target but costs more. Reassigning the same pushforward cloud to the source in x2
    // order prices that: a lower cost there means the learned map is not optimal. True costs are
    // geodesics started both from the amortiser's paths and from the path through the origin (the
    // slit's opening), the cheaper kept, since an amortiser trained on one assignment may price the
    // other through the wall.
    let x2_order = |m: &Array2<f32>| {
        let mut idx: Vec<usize> = (0..m.nrows()).collect();
        idx.sort_by(|&a, &b| m[[a, 1]].total_cmp(&m[[b, 1]]));
        idx
    };
    let mut reordered = pushed.clone();
    for (&to, &from) in x2_order(&x).iter().zip(&x2_order(&pushed)) {
        reordered.row_mut(to).assign(&pushed.row(from));
    }
    let knots = model.cost.amortiser.action().path().knots();
    let through_origin = |b: &Array2<f32>| {
        Array2::from_shape_fn((n, (knots - 2) * 2), |(r, p)| {
            let s = (p / 2 + 1) as f32 / (knots - 1) as f32;
            -s.min(1.0 - s) * (x[[r, p % 2]] + b[[r, p % 2]])
        })
    };
    let cheaper_geodesic_mean = |b: &Array2<f32>, from_amortiser: &Array1<f32>| -> Result<f64> {
        let from_origin = solver
            .solve(&model.cost.lagrangian, &x, b, Some(&through_origin(b)), None)?
            .costs;
        Ok(from_amortiser
            .iter()
            .zip(&from_origin)
            .map(|(p, q)| p.min(*q) as f64)
            .sum::<f64>()
            / n as f64)
    };
    let reordered_amortised = model.cost.cost(&x, &reordered)?;
    let reordered_geodesic = solver
        .solve(
            &model.cost.lagrangian,
            &x,
            &reordered,
            Some(&model.cost.predict(&x, &reordered)?),
            None,
        )?
        .costs;
    let as_f64 = |v: ndarray::ArrayView1<f32>| v.iter().map(|&a| a as f64).collect::<Vec<_>>();
    println!(
        "  order along the strip: corr(x2, T(x)2) {:.4}; mean cost of the map {:.5} (geodesic {:.5}), \
         of its pushforward reassigned in x2 order {:.5} (geodesic {:.5})",
        pearson(&as_f64(x.column(1)), &as_f64(pushed.column(1))),
        amortised.mean().unwrap_or(f32::NAN),
        cheaper_geodesic_mean(&pushed, &geodesic)?,
        reordered_amortised.mean().unwrap_or(f32::NAN),
        cheaper_geodesic_mean(&reordered, &reordered_geodesic)?,
    );
    for (name, keep) in [("|x2| < 0.5", true), ("|x2| ≥ 0.5", false)] {
        let rows: Vec<usize> = (0..n).filter(|&r| band(r) == keep).collect();
        let mean =
            |v: &Array1<f32>| rows.iter().map(|&r| v[r] as f64).sum::<f64>() / rows.len().max(1) as f64;
        println!(
            "  amortised paths, {name}: mean cost {:.5}, geodesic {:.5}, mean excess {:.2e}, max {:.2e}",
            mean(&amortised),
            mean(&geodesic),
            mean(&excess),
            rows.iter().map(|&r| excess[r]).fold(f32::MIN, f32::max),
        );
    }

    let arrays: [(&str, &Array2<f32>); 5] = [
        ("x", &x),
        ("y", &y),
        ("pushed", &pushed),
        ("best", &best),
        ("map", &map),
    ];
    for (name, a) in arrays {
        write_npy(dir, name, a)?;
    }
    // The potential on a 121 × 121 grid over [−1.5, 1.5]², rows in x1-major order.
    let grid = Array2::from_shape_fn((121 * 121, 2), |(r, k)| {
        let index = if k == 0 { r / 121 } else { r % 121 };
        -1.5 + 3.0 * index as f32 / 120.0
    });
    let potential = model.potential_at(&grid)?;
    for (name, a) in [
        ("amortised_cost", &amortised),
        ("geodesic_cost", &geodesic),
        ("potential_grid", &potential),
    ] {
        write_npy(dir, name, a)?;
    }
    Ok(())
}

/// Writes `array` to `dir/name.npy`.
fn write_npy(dir: &Path, name: &str, array: &impl ndarray_npy::WriteNpyExt) -> Result<()> {
    ndarray_npy::write_npy(dir.join(format!("{name}.npy")), array)
        .map_err(|e| Error::Npy(format!("{name}.npy: {e}")))
}

//! Rough timing of NLOT's parts on a small Gaussian problem (used while tuning; not a benchmark).
use lagrangian_ot::nn::AdamConfig;
use lagrangian_ot::prelude::*;
use lagrangian_ot::solver::{c_transform, Nlot, SquaredEuclidean};
use std::time::Instant;

fn main() -> Result<()> {
    let source = Measure::from_fn("N(0, I)", 2, |r, n| toy::gaussian(r, n, &[0.0, 0.0], 1.0));
    let target = Measure::from_fn("N(2, I)", 2, |r, n| toy::gaussian(r, n, &[2.0, -1.0], 0.8));
    let iterations: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(50);
    let batch: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(256);
    let t0 = Instant::now();
    let model = Nlot::builder(SquaredEuclidean { dim: 2 })
        .source(source.clone())
        .target(target)
        .optimizer(AdamConfig::with_lr(2e-3))
        .batch_size(batch)
        .iterations(iterations)
        .evaluation(0, 16)
        .progress(ProgressMode::Silent)
        .build()?
        .fit()?;
    let fit = t0.elapsed().as_secs_f64();
    println!(
        "fit: {iterations} its x batch {batch}: {fit:.2} s ({:.1} ms/it)",
        1e3 * fit / iterations as f64
    );
    let mut r: SeededRng = rng(5);
    let x = source.sample(&mut r, batch)?;
    let y0 = model.predict_map(&x)?;
    for (name, config) in [
        ("reference backtracking", LbfgsConfig::default()),
        (
            "bracketing strong Wolfe",
            LbfgsConfig {
                line_search: LineSearch::strong_wolfe(),
                ..LbfgsConfig::default()
            },
        ),
        (
            "Armijo",
            LbfgsConfig {
                line_search: LineSearch::armijo(),
                ..LbfgsConfig::default()
            },
        ),
    ] {
        let lbfgs = Lbfgs::new(config)?;
        let t1 = Instant::now();
        let res = c_transform(&lbfgs, &model.cost, &model.potential, None, &x, y0.clone())?;
        print!("{name}: objective mean {:.5}; ", res.value.mean().unwrap());
        let ct = t1.elapsed().as_secs_f64();
        println!(
            "c-transform: {:.1} ms, mean iterations {:.2}, batch calls {}, mean evaluations {:.2}",
            1e3 * ct,
            res.lbfgs.mean_iterations(),
            res.lbfgs.batch_calls,
            res.lbfgs.evaluations.iter().sum::<usize>() as f64 / batch as f64
        );
    }
    let t2 = Instant::now();
    for _ in 0..100 {
        let _ = lagrangian_ot::nn::HostMlp::snapshot(&model.potential).value_and_gradient(&x)?;
    }
    println!(
        "potential value+grad: {:.3} ms per call",
        10.0 * t2.elapsed().as_secs_f64()
    );
    Ok(())
}

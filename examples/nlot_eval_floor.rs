//! The sampling floor of NLOT's Table 1 score on each seed's fixed evaluation points (the strips of
//! the `lsb` tasks), before any training: the score of the translation x ↦ x + (2.25, 0), which maps
//! the source strip onto the target strip exactly, and the mean ± std over fresh target samples. A
//! trained map is drawn from the same spread, so a seed whose points give a high floor cannot score
//! the paper's numbers. (See [`lagrangian_ot::solver::SamplingCheck`] for the check of a trained map.)
//!
//! `cargo run --release --example nlot_eval_floor -- [seeds=3] [trials=50]`
use lagrangian_ot::device::rng;
use lagrangian_ot::experiments::nlot::strips;
use lagrangian_ot::metrics::{exact_ot, sinkhorn, GroundCost};
use lagrangian_ot::solver::nlot::evaluation_sinkhorn;
use ndarray::Array2;

fn main() -> lagrangian_ot::Result<()> {
    let mut seeds = 3u64;
    let mut trials = 50usize;
    for a in std::env::args().skip(1) {
        match a.split_once('=') {
            Some(("seeds", v)) => seeds = v.parse().expect("seeds=K"),
            Some(("trials", v)) => trials = v.parse().expect("trials=K"),
            _ => panic!("unknown argument {a}"),
        }
    }
    let (source, target) = strips();
    let config = evaluation_sinkhorn();
    let score = |a: &Array2<f32>, b: &Array2<f32>| -> lagrangian_ot::Result<(f64, f64)> {
        Ok((
            100.0 * sinkhorn(a, b, &config)?.cost,
            100.0 * exact_ot(a, b, GroundCost::SqEuclidean)?.w2_squared,
        ))
    };
    for seed in 0..seeds {
        let mut r = rng(seed);
        let eval_source = source.sample(&mut r, 128)?;
        let eval_target = target.sample(&mut r, 128)?;
        let mut shifted = eval_source.clone();
        shifted.column_mut(0).mapv_inplace(|v| v + 2.25);
        let (s_shift, e_shift) = score(&shifted, &eval_target)?;
        let mut fresh = rng(1000 + seed);
        let mut values = Vec::new();
        for _ in 0..trials {
            let other = target.sample(&mut fresh, 128)?;
            values.push(score(&other, &eval_target)?);
        }
        let mean = |f: fn(&(f64, f64)) -> f64| values.iter().map(f).sum::<f64>() / trials as f64;
        let (ms, me) = (mean(|v| v.0), mean(|v| v.1));
        let sd = (values.iter().map(|v| (v.0 - ms).powi(2)).sum::<f64>() / trials as f64).sqrt();
        println!(
            "seed {seed}: translated source {s_shift:.3} (exact {e_shift:.3}); \
             fresh target samples {ms:.3} ± {sd:.3} (exact {me:.3})"
        );
    }
    Ok(())
}

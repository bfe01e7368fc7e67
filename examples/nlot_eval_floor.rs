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
use lagrangian_ot::solver::nlot::{defaults::EVAL_SIZE, evaluation_floor, evaluation_sinkhorn};

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
    for seed in 0..seeds {
        // The evaluation points exactly as `Nlot::fit` draws them for this seed.
        let mut r = rng(seed);
        let eval_source = source.sample(&mut r, EVAL_SIZE)?;
        let eval_target = target.sample(&mut r, EVAL_SIZE)?;
        let mut shifted = eval_source.clone();
        shifted.column_mut(0).mapv_inplace(|v| v + 2.25);
        let translated = 100.0 * sinkhorn(&shifted, &eval_target, &config)?.cost;
        let translated_exact = 100.0 * exact_ot(&shifted, &eval_target, GroundCost::SqEuclidean)?.w2_squared;
        let (mean, std) = evaluation_floor(&target, &eval_target, trials, &mut rng(1000 + seed))?;
        println!(
            "seed {seed}: translated source {translated:.3} (exact {translated_exact:.3}); \
             fresh target samples {mean:.3} ± {std:.3}"
        );
    }
    Ok(())
}

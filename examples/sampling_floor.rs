//! The sampling floor of a HOTA benchmark's feasibility score: the exact squared W2 and the
//! Sinkhorn divergence (the scoring configuration) between two independent target samples of the
//! same size. No model can score below this on average, so it tells which paper numbers a
//! converged metric can reproduce.
//!
//! `cargo run --release --example sampling_floor -- <benchmark> [n ...] [seeds=K] [sinkhorn=0]`
//! (`sinkhorn=0` skips the divergence, which takes minutes at 5000 points; exact OT takes seconds).
use lagrangian_ot::data::HotaBenchmark;
use lagrangian_ot::experiments::hota::scoring_sinkhorn;
use lagrangian_ot::metrics::{exact_ot, sinkhorn_divergence_with, GroundCost};
use std::time::Instant;

fn main() -> lagrangian_ot::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benchmark = HotaBenchmark::from_name(args.first().map_or("gmm", |s| s.as_str()))?;
    let mut sizes = Vec::new();
    let mut seeds = 3u64;
    let mut with_sinkhorn = true;
    for a in args.iter().skip(1) {
        match a.split_once('=') {
            Some(("seeds", v)) => seeds = v.parse().expect("seeds=K"),
            Some(("sinkhorn", v)) => with_sinkhorn = v != "0",
            _ => sizes.push(a.parse::<usize>().expect("a sample size")),
        }
    }
    if sizes.is_empty() {
        sizes = vec![500, 1000, 2000];
    }
    let target = benchmark.target();
    for &n in &sizes {
        for seed in 0..seeds {
            let mut rng = lagrangian_ot::device::rng(seed);
            let a = target.sample_exact(&mut rng, n)?;
            let b = target.sample_exact(&mut rng, n)?;
            let start = Instant::now();
            let exact = exact_ot(&a, &b, GroundCost::SqEuclidean)?.cost;
            let exact_s = start.elapsed().as_secs_f64();
            let mut line = format!(
                "{} n {n} seed {seed}: exact W2² {exact:.5} ({exact_s:.1} s)",
                benchmark.name()
            );
            if with_sinkhorn {
                let start = Instant::now();
                let sinkhorn = sinkhorn_divergence_with(&a, &b, &scoring_sinkhorn())?;
                let seconds = start.elapsed().as_secs_f64();
                line += &format!(", Sinkhorn divergence ε = 1e-3 {sinkhorn:.5} ({seconds:.1} s)");
            }
            println!("{line}");
        }
    }
    Ok(())
}

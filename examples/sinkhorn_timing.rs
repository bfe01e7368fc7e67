//! Seconds per debiased Sinkhorn divergence at HOTA's scoring settings ([`scoring_sinkhorn`]:
//! ε = 1e-3, |x − y|², tolerance 1e-3, ε-scaling) on S-tunnel-scale clouds (coordinates around
//! ±11), for the sizes given.
//!
//! `cargo run --release --example sinkhorn_timing -- [N ...]` (default 500 1000 2000)

use lagrangian_ot::data::HotaBenchmark;
use lagrangian_ot::experiments::hota::scoring_sinkhorn;
use lagrangian_ot::metrics::{sinkhorn, sinkhorn_divergence_with};
use lagrangian_ot::prelude::*;
use std::time::Instant;

fn main() -> Result<()> {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() {
        vec![500, 1000, 2000]
    } else {
        sizes
    };
    let config = scoring_sinkhorn();
    let target = HotaBenchmark::STunnel.target();
    for n in sizes {
        let mut rng = lagrangian_ot::device::rng(0);
        let (x, y) = (target.sample(&mut rng, n)?, target.sample(&mut rng, n)?);
        let start = Instant::now();
        let value = sinkhorn_divergence_with(&x, &y, &config)?;
        let seconds = start.elapsed().as_secs_f64();
        let cross = sinkhorn(&x, &y, &config)?;
        println!(
            "n = {n}: divergence {value:.6}, {seconds:.2} s (the cross solve alone: {} iterations, converged {})",
            cross.iterations, cross.converged
        );
    }
    Ok(())
}

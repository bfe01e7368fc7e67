//! The machine's f32 GEMM throughput through dfdx's CPU matmul, the kernel behind every dense layer
//! here, to put the benches' achieved GFLOP/s in proportion.
//!
//! `cargo run --release --example gemm_peak [-- N REPEATS]` (default 1024 × 1024 × 1024, 10 repeats
//! after 2 warm-ups); reports the best and the median of the repeats, counting 2·N³ FLOPs each.

use dfdx::prelude::*;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1).filter_map(|a| a.parse::<usize>().ok());
    let n = args.next().unwrap_or(1024);
    let repeats = args.next().unwrap_or(10).max(1);
    let dev = Cpu::seed_from_u64(0);
    let a: Tensor<(usize, usize), f32, _> = dev.sample_normal_like(&(n, n));
    let b: Tensor<(usize, usize), f32, _> = dev.sample_normal_like(&(n, n));
    for _ in 0..2 {
        let _ = a.clone().matmul(b.clone());
    }
    let mut seconds: Vec<f64> = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            let c = a.clone().matmul(b.clone());
            let t = start.elapsed().as_secs_f64();
            std::hint::black_box(c);
            t
        })
        .collect();
    seconds.sort_by(f64::total_cmp);
    let flops = 2.0 * (n as f64).powi(3);
    println!(
        "dfdx Cpu f32 matmul {n}x{n}x{n}, {} rayon threads: best {:.2} ms = {:.1} GFLOP/s, median {:.2} ms = {:.1} GFLOP/s",
        rayon::current_num_threads(),
        seconds[0] * 1e3,
        flops / seconds[0] / 1e9,
        seconds[repeats / 2] * 1e3,
        flops / seconds[repeats / 2] / 1e9
    );
}

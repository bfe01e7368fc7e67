//! The machine's f32 GEMM throughput through dfdx's CPU matmul (the kernel behind every trained dense
//! layer) and through OpenBLAS's sgemm ([`lagrangian_ot::nn::blas::affine`], behind the frozen spline
//! amortiser of the c-transform), to put the benches' achieved GFLOP/s in proportion.
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
    let a_host = lagrangian_ot::nn::tensor_to_array(&a);
    let b_host = lagrangian_ot::nn::tensor_to_array(&b);
    let zero_bias = ndarray::Array1::<f32>::zeros(n);
    let blas = || {
        lagrangian_ot::nn::blas::affine(a_host.view(), b_host.view(), zero_bias.view())
            .expect("square operands")
    };
    blas();
    let flops = 2.0 * (n as f64).powi(3);
    let report = |name: &str, product: &dyn Fn()| {
        let mut seconds: Vec<f64> = (0..repeats)
            .map(|_| {
                let start = Instant::now();
                product();
                start.elapsed().as_secs_f64()
            })
            .collect();
        seconds.sort_by(f64::total_cmp);
        println!(
            "{name} f32 {n}x{n}x{n}, {} rayon threads: best {:.2} ms = {:.1} GFLOP/s, \
             median {:.2} ms = {:.1} GFLOP/s",
            rayon::current_num_threads(),
            seconds[0] * 1e3,
            flops / seconds[0] / 1e9,
            seconds[repeats / 2] * 1e3,
            flops / seconds[repeats / 2] / 1e9
        );
    };
    report("dfdx Cpu matmul", &|| {
        std::hint::black_box(a.clone().matmul(b.clone()));
    });
    report("OpenBLAS sgemm (nn::blas::affine)", &|| {
        std::hint::black_box(blas());
    });
}

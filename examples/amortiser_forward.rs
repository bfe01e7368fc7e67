//! Throughput of one forward pass of the reference's spline amortiser (4 → 1024 → 1024 → 56, ReLU) at
//! frozen weights: through dfdx, through the ndarray host copy ([`HostMlp`]) and through OpenBLAS
//! ([`HostMlp::with_blas`], what a c-transform solve uses).
//!
//! `cargo run --release --example amortiser_forward [-- REPEATS]` (default 20 after one warm-up).

use lagrangian_ot::nn::{Activation, HostMlp, Mlp};
use ndarray::Array2;
use std::time::Instant;

fn main() -> lagrangian_ot::Result<()> {
    let repeats: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20)
        .max(1);
    let dev = lagrangian_ot::device::default_device(0);
    let widths = [4usize, 1024, 1024, 56];
    let mlp = Mlp::builder(widths[0])
        .hidden(&widths[1..3])
        .output(widths[3])
        .activation(Activation::ReLU)
        .build(&dev)?;
    let host = HostMlp::snapshot(&mlp);
    let blas = host.clone().with_blas();
    println!("{} rayon threads", rayon::current_num_threads());
    for rows in [1024usize, 256, 64] {
        let x = Array2::from_shape_fn((rows, 4), |(i, j)| ((i * 7 + j) % 13) as f32 * 0.1 - 0.6);
        let flops = 2.0 * rows as f64 * widths.windows(2).map(|w| (w[0] * w[1]) as f64).sum::<f64>();
        let time = |f: &dyn Fn() -> lagrangian_ot::Result<Array2<f32>>| -> lagrangian_ot::Result<f64> {
            f()?;
            let start = Instant::now();
            for _ in 0..repeats {
                std::hint::black_box(f()?);
            }
            Ok(start.elapsed().as_secs_f64() / repeats as f64)
        };
        let line = [
            ("dfdx", time(&|| mlp.forward_array(&x))?),
            ("ndarray host", time(&|| host.forward(&x))?),
            ("OpenBLAS host", time(&|| blas.forward(&x))?),
        ]
        .iter()
        .map(|(name, s)| format!("{name} {:.2} ms ({:.0} GFLOP/s)", s * 1e3, flops / s / 1e9))
        .collect::<Vec<_>>()
        .join(", ");
        println!("{rows} rows: {line}");
    }
    Ok(())
}

//! Seconds per HOTA training step (one HJB step and one potential step, averaged) at batch 1024 for
//! the paper's network (trunk 3×512, FiLM 100) and the fast preset's (3×128, FiLM 64), in 2-D and on
//! the sphere in d = 1000, on this machine's CPU.
//!
//! `cargo bench --bench hota_iteration [-- STEPS]` (default 6 timed steps after 2 warm-up steps).

use lagrangian_ot::data::HotaBenchmark;
use lagrangian_ot::nn::TimeValueNet;
use lagrangian_ot::prelude::*;
use lagrangian_ot::solver::{Hota, HotaPreset};

fn main() -> Result<()> {
    let steps: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(6);
    let nets: [(&str, &[usize], usize); 2] = [
        ("paper 3x512", &[512, 512, 512], 100),
        ("fast 3x128", &[128, 128, 128], 64),
    ];
    for benchmark in [HotaBenchmark::VNeck, HotaBenchmark::Sphere { dim: 1000 }] {
        for (name, hidden, film) in nets {
            let time = |iterations: usize| -> Result<f64> {
                let model = Hota::benchmark(benchmark)?
                    .preset(HotaPreset::Paper)
                    .net(
                        TimeValueNet::builder(benchmark.dim())
                            .hidden(hidden)
                            .film_width(film),
                    )
                    .iterations(iterations)
                    .batch_size(1024)
                    .potential_batch(1024)
                    .evaluation(0, 1)
                    .progress(ProgressMode::Silent)
                    .build()?
                    .fit()?;
                Ok(model.history().seconds)
            };
            // The difference of two runs removes the set-up from the timing (evaluation is off).
            let (short, long) = (time(2)?, time(2 + steps)?);
            println!(
                "{} (d = {}), {name}, batch 1024: {:.3} s per step",
                benchmark.name(),
                benchmark.dim(),
                (long - short) / steps as f64
            );
        }
    }
    Ok(())
}

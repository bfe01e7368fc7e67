//! Surrogate sampling throughput of a fitted CLOT model on the semicircles (samples per second), for
//! the fast preset's spline amortiser (2×256) and the quick preset's (2×128), at a time in each
//! interval. Inference is maps + one amortiser pass + one spline read: no optimisation. It runs on
//! host copies of the networks in parallel blocks of 2048 rows, the FiLM modulations computed once
//! per class, the amortiser's last layer folded into the spline read at s*.
//!
//! `cargo bench --bench hti_sampling [-- SAMPLES]` (default 200 000 per timing, best of 3).
//!
//! Measured on the 2-core development machine (AVX-512 Xeon, nothing else running), samples/s, over
//! three runs on one day:
//!
//! | preset | t = 0.25 (one map) | t = 0.75 (two chained maps) |
//! |--------|--------------------|-----------------------------|
//! | fast   | 7.5e5 – 8.3e5      | 6.0e5 – 6.8e5               |
//! | quick  | 1.52e6 – 1.66e6    | 0.99e6 – 1.15e6             |
//!
//! (The dfdx path, `HtiSurrogate::predict_encoded_reference`, gave 1.16e5 / 7.5e4 and 1.5e5 / 8.0e4.)

use lagrangian_ot::experiments::hti::{semicircle_bounds, semicircle_density};
use lagrangian_ot::prelude::*;
use std::time::Instant;

fn main() -> Result<()> {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200_000);
    let data = AnchoredDataset::load_shared("semicircle")?;
    for (name, preset) in [("fast", HtiPreset::Fast), ("quick", HtiPreset::Quick)] {
        // Two training steps: the weights do not change the cost of inference.
        let mut config = HtiConfig::preset(preset, HtiVariant::LearnedDensity);
        config.iterations = 2;
        config.initial_path_steps = 1;
        config.refit_every = 0;
        config.density = semicircle_density();
        config.bounds = Some(semicircle_bounds()?);
        config.progress = ProgressMode::Silent;
        let width = config.amortiser.hidden.clone();
        let model = Hti::builder().data(&data).config(config).build()?.fit()?;
        for t in [0.25f32, 0.75] {
            let mut best = f64::INFINITY;
            for rep in 0..3 {
                let start = Instant::now();
                let (samples, _) = model.surrogate().sample_at(t, n, rep)?;
                best = best.min(start.elapsed().as_secs_f64());
                assert_eq!(samples.nrows(), n);
            }
            println!(
                "{name} preset (amortiser {width:?}), t = {t}: {n} samples in {best:.3} s = {:.3e} samples/s",
                n as f64 / best
            );
        }
    }
    Ok(())
}

//! One Table 2 task of NLOT metric learning with the CPU preset of `lot reproduce`
//! ([`fast_builder`]) on the paper's data (or the quick data), with `key=value` overrides, to measure
//! how far a CPU-sized run gets towards the paper's alignment.
//!
//! `cargo run --release --example metric_learning_table2 -- kind=circle seed=0 data=full its=400
//! warmup=20 every=1 eval=50 grid=100`
//!
//! `kind` is `circle`, `mass` or `xpath`; `data` is `full` (the paper's slices and points, the
//! default) or `quick` (what `lot reproduce --quick` uses); `its` defaults to [`fast_iterations`].
//! Prints the alignment at every evaluation and the wall time.

use lagrangian_ot::data::scarvelis::{self, ScarvelisConfig, ScarvelisKind};
use lagrangian_ot::experiments::metric_learning::{fast_builder, fast_iterations};
use lagrangian_ot::prelude::*;

fn main() -> Result<()> {
    let (mut kind, mut seed, mut full) = (ScarvelisKind::Circle, 0u64, true);
    let (mut iterations, mut warmup, mut every, mut eval, mut grid) = (None, 20, 1, 50, 100);
    for a in std::env::args().skip(1) {
        let (k, v) = a
            .split_once('=')
            .ok_or_else(|| Error::InvalidArgument(format!("{a:?}: expected key=value")))?;
        let bad = || Error::InvalidArgument(format!("{k}={v}: cannot parse"));
        let n = || v.parse::<usize>().map_err(|_| bad());
        match k {
            "kind" => {
                kind = match v {
                    "circle" => ScarvelisKind::Circle,
                    "mass" => ScarvelisKind::MassSplitting,
                    "xpath" => ScarvelisKind::XPaths,
                    _ => return Err(bad()),
                }
            }
            "data" => full = v == "full",
            "seed" => seed = n()? as u64,
            "its" => iterations = Some(n()?),
            "warmup" => warmup = n()?,
            "every" => every = n()?,
            "eval" => eval = n()?,
            "grid" => grid = n()?,
            _ => return Err(Error::InvalidArgument(format!("unknown key {k:?}"))),
        }
    }
    let iterations = iterations.unwrap_or_else(|| fast_iterations(kind));
    let data_config = ScarvelisConfig::paper(kind, seed);
    let data_config = if full {
        data_config
    } else {
        data_config.slices(9).samples(32)
    };
    let data = scarvelis::generate(&data_config)?;
    let model = fast_builder(&data, iterations)
        .metric_schedule(warmup, every)
        .evaluation(eval, grid)
        .seed(seed)
        .progress(ProgressMode::Lines)
        .build()?
        .fit()?;
    let h = &model.history;
    for (it, a) in h.eval_iteration.iter().zip(&h.alignment) {
        println!("  it {it:>5}: alignment {a:.4}");
    }
    println!(
        "{kind:?} seed {seed} ({} data, {iterations} its): final alignment {:.4}, {:.0} s ({:.2} s/it)",
        if full { "full" } else { "quick" },
        h.alignment.last().copied().unwrap_or(f64::NAN),
        h.seconds,
        h.seconds / iterations.max(1) as f64
    );
    Ok(())
}

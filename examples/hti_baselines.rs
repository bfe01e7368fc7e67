//! Scores the HTI baselines (linear interpolation, direct regression, CFM) on the semicircles for
//! several seeds, with their default settings, as `lot reproduce hti-semicircle` does.
//! `cargo run --release --example hti_baselines -- [SEEDS]` (default 5: seeds 0..5).
use lagrangian_ot::experiments::hti::semicircle_scores;
use lagrangian_ot::prelude::*;

fn main() -> Result<()> {
    let seeds: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let anchors = Anchors::from_dataset(&AnchoredDataset::load_shared("semicircle")?)?;
    for seed in 0..seeds {
        let linear = LinearInterpolation::fit(&anchors)?;
        let regression = DirectRegression::fit(&anchors, &RegressionSettings::default().seed(seed))?;
        let cfm = FlowMatching::fit(&anchors, &FlowMatchingSettings::default().seed(seed))?;
        let methods: [&dyn Surrogate; 3] = [&linear, &regression, &cfm];
        for m in methods {
            let (nll, cd) = semicircle_scores(m, seed)?;
            println!("seed {seed} {:<18} NLL {nll:>9.3} CD {cd:.4}", m.name());
        }
    }
    Ok(())
}

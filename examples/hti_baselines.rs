//! Scores the HTI baselines (linear interpolation, direct regression, CFM, MFM) on the semicircles
//! for several seeds, with their default settings, as `lot reproduce hti-semicircle` does.
//! `cargo run --release --example hti_baselines -- [SEEDS] [GAMMA]` (default 5 seeds: 0..5; GAMMA
//! is MFM's LAND bandwidth, default that of `MetricFlowMatchingSettings::default()`).
use lagrangian_ot::experiments::hti::semicircle_scores;
use lagrangian_ot::prelude::*;

fn main() -> Result<()> {
    let seeds: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let gamma: Option<f32> = std::env::args().nth(2).and_then(|s| s.parse().ok());
    let anchors = Anchors::from_dataset(&AnchoredDataset::load_shared("semicircle")?)?;
    for seed in 0..seeds {
        let linear = LinearInterpolation::fit(&anchors)?;
        let regression = DirectRegression::fit(&anchors, &RegressionSettings::default().seed(seed))?;
        let cfm = FlowMatching::fit(&anchors, &FlowMatchingSettings::default().seed(seed))?;
        let mut metric = MetricFlowMatchingSettings::default().seed(seed);
        if let Some(gamma) = gamma {
            metric = metric.gamma(gamma);
        }
        let mfm = MetricFlowMatching::fit(&anchors, &metric)?;
        let methods: [&dyn Surrogate; 4] = [&linear, &regression, &cfm, &mfm];
        for m in methods {
            let (nll, cd) = semicircle_scores(m, seed)?;
            println!("seed {seed} {:<18} NLL {nll:>9.3} CD {cd:.4}", m.name());
        }
    }
    Ok(())
}

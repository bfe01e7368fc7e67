//! The code of `notebooks/05_nctm.ipynb`, cell by cell, as a compiled example:
//! `cargo run --release --example nctm_walkthrough` (set `LOT_QUICK=1` for a short run).

use lagrangian_ot::experiments::nctm::{
    conditions_at, evaluate_gaussian, gaussian_builder, NctmSettings, HELDOUT_HORIZONS, TRAIN_HORIZONS,
};
use lagrangian_ot::prelude::*;
use lagrangian_ot::solver::{Conditioning, ContinuousEncoding, NctmModel};

fn main() -> Result<()> {
    // Cell: settings.
    let quick = quick_mode();
    let settings = if quick {
        NctmSettings::quick()
    } else {
        NctmSettings::full()
    };
    println!("{settings:?}");

    // Cell: fit the hypernetwork model (positional encoding of u, pre-training, K_T = 4).
    let model: NctmModel = gaussian_builder(&settings, 0)?
        .conditioning(Conditioning::Hypernetwork)
        .encoding(ContinuousEncoding::Positional)
        .progress(ProgressMode::Lines)
        .build()?
        .fit()?;

    // Cell: `model` draws itself (source, target, pushforward per held-out condition; loss curves).
    let summary = model.figure().summary();
    println!("{summary}");

    // Cell: metrics on held-out and training horizons.
    {
        let heldout = evaluate_gaussian(
            &model,
            &conditions_at(&HELDOUT_HORIZONS)?,
            settings.eval_samples,
            7,
        )?;
        let train = evaluate_gaussian(&model, &conditions_at(&TRAIN_HORIZONS)?, settings.eval_samples, 8)?;
        println!("| metric | held-out u | training u |");
        println!("|---|---|---|");
        println!(
            "| E|T − T*|² | {:.4} | {:.4} |",
            heldout.map_error, train.map_error
        );
        println!(
            "| E|x − T*|² (identity) | {:.4} | {:.4} |",
            heldout.map_error_identity, train.map_error_identity
        );
        println!("| W2 pushforward | {:.4} | {:.4} |", heldout.w2, train.w2);
        println!(
            "| W2 identity | {:.4} | {:.4} |",
            heldout.w2_identity, train.w2_identity
        );
        println!(
            "| W2 T* (sampling floor) | {:.4} | {:.4} |",
            heldout.w2_true_map, train.w2_true_map
        );
        println!("| Bures W2 | {:.4} | {:.4} |", heldout.bures_w2, train.bures_w2);
        println!("| Pearson ρ | {:.4} | {:.4} |", heldout.rho, train.rho);
    }

    // Cell: transport a few points under one held-out condition.
    {
        let x = toy::gaussian(&mut rng(3), 5, &[0.0, 0.0], 1.0)?;
        let y = model.transport_at(&x, &[1], &[0.625])?;
        println!("T(x | scenario 1, u = 0.625) =\n{y:.3}");
    }

    // Cell: the ablation table through the registry (quick when LOT_QUICK is set).
    let config = RunConfig {
        out_dir: std::env::temp_dir().join("nctm-ablation"),
        ..RunConfig::from_env(0)
    };
    let report = reproduce("nctm-ablation", &config)?;
    println!("{report}");
    Ok(())
}

//! The code of `tutorials/image_translation.ipynb`, cell by cell, as a compiled example:
//! `cargo run --release --example digits_walkthrough` (set `LOT_QUICK=1` for a short run). Needs
//! `data/digits/*.npy`: run `python3 scripts/fetch_digits.py` once.

use lagrangian_ot::experiments::hota_digits::{
    digit_grid, digits_measure, real_subset, score_translation, w2_barycentric_map, ClassifierConfig,
    DigitClassifier, Digits,
};
use lagrangian_ot::prelude::*;
use lagrangian_ot::solver::{Hota, HotaModel, HotaPreset};

fn main() -> Result<()> {
    // Cell: the data, split 80 / 20 within each class.
    let quick = quick_mode();
    let digits = Digits::load_default()?;
    let (train, test) = digits.split(0.2, 0)?;
    println!("{} training and {} held-out images", train.len(), test.len());

    // Cell: a few images of each digit.
    let examples = digit_grid(
        &[
            ("training 3s", &train.class(3)?),
            ("training 8s", &train.class(8)?),
            ("training 1s", &train.class(1)?),
        ],
        12,
    );
    println!("{}", examples.summary());

    // Cell: the classifier whose features the FID-style distance uses.
    let classifier_config = if quick {
        ClassifierConfig::quick()
    } else {
        ClassifierConfig::default()
    };
    let classifier = DigitClassifier::train(&train, &classifier_config, 0)?;
    println!(
        "classifier: held-out accuracy {:.4}, final cross-entropy {:.4}",
        classifier.accuracy(&test)?,
        classifier.losses.last().copied().unwrap_or(f64::NAN)
    );

    // Cell: HOTA from 3s to 8s in pixel space (64-D), no state cost.
    let train_3 = train.class(3)?;
    let train_8 = train.class(8)?;
    let model: HotaModel<NoPotential> = Hota::builder(NoPotential, 64)
        .source(digits_measure("digit 3", train_3)?)
        .target(digits_measure("digit 8", train_8.clone())?)
        .preset(HotaPreset::Quick)
        .iterations(if quick { 400 } else { 1200 })
        .sigma(0.05)
        .seed(0)
        .progress(ProgressMode::Lines)
        .build()?
        .fit()?;
    println!("HOTA trained in {:.1} s", model.history().seconds);

    // Cell: translate the held-out 3s; the plain W2 map is the exact OT barycentric projection.
    let test_3 = test.class(3)?;
    let test_8 = test.class(8)?;
    let hota_8 = model.transport(&test_3, 17)?;
    let w2_8 = w2_barycentric_map(&test_3, &train_8)?;
    let grid = digit_grid(
        &[
            ("input: held-out 3s", &test_3),
            ("HOTA", &hota_8),
            ("plain W2 map", &w2_8),
            ("real held-out 8s", &test_8),
        ],
        10,
    );
    println!("{}", grid.summary());

    // Cell: the score table.
    let floor = real_subset(&train_8, test_3.nrows(), 0);
    println!(
        "{:<24} {:>10} {:>17} {:>13}",
        "images", "FID-style", "classified as 8", "displacement"
    );
    for (name, images, sources) in [
        ("HOTA", &hota_8, Some(&test_3)),
        ("plain W2 map", &w2_8, Some(&test_3)),
        ("identity", &test_3, Some(&test_3)),
        ("real 8s (floor)", &floor, None),
    ] {
        let s = score_translation(&classifier, images, sources, &test_8, 8)?;
        println!(
            "{name:<24} {:>10.3} {:>17.3} {:>13.3}",
            s.fid, s.target_accuracy, s.displacement
        );
    }

    // Cell: the registered experiment does all of the above in one call.
    let report = reproduce(
        "hota-digits",
        &RunConfig {
            out_dir: std::env::temp_dir().join("lot-hota-digits"),
            ..RunConfig::from_env(0)
        },
    )?;
    println!("{report}");
    Ok(())
}

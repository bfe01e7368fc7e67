//! HTI experiments (HTI spec §8): the conditional semicircles, every CLOT variant and the baselines,
//! scored exactly as the paper does.

use ndarray::Array2;

use crate::data::{semicircle, AnchoredDataset, ConditionView};
use crate::device::rng;
use crate::error::Result;
use crate::lagrangian::Bounds;
use crate::progress::ProgressMode;
use crate::solver::{DensitySettings, Hti, HtiModel, HtiPreset, HtiVariant};
use crate::surrogate::Surrogate;

/// The semicircle's clipping box (spec §3.4).
pub fn semicircle_bounds() -> Result<Bounds> {
    Bounds::rect((-2.5, 2.5), (-1.5, 1.5))
}

/// The semicircle's density potential: h = 0.05, α = 0.05, all 1200 anchor samples.
pub fn semicircle_density() -> DensitySettings {
    DensitySettings::default()
}

/// NLL and circle distance of a surrogate on the semicircle, averaged over t = 0.25 and 0.75 (spec
/// §8.1): start from a fresh 400-point sample at t = 0 (seeded by `seed`), predict, clip to the box,
/// score under the true density.
pub fn semicircle_scores<S: Surrogate + ?Sized>(surrogate: &S, seed: u64) -> Result<(f64, f64)> {
    let mut r = rng(seed.wrapping_add(10_000));
    let (start, labels) = semicircle::sample(&mut r, 0.0, 100)?;
    let bounds = semicircle_bounds()?;
    let (mut nll, mut cd) = (0.0, 0.0);
    for t in semicircle::HELD_OUT_TIMES {
        let predicted: Array2<f32> = bounds.clip(&surrogate.predict(
            t,
            start.view(),
            &ConditionView::Categorical(labels.view()),
        )?)?;
        nll += semicircle::negative_log_likelihood(&predicted, &labels, t)?;
        cd += semicircle::circle_distance(&predicted, &labels)?;
    }
    let n = semicircle::HELD_OUT_TIMES.len() as f64;
    Ok((nll / n, cd / n))
}

/// Fits one CLOT variant on the shipped semicircle data with `preset`.
pub fn fit_semicircle(
    variant: HtiVariant,
    preset: HtiPreset,
    seed: u64,
    progress: ProgressMode,
) -> Result<HtiModel> {
    let data = AnchoredDataset::load_shared("semicircle")?;
    Hti::builder()
        .data(&data)
        .preset(preset)
        .variant(variant)
        .density(semicircle_density())
        .bounds(semicircle_bounds()?)
        .seed(seed)
        .progress(progress)
        .build()?
        .fit()
}

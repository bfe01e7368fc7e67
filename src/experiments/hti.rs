//! HTI experiments (HTI spec §8): the conditional semicircles, every CLOT variant and the baselines,
//! scored exactly as the paper does (NLL under the true density and circle distance, averaged over
//! the held-out times t = 0.25 and 0.75, from a fresh 400-point sample at t = 0).

use ndarray::{Array1, Array2};

use super::{Report, RunConfig};
use crate::data::{semicircle, AnchoredDataset, ConditionView};
use crate::device::rng;
use crate::error::Result;
use crate::lagrangian::Bounds;
use crate::plot::{Figure, Plot};
use crate::progress::ProgressMode;
use crate::solver::{DensitySettings, Hti, HtiModel, HtiPreset, HtiVariant};
use crate::surrogate::{
    Anchors, DirectRegression, FlowMatching, FlowMatchingSettings, LinearInterpolation, MetricFlowMatching,
    MetricFlowMatchingSettings, RegressionSettings, Surrogate,
};

/// The semicircle's clipping box (spec §3.4).
pub fn semicircle_bounds() -> Result<Bounds> {
    Bounds::rect((-2.5, 2.5), (-1.5, 1.5))
}

/// The semicircle's density potential: h = 0.05, α = 0.05, all 1200 anchor samples.
pub fn semicircle_density() -> DensitySettings {
    DensitySettings::default()
}

/// The fresh start sample of the evaluation: 100 points per class at t = 0, seeded by `seed`.
pub fn semicircle_start(seed: u64) -> Result<(Array2<f32>, Array1<i64>)> {
    let mut r = rng(seed.wrapping_add(10_000));
    semicircle::sample(&mut r, 0.0, 100)
}

/// A surrogate's clipped predictions at the held-out times from [`semicircle_start`], with the
/// start sample's labels.
pub fn semicircle_predictions<S: Surrogate + ?Sized>(
    surrogate: &S,
    seed: u64,
) -> Result<(Vec<Array2<f32>>, Array1<i64>)> {
    let (start, labels) = semicircle_start(seed)?;
    let bounds = semicircle_bounds()?;
    let predictions = semicircle::HELD_OUT_TIMES
        .iter()
        .map(|&t| {
            bounds.clip(&surrogate.predict(t, start.view(), &ConditionView::Categorical(labels.view()))?)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((predictions, labels))
}

/// NLL and circle distance of a surrogate on the semicircle, averaged over t = 0.25 and 0.75 (spec
/// §8.1): start from [`semicircle_start`], predict, clip to the box, score under the true density.
pub fn semicircle_scores<S: Surrogate + ?Sized>(surrogate: &S, seed: u64) -> Result<(f64, f64)> {
    let (predictions, labels) = semicircle_predictions(surrogate, seed)?;
    scores_of(&predictions, &labels)
}

/// NLL and circle distance of predictions at the held-out times, averaged over the times.
fn scores_of(predictions: &[Array2<f32>], labels: &Array1<i64>) -> Result<(f64, f64)> {
    let (mut nll, mut cd) = (0.0, 0.0);
    for (t, predicted) in semicircle::HELD_OUT_TIMES.iter().zip(predictions) {
        nll += semicircle::negative_log_likelihood(predicted, labels, *t)?;
        cd += semicircle::circle_distance(predicted, labels)?;
    }
    let n = semicircle::HELD_OUT_TIMES.len() as f64;
    Ok((nll / n, cd / n))
}

/// Fits one CLOT variant on the shipped semicircle data with `preset` and the paper's density and box.
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

/// The paper's (NLL, CD) for a variant (HTI spec §8.1; `[SUM]`).
pub fn semicircle_paper(variant: HtiVariant) -> Option<(f64, f64)> {
    match variant {
        HtiVariant::Euclidean => Some((105.713, 0.323)),
        HtiVariant::Learned => Some((23.008, 0.158)),
        HtiVariant::EuclideanDensity => Some((-0.532, 0.016)),
        HtiVariant::LearnedDensity => Some((-0.662, 0.016)),
        HtiVariant::FixedEigen | HtiVariant::FixedEigenDensity => None,
    }
}

/// One scored method: its metric-name stem, its scores and its predictions for the figure.
struct Scored {
    key: String,
    name: String,
    nll: f64,
    cd: f64,
    paper: Option<(f64, f64)>,
    predictions: Vec<Array2<f32>>,
}

fn score<S: Surrogate + ?Sized>(
    key: &str,
    surrogate: &S,
    seed: u64,
    paper: Option<(f64, f64)>,
) -> Result<Scored> {
    let (predictions, labels) = semicircle_predictions(surrogate, seed)?;
    let (nll, cd) = scores_of(&predictions, &labels)?;
    Ok(Scored {
        key: key.to_string(),
        name: surrogate.name(),
        nll,
        cd,
        paper,
        predictions,
    })
}

/// `lot reproduce hti-semicircle`: the four CLOT variants of the paper's table (quick mode: the full
/// method alone, with the quick preset) and the baselines (NLOT, i.e. CLOT under Pooladian et al.'s
/// fixed-eigenvalue metric; linear interpolation of coupled samples; direct regression; conditional
/// flow matching; metric flow matching), NLL and CD beside the paper's.
pub(super) fn semicircle_experiment(config: &RunConfig) -> Result<Report> {
    let (preset, variants): (HtiPreset, &[HtiVariant]) = if config.quick {
        (HtiPreset::Quick, &[HtiVariant::LearnedDensity])
    } else {
        (
            HtiPreset::Fast,
            &[
                HtiVariant::LearnedDensity,
                HtiVariant::EuclideanDensity,
                HtiVariant::Learned,
                HtiVariant::Euclidean,
                HtiVariant::FixedEigen,
            ],
        )
    };
    let seed = config.seed;
    let mut scored = Vec::new();
    let mut main_model = None;
    for &variant in variants {
        let model = fit_semicircle(variant, preset, seed, ProgressMode::Auto)?;
        scored.push(score(
            variant.cli_name(),
            model.surrogate(),
            seed,
            semicircle_paper(variant),
        )?);
        if variant == HtiVariant::LearnedDensity {
            main_model = Some(model);
        }
    }
    let anchors = Anchors::from_dataset(&AnchoredDataset::load_shared("semicircle")?)?;
    let (regression, flow) = if config.quick {
        (
            RegressionSettings::default().iterations(300),
            FlowMatchingSettings::default().iterations(300),
        )
    } else {
        (RegressionSettings::default(), FlowMatchingSettings::default())
    };
    scored.push(score("linear", &LinearInterpolation::fit(&anchors)?, seed, None)?);
    scored.push(score(
        "regression",
        &DirectRegression::fit(&anchors, &regression.seed(seed))?,
        seed,
        None,
    )?);
    // MFM's velocity stage uses CFM's settings, so the two differ only in their interpolants.
    let metric = MetricFlowMatchingSettings::default().flow(flow.clone());
    let metric = if config.quick {
        metric.interpolant_iterations(300)
    } else {
        metric
    };
    scored.push(score(
        "cfm",
        &FlowMatching::fit(&anchors, &flow.seed(seed))?,
        seed,
        None,
    )?);
    scored.push(score(
        "mfm",
        &MetricFlowMatching::fit(&anchors, &metric.seed(seed))?,
        seed,
        None,
    )?);

    let mut panels: Vec<Figure> = Vec::new();
    if let Some(model) = &main_model {
        panels.push(model.figure());
    }
    for s in &scored {
        let mut panel = Figure::new()
            .title(&format!("{}: NLL {:.3}, CD {:.4}", s.name, s.nll, s.cd))
            .x_label("y₁")
            .y_label("y₂")
            .paths(&true_arcs(), "true semicircles");
        for (t, p) in semicircle::HELD_OUT_TIMES.iter().zip(&s.predictions) {
            panel = panel.scatter(p.view(), &format!("t = {t}"));
        }
        panels.push(panel.equal_aspect());
    }
    let mut report = Report::new(Figure::grid(3, panels));
    for s in &scored {
        report = report
            .metric(&format!("nll_{}", s.key), s.nll, s.paper.map(|p| p.0))
            .metric(&format!("cd_{}", s.key), s.cd, s.paper.map(|p| p.1));
    }
    Ok(report)
}

/// The four unit semicircles the classes travel along.
fn true_arcs() -> Vec<Array2<f32>> {
    (0..semicircle::NUM_CLASSES)
        .map(|class| {
            let c = semicircle::centre(class);
            Array2::from_shape_fn((41, 2), |(i, j)| {
                let angle = semicircle::mean_angle(class, i as f64 / 40.0);
                (if j == 0 {
                    c[0] + angle.cos()
                } else {
                    c[1] + angle.sin()
                }) as f32
            })
        })
        .collect()
}

//! The HTI baseline surrogates (linear interpolation, direct regression, conditional flow matching)
//! on small synthetic anchors whose true marginals are known: two labelled 2-D Gaussians (std 0.2)
//! whose means move linearly in t in opposite directions, class 0: (−1 + 2t, 0), class 1:
//! (1 − 2t, 0), observed at t = 0, ½, 1. The classes coincide at t = ½, so only a model that keeps
//! the classes apart can send them to opposite sides afterwards.

use lagrangian_ot::data::ConditionView;
use lagrangian_ot::device::rng;
use lagrangian_ot::surrogate::{
    Anchors, ConditionEncoding, DirectRegression, FlowMatching, FlowMatchingSettings, LinearInterpolation,
    MetricFlowMatching, MetricFlowMatchingSettings, RegressionSettings, Surrogate,
};
use lagrangian_ot::Error;
use ndarray::{array, Array1, Array2, Axis};
use rand_distr::{Distribution, Normal};

const STD: f32 = 0.2;
const PER_CLASS: usize = 200;
const TIMES: [f32; 3] = [0.0, 0.5, 1.0];

fn true_mean(class: i64, t: f32) -> [f32; 2] {
    if class == 0 {
        [-1.0 + 2.0 * t, 0.0]
    } else {
        [1.0 - 2.0 * t, 0.0]
    }
}

/// `per_class` samples of each class at time `t`, class 0 first.
fn crossing_gaussians(seed: u64, t: f32, per_class: usize) -> (Array2<f32>, Array1<i64>) {
    let mut r = rng(seed);
    let noise = Normal::new(0.0f32, STD).unwrap();
    let labels: Array1<i64> = (0..2 * per_class).map(|i| (i / per_class) as i64).collect();
    let mut y = Array2::zeros((2 * per_class, 2));
    for (mut row, &c) in y.rows_mut().into_iter().zip(&labels) {
        let m = true_mean(c, t);
        row[0] = m[0] + noise.sample(&mut r);
        row[1] = m[1] + noise.sample(&mut r);
    }
    (y, labels)
}

fn one_hot(labels: &Array1<i64>) -> Array2<f32> {
    let mut x = Array2::zeros((labels.len(), 2));
    for (i, &c) in labels.iter().enumerate() {
        x[[i, c as usize]] = 1.0;
    }
    x
}

fn labelled_anchors() -> Anchors {
    let clouds: Vec<_> = TIMES
        .iter()
        .enumerate()
        .map(|(k, &t)| crossing_gaussians(10 + k as u64, t, PER_CLASS))
        .collect();
    Anchors {
        times: TIMES.to_vec(),
        samples: clouds.iter().map(|(y, _)| y.clone()).collect(),
        conditions: clouds.iter().map(|(_, l)| one_hot(l)).collect(),
        labels: Some(clouds.iter().map(|(_, l)| l.clone()).collect()),
        encoding: ConditionEncoding::Categorical { num_categories: 2 },
    }
}

fn rows_of_class(y: &Array2<f32>, labels: &Array1<i64>, class: i64) -> Array2<f32> {
    let rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
    y.select(Axis(0), &rows)
}

fn class_mean(y: &Array2<f32>, labels: &Array1<i64>, class: i64) -> Array1<f32> {
    rows_of_class(y, labels, class).mean_axis(Axis(0)).unwrap()
}

fn class_std(y: &Array2<f32>, labels: &Array1<i64>, class: i64) -> Array1<f32> {
    rows_of_class(y, labels, class).std_axis(Axis(0), 0.0)
}

fn max_abs_diff(a: &Array1<f32>, b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// Largest per-class distance of the predicted mean from the true mean at `t`.
fn mean_error(prediction: &Array2<f32>, labels: &Array1<i64>, t: f32) -> f32 {
    (0..2)
        .map(|c| max_abs_diff(&class_mean(prediction, labels, c), &true_mean(c, t)))
        .fold(0.0, f32::max)
}

#[test]
fn linear_interpolation_hits_the_midpoint_mean_and_keeps_the_spread() {
    let anchors = labelled_anchors();
    let linear = LinearInterpolation::fit(&anchors).unwrap();
    let labels = &anchors.labels.as_ref().unwrap()[0];
    let cond = ConditionView::Categorical(labels.view());
    let start = anchors.samples[0].view();

    assert_eq!(linear.predict(0.0, start, &cond).unwrap(), anchors.samples[0]);
    for (t, lo, hi) in [(0.25, 0, 1), (0.75, 1, 2)] {
        let prediction = linear.predict(t, start, &cond).unwrap();
        for c in 0..2 {
            // Couplings are class-wise permutations, so the mean is exactly the anchors' average.
            let expected = (class_mean(&anchors.samples[lo], &anchors.labels.as_ref().unwrap()[lo], c)
                + class_mean(&anchors.samples[hi], &anchors.labels.as_ref().unwrap()[hi], c))
                / 2.0;
            let got = class_mean(&prediction, labels, c);
            assert!(
                max_abs_diff(&got, expected.as_slice().unwrap()) < 1e-5,
                "t={t} class {c}: {got} vs {expected}"
            );
            assert!(
                max_abs_diff(&got, &true_mean(c, t)) < 0.05,
                "t={t} class {c}: {got}"
            );
            let spread = class_std(&prediction, labels, c);
            println!("linear: t={t} class {c} mean {got} std {spread}");
            assert!(
                spread.iter().all(|&s| (s - STD).abs() < 0.03),
                "t={t} class {c}: std {spread}"
            );
        }
    }
    // At an anchor time every start sample lands on a sample of that anchor, one each.
    let at_anchor = linear.predict(0.5, start, &cond).unwrap();
    let mut got: Vec<Vec<u32>> = at_anchor
        .rows()
        .into_iter()
        .map(|r| r.iter().map(|v| v.to_bits()).collect())
        .collect();
    let mut want: Vec<Vec<u32>> = anchors.samples[1]
        .rows()
        .into_iter()
        .map(|r| r.iter().map(|v| v.to_bits()).collect())
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn ignoring_the_labels_mixes_the_classes_after_they_meet() {
    // The contrast that shows the class-by-class coupling above matters: coupled without labels,
    // the samples that met at the origin from the left leave it to the left again, so both classes
    // bounce back instead of crossing.
    let mut anchors = labelled_anchors();
    let labels = anchors.labels.take().unwrap()[0].clone();
    anchors.conditions = anchors
        .conditions
        .iter()
        .map(|x| Array2::zeros((x.nrows(), 0)))
        .collect();
    anchors.encoding = ConditionEncoding::None;
    let linear = LinearInterpolation::fit(&anchors).unwrap();
    let prediction = linear
        .predict(0.75, anchors.samples[0].view(), &ConditionView::None)
        .unwrap();
    let error = mean_error(&prediction, &labels, 0.75);
    println!("unlabelled linear interpolation: t=0.75 class-mean error {error:.4}");
    assert!(error > 0.3, "class-mean error without labels: {error}");
}

#[test]
fn linear_interpolation_couples_continuous_conditions_jointly() {
    // Instance-paired rows: row i has the same condition x_i at both anchors and moves by +1.
    let n = 60;
    let x: Array2<f32> = Array2::from_shape_fn((n, 1), |(i, _)| i as f32 / 10.0);
    let y0: Array2<f32> = Array2::from_shape_fn((n, 1), |(i, _)| ((i * 7) % 13) as f32 / 13.0);
    let y1 = &y0 + 1.0;
    let anchors = Anchors {
        times: vec![0.0, 2.0],
        samples: vec![y0.clone(), y1.clone()],
        conditions: vec![x.clone(), x.clone()],
        labels: None,
        encoding: ConditionEncoding::Continuous { dim: 1 },
    };
    // A weight of 10 makes a condition mismatch cost far more than any output difference.
    let linear = LinearInterpolation::fit_with_condition_weight(&anchors, 10.0).unwrap();
    let prediction = linear
        .predict(0.5, y0.view(), &ConditionView::Continuous(x.view()))
        .unwrap();
    let expected = &y0 + 0.25;
    let worst = (&prediction - &expected)
        .iter()
        .fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(
        worst < 1e-5,
        "largest deviation from the paired interpolation: {worst}"
    );
    assert!(matches!(
        LinearInterpolation::fit_with_condition_weight(&anchors, f32::NAN),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn linear_interpolation_handles_anchors_of_different_sizes() {
    let (y0, l0) = crossing_gaussians(1, 0.0, 30);
    let (y1, l1) = crossing_gaussians(2, 1.0, 20);
    let anchors = Anchors {
        times: vec![0.0, 1.0],
        samples: vec![y0.clone(), y1.clone()],
        conditions: vec![one_hot(&l0), one_hot(&l1)],
        labels: Some(vec![l0.clone(), l1.clone()]),
        encoding: ConditionEncoding::Categorical { num_categories: 2 },
    };
    let linear = LinearInterpolation::fit(&anchors).unwrap();
    let end = linear
        .predict(1.0, y0.view(), &ConditionView::Categorical(l0.view()))
        .unwrap();
    // Every start sample ends on a sample of the last anchor with its own label.
    for (row, &c) in end.rows().into_iter().zip(&l0) {
        let j = (0..y1.nrows())
            .find(|&j| y1.row(j) == row)
            .expect("lands on an anchor sample");
        assert_eq!(l1[j], c);
    }
}

#[test]
fn linear_interpolation_rejects_bad_queries_with_typed_errors() {
    let anchors = labelled_anchors();
    let linear = LinearInterpolation::fit(&anchors).unwrap();
    let labels = anchors.labels.as_ref().unwrap()[0].clone();
    let cond = ConditionView::Categorical(labels.view());
    let start = anchors.samples[0].clone();
    assert!(matches!(
        linear.predict(1.5, start.view(), &cond),
        Err(Error::OutOfRange { .. })
    ));
    assert!(matches!(
        linear.predict(f32::NAN, start.view(), &cond),
        Err(Error::OutOfRange { .. })
    ));
    let mut nan_start = start.clone();
    nan_start[[3, 1]] = f32::NAN;
    assert!(matches!(
        linear.predict(0.3, nan_start.view(), &cond),
        Err(Error::NonFinite(_))
    ));
    let wide = Array2::<f32>::zeros((start.nrows(), 3));
    assert!(matches!(
        linear.predict(0.3, wide.view(), &cond),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        linear.predict(0.3, start.view(), &ConditionView::None),
        Err(Error::InvalidArgument(_))
    ));
    let unknown = Array1::from_elem(start.nrows(), 5i64);
    assert!(matches!(
        linear.predict(0.3, start.view(), &ConditionView::Categorical(unknown.view())),
        Err(Error::InvalidArgument(_))
    ));
    let short = labels.slice(ndarray::s![..10]).to_owned();
    assert!(matches!(
        linear.predict(0.3, start.view(), &ConditionView::Categorical(short.view())),
        Err(Error::Shape { .. })
    ));
}

#[test]
fn fitting_rejects_inconsistent_anchors() {
    let good = labelled_anchors();
    let mut nan = good.clone();
    nan.samples[1][[0, 0]] = f32::NAN;
    assert!(matches!(LinearInterpolation::fit(&nan), Err(Error::NonFinite(_))));
    let mut narrow = good.clone();
    narrow.conditions[2] = Array2::zeros((2 * PER_CLASS, 1));
    assert!(matches!(
        LinearInterpolation::fit(&narrow),
        Err(Error::Shape { .. })
    ));
    let mut unsorted = good.clone();
    unsorted.times = vec![0.0, 1.0, 0.5];
    assert!(matches!(
        DirectRegression::fit(&unsorted, &RegressionSettings::default()),
        Err(Error::UnsortedAnchors(_))
    ));
    let mut mislabelled = good.clone();
    mislabelled.labels.as_mut().unwrap()[0][0] = 1;
    assert!(matches!(
        FlowMatching::fit(&mislabelled, &FlowMatchingSettings::default()),
        Err(Error::InvalidArgument(_))
    ));
    // A class that vanishes at a later anchor cannot be coupled.
    let mut missing = good.clone();
    missing.conditions[1] = array![[1.0f32, 0.0]]
        .broadcast((2 * PER_CLASS, 2))
        .unwrap()
        .to_owned();
    missing.labels = None;
    assert!(matches!(
        LinearInterpolation::fit(&missing),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        FlowMatching::fit(&good, &FlowMatchingSettings::default().iterations(0)),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        DirectRegression::fit(&good, &RegressionSettings::default().learning_rate(-1.0)),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn direct_regression_predicts_the_mean_between_anchors() {
    let anchors = labelled_anchors();
    let regression = DirectRegression::fit(&anchors, &RegressionSettings::default()).unwrap();
    let (start, labels) = crossing_gaussians(99, 0.0, PER_CLASS);
    let cond = ConditionView::Categorical(labels.view());
    for t in [0.25, 0.5, 0.75] {
        let prediction = regression.predict(t, start.view(), &cond).unwrap();
        let error = mean_error(&prediction, &labels, t);
        println!("direct regression: t={t} mean error {error:.4}");
        assert!(error < 0.1, "t={t}: mean error {error}");
    }
    assert!(matches!(
        regression.predict(-0.1, start.view(), &cond),
        Err(Error::OutOfRange { .. })
    ));
    let x = Array2::<f32>::zeros((start.nrows(), 2));
    assert!(matches!(
        regression.predict(0.5, start.view(), &ConditionView::Continuous(x.view())),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn flow_matching_predicts_the_mean_and_spread_between_anchors() {
    let anchors = labelled_anchors();
    let cfm = FlowMatching::fit(&anchors, &FlowMatchingSettings::default()).unwrap();
    let (start, labels) = crossing_gaussians(99, 0.0, PER_CLASS);
    let cond = ConditionView::Categorical(labels.view());
    assert_eq!(cfm.predict(0.0, start.view(), &cond).unwrap(), start);
    for t in [0.25, 0.5, 0.75] {
        let prediction = cfm.predict(t, start.view(), &cond).unwrap();
        let error = mean_error(&prediction, &labels, t);
        let spread: Vec<f32> = (0..2)
            .flat_map(|c| class_std(&prediction, &labels, c).to_vec())
            .collect();
        println!("CFM: t={t} mean error {error:.4}, std {spread:?}");
        assert!(error < 0.1, "t={t}: mean error {error}");
        assert!(
            spread.iter().all(|&s| (s - STD).abs() < 0.05),
            "t={t}: std {spread:?}"
        );
    }
    assert!(matches!(
        cfm.predict(1.01, start.view(), &cond),
        Err(Error::OutOfRange { .. })
    ));
    assert!(matches!(
        cfm.predict(0.5, start.view(), &ConditionView::None),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn network_fits_are_deterministic_given_a_seed() {
    let anchors = labelled_anchors();
    let (start, labels) = crossing_gaussians(7, 0.0, 50);
    let cond = ConditionView::Categorical(labels.view());
    let regression = |seed| {
        let settings = RegressionSettings::default().iterations(100).seed(seed);
        DirectRegression::fit(&anchors, &settings)
            .unwrap()
            .predict(0.3, start.view(), &cond)
            .unwrap()
    };
    assert_eq!(regression(3), regression(3));
    assert_ne!(regression(3), regression(4));
    let cfm = |seed| {
        let settings = FlowMatchingSettings::default().iterations(100).seed(seed);
        FlowMatching::fit(&anchors, &settings)
            .unwrap()
            .predict(0.3, start.view(), &cond)
            .unwrap()
    };
    assert_eq!(cfm(3), cfm(3));
    assert_ne!(cfm(3), cfm(4));
}

/// `per_class` samples per class on the unit circle at time `t`: class 0 at angle πt + noise
/// (upper arc), class 1 at −πt + noise (lower arc), radius 1 + N(0, 0.02²).
fn arc_samples(seed: u64, t: f32, per_class: usize) -> (Array2<f32>, Array1<i64>) {
    let mut r = rng(seed);
    let angle_noise = Normal::new(0.0f32, 0.3).unwrap();
    let radius_noise = Normal::new(0.0f32, 0.02).unwrap();
    let labels: Array1<i64> = (0..2 * per_class).map(|i| (i / per_class) as i64).collect();
    let mut y = Array2::zeros((2 * per_class, 2));
    for (mut row, &c) in y.rows_mut().into_iter().zip(&labels) {
        let sign = if c == 0 { 1.0 } else { -1.0 };
        let a = sign * std::f32::consts::PI * t + angle_noise.sample(&mut r);
        let radius = 1.0 + radius_noise.sample(&mut r);
        row[0] = radius * a.cos();
        row[1] = radius * a.sin();
    }
    (y, labels)
}

/// Mean distance of the predictions to the unit circle.
fn off_circle(y: &Array2<f32>) -> f32 {
    y.rows()
        .into_iter()
        .map(|r| ((r[0] * r[0] + r[1] * r[1]).sqrt() - 1.0).abs())
        .sum::<f32>()
        / y.nrows() as f32
}

#[test]
fn metric_flow_matching_keeps_predictions_nearer_the_data_arc_than_cfm() {
    // Straight interpolation between anchors a quarter turn apart cuts the chord, which misses
    // the unit circle by up to 1 − cos(π/4) ≈ 0.29; MFM's LAND-metric curves bend back to the data.
    let clouds: Vec<_> = TIMES
        .iter()
        .enumerate()
        .map(|(k, &t)| arc_samples(40 + k as u64, t, 150))
        .collect();
    let anchors = Anchors {
        times: TIMES.to_vec(),
        samples: clouds.iter().map(|(y, _)| y.clone()).collect(),
        conditions: clouds.iter().map(|(_, l)| one_hot(l)).collect(),
        labels: Some(clouds.iter().map(|(_, l)| l.clone()).collect()),
        encoding: ConditionEncoding::Categorical { num_categories: 2 },
    };
    let flow = FlowMatchingSettings::default().iterations(800);
    let cfm = FlowMatching::fit(&anchors, &flow).unwrap();
    let mfm = MetricFlowMatching::fit(
        &anchors,
        &MetricFlowMatchingSettings::default()
            .flow(flow)
            .interpolant_iterations(600),
    )
    .unwrap();
    assert!(mfm.interpolant_losses().last().unwrap() < mfm.interpolant_losses().first().unwrap());
    let (start, labels) = arc_samples(99, 0.0, 100);
    let cond = ConditionView::Categorical(labels.view());
    for t in [0.25f32, 0.75] {
        let c = off_circle(&cfm.predict(t, start.view(), &cond).unwrap());
        let m = off_circle(&mfm.predict(t, start.view(), &cond).unwrap());
        eprintln!("t = {t}: mean distance to the circle CFM {c:.4}, MFM {m:.4}");
        assert!(
            m < 0.75 * c,
            "t = {t}: MFM {m} not clearly nearer the circle than CFM {c}"
        );
    }
    assert!(matches!(
        MetricFlowMatching::fit(&anchors, &MetricFlowMatchingSettings::default().gamma(f32::NAN)),
        Err(Error::InvalidArgument(_))
    ));
}

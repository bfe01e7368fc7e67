//! CLOT (HTI) end to end on small synthetic anchors: the surrogate lands between the anchors where
//! the truth is, fits are deterministic, a saved surrogate predicts exactly as the fitted one, every
//! variant trains, and bad settings or queries are typed errors.

use lagrangian_ot::data::{AnchoredDataset, Condition, ConditionView};
use lagrangian_ot::progress::ProgressMode;
use lagrangian_ot::solver::{Hti, HtiPreset, HtiVariant};
use lagrangian_ot::surrogate::Surrogate;
use lagrangian_ot::Error;
use ndarray::{Array1, Array2, Array3, Axis};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

/// Two labelled clouds (std 0.1): class 0 at (2t, 0), class 1 at (−2t, 1), at t = 0, 0.5, 1.
fn dataset(dim: usize) -> AnchoredDataset {
    let mut r = rand::rngs::StdRng::seed_from_u64(11);
    let noise = Normal::new(0.0f32, 0.1).unwrap();
    let (k, n) = (3, 80);
    let mut y = Array3::zeros((k, n, dim));
    for a in 0..k {
        let t = a as f32 / 2.0;
        for i in 0..n {
            let mean = if i % 2 == 0 {
                [2.0 * t, 0.0]
            } else {
                [-2.0 * t, 1.0]
            };
            for j in 0..dim {
                y[[a, i, j]] = mean.get(j).copied().unwrap_or(0.0) + noise.sample(&mut r);
            }
        }
    }
    let labels = Array2::from_shape_fn((k, n), |(_, i)| (i % 2) as i64);
    AnchoredDataset::new(
        y,
        Condition::Categorical(labels),
        Array1::from(vec![0.0, 0.5, 1.0]),
    )
    .unwrap()
}

fn class_means(points: &Array2<f32>, labels: &Array1<i64>) -> Vec<Array1<f32>> {
    (0..2)
        .map(|c| {
            let rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
            points.select(Axis(0), &rows).mean_axis(Axis(0)).unwrap()
        })
        .collect()
}

fn quick(variant: HtiVariant, iterations: usize, seed: u64) -> lagrangian_ot::solver::HtiBuilder {
    Hti::builder()
        .data(&dataset(2))
        .preset(HtiPreset::Quick)
        .variant(variant)
        .iterations(iterations)
        .seed(seed)
        .progress(ProgressMode::Silent)
}

#[test]
fn euclidean_clot_interpolates_the_moving_clouds() {
    let model = quick(HtiVariant::Euclidean, 150, 0)
        .build()
        .unwrap()
        .fit()
        .unwrap();
    let s = model.surrogate();
    let labels = Array1::from_shape_fn(100, |i| (i % 2) as i64);
    let cond = ConditionView::Categorical(labels.view());
    // Held-out t = 0.25 (inside the first interval) and t = 0.75 (after chaining T_0).
    for (t, want) in [
        (0.25f32, [[0.5f32, 0.0], [-0.5, 1.0]]),
        (0.75, [[1.5, 0.0], [-1.5, 1.0]]),
    ] {
        let samples = s.sample(t, &cond, 100, 1).unwrap();
        for (c, mean) in class_means(&samples, &labels).iter().enumerate() {
            let err = ((mean[0] - want[c][0]).powi(2) + (mean[1] - want[c][1]).powi(2)).sqrt();
            // Not moving at all would be off by 0.5 (t = 0.25) or 1.5 (t = 0.75).
            assert!(err < 0.25, "t = {t}, class {c}: mean {mean} vs {:?}", want[c]);
        }
    }
    // At an anchor the path is not read: t = 1 is T_1(T_0(y)).
    let at_end = s.sample(1.0, &cond, 100, 1).unwrap();
    let means = class_means(&at_end, &labels);
    assert!(
        (means[0][0] - 2.0).abs() < 0.3 && (means[1][0] + 2.0).abs() < 0.3,
        "{means:?}"
    );
    assert!(model.history().dual_objective.iter().all(|v| v.is_finite()));
}

#[test]
fn fits_are_deterministic_and_saved_surrogates_predict_identically() {
    let fit = |seed| {
        quick(HtiVariant::EuclideanDensity, 8, seed)
            .build()
            .unwrap()
            .fit()
            .unwrap()
    };
    let (a, b, other) = (fit(3), fit(3), fit(4));
    let (pa, rows) = a.surrogate().sample_at(0.6, 50, 2).unwrap();
    let (pb, _) = b.surrogate().sample_at(0.6, 50, 2).unwrap();
    let (po, _) = other.surrogate().sample_at(0.6, 50, 2).unwrap();
    assert_eq!(pa, pb);
    assert_ne!(pa, po);
    assert_eq!(rows.len(), 50);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("surrogate");
    a.surrogate().save(&path).unwrap();
    a.surrogate().save(&path).unwrap(); // replacing an existing folder
    let loaded = lagrangian_ot::surrogate::HtiSurrogate::load(&path).unwrap();
    let (pl, _) = loaded.sample_at(0.6, 50, 2).unwrap();
    assert_eq!(pa, pl);
    assert_eq!(loaded.anchor_times(), a.surrogate().anchor_times());
    std::fs::remove_file(path.join("map_1.npz")).unwrap();
    assert!(matches!(
        lagrangian_ot::surrogate::HtiSurrogate::load(&path),
        Err(Error::Checkpoint { .. }) | Err(Error::Io(_)) | Err(Error::Npy(_))
    ));
}

/// Inference runs on host copies of the networks in parallel blocks, with the amortiser's last layer
/// folded into the spline read: it must give the reference path's predictions (dfdx networks, full
/// spline parameters, spline evaluated afterwards) at times inside both intervals and at an anchor,
/// for more rows than one parallel block holds.
#[test]
fn host_inference_equals_the_reference_prediction() {
    let model = quick(HtiVariant::LearnedDensity, 6, 2)
        .build()
        .unwrap()
        .fit()
        .unwrap();
    let s = model.surrogate();
    let n = 5000;
    let start = Array2::from_shape_fn((n, 2), |(i, j)| ((i * 7 + j * 3) % 101) as f32 / 50.0 - 1.0);
    let cond = Array2::from_shape_fn((n, 2), |(i, c)| if i % 2 == c { 1.0 } else { 0.0 });
    for t in [0.1f32, 0.25, 0.5, 0.8, 1.0] {
        let host = s.predict_encoded(t, start.view(), &cond).unwrap();
        let reference = s.predict_encoded_reference(t, start.view(), &cond).unwrap();
        let err = (&host - &reference).mapv(f32::abs).fold(0.0f32, |a, &b| a.max(b));
        assert!(err < 1e-4, "t = {t}: max |host − reference| = {err}");
    }
    assert!(s
        .predict_encoded(0.5, start.view(), &cond.slice(ndarray::s![.., ..1]).to_owned())
        .is_err());
}

#[test]
fn learned_metric_variants_train_and_update_the_metric() {
    for variant in [HtiVariant::LearnedDensity, HtiVariant::FixedEigen] {
        let model = quick(variant, 12, 0).build().unwrap().fit().unwrap();
        let h = model.history();
        assert_eq!(h.metric_steps, vec![0, 10], "{variant:?}");
        assert!(h.metric_loss.iter().all(|v| v.is_finite()));
        let q = Array2::from_shape_fn((5, 2), |(i, j)| (i + j) as f32 * 0.1);
        let cond = Array2::from_shape_fn((5, 2), |(_, j)| if j == 0 { 1.0 } else { 0.0 });
        let m = model
            .metric_matrices(&q, Some(&cond))
            .unwrap()
            .expect("a learned metric");
        for i in 0..5 {
            let (a, b, c) = (m[[i, 0, 0]], m[[i, 0, 1]], m[[i, 1, 1]]);
            let trace = a + c;
            let det = a * c - b * b;
            // Eigenvalues: budget form 0.1 + 0.9 w (trace 1.1), fixed form {1, 0.1} (trace 1.1, det 0.1).
            assert!(
                (trace - 1.1).abs() < 1e-4 && det > 0.0,
                "{variant:?}: trace {trace}, det {det}"
            );
        }
    }
    let plain = quick(HtiVariant::Euclidean, 3, 0).build().unwrap().fit().unwrap();
    assert!(plain.history().metric_steps.is_empty());
}

#[test]
fn bad_settings_and_queries_are_typed_errors() {
    assert!(matches!(Hti::builder().build(), Err(Error::InvalidArgument(_))));
    let three_d = Hti::builder()
        .data(&dataset(3))
        .variant(HtiVariant::FixedEigen)
        .build();
    assert!(matches!(three_d, Err(Error::InvalidArgument(_))));
    assert!(matches!(
        quick(HtiVariant::Euclidean, 0, 0).build(),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        Hti::builder().data(&dataset(2)).anchors(&[0]).build(),
        Err(Error::InvalidArgument(_))
    ));
    let mut config = lagrangian_ot::solver::HtiConfig::preset(HtiPreset::Fast, HtiVariant::Euclidean);
    config.potential_lr_final = Some(f64::NAN);
    assert!(matches!(
        Hti::builder().data(&dataset(2)).config(config).build(),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        Hti::builder().data(&dataset(2)).anchors(&[2, 0]).build(),
        Err(Error::UnsortedAnchors(_))
    ));
    let model = quick(HtiVariant::Euclidean, 2, 0).build().unwrap().fit().unwrap();
    let s = model.surrogate();
    let labels = Array1::from(vec![0i64, 1]);
    let start = Array2::zeros((2, 2));
    assert!(matches!(
        s.predict(1.5, start.view(), &ConditionView::Categorical(labels.view())),
        Err(Error::OutOfRange { .. })
    ));
    let unknown = Array1::from(vec![0i64, 2]);
    assert!(matches!(
        s.predict(0.5, start.view(), &ConditionView::Categorical(unknown.view())),
        Err(Error::InvalidArgument(_))
    ));
    assert!(s.predict(0.5, start.view(), &ConditionView::None).is_err());
    let nan = Array2::from_elem((2, 2), f32::NAN);
    assert!(s
        .predict(0.5, nan.view(), &ConditionView::Categorical(labels.view()))
        .is_err());
}

/// Continuous conditions: samples with condition x ∈ [−1, 1] move by 2·x·t along the first axis; the
/// surrogate must carry each sample by its own condition (rows are aligned across anchors).
#[test]
fn continuous_conditions_steer_the_transport() {
    let mut r = rand::rngs::StdRng::seed_from_u64(5);
    let noise = Normal::new(0.0f32, 0.05).unwrap();
    let (k, n) = (2, 120);
    let x = Array3::from_shape_fn((k, n, 1), |(_, i, _)| -1.0 + 2.0 * i as f32 / (n - 1) as f32);
    let mut y = Array3::zeros((k, n, 2));
    for a in 0..k {
        for i in 0..n {
            y[[a, i, 0]] = 2.0 * x[[a, i, 0]] * a as f32 + noise.sample(&mut r);
            y[[a, i, 1]] = noise.sample(&mut r);
        }
    }
    let data =
        AnchoredDataset::new(y, Condition::Continuous(x.clone()), Array1::from(vec![0.0, 1.0])).unwrap();
    let model = Hti::builder()
        .data(&data)
        .preset(HtiPreset::Quick)
        .variant(HtiVariant::Euclidean)
        .iterations(200)
        .progress(ProgressMode::Silent)
        .build()
        .unwrap()
        .fit()
        .unwrap();
    let cond = Array2::from_shape_fn((9, 1), |(i, _)| -0.8 + 0.2 * i as f32);
    let start = Array2::zeros((9, 2));
    let at_half = model
        .surrogate()
        .predict(0.5, start.view(), &ConditionView::Continuous(cond.view()))
        .unwrap();
    let mut worst = 0.0f32;
    for i in 0..9 {
        worst = worst.max((at_half[[i, 0]] - cond[[i, 0]]).abs());
    }
    // Ignoring the condition would move every row by the same amount: an error of up to 0.8.
    assert!(
        worst < 0.25,
        "largest error of the x-dependent shift at t = 0.5: {worst}\n{at_half}"
    );
}

//! `lot hti fit|sample` on a user's own dataset folder: a fit on two of three slices predicts the
//! held-out middle one, and bad input ends with a one-line error and a non-zero exit.

use lagrangian_ot::data::{AnchoredDataset, Condition};
use ndarray::{Array1, Array2, Array3};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use std::path::Path;
use std::process::{Command, Output};

fn lot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lot"))
        .args(args)
        .output()
        .unwrap()
}

/// Two labelled Gaussian clouds (std 0.1) whose means move linearly in the hyperparameter λ:
/// class 0 at (λ, 0), class 1 at (−λ, 1); slices at λ = `lambdas`, 80 points per slice.
fn write_dataset(dir: &Path, lambdas: &[f32], nan: bool) {
    let mut r = rand::rngs::StdRng::seed_from_u64(7);
    let noise = Normal::new(0.0f32, 0.1).unwrap();
    let n = 80;
    let mut y = Array3::zeros((lambdas.len(), n, 2));
    let labels = Array2::from_shape_fn((lambdas.len(), n), |(_, i)| (i % 2) as i64);
    for (k, &lambda) in lambdas.iter().enumerate() {
        for i in 0..n {
            let (mx, my) = if i % 2 == 0 { (lambda, 0.0) } else { (-lambda, 1.0) };
            y[[k, i, 0]] = mx + noise.sample(&mut r);
            y[[k, i, 1]] = my + noise.sample(&mut r);
        }
    }
    let sorted: Vec<f32> = (0..lambdas.len()).map(|k| k as f32).collect();
    AnchoredDataset::new(y.clone(), Condition::Categorical(labels), Array1::from(sorted))
        .unwrap()
        .save(dir)
        .unwrap();
    // Files as a user might write them, bypassing the checks of `AnchoredDataset::new`.
    if nan {
        y[[1, 3, 0]] = f32::NAN;
        ndarray_npy::write_npy(dir.join("y.npy"), &y).unwrap();
    }
    ndarray_npy::write_npy(dir.join("hyperparam.npy"), &Array1::from(lambdas.to_vec())).unwrap();
    let _ = std::fs::remove_file(dir.join("manifest.json"));
}

fn assert_one_line_error(out: &Output, needle: &str) {
    assert!(!out.status.success(), "expected a failure mentioning '{needle}'");
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected, got:\n{err}");
    assert!(
        lines[0].to_lowercase().contains(needle),
        "'{needle}' not in: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn fit_on_the_outer_slices_predicts_the_middle_one() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, model) = (tmp.path().join("data"), tmp.path().join("model"));
    write_dataset(&data, &[0.0, 1.0, 2.0], false);
    let out = lot(&[
        "hti",
        "fit",
        "--data",
        data.to_str().unwrap(),
        "--anchors",
        "0,2",
        "--variant",
        "ki",
        "--preset",
        "quick",
        "--iterations",
        "150",
        "--save",
        model.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let labels = tmp.path().join("labels.npy");
    ndarray_npy::write_npy(&labels, &Array1::from_shape_fn(200, |i| (i % 2) as i64)).unwrap();
    let samples_path = tmp.path().join("at1.npy");
    let out = lot(&[
        "hti",
        "sample",
        "--model",
        model.to_str().unwrap(),
        "--at",
        "1.0",
        "--cond",
        labels.to_str().unwrap(),
        "--out",
        samples_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let samples: Array2<f32> = ndarray_npy::read_npy(&samples_path).unwrap();
    assert_eq!(samples.dim(), (200, 2));
    // Start and end of the interval are 2 apart; a map that did not learn leaves the class means at
    // (0, 0) and (0, 1), an error of 1.
    for (class, want) in [(0usize, [1.0f32, 0.0]), (1, [-1.0, 1.0])] {
        let rows: Vec<usize> = (class..200).step_by(2).collect();
        let mean = samples
            .select(ndarray::Axis(0), &rows)
            .mean_axis(ndarray::Axis(0))
            .unwrap();
        let err = ((mean[0] - want[0]).powi(2) + (mean[1] - want[1]).powi(2)).sqrt();
        assert!(err < 0.3, "class {class}: mean {mean} vs {want:?} (error {err})");
    }

    // One label row repeated --n times.
    let one = tmp.path().join("one.npy");
    ndarray_npy::write_npy(&one, &Array1::from(vec![1i64])).unwrap();
    let out = lot(&[
        "hti",
        "sample",
        "--model",
        model.to_str().unwrap(),
        "--at",
        "2",
        "--cond",
        one.to_str().unwrap(),
        "--n",
        "30",
        "--out",
        samples_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let samples: Array2<f32> = ndarray_npy::read_npy(&samples_path).unwrap();
    assert_eq!(samples.dim(), (30, 2));

    // Bad queries against the saved model.
    let m = model.to_str().unwrap();
    let o = samples_path.to_str().unwrap();
    assert_one_line_error(
        &lot(&[
            "hti",
            "sample",
            "--model",
            m,
            "--at",
            "2.5",
            "--cond",
            one.to_str().unwrap(),
            "--out",
            o,
        ]),
        "outside",
    );
    let unknown = tmp.path().join("unknown.npy");
    ndarray_npy::write_npy(&unknown, &Array1::from(vec![0i64, 5])).unwrap();
    assert_one_line_error(
        &lot(&[
            "hti",
            "sample",
            "--model",
            m,
            "--at",
            "1",
            "--cond",
            unknown.to_str().unwrap(),
            "--out",
            o,
        ]),
        "label",
    );
    assert_one_line_error(
        &lot(&["hti", "sample", "--model", m, "--at", "1", "--out", o]),
        "--cond",
    );
    let missing = tmp.path().join("nowhere");
    assert_one_line_error(
        &lot(&[
            "hti",
            "sample",
            "--model",
            missing.to_str().unwrap(),
            "--at",
            "1",
            "--out",
            o,
        ]),
        "surrogate.json",
    );
}

#[test]
fn bad_datasets_and_anchor_choices_are_one_line_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let save = tmp.path().join("model");
    let fit = |data: &Path, anchors: &str| {
        lot(&[
            "hti",
            "fit",
            "--data",
            data.to_str().unwrap(),
            "--anchors",
            anchors,
            "--variant",
            "ki",
            "--preset",
            "quick",
            "--iterations",
            "2",
            "--save",
            save.to_str().unwrap(),
        ])
    };
    let good = tmp.path().join("good");
    write_dataset(&good, &[0.0, 1.0, 2.0], false);
    assert_one_line_error(&fit(&good, "0"), "at least 2");
    assert_one_line_error(&fit(&good, "0,7"), "anchor 7");
    assert_one_line_error(&fit(&good, "2,0"), "increasing");
    let dup = tmp.path().join("dup");
    write_dataset(&dup, &[0.0, 1.0, 1.0], false);
    assert_one_line_error(&fit(&dup, "1,2"), "increasing");
    let nan = tmp.path().join("nan");
    write_dataset(&nan, &[0.0, 1.0, 2.0], true);
    assert_one_line_error(&fit(&nan, "0,1"), "nan");
    let mismatch = tmp.path().join("mismatch");
    write_dataset(&mismatch, &[0.0, 1.0, 2.0], false);
    ndarray_npy::write_npy(mismatch.join("hyperparam.npy"), &Array1::from(vec![0.0f32, 1.0])).unwrap();
    assert_one_line_error(&fit(&mismatch, "0,1"), "hyperparam");
    let bad_variant = lot(&[
        "hti",
        "fit",
        "--data",
        good.to_str().unwrap(),
        "--variant",
        "kz",
        "--save",
        save.to_str().unwrap(),
    ]);
    assert_one_line_error(&bad_variant, "unknown hti variant");
}

//! AnchoredDataset: the shared datasets load with the shapes their manifests state, malformed
//! folders give typed errors, and save → load is lossless.
//!
//! Needs the shared data folder (`LOT_SHARED_DATA`, or `../shared/data`).

use lagrangian_ot::data::{
    resolve_shared_data_dir, AnchoredDataset, Condition, ConditionView, SHARED_DATA_ENV,
};
use lagrangian_ot::plot::Plot;
use lagrangian_ot::Error;
use ndarray::{s, Array1, Array2, Array3};
use ndarray_npy::write_npy;
use serde_json::json;

#[test]
fn semicircle_loads_with_labels_and_time_points() {
    let ds = AnchoredDataset::load_shared("semicircle").unwrap();
    assert_eq!(ds.y().shape(), &[3, 400, 2]);
    assert_eq!((ds.num_anchors(), ds.num_samples(), ds.dim()), (3, 400, 2));
    assert_eq!(ds.hyperparam().to_vec(), vec![0.0, 0.5, 1.0]);
    let Condition::Categorical(labels) = ds.condition() else {
        panic!("semicircle is categorical")
    };
    assert_eq!(labels.shape(), &[3, 400]);
    assert!(labels.iter().all(|&c| (0..4).contains(&c)));
    // Rows 100c..100c+99 carry condition c (manifest).
    assert_eq!((labels[[1, 0]], labels[[1, 150]], labels[[2, 399]]), (0, 1, 3));
    let m = ds.manifest();
    assert_eq!(
        (m.dim, m.cond_dim, m.categorical, m.num_categories),
        (2, 1, true, Some(4))
    );
    assert_eq!(ds.training_anchors(), &[0, 1, 2]);
    assert_eq!(ds.time_points(), &[0.0, 0.5, 1.0]);
    assert_eq!(ds.anchor(1).unwrap(), ds.y().slice(s![1, .., ..]));
    assert!(matches!(ds.anchor(3), Err(Error::InvalidArgument(_))));
    let ConditionView::Categorical(row) = ds.condition_at(2).unwrap() else {
        panic!()
    };
    assert_eq!(row, labels.slice(s![2, ..]));
    assert!(
        m.raw.get("generator").is_some(),
        "untyped manifest fields are kept"
    );
}

#[test]
fn dropout_reads_the_alternative_time_point_key() {
    let ds = AnchoredDataset::load_shared("dropout").unwrap();
    assert_eq!(ds.y().shape(), &[11, 1000, 2]);
    assert_eq!(ds.training_anchors(), &[0, 5, 10]);
    assert_eq!(ds.time_points(), &[0.0, 0.5, 1.0]);
    assert!((ds.hyperparam()[10] - 0.99).abs() < 1e-6);
    let Condition::Categorical(labels) = ds.condition() else {
        panic!("dropout is categorical")
    };
    assert_eq!((labels[[4, 499]], labels[[4, 500]]), (0, 1));
}

#[test]
fn cancer_has_a_continuous_condition() {
    let ds = AnchoredDataset::load_shared("cancer").unwrap();
    let Condition::Continuous(x) = ds.condition() else {
        panic!("cancer is continuous")
    };
    assert_eq!(x.shape(), &[11, 7930, 7]);
    assert_eq!(ds.manifest().cond_dim, 7);
    // The states are identical across policies (manifest).
    assert_eq!(x.slice(s![0, .., ..]), x.slice(s![10, .., ..]));
}

#[test]
fn missing_shared_data_names_the_variable() {
    let err = resolve_shared_data_dir(Some("/definitely/not/here".into())).unwrap_err();
    match err {
        Error::MissingSharedData { var, path } => {
            assert_eq!(var, SHARED_DATA_ENV);
            assert_eq!(var, "LOT_SHARED_DATA");
            assert_eq!(path, std::path::PathBuf::from("/definitely/not/here"));
        }
        other => panic!("wrong error {other:?}"),
    }
    assert!(err_text_mentions_var());
    assert!(matches!(
        AnchoredDataset::load_shared("no_such_dataset"),
        Err(Error::MissingSharedData { .. })
    ));
}

fn err_text_mentions_var() -> bool {
    resolve_shared_data_dir(Some("/nope".into()))
        .unwrap_err()
        .to_string()
        .contains("LOT_SHARED_DATA")
}

fn write_folder(
    dir: &std::path::Path,
    y: &Array3<f32>,
    hyperparam: &Array1<f32>,
    manifest: serde_json::Value,
) {
    write_npy(dir.join("y.npy"), y).unwrap();
    write_npy(dir.join("hyperparam.npy"), hyperparam).unwrap();
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
}

fn assert_dataset_error(dir: &std::path::Path, needle: &str) {
    match AnchoredDataset::load(dir) {
        Err(Error::Dataset { reason, .. }) => {
            assert!(reason.contains(needle), "reason '{reason}' lacks '{needle}'")
        }
        other => panic!("expected a Dataset error mentioning '{needle}', got {other:?}"),
    }
}

#[test]
fn inconsistent_folders_give_dataset_errors() {
    let y = Array3::<f32>::zeros((3, 10, 2));
    let h = Array1::from(vec![0.0f32, 0.5, 1.0]);

    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path(), &y, &Array1::from(vec![0.0f32, 1.0]), json!({}));
    assert_dataset_error(dir.path(), "hyperparam has 2 values");

    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path(), &y, &h, json!({}));
    write_npy(dir.path().join("label.npy"), &Array2::<i64>::zeros((3, 9))).unwrap();
    assert_dataset_error(dir.path(), "label must have shape [3, 10]");

    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path(), &y, &h, json!({"D": 3}));
    assert_dataset_error(dir.path(), "D = 3");

    let dir = tempfile::tempdir().unwrap();
    write_folder(
        dir.path(),
        &y,
        &h,
        json!({"anchors_used_for_training": [0, 2], "clot_time_points": [0.0]}),
    );
    assert_dataset_error(dir.path(), "1 time points for 2 training anchors");

    let dir = tempfile::tempdir().unwrap();
    write_folder(
        dir.path(),
        &y,
        &h,
        json!({"categorical": true, "num_categories": 2}),
    );
    write_npy(
        dir.path().join("label.npy"),
        &Array2::<i64>::from_elem((3, 10), 2),
    )
    .unwrap();
    assert_dataset_error(dir.path(), "num_categories = 2");

    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path(), &y, &h, json!({}));
    write_npy(dir.path().join("x.npy"), &Array3::<f32>::zeros((3, 10, 1))).unwrap();
    write_npy(dir.path().join("label.npy"), &Array2::<i64>::zeros((3, 10))).unwrap();
    assert_dataset_error(dir.path(), "both x.npy and label.npy");

    // A wrongly typed array is a Dataset error naming the file.
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path(), &y, &h, json!({}));
    write_npy(dir.path().join("y.npy"), &Array3::<f64>::zeros((3, 10, 2))).unwrap();
    assert!(
        matches!(AnchoredDataset::load(dir.path()), Err(Error::Dataset { path, .. }) if path.ends_with("y.npy"))
    );

    assert!(matches!(
        AnchoredDataset::load(dir.path().join("absent")),
        Err(Error::Dataset { .. })
    ));
}

fn ramp(k: usize, n: usize, d: usize) -> Array3<f32> {
    Array3::from_shape_fn((k, n, d), |(a, i, j)| a as f32 + 0.01 * i as f32 - 0.5 * j as f32)
}

#[test]
fn save_then_load_round_trips() {
    let labels = Array2::from_shape_fn((4, 6), |(_, i)| (i % 3) as i64);
    let ds = AnchoredDataset::new(
        ramp(4, 6, 2),
        Condition::Categorical(labels),
        Array1::from(vec![1.0f32, 2.0, 3.0, 4.0]),
    )
    .unwrap()
    .with_training_anchors(&[0, 3], &[0.0, 1.0])
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("mine");
    ds.save(&folder).unwrap();
    let back = AnchoredDataset::load(&folder).unwrap();
    assert_eq!(back.y(), ds.y());
    assert_eq!(back.condition(), ds.condition());
    assert_eq!(back.hyperparam(), ds.hyperparam());
    assert_eq!(back.training_anchors(), &[0, 3]);
    assert_eq!(back.time_points(), &[0.0, 1.0]);
    assert_eq!(back.manifest().num_categories, Some(3));
    assert_eq!(back.name(), "mine");

    // Saving a continuous dataset into the same folder replaces the label file.
    let x = Array3::from_shape_fn((4, 6, 3), |(a, i, j)| (a * 100 + i * 10 + j) as f32);
    let continuous =
        AnchoredDataset::new(ramp(4, 6, 2), Condition::Continuous(x.clone()), Array1::zeros(4)).unwrap();
    continuous.save(&folder).unwrap();
    assert!(!folder.join("label.npy").exists());
    let back = AnchoredDataset::load(&folder).unwrap();
    assert_eq!(back.condition(), &Condition::Continuous(x));
    assert_eq!(back.manifest().cond_dim, 3);
    assert_eq!(back.time_points(), &[0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0]);
}

#[test]
fn new_validates_shapes_and_values() {
    let bad_x = Condition::Continuous(Array3::zeros((2, 5, 1)));
    assert!(matches!(
        AnchoredDataset::new(ramp(3, 5, 2), bad_x, Array1::zeros(3)),
        Err(Error::Dataset { .. })
    ));
    let negative = Condition::Categorical(Array2::from_elem((3, 5), -1));
    assert!(matches!(
        AnchoredDataset::new(ramp(3, 5, 2), negative, Array1::zeros(3)),
        Err(Error::Dataset { .. })
    ));
    let mut y = ramp(3, 5, 2);
    y[[1, 1, 1]] = f32::NAN;
    assert!(matches!(
        AnchoredDataset::new(y, Condition::None, Array1::zeros(3)),
        Err(Error::Dataset { .. })
    ));
}

#[test]
fn dataset_draws_one_panel_per_anchor() {
    let ds = AnchoredDataset::load_shared("semicircle").unwrap();
    let fig = ds.figure();
    assert_eq!(fig.num_panels(), 3);
    let svg = fig.to_svg().unwrap();
    assert_eq!(svg.lines().filter(|l| l.starts_with("<circle")).count(), 3 * 400);
    // Three-dimensional outputs draw their first two coordinates and say so.
    let ds3 = AnchoredDataset::new(ramp(2, 5, 3), Condition::None, Array1::zeros(2)).unwrap();
    assert!(ds3.figure().summary().contains("first 2 coordinates"));
    assert_eq!(
        ds3.to_svg()
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("<circle"))
            .count(),
        10
    );
}

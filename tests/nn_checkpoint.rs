//! `.npz` checkpoints: exact round trips, typed errors naming the first mismatch, atomic writes.

use lagrangian_ot::device::default_device;
use lagrangian_ot::nn::{load_params, save_params, Activation, Embedding, FilmMlp, Mlp, Trainable};
use lagrangian_ot::Error;
use ndarray::{Array2, Ix2, OwnedRepr};
use ndarray_npy::NpzReader;

fn probe() -> Array2<f32> {
    Array2::from_shape_fn((6, 3), |(r, c)| (r as f32 * 0.7 - c as f32 * 1.1).sin())
}

#[test]
fn round_trip_restores_identical_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlp.npz");
    let spec = Mlp::builder(3)
        .hidden(&[16, 8])
        .output(2)
        .activation(Activation::SiLU);
    let trained = spec.build(&default_device(1)).unwrap();
    trained.save(&path).unwrap();

    let mut fresh = spec.build(&default_device(2)).unwrap();
    assert_ne!(
        fresh.forward_array(&probe()).unwrap(),
        trained.forward_array(&probe()).unwrap()
    );
    fresh.load(&path).unwrap();
    assert_eq!(
        fresh.forward_array(&probe()).unwrap(),
        trained.forward_array(&probe()).unwrap()
    );

    // The archive is plain NumPy: param_000 is the first weight matrix, as stored.
    let mut reader = NpzReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    assert_eq!(reader.len(), 6);
    let w0: Array2<f32> = reader.by_name::<OwnedRepr<f32>, Ix2>("param_000").unwrap();
    assert_eq!(w0.dim(), (3, 16));
    assert_eq!(
        w0.iter().copied().collect::<Vec<_>>(),
        trained.params()[0].as_vec()
    );
    // No temporary file is left next to the checkpoint.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("mlp.npz")]);
}

#[test]
fn composite_models_round_trip_through_the_free_functions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pair.npz");
    let make = |seed| {
        let dev = default_device(seed);
        (
            FilmMlp::builder(3, 2).hidden(&[5]).build(&dev).unwrap(),
            Embedding::new(&dev, 4, 2).unwrap(),
        )
    };
    let original = make(10);
    save_params(&original, &path).unwrap();
    let mut restored = make(11);
    load_params(&mut restored, &path).unwrap();
    let flat = |m: &(FilmMlp, Embedding)| m.params().iter().flat_map(|p| p.as_vec()).collect::<Vec<f32>>();
    assert_eq!(flat(&restored), flat(&original));
}

fn checkpoint_reason(result: lagrangian_ot::Result<()>) -> String {
    match result {
        Err(Error::Checkpoint { reason, .. }) => reason,
        other => panic!("expected a checkpoint error, got {other:?}"),
    }
}

#[test]
fn mismatched_checkpoints_are_rejected_and_leave_the_model_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.npz");
    Mlp::builder(3)
        .hidden(&[8])
        .build(&default_device(0))
        .unwrap()
        .save(&path)
        .unwrap();

    let mut deeper = Mlp::builder(3).hidden(&[8, 8]).build(&default_device(1)).unwrap();
    let before = deeper.forward_array(&probe()).unwrap();
    let reason = checkpoint_reason(deeper.load(&path));
    assert!(
        reason.contains("4 arrays") && reason.contains("6 parameters"),
        "{reason}"
    );
    assert_eq!(deeper.forward_array(&probe()).unwrap(), before);

    // Same count, different width: the first differing parameter is named.
    let mut wider = Mlp::builder(3).hidden(&[9]).build(&default_device(1)).unwrap();
    let before = wider.forward_array(&probe()).unwrap();
    let reason = checkpoint_reason(wider.load(&path));
    assert!(
        reason.contains("param_000") && reason.contains("[3, 8]") && reason.contains("[3, 9]"),
        "{reason}"
    );
    assert_eq!(wider.forward_array(&probe()).unwrap(), before);

    // A different input width only shows up at the first weight too; a different output width at param_002.
    let mut other_output = Mlp::builder(3)
        .hidden(&[8])
        .output(2)
        .build(&default_device(1))
        .unwrap();
    assert!(checkpoint_reason(other_output.load(&path)).contains("param_002"));

    assert!(checkpoint_reason(wider.load(dir.path().join("missing.npz"))).contains("No such file"));
    let not_npz = dir.path().join("junk.npz");
    std::fs::write(&not_npz, b"not a zip archive").unwrap();
    checkpoint_reason(wider.load(&not_npz));
}

#[test]
fn saving_into_a_missing_folder_is_a_checkpoint_error() {
    let dir = tempfile::tempdir().unwrap();
    let mlp = Mlp::builder(2).build(&default_device(0)).unwrap();
    checkpoint_reason(mlp.save(dir.path().join("no_such_folder").join("m.npz")));
    checkpoint_reason(mlp.save(dir.path().join("..")));
}

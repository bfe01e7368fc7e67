//! `lot reproduce hota-digits --quick`: HOTA translates held-out 3s into images the digit classifier
//! calls 8s, far closer (FID-style) to real 8s than the untranslated 3s, and the scores of the
//! baselines land where they must. The data files are exported by `scripts/fetch_digits.py`, which
//! this test runs first when they are missing (it needs PyPI once, to install scikit-learn).

use lagrangian_ot::experiments::hota_digits::{default_digits_dir, Digits, FETCH_SCRIPT};
use lagrangian_ot::Error;
use std::path::Path;
use std::process::Command;

/// Serialises the fetch: the tests of this file run in parallel, and two concurrent runs of the
/// script would race on the virtual environment and the output files.
static FETCH: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn ensure_digits() {
    let _guard = FETCH.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = default_digits_dir();
    if dir.join("x.npy").is_file() && dir.join("label.npy").is_file() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = if root.join(".venv/bin/python").exists() {
        root.join(".venv/bin/python")
    } else {
        "python3".into()
    };
    let status = Command::new(&python)
        .arg(root.join(FETCH_SCRIPT))
        .status()
        .unwrap_or_else(|e| panic!("could not run {} {FETCH_SCRIPT}: {e}", python.display()));
    assert!(
        status.success(),
        "{FETCH_SCRIPT} failed ({status}); run it by hand (it needs network access to install scikit-learn)"
    );
}

#[test]
fn missing_digits_are_a_typed_error_naming_the_fetch_script() {
    let dir = tempfile::tempdir().unwrap();
    let err = Digits::load(dir.path()).unwrap_err();
    assert!(matches!(err, Error::Dataset { .. }), "{err:?}");
    assert!(err.to_string().contains(FETCH_SCRIPT), "{err}");
}

#[test]
fn digits_load_and_split_stratified() {
    ensure_digits();
    let digits = Digits::load_default().unwrap();
    assert_eq!(digits.images.dim(), (1797, 64));
    let (train, test) = digits.split(0.2, 0).unwrap();
    assert_eq!(train.len() + test.len(), 1797);
    for d in 0..10 {
        let (n_train, n_test) = (train.class(d).unwrap().nrows(), test.class(d).unwrap().nrows());
        let share = n_test as f64 / (n_train + n_test) as f64;
        assert!(
            (share - 0.2).abs() < 0.01,
            "digit {d}: {n_test} of {}",
            n_train + n_test
        );
    }
    let (again, _) = digits.split(0.2, 0).unwrap();
    assert_eq!(again.images, train.images);
    assert!(digits.split(1.0, 0).is_err());
    assert!(digits.class(10).is_err());
}

#[test]
fn reproduce_hota_digits_quick_translates_threes_into_eights() {
    ensure_digits();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lot"))
        .args(["reproduce", "hota-digits", "--quick", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("metrics.json")).unwrap()).unwrap();
    let metric = |name: &str| {
        doc["metrics"][name]
            .as_f64()
            .unwrap_or_else(|| panic!("no metric {name}: {doc}"))
    };
    // Measured (seed 0, quick): classifier 0.986; FID-style HOTA 13.9, W2 map 8.6, identity 221.8,
    // real 8s 8.3; classified as 8: HOTA 0.97, W2 map 1.0, identity 0.0, real 8s 0.97.
    assert!(metric("classifier_test_accuracy") > 0.9);
    let (hota_fid, identity_fid, floor_fid) = (
        metric("hota_fid"),
        metric("identity_fid"),
        metric("real_target_fid"),
    );
    assert!(
        identity_fid > 100.0,
        "3s vs 8s should be far apart: {identity_fid}"
    );
    assert!(
        hota_fid < 0.25 * identity_fid,
        "HOTA FID-style {hota_fid} vs identity {identity_fid}"
    );
    assert!(
        floor_fid < hota_fid + 1.0 && floor_fid < 0.1 * identity_fid,
        "floor {floor_fid}"
    );
    assert!(metric("w2_map_fid") < 0.25 * identity_fid);
    let hota_acc = metric("hota_target_accuracy");
    assert!(metric("identity_target_accuracy") < 0.1);
    assert!(hota_acc > 0.8, "HOTA translations classified as 8: {hota_acc}");
    assert!(metric("w2_map_target_accuracy") > 0.8);
    assert!(metric("real_target_target_accuracy") > 0.8);
    let svg = std::fs::read_to_string(dir.path().join("figure.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("HOTA 3 -&gt; 8"));
}

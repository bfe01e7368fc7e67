//! The `lot` binary end to end: `list`, `reproduce demo --quick`, and the error for an unknown name.

use std::process::Command;

fn lot() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lot"))
}

#[test]
fn list_names_the_demo() {
    let out = lot().arg("list").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.starts_with("demo ")));
}

#[test]
fn reproduce_demo_writes_metrics_beside_the_closed_form() {
    let dir = tempfile::tempdir().unwrap();
    let out = lot()
        .args(["reproduce", "demo", "--quick", "--seed", "3", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("metrics.json")).unwrap()).unwrap();
    assert_eq!(doc["experiment"], "demo");
    assert_eq!(doc["quick"], true);
    assert_eq!(doc["seed"], 3);
    assert!(doc["seconds"].as_f64().unwrap() > 0.0);
    let exact = doc["metrics"]["w2_squared_exact_ot"].as_f64().unwrap();
    let bures = doc["paper"]["w2_squared_exact_ot"].as_f64().unwrap();
    // 300 samples per side: the empirical W2^2 is within 10 % of the law's closed form.
    assert!(
        (exact - bures).abs() < 0.1 * bures,
        "exact {exact} vs Bures {bures}"
    );
    // The debiased Sinkhorn divergence at eps = 0.01 is within 1 % of the exact sample OT.
    let sinkhorn = doc["metrics"]["sinkhorn_divergence_eps_0.01"].as_f64().unwrap();
    assert!(
        (sinkhorn - exact).abs() < 0.01 * exact,
        "sinkhorn {sinkhorn} vs exact {exact}"
    );
    let svg = std::fs::read_to_string(dir.path().join("figure.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("exact OT matching"));
}

#[test]
fn unknown_experiment_fails_with_the_known_names() {
    let out = lot()
        .args(["reproduce", "no-such-thing", "--quick"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown experiment 'no-such-thing'") && err.contains("demo"),
        "{err}"
    );
}

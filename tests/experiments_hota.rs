//! `lot reproduce hota-box --quick`: HOTA trains end to end through the CLI on the box benchmark; its
//! pushforward lands on the target strip and its paths spend less time in the box than straight lines.

use std::process::Command;

#[test]
fn reproduce_hota_box_quick_reaches_the_target_around_the_box() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lot"))
        .args(["reproduce", "hota-box", "--quick", "--out"])
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
    assert_eq!(doc["paper"]["w2"].as_f64(), Some(0.002));
    assert_eq!(doc["paper"]["cost"].as_f64(), Some(2.84));
    // The strips are 2.25 apart: an untrained control (no motion) scores W2 ≈ 5.1 and kinetic 0; the
    // straight line costs ½·2.25² ≈ 2.5 and spends 22 % of its states inside the box (half the rows
    // cross it, for 1/2.25 of their time).
    let (w2, kinetic, inside) = (metric("w2"), metric("kinetic"), metric("fraction_in_obstacle"));
    // Measured at the quick size (400 steps): W2 0.011, kinetic 5.07, 12 % of states inside; the fast
    // preset reaches W2 0.0055 and cost 2.81 (paper 0.002 and 2.84).
    assert!(w2 < 0.05, "Sinkhorn W2 {w2}");
    assert!((2.0..8.0).contains(&kinetic), "kinetic energy {kinetic}");
    assert!(inside < 0.2, "fraction of states inside the box {inside}");
    assert!(
        metric("w2_sampling_floor") < w2,
        "the floor is a lower bound of what can be resolved"
    );
    let svg = std::fs::read_to_string(dir.path().join("figure.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("pushforward"));
}

//! Runs `lot reproduce <name> --quick` the way a user does and reads back what it wrote.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// Runs `lot reproduce name --quick --out dir`, checks that it succeeded and drew an SVG, and returns
/// the parsed `metrics.json`.
pub fn reproduce_quick(name: &str, dir: &Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_lot"))
        .args(["reproduce", name, "--quick", "--out"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read_to_string(dir.join("figure.svg"))
        .unwrap()
        .starts_with("<svg"));
    serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap()
}

/// Our value of metric `name` in a `metrics.json` document.
pub fn metric(doc: &serde_json::Value, name: &str) -> f64 {
    doc["metrics"][name]
        .as_f64()
        .unwrap_or_else(|| panic!("no metric {name}: {doc}"))
}

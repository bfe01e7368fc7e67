//! `lot reproduce nctm-gaussian --quick` and `nctm-ablation --quick` through the CLI: the learned
//! conditional map lands near the closed-form Brenier map on held-out horizons, and every ablation
//! variant is scored.

mod reproduce_support;
use reproduce_support::{metric, reproduce_quick as reproduce};

#[test]
fn reproduce_nctm_gaussian_quick_matches_the_brenier_map_on_held_out_horizons() {
    let dir = tempfile::tempdir().unwrap();
    let doc = reproduce("nctm-gaussian", dir.path());
    let m = |name: &str| metric(&doc, name);
    assert_eq!(doc["quick"].as_bool(), Some(true));
    // Closed form: E|x − T*(x)|² averaged over the 12 held-out conditions is ≈ 5.
    assert!(m("map_error_identity") > 3.0, "{doc}");
    // Measured 0.034 and W2 0.29 (floor 0.22, identity 1.87) on 2 cores.
    assert!(m("map_error") < 0.12, "{doc}");
    assert!(m("map_error") < 0.03 * m("map_error_identity"), "{doc}");
    assert!(m("w2") < 0.4 && m("w2") < 0.25 * m("w2_identity"), "{doc}");
    // The sampling floor (T* itself against fresh target samples) is below what any map can reach.
    assert!(m("w2_true_map") < m("w2") + 0.05, "{doc}");
    assert!(m("bures_w2") < 0.3, "{doc}");
    assert!(m("rho") > 0.98, "{doc}");
}

#[test]
fn reproduce_nctm_ablation_quick_scores_every_variant() {
    let dir = tempfile::tempdir().unwrap();
    let doc = reproduce("nctm-ablation", dir.path());
    assert_eq!(doc["paper"]["w2_no_pretrain"].as_f64(), Some(0.214));
    assert_eq!(doc["paper"]["rho_scalar"].as_f64(), Some(0.305));
    for v in ["hypernetwork", "film", "concatenation", "scalar", "no_pretrain"] {
        let (w2, err, rho) = (
            metric(&doc, &format!("w2_{v}")),
            metric(&doc, &format!("map_error_{v}")),
            metric(&doc, &format!("rho_{v}")),
        );
        assert!(w2.is_finite() && err.is_finite() && rho.is_finite(), "{v}: {doc}");
        // Source vs target is W2 ≈ 2.2 on average; every variant must transport most of the way.
        assert!(w2 < 1.0, "{v}: W2 {w2}: {doc}");
    }
    assert!(metric(&doc, "w2_hypernetwork") < 0.5, "{doc}");
}

#[test]
fn given_data_ot_indices_match_the_closed_form_for_a_function_of_one_input() {
    use lagrangian_ot::experiments::nctm::ot_sensitivity_indices;
    use ndarray::Array2;
    use rand::Rng;
    let mut r = lagrangian_ot::device::rng(4);
    let n = 400;
    let x = Array2::from_shape_fn((n, 2), |_| r.gen::<f32>());
    let y = Array2::from_shape_fn((n, 1), |(i, _)| x[[i, 0]]);
    let iota = ot_sensitivity_indices(&x, &y, 4).unwrap();
    // Y = X₀ ~ U[0, 1], 4 bins: mean_m ∫(0.75t − m/4)² dt = 0.125 and V = 2 Var Y = 1/6, so ι₀ = 0.75;
    // Y ⟂ X₁, so ι₁ is only the finite-sample bias of W₂² (small).
    assert!((iota[0] - 0.75).abs() < 0.05, "{iota:?}");
    assert!(iota[1] < 0.05, "{iota:?}");
    assert!(matches!(
        ot_sensitivity_indices(&x, &y.slice(ndarray::s![..10, ..]).to_owned(), 4),
        Err(lagrangian_ot::Error::Shape { .. })
    ));
    assert!(matches!(
        ot_sensitivity_indices(&x, &y, 0),
        Err(lagrangian_ot::Error::InvalidArgument(_))
    ));
    assert!(matches!(
        ot_sensitivity_indices(&x, &Array2::zeros((n, 1)), 4),
        Err(lagrangian_ot::Error::InvalidArgument(_))
    ));
}

#[test]
fn reproduce_nctm_sensitivity_quick_agrees_with_the_exact_given_data_indices() {
    let dir = tempfile::tempdir().unwrap();
    let doc = reproduce("nctm-sensitivity", dir.path());
    for s in [0, 2] {
        let exact: Vec<f64> = (0..3)
            .map(|k| metric(&doc, &format!("iota_exact_s{s}_x{k}")))
            .collect();
        let nctm: Vec<f64> = (0..3)
            .map(|k| metric(&doc, &format!("iota_nctm_s{s}_x{k}")))
            .collect();
        for v in exact.iter().chain(&nctm) {
            assert!((0.0..=1.0).contains(v), "{doc}");
        }
        // The damage coefficient X₁ drives the damages output: the most important input for both.
        let argmax = |v: &[f64]| (0..3).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap();
        assert_eq!(argmax(&exact), 1, "{doc}");
        assert_eq!(argmax(&nctm), 1, "{doc}");
    }
    // Measured: mean |difference| 0.045, Pearson 0.95 over the 6 indices.
    assert!(metric(&doc, "iota_mean_abs_difference") < 0.1, "{doc}");
    assert!(metric(&doc, "iota_pearson") > 0.8, "{doc}");
}

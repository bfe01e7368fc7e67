//! Bad input gives typed errors, never a panic.

use lagrangian_ot::metrics::{
    alignment_score, chamfer, cost_matrix, exact_ot, exact_ot_weighted, fit_gaussian, gaussian_w2_squared,
    kde_log_likelihood, mmd, scott_bandwidth, sinkhorn, sinkhorn_divergence, wasserstein2, GroundCost,
    SinkhornConfig,
};
use lagrangian_ot::{Error, Result};
use ndarray::{array, Array1, Array2, Array3};

type CloudMetric = fn(&Array2<f32>, &Array2<f32>) -> Result<f64>;

/// Every cloud-pair metric, wrapped to the same signature.
fn cloud_metrics() -> Vec<(&'static str, CloudMetric)> {
    vec![
        ("exact_ot", |x, y| {
            exact_ot(x, y, GroundCost::SqEuclidean).map(|o| o.cost)
        }),
        ("wasserstein2", wasserstein2),
        ("sinkhorn", |x, y| {
            sinkhorn(x, y, &SinkhornConfig::default()).map(|o| o.cost)
        }),
        ("sinkhorn_divergence", |x, y| sinkhorn_divergence(x, y, 0.1)),
        ("chamfer", chamfer),
        ("mmd", |x, y| mmd(x, y, &[1.0])),
        ("kde_log_likelihood", |x, y| kde_log_likelihood(x, y, 0.5)),
        ("cost_matrix", |x, y| {
            cost_matrix(x, y, GroundCost::Euclidean).map(|c| c.sum())
        }),
    ]
}

#[test]
fn cloud_metrics_reject_empty_non_finite_and_mismatched_clouds() {
    let good = array![[0.0f32, 1.0], [2.0, 3.0]];
    let no_points = Array2::<f32>::zeros((0, 2));
    let no_dims = Array2::<f32>::zeros((3, 0));
    let nan = array![[0.0f32, f32::NAN], [1.0, 1.0]];
    let inf = array![[0.0f32, 1.0], [f32::INFINITY, 1.0]];
    let three_d = array![[0.0f32, 1.0, 2.0]];
    for (name, metric) in cloud_metrics() {
        assert!(metric(&good, &good).is_ok(), "{name} rejects good input");
        for (x, y) in [(&no_points, &good), (&good, &no_points), (&no_dims, &no_dims)] {
            assert!(
                matches!(metric(x, y), Err(Error::Empty(_))),
                "{name}: empty input"
            );
        }
        for (x, y) in [(&nan, &good), (&good, &inf)] {
            assert!(
                matches!(metric(x, y), Err(Error::NonFinite(_))),
                "{name}: non-finite input"
            );
        }
        assert!(
            matches!(metric(&good, &three_d), Err(Error::Shape { .. })),
            "{name}: dimension mismatch"
        );
    }
}

#[test]
fn parameters_out_of_range_are_invalid_arguments() {
    let x = array![[0.0f32, 1.0], [2.0, 3.0]];
    let invalid = |r: Result<f64>| matches!(r, Err(Error::InvalidArgument(_)));
    for epsilon in [0.0, -1.0, f64::NAN] {
        assert!(invalid(sinkhorn_divergence(&x, &x, epsilon)));
    }
    assert!(invalid(
        sinkhorn(
            &x,
            &x,
            &SinkhornConfig {
                max_iters: 0,
                ..Default::default()
            }
        )
        .map(|o| o.cost)
    ));
    assert!(invalid(
        sinkhorn(
            &x,
            &x,
            &SinkhornConfig {
                tol: 0.0,
                ..Default::default()
            }
        )
        .map(|o| o.cost)
    ));
    assert!(invalid(mmd(&x, &x, &[])));
    assert!(invalid(mmd(&x, &x, &[1.0, -2.0])));
    assert!(invalid(kde_log_likelihood(&x, &x, 0.0)));
    assert!(invalid(scott_bandwidth(&array![[1.0f32, 2.0]])));
    assert!(invalid(scott_bandwidth(&array![[1.0f32], [1.0]])));
    assert!(matches!(
        fit_gaussian(&array![[1.0f32, 2.0]]),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn weighted_ot_validates_weights_and_cost_shape() {
    let (a, b) = (array![0.5, 0.5], array![1.0]);
    let cost = array![[1.0], [2.0]];
    assert!(exact_ot_weighted(&a, &b, &cost).is_ok());
    assert!(matches!(
        exact_ot_weighted(&Array1::zeros(0), &b, &cost),
        Err(Error::Empty(_))
    ));
    assert!(matches!(
        exact_ot_weighted(&a, &b, &array![[1.0, 2.0]]),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        exact_ot_weighted(&a, &b, &array![[1.0], [f64::NAN]]),
        Err(Error::NonFinite(_))
    ));
    assert!(matches!(
        exact_ot_weighted(&array![1.5, -0.5], &b, &cost),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        exact_ot_weighted(&a, &array![2.0], &cost),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn gaussian_w2_validates_shapes_symmetry_and_finiteness() {
    let (m, c) = (array![0.0, 0.0], Array2::<f64>::eye(2));
    assert!(gaussian_w2_squared(&m, &c, &m, &c).is_ok());
    assert!(matches!(
        gaussian_w2_squared(&array![0.0], &c, &m, &c),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        gaussian_w2_squared(&m, &c, &array![0.0], &array![[1.0]]),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        gaussian_w2_squared(&Array1::zeros(0), &Array2::zeros((0, 0)), &m, &c),
        Err(Error::Empty(_))
    ));
    assert!(matches!(
        gaussian_w2_squared(&m, &array![[1.0, 0.5], [0.0, 1.0]], &m, &c),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        gaussian_w2_squared(&array![f64::NAN, 0.0], &c, &m, &c),
        Err(Error::NonFinite(_))
    ));
}

#[test]
fn alignment_validates_fields() {
    let field =
        Array3::<f64>::from_shape_fn((4, 2, 2), |(_, i, j)| if i == j { 1.0 + i as f64 } else { 0.0 });
    assert!(alignment_score(&field, &field).is_ok());
    assert!(matches!(
        alignment_score(&Array3::<f64>::zeros((0, 2, 2)), &Array3::zeros((0, 2, 2))),
        Err(Error::Empty(_))
    ));
    assert!(matches!(
        alignment_score(&field, &Array3::zeros((3, 2, 2))),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        alignment_score(&Array3::<f64>::zeros((4, 2, 3)), &Array3::zeros((4, 2, 3))),
        Err(Error::Shape { .. })
    ));
    let mut asymmetric = field.clone();
    asymmetric[[1, 0, 1]] = 0.5;
    assert!(matches!(
        alignment_score(&field, &asymmetric),
        Err(Error::InvalidArgument(_))
    ));
    let mut nan = field.clone();
    nan[[2, 1, 1]] = f64::NAN;
    assert!(matches!(alignment_score(&nan, &field), Err(Error::NonFinite(_))));
}

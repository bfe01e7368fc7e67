//! The host-evaluated (frozen) Givens metric equals the taped one: in value, in the gradients a
//! backward pass returns for q and v, in the matrices it reports, and in the path costs and end-point
//! gradients of a spline action built on it.

use dfdx::prelude::{Backward, Rank0, SumTo, TensorFromVec};
use lagrangian_ot::lagrangian::{Eigenvalues, GivensMetric, KdePotential, Lagrangian, Metric, NoPotential};
use lagrangian_ot::nn::{array_to_tensor, traced};
use lagrangian_ot::path::{ActionKind, CubicSplinePath, Quadrature, SplineAction};
use lagrangian_ot::prelude::*;
use ndarray::Array2;
use rand::Rng;

fn random(r: &mut SeededRng, rows: usize, cols: usize, scale: f32) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |_| r.gen_range(-scale..scale))
}

fn one_hot(rows: usize, classes: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, classes), |(r, c)| if r % classes == c { 1.0 } else { 0.0 })
}

fn max_rel_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / (1.0 + y.abs()))
        .fold(0.0, f32::max)
}

/// (dimension, eigenvalues, condition) cases: HTI's budget with one-hot and continuous conditions,
/// unconditional, and NLOT's fixed eigenvalues.
fn cases(r: &mut SeededRng, rows: usize) -> Vec<(GivensMetric, Option<Array2<f32>>)> {
    let dev: Device = default_device(5);
    let build = |dim: usize, eigen: Eigenvalues, cond: Option<usize>| {
        let mut b = GivensMetric::builder(dim)
            .hidden(&[24, 24])
            .cond_hidden(&[8])
            .eigenvalues(eigen);
        if let Some(c) = cond {
            b = b.condition(c);
        }
        b.build(&dev).unwrap()
    };
    vec![
        (build(2, Eigenvalues::hti(), Some(4)), Some(one_hot(rows, 4))),
        (build(3, Eigenvalues::hti(), None), None),
        (
            build(3, Eigenvalues::hti(), Some(2)),
            Some(random(r, rows, 2, 1.0)),
        ),
        (build(2, Eigenvalues::nlot(), None), None),
        (
            build(4, Eigenvalues::Fixed(vec![1.0, 0.5, 0.2, 0.1]), Some(3)),
            Some(one_hot(rows, 3)),
        ),
    ]
}

#[test]
fn frozen_metric_matches_the_taped_metric_in_value_and_gradients() {
    let dev: Device = default_device(0);
    let mut r: SeededRng = rng(11);
    let rows = 300; // more than one parallel chunk
    for (metric, cond) in cases(&mut r, rows) {
        let d = Metric::<Device>::dim(&metric);
        let q = random(&mut r, rows, d, 1.5);
        let v = random(&mut r, rows, d, 2.0);
        let weights = random(&mut r, rows, 1, 1.0).column(0).to_owned();
        let frozen = metric.frozen();
        let c = cond.as_ref().map(|c| array_to_tensor(&dev, c, "c").unwrap());
        let run = |m: &dyn Metric<Device>| {
            let q_t = array_to_tensor(&dev, &q, "q").unwrap();
            let v_t = array_to_tensor(&dev, &v, "v").unwrap();
            let s = m.squared_speed(traced(&q_t), traced(&v_t), c.as_ref()).unwrap();
            let values = s.as_vec();
            let w = dev.tensor_from_vec(weights.to_vec(), (rows,));
            let grads = (s * w).sum::<Rank0, _>().backward();
            (values, grads.get(&q_t).as_vec(), grads.get(&v_t).as_vec())
        };
        let (s_tape, gq_tape, gv_tape) = run(&metric);
        let (s_host, gq_host, gv_host) = run(&frozen);
        let name = format!(
            "d = {d}, {:?}, conditional {}",
            metric.eigenvalues(),
            cond.is_some()
        );
        assert!(max_rel_diff(&s_host, &s_tape) < 1e-4, "{name}: value");
        assert!(max_rel_diff(&gq_host, &gq_tape) < 1e-3, "{name}: ∇q");
        assert!(max_rel_diff(&gv_host, &gv_tape) < 1e-4, "{name}: ∇v");
        // The q-gradient is not trivially zero (the test would pass for a metric constant in q).
        assert!(
            gq_tape.iter().map(|g| g.abs()).sum::<f32>() > 1e-3 * rows as f32,
            "{name}"
        );

        let g_tape = metric.matrix_at(&q, cond.as_ref()).unwrap();
        let g_host = Metric::<Device>::matrix_at(&frozen, &q, cond.as_ref()).unwrap();
        assert!(
            max_rel_diff(g_host.as_slice().unwrap(), g_tape.as_slice().unwrap()) < 1e-4,
            "{name}: G"
        );
    }
}

#[test]
fn frozen_metric_gives_the_same_path_costs_and_end_point_gradients() {
    let dev: Device = default_device(0);
    let mut r: SeededRng = rng(12);
    let rows = 40;
    let metric = GivensMetric::builder(2)
        .hidden(&[32, 32])
        .condition(4)
        .build(&dev)
        .unwrap();
    let cond = one_hot(rows, 4);
    let pool = random(&mut r, 80, 2, 1.0);
    let labels: Vec<usize> = (0..80).map(|i| i % 4).collect();
    let kde = KdePotential::builder(&pool)
        .bandwidth(0.3)
        .alpha(0.05)
        .categorical(&labels, 4)
        .build(&dev)
        .unwrap();
    let action = SplineAction::new(
        &dev,
        CubicSplinePath::new(2, 9).unwrap(),
        Quadrature::Reference { points: 20 },
        ActionKind::SquaredGeodesic,
    )
    .unwrap();
    let x = random(&mut r, rows, 2, 1.0);
    let y = random(&mut r, rows, 2, 1.0);
    let params = random(&mut r, rows, action.num_params(), 0.8);
    let taped = action
        .cost_and_gradients(
            &Lagrangian::new(metric.clone(), kde.clone()),
            &x,
            &y,
            &params,
            Some(&cond),
        )
        .unwrap();
    let frozen = action
        .cost_and_gradients(
            &Lagrangian::new(metric.frozen(), kde),
            &x,
            &y,
            &params,
            Some(&cond),
        )
        .unwrap();
    assert!(max_rel_diff(frozen.costs.as_slice().unwrap(), taped.costs.as_slice().unwrap()) < 1e-4);
    assert!(max_rel_diff(frozen.d_y.as_slice().unwrap(), taped.d_y.as_slice().unwrap()) < 1e-3);
    let plain = action
        .cost_and_gradients(
            &Lagrangian::new(metric.frozen(), NoPotential),
            &x,
            &y,
            &params,
            Some(&cond),
        )
        .unwrap();
    assert!(max_rel_diff(plain.costs.as_slice().unwrap(), frozen.costs.as_slice().unwrap()) > 1e-3);
}

#[test]
fn frozen_metric_rejects_bad_shapes_and_missing_conditions() {
    let dev: Device = default_device(0);
    let metric = GivensMetric::builder(2)
        .hidden(&[8])
        .condition(3)
        .build(&dev)
        .unwrap()
        .frozen();
    let q = Array2::zeros((4, 2));
    assert!(matches!(
        metric.squared_speed_and_gradients(&q, &Array2::zeros((4, 3)), None),
        Err(Error::Shape { .. })
    ));
    assert!(metric.squared_speed_and_gradients(&q, &q, None).is_err());
    assert!(matches!(
        metric.squared_speed_and_gradients(&q, &q, Some(&Array2::zeros((4, 2)))),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        metric.squared_speed_and_gradients(&Array2::zeros((0, 2)), &Array2::zeros((0, 2)), None),
        Err(Error::Empty(_))
    ));
}

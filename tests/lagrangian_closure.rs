//! Closure potentials and metrics equal the built-ins they re-implement; closures with the wrong
//! output shape give typed errors.

use dfdx::prelude::*;
use lagrangian_ot::device::{default_device, rng, Device};
use lagrangian_ot::lagrangian::{
    potential_at, reuse, window, xy, FnMetric, FnPotential, Lagrangian, Metric, Obstacle, ObstacleShape,
    Points, ScarvelisMetric,
};
use lagrangian_ot::nn::{array_to_tensor, traced};
use lagrangian_ot::Error;
use ndarray::Array2;
use rand::Rng;

fn random(rows: usize, seed: u64) -> Array2<f32> {
    let mut r = rng(seed);
    Array2::from_shape_fn((rows, 2), |_| r.gen_range(-1.0..1.0))
}

#[test]
fn closure_box_equals_builtin_box_values_and_gradients() {
    let dev: Device = default_device(0);
    let closure = FnPotential::new("my box", |q: Points<Device>| {
        let (x, y) = xy(q)?;
        Ok((window(x, -0.5, 0.5, 0.05) * window(y, -0.5, 0.5, 0.05)) * -0.01)
    })
    .with_dim(2);
    let builtin = Obstacle::new(ObstacleShape::Box).with_temperature(0.05).unwrap();
    let q = random(40, 1) * 0.8;
    let (a, b) = (
        potential_at(&closure, &dev, &q, None).unwrap(),
        potential_at(&builtin, &dev, &q, None).unwrap(),
    );
    for (x, y) in a.iter().zip(b.iter()) {
        assert!((x - y).abs() < 1e-8, "{x} vs {y}");
    }
    // The same Lagrangian value and the same gradient through a Lagrangian.
    let lag_closure = Lagrangian::euclidean(2).with_potential(closure);
    let lag_builtin = Lagrangian::euclidean(2).with_potential(builtin);
    let v = random(40, 2);
    let (q_t, v_t) = (
        array_to_tensor(&dev, &q, "q").unwrap(),
        array_to_tensor(&dev, &v, "v").unwrap(),
    );
    let grad = |lag_value: Tensor<(usize,), f32, Device, _>| {
        lag_value.sum::<Rank0, _>().backward().get(&q_t).as_vec()
    };
    let g1 = grad(lag_closure.value(traced(&q_t), traced(&v_t), None).unwrap());
    let g2 = grad(lag_builtin.value(traced(&q_t), traced(&v_t), None).unwrap());
    for (x, y) in g1.iter().zip(&g2) {
        assert!((x - y).abs() < 1e-6);
    }
    assert!(
        g1.iter().any(|g| g.abs() > 1e-4),
        "points near the walls have a gradient"
    );
}

#[test]
fn closure_metrics_equal_the_circle_metric() {
    let dev: Device = default_device(0);
    // A = I − (1 − ε) u uᵀ with u = (−y, x)/|q|, written entry by entry.
    let entries = FnMetric::matrix("circle by hand", 2, &dev, |q: Points<Device>| {
        let (x, y) = xy(q)?;
        let r2 = reuse(&x).square() + reuse(&y).square();
        let c = 1.0 - 1e-3;
        let uxx = reuse(&y).square() / reuse(&r2);
        let uyy = reuse(&x).square() / reuse(&r2);
        let uxy = (x * y).negate() / r2;
        Ok(vec![
            uxx.negate() * c + 1.0,
            reuse(&uxy) * -c,
            uxy * -c,
            uyy.negate() * c + 1.0,
        ])
    });
    let quadratic = FnMetric::quadratic("circle speed", 2, &dev, |q, v| {
        ScarvelisMetric::circle().squared_speed(q, v, None)
    });
    let q = random(20, 3) + 0.1;
    let want = Metric::<Device>::matrix_at(&ScarvelisMetric::circle(), &q, None).unwrap();
    for metric in [&entries, &quadratic] {
        let got = metric.matrix_at(&q, None).unwrap();
        assert!(
            (&got - &want).mapv(f32::abs).iter().all(|&d| d < 1e-4),
            "{}",
            metric.name()
        );
    }
    let v = random(20, 4);
    let (q_t, v_t) = (
        array_to_tensor(&dev, &q, "q").unwrap(),
        array_to_tensor(&dev, &v, "v").unwrap(),
    );
    let s1 = entries
        .squared_speed(traced(&q_t), traced(&v_t), None)
        .unwrap()
        .as_vec();
    let s2 = ScarvelisMetric::circle()
        .squared_speed(traced(&q_t), traced(&v_t), None)
        .unwrap()
        .as_vec();
    for (a, b) in s1.iter().zip(&s2) {
        assert!((a - b).abs() < 1e-4 * (1.0 + b.abs()));
    }
}

#[test]
fn closures_with_wrong_outputs_give_typed_errors() {
    let dev: Device = default_device(0);
    let too_many = FnMetric::matrix("three entries", 2, &dev, |q: Points<Device>| {
        let (x, y) = xy(q)?;
        Ok(vec![x, reuse(&y), y])
    });
    assert!(matches!(
        too_many.matrix_at(&random(2, 5), None),
        Err(Error::Shape { .. })
    ));
    let wrong_rows = FnPotential::new("sum of everything", |q: Points<Device>| {
        Ok(q.sum::<Rank0, _>().broadcast_like::<_, Axis<0>>(&(1usize,)))
    });
    assert!(matches!(
        potential_at(&wrong_rows, &dev, &random(3, 6), None),
        Err(Error::Shape { .. })
    ));
    let two_d =
        FnPotential::new("zero", |q: Points<Device>| Ok(q.sum::<(usize,), Axis<1>>() * 0.0)).with_dim(2);
    assert!(matches!(
        potential_at(&two_d, &dev, &Array2::zeros((3, 3)), None),
        Err(Error::Shape { .. })
    ));
}

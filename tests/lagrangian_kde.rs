//! The KDE density potential against a brute-force density (unconditional, Nadaraya–Watson,
//! per-label), its gradient against finite differences, and typed errors.

use dfdx::prelude::*;
use lagrangian_ot::device::{default_device, rng, Device};
use lagrangian_ot::lagrangian::{potential_at, KdePotential, Potential};
use lagrangian_ot::nn::{array_to_tensor, traced};
use lagrangian_ot::Error;
use ndarray::{array, Array2, ArrayView1};
use rand::Rng;

fn random(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    let mut r = rng(seed);
    Array2::from_shape_fn((rows, cols), |_| r.gen_range(-1.0..1.0))
}

/// K_h(u) = (2πh²)^(−k/2) exp(−|u|²/(2h²)) in f64.
fn kernel(a: ArrayView1<f32>, b: ArrayView1<f32>, h: f64) -> f64 {
    let sq: f64 = a
        .iter()
        .zip(b.iter())
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum();
    (2.0 * std::f64::consts::PI * h * h).powf(-(a.len() as f64) / 2.0) * (-sq / (2.0 * h * h)).exp()
}

fn close(got: f32, want: f64, tol: f64) {
    assert!(
        (f64::from(got) - want).abs() <= tol * (1.0 + want.abs()),
        "got {got}, want {want}"
    );
}

#[test]
fn unconditional_kde_equals_brute_force() {
    let dev: Device = default_device(0);
    let samples = random(50, 2, 1);
    let q = random(7, 2, 2);
    let (h, alpha) = (0.3, 0.05);
    let kde = KdePotential::builder(&samples)
        .bandwidth(h)
        .alpha(alpha)
        .build(&dev)
        .unwrap();
    let u = potential_at(&kde, &dev, &q, None).unwrap();
    for m in 0..q.nrows() {
        let p: f64 = samples
            .rows()
            .into_iter()
            .map(|y| kernel(q.row(m), y, h.into()))
            .sum::<f64>()
            / 50.0;
        close(u[m], f64::from(alpha) * (p + 1e-8).ln(), 1e-4);
    }
    // Far away the density underflows to 0 and U sits at its floor α·log ε.
    let far = potential_at(&kde, &dev, &array![[40.0f32, 40.0]], None).unwrap();
    close(far[0], f64::from(alpha) * (1e-8f64).ln(), 1e-5);
}

#[test]
fn nadaraya_watson_kde_equals_brute_force() {
    let dev: Device = default_device(0);
    let samples = random(60, 3, 3);
    let features = random(60, 2, 4);
    let q = random(5, 3, 5);
    let x = random(5, 2, 6);
    let (h, hx, alpha) = (0.5f32, 0.4f32, 0.01f32);
    let kde = KdePotential::builder(&samples)
        .bandwidth(h)
        .alpha(alpha)
        .continuous(&features, hx)
        .build(&dev)
        .unwrap();
    let u = potential_at(&kde, &dev, &q, Some(&x)).unwrap();
    for m in 0..q.nrows() {
        let wx: Vec<f64> = features
            .rows()
            .into_iter()
            .map(|f| kernel(x.row(m), f, hx.into()))
            .collect();
        let total: f64 = wx.iter().sum();
        let p: f64 = samples
            .rows()
            .into_iter()
            .zip(&wx)
            .map(|(y, w)| kernel(q.row(m), y, h.into()) * w)
            .sum::<f64>()
            / total.max(1e-8);
        close(u[m], f64::from(alpha) * (p + 1e-8).ln(), 1e-4);
    }
    assert!(matches!(
        potential_at(&kde, &dev, &q, None),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        potential_at(&kde, &dev, &q, Some(&random(5, 3, 7))),
        Err(Error::Shape { .. })
    ));
}

#[test]
fn per_label_kde_equals_brute_force_for_label_columns_and_one_hot_rows() {
    let dev: Device = default_device(0);
    let samples = random(40, 2, 8);
    let labels: Vec<usize> = (0..40).map(|i| i % 3).collect(); // label 3 has no samples
    let q = random(6, 2, 9);
    let query_labels = [0usize, 1, 2, 3, 1, 0];
    let (h, alpha) = (0.2f32, 0.05f32);
    let kde = KdePotential::builder(&samples)
        .bandwidth(h)
        .alpha(alpha)
        .categorical(&labels, 4)
        .build(&dev)
        .unwrap();
    let column = Array2::from_shape_fn((6, 1), |(m, _)| query_labels[m] as f32);
    let one_hot = Array2::from_shape_fn((6, 4), |(m, c)| if query_labels[m] == c { 1.0 } else { 0.0 });
    let u_col = potential_at(&kde, &dev, &q, Some(&column)).unwrap();
    let u_hot = potential_at(&kde, &dev, &q, Some(&one_hot)).unwrap();
    for m in 0..6 {
        let same: Vec<usize> = (0..40).filter(|&i| labels[i] == query_labels[m]).collect();
        let p: f64 = same
            .iter()
            .map(|&i| kernel(q.row(m), samples.row(i), h.into()))
            .sum::<f64>()
            / same.len().max(1) as f64;
        let want = f64::from(alpha) * (p + 1e-8).ln();
        close(u_col[m], want, 1e-4);
        close(u_hot[m], want, 1e-4);
    }
    let bad = Array2::from_elem((6, 1), 1.5f32);
    assert!(matches!(
        potential_at(&kde, &dev, &q, Some(&bad)),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn kde_gradient_matches_finite_differences() {
    let dev: Device = default_device(0);
    let samples = random(30, 2, 10);
    let features = random(30, 1, 11);
    let kde = KdePotential::builder(&samples)
        .bandwidth(0.4)
        .alpha(0.1)
        .continuous(&features, 0.5)
        .build(&dev)
        .unwrap();
    let q = random(3, 2, 12);
    let x = random(3, 1, 13);
    let q_t = array_to_tensor(&dev, &q, "q").unwrap();
    let x_t = array_to_tensor(&dev, &x, "x").unwrap();
    let grads = kde
        .value(traced(&q_t), Some(&x_t))
        .unwrap()
        .sum::<Rank0, _>()
        .backward();
    let g = grads.get(&q_t).as_vec();
    let h = 1e-3;
    for r in 0..3 {
        for c in 0..2 {
            let (mut plus, mut minus) = (q.clone(), q.clone());
            plus[[r, c]] += h;
            minus[[r, c]] -= h;
            let fd = (potential_at(&kde, &dev, &plus, Some(&x)).unwrap()[r]
                - potential_at(&kde, &dev, &minus, Some(&x)).unwrap()[r])
                / (2.0 * h);
            assert!(
                (g[r * 2 + c] - fd).abs() <= 1e-2 * (1.0 + fd.abs()),
                "{} vs {fd}",
                g[r * 2 + c]
            );
        }
    }
}

#[test]
fn kde_typed_errors() {
    let dev: Device = default_device(0);
    let samples = random(10, 2, 14);
    assert!(matches!(
        KdePotential::builder(&Array2::zeros((0, 2))).build(&dev),
        Err(Error::Empty(_))
    ));
    assert!(matches!(
        KdePotential::builder(&samples).bandwidth(0.0).build(&dev),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        KdePotential::builder(&samples)
            .categorical(&[0, 1], 2)
            .build(&dev),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        KdePotential::builder(&samples)
            .categorical(&[5; 10], 2)
            .build(&dev),
        Err(Error::InvalidArgument(_))
    ));
    let kde = KdePotential::builder(&samples).build(&dev).unwrap();
    assert!(matches!(
        potential_at(&kde, &dev, &Array2::zeros((2, 3)), None),
        Err(Error::Shape { .. })
    ));
}

/// The host evaluation that `value` puts on the tape equals the taped kernel-matrix definition, in
/// value and in the gradient a backward pass returns, for all three conditionings.
#[test]
fn host_evaluation_matches_the_taped_definition() {
    let dev: Device = default_device(0);
    let samples = random(60, 2, 1);
    let q = random(25, 2, 2);
    let features = random(60, 3, 3);
    let q_features = random(25, 3, 4);
    let labels: Vec<usize> = (0..60).map(|i| i % 3).collect();
    let q_labels = Array2::from_shape_fn((25, 1), |(r, _)| (r % 3) as f32);
    let cases: Vec<(KdePotential, Option<Array2<f32>>)> = vec![
        (
            KdePotential::builder(&samples)
                .bandwidth(0.3)
                .alpha(0.2)
                .build(&dev)
                .unwrap(),
            None,
        ),
        (
            KdePotential::builder(&samples)
                .bandwidth(0.3)
                .alpha(0.2)
                .continuous(&features, 0.7)
                .build(&dev)
                .unwrap(),
            Some(q_features),
        ),
        (
            KdePotential::builder(&samples)
                .bandwidth(0.3)
                .alpha(0.2)
                .categorical(&labels, 3)
                .build(&dev)
                .unwrap(),
            Some(q_labels),
        ),
    ];
    for (kde, cond) in cases {
        let c = cond.as_ref().map(|c| array_to_tensor(&dev, c, "c").unwrap());
        let run = |taped: bool| {
            let input = array_to_tensor(&dev, &q, "q").unwrap();
            let u = if taped {
                kde.value_taped(traced(&input), c.as_ref()).unwrap()
            } else {
                kde.value(traced(&input), c.as_ref()).unwrap()
            };
            let values = u.as_vec();
            let grads = u.sum::<Rank0, _>().backward();
            (values, grads.get(&input).as_vec())
        };
        let ((v_host, g_host), (v_tape, g_tape)) = (run(false), run(true));
        for (a, b) in v_host.iter().zip(&v_tape) {
            assert!((a - b).abs() < 1e-4 * (1.0 + b.abs()), "value {a} vs {b}");
        }
        for (a, b) in g_host.iter().zip(&g_tape) {
            assert!((a - b).abs() < 1e-3 * (1.0 + b.abs()), "gradient {a} vs {b}");
        }
    }
}

//! Metrics: the reference matrices of NLOT spec §6, closed forms of the Scarvelis fields, learned
//! Givens metrics (symmetric positive definite, eigenvalues e, trace of the budget) in 2, 3 and 16
//! dimensions, gradients against finite differences, and typed errors.

use dfdx::prelude::*;
use lagrangian_ot::device::{default_device, Device};
use lagrangian_ot::lagrangian::{Eigenvalues, GivensMetric, Metric, ScarvelisMetric};
use lagrangian_ot::nn::{array_to_tensor, traced, Activation, Trainable};
use lagrangian_ot::Error;
use ndarray::{array, Array1, Array2, Array3};
use ndarray_linalg::{Eigh, UPLO};
use rand::Rng;

fn random_points(rows: usize, dim: usize, scale: f32, seed: u64) -> Array2<f32> {
    let mut r = lagrangian_ot::device::rng(seed);
    Array2::from_shape_fn((rows, dim), |_| r.gen_range(-scale..scale))
}

fn assert_matrix(a: &Array3<f32>, k: usize, want: &[[f32; 2]; 2], tol: f32) {
    for i in 0..2 {
        for j in 0..2 {
            assert!(
                (a[[k, i, j]] - want[i][j]).abs() <= tol,
                "A[{k}][{i},{j}] = {}, want {}",
                a[[k, i, j]],
                want[i][j]
            );
        }
    }
}

fn matrix<M: Metric<Device>>(metric: &M, q: &Array2<f32>) -> Array3<f32> {
    metric.matrix_at(q, None).unwrap()
}

#[test]
fn scarvelis_reference_matrices() {
    let circle = matrix(&ScarvelisMetric::circle(), &array![[-1.0f32, 0.0], [0.0, 1.0]]);
    assert_matrix(&circle, 0, &[[1.0, 0.0], [0.0, 0.001]], 1e-5);
    assert_matrix(&circle, 1, &[[0.001, 0.0], [0.0, 1.0]], 1e-5);
    let vee = matrix(&ScarvelisMetric::vee(), &array![[0.0f32, 0.0], [1.0, 1.0]]);
    assert_matrix(&vee, 0, &[[0.5005, 0.0], [0.0, 1.0]], 1e-5);
    assert_matrix(&vee, 1, &[[0.5005, -0.4995], [-0.4995, 0.5005]], 1e-5);
    let x = matrix(
        &ScarvelisMetric::xpath(),
        &array![[1.0f32, 1.0], [-1.0, 1.0], [0.0, 0.7], [0.3, 0.0]],
    );
    assert_matrix(&x, 0, &[[0.7103, -0.2897], [-0.2897, 0.7103]], 1e-4);
    assert_matrix(&x, 1, &[[0.7103, 0.2897], [0.2897, 0.7103]], 1e-4);
    assert_matrix(&x, 2, &[[1.0, 0.0], [0.0, 1.0]], 1e-6);
    assert_matrix(&x, 3, &[[1.0, 0.0], [0.0, 1.0]], 1e-6);
}

/// u(q) of each field written out on the host, independently of the tensor code.
fn host_direction(metric: &ScarvelisMetric, x: f32, y: f32) -> [f32; 2] {
    use lagrangian_ot::lagrangian::CheapDirection::*;
    let h = std::f32::consts::FRAC_1_SQRT_2;
    match metric.field {
        Circle => {
            let r = (x * x + y * y).sqrt().max(1e-6);
            [-y / r, x / r]
        }
        Vee => [
            h,
            h * if y > 0.0 {
                1.0
            } else if y < 0.0 {
                -1.0
            } else {
                0.0
            },
        ],
        XPath => {
            let p = x * y;
            let (a, b) = (p.max(0.0).tanh(), (-p).max(0.0).tanh());
            [(a - b) * h, (a + b) * h]
        }
    }
}

#[test]
fn scarvelis_metrics_match_closed_form_and_squared_speed() {
    let dev: Device = default_device(0);
    let q = random_points(32, 2, 2.0, 1);
    let v = random_points(32, 2, 1.0, 2);
    for metric in [
        ScarvelisMetric::circle(),
        ScarvelisMetric::vee(),
        ScarvelisMetric::xpath(),
    ] {
        let a = matrix(&metric, &q);
        let speed = metric
            .squared_speed(
                traced(&array_to_tensor(&dev, &q, "q").unwrap()),
                traced(&array_to_tensor(&dev, &v, "v").unwrap()),
                None,
            )
            .unwrap()
            .as_vec();
        for k in 0..q.nrows() {
            let u = host_direction(&metric, q[[k, 0]], q[[k, 1]]);
            for i in 0..2 {
                for j in 0..2 {
                    let identity = if i == j { 1.0 } else { 0.0 };
                    let want = identity - (1.0 - 1e-3) * u[i] * u[j];
                    assert!(
                        (a[[k, i, j]] - want).abs() < 1e-5,
                        "{} at {k}",
                        Metric::<Device>::name(&metric)
                    );
                }
            }
            let vav: f32 = (0..2)
                .flat_map(|i| (0..2).map(move |j| (i, j)))
                .map(|(i, j)| v[[k, i]] * a[[k, i, j]] * v[[k, j]])
                .sum();
            assert!((speed[k] - vav).abs() < 1e-5 * (1.0 + vav.abs()));
        }
    }
}

/// dfdx gradients of Σ vᵀA(q)v with respect to q and v against central finite differences.
fn check_speed_gradients<M: Metric<Device>>(metric: &M, q: &Array2<f32>, v: &Array2<f32>, h: f32, tol: f32) {
    let dev: Device = default_device(0);
    let speed = |q: &Array2<f32>, v: &Array2<f32>| -> Array1<f32> {
        let q_t = array_to_tensor(&dev, q, "q").unwrap();
        let v_t = array_to_tensor(&dev, v, "v").unwrap();
        Array1::from(
            metric
                .squared_speed(traced(&q_t), traced(&v_t), None)
                .unwrap()
                .as_vec(),
        )
    };
    let q_t = array_to_tensor(&dev, q, "q").unwrap();
    let v_t = array_to_tensor(&dev, v, "v").unwrap();
    let total = metric
        .squared_speed(traced(&q_t), traced(&v_t), None)
        .unwrap()
        .sum::<Rank0, _>();
    let grads = total.backward();
    for (which, x, g) in [
        ("q", q, grads.get(&q_t).as_vec()),
        ("v", v, grads.get(&v_t).as_vec()),
    ] {
        for r in 0..x.nrows() {
            for c in 0..x.ncols() {
                let (mut plus, mut minus) = (x.clone(), x.clone());
                plus[[r, c]] += h;
                minus[[r, c]] -= h;
                let fd = if which == "q" {
                    (speed(&plus, v)[r] - speed(&minus, v)[r]) / (2.0 * h)
                } else {
                    (speed(q, &plus)[r] - speed(q, &minus)[r]) / (2.0 * h)
                };
                let ad = g[r * x.ncols() + c];
                assert!(
                    (ad - fd).abs() <= tol * (1.0 + fd.abs()),
                    "{}: d/d{which}[{r},{c}] autodiff {ad} vs finite difference {fd}",
                    metric.name()
                );
            }
        }
    }
}

#[test]
fn scarvelis_gradients_match_finite_differences() {
    let q = array![[0.7f32, -0.4], [-1.2, 0.3]];
    let v = array![[0.3f32, 0.8], [-0.5, 0.2]];
    check_speed_gradients(&ScarvelisMetric::circle(), &q, &v, 1e-3, 1e-2);
    check_speed_gradients(&ScarvelisMetric::xpath(), &q, &v, 1e-3, 1e-2);
    check_speed_gradients(&ScarvelisMetric::vee(), &q, &v, 1e-3, 1e-2);
}

/// Checks symmetry, eigenvalues = e (sorted), positive definiteness and the trace; and that the
/// squared speed is vᵀAv for random v.
fn check_givens(metric: &GivensMetric, dim: usize, seed: u64, cond: Option<&Array2<f32>>) {
    let dev: Device = default_device(0);
    let q = random_points(4, dim, 1.5, seed);
    let a = metric.matrix_at(&q, cond).unwrap();
    let e = metric.eigenvalues_at(&q, cond).unwrap();
    let trace = metric.eigenvalues().trace(dim);
    for k in 0..q.nrows() {
        let ak = a.index_axis(ndarray::Axis(0), k).mapv(f64::from);
        for i in 0..dim {
            for j in 0..dim {
                assert!((ak[[i, j]] - ak[[j, i]]).abs() < 1e-6);
            }
        }
        let (mut got, _) = ak.eigh(UPLO::Lower).unwrap();
        let mut want: Vec<f64> = e.row(k).iter().map(|&v| f64::from(v)).collect();
        got.as_slice_mut().unwrap().sort_by(f64::total_cmp);
        want.sort_by(f64::total_cmp);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-4, "d = {dim}: eigenvalue {g} vs e = {w}");
            assert!(*g > 0.0);
        }
        let tr: f64 = (0..dim).map(|i| ak[[i, i]]).sum();
        assert!(
            (tr - f64::from(trace)).abs() < 1e-4,
            "d = {dim}: trace {tr} vs {trace}"
        );
        let e_sum: f32 = e.row(k).sum();
        assert!((e_sum - trace).abs() < 1e-5);
    }
    let v = random_points(4, dim, 1.0, seed + 100);
    let cond_t = cond.map(|c| array_to_tensor(&dev, c, "c").unwrap());
    let speed = metric
        .squared_speed(
            traced(&array_to_tensor(&dev, &q, "q").unwrap()),
            traced(&array_to_tensor(&dev, &v, "v").unwrap()),
            cond_t.as_ref(),
        )
        .unwrap()
        .as_vec();
    for k in 0..q.nrows() {
        let vav: f32 = (0..dim)
            .flat_map(|i| (0..dim).map(move |j| (i, j)))
            .map(|(i, j)| v[[k, i]] * a[[k, i, j]] * v[[k, j]])
            .sum();
        assert!(
            (speed[k] - vav).abs() < 1e-4 * (1.0 + vav.abs()),
            "{} vs {vav}",
            speed[k]
        );
    }
}

#[test]
fn givens_metric_is_spd_with_budget_trace_in_2_3_16_dims() {
    let dev: Device = default_device(3);
    for (dim, trace) in [(2, 1.1f32), (3, 1.2), (16, 2.5)] {
        let metric = GivensMetric::builder(dim).hidden(&[32, 32]).build(&dev).unwrap();
        assert!((metric.eigenvalues().trace(dim) - trace).abs() < 1e-6);
        check_givens(&metric, dim, dim as u64, None);
    }
    // A budget above d makes the clip at λ_max active for some weights; eigenvalues stay in range.
    let capped = GivensMetric::builder(3)
        .hidden(&[8])
        .eigenvalues(Eigenvalues::Budget {
            min: 0.2,
            max: 2.0,
            budget: Some(2.0),
            temperature: 1.0,
        })
        .build(&dev)
        .unwrap();
    check_givens(&capped, 3, 9, None);
}

#[test]
fn nlot_metric_has_eigenvalues_one_and_a_tenth() {
    let dev: Device = default_device(4);
    let metric = GivensMetric::nlot(&dev).unwrap();
    assert_eq!(
        metric.num_params(),
        (2 * 128 + 128) + (128 * 128 + 128) + (128 * 2 + 2)
    );
    check_givens(&metric, 2, 5, None);
    let a = metric.matrix_at(&random_points(3, 2, 1.0, 6), None).unwrap();
    for k in 0..3 {
        let (mut e, _) = a
            .index_axis(ndarray::Axis(0), k)
            .mapv(f64::from)
            .eigh(UPLO::Lower)
            .unwrap();
        e.as_slice_mut().unwrap().sort_by(f64::total_cmp);
        assert!((e[0] - 0.1).abs() < 1e-5 && (e[1] - 1.0).abs() < 1e-5, "{e}");
    }
}

#[test]
fn conditional_givens_metric_uses_its_condition() {
    let dev: Device = default_device(5);
    let metric = GivensMetric::builder(3)
        .hidden(&[16, 16])
        .condition(2)
        .build(&dev)
        .unwrap();
    assert!(metric.is_conditional());
    let c0 = Array2::from_elem((4, 2), 0.0f32);
    let c1 = Array2::from_elem((4, 2), 1.0f32);
    check_givens(&metric, 3, 11, Some(&c0));
    let q = random_points(4, 3, 1.0, 12);
    let (a0, a1) = (
        metric.matrix_at(&q, Some(&c0)).unwrap(),
        metric.matrix_at(&q, Some(&c1)).unwrap(),
    );
    assert!((&a0 - &a1).mapv(f32::abs).sum() > 1e-4, "the condition changes G");
    assert!(matches!(
        metric.matrix_at(&q, None),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        metric.matrix_at(&q, Some(&Array2::zeros((4, 3)))),
        Err(Error::Shape { .. })
    ));
}

#[test]
fn givens_gradients_match_finite_differences() {
    let dev: Device = default_device(6);
    for dim in [2, 3] {
        let metric = GivensMetric::builder(dim)
            .hidden(&[16])
            .activation(Activation::Tanh)
            .build(&dev)
            .unwrap();
        let q = random_points(2, dim, 1.0, 20 + dim as u64);
        let v = random_points(2, dim, 1.0, 30 + dim as u64);
        check_speed_gradients(&metric, &q, &v, 1e-2, 2e-2);
    }
}

#[test]
fn givens_parameter_gradient_matches_finite_difference() {
    let dev: Device = default_device(7);
    let mut metric = GivensMetric::builder(3)
        .hidden(&[8])
        .activation(Activation::Tanh)
        .build(&dev)
        .unwrap();
    let q = array_to_tensor(&dev, &random_points(5, 3, 1.0, 40), "q").unwrap();
    let v = array_to_tensor(&dev, &random_points(5, 3, 1.0, 41), "v").unwrap();
    let loss = |m: &GivensMetric| {
        m.squared_speed(traced(&q), traced(&v), None)
            .unwrap()
            .sum::<Rank0, _>()
    };
    let mut grads = loss(&metric).backward();
    let analytic = metric.gradients(&mut grads).unwrap();
    // First weight matrix entry [0, 1] and the last bias entry (an eigenvalue logit).
    let n_params = metric.params().len();
    for (p, index) in [(0usize, 1usize), (n_params - 1, 0)] {
        let h = 1e-2;
        let original = metric.params()[p].as_vec();
        let shape = *metric.params()[p].shape();
        let mut shifted = |delta: f32| {
            let mut values = original.clone();
            values[index] += delta;
            *metric.params_mut()[p] = dev.tensor_from_vec(values, shape);
            loss(&metric).array()
        };
        let fd = (shifted(h) - shifted(-h)) / (2.0 * h);
        *metric.params_mut()[p] = dev.tensor_from_vec(original.clone(), shape);
        let ad = analytic[p].as_vec()[index];
        assert!(
            (ad - fd).abs() <= 2e-2 * (1.0 + fd.abs()),
            "param {p}[{index}]: {ad} vs {fd}"
        );
        assert!(ad.abs() > 1e-6, "the gradient reaches parameter {p}");
    }
}

#[test]
fn typed_errors_for_wrong_dims() {
    let dev: Device = default_device(0);
    let q3 = array_to_tensor(&dev, &Array2::zeros((2, 3)), "q").unwrap();
    let err = ScarvelisMetric::circle()
        .squared_speed(traced(&q3), traced(&q3), None)
        .unwrap_err();
    assert!(matches!(err, Error::Shape { .. }));
    assert!(matches!(
        Metric::<Device>::matrix_at(&ScarvelisMetric::vee(), &Array2::zeros((2, 3)), None),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        Metric::<Device>::matrix_at(&ScarvelisMetric::vee(), &array![[f32::NAN, 0.0]], None),
        Err(Error::NonFinite(_))
    ));
    assert!(matches!(
        GivensMetric::builder(1).build(&dev),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        GivensMetric::builder(3)
            .eigenvalues(Eigenvalues::Fixed(vec![1.0, 0.1]))
            .build(&dev),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        GivensMetric::builder(2)
            .eigenvalues(Eigenvalues::Fixed(vec![1.0, -0.1]))
            .build(&dev),
        Err(Error::InvalidArgument(_))
    ));
    let metric = GivensMetric::builder(2).hidden(&[4]).build(&dev).unwrap();
    assert!(matches!(
        metric.matrix_at(&Array2::zeros((2, 3)), None),
        Err(Error::Shape { .. })
    ));
}

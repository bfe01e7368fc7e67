//! Batched L-BFGS: convergence to known minimisers, per-problem independence, failure reporting, and
//! the line-search conditions at every accepted step.

use std::cell::RefCell;
use std::collections::HashMap;

use lagrangian_ot::optim::{Lbfgs, LbfgsConfig, LbfgsResult, LineSearch, LineSearchFailure, Status};
use lagrangian_ot::{Error, Result};
use ndarray::{Array1, Array2, ArrayView1};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Values and gradients of a per-row function evaluated in f64 and returned in f32, as a batched
/// objective would.
fn batched(
    f: impl Fn(usize, &[f64]) -> (f64, Vec<f64>),
) -> impl FnMut(&Array2<f32>) -> Result<(Array1<f32>, Array2<f32>)> {
    move |x: &Array2<f32>| {
        let mut values = Array1::zeros(x.nrows());
        let mut grads = Array2::zeros(x.raw_dim());
        for (i, row) in x.outer_iter().enumerate() {
            let (v, g) = f(i, &widen(row));
            values[i] = v as f32;
            grads
                .row_mut(i)
                .iter_mut()
                .zip(&g)
                .for_each(|(o, &gj)| *o = gj as f32);
        }
        Ok((values, grads))
    }
}

fn widen(row: ArrayView1<'_, f32>) -> Vec<f64> {
    row.iter().map(|&v| v as f64).collect()
}

/// Extended Rosenbrock: Σ 100 (x_{k+1} - x_k²)² + (1 - x_k)², minimum 0 at (1, ..., 1).
fn rosenbrock(x: &[f64]) -> (f64, Vec<f64>) {
    rosenbrock_with(100.0, x)
}

/// Extended Rosenbrock with valley stiffness `b` (100 is the classic, badly scaled one).
fn rosenbrock_with(b: f64, x: &[f64]) -> (f64, Vec<f64>) {
    let mut value = 0.0;
    let mut grad = vec![0.0; x.len()];
    for k in 0..x.len() - 1 {
        let (valley, offset) = (x[k + 1] - x[k] * x[k], 1.0 - x[k]);
        value += b * valley * valley + offset * offset;
        grad[k] += -4.0 * b * valley * x[k] - 2.0 * offset;
        grad[k + 1] += 2.0 * b * valley;
    }
    (value, grad)
}

/// The two general-purpose searches; the reference's backtracking Wolfe search cannot lengthen
/// steps and is tested on well-scaled problems only.
fn line_searches() -> [LineSearch; 2] {
    [LineSearch::strong_wolfe(), LineSearch::armijo()]
}

fn assert_rosenbrock_solved(result: &LbfgsResult) {
    assert!(result.all_converged(), "{result}: {:?}", result.status);
    for (i, row) in result.x.outer_iter().enumerate() {
        for &v in row {
            assert!((v - 1.0).abs() < 1e-4, "problem {i} ended at {row}");
        }
    }
}

#[test]
fn rosenbrock_2d_from_several_starts() {
    let starts = [
        [-1.2, 1.0],
        [2.0, 2.0],
        [-1.0, -1.0],
        [0.0, 0.0],
        [1.5, -0.5],
        [0.9, 1.1],
    ];
    let x0 = Array2::from_shape_fn((starts.len(), 2), |(i, j)| starts[i][j]);
    for line_search in line_searches() {
        let config = LbfgsConfig {
            max_iters: 200,
            line_search,
            curvature_safeguard: true,
            ..Default::default()
        };
        let result = Lbfgs::new(config)
            .unwrap()
            .minimize(x0.clone(), batched(|_, x| rosenbrock(x)))
            .unwrap();
        assert_rosenbrock_solved(&result);
        // Problems stop on their own schedule: the start next to the minimum needs far fewer iterations.
        let (easy, hard) = (result.iterations[5], result.iterations[0]);
        assert!(easy < hard, "iterations {:?}", result.iterations);
        assert!(result.grad_norm.iter().all(|&g| g <= 1e-5));
    }
}

#[test]
fn rosenbrock_10d_from_several_starts() {
    let mut rng = StdRng::seed_from_u64(7);
    let n = 10;
    let mut x0 = Array2::from_shape_fn((5, n), |_| rng.gen_range(0.5..1.5));
    x0.row_mut(0).fill(0.0);
    x0.row_mut(1)
        .iter_mut()
        .enumerate()
        .for_each(|(k, v)| *v = if k % 2 == 0 { 0.2 } else { 1.8 });
    for line_search in line_searches() {
        // In 10-D the f32 rounding of x alone puts ~3e-5 of noise on the gradient, so 1e-5 is out of reach.
        let config = LbfgsConfig {
            max_iters: 500,
            grad_tol: 2e-4,
            line_search,
            curvature_safeguard: true,
            ..Default::default()
        };
        let result = Lbfgs::new(config)
            .unwrap()
            .minimize(x0.clone(), batched(|_, x| rosenbrock(x)))
            .unwrap();
        assert_rosenbrock_solved(&result);
        let first = result.iterations[0];
        assert!(
            result.iterations.iter().any(|&k| k != first),
            "iterations {:?}",
            result.iterations
        );
    }
}

/// A random symmetric positive definite `A = Q diag(λ) Qᵀ` with eigenvalues log-spaced from
/// `top / condition` to `top`, returned with its eigen-decomposition.
struct Quadratic {
    a: Vec<Vec<f64>>,
    b: Vec<f64>,
    minimiser: Vec<f64>,
    smallest_eigenvalue: f64,
}

impl Quadratic {
    fn random(n: usize, condition: f64, rng: &mut StdRng) -> Self {
        // Gram-Schmidt on a random Gaussian-ish matrix gives a random orthogonal Q.
        let mut q: Vec<Vec<f64>> = Vec::new();
        while q.len() < n {
            let mut v: Vec<f64> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
            for u in &q {
                let p: f64 = v.iter().zip(u).map(|(a, b)| a * b).sum();
                v.iter_mut().zip(u).for_each(|(a, b)| *a -= p * b);
            }
            let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
            if norm > 1e-3 {
                q.push(v.into_iter().map(|a| a / norm).collect());
            }
        }
        let top = 10.0;
        let lambda: Vec<f64> = (0..n)
            .map(|k| top * condition.powf(-(k as f64) / ((n - 1) as f64)))
            .collect();
        let a = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| (0..n).map(|k| q[k][i] * lambda[k] * q[k][j]).sum())
                    .collect()
            })
            .collect();
        let b: Vec<f64> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
        // x* = Q diag(1/λ) Qᵀ b.
        let coords: Vec<f64> = (0..n)
            .map(|k| q[k].iter().zip(&b).map(|(u, v)| u * v).sum::<f64>() / lambda[k])
            .collect();
        let minimiser = (0..n)
            .map(|i| (0..n).map(|k| q[k][i] * coords[k]).sum())
            .collect();
        Quadratic {
            a,
            b,
            minimiser,
            smallest_eigenvalue: top / condition,
        }
    }

    /// ½ xᵀA x - bᵀx and its gradient A x - b.
    fn eval(&self, x: &[f64]) -> (f64, Vec<f64>) {
        let ax: Vec<f64> = self
            .a
            .iter()
            .map(|row| row.iter().zip(x).map(|(a, v)| a * v).sum())
            .collect();
        let value = ax.iter().zip(x).map(|(a, v)| 0.5 * a * v).sum::<f64>() - dot(&self.b, x);
        (value, ax.iter().zip(&self.b).map(|(a, b)| a - b).collect())
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

#[test]
fn random_spd_quadratics_reach_closed_form_minimiser() {
    let mut rng = StdRng::seed_from_u64(11);
    let conditions = [1.0, 10.0, 100.0, 1000.0];
    for n in [5, 12, 30] {
        let problems: Vec<Quadratic> = conditions
            .iter()
            .map(|&c| Quadratic::random(n, c, &mut rng))
            .collect();
        for line_search in [
            LineSearch::strong_wolfe(),
            LineSearch::armijo(),
            LineSearch::reference(),
        ] {
            let config = LbfgsConfig {
                max_iters: 1000,
                line_search,
                ..Default::default()
            };
            let x0 = Array2::from_shape_fn((problems.len(), n), |_| rng.gen_range(-2.0..2.0));
            let result = Lbfgs::new(config)
                .unwrap()
                .minimize(x0, batched(|i, x| problems[i].eval(x)))
                .unwrap();
            assert!(result.all_converged(), "n = {n}: {result}");
            for (i, problem) in problems.iter().enumerate() {
                let x = widen(result.x.row(i));
                // For a strongly convex quadratic |x - x*| <= |∇f(x)| / λ_min, and |∇f| <= grad_tol.
                let bound = 1e-5 / problem.smallest_eigenvalue + 1e-6;
                let error = distance(&x, &problem.minimiser);
                assert!(
                    error <= bound,
                    "n = {n}, κ = {}: |x - x*| = {error:.2e} > {bound:.2e}",
                    conditions[i]
                );
            }
        }
    }
}

/// A batched objective as `Lbfgs::minimize` takes it.
type BatchObjective<'a> = dyn FnMut(&Array2<f32>) -> Result<(Array1<f32>, Array2<f32>)> + 'a;

/// Every evaluated point (by the bit patterns of its coordinates) with the value and gradient returned.
type Recording = HashMap<Vec<u32>, (f32, Vec<f32>)>;

/// Runs `config` on `x0` with `max_iters = 0, 1, ..., iters` and returns the point after each,
/// which is the iterate sequence of one long run (the runs are deterministic).
fn iterates(
    config: LbfgsConfig,
    x0: &Array2<f32>,
    objective: &mut BatchObjective<'_>,
    iters: usize,
) -> Vec<LbfgsResult> {
    (0..=iters)
        .map(|k| {
            let config = LbfgsConfig {
                max_iters: k,
                min_iters: 0,
                ..config
            };
            Lbfgs::new(config)
                .unwrap()
                .minimize(x0.clone(), &mut *objective)
                .unwrap()
        })
        .collect()
}

/// Every accepted step satisfies the line search's conditions, evaluated on the values and gradients
/// the objective actually returned (looked up in a recording of all its evaluations). A mildly scaled
/// Rosenbrock keeps the reference's backtracking Wolfe search in its working range.
#[test]
fn every_accepted_step_satisfies_the_line_search_conditions() {
    let x0 = Array2::from_shape_vec((3, 2), vec![-1.2, 1.0, 2.0, 2.0, -0.5, 0.3]).unwrap();
    for line_search in [
        LineSearch::Armijo {
            c1: 0.3,
            shrink: 0.5,
            max_steps: 40,
        },
        LineSearch::StrongWolfe {
            c1: 1e-4,
            c2: 0.5,
            max_steps: 40,
        },
        LineSearch::BacktrackingWolfe {
            c1: 1e-4,
            c2: 0.9,
            shrink: 0.8,
            max_steps: 40,
        },
    ] {
        let config = LbfgsConfig {
            line_search,
            on_line_search_failure: LineSearchFailure::Stop,
            curvature_safeguard: true,
            ..Default::default()
        };
        let seen: RefCell<Recording> = RefCell::default();
        let mut inner = batched(|_, x| rosenbrock_with(5.0, x));
        let mut recording = |x: &Array2<f32>| {
            let (values, grads) = inner(x)?;
            for (i, row) in x.outer_iter().enumerate() {
                let key = row.iter().map(|v| v.to_bits()).collect();
                seen.borrow_mut().insert(key, (values[i], grads.row(i).to_vec()));
            }
            Ok((values, grads))
        };
        let runs = iterates(config, &x0, &mut recording, 25);
        let lookup = |row: ArrayView1<'_, f32>| {
            let key: Vec<u32> = row.iter().map(|v| v.to_bits()).collect();
            seen.borrow()
                .get(&key)
                .cloned()
                .expect("every iterate was evaluated")
        };
        let mut checked = 0;
        for k in 1..runs.len() {
            for i in 0..x0.nrows() {
                if runs[k].iterations[i] != k {
                    continue; // stopped before iteration k
                }
                assert_eq!(runs[k].line_search_failures[i], 0);
                let (before, after) = (runs[k - 1].x.row(i), runs[k].x.row(i));
                let (f0, g0) = lookup(before);
                let (f1, g1) = lookup(after);
                let step: Vec<f64> = after
                    .iter()
                    .zip(before)
                    .map(|(a, b)| *a as f64 - *b as f64)
                    .collect();
                let slope0: f64 = g0.iter().zip(&step).map(|(g, s)| *g as f64 * s).sum();
                let slope1: f64 = g1.iter().zip(&step).map(|(g, s)| *g as f64 * s).sum();
                let (c1, c2) = match line_search {
                    LineSearch::Armijo { c1, .. } => (c1, f64::INFINITY),
                    LineSearch::StrongWolfe { c1, c2, .. } | LineSearch::BacktrackingWolfe { c1, c2, .. } => {
                        (c1, c2)
                    }
                };
                // Sufficient decrease, compared at f32 precision (see `LineSearch`).
                let bound = (f0 as f64 + c1 * slope0) as f32;
                assert!(f1 <= bound, "Armijo fails at problem {i}, iteration {k}");
                assert!(
                    slope1.abs() <= c2 * slope0.abs(),
                    "curvature fails at problem {i}, iteration {k}"
                );
                assert!(slope0 < 0.0, "not a descent step at problem {i}, iteration {k}");
                checked += 1;
            }
        }
        assert!(
            checked >= 20,
            "{line_search:?}: only {checked} steps checked; {}",
            runs[runs.len() - 1]
        );
    }
}

#[test]
fn max_step_caps_every_step() {
    let problem = Quadratic::random(4, 10.0, &mut StdRng::seed_from_u64(3));
    let x0 = Array2::from_elem((1, 4), 5.0);
    let config = LbfgsConfig {
        max_step: Some(0.1),
        ..Default::default()
    };
    let mut objective = batched(|_, x| problem.eval(x));
    let runs = iterates(config, &x0, &mut objective, 15);
    for k in 1..runs.len() {
        let step = distance(&widen(runs[k].x.row(0)), &widen(runs[k - 1].x.row(0)));
        assert!(
            step <= 0.1 * (1.0 + 1e-5) && step > 0.0,
            "step {k} has length {step}"
        );
    }
}

/// One problem is unbounded below, one is NaN at its start, one turns NaN beyond a radius while
/// decreasing towards it; each is reported, and the well-posed problems give exactly what they give
/// when solved alone.
#[test]
fn ill_posed_problems_are_reported_and_do_not_disturb_the_others() {
    let mut rng = StdRng::seed_from_u64(5);
    let good = [
        Quadratic::random(3, 50.0, &mut rng),
        Quadratic::random(3, 5.0, &mut rng),
    ];
    let objective = |i: usize, x: &[f64]| -> (f64, Vec<f64>) {
        let r2 = dot(x, x);
        match i {
            0 => good[0].eval(x),
            1 => (-r2, x.iter().map(|v| -2.0 * v).collect()),
            2 => (f64::NAN, vec![f64::NAN; 3]),
            3 if r2.sqrt() > 4.0 => (f64::NAN, vec![f64::NAN; 3]),
            3 => (-r2, x.iter().map(|v| -2.0 * v).collect()),
            _ => good[1].eval(x),
        }
    };
    let x0 = Array2::from_shape_fn((5, 3), |(i, j)| 0.5 + 0.1 * (i + j) as f32);
    for on_line_search_failure in [LineSearchFailure::Stop, LineSearchFailure::TakeLastTrial] {
        let config = LbfgsConfig {
            max_iters: 200,
            curvature_safeguard: true,
            on_line_search_failure,
            line_search: LineSearch::armijo(),
            ..Default::default()
        };
        let lbfgs = Lbfgs::new(config).unwrap();
        let result = lbfgs.minimize(x0.clone(), batched(objective)).unwrap();
        assert_eq!(result.status[0], Status::Converged, "{result}");
        assert_eq!(result.status[4], Status::Converged, "{result}");
        assert_ne!(result.status[1], Status::Converged, "unbounded problem: {result}");
        assert_eq!(result.status[2], Status::NonFinite);
        assert_eq!(result.iterations[2], 0);
        assert!(result.value[2].is_nan());
        // Stuck at the NaN boundary: it cannot converge, stays finite and inside the radius.
        assert!(
            result.status[3].is_failure() || result.status[3] == Status::MaxIters,
            "{result}"
        );
        assert!(result.value[3].is_finite() && result.x.row(3).iter().all(|v| v.is_finite()));
        assert!(result.x.row(3).dot(&result.x.row(3)).sqrt() <= 4.0);
        assert!(result.num_failed() >= 1 && !result.all_converged());
        for i in [0, 4] {
            let alone = lbfgs.minimize(
                x0.slice(ndarray::s![i..i + 1, ..]).to_owned(),
                batched(|_, x| objective(i, x)),
            );
            let alone = alone.unwrap();
            assert_eq!(alone.x.row(0), result.x.row(i));
            assert_eq!(alone.iterations[0], result.iterations[i]);
            let minimiser = &good[if i == 0 { 0 } else { 1 }].minimiser;
            assert!(distance(&widen(result.x.row(i)), minimiser) < 1e-3);
        }
    }
}

/// `minimize_active` hands over only running problems, with their indices, and gives the same
/// results as `minimize`; `minimize` keeps stopped problems' rows at their final point.
#[test]
fn active_set_and_full_batch_agree() {
    let starts = [[-1.2f32, 1.0], [0.99, 0.98], [2.0, 2.0], [1.0, 1.0]];
    let x0 = Array2::from_shape_fn((4, 2), |(i, j)| starts[i][j]);
    let lbfgs = Lbfgs::new(LbfgsConfig {
        max_iters: 200,
        ..Default::default()
    })
    .unwrap();

    let full_rounds: RefCell<Vec<Array2<f32>>> = RefCell::default();
    let mut inner = batched(|_, x| rosenbrock(x));
    let full = lbfgs
        .minimize(x0.clone(), |x: &Array2<f32>| {
            full_rounds.borrow_mut().push(x.clone());
            inner(x)
        })
        .unwrap();

    let mut sizes = Vec::new();
    let active = lbfgs
        .minimize_active(x0.clone(), |x: &Array2<f32>, problems: &[usize]| {
            sizes.push(problems.len());
            assert_eq!(x.nrows(), problems.len());
            assert!(problems.windows(2).all(|w| w[0] < w[1]));
            let (values, grads) = batched(|_, x| rosenbrock(x))(x)?;
            Ok((values, grads))
        })
        .unwrap();

    assert_eq!(full.x, active.x);
    assert_eq!(full.iterations, active.iterations);
    assert_eq!(full.status, active.status);
    assert_eq!(full.batch_calls, active.batch_calls);
    assert_eq!(sizes[0], 4);
    assert!(
        sizes.windows(2).all(|w| w[0] >= w[1]) && *sizes.last().unwrap() < 4,
        "{sizes:?}"
    );
    // Total evaluations = sum of active-set sizes.
    assert_eq!(
        active.evaluations.iter().sum::<usize>(),
        sizes.iter().sum::<usize>()
    );
    // Problem 1 converges long before problem 0: after its last evaluation, its row is frozen at
    // the final point.
    let rounds = full_rounds.borrow();
    let last = full.evaluations[1];
    assert!(last < rounds.len());
    for round in &rounds[last..] {
        assert_eq!(round.row(1), full.x.row(1));
    }
}

/// The reference always takes a first iteration (jaxopt checks the tolerance only from the second
/// on); `min_iters = 0` stops at once.
#[test]
fn first_iteration_is_always_taken_by_default() {
    let problem = Quadratic::random(3, 4.0, &mut StdRng::seed_from_u64(9));
    let near: Vec<f32> = problem.minimiser.iter().map(|&v| v as f32 + 1e-6).collect();
    let x0 = Array2::from_shape_vec((1, 3), near).unwrap();
    let (_, g) = problem.eval(&widen(x0.row(0)));
    assert!(
        dot(&g, &g).sqrt() < 1e-5,
        "start must already satisfy the tolerance"
    );

    let default = Lbfgs::default()
        .minimize(x0.clone(), batched(|_, x| problem.eval(x)))
        .unwrap();
    assert_eq!(default.iterations[0], 1);
    assert_eq!(default.status[0], Status::Converged);

    let eager = Lbfgs::new(LbfgsConfig {
        min_iters: 0,
        ..Default::default()
    })
    .unwrap();
    let eager = eager
        .minimize(x0.clone(), batched(|_, x| problem.eval(x)))
        .unwrap();
    assert_eq!(eager.iterations[0], 0);
    assert_eq!(eager.x, x0);
    assert_eq!(eager.evaluations[0], 1);
}

#[test]
fn iteration_cap_and_value_tolerance() {
    let x0 = Array2::from_shape_vec((1, 2), vec![-1.2f32, 1.0]).unwrap();
    let capped = Lbfgs::new(LbfgsConfig {
        max_iters: 3,
        ..Default::default()
    })
    .unwrap();
    let capped = capped
        .minimize(x0.clone(), batched(|_, x| rosenbrock(x)))
        .unwrap();
    assert_eq!((capped.status[0], capped.iterations[0]), (Status::MaxIters, 3));
    assert!(capped.to_string().contains("1 max iterations"), "{capped}");

    let tol = 1e-3;
    let loose = LbfgsConfig {
        max_iters: 200,
        rel_value_tol: tol,
        ..Default::default()
    };
    let mut objective = batched(|_, x| rosenbrock(x));
    let loose_result = Lbfgs::new(loose)
        .unwrap()
        .minimize(x0.clone(), &mut objective)
        .unwrap();
    let k = loose_result.iterations[0];
    assert_eq!(loose_result.status[0], Status::Converged);
    assert!(
        loose_result.grad_norm[0] > 1e-5,
        "stopped by the value test, not the gradient test"
    );
    // The last step changed the value by at most tol·max(1, |f|), the one before by more.
    let runs = iterates(loose, &x0, &mut objective, k);
    let change = |j: usize| (runs[j].value[0] - runs[j - 1].value[0]).abs() as f64;
    assert!(change(k) <= tol * (runs[k].value[0].abs() as f64).max(1.0));
    assert!(change(k - 1) > tol * (runs[k - 1].value[0].abs() as f64).max(1.0));
}

#[test]
fn bad_inputs_are_typed_errors() {
    let lbfgs = Lbfgs::default();
    let quadratic = || batched(|_, x: &[f64]| (dot(x, x), x.iter().map(|v| 2.0 * v).collect()));
    assert!(matches!(
        lbfgs.minimize(Array2::zeros((0, 2)), quadratic()),
        Err(Error::Empty(_))
    ));
    assert!(matches!(
        lbfgs.minimize(Array2::zeros((2, 0)), quadratic()),
        Err(Error::Empty(_))
    ));
    let mut nan = Array2::zeros((2, 2));
    nan[[1, 0]] = f32::NAN;
    assert!(matches!(
        lbfgs.minimize(nan, quadratic()),
        Err(Error::NonFinite(_))
    ));
    let wrong = |x: &Array2<f32>| Ok((Array1::zeros(x.nrows()), Array2::zeros((x.nrows(), 3))));
    assert!(matches!(
        lbfgs.minimize(Array2::ones((2, 2)), wrong),
        Err(Error::Shape { .. })
    ));
    let failing = |_: &Array2<f32>| Err(Error::InvalidArgument("objective refused".into()));
    assert!(
        matches!(lbfgs.minimize(Array2::ones((2, 2)), failing), Err(Error::InvalidArgument(m)) if m == "objective refused")
    );
    for config in [
        LbfgsConfig {
            grad_tol: -1.0,
            ..Default::default()
        },
        LbfgsConfig {
            step_growth: 0.5,
            ..Default::default()
        },
        LbfgsConfig {
            max_step: Some(0.0),
            ..Default::default()
        },
        LbfgsConfig {
            line_search: LineSearch::StrongWolfe {
                c1: 0.9,
                c2: 0.1,
                max_steps: 10,
            },
            ..Default::default()
        },
        LbfgsConfig {
            line_search: LineSearch::BacktrackingWolfe {
                c1: 1e-4,
                c2: 1.0,
                shrink: 0.5,
                max_steps: 10,
            },
            ..Default::default()
        },
        LbfgsConfig {
            line_search: LineSearch::Armijo {
                c1: 1e-4,
                shrink: 1.0,
                max_steps: 10,
            },
            ..Default::default()
        },
        LbfgsConfig {
            line_search: LineSearch::Armijo {
                c1: 1e-4,
                shrink: 0.5,
                max_steps: 0,
            },
            ..Default::default()
        },
    ] {
        assert!(
            matches!(Lbfgs::new(config), Err(Error::InvalidArgument(_))),
            "{config:?}"
        );
    }
}

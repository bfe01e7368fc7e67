//! Exact OT and Sinkhorn against brute force and closed forms.

use lagrangian_ot::metrics::{
    exact_ot, exact_ot_weighted, fit_gaussian, gaussian_w2_squared, sinkhorn, sinkhorn_divergence,
    wasserstein2, GroundCost, SinkhornConfig,
};
use ndarray::{array, concatenate, Array1, Array2, Axis};
use rand::Rng;
use rand_distr::StandardNormal;

fn random_cloud(rng: &mut impl Rng, n: usize, d: usize) -> Array2<f32> {
    Array2::from_shape_fn((n, d), |_| rng.sample::<f32, _>(StandardNormal))
}

fn ground(cost: GroundCost, a: ndarray::ArrayView1<f32>, b: ndarray::ArrayView1<f32>) -> f64 {
    let sq: f64 = a
        .iter()
        .zip(b.iter())
        .map(|(&p, &q)| (f64::from(p) - f64::from(q)).powi(2))
        .sum();
    match cost {
        GroundCost::SqEuclidean => sq,
        GroundCost::Euclidean => sq.sqrt(),
    }
}

/// All permutations of `0..n` (Heap's algorithm).
fn permutations(n: usize) -> Vec<Vec<usize>> {
    fn heap(k: usize, items: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if k <= 1 {
            out.push(items.clone());
            return;
        }
        for i in 0..k {
            heap(k - 1, items, out);
            let swap_with = if k % 2 == 0 { i } else { 0 };
            items.swap(swap_with, k - 1);
        }
    }
    let mut out = Vec::new();
    heap(n, &mut (0..n).collect(), &mut out);
    out
}

/// Minimum over all bijections of the mean ground cost between rows of two equal-size clouds.
fn brute_force_matching(x: &Array2<f32>, y: &Array2<f32>, cost: GroundCost) -> f64 {
    let n = x.nrows();
    permutations(n)
        .iter()
        .map(|perm| {
            perm.iter()
                .enumerate()
                .map(|(i, &j)| ground(cost, x.row(i), y.row(j)))
                .sum::<f64>()
                / n as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn assert_marginals(plan: &Array2<f64>, rows: &Array1<f64>, cols: &Array1<f64>) {
    assert!(plan.iter().all(|&p| p >= 0.0), "plan has negative entries");
    for (got, want) in plan.sum_axis(Axis(1)).iter().zip(rows.iter()) {
        assert!((got - want).abs() < 1e-12, "row sum {got} != {want}");
    }
    for (got, want) in plan.sum_axis(Axis(0)).iter().zip(cols.iter()) {
        assert!((got - want).abs() < 1e-12, "column sum {got} != {want}");
    }
}

fn uniform(n: usize) -> Array1<f64> {
    Array1::from_elem(n, 1.0 / n as f64)
}

#[test]
fn exact_ot_equals_best_permutation_for_small_clouds() {
    let mut rng = lagrangian_ot::device::rng(1);
    for n in 1..=7 {
        for d in [1, 2, 3] {
            let x = random_cloud(&mut rng, n, d);
            let y = random_cloud(&mut rng, n, d);
            for cost in [GroundCost::SqEuclidean, GroundCost::Euclidean] {
                let ot = exact_ot(&x, &y, cost).unwrap();
                let best = brute_force_matching(&x, &y, cost);
                assert!(
                    (ot.cost - best).abs() < 1e-9 * best.max(1.0),
                    "n={n} d={d} {cost:?}: {} vs {best}",
                    ot.cost
                );
                assert_marginals(&ot.plan, &uniform(n), &uniform(n));
                // The reported matching realises the reported cost.
                let assignment = ot.assignment.as_ref().unwrap();
                let matched: f64 = assignment
                    .iter()
                    .enumerate()
                    .map(|(i, &j)| ground(cost, x.row(i), y.row(j)))
                    .sum();
                assert!((matched / n as f64 - ot.cost).abs() < 1e-12);
            }
        }
    }
}

#[test]
fn one_dimensional_ot_is_the_sorted_matching() {
    let mut rng = lagrangian_ot::device::rng(2);
    let (x, y) = (
        random_cloud(&mut rng, 60, 1),
        random_cloud(&mut rng, 60, 1) * 2.0 + 1.0,
    );
    let sorted = |a: &Array2<f32>| {
        let mut v: Vec<f64> = a.iter().map(|&p| f64::from(p)).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let (xs, ys) = (sorted(&x), sorted(&y));
    let w2_squared: f64 = xs.iter().zip(&ys).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / 60.0;
    let w1: f64 = xs.iter().zip(&ys).map(|(a, b)| (a - b).abs()).sum::<f64>() / 60.0;
    let ot = exact_ot(&x, &y, GroundCost::SqEuclidean).unwrap();
    assert!((ot.cost - w2_squared).abs() < 1e-10);
    assert!((ot.w2_squared - w2_squared).abs() < 1e-10);
    assert!((wasserstein2(&x, &y).unwrap() - w2_squared.sqrt()).abs() < 1e-10);
    let ot1 = exact_ot(&x, &y, GroundCost::Euclidean).unwrap();
    assert!((ot1.cost - w1).abs() < 1e-10);
    // The W1 plan is also monotone here, so its squared-distance cost is W2² too... or larger.
    assert!(ot1.w2_squared >= w2_squared - 1e-10);
}

/// `exact_ot` for N != M against an N·M-by-N·M assignment in which each source is split into M
/// equal pieces and each sink into N.
#[test]
fn unequal_sizes_match_split_assignment() {
    let mut rng = lagrangian_ot::device::rng(3);
    for (n, m) in [(2, 3), (3, 2), (1, 5), (5, 1)] {
        let x = random_cloud(&mut rng, n, 2);
        let y = random_cloud(&mut rng, m, 2);
        let x_split = concatenate(Axis(0), &vec![x.view(); m]).unwrap();
        let y_split = concatenate(Axis(0), &vec![y.view(); n]).unwrap();
        for cost in [GroundCost::SqEuclidean, GroundCost::Euclidean] {
            let ot = exact_ot(&x, &y, cost).unwrap();
            let best = brute_force_matching(&x_split, &y_split, cost);
            assert!(
                (ot.cost - best).abs() < 1e-9,
                "({n},{m}) {cost:?}: {} vs {best}",
                ot.cost
            );
            assert_marginals(&ot.plan, &uniform(n), &uniform(m));
            assert!(ot.assignment.is_none());
        }
    }
    // Larger: transportation solver vs the assignment solver on the split problem.
    let (x, y) = (random_cloud(&mut rng, 6, 2), random_cloud(&mut rng, 9, 2));
    let x_split = concatenate(Axis(0), &vec![x.view(); 9]).unwrap();
    let y_split = concatenate(Axis(0), &vec![y.view(); 6]).unwrap();
    let direct = exact_ot(&x, &y, GroundCost::SqEuclidean).unwrap().cost;
    let split = exact_ot(&x_split, &y_split, GroundCost::SqEuclidean)
        .unwrap()
        .cost;
    assert!((direct - split).abs() < 1e-10, "{direct} vs {split}");
}

#[test]
fn duplicating_the_target_keeps_the_cost() {
    let mut rng = lagrangian_ot::device::rng(4);
    let (x, y) = (random_cloud(&mut rng, 25, 3), random_cloud(&mut rng, 25, 3));
    let y_twice = concatenate(Axis(0), &[y.view(), y.view()]).unwrap();
    let square = exact_ot(&x, &y, GroundCost::SqEuclidean).unwrap();
    let rectangular = exact_ot(&x, &y_twice, GroundCost::SqEuclidean).unwrap();
    assert!(
        (square.cost - rectangular.cost).abs() < 1e-10,
        "{} vs {}",
        square.cost,
        rectangular.cost
    );
    assert_marginals(&rectangular.plan, &uniform(25), &uniform(50));
}

/// Weighted 1-D OT with a convex cost is the monotone (quantile) coupling: integrate
/// |F⁻¹(t) − G⁻¹(t)|² over the merged breakpoints of the two cumulative weights.
#[test]
fn weighted_one_dimensional_ot_is_the_quantile_coupling() {
    let mut rng = lagrangian_ot::device::rng(5);
    let mut sorted_points = |k: usize| {
        let mut v: Vec<f64> = (0..k).map(|_| rng.sample::<f64, _>(StandardNormal)).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let (xs, ys) = (sorted_points(7), sorted_points(11));
    let mut weight_rng = lagrangian_ot::device::rng(6);
    let mut weights = |k: usize| {
        let w = Array1::from_shape_fn(k, |_| weight_rng.gen_range(0.1..1.0));
        let total = w.sum();
        w / total
    };
    let (a, b) = (weights(7), weights(11));
    let cost = Array2::from_shape_fn((7, 11), |(i, j)| (xs[i] - ys[j]).powi(2));

    let (mut i, mut j, mut left_a, mut left_b, mut quantile_cost): (usize, usize, f64, f64, f64) =
        (0, 0, a[0], b[0], 0.0);
    while i < 7 && j < 11 {
        let step = left_a.min(left_b);
        quantile_cost += step * cost[[i, j]];
        left_a -= step;
        left_b -= step;
        if left_a <= 1e-15 {
            i += 1;
            left_a = if i < 7 { a[i] } else { 0.0 };
        }
        if left_b <= 1e-15 {
            j += 1;
            left_b = if j < 11 { b[j] } else { 0.0 };
        }
    }
    let ot = exact_ot_weighted(&a, &b, &cost).unwrap();
    assert!(
        (ot.cost - quantile_cost).abs() < 1e-12,
        "{} vs {quantile_cost}",
        ot.cost
    );
    assert_marginals(&ot.plan, &a, &b);
}

#[test]
fn weighted_solver_with_uniform_weights_agrees_with_exact_ot() {
    let mut rng = lagrangian_ot::device::rng(7);
    let (x, y) = (random_cloud(&mut rng, 30, 2), random_cloud(&mut rng, 30, 2));
    let assignment = exact_ot(&x, &y, GroundCost::Euclidean).unwrap();
    let cost = Array2::from_shape_fn((30, 30), |(i, j)| {
        ground(GroundCost::Euclidean, x.row(i), y.row(j))
    });
    let weighted = exact_ot_weighted(&uniform(30), &uniform(30), &cost).unwrap();
    assert!(
        (assignment.cost - weighted.cost).abs() < 1e-12,
        "{} vs {}",
        assignment.cost,
        weighted.cost
    );
}

/// Sample W2² between two Gaussians against the Bures closed form.
///
/// To first order the sample W2² fluctuates like `∫φ d(μ_N − μ) + ∫ψ d(ν_N − ν)` with the
/// (quadratic) Kantorovich potentials φ, ψ. Here |∇φ| ≈ 2|m2 − m1| ≈ 4.5 over clouds of variance
/// ≈ 0.6 per axis, so sd(φ(X)) ≈ 3.5 and the fluctuation has sd ≈ √(2 · 12 / 1500) ≈ 0.13: we
/// allow 0.4 (3σ) against the true moments. The Bures formula on the *fitted* moments shares the
/// first-order term (the potentials are quadratic, so it depends on the same empirical moments),
/// leaving only the second-order bias ≈ log N / N ≈ 0.005–0.01 in 2-D: we allow 0.03.
#[test]
fn sample_w2_converges_to_bures() {
    let mut rng = lagrangian_ot::device::rng(8);
    let n = 1500;
    let (m1, l1) = (array![0.0, 0.0], array![[1.0, 0.0], [0.0, 0.5]]);
    let (m2, l2) = (array![2.0, 1.0], array![[1.2, 0.0], [0.6, 0.8]]);
    let sample = |rng: &mut rand::rngs::StdRng, mean: &Array1<f64>, factor: &Array2<f64>| {
        let z = Array2::from_shape_fn((n, 2), |_| rng.sample::<f64, _>(StandardNormal));
        (z.dot(&factor.t()) + mean).mapv(|v| v as f32)
    };
    let (x, y) = (sample(&mut rng, &m1, &l1), sample(&mut rng, &m2, &l2));
    let sample_w2_squared = exact_ot(&x, &y, GroundCost::SqEuclidean).unwrap().w2_squared;

    let truth = gaussian_w2_squared(&m1, &l1.dot(&l1.t()), &m2, &l2.dot(&l2.t())).unwrap();
    assert!(
        (sample_w2_squared - truth).abs() < 0.4,
        "sample {sample_w2_squared} vs Bures {truth}"
    );

    let (fm1, fc1) = fit_gaussian(&x).unwrap();
    let (fm2, fc2) = fit_gaussian(&y).unwrap();
    let fitted = gaussian_w2_squared(&fm1, &fc1, &fm2, &fc2).unwrap();
    assert!(
        (sample_w2_squared - fitted).abs() < 0.03,
        "sample {sample_w2_squared} vs fitted Bures {fitted}"
    );
}

#[test]
fn sinkhorn_divergence_tends_to_exact_ot() {
    let mut rng = lagrangian_ot::device::rng(9);
    let (x, y) = (random_cloud(&mut rng, 40, 2), random_cloud(&mut rng, 40, 2) + 0.5);
    let exact = exact_ot(&x, &y, GroundCost::SqEuclidean).unwrap().cost;
    let errors: Vec<f64> = [1.0, 0.3, 0.1, 0.03, 0.01]
        .iter()
        .map(|&eps| (sinkhorn_divergence(&x, &y, eps).unwrap() - exact).abs())
        .collect();
    for pair in errors.windows(2) {
        assert!(
            pair[1] <= pair[0] * 1.05 + 1e-6,
            "error not shrinking with epsilon: {errors:?}"
        );
    }
    assert!(
        errors[4] < 0.01 * exact,
        "at eps = 0.01: error {} vs exact {exact}",
        errors[4]
    );
}

/// At ε = 1e-3 on unit-scale data the log-domain iterations stay finite, and the entropic value
/// obeys `W ≤ OT_ε ≤ W + ε log N` (KL of a permutation plan to a⊗b is log N).
#[test]
fn sinkhorn_is_stable_at_small_epsilon() {
    let mut rng = lagrangian_ot::device::rng(10);
    let (x, y) = (random_cloud(&mut rng, 50, 2), random_cloud(&mut rng, 50, 2));
    let exact = exact_ot(&x, &y, GroundCost::SqEuclidean).unwrap().cost;
    let epsilon = 1e-3;
    let out = sinkhorn(
        &x,
        &y,
        &SinkhornConfig {
            epsilon,
            tol: 1e-4,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(out.converged, "did not converge in {} iterations", out.iterations);
    assert!(out.f.iter().chain(out.g.iter()).all(|v| v.is_finite()));
    assert_marginals_approx(&out.plan, 1e-4);
    assert!(
        out.cost >= exact - 1e-6 && out.cost <= exact + epsilon * 50f64.ln() + 1e-6,
        "{} vs exact {exact}",
        out.cost
    );
    assert!(
        (out.transport_cost - exact).abs() < 1e-3,
        "{} vs {exact}",
        out.transport_cost
    );
    let divergence = sinkhorn_divergence(&x, &y, epsilon).unwrap();
    assert!(
        (divergence - exact).abs() < 2e-3,
        "divergence {divergence} vs exact {exact}"
    );
}

fn assert_marginals_approx(plan: &Array2<f64>, tol: f64) {
    let (n, m) = plan.dim();
    let row_err: f64 = plan
        .sum_axis(Axis(1))
        .iter()
        .map(|r| (r - 1.0 / n as f64).abs())
        .sum();
    let col_err: f64 = plan
        .sum_axis(Axis(0))
        .iter()
        .map(|c| (c - 1.0 / m as f64).abs())
        .sum();
    assert!(
        row_err < tol && col_err < tol,
        "marginal errors {row_err}, {col_err}"
    );
}

#[test]
fn sinkhorn_scaling_reaches_the_same_fixed_point_and_large_epsilon_gives_the_product_plan() {
    let mut rng = lagrangian_ot::device::rng(11);
    let (x, y) = (random_cloud(&mut rng, 20, 2), random_cloud(&mut rng, 30, 2));
    let base = SinkhornConfig {
        epsilon: 0.05,
        tol: 1e-11,
        ..Default::default()
    };
    let scaled = sinkhorn(&x, &y, &base).unwrap();
    let plain = sinkhorn(
        &x,
        &y,
        &SinkhornConfig {
            epsilon_scaling: false,
            ..base.clone()
        },
    )
    .unwrap();
    assert!(scaled.converged && plain.converged);
    assert!(
        (scaled.cost - plain.cost).abs() < 1e-8,
        "{} vs {}",
        scaled.cost,
        plain.cost
    );
    assert_marginals_approx(&plain.plan, 1e-10);

    // Self-transport terms use a different (averaged) iteration; at the shared fixed point the
    // divergence of a cloud with itself vanishes.
    for cloud in [&x, &y] {
        let divergence = sinkhorn_divergence(cloud, cloud, 0.05).unwrap();
        assert!(divergence.abs() < 1e-6, "S(x, x) = {divergence}");
    }

    // ε → ∞: the plan tends to a⊗b, so <P, C> tends to the mean pairwise cost.
    let huge = sinkhorn(
        &x,
        &y,
        &SinkhornConfig {
            epsilon: 1e6,
            ..Default::default()
        },
    )
    .unwrap();
    let mean_cost: f64 = x
        .rows()
        .into_iter()
        .flat_map(|xi| {
            y.rows()
                .into_iter()
                .map(move |yj| ground(GroundCost::SqEuclidean, xi, yj))
        })
        .sum::<f64>()
        / 600.0;
    assert!(
        (huge.transport_cost - mean_cost).abs() < 1e-3 * mean_cost,
        "{} vs {mean_cost}",
        huge.transport_cost
    );
}

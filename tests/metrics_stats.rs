//! Chamfer, MMD, KDE, Gaussian (Bures) W2 and the alignment score against brute force and closed
//! forms.

use lagrangian_ot::metrics::{
    alignment_score, chamfer, fit_gaussian, gaussian_w2, gaussian_w2_squared, grid_2d, kde_log_likelihood,
    mmd, scott_bandwidth, silverman_bandwidth,
};
use ndarray::{array, s, Array1, Array2, Array3, ArrayView1, Axis};
use rand::Rng;
use rand_distr::StandardNormal;
use std::f64::consts::PI;

fn random_cloud(rng: &mut impl Rng, n: usize, d: usize) -> Array2<f32> {
    Array2::from_shape_fn((n, d), |_| rng.sample::<f32, _>(StandardNormal))
}

fn sq_dist(a: ArrayView1<f32>, b: ArrayView1<f32>) -> f64 {
    a.iter()
        .zip(b.iter())
        .map(|(&p, &q)| (f64::from(p) - f64::from(q)).powi(2))
        .sum()
}

#[test]
fn chamfer_matches_brute_force_and_vanishes_on_permuted_copies() {
    let mut rng = lagrangian_ot::device::rng(20);
    let (x, y) = (random_cloud(&mut rng, 17, 3), random_cloud(&mut rng, 23, 3));
    let directed = |a: &Array2<f32>, b: &Array2<f32>| {
        a.rows()
            .into_iter()
            .map(|ai| {
                b.rows()
                    .into_iter()
                    .map(|bj| sq_dist(ai, bj))
                    .fold(f64::INFINITY, f64::min)
            })
            .sum::<f64>()
            / a.nrows() as f64
    };
    let expected = directed(&x, &y) + directed(&y, &x);
    assert!((chamfer(&x, &y).unwrap() - expected).abs() < 1e-12);
    assert!((chamfer(&y, &x).unwrap() - expected).abs() < 1e-12);

    let reversed = x.slice(s![..;-1, ..]).to_owned();
    assert_eq!(chamfer(&x, &reversed).unwrap(), 0.0);
    // A large cloud takes the parallel path; it must agree with the same brute force.
    let (big_x, big_y) = (random_cloud(&mut rng, 300, 2), random_cloud(&mut rng, 200, 2));
    let expected = directed(&big_x, &big_y) + directed(&big_y, &big_x);
    assert!((chamfer(&big_x, &big_y).unwrap() - expected).abs() < 1e-10);
}

#[test]
fn mmd_matches_the_v_statistic_and_separates_shifted_clouds() {
    let mut rng = lagrangian_ot::device::rng(21);
    let (x, y) = (random_cloud(&mut rng, 9, 2), random_cloud(&mut rng, 13, 2));
    let bandwidths = [0.5, 2.0];
    let kernel_mean = |a: &Array2<f32>, b: &Array2<f32>| {
        let mut total = 0.0;
        for ai in a.rows() {
            for bj in b.rows() {
                total += bandwidths
                    .iter()
                    .map(|s| (-sq_dist(ai, bj) / (2.0 * s * s)).exp())
                    .sum::<f64>();
            }
        }
        total / (a.nrows() * b.nrows()) as f64
    };
    let expected = kernel_mean(&x, &x) + kernel_mean(&y, &y) - 2.0 * kernel_mean(&x, &y);
    assert!((mmd(&x, &y, &bandwidths).unwrap() - expected).abs() < 1e-12);

    let big = random_cloud(&mut rng, 200, 2);
    assert_eq!(mmd(&big, &big, &[1.0]).unwrap(), 0.0);
    let mut previous = 0.0;
    for shift in [0.25f32, 0.5, 1.0, 2.0] {
        let value = mmd(&big, &(&big + shift), &[1.0]).unwrap();
        assert!(
            value > previous,
            "MMD² should grow with the shift: {value} after {previous}"
        );
        previous = value;
    }
}

/// Mean log-density of standard normal samples under a KDE of other standard normal samples.
///
/// The KDE's expectation is the smoothed density `N(0, (1 + h²) I)`, whose log evaluated on the
/// *same* test points removes the test-sample noise; what is left is the KDE's own noise and
/// Jensen bias, ≈ 1 / (2 N 4π h² p) ≈ 1e-3 in the bulk for N = 4000, h = 0.3 (0.02 allowed).
/// Against the analytic expectation `−log(2π(1+h²)) − 1/(1+h²)` (d = 2) the test-sample mean adds
/// sd ≈ 0.92 / √2000 ≈ 0.02 (0.08 allowed, 4σ).
#[test]
fn kde_log_likelihood_of_a_standard_normal_approaches_the_smoothed_density() {
    let mut rng = lagrangian_ot::device::rng(22);
    let (train, test) = (random_cloud(&mut rng, 4000, 2), random_cloud(&mut rng, 2000, 2));
    let h: f64 = 0.3;
    let var = 1.0 + h * h;
    let kde = kde_log_likelihood(&train, &test, h).unwrap();

    let smoothed_on_test: f64 = test
        .rows()
        .into_iter()
        .map(|t| {
            let r2: f64 = t.iter().map(|&v| f64::from(v).powi(2)).sum();
            -(2.0 * PI * var).ln() - r2 / (2.0 * var)
        })
        .sum::<f64>()
        / 2000.0;
    assert!(
        (kde - smoothed_on_test).abs() < 0.02,
        "KDE {kde} vs smoothed density on the same points {smoothed_on_test}"
    );

    let analytic = -(2.0 * PI * var).ln() - 1.0 / var;
    assert!((kde - analytic).abs() < 0.08, "KDE {kde} vs analytic {analytic}");
}

#[test]
fn kde_matches_a_hand_computed_mixture_and_bandwidth_rules() {
    let train = array![[0.0f32, 0.0], [1.0, 2.0]];
    let test = array![[0.5f32, 0.5], [-1.0, 0.0], [1.0, 1.0]];
    let h: f64 = 0.7;
    let expected: f64 = test
        .rows()
        .into_iter()
        .map(|t| {
            let density: f64 = train
                .rows()
                .into_iter()
                .map(|x| (-sq_dist(t, x) / (2.0 * h * h)).exp() / (2.0 * PI * h * h))
                .sum::<f64>()
                / 2.0;
            density.ln()
        })
        .sum::<f64>()
        / 3.0;
    assert!((kde_log_likelihood(&train, &test, h).unwrap() - expected).abs() < 1e-12);

    // σ² = mean of the per-axis unbiased variances; n = 4, d = 2.
    let x = array![[0.0f32, 0.0], [2.0, 0.0], [0.0, 4.0], [2.0, 4.0]];
    let sigma = ((4.0 / 3.0 + 16.0 / 3.0) / 2.0f64).sqrt();
    assert!((scott_bandwidth(&x).unwrap() - sigma * 4f64.powf(-1.0 / 6.0)).abs() < 1e-12);
    assert!((silverman_bandwidth(&x).unwrap() - sigma * 4f64.powf(-1.0 / 6.0)).abs() < 1e-12);
    // n(d+2)/4 = 4
}

fn rotation(theta: f64) -> Array2<f64> {
    array![[theta.cos(), -theta.sin()], [theta.sin(), theta.cos()]]
}

#[test]
fn bures_closed_form_for_commuting_covariances() {
    let (a, b) = (array![0.3, 2.0, 5.0], array![1.5, 0.1, 5.0]);
    let (m1, m2) = (array![1.0, -2.0, 0.5], array![0.0, 1.0, 0.5]);
    let expected: f64 = (&m1 - &m2).mapv(|v: f64| v * v).sum()
        + a.iter()
            .zip(b.iter())
            .map(|(p, q): (&f64, &f64)| (p.sqrt() - q.sqrt()).powi(2))
            .sum::<f64>();
    let diagonal = gaussian_w2_squared(&m1, &Array2::from_diag(&a), &m2, &Array2::from_diag(&b)).unwrap();
    assert!((diagonal - expected).abs() < 1e-10, "{diagonal} vs {expected}");

    // Same eigenbasis, rotated: still commuting, same answer.
    let mut basis = Array2::<f64>::eye(3);
    basis.slice_mut(s![..2, ..2]).assign(&rotation(0.7));
    let rotate = |diag: &Array1<f64>| basis.dot(&Array2::from_diag(diag)).dot(&basis.t());
    let rotated = gaussian_w2_squared(&m1, &rotate(&a), &m2, &rotate(&b)).unwrap();
    assert!((rotated - expected).abs() < 1e-10, "{rotated} vs {expected}");
    assert!((gaussian_w2(&m1, &rotate(&a), &m2, &rotate(&b)).unwrap() - expected.sqrt()).abs() < 1e-10);

    // 1-D: (m1 − m2)² + (σ1 − σ2)².
    let one_d = gaussian_w2_squared(&array![1.0], &array![[4.0]], &array![3.0], &array![[9.0]]).unwrap();
    assert!((one_d - 5.0).abs() < 1e-12);
}

#[test]
fn bures_is_symmetric_and_zero_on_itself_for_non_commuting_covariances() {
    let c1 = array![[2.0, 0.9], [0.9, 1.0]];
    let c2 = array![[0.5, -0.3], [-0.3, 3.0]];
    let (m1, m2) = (array![0.0, 1.0], array![2.0, -1.0]);
    let forward = gaussian_w2_squared(&m1, &c1, &m2, &c2).unwrap();
    let backward = gaussian_w2_squared(&m2, &c2, &m1, &c1).unwrap();
    assert!((forward - backward).abs() < 1e-10, "{forward} vs {backward}");
    assert!(gaussian_w2_squared(&m1, &c1, &m1, &c1).unwrap() < 1e-12);
    // The Bures term lies strictly between 0 (c1 != c2) and tr c1 + tr c2 = 6.5.
    assert!(forward > 8.0 && forward < 8.0 + 6.5);
}

#[test]
fn fit_gaussian_matches_hand_moments() {
    let x = array![[1.0f32, 2.0], [3.0, 0.0], [2.0, 4.0]];
    let (mean, cov) = fit_gaussian(&x).unwrap();
    assert!((&mean - &array![2.0, 2.0]).iter().all(|v| v.abs() < 1e-12));
    // Deviations (−1, 0), (1, −2), (0, 2); divisor 2.
    let expected = array![[1.0, -1.0], [-1.0, 4.0]];
    assert!((&cov - &expected).iter().all(|v| v.abs() < 1e-12), "{cov}");
}

/// A field of symmetric 2×2 metrics with distinct eigenvalues and per-point random orientation.
fn metric_field(orientations: &[f64], extra_rotation: f64) -> Array3<f64> {
    let mut field = Array3::zeros((orientations.len(), 2, 2));
    for (k, &phi) in orientations.iter().enumerate() {
        let r = rotation(phi + extra_rotation);
        let eigenvalues = array![0.5 + k as f64 * 0.01, 3.0];
        field
            .index_axis_mut(Axis(0), k)
            .assign(&r.dot(&Array2::from_diag(&eigenvalues)).dot(&r.t()));
    }
    field
}

#[test]
fn alignment_is_one_for_identical_fields_and_cos_theta_for_rotated_ones() {
    let mut rng = lagrangian_ot::device::rng(23);
    let orientations: Vec<f64> = (0..50).map(|_| rng.gen_range(0.0..PI)).collect();
    let truth = metric_field(&orientations, 0.0);
    assert!((alignment_score(&truth, &truth).unwrap() - 1.0).abs() < 1e-12);
    for theta in [0.1, 0.6, 1.2, PI / 2.0, 2.5] {
        let learned = metric_field(&orientations, theta);
        let score = alignment_score(&truth, &learned).unwrap();
        assert!((score - theta.cos().abs()).abs() < 1e-10, "θ = {theta}: {score}");
    }
    // f32 fields work the same.
    let learned = metric_field(&orientations, 0.6).mapv(|v| v as f32);
    let score = alignment_score(&truth.mapv(|v| v as f32), &learned).unwrap();
    assert!((score - 0.6f64.cos()).abs() < 1e-5);
}

/// In 3-D, rotating about the z axis turns the two in-plane eigenvectors by θ and keeps the third:
/// score = (2|cos θ| + 1) / 3, whichever position the z eigenvalue has in the ascending order.
#[test]
fn alignment_in_three_dimensions() {
    let theta: f64 = 0.8;
    let mut rz = Array2::<f64>::eye(3);
    rz.slice_mut(s![..2, ..2]).assign(&rotation(theta));
    let base = Array2::from_diag(&array![1.0, 4.0, 2.0]); // z eigenvalue in the middle
    let truth = base.clone().insert_axis(Axis(0));
    let learned = rz.dot(&base).dot(&rz.t()).insert_axis(Axis(0));
    let score = alignment_score(&truth, &learned).unwrap();
    assert!((score - (2.0 * theta.cos() + 1.0) / 3.0).abs() < 1e-10, "{score}");
}

#[test]
fn grid_covers_the_box_with_endpoints_and_x_fastest() {
    let g = grid_2d((-1.0, 3.0), (0.0, 1.0), 5);
    assert_eq!(g.dim(), (25, 2));
    assert_eq!(g.row(0).to_vec(), vec![-1.0, 0.0]);
    assert_eq!(g.row(4).to_vec(), vec![3.0, 0.0]);
    assert_eq!(g.row(5).to_vec(), vec![-1.0, 0.25]);
    assert_eq!(g.row(24).to_vec(), vec![3.0, 1.0]);
    let xs: Vec<f32> = g.column(0).iter().take(5).copied().collect();
    assert_eq!(xs, vec![-1.0, 0.0, 1.0, 2.0, 3.0]);
    assert_eq!(grid_2d((0.0, 1.0), (0.0, 1.0), 100).nrows(), 10_000);
    assert_eq!(grid_2d((0.0, 1.0), (0.0, 1.0), 0).dim(), (0, 2));
}

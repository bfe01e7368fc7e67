//! Toy samplers: moments against their closed forms, exact geometry at zero noise, argument
//! checks and determinism.

use lagrangian_ot::data::toy;
use lagrangian_ot::device::rng;
use lagrangian_ot::Error;
use ndarray::{array, Array2, Axis};

fn mean(x: &Array2<f32>) -> Vec<f64> {
    x.mapv(f64::from).mean_axis(Axis(0)).unwrap().to_vec()
}

fn covariance(x: &Array2<f32>) -> Array2<f64> {
    let x = x.mapv(f64::from);
    let centred = &x - &x.mean_axis(Axis(0)).unwrap();
    centred.t().dot(&centred) / (x.nrows() as f64 - 1.0)
}

#[test]
fn gaussian_has_the_requested_mean_and_std() {
    let n = 20_000;
    let x = toy::gaussian(&mut rng(0), n, &[1.0, -2.0, 0.5], 0.5).unwrap();
    assert_eq!(x.dim(), (n, 3));
    // Standard error of the mean is 0.5 / sqrt(n) = 0.0035; allow 5 of them.
    for (m, target) in mean(&x).into_iter().zip([1.0, -2.0, 0.5]) {
        assert!((m - target).abs() < 0.018, "mean {m} vs {target}");
    }
    let cov = covariance(&x);
    for i in 0..3 {
        assert!((cov[[i, i]] - 0.25).abs() < 0.015, "var {}", cov[[i, i]]);
        for j in 0..i {
            assert!(cov[[i, j]].abs() < 0.015, "cov {}", cov[[i, j]]);
        }
    }
}

#[test]
fn gaussian_with_cov_reproduces_the_covariance() {
    let target = array![[2.0f32, 0.6], [0.6, 0.5]];
    let x = toy::gaussian_with_cov(&mut rng(1), 40_000, &[3.0, -1.0], &target).unwrap();
    let cov = covariance(&x);
    for ((i, j), &t) in target.indexed_iter() {
        assert!(
            (cov[[i, j]] - t as f64).abs() < 0.05,
            "cov[{i},{j}] = {} vs {t}",
            cov[[i, j]]
        );
    }
    let m = mean(&x);
    assert!((m[0] - 3.0).abs() < 0.04 && (m[1] + 1.0).abs() < 0.02);
}

#[test]
fn gaussian_with_singular_cov_lies_on_a_line() {
    // cov = [[1, 2], [2, 4]] is rank one: x1 - 2 x0 is constant.
    let x =
        toy::gaussian_with_cov(&mut rng(2), 200, &[0.0, 1.0], &array![[1.0f32, 2.0], [2.0, 4.0]]).unwrap();
    for row in x.rows() {
        assert!((row[1] - 2.0 * row[0] - 1.0).abs() < 1e-4, "{row}");
    }
}

#[test]
fn gaussian_with_cov_rejects_bad_covariances() {
    let mean = [0.0f32, 0.0];
    let not_psd = array![[1.0f32, 2.0], [2.0, 1.0]];
    let asymmetric = array![[1.0f32, 0.5], [0.0, 1.0]];
    assert!(matches!(
        toy::gaussian_with_cov(&mut rng(0), 5, &mean, &not_psd),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        toy::gaussian_with_cov(&mut rng(0), 5, &mean, &asymmetric),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        toy::gaussian_with_cov(&mut rng(0), 5, &[0.0], &not_psd),
        Err(Error::Shape { .. })
    ));
}

#[test]
fn mixture_labels_are_balanced_and_points_near_their_mean() {
    let means = vec![vec![-5.0f32, 0.0], vec![5.0, 0.0], vec![0.0, 5.0]];
    let (x, labels) = toy::gaussian_mixture_with_labels(&mut rng(3), 3000, &means, 0.2).unwrap();
    for c in 0..3 {
        let share = labels.iter().filter(|&&l| l == c).count() as f64 / 3000.0;
        // Binomial std of a share is sqrt(2/9 / 3000) = 0.0086.
        assert!((share - 1.0 / 3.0).abs() < 0.04, "component {c}: {share}");
    }
    for (row, &c) in x.rows().into_iter().zip(&labels) {
        let m = &means[c as usize];
        let distance = ((row[0] - m[0]).powi(2) + (row[1] - m[1]).powi(2)).sqrt();
        assert!(distance < 0.2 * 6.0, "point {row} far from mean {m:?}");
    }
    let arrays: &[[f32; 2]] = &[[0.0, 0.0], [1.0, 1.0]];
    assert_eq!(
        toy::gaussian_mixture(&mut rng(3), 10, arrays, 0.1).unwrap().dim(),
        (10, 2)
    );
    assert!(matches!(
        toy::gaussian_mixture(&mut rng(3), 10, &[vec![0.0f32], vec![0.0, 1.0]], 0.1),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        toy::gaussian_mixture::<Vec<f32>>(&mut rng(3), 10, &[], 0.1),
        Err(Error::Empty(_))
    ));
}

#[test]
fn noiseless_moons_lie_on_their_arcs() {
    let (x, moon) = toy::moons_with_labels(&mut rng(4), 500, 0.0).unwrap();
    for (row, &m) in x.rows().into_iter().zip(&moon) {
        let (a, b) = (row[0], row[1]);
        if m == 0 {
            assert!((a.hypot(b) - 1.0).abs() < 1e-5 && b >= -1e-6);
        } else {
            assert!(((1.0 - a).hypot(0.5 - b) - 1.0).abs() < 1e-5 && b <= 0.5 + 1e-6);
        }
    }
    assert_eq!(moon.iter().filter(|&&m| m == 1).count(), 250);
    // Noise widens the cloud by about its std in each direction.
    let noisy = toy::moons(&mut rng(4), 4000, 0.1).unwrap();
    let off_arc = noisy
        .rows()
        .into_iter()
        .step_by(2)
        .map(|r| (r[0].hypot(r[1]) - 1.0).powi(2) as f64)
        .sum::<f64>()
        / 2000.0;
    assert!(
        (off_arc.sqrt() - 0.1).abs() < 0.02,
        "radial spread {}",
        off_arc.sqrt()
    );
}

#[test]
fn noiseless_circles_have_the_two_radii() {
    let (x, ring) = toy::circles_with_labels(&mut rng(5), 300, 0.0, 0.3).unwrap();
    for (row, &r) in x.rows().into_iter().zip(&ring) {
        let expected = if r == 0 { 1.0 } else { 0.3 };
        assert!((row[0].hypot(row[1]) - expected).abs() < 1e-5);
    }
    // Uniform angles: the mean of each ring is near the centre (std 1/sqrt(2*150) = 0.058).
    let m = mean(&toy::circles(&mut rng(5), 300, 0.0, 0.5).unwrap());
    assert!(m[0].abs() < 0.2 && m[1].abs() < 0.2);
    assert!(matches!(
        toy::circles(&mut rng(5), 10, 0.0, 1.0),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn uniform_box_stays_inside_with_uniform_moments() {
    let (lo, hi) = ([-1.0f32, 2.0], [3.0f32, 2.5]);
    let x = toy::uniform_box(&mut rng(6), 30_000, &lo, &hi).unwrap();
    let cov = covariance(&x);
    let m = mean(&x);
    for j in 0..2 {
        assert!(x.column(j).iter().all(|&v| v >= lo[j] && v <= hi[j]));
        let width = (hi[j] - lo[j]) as f64;
        assert!((m[j] - (lo[j] + hi[j]) as f64 / 2.0).abs() < 0.02 * width);
        assert!(
            (cov[[j, j]] / (width * width / 12.0) - 1.0).abs() < 0.03,
            "var ratio {}",
            cov[[j, j]] / (width * width / 12.0)
        );
    }
}

#[test]
fn samplers_reject_invalid_arguments() {
    assert!(matches!(
        toy::gaussian(&mut rng(0), 0, &[0.0], 1.0),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        toy::gaussian(&mut rng(0), 3, &[], 1.0),
        Err(Error::Empty(_))
    ));
    assert!(matches!(
        toy::gaussian(&mut rng(0), 3, &[f32::NAN], 1.0),
        Err(Error::NonFinite(_))
    ));
    assert!(matches!(
        toy::gaussian(&mut rng(0), 3, &[0.0], -0.1),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        toy::moons(&mut rng(0), 3, f32::INFINITY),
        Err(Error::NonFinite(_))
    ));
    assert!(matches!(
        toy::uniform_box(&mut rng(0), 3, &[0.0, 0.0], &[1.0]),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        toy::uniform_box(&mut rng(0), 3, &[2.0], &[1.0]),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn same_seed_same_cloud() {
    let a = toy::moons(&mut rng(42), 50, 0.05).unwrap();
    let b = toy::moons(&mut rng(42), 50, 0.05).unwrap();
    let c = toy::moons(&mut rng(43), 50, 0.05).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

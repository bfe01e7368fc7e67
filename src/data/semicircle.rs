//! The conditional semicircles of HTI's sanity check (HTI spec §8.1): four classes, each moving along
//! half of a unit circle as the "hyperparameter" t goes from 0 to 1.
//!
//! Class c has a centre and a mean angle μ_c(t): c = 0 upper arc around (−1, 0), μ = πt; c = 1 lower
//! arc around (−1, 0), μ = −πt; c = 2 upper arc around (1, 0), μ = π − πt; c = 3 lower arc around
//! (1, 0), μ = −π + πt. A sample has angle θ ~ vonMises(μ_c(t), κ = 5) and radius
//! r ~ LogNormal(0, σ = 0.05), at `centre + r (cos θ, sin θ)`. The shipped tensors hold t = 0, ½, 1;
//! the held-out times 0.25 and 0.75 are drawn here, and the closed-form density scores predictions.
//!
//! ```
//! use lagrangian_ot::data::semicircle;
//! let mut rng = lagrangian_ot::device::rng(0);
//! let (points, labels) = semicircle::sample(&mut rng, 0.25, 100)?;
//! assert_eq!((points.nrows(), labels.len()), (400, 400));
//! let nll = semicircle::negative_log_likelihood(&points, &labels, 0.25)?;
//! assert!(nll < 0.0, "true samples are likely under the true density: {nll}");
//! assert!(semicircle::circle_distance(&points, &labels)? < 0.06);
//! # Ok::<(), lagrangian_ot::Error>(())
//! ```

use ndarray::{Array1, Array2, ArrayView1};
use rand::Rng;
use rand_distr::{Distribution, LogNormal};

use crate::{Error, Result};

/// Number of classes.
pub const NUM_CLASSES: usize = 4;
/// Concentration κ of the angle.
pub const KAPPA: f64 = 5.0;
/// Log-scale σ of the radius.
pub const RADIUS_SIGMA: f64 = 0.05;
/// The held-out times the paper evaluates at.
pub const HELD_OUT_TIMES: [f32; 2] = [0.25, 0.75];

/// Centre of class `c`'s circle.
pub fn centre(class: usize) -> [f64; 2] {
    if class < 2 {
        [-1.0, 0.0]
    } else {
        [1.0, 0.0]
    }
}

/// Mean angle of class `c` at time `t`.
pub fn mean_angle(class: usize, t: f64) -> f64 {
    use std::f64::consts::PI;
    match class {
        0 => PI * t,
        1 => -PI * t,
        2 => PI - PI * t,
        _ => -PI + PI * t,
    }
}

fn check_time(t: f32) -> Result<()> {
    if !t.is_finite() || !(0.0..=1.0).contains(&t) {
        return Err(Error::OutOfRange {
            query: t as f64,
            lo: 0.0,
            hi: 1.0,
        });
    }
    Ok(())
}

fn check_class(label: i64) -> Result<usize> {
    usize::try_from(label)
        .ok()
        .filter(|&c| c < NUM_CLASSES)
        .ok_or_else(|| Error::InvalidArgument(format!("semicircle label {label} is not in 0..{NUM_CLASSES}")))
}

/// A von Mises draw by Best & Fisher's rejection sampler (rand_distr has no von Mises).
fn von_mises(rng: &mut impl Rng, mean: f64, kappa: f64) -> f64 {
    let tau = 1.0 + (1.0 + 4.0 * kappa * kappa).sqrt();
    let rho = (tau - (2.0 * tau).sqrt()) / (2.0 * kappa);
    let r = (1.0 + rho * rho) / (2.0 * rho);
    loop {
        let u1: f64 = rng.gen();
        let z = (std::f64::consts::PI * u1).cos();
        let f = (1.0 + r * z) / (r + z);
        let c = kappa * (r - f);
        let u2: f64 = rng.gen();
        if c * (2.0 - c) - u2 > 0.0 || (c / u2).ln() + 1.0 - c >= 0.0 {
            let u3: f64 = rng.gen();
            let sign = if u3 > 0.5 { 1.0 } else { -1.0 };
            return mean + sign * f.clamp(-1.0, 1.0).acos();
        }
    }
}

/// `per_class` samples of every class at time `t ∈ [0, 1]`, rows grouped by class (rows
/// `c·per_class ..` have label c), as the shipped tensors are.
pub fn sample(rng: &mut impl Rng, t: f32, per_class: usize) -> Result<(Array2<f32>, Array1<i64>)> {
    check_time(t)?;
    if per_class == 0 {
        return Err(Error::Empty("semicircle sample with 0 points per class".into()));
    }
    let radius = LogNormal::new(0.0, RADIUS_SIGMA).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    let n = NUM_CLASSES * per_class;
    let mut points = Array2::zeros((n, 2));
    let mut labels = Array1::zeros(n);
    for i in 0..n {
        let class = i / per_class;
        let theta = von_mises(rng, mean_angle(class, t as f64), KAPPA);
        let r = radius.sample(rng);
        let c = centre(class);
        points[[i, 0]] = (c[0] + r * theta.cos()) as f32;
        points[[i, 1]] = (c[1] + r * theta.sin()) as f32;
        labels[i] = class as i64;
    }
    Ok((points, labels))
}

/// The modified Bessel function I₀ by its power series (converges fast for the κ used here).
fn bessel_i0(x: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 1.0;
    let q = x * x / 4.0;
    for k in 1..200 {
        term *= q / (k * k) as f64;
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

/// log p(q | c, t) under the true density: von Mises angle × log-normal radius, with the polar
/// Jacobian 1/r. `None` at the centre (r ≤ 10⁻⁹), where the density is undefined.
pub fn log_density(q: [f64; 2], class: usize, t: f64) -> Option<f64> {
    let c = centre(class);
    let (dx, dy) = (q[0] - c[0], q[1] - c[1]);
    let r = (dx * dx + dy * dy).sqrt();
    if r <= 1e-9 {
        return None;
    }
    let theta = dy.atan2(dx);
    let log_vm =
        KAPPA * (theta - mean_angle(class, t)).cos() - (2.0 * std::f64::consts::PI * bessel_i0(KAPPA)).ln();
    let log_r = r.ln();
    let log_ln = -log_r
        - RADIUS_SIGMA.ln()
        - 0.5 * (2.0 * std::f64::consts::PI).ln()
        - log_r * log_r / (2.0 * RADIUS_SIGMA * RADIUS_SIGMA);
    Some(log_vm + log_ln - log_r)
}

fn check_points(points: &Array2<f32>, labels: ArrayView1<'_, i64>) -> Result<()> {
    if points.ncols() != 2 {
        return Err(Error::shape(
            "semicircle points",
            "[N, 2]",
            format!("{:?}", points.shape()),
        ));
    }
    if points.nrows() != labels.len() {
        return Err(Error::shape(
            "semicircle labels",
            format!("{} labels, one per point", points.nrows()),
            labels.len().to_string(),
        ));
    }
    if points.is_empty() {
        return Err(Error::Empty("no semicircle points to score".into()));
    }
    crate::error::ensure_finite("semicircle points", points.iter())
}

/// Mean negative log-likelihood per sample of `points` (with their class labels) at time `t` under
/// the true density (HTI spec §8.1; points at a centre are skipped).
pub fn negative_log_likelihood(points: &Array2<f32>, labels: &Array1<i64>, t: f32) -> Result<f64> {
    check_time(t)?;
    check_points(points, labels.view())?;
    let mut total = 0.0;
    let mut counted = 0usize;
    for (row, &label) in points.rows().into_iter().zip(labels) {
        let class = check_class(label)?;
        if let Some(lp) = log_density([row[0] as f64, row[1] as f64], class, t as f64) {
            total -= lp;
            counted += 1;
        }
    }
    if counted == 0 {
        return Err(Error::Empty("every point sits at a circle centre".into()));
    }
    Ok(total / counted as f64)
}

/// HTI's "circle distance": per class the mean of `| |q − centre_c| − 1 |`, averaged over the classes
/// present.
pub fn circle_distance(points: &Array2<f32>, labels: &Array1<i64>) -> Result<f64> {
    check_points(points, labels.view())?;
    let mut sums = [0.0f64; NUM_CLASSES];
    let mut counts = [0usize; NUM_CLASSES];
    for (row, &label) in points.rows().into_iter().zip(labels) {
        let class = check_class(label)?;
        let c = centre(class);
        let r = ((row[0] as f64 - c[0]).powi(2) + (row[1] as f64 - c[1]).powi(2)).sqrt();
        sums[class] += (r - 1.0).abs();
        counts[class] += 1;
    }
    let present: Vec<f64> = (0..NUM_CLASSES)
        .filter(|&c| counts[c] > 0)
        .map(|c| sums[c] / counts[c] as f64)
        .collect();
    Ok(present.iter().sum::<f64>() / present.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn density_integrates_to_one() {
        // Riemann sum of exp(log p) over a fine grid around class 0's circle at t = 0.3.
        let h = 0.004;
        let mut total = 0.0;
        let mut x = -2.3;
        while x < 0.3 {
            let mut y = -1.3;
            while y < 1.3 {
                if let Some(lp) = log_density([x, y], 0, 0.3) {
                    total += lp.exp() * h * h;
                }
                y += h;
            }
            x += h;
        }
        assert!((total - 1.0).abs() < 0.01, "density mass {total}");
    }

    #[test]
    fn samples_follow_the_density() {
        let mut rng = crate::device::rng(3);
        let (p, l) = sample(&mut rng, 0.75, 2000).unwrap();
        // Mean angle of class 2 at t = 0.75 is π/4; the von Mises mean resultant is I1(5)/I0(5) ≈ 0.8934.
        let c = centre(2);
        let (mut cs, mut sn) = (0.0, 0.0);
        for i in 4000..6000 {
            let th = ((p[[i, 1]] as f64) - c[1]).atan2(p[[i, 0]] as f64 - c[0]);
            cs += th.cos();
            sn += th.sin();
        }
        let mean = sn.atan2(cs);
        let resultant = (cs * cs + sn * sn).sqrt() / 2000.0;
        assert!(
            (mean - std::f64::consts::FRAC_PI_4).abs() < 0.04,
            "mean angle {mean}"
        );
        assert!((resultant - 0.8934).abs() < 0.01, "resultant {resultant}");
        // Mean |r − 1| of a lognormal(0, 0.05) radius ≈ 0.05·√(2/π) ≈ 0.0399.
        let cd = circle_distance(&p, &l).unwrap();
        assert!((cd - 0.0399).abs() < 0.003, "circle distance {cd}");
        // The sample NLL estimates the entropy; the wrong time scores worse.
        let right = negative_log_likelihood(&p, &l, 0.75).unwrap();
        let wrong = negative_log_likelihood(&p, &l, 0.25).unwrap();
        assert!(right < -0.5 && wrong > right + 3.0, "{right} {wrong}");
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let mut rng = crate::device::rng(0);
        assert!(matches!(sample(&mut rng, 1.5, 10), Err(Error::OutOfRange { .. })));
        let p = Array2::zeros((3, 2));
        assert!(matches!(
            negative_log_likelihood(&p, &Array1::from(vec![0, 1, 7]), 0.5),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            circle_distance(&p, &Array1::from(vec![0, 1])),
            Err(Error::Shape { .. })
        ));
    }
}

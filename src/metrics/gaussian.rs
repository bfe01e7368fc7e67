//! Gaussians: fitting one to a cloud and the closed-form Bures–Wasserstein distance.
//!
//! W2 between Gaussians has a closed form, which makes it both a reference for the sample-based
//! solvers and a cheap Fréchet-style summary of two clouds (fit a Gaussian to each, compare).

use super::checked_cloud;
use crate::error::{Error, Result};
use ndarray::{Array1, Array2, Axis};
use ndarray_linalg::{Eigh, UPLO};

/// Sample mean `[D]` and unbiased sample covariance `[D, D]` (divisor `N − 1`) of a cloud `[N, D]`.
///
/// # Errors
/// [`Error::Empty`], [`Error::NonFinite`]; [`Error::InvalidArgument`] for fewer than two points.
///
/// # Example
/// ```
/// use lagrangian_ot::metrics::fit_gaussian;
/// use ndarray::array;
/// let (mean, cov) = fit_gaussian(&array![[0.0f32, 1.0], [2.0, 1.0]])?;
/// assert_eq!(mean, array![1.0, 1.0]);
/// assert_eq!(cov, array![[2.0, 0.0], [0.0, 0.0]]);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn fit_gaussian(x: &Array2<f32>) -> Result<(Array1<f64>, Array2<f64>)> {
    let x = checked_cloud("fit_gaussian", x)?;
    let n = x.nrows();
    if n < 2 {
        return Err(Error::InvalidArgument(format!(
            "fit_gaussian: need at least two points, got {n}"
        )));
    }
    let mean = x
        .mean_axis(Axis(0))
        .ok_or_else(|| Error::Empty("fit_gaussian".into()))?;
    let centred = &x - &mean;
    let cov = centred.t().dot(&centred) / (n - 1) as f64;
    Ok((mean, cov))
}

/// Squared Bures–Wasserstein distance between `N(m1, c1)` and `N(m2, c2)`:
///
/// `|m1 − m2|² + tr c1 + tr c2 − 2 tr (c1^½ c2 c1^½)^½`.
///
/// Matrix square roots use symmetric eigendecompositions (negative round-off eigenvalues are
/// clamped to zero), so singular covariances are fine.
///
/// # Errors
/// [`Error::Empty`], [`Error::NonFinite`], [`Error::Shape`] (mismatched or non-square shapes),
/// [`Error::InvalidArgument`] (a covariance that is not symmetric), [`Error::Linalg`].
///
/// # Example
/// ```
/// use lagrangian_ot::metrics::gaussian_w2_squared;
/// use ndarray::array;
/// let m1 = array![0.0, 0.0];
/// let m2 = array![3.0, 0.0];
/// let c1 = array![[1.0, 0.0], [0.0, 4.0]];
/// let c2 = array![[4.0, 0.0], [0.0, 4.0]];
/// // 9 + (1 − 2)² + (2 − 2)²
/// assert!((gaussian_w2_squared(&m1, &c1, &m2, &c2)? - 10.0).abs() < 1e-10);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn gaussian_w2_squared(
    m1: &Array1<f64>,
    c1: &Array2<f64>,
    m2: &Array1<f64>,
    c2: &Array2<f64>,
) -> Result<f64> {
    validate_gaussian("first Gaussian", m1, c1)?;
    validate_gaussian("second Gaussian", m2, c2)?;
    if m1.len() != m2.len() {
        return Err(Error::shape(
            "gaussian_w2",
            format!("both Gaussians of dimension {}", m1.len()),
            format!("dimension {}", m2.len()),
        ));
    }
    let mean_term: f64 = m1.iter().zip(m2.iter()).map(|(a, b)| (a - b) * (a - b)).sum();
    let root_c1 = symmetric_sqrt(c1)?;
    let cross = symmetric_sqrt(&root_c1.dot(c2).dot(&root_c1))?;
    let bures = c1.diag().sum() + c2.diag().sum() - 2.0 * cross.diag().sum();
    // Round-off can make identical covariances give a tiny negative number.
    Ok(mean_term + bures.max(0.0))
}

/// Bures–Wasserstein distance (not squared): `sqrt` of [`gaussian_w2_squared`].
///
/// # Errors
/// As [`gaussian_w2_squared`].
///
/// # Example
/// ```
/// use lagrangian_ot::metrics::gaussian_w2;
/// use ndarray::{array, Array2};
/// let eye = Array2::<f64>::eye(2);
/// assert!((gaussian_w2(&array![0.0, 0.0], &eye, &array![3.0, 4.0], &eye)? - 5.0).abs() < 1e-10);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn gaussian_w2(m1: &Array1<f64>, c1: &Array2<f64>, m2: &Array1<f64>, c2: &Array2<f64>) -> Result<f64> {
    Ok(gaussian_w2_squared(m1, c1, m2, c2)?.sqrt())
}

fn validate_gaussian(what: &str, mean: &Array1<f64>, cov: &Array2<f64>) -> Result<()> {
    let d = mean.len();
    if d == 0 {
        return Err(Error::Empty(format!("gaussian_w2: {what} has an empty mean")));
    }
    if cov.dim() != (d, d) {
        return Err(Error::shape(
            format!("gaussian_w2: {what} covariance"),
            format!("[{d}, {d}]"),
            format!("{:?}", cov.shape()),
        ));
    }
    if mean.iter().chain(cov.iter()).any(|v| !v.is_finite()) {
        return Err(Error::NonFinite(format!("gaussian_w2: {what}")));
    }
    let scale = cov.iter().fold(0.0f64, |acc, v| acc.max(v.abs()));
    let asymmetry = (cov - &cov.t()).iter().fold(0.0f64, |acc, v| acc.max(v.abs()));
    if asymmetry > 1e-8 * scale.max(1.0) {
        return Err(Error::InvalidArgument(format!(
            "gaussian_w2: {what} covariance is not symmetric (max |C − Cᵀ| = {asymmetry})"
        )));
    }
    Ok(())
}

/// Principal square root of a symmetric positive semi-definite matrix.
fn symmetric_sqrt(matrix: &Array2<f64>) -> Result<Array2<f64>> {
    let (values, vectors) = matrix
        .eigh(UPLO::Lower)
        .map_err(|e| Error::Linalg(format!("eigh: {e}")))?;
    let root_values = values.mapv(|v| v.max(0.0).sqrt());
    Ok((&vectors * &root_values).dot(&vectors.t()))
}

//! Maximum mean discrepancy with Gaussian kernels.
//!
//! A kernel two-sample statistic: zero for identical samples, positive when the clouds differ,
//! and cheap to compute without solving a transport problem.

use super::{checked_pair, squared_distance, worth_parallel};
use crate::error::{Error, Result};
use ndarray::parallel::prelude::*;
use ndarray::{Array2, Axis};

/// Squared MMD between two point clouds with the multi-bandwidth Gaussian kernel
/// `k(x, y) = Σ_σ exp(−|x − y|² / (2σ²))`.
///
/// This is the **biased** (V-statistic) estimator
/// `MMD² = mean_ij k(x_i, x_j) + mean_ij k(y_i, y_j) − 2 mean_ij k(x_i, y_j)`, diagonal terms
/// included: it is the squared RKHS distance between the two empirical mean embeddings, hence
/// always `>= 0` and exactly zero for identical clouds.
///
/// # Errors
/// [`Error::Empty`], [`Error::NonFinite`], [`Error::Shape`] for the clouds;
/// [`Error::InvalidArgument`] if `bandwidths` is empty or holds a non-positive or non-finite value.
///
/// # Example
/// ```
/// use lagrangian_ot::metrics::mmd;
/// use ndarray::array;
/// let x = array![[0.0f32]];
/// let y = array![[1.0f32]];
/// // 1 + 1 − 2 exp(−1/2)
/// assert!((mmd(&x, &y, &[1.0])? - (2.0 - 2.0 * (-0.5f64).exp())).abs() < 1e-12);
/// assert_eq!(mmd(&x, &x, &[1.0])?, 0.0);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn mmd(x: &Array2<f32>, y: &Array2<f32>, bandwidths: &[f64]) -> Result<f64> {
    if bandwidths.is_empty() || bandwidths.iter().any(|&s| !(s.is_finite() && s > 0.0)) {
        return Err(Error::InvalidArgument(format!(
            "mmd: bandwidths must be a non-empty list of positive numbers, got {bandwidths:?}"
        )));
    }
    let (x, y) = checked_pair("mmd", x, y)?;
    let inverse_two_var: Vec<f64> = bandwidths.iter().map(|s| 0.5 / (s * s)).collect();
    let kxx = mean_kernel(&x, &x, &inverse_two_var);
    let kyy = mean_kernel(&y, &y, &inverse_two_var);
    let kxy = mean_kernel(&x, &y, &inverse_two_var);
    // Round-off can push the exact-zero case a hair below zero.
    Ok((kxx + kyy - 2.0 * kxy).max(0.0))
}

/// `mean_ij Σ_σ exp(−|x_i − y_j|² / (2σ²))`.
fn mean_kernel(x: &Array2<f64>, y: &Array2<f64>, inverse_two_var: &[f64]) -> f64 {
    let row_sum = |xi: ndarray::ArrayView1<f64>| -> f64 {
        y.rows()
            .into_iter()
            .map(|yj| {
                let sq = squared_distance(xi, yj);
                inverse_two_var.iter().map(|w| (-sq * w).exp()).sum::<f64>()
            })
            .sum()
    };
    let total: f64 = if worth_parallel(x.nrows(), y.nrows(), x.ncols()) {
        x.axis_iter(Axis(0)).into_par_iter().map(row_sum).sum()
    } else {
        x.rows().into_iter().map(row_sum).sum()
    };
    total / (x.nrows() * y.nrows()) as f64
}

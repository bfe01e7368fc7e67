//! Gaussian kernel density estimation: held-out log-likelihood and bandwidth rules.
//!
//! Used to score generated samples by how likely held-out data is under a density smoothed from
//! them (and vice versa), when no tractable model density exists.

use super::{
    checked_cloud, checked_pair, log_sum_exp_of_scaled_differences, squared_distance, worth_parallel,
};
use crate::error::{Error, Result};
use ndarray::parallel::prelude::*;
use ndarray::{Array2, Axis};

/// Mean log-density of the `test` points under the isotropic Gaussian KDE on `train`:
///
/// `mean_t log( (1/N) Σ_i N(test_t; train_i, h² I) )`, with `h = bandwidth`, in nats.
///
/// # Errors
/// [`Error::Empty`], [`Error::NonFinite`], [`Error::Shape`] for the clouds;
/// [`Error::InvalidArgument`] if `bandwidth` is not positive and finite.
///
/// # Example
/// ```
/// use lagrangian_ot::metrics::kde_log_likelihood;
/// use ndarray::array;
/// let train = array![[0.0f32]];
/// let test = array![[1.0f32]];
/// // log N(1; 0, 1) = −½ log(2π) − ½
/// let expected = -0.5 * (2.0 * std::f64::consts::PI).ln() - 0.5;
/// assert!((kde_log_likelihood(&train, &test, 1.0)? - expected).abs() < 1e-12);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn kde_log_likelihood(train: &Array2<f32>, test: &Array2<f32>, bandwidth: f64) -> Result<f64> {
    if !(bandwidth.is_finite() && bandwidth > 0.0) {
        return Err(Error::InvalidArgument(format!(
            "kde_log_likelihood: bandwidth must be positive and finite, got {bandwidth}"
        )));
    }
    let (train, test) = checked_pair("kde_log_likelihood", train, test)?;
    let (n, d) = train.dim();
    let inverse_two_var = 0.5 / (bandwidth * bandwidth);
    let normaliser =
        -(n as f64).ln() - 0.5 * d as f64 * (2.0 * std::f64::consts::PI * bandwidth * bandwidth).ln();
    // log Σ exp(−|t − xᵢ|²/2h²) as the soft-min kernel with h = 0 and c = the squared distances.
    let zeros = vec![0.0; n];
    let log_density = |t: ndarray::ArrayView1<f64>| {
        let squared: Vec<f64> = train
            .rows()
            .into_iter()
            .map(|xi| squared_distance(t, xi))
            .collect();
        normaliser + log_sum_exp_of_scaled_differences(&zeros, &squared, inverse_two_var)
    };
    let total: f64 = if worth_parallel(test.nrows(), n, d) {
        test.axis_iter(Axis(0)).into_par_iter().map(log_density).sum()
    } else {
        test.rows().into_iter().map(log_density).sum()
    };
    Ok(total / test.nrows() as f64)
}

/// Scott's rule for an isotropic kernel: `h = σ · N^(−1/(D+4))`, with `σ` the root mean
/// per-dimension sample variance (unbiased).
///
/// # Errors
/// [`Error::Empty`], [`Error::NonFinite`]; [`Error::InvalidArgument`] for fewer than two points
/// or a cloud with zero spread.
///
/// # Example
/// ```
/// use lagrangian_ot::metrics::scott_bandwidth;
/// use ndarray::array;
/// let x = array![[-1.0f32], [1.0]]; // σ² = 2
/// assert!((scott_bandwidth(&x)? - 2f64.sqrt() * 2f64.powf(-0.2)).abs() < 1e-12);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn scott_bandwidth(x: &Array2<f32>) -> Result<f64> {
    let (n, d, sigma) = pooled_spread("scott_bandwidth", x)?;
    Ok(sigma * n.powf(-1.0 / (d + 4.0)))
}

/// Silverman's rule for an isotropic kernel: `h = σ · (N (D + 2) / 4)^(−1/(D+4))`, with `σ` as in
/// [`scott_bandwidth`].
///
/// # Errors
/// As [`scott_bandwidth`].
///
/// # Example
/// ```
/// use lagrangian_ot::metrics::silverman_bandwidth;
/// use ndarray::array;
/// let x = array![[-1.0f32, 0.0], [1.0, 0.0]]; // σ² = mean(2, 0) = 1
/// assert!((silverman_bandwidth(&x)? - 2f64.powf(-1.0 / 6.0)).abs() < 1e-12);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn silverman_bandwidth(x: &Array2<f32>) -> Result<f64> {
    let (n, d, sigma) = pooled_spread("silverman_bandwidth", x)?;
    Ok(sigma * (n * (d + 2.0) / 4.0).powf(-1.0 / (d + 4.0)))
}

/// `(N, D, σ)` with `σ² = mean over dimensions of the unbiased sample variance`.
fn pooled_spread(context: &str, x: &Array2<f32>) -> Result<(f64, f64, f64)> {
    let x = checked_cloud(context, x)?;
    let (n, d) = x.dim();
    if n < 2 {
        return Err(Error::InvalidArgument(format!(
            "{context}: need at least two points, got {n}"
        )));
    }
    let mean_variance = x.var_axis(Axis(0), 1.0).mean().unwrap_or(0.0);
    if mean_variance <= 0.0 {
        return Err(Error::InvalidArgument(format!(
            "{context}: all points coincide; the bandwidth would be zero"
        )));
    }
    Ok((n as f64, d as f64, mean_variance.sqrt()))
}

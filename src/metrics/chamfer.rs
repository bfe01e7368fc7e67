//! Chamfer distance between point clouds.
//!
//! A cheap, matching-free discrepancy used by the papers next to OT: every point is compared with
//! its nearest neighbour in the other cloud, in both directions.

use super::{checked_pair, squared_distance, worth_parallel};
use crate::error::Result;
use ndarray::parallel::prelude::*;
use ndarray::{Array2, Axis};

/// Symmetric Chamfer distance with **squared** Euclidean distances and **means** per direction:
///
/// `chamfer(x, y) = mean_i min_j |x_i − y_j|² + mean_j min_i |y_j − x_i|²`
///
/// (the PyTorch3D `chamfer_distance` default). It is zero iff both clouds hold the same set of
/// points, and has the units of squared distance, like W2².
///
/// # Errors
/// [`Error::Empty`](crate::Error::Empty), [`Error::NonFinite`](crate::Error::NonFinite) or
/// [`Error::Shape`](crate::Error::Shape) (different dimensions).
///
/// # Example
/// ```
/// use lagrangian_ot::metrics::chamfer;
/// use ndarray::array;
/// let x = array![[0.0f32, 0.0], [2.0, 0.0]];
/// let y = array![[0.0f32, 1.0]];
/// // x -> y: (1 + 5) / 2 = 3; y -> x: 1.
/// assert!((chamfer(&x, &y)? - 4.0).abs() < 1e-12);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn chamfer(x: &Array2<f32>, y: &Array2<f32>) -> Result<f64> {
    let (x, y) = checked_pair("chamfer", x, y)?;
    Ok(mean_nearest_squared(&x, &y) + mean_nearest_squared(&y, &x))
}

/// `mean_i min_j |from_i − to_j|²`.
fn mean_nearest_squared(from: &Array2<f64>, to: &Array2<f64>) -> f64 {
    let nearest = |xi: ndarray::ArrayView1<f64>| {
        to.rows()
            .into_iter()
            .map(|yj| squared_distance(xi, yj))
            .fold(f64::INFINITY, f64::min)
    };
    let total: f64 = if worth_parallel(from.nrows(), to.nrows(), from.ncols()) {
        from.axis_iter(Axis(0)).into_par_iter().map(nearest).sum()
    } else {
        from.rows().into_iter().map(nearest).sum()
    };
    total / from.nrows() as f64
}

//! Distances and scores between point clouds, Gaussians and metric fields.
//!
//! These are the numbers the papers report: exact optimal transport cost and Wasserstein-2
//! distance, debiased Sinkhorn divergence, Chamfer distance, Gaussian-kernel MMD², Gaussian KDE
//! log-likelihood, the closed-form Bures–Wasserstein distance between Gaussians, and the metric
//! alignment score of Scarvelis & Solomon. They live at the edge of the crate, so they take
//! `ndarray` point clouds `[N, D]` of `f32` and compute in `f64` so that the reported digits do
//! not depend on single-precision round-off.
//!
//! Every function checks its inputs once (empty, non-finite, mismatched dimension) and returns a
//! typed [`Error`](crate::Error) rather than panicking.

mod alignment;
mod chamfer;
mod exact_ot;
mod gaussian;
mod kde;
mod mmd;
mod sinkhorn;

pub use alignment::{alignment_score, grid_2d};
pub use chamfer::chamfer;
pub use exact_ot::{exact_ot, exact_ot_weighted, wasserstein2, ExactOt, TransportPlan};
pub use gaussian::{fit_gaussian, gaussian_w2, gaussian_w2_squared};
pub use kde::{kde_log_likelihood, scott_bandwidth, silverman_bandwidth};
pub use mmd::mmd;
pub use sinkhorn::{sinkhorn, sinkhorn_divergence, sinkhorn_divergence_with, SinkhornConfig, SinkhornOutput};

use crate::error::{ensure_finite, Error, Result};
use ndarray::parallel::prelude::*;
use ndarray::{Array2, ArrayView1, Axis};

/// The ground cost `c(x, y)` between two points that a transport problem minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroundCost {
    /// `|x - y|²`; optimal transport under it gives the squared Wasserstein-2 distance.
    #[default]
    SqEuclidean,
    /// `|x - y|`; optimal transport under it gives the Wasserstein-1 (earth mover's) distance.
    Euclidean,
}

impl GroundCost {
    /// The cost between two points given as `f64` rows.
    pub fn between(self, x: ArrayView1<f64>, y: ArrayView1<f64>) -> f64 {
        let sq = squared_distance(x, y);
        match self {
            GroundCost::SqEuclidean => sq,
            GroundCost::Euclidean => sq.sqrt(),
        }
    }
}

/// The `[N, M]` matrix of ground costs `c(x_i, y_j)` between two point clouds, in `f64`.
///
/// Rows are computed in parallel when the problem is large enough for threads to pay.
///
/// # Errors
/// [`Error::Empty`], [`Error::NonFinite`] or [`Error::Shape`] (different dimensions).
///
/// # Example
/// ```
/// use lagrangian_ot::metrics::{cost_matrix, GroundCost};
/// use ndarray::array;
/// let x = array![[0.0f32, 0.0], [1.0, 0.0]];
/// let y = array![[0.0f32, 2.0]];
/// let c = cost_matrix(&x, &y, GroundCost::SqEuclidean)?;
/// assert_eq!(c, array![[4.0], [5.0]]);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn cost_matrix(x: &Array2<f32>, y: &Array2<f32>, cost: GroundCost) -> Result<Array2<f64>> {
    let (x, y) = checked_pair("cost_matrix", x, y)?;
    Ok(pairwise_cost(&x, &y, cost))
}

/// Number of scalar operations below which spawning rayon tasks costs more than it saves.
const PARALLEL_WORK_THRESHOLD: usize = 1 << 15;

/// Whether an `n × m` pairwise computation over `d`-dimensional points is worth parallelising.
pub(crate) fn worth_parallel(n: usize, m: usize, d: usize) -> bool {
    n.saturating_mul(m).saturating_mul(d.max(1)) >= PARALLEL_WORK_THRESHOLD
}

/// `|x - y|²` of two rows.
pub(crate) fn squared_distance(x: ArrayView1<f64>, y: ArrayView1<f64>) -> f64 {
    x.iter().zip(y.iter()).map(|(a, b)| (a - b) * (a - b)).sum()
}

/// Pairwise ground costs of already validated `f64` clouds.
pub(crate) fn pairwise_cost(x: &Array2<f64>, y: &Array2<f64>, cost: GroundCost) -> Array2<f64> {
    let mut out = Array2::zeros((x.nrows(), y.nrows()));
    let fill_row = |(mut row, xi): (ndarray::ArrayViewMut1<f64>, ArrayView1<f64>)| {
        for (c, yj) in row.iter_mut().zip(y.rows()) {
            *c = cost.between(xi, yj);
        }
    };
    if worth_parallel(x.nrows(), y.nrows(), x.ncols()) {
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(x.axis_iter(Axis(0)).into_par_iter())
            .for_each(fill_row);
    } else {
        out.axis_iter_mut(Axis(0)).zip(x.rows()).for_each(fill_row);
    }
    out
}

/// Checks one point cloud (non-empty, finite) and converts it to `f64`.
pub(crate) fn checked_cloud(what: &str, x: &Array2<f32>) -> Result<Array2<f64>> {
    if x.nrows() == 0 || x.ncols() == 0 {
        return Err(Error::Empty(format!(
            "{what} has shape {:?}; need at least one point of dimension >= 1",
            x.shape()
        )));
    }
    ensure_finite(what, x.iter())?;
    Ok(x.mapv(f64::from))
}

/// Checks two point clouds (each non-empty and finite, same dimension) and converts them to `f64`.
pub(crate) fn checked_pair(
    context: &str,
    x: &Array2<f32>,
    y: &Array2<f32>,
) -> Result<(Array2<f64>, Array2<f64>)> {
    let x64 = checked_cloud(&format!("{context}: first point cloud"), x)?;
    let y64 = checked_cloud(&format!("{context}: second point cloud"), y)?;
    if x.ncols() != y.ncols() {
        return Err(Error::shape(
            context,
            format!("both clouds of dimension {}", x.ncols()),
            format!("second cloud of dimension {}", y.ncols()),
        ));
    }
    Ok((x64, y64))
}

/// `log Σ exp(v)` without overflow; `-inf` for an empty or all `-inf` input.
pub(crate) fn log_sum_exp(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let max = values.clone().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    max + values.map(|v| (v - max).exp()).sum::<f64>().ln()
}

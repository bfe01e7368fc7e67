//! Metric alignment score (Scarvelis & Solomon; NLOT Table 2) and the evaluation grid.
//!
//! A learned Riemannian metric is judged by whether its principal directions match those of the
//! ground-truth metric, independently of scale: eigenvalue magnitudes are ignored, only eigenvector
//! directions count.

use crate::error::{Error, Result};
use ndarray::{Array2, ArrayBase, Data, Ix3};
use ndarray_linalg::{Eigh, UPLO};

/// Mean over points and eigen-indices of `|u_iᵀ û_i|`, where `u_i` and `û_i` are the unit
/// eigenvectors of the `truth` and `learned` metrics at the same point, eigenvalues sorted
/// ascending (paper eq. 28).
///
/// Both fields are `[G, d, d]` arrays of symmetric matrices (`f32` or `f64`) evaluated on the same
/// `G` points. The score is 1 for perfectly aligned fields and `|cos θ|` when every eigenvector is
/// rotated by `θ` in 2-D. Where a metric has repeated eigenvalues its eigenvectors are not unique and
/// the score at that point is arbitrary, as in the reference implementation.
///
/// # Errors
/// [`Error::Empty`] (`G == 0` or `d == 0`), [`Error::Shape`] (mismatched or non-square fields),
/// [`Error::NonFinite`], [`Error::InvalidArgument`] (a non-symmetric matrix), [`Error::Linalg`].
///
/// # Example
/// ```
/// use lagrangian_ot::metrics::alignment_score;
/// use ndarray::array;
/// let truth = array![[[2.0, 0.0], [0.0, 1.0]]];
/// let learned = array![[[1.0, 1.0], [1.0, 1.0]]]; // eigenvectors at 45°
/// let score = alignment_score(&truth, &learned)?;
/// assert!((score - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn alignment_score<A, S1, S2>(truth: &ArrayBase<S1, Ix3>, learned: &ArrayBase<S2, Ix3>) -> Result<f64>
where
    A: Copy + Into<f64>,
    S1: Data<Elem = A>,
    S2: Data<Elem = A>,
{
    let (g, d, d2) = truth.dim();
    if g == 0 || d == 0 {
        return Err(Error::Empty(format!(
            "alignment_score: metric field has shape {:?}",
            truth.shape()
        )));
    }
    if d != d2 {
        return Err(Error::shape(
            "alignment_score truth field",
            format!("[G, {d}, {d}]"),
            format!("{:?}", truth.shape()),
        ));
    }
    if learned.dim() != truth.dim() {
        return Err(Error::shape(
            "alignment_score learned field",
            format!("{:?}", truth.shape()),
            format!("{:?}", learned.shape()),
        ));
    }
    let mut total = 0.0;
    for (t, l) in truth.outer_iter().zip(learned.outer_iter()) {
        let u = eigenvectors_ascending("truth", t.mapv(Into::into))?;
        let v = eigenvectors_ascending("learned", l.mapv(Into::into))?;
        total += (0..d).map(|k| u.column(k).dot(&v.column(k)).abs()).sum::<f64>();
    }
    Ok(total / (g * d) as f64)
}

/// Unit eigenvectors (columns) of a symmetric matrix, eigenvalues ascending.
fn eigenvectors_ascending(what: &str, matrix: Array2<f64>) -> Result<Array2<f64>> {
    if matrix.iter().any(|v| !v.is_finite()) {
        return Err(Error::NonFinite(format!("alignment_score: {what} metric field")));
    }
    let scale = matrix.iter().fold(0.0f64, |acc, v| acc.max(v.abs()));
    let asymmetry = (&matrix - &matrix.t())
        .iter()
        .fold(0.0f64, |acc, v| acc.max(v.abs()));
    if asymmetry > 1e-6 * scale.max(1.0) {
        return Err(Error::InvalidArgument(format!(
            "alignment_score: {what} metric is not symmetric (max |M − Mᵀ| = {asymmetry})"
        )));
    }
    let (_, vectors) = matrix
        .eigh(UPLO::Lower)
        .map_err(|e| Error::Linalg(format!("eigh: {e}")))?;
    Ok(vectors)
}

/// An `n × n` grid of 2-D points `[n², 2]` spanning `x_range × y_range`, endpoints included
/// (`linspace` in each axis). Rows run over x fastest: point `k` is `(xs[k % n], ys[k / n])`, the
/// order of `np.meshgrid(xs, ys)` flattened. `n == 1` gives the lower corner; `n == 0` no points.
///
/// # Example
/// ```
/// use lagrangian_ot::metrics::grid_2d;
/// use ndarray::array;
/// let g = grid_2d((0.0, 1.0), (-1.0, 1.0), 2);
/// assert_eq!(g, array![[0.0, -1.0], [1.0, -1.0], [0.0, 1.0], [1.0, 1.0]]);
/// ```
pub fn grid_2d(x_range: (f32, f32), y_range: (f32, f32), n: usize) -> Array2<f32> {
    let axis = |(lo, hi): (f32, f32), k: usize| -> f32 {
        if n <= 1 {
            lo
        } else {
            // Interpolate in f64 so the last point lands exactly on `hi`.
            let t = k as f64 / (n - 1) as f64;
            (f64::from(lo) + t * (f64::from(hi) - f64::from(lo))) as f32
        }
    };
    Array2::from_shape_fn((n * n, 2), |(k, c)| {
        if c == 0 {
            axis(x_range, k % n)
        } else {
            axis(y_range, k / n)
        }
    })
}

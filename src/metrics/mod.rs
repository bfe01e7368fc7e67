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
//! typed [`Error`] rather than panicking.

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

/// Calls `$kernel(args…)` compiled for AVX-512 or AVX2 + FMA when the CPU has them (x86-64), else
/// the baseline build; each argument is written `name: type = value`. The crate is built for
/// baseline x86-64, whose SSE2 holds two `f64` per register; the kernels are `#[inline(always)]`, so
/// each wrapper is the same code compiled with wider registers. Rust never fuses a multiply and an
/// add on its own, so every variant gives bit-identical results.
macro_rules! dispatch_simd {
    ($kernel:ident($($arg:ident: $ty:ty = $value:expr),* $(,)?)) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f")]
            unsafe fn wide($($arg: $ty),*) -> f64 {
                $kernel($($arg),*)
            }
            #[target_feature(enable = "avx2,fma")]
            unsafe fn medium($($arg: $ty),*) -> f64 {
                $kernel($($arg),*)
            }
            if std::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has the features `wide` is compiled for.
                unsafe { wide($($value),*) }
            } else if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                // SAFETY: as above.
                unsafe { medium($($value),*) }
            } else {
                $kernel($($value),*)
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            $kernel($($value),*)
        }
    }};
}
/// Lanes of the partial sums and maxima below: independent accumulators let the compiler keep
/// eight exponentials in flight (one AVX-512 register of `f64`) instead of one long dependency chain.
const LANES: usize = 8;

/// `log Σ_j exp((h_j − c_j)·scale)` without overflow (`-inf` for empty or all `-inf` terms): the
/// soft-min of a Sinkhorn update, and with `h = 0` a log-sum-exp of `−c·scale` (KDE).
pub(crate) fn log_sum_exp_of_scaled_differences(h: &[f64], c: &[f64], scale: f64) -> f64 {
    let max = max_of_scaled_differences(h, c, scale);
    if max == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    max + sum_exp_of_scaled_differences(h, c, scale, -max).ln()
}

/// `max_j (h_j − c_j)·scale` (`-inf` when empty; NaN entries are skipped).
fn max_of_scaled_differences(h: &[f64], c: &[f64], scale: f64) -> f64 {
    dispatch_simd!(scaled_differences_max(h: &[f64] = h, c: &[f64] = c, scale: f64 = scale))
}

/// `Σ_j exp((h_j − c_j)·scale + offset)`.
///
/// The sum runs in [`LANES`] interleaved partial sums (a fixed order, so results are reproducible)
/// over [`exp_f64`], which vectorises where `f64::exp` (a libm call) does not: this is the inner
/// loop of every Sinkhorn update.
pub(crate) fn sum_exp_of_scaled_differences(h: &[f64], c: &[f64], scale: f64, offset: f64) -> f64 {
    dispatch_simd!(scaled_differences_sum_exp(
        h: &[f64] = h,
        c: &[f64] = c,
        scale: f64 = scale,
        offset: f64 = offset
    ))
}

#[inline(always)]
fn scaled_differences_max(h: &[f64], c: &[f64], scale: f64) -> f64 {
    assert_eq!(h.len(), c.len(), "scaled differences of slices of unequal length");
    let mut lane_max = [f64::NEG_INFINITY; LANES];
    let (h_chunks, c_chunks) = (h.chunks_exact(LANES), c.chunks_exact(LANES));
    let tail = h_chunks.remainder().iter().zip(c_chunks.remainder());
    for (hc, cc) in h_chunks.zip(c_chunks) {
        for k in 0..LANES {
            let v = (hc[k] - cc[k]) * scale;
            lane_max[k] = if v > lane_max[k] { v } else { lane_max[k] };
        }
    }
    tail.map(|(&hj, &cj)| (hj - cj) * scale)
        .chain(lane_max)
        .fold(f64::NEG_INFINITY, f64::max)
}

#[inline(always)]
fn scaled_differences_sum_exp(h: &[f64], c: &[f64], scale: f64, offset: f64) -> f64 {
    assert_eq!(h.len(), c.len(), "scaled differences of slices of unequal length");
    let mut lane_sum = [0.0f64; LANES];
    let (h_chunks, c_chunks) = (h.chunks_exact(LANES), c.chunks_exact(LANES));
    let tail: f64 = h_chunks
        .remainder()
        .iter()
        .zip(c_chunks.remainder())
        .map(|(&hj, &cj)| exp_f64((hj - cj) * scale + offset))
        .sum();
    for (hc, cc) in h_chunks.zip(c_chunks) {
        for k in 0..LANES {
            lane_sum[k] += exp_f64((hc[k] - cc[k]) * scale + offset);
        }
    }
    lane_sum.iter().sum::<f64>() + tail
}

/// `e^x` in `f64`, within 2 ulp of `f64::exp` on its whole range, written branch-free so that loops
/// over it vectorise (the standard library's `exp` is an opaque libm call).
///
/// Cody–Waite reduction x = n ln 2 + r with |r| ≤ ½ ln 2 (ln 2 split in two parts so n ln 2 is exact
/// to 2⁻¹⁰⁰), the Taylor polynomial of degree 12 for e^r (truncation below 2·10⁻¹⁶ relative), and
/// 2ⁿ assembled in the exponent bits. x < −708 gives 0 (no subnormals), x > 709 gives `inf`, and
/// NaN stays NaN.
#[inline(always)]
pub(crate) fn exp_f64(x: f64) -> f64 {
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // 1.5·2⁵²: adding it rounds to an integer, kept in the low mantissa bits.
    const ROUNDER: f64 = 6_755_399_441_055_744.0;
    const LOWEST: f64 = -708.0;
    const HIGHEST: f64 = 709.0;
    let clamped = x.clamp(LOWEST, HIGHEST);
    let shifted = clamped * std::f64::consts::LOG2_E + ROUNDER;
    let n = shifted - ROUNDER;
    let r = (clamped - n * LN2_HI) - n * LN2_LO;
    // Horner on 1/k!, k = 12 … 0.
    let mut p = 1.0 / 479_001_600.0;
    p = p * r + 1.0 / 39_916_800.0;
    p = p * r + 1.0 / 3_628_800.0;
    p = p * r + 1.0 / 362_880.0;
    p = p * r + 1.0 / 40_320.0;
    p = p * r + 1.0 / 5_040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    let exponent = shifted
        .to_bits()
        .wrapping_sub(ROUNDER.to_bits())
        .wrapping_add(1023)
        << 52;
    let value = p * f64::from_bits(exponent);
    if x < LOWEST {
        0.0
    } else if x > HIGHEST {
        f64::INFINITY
    } else if x.is_nan() {
        x
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::{exp_f64, log_sum_exp_of_scaled_differences};

    fn log_sum_exp(values: &[f64]) -> f64 {
        log_sum_exp_of_scaled_differences(values, &vec![0.0; values.len()], 1.0)
    }

    #[test]
    fn exp_f64_matches_std_within_two_ulp() {
        let mut worst = 0.0f64;
        for k in 0..=200_000 {
            let x = -708.0 + 1417.0 * k as f64 / 200_000.0;
            let (fast, exact) = (exp_f64(x), x.exp());
            worst = worst.max((fast - exact).abs() / exact);
        }
        assert!(worst < 4.5e-16, "worst relative error {worst:e}");
        assert_eq!(exp_f64(0.0), 1.0);
        assert_eq!(exp_f64(-800.0), 0.0);
        assert_eq!(exp_f64(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp_f64(710.0), f64::INFINITY);
        assert!(exp_f64(f64::NAN).is_nan());
    }

    #[test]
    fn log_sum_exp_is_stable_and_matches_the_direct_sum() {
        // 19 values: two full lanes of eight and a tail of three.
        let values: Vec<f64> = (0..19).map(|k| -0.37 * k as f64 + 0.5).collect();
        let direct = values.iter().map(|v| v.exp()).sum::<f64>().ln();
        assert!((log_sum_exp(&values) - direct).abs() < 1e-14);
        let shifted: Vec<f64> = values.iter().map(|v| v + 1000.0).collect();
        assert!((log_sum_exp(&shifted) - (direct + 1000.0)).abs() < 1e-11);
        assert_eq!(log_sum_exp(&[]), f64::NEG_INFINITY);
        assert_eq!(log_sum_exp(&[f64::NEG_INFINITY; 3]), f64::NEG_INFINITY);
    }
}

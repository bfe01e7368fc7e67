//! Small helpers on taped point batches, shared by the built-in potentials and metrics and meant for
//! user closures too: column access, constant rows, weighted squared distances, the sigmoid window
//! that smooths hard walls, and the matrix of a quadratic form (so any metric written as vᵀA(q)v can
//! report A(q)).
//!
//! All helpers follow one tape rule: a tensor used several times is read through copies with an
//! empty tape (same id), and its own tape is carried to the result once, so the operations recorded
//! upstream of it run once in the backward pass.

use dfdx::prelude::*;
use ndarray::{Array2, Array3};

use super::{check_host_points, forward_tape, Condition, Points, Scalars};
use crate::error::{Error, Result};
use crate::nn::{array_to_tensor, Taped, TensorDevice};

/// Column `i` of a batch `[M, d]` as `[M]`, carrying the batch's tape.
///
/// ```
/// use dfdx::prelude::*;
/// use lagrangian_ot::lagrangian::column;
/// use lagrangian_ot::nn::traced;
/// let dev = lagrangian_ot::device::default_device(0);
/// let q = dev.tensor_from_vec(vec![1.0f32, 2.0, 3.0, 4.0], (2, 2));
/// assert_eq!(column(traced(&q), 1)?.as_vec(), vec![2.0, 4.0]);
/// assert!(column(traced(&q), 2).is_err());
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn column<D: TensorDevice<f32>>(q: Points<D>, i: usize) -> Result<Scalars<D>> {
    let (m, d) = *q.shape();
    if i >= d {
        return Err(Error::shape(
            "column",
            format!("a column index below {d}"),
            i.to_string(),
        ));
    }
    Ok(select_columns(q, i..i + 1)?.reshape_like(&(m,)))
}

/// Columns `range` of a batch `[M, d]` as `[M, k]`, carrying the batch's tape.
///
/// Written as a product with a 0/1 selection matrix rather than dfdx's `slice`: in dfdx 0.13 the
/// backward pass of `slice` overwrites the input's gradient instead of adding to it, so two slices
/// of one tensor that overlap would silently lose gradient.
pub fn select_columns<D: TensorDevice<f32>>(
    q: Points<D>,
    range: std::ops::Range<usize>,
) -> Result<Points<D>> {
    let d = q.shape().1;
    if range.start >= range.end || range.end > d {
        return Err(Error::shape(
            "select_columns",
            format!("a non-empty column range within 0..{d}"),
            format!("{range:?}"),
        ));
    }
    let k = range.len();
    let selection: Vec<f32> = (0..d)
        .flat_map(|row| (0..k).map(move |col| if row == range.start + col { 1.0 } else { 0.0 }))
        .collect();
    let selection = q
        .device()
        .try_tensor_from_vec(selection, (d, k))
        .map_err(crate::nn::device_error)?;
    Ok(q.matmul(selection))
}

/// All columns of a batch `[M, d]`; the first carries the batch's tape, the others share its id,
/// so each column can be used once in a formula without running upstream operations twice.
pub fn columns<D: TensorDevice<f32>>(q: Points<D>) -> Result<Vec<Scalars<D>>> {
    let d = q.shape().1;
    let mut out = Vec::with_capacity(d);
    for i in 1..d {
        out.push(column(q.retaped::<Taped<D>>(), i)?);
    }
    out.insert(0, column(q, 0)?);
    Ok(out)
}

/// The two coordinates of a 2-D batch `[M, 2]` (the common case in closures).
///
/// ```
/// use dfdx::prelude::*;
/// use lagrangian_ot::lagrangian::{xy, Scalars};
/// use lagrangian_ot::nn::traced;
/// let dev = lagrangian_ot::device::default_device(0);
/// let q = dev.tensor_from_vec(vec![3.0f32, 4.0], (1, 2));
/// let (x, y) = xy(traced(&q))?;
/// let r: Scalars<_> = (x.square() + y.square()).sqrt();
/// assert_eq!(r.as_vec(), vec![5.0]);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn xy<D: TensorDevice<f32>>(q: Points<D>) -> Result<(Scalars<D>, Scalars<D>)> {
    let d = q.shape().1;
    if d != 2 {
        return Err(Error::shape("xy", "[M, 2]", format!("{:?}", q.shape())));
    }
    let y = column(q.retaped::<Taped<D>>(), 1)?;
    Ok((column(q, 0)?, y))
}

/// A second handle on a taped tensor for a formula that uses it again: same values and id, empty
/// tape, so the operations recorded before it run once in the backward pass (the original, used once
/// elsewhere in the formula, carries them).
///
/// ```
/// use dfdx::prelude::*;
/// use lagrangian_ot::lagrangian::{reuse, xy};
/// use lagrangian_ot::nn::traced;
/// let dev = lagrangian_ot::device::default_device(0);
/// let q_host = dev.tensor_from_vec(vec![3.0f32, 4.0], (1, 2));
/// let q = traced(&q_host);
/// let (x, y) = xy(q)?;
/// let ratio = reuse(&x) / (x.square() + y.square()); // x / |q|²
/// let grads = ratio.sum::<Rank0, _>().backward();
/// // d/dx [x/(x²+y²)] = (y² − x²)/(x²+y²)² = 7/625.
/// assert!((grads.get(&q_host).as_vec()[0] - 7.0 / 625.0).abs() < 1e-6);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn reuse<S: Shape, D: TensorDevice<f32>>(t: &Tensor<S, f32, D, Taped<D>>) -> Tensor<S, f32, D, Taped<D>> {
    t.retaped::<Taped<D>>()
}

/// Stacks `d` columns `[M]` into a batch `[M, d]`, merging their tapes.
pub fn stack_columns<D: TensorDevice<f32>>(cols: Vec<Scalars<D>>) -> Result<Points<D>> {
    let mut iter = cols.into_iter();
    let first = iter
        .next()
        .ok_or_else(|| Error::Empty("stack_columns: no columns".into()))?;
    let m = first.shape().0;
    let mut out: Points<D> = first.reshape_like(&(m, 1));
    for col in iter {
        if col.shape().0 != m {
            return Err(Error::shape(
                "stack_columns",
                format!("[{m}] columns"),
                format!("{:?}", col.shape()),
            ));
        }
        out = (out, col.reshape_like(&(m, 1))).concat_along(Axis::<1>);
    }
    Ok(out)
}

/// `m` copies of the row `values` as a constant `[m, values.len()]` tensor (centres, weights).
pub fn constant_rows<D: TensorDevice<f32>>(dev: &D, m: usize, values: &[f32]) -> Tensor2Const<D> {
    let data: Vec<f32> = (0..m).flat_map(|_| values.iter().copied()).collect();
    dev.tensor_from_vec(data, (m, values.len()))
}

/// A constant (tape-free) `[M, d]` tensor.
pub type Tensor2Const<D> = Tensor<(usize, usize), f32, D>;

/// Σ_k w_k (q_k − c_k)² for every row: a squared distance to `centre` (all weights 1), an
/// ellipse's level function, or an indefinite form such as 5x² − y².
///
/// ```
/// use dfdx::prelude::*;
/// use lagrangian_ot::lagrangian::weighted_square_distance;
/// use lagrangian_ot::nn::traced;
/// let dev = lagrangian_ot::device::default_device(0);
/// let q = dev.tensor_from_vec(vec![1.0f32, 2.0], (1, 2));
/// let d = weighted_square_distance(traced(&q), &[0.0, 1.0], &[20.0, 1.0])?;
/// assert_eq!(d.as_vec(), vec![21.0]);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn weighted_square_distance<D: TensorDevice<f32>>(
    q: Points<D>,
    centre: &[f32],
    weights: &[f32],
) -> Result<Scalars<D>> {
    let (m, d) = *q.shape();
    if centre.len() != d || weights.len() != d {
        return Err(Error::shape(
            "weighted_square_distance",
            format!("centre and weights of length {d}"),
            format!("{} and {}", centre.len(), weights.len()),
        ));
    }
    let dev = q.device().clone();
    let shifted = q - constant_rows(&dev, m, centre);
    Ok((shifted.square() * constant_rows(&dev, m, weights)).sum::<(usize,), Axis<1>>())
}

/// The soft indicator of an interval, w(s; a, b) = σ((s − a)/τ) − σ((s − b)/τ): about 1 on
/// [a, b] and 0 outside, with walls of width ~τ. This is how every box-shaped obstacle is smoothed.
///
/// ```
/// use dfdx::prelude::*;
/// use lagrangian_ot::lagrangian::window;
/// let dev = lagrangian_ot::device::default_device(0);
/// let s = dev.tensor_from_vec(vec![0.0f32, 1.0], (2,)).retaped::<lagrangian_ot::nn::Taped<_>>();
/// let w = window(s, -0.5, 0.5, 0.01).as_vec();
/// assert!((w[0] - 1.0).abs() < 1e-6 && w[1].abs() < 1e-6);
/// ```
pub fn window<D: TensorDevice<f32>>(s: Scalars<D>, a: f32, b: f32, temperature: f32) -> Scalars<D> {
    let lower = ((s.retaped::<Taped<D>>() - a) / temperature).sigmoid();
    let upper = ((s.retaped::<Taped<D>>() - b) / temperature).sigmoid();
    forward_tape(lower - upper, s)
}

/// Softplus ln(1 + eᶻ), computed without overflow for large |z|.
pub fn softplus<D: TensorDevice<f32>>(z: Scalars<D>) -> Scalars<D> {
    crate::nn::Activation::Softplus.apply(z)
}

/// The matrices A(q) `[M, d, d]` of a quadratic form S(q, v) = vᵀA(q)v, recovered by polarisation:
/// A_ii = S(eᵢ), A_ij = (S(eᵢ + eⱼ) − S(eᵢ) − S(eⱼ))/2, all in one batched call of `form`.
/// This is how every metric here answers `matrix_at` from its single `squared_speed` formula.
/// The result is the symmetric part of A (the only part a quadratic form sees).
///
/// ```
/// use dfdx::prelude::*;
/// use lagrangian_ot::lagrangian::{forward_tape, matrix_from_quadratic_form, reuse, xy};
/// let dev = lagrangian_ot::device::default_device(0);
/// // S(v) = 2v₁² + 2v₁v₂ + 3v₂²  ⇒  A = [[2, 1], [1, 3]].
/// let a = matrix_from_quadratic_form(&dev, 2, &ndarray::array![[0.0f32, 0.0]], None, |q, v, _| {
///     let (a, b) = xy(v)?;
///     let s = reuse(&a).square() * 2.0 + a * reuse(&b) * 2.0 + b.square() * 3.0;
///     Ok(forward_tape(s, q))
/// })?;
/// assert_eq!(a.into_raw_vec_and_offset().0, vec![2.0, 1.0, 1.0, 3.0]);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn matrix_from_quadratic_form<D: TensorDevice<f32>>(
    dev: &D,
    dim: usize,
    q: &Array2<f32>,
    cond: Option<&Array2<f32>>,
    form: impl FnOnce(Points<D>, Points<D>, Option<&Condition<D>>) -> Result<Scalars<D>>,
) -> Result<Array3<f32>> {
    check_host_points("matrix_at", q, dim)?;
    let m = q.nrows();
    if m == 0 {
        return Err(Error::Empty("matrix_at: no points".into()));
    }
    if let Some(c) = cond {
        if c.nrows() != m {
            return Err(Error::shape(
                "matrix_at condition",
                format!("{m} rows"),
                c.nrows().to_string(),
            ));
        }
    }
    // Probe directions: eᵢ for every i, then eᵢ + eⱼ for i < j.
    let mut probes: Vec<(usize, usize)> = (0..dim).map(|i| (i, i)).collect();
    probes.extend((0..dim).flat_map(|i| (i + 1..dim).map(move |j| (i, j))));
    let p = probes.len();
    let repeat = |a: &Array2<f32>| -> Array2<f32> {
        Array2::from_shape_fn((m * p, a.ncols()), |(r, c)| a[[r / p, c]])
    };
    let v = Array2::from_shape_fn((m * p, dim), |(r, c)| {
        let (i, j) = probes[r % p];
        if c == i || c == j {
            1.0
        } else {
            0.0
        }
    });
    let q_t = array_to_tensor(dev, &repeat(q), "matrix_at points")?;
    let v_t = array_to_tensor(dev, &v, "matrix_at directions")?;
    let cond_t = cond
        .map(|c| array_to_tensor(dev, &repeat(c), "matrix_at condition"))
        .transpose()?;
    let speeds = form(
        q_t.retaped::<Taped<D>>(),
        v_t.retaped::<Taped<D>>(),
        cond_t.as_ref(),
    )?
    .as_vec();
    if speeds.len() != m * p {
        return Err(Error::shape(
            "matrix_at quadratic form",
            format!("[{}]", m * p),
            format!("[{}]", speeds.len()),
        ));
    }
    let mut out = Array3::zeros((m, dim, dim));
    for point in 0..m {
        let s = &speeds[point * p..(point + 1) * p];
        for i in 0..dim {
            out[[point, i, i]] = s[i];
        }
        for (k, &(i, j)) in probes.iter().enumerate().skip(dim) {
            let off = 0.5 * (s[k] - s[i] - s[j]);
            out[[point, i, j]] = off;
            out[[point, j, i]] = off;
        }
    }
    crate::error::ensure_finite("matrix_at values", out.iter())?;
    Ok(out)
}

/// Checks that a potential or metric returned one value per point.
pub(crate) fn check_scalars<D: TensorDevice<f32>>(
    context: &str,
    values: &Scalars<D>,
    m: usize,
) -> Result<()> {
    if values.shape().0 == m {
        Ok(())
    } else {
        Err(Error::shape(
            context,
            format!("[{m}] (one value per point)"),
            format!("{:?}", values.shape()),
        ))
    }
}

/// Checks a batch `[M, dim]` with at least one row.
pub(crate) fn check_points<D: TensorDevice<f32>>(context: &str, q: &Points<D>, dim: usize) -> Result<()> {
    crate::nn::check_columns(context, *q.shape(), dim)
}

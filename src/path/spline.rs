//! Natural cubic spline paths with fixed end points, and their evaluation as fixed linear maps.
//!
//! A path of the family [`CubicSplinePath`] joins `x` to `y` as
//! `γ(s) = (1 − s)·x + s·y + r(s)`, `s ∈ [0, 1]`, where each coordinate of the residual `r` is a
//! natural cubic spline on `knots` equally spaced knots that vanishes at both ends. The parameters are
//! the residual's values at the interior knots, so `params = 0` is the straight line at constant
//! speed. Since `r` depends linearly on those values, position, velocity and acceleration at any fixed
//! set of times are linear maps of `(x, y, params)`; [`CubicSplinePath::linear_map`] precomputes them
//! (in `f64`, stored as `f32`) and [`PathEvaluator`] applies them to a batch as one matrix product
//! on the stacked rows `[params | x | y]`.

use dfdx::prelude::*;
use ndarray::{Array1, Array2, Array3, ArrayView1, ArrayView2};

use crate::error::{Error, Result};
use crate::lagrangian::Points;
use crate::nn::{device_error, TensorDevice};

/// Knots of the NLOT reference spline (`num_spline_nodes = 30`).
pub const NLOT_KNOTS: usize = 30;
/// Knots of the HTI reference spline (`num_spline_nodes = 15`).
pub const HTI_KNOTS: usize = 15;

/// Which derivative of the path to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Order {
    /// The position `γ(s)`.
    Position,
    /// The velocity `γ̇(s)`.
    Velocity,
    /// The acceleration `γ̈(s)` (equal to `r̈(s)`: the straight line has none).
    Acceleration,
}

/// The family of paths `γ(s) = (1 − s)·x + s·y + r(s)` in `dim` dimensions whose residual `r` is a
/// natural cubic spline (C², `r̈ = 0` at both ends) on `knots` equally spaced knots with
/// `r(0) = r(1) = 0`. See the [module docs](super) for how this differs from the reference spline.
///
/// A path is given by its end points and `num_params() = dim·(knots − 2)` parameters: the residual's
/// values at the interior knots, row-major as `[knots − 2, dim]` (`params[k·dim + c]` is coordinate
/// `c` at interior knot `k + 1`).
///
/// ```
/// use lagrangian_ot::path::{CubicSplinePath, Order};
/// use ndarray::array;
/// let family = CubicSplinePath::new(2, 5)?; // 3 interior knots per coordinate
/// assert_eq!(family.num_params(), 6);
/// let (x, y) = (array![0.0f32, 0.0], array![1.0f32, 0.0]);
/// // lift the middle knot (s = 0.5) by 0.25 in the second coordinate
/// let params = array![0.0f32, 0.0, 0.0, 0.25, 0.0, 0.0];
/// let p = family.evaluate(x.view(), y.view(), params.view(), &[0.0, 0.5, 1.0], Order::Position)?;
/// assert!((p[[1, 0]] - 0.5).abs() < 1e-6 && (p[[1, 1]] - 0.25).abs() < 1e-6);
/// assert!(p[[2, 1]].abs() < 1e-7); // the end point is y
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CubicSplinePath {
    dim: usize,
    knots: usize,
    /// Second derivatives of the residual at all knots per unit interior value: `[knots, knots − 2]`.
    curvature: Array2<f64>,
}

impl CubicSplinePath {
    /// The family in `dim` dimensions on `knots` knots (end points included). Needs `dim ≥ 1` and
    /// `knots ≥ 3` (at least one free knot), else [`Error::InvalidArgument`].
    pub fn new(dim: usize, knots: usize) -> Result<Self> {
        if dim == 0 {
            return Err(Error::InvalidArgument("a spline path needs dim >= 1".into()));
        }
        if knots < 3 {
            return Err(Error::InvalidArgument(format!(
                "a spline path needs at least 3 knots (one interior), got {knots}"
            )));
        }
        Ok(CubicSplinePath {
            dim,
            knots,
            curvature: natural_curvature_map(knots),
        })
    }

    /// The NLOT-sized family: [`NLOT_KNOTS`] knots.
    pub fn nlot(dim: usize) -> Result<Self> {
        Self::new(dim, NLOT_KNOTS)
    }

    /// Dimension of the points.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of knots, end points included.
    pub fn knots(&self) -> usize {
        self.knots
    }

    /// Free values per coordinate: `knots − 2`.
    pub fn interior_knots(&self) -> usize {
        self.knots - 2
    }

    /// Number of parameters of one path: `dim·(knots − 2)`.
    pub fn num_params(&self) -> usize {
        self.dim * self.interior_knots()
    }

    /// The knot times `i/(knots − 1)`, end points included.
    pub fn knot_times(&self) -> Vec<f64> {
        let segments = (self.knots - 1) as f64;
        (0..self.knots).map(|i| i as f64 / segments).collect()
    }

    /// Weights of the interior-knot values in the residual's `order` derivative at `s` (one coordinate):
    /// `r⁽ᵒʳᵈᵉʳ⁾(s) = Σ_k row[k]·value_k`. `s` must lie in `[0, 1]`.
    pub fn residual_row(&self, s: f64, order: Order) -> Result<Array1<f64>> {
        check_time(s)?;
        Ok(self.row_unchecked(s, order))
    }

    fn row_unchecked(&self, s: f64, order: Order) -> Array1<f64> {
        let segments = self.knots - 1;
        let h = 1.0 / segments as f64;
        let i = ((s / h).floor() as usize).min(segments - 1);
        let t = (s - i as f64 * h) / h;
        let (u, m_left, m_right) = (1.0 - t, self.curvature.row(i), self.curvature.row(i + 1));
        // Residual = linear interpolation of knot values + curvature correction (standard form of a
        // cubic spline in terms of its knot values and knot second derivatives).
        let (value_left, value_right, curv_left, curv_right) = match order {
            Order::Position => (u, t, h * h / 6.0 * (u * u * u - u), h * h / 6.0 * (t * t * t - t)),
            Order::Velocity => (
                -1.0 / h,
                1.0 / h,
                -h / 6.0 * (3.0 * u * u - 1.0),
                h / 6.0 * (3.0 * t * t - 1.0),
            ),
            Order::Acceleration => (0.0, 0.0, u, t),
        };
        let mut row = &m_left * curv_left + &m_right * curv_right;
        // Knot i's value is parameter i − 1; the end knots are pinned to zero.
        if i >= 1 {
            row[i - 1] += value_left;
        }
        if i < self.knots - 2 {
            row[i] += value_right;
        }
        row
    }

    /// The linear map from `(x, y, params)` to the `order` derivative of the path at times `s`
    /// (each in `[0, 1]`); see [`LinearMap`].
    pub fn linear_map(&self, s: &[f64], order: Order) -> Result<LinearMap> {
        if s.is_empty() {
            return Err(Error::Empty("spline evaluation times".into()));
        }
        s.iter().try_for_each(|&t| check_time(t))?;
        let (d, n, points) = (self.dim, self.interior_knots(), s.len());
        let mut map = LinearMap {
            dim: d,
            points,
            from_x: Array2::zeros((d, points * d)),
            from_y: Array2::zeros((d, points * d)),
            from_params: Array2::zeros((n * d, points * d)),
        };
        for (p, &t) in s.iter().enumerate() {
            let (wx, wy) = match order {
                Order::Position => (1.0 - t, t),
                Order::Velocity => (-1.0, 1.0),
                Order::Acceleration => (0.0, 0.0),
            };
            let row = self.row_unchecked(t, order);
            for c in 0..d {
                let col = p * d + c;
                map.from_x[[c, col]] = wx;
                map.from_y[[c, col]] = wy;
                for k in 0..n {
                    map.from_params[[k * d + c, col]] = row[k];
                }
            }
        }
        Ok(map)
    }

    /// The `order` derivative of one path at times `s`, as `[len(s), dim]`.
    pub fn evaluate(
        &self,
        x: ArrayView1<'_, f32>,
        y: ArrayView1<'_, f32>,
        params: ArrayView1<'_, f32>,
        s: &[f64],
        order: Order,
    ) -> Result<Array2<f32>> {
        let out = self.evaluate_batch(
            x.insert_axis(ndarray::Axis(0)),
            y.insert_axis(ndarray::Axis(0)),
            params.insert_axis(ndarray::Axis(0)),
            s,
            order,
        )?;
        Ok(out.index_axis_move(ndarray::Axis(0), 0))
    }

    /// The `order` derivative of a batch of paths (`x`, `y`: `[B, dim]`, `params`: `[B, num_params]`)
    /// at times `s`, as `[B, len(s), dim]`.
    pub fn evaluate_batch(
        &self,
        x: ArrayView2<'_, f32>,
        y: ArrayView2<'_, f32>,
        params: ArrayView2<'_, f32>,
        s: &[f64],
        order: Order,
    ) -> Result<Array3<f32>> {
        self.check_host_batch("CubicSplinePath::evaluate_batch", x, y, params)?;
        let map = self.linear_map(s, order)?;
        let flat = map.apply_host(x, y, params);
        Ok(flat
            .into_shape_with_order((x.nrows(), s.len(), self.dim))
            .expect("[B, T·d] holds B·T·d values"))
    }

    /// Checks host end points `[B, dim]` and parameters `[B, num_params]` (shapes, non-empty, finite).
    pub fn check_host_batch(
        &self,
        context: &str,
        x: ArrayView2<'_, f32>,
        y: ArrayView2<'_, f32>,
        params: ArrayView2<'_, f32>,
    ) -> Result<()> {
        let b = x.nrows();
        if b == 0 {
            return Err(Error::Empty(format!("{context}: no paths")));
        }
        let (d, n) = (self.dim, self.num_params());
        if x.ncols() != d || y.dim() != (b, d) || params.dim() != (b, n) {
            return Err(Error::shape(
                context,
                format!("x [B, {d}], y [B, {d}], params [B, {n}]"),
                format!("x {:?}, y {:?}, params {:?}", x.dim(), y.dim(), params.dim()),
            ));
        }
        crate::error::ensure_finite(context, x.iter().chain(y.iter()).chain(params.iter()))
    }
}

fn check_time(s: f64) -> Result<()> {
    if (0.0..=1.0).contains(&s) {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "spline evaluation time {s} is outside [0, 1]"
        )))
    }
}

/// Second derivatives `M` of the natural spline through `(0, v_1, …, v_{K−2}, 0)` at all `K` knots,
/// per unit value `v_j`: `[K, K − 2]`. Solves `M_{i−1} + 4M_i + M_{i+1} = 6/h²·(v_{i−1} − 2v_i + v_{i+1})`
/// with `M_0 = M_{K−1} = 0` by the Thomas algorithm, one right-hand side per interior value.
fn natural_curvature_map(knots: usize) -> Array2<f64> {
    let n = knots - 2;
    let h = 1.0 / (knots - 1) as f64;
    let scale = 6.0 / (h * h);
    // Right-hand sides: second difference of the unit vectors (rows = equations for knots 1..=n).
    let mut rhs = Array2::<f64>::zeros((n, n));
    for i in 0..n {
        rhs[[i, i]] = -2.0 * scale;
        if i > 0 {
            rhs[[i, i - 1]] = scale;
        }
        if i + 1 < n {
            rhs[[i, i + 1]] = scale;
        }
    }
    // Forward sweep on the constant tridiagonal (1, 4, 1).
    let mut diag = vec![4.0f64; n];
    for i in 1..n {
        let factor = 1.0 / diag[i - 1];
        diag[i] -= factor;
        let previous = rhs.row(i - 1).to_owned();
        rhs.row_mut(i).scaled_add(-factor, &previous);
    }
    // Back substitution.
    let mut solution = Array2::<f64>::zeros((n, n));
    for i in (0..n).rev() {
        let mut row = rhs.row(i).to_owned();
        if i + 1 < n {
            row.scaled_add(-1.0, &solution.row(i + 1));
        }
        solution.row_mut(i).assign(&(row / diag[i]));
    }
    let mut curvature = Array2::zeros((knots, n));
    curvature
        .slice_mut(ndarray::s![1..knots - 1, ..])
        .assign(&solution);
    curvature
}

/// The linear map from a path's `(x, y, params)` to a derivative of it at `points` fixed times, in
/// `f64`: `out[b, p·dim + c] = (x·from_x + y·from_y + params·from_params)[b, p·dim + c]`.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearMap {
    /// Dimension of the points.
    pub dim: usize,
    /// Number of evaluation times.
    pub points: usize,
    /// `[dim, points·dim]`.
    pub from_x: Array2<f64>,
    /// `[dim, points·dim]`.
    pub from_y: Array2<f64>,
    /// `[num_params, points·dim]`.
    pub from_params: Array2<f64>,
}

impl LinearMap {
    /// Keeps the evaluation times `range` (e.g. the left ends of a polygon's segments).
    pub fn select(&self, range: std::ops::Range<usize>) -> LinearMap {
        let cols = range.start * self.dim..range.end * self.dim;
        LinearMap {
            dim: self.dim,
            points: range.len(),
            from_x: self.from_x.slice(ndarray::s![.., cols.clone()]).to_owned(),
            from_y: self.from_y.slice(ndarray::s![.., cols.clone()]).to_owned(),
            from_params: self.from_params.slice(ndarray::s![.., cols]).to_owned(),
        }
    }

    /// Forward differences between consecutive times: `points − 1` outputs `p_{k+1} − p_k`.
    pub fn differences(&self) -> LinearMap {
        let d = self.dim;
        let diff = |m: &Array2<f64>| {
            let width = m.ncols();
            &m.slice(ndarray::s![.., d..width]) - &m.slice(ndarray::s![.., 0..width - d])
        };
        LinearMap {
            dim: d,
            points: self.points - 1,
            from_x: diff(&self.from_x),
            from_y: diff(&self.from_y),
            from_params: diff(&self.from_params),
        }
    }

    /// Applies the map on the host (in `f32`): `[B, points·dim]`.
    pub fn apply_host(
        &self,
        x: ArrayView2<'_, f32>,
        y: ArrayView2<'_, f32>,
        params: ArrayView2<'_, f32>,
    ) -> Array2<f32> {
        let f32_of = |m: &Array2<f64>| m.mapv(|v| v as f32);
        x.dot(&f32_of(&self.from_x)) + y.dot(&f32_of(&self.from_y)) + params.dot(&f32_of(&self.from_params))
    }

    /// Copies the map onto `dev` as a [`PathEvaluator`] that adds `offset` to every output entry.
    pub fn to_device<D: TensorDevice<f32>>(&self, dev: &D, offset: f32) -> Result<PathEvaluator<D>> {
        // One matrix for the stacked input row [params | x | y]: a single matrix product per batch.
        let stacked = ndarray::concatenate(
            ndarray::Axis(0),
            &[self.from_params.view(), self.from_x.view(), self.from_y.view()],
        )
        .map_err(|e| Error::shape("LinearMap::to_device", "matching column counts", e.to_string()))?;
        let matrix = dev
            .try_tensor_from_vec(stacked.iter().map(|&v| v as f32).collect(), stacked.dim())
            .map_err(device_error)?;
        Ok(PathEvaluator {
            dim: self.dim,
            points: self.points,
            num_params: self.from_params.nrows(),
            matrix,
            offset,
        })
    }
}

/// A [`LinearMap`] on a device: turns a batch of taped `(x [B, d], y [B, d], params [B, n])` into the
/// path derivative at its fixed times, `[B·points, d]` (path-major: rows `b·points .. (b+1)·points`
/// belong to path `b`), plus a constant `offset` on every entry.
#[derive(Debug, Clone)]
pub struct PathEvaluator<D: TensorDevice<f32>> {
    dim: usize,
    points: usize,
    num_params: usize,
    /// `[num_params + 2·dim, points·dim]`, acting on the row `[params | x | y]`.
    matrix: Tensor<(usize, usize), f32, D>,
    offset: f32,
}

impl<D: TensorDevice<f32>> PathEvaluator<D> {
    /// Number of evaluation times per path.
    pub fn points(&self) -> usize {
        self.points
    }

    /// Number of parameters per path it expects.
    pub fn num_params(&self) -> usize {
        self.num_params
    }

    /// The path derivative at the evaluator's times for every path, `[B·points, d]`, carrying the
    /// tapes of all three inputs. Errors if the shapes disagree with the family.
    pub fn apply(&self, x: Points<D>, y: Points<D>, params: Points<D>) -> Result<Points<D>> {
        self.apply_stacked(stack_inputs(x, y, params, self.dim, self.num_params)?)
    }

    /// Like [`PathEvaluator::apply`] on the stacked rows `[params | x | y]` (`[B, n + 2d]`, see
    /// [`stack_inputs`]), so several evaluators can share one concatenation.
    pub fn apply_stacked(&self, inputs: Points<D>) -> Result<Points<D>> {
        let (b, width) = *inputs.shape();
        if b == 0 || width != self.matrix.shape().0 {
            return Err(Error::shape(
                "PathEvaluator::apply_stacked",
                format!("[B, {}] with B > 0", self.matrix.shape().0),
                format!("{:?}", inputs.shape()),
            ));
        }
        let flat = inputs.matmul(self.matrix.clone());
        let flat = if self.offset != 0.0 {
            flat + self.offset
        } else {
            flat
        };
        Ok(flat.reshape_like(&(b * self.points, self.dim)))
    }
}

/// The rows `[params | x | y]` (`[B, n + 2d]`) a [`PathEvaluator`] acts on, carrying all three tapes;
/// errors unless `x`, `y` are `[B, dim]` and `params` `[B, num_params]` with `B > 0`.
pub fn stack_inputs<D: TensorDevice<f32>>(
    x: Points<D>,
    y: Points<D>,
    params: Points<D>,
    dim: usize,
    num_params: usize,
) -> Result<Points<D>> {
    let b = x.shape().0;
    if b == 0 || x.shape().1 != dim || *y.shape() != (b, dim) || *params.shape() != (b, num_params) {
        return Err(Error::shape(
            "spline path inputs",
            format!("x [B, {dim}], y [B, {dim}], params [B, {num_params}] with B > 0"),
            format!(
                "x {:?}, y {:?}, params {:?}",
                x.shape(),
                y.shape(),
                params.shape()
            ),
        ));
    }
    let stacked: Points<D> = (params, x).concat_along(Axis::<1>);
    Ok((stacked, y).concat_along(Axis::<1>))
}

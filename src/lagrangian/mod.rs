//! Lagrangians L(q, q̇ | x) = ½ q̇ᵀ A(q | x) q̇ − U(q | x): a Riemannian metric A (kinetic part) minus a
//! potential U, optionally conditional on x.
//!
//! A [`Lagrangian`] is generic over its [`Metric`] and [`Potential`] so solvers can own and train the
//! learned pieces (a Givens metric, say) while the built-ins stay zero-cost. Both parts act on batches
//! of points as dfdx tensors carrying a tape ([`Points`]), so the action of a path is differentiable
//! with respect to path parameters, end points and any network weights inside A or U.
//!
//! Sign convention (as in the NLOT paper): a path pays −U at each point, so obstacles have U ≤ 0
//! where they stand.
//!
//! Built-ins: the papers' obstacles ([`Obstacle`], annealed by [`Annealing`], summed by [`Mixture`]),
//! the known metrics of NLOT's metric learning ([`ScarvelisMetric`]), learned metrics
//! ([`GivensMetric`]: HTI's eigenvalue budget and NLOT's fixed eigenvalues), HTI's density potential
//! ([`KdePotential`]), and closures ([`FnPotential`], [`FnMetric`]) for prototyping. Every
//! Lagrangian draws itself ([`Lagrangian::plot`] → [`LagrangianPlot`]).
//!
//! ```
//! use lagrangian_ot::lagrangian::{Lagrangian, Obstacle, ObstacleShape, ScarvelisMetric};
//! use lagrangian_ot::plot::Plot;
//! let lag = Lagrangian::new(ScarvelisMetric::circle(), Obstacle::new(ObstacleShape::Box));
//! let x = ndarray::array![[-1.0f32, 0.1], [-1.1, -0.3]];
//! assert!(lag.plot().samples(&x, "source").to_svg()?.starts_with("<svg"));
//! # Ok::<(), lagrangian_ot::Error>(())
//! ```

mod anneal;
mod bounds;
mod closure;
mod draw;
mod givens;
mod kde;
mod mixture;
mod obstacles;
mod ops;
mod riemannian;

pub use anneal::{Annealing, NLOT_ANNEALING_STEPS};
pub use bounds::Bounds;
pub use closure::{FnMetric, FnPotential};
pub use draw::{LagrangianPlot, DEFAULT_RESOLUTION};
pub use givens::{Eigenvalues, FrozenGivensMetric, GivensMetric, GivensMetricBuilder};
pub use kde::{KdeConditioning, KdePotential, KdePotentialBuilder};
pub use mixture::Mixture;
pub use obstacles::{Obstacle, ObstacleShape};
pub use ops::{
    column, columns, constant_rows, matrix_from_quadratic_form, reuse, select_columns, softplus,
    stack_columns, weighted_square_distance, window, xy, Tensor2Const,
};
pub use riemannian::{CheapDirection, ScarvelisMetric, SCARVELIS_EPSILON};

use crate::error::{Error, Result};
use crate::nn::{Taped, Tensor2, TensorDevice};
use dfdx::prelude::*;
use ndarray::{Array1, Array2, Array3};

/// A batch of points `[M, d]` carrying a tape, so what is computed from it can be differentiated.
pub type Points<D> = Tensor2<D, Taped<D>>;
/// One value per point, `[M]`, carrying a tape.
pub type Scalars<D> = Tensor<(usize,), f32, D, Taped<D>>;
/// A per-point condition `[M, c]` (continuous features or one-hot labels); never differentiated.
pub type Condition<D> = Tensor2<D>;

/// The kinetic part: a field of symmetric positive definite matrices A(q | x).
pub trait Metric<D: TensorDevice<f32>>: Send + Sync {
    /// Dimension d of the points.
    fn dim(&self) -> usize;
    /// A short name for titles and logs.
    fn name(&self) -> String;
    /// vᵀ A(q | x) v for every row; the kinetic energy is half of it.
    fn squared_speed(&self, q: Points<D>, v: Points<D>, cond: Option<&Condition<D>>) -> Result<Scalars<D>>;
    /// A(q | x) at host points `[M, d]`, as `[M, d, d]` (drawing, alignment scores, tests).
    fn matrix_at(&self, q: &Array2<f32>, cond: Option<&Array2<f32>>) -> Result<Array3<f32>>;
    /// Whether A is the identity everywhere (lets paths and solvers take short cuts).
    fn is_euclidean(&self) -> bool {
        false
    }
    /// The domain this metric is meant for (drawing, clipping), if it has one.
    fn bounds(&self) -> Option<Bounds> {
        None
    }
}

/// The potential part U(q | x); the Lagrangian subtracts it.
pub trait Potential<D: TensorDevice<f32>>: Send + Sync {
    /// A short name for titles and logs.
    fn name(&self) -> String;
    /// U(q | x) for every row.
    fn value(&self, q: Points<D>, cond: Option<&Condition<D>>) -> Result<Scalars<D>>;
    /// Whether U is identically zero (lets the action skip it).
    fn is_zero(&self) -> bool {
        false
    }
    /// The domain this potential is meant for (drawing, clipping), if it has one.
    fn bounds(&self) -> Option<Bounds> {
        None
    }
}

/// A borrowed potential is a potential, so a Lagrangian can be drawn or evaluated without taking
/// ownership of a model's obstacle.
impl<D: TensorDevice<f32>, P: Potential<D> + ?Sized> Potential<D> for &P {
    fn name(&self) -> String {
        (**self).name()
    }
    fn value(&self, q: Points<D>, cond: Option<&Condition<D>>) -> Result<Scalars<D>> {
        (**self).value(q, cond)
    }
    fn is_zero(&self) -> bool {
        (**self).is_zero()
    }
    fn bounds(&self) -> Option<Bounds> {
        (**self).bounds()
    }
}

/// The Euclidean metric A = I.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Euclidean {
    /// Dimension of the points.
    pub dim: usize,
}

impl<D: TensorDevice<f32>> Metric<D> for Euclidean {
    fn dim(&self) -> usize {
        self.dim
    }
    fn name(&self) -> String {
        "Euclidean".into()
    }
    fn squared_speed(&self, q: Points<D>, v: Points<D>, _cond: Option<&Condition<D>>) -> Result<Scalars<D>> {
        check_same_shape("Euclidean::squared_speed", &q, &v, self.dim)?;
        // q does not enter, but its tape may hold upstream ops (a spline net, say) that must still
        // reach the result, so it is merged in.
        Ok(forward_tape(v.square().sum::<(usize,), Axis<1>>(), q))
    }
    fn matrix_at(&self, q: &Array2<f32>, _cond: Option<&Array2<f32>>) -> Result<Array3<f32>> {
        check_host_points("Euclidean::matrix_at", q, self.dim)?;
        let mut out = Array3::zeros((q.nrows(), self.dim, self.dim));
        for i in 0..self.dim {
            out.slice_mut(ndarray::s![.., i, i]).fill(1.0);
        }
        Ok(out)
    }
    fn is_euclidean(&self) -> bool {
        true
    }
}

/// Returns `result` carrying also the tape of `unused`, an input the computation did not need.
/// Dropping that input's tape would lose whatever was recorded upstream of it.
pub fn forward_tape<S: Shape, D: TensorDevice<f32>, S2: Shape>(
    result: Tensor<S, f32, D, Taped<D>>,
    unused: Tensor<S2, f32, D, Taped<D>>,
) -> Tensor<S, f32, D, Taped<D>> {
    let (_, unused_tape) = unused.split_tape();
    let (result, tape) = result.split_tape();
    result.put_tape(tape.merge(unused_tape))
}

/// No potential: U = 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoPotential;

impl<D: TensorDevice<f32>> Potential<D> for NoPotential {
    fn name(&self) -> String {
        "none".into()
    }
    fn value(&self, q: Points<D>, _cond: Option<&Condition<D>>) -> Result<Scalars<D>> {
        let zeros = q.device().zeros_like(&(q.shape().0,));
        Ok(forward_tape(zeros.retaped::<Taped<D>>(), q))
    }
    fn is_zero(&self) -> bool {
        true
    }
}

/// L(q, q̇ | x) = ½ q̇ᵀ A(q | x) q̇ − U(q | x). See the module docs.
#[derive(Debug, Clone)]
pub struct Lagrangian<M, P = NoPotential> {
    /// The kinetic part.
    pub metric: M,
    /// The potential part.
    pub potential: P,
}

impl Lagrangian<Euclidean, NoPotential> {
    /// The free-particle Lagrangian ½|q̇|² in `dim` dimensions: straight-line geodesics, cost ½|x − y|².
    pub fn euclidean(dim: usize) -> Self {
        Lagrangian {
            metric: Euclidean { dim },
            potential: NoPotential,
        }
    }
}

impl<M, P> Lagrangian<M, P> {
    /// Builds a Lagrangian from its two parts.
    pub fn new(metric: M, potential: P) -> Self {
        Lagrangian { metric, potential }
    }
    /// Replaces the potential, keeping the metric.
    pub fn with_potential<Q>(self, potential: Q) -> Lagrangian<M, Q> {
        Lagrangian {
            metric: self.metric,
            potential,
        }
    }
    /// Replaces the metric, keeping the potential.
    pub fn with_metric<N>(self, metric: N) -> Lagrangian<N, P> {
        Lagrangian {
            metric,
            potential: self.potential,
        }
    }
}

impl<M, P> Lagrangian<M, P> {
    /// L(q, v | x) for every row: ½ vᵀ A(q | x) v − U(q | x).
    pub fn value<D: TensorDevice<f32>>(
        &self,
        q: Points<D>,
        v: Points<D>,
        cond: Option<&Condition<D>>,
    ) -> Result<Scalars<D>>
    where
        M: Metric<D>,
        P: Potential<D>,
    {
        if self.potential.is_zero() {
            return Ok(self.metric.squared_speed(q, v, cond)? * 0.5);
        }
        // q feeds both parts: the copy shares q's id but not its tape, so upstream ops run once.
        let q_for_potential = q.retaped::<Taped<D>>();
        let kinetic = self.metric.squared_speed(q, v, cond)? * 0.5;
        let potential = self.potential.value(q_for_potential, cond)?;
        Ok(kinetic - potential)
    }
}

/// Checks that `q` and `v` are both `[M, dim]`.
pub fn check_same_shape<D: TensorDevice<f32>>(
    context: &str,
    q: &Points<D>,
    v: &Points<D>,
    dim: usize,
) -> Result<()> {
    let (qs, vs) = (q.shape(), v.shape());
    if qs.1 != dim || vs != qs {
        return Err(Error::shape(
            context,
            format!("q and v both [M, {dim}]"),
            format!("q {qs:?}, v {vs:?}"),
        ));
    }
    Ok(())
}

/// Checks that host points are `[M, dim]` and finite.
pub fn check_host_points(context: &str, q: &Array2<f32>, dim: usize) -> Result<()> {
    if q.ncols() != dim {
        return Err(Error::shape(
            context,
            format!("[M, {dim}]"),
            format!("{:?}", q.dim()),
        ));
    }
    crate::error::ensure_finite(context, q.iter())
}

/// Evaluates a potential at host points (drawing, tests): U(q) as an `Array1`.
pub fn potential_at<D: TensorDevice<f32>, P: Potential<D>>(
    potential: &P,
    dev: &D,
    q: &Array2<f32>,
    cond: Option<&Array2<f32>>,
) -> Result<Array1<f32>> {
    let q_t = crate::nn::array_to_tensor(dev, q, "potential_at points")?;
    let cond_t = cond
        .map(|c| crate::nn::array_to_tensor(dev, c, "potential_at condition"))
        .transpose()?;
    let values = potential.value(crate::nn::traced(&q_t), cond_t.as_ref())?;
    Ok(Array1::from(values.as_vec()))
}

//! Potentials and metrics written as closures over taped tensors, so a notebook cell can prototype a
//! Lagrangian in a few lines and hand it to every solver.
//!
//! The closures receive batches `[M, d]` carrying a tape and return one value per row; build them
//! from dfdx operations and the helpers [`super::xy`], [`super::column`], [`super::window`],
//! [`super::weighted_square_distance`]. A tensor used twice in a formula is read the second time
//! through [`super::reuse`] (same values, empty tape), or split with [`super::xy`].
//! Both types are boxed (`Arc<dyn Fn>`), so their type can be named in a notebook.

use std::sync::Arc;

use dfdx::prelude::*;
use ndarray::{Array2, Array3};

use super::ops::{check_points, check_scalars, columns, matrix_from_quadratic_form};
use super::{check_same_shape, forward_tape, Bounds, Condition, Metric, Points, Potential, Scalars};
use crate::error::{Error, Result};
use crate::nn::{Taped, TensorDevice};

type PotentialFn<D> = dyn Fn(Points<D>, Option<&Condition<D>>) -> Result<Scalars<D>> + Send + Sync;
type SpeedFn<D> = dyn Fn(Points<D>, Points<D>, Option<&Condition<D>>) -> Result<Scalars<D>> + Send + Sync;

/// A potential U(q | x) given by a closure.
///
/// ```
/// use dfdx::prelude::*;
/// use lagrangian_ot::lagrangian::{potential_at, FnPotential, Points};
/// let dev = lagrangian_ot::device::default_device(0);
/// // A ring-shaped obstacle: U = −0.1·exp(−(|q|² − 1)²/0.05).
/// let ring = FnPotential::new("ring", |q: Points<_>| {
///     let r2 = q.square().sum::<(usize,), Axis<1>>();
///     Ok(((r2 - 1.0).square() * (-1.0 / 0.05)).exp() * -0.1)
/// })
/// .with_dim(2);
/// let u = potential_at(&ring, &dev, &ndarray::array![[1.0f32, 0.0], [0.0, 0.0]], None)?;
/// assert!((u[0] + 0.1).abs() < 1e-6 && u[1].abs() < 1e-6);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
#[derive(Clone)]
pub struct FnPotential<D: TensorDevice<f32> = crate::device::Device> {
    name: String,
    f: Arc<PotentialFn<D>>,
    dim: Option<usize>,
    bounds: Option<Bounds>,
}

impl<D: TensorDevice<f32>> std::fmt::Debug for FnPotential<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnPotential")
            .field("name", &self.name)
            .field("dim", &self.dim)
            .finish()
    }
}

impl<D: TensorDevice<f32>> FnPotential<D> {
    /// U(q) from `f(q)`; conditions are ignored.
    pub fn new(name: &str, f: impl Fn(Points<D>) -> Result<Scalars<D>> + Send + Sync + 'static) -> Self {
        Self::conditional(name, move |q, _| f(q))
    }

    /// U(q | x) from `f(q, x)`.
    pub fn conditional(
        name: &str,
        f: impl Fn(Points<D>, Option<&Condition<D>>) -> Result<Scalars<D>> + Send + Sync + 'static,
    ) -> Self {
        FnPotential {
            name: name.to_string(),
            f: Arc::new(f),
            dim: None,
            bounds: None,
        }
    }

    /// Checks that points have `dim` columns before calling the closure.
    pub fn with_dim(mut self, dim: usize) -> Self {
        self.dim = Some(dim);
        self
    }

    /// The domain to draw it on.
    pub fn with_bounds(mut self, bounds: Bounds) -> Self {
        self.bounds = Some(bounds);
        self
    }
}

impl<D: TensorDevice<f32>> Potential<D> for FnPotential<D> {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn value(&self, q: Points<D>, cond: Option<&Condition<D>>) -> Result<Scalars<D>> {
        if let Some(d) = self.dim {
            check_points(&self.name, &q, d)?;
        }
        let m = q.shape().0;
        let u = (self.f)(q, cond)?;
        check_scalars(&self.name, &u, m)?;
        Ok(u)
    }
    fn bounds(&self) -> Option<Bounds> {
        self.bounds.clone()
    }
}

/// A metric given by a closure, either as the quadratic form vᵀA(q | x)v ([`FnMetric::quadratic`])
/// or as the entries of A(q) ([`FnMetric::matrix`]). `matrix_at` recovers A by polarisation, so
/// drawing and alignment scores work for any closure.
///
/// ```
/// use lagrangian_ot::lagrangian::{reuse, xy, FnMetric, Metric, Points};
/// let dev = lagrangian_ot::device::default_device(0);
/// // A = diag(1 + x², 1): moving sideways costs more away from the y axis.
/// let metric = FnMetric::matrix("stretch", 2, &dev, |q: Points<_>| {
///     let (x, y) = xy(q)?;
///     let zero = y * 0.0;
///     Ok(vec![x.square() + 1.0, reuse(&zero), reuse(&zero), zero + 1.0])
/// });
/// let a = metric.matrix_at(&ndarray::array![[2.0f32, 0.0]], None)?;
/// assert!((a[[0, 0, 0]] - 5.0).abs() < 1e-5 && (a[[0, 1, 1]] - 1.0).abs() < 1e-5);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
#[derive(Clone)]
pub struct FnMetric<D: TensorDevice<f32> = crate::device::Device> {
    name: String,
    dim: usize,
    dev: D,
    f: Arc<SpeedFn<D>>,
    bounds: Option<Bounds>,
}

impl<D: TensorDevice<f32>> std::fmt::Debug for FnMetric<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnMetric")
            .field("name", &self.name)
            .field("dim", &self.dim)
            .finish()
    }
}

impl<D: TensorDevice<f32>> FnMetric<D> {
    /// The metric whose squared speed is `f(q, v)` = vᵀA(q)v (`dev` evaluates it for `matrix_at`).
    pub fn quadratic(
        name: &str,
        dim: usize,
        dev: &D,
        f: impl Fn(Points<D>, Points<D>) -> Result<Scalars<D>> + Send + Sync + 'static,
    ) -> Self {
        Self::conditional(name, dim, dev, move |q, v, _| f(q, v))
    }

    /// The metric whose squared speed is `f(q, v, x)`.
    pub fn conditional(
        name: &str,
        dim: usize,
        dev: &D,
        f: impl Fn(Points<D>, Points<D>, Option<&Condition<D>>) -> Result<Scalars<D>> + Send + Sync + 'static,
    ) -> Self {
        FnMetric {
            name: name.to_string(),
            dim,
            dev: dev.clone(),
            f: Arc::new(f),
            bounds: None,
        }
    }

    /// The metric whose matrix is given entry by entry: `f(q)` returns the d² entries of A(q),
    /// row-major, each `[M]`. Only the symmetric part of A matters.
    pub fn matrix(
        name: &str,
        dim: usize,
        dev: &D,
        f: impl Fn(Points<D>) -> Result<Vec<Scalars<D>>> + Send + Sync + 'static,
    ) -> Self {
        Self::conditional(name, dim, dev, move |q, v, _| {
            let entries = f(q)?;
            if entries.len() != dim * dim {
                return Err(Error::shape(
                    "FnMetric::matrix closure",
                    format!("{} entries", dim * dim),
                    entries.len().to_string(),
                ));
            }
            // vᵀAv = Σ_ij A_ij v_i v_j, reading v through tape-free copies; v's tape joins at the end.
            let v_cols = columns(v.retaped::<Taped<D>>())?;
            let mut total: Option<Scalars<D>> = None;
            for (k, a) in entries.into_iter().enumerate() {
                let (i, j) = (k / dim, k % dim);
                let term = a * v_cols[i].retaped::<Taped<D>>() * v_cols[j].retaped::<Taped<D>>();
                total = Some(match total {
                    Some(t) => t + term,
                    None => term,
                });
            }
            let total = total.ok_or_else(|| Error::Empty("metric of dimension 0".into()))?;
            let total = v_cols.into_iter().fold(total, forward_tape);
            Ok(forward_tape(total, v))
        })
    }

    /// The domain to draw it on.
    pub fn with_bounds(mut self, bounds: Bounds) -> Self {
        self.bounds = Some(bounds);
        self
    }
}

impl<D: TensorDevice<f32> + Send + Sync> Metric<D> for FnMetric<D> {
    fn dim(&self) -> usize {
        self.dim
    }
    fn name(&self) -> String {
        self.name.clone()
    }
    fn squared_speed(&self, q: Points<D>, v: Points<D>, cond: Option<&Condition<D>>) -> Result<Scalars<D>> {
        check_same_shape(&self.name, &q, &v, self.dim)?;
        let m = q.shape().0;
        let s = (self.f)(q, v, cond)?;
        check_scalars(&self.name, &s, m)?;
        Ok(s)
    }
    fn matrix_at(&self, q: &Array2<f32>, cond: Option<&Array2<f32>>) -> Result<Array3<f32>> {
        matrix_from_quadratic_form(&self.dev, self.dim, q, cond, |q, v, c| {
            self.squared_speed(q, v, c)
        })
    }
    fn bounds(&self) -> Option<Bounds> {
        self.bounds.clone()
    }
}

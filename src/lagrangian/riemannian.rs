//! The known metrics of NLOT's metric-learning experiments ("Scarvelis" metrics, NLOT spec §6):
//! A(q) = I − (1 − ε)·u(q)u(q)ᵀ, cheap along a direction field u. The data of those experiments
//! flow along u, and a learned metric is scored by how well its cheap direction aligns with u.

use dfdx::prelude::*;
use ndarray::{Array2, Array3};

use super::ops::{check_points, column, matrix_from_quadratic_form, stack_columns, xy};
use super::{check_same_shape, forward_tape, Bounds, Condition, Metric, Points, Scalars};
use crate::error::Result;
use crate::nn::{array_to_tensor, device_error, tensor_to_array, Taped, TensorDevice};

/// ε of the reference code: the cheap direction costs 1e-3 of the others when |u| = 1.
pub const SCARVELIS_EPSILON: f32 = 1e-3;

/// The direction field u(q) of a [`ScarvelisMetric`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheapDirection {
    /// Circular flow: u = (−y, x)/max(|q|, 1e-6). A(−1, 0) = diag(1, 0.001).
    Circle,
    /// Mass splitting ("vee"): u = (1, sign y)/√2 with sign 0 = 0. A(0, 0) = diag(0.5005, 1).
    Vee,
    /// X paths: with p = xy, α = tanh(relu p), β = tanh(relu(−p)), u = (α − β, α + β)/√2
    /// (the code's 1.25 factors cancel). A = I on the axes.
    XPath,
}

/// A(q) = I − (1 − ε)·u(q)u(q)ᵀ on the plane, for a [`CheapDirection`] u.
///
/// ```
/// use lagrangian_ot::lagrangian::{Metric, ScarvelisMetric};
/// let circle = ScarvelisMetric::circle();
/// let a = Metric::<lagrangian_ot::device::Device>::matrix_at(&circle, &ndarray::array![[-1.0f32, 0.0]], None)?;
/// assert!((a[[0, 0, 0]] - 1.0).abs() < 1e-5 && (a[[0, 1, 1]] - 1e-3).abs() < 1e-5);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScarvelisMetric {
    /// The direction field.
    pub field: CheapDirection,
    /// ε: the eigenvalue along a unit u.
    pub epsilon: f32,
}

impl ScarvelisMetric {
    /// The circle metric (`scarvelis_circle`).
    pub fn circle() -> Self {
        Self::new(CheapDirection::Circle)
    }
    /// The mass-splitting metric (`scarvelis_vee`).
    pub fn vee() -> Self {
        Self::new(CheapDirection::Vee)
    }
    /// The X-paths metric (`scarvelis_xpath`).
    pub fn xpath() -> Self {
        Self::new(CheapDirection::XPath)
    }
    /// The metric of `field` with the reference ε = 1e-3.
    pub fn new(field: CheapDirection) -> Self {
        ScarvelisMetric {
            field,
            epsilon: SCARVELIS_EPSILON,
        }
    }

    /// u(q) `[M, 2]` on q's tape.
    pub fn direction<D: TensorDevice<f32>>(&self, q: Points<D>) -> Result<Points<D>> {
        check_points("ScarvelisMetric::direction", &q, 2)?;
        let sqrt_half = std::f32::consts::FRAC_1_SQRT_2;
        match self.field {
            CheapDirection::Circle => {
                let r = (q.retaped::<Taped<D>>().square().sum::<(usize,), Axis<1>>())
                    .sqrt()
                    .clamp(1e-6, f32::MAX);
                let (x, y) = xy(q)?;
                let ux = y.negate() / r.retaped::<Taped<D>>();
                let uy = x / r;
                stack_columns(vec![ux, uy])
            }
            CheapDirection::Vee => {
                // u is piecewise constant: computed from the values, with q's tape passed on.
                let y = column(q.retaped::<Taped<D>>(), 1)?.as_vec();
                let data: Vec<f32> = y
                    .iter()
                    .flat_map(|&v| {
                        let sign = if v > 0.0 {
                            1.0
                        } else if v < 0.0 {
                            -1.0
                        } else {
                            0.0
                        };
                        [sqrt_half, sign * sqrt_half]
                    })
                    .collect();
                let u = q
                    .device()
                    .try_tensor_from_vec(data, (y.len(), 2))
                    .map_err(device_error)?;
                // q · 0 keeps q in the graph, so its gradient exists (zero) after a backward pass.
                Ok(q * 0.0 + u)
            }
            CheapDirection::XPath => {
                let (x, y) = xy(q)?;
                let p = x * y;
                let alpha = p.retaped::<Taped<D>>().relu().tanh();
                let beta = p.retaped::<Taped<D>>().negate().relu().tanh();
                let p_tape = p;
                let ux = (alpha.retaped::<Taped<D>>() - beta.retaped::<Taped<D>>()) * sqrt_half;
                let uy = (alpha + beta) * sqrt_half;
                stack_columns(vec![forward_tape(ux, p_tape), uy])
            }
        }
    }

    /// u at host points `[M, 2]`.
    pub fn direction_at(&self, q: &Array2<f32>) -> Result<Array2<f32>> {
        super::check_host_points("ScarvelisMetric::direction_at", q, 2)?;
        let dev = dfdx::tensor::Cpu::default();
        let q = array_to_tensor(&dev, q, "direction_at points")?;
        Ok(tensor_to_array(&self.direction(q.retaped::<Taped<_>>())?))
    }
}

impl<D: TensorDevice<f32>> Metric<D> for ScarvelisMetric {
    fn dim(&self) -> usize {
        2
    }
    fn name(&self) -> String {
        match self.field {
            CheapDirection::Circle => "circle metric",
            CheapDirection::Vee => "mass-splitting metric",
            CheapDirection::XPath => "X-paths metric",
        }
        .into()
    }
    /// |v|² − (1 − ε)(u·v)².
    fn squared_speed(&self, q: Points<D>, v: Points<D>, _cond: Option<&Condition<D>>) -> Result<Scalars<D>> {
        check_same_shape("ScarvelisMetric::squared_speed", &q, &v, 2)?;
        let u = self.direction(q)?;
        let along = (u * v.retaped::<Taped<D>>()).sum::<(usize,), Axis<1>>();
        let total = v.square().sum::<(usize,), Axis<1>>();
        Ok(total - along.square() * (1.0 - self.epsilon))
    }
    fn matrix_at(&self, q: &Array2<f32>, cond: Option<&Array2<f32>>) -> Result<Array3<f32>> {
        let dev = dfdx::tensor::Cpu::default();
        matrix_from_quadratic_form(&dev, 2, q, cond, |q, v, c| {
            Metric::<dfdx::tensor::Cpu>::squared_speed(self, q, v, c)
        })
    }
    fn bounds(&self) -> Option<Bounds> {
        let b = match self.field {
            CheapDirection::Circle | CheapDirection::XPath => Bounds::cube(-1.5, 1.5, 2),
            CheapDirection::Vee => Bounds::rect((-2.5, 15.0), (-15.0, 15.0)),
        };
        b.ok()
    }
}

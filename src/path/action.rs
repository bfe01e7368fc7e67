//! The action (transport cost) of spline paths under a [`Lagrangian`], batched and differentiable.

use dfdx::prelude::*;
use ndarray::{Array1, Array2};

use super::spline::{stack_inputs, CubicSplinePath, Order, PathEvaluator};
use crate::error::{Error, Result};
use crate::lagrangian::{Condition, Lagrangian, Metric, Points, Potential, Scalars};
use crate::nn::{array_to_tensor, device_error, traced, Taped, TensorDevice};

/// Evaluation points of the reference discretisation (`num_spline_points_eval = 20`).
pub const REFERENCE_POINTS: usize = 20;
/// The constant the reference adds to every component of every polygon edge.
pub const REFERENCE_EDGE_OFFSET: f32 = 1e-6;
/// Added to `γ̇ᵀAγ̇` under the square root of the length in [`Quadrature::GaussLegendre`], so a path
/// at rest (`x = y`) has a finite gradient.
const SPEED_FLOOR: f32 = 1e-12;

/// What the cost of a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ActionKind {
    /// The action `S = ∫ ½ γ̇ᵀA(γ)γ̇ − U(γ) ds`; the cost is `S` (NLOT's `LAGRANGIAN` mode: box,
    /// slit, hill, well, GMM, …).
    #[default]
    Lagrangian,
    /// The Riemannian length `L = ∫ √(γ̇ᵀA(γ)γ̇) − U(γ) ds`; the cost is `½L²` (NLOT's
    /// `SQUARED_GEODESIC` mode for the Scarvelis and learned metrics; with the potential, HTI's
    /// `½(length − ΣÛ)²`).
    SquaredGeodesic,
}

/// How the integral over `s ∈ [0, 1]` is discretised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quadrature {
    /// The reference's polygon (NLOT §2, HTI §3.2), kept exactly for parity: the path at
    /// `points` equally spaced times `p_0 … p_{T−1}`, edges `Δ_k = p_{k+1} − p_k + 10⁻⁶` (every
    /// component), metric and potential at the left end `p_k`, **no Δs factor**:
    /// Lagrangian `Σ_k ½Δ_kᵀA(p_k)Δ_k − U(p_k)` (so a straight line costs `½|x − y|²/(T − 1)`), length
    /// `Σ_k √(Δ_kᵀA(p_k)Δ_k) − U(p_k)`. Only the `points` positions enter: the spline between them
    /// is free.
    Reference {
        /// Number of evaluation points `T` (at least 2; the reference uses 20).
        points: usize,
    },
    /// The physical integral by composite Gauss–Legendre quadrature with `per_segment` nodes on
    /// every knot interval of the spline, using the exact spline velocity: `S = Σ w_i L(γ(s_i), γ̇(s_i))`.
    /// With `per_segment ≥ 3` the Euclidean kinetic energy is integrated exactly, so the straight line
    /// costs exactly `½|x − y|²` and is the unique minimiser. (A rule with fewer nodes than the spline
    /// has free values would let a path have zero velocity at every node and a zero discrete
    /// kinetic energy; aligning the nodes with the knots rules that out.)
    GaussLegendre {
        /// Nodes per knot interval (at least 1; 3 makes the Euclidean energy exact).
        per_segment: usize,
    },
}

impl Default for Quadrature {
    /// The reference polygon on [`REFERENCE_POINTS`] points.
    fn default() -> Self {
        Quadrature::Reference {
            points: REFERENCE_POINTS,
        }
    }
}

impl Quadrature {
    /// Composite Gauss–Legendre with 3 nodes per knot interval (exact Euclidean energy).
    pub fn physical() -> Self {
        Quadrature::GaussLegendre { per_segment: 3 }
    }
}

/// Gauss–Legendre nodes and weights on `[−1, 1]` (`n ≥ 1`), by Newton's method on `P_n`.
///
/// ```
/// let (nodes, weights) = lagrangian_ot::path::gauss_legendre(3);
/// assert!((nodes[2] - 0.6f64.sqrt()).abs() < 1e-14 && (weights[1] - 8.0 / 9.0).abs() < 1e-14);
/// ```
pub fn gauss_legendre(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut nodes = vec![0.0; n];
    let mut weights = vec![0.0; n];
    for i in 0..n {
        // Chebyshev-like first guess for the (n − i)-th root, then Newton.
        let mut z = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut derivative = 1.0;
        for _ in 0..100 {
            // Three-term recurrence from (P_0, P_1) = (1, z).
            let (mut p0, mut p1) = (1.0, z);
            for k in 2..=n {
                let p2 = ((2 * k - 1) as f64 * z * p1 - (k - 1) as f64 * p0) / k as f64;
                p0 = p1;
                p1 = p2;
            }
            // p1 = P_n(z), p0 = P_{n−1}(z).
            derivative = n as f64 * (z * p1 - p0) / (z * z - 1.0);
            let step = p1 / derivative;
            z -= step;
            if step.abs() < 1e-16 {
                break;
            }
        }
        nodes[n - 1 - i] = z;
        weights[n - 1 - i] = 2.0 / ((1.0 - z * z) * derivative * derivative);
    }
    (nodes, weights)
}

/// The action of spline paths of one [`CubicSplinePath`] family under any [`Lagrangian`], for a
/// batch of `(x, y, params)` at once, as a taped tensor: differentiable with respect to the spline
/// parameters, the end points and anything inside the Lagrangian (a learned metric, say).
///
/// Everything that does not depend on the path (the spline evaluation matrices, the quadrature
/// weights) is computed once here, so a batch evaluation is one matrix product for positions, one
/// for velocities, one Lagrangian call on all `B·T` points and a weighted row sum.
///
/// ```
/// use lagrangian_ot::lagrangian::Lagrangian;
/// use lagrangian_ot::path::{ActionKind, CubicSplinePath, Quadrature, SplineAction};
/// use ndarray::array;
/// let dev = lagrangian_ot::device::default_device(0);
/// let family = CubicSplinePath::nlot(2)?;
/// let action = SplineAction::new(&dev, family, Quadrature::physical(), ActionKind::Lagrangian)?;
/// let (x, y) = (array![[-1.0f32, 0.0]], array![[1.0f32, 0.0]]);
/// let straight = ndarray::Array2::zeros((1, action.num_params()));
/// let cost = action.cost_array(&Lagrangian::euclidean(2), &x, &y, &straight, None)?;
/// assert!((cost[0] - 2.0).abs() < 1e-5); // ½|x − y|²
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct SplineAction<D: TensorDevice<f32> = crate::device::Device> {
    path: CubicSplinePath,
    quadrature: Quadrature,
    kind: ActionKind,
    positions: PathEvaluator<D>,
    velocities: PathEvaluator<D>,
    /// Quadrature weights `[T]`; `None` when all are 1 (the reference polygon).
    weights: Option<Tensor<(usize,), f32, D>>,
    device: D,
}

impl<D: TensorDevice<f32>> SplineAction<D> {
    /// The action of `path`'s family with `quadrature`, costing `kind`. Errors on a quadrature with
    /// fewer than 2 reference points or 0 Gauss–Legendre nodes.
    pub fn new(dev: &D, path: CubicSplinePath, quadrature: Quadrature, kind: ActionKind) -> Result<Self> {
        let (positions, velocities, weights) = match quadrature {
            Quadrature::Reference { points } => {
                if points < 2 {
                    return Err(Error::InvalidArgument(format!(
                        "the reference quadrature needs at least 2 points, got {points}"
                    )));
                }
                let times: Vec<f64> = (0..points).map(|k| k as f64 / (points - 1) as f64).collect();
                let polygon = path.linear_map(&times, Order::Position)?;
                (
                    polygon.select(0..points - 1).to_device(dev, 0.0)?,
                    polygon.differences().to_device(dev, REFERENCE_EDGE_OFFSET)?,
                    None,
                )
            }
            Quadrature::GaussLegendre { per_segment } => {
                if per_segment == 0 {
                    return Err(Error::InvalidArgument(
                        "Gauss–Legendre quadrature needs at least 1 node per segment".into(),
                    ));
                }
                let (times, weights) = composite_gauss_legendre(path.knots() - 1, per_segment);
                let weights = dev
                    .try_tensor_from_vec(weights.iter().map(|&w| w as f32).collect(), (weights.len(),))
                    .map_err(device_error)?;
                (
                    path.linear_map(&times, Order::Position)?.to_device(dev, 0.0)?,
                    path.linear_map(&times, Order::Velocity)?.to_device(dev, 0.0)?,
                    Some(weights),
                )
            }
        };
        Ok(SplineAction {
            path,
            quadrature,
            kind,
            positions,
            velocities,
            weights,
            device: dev.clone(),
        })
    }

    /// The path family.
    pub fn path(&self) -> &CubicSplinePath {
        &self.path
    }

    /// The quadrature.
    pub fn quadrature(&self) -> Quadrature {
        self.quadrature
    }

    /// What the cost is.
    pub fn kind(&self) -> ActionKind {
        self.kind
    }

    /// Dimension of the points.
    pub fn dim(&self) -> usize {
        self.path.dim()
    }

    /// Parameters per path.
    pub fn num_params(&self) -> usize {
        self.path.num_params()
    }

    /// Number of points per path at which the Lagrangian is evaluated.
    pub fn num_nodes(&self) -> usize {
        self.positions.points()
    }

    /// The device the evaluation matrices live on.
    pub fn device(&self) -> &D {
        &self.device
    }

    /// The cost `c(x, y)` of every path, `[B]`: `S` for [`ActionKind::Lagrangian`], `½L²` for
    /// [`ActionKind::SquaredGeodesic`]. `x`, `y`: `[B, d]`, `params`: `[B, num_params]`, `cond`:
    /// `[B, c]` (one condition per path, passed to the Lagrangian at each of its points) or `None`.
    pub fn cost<M: Metric<D>, P: Potential<D>>(
        &self,
        lagrangian: &Lagrangian<M, P>,
        x: Points<D>,
        y: Points<D>,
        params: Points<D>,
        cond: Option<&Condition<D>>,
    ) -> Result<Scalars<D>> {
        let integral = self.path_energy(lagrangian, x, y, params, cond)?;
        Ok(match self.kind {
            ActionKind::Lagrangian => integral,
            ActionKind::SquaredGeodesic => integral.square() * 0.5,
        })
    }

    /// What the reference's spline amortiser minimises, `[B]`: the action `S` for
    /// [`ActionKind::Lagrangian`], the length `L` (not `½L²`) for [`ActionKind::SquaredGeodesic`].
    pub fn path_energy<M: Metric<D>, P: Potential<D>>(
        &self,
        lagrangian: &Lagrangian<M, P>,
        x: Points<D>,
        y: Points<D>,
        params: Points<D>,
        cond: Option<&Condition<D>>,
    ) -> Result<Scalars<D>> {
        let batch = x.shape().0;
        let nodes = self.num_nodes();
        if lagrangian.metric.dim() != self.dim() {
            return Err(Error::shape(
                "SplineAction: Lagrangian dimension",
                format!("{}", self.dim()),
                format!("{}", lagrangian.metric.dim()),
            ));
        }
        let cond_points = cond.map(|c| repeat_rows(c, batch, nodes)).transpose()?;
        let inputs = stack_inputs(x, y, params, self.dim(), self.num_params())?;
        // The inputs feed positions and velocities: the second use gets a fresh tape so each
        // upstream op runs once in the backward pass.
        let inputs_again = inputs.retaped::<Taped<D>>();
        let q = self.positions.apply_stacked(inputs)?;
        let v = self.velocities.apply_stacked(inputs_again)?;
        let per_point = match self.kind {
            ActionKind::Lagrangian => lagrangian.value(q, v, cond_points.as_ref())?,
            ActionKind::SquaredGeodesic => {
                let q_for_potential = q.retaped::<Taped<D>>();
                let squared = lagrangian.metric.squared_speed(q, v, cond_points.as_ref())?;
                let speed = match self.quadrature {
                    Quadrature::Reference { .. } => squared.sqrt(),
                    Quadrature::GaussLegendre { .. } => (squared + SPEED_FLOOR).sqrt(),
                };
                if lagrangian.potential.is_zero() {
                    crate::lagrangian::forward_tape(speed, q_for_potential)
                } else {
                    speed
                        - lagrangian
                            .potential
                            .value(q_for_potential, cond_points.as_ref())?
                }
            }
        };
        let per_point = per_point.reshape_like(&(batch, nodes));
        let weighted = match &self.weights {
            Some(w) => per_point * w.clone().broadcast_like::<_, Axis<0>>(&(batch, nodes)),
            None => per_point,
        };
        Ok(weighted.sum::<(usize,), Axis<1>>())
    }

    /// [`SplineAction::cost`] on host arrays (no gradient): `[B]`.
    pub fn cost_array<M: Metric<D>, P: Potential<D>>(
        &self,
        lagrangian: &Lagrangian<M, P>,
        x: &Array2<f32>,
        y: &Array2<f32>,
        params: &Array2<f32>,
        cond: Option<&Array2<f32>>,
    ) -> Result<Array1<f32>> {
        let (_, cost) = self.host_cost(lagrangian, x, y, params, cond)?;
        Ok(Array1::from(cost.as_vec()))
    }

    /// Uploads host inputs and records their costs on a tape (the inputs are kept so their
    /// gradients can be read after a backward pass).
    fn host_cost<M: Metric<D>, P: Potential<D>>(
        &self,
        lagrangian: &Lagrangian<M, P>,
        x: &Array2<f32>,
        y: &Array2<f32>,
        params: &Array2<f32>,
        cond: Option<&Array2<f32>>,
    ) -> Result<(HostBatch<D>, Scalars<D>)> {
        let inputs = self.upload(x, y, params, cond)?;
        let cost = self.cost(
            lagrangian,
            traced(&inputs.x),
            traced(&inputs.y),
            traced(&inputs.params),
            inputs.cond.as_ref(),
        )?;
        Ok((inputs, cost))
    }

    /// The costs `[B]` and their gradients with respect to the parameters `[B, num_params]` and both
    /// end points `[B, d]`, by one backward pass (each path's gradient involves only its own cost).
    pub fn cost_and_gradients<M: Metric<D>, P: Potential<D>>(
        &self,
        lagrangian: &Lagrangian<M, P>,
        x: &Array2<f32>,
        y: &Array2<f32>,
        params: &Array2<f32>,
        cond: Option<&Array2<f32>>,
    ) -> Result<ActionGradients> {
        let (inputs, cost) = self.host_cost(lagrangian, x, y, params, cond)?;
        let costs = Array1::from(cost.as_vec());
        let grads = cost.sum::<Rank0, _>().backward();
        let host = |t: &Tensor<(usize, usize), f32, D>| crate::nn::tensor_to_array(&grads.get(t));
        Ok(ActionGradients {
            costs,
            d_params: host(&inputs.params),
            d_x: host(&inputs.x),
            d_y: host(&inputs.y),
        })
    }

    /// Checks host inputs against the family and copies them to the device.
    pub(crate) fn upload(
        &self,
        x: &Array2<f32>,
        y: &Array2<f32>,
        params: &Array2<f32>,
        cond: Option<&Array2<f32>>,
    ) -> Result<HostBatch<D>> {
        self.path
            .check_host_batch("SplineAction", x.view(), y.view(), params.view())?;
        if let Some(c) = cond {
            if c.nrows() != x.nrows() {
                return Err(Error::shape(
                    "SplineAction condition",
                    format!("[{}, c] (one row per path)", x.nrows()),
                    format!("{:?}", c.dim()),
                ));
            }
        }
        let dev = &self.device;
        Ok(HostBatch {
            x: array_to_tensor(dev, x, "path start points")?,
            y: array_to_tensor(dev, y, "path end points")?,
            params: array_to_tensor(dev, params, "spline parameters")?,
            cond: cond
                .map(|c| array_to_tensor(dev, c, "path condition"))
                .transpose()?,
        })
    }
}

/// Host inputs copied to the device.
pub(crate) struct HostBatch<D: TensorDevice<f32>> {
    pub(crate) x: Tensor<(usize, usize), f32, D>,
    pub(crate) y: Tensor<(usize, usize), f32, D>,
    pub(crate) params: Tensor<(usize, usize), f32, D>,
    pub(crate) cond: Option<Tensor<(usize, usize), f32, D>>,
}

/// Costs and their gradients from [`SplineAction::cost_and_gradients`].
#[derive(Debug, Clone)]
pub struct ActionGradients {
    /// `c(x_b, y_b)` of each path, `[B]`.
    pub costs: Array1<f32>,
    /// `∂c_b/∂params_b`, `[B, num_params]`.
    pub d_params: Array2<f32>,
    /// `∂c_b/∂x_b`, `[B, d]`.
    pub d_x: Array2<f32>,
    /// `∂c_b/∂y_b`, `[B, d]`.
    pub d_y: Array2<f32>,
}

/// Times and weights of `per_segment`-node Gauss–Legendre on each of `segments` equal intervals of
/// `[0, 1]`.
fn composite_gauss_legendre(segments: usize, per_segment: usize) -> (Vec<f64>, Vec<f64>) {
    let (nodes, weights) = gauss_legendre(per_segment);
    let h = 1.0 / segments as f64;
    let mut times = Vec::with_capacity(segments * per_segment);
    let mut all_weights = Vec::with_capacity(segments * per_segment);
    for segment in 0..segments {
        for (node, weight) in nodes.iter().zip(&weights) {
            times.push(((segment as f64 + 0.5 * (node + 1.0)) * h).clamp(0.0, 1.0));
            all_weights.push(0.5 * weight * h);
        }
    }
    (times, all_weights)
}

/// Each row of `cond` (`[B, c]`) repeated `times` times in a row: `[B·times, c]`.
fn repeat_rows<D: TensorDevice<f32>>(
    cond: &Condition<D>,
    batch: usize,
    times: usize,
) -> Result<Condition<D>> {
    let (rows, width) = *cond.shape();
    if rows != batch {
        return Err(Error::shape(
            "SplineAction condition",
            format!("[{batch}, c] (one row per path)"),
            format!("[{rows}, {width}]"),
        ));
    }
    Ok(cond
        .clone()
        .broadcast_like::<_, Axis<1>>(&(rows, times, width))
        .reshape_like(&(rows * times, width)))
}

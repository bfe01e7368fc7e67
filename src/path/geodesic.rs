//! Geodesics: spline paths minimising the action between given end points, for a batch of pairs.

use std::f64::consts::PI;

use dfdx::prelude::*;

use ndarray::{Array1, Array2, Array3, Axis};

use super::action::SplineAction;
use super::spline::Order;
use crate::error::{Error, Result};
use crate::lagrangian::{Lagrangian, Metric, Potential};
use crate::nn::{array_to_tensor, tensor_to_array, traced, TensorDevice};
use crate::optim::{Lbfgs, LbfgsConfig, LbfgsResult};
use crate::plot::{ColorMap, Figure, Plot};

/// The reference's optional per-pair refinement (NLOT §3): Adam (β = 0.9/0.999, ε = 1e-8) on each
/// pair's spline parameters, learning rate cosine-decayed from `init_lr` to
/// `final_lr_fraction·init_lr` over `max_iter` steps; a pair stops once its gradient norm is at most
/// `grad_tol`. The default `max_iter = 0` is the reference's setting everywhere (no refinement).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamRefinement {
    /// Maximum steps per pair (0: none).
    pub max_iter: usize,
    /// Initial learning rate (1e-3 in `train_ot.yaml`, 1e-2 in `train_ot_scarvelis.yaml`).
    pub init_lr: f64,
    /// The learning rate at `max_iter` as a fraction of `init_lr`.
    pub final_lr_fraction: f64,
    /// A pair stops when the Euclidean norm of its gradient is at most this.
    pub grad_tol: f64,
}

impl Default for AdamRefinement {
    fn default() -> Self {
        AdamRefinement {
            max_iter: 0,
            init_lr: 1e-3,
            final_lr_fraction: 0.1,
            grad_tol: 1e-5,
        }
    }
}

impl AdamRefinement {
    /// The learning rate at step `k` (0-based): `init·[(1 − α)·½(1 + cos(π·min(k, N)/N)) + α]`.
    pub fn lr_at(&self, k: usize) -> f64 {
        let n = self.max_iter.max(1) as f64;
        let progress = (k as f64).min(n) / n;
        let alpha = self.final_lr_fraction;
        self.init_lr * ((1.0 - alpha) * 0.5 * (1.0 + (PI * progress).cos()) + alpha)
    }

    fn validate(&self) -> Result<()> {
        let ok = self.init_lr.is_finite()
            && self.init_lr > 0.0
            && (0.0..=1.0).contains(&self.final_lr_fraction)
            && self.grad_tol.is_finite()
            && self.grad_tol >= 0.0;
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidArgument(format!(
                "Adam refinement needs init_lr > 0, final_lr_fraction in [0, 1], grad_tol >= 0; got {self:?}"
            )))
        }
    }
}

/// Settings of [`GeodesicSolver`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeodesicConfig {
    /// Batched L-BFGS on the spline parameters, or `None` to skip it.
    pub lbfgs: Option<LbfgsConfig>,
    /// Adam refinement after L-BFGS (off by default).
    pub adam: AdamRefinement,
    /// Equally spaced times at which the returned paths are sampled (at least 2).
    pub path_points: usize,
}

impl Default for GeodesicConfig {
    /// [`LbfgsConfig::robust`] with a history of 20 and `rel_value_tol = 1e-6`, no Adam refinement,
    /// paths on 50 points. (The spline energy in knot values is moderately ill-conditioned, a few
    /// hundred between its smoothest and its most oscillating mode; the longer history converges in
    /// fewer iterations at negligible cost.)
    ///
    /// The value test matters: the action is computed in `f32`, so near a minimum the decrease an
    /// exact line search would need falls below the value's rounding long before the gradient norm
    /// reaches `grad_tol`; a pair whose accepted step changes its cost by at most ~8 ulps has converged
    /// as far as `f32` can tell.
    fn default() -> Self {
        GeodesicConfig {
            lbfgs: Some(LbfgsConfig {
                rel_value_tol: 1e-6,
                history: 20,
                ..LbfgsConfig::robust()
            }),
            adam: AdamRefinement::default(),
            path_points: 50,
        }
    }
}

impl GeodesicConfig {
    /// The reference's setting (`max_iter = 0` in every config): no optimisation at all, the warm
    /// start (the amortised prediction) is returned as is, on 20 points.
    pub fn reference() -> Self {
        GeodesicConfig {
            lbfgs: None,
            adam: AdamRefinement::default(),
            path_points: super::action::REFERENCE_POINTS,
        }
    }
}

/// Minimises a [`SplineAction`]'s cost over the spline parameters for a batch of `(start, end)`
/// pairs: one independent problem per pair, all evaluated together (one forward and one backward
/// pass per L-BFGS round).
///
/// ```
/// use lagrangian_ot::lagrangian::Lagrangian;
/// use lagrangian_ot::path::{ActionKind, CubicSplinePath, GeodesicConfig, GeodesicSolver, Quadrature, SplineAction};
/// use ndarray::array;
/// let dev = lagrangian_ot::device::default_device(0);
/// let action = SplineAction::new(&dev, CubicSplinePath::new(2, 8)?, Quadrature::physical(), ActionKind::Lagrangian)?;
/// let solver = GeodesicSolver::new(action, GeodesicConfig::default())?;
/// let (x, y) = (array![[0.0f32, 0.0], [1.0, 1.0]], array![[1.0f32, 0.0], [1.0, -1.0]]);
/// let geodesics = solver.solve(&Lagrangian::euclidean(2), &x, &y, None, None)?;
/// assert!((geodesics.costs[1] - 2.0).abs() < 1e-5); // ½|x − y|²: the straight line
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct GeodesicSolver<D: TensorDevice<f32> = crate::device::Device> {
    action: SplineAction<D>,
    config: GeodesicConfig,
}

impl<D: TensorDevice<f32>> GeodesicSolver<D> {
    /// A solver for `action`'s cost with validated `config`.
    pub fn new(action: SplineAction<D>, config: GeodesicConfig) -> Result<Self> {
        if let Some(lbfgs) = &config.lbfgs {
            lbfgs.validate()?;
        }
        config.adam.validate()?;
        if config.path_points < 2 {
            return Err(Error::InvalidArgument(format!(
                "geodesics need at least 2 path points, got {}",
                config.path_points
            )));
        }
        Ok(GeodesicSolver { action, config })
    }

    /// The action being minimised.
    pub fn action(&self) -> &SplineAction<D> {
        &self.action
    }

    /// The settings.
    pub fn config(&self) -> &GeodesicConfig {
        &self.config
    }

    /// Geodesics from `x[b]` to `y[b]` (`[B, d]`) under `lagrangian`, started from `init`
    /// (`[B, num_params]`, e.g. an amortised prediction) or from the straight lines (`None`);
    /// `cond` (`[B, c]`) is passed to a conditional Lagrangian.
    ///
    /// Errors on shape mismatches, empty or non-finite input, and objective errors. A pair whose
    /// optimisation fails (non-finite action, failed line search) keeps its last finite parameters
    /// and is reported in [`Geodesics::lbfgs`].
    pub fn solve<M: Metric<D>, P: Potential<D>>(
        &self,
        lagrangian: &Lagrangian<M, P>,
        x: &Array2<f32>,
        y: &Array2<f32>,
        init: Option<&Array2<f32>>,
        cond: Option<&Array2<f32>>,
    ) -> Result<Geodesics> {
        let n = self.action.num_params();
        let start = match init {
            Some(p) => p.clone(),
            None => Array2::zeros((x.nrows(), n)),
        };
        let problem = Problem::new(&self.action, lagrangian, x, y, &start, cond)?;

        let (mut params, lbfgs) = match &self.config.lbfgs {
            Some(config) => {
                let result = Lbfgs::new(*config)?
                    .minimize_active(start, |points, rows| problem.value_and_grad(points, rows))?;
                (result.x.clone(), Some(result))
            }
            None => (start, None),
        };
        let adam_steps = refine_with_adam(&problem, &mut params, &self.config.adam)?;

        let costs = self.action.cost_array(lagrangian, x, y, &params, cond)?;
        let times: Vec<f64> = (0..self.config.path_points)
            .map(|k| k as f64 / (self.config.path_points - 1) as f64)
            .collect();
        let paths =
            self.action
                .path()
                .evaluate_batch(x.view(), y.view(), params.view(), &times, Order::Position)?;
        Ok(Geodesics {
            paths,
            times,
            costs,
            params,
            lbfgs,
            adam_steps,
        })
    }
}

/// The batch of pairs being solved, with device copies of the end points.
struct Problem<'a, D: TensorDevice<f32>, M, P> {
    action: &'a SplineAction<D>,
    lagrangian: &'a Lagrangian<M, P>,
    x: &'a Array2<f32>,
    y: &'a Array2<f32>,
    cond: Option<&'a Array2<f32>>,
}

impl<'a, D: TensorDevice<f32>, M: Metric<D>, P: Potential<D>> Problem<'a, D, M, P> {
    fn new(
        action: &'a SplineAction<D>,
        lagrangian: &'a Lagrangian<M, P>,
        x: &'a Array2<f32>,
        y: &'a Array2<f32>,
        start: &Array2<f32>,
        cond: Option<&'a Array2<f32>>,
    ) -> Result<Self> {
        // Validates every input once (shapes, finiteness, condition rows).
        action.upload(x, y, start, cond)?;
        Ok(Problem {
            action,
            lagrangian,
            x,
            y,
            cond,
        })
    }

    /// Costs `[A]` and parameter gradients `[A, n]` of the pairs `rows` at `params` (`[A, n]`).
    fn value_and_grad(&self, params: &Array2<f32>, rows: &[usize]) -> Result<(Array1<f32>, Array2<f32>)> {
        let all = rows.len() == self.x.nrows();
        let pick = |a: &Array2<f32>| if all { a.clone() } else { a.select(Axis(0), rows) };
        let dev = self.action.device();
        let x = array_to_tensor(dev, &pick(self.x), "path start points")?;
        let y = array_to_tensor(dev, &pick(self.y), "path end points")?;
        let cond = self
            .cond
            .map(|c| array_to_tensor(dev, &pick(c), "path condition"))
            .transpose()?;
        let p = array_to_tensor(dev, params, "spline parameters")?;
        let cost = self
            .action
            .cost(self.lagrangian, traced(&x), traced(&y), traced(&p), cond.as_ref())?;
        let values = Array1::from(cost.as_vec());
        let grads = cost.sum::<Rank0, _>().backward();
        Ok((values, tensor_to_array(&grads.get(&p))))
    }
}

/// Runs the per-pair Adam refinement in place; returns the steps each pair took.
fn refine_with_adam<D: TensorDevice<f32>, M: Metric<D>, P: Potential<D>>(
    problem: &Problem<'_, D, M, P>,
    params: &mut Array2<f32>,
    config: &AdamRefinement,
) -> Result<Vec<usize>> {
    let (pairs, n) = params.dim();
    let mut steps = vec![0usize; pairs];
    if config.max_iter == 0 {
        return Ok(steps);
    }
    let (beta1, beta2, eps) = (0.9f64, 0.999f64, 1e-8f64);
    let mut first = Array2::<f64>::zeros((pairs, n));
    let mut second = Array2::<f64>::zeros((pairs, n));
    let mut active: Vec<usize> = (0..pairs).collect();
    for k in 0..config.max_iter {
        let points = params.select(Axis(0), &active);
        let (_, grads) = problem.value_and_grad(&points, &active)?;
        let lr = config.lr_at(k);
        let mut still_active = Vec::with_capacity(active.len());
        for (row, &pair) in active.iter().enumerate() {
            let g = grads.row(row);
            let norm = g.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>().sqrt();
            if !norm.is_finite() || norm <= config.grad_tol {
                continue;
            }
            let t = (steps[pair] + 1) as i32;
            let (bias1, bias2) = (1.0 - beta1.powi(t), 1.0 - beta2.powi(t));
            for j in 0..n {
                let gj = g[j] as f64;
                let m = beta1 * first[[pair, j]] + (1.0 - beta1) * gj;
                let v = beta2 * second[[pair, j]] + (1.0 - beta2) * gj * gj;
                first[[pair, j]] = m;
                second[[pair, j]] = v;
                params[[pair, j]] -= (lr * (m / bias1) / ((v / bias2).sqrt() + eps)) as f32;
            }
            steps[pair] += 1;
            still_active.push(pair);
        }
        active = still_active;
        if active.is_empty() {
            break;
        }
    }
    Ok(steps)
}

/// Geodesics found by [`GeodesicSolver::solve`]: the optimised spline parameters, the costs and the
/// paths sampled at equally spaced times. Draws itself (first two coordinates, coloured by time).
#[derive(Debug, Clone)]
pub struct Geodesics {
    /// Path points `[B, T, d]` at [`Geodesics::times`].
    pub paths: Array3<f32>,
    /// The `T` sample times in `[0, 1]`.
    pub times: Vec<f64>,
    /// The cost of each path, `[B]`.
    pub costs: Array1<f32>,
    /// The spline parameters of each path, `[B, num_params]`.
    pub params: Array2<f32>,
    /// What L-BFGS did (per-pair status and iteration counts), if it ran.
    pub lbfgs: Option<LbfgsResult>,
    /// Adam refinement steps taken per pair.
    pub adam_steps: Vec<usize>,
}

impl Geodesics {
    /// Number of paths.
    pub fn len(&self) -> usize {
        self.costs.len()
    }

    /// Whether there are no paths (never true for a solver result).
    pub fn is_empty(&self) -> bool {
        self.costs.is_empty()
    }

    /// Path `b` as `[T, d]`.
    pub fn path(&self, b: usize) -> Array2<f32> {
        self.paths.index_axis(Axis(0), b).to_owned()
    }

    /// All paths as `[T, d]` arrays.
    pub fn path_list(&self) -> Vec<Array2<f32>> {
        self.paths.outer_iter().map(|p| p.to_owned()).collect()
    }

    /// Shows the paths inline in an evcxr notebook (see [`Plot`]).
    pub fn evcxr_display(&self) {
        Plot::evcxr_display(self)
    }
}

impl Plot for Geodesics {
    fn figure(&self) -> Figure {
        let planar: Vec<Array2<f32>> = self
            .paths
            .outer_iter()
            .map(|p| p.slice(ndarray::s![.., 0..p.ncols().min(2)]).to_owned())
            .collect();
        if planar.first().is_some_and(|p| p.ncols() < 2) {
            return Figure::failed(Error::Plot("geodesics need at least 2 dimensions to draw".into()));
        }
        let mean_cost = self.costs.mean().unwrap_or(f32::NAN);
        Figure::new()
            .title(&format!("{} geodesics, mean cost {mean_cost:.4}", self.len()))
            .paths_by_time(&planar, ColorMap::Viridis)
            .equal_aspect()
    }
}

//! The amortised c-transform: ŷ(x) = argmin_y c(x, y) − g(y), warm-started at a predicted map T(x)
//! and refined by the batched L-BFGS (NLOT §3.2; reference settings in `LbfgsConfig::default()`).

use super::cost::TransportCost;
use crate::error::Result;
use crate::lagrangian::Bounds;
use crate::nn::{HostMlp, Mlp, TensorDevice};
use crate::optim::{Lbfgs, LbfgsResult};
use ndarray::{Array1, Array2};

/// The refined c-transform of a batch: the argmins and what the L-BFGS reported per point.
#[derive(Debug)]
pub struct CTransformResult {
    /// ŷ_i, clipped into the search box, `[B, d]`.
    pub y: Array2<f32>,
    /// c(x_i, ŷ_i) − g(ŷ_i) at the returned points, `[B]`.
    pub value: Array1<f32>,
    /// Per-point L-BFGS report (iterations, status).
    pub lbfgs: LbfgsResult,
}

/// Minimises c(x_i, clip(y)) − g(y) for every row from `y0`. Outside the box the clipped coordinates
/// have zero cost gradient, as in the reference; the result is clipped again. The cost is evaluated
/// through [`TransportCost::solve_cost`], and the returned `value` is the objective that solve
/// minimised (for a [`LagrangianCost`](super::LagrangianCost) holding its paths fixed, along those
/// paths).
pub fn c_transform<C: TransportCost + ?Sized, D: TensorDevice<f32>>(
    lbfgs: &Lbfgs,
    cost: &C,
    potential: &Mlp<D>,
    bounds: Option<&Bounds>,
    x: &Array2<f32>,
    y0: Array2<f32>,
) -> Result<CTransformResult> {
    // Weights are frozen during the c-transform: a host snapshot evaluates g and ∇g much faster.
    let potential = HostMlp::snapshot(potential);
    // One cost closure per solve, so that a cost may hold its paths fixed across the solve's
    // evaluations (`PathRefresh`); the default closure evaluates the cost afresh every time. A cost
    // may ask for restarts: each continues from the previous solve's (clipped) answer with a fresh
    // closure and a fresh L-BFGS.
    let solve = |start: Array2<f32>| {
        c_transform_with(lbfgs, bounds, start, cost.solve_cost(x)?, |_, y| {
            potential.value_and_gradient(y)
        })
    };
    let mut result = solve(y0)?;
    for _ in 0..cost.solve_restarts() {
        let mut next = solve(result.y.clone())?;
        accumulate(&mut next.lbfgs, &result.lbfgs);
        result = next;
    }
    Ok(result)
}

/// Adds the work of an earlier solve of the same batch (iterations, evaluations, line-search failures,
/// batched calls) to `result`, whose points, values and statuses are the later solve's.
fn accumulate(result: &mut LbfgsResult, earlier: &LbfgsResult) {
    let add = |a: &mut Vec<usize>, b: &[usize]| a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
    add(&mut result.iterations, &earlier.iterations);
    add(&mut result.evaluations, &earlier.evaluations);
    add(&mut result.line_search_failures, &earlier.line_search_failures);
    result.batch_calls += earlier.batch_calls;
}

/// The c-transform for any cost and potential given as closures over the rows still being optimised:
/// `cost(active, y)` returns c(x_i, y_i) and ∇_y c for the rows `active` of the batch at the clipped
/// points `y`, `potential(active, y)` returns g(y_i) and ∇g (conditional solvers select the rows'
/// conditions by `active`). Clipping as in [`c_transform`].
pub fn c_transform_with<Cost, Pot>(
    lbfgs: &Lbfgs,
    bounds: Option<&Bounds>,
    y0: Array2<f32>,
    mut cost: Cost,
    mut potential: Pot,
) -> Result<CTransformResult>
where
    Cost: FnMut(&[usize], &Array2<f32>) -> Result<(Array1<f32>, Array2<f32>)>,
    Pot: FnMut(&[usize], &Array2<f32>) -> Result<(Array1<f32>, Array2<f32>)>,
{
    let result = lbfgs.minimize_active(y0, |y, active| {
        let (y_for_cost, inside) = match bounds {
            Some(b) => b.clip_with_mask(y)?,
            None => (y.clone(), Array2::ones(y.dim())),
        };
        let (c, grad_c) = cost(active, &y_for_cost)?;
        let (g, grad_g) = potential(active, y)?;
        Ok((c - g, grad_c * inside - grad_g))
    })?;
    let y = match bounds {
        Some(b) => b.clip(&result.x)?,
        None => result.x.clone(),
    };
    let all: Vec<usize> = (0..y.nrows()).collect();
    let value = cost(&all, &y)?.0 - potential(&all, &y)?.0;
    Ok(CTransformResult {
        y,
        value,
        lbfgs: result,
    })
}

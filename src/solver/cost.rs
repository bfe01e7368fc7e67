//! Transport costs c(x, y) as solvers see them: values and y-gradients for paired rows.
//!
//! The neural dual solvers only ever need c and ∇_y c at matched pairs (x_i, y_i) — the c-transform
//! minimises over y, Danskin's theorem needs nothing else — plus a chance to train whatever the cost
//! learns along the way (NLOT's amortised spline paths). Keeping that behind one trait separates the
//! geometry (a Lagrangian and its paths) from the solver, as OTT-JAX separates geometry and solver.

use crate::data::Measure;
use crate::device::SeededRng;
use crate::error::{Error, Result};
use ndarray::{Array1, Array2, Axis};
use std::path::Path;

/// The solver's current amortised map x ↦ T(x), lent to [`TransportCost::observe`].
pub type MapFn<'a> = dyn Fn(&Array2<f32>) -> Result<Array2<f32>> + 'a;

/// The cost as one c-transform solve evaluates it: `cost(active, y)` returns c(x_i, y_i) and
/// ∇_y c(x_i, y_i) for the rows `active` (indices into the solve's batch x, increasing) at the points
/// `y`, `[active.len(), d]`. Built per solve by [`TransportCost::solve_cost`], so it may keep state
/// across the solve's evaluations (the frozen paths of a [`LagrangianCost`](super::LagrangianCost)).
pub type SolveCost<'a> = Box<dyn FnMut(&[usize], &Array2<f32>) -> Result<(Array1<f32>, Array2<f32>)> + 'a>;

/// A ground cost between points of the same space, evaluated on paired rows.
pub trait TransportCost {
    /// Dimension of the points.
    fn dim(&self) -> usize;
    /// A short name for titles and logs.
    fn name(&self) -> String;
    /// c(x_i, y_i) for every row of two `[B, d]` arrays.
    fn cost(&self, x: &Array2<f32>, y: &Array2<f32>) -> Result<Array1<f32>>;
    /// c(x_i, y_i) and ∇_y c(x_i, y_i), `[B]` and `[B, d]`.
    fn cost_and_grad_y(&self, x: &Array2<f32>, y: &Array2<f32>) -> Result<(Array1<f32>, Array2<f32>)>;
    /// The cost for one c-transform solve over the batch `x`, `[B, d]` (see [`SolveCost`]). The
    /// default evaluates [`cost_and_grad_y`](Self::cost_and_grad_y) on the selected rows at every
    /// call; a cost whose evaluation has an expensive part that may be held fixed during one solve
    /// (the amortised paths of a [`LagrangianCost`](super::LagrangianCost) under
    /// [`PathRefresh::OncePerSolve`](super::PathRefresh)) overrides it.
    fn solve_cost<'a>(&'a self, x: &'a Array2<f32>) -> Result<SolveCost<'a>> {
        Ok(Box::new(move |active: &[usize], y: &Array2<f32>| {
            self.cost_and_grad_y(&select_rows("TransportCost::solve_cost", x, active)?, y)
        }))
    }
    /// How many times the c-transform restarts its L-BFGS from the previous solve's result, each time
    /// with a fresh [`solve_cost`](Self::solve_cost) (fresh history and iteration budget). Default 0;
    /// a cost that holds something fixed per solve may ask for restarts to re-anchor it at the
    /// solution ([`PathRefresh::Restarts`](super::PathRefresh)).
    fn solve_restarts(&self) -> usize {
        0
    }
    /// Called once before training, with the two measures (e.g. to pre-fit amortised paths).
    fn prepare(&mut self, _rng: &mut SeededRng, _source: &Measure, _target: &Measure) -> Result<()> {
        Ok(())
    }
    /// Called after every dual step with the batch, its c-transform targets and the current
    /// amortised map, so a cost that learns (amortised geodesics) can take its own steps.
    /// `step` counts from 0.
    fn observe(&mut self, _step: usize, _x: &Array2<f32>, _y: &Array2<f32>, _map: &MapFn<'_>) -> Result<()> {
        Ok(())
    }
    /// Writes what the cost learned or changed during training into the folder `dir`, for
    /// [`load_state`](Self::load_state) (default: nothing to write).
    fn save_state(&self, _dir: &Path) -> Result<()> {
        Ok(())
    }
    /// Restores what [`save_state`](Self::save_state) wrote, in place of
    /// [`prepare`](Self::prepare) (default: nothing to read).
    fn load_state(&mut self, _dir: &Path) -> Result<()> {
        Ok(())
    }
    /// Paths between paired rows for drawing, `points` positions each (default: straight lines).
    fn paths(&self, x: &Array2<f32>, y: &Array2<f32>, points: usize) -> Result<Vec<Array2<f32>>> {
        straight_lines(x, y, points)
    }
}

/// c(x, y) = ½|x − y|²: the Brenier cost, whose optimal maps between Gaussians are known in closed form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SquaredEuclidean {
    /// Dimension of the points.
    pub dim: usize,
}

impl TransportCost for SquaredEuclidean {
    fn dim(&self) -> usize {
        self.dim
    }
    fn name(&self) -> String {
        "½|x − y|²".into()
    }
    fn cost(&self, x: &Array2<f32>, y: &Array2<f32>) -> Result<Array1<f32>> {
        check_pairs("SquaredEuclidean::cost", x, y, self.dim)?;
        Ok((y - x).mapv(|d| d * d).sum_axis(ndarray::Axis(1)) * 0.5)
    }
    fn cost_and_grad_y(&self, x: &Array2<f32>, y: &Array2<f32>) -> Result<(Array1<f32>, Array2<f32>)> {
        check_pairs("SquaredEuclidean::cost_and_grad_y", x, y, self.dim)?;
        let diff = y - x;
        let cost = diff.mapv(|d| d * d).sum_axis(ndarray::Axis(1)) * 0.5;
        Ok((cost, diff))
    }
}

/// Checks that `x` and `y` are both `[B, dim]` with B > 0.
pub fn check_pairs(context: &str, x: &Array2<f32>, y: &Array2<f32>, dim: usize) -> Result<()> {
    if x.dim() != y.dim() || x.ncols() != dim {
        return Err(Error::shape(
            context,
            format!("x and y both [B, {dim}]"),
            format!("{:?} and {:?}", x.dim(), y.dim()),
        ));
    }
    if x.nrows() == 0 {
        return Err(Error::Empty(format!("{context}: no pairs")));
    }
    Ok(())
}

/// The rows `rows` of `x`, or a typed error (not a panic) when an index is out of range.
pub fn select_rows(context: &str, x: &Array2<f32>, rows: &[usize]) -> Result<Array2<f32>> {
    match rows.iter().find(|&&i| i >= x.nrows()) {
        Some(i) => Err(Error::InvalidArgument(format!(
            "{context}: row {i} of a batch of {}",
            x.nrows()
        ))),
        None => Ok(x.select(Axis(0), rows)),
    }
}

/// `points` evenly spaced positions on the segment from each x_i to y_i.
pub fn straight_lines(x: &Array2<f32>, y: &Array2<f32>, points: usize) -> Result<Vec<Array2<f32>>> {
    if points < 2 {
        return Err(Error::InvalidArgument(format!(
            "a path needs at least 2 points, got {points}"
        )));
    }
    Ok(x.outer_iter()
        .zip(y.outer_iter())
        .map(|(a, b)| {
            Array2::from_shape_fn((points, a.len()), |(k, j)| {
                let s = k as f32 / (points - 1) as f32;
                (1.0 - s) * a[j] + s * b[j]
            })
        })
        .collect())
}

//! The batched L-BFGS driver: one independent quasi-Newton iteration per problem, one objective call
//! per round for all problems still running.

use std::fmt;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rayon::prelude::*;

use super::config::{LbfgsConfig, LineSearchFailure};
use super::history::{dot, History};
use crate::{Error, Result};

/// Work per round (active problems × dimension × (history + 1)) from which the per-problem updates
/// run on rayon. Measured on the 2-core development machine (`minimize`, history 10): serial vs
/// parallel solver time per round was 0.25 vs 0.44 ms for 1024 problems of dimension 2, 0.77 vs
/// 1.25 ms at dimension 16, 3.8 vs 4.7 ms at dimension 60, 20.2 vs 20.2 ms for 4096 problems of
/// dimension 60. Parallelism did not pay there, so only very large rounds use it (more cores may).
const PARALLEL_MIN_WORK: usize = 1 << 21;

/// Why a problem stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// The gradient norm (or the relative value change, if enabled) fell below its tolerance.
    Converged,
    /// It used `max_iters` iterations without converging.
    MaxIters,
    /// A line search ran out of trials under [`LineSearchFailure::Stop`], or the step became too small
    /// to change the point in `f32` while the gradient was still above tolerance.
    LineSearchFailed,
    /// The objective was NaN or infinite at the starting point, or every usable trial point was
    /// (or overflowed `f32`). The problem is frozen at its last finite point.
    NonFinite,
}

impl Status {
    /// Whether this is a failure ([`Status::LineSearchFailed`] or [`Status::NonFinite`]);
    /// running out of iterations is not.
    pub fn is_failure(self) -> bool {
        matches!(self, Status::LineSearchFailed | Status::NonFinite)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Converged => "converged",
            Status::MaxIters => "max iterations",
            Status::LineSearchFailed => "line search failed",
            Status::NonFinite => "non-finite",
        })
    }
}

/// What [`Lbfgs::minimize`] found, one entry (row) per problem.
#[derive(Debug, Clone)]
pub struct LbfgsResult {
    /// Final points `[B, n]`: the last accepted iterate of each problem.
    pub x: Array2<f32>,
    /// Objective value at `x` (NaN or infinite only for a problem whose start was non-finite).
    pub value: Array1<f32>,
    /// Euclidean norm of the gradient at `x`.
    pub grad_norm: Array1<f32>,
    /// Accepted iterations per problem.
    pub iterations: Vec<usize>,
    /// Objective evaluations per problem (the start plus every line-search trial).
    pub evaluations: Vec<usize>,
    /// Line searches per problem that ran out of trials (or could not move the point).
    pub line_search_failures: Vec<usize>,
    /// Why each problem stopped.
    pub status: Vec<Status>,
    /// Number of calls to the batched objective.
    pub batch_calls: usize,
}

impl LbfgsResult {
    /// Number of problems.
    pub fn len(&self) -> usize {
        self.status.len()
    }

    /// Whether there are no problems (never true for a result returned by [`Lbfgs`]).
    pub fn is_empty(&self) -> bool {
        self.status.is_empty()
    }

    /// Whether every problem converged.
    pub fn all_converged(&self) -> bool {
        self.status.iter().all(|&s| s == Status::Converged)
    }

    /// Number of problems that stopped with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.status.iter().filter(|&&s| s == status).count()
    }

    /// Number of problems that failed ([`Status::is_failure`]); [`Status::MaxIters`] is not counted.
    pub fn num_failed(&self) -> usize {
        self.status.iter().filter(|s| s.is_failure()).count()
    }

    /// Mean number of accepted iterations over problems (the reference logs this).
    pub fn mean_iterations(&self) -> f64 {
        self.iterations.iter().sum::<usize>() as f64 / self.iterations.len().max(1) as f64
    }
}

impl fmt::Display for LbfgsResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "L-BFGS on {} problems: {} converged",
            self.len(),
            self.count(Status::Converged)
        )?;
        for status in [Status::MaxIters, Status::LineSearchFailed, Status::NonFinite] {
            let n = self.count(status);
            if n > 0 {
                write!(f, ", {n} {status}")?;
            }
        }
        let max_iterations = self.iterations.iter().copied().max().unwrap_or(0);
        let evaluations: usize = self.evaluations.iter().sum();
        write!(
            f,
            "; iterations mean {:.2}, max {max_iterations}; {evaluations} evaluations in {} batched calls",
            self.mean_iterations(),
            self.batch_calls
        )
    }
}

/// A batched L-BFGS minimiser for many independent problems of the same dimension.
///
/// Every problem (row of `x0`) keeps its own correction history, step size, line-search state and
/// stopping decision; the objective is evaluated for all problems still running in one call per
/// round. A problem that stops is frozen: its point no longer changes.
///
/// ```
/// use lagrangian_ot::optim::{Lbfgs, LbfgsConfig};
/// use ndarray::{array, Array1, Array2};
///
/// // Problem i minimises (x0 - i)² + 4 (x1 + i)², minimiser (i, -i).
/// let lbfgs = Lbfgs::new(LbfgsConfig::default())?;
/// let result = lbfgs.minimize(Array2::zeros((3, 2)), |x: &Array2<f32>| {
///     let mut value = Array1::zeros(x.nrows());
///     let mut grad = Array2::zeros(x.raw_dim());
///     for (i, row) in x.outer_iter().enumerate() {
///         let (a, b) = (row[0] - i as f32, row[1] + i as f32);
///         value[i] = a * a + 4.0 * b * b;
///         grad[[i, 0]] = 2.0 * a;
///         grad[[i, 1]] = 8.0 * b;
///     }
///     Ok((value, grad))
/// })?;
/// assert!(result.all_converged());
/// assert!((result.x[[2, 0]] - 2.0).abs() < 1e-5 && (result.x[[2, 1]] + 2.0).abs() < 1e-5);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Lbfgs {
    config: LbfgsConfig,
}

impl Lbfgs {
    /// A minimiser with `config`, after [`LbfgsConfig::validate`].
    pub fn new(config: LbfgsConfig) -> Result<Self> {
        config.validate()?;
        Ok(Lbfgs { config })
    }

    /// The settings in use.
    pub fn config(&self) -> &LbfgsConfig {
        &self.config
    }

    /// Minimises every row of `x0` (`[B, n]`, one problem per row) independently.
    ///
    /// `objective` receives a `[B, n]` batch and returns the values `[B]` and gradients `[B, n]` of
    /// all problems at once. Rows of problems that have stopped hold their final point and are still
    /// passed in (their outputs are ignored); use [`Lbfgs::minimize_active`] to evaluate only the
    /// problems still running.
    ///
    /// Errors: [`Error::Empty`] for an empty `x0`, [`Error::NonFinite`] if `x0` holds NaN or
    /// infinity, [`Error::Shape`] if the objective returns arrays of the wrong shape, and any error
    /// the objective returns (propagated as is). A problem whose objective turns NaN, or whose line
    /// search fails, is reported in [`LbfgsResult::status`] while the others continue.
    pub fn minimize<F>(&self, x0: Array2<f32>, mut objective: F) -> Result<LbfgsResult>
    where
        F: FnMut(&Array2<f32>) -> Result<(Array1<f32>, Array2<f32>)>,
    {
        let mut batch = Batch::new(&x0, &self.config)?;
        let mut points = x0;
        while batch.collect_active() {
            for &i in &batch.active {
                batch.problems[i].write_trial(points.row_mut(i));
                batch.row_of[i] = i;
            }
            let (values, grads) = objective(&points)?;
            check_output(&values, &grads, points.nrows(), points.ncols())?;
            batch.observe(values.view(), grads.view());
            // Frozen rows must hold the final point, not a rejected trial.
            for &i in &batch.active {
                if batch.problems[i].is_done() {
                    batch.problems[i].write_point(points.row_mut(i));
                }
            }
        }
        Ok(batch.into_result())
    }

    /// Like [`Lbfgs::minimize`], but `objective(points, problems)` receives only the problems still
    /// running: `points` is `[A, n]` and row `k` belongs to problem `problems[k]` (increasing indices
    /// into `x0`). It returns values `[A]` and gradients `[A, n]`. Late rounds, when few problems are
    /// left, then cost only what they need.
    pub fn minimize_active<F>(&self, x0: Array2<f32>, mut objective: F) -> Result<LbfgsResult>
    where
        F: FnMut(&Array2<f32>, &[usize]) -> Result<(Array1<f32>, Array2<f32>)>,
    {
        let mut batch = Batch::new(&x0, &self.config)?;
        let dim = x0.ncols();
        drop(x0);
        while batch.collect_active() {
            let mut points = Array2::zeros((batch.active.len(), dim));
            for (k, &i) in batch.active.iter().enumerate() {
                batch.problems[i].write_trial(points.row_mut(k));
                batch.row_of[i] = k;
            }
            let (values, grads) = objective(&points, &batch.active)?;
            check_output(&values, &grads, points.nrows(), dim)?;
            batch.observe(values.view(), grads.view());
        }
        Ok(batch.into_result())
    }
}

fn check_output(values: &Array1<f32>, grads: &Array2<f32>, rows: usize, dim: usize) -> Result<()> {
    if values.len() != rows || grads.dim() != (rows, dim) {
        return Err(Error::shape(
            "L-BFGS objective output",
            format!("values [{rows}] and gradients [{rows}, {dim}]"),
            format!("values [{}] and gradients {:?}", values.len(), grads.shape()),
        ));
    }
    Ok(())
}

/// Marks a problem that is not evaluated this round in [`Batch::row_of`].
const INACTIVE: usize = usize::MAX;

/// All problems plus the per-round bookkeeping, allocated once.
struct Batch<'c> {
    config: &'c LbfgsConfig,
    problems: Vec<Problem>,
    /// Problems still running, in increasing order.
    active: Vec<usize>,
    /// For each problem, the row of this round's objective output holding it, or [`INACTIVE`].
    row_of: Vec<usize>,
    calls: usize,
}

impl<'c> Batch<'c> {
    fn new(x0: &Array2<f32>, config: &'c LbfgsConfig) -> Result<Self> {
        let (count, dim) = x0.dim();
        if count == 0 || dim == 0 {
            return Err(Error::Empty(format!(
                "L-BFGS starting points have shape [{count}, {dim}]"
            )));
        }
        crate::error::ensure_finite("L-BFGS starting points", x0.iter())?;
        let problems = x0
            .outer_iter()
            .map(|row| Problem::new(row, config.history))
            .collect();
        Ok(Batch {
            config,
            problems,
            active: Vec::with_capacity(count),
            row_of: vec![INACTIVE; count],
            calls: 0,
        })
    }

    /// Refreshes `active` and clears `row_of` (the caller fills in the rows of active problems);
    /// false when no problem is left.
    fn collect_active(&mut self) -> bool {
        self.active.clear();
        for (i, problem) in self.problems.iter().enumerate() {
            self.row_of[i] = INACTIVE;
            if !problem.is_done() {
                self.active.push(i);
            }
        }
        !self.active.is_empty()
    }

    /// Feeds one round of objective output to every active problem.
    fn observe(&mut self, values: ArrayView1<'_, f32>, grads: ArrayView2<'_, f32>) {
        self.calls += 1;
        let config = self.config;
        let dim = grads.ncols();
        let step = |(problem, &row): (&mut Problem, &usize)| {
            if row != INACTIVE {
                problem.observe(values[row], grads.row(row), config);
            }
        };
        if self.active.len() * dim * (config.history + 1) >= PARALLEL_MIN_WORK {
            self.problems
                .par_iter_mut()
                .zip(self.row_of.par_iter())
                .for_each(step);
        } else {
            self.problems.iter_mut().zip(self.row_of.iter()).for_each(step);
        }
    }

    fn into_result(self) -> LbfgsResult {
        let (count, dim) = (self.problems.len(), self.problems[0].x.len());
        let mut x = Array2::zeros((count, dim));
        for (problem, row) in self.problems.iter().zip(x.outer_iter_mut()) {
            problem.write_point(row);
        }
        let field = |f: fn(&Problem) -> usize| self.problems.iter().map(f).collect::<Vec<_>>();
        LbfgsResult {
            x,
            value: self.problems.iter().map(|p| p.value as f32).collect(),
            grad_norm: self.problems.iter().map(|p| p.grad_norm as f32).collect(),
            iterations: field(|p| p.iterations),
            evaluations: field(|p| p.evaluations),
            line_search_failures: field(|p| p.line_search_failures),
            status: self
                .problems
                .iter()
                .map(|p| p.status().unwrap_or(Status::MaxIters))
                .collect(),
            batch_calls: self.calls,
        }
    }
}

/// Where one problem stands between two evaluations.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Waiting for the value at the starting point.
    Start,
    /// Waiting for the value at the current line-search trial.
    Search(Bracket),
    /// Stopped.
    Done(Status),
}

/// A point on the search line: step length `alpha`, value and directional derivative `∇f·d` there.
#[derive(Debug, Clone, Copy, PartialEq)]
struct LinePoint {
    alpha: f64,
    value: f64,
    slope: f64,
}

/// State of the bracketing strong Wolfe search (unused by the backtracking searches).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Bracket {
    /// Growing the step; `previous` is the last trial (or the base point, `alpha = 0`).
    Expand { previous: LinePoint },
    /// An acceptable step lies between `low` (sufficient decrease, lowest value so far) and `high`.
    Zoom { low: LinePoint, high: LinePoint },
}

/// One problem's complete state; every buffer is allocated in [`Problem::new`].
#[derive(Debug, Clone)]
struct Problem {
    /// Last accepted point (always an exact `f32` value, widened).
    x: Vec<f64>,
    value: f64,
    grad: Vec<f64>,
    grad_norm: f64,
    /// Search direction of the current line search.
    direction: Vec<f64>,
    /// `∇f(x)·direction`.
    direction_slope: f64,
    /// Current trial point, as handed to the objective.
    trial: Vec<f32>,
    /// `trial - x`: the step actually taken, after rounding to `f32`.
    step: Vec<f64>,
    /// Gradient at the trial point, widened.
    trial_grad: Vec<f64>,
    /// `∇f(x)·step`.
    slope: f64,
    alpha: f64,
    /// Largest step length allowed by `max_step` in this search.
    max_alpha: f64,
    /// The first trial's step length before the `max_step` cap.
    uncapped_alpha: f64,
    previous_alpha: f64,
    trials: usize,
    history: History,
    iterations: usize,
    evaluations: usize,
    line_search_failures: usize,
    phase: Phase,
}

impl Problem {
    fn new(x0: ArrayView1<'_, f32>, history: usize) -> Self {
        let dim = x0.len();
        Problem {
            x: x0.iter().map(|&v| v as f64).collect(),
            value: f64::NAN,
            grad: vec![0.0; dim],
            grad_norm: f64::NAN,
            direction: vec![0.0; dim],
            direction_slope: 0.0,
            trial: x0.to_vec(),
            step: vec![0.0; dim],
            trial_grad: vec![0.0; dim],
            slope: 0.0,
            alpha: 1.0,
            max_alpha: f64::INFINITY,
            uncapped_alpha: 1.0,
            previous_alpha: 1.0,
            trials: 0,
            history: History::new(dim, history),
            iterations: 0,
            evaluations: 0,
            line_search_failures: 0,
            phase: Phase::Start,
        }
    }

    fn status(&self) -> Option<Status> {
        match self.phase {
            Phase::Done(status) => Some(status),
            _ => None,
        }
    }

    fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Done(_))
    }

    fn write_trial(&self, mut row: ndarray::ArrayViewMut1<'_, f32>) {
        row.iter_mut().zip(&self.trial).for_each(|(r, &t)| *r = t);
    }

    fn write_point(&self, mut row: ndarray::ArrayViewMut1<'_, f32>) {
        row.iter_mut().zip(&self.x).for_each(|(r, &v)| *r = v as f32);
    }

    fn finish(&mut self, status: Status) {
        self.phase = Phase::Done(status);
    }

    /// Takes the objective's value and gradient at the point last requested (`trial`).
    fn observe(&mut self, value: f32, grad: ArrayView1<'_, f32>, config: &LbfgsConfig) {
        self.evaluations += 1;
        let finite = value.is_finite() && grad.iter().all(|g| g.is_finite());
        let bracket = match self.phase {
            Phase::Start => {
                self.value = value as f64;
                self.grad.iter_mut().zip(grad).for_each(|(g, &v)| *g = v as f64);
                self.grad_norm = dot(&self.grad, &self.grad).sqrt();
                return if finite {
                    self.start_iteration(config)
                } else {
                    self.finish(Status::NonFinite)
                };
            }
            Phase::Search(bracket) => bracket,
            Phase::Done(_) => return,
        };
        self.trial_grad
            .iter_mut()
            .zip(grad)
            .for_each(|(g, &v)| *g = v as f64);
        let search = config.line_search;
        let trial_value = value as f64;
        let decrease = finite && search.sufficient_decrease(self.value, self.slope, trial_value);
        let curvature = search.curvature(self.slope, dot(&self.trial_grad, &self.step));
        // A step at the max_step cap cannot satisfy the curvature condition from below; take it.
        let capped = self.alpha >= self.max_alpha;
        if decrease && (curvature || capped) {
            return self.accept(value, config);
        }
        self.trials += 1;
        if self.trials >= search.max_steps() {
            self.line_search_failures += 1;
            return match (config.on_line_search_failure, finite) {
                (LineSearchFailure::TakeLastTrial, true) => self.accept(value, config),
                (LineSearchFailure::TakeLastTrial, false) => self.finish(Status::NonFinite),
                (LineSearchFailure::Stop, _) => self.finish(Status::LineSearchFailed),
            };
        }
        match search.shrink() {
            Some(shrink) => self.alpha *= shrink,
            None => {
                let trial_slope = if finite {
                    dot(&self.trial_grad, &self.direction)
                } else {
                    f64::NAN
                };
                let point = LinePoint {
                    alpha: self.alpha,
                    value: trial_value,
                    slope: trial_slope,
                };
                let (alpha, bracket) = next_bracket(bracket, point, decrease, self.max_alpha);
                self.alpha = alpha;
                self.phase = Phase::Search(bracket);
            }
        }
        self.prepare_trial(config);
    }

    /// Moves to the current trial point, whose value is `value` and gradient `trial_grad`.
    fn accept(&mut self, value: f32, config: &LbfgsConfig) {
        let safeguard = config.curvature_safeguard;
        self.history
            .push(&self.step, &self.trial_grad, &self.grad, |sy, s_norm, y_norm| {
                !safeguard || sy > 1e-10 * s_norm * y_norm
            });
        self.x
            .iter_mut()
            .zip(&self.trial)
            .for_each(|(x, &t)| *x = t as f64);
        std::mem::swap(&mut self.grad, &mut self.trial_grad);
        self.grad_norm = dot(&self.grad, &self.grad).sqrt();
        let previous_value = std::mem::replace(&mut self.value, value as f64);
        self.iterations += 1;
        // A step shortened by max_step says nothing about the natural step length: do not let the cap
        // shrink the next initial trial.
        self.previous_alpha = if self.alpha >= self.max_alpha {
            self.uncapped_alpha
        } else {
            self.alpha
        };
        let change = (previous_value - self.value).abs();
        if config.rel_value_tol > 0.0
            && self.iterations >= config.min_iters
            && change <= config.rel_value_tol * self.value.abs().max(1.0)
        {
            return self.finish(Status::Converged);
        }
        self.start_iteration(config);
    }

    /// Stops if converged or out of iterations, else computes a direction and the first trial.
    fn start_iteration(&mut self, config: &LbfgsConfig) {
        if self.iterations >= config.min_iters && self.grad_norm <= config.grad_tol {
            return self.finish(Status::Converged);
        }
        if self.iterations >= config.max_iters {
            return self.finish(Status::MaxIters);
        }
        self.history.direction(&self.grad, &mut self.direction);
        self.direction_slope = dot(&self.grad, &self.direction);
        let finite = self.direction.iter().all(|d| d.is_finite());
        if !finite || (config.curvature_safeguard && self.direction_slope >= 0.0) {
            self.history.clear();
            self.direction
                .iter_mut()
                .zip(&self.grad)
                .for_each(|(d, &g)| *d = -g);
            self.direction_slope = -self.grad_norm * self.grad_norm;
        }
        self.max_alpha = match config.max_step {
            Some(cap) => cap / dot(&self.direction, &self.direction).sqrt(),
            None => f64::INFINITY,
        };
        self.uncapped_alpha = if self.previous_alpha <= 1e-6 {
            1.0
        } else {
            (config.step_growth * self.previous_alpha).min(1.0)
        };
        self.alpha = self.uncapped_alpha.min(self.max_alpha);
        self.trials = 0;
        let base = LinePoint {
            alpha: 0.0,
            value: self.value,
            slope: self.direction_slope,
        };
        self.phase = Phase::Search(Bracket::Expand { previous: base });
        self.prepare_trial(config);
    }

    /// Sets `trial = x + alpha·direction` in `f32`, shortening past trial points that overflow.
    fn prepare_trial(&mut self, config: &LbfgsConfig) {
        loop {
            let (mut finite, mut moved) = (true, false);
            for j in 0..self.x.len() {
                let t = (self.x[j] + self.alpha * self.direction[j]) as f32;
                self.trial[j] = t;
                self.step[j] = t as f64 - self.x[j];
                finite &= t.is_finite();
                moved |= self.step[j] != 0.0;
            }
            if finite && !moved {
                // No representable step: the point is as good as f32 allows along this direction.
                if self.grad_norm <= config.grad_tol {
                    return self.finish(Status::Converged);
                }
                self.line_search_failures += 1;
                return self.finish(Status::LineSearchFailed);
            }
            if finite {
                self.slope = dot(&self.grad, &self.step);
                return;
            }
            self.trials += 1;
            if self.trials >= config.line_search.max_steps() {
                self.line_search_failures += 1;
                return self.finish(Status::NonFinite);
            }
            self.alpha *= config.line_search.shrink().unwrap_or(0.5);
            if let Phase::Search(Bracket::Expand { previous }) = self.phase {
                // Overflow is "too far": an acceptable step lies below this one.
                let high = LinePoint {
                    alpha: 2.0 * self.alpha,
                    value: f64::NAN,
                    slope: f64::NAN,
                };
                self.phase = Phase::Search(Bracket::Zoom { low: previous, high });
            }
        }
    }
}

/// One step of the bracketing strong Wolfe search (Nocedal & Wright, Algorithms 3.5 and 3.6) after
/// a rejected `trial`: returns the next step length and bracket. `decrease` says whether `trial`
/// has sufficient decrease.
fn next_bracket(bracket: Bracket, trial: LinePoint, decrease: bool, max_alpha: f64) -> (f64, Bracket) {
    let (low, high) = match bracket {
        Bracket::Expand { previous } => {
            let first = previous.alpha == 0.0;
            if !decrease || (!first && trial.value >= previous.value) {
                (previous, trial)
            } else if trial.slope >= 0.0 {
                (trial, previous)
            } else if trial.alpha < max_alpha {
                // Still descending steeply: lengthen the step.
                return (
                    (2.0 * trial.alpha).min(max_alpha),
                    Bracket::Expand { previous: trial },
                );
            } else {
                // Capped by max_step: keep searching below the cap.
                (previous, trial)
            }
        }
        Bracket::Zoom { low, high } => {
            if !decrease || trial.value >= low.value {
                (low, trial)
            } else if trial.slope * (high.alpha - low.alpha) >= 0.0 {
                (trial, low)
            } else {
                (trial, high)
            }
        }
    };
    (interpolate(low, high), Bracket::Zoom { low, high })
}

/// Minimiser of the cubic matching values and slopes at `a` and `b`, kept at least 10% of the
/// interval away from both ends; the midpoint when the cubic is unusable (non-finite data, no
/// minimiser).
fn interpolate(a: LinePoint, b: LinePoint) -> f64 {
    let (lo, hi) = (a.alpha.min(b.alpha), a.alpha.max(b.alpha));
    let margin = 0.1 * (hi - lo);
    let d1 = a.slope + b.slope - 3.0 * (a.value - b.value) / (a.alpha - b.alpha);
    let discriminant = d1 * d1 - a.slope * b.slope;
    let candidate = if discriminant >= 0.0 {
        let d2 = (b.alpha - a.alpha).signum() * discriminant.sqrt();
        b.alpha - (b.alpha - a.alpha) * (b.slope + d2 - d1) / (b.slope - a.slope + 2.0 * d2)
    } else {
        f64::NAN
    };
    if candidate.is_finite() {
        candidate.clamp(lo + margin, hi - margin)
    } else {
        0.5 * (lo + hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// For φ(α) = (α - 2)² the cubic interpolant is exact,
    /// so the minimiser α = 2 is recovered from any two points.
    #[test]
    fn cubic_interpolation_is_exact_on_quadratics() {
        let point = |alpha: f64| LinePoint {
            alpha,
            value: (alpha - 2.0).powi(2),
            slope: 2.0 * (alpha - 2.0),
        };
        for (a, b) in [(0.0, 3.0), (5.0, 1.0), (1.5, 2.5)] {
            assert!((interpolate(point(a), point(b)) - 2.0).abs() < 1e-12);
        }
        // Outside the safeguarded band the result is clamped.
        assert!((interpolate(point(0.0), point(2.05)) - 0.9 * 2.05).abs() < 1e-12);
        // Unusable data falls back to bisection.
        let nan = LinePoint {
            alpha: 4.0,
            value: f64::NAN,
            slope: f64::NAN,
        };
        assert_eq!(interpolate(point(0.0), nan), 2.0);
    }

    #[test]
    fn expansion_doubles_until_bracketed() {
        let base = LinePoint {
            alpha: 0.0,
            value: 1.0,
            slope: -1.0,
        };
        let descending = LinePoint {
            alpha: 1.0,
            value: 0.5,
            slope: -0.95,
        };
        let (alpha, bracket) = next_bracket(
            Bracket::Expand { previous: base },
            descending,
            true,
            f64::INFINITY,
        );
        assert_eq!((alpha, bracket), (2.0, Bracket::Expand { previous: descending }));
        let (alpha, _) = next_bracket(Bracket::Expand { previous: base }, descending, true, 1.5);
        assert_eq!(alpha, 1.5);
        let rising = LinePoint {
            alpha: 2.0,
            value: 0.4,
            slope: 0.5,
        };
        let (_, bracket) = next_bracket(
            Bracket::Expand { previous: descending },
            rising,
            true,
            f64::INFINITY,
        );
        assert_eq!(
            bracket,
            Bracket::Zoom {
                low: rising,
                high: descending
            }
        );
    }
}

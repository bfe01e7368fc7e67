//! Settings of the batched L-BFGS: iteration caps, history, tolerances and the line search.

use crate::{Error, Result};

/// How a line search picks the step `s = α·d` along the search direction `d` from `x`.
///
/// Every trial costs one objective evaluation; a search gives up after `max_steps` trials. The
/// conditions are tested along the step actually evaluated (the trial point rounded to `f32`), so
/// they hold exactly for the points the objective saw:
/// * sufficient decrease (Armijo): `f(x + s) ≤ f(x) + c1·∇f(x)·s`, the right side rounded to `f32`
///   (the objective's precision; a trial with the same `f32` value passes once `c1·∇f(x)·s` is below
///   half an ulp, exactly as in the reference's `f32` arithmetic);
/// * strong curvature: `|∇f(x + s)·s| ≤ c2·|∇f(x)·s|`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LineSearch {
    /// Backtracking on sufficient decrease: try `α₀`, `shrink·α₀`, `shrink²·α₀`, ... It does not
    /// ensure positive curvature `s·y > 0`, so pair it with [`LbfgsConfig::curvature_safeguard`].
    Armijo {
        /// Sufficient-decrease constant, in (0, 1).
        c1: f64,
        /// Factor applied to the step after a rejected trial, in (0, 1).
        shrink: f64,
        /// Number of trials before the search gives up, at least 1.
        max_steps: usize,
    },
    /// Backtracking on both strong Wolfe conditions, as jaxopt 0.8.1's `"backtracking"` search does
    /// (the reference's default). It cannot lengthen a step that is too short, so it fails whenever
    /// the first trial already violates the curvature condition from below; it suits well-scaled
    /// problems such as the 2-D c-transform, not badly scaled ones such as Rosenbrock.
    BacktrackingWolfe {
        /// Sufficient-decrease constant, in (0, c2).
        c1: f64,
        /// Curvature constant, in (c1, 1).
        c2: f64,
        /// Factor applied to the step after a rejected trial, in (0, 1).
        shrink: f64,
        /// Number of trials before the search gives up, at least 1.
        max_steps: usize,
    },
    /// A bracketing search for the strong Wolfe conditions: the step grows (doubling, up to the
    /// [`LbfgsConfig::max_step`] cap) until an interval containing acceptable steps is bracketed,
    /// then the interval is narrowed by safeguarded cubic interpolation (Nocedal & Wright,
    /// Algorithms 3.5 and 3.6). The robust choice for general smooth problems.
    StrongWolfe {
        /// Sufficient-decrease constant, in (0, c2).
        c1: f64,
        /// Curvature constant, in (c1, 1).
        c2: f64,
        /// Number of trials before the search gives up, at least 1.
        max_steps: usize,
    },
}

impl LineSearch {
    /// The reference's effective search: [`LineSearch::BacktrackingWolfe`] with `c1 = 1e-4`,
    /// `c2 = 0.9`, `shrink = 0.8`, at most 30 trials (jaxopt 0.8.1 ignores the config's
    /// `decrease_factor` and `max_linesearch_iter`, spec §8).
    pub fn reference() -> Self {
        LineSearch::BacktrackingWolfe {
            c1: 1e-4,
            c2: 0.9,
            shrink: 0.8,
            max_steps: 30,
        }
    }

    /// A plain Armijo backtracking search with `c1 = 1e-4`, `shrink = 0.5`, at most 30 trials.
    pub fn armijo() -> Self {
        LineSearch::Armijo {
            c1: 1e-4,
            shrink: 0.5,
            max_steps: 30,
        }
    }

    /// A bracketing strong Wolfe search with `c1 = 1e-4`, `c2 = 0.9`, at most 30 trials.
    pub fn strong_wolfe() -> Self {
        LineSearch::StrongWolfe {
            c1: 1e-4,
            c2: 0.9,
            max_steps: 30,
        }
    }

    /// The number of trials allowed per search.
    pub fn max_steps(&self) -> usize {
        match *self {
            LineSearch::Armijo { max_steps, .. }
            | LineSearch::BacktrackingWolfe { max_steps, .. }
            | LineSearch::StrongWolfe { max_steps, .. } => max_steps,
        }
    }

    /// The step-shrinking factor of the backtracking searches; `None` for the bracketing one.
    pub fn shrink(&self) -> Option<f64> {
        match *self {
            LineSearch::Armijo { shrink, .. } | LineSearch::BacktrackingWolfe { shrink, .. } => Some(shrink),
            LineSearch::StrongWolfe { .. } => None,
        }
    }

    /// Sufficient decrease: `trial_value ≤ value + c1·slope` with `slope = ∇f(x)·s`.
    pub(crate) fn sufficient_decrease(&self, value: f64, slope: f64, trial_value: f64) -> bool {
        let c1 = match *self {
            LineSearch::Armijo { c1, .. }
            | LineSearch::BacktrackingWolfe { c1, .. }
            | LineSearch::StrongWolfe { c1, .. } => c1,
        };
        // Compared at the objective's precision, as the reference's f32 arithmetic does: near a
        // minimum c1·slope falls below half an f32 ulp of the value, and a trial that does not raise
        // the value must still pass, or every search there would fail on rounding alone.
        trial_value <= (value + c1 * slope) as f32 as f64
    }

    /// Strong curvature `|trial_slope| ≤ c2·|slope|` (always true for [`LineSearch::Armijo`]), with
    /// `slope = ∇f(x)·s` and `trial_slope = ∇f(x + s)·s`.
    pub(crate) fn curvature(&self, slope: f64, trial_slope: f64) -> bool {
        match *self {
            LineSearch::Armijo { .. } => true,
            LineSearch::BacktrackingWolfe { c2, .. } | LineSearch::StrongWolfe { c2, .. } => {
                trial_slope.abs() <= c2 * slope.abs()
            }
        }
    }

    fn validate(&self) -> Result<()> {
        let constants_ok = match *self {
            LineSearch::Armijo { c1, .. } => c1 > 0.0 && c1 < 1.0,
            LineSearch::BacktrackingWolfe { c1, c2, .. } | LineSearch::StrongWolfe { c1, c2, .. } => {
                c1 > 0.0 && c1 < c2 && c2 < 1.0
            }
        };
        if !constants_ok {
            return Err(Error::InvalidArgument(format!(
                "line search constants need 0 < c1 < c2 < 1 (Armijo: 0 < c1 < 1), got {self:?}"
            )));
        }
        if let Some(shrink) = self.shrink() {
            if !(shrink > 0.0 && shrink < 1.0) {
                return Err(Error::InvalidArgument(format!(
                    "line search shrink must lie in (0, 1), got {shrink}"
                )));
            }
        }
        if self.max_steps() == 0 {
            return Err(Error::InvalidArgument(
                "line search max_steps must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// What a problem does when its line search runs out of trials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineSearchFailure {
    /// Move to the last trial point anyway (if its value and gradient are finite) and keep iterating;
    /// the failure is counted in [`LbfgsResult::line_search_failures`](super::LbfgsResult). This is
    /// what jaxopt 0.8.1 does, hence the default.
    TakeLastTrial,
    /// Freeze the problem at its last accepted point with status
    /// [`Status::LineSearchFailed`](super::Status::LineSearchFailed).
    Stop,
}

/// Settings of [`Lbfgs`](super::Lbfgs). Build with struct update from the defaults:
///
/// ```
/// use lagrangian_ot::optim::{LbfgsConfig, LineSearch};
/// let config = LbfgsConfig { max_iters: 200, line_search: LineSearch::armijo(), ..Default::default() };
/// assert_eq!(config.history, 10);
/// ```
///
/// The defaults are the reference's effective c-transform settings (spec §8): `max_iters = 20`,
/// `min_iters = 1` (jaxopt always takes the first iteration), `history = 10`, `grad_tol = 1e-5` on the
/// Euclidean gradient norm, [`LineSearch::reference`], [`LineSearchFailure::TakeLastTrial`],
/// `step_growth = 1.5`, no curvature safeguard. `rel_value_tol = 0` and `max_step = None` disable
/// those two tests, which the reference does not have.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LbfgsConfig {
    /// Maximum number of accepted iterations per problem.
    pub max_iters: usize,
    /// Iterations every problem takes before a convergence test may stop it.
    pub min_iters: usize,
    /// Number of `(s, y)` correction pairs kept per problem (0 gives steepest descent).
    pub history: usize,
    /// Converged when the Euclidean norm of the gradient is at most this.
    pub grad_tol: f64,
    /// Converged when an accepted step changes the value by at most `rel_value_tol·max(1, |f|)`;
    /// 0 disables the test.
    pub rel_value_tol: f64,
    /// The line search.
    pub line_search: LineSearch,
    /// What happens when the line search runs out of trials.
    pub on_line_search_failure: LineSearchFailure,
    /// The first trial of each search is `α₀ = min(1, step_growth·α_prev)` with `α_prev` the previous
    /// accepted step (1 on the first iteration, and reset to 1 when `α_prev ≤ 1e-6`).
    pub step_growth: f64,
    /// Optional cap on the Euclidean length of a step; the first trial is shortened to respect it.
    pub max_step: Option<f64>,
    /// Skip correction pairs without positive curvature (`s·y ≤ 1e-10·|s|·|y|`) and restart from
    /// steepest descent when the quasi-Newton direction is not a descent direction. Off in the
    /// reference (negative `ρ` is kept there); turn it on for non-convex problems.
    pub curvature_safeguard: bool,
}

impl Default for LbfgsConfig {
    fn default() -> Self {
        LbfgsConfig {
            max_iters: 20,
            min_iters: 1,
            history: 10,
            grad_tol: 1e-5,
            rel_value_tol: 0.0,
            line_search: LineSearch::reference(),
            on_line_search_failure: LineSearchFailure::TakeLastTrial,
            step_growth: 1.5,
            max_step: None,
            curvature_safeguard: false,
        }
    }
}

impl LbfgsConfig {
    /// Settings for general smooth problems (geodesic/spline-action refinement, anything not tied to
    /// reference parity): the bracketing [`LineSearch::strong_wolfe`], the curvature safeguard on,
    /// problems stop on a failed line search, 200 iterations; the rest as the defaults.
    pub fn robust() -> Self {
        LbfgsConfig {
            max_iters: 200,
            line_search: LineSearch::strong_wolfe(),
            on_line_search_failure: LineSearchFailure::Stop,
            curvature_safeguard: true,
            ..Default::default()
        }
    }

    /// Checks every setting, returning [`Error::InvalidArgument`] naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        self.line_search.validate()?;
        if !(self.grad_tol >= 0.0 && self.grad_tol.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "grad_tol must be finite and >= 0, got {}",
                self.grad_tol
            )));
        }
        if !(self.rel_value_tol >= 0.0 && self.rel_value_tol.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "rel_value_tol must be finite and >= 0, got {}",
                self.rel_value_tol
            )));
        }
        if !(self.step_growth >= 1.0 && self.step_growth.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "step_growth must be finite and >= 1, got {}",
                self.step_growth
            )));
        }
        if let Some(cap) = self.max_step {
            if !(cap > 0.0 && cap.is_finite()) {
                return Err(Error::InvalidArgument(format!(
                    "max_step must be finite and > 0, got {cap}"
                )));
            }
        }
        Ok(())
    }
}

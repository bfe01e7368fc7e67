//! Paths between two points, their action, geodesics, and the network that predicts them.
//!
//! A Lagrangian cost `c(x, y) = inf_γ ∫₀¹ L(γ, γ̇) ds` needs paths to minimise over. Here a path
//! is a straight line plus a residual cubic spline that vanishes at both ends
//! ([`CubicSplinePath`]), so every candidate joins `x` to `y` exactly and the straight line is the
//! zero parameter. On top of that:
//!
//! - [`SplineAction`] turns `(Lagrangian, x, y, params, cond)` into one cost per path as a taped
//!   dfdx tensor, with the reference polygon ([`Quadrature::Reference`], NLOT §2, kept exactly for
//!   parity with the papers' numbers) or a physical quadrature ([`Quadrature::GaussLegendre`]) of
//!   `∫ ½γ̇ᵀAγ̇ − U ds`; [`ActionKind`] chooses the action or half the squared length;
//! - [`GeodesicSolver`] minimises that cost over the spline parameters for a batch of pairs with the
//!   batched L-BFGS of [`crate::optim`] (and optionally the reference's Adam refinement) and returns
//!   [`Geodesics`], which draw themselves;
//! - [`SplineAmortiser`] is NLOT's amortised spline network `φ(x₀, x₁[, cond])`, trained to minimise
//!   the mean action of its own predictions (NLOT eq. 19).
//!
//! ## Difference from the reference spline
//! The reference code (stochman 0.3.0's `CubicSpline`, used by NLOT with 30 nodes and HTI with 15)
//! parameterises the residual by an orthonormal basis of the null space of a constraint matrix whose
//! "second-derivative" rows are `(0, 0, 6τ, 2)` instead of the true `(0, 0, 2, 6τ)`. Its residuals
//! are therefore only C¹ — the second derivative jumps at the knots — and the `K` basis coefficients
//! per coordinate have no direct meaning (the basis comes from an SVD and is unique only up to a
//! rotation). Here the residual is a proper **C² natural cubic spline** (`r̈ = 0` at both ends) on `K`
//! equally spaced knots, parameterised by its **values at the `K − 2` interior knots**: the
//! parameters are points on the path's deviation from the straight line, `params = 0` is the straight
//! line at constant speed, and the family has `d·(K − 2)` parameters per path instead of the
//! reference's `d·K` (56 instead of 60 for NLOT's 30 knots in 2-D, 26 instead of 30 for HTI's 15).
//! The natural end condition also pins `γ̈ = 0` at both ends, which the reference's family does not.
//! An amortiser trained on either family represents the same kind of smooth paths; bit parity with
//! the reference's basis is impossible anyway (its SVD basis is LAPACK-dependent).

mod action;
mod amortised;
mod geodesic;
mod spline;

pub use action::{
    gauss_legendre, ActionGradients, ActionKind, Quadrature, SplineAction, REFERENCE_EDGE_OFFSET,
    REFERENCE_POINTS,
};
pub use amortised::{
    AmortiserFit, AmortiserStep, FrozenAmortiser, PathPairs, SplineAmortiser, SplineAmortiserConfig,
};
pub use geodesic::{AdamRefinement, GeodesicConfig, GeodesicSolver, Geodesics};
pub use spline::{stack_inputs, CubicSplinePath, LinearMap, Order, PathEvaluator, HTI_KNOTS, NLOT_KNOTS};

//! Batched quasi-Newton minimisation of many small, independent problems.
//!
//! NLOT needs two kinds of inner solves that are too small to be worth a tensor-level optimiser but
//! come in batches of a thousand: the c-transform `argmin_y c(x_i, y) - g(y)` for every source point
//! of a batch (warm-started from the amortised map), and spline-action minimisation for a batch of
//! geodesic problems. [`Lbfgs`] runs one L-BFGS per problem, each with its own history, step size,
//! line search and stopping decision, while the objective is evaluated for all still-running problems
//! in one call so the caller can do a single batched network pass per round.
//!
//! The defaults of [`LbfgsConfig`] reproduce the reference implementation's effective settings
//! (jaxopt 0.8.1 `LBFGS` as called by `CTransformLBFGS`, see `shared/specs/nlot.md` §8).

mod config;
mod history;
mod lbfgs;

pub use config::{LbfgsConfig, LineSearch, LineSearchFailure};
pub use lbfgs::{Lbfgs, LbfgsResult, Status};

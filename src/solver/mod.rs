//! Transport solvers. Each takes a cost (a geometry) and two measures and returns a model that owns
//! what was learned, reports its history and draws itself.
//!
//! - [`cost`]: the [`TransportCost`] interface between geometries and solvers, and ½|x − y|².
//! - [`ctransform`]: the amortised, L-BFGS-refined c-transform shared by the dual solvers.
//! - [`lagrangian_cost`]: c(x, y) = action of an amortised spline path under a Lagrangian.
//! - [`nlot`]: NLOT's neural Kantorovich dual (Algorithm 1).

pub mod cost;
pub mod ctransform;
pub mod lagrangian_cost;
pub mod nlot;

pub use cost::{MapFn, SquaredEuclidean, TransportCost};
pub use ctransform::{c_transform, CTransformResult};
pub use lagrangian_cost::{AmortiserSchedule, LagrangianCost};
pub use nlot::{Nlot, NlotBuilder, NlotHistory, NlotModel};

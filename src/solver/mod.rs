//! Transport solvers. Each takes a cost (a geometry) and two measures and returns a model that owns
//! what was learned, reports its history and draws itself.
//!
//! - [`cost`]: the [`TransportCost`] interface between geometries and solvers, and ½|x − y|².
//! - [`ctransform`]: the amortised, L-BFGS-refined c-transform shared by the dual solvers.
//! - [`nlot`]: NLOT's neural Kantorovich dual (Algorithm 1).

pub mod cost;
pub mod ctransform;
pub mod nlot;

pub use cost::{ClipBox, SquaredEuclidean, TransportCost};
pub use ctransform::{c_transform, CTransformResult};
pub use nlot::{Nlot, NlotBuilder, NlotHistory, NlotModel};

//! Transport solvers. Each takes a cost (a geometry) and two measures and returns a model that owns
//! what was learned, reports its history and draws itself.
//!
//! - [`cost`]: the [`TransportCost`] interface between geometries and solvers, and ½|x − y|².
//! - [`ctransform`]: the amortised, L-BFGS-refined c-transform shared by the dual solvers.
//! - [`lagrangian_cost`]: c(x, y) = action of an amortised spline path under a Lagrangian.
//! - [`nlot`]: NLOT's neural Kantorovich dual (Algorithm 1).
//! - [`hota`]: HOTA's HJB-dual solver with replay buffer, EMA target and gradient balancing.
//! - [`metric_learning`]: NLOT's metric learning from a sequence of measures (Algorithm 2).

pub mod clot;
pub mod cost;
pub mod ctransform;
mod dual;
pub mod hota;
pub mod lagrangian_cost;
pub mod metric_learning;
pub mod nlot;
mod replay;

pub use clot::{
    DensitySettings, Hti, HtiBuilder, HtiConfig, HtiHistory, HtiMetric, HtiModel, HtiPotential, HtiPreset,
    HtiVariant,
};
pub use cost::{MapFn, SolveCost, SquaredEuclidean, TransportCost};
pub use ctransform::{c_transform, c_transform_with, CTransformResult};
pub use hota::{
    hjb_residual_loss, Hota, HotaAblation, HotaBuilder, HotaConfig, HotaHistory, HotaModel, HotaPreset,
    NoiseSchedule, Normalization, Rollout,
};
pub use lagrangian_cost::{AmortiserSchedule, LagrangianCost, PathRefresh};
pub use metric_learning::{
    alignment_on_grid, cheap_directions, metric_cost_gradient, EnvelopeBatch, LearnedMetric, MetricLearning,
    MetricLearningBuilder, MetricLearningHistory, MetricLearningModel, PathSchedule,
};
pub use nlot::{Nlot, NlotBuilder, NlotHistory, NlotModel, SamplingCheck};
pub use replay::ReplayBuffer;

pub mod nctm;
pub use nctm::{
    ConditionEncoder, ConditionSpace, ConditionalNet, ConditionalSampler, Conditioning, Conditions,
    ContinuousEncoding, Nctm, NctmBuilder, NctmHistory, NctmModel, NetShape, WeakCost,
};

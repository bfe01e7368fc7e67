//! Everything a notebook needs in one import: `use lagrangian_ot::prelude::*;`.

pub use crate::data::{
    scarvelis, semicircle, toy, AnchoredDataset, Condition, ConditionView, HotaBenchmark, Measure,
};
pub use crate::device::{default_device, rng, Device, SeededRng};
pub use crate::error::{Error, Result};
pub use crate::experiments::{reproduce, Report, RunConfig};
pub use crate::lagrangian::{
    Annealing, Bounds, Euclidean, FnMetric, FnPotential, GivensMetric, KdePotential, Lagrangian, Metric,
    Mixture, NoPotential, Obstacle, ObstacleShape, Points, Potential, Scalars, ScarvelisMetric,
};
pub use crate::metrics::{
    chamfer, exact_ot, gaussian_w2, kde_log_likelihood, mmd, sinkhorn, sinkhorn_divergence, wasserstein2,
    GroundCost, SinkhornConfig,
};
pub use crate::nn::{
    check_loss, Activation, Adam, AdamConfig, Embedding, FilmMlp, FourierFeatures, Init, LrSchedule, Mlp,
    Trainable,
};
pub use crate::optim::{Lbfgs, LbfgsConfig, LbfgsResult, LineSearch};
pub use crate::path::{
    ActionKind, CubicSplinePath, GeodesicConfig, GeodesicSolver, Geodesics, PathPairs, Quadrature,
    SplineAction, SplineAmortiser, SplineAmortiserConfig,
};
pub use crate::plot::{ColorMap, Figure, Plot, Rgb};
pub use crate::progress::ProgressMode;
pub use crate::quick_mode;
pub use crate::solver::{
    AmortiserSchedule, Conditioning, Conditions, ContinuousEncoding, DensitySettings, Hota, HotaAblation,
    HotaModel, HotaPreset, Hti, HtiConfig, HtiModel, HtiPreset, HtiVariant, LagrangianCost, Nctm, NctmModel,
    Nlot, NlotModel, PathRefresh, SquaredEuclidean, TransportCost, WeakCost,
};
pub use crate::surrogate::{
    Anchors, DirectRegression, FlowMatching, FlowMatchingSettings, HtiSurrogate, LinearInterpolation,
    MetricFlowMatching, MetricFlowMatchingSettings, RegressionSettings, Surrogate, Trajectories,
};

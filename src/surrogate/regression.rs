//! The direct-regression baseline (HTI spec §9). The paper names it without details; this is our
//! reading of it.
//!
//! An MLP `f(y_0, x, τ)` predicts the displacement of a first-anchor sample `y_0` with condition `x`
//! at normalised time `τ = (t − t_0)/(t_{K−1} − t_0)`, so the prediction is `y_0 + f(y_0, x, τ)`. It
//! is trained by mean-squared error on the pairs `(y_0, its partner y_k at anchor k, t_k)` for every
//! anchor `k` (including `k = 0`, where the partner is `y_0` itself), partners found by following
//! the same chain of exact-OT couplings as [`super::LinearInterpolation`] (class by class for labels,
//! on `[y, w·x]` for continuous conditions). Between anchors the network interpolates on its own.

use ndarray::{concatenate, Array2, ArrayView2, Axis};

use super::checks::{check_query, positive, positive_real, validate_anchors};
use super::coupling::{CouplingRule, OtChain};
use super::net_fit::{build_net, draw_rows, mse_step, network_input, normalised_time};
use super::{Anchors, ConditionEncoding, Surrogate};
use crate::data::ConditionView;
use crate::device::rng;
use crate::error::Result;
use crate::nn::{Activation, Adam, AdamConfig, Mlp};

/// Settings of [`DirectRegression::fit`]; chain the setters on [`RegressionSettings::default`].
#[derive(Debug, Clone, PartialEq)]
pub struct RegressionSettings {
    /// Hidden widths (default `[64, 64, 64]`, the size of the paper's CFM velocity net).
    pub hidden: Vec<usize>,
    /// Hidden activation (default [`Activation::SiLU`]).
    pub activation: Activation,
    /// Adam steps (default 2000).
    pub iterations: usize,
    /// Pairs per step (default 128).
    pub batch_size: usize,
    /// Adam learning rate (default 1e-3).
    pub learning_rate: f64,
    /// Weight of continuous conditions in the coupling cost (default 1; ignored for labels).
    pub condition_weight: f32,
    /// Seed of the weights and the minibatch draws (default 0).
    pub seed: u64,
}

impl Default for RegressionSettings {
    fn default() -> Self {
        RegressionSettings {
            hidden: vec![64, 64, 64],
            activation: Activation::SiLU,
            iterations: 2000,
            batch_size: 128,
            learning_rate: 1e-3,
            condition_weight: 1.0,
            seed: 0,
        }
    }
}

super::net_fit::network_setters!(RegressionSettings);

impl RegressionSettings {
    fn validate(&self) -> Result<()> {
        positive("iterations", self.iterations)?;
        positive("batch_size", self.batch_size)?;
        positive_real("learning_rate", self.learning_rate)
    }
}

/// A fitted direct regression `y_t = y_0 + f(y_0, x, τ)`; see the module docs.
#[derive(Debug, Clone)]
pub struct DirectRegression {
    net: Mlp,
    times: Vec<f32>,
    dim: usize,
    encoding: ConditionEncoding,
    losses: Vec<f32>,
}

/// The regression's training set: inputs `[y_0, x, τ_k]` and displacement targets `y_k − y_0`.
struct TrainingPairs {
    inputs: Array2<f32>,
    targets: Array2<f32>,
}

impl DirectRegression {
    /// Couples the anchors, then trains the network on the chained pairs. Typed errors for
    /// inconsistent anchors or invalid settings; [`crate::Error::Diverged`] if the loss blows up.
    pub fn fit(anchors: &Anchors, settings: &RegressionSettings) -> Result<Self> {
        validate_anchors(anchors)?;
        settings.validate()?;
        let pairs = training_pairs(anchors, settings.condition_weight)?;
        let dim = anchors.dim();
        let mut net = build_net(
            pairs.inputs.ncols(),
            dim,
            &settings.hidden,
            settings.activation,
            settings.seed,
        )?;
        let mut adam = Adam::new(AdamConfig::with_lr(settings.learning_rate))?;
        let mut draws = rng(settings.seed);
        let n = pairs.inputs.nrows();
        let mut losses = Vec::with_capacity(settings.iterations);
        for step in 0..settings.iterations {
            let rows = draw_rows(&mut draws, n, settings.batch_size.min(n));
            let input = pairs.inputs.select(Axis(0), &rows);
            let target = pairs.targets.select(Axis(0), &rows);
            losses.push(mse_step(&mut net, &mut adam, &input, &target, step)?);
        }
        Ok(DirectRegression {
            net,
            times: anchors.times.clone(),
            dim,
            encoding: anchors.encoding,
            losses,
        })
    }

    /// The minibatch loss of every training step.
    pub fn losses(&self) -> &[f32] {
        &self.losses
    }

    /// The trained network `f(y_0, x, τ)`.
    pub fn network(&self) -> &Mlp {
        &self.net
    }

    /// How conditions are encoded.
    pub fn encoding(&self) -> ConditionEncoding {
        self.encoding
    }
}

/// Every first-anchor sample paired with its chained partner at every anchor.
fn training_pairs(anchors: &Anchors, condition_weight: f32) -> Result<TrainingPairs> {
    let rule = CouplingRule::new(anchors.encoding, condition_weight)?;
    let chain = OtChain::fit(anchors, rule)?;
    let (y0, x0) = (&anchors.samples[0], &anchors.conditions[0]);
    let path = chain.follow((0..y0.nrows()).collect(), anchors.len() - 1);
    let mut inputs = Vec::with_capacity(anchors.len());
    let mut targets = Vec::with_capacity(anchors.len());
    for (k, rows) in path.iter().enumerate() {
        let tau = normalised_time(&anchors.times, anchors.times[k]);
        inputs.push(network_input(y0.view(), x0.view(), &vec![tau; y0.nrows()]));
        targets.push(anchors.samples[k].select(Axis(0), rows) - y0);
    }
    let stack = |blocks: &[Array2<f32>]| {
        let views: Vec<_> = blocks.iter().map(|b| b.view()).collect();
        concatenate(Axis(0), &views).expect("blocks share their width")
    };
    Ok(TrainingPairs {
        inputs: stack(&inputs),
        targets: stack(&targets),
    })
}

impl Surrogate for DirectRegression {
    fn name(&self) -> String {
        "direct regression".into()
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn anchor_times(&self) -> &[f32] {
        &self.times
    }

    /// `start + f(start, x, τ(t))`. Errors: [`crate::Error::OutOfRange`] for `t` outside the anchors,
    /// [`crate::Error::Shape`] / [`crate::Error::NonFinite`] / [`crate::Error::Empty`] for a bad
    /// `start`, [`crate::Error::InvalidArgument`] for conditions of the wrong kind.
    fn predict(&self, t: f32, start: ArrayView2<'_, f32>, cond: &ConditionView<'_>) -> Result<Array2<f32>> {
        let query = check_query(&self.times, self.dim, self.encoding, t, start, cond)?;
        let tau = normalised_time(&self.times, t);
        let input = network_input(start, query.cond.view(), &vec![tau; start.nrows()]);
        Ok(self.net.forward_array(&input)? + start)
    }
}

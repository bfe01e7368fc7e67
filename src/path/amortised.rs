//! The amortised spline network φ(x₀, x₁[, cond]) → spline parameters, trained to minimise the action
//! of the paths it predicts (NLOT eq. 19).

use dfdx::prelude::*;
use ndarray::{concatenate, Array1, Array2, Axis};

use super::action::SplineAction;
use crate::error::{Error, Result};
use crate::lagrangian::{Lagrangian, Metric, Potential};
use crate::nn::{
    array_to_tensor, check_loss, tensor_to_array, traced, Activation, Adam, AdamConfig, HostMlp, Mlp, Param,
    TensorDevice, Trainable,
};

/// Settings of [`SplineAmortiser`]; the defaults are the reference's (NLOT §4).
#[derive(Debug, Clone, PartialEq)]
pub struct SplineAmortiserConfig {
    /// Hidden widths (reference: 1024, 1024).
    pub hidden: Vec<usize>,
    /// Hidden activation (reference: plain ReLU).
    pub activation: Activation,
    /// The optimiser, kept for the whole run (reference: global-norm clip 1.0, then Adam lr 1e-4).
    pub adam: AdamConfig,
    /// [`SplineAmortiser::fit`] stops once the smoothed gradient norm of the first layer's bias falls
    /// below this (reference: 1e-4).
    pub early_stop_threshold: f64,
}

impl Default for SplineAmortiserConfig {
    fn default() -> Self {
        SplineAmortiserConfig {
            hidden: vec![1024, 1024],
            activation: Activation::ReLU,
            adam: AdamConfig::with_lr(1e-4).clip_grad_norm(1.0),
            early_stop_threshold: 1e-4,
        }
    }
}

/// A batch of path end points (and optionally one condition row per pair) to train on or predict for.
#[derive(Debug, Clone, PartialEq)]
pub struct PathPairs {
    /// Start points `[B, d]`.
    pub x: Array2<f32>,
    /// End points `[B, d]`.
    pub y: Array2<f32>,
    /// Conditions `[B, c]`, for a conditional amortiser and Lagrangian.
    pub cond: Option<Array2<f32>>,
}

impl PathPairs {
    /// Unconditional pairs `(x[b], y[b])`.
    pub fn new(x: Array2<f32>, y: Array2<f32>) -> Self {
        PathPairs { x, y, cond: None }
    }

    /// Adds one condition row per pair.
    pub fn with_condition(mut self, cond: Array2<f32>) -> Self {
        self.cond = Some(cond);
        self
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.x.nrows()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.x.nrows() == 0
    }
}

/// What one training step did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AmortiserStep {
    /// The mean path energy before the step (the loss).
    pub loss: f32,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// L2 norm of the gradient of the first layer's bias (the reference's early-stop signal).
    pub first_bias_grad_norm: f64,
}

/// What [`SplineAmortiser::fit`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct AmortiserFit {
    /// Loss of every step taken.
    pub losses: Vec<f32>,
    /// Steps taken.
    pub steps: usize,
    /// Whether the early-stop rule ended the fit before `max_steps`.
    pub stopped_early: bool,
}

/// The amortised spline network: an [`Mlp`] from `[x, y, cond]` (`2d + c` inputs) to the
/// `d·(knots − 2)` parameters of a [`CubicSplinePath`](super::CubicSplinePath), trained by minimising
/// the mean path energy ([`SplineAction::path_energy`]: the action, or the length in squared-geodesic
/// mode) of the paths it predicts, as NLOT's `SplineAmortizer` does.
///
/// The optimiser state lives for the whole run (pre-fit, refits and single online steps share it),
/// and [`SplineAmortiser::fit`] applies the reference's early-stop rule: after each step
/// `m ← 0.9·g + 0.1·m` (`m` starts at the first `g`) with `g` the gradient norm of the first layer's
/// bias only, stopping when `m` is below the threshold. Its number of steps is reported.
#[derive(Debug, Clone)]
pub struct SplineAmortiser<D: TensorDevice<f32> = crate::device::Device> {
    net: Mlp<D>,
    adam: Adam<D>,
    action: SplineAction<D>,
    cond_dim: usize,
    config: SplineAmortiserConfig,
}

impl<D: TensorDevice<f32>> SplineAmortiser<D> {
    /// A freshly initialised amortiser for `action`'s path family, taking `cond_dim` condition
    /// features (0 for none), with the network drawn from `action`'s device.
    pub fn new(action: SplineAction<D>, cond_dim: usize, config: SplineAmortiserConfig) -> Result<Self> {
        if !(config.early_stop_threshold.is_finite() && config.early_stop_threshold >= 0.0) {
            return Err(Error::InvalidArgument(format!(
                "early_stop_threshold must be finite and >= 0, got {}",
                config.early_stop_threshold
            )));
        }
        let net = Mlp::builder(2 * action.dim() + cond_dim)
            .hidden(&config.hidden)
            .output(action.num_params())
            .activation(config.activation)
            .build(action.device())?;
        let adam = Adam::new(config.adam)?;
        Ok(SplineAmortiser {
            net,
            adam,
            action,
            cond_dim,
            config,
        })
    }

    /// The network.
    pub fn net(&self) -> &Mlp<D> {
        &self.net
    }

    /// Writes the network's weights to `path` (`.npz`, atomically; see [`crate::nn::save_params`]).
    /// The optimiser's moments are not saved: a loaded amortiser predicts exactly as the saved one,
    /// and training it further starts with fresh moments.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        crate::nn::save_params(&self.net, path)
    }

    /// Loads weights that [`save`](Self::save) wrote for an amortiser of the same widths.
    pub fn load(&mut self, path: impl AsRef<std::path::Path>) -> Result<()> {
        crate::nn::load_params(&mut self.net, path)
    }

    /// The action whose path family it predicts and whose energy it minimises.
    pub fn action(&self) -> &SplineAction<D> {
        &self.action
    }

    /// The settings.
    pub fn config(&self) -> &SplineAmortiserConfig {
        &self.config
    }

    /// Optimiser steps taken so far.
    pub fn steps_taken(&self) -> usize {
        self.adam.steps_taken()
    }

    /// The predicted spline parameters `[B, num_params]` for the pairs.
    pub fn predict(&self, pairs: &PathPairs) -> Result<Array2<f32>> {
        let input = self.input(pairs)?;
        Ok(tensor_to_array(&self.net.forward(input)?))
    }

    /// The cost of the predicted path of every pair, `[B]` (NLOT's `c(x, y)`).
    pub fn cost<M: Metric<D>, P: Potential<D>>(
        &self,
        lagrangian: &Lagrangian<M, P>,
        pairs: &PathPairs,
    ) -> Result<Array1<f32>> {
        let params = self.predict(pairs)?;
        self.action
            .cost_array(lagrangian, &pairs.x, &pairs.y, &params, pairs.cond.as_ref())
    }

    /// One optimiser step on the mean path energy of `pairs`; a non-finite loss is
    /// [`Error::Diverged`] and leaves the network unchanged.
    pub fn step<M: Metric<D>, P: Potential<D>>(
        &mut self,
        lagrangian: &Lagrangian<M, P>,
        pairs: &PathPairs,
    ) -> Result<AmortiserStep> {
        let dev = self.action.device().clone();
        let input = self.input(pairs)?;
        let x = array_to_tensor(&dev, &pairs.x, "amortiser start points")?;
        let y = array_to_tensor(&dev, &pairs.y, "amortiser end points")?;
        let cond = pairs
            .cond
            .as_ref()
            .map(|c| array_to_tensor(&dev, c, "amortiser condition"))
            .transpose()?;
        let params = self.net.forward(traced(&input))?;
        let energy = self
            .action
            .path_energy(lagrangian, traced(&x), traced(&y), params, cond.as_ref())?;
        let loss = energy.mean::<Rank0, _>();
        let value = loss.as_vec()[0];
        check_loss(self.adam.steps_taken(), value)?;
        let mut grads = loss.backward();
        let gradients: Vec<Param<D>> = self.net.gradients(&mut grads)?;
        // Parameters run weight, bias per layer; flax's tree order puts the first layer's bias first.
        let first_bias_grad_norm = gradients.get(1).map_or(0.0, |g| {
            (g.clone().square().sum::<Rank0, _>().as_vec()[0] as f64).sqrt()
        });
        let stats = self.adam.step_with(&mut self.net, &gradients)?;
        Ok(AmortiserStep {
            loss: value,
            grad_norm: stats.grad_norm,
            first_bias_grad_norm,
        })
    }

    /// Up to `max_steps` steps on the same `pairs`, with the early-stop rule.
    pub fn fit<M: Metric<D>, P: Potential<D>>(
        &mut self,
        lagrangian: &Lagrangian<M, P>,
        pairs: &PathPairs,
        max_steps: usize,
    ) -> Result<AmortiserFit> {
        self.fit_with(lagrangian, max_steps, |_| Ok(pairs.clone()))
    }

    /// Up to `max_steps` steps, step `k` on the pairs `batches(k)` (fresh samples each step, as the
    /// reference's pre-fit and refits draw), with the early-stop rule.
    pub fn fit_with<M: Metric<D>, P: Potential<D>>(
        &mut self,
        lagrangian: &Lagrangian<M, P>,
        max_steps: usize,
        mut batches: impl FnMut(usize) -> Result<PathPairs>,
    ) -> Result<AmortiserFit> {
        let mut losses = Vec::with_capacity(max_steps);
        let mut smoothed: Option<f64> = None;
        for k in 0..max_steps {
            let pairs = batches(k)?;
            let step = self.step(lagrangian, &pairs)?;
            losses.push(step.loss);
            let g = step.first_bias_grad_norm;
            let m = smoothed.map_or(g, |m| 0.9 * g + 0.1 * m);
            smoothed = Some(m);
            if m < self.config.early_stop_threshold {
                return Ok(AmortiserFit {
                    steps: k + 1,
                    losses,
                    stopped_early: k + 1 < max_steps,
                });
            }
        }
        Ok(AmortiserFit {
            steps: max_steps,
            losses,
            stopped_early: false,
        })
    }

    /// The network input `[x, y, cond]` on the device, after checking the pairs.
    fn input(&self, pairs: &PathPairs) -> Result<crate::nn::Tensor2<D>> {
        let joined = joined_input(pairs, self.action.dim(), self.cond_dim)?;
        array_to_tensor(self.action.device(), &joined, "amortiser input")
    }

    /// A host copy of the network at its current weights, for many predictions while they stay
    /// fixed (the evaluations of one c-transform solve); see [`FrozenAmortiser`].
    pub fn frozen(&self) -> FrozenAmortiser {
        FrozenAmortiser {
            net: HostMlp::snapshot(&self.net).with_blas(),
            dim: self.action.dim(),
            cond_dim: self.cond_dim,
        }
    }
}

impl<D: TensorDevice<f32>> Trainable<D> for SplineAmortiser<D> {
    fn params(&self) -> Vec<&Param<D>> {
        self.net.params()
    }
    fn params_mut(&mut self) -> Vec<&mut Param<D>> {
        self.net.params_mut()
    }
}

/// [`SplineAmortiser::predict`] at frozen weights, on the host with the layers through OpenBLAS
/// ([`HostMlp::with_blas`]): the same parameters up to f32 rounding, at several times the throughput
/// for the reference's 1024-wide network. Made by [`SplineAmortiser::frozen`].
#[derive(Debug, Clone)]
pub struct FrozenAmortiser {
    net: HostMlp,
    dim: usize,
    cond_dim: usize,
}

impl FrozenAmortiser {
    /// The predicted spline parameters `[B, num_params]` for the pairs (errors as
    /// [`SplineAmortiser::predict`]).
    pub fn predict(&self, pairs: &PathPairs) -> Result<Array2<f32>> {
        self.net.forward(&joined_input(pairs, self.dim, self.cond_dim)?)
    }
}

/// The network input `[x, y, cond]` of `pairs`, checked against the point and condition widths.
fn joined_input(pairs: &PathPairs, d: usize, cond_dim: usize) -> Result<Array2<f32>> {
    let b = pairs.x.nrows();
    if b == 0 {
        return Err(Error::Empty("amortiser pairs".into()));
    }
    let cond_ok = match &pairs.cond {
        Some(c) => c.dim() == (b, cond_dim),
        None => cond_dim == 0,
    };
    if pairs.x.ncols() != d || pairs.y.dim() != (b, d) || !cond_ok {
        return Err(Error::shape(
            "SplineAmortiser pairs",
            format!("x [B, {d}], y [B, {d}], cond [B, {cond_dim}]"),
            format!(
                "x {:?}, y {:?}, cond {:?}",
                pairs.x.dim(),
                pairs.y.dim(),
                pairs.cond.as_ref().map(|c| c.dim())
            ),
        ));
    }
    let mut parts = vec![pairs.x.view(), pairs.y.view()];
    if let Some(c) = &pairs.cond {
        parts.push(c.view());
    }
    concatenate(Axis(1), &parts).map_err(|e| Error::shape("amortiser input", "", e.to_string()))
}

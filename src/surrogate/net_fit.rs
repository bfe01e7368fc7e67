//! What the two network baselines (direct regression, flow matching) share: the input layout
//! `[y, x, τ]`, the time normalisation, minibatch draws and one Adam step on a mean-squared error.

use dfdx::prelude::*;
use ndarray::{concatenate, Array2, ArrayView2, Axis};
use rand::Rng;

use crate::device::{default_device, Device};
use crate::error::Result;
use crate::nn::{array_to_tensor, check_loss, traced, Activation, Adam, Mlp};

/// `τ = (t − t_0)/(t_{K−1} − t_0)`: the networks see time on `[0, 1]` whatever the anchor spacing,
/// so one default learning rate suits hyperparameters of any scale.
pub(crate) fn normalised_time(times: &[f32], t: f32) -> f32 {
    let (lo, hi) = (times[0], times[times.len() - 1]);
    (t - lo) / (hi - lo)
}

/// Network input rows `[y, x, τ]`, one `τ` per row.
pub(crate) fn network_input(y: ArrayView2<'_, f32>, cond: ArrayView2<'_, f32>, tau: &[f32]) -> Array2<f32> {
    let tau = Array2::from_shape_vec((tau.len(), 1), tau.to_vec()).expect("one time per row");
    concatenate(Axis(1), &[y, cond, tau.view()]).expect("input blocks share their row count")
}

/// An MLP with `in_dim` inputs and `out_dim` outputs, weights drawn from `seed`.
pub(crate) fn build_net(
    in_dim: usize,
    out_dim: usize,
    hidden: &[usize],
    activation: Activation,
    seed: u64,
) -> Result<Mlp> {
    let dev: Device = default_device(seed);
    Mlp::builder(in_dim)
        .hidden(hidden)
        .output(out_dim)
        .activation(activation)
        .build(&dev)
}

/// `count` row indices of `0..n`, distinct when `count ≤ n` (a plain minibatch), otherwise drawn
/// with replacement (a small class asked for more rows than it has).
pub(crate) fn draw_rows(rng: &mut impl Rng, n: usize, count: usize) -> Vec<usize> {
    if count <= n {
        rand::seq::index::sample(rng, n, count).into_vec()
    } else {
        (0..count).map(|_| rng.gen_range(0..n)).collect()
    }
}

/// One Adam step on `mean((net(input) − target)²)`; returns the loss before the step.
/// A non-finite loss is [`crate::Error::Diverged`] at `step`.
pub(crate) fn mse_step(
    net: &mut Mlp,
    adam: &mut Adam,
    input: &Array2<f32>,
    target: &Array2<f32>,
    step: usize,
) -> Result<f32> {
    let dev = net.device().clone();
    let x = array_to_tensor(&dev, input, "network input")?;
    let y = array_to_tensor(&dev, target, "network target")?;
    let loss = (net.forward(traced(&x))? - y).square().mean::<Rank0, _>();
    let value = loss.array();
    check_loss(step, value)?;
    let mut grads = loss.backward();
    adam.step(net, &mut grads)?;
    Ok(value)
}

/// The chainable setters shared by the settings of the network-trained baselines (every field but
/// the method's own ones): one definition for [`RegressionSettings`](super::RegressionSettings) and
/// [`FlowMatchingSettings`](super::FlowMatchingSettings).
macro_rules! network_setters {
    ($settings:ty) => {
        impl $settings {
            /// Sets the hidden widths.
            pub fn hidden(mut self, widths: &[usize]) -> Self {
                self.hidden = widths.to_vec();
                self
            }

            /// Sets the hidden activation.
            pub fn activation(mut self, activation: $crate::nn::Activation) -> Self {
                self.activation = activation;
                self
            }

            /// Sets the number of Adam steps.
            pub fn iterations(mut self, iterations: usize) -> Self {
                self.iterations = iterations;
                self
            }

            /// Sets the samples per anchor (or pairs) in a step.
            pub fn batch_size(mut self, batch_size: usize) -> Self {
                self.batch_size = batch_size;
                self
            }

            /// Sets the learning rate.
            pub fn learning_rate(mut self, learning_rate: f64) -> Self {
                self.learning_rate = learning_rate;
                self
            }

            /// Sets the weight of continuous conditions in the coupling cost.
            pub fn condition_weight(mut self, condition_weight: f32) -> Self {
                self.condition_weight = condition_weight;
                self
            }

            /// Sets the seed.
            pub fn seed(mut self, seed: u64) -> Self {
                self.seed = seed;
                self
            }
        }
    };
}
pub(super) use network_setters;

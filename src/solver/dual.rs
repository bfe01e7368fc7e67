//! The two network updates every neural-dual solver here shares (NLOT Algorithm 1 and its per-pair
//! use in metric learning): the Kantorovich potential's step given c-transform targets (Danskin), and
//! the amortised map's regression on those targets.

use crate::device::Device;
use crate::error::{Error, Result};
use crate::nn::{array_to_tensor, check_loss, traced, Adam, Mlp};
use dfdx::prelude::*;
use ndarray::{concatenate, Array1, Array2, Axis};

/// T(x) = x + net(x) on host arrays.
/// T(x) = x + net(x).
pub(crate) fn apply_map(net: &Mlp<Device>, x: &Array2<f32>) -> Result<Array2<f32>> {
    Ok(net.forward_array(x)? + x)
}

/// One AdamW step on g for the negated dual, i.e. on mean g(ŷ) − mean g(y) (Danskin: ŷ is a
/// constant); returns the dual objective mean[c(x, ŷ) − g(ŷ)] + mean g(y) before the step, given
/// `value` = c(x, ŷ) − g(ŷ).
pub(crate) fn dual_step(
    dev: &Device,
    g: &mut Mlp<Device>,
    adam: &mut Adam<Device>,
    y_hat: &Array2<f32>,
    value: &Array1<f32>,
    y: &Array2<f32>,
    step: usize,
) -> Result<f64> {
    let (n_hat, n) = (y_hat.nrows(), y.nrows());
    let stacked = concatenate(Axis(0), &[y_hat.view(), y.view()])
        .map_err(|e| Error::shape("dual batch", "equal widths", e.to_string()))?;
    let weights: Vec<f32> = std::iter::repeat_n(1.0 / n_hat as f32, n_hat)
        .chain(std::iter::repeat_n(-1.0 / n as f32, n))
        .collect();
    let weights = dev.tensor_from_vec(weights, (n_hat + n, 1));
    let values = g.forward(traced(&array_to_tensor(dev, &stacked, "dual batch")?))?;
    let mean_g_y = values.as_vec()[n_hat..].iter().map(|&v| v as f64).sum::<f64>() / n as f64;
    let loss = (values * weights).sum::<Rank0, _>();
    check_loss(step, loss.array())?;
    let mut grads = loss.backward();
    adam.step(g, &mut grads)?;
    Ok(mean(value) + mean_g_y)
}

/// One AdamW step regressing T(x) = x + net(x) on ŷ; returns the loss before the step.
pub(crate) fn map_step(
    dev: &Device,
    t: &mut Mlp<Device>,
    adam: &mut Adam<Device>,
    x: &Array2<f32>,
    y_hat: &Array2<f32>,
    step: usize,
) -> Result<f64> {
    let x_t = array_to_tensor(dev, x, "map input")?;
    let target = array_to_tensor(dev, y_hat, "map target")?;
    let loss = (t.forward(traced(&x_t))? + x_t - target)
        .square()
        .mean::<Rank0, _>();
    let value = loss.array();
    check_loss(step, value)?;
    let mut grads = loss.backward();
    adam.step(t, &mut grads)?;
    Ok(value as f64)
}

/// The mean of `values` in f64 (0 for none).
pub(crate) fn mean(values: &Array1<f32>) -> f64 {
    values.iter().map(|&v| v as f64).sum::<f64>() / values.len().max(1) as f64
}

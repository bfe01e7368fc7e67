//! The two network updates every neural-dual solver here shares (NLOT Algorithm 1, its per-pair use
//! in metric learning, and HTI's per-interval conditional duals): the Kantorovich potential's step
//! given c-transform targets (Danskin), and the amortised map's regression on those targets.
//!
//! The networks are either plain MLPs (unconditional) or FiLM MLPs f(y | x); [`DualNet`] lets one
//! piece of code train both.

use crate::device::Device;
use crate::error::{Error, Result};
use crate::nn::{
    array_to_tensor, check_loss, tensor_to_array, traced, Adam, ConditionalMlp, Mlp, Taped, Tensor2,
    Trainable,
};
use dfdx::prelude::*;
use ndarray::{concatenate, Array1, Array2, Axis};

/// A network f(y | x) a dual solver trains: a potential (one output) or a residual map (d outputs).
pub(crate) trait DualNet: Trainable<Device> {
    /// f on a taped batch; `cond` holds one condition row per input row (`None`: unconditional).
    fn forward_taped(
        &self,
        y: Tensor2<Device, Taped<Device>>,
        cond: Option<&Tensor2<Device>>,
    ) -> Result<Tensor2<Device, Taped<Device>>>;
    /// f on a host batch, without a tape.
    fn forward_host(&self, y: &Array2<f32>, cond: Option<&Array2<f32>>) -> Result<Array2<f32>>;
}

fn unexpected_condition(what: &str) -> Error {
    Error::InvalidArgument(format!("{what} is unconditional but was given conditions"))
}

impl DualNet for Mlp<Device> {
    fn forward_taped(
        &self,
        y: Tensor2<Device, Taped<Device>>,
        cond: Option<&Tensor2<Device>>,
    ) -> Result<Tensor2<Device, Taped<Device>>> {
        match cond {
            Some(c) if c.shape().1 > 0 => Err(unexpected_condition("this MLP")),
            _ => self.forward(y),
        }
    }
    fn forward_host(&self, y: &Array2<f32>, cond: Option<&Array2<f32>>) -> Result<Array2<f32>> {
        match cond {
            Some(c) if c.ncols() > 0 => Err(unexpected_condition("this MLP")),
            _ => self.forward_array(y),
        }
    }
}

impl DualNet for ConditionalMlp<Device> {
    fn forward_taped(
        &self,
        y: Tensor2<Device, Taped<Device>>,
        cond: Option<&Tensor2<Device>>,
    ) -> Result<Tensor2<Device, Taped<Device>>> {
        self.forward(y, cond)
    }
    fn forward_host(&self, y: &Array2<f32>, cond: Option<&Array2<f32>>) -> Result<Array2<f32>> {
        self.forward_array(y, cond)
    }
}

/// Uploads an optional host condition.
fn upload_condition(dev: &Device, cond: Option<&Array2<f32>>) -> Result<Option<Tensor2<Device>>> {
    cond.map(|c| array_to_tensor(dev, c, "condition")).transpose()
}

/// T(y | x) = y + net(y | x) on host arrays.
pub(crate) fn apply_map<N: DualNet>(
    net: &N,
    y: &Array2<f32>,
    cond: Option<&Array2<f32>>,
) -> Result<Array2<f32>> {
    Ok(net.forward_host(y, cond)? + y)
}

/// g(y | x) and ∇_y g for every row, by one taped pass (weights frozen).
pub(crate) fn value_and_gradient<N: DualNet>(
    dev: &Device,
    net: &N,
    y: &Array2<f32>,
    cond: Option<&Array2<f32>>,
) -> Result<(Array1<f32>, Array2<f32>)> {
    let input = array_to_tensor(dev, y, "potential input")?;
    let cond = upload_condition(dev, cond)?;
    let out = net.forward_taped(traced(&input), cond.as_ref())?;
    let values = Array1::from(out.as_vec());
    let grads = out.sum::<Rank0, _>().backward();
    Ok((values, tensor_to_array(&grads.get(&input))))
}

fn join(a: &Array2<f32>, b: &Array2<f32>, what: &str) -> Result<Array2<f32>> {
    concatenate(Axis(0), &[a.view(), b.view()]).map_err(|e| Error::shape(what, "equal widths", e.to_string()))
}

/// One AdamW step on g for the negated dual, i.e. on mean g(ŷ) − mean g(y) (Danskin: ŷ is a
/// constant); returns the dual objective mean[c(x, ŷ) − g(ŷ)] + mean g(y) before the step, given
/// `value` = c(x, ŷ) − g(ŷ). `cond_hat` and `cond_y` are the conditions of ŷ and y (both or neither).
#[allow(clippy::too_many_arguments)]
pub(crate) fn dual_step<N: DualNet>(
    dev: &Device,
    g: &mut N,
    adam: &mut Adam<Device>,
    y_hat: &Array2<f32>,
    cond_hat: Option<&Array2<f32>>,
    value: &Array1<f32>,
    y: &Array2<f32>,
    cond_y: Option<&Array2<f32>>,
    step: usize,
) -> Result<f64> {
    let (n_hat, n) = (y_hat.nrows(), y.nrows());
    let stacked = join(y_hat, y, "dual batch")?;
    let cond = match (cond_hat, cond_y) {
        (Some(a), Some(b)) => Some(join(a, b, "dual batch conditions")?),
        (None, None) => None,
        _ => {
            return Err(Error::InvalidArgument(
                "dual step: conditions for only one batch".into(),
            ))
        }
    };
    let cond = upload_condition(dev, cond.as_ref())?;
    let weights: Vec<f32> = std::iter::repeat_n(1.0 / n_hat as f32, n_hat)
        .chain(std::iter::repeat_n(-1.0 / n as f32, n))
        .collect();
    let weights = dev.tensor_from_vec(weights, (n_hat + n, 1));
    let values = g.forward_taped(
        traced(&array_to_tensor(dev, &stacked, "dual batch")?),
        cond.as_ref(),
    )?;
    let mean_g_y = values.as_vec()[n_hat..].iter().map(|&v| v as f64).sum::<f64>() / n as f64;
    let loss = (values * weights).sum::<Rank0, _>();
    check_loss(step, loss.array())?;
    let mut grads = loss.backward();
    adam.step(g, &mut grads)?;
    Ok(mean(value) + mean_g_y)
}

/// One AdamW step regressing T(y | x) = y + net(y | x) on ŷ; returns the loss before the step.
pub(crate) fn map_step<N: DualNet>(
    dev: &Device,
    t: &mut N,
    adam: &mut Adam<Device>,
    y: &Array2<f32>,
    cond: Option<&Array2<f32>>,
    y_hat: &Array2<f32>,
    step: usize,
) -> Result<f64> {
    let y_t = array_to_tensor(dev, y, "map input")?;
    let target = array_to_tensor(dev, y_hat, "map target")?;
    let cond = upload_condition(dev, cond)?;
    let loss = (t.forward_taped(traced(&y_t), cond.as_ref())? + y_t - target)
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

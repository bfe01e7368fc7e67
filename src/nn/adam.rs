//! Adam with decoupled weight decay (AdamW), global-norm gradient clipping and a learning-rate
//! schedule, for any [`Trainable`] model.
//!
//! dfdx's own optimisers only accept modules with compile-time widths; this one works on the
//! runtime-shaped parameter list. Moments stay on the device and parameters are updated in place
//! (their ids, and so the gradient bookkeeping, stay valid across steps).

use std::f64::consts::PI;

use dfdx::shapes::HasShape;
use dfdx::tensor::Gradients;
use serde::{Deserialize, Serialize};

use super::{device_error, sum_squares, Param, TensorDevice, Trainable};
use crate::error::{Error, Result};

/// Learning rate as a function of the optimiser step (counted from 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum LrSchedule {
    /// The same rate at every step.
    Constant(f64),
    /// Linear warmup then cosine decay:
    /// `lr(s) = peak · (s + 1) / warmup_steps` for `s < warmup_steps`, then
    /// `lr(s) = end + (peak − end) · (1 + cos(π p)) / 2` with
    /// `p = min(1, (s − warmup_steps) / (total_steps − warmup_steps))`; `end` after `total_steps`.
    WarmupCosine {
        /// The rate reached at the end of the warmup.
        peak: f64,
        /// The rate at and after `total_steps`.
        end: f64,
        /// Steps of linear warmup (0 for none).
        warmup_steps: usize,
        /// Steps until the decay reaches `end`, warmup included.
        total_steps: usize,
    },
}

impl LrSchedule {
    /// Cosine decay from `peak` to `end` over `total_steps`, after `warmup_steps` of linear warmup.
    pub fn warmup_cosine(peak: f64, end: f64, warmup_steps: usize, total_steps: usize) -> Self {
        LrSchedule::WarmupCosine {
            peak,
            end,
            warmup_steps,
            total_steps,
        }
    }

    /// The learning rate at optimiser step `step` (0-based).
    ///
    /// ```
    /// use lagrangian_ot::nn::LrSchedule;
    /// let s = LrSchedule::warmup_cosine(1.0, 0.0, 10, 110);
    /// assert_eq!(s.lr_at(0), 0.1);
    /// assert_eq!(s.lr_at(10), 1.0);
    /// assert!((s.lr_at(60) - 0.5).abs() < 1e-12);
    /// assert_eq!(s.lr_at(500), 0.0);
    /// ```
    pub fn lr_at(&self, step: usize) -> f64 {
        match *self {
            LrSchedule::Constant(lr) => lr,
            LrSchedule::WarmupCosine {
                peak,
                end,
                warmup_steps,
                total_steps,
            } => {
                if step < warmup_steps {
                    return peak * (step + 1) as f64 / warmup_steps as f64;
                }
                let span = total_steps.saturating_sub(warmup_steps).max(1) as f64;
                let progress = ((step - warmup_steps) as f64 / span).min(1.0);
                end + (peak - end) * 0.5 * (1.0 + (PI * progress).cos())
            }
        }
    }

    fn validate(&self) -> Result<()> {
        let rate_ok = |lr: f64| lr.is_finite() && lr >= 0.0;
        match *self {
            LrSchedule::Constant(lr) if rate_ok(lr) => Ok(()),
            LrSchedule::WarmupCosine {
                peak,
                end,
                warmup_steps,
                total_steps,
            } if rate_ok(peak) && rate_ok(end) && total_steps > warmup_steps => Ok(()),
            other => Err(Error::InvalidArgument(format!(
                "learning-rate schedule {other:?}: rates must be finite and >= 0, total_steps > warmup_steps"
            ))),
        }
    }
}

/// Hyperparameters of [`Adam`]. Defaults follow PyTorch/optax: betas (0.9, 0.999), eps 1e-8, no
/// weight decay, no clipping.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamConfig {
    /// The learning rate per step.
    pub schedule: LrSchedule,
    /// Decay rates of the first and second moment estimates.
    pub betas: [f64; 2],
    /// Added to `√v̂` in the denominator.
    pub eps: f64,
    /// Decoupled (AdamW) weight decay: each step multiplies parameters by `1 − lr · weight_decay`.
    pub weight_decay: f64,
    /// Rescale the gradients so their global L2 norm (over all parameters) is at most this.
    pub clip_grad_norm: Option<f64>,
}

impl AdamConfig {
    /// Plain Adam with a constant learning rate.
    pub fn with_lr(lr: f64) -> Self {
        AdamConfig {
            schedule: LrSchedule::Constant(lr),
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.0,
            clip_grad_norm: None,
        }
    }

    /// Sets the learning-rate schedule.
    pub fn schedule(mut self, schedule: LrSchedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// Sets the moment decay rates.
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.betas = [beta1, beta2];
        self
    }

    /// Sets the denominator offset.
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Sets the decoupled weight decay (AdamW).
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Clips the global gradient norm to `max_norm`.
    pub fn clip_grad_norm(mut self, max_norm: f64) -> Self {
        self.clip_grad_norm = Some(max_norm);
        self
    }

    fn validate(&self) -> Result<()> {
        self.schedule.validate()?;
        let [b1, b2] = self.betas;
        let problem = if !((0.0..1.0).contains(&b1) && (0.0..1.0).contains(&b2)) {
            Some(format!("betas must lie in [0, 1), got {:?}", self.betas))
        } else if !(self.eps.is_finite() && self.eps > 0.0) {
            Some(format!("eps must be positive, got {}", self.eps))
        } else if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            Some(format!("weight_decay must be >= 0, got {}", self.weight_decay))
        } else if self.clip_grad_norm.is_some_and(|c| !(c.is_finite() && c > 0.0)) {
            Some(format!(
                "clip_grad_norm must be positive, got {:?}",
                self.clip_grad_norm
            ))
        } else {
            None
        };
        problem.map_or(Ok(()), |p| Err(Error::InvalidArgument(format!("Adam: {p}"))))
    }
}

/// What one optimiser step did (for logging).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// The 0-based index of the step just taken.
    pub step: usize,
    /// The learning rate used.
    pub lr: f64,
    /// Global L2 norm of the gradient before clipping.
    pub grad_norm: f64,
    /// Whether the gradient was rescaled by clipping.
    pub clipped: bool,
}

/// The Adam optimiser (AdamW when weight decay is set). The moment estimates are created at the
/// first step from the model's parameter shapes; later steps must see the same parameter list.
///
/// Per parameter `p` with gradient `g` (after clipping), at step `t = 1, 2, …`:
/// `m ← β₁ m + (1 − β₁) g`, `v ← β₂ v + (1 − β₂) g²`,
/// `p ← (1 − lr·wd) p − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)`.
#[derive(Debug, Clone)]
pub struct Adam<D: TensorDevice<f32> = crate::device::Device> {
    config: AdamConfig,
    steps_taken: usize,
    moments: Vec<(Param<D>, Param<D>)>,
}

impl<D: TensorDevice<f32>> Adam<D> {
    /// An optimiser with validated hyperparameters; bad values are [`Error::InvalidArgument`].
    pub fn new(config: AdamConfig) -> Result<Self> {
        config.validate()?;
        Ok(Adam {
            config,
            steps_taken: 0,
            moments: Vec::new(),
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// How many steps have been taken.
    pub fn steps_taken(&self) -> usize {
        self.steps_taken
    }

    /// Forgets the moments and the step count (the next step starts afresh).
    pub fn reset(&mut self) {
        self.steps_taken = 0;
        self.moments.clear();
    }

    /// One step on `model` with the gradients of `loss.backward()`. Parameters the loss did not
    /// touch get a zero gradient (weight decay and momentum still apply). A non-finite gradient
    /// norm is an [`Error::NonFinite`] and leaves the model unchanged.
    pub fn step<M: Trainable<D> + ?Sized>(
        &mut self,
        model: &mut M,
        grads: &mut Gradients<f32, D>,
    ) -> Result<StepStats> {
        let gradients = model.gradients(grads)?;
        self.step_with(model, &gradients)
    }

    /// One step with explicit gradients, one per parameter in [`Trainable::params`] order.
    pub fn step_with<M: Trainable<D> + ?Sized>(
        &mut self,
        model: &mut M,
        gradients: &[Param<D>],
    ) -> Result<StepStats> {
        let mut params = model.params_mut();
        self.check_shapes(&params, gradients)?;
        if self.moments.is_empty() {
            self.moments = params
                .iter()
                .map(|p| {
                    let dev = p.device();
                    Ok((
                        dev.try_zeros_like(p.shape()).map_err(device_error)?,
                        dev.try_zeros_like(p.shape()).map_err(device_error)?,
                    ))
                })
                .collect::<Result<_>>()?;
        }

        let grad_norm = global_norm(gradients);
        if !grad_norm.is_finite() {
            return Err(Error::NonFinite(format!(
                "gradient at optimiser step {}",
                self.steps_taken
            )));
        }
        let scale = match self.config.clip_grad_norm {
            Some(max_norm) if grad_norm > max_norm => max_norm / grad_norm,
            _ => 1.0,
        };

        let [b1, b2] = self.config.betas;
        let t = (self.steps_taken + 1) as i32;
        let lr = self.config.schedule.lr_at(self.steps_taken);
        let (bias1, bias2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
        let eps = self.config.eps as f32;
        for ((param, grad), (m, v)) in params.iter_mut().zip(gradients).zip(self.moments.iter_mut()) {
            m.axpy(b1, grad, (1.0 - b1) * scale);
            v.axpy(b2, &grad.clone().square(), (1.0 - b2) * scale * scale);
            let denominator = v.clone().sqrt() * (1.0 / bias2.sqrt()) as f32 + eps;
            let direction = m.clone() / denominator;
            param.axpy(1.0 - lr * self.config.weight_decay, &direction, -lr / bias1);
        }
        let stats = StepStats {
            step: self.steps_taken,
            lr,
            grad_norm,
            clipped: scale < 1.0,
        };
        self.steps_taken += 1;
        Ok(stats)
    }

    fn check_shapes(&self, params: &[&mut Param<D>], gradients: &[Param<D>]) -> Result<()> {
        let shapes = |it: &mut dyn Iterator<Item = (usize, usize)>| it.collect::<Vec<_>>();
        let param_shapes = shapes(&mut params.iter().map(|p| *p.shape()));
        let grad_shapes = shapes(&mut gradients.iter().map(|g| *g.shape()));
        if param_shapes != grad_shapes {
            return Err(Error::shape(
                "Adam::step gradients",
                format!("{param_shapes:?}"),
                format!("{grad_shapes:?}"),
            ));
        }
        if !self.moments.is_empty() {
            let moment_shapes = shapes(&mut self.moments.iter().map(|(m, _)| *m.shape()));
            if moment_shapes != param_shapes {
                return Err(Error::shape(
                    "Adam::step (model differs from the one the optimiser was used with)",
                    format!("{moment_shapes:?}"),
                    format!("{param_shapes:?}"),
                ));
            }
        }
        Ok(())
    }
}

/// The L2 norm of all gradients together (a list in [`Trainable::params`] order); the partial sums
/// stay on the device and a single scalar is copied back.
pub fn global_norm<D: TensorDevice<f32>>(gradients: &[Param<D>]) -> f64 {
    let total = gradients.iter().map(sum_squares).reduce(|a, b| a + b);
    total.map_or(0.0, |t| (t.as_vec()[0] as f64).sqrt())
}

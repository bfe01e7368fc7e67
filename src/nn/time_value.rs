//! A value function s(t, x) of time and space, with ∂ₜs, ∇ₓs and ∂ₜ∇ₓs as taped tensor ops
//! (HOTA's `MLPwTime`, spec `hota.md` §3).
//!
//! s(t, x) = MLP(w(t) ⊙ (x W_x + b_x) + b(t)), where the FiLM scale w(t) and shift b(t) are affine in
//! the time features φ(t) = [sin(k t)/k, cos(k t)/k], k = 1 … F − 1 (dividing by k bounds ∂ₜφ), and
//! the MLP has leaky-ReLU hidden layers and a scalar output.
//!
//! HJB residuals need ∂ₜs, ∇ₓs and ∂ₜ∇ₓs inside a loss that is differentiated with respect to the
//! weights, and dfdx has no double backward. The trunk is piecewise linear, so its input gradient
//! g₀ = ∇_{z₀}MLP depends on the activation pattern only and is constant in t and x between kinks.
//! With h = x W_x + b_x, ẇ = φ′(t) W_w and ḃ = φ′(t) W_b, exactly (away from the measure-zero kinks):
//!
//! - ∇ₓs = (w ⊙ g₀) W_xᵀ,
//! - ∂ₜs = ⟨g₀, ẇ ⊙ h + ḃ⟩,
//! - ∂ₜ∇ₓs = (ẇ ⊙ g₀) W_xᵀ,
//! - Δₓs = 0 and ∇ₓ(∇ₓs) = 0.
//!
//! [`TimeValueNet::derivatives`] builds these from ordinary tensor ops (g₀ by
//! [`Mlp::input_gradient`]), so `loss.backward()` reaches every weight. They are tested against
//! finite differences of [`TimeValueNet::forward`].

use dfdx::shapes::{Axes2, Axis, HasShape};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::{PermuteTo, SumTo, TryMatMul};
use ndarray::{Array1, Array2};

use super::{
    array_to_tensor, check_columns, tensor_to_array, Activation, Init, Linear, Mlp, Param, Tensor2,
    TensorDevice, Trainable,
};
use crate::error::{Error, Result};

/// One value per row, `[N]`, with tape `T`.
pub type Tensor1<D, T> = Tensor<(usize,), f32, D, T>;

/// HOTA's defaults for [`TimeValueNetBuilder`].
pub mod defaults {
    /// Time features use k = 1 … `MAX_FREQUENCY` − 1.
    pub const MAX_FREQUENCY: usize = 20;
    /// Width of the FiLM layer (`t_emb_dim`).
    pub const FILM_WIDTH: usize = 100;
    /// Hidden widths of the trunk.
    pub const HIDDEN: [usize; 3] = [512, 512, 512];
    /// Negative slope of the leaky ReLU.
    pub const LEAKY_SLOPE: f32 = 0.2;
}

/// Chainable configuration of a [`TimeValueNet`]; defaults are HOTA's (`hidden_layers=[512,512,512,1]`,
/// `max_freq=20`, `t_emb_dim=100`, `relu_slope=0.2`, LeCun-normal weights, zero biases).
#[derive(Debug, Clone, PartialEq)]
pub struct TimeValueNetBuilder {
    dim: usize,
    max_frequency: usize,
    film_width: usize,
    hidden: Vec<usize>,
    leaky_slope: f32,
    init: Init,
}

impl TimeValueNetBuilder {
    /// Hidden widths of the trunk (at least one layer).
    pub fn hidden(mut self, widths: &[usize]) -> Self {
        self.hidden = widths.to_vec();
        self
    }
    /// Width of the FiLM layer.
    pub fn film_width(mut self, width: usize) -> Self {
        self.film_width = width;
        self
    }
    /// Time features use frequencies k = 1 … `max_frequency` − 1 (at least 2).
    pub fn max_frequency(mut self, max_frequency: usize) -> Self {
        self.max_frequency = max_frequency;
        self
    }
    /// Negative slope of the leaky ReLU, in [0, 1).
    pub fn leaky_slope(mut self, slope: f32) -> Self {
        self.leaky_slope = slope;
        self
    }
    /// Weight initialisation of every layer.
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }
    /// Hidden widths of the trunk.
    pub fn widths(&self) -> &[usize] {
        &self.hidden
    }
    /// Dimension of x.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Builds the network on `dev` (weights from the device's seeded generator).
    pub fn build<D: TensorDevice<f32>>(&self, dev: &D) -> Result<TimeValueNet<D>> {
        if self.max_frequency < 2 {
            return Err(Error::InvalidArgument(format!(
                "TimeValueNet: max_frequency must be at least 2, got {}",
                self.max_frequency
            )));
        }
        if self.hidden.is_empty() {
            return Err(Error::InvalidArgument(
                "TimeValueNet: the trunk needs at least one hidden layer (its input gradient would not depend on the weights otherwise)".into(),
            ));
        }
        if !(0.0..1.0).contains(&self.leaky_slope) {
            return Err(Error::InvalidArgument(format!(
                "TimeValueNet: leaky slope must be in [0, 1), got {}",
                self.leaky_slope
            )));
        }
        let features = 2 * (self.max_frequency - 1);
        Ok(TimeValueNet {
            time_scale: Linear::new(dev, features, self.film_width, self.init)?,
            time_shift: Linear::new(dev, features, self.film_width, self.init)?,
            space: Linear::new(dev, self.dim, self.film_width, self.init)?,
            trunk: Mlp::builder(self.film_width)
                .hidden(&self.hidden)
                .output(1)
                .activation(Activation::LeakyReLU(self.leaky_slope))
                .init(self.init)
                .build(dev)?,
            max_frequency: self.max_frequency,
        })
    }
}

/// The time and space derivatives of s at a batch of (t, x), each with tape `T`.
pub struct ValueDerivatives<D: TensorDevice<f32>, T> {
    /// ∂ₜs, `[N]`.
    pub dt: Tensor1<D, T>,
    /// ∇ₓs, `[N, d]`.
    pub grad_x: Tensor2<D, T>,
    /// ∂ₜ∇ₓs, `[N, d]`.
    pub dt_grad_x: Tensor2<D, T>,
}

/// HOTA's value network s(t, x); see the module docs.
///
/// ```
/// use lagrangian_ot::nn::{TimeValueNet, NoneTape};
/// let dev = lagrangian_ot::device::default_device(0);
/// let net = TimeValueNet::builder(2).hidden(&[16, 16]).film_width(8).build(&dev)?;
/// let x = ndarray::array![[0.5f32, -1.0], [2.0, 0.0]];
/// let s = net.value_array(&[0.0, 1.0], &x)?;
/// let grad = net.gradient_array(&[0.0, 1.0], &x)?;
/// assert_eq!((s.len(), grad.dim()), (2, (2, 2)));
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct TimeValueNet<D: TensorDevice<f32> = crate::device::Device> {
    time_scale: Linear<D>,
    time_shift: Linear<D>,
    space: Linear<D>,
    trunk: Mlp<D>,
    max_frequency: usize,
}

impl TimeValueNet {
    /// Starts configuring a value network on `dim`-dimensional points.
    pub fn builder(dim: usize) -> TimeValueNetBuilder {
        TimeValueNetBuilder {
            dim,
            max_frequency: defaults::MAX_FREQUENCY,
            film_width: defaults::FILM_WIDTH,
            hidden: defaults::HIDDEN.to_vec(),
            leaky_slope: defaults::LEAKY_SLOPE,
            init: Init::LecunNormal,
        }
    }
}

impl<D: TensorDevice<f32>> TimeValueNet<D> {
    /// Dimension of x.
    pub fn dim(&self) -> usize {
        self.space.in_dim()
    }

    /// Hidden widths of the trunk.
    pub fn widths(&self) -> Vec<usize> {
        self.trunk.widths()
    }

    fn device(&self) -> &D {
        self.trunk.device()
    }

    /// φ(t) and φ′(t) for every time, `[N, 2(F − 1)]` each, on the device.
    fn time_features(&self, t: &[f32]) -> Result<(Tensor2<D>, Tensor2<D>)> {
        crate::error::ensure_finite("TimeValueNet times", t.iter())?;
        let (phi, dphi) = time_features_array(t, self.max_frequency);
        Ok((
            array_to_tensor(self.device(), &phi, "time features")?,
            array_to_tensor(self.device(), &dphi, "time feature derivatives")?,
        ))
    }

    fn check_batch(&self, context: &str, t: &[f32], x: &Tensor2<D>) -> Result<()> {
        check_columns(context, *x.shape(), self.dim())?;
        if t.len() != x.shape().0 {
            return Err(Error::shape(
                context,
                format!("{} times (one per row)", x.shape().0),
                format!("{} times", t.len()),
            ));
        }
        Ok(())
    }

    /// s(t, x), `[N, 1]`, recording on a fresh tape of type `T` (`NoneTape` for inference,
    /// [`crate::nn::Taped`] for a loss whose weight gradient is wanted).
    pub fn forward<T: Tape<f32, D> + Default>(&self, t: &[f32], x: &Tensor2<D>) -> Result<Tensor2<D, T>> {
        self.check_batch("TimeValueNet::forward", t, x)?;
        let (phi, _) = self.time_features(t)?;
        let scale = self.time_scale.affine(phi.retaped::<T>());
        let shift = self.time_shift.affine(phi.retaped::<T>());
        let film = scale * self.space.affine(x.retaped::<T>()) + shift;
        self.trunk.forward(film)
    }

    /// ∂ₜs, ∇ₓs and ∂ₜ∇ₓs at `(t, x)` on a fresh tape of type `T`; see the module docs.
    pub fn derivatives<T: Tape<f32, D> + Default>(
        &self,
        t: &[f32],
        x: &Tensor2<D>,
    ) -> Result<ValueDerivatives<D, T>> {
        self.check_batch("TimeValueNet::derivatives", t, x)?;
        let (phi, dphi, g0) = self.film_gradient::<T>(t, x)?;
        // g₀ is used three times; the copies share its id (their gradients add up) and only the
        // last use carries the trunk's recorded operations, so those run once in the backward pass.
        let g0_again = || g0.retaped::<T>();
        let scale_rate = || dphi.retaped::<T>().matmul(self.time_scale.weight.retaped::<T>());
        let shift_rate = dphi.retaped::<T>().matmul(self.time_shift.weight.retaped::<T>());
        let film_rate = scale_rate() * self.space.affine(x.retaped::<T>()) + shift_rate;
        let dt = (g0_again() * film_rate).sum::<(usize,), Axis<1>>();
        let grad_x = self.pull_back(self.time_scale.affine(phi.retaped::<T>()) * g0_again());
        let dt_grad_x = self.pull_back(scale_rate() * g0);
        Ok(ValueDerivatives {
            dt,
            grad_x,
            dt_grad_x,
        })
    }

    /// ∇ₓs(t, x) alone (what a rollout needs), on a fresh tape of type `T`.
    pub fn input_gradient<T: Tape<f32, D> + Default>(
        &self,
        t: &[f32],
        x: &Tensor2<D>,
    ) -> Result<Tensor2<D, T>> {
        self.check_batch("TimeValueNet::input_gradient", t, x)?;
        let (phi, _, g0) = self.film_gradient::<T>(t, x)?;
        Ok(self.pull_back(self.time_scale.affine(phi.retaped::<T>()) * g0))
    }

    /// The time features φ, φ′ and g₀ = ∇_{z₀}MLP at the FiLM output z₀ = w(t) ⊙ (x W_x + b_x) + b(t).
    #[allow(clippy::type_complexity)]
    fn film_gradient<T: Tape<f32, D> + Default>(
        &self,
        t: &[f32],
        x: &Tensor2<D>,
    ) -> Result<(Tensor2<D>, Tensor2<D>, Tensor2<D, T>)> {
        let (phi, dphi) = self.time_features(t)?;
        let film = self.time_scale.affine(phi.retaped::<T>()) * self.space.affine(x.retaped::<T>())
            + self.time_shift.affine(phi.retaped::<T>());
        let g0 = self.trunk.input_gradient(film)?;
        Ok((phi, dphi, g0))
    }

    /// A FiLM-space covector back to x-space: v ↦ v W_xᵀ.
    fn pull_back<T: Tape<f32, D>>(&self, v: Tensor2<D, T>) -> Tensor2<D, T> {
        v.matmul(self.space.weight.retaped::<T>().permute::<_, Axes2<1, 0>>())
    }

    /// A frozen host copy for fast gradient-only passes (rollouts).
    pub fn host_snapshot(&self) -> HostTimeValueNet {
        let row = |p: &Param<D>| tensor_to_array(p).row(0).to_owned();
        HostTimeValueNet {
            scale_weight: tensor_to_array(&self.time_scale.weight),
            scale_bias: row(&self.time_scale.bias),
            shift_weight: tensor_to_array(&self.time_shift.weight),
            shift_bias: row(&self.time_shift.bias),
            space_weight: tensor_to_array(&self.space.weight),
            space_bias: row(&self.space.bias),
            trunk: super::HostMlp::snapshot(&self.trunk),
            max_frequency: self.max_frequency,
        }
    }

    /// s(t, x) on the host, `[N]`.
    pub fn value_array(&self, t: &[f32], x: &Array2<f32>) -> Result<Array1<f32>> {
        let x = array_to_tensor(self.device(), x, "TimeValueNet points")?;
        let s = self.forward::<dfdx::tensor::NoneTape>(t, &x)?;
        Ok(tensor_to_array(&s).column(0).to_owned())
    }

    /// ∇ₓs(t, x) on the host, `[N, d]`.
    pub fn gradient_array(&self, t: &[f32], x: &Array2<f32>) -> Result<Array2<f32>> {
        let x = array_to_tensor(self.device(), x, "TimeValueNet points")?;
        Ok(tensor_to_array(
            &self.input_gradient::<dfdx::tensor::NoneTape>(t, &x)?,
        ))
    }

    /// Moves every parameter toward `other`'s: p ← (1 − rate)·p + rate·p_other (an EMA target).
    pub fn track(&mut self, other: &Self, rate: f32) -> Result<()> {
        if !(0.0..=1.0).contains(&rate) {
            return Err(Error::InvalidArgument(format!(
                "TimeValueNet::track: rate must be in [0, 1], got {rate}"
            )));
        }
        let sources = other.params();
        let mut targets = self.params_mut();
        if sources.len() != targets.len() {
            return Err(Error::shape(
                "TimeValueNet::track",
                format!("{} parameters", targets.len()),
                format!("{} parameters", sources.len()),
            ));
        }
        for (target, source) in targets.iter_mut().zip(sources) {
            if target.shape() != source.shape() {
                return Err(Error::shape(
                    "TimeValueNet::track",
                    format!("{:?}", target.shape()),
                    format!("{:?}", source.shape()),
                ));
            }
            target.axpy(1.0 - rate, source, rate);
        }
        Ok(())
    }
}

/// Frozen host weights of a [`TimeValueNet`] for rollouts, which need ∇ₓs thousands of times per
/// training step and no weight gradient: plain ndarray passes, split over row blocks on all cores,
/// without the tape bookkeeping. Tested against [`TimeValueNet::input_gradient`].
#[derive(Debug, Clone)]
pub struct HostTimeValueNet {
    scale_weight: Array2<f32>,
    scale_bias: Array1<f32>,
    shift_weight: Array2<f32>,
    shift_bias: Array1<f32>,
    space_weight: Array2<f32>,
    space_bias: Array1<f32>,
    trunk: super::HostMlp,
    max_frequency: usize,
}

/// Rows per parallel block of [`HostTimeValueNet::input_gradient`].
const HOST_BLOCK_ROWS: usize = 64;

impl HostTimeValueNet {
    /// ∇ₓs(t, x) for `x: [N, d]`, one time per row.
    pub fn input_gradient(&self, t: &[f32], x: &Array2<f32>) -> Result<Array2<f32>> {
        if x.ncols() != self.space_weight.nrows() || t.len() != x.nrows() {
            return Err(Error::shape(
                "HostTimeValueNet::input_gradient",
                format!("[N, {}] points with N times", self.space_weight.nrows()),
                format!("{:?} points, {} times", x.dim(), t.len()),
            ));
        }
        use rayon::prelude::*;
        let mut out = Array2::zeros(x.dim());
        out.axis_chunks_iter_mut(ndarray::Axis(0), HOST_BLOCK_ROWS)
            .into_par_iter()
            .zip(
                x.axis_chunks_iter(ndarray::Axis(0), HOST_BLOCK_ROWS)
                    .into_par_iter(),
            )
            .zip(t.par_chunks(HOST_BLOCK_ROWS))
            .try_for_each(|((mut out, x), t)| -> Result<()> {
                let phi = time_features_array(t, self.max_frequency).0;
                let scale = phi.dot(&self.scale_weight) + &self.scale_bias;
                let film = &scale * &(x.dot(&self.space_weight) + &self.space_bias)
                    + phi.dot(&self.shift_weight)
                    + &self.shift_bias;
                let (_, g0) = self.trunk.value_and_gradient(&film)?;
                out.assign(&(scale * g0).dot(&self.space_weight.t()));
                Ok(())
            })?;
        Ok(out)
    }
}

/// φ(t) = [sin(kt)/k, cos(kt)/k] and φ′(t) = [cos(kt), −sin(kt)], k = 1 … F − 1, one row per time.
fn time_features_array(t: &[f32], max_frequency: usize) -> (Array2<f32>, Array2<f32>) {
    let k_max = max_frequency - 1;
    let mut phi = Array2::zeros((t.len(), 2 * k_max));
    let mut dphi = Array2::zeros((t.len(), 2 * k_max));
    for (row, &time) in t.iter().enumerate() {
        for k in 1..=k_max {
            let kf = k as f32;
            let (sin, cos) = (kf * time).sin_cos();
            phi[[row, k - 1]] = sin / kf;
            phi[[row, k_max + k - 1]] = cos / kf;
            dphi[[row, k - 1]] = cos;
            dphi[[row, k_max + k - 1]] = -sin;
        }
    }
    (phi, dphi)
}

impl<D: TensorDevice<f32>> Trainable<D> for TimeValueNet<D> {
    fn params(&self) -> Vec<&Param<D>> {
        let mut all = self.time_scale.params();
        all.extend(self.time_shift.params());
        all.extend(self.space.params());
        all.extend(self.trunk.params());
        all
    }
    fn params_mut(&mut self) -> Vec<&mut Param<D>> {
        let mut all = self.time_scale.params_mut();
        all.extend(self.time_shift.params_mut());
        all.extend(self.space.params_mut());
        all.extend(self.trunk.params_mut());
        all
    }
}

/// `a·x + b·y` for two gradient lists of the same shapes (the combined step of gradient balancing).
pub fn combine_gradients<D: TensorDevice<f32>>(
    a: f32,
    x: &[Param<D>],
    b: f32,
    y: &[Param<D>],
) -> Result<Vec<Param<D>>> {
    if x.len() != y.len() || x.iter().zip(y).any(|(p, q)| p.shape() != q.shape()) {
        return Err(Error::shape(
            "combine_gradients",
            format!("{} matching gradients", x.len()),
            format!("{} gradients", y.len()),
        ));
    }
    Ok(x.iter()
        .zip(y)
        .map(|(p, q)| {
            let mut out = p.clone() * a;
            out.axpy(1.0, q, b);
            out
        })
        .collect())
}

//! `∇ₓ f` of an [`Mlp`] as an explicit forward computation on the tape.
//!
//! dfdx cannot differentiate a gradient it returned (no double backward), yet NLOT-type losses,
//! HJB residuals and gradient penalties contain `∇ₓ f`. For `f = L_k ∘ σ ∘ … ∘ σ ∘ L_1` with
//! `L_i(h) = h W_i + b_i` and pre-activations `z_i`, the chain rule reads
//!
//! `∇ₓ f_j = W_k[:, j]ᵀ · diag σ'(z_{k-1}) · W_{k-1}ᵀ · … · diag σ'(z_1) · W_1ᵀ`,
//!
//! which is built here from matmuls and pointwise products, all recorded on the input's tape, so
//! `dfdx` can take the gradient of any loss containing it with respect to the weights.

use dfdx::shapes::{Axes2, Axis, HasShape};
use dfdx::tensor::{PutTape, SplitTape, Tape, Tensor, WithEmptyTape};
use dfdx::tensor_ops::{BroadcastTo, PermuteTo, ReshapeTo, TryMatMul};

use super::{check_columns, Mlp, Tensor2, TensorDevice};
use crate::error::{Error, Result};

/// A batch of Jacobians `[N, out, in]` with tape `T`.
pub type Tensor3<D, T> = Tensor<(usize, usize, usize), f32, D, T>;

impl<D: TensorDevice<f32>> Mlp<D> {
    /// `∇ₓ f(x)` for a scalar-output network: `[N, in]` for `x: [N, in]`, on `x`'s tape.
    ///
    /// Errors if the network has more than one output (use [`Mlp::input_jacobian`]) or if `x`
    /// has the wrong width or no rows. With ReLU-type activations `σ'` is piecewise constant, so
    /// a loss containing `∇ₓ f` still reaches every weight but sees no curvature of `σ`.
    ///
    /// ```
    /// use dfdx::prelude::*;
    /// use lagrangian_ot::nn::{Activation, Mlp, tensor_to_array};
    /// let dev = lagrangian_ot::device::default_device(0);
    /// // With no hidden layer f(x) = x W + b, so the gradient is Wᵀ on every row.
    /// let f = Mlp::builder(3).output(1).build(&dev)?;
    /// let x = dev.tensor_from_vec(vec![0.5_f32; 6], (2, 3));
    /// let grad = tensor_to_array(&f.input_gradient(x)?);
    /// let w = f.layers()[0].weight().as_vec();
    /// assert_eq!(grad.row(1).to_vec(), w);
    /// # Ok::<(), lagrangian_ot::Error>(())
    /// ```
    pub fn input_gradient<T: Tape<f32, D>>(&self, x: Tensor2<D, T>) -> Result<Tensor2<D, T>> {
        if self.out_dim() != 1 {
            return Err(Error::shape(
                "Mlp::input_gradient (scalar output needed; use input_jacobian)",
                "1 output",
                format!("{} outputs", self.out_dim()),
            ));
        }
        let (rows, in_dim) = *x.shape();
        Ok(self.input_jacobian(x)?.reshape_like(&(rows, in_dim)))
    }

    /// The Jacobian `∂f_j/∂x_i` of every row: `[N, out, in]` for `x: [N, in]`, on `x`'s tape.
    /// Costs about `out` backward passes' worth of matmuls, batched into one chain.
    pub fn input_jacobian<T: Tape<f32, D>>(&self, x: Tensor2<D, T>) -> Result<Tensor3<D, T>> {
        check_columns("Mlp::input_jacobian", *x.shape(), self.in_dim())?;
        let rows = x.shape().0;
        let (last, hidden) = self.layers.split_last().expect("an Mlp has at least one layer");
        let outputs = last.out_dim();

        // Forward through the hidden layers keeping σ'(z_i). The operations that produced z_i sit
        // on the running tape; σ'(z_i) is computed on a branch from an untaped copy of z_i, and
        // the branch tapes are merged into the result below. The last pre-activation only feeds
        // σ', so the running tape moves into that final branch and nothing is recorded twice.
        let mut slopes: Vec<Tensor2<D, T>> = Vec::with_capacity(hidden.len());
        let mut running = Some(x);
        for (i, layer) in hidden.iter().enumerate() {
            let z = layer.affine(running.take().expect("set by the previous layer"));
            if i + 1 < hidden.len() {
                slopes.push(self.activation.derivative(z.with_empty_tape()));
                running = Some(self.activation.apply(z));
            } else {
                slopes.push(self.activation.derivative(z));
            }
        }
        // Without hidden layers the Jacobian is Wᵀ alone; x's tape (what was recorded before x)
        // still has to reach the result.
        let leftover_tape = running.map(|x| x.split_tape().1);

        // delta = ∂f/∂h for the current layer, one [out, width] block per row.
        let last_width = last.in_dim();
        let mut delta: Tensor3<D, T> = last
            .weight
            .retaped::<T>()
            .permute::<_, Axes2<1, 0>>()
            .broadcast_like::<_, Axis<0>>(&(rows, outputs, last_width));
        for (layer, slope) in hidden.iter().zip(slopes).rev() {
            let width = layer.out_dim();
            let below = layer.in_dim();
            delta = delta * slope.broadcast_like::<_, Axis<1>>(&(rows, outputs, width));
            let weight_t = layer.weight.retaped::<T>().permute::<_, Axes2<1, 0>>();
            delta = delta
                .reshape_like(&(rows * outputs, width))
                .matmul(weight_t)
                .reshape_like(&(rows, outputs, below));
        }
        if let Some(tape) = leftover_tape {
            let (delta_value, delta_tape) = delta.split_tape();
            delta = delta_value.put_tape(delta_tape.merge(tape));
        }
        Ok(delta)
    }
}

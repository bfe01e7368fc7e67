//! A multilayer perceptron whose widths are chosen at run time.

use dfdx::shapes::HasShape;
use dfdx::tensor::Tape;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use super::{
    array_to_tensor, check_columns, tensor_to_array, Activation, Init, Linear, Param, Tensor2, TensorDevice,
    Trainable,
};
use crate::error::{Error, Result};

/// The shape of an [`Mlp`]: input width, hidden widths, output width, activation and init.
/// Build one with [`Mlp::builder`]; it is plain data (clonable, serialisable) until [`MlpBuilder::build`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlpBuilder {
    pub(super) in_dim: usize,
    pub(super) hidden: Vec<usize>,
    pub(super) out_dim: usize,
    pub(super) activation: Activation,
    pub(super) init: Init,
}

impl MlpBuilder {
    /// Hidden layer widths, first to last (default: none, i.e. an affine map).
    pub fn hidden(mut self, widths: &[usize]) -> Self {
        self.hidden = widths.to_vec();
        self
    }

    /// Output width (default 1: a scalar potential).
    pub fn output(mut self, out_dim: usize) -> Self {
        self.out_dim = out_dim;
        self
    }

    /// The activation after every hidden layer (default [`Activation::Softplus`]); the output
    /// layer is affine.
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// The weight initialisation (default [`Init::LecunNormal`], flax's default).
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// Allocates the network on `dev`, drawing the weights from the device's seeded generator.
    /// A zero width anywhere is an [`Error::InvalidArgument`].
    ///
    /// ```
    /// use lagrangian_ot::nn::{Activation, Mlp};
    /// let dev = lagrangian_ot::device::default_device(0);
    /// let mlp = Mlp::builder(2).hidden(&[64, 64]).output(1).activation(Activation::Softplus).build(&dev)?;
    /// assert_eq!(mlp.widths(), vec![2, 64, 64, 1]);
    /// assert_eq!(mlp.num_params(), (2 * 64 + 64) + (64 * 64 + 64) + (64 + 1));
    /// assert!(Mlp::builder(2).hidden(&[0]).build(&dev).is_err());
    /// # use lagrangian_ot::nn::Trainable;
    /// # Ok::<(), lagrangian_ot::Error>(())
    /// ```
    pub fn build<D: TensorDevice<f32>>(&self, dev: &D) -> Result<Mlp<D>> {
        let widths = self.widths();
        if let Some(position) = widths.iter().position(|&w| w == 0) {
            return Err(Error::InvalidArgument(format!(
                "MLP widths must be positive, got {widths:?} (zero at position {position})"
            )));
        }
        let layers = widths
            .windows(2)
            .map(|pair| Linear::new(dev, pair[0], pair[1], self.init))
            .collect::<Result<Vec<_>>>()?;
        Ok(Mlp {
            layers,
            activation: self.activation,
        })
    }

    /// All widths, input first, output last.
    pub fn widths(&self) -> Vec<usize> {
        let mut widths = Vec::with_capacity(self.hidden.len() + 2);
        widths.push(self.in_dim);
        widths.extend_from_slice(&self.hidden);
        widths.push(self.out_dim);
        widths
    }
}

/// A multilayer perceptron `f(x) = L_k(σ(… σ(L_1 x)))` with affine layers `L_i` and one
/// activation `σ` after each hidden layer.
///
/// Forward passes take a batch `[N, in]` with any dfdx tape, so the same network serves inside a
/// traced loss and in plain inference.
#[derive(Debug, Clone)]
pub struct Mlp<D: TensorDevice<f32> = crate::device::Device> {
    pub(crate) layers: Vec<Linear<D>>,
    pub(crate) activation: Activation,
}

impl Mlp<crate::device::Device> {
    /// Starts describing an MLP with `in_dim` inputs; see [`MlpBuilder`].
    pub fn builder(in_dim: usize) -> MlpBuilder {
        MlpBuilder {
            in_dim,
            hidden: Vec::new(),
            out_dim: 1,
            activation: Activation::Softplus,
            init: Init::default(),
        }
    }
}

impl<D: TensorDevice<f32>> Mlp<D> {
    /// Input width.
    pub fn in_dim(&self) -> usize {
        self.layers[0].in_dim()
    }

    /// Output width.
    pub fn out_dim(&self) -> usize {
        self.layers[self.layers.len() - 1].out_dim()
    }

    /// All widths, input first, output last.
    pub fn widths(&self) -> Vec<usize> {
        std::iter::once(self.in_dim())
            .chain(self.layers.iter().map(|l| l.out_dim()))
            .collect()
    }

    /// The hidden-layer activation.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// The dense layers, input side first.
    pub fn layers(&self) -> &[Linear<D>] {
        &self.layers
    }

    /// The device the parameters live on.
    pub fn device(&self) -> &D {
        self.layers[0].weight.device()
    }

    /// `f(x)` for a batch `x: [N, in]`, returning `[N, out]` on `x`'s tape. Errors if `x` does not
    /// have `in` columns or has no rows.
    pub fn forward<T: Tape<f32, D>>(&self, x: Tensor2<D, T>) -> Result<Tensor2<D, T>> {
        check_columns("Mlp::forward", *x.shape(), self.in_dim())?;
        Ok(self.forward_unchecked(x))
    }

    pub(crate) fn forward_unchecked<T: Tape<f32, D>>(&self, x: Tensor2<D, T>) -> Tensor2<D, T> {
        let (last, hidden) = self.layers.split_last().expect("an Mlp has at least one layer");
        let h = hidden
            .iter()
            .fold(x, |h, layer| self.activation.apply(layer.affine(h)));
        last.affine(h)
    }

    /// `f(x)` for a host array `[N, in]`: copies it to the device, runs [`Mlp::forward`] without a
    /// tape and copies the `[N, out]` result back. Errors on a wrong width, no rows, or NaN input.
    ///
    /// ```
    /// use lagrangian_ot::nn::Mlp;
    /// let dev = lagrangian_ot::device::default_device(0);
    /// let mlp = Mlp::builder(3).hidden(&[8]).output(2).build(&dev)?;
    /// let y = mlp.forward_array(&ndarray::Array2::zeros((5, 3)))?;
    /// assert_eq!(y.dim(), (5, 2));
    /// assert!(mlp.forward_array(&ndarray::Array2::zeros((5, 4))).is_err());
    /// # Ok::<(), lagrangian_ot::Error>(())
    /// ```
    pub fn forward_array(&self, x: &Array2<f32>) -> Result<Array2<f32>> {
        check_columns("Mlp::forward_array", x.dim(), self.in_dim())?;
        let x = array_to_tensor(self.device(), x, "Mlp::forward_array input")?;
        Ok(tensor_to_array(&self.forward_unchecked(x)))
    }
}

impl<D: TensorDevice<f32>> Trainable<D> for Mlp<D> {
    fn params(&self) -> Vec<&Param<D>> {
        self.layers.iter().flat_map(|l| l.params()).collect()
    }
    fn params_mut(&mut self) -> Vec<&mut Param<D>> {
        self.layers.iter_mut().flat_map(|l| l.params_mut()).collect()
    }
}

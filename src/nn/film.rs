//! FiLM conditioning (feature-wise linear modulation): features `h` are rescaled and shifted by
//! amounts computed from a condition `c`, `γ(c) ⊙ h + β(c)`.
//!
//! This is how conditional solvers (a potential per hyperparameter value or class label) share one
//! network across conditions instead of concatenating the condition to the input.

use dfdx::shapes::HasShape;
use dfdx::tensor::{Tape, WithEmptyTape};
use serde::{Deserialize, Serialize};

use super::{
    array_to_tensor, check_columns, tensor_to_array, Activation, Init, Mlp, MlpBuilder, Param, Tensor2,
    TensorDevice, Trainable,
};
use crate::error::{Error, Result};
use ndarray::Array2;

/// One FiLM layer: a condition net maps `c: [N, cond_dim]` to `[N, 2·features]`, read as
/// `(γ − 1, β)`; the layer returns `γ ⊙ h + β`.
///
/// `γ` is parameterised as `1 + output` so a near-zero condition net starts close to the identity.
#[derive(Debug, Clone)]
pub struct Film<D: TensorDevice<f32> = crate::device::Device> {
    condition_net: Mlp<D>,
    features: usize,
}

impl<D: TensorDevice<f32>> Film<D> {
    /// A FiLM layer modulating `features` channels from a `cond_dim`-wide condition, with a
    /// condition net of the given hidden widths (empty: a single affine map, as in the FiLM paper).
    pub fn new(
        dev: &D,
        cond_dim: usize,
        features: usize,
        cond_hidden: &[usize],
        activation: Activation,
        init: Init,
    ) -> Result<Self> {
        let condition_net = Mlp::builder(cond_dim)
            .hidden(cond_hidden)
            .output(2 * features)
            .activation(activation)
            .init(init)
            .build(dev)?;
        Ok(Film {
            condition_net,
            features,
        })
    }

    /// Number of modulated channels.
    pub fn features(&self) -> usize {
        self.features
    }

    /// Width of the condition.
    pub fn cond_dim(&self) -> usize {
        self.condition_net.in_dim()
    }

    /// The net producing `(γ − 1, β)`.
    pub fn condition_net(&self) -> &Mlp<D> {
        &self.condition_net
    }

    /// `γ(c) ⊙ h + β(c)` for `h: [N, features]`, `c: [N, cond_dim]`, on `h`'s tape (the condition
    /// is data: it receives no gradient, the condition net's parameters do).
    pub fn forward<T: Tape<f32, D>>(&self, h: Tensor2<D, T>, cond: &Tensor2<D>) -> Result<Tensor2<D, T>> {
        check_columns("Film::forward features", *h.shape(), self.features)?;
        check_columns("Film::forward condition", *cond.shape(), self.cond_dim())?;
        check_rows("Film::forward", h.shape().0, cond.shape().0)?;
        Ok(self.modulate(h, cond))
    }

    pub(crate) fn modulate<T: Tape<f32, D>>(&self, h: Tensor2<D, T>, cond: &Tensor2<D>) -> Tensor2<D, T> {
        let k = self.features;
        let scale_shift = self.condition_net.forward_unchecked(cond.retaped::<T>());
        let gamma = scale_shift.with_empty_tape().slice((.., 0..k)) + 1.0;
        let beta = scale_shift.slice((.., k..2 * k));
        h * gamma + beta
    }
}

impl<D: TensorDevice<f32>> Trainable<D> for Film<D> {
    fn params(&self) -> Vec<&Param<D>> {
        self.condition_net.params()
    }
    fn params_mut(&mut self) -> Vec<&mut Param<D>> {
        self.condition_net.params_mut()
    }
}

/// Describes a [`FilmMlp`]: the trunk MLP plus the condition width and the condition nets' hidden widths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilmMlpBuilder {
    trunk: MlpBuilder,
    cond_dim: usize,
    cond_hidden: Vec<usize>,
}

impl FilmMlpBuilder {
    /// Hidden widths of the trunk (each hidden layer gets its own FiLM layer).
    pub fn hidden(mut self, widths: &[usize]) -> Self {
        self.trunk = self.trunk.hidden(widths);
        self
    }

    /// Output width (default 1).
    pub fn output(mut self, out_dim: usize) -> Self {
        self.trunk = self.trunk.output(out_dim);
        self
    }

    /// Activation of the trunk and of the condition nets (default Softplus).
    pub fn activation(mut self, activation: Activation) -> Self {
        self.trunk = self.trunk.activation(activation);
        self
    }

    /// Weight initialisation of every layer (default LeCun normal).
    pub fn init(mut self, init: Init) -> Self {
        self.trunk = self.trunk.init(init);
        self
    }

    /// Hidden widths of each condition net (default none: `(γ − 1, β)` affine in the condition).
    pub fn cond_hidden(mut self, widths: &[usize]) -> Self {
        self.cond_hidden = widths.to_vec();
        self
    }

    /// Allocates the network on `dev`; zero widths are an [`Error::InvalidArgument`].
    pub fn build<D: TensorDevice<f32>>(&self, dev: &D) -> Result<FilmMlp<D>> {
        let trunk = self.trunk.build(dev)?;
        let (activation, init) = (trunk.activation(), self.trunk.init);
        let films = trunk.layers[..trunk.layers.len() - 1]
            .iter()
            .map(|layer| {
                Film::new(
                    dev,
                    self.cond_dim,
                    layer.out_dim(),
                    &self.cond_hidden,
                    activation,
                    init,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(FilmMlp { trunk, films })
    }
}

/// An MLP whose every hidden pre-activation is FiLM-modulated by a condition vector:
/// `h_i = σ(γ_i(c) ⊙ (h_{i−1} W_i + b_i) + β_i(c))`, output layer affine.
///
/// ```
/// use dfdx::prelude::*;
/// use lagrangian_ot::nn::FilmMlp;
/// let dev = lagrangian_ot::device::default_device(0);
/// let net = FilmMlp::builder(2, 1).hidden(&[16, 16]).output(1).build(&dev)?;
/// let x = dev.tensor_from_vec(vec![0.1_f32; 8], (4, 2));
/// let c = dev.tensor_from_vec(vec![0.5_f32; 4], (4, 1));
/// assert_eq!(*net.forward(x, &c)?.shape(), (4, 1));
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct FilmMlp<D: TensorDevice<f32> = crate::device::Device> {
    trunk: Mlp<D>,
    films: Vec<Film<D>>,
}

impl FilmMlp<crate::device::Device> {
    /// Starts describing a FiLM MLP with `in_dim` inputs and a `cond_dim`-wide condition.
    pub fn builder(in_dim: usize, cond_dim: usize) -> FilmMlpBuilder {
        FilmMlpBuilder {
            trunk: Mlp::builder(in_dim),
            cond_dim,
            cond_hidden: Vec::new(),
        }
    }
}

impl<D: TensorDevice<f32>> FilmMlp<D> {
    /// Input width.
    pub fn in_dim(&self) -> usize {
        self.trunk.in_dim()
    }

    /// Output width.
    pub fn out_dim(&self) -> usize {
        self.trunk.out_dim()
    }

    /// Condition width (`None` when the trunk has no hidden layer, so nothing is modulated).
    pub fn cond_dim(&self) -> Option<usize> {
        self.films.first().map(|f| f.cond_dim())
    }

    /// The unconditioned layers (their activation is the one applied after each FiLM layer).
    pub fn trunk(&self) -> &Mlp<D> {
        &self.trunk
    }

    /// One FiLM layer per hidden layer of the trunk, input side first.
    pub fn films(&self) -> &[Film<D>] {
        &self.films
    }

    /// `f(x | c)` for `x: [N, in]`, `c: [N, cond_dim]`, on `x`'s tape.
    pub fn forward<T: Tape<f32, D>>(&self, x: Tensor2<D, T>, cond: &Tensor2<D>) -> Result<Tensor2<D, T>> {
        check_columns("FilmMlp::forward input", *x.shape(), self.in_dim())?;
        if let Some(cond_dim) = self.cond_dim() {
            check_columns("FilmMlp::forward condition", *cond.shape(), cond_dim)?;
            check_rows("FilmMlp::forward", x.shape().0, cond.shape().0)?;
        }
        let (last, hidden) = self
            .trunk
            .layers
            .split_last()
            .expect("an Mlp has at least one layer");
        let activation = self.trunk.activation();
        let h = hidden.iter().zip(&self.films).fold(x, |h, (layer, film)| {
            activation.apply(film.modulate(layer.affine(h), cond))
        });
        Ok(last.affine(h))
    }
}

impl<D: TensorDevice<f32>> Trainable<D> for FilmMlp<D> {
    fn params(&self) -> Vec<&Param<D>> {
        let mut all = self.trunk.params();
        all.extend(self.films.iter().flat_map(|f| f.params()));
        all
    }
    fn params_mut(&mut self) -> Vec<&mut Param<D>> {
        let mut all = self.trunk.params_mut();
        all.extend(self.films.iter_mut().flat_map(|f| f.params_mut()));
        all
    }
}

fn check_rows(context: &str, rows: usize, cond_rows: usize) -> Result<()> {
    if rows == cond_rows {
        Ok(())
    } else {
        Err(Error::shape(
            context,
            format!("{rows} condition rows"),
            format!("{cond_rows}"),
        ))
    }
}

impl FilmMlpBuilder {
    /// Allocates a [`ConditionalMlp`]: the FiLM network, or the plain trunk when the condition width
    /// is 0 (unconditional data need no modulation).
    pub fn build_conditional<D: TensorDevice<f32>>(&self, dev: &D) -> Result<ConditionalMlp<D>> {
        if self.cond_dim == 0 {
            Ok(ConditionalMlp::Plain(self.trunk.build(dev)?))
        } else {
            Ok(ConditionalMlp::Film(self.build(dev)?))
        }
    }
}

/// f(y | x): a [`FilmMlp`] when there is a condition, a plain [`Mlp`] when there is none, so
/// conditional solvers run unchanged on unconditional data.
#[derive(Debug, Clone)]
pub enum ConditionalMlp<D: TensorDevice<f32> = crate::device::Device> {
    /// No condition.
    Plain(Mlp<D>),
    /// FiLM-conditioned.
    Film(FilmMlp<D>),
}

impl<D: TensorDevice<f32>> ConditionalMlp<D> {
    /// Input width.
    pub fn in_dim(&self) -> usize {
        match self {
            ConditionalMlp::Plain(m) => m.in_dim(),
            ConditionalMlp::Film(m) => m.in_dim(),
        }
    }

    /// Output width.
    pub fn out_dim(&self) -> usize {
        match self {
            ConditionalMlp::Plain(m) => m.out_dim(),
            ConditionalMlp::Film(m) => m.out_dim(),
        }
    }

    /// Condition width (0 for the plain network).
    pub fn cond_dim(&self) -> usize {
        match self {
            ConditionalMlp::Plain(_) => 0,
            ConditionalMlp::Film(m) => m.cond_dim().unwrap_or(0),
        }
    }

    /// The device the parameters live on.
    pub fn device(&self) -> &D {
        match self {
            ConditionalMlp::Plain(m) => m.device(),
            ConditionalMlp::Film(m) => m.trunk().device(),
        }
    }

    /// `f(x | c)` on `x`'s tape; the plain network takes no condition (or a zero-width one), the
    /// FiLM network requires one.
    pub fn forward<T: Tape<f32, D>>(
        &self,
        x: Tensor2<D, T>,
        cond: Option<&Tensor2<D>>,
    ) -> Result<Tensor2<D, T>> {
        match (self, cond) {
            (ConditionalMlp::Plain(m), None) => m.forward(x),
            (ConditionalMlp::Plain(m), Some(c)) if c.shape().1 == 0 => m.forward(x),
            (ConditionalMlp::Film(m), Some(c)) => m.forward(x, c),
            (ConditionalMlp::Plain(_), Some(_)) => Err(Error::InvalidArgument(
                "this network is unconditional but was given conditions".into(),
            )),
            (ConditionalMlp::Film(_), None) => Err(Error::InvalidArgument(
                "this network is conditional but was given no conditions".into(),
            )),
        }
    }

    /// [`ConditionalMlp::forward`] on host arrays, without a tape.
    pub fn forward_array(&self, x: &Array2<f32>, cond: Option<&Array2<f32>>) -> Result<Array2<f32>> {
        let dev = self.device();
        let x = array_to_tensor(dev, x, "network input")?;
        let cond = cond
            .map(|c| array_to_tensor(dev, c, "network condition"))
            .transpose()?;
        Ok(tensor_to_array(&self.forward(x, cond.as_ref())?))
    }
}

impl<D: TensorDevice<f32>> Trainable<D> for ConditionalMlp<D> {
    fn params(&self) -> Vec<&Param<D>> {
        match self {
            ConditionalMlp::Plain(m) => m.params(),
            ConditionalMlp::Film(m) => m.params(),
        }
    }
    fn params_mut(&mut self) -> Vec<&mut Param<D>> {
        match self {
            ConditionalMlp::Plain(m) => m.params_mut(),
            ConditionalMlp::Film(m) => m.params_mut(),
        }
    }
}

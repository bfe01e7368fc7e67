//! NCTM: neural conditional transport maps for mixed categorical and continuous conditions
//! (Rodriguez-Pardo, Chiani, Borgonovo, Tavoni, arXiv 2505.15808; spec `specs/nctm.md`).
//!
//! One map `T(x, c)` and one critic `f(y, c)` are trained over all conditions `c` with the NOT minimax
//! objective of Korotin et al. under the strong quadratic cost (spec §1–2). Per iteration, for
//! minibatches whose rows carry their own condition (conditions drawn uniformly from the training
//! conditions):
//! - `K_T` transport steps (f frozen): `L_T = mse(x, T(x, c)) − mean f(T(x, c), c)`, with `mse` the mean
//!   over all elements as in the reference code;
//! - one critic step (T frozen, no gradient through T): `L_f = mean f(T(x, c), c) − mean f(y, c)`.
//!
//! Before the minimax phase an optional pre-training phase fits `T` to the identity
//! (`mean ‖T(x, c) − x‖²`) and pulls the critic toward a constant with the penalty
//! `E f(y, c)² + E f(x, c)²` (no double backward; spec §2 "ours").
//!
//! ## Architecture (sizes are ours: the paper body was not retrievable)
//! - Condition encoder ([`ConditionEncoder`]): one learnable [`Embedding`] table per categorical
//!   variable (default width 8), a sinusoidal positional encoding of each continuous variable
//!   (`sin(ω_i u), cos(ω_i u)` at the dyadic ladder `ω_i = 2^i π`, `i < 2` by default, a NeRF-style
//!   ladder suited to `u ∈ [0, 1]` instead of the transformer's `10000^{−2i/d}`, which is nearly
//!   linear on `[0, 1]`) or, for the ablation, the raw value ([`ContinuousEncoding::Scalar`]);
//!   concatenated and mapped by a SiLU MLP (hidden 32) to a 16-wide code.
//! - Map and critic ([`ConditionalNet`]): encoder MLP `x → 32 → 16` (SiLU), a conditioned final encoder
//!   layer `16 → 16`, decoder MLP `16 → 32 → out` (out = dimension for T, 1 for f). The final encoder
//!   layer is, per [`Conditioning`]: a [`HyperLinear`] whose per-sample weights and bias are generated
//!   from the code (the paper's choice); a plain layer followed by FiLM modulation `(1 + γ(h)) ⊙ z + β(h)`;
//!   or a plain layer with the code concatenated to the input `x` (the concatenation baseline). The
//!   critic uses the same conditioning as the map (the paper does not say; ours). Each network owns its
//!   condition encoder, trained with it.
//! - Optimisers: Adam, learning rate 1e-3 for both networks, betas (0.5, 0.99) (ours: the reference's
//!   1e-4 over 10 001 steps is too slow for CI-sized runs; the low β₁ is the usual choice for
//!   alternating minimax games).
//!
//! ## Deviations
//! - Sizes are small on purpose: on the Gaussian task of `nctm-gaussian` (training horizons 0.25 apart)
//!   64/32-wide networks with 3 frequencies fitted the training horizons well (map error 0.02) but
//!   interpolated poorly (0.31 on held-out horizons); with 32/16-wide networks and 2 frequencies (the top
//!   one, 2π, has a period of four grid steps) the held-out error drops to about 0.03 and a fit is about
//!   3× faster.
//! - The map is deterministic, `T(x, c)`, unless a [`WeakCost`] is set: then it is the stochastic map
//!   `T(x, z, c)` of NOT with a Gaussian latent `z` appended to its input, trained under the γ-weak
//!   quadratic cost (spec §1). With `Z` latent draws per source point the map loss is
//!   `mean (x − m)² + (1 − γ)·mean (T(x, z, c) − m)² − mean f(T(x, z, c), c)`, `m` the mean of the `Z`
//!   outputs of one `x`: since `E‖x − y‖² = ‖x − m‖² + Var`, this is the (1/D-scaled, as the strong
//!   cost) `E‖x − y‖² − γ Var` of the weak cost. γ = 1 charges only the conditional mean, so the map
//!   may spread each point over the target (one-to-many plans).
//! - The map is not residual, so pre-training toward the identity matters (as in the paper's schedule).
//!
//! ```
//! use lagrangian_ot::prelude::*;
//! use lagrangian_ot::solver::{Conditions, Nctm};
//! use ndarray::{array, Array2};
//! // Two categories shifting a Gaussian left or right, by an amount growing with u.
//! let conditions = Conditions::new(array![[0], [1], [0], [1]], array![[0.0], [0.0], [1.0], [1.0]])?;
//! let model = Nctm::builder(2)
//!     .categorical(&[2])
//!     .continuous(1)
//!     .target(|r, c| {
//!         let mut y = toy::gaussian(r, c.len(), &[0.0, 0.0], 1.0)?;
//!         for (i, mut row) in y.rows_mut().into_iter().enumerate() {
//!             let sign = if c.categorical()[[i, 0]] == 0 { -1.0 } else { 1.0 };
//!             row[0] += sign * (1.0 + c.continuous()[[i, 0]]);
//!         }
//!         Ok(y)
//!     })
//!     .train_conditions(conditions)
//!     .pretrain_steps(5).iterations(5).batch_size(32)
//!     .progress(ProgressMode::Silent)
//!     .build()?
//!     .fit()?;
//! let x = Array2::zeros((3, 2));
//! assert_eq!(model.transport_at(&x, &[1], &[0.5])?.dim(), (3, 2));
//! assert_eq!(model.history.critic_loss.len(), 5);
//! # Ok::<(), lagrangian_ot::Error>(())
//! ```

use std::sync::Arc;

use dfdx::shapes::{Axis, HasShape, Rank0};
use dfdx::tensor::{AsArray, Tape, TensorFromVec, WithEmptyTape};
use dfdx::tensor_ops::{Backward, MeanTo, SumTo, TryConcatAlong};
use ndarray::{Array1, Array2, Axis as NdAxis};
use rand::Rng;

use crate::data::toy;
use crate::device::{default_device, rng, Device, SeededRng};
use crate::error::{ensure_finite, Error, Result};
use crate::nn::{
    array_to_tensor, check_loss, device_error, traced, Activation, Adam, AdamConfig, Embedding,
    FourierFeatures, HyperLinear, Init, Linear, Mlp, NoneTape, Param, Tensor2, Trainable,
};
use crate::plot::{Figure, Plot};
use crate::progress::{Progress, ProgressMode};

/// The defaults of [`NctmBuilder`] (ours where the paper is silent; see the module docs).
pub mod defaults {
    /// Width of each categorical embedding.
    pub const EMBEDDING_DIM: usize = 8;
    /// Number of sinusoidal frequencies per continuous variable (`ω_i = 2^i π`).
    pub const PE_FREQUENCIES: usize = 2;
    /// Hidden widths of the condition MLP.
    pub const CONDITION_HIDDEN: [usize; 1] = [32];
    /// Width of the condition code.
    pub const CODE_DIM: usize = 16;
    /// Hidden widths of the encoder before the conditioned layer.
    pub const ENCODER_HIDDEN: [usize; 1] = [32];
    /// Width of the conditioned final encoder layer (its input and output).
    pub const LATENT: usize = 16;
    /// Hidden widths of the decoder.
    pub const DECODER_HIDDEN: [usize; 1] = [32];
    /// Learning rate of both Adam optimisers.
    pub const LEARNING_RATE: f64 = 1e-3;
    /// Adam betas of both optimisers.
    pub const BETAS: [f64; 2] = [0.5, 0.99];
    /// Pre-training steps (T toward identity, f toward a constant).
    pub const PRETRAIN_STEPS: usize = 200;
    /// Minimax iterations (each: `TRANSPORT_STEPS` map steps, one critic step).
    pub const ITERATIONS: usize = 2000;
    /// Map steps per critic step, K_T (the paper's range is 4–6).
    pub const TRANSPORT_STEPS: usize = 4;
    /// Minibatch size.
    pub const BATCH_SIZE: usize = 128;
    /// Points per condition drawn by the [`crate::plot::Plot`] implementation.
    pub const PLOT_SAMPLES: usize = 256;
    /// Weak cost: width of the latent input `z` (NOT's 2-D toy setting).
    pub const LATENT_DIM: usize = 2;
    /// Weak cost: standard deviation of `z` (NOT's toy setting).
    pub const LATENT_STD: f32 = 0.1;
    /// Weak cost: latent draws per source point in a map step (NOT's toy setting).
    pub const LATENT_SAMPLES: usize = 4;
    /// Weak cost: γ (ours: the conditional mean alone is charged).
    pub const GAMMA: f32 = 1.0;
}

/// The γ-weak quadratic cost with a latent input (spec §1): the map becomes `T(x, z, c)`,
/// `z ~ N(0, latent_std² I)`, and the cost of sending `x` to the law of `T(x, ·, c)` is
/// `E‖x − y‖² − γ Var` (scaled by `1/D` as the strong cost). See the module docs for the loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeakCost {
    /// γ ≥ 0: how much the conditional spread is rewarded. 0 is the strong cost with a (useless)
    /// latent input; 1 charges the conditional mean only.
    pub gamma: f32,
    /// Width of `z` (> 0).
    pub latent_dim: usize,
    /// Standard deviation of `z` (> 0).
    pub latent_std: f32,
    /// Latent draws per source point in a map step (≥ 2, to estimate the conditional variance).
    pub samples: usize,
}

impl Default for WeakCost {
    fn default() -> Self {
        WeakCost {
            gamma: defaults::GAMMA,
            latent_dim: defaults::LATENT_DIM,
            latent_std: defaults::LATENT_STD,
            samples: defaults::LATENT_SAMPLES,
        }
    }
}

impl WeakCost {
    /// The γ-weak cost with NOT's toy latent settings.
    pub fn with_gamma(gamma: f32) -> Self {
        WeakCost {
            gamma,
            ..WeakCost::default()
        }
    }

    fn validate(&self) -> Result<()> {
        if !(self.gamma.is_finite() && self.gamma >= 0.0) {
            return Err(Error::InvalidArgument(format!(
                "NCTM weak cost: γ must be finite and ≥ 0, got {}",
                self.gamma
            )));
        }
        if self.latent_dim == 0 || !(self.latent_std.is_finite() && self.latent_std > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "NCTM weak cost: the latent needs width > 0 and a finite std > 0, got {} and {}",
                self.latent_dim, self.latent_std
            )));
        }
        if self.samples < 2 {
            return Err(Error::InvalidArgument(format!(
                "NCTM weak cost: at least 2 latent draws per point estimate the variance, got {}",
                self.samples
            )));
        }
        Ok(())
    }
}

/// How the condition code enters the networks' final encoder layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Conditioning {
    /// A hypernetwork generates the layer's weights and bias per sample (NCTM).
    #[default]
    Hypernetwork,
    /// FiLM: the plain layer's output is scaled and shifted, `(1 + γ(h)) ⊙ z + β(h)`.
    Film,
    /// The code is concatenated to the network input (baseline).
    Concatenation,
}

/// How continuous condition variables are encoded before the condition MLP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContinuousEncoding {
    /// Sinusoidal positional encoding `sin(ω_i u), cos(ω_i u)` (NCTM).
    #[default]
    Positional,
    /// The value fed as is (ablation baseline).
    Scalar,
}

/// The condition variables: the number of levels of each categorical variable and the number of
/// continuous ones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConditionSpace {
    /// Levels of each categorical variable (labels `0..levels[j]`).
    pub levels: Vec<usize>,
    /// Number of continuous variables.
    pub continuous: usize,
}

impl ConditionSpace {
    /// Checks that a batch of conditions belongs to this space: column counts ([`Error::Shape`]) and
    /// labels within range ([`Error::InvalidArgument`]).
    pub fn check(&self, conditions: &Conditions) -> Result<()> {
        let (cat, cont) = (conditions.categorical.ncols(), conditions.continuous.ncols());
        if cat != self.levels.len() || cont != self.continuous {
            return Err(Error::shape(
                "NCTM conditions",
                format!(
                    "{} categorical and {} continuous columns",
                    self.levels.len(),
                    self.continuous
                ),
                format!("{cat} categorical and {cont} continuous columns"),
            ));
        }
        for (j, &levels) in self.levels.iter().enumerate() {
            if let Some(&bad) = conditions.categorical.column(j).iter().find(|&&l| l >= levels) {
                return Err(Error::InvalidArgument(format!(
                    "unknown category {bad} of categorical variable {j} (it has {levels} levels)"
                )));
            }
        }
        Ok(())
    }
}

/// A batch of conditions, one row per sample: categorical labels `[N, n_cat]` and continuous values
/// `[N, n_cont]` (either may have zero columns).
#[derive(Debug, Clone, PartialEq)]
pub struct Conditions {
    categorical: Array2<usize>,
    continuous: Array2<f32>,
}

impl Conditions {
    /// A batch from its two parts. Different row counts are an [`Error::Shape`], no rows
    /// [`Error::Empty`], a NaN or infinite value [`Error::NonFinite`].
    pub fn new(categorical: Array2<usize>, continuous: Array2<f32>) -> Result<Self> {
        if categorical.nrows() != continuous.nrows() {
            return Err(Error::shape(
                "Conditions::new",
                format!(
                    "{} continuous rows (one per categorical row)",
                    categorical.nrows()
                ),
                format!("{}", continuous.nrows()),
            ));
        }
        if categorical.nrows() == 0 {
            return Err(Error::Empty("Conditions::new: no rows".into()));
        }
        ensure_finite("continuous conditions", continuous.iter())?;
        Ok(Conditions {
            categorical,
            continuous,
        })
    }

    /// `n` copies of one condition.
    pub fn repeat(categorical: &[usize], continuous: &[f32], n: usize) -> Result<Self> {
        let cat = Array2::from_shape_fn((n, categorical.len()), |(_, j)| categorical[j]);
        let cont = Array2::from_shape_fn((n, continuous.len()), |(_, j)| continuous[j]);
        Self::new(cat, cont)
    }

    /// Every combination of the given category tuples and continuous tuples (categories outer).
    pub fn grid(categories: &[Vec<usize>], values: &[Vec<f32>]) -> Result<Self> {
        let rows: Vec<(&Vec<usize>, &Vec<f32>)> = categories
            .iter()
            .flat_map(|c| values.iter().map(move |v| (c, v)))
            .collect();
        let (nc, nv) = (
            categories.first().map_or(0, Vec::len),
            values.first().map_or(0, Vec::len),
        );
        if rows.iter().any(|(c, v)| c.len() != nc || v.len() != nv) {
            return Err(Error::InvalidArgument(
                "Conditions::grid: tuples of different lengths".into(),
            ));
        }
        let cat = Array2::from_shape_fn((rows.len(), nc), |(i, j)| rows[i].0[j]);
        let cont = Array2::from_shape_fn((rows.len(), nv), |(i, j)| rows[i].1[j]);
        Self::new(cat, cont)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.categorical.nrows()
    }

    /// Whether there are no rows (never true for a constructed batch).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The categorical labels `[N, n_cat]`.
    pub fn categorical(&self) -> &Array2<usize> {
        &self.categorical
    }

    /// The continuous values `[N, n_cont]`.
    pub fn continuous(&self) -> &Array2<f32> {
        &self.continuous
    }

    /// The rows at `index`, in that order. An index `>= len()` is an [`Error::InvalidArgument`],
    /// no indices [`Error::Empty`].
    pub fn select(&self, index: &[usize]) -> Result<Conditions> {
        if index.is_empty() {
            return Err(Error::Empty("Conditions::select: no indices".into()));
        }
        if let Some(&bad) = index.iter().find(|&&i| i >= self.len()) {
            return Err(Error::InvalidArgument(format!(
                "Conditions::select: row {bad} of a batch of {}",
                self.len()
            )));
        }
        Ok(self.select_unchecked(index))
    }

    fn select_unchecked(&self, index: &[usize]) -> Conditions {
        Conditions {
            categorical: self.categorical.select(NdAxis(0), index),
            continuous: self.continuous.select(NdAxis(0), index),
        }
    }

    /// Row `i` as `(labels, values)`; `i >= len()` is an [`Error::InvalidArgument`].
    pub fn row(&self, i: usize) -> Result<(Vec<usize>, Vec<f32>)> {
        if i >= self.len() {
            return Err(Error::InvalidArgument(format!(
                "Conditions::row: row {i} of a batch of {}",
                self.len()
            )));
        }
        Ok(self.row_unchecked(i))
    }

    fn row_unchecked(&self, i: usize) -> (Vec<usize>, Vec<f32>) {
        (self.categorical.row(i).to_vec(), self.continuous.row(i).to_vec())
    }

    /// Row `i` in words, e.g. `"cat [1], u [0.25]"`; errors as [`Conditions::row`].
    pub fn describe(&self, i: usize) -> Result<String> {
        let (c, u) = self.row(i)?;
        Ok(format!("cat {c:?}, u {u:?}"))
    }

    /// The rows of `self` followed by those of `other` (same column counts).
    pub fn stack(&self, other: &Conditions) -> Result<Conditions> {
        let cat = ndarray::concatenate(NdAxis(0), &[self.categorical.view(), other.categorical.view()])
            .map_err(|e| Error::shape("Conditions::stack", "equal column counts", e.to_string()))?;
        let cont = ndarray::concatenate(NdAxis(0), &[self.continuous.view(), other.continuous.view()])
            .map_err(|e| Error::shape("Conditions::stack", "equal column counts", e.to_string()))?;
        Ok(Conditions {
            categorical: cat,
            continuous: cont,
        })
    }
}

/// Encodes a batch of [`Conditions`] into a code `h_c`: embeddings of the categorical variables and
/// an encoding of the continuous ones, concatenated and mapped by a SiLU MLP.
#[derive(Debug, Clone)]
pub struct ConditionEncoder<D: crate::nn::TensorDevice<f32> = Device> {
    space: ConditionSpace,
    embeddings: Vec<Embedding<D>>,
    positional: Option<FourierFeatures<D>>,
    mlp: Mlp<D>,
}

impl ConditionEncoder<Device> {
    /// An encoder for `space` with `embedding_dim`-wide tables, `encoding` of the continuous variables
    /// (`pe_frequencies` sinusoids each when positional), a SiLU MLP of `hidden` widths to `code_dim`.
    pub fn new(
        dev: &Device,
        space: &ConditionSpace,
        encoding: ContinuousEncoding,
        embedding_dim: usize,
        pe_frequencies: usize,
        hidden: &[usize],
        code_dim: usize,
    ) -> Result<Self> {
        if space.levels.is_empty() && space.continuous == 0 {
            return Err(Error::InvalidArgument(
                "NCTM needs at least one condition variable (categorical or continuous)".into(),
            ));
        }
        let embeddings = space
            .levels
            .iter()
            .map(|&l| Embedding::new(dev, l, embedding_dim))
            .collect::<Result<Vec<_>>>()?;
        let positional = match encoding {
            ContinuousEncoding::Positional if space.continuous > 0 => {
                Some(FourierFeatures::dyadic(dev, pe_frequencies, false)?)
            }
            _ => None,
        };
        let continuous_width = match &positional {
            Some(pe) => pe.out_dim(space.continuous),
            None => space.continuous,
        };
        let in_dim = embedding_dim * space.levels.len() + continuous_width;
        let mlp = Mlp::builder(in_dim)
            .hidden(hidden)
            .output(code_dim)
            .activation(Activation::SiLU)
            .build(dev)?;
        Ok(ConditionEncoder {
            space: space.clone(),
            embeddings,
            positional,
            mlp,
        })
    }

    /// The condition space it encodes.
    pub fn space(&self) -> &ConditionSpace {
        &self.space
    }

    /// Width of the code.
    pub fn code_dim(&self) -> usize {
        self.mlp.out_dim()
    }

    /// The codes `[N, code_dim]` of a batch, recorded on a fresh tape of type `T`. Conditions outside
    /// the space are an error (see [`ConditionSpace::check`]).
    pub fn forward<T: Tape<f32, Device>>(&self, conditions: &Conditions) -> Result<Tensor2<Device, T>> {
        self.space.check(conditions)?;
        let dev = self.mlp.device();
        let mut parts: Vec<Tensor2<Device, T>> = Vec::new();
        for (j, table) in self.embeddings.iter().enumerate() {
            let labels: Vec<usize> = conditions.categorical.column(j).to_vec();
            parts.push(table.forward::<T>(&labels)?);
        }
        if self.space.continuous > 0 {
            let values = array_to_tensor(dev, &conditions.continuous, "continuous conditions")?;
            let encoded = match &self.positional {
                Some(pe) => pe.forward(values)?,
                None => values,
            };
            parts.push(encoded.retaped::<T>());
        }
        let features = parts
            .into_iter()
            .reduce(|a, b| (a, b).concat_along(Axis::<1>))
            .expect("at least one condition variable");
        Ok(Activation::SiLU.apply(self.mlp.forward_unchecked(features)))
    }
}

impl Trainable<Device> for ConditionEncoder<Device> {
    fn params(&self) -> Vec<&Param<Device>> {
        let mut all: Vec<&Param<Device>> = self.embeddings.iter().flat_map(|e| e.params()).collect();
        all.extend(self.mlp.params());
        all
    }
    fn params_mut(&mut self) -> Vec<&mut Param<Device>> {
        let mut all: Vec<&mut Param<Device>> =
            self.embeddings.iter_mut().flat_map(|e| e.params_mut()).collect();
        all.extend(self.mlp.params_mut());
        all
    }
}

#[derive(Debug, Clone)]
enum FinalLayer {
    Hyper(HyperLinear<Device>),
    Film {
        layer: Linear<Device>,
        modulation: Linear<Device>,
    },
    Plain(Linear<Device>),
}

/// The sizes of a [`ConditionalNet`].
#[derive(Debug, Clone, PartialEq)]
pub struct NetShape {
    /// Input width (the data dimension).
    pub in_dim: usize,
    /// Output width (dimension for the map, 1 for the critic).
    pub out_dim: usize,
    /// Hidden widths of the encoder before the conditioned layer.
    pub encoder_hidden: Vec<usize>,
    /// Width of the conditioned final encoder layer.
    pub latent: usize,
    /// Hidden widths of the decoder.
    pub decoder_hidden: Vec<usize>,
    /// Categorical embedding width.
    pub embedding_dim: usize,
    /// Sinusoids per continuous variable.
    pub pe_frequencies: usize,
    /// Hidden widths of the condition MLP.
    pub condition_hidden: Vec<usize>,
    /// Width of the condition code.
    pub code_dim: usize,
}

/// An encoder–decoder MLP `g(x, c)` whose final encoder layer is conditioned on the code of `c`
/// (see [`Conditioning`]); NCTM's map and critic are both one of these. Activations are SiLU.
#[derive(Debug, Clone)]
pub struct ConditionalNet {
    conditioning: Conditioning,
    condition: ConditionEncoder<Device>,
    encoder: Mlp<Device>,
    last: FinalLayer,
    decoder: Mlp<Device>,
}

impl ConditionalNet {
    /// Allocates a network of `shape` conditioned by `conditioning` on conditions of `space`.
    pub fn new(
        dev: &Device,
        shape: &NetShape,
        space: &ConditionSpace,
        conditioning: Conditioning,
        encoding: ContinuousEncoding,
    ) -> Result<Self> {
        let condition = ConditionEncoder::new(
            dev,
            space,
            encoding,
            shape.embedding_dim,
            shape.pe_frequencies,
            &shape.condition_hidden,
            shape.code_dim,
        )?;
        let encoder_in = match conditioning {
            Conditioning::Concatenation => shape.in_dim + shape.code_dim,
            _ => shape.in_dim,
        };
        let encoder = Mlp::builder(encoder_in)
            .hidden(&shape.encoder_hidden)
            .output(shape.latent)
            .activation(Activation::SiLU)
            .build(dev)?;
        let last = match conditioning {
            Conditioning::Hypernetwork => {
                FinalLayer::Hyper(HyperLinear::new(dev, shape.latent, shape.latent, shape.code_dim)?)
            }
            Conditioning::Film => FinalLayer::Film {
                layer: Linear::new(dev, shape.latent, shape.latent, Init::LecunNormal)?,
                modulation: Linear::new(dev, shape.code_dim, 2 * shape.latent, Init::LecunNormal)?,
            },
            Conditioning::Concatenation => {
                FinalLayer::Plain(Linear::new(dev, shape.latent, shape.latent, Init::LecunNormal)?)
            }
        };
        let decoder = Mlp::builder(shape.latent)
            .hidden(&shape.decoder_hidden)
            .output(shape.out_dim)
            .activation(Activation::SiLU)
            .build(dev)?;
        Ok(ConditionalNet {
            conditioning,
            condition,
            encoder,
            last,
            decoder,
        })
    }

    /// How the condition enters.
    pub fn conditioning(&self) -> Conditioning {
        self.conditioning
    }

    /// Input width.
    pub fn in_dim(&self) -> usize {
        match self.conditioning {
            Conditioning::Concatenation => self.encoder.in_dim() - self.condition.code_dim(),
            _ => self.encoder.in_dim(),
        }
    }

    /// Output width.
    pub fn out_dim(&self) -> usize {
        self.decoder.out_dim()
    }

    /// The condition encoder.
    pub fn condition_encoder(&self) -> &ConditionEncoder<Device> {
        &self.condition
    }

    /// `g(x, c)` for `x: [N, in]` on `x`'s tape and `N` conditions. Errors: wrong width or row count
    /// ([`Error::Shape`]), conditions outside the space.
    pub fn forward<T: Tape<f32, Device>>(
        &self,
        x: Tensor2<Device, T>,
        conditions: &Conditions,
    ) -> Result<Tensor2<Device, T>> {
        crate::nn::check_columns("ConditionalNet::forward", *x.shape(), self.in_dim())?;
        if x.shape().0 != conditions.len() {
            return Err(Error::shape(
                "ConditionalNet::forward",
                format!("{} condition rows (one per input row)", x.shape().0),
                format!("{}", conditions.len()),
            ));
        }
        let code = self.condition.forward::<T>(conditions)?;
        let act = Activation::SiLU;
        let e = match &self.last {
            FinalLayer::Plain(layer) => {
                let input = (x, code).concat_along(Axis::<1>);
                layer.affine(act.apply(self.encoder.forward_unchecked(input)))
            }
            FinalLayer::Hyper(layer) => layer.apply(act.apply(self.encoder.forward_unchecked(x)), code),
            FinalLayer::Film { layer, modulation } => {
                let k = layer.out_dim();
                let scale_shift = modulation.affine(code);
                let gamma = scale_shift.with_empty_tape().slice((.., 0..k)) + 1.0;
                let beta = scale_shift.slice((.., k..2 * k));
                layer.affine(act.apply(self.encoder.forward_unchecked(x))) * gamma + beta
            }
        };
        Ok(self.decoder.forward_unchecked(act.apply(e)))
    }

    /// [`ConditionalNet::forward`] on host arrays, without a tape (NaN input is [`Error::NonFinite`]).
    pub fn forward_array(&self, x: &Array2<f32>, conditions: &Conditions) -> Result<Array2<f32>> {
        crate::nn::check_columns("ConditionalNet::forward_array", x.dim(), self.in_dim())?;
        let dev = self.encoder.device();
        let x = array_to_tensor(dev, x, "ConditionalNet input")?;
        Ok(crate::nn::tensor_to_array(
            &self.forward::<NoneTape>(x, conditions)?,
        ))
    }
}

impl Trainable<Device> for ConditionalNet {
    fn params(&self) -> Vec<&Param<Device>> {
        let mut all = self.condition.params();
        all.extend(self.encoder.params());
        match &self.last {
            FinalLayer::Hyper(l) => all.extend(l.params()),
            FinalLayer::Film { layer, modulation } => {
                all.extend(layer.params());
                all.extend(modulation.params());
            }
            FinalLayer::Plain(l) => all.extend(l.params()),
        }
        all.extend(self.decoder.params());
        all
    }
    fn params_mut(&mut self) -> Vec<&mut Param<Device>> {
        let mut all = self.condition.params_mut();
        all.extend(self.encoder.params_mut());
        match &mut self.last {
            FinalLayer::Hyper(l) => all.extend(l.params_mut()),
            FinalLayer::Film { layer, modulation } => {
                all.extend(layer.params_mut());
                all.extend(modulation.params_mut());
            }
            FinalLayer::Plain(l) => all.extend(l.params_mut()),
        }
        all.extend(self.decoder.params_mut());
        all
    }
}

/// A conditional sampler: one point per condition row, `[N, dim]`.
pub type ConditionalSampler = dyn Fn(&mut SeededRng, &Conditions) -> Result<Array2<f32>> + Send + Sync;

/// Chainable configuration of an NCTM run; every setter has the default of [`defaults`].
#[derive(Clone)]
pub struct NctmBuilder {
    dim: usize,
    space: ConditionSpace,
    conditioning: Conditioning,
    encoding: ContinuousEncoding,
    shape: NetShape,
    optimizer: AdamConfig,
    pretrain_steps: usize,
    iterations: usize,
    transport_steps: usize,
    batch_size: usize,
    weak: Option<WeakCost>,
    seed: u64,
    progress: ProgressMode,
    source: Option<Arc<ConditionalSampler>>,
    target: Option<Arc<ConditionalSampler>>,
    train_conditions: Option<Conditions>,
    plot_conditions: Option<Conditions>,
}

/// Entry point: `Nctm::builder(dim)`; a validated configuration ready to [`Nctm::fit`].
pub struct Nctm {
    config: NctmBuilder,
    source: Arc<ConditionalSampler>,
    target: Arc<ConditionalSampler>,
    train_conditions: Conditions,
}

impl Nctm {
    /// Starts configuring an NCTM run for `dim`-dimensional data. The source defaults to `N(0, I)`
    /// for every condition; the target and the training conditions must be set.
    pub fn builder(dim: usize) -> NctmBuilder {
        NctmBuilder {
            dim,
            space: ConditionSpace::default(),
            conditioning: Conditioning::default(),
            encoding: ContinuousEncoding::default(),
            shape: NetShape {
                in_dim: dim,
                out_dim: dim,
                encoder_hidden: defaults::ENCODER_HIDDEN.to_vec(),
                latent: defaults::LATENT,
                decoder_hidden: defaults::DECODER_HIDDEN.to_vec(),
                embedding_dim: defaults::EMBEDDING_DIM,
                pe_frequencies: defaults::PE_FREQUENCIES,
                condition_hidden: defaults::CONDITION_HIDDEN.to_vec(),
                code_dim: defaults::CODE_DIM,
            },
            optimizer: default_optimizer(),
            pretrain_steps: defaults::PRETRAIN_STEPS,
            iterations: defaults::ITERATIONS,
            transport_steps: defaults::TRANSPORT_STEPS,
            batch_size: defaults::BATCH_SIZE,
            weak: None,
            seed: 0,
            progress: ProgressMode::Auto,
            source: None,
            target: None,
            train_conditions: None,
            plot_conditions: None,
        }
    }
}

/// Adam at [`defaults::LEARNING_RATE`] with betas [`defaults::BETAS`].
pub fn default_optimizer() -> AdamConfig {
    AdamConfig::with_lr(defaults::LEARNING_RATE).betas(defaults::BETAS[0], defaults::BETAS[1])
}

impl NctmBuilder {
    /// Levels of each categorical condition variable (default none).
    pub fn categorical(mut self, levels: &[usize]) -> Self {
        self.space.levels = levels.to_vec();
        self
    }
    /// Number of continuous condition variables (default 0).
    pub fn continuous(mut self, count: usize) -> Self {
        self.space.continuous = count;
        self
    }
    /// How the condition enters the networks (default [`Conditioning::Hypernetwork`]).
    pub fn conditioning(mut self, conditioning: Conditioning) -> Self {
        self.conditioning = conditioning;
        self
    }
    /// How continuous conditions are encoded (default [`ContinuousEncoding::Positional`]).
    pub fn encoding(mut self, encoding: ContinuousEncoding) -> Self {
        self.encoding = encoding;
        self
    }
    /// Sinusoids per continuous variable (default 2).
    pub fn pe_frequencies(mut self, count: usize) -> Self {
        self.shape.pe_frequencies = count;
        self
    }
    /// Width of each categorical embedding (default 8).
    pub fn embedding_dim(mut self, dim: usize) -> Self {
        self.shape.embedding_dim = dim;
        self
    }
    /// Width of the condition code (default 16).
    pub fn code_dim(mut self, dim: usize) -> Self {
        self.shape.code_dim = dim;
        self
    }
    /// Widths of both networks: encoder hidden, conditioned latent layer, decoder hidden
    /// (default `[32]`, 16, `[32]`).
    pub fn widths(mut self, encoder_hidden: &[usize], latent: usize, decoder_hidden: &[usize]) -> Self {
        self.shape.encoder_hidden = encoder_hidden.to_vec();
        self.shape.latent = latent;
        self.shape.decoder_hidden = decoder_hidden.to_vec();
        self
    }
    /// Adam settings of both networks (default [`default_optimizer`]).
    pub fn optimizer(mut self, config: AdamConfig) -> Self {
        self.optimizer = config;
        self
    }
    /// Pre-training steps (default 200; 0 skips the phase).
    pub fn pretrain_steps(mut self, n: usize) -> Self {
        self.pretrain_steps = n;
        self
    }
    /// Minimax iterations (default 2000).
    pub fn iterations(mut self, n: usize) -> Self {
        self.iterations = n;
        self
    }
    /// Map steps per critic step, K_T (default 4).
    pub fn transport_steps(mut self, n: usize) -> Self {
        self.transport_steps = n;
        self
    }
    /// Minibatch size (default 128).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }
    /// Trains the stochastic map `T(x, z, c)` under the γ-weak cost (default: the strong cost and a
    /// deterministic map).
    pub fn weak_cost(mut self, weak: WeakCost) -> Self {
        self.weak = Some(weak);
        self
    }
    /// Seed of every random draw (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// How training reports progress (default [`ProgressMode::Auto`]).
    pub fn progress(mut self, mode: ProgressMode) -> Self {
        self.progress = mode;
        self
    }
    /// The source sampler: one point per condition row (default `N(0, I_dim)` whatever the condition).
    pub fn source(
        mut self,
        sample: impl Fn(&mut SeededRng, &Conditions) -> Result<Array2<f32>> + Send + Sync + 'static,
    ) -> Self {
        self.source = Some(Arc::new(sample));
        self
    }
    /// The target sampler: one point per condition row (required).
    pub fn target(
        mut self,
        sample: impl Fn(&mut SeededRng, &Conditions) -> Result<Array2<f32>> + Send + Sync + 'static,
    ) -> Self {
        self.target = Some(Arc::new(sample));
        self
    }
    /// The conditions training batches are drawn from, uniformly with replacement (required).
    pub fn train_conditions(mut self, conditions: Conditions) -> Self {
        self.train_conditions = Some(conditions);
        self
    }
    /// The conditions the figure draws (default: up to 4 rows of the training conditions, spread out).
    pub fn plot_conditions(mut self, conditions: Conditions) -> Self {
        self.plot_conditions = Some(conditions);
        self
    }

    /// Validates the configuration.
    pub fn build(self) -> Result<Nctm> {
        if self.dim == 0 {
            return Err(Error::InvalidArgument("NCTM needs dimension > 0".into()));
        }
        if self.batch_size == 0 || self.iterations == 0 || self.transport_steps == 0 {
            return Err(Error::InvalidArgument(
                "NCTM needs batch_size > 0, iterations > 0 and transport_steps > 0".into(),
            ));
        }
        if self.space.levels.is_empty() && self.space.continuous == 0 {
            return Err(Error::InvalidArgument(
                "NCTM needs at least one condition variable: set .categorical(..) or .continuous(..)".into(),
            ));
        }
        if let Some(weak) = &self.weak {
            weak.validate()?;
        }
        if self.space.levels.contains(&0) {
            return Err(Error::InvalidArgument(
                "NCTM: a categorical variable needs at least one level".into(),
            ));
        }
        let target = self
            .target
            .clone()
            .ok_or_else(|| Error::InvalidArgument("NCTM needs .target(..)".into()))?;
        let train_conditions = self
            .train_conditions
            .clone()
            .ok_or_else(|| Error::InvalidArgument("NCTM needs .train_conditions(..)".into()))?;
        self.space.check(&train_conditions)?;
        if let Some(p) = &self.plot_conditions {
            self.space.check(p)?;
        }
        let dim = self.dim;
        let source: Arc<ConditionalSampler> = match &self.source {
            Some(s) => s.clone(),
            None => Arc::new(move |r: &mut SeededRng, c: &Conditions| {
                toy::gaussian(r, c.len(), &vec![0.0; dim], 1.0)
            }),
        };
        Ok(Nctm {
            config: self,
            source,
            target,
            train_conditions,
        })
    }
}

/// What training recorded, one entry per step of each phase.
#[derive(Debug, Clone, Default)]
pub struct NctmHistory {
    /// Pre-training map loss mean ‖T(x, c) − x‖².
    pub pretrain_map_loss: Vec<f64>,
    /// Pre-training critic penalty E f(y, c)² + E f(x, c)².
    pub pretrain_critic_loss: Vec<f64>,
    /// Map loss L_T of the last transport step of each iteration.
    pub map_loss: Vec<f64>,
    /// Transport cost mse(x, T(x, c)) of the last transport step of each iteration.
    pub transport_cost: Vec<f64>,
    /// Critic loss L_f = mean f(T(x)) − mean f(y) per iteration (its negation estimates the dual gap).
    pub critic_loss: Vec<f64>,
    /// Wall-clock seconds of the whole fit.
    pub seconds: f64,
}

/// A trained NCTM model: the conditional map and critic with their training history.
pub struct NctmModel {
    /// The transport map T(x, c).
    pub map: ConditionalNet,
    /// The critic f(y, c).
    pub critic: ConditionalNet,
    /// What training recorded.
    pub history: NctmHistory,
    space: ConditionSpace,
    dim: usize,
    weak: Option<WeakCost>,
    seed: u64,
    source: Arc<ConditionalSampler>,
    target: Arc<ConditionalSampler>,
    train_conditions: Conditions,
    plot_conditions: Conditions,
}

fn sample_checked(
    sampler: &ConditionalSampler,
    rng: &mut SeededRng,
    conditions: &Conditions,
    dim: usize,
    what: &str,
) -> Result<Array2<f32>> {
    let points = sampler(rng, conditions)?;
    if points.dim() != (conditions.len(), dim) {
        return Err(Error::shape(
            format!("NCTM {what} sampler"),
            format!("[{}, {dim}] (one point per condition row)", conditions.len()),
            format!("{:?}", points.shape()),
        ));
    }
    ensure_finite(&format!("NCTM {what} samples"), points.iter())?;
    Ok(points)
}

/// The map's input for `x`: `x` itself for a deterministic map; with a weak cost, `repeat` rows per
/// point (row `i·repeat + k` is `[x_i, z_ik]`, `z_ik ~ N(0, latent_std² I)`).
fn map_input(
    rng: &mut SeededRng,
    x: &Array2<f32>,
    weak: Option<&WeakCost>,
    repeat: usize,
) -> Result<Array2<f32>> {
    let Some(weak) = weak else {
        return Ok(x.clone());
    };
    let rows = x.nrows() * repeat;
    let z = toy::gaussian(rng, rows, &vec![0.0; weak.latent_dim], weak.latent_std)?;
    Ok(with_latent(x, &z, repeat))
}

/// `[x_{r / repeat}, z_r]` for every row `r` of `z`.
fn with_latent(x: &Array2<f32>, z: &Array2<f32>, repeat: usize) -> Array2<f32> {
    let (dim, zd) = (x.ncols(), z.ncols());
    Array2::from_shape_fn((z.nrows(), dim + zd), |(r, j)| {
        if j < dim {
            x[[r / repeat, j]]
        } else {
            z[[r, j - dim]]
        }
    })
}

/// `0, 0, …, 1, 1, …`: each of `n` indices `repeat` times.
fn repeated_rows(n: usize, repeat: usize) -> Vec<usize> {
    (0..n * repeat).map(|r| r / repeat).collect()
}

/// The `[B·Z, B·Z]` matrix that averages each block of `Z` consecutive rows (symmetric).
fn block_averaging(dev: &Device, b: usize, z: usize) -> Result<Tensor2<Device>> {
    let rows = b * z;
    let average: Vec<f32> = (0..rows * rows)
        .map(|k| {
            if (k / rows) / z == (k % rows) / z {
                1.0 / z as f32
            } else {
                0.0
            }
        })
        .collect();
    dev.try_tensor_from_vec(average, (rows, rows))
        .map_err(device_error)
}

/// The γ-weak transport cost of a map step, `mean (x − m)² + (1 − γ)·mean (T − m)²` over elements, for
/// the outputs `tx: [B·Z, D]` of [`map_input`]'s rows and the `B` source points `x`. The conditional
/// means `m` are one product with `average` ([`block_averaging`] of `B` and `Z`), in the transposed
/// layout `[D, B·Z]` so that the taped tensor stays on the left of the product.
fn weak_cost_loss(
    dev: &Device,
    tx: &Tensor2<Device, crate::nn::Taped<Device>>,
    x: &Array2<f32>,
    weak: &WeakCost,
    average: &Tensor2<Device>,
) -> Result<dfdx::tensor::Tensor<Rank0, f32, Device, crate::nn::Taped<Device>>> {
    use dfdx::shapes::Axes2;
    use dfdx::tensor_ops::{PermuteTo, TryMatMul};
    let (b, z) = (x.nrows(), weak.samples);
    let x_rep = x.select(NdAxis(0), &repeated_rows(b, z)).reversed_axes();
    let x_rep = array_to_tensor(dev, &x_rep.as_standard_layout().to_owned(), "NCTM source batch")?;
    let transposed = || tx.with_empty_tape().permute::<_, Axes2<1, 0>>();
    let mean = transposed().matmul(average.clone());
    let spread = (transposed() - mean.with_empty_tape())
        .square()
        .mean::<Rank0, _>();
    let fit = (mean - x_rep).square().mean::<Rank0, _>();
    Ok(fit + spread * (1.0 - weak.gamma))
}

fn draw_conditions(rng: &mut SeededRng, pool: &Conditions, n: usize) -> Conditions {
    let index: Vec<usize> = (0..n).map(|_| rng.gen_range(0..pool.len())).collect();
    pool.select_unchecked(&index)
}

impl Nctm {
    /// Trains: pre-training, then the minimax phase. Stops with [`Error::Diverged`] naming the step
    /// if a loss stops being finite.
    pub fn fit(self) -> Result<NctmModel> {
        let Nctm {
            config,
            source,
            target,
            train_conditions,
        } = self;
        let dim = config.dim;
        let dev = default_device(config.seed);
        let mut rng = rng(config.seed);
        let map_shape = NetShape {
            in_dim: dim + config.weak.map_or(0, |w| w.latent_dim),
            ..config.shape.clone()
        };
        let critic_shape = NetShape {
            out_dim: 1,
            ..config.shape.clone()
        };
        let mut t = ConditionalNet::new(
            &dev,
            &map_shape,
            &config.space,
            config.conditioning,
            config.encoding,
        )?;
        let mut f = ConditionalNet::new(
            &dev,
            &critic_shape,
            &config.space,
            config.conditioning,
            config.encoding,
        )?;
        let (mut adam_t, mut adam_f) = (Adam::new(config.optimizer)?, Adam::new(config.optimizer)?);
        let mut history = NctmHistory::default();
        let b = config.batch_size;
        let total = (config.pretrain_steps + config.iterations) as u64;
        let mut bar = Progress::new("NCTM", total, config.progress);

        for step in 0..config.pretrain_steps {
            let cond = draw_conditions(&mut rng, &train_conditions, b);
            let x = sample_checked(&*source, &mut rng, &cond, dim, "source")?;
            let y = sample_checked(&*target, &mut rng, &cond, dim, "target")?;
            let x_t = array_to_tensor(&dev, &x, "NCTM source batch")?;
            let input = map_input(&mut rng, &x, config.weak.as_ref(), 1)?;
            let input_t = array_to_tensor(&dev, &input, "NCTM map input")?;
            let tx = t.forward(traced(&input_t), &cond)?;
            let loss = (tx - x_t.clone()).square().mean::<Rank0, _>();
            let map_loss = loss.array() as f64;
            check_loss(step, map_loss)?;
            let mut grads = loss.backward();
            adam_t.step(&mut t, &mut grads)?;

            let both = ndarray::concatenate(NdAxis(0), &[y.view(), x.view()])
                .map_err(|e| Error::shape("NCTM pre-training batch", "equal widths", e.to_string()))?;
            let both_cond = cond.stack(&cond)?;
            let both_t = array_to_tensor(&dev, &both, "NCTM pre-training batch")?;
            let penalty = f
                .forward(traced(&both_t), &both_cond)?
                .square()
                .mean::<Rank0, _>()
                * 2.0;
            let critic_loss = penalty.array() as f64;
            check_loss(step, critic_loss)?;
            let mut grads = penalty.backward();
            adam_f.step(&mut f, &mut grads)?;
            history.pretrain_map_loss.push(map_loss);
            history.pretrain_critic_loss.push(critic_loss);
            bar.update(step as u64 + 1, || {
                format!("pre-train |T−id|² {map_loss:.3e} E f² {critic_loss:.3e}")
            });
        }

        // The weak cost's block-averaging matrix depends on the batch shape only: built once.
        let averaging = match &config.weak {
            Some(weak) => Some(block_averaging(&dev, b, weak.samples)?),
            None => None,
        };
        for it in 0..config.iterations {
            let step = config.pretrain_steps + it;
            let (mut map_loss, mut cost_value) = (0.0, 0.0);
            for _ in 0..config.transport_steps {
                let cond = draw_conditions(&mut rng, &train_conditions, b);
                let x = sample_checked(&*source, &mut rng, &cond, dim, "source")?;
                let (tx, cost, cond) = match &config.weak {
                    None => {
                        let x_t = array_to_tensor(&dev, &x, "NCTM source batch")?;
                        let tx = t.forward(traced(&x_t), &cond)?;
                        let cost = (tx.with_empty_tape() - x_t).square().mean::<Rank0, _>();
                        (tx, cost, cond)
                    }
                    Some(weak) => {
                        let z = weak.samples;
                        let input = map_input(&mut rng, &x, Some(weak), z)?;
                        let cond = cond.select_unchecked(&repeated_rows(b, z));
                        let input_t = array_to_tensor(&dev, &input, "NCTM map input")?;
                        let tx = t.forward(traced(&input_t), &cond)?;
                        let average = averaging.as_ref().expect("built with the weak cost");
                        let cost = weak_cost_loss(&dev, &tx, &x, weak, average)?;
                        (tx, cost, cond)
                    }
                };
                let potential = f.forward(tx, &cond)?.mean::<Rank0, _>();
                cost_value = cost.array() as f64;
                let loss = cost - potential;
                map_loss = loss.array() as f64;
                check_loss(step, map_loss)?;
                let mut grads = loss.backward();
                adam_t.step(&mut t, &mut grads)?;
            }
            let cond = draw_conditions(&mut rng, &train_conditions, b);
            let x = sample_checked(&*source, &mut rng, &cond, dim, "source")?;
            let y = sample_checked(&*target, &mut rng, &cond, dim, "target")?;
            let tx = t.forward_array(&map_input(&mut rng, &x, config.weak.as_ref(), 1)?, &cond)?;
            let both = ndarray::concatenate(NdAxis(0), &[tx.view(), y.view()])
                .map_err(|e| Error::shape("NCTM critic batch", "equal widths", e.to_string()))?;
            let both_cond = cond.stack(&cond)?;
            let weights: Vec<f32> = std::iter::repeat_n(1.0 / b as f32, b)
                .chain(std::iter::repeat_n(-1.0 / b as f32, b))
                .collect();
            let weights = dev
                .try_tensor_from_vec(weights, (2 * b, 1))
                .map_err(device_error)?;
            let both_t = array_to_tensor(&dev, &both, "NCTM critic batch")?;
            let values = f.forward(traced(&both_t), &both_cond)?;
            let loss = (values * weights).sum::<Rank0, _>();
            let critic_loss = loss.array() as f64;
            check_loss(step, critic_loss)?;
            let mut grads = loss.backward();
            adam_f.step(&mut f, &mut grads)?;
            history.map_loss.push(map_loss);
            history.transport_cost.push(cost_value);
            history.critic_loss.push(critic_loss);
            bar.update(step as u64 + 1, || {
                format!("L_T {map_loss:.4} cost {cost_value:.4} L_f {critic_loss:.4}")
            });
        }
        history.seconds = bar.finish();
        let plot_conditions = match config.plot_conditions {
            Some(p) => p,
            None => spread_rows(&train_conditions, 4),
        };
        Ok(NctmModel {
            map: t,
            critic: f,
            history,
            space: config.space,
            dim,
            weak: config.weak,
            seed: config.seed,
            source,
            target,
            train_conditions,
            plot_conditions,
        })
    }
}

fn critic_path(path: &std::path::Path) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".critic.npz");
    std::path::PathBuf::from(name)
}

/// Up to `k` distinct rows of `pool`, spread over it.
fn spread_rows(pool: &Conditions, k: usize) -> Conditions {
    let mut seen = std::collections::HashSet::new();
    let mut distinct: Vec<usize> = Vec::new();
    for i in 0..pool.len() {
        let (cat, cont) = pool.row_unchecked(i);
        let key = (cat, cont.iter().map(|v| v.to_bits()).collect::<Vec<u32>>());
        if seen.insert(key) {
            distinct.push(i);
        }
    }
    let n = distinct.len();
    let picks: Vec<usize> = if n <= k {
        distinct
    } else {
        (0..k).map(|i| distinct[i * (n - 1) / (k - 1).max(1)]).collect()
    };
    pool.select_unchecked(&picks)
}

impl NctmModel {
    /// The learned transport `T(x_i, c_i)` of each row `x_i` of `x: [N, dim]` under its condition
    /// row. A map trained under a [`WeakCost`] is evaluated at the latent's mean `z = 0` (a point
    /// estimate; [`NctmModel::sample_transport`] draws from the plan). Errors: wrong width or row
    /// counts ([`Error::Shape`]), unknown category ([`Error::InvalidArgument`]), NaN input
    /// ([`Error::NonFinite`]).
    pub fn transport(&self, x: &Array2<f32>, conditions: &Conditions) -> Result<Array2<f32>> {
        let zeros = Array2::zeros((x.nrows(), self.latent_dim()));
        self.transport_with_latent(x, &zeros, conditions)
    }

    /// `T(x_i, z_i, c_i)` with a fresh latent draw per row: a sample of the learned (stochastic) plan
    /// given each `x_i`. For a deterministic map this is [`NctmModel::transport`].
    pub fn sample_transport(
        &self,
        rng: &mut SeededRng,
        x: &Array2<f32>,
        conditions: &Conditions,
    ) -> Result<Array2<f32>> {
        let z = match &self.weak {
            Some(w) => toy::gaussian(rng, x.nrows(), &vec![0.0; w.latent_dim], w.latent_std)?,
            None => Array2::zeros((x.nrows(), 0)),
        };
        self.transport_with_latent(x, &z, conditions)
    }

    /// `T(x_i, z_i, c_i)` for given latents `z: [N, latent_dim]` (`latent_dim` is 0 for a deterministic
    /// map). Errors as [`NctmModel::transport`].
    pub fn transport_with_latent(
        &self,
        x: &Array2<f32>,
        z: &Array2<f32>,
        conditions: &Conditions,
    ) -> Result<Array2<f32>> {
        if x.ncols() != self.dim || z.dim() != (x.nrows(), self.latent_dim()) {
            return Err(Error::shape(
                "NctmModel::transport",
                format!("x: [N, {}] and z: [N, {}]", self.dim, self.latent_dim()),
                format!("x: {:?} and z: {:?}", x.shape(), z.shape()),
            ));
        }
        if x.nrows() == 0 {
            return Err(Error::Empty("NctmModel::transport: no points".into()));
        }
        ensure_finite("NctmModel::transport latent", z.iter())?;
        self.space.check(conditions)?;
        self.map.forward_array(&with_latent(x, z, 1), conditions)
    }

    /// The weak cost the map was trained under (`None`: strong cost, deterministic map).
    pub fn weak_cost(&self) -> Option<&WeakCost> {
        self.weak.as_ref()
    }

    /// Width of the map's latent input (0 for a deterministic map).
    pub fn latent_dim(&self) -> usize {
        self.weak.map_or(0, |w| w.latent_dim)
    }

    /// Saves the map's weights to `path` (`.npz`) and the critic's to `path` + `.critic.npz`, each
    /// atomically (temp file, then rename).
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let path = path.as_ref();
        self.map.save(path)?;
        self.critic.save(critic_path(path))
    }

    /// Loads what [`NctmModel::save`] wrote into this model, which must have the same architecture
    /// (a mismatch is an [`Error::Checkpoint`] and leaves the model untouched).
    pub fn load(&mut self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let path = path.as_ref();
        let (mut map, mut critic) = (self.map.clone(), self.critic.clone());
        map.load(path)?;
        critic.load(critic_path(path))?;
        (self.map, self.critic) = (map, critic);
        Ok(())
    }

    /// [`NctmModel::transport`] of every row under one condition.
    pub fn transport_at(
        &self,
        x: &Array2<f32>,
        categorical: &[usize],
        continuous: &[f32],
    ) -> Result<Array2<f32>> {
        if x.nrows() == 0 {
            return Err(Error::Empty("NctmModel::transport_at: no points".into()));
        }
        let cond = Conditions::repeat(categorical, continuous, x.nrows())?;
        self.transport(x, &cond)
    }

    /// The critic `f(y_i, c_i)`, `[N]`.
    pub fn critic_at(&self, y: &Array2<f32>, conditions: &Conditions) -> Result<Array1<f32>> {
        self.space.check(conditions)?;
        Ok(self.critic.forward_array(y, conditions)?.column(0).to_owned())
    }

    /// `n` source points and `n` target points under one condition (from the training samplers).
    pub fn sample_pair(
        &self,
        rng: &mut SeededRng,
        categorical: &[usize],
        continuous: &[f32],
        n: usize,
    ) -> Result<(Array2<f32>, Array2<f32>)> {
        let cond = Conditions::repeat(categorical, continuous, n)?;
        self.space.check(&cond)?;
        let x = sample_checked(&*self.source, rng, &cond, self.dim, "source")?;
        let y = sample_checked(&*self.target, rng, &cond, self.dim, "target")?;
        Ok((x, y))
    }

    /// The condition space.
    pub fn space(&self) -> &ConditionSpace {
        &self.space
    }

    /// The data dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The conditions training drew from.
    pub fn train_conditions(&self) -> &Conditions {
        &self.train_conditions
    }

    /// The conditions the figure draws.
    pub fn plot_conditions(&self) -> &Conditions {
        &self.plot_conditions
    }

    fn condition_panel(&self, i: usize, rng: &mut SeededRng) -> Result<Figure> {
        let (cat, cont) = self.plot_conditions.row(i)?;
        let (x, y) = self.sample_pair(rng, &cat, &cont, defaults::PLOT_SAMPLES)?;
        let cond = Conditions::repeat(&cat, &cont, x.nrows())?;
        let pushed = self.sample_transport(rng, &x, &cond)?;
        let mut fig = Figure::new().title(&self.plot_conditions.describe(i)?);
        if self.dim >= 2 {
            let (x2, y2, p2) = (
                x.slice(ndarray::s![.., 0..2]).to_owned(),
                y.slice(ndarray::s![.., 0..2]).to_owned(),
                pushed.slice(ndarray::s![.., 0..2]).to_owned(),
            );
            fig = fig
                .scatter(&x2, "source")
                .scatter(&y2, "target")
                .scatter(&p2, "pushforward")
                .equal_aspect();
        } else {
            let col = |a: &Array2<f32>| -> Vec<f64> { a.column(0).iter().map(|&v| v as f64).collect() };
            let index: Vec<f64> = (0..x.nrows()).map(|k| k as f64).collect();
            fig = fig
                .line_xy(&col(&x), &index, "source")
                .line_xy(&col(&y), &index, "target")
                .line_xy(&col(&pushed), &index, "pushforward");
        }
        Ok(fig)
    }
}

impl Plot for NctmModel {
    fn figure(&self) -> Figure {
        let mut rng = rng(self.seed.wrapping_add(1));
        let mut panels = Vec::new();
        for i in 0..self.plot_conditions.len() {
            match self.condition_panel(i, &mut rng) {
                Ok(p) => panels.push(p),
                Err(e) => return Figure::failed(e),
            }
        }
        let h = &self.history;
        if !h.critic_loss.is_empty() {
            panels.push(
                Figure::new()
                    .title("minimax")
                    .loss_curve(&h.critic_loss, "critic L_f")
                    .loss_curve(&h.transport_cost, "transport cost"),
            );
        }
        if !h.pretrain_map_loss.is_empty() {
            panels.push(
                Figure::new()
                    .title("pre-training")
                    .loss_curve(&h.pretrain_map_loss, "|T − id|²")
                    .loss_curve(&h.pretrain_critic_loss, "E f²"),
            );
        }
        Figure::grid(3, panels)
    }
}

impl NctmModel {
    /// Draws the model inline in a notebook (source, target, pushforward per condition, loss curves).
    pub fn evcxr_display(&self) {
        Plot::evcxr_display(self)
    }
}

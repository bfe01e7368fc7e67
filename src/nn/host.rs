//! A host (ndarray) copy of an [`Mlp`] for inner loops that only need values and input gradients.
//!
//! The c-transform evaluates a small potential network and its input gradient hundreds of times per
//! training step on a few hundred points, with frozen weights. Through dfdx every evaluation pays
//! for tape bookkeeping, broadcasts and allocations that dwarf the arithmetic of a 4×64 network; a
//! snapshot of the weights as ndarray matrices does the same two passes several times faster. It is
//! tested against the taped pass ([`Mlp::forward`], [`Mlp::input_gradient`]). [`HostFilmMlp`] is the
//! same for FiLM-conditioned networks; both run one forward pass and one pull-back of output gradients.

use super::{tensor_to_array, Activation, ConditionalMlp, FilmMlp, Mlp, TensorDevice};
use crate::error::{Error, Result};
use ndarray::{Array1, Array2, ArrayView2, Axis, Zip};

/// Frozen weights of an [`Mlp`] on the host; see the module docs.
#[derive(Debug, Clone)]
pub struct HostMlp {
    weights: Vec<Array2<f32>>,
    biases: Vec<Array1<f32>>,
    activation: Activation,
    blas: bool,
}

impl HostMlp {
    /// Copies the current weights of `mlp` to the host.
    pub fn snapshot<D: TensorDevice<f32>>(mlp: &Mlp<D>) -> Self {
        let (weights, biases) = mlp
            .layers()
            .iter()
            .map(|layer| {
                (
                    tensor_to_array(layer.weight()),
                    tensor_to_array(layer.bias()).row(0).to_owned(),
                )
            })
            .unzip();
        HostMlp {
            weights,
            biases,
            activation: mlp.activation(),
            blas: false,
        }
    }

    /// The same network with its layers through OpenBLAS ([`super::blas`]): for wide layers (the
    /// 1024-wide spline amortiser) about twice dfdx's throughput and three times ndarray's `dot`
    /// (`examples/amortiser_forward.rs`). Values equal the default pass's up to f32 rounding (the
    /// summation order differs). OpenBLAS threads itself, so call it from outside parallel loops.
    pub fn with_blas(mut self) -> Self {
        self.blas = true;
        self
    }

    /// Input width.
    pub fn in_dim(&self) -> usize {
        self.weights[0].nrows()
    }

    /// Output width.
    pub fn out_dim(&self) -> usize {
        self.weights[self.weights.len() - 1].ncols()
    }

    /// f(x) for `x: [N, in]`.
    pub fn forward(&self, x: &Array2<f32>) -> Result<Array2<f32>> {
        self.check_input("HostMlp::forward", x)?;
        Ok(self.run(x.view(), None, false)?.0)
    }

    /// f(x) `[N]` and ∇ₓf(x) `[N, in]` for a scalar-output network, in one forward and one
    /// backward pass.
    pub fn value_and_gradient(&self, x: &Array2<f32>) -> Result<(Array1<f32>, Array2<f32>)> {
        self.check_input("HostMlp::value_and_gradient", x)?;
        if self.out_dim() != 1 {
            return Err(Error::shape(
                "HostMlp::value_and_gradient",
                "1 output",
                format!("{} outputs", self.out_dim()),
            ));
        }
        let (value, trace) = self.run(x.view(), None, true)?;
        let gradient = self.pull_back(&trace, &Array2::ones((x.nrows(), 1)));
        Ok((value.remove_axis(Axis(1)), gradient))
    }

    /// The forward pass, each hidden layer `σ(γ ⊙ (h W + b) + β)` with FiLM's `(γ, β)` when given
    /// (else `σ(h W + b)`), keeping `γ ⊙ σ'(z)` per hidden layer when asked (for [`Self::pull_back`]).
    fn run(
        &self,
        x: ArrayView2<'_, f32>,
        modulations: Option<&Modulations>,
        keep_trace: bool,
    ) -> Result<(Array2<f32>, HostFilmTrace)> {
        let last = self.weights.len() - 1;
        let activation = self.activation;
        let mut gains = Vec::with_capacity(if keep_trace { last } else { 0 });
        let mut h = x.to_owned();
        for (i, (w, b)) in self.weights[..last].iter().zip(&self.biases).enumerate() {
            let mut z = self.affine(h.view(), w, b)?;
            if let Some(film) = modulations {
                // γ ⊙ z + β row by row, reading each row's (γ, β) from its distinct condition.
                let (gamma, beta) = &film.layers[i];
                for (mut row, &k) in z.rows_mut().into_iter().zip(&film.index) {
                    Zip::from(&mut row)
                        .and(gamma.row(k))
                        .and(beta.row(k))
                        .for_each(|z, &g, &b| *z = g * *z + b);
                }
            }
            if keep_trace {
                let mut gain = z.mapv(|v| activation.slope(v));
                if let Some(film) = modulations {
                    let gamma = &film.layers[i].0;
                    for (mut row, &k) in gain.rows_mut().into_iter().zip(&film.index) {
                        row *= &gamma.row(k);
                    }
                }
                gains.push(gain);
            }
            z.mapv_inplace(|v| activation.value(v));
            h = z;
        }
        let out = self.affine(h.view(), &self.weights[last], &self.biases[last])?;
        Ok((out, HostFilmTrace { gains }))
    }

    fn affine(&self, h: ArrayView2<'_, f32>, w: &Array2<f32>, b: &Array1<f32>) -> Result<Array2<f32>> {
        if self.blas {
            super::blas::affine(h, w.view(), b.view())
        } else {
            Ok(h.dot(w) + b)
        }
    }

    /// ∂/∂x of `Σ grad_out ⊙ f(x)` from a trace of [`Self::run`]: `delta ← (delta ⊙ gain) Wᵀ`,
    /// layer by layer.
    fn pull_back(&self, trace: &HostFilmTrace, grad_out: &Array2<f32>) -> Array2<f32> {
        let last = self.weights.len() - 1;
        let mut delta = grad_out.dot(&self.weights[last].t());
        for (w, gain) in self.weights[..last].iter().zip(&trace.gains).rev() {
            delta *= gain;
            delta = delta.dot(&w.t());
        }
        delta
    }

    /// The same network followed by the linear map `x ↦ x·map` (`map: [out, k]`), folded into the
    /// last layer: `W ← W·map`, `b ← b·map`. When only a linear function of the outputs is needed
    /// (a spline read at one time from predicted spline parameters, say) the last layer shrinks to
    /// `k` columns.
    pub fn compose_output(&self, map: &Array2<f32>) -> Result<HostMlp> {
        if map.nrows() != self.out_dim() {
            return Err(Error::shape(
                "HostMlp::compose_output",
                format!("[{}, k]", self.out_dim()),
                format!("{:?}", map.dim()),
            ));
        }
        let mut composed = self.clone();
        let last = composed.weights.len() - 1;
        composed.weights[last] = self.weights[last].dot(map);
        composed.biases[last] = self.biases[last].dot(map);
        Ok(composed)
    }

    fn check_input(&self, context: &str, x: &Array2<f32>) -> Result<()> {
        if x.ncols() != self.in_dim() {
            return Err(Error::shape(
                context,
                format!("[N, {}]", self.in_dim()),
                format!("{:?}", x.dim()),
            ));
        }
        if x.nrows() == 0 {
            return Err(Error::Empty(format!("{context}: no rows")));
        }
        Ok(())
    }
}

/// Frozen weights of a FiLM-conditioned network ([`FilmMlp`], or either form of a
/// [`ConditionalMlp`]) on the host: values, and pull-backs of output gradients to the input.
///
/// Each hidden layer computes `σ(γ(c) ⊙ (h W + b) + β(c))`, as [`FilmMlp::forward`] does. The
/// condition nets depend on `c` alone, so they are evaluated once per distinct condition row: with
/// categorical conditions (one-hot rows) that is once per class, whatever the batch size.
#[derive(Debug, Clone)]
pub struct HostFilmMlp {
    trunk: HostMlp,
    /// One condition net per hidden layer, producing `(γ − 1, β)`; empty when unconditional.
    films: Vec<HostMlp>,
}

/// What [`HostFilmMlp::forward_traced`] keeps for [`HostFilmMlp::pull_back`]: `γ ⊙ σ'(z)` of every
/// hidden layer.
#[derive(Debug, Clone)]
pub struct HostFilmTrace {
    gains: Vec<Array2<f32>>,
}

impl HostFilmMlp {
    /// Copies the current weights of a FiLM network.
    pub fn snapshot_film<D: TensorDevice<f32>>(net: &FilmMlp<D>) -> Self {
        HostFilmMlp {
            trunk: HostMlp::snapshot(net.trunk()),
            films: net
                .films()
                .iter()
                .map(|f| HostMlp::snapshot(f.condition_net()))
                .collect(),
        }
    }

    /// Copies the current weights of a plain network (no condition).
    pub fn snapshot_plain<D: TensorDevice<f32>>(net: &Mlp<D>) -> Self {
        HostFilmMlp {
            trunk: HostMlp::snapshot(net),
            films: Vec::new(),
        }
    }

    /// Copies the current weights of either form of a [`ConditionalMlp`].
    pub fn snapshot<D: TensorDevice<f32>>(net: &ConditionalMlp<D>) -> Self {
        match net {
            ConditionalMlp::Plain(m) => Self::snapshot_plain(m),
            ConditionalMlp::Film(m) => Self::snapshot_film(m),
        }
    }

    /// Input width.
    pub fn in_dim(&self) -> usize {
        self.trunk.in_dim()
    }

    /// Output width.
    pub fn out_dim(&self) -> usize {
        self.trunk.out_dim()
    }

    /// Condition width (0 when unconditional).
    pub fn cond_dim(&self) -> usize {
        self.films.first().map_or(0, |f| f.in_dim())
    }

    /// `f(x | c)` for `x: [N, in]`, `c: [N, cond_dim]` (`None` or zero-width when unconditional).
    pub fn forward(&self, x: &Array2<f32>, cond: Option<&Array2<f32>>) -> Result<Array2<f32>> {
        Ok(self.run(x, cond, false)?.0)
    }

    /// [`HostFilmMlp::forward`], keeping what [`HostFilmMlp::pull_back`] needs.
    pub fn forward_traced(
        &self,
        x: &Array2<f32>,
        cond: Option<&Array2<f32>>,
    ) -> Result<(Array2<f32>, HostFilmTrace)> {
        self.run(x, cond, true)
    }

    /// ∂/∂x of `Σ grad_out ⊙ f(x | c)`, `[N, in]`: the input gradient of any scalar function of the
    /// outputs whose output gradient is `grad_out: [N, out]`.
    pub fn pull_back(&self, trace: &HostFilmTrace, grad_out: &Array2<f32>) -> Result<Array2<f32>> {
        let rows = trace.gains.first().map_or(grad_out.nrows(), |g| g.nrows());
        if grad_out.dim() != (rows, self.out_dim()) {
            return Err(Error::shape(
                "HostFilmMlp::pull_back",
                format!("[{rows}, {}]", self.out_dim()),
                format!("{:?}", grad_out.dim()),
            ));
        }
        Ok(self.trunk.pull_back(trace, grad_out))
    }

    fn run(
        &self,
        x: &Array2<f32>,
        cond: Option<&Array2<f32>>,
        keep_trace: bool,
    ) -> Result<(Array2<f32>, HostFilmTrace)> {
        self.trunk.check_input("HostFilmMlp::forward", x)?;
        let modulations = self.modulations(x.nrows(), cond)?;
        self.trunk.run(x.view(), modulations.as_ref(), keep_trace)
    }

    /// `(γ, β)` of every FiLM layer for the distinct condition rows, and each row's distinct index;
    /// `None` for an unconditional network.
    fn modulations(&self, rows: usize, cond: Option<&Array2<f32>>) -> Result<Option<Modulations>> {
        let cond = match (cond, self.films.is_empty()) {
            (_, true) => return Ok(None),
            (Some(c), false) if c.ncols() > 0 => c,
            _ => {
                return Err(Error::InvalidArgument(
                    "this network is conditional but was given no conditions".into(),
                ))
            }
        };
        if cond.dim() != (rows, self.cond_dim()) {
            return Err(Error::shape(
                "HostFilmMlp condition",
                format!("[{rows}, {}]", self.cond_dim()),
                format!("{:?}", cond.dim()),
            ));
        }
        let (distinct, index) = distinct_rows(cond);
        let layers = self
            .films
            .iter()
            .map(|film| {
                let k = film.out_dim() / 2;
                let scale_shift = film.forward(&distinct)?;
                let gamma = scale_shift.slice(ndarray::s![.., ..k]).mapv(|v| v + 1.0);
                let beta = scale_shift.slice(ndarray::s![.., k..]).to_owned();
                Ok((gamma, beta))
            })
            .collect::<Result<_>>()?;
        Ok(Some(Modulations { layers, index }))
    }
}

/// FiLM's `(γ, β)` per layer for the distinct condition rows `[U, width]`, and the distinct row of
/// every input row.
struct Modulations {
    layers: Vec<(Array2<f32>, Array2<f32>)>,
    index: Vec<usize>,
}

/// The distinct rows of `c` (first occurrence order) and, for every row, the index of its copy.
fn distinct_rows(c: &Array2<f32>) -> (Array2<f32>, Vec<usize>) {
    let mut seen: std::collections::HashMap<Vec<u32>, usize> = std::collections::HashMap::new();
    let mut firsts = Vec::new();
    let index = c
        .rows()
        .into_iter()
        .enumerate()
        .map(|(r, row)| {
            let key: Vec<u32> = row.iter().map(|v| v.to_bits()).collect();
            *seen.entry(key).or_insert_with(|| {
                firsts.push(r);
                firsts.len() - 1
            })
        })
        .collect();
    (c.select(Axis(0), &firsts), index)
}

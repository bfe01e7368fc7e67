//! Learned metrics G(q | x) = Rᵀ diag(e) R: a network predicts rotation angles (a product of Givens
//! rotations gives R) and, in HTI's variant, the eigenvalues e under a fixed budget (HTI spec §2.2).
//!
//! Parameterising the eigen-decomposition keeps G symmetric positive definite by construction and
//! bounds its eigenvalues, so metric learning cannot collapse the cost to zero. NLOT's learned 2-D
//! metric is the same family with fixed eigenvalues (1, 0.1) (NLOT spec §6).

use dfdx::prelude::*;
use ndarray::{s, Array1, Array2, Array3, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::ops::{check_points, column, columns, matrix_from_quadratic_form, select_columns};
use super::{check_same_shape, forward_tape, Condition, Metric, Points, Scalars};
use crate::error::{Error, Result};
use crate::nn::{
    array_to_tensor, tensor_to_array, Activation, FilmMlp, HostFilmMlp, Mlp, Param, Taped, TensorDevice,
    Trainable,
};

/// Keeps the angle normalisation finite when a network outputs (0, 0) for a pair.
const ANGLE_EPS: f32 = 1e-12;

/// How the eigenvalues e of G are chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Eigenvalues {
    /// Fixed e (one per dimension, all positive); the network predicts only the rotation.
    /// NLOT's learned metric: e = (1, 0.1).
    Fixed(Vec<f32>),
    /// HTI's budget: w = softmax(temperature · o), e_i = clip(min + w_i·(B/d)·(max − min), min, max),
    /// so Σ e_i = d·min + (B/d)(max − min) while the clip is inactive (always, for B ≤ d).
    /// HTI: min 0.1, max 1, B = d (`budget: None`), temperature 1 ⇒ e_i = 0.1 + 0.9 w_i.
    Budget {
        /// Smallest eigenvalue λ_min.
        min: f32,
        /// Largest eigenvalue λ_max.
        max: f32,
        /// The budget B; `None` means B = d (HTI's default).
        budget: Option<f32>,
        /// Softmax temperature τ (HTI: 1).
        temperature: f32,
    },
}

impl Eigenvalues {
    /// NLOT's fixed eigenvalues (1, 0.1).
    pub fn nlot() -> Self {
        Eigenvalues::Fixed(vec![1.0, 0.1])
    }

    /// HTI's budget: min 0.1, max 1, B = d, temperature 1.
    pub fn hti() -> Self {
        Eigenvalues::Budget {
            min: 0.1,
            max: 1.0,
            budget: None,
            temperature: 1.0,
        }
    }

    /// Σ e_i in `dim` dimensions (the trace of G at every point).
    ///
    /// ```
    /// use lagrangian_ot::lagrangian::Eigenvalues;
    /// assert!((Eigenvalues::hti().trace(2) - 1.1).abs() < 1e-6);
    /// assert!((Eigenvalues::hti().trace(3) - 1.2).abs() < 1e-6);
    /// assert!((Eigenvalues::nlot().trace(2) - 1.1).abs() < 1e-6);
    /// ```
    pub fn trace(&self, dim: usize) -> f32 {
        match self {
            Eigenvalues::Fixed(e) => e.iter().sum(),
            Eigenvalues::Budget { min, max, .. } => dim as f32 * min + self.scale(dim) * (max - min),
        }
    }

    /// B/d of the budget form (0 for fixed eigenvalues).
    fn scale(&self, dim: usize) -> f32 {
        match self {
            Eigenvalues::Fixed(_) => 0.0,
            Eigenvalues::Budget { budget, .. } => budget.unwrap_or(dim as f32) / dim as f32,
        }
    }

    /// Number of network outputs spent on eigenvalues.
    fn logits(&self, dim: usize) -> usize {
        match self {
            Eigenvalues::Fixed(_) => 0,
            Eigenvalues::Budget { .. } => dim,
        }
    }

    fn validate(&self, dim: usize) -> Result<()> {
        let ok = match self {
            Eigenvalues::Fixed(e) => {
                if e.len() != dim {
                    return Err(Error::shape(
                        "Eigenvalues::Fixed",
                        format!("{dim} eigenvalues"),
                        e.len().to_string(),
                    ));
                }
                e.iter().all(|v| v.is_finite() && *v > 0.0)
            }
            Eigenvalues::Budget {
                min,
                max,
                budget,
                temperature,
            } => {
                min.is_finite()
                    && max.is_finite()
                    && *min > 0.0
                    && min <= max
                    && temperature.is_finite()
                    && *temperature > 0.0
                    && budget.is_none_or(|b| b.is_finite() && b > 0.0)
            }
        };
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidArgument(format!(
                "eigenvalues must be positive and finite (0 < min <= max, positive budget and temperature), got {self:?}"
            )))
        }
    }
}

/// The network behind a [`GivensMetric`]: plain in q, or FiLM-conditioned on x.
#[derive(Debug, Clone)]
enum MetricNet<D: TensorDevice<f32>> {
    Plain(Mlp<D>),
    Film(FilmMlp<D>),
}

/// Describes a [`GivensMetric`]; see [`GivensMetric::builder`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GivensMetricBuilder {
    dim: usize,
    hidden: Vec<usize>,
    activation: Activation,
    cond_dim: Option<usize>,
    cond_hidden: Vec<usize>,
    eigenvalues: Eigenvalues,
}

impl GivensMetricBuilder {
    /// Hidden widths of the network (default `[128, 128]`, as in both papers).
    pub fn hidden(mut self, widths: &[usize]) -> Self {
        self.hidden = widths.to_vec();
        self
    }

    /// Hidden activation (default leaky ReLU with slope 0.01, as in both papers).
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Makes the metric conditional on a `cond_dim`-wide x through FiLM layers (continuous
    /// features or one-hot labels). HTI modulates the first layer only; here every hidden layer is.
    pub fn condition(mut self, cond_dim: usize) -> Self {
        self.cond_dim = Some(cond_dim);
        self
    }

    /// Hidden widths of each FiLM condition net (default `[32]`, HTI's).
    pub fn cond_hidden(mut self, widths: &[usize]) -> Self {
        self.cond_hidden = widths.to_vec();
        self
    }

    /// How eigenvalues are chosen (default [`Eigenvalues::hti`]).
    pub fn eigenvalues(mut self, eigenvalues: Eigenvalues) -> Self {
        self.eigenvalues = eigenvalues;
        self
    }

    /// Number of network outputs: d eigenvalue logits (budget form only) and two per rotation
    /// pair, d(d − 1) (HTI: P = d² with the budget).
    pub fn num_outputs(&self) -> usize {
        self.eigenvalues.logits(self.dim) + self.dim * self.dim.saturating_sub(1)
    }

    /// Allocates the network on `dev`. Errors on d < 2, zero widths or invalid eigenvalues.
    pub fn build<D: TensorDevice<f32>>(&self, dev: &D) -> Result<GivensMetric<D>> {
        if self.dim < 2 {
            return Err(Error::InvalidArgument(format!(
                "a Givens metric needs at least 2 dimensions, got {}",
                self.dim
            )));
        }
        self.eigenvalues.validate(self.dim)?;
        let outputs = self.num_outputs();
        let net = match self.cond_dim {
            None => MetricNet::Plain(
                Mlp::builder(self.dim)
                    .hidden(&self.hidden)
                    .output(outputs)
                    .activation(self.activation)
                    .build(dev)?,
            ),
            Some(c) => {
                if c == 0 || self.hidden.is_empty() {
                    return Err(Error::InvalidArgument(
                        "a conditional Givens metric needs a positive condition width and a hidden layer"
                            .into(),
                    ));
                }
                MetricNet::Film(
                    FilmMlp::builder(self.dim, c)
                        .hidden(&self.hidden)
                        .output(outputs)
                        .activation(self.activation)
                        .cond_hidden(&self.cond_hidden)
                        .build(dev)?,
                )
            }
        };
        Ok(GivensMetric {
            net,
            dim: self.dim,
            eigenvalues: self.eigenvalues.clone(),
        })
    }
}

/// G(q | x) = Rᵀ diag(e) R with R = G₀₁ G₀₂ … G_{d−2,d−1}, one Givens rotation per coordinate pair
/// (lexicographic order), each angle φ = atan2(b, a) from two network outputs (a, b).
///
/// Output layout (HTI's): with the budget, outputs 0..d are eigenvalue logits and pair k reads
/// (a, b) = (o[d + 2k], o[d + 2k + 1]); with fixed eigenvalues (NLOT's metric) pair k reads
/// `θ = atan2(o[2k], o[2k + 1])`.
///
/// ```
/// use lagrangian_ot::lagrangian::{Eigenvalues, GivensMetric, Metric};
/// let dev = lagrangian_ot::device::default_device(0);
/// let metric = GivensMetric::builder(3).hidden(&[16]).build(&dev)?;
/// let q = ndarray::array![[0.1f32, -0.3, 0.7]];
/// let g = metric.matrix_at(&q, None)?;
/// let trace: f32 = (0..3).map(|i| g[[0, i, i]]).sum();
/// assert!((trace - Eigenvalues::hti().trace(3)).abs() < 1e-4);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct GivensMetric<D: TensorDevice<f32> = crate::device::Device> {
    net: MetricNet<D>,
    dim: usize,
    eigenvalues: Eigenvalues,
}

impl GivensMetric<crate::device::Device> {
    /// Starts describing a learned metric on `dim`-dimensional points.
    pub fn builder(dim: usize) -> GivensMetricBuilder {
        GivensMetricBuilder {
            dim,
            hidden: vec![128, 128],
            activation: Activation::LeakyReLU(0.01),
            cond_dim: None,
            cond_hidden: vec![32],
            eigenvalues: Eigenvalues::hti(),
        }
    }
}

impl<D: TensorDevice<f32>> GivensMetric<D> {
    /// NLOT's learned metric: 2 → 128 → 128 → 2 with leaky ReLU, θ = atan2(o₀, o₁),
    /// G = Rᵀ diag(1, 0.1) R.
    pub fn nlot(dev: &D) -> Result<Self> {
        GivensMetric::builder(2)
            .eigenvalues(Eigenvalues::nlot())
            .build(dev)
    }

    /// How the eigenvalues are chosen.
    pub fn eigenvalues(&self) -> &Eigenvalues {
        &self.eigenvalues
    }

    /// Whether the metric needs a condition x.
    pub fn is_conditional(&self) -> bool {
        matches!(self.net, MetricNet::Film(_))
    }

    fn device(&self) -> &D {
        match &self.net {
            MetricNet::Plain(mlp) => mlp.device(),
            MetricNet::Film(film) => film.trunk().device(),
        }
    }

    /// The raw network outputs `[M, P]` on q's tape.
    fn outputs(&self, q: Points<D>, cond: Option<&Condition<D>>) -> Result<Points<D>> {
        match (&self.net, cond) {
            (MetricNet::Plain(mlp), _) => mlp.forward(q),
            (MetricNet::Film(film), Some(c)) => film.forward(q, c),
            (MetricNet::Film(_), None) => Err(Error::InvalidArgument(
                "this Givens metric is conditional: pass a condition".into(),
            )),
        }
    }

    /// The eigenvalues `[M, d]` from the outputs (budget form), on their tape.
    fn budget_eigenvalues(&self, outputs: Points<D>) -> Result<Points<D>> {
        let d = self.dim;
        let (min, max, temperature) = match self.eigenvalues {
            Eigenvalues::Budget {
                min,
                max,
                temperature,
                ..
            } => (min, max, temperature),
            Eigenvalues::Fixed(_) => unreachable!("budget_eigenvalues is only called for the budget form"),
        };
        let weights = (select_columns(outputs, 0..d)? * temperature).softmax::<Axis<1>>();
        Ok((weights * (self.eigenvalues.scale(d) * (max - min)) + min).clamp(min, max))
    }

    /// (cos φ, sin φ) of every rotation pair, lexicographic order.
    fn rotations(&self, outputs: Points<D>) -> Result<Vec<(Scalars<D>, Scalars<D>)>> {
        let d = self.dim;
        let offset = self.eigenvalues.logits(d);
        let fixed = matches!(self.eigenvalues, Eigenvalues::Fixed(_));
        let pairs = d * (d - 1) / 2;
        let mut out = Vec::with_capacity(pairs);
        for k in 0..pairs {
            let first = column(outputs.retaped::<Taped<D>>(), offset + 2 * k)?;
            let second = column(outputs.retaped::<Taped<D>>(), offset + 2 * k + 1)?;
            // φ = atan2(y, x): NLOT's fixed metric reads (y, x), HTI's budget metric (x, y).
            let (x, y) = if fixed { (second, first) } else { (first, second) };
            let r = (x.retaped::<Taped<D>>().square() + y.retaped::<Taped<D>>().square() + ANGLE_EPS).sqrt();
            let cos = x / r.retaped::<Taped<D>>();
            let sin = y / r;
            out.push((cos, sin));
        }
        let (first_cos, first_sin) = out.remove(0);
        out.insert(0, (forward_tape(first_cos, outputs), first_sin));
        Ok(out)
    }

    /// The columns of R v, applying the Givens factors right to left.
    fn rotate(&self, v: Points<D>, rotations: Vec<(Scalars<D>, Scalars<D>)>) -> Result<Vec<Scalars<D>>> {
        let d = self.dim;
        let pairs: Vec<(usize, usize)> = (0..d).flat_map(|i| (i + 1..d).map(move |j| (i, j))).collect();
        let mut w: Vec<Option<Scalars<D>>> = columns(v)?.into_iter().map(Some).collect();
        for (&(i, j), (cos, sin)) in pairs.iter().zip(rotations).rev() {
            let (wi, wj) = match (w[i].take(), w[j].take()) {
                (Some(a), Some(b)) => (a, b),
                _ => unreachable!("every column is put back after each rotation"),
            };
            let new_j = wi.retaped::<Taped<D>>() * sin.retaped::<Taped<D>>()
                + wj.retaped::<Taped<D>>() * cos.retaped::<Taped<D>>();
            let new_i = wi * cos - wj * sin;
            w[i] = Some(new_i);
            w[j] = Some(new_j);
        }
        Ok(w.into_iter().flatten().collect())
    }

    /// The eigenvalues e `[M, d]` at host points (in the order of R's rows, not sorted).
    pub fn eigenvalues_at(&self, q: &Array2<f32>, cond: Option<&Array2<f32>>) -> Result<Array2<f32>> {
        super::check_host_points("GivensMetric::eigenvalues_at", q, self.dim)?;
        if let Eigenvalues::Fixed(e) = &self.eigenvalues {
            return Ok(Array2::from_shape_fn((q.nrows(), self.dim), |(_, i)| e[i]));
        }
        let dev = self.device();
        let q_t = array_to_tensor(dev, q, "eigenvalues_at points")?;
        let c_t = cond
            .map(|c| array_to_tensor(dev, c, "eigenvalues_at condition"))
            .transpose()?;
        let outputs = self.outputs(q_t.retaped::<Taped<D>>(), c_t.as_ref())?;
        Ok(tensor_to_array(&self.budget_eigenvalues(outputs)?))
    }
}

impl<D: TensorDevice<f32> + Send + Sync> Metric<D> for GivensMetric<D> {
    fn dim(&self) -> usize {
        self.dim
    }
    fn name(&self) -> String {
        match self.eigenvalues {
            Eigenvalues::Fixed(_) => "learned metric (fixed eigenvalues)".into(),
            Eigenvalues::Budget { .. } => "learned metric (eigenvalue budget)".into(),
        }
    }
    /// Σ_i e_i (R v)_i².
    fn squared_speed(&self, q: Points<D>, v: Points<D>, cond: Option<&Condition<D>>) -> Result<Scalars<D>> {
        check_same_shape("GivensMetric::squared_speed", &q, &v, self.dim)?;
        check_points("GivensMetric::squared_speed", &q, self.dim)?;
        let outputs = self.outputs(q, cond)?;
        let (eigen, rotation_outputs) = match self.eigenvalues {
            Eigenvalues::Fixed(_) => (None, outputs),
            Eigenvalues::Budget { .. } => (
                Some(columns(self.budget_eigenvalues(outputs.retaped::<Taped<D>>())?)?),
                outputs,
            ),
        };
        let rotated = self.rotate(v, self.rotations(rotation_outputs)?)?;
        let mut total: Option<Scalars<D>> = None;
        for (i, w) in rotated.into_iter().enumerate() {
            let term = match (&self.eigenvalues, &eigen) {
                (Eigenvalues::Fixed(e), _) => w.square() * e[i],
                (_, Some(cols)) => w.square() * cols[i].retaped::<Taped<D>>(),
                (_, None) => unreachable!("budget eigenvalues are computed above"),
            };
            total = Some(match total {
                Some(t) => t + term,
                None => term,
            });
        }
        let total = total.ok_or_else(|| Error::Empty("metric of dimension 0".into()))?;
        Ok(match eigen {
            Some(cols) => cols.into_iter().fold(total, forward_tape),
            None => total,
        })
    }
    fn matrix_at(&self, q: &Array2<f32>, cond: Option<&Array2<f32>>) -> Result<Array3<f32>> {
        matrix_from_quadratic_form(self.device(), self.dim, q, cond, |q, v, c| {
            self.squared_speed(q, v, c)
        })
    }
}

impl<D: TensorDevice<f32>> Trainable<D> for GivensMetric<D> {
    fn params(&self) -> Vec<&Param<D>> {
        match &self.net {
            MetricNet::Plain(mlp) => mlp.params(),
            MetricNet::Film(film) => film.params(),
        }
    }
    fn params_mut(&mut self) -> Vec<&mut Param<D>> {
        match &mut self.net {
            MetricNet::Plain(mlp) => mlp.params_mut(),
            MetricNet::Film(film) => film.params_mut(),
        }
    }
}

/// A [`GivensMetric`] with its weights frozen on the host ([`GivensMetric::frozen`]), for the inner
/// loops that move points and paths but not the metric: the c-transform and the spline amortiser's
/// fits.
///
/// The quadratic form vᵀG(q | x)v and its exact gradients in q and v are computed on the host, in
/// parallel over rows (one network pass forward, one back), and put on the tape as their tangent
/// plane at (q, v): exact in value and first derivative, which is all a backward pass uses
/// (nothing downstream differentiates twice). The taped metric records a few dozen small ops per
/// rotation pair; on HTI's semicircle geometry this is many times faster. No gradient reaches the
/// metric's weights: train them through [`GivensMetric`] itself.
#[derive(Debug, Clone)]
pub struct FrozenGivensMetric {
    net: HostFilmMlp,
    dim: usize,
    eigenvalues: Eigenvalues,
}

/// Rows per parallel task of [`FrozenGivensMetric`].
const FROZEN_CHUNK_ROWS: usize = 256;

impl<D: TensorDevice<f32>> GivensMetric<D> {
    /// A host copy of the current weights; see [`FrozenGivensMetric`].
    pub fn frozen(&self) -> FrozenGivensMetric {
        let net = match &self.net {
            MetricNet::Plain(mlp) => HostFilmMlp::snapshot_plain(mlp),
            MetricNet::Film(film) => HostFilmMlp::snapshot_film(film),
        };
        FrozenGivensMetric {
            net,
            dim: self.dim,
            eigenvalues: self.eigenvalues.clone(),
        }
    }
}

impl FrozenGivensMetric {
    /// Dimension of the points.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// vᵀG(q | x)v `[M]` with its gradients in q and in v (both `[M, d]`).
    ///
    /// ```
    /// use lagrangian_ot::lagrangian::GivensMetric;
    /// let dev = lagrangian_ot::device::default_device(0);
    /// let metric = GivensMetric::builder(2).hidden(&[16]).build(&dev)?.frozen();
    /// let q = ndarray::array![[0.1f32, -0.3]];
    /// let v = ndarray::array![[1.0f32, 0.5]];
    /// let (s, _d_q, d_v) = metric.squared_speed_and_gradients(&q, &v, None)?;
    /// // vᵀGv is quadratic in v: v·∇ᵥ = 2 vᵀGv.
    /// assert!((d_v[[0, 0]] * 1.0 + d_v[[0, 1]] * 0.5 - 2.0 * s[0]).abs() < 1e-5);
    /// # Ok::<(), lagrangian_ot::Error>(())
    /// ```
    pub fn squared_speed_and_gradients(
        &self,
        q: &Array2<f32>,
        v: &Array2<f32>,
        cond: Option<&Array2<f32>>,
    ) -> Result<(Array1<f32>, Array2<f32>, Array2<f32>)> {
        let d = self.dim;
        if q.ncols() != d || v.dim() != q.dim() {
            return Err(Error::shape(
                "FrozenGivensMetric",
                format!("q and v both [M, {d}]"),
                format!("q {:?}, v {:?}", q.dim(), v.dim()),
            ));
        }
        let m = q.nrows();
        if m == 0 {
            return Err(Error::Empty("FrozenGivensMetric: no points".into()));
        }
        let starts: Vec<usize> = (0..m).step_by(FROZEN_CHUNK_ROWS).collect();
        let parts = starts
            .into_par_iter()
            .map(|start| {
                let rows = start..(start + FROZEN_CHUNK_ROWS).min(m);
                let cond = cond.map(|c| c.slice(s![rows.clone(), ..]).to_owned());
                self.chunk(
                    &q.slice(s![rows.clone(), ..]).to_owned(),
                    v.slice(s![rows, ..]),
                    cond.as_ref(),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let mut speed = Vec::with_capacity(m);
        let mut d_q = Vec::with_capacity(m * d);
        let mut d_v = Vec::with_capacity(m * d);
        for (s, gq, gv) in parts {
            speed.extend(s);
            d_q.extend(gq.iter());
            d_v.extend(gv.iter());
        }
        let shape_err = |e: ndarray::ShapeError| Error::shape("FrozenGivensMetric", "[M, d]", e.to_string());
        Ok((
            Array1::from(speed),
            Array2::from_shape_vec((m, d), d_q).map_err(shape_err)?,
            Array2::from_shape_vec((m, d), d_v).map_err(shape_err)?,
        ))
    }

    fn chunk(
        &self,
        q: &Array2<f32>,
        v: ArrayView2<'_, f32>,
        cond: Option<&Array2<f32>>,
    ) -> Result<(Vec<f32>, Array2<f32>, Array2<f32>)> {
        let (outputs, trace) = self.net.forward_traced(q, cond)?;
        let mut d_outputs = Array2::zeros(outputs.dim());
        let mut d_v = Array2::zeros(v.dim());
        let speed = outputs
            .rows()
            .into_iter()
            .zip(v.rows())
            .zip(d_outputs.rows_mut())
            .zip(d_v.rows_mut())
            .map(|(((o, v), go), gv)| {
                self.quadratic_form(
                    o.as_slice().expect("rows of an owned array are contiguous"),
                    &v.to_vec(),
                    go.into_slice().expect("rows of an owned array are contiguous"),
                    gv.into_slice().expect("rows of an owned array are contiguous"),
                )
            })
            .collect();
        let d_q = self.net.pull_back(&trace, &d_outputs)?;
        Ok((speed, d_q, d_v))
    }

    /// vᵀGv of one row from the network outputs `o`, writing ∂/∂o into `d_o` and ∂/∂v into `d_v`.
    /// The same arithmetic as [`GivensMetric`]'s taped ops, differentiated by hand.
    fn quadratic_form(&self, o: &[f32], v: &[f32], d_o: &mut [f32], d_v: &mut [f32]) -> f32 {
        let d = self.dim;
        let offset = self.eigenvalues.logits(d);
        let fixed = matches!(self.eigenvalues, Eigenvalues::Fixed(_));
        // Eigenvalues (budget form: softmax of the logits, scaled into [min, max]).
        let (eigen, softmax, clipped) = match &self.eigenvalues {
            Eigenvalues::Fixed(e) => (e.clone(), Vec::new(), Vec::new()),
            Eigenvalues::Budget {
                min,
                max,
                temperature,
                ..
            } => {
                let z: Vec<f32> = o[..d].iter().map(|v| v * temperature).collect();
                let top = z.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
                let exp: Vec<f32> = z.iter().map(|v| (v - top).exp()).collect();
                let total: f32 = exp.iter().sum();
                let w: Vec<f32> = exp.iter().map(|v| v / total).collect();
                let spread = self.eigenvalues.scale(d) * (max - min);
                let raw: Vec<f32> = w.iter().map(|w| min + w * spread).collect();
                let clipped = raw.iter().map(|&e| e < *min || e > *max).collect();
                (raw.iter().map(|e| e.clamp(*min, *max)).collect(), w, clipped)
            }
        };
        // Rotation angles: (cos, sin) from (x, y) = one pair of outputs, r = |(x, y)|.
        let pairs: Vec<(usize, usize)> = (0..d).flat_map(|i| (i + 1..d).map(move |j| (i, j))).collect();
        let angle = |k: usize| {
            let (a, b) = (o[offset + 2 * k], o[offset + 2 * k + 1]);
            let (x, y) = if fixed { (b, a) } else { (a, b) };
            let r = (x * x + y * y + ANGLE_EPS).sqrt();
            (x, y, r)
        };
        // R v, the factors applied right to left; `before[k]` holds the pair's inputs.
        let mut w = v.to_vec();
        let mut before = vec![(0.0f32, 0.0f32); pairs.len()];
        for (k, &(i, j)) in pairs.iter().enumerate().rev() {
            let (x, y, r) = angle(k);
            let (cos, sin) = (x / r, y / r);
            before[k] = (w[i], w[j]);
            let (wi, wj) = (w[i], w[j]);
            w[i] = wi * cos - wj * sin;
            w[j] = wi * sin + wj * cos;
        }
        let speed: f32 = w.iter().zip(&eigen).map(|(w, e)| e * w * w).sum();
        // Backward: through Σ e_i w_i², then the rotations in the order opposite to application.
        let mut g: Vec<f32> = w.iter().zip(&eigen).map(|(w, e)| 2.0 * e * w).collect();
        d_o.iter_mut().for_each(|v| *v = 0.0);
        for (k, &(i, j)) in pairs.iter().enumerate() {
            let (x, y, r) = angle(k);
            let (cos, sin) = (x / r, y / r);
            let (wi, wj) = before[k];
            let (gi, gj) = (g[i], g[j]);
            g[i] = gi * cos + gj * sin;
            g[j] = -gi * sin + gj * cos;
            let d_cos = gi * wi + gj * wj;
            let d_sin = -gi * wj + gj * wi;
            let r3 = r * r * r;
            let d_x = d_cos * (1.0 / r - x * x / r3) - d_sin * x * y / r3;
            let d_y = -d_cos * x * y / r3 + d_sin * (1.0 / r - y * y / r3);
            let (d_a, d_b) = if fixed { (d_y, d_x) } else { (d_x, d_y) };
            d_o[offset + 2 * k] = d_a;
            d_o[offset + 2 * k + 1] = d_b;
        }
        d_v.copy_from_slice(&g);
        if let Eigenvalues::Budget {
            min,
            max,
            temperature,
            ..
        } = &self.eigenvalues
        {
            let spread = self.eigenvalues.scale(d) * (max - min);
            // ∂/∂w_i of Σ e_i w_i² (w here: the rotated v) through e_i = min + spread·softmax_i.
            let d_weight: Vec<f32> = (0..d)
                .map(|i| if clipped[i] { 0.0 } else { w[i] * w[i] * spread })
                .collect();
            let mean: f32 = d_weight.iter().zip(&softmax).map(|(g, p)| g * p).sum();
            for i in 0..d {
                d_o[i] = temperature * softmax[i] * (d_weight[i] - mean);
            }
        }
        speed
    }
}

impl<D: TensorDevice<f32> + Send + Sync> Metric<D> for FrozenGivensMetric {
    fn dim(&self) -> usize {
        self.dim
    }
    fn name(&self) -> String {
        "learned metric (frozen)".into()
    }
    /// Computed on the host and put on the tape as its tangent plane at (q, v).
    fn squared_speed(&self, q: Points<D>, v: Points<D>, cond: Option<&Condition<D>>) -> Result<Scalars<D>> {
        check_same_shape("FrozenGivensMetric::squared_speed", &q, &v, self.dim)?;
        check_points("FrozenGivensMetric::squared_speed", &q, self.dim)?;
        let (q_host, v_host) = (tensor_to_array(&q), tensor_to_array(&v));
        let cond_host = cond.map(tensor_to_array);
        let (speed, d_q, d_v) = self.squared_speed_and_gradients(&q_host, &v_host, cond_host.as_ref())?;
        // Tangent plane: s(q, v) ≈ s₀ + ∇q·(q − q₀) + ∇v·(v − v₀); the constant is s₀ − ∇q·q₀ − ∇v·v₀.
        let offset: Vec<f32> = (0..speed.len())
            .map(|r| speed[r] - d_q.row(r).dot(&q_host.row(r)) - d_v.row(r).dot(&v_host.row(r)))
            .collect();
        let dev = q.device().clone();
        let slope_q = array_to_tensor(&dev, &d_q, "frozen metric q-gradient")?;
        let slope_v = array_to_tensor(&dev, &d_v, "frozen metric v-gradient")?;
        let offset = dev.tensor_from_vec(offset, (speed.len(),));
        Ok((q * slope_q).sum::<(usize,), Axis<1>>() + (v * slope_v).sum::<(usize,), Axis<1>>() + offset)
    }
    /// Column j of G is ½∇ᵥ(vᵀGv) at v = e_j.
    fn matrix_at(&self, q: &Array2<f32>, cond: Option<&Array2<f32>>) -> Result<Array3<f32>> {
        super::check_host_points("FrozenGivensMetric::matrix_at", q, self.dim)?;
        let (m, d) = q.dim();
        let mut out = Array3::zeros((m, d, d));
        for j in 0..d {
            let v = Array2::from_shape_fn((m, d), |(_, i)| if i == j { 1.0 } else { 0.0 });
            let (_, _, d_v) = self.squared_speed_and_gradients(q, &v, cond)?;
            out.slice_mut(s![.., .., j]).assign(&(d_v * 0.5));
        }
        Ok(out)
    }
}

//! HTI's density potential U(q | x) = α·log(p̂(q | x) + ε) (HTI spec §3.3): a Gaussian kernel
//! density of the training samples, conditional on x by Nadaraya–Watson weights (continuous x) or by
//! restricting to the samples of the same label (categorical x).
//!
//! Because U is large where data are dense and the Lagrangian subtracts it, least-action paths are
//! drawn through regions the observed data occupy.

use dfdx::prelude::*;
use ndarray::{Array1, Array2};
use rayon::prelude::*;

use super::ops::check_points;
use super::{Bounds, Condition, Points, Potential, Scalars};
use crate::error::{Error, Result};
use crate::nn::{array_to_tensor, Tensor2, TensorDevice};

/// How the density depends on the condition x.
#[derive(Debug, Clone, PartialEq)]
pub enum KdeConditioning {
    /// p̂(q) = (1/N) Σ_i K_h(q − y_i); conditions are ignored.
    None,
    /// Nadaraya–Watson: p̂(q | x) = Σ_i K_h(q − y_i) K_hx(x − x_i) / max(Σ_j K_hx(x − x_j), 1e-8).
    Continuous {
        /// The samples' conditions `[N, C]`.
        features: Array2<f32>,
        /// The condition bandwidth h_x (HTI: 1).
        bandwidth: f32,
    },
    /// p̂(q | c) = (1/max(N_c, 1)) Σ_{i: c_i = c} K_h(q − y_i). A condition is then either one column
    /// holding the label or a one-hot row of `num_categories` columns.
    Categorical {
        /// The samples' labels.
        labels: Vec<usize>,
        /// Number of categories (labels are `0..num_categories`).
        num_categories: usize,
    },
}

/// Describes a [`KdePotential`]; see [`KdePotential::builder`].
#[derive(Debug, Clone, PartialEq)]
pub struct KdePotentialBuilder {
    samples: Array2<f32>,
    bandwidth: f32,
    alpha: f32,
    epsilon: f32,
    conditioning: KdeConditioning,
    bounds: Option<Bounds>,
}

impl KdePotentialBuilder {
    /// The kernel bandwidth h over the points (default 1; HTI uses 0.05 on the semicircles, 0.2 on
    /// two moons, 1 on cancer and quantiles, 2 on reacher).
    pub fn bandwidth(mut self, h: f32) -> Self {
        self.bandwidth = h;
        self
    }

    /// The weight α (HTI's `lambda`; default 0.01; 0.05 on the semicircles, 0.001 on reacher).
    pub fn alpha(mut self, alpha: f32) -> Self {
        self.alpha = alpha;
        self
    }

    /// The floor ε inside the log (default 1e-8, so U ≥ α·log 1e-8).
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Conditions on continuous features `[N, C]` (one row per sample) with bandwidth `h_x`.
    pub fn continuous(mut self, features: &Array2<f32>, h_x: f32) -> Self {
        self.conditioning = KdeConditioning::Continuous {
            features: features.clone(),
            bandwidth: h_x,
        };
        self
    }

    /// Conditions on a label per sample, `0..num_categories`.
    pub fn categorical(mut self, labels: &[usize], num_categories: usize) -> Self {
        self.conditioning = KdeConditioning::Categorical {
            labels: labels.to_vec(),
            num_categories,
        };
        self
    }

    /// The domain for drawing (default: the samples' bounding box, padded by 3 bandwidths).
    pub fn bounds(mut self, bounds: Bounds) -> Self {
        self.bounds = Some(bounds);
        self
    }

    /// Copies the samples to `dev` and validates everything once.
    pub fn build<D: TensorDevice<f32>>(&self, dev: &D) -> Result<KdePotential<D>> {
        let (n, dim) = self.samples.dim();
        if n == 0 || dim == 0 {
            return Err(Error::Empty("KdePotential: no samples".into()));
        }
        for (what, v) in [("bandwidth", self.bandwidth), ("epsilon", self.epsilon)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::InvalidArgument(format!(
                    "KDE {what} must be positive, got {v}"
                )));
            }
        }
        if !self.alpha.is_finite() {
            return Err(Error::NonFinite("KDE alpha".into()));
        }
        let samples = array_to_tensor(dev, &self.samples, "KDE samples")?;
        let samples_t = array_to_tensor(dev, &self.samples.t().to_owned(), "KDE samples")?;
        let square_norms =
            dev.tensor_from_vec(self.samples.rows().into_iter().map(|r| r.dot(&r)).collect(), (n,));
        let weights = match &self.conditioning {
            KdeConditioning::None => ConditionWeights::Uniform,
            KdeConditioning::Continuous { features, bandwidth } => {
                if features.nrows() != n || features.ncols() == 0 {
                    return Err(Error::shape(
                        "KdePotential conditions",
                        format!("[{n}, C] with C > 0"),
                        format!("{:?}", features.dim()),
                    ));
                }
                if !(bandwidth.is_finite() && *bandwidth > 0.0) {
                    return Err(Error::InvalidArgument(format!(
                        "KDE condition bandwidth must be positive, got {bandwidth}"
                    )));
                }
                ConditionWeights::Continuous {
                    features_t: array_to_tensor(dev, &features.t().to_owned(), "KDE conditions")?,
                    square_norms: dev
                        .tensor_from_vec(features.rows().into_iter().map(|r| r.dot(&r)).collect(), (n,)),
                    bandwidth: *bandwidth,
                }
            }
            KdeConditioning::Categorical {
                labels,
                num_categories,
            } => {
                if labels.len() != n {
                    return Err(Error::shape(
                        "KdePotential labels",
                        format!("{n} labels"),
                        labels.len().to_string(),
                    ));
                }
                if let Some(bad) = labels.iter().find(|&&l| l >= *num_categories) {
                    return Err(Error::InvalidArgument(format!(
                        "label {bad} out of range for {num_categories} categories"
                    )));
                }
                let mut counts = vec![0usize; *num_categories];
                for &l in labels {
                    counts[l] += 1;
                }
                // Row c holds 1/max(N_c, 1) at the samples labelled c: the per-label average.
                let table = Array2::from_shape_fn((*num_categories, n), |(c, i)| {
                    if labels[i] == c {
                        1.0 / counts[c].max(1) as f32
                    } else {
                        0.0
                    }
                });
                ConditionWeights::Categorical {
                    table: array_to_tensor(dev, &table, "KDE label table")?,
                    num_categories: *num_categories,
                }
            }
        };
        let bounds = match &self.bounds {
            Some(b) => b.clone(),
            None => padded_box(&self.samples, 3.0 * self.bandwidth)?,
        };
        let host = HostKde::new(&self.samples, &self.conditioning);
        Ok(KdePotential {
            host,
            samples,
            samples_t,
            square_norms,
            weights,
            bandwidth: self.bandwidth,
            alpha: self.alpha,
            epsilon: self.epsilon,
            bounds,
        })
    }
}

/// The bounding box of `x`, widened by `pad` on every side.
fn padded_box(x: &Array2<f32>, pad: f32) -> Result<Bounds> {
    let lo: Vec<f32> = x
        .columns()
        .into_iter()
        .map(|c| c.fold(f32::INFINITY, |a, &b| a.min(b)) - pad)
        .collect();
    let hi: Vec<f32> = x
        .columns()
        .into_iter()
        .map(|c| c.fold(f32::NEG_INFINITY, |a, &b| a.max(b)) + pad)
        .collect();
    Bounds::new(lo, hi)
}

/// The per-sample weights of a condition, ready on the device.
#[derive(Debug, Clone)]
enum ConditionWeights<D: TensorDevice<f32>> {
    Uniform,
    Continuous {
        features_t: Tensor2<D>,
        square_norms: Tensor<(usize,), f32, D>,
        bandwidth: f32,
    },
    Categorical {
        table: Tensor2<D>,
        num_categories: usize,
    },
}

/// U(q | x) = α·log(p̂(q | x) + ε) with Gaussian kernels K_h(u) = (2πh²)^(−d/2) exp(−|u|²/(2h²)).
///
/// ```
/// use lagrangian_ot::lagrangian::{potential_at, KdePotential};
/// let dev = lagrangian_ot::device::default_device(0);
/// let samples = ndarray::array![[0.0f32, 0.0], [1.0, 0.0]];
/// let kde = KdePotential::builder(&samples).bandwidth(0.5).alpha(0.1).build(&dev)?;
/// let u = potential_at(&kde, &dev, &ndarray::array![[0.0f32, 0.0], [5.0, 5.0]], None)?;
/// assert!(u[0] > u[1]); // denser near the samples
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct KdePotential<D: TensorDevice<f32> = crate::device::Device> {
    host: HostKde,
    samples: Tensor2<D>,
    samples_t: Tensor2<D>,
    square_norms: Tensor<(usize,), f32, D>,
    weights: ConditionWeights<D>,
    bandwidth: f32,
    alpha: f32,
    epsilon: f32,
    bounds: Bounds,
}

impl KdePotential<crate::device::Device> {
    /// Starts describing a density potential over `samples` `[N, d]` (HTI pools all training anchors).
    pub fn builder(samples: &Array2<f32>) -> KdePotentialBuilder {
        KdePotentialBuilder {
            samples: samples.clone(),
            bandwidth: 1.0,
            alpha: 0.01,
            epsilon: 1e-8,
            conditioning: KdeConditioning::None,
            bounds: None,
        }
    }
}

/// exp(−87) ≈ 1.6e-38 is the edge of f32's normal range: a sample farther than √(2·87)·h adds nothing
/// representable to the density, and skipping its exp also skips libm's slow underflow path.
const KERNEL_UNDERFLOW: f32 = 87.0;

impl<D: TensorDevice<f32>> KdePotential<D> {
    /// U(q | x) and ∇_q U for every row of `q` `[M, d]` on the host, in parallel over rows; `cond`
    /// as for [`Potential::value`] (`[M, C]` features, or `[M, 1]` labels / `[M, k]` one-hot rows).
    /// Categorical densities visit only the samples of the row's label.
    pub fn value_and_gradient(
        &self,
        q: &Array2<f32>,
        cond: Option<&Array2<f32>>,
    ) -> Result<(Array1<f32>, Array2<f32>)> {
        let (m, d) = q.dim();
        if d != self.dim() {
            return Err(Error::shape(
                "KdePotential points",
                format!("[M, {}]", self.dim()),
                format!("{:?}", q.dim()),
            ));
        }
        let groups = self.host.groups(m, cond)?;
        let h2 = self.bandwidth * self.bandwidth;
        let norm = (2.0 * std::f32::consts::PI * h2).powf(-(d as f32) / 2.0);
        let (alpha, epsilon) = (self.alpha, self.epsilon);
        let samples = &self.host.samples;
        let mut values = Array1::zeros(m);
        let mut grads = Array2::zeros((m, d));
        values
            .as_slice_mut()
            .expect("fresh array")
            .par_iter_mut()
            .zip(grads.as_slice_mut().expect("fresh array").par_chunks_mut(d))
            .enumerate()
            .for_each(|(r, (value, grad))| {
                let point = q.row(r);
                let mut density = 0.0f64;
                let mut pull = vec![0.0f64; d];
                for (i, w) in groups.weights(r) {
                    let sample = samples.row(i);
                    let mut sq = 0.0f32;
                    for j in 0..d {
                        let diff = point[j] - sample[j];
                        sq += diff * diff;
                    }
                    let exponent = 0.5 * sq / h2;
                    if exponent > KERNEL_UNDERFLOW {
                        continue;
                    }
                    let k = (w * (-exponent).exp()) as f64;
                    density += k;
                    for j in 0..d {
                        pull[j] += k * (sample[j] - point[j]) as f64;
                    }
                }
                let density = density * norm as f64;
                *value = alpha * (density as f32 + epsilon).ln();
                let scale = alpha as f64 * norm as f64 / (h2 as f64 * (density + epsilon as f64));
                for j in 0..d {
                    grad[j] = (scale * pull[j]) as f32;
                }
            });
        Ok((values, grads))
    }

    /// The same potential as taped dfdx ops over the full `[M, N]` kernel matrix: the definition the
    /// host evaluation is tested against.
    pub fn value_taped(&self, q: Points<D>, cond: Option<&Condition<D>>) -> Result<Scalars<D>> {
        let d = self.dim();
        check_points("KdePotential", &q, d)?;
        let m = q.shape().0;
        let weights = self.condition_weights(m, cond)?;
        let h = self.bandwidth;
        let norm = (2.0 * std::f32::consts::PI * h * h).powf(-(d as f32) / 2.0);
        let kernel = Self::gaussian(q, &self.samples_t, &self.square_norms, h);
        let density = (kernel * weights).sum::<(usize,), Axis<1>>() * norm;
        Ok((density + self.epsilon).ln() * self.alpha)
    }
    /// Dimension of the points.
    pub fn dim(&self) -> usize {
        self.samples.shape().1
    }

    /// Number of stored samples.
    pub fn num_samples(&self) -> usize {
        self.samples.shape().0
    }

    /// exp(−|a_m − b_i|²/(2h²)) `[M, N]` for rows a `[M, k]` against columns b_t `[k, N]`, tape of `a`.
    fn gaussian<T: Tape<f32, D>>(
        a: Tensor2<D, T>,
        b_t: &Tensor2<D>,
        b_square_norms: &Tensor<(usize,), f32, D>,
        h: f32,
    ) -> Tensor2<D, T> {
        let (m, _) = *a.shape();
        let n = b_t.shape().1;
        let a_sq = a
            .with_empty_tape()
            .square()
            .sum::<(usize,), Axis<1>>()
            .broadcast_like::<_, Axis<1>>(&(m, n));
        let cross = a.matmul(b_t.clone());
        let b_sq = b_square_norms.clone().broadcast_like::<_, Axis<0>>(&(m, n));
        // |a|² − 2a·b + |b|², clipped at 0 against rounding.
        let sq = (cross * -2.0 + a_sq + b_sq).relu();
        (sq * (-0.5 / (h * h))).exp()
    }

    /// The weights `[M, N]` of each sample for each condition row (no tape).
    fn condition_weights(&self, m: usize, cond: Option<&Condition<D>>) -> Result<Tensor2<D>> {
        let n = self.num_samples();
        let dev = self.samples.device();
        match &self.weights {
            ConditionWeights::Uniform => Ok(dev.ones_like(&(m, n)) / n as f32),
            ConditionWeights::Continuous {
                features_t,
                square_norms,
                bandwidth,
            } => {
                let c = require_condition(cond, m, features_t.shape().0)?;
                // The normalising constants of K_hx cancel in the ratio; only the 1e-8 floor sees
                // them, so they are kept to match the reference.
                let norm = (2.0 * std::f32::consts::PI * bandwidth * bandwidth)
                    .powf(-(features_t.shape().0 as f32) / 2.0);
                let k = Self::gaussian(c.clone(), features_t, square_norms, *bandwidth) * norm;
                let total = k.clone().sum::<(usize,), Axis<1>>().clamp(1e-8, f32::MAX);
                Ok(k / total.broadcast_like::<_, Axis<1>>(&(m, n)))
            }
            ConditionWeights::Categorical {
                table,
                num_categories,
            } => {
                let c = cond.ok_or_else(|| {
                    Error::InvalidArgument("this KDE potential is conditional: pass the labels".into())
                })?;
                let one_hot = one_hot_labels(c, m, *num_categories)?;
                Ok(dev
                    .tensor_from_vec(one_hot, (m, *num_categories))
                    .matmul(table.clone()))
            }
        }
    }
}

/// The samples and condition weights on the host, for [`KdePotential::value_and_gradient`].
#[derive(Debug, Clone)]
struct HostKde {
    samples: Array2<f32>,
    conditioning: HostConditioning,
}

#[derive(Debug, Clone)]
enum HostConditioning {
    Uniform,
    Continuous { features: Array2<f32>, bandwidth: f32 },
    Categorical { members: Vec<Vec<usize>> },
}

/// Which samples each query row averages over, with which weights.
enum RowWeights {
    Uniform {
        n: usize,
    },
    /// `[M, N]` Nadaraya–Watson weights.
    Dense(Array2<f32>),
    /// The samples of each row's label, weight 1/max(N_c, 1).
    Members {
        rows: Vec<usize>,
        members: Vec<Vec<usize>>,
    },
}

impl RowWeights {
    /// The (sample, weight) pairs of query row `r`.
    fn weights(&self, r: usize) -> Box<dyn Iterator<Item = (usize, f32)> + '_> {
        match self {
            RowWeights::Uniform { n } => Box::new((0..*n).map(move |i| (i, 1.0 / *n as f32))),
            RowWeights::Dense(w) => Box::new(
                w.row(r)
                    .into_iter()
                    .copied()
                    .enumerate()
                    .filter(|(_, w)| *w > 0.0),
            ),
            RowWeights::Members { rows, members } => {
                let group = &members[rows[r]];
                let w = 1.0 / group.len().max(1) as f32;
                Box::new(group.iter().map(move |&i| (i, w)))
            }
        }
    }
}

impl HostKde {
    fn new(samples: &Array2<f32>, conditioning: &KdeConditioning) -> Self {
        let conditioning = match conditioning {
            KdeConditioning::None => HostConditioning::Uniform,
            KdeConditioning::Continuous { features, bandwidth } => HostConditioning::Continuous {
                features: features.clone(),
                bandwidth: *bandwidth,
            },
            KdeConditioning::Categorical {
                labels,
                num_categories,
            } => {
                let mut members = vec![Vec::new(); *num_categories];
                for (i, &l) in labels.iter().enumerate() {
                    members[l].push(i);
                }
                HostConditioning::Categorical { members }
            }
        };
        HostKde {
            samples: samples.clone(),
            conditioning,
        }
    }

    fn groups(&self, m: usize, cond: Option<&Array2<f32>>) -> Result<RowWeights> {
        let n = self.samples.nrows();
        match &self.conditioning {
            HostConditioning::Uniform => Ok(RowWeights::Uniform { n }),
            HostConditioning::Continuous { features, bandwidth } => {
                let c = cond.ok_or_else(|| {
                    Error::InvalidArgument("this KDE potential is conditional: pass a condition".into())
                })?;
                if c.dim() != (m, features.ncols()) {
                    return Err(Error::shape(
                        "KdePotential condition",
                        format!("[{m}, {}]", features.ncols()),
                        format!("{:?}", c.dim()),
                    ));
                }
                let h2 = bandwidth * bandwidth;
                let norm = (2.0 * std::f32::consts::PI * h2).powf(-(features.ncols() as f32) / 2.0);
                let mut w = Array2::from_shape_fn((m, n), |(r, i)| {
                    let sq: f32 = c
                        .row(r)
                        .iter()
                        .zip(features.row(i))
                        .map(|(a, b)| (a - b) * (a - b))
                        .sum();
                    norm * (-0.5 * sq / h2).exp()
                });
                for mut row in w.rows_mut() {
                    let total = row.sum().max(1e-8);
                    row /= total;
                }
                Ok(RowWeights::Dense(w))
            }
            HostConditioning::Categorical { members } => {
                let c = cond.ok_or_else(|| {
                    Error::InvalidArgument("this KDE potential is conditional: pass the labels".into())
                })?;
                let k = members.len();
                let one_hot = one_hot_rows(
                    c.as_slice()
                        .map(|v| v.to_vec())
                        .unwrap_or_else(|| c.iter().copied().collect()),
                    c.dim(),
                    m,
                    k,
                )?;
                let rows = (0..m)
                    .map(|r| {
                        one_hot[r * k..(r + 1) * k]
                            .iter()
                            .position(|&v| v > 0.5)
                            .unwrap_or(0)
                    })
                    .collect();
                Ok(RowWeights::Members {
                    rows,
                    members: members.clone(),
                })
            }
        }
    }
}

/// Checks a continuous condition `[m, width]`.
fn require_condition<D: TensorDevice<f32>>(
    cond: Option<&Condition<D>>,
    m: usize,
    width: usize,
) -> Result<&Condition<D>> {
    let c = cond.ok_or_else(|| {
        Error::InvalidArgument("this KDE potential is conditional: pass a condition".into())
    })?;
    if *c.shape() != (m, width) {
        return Err(Error::shape(
            "KdePotential condition",
            format!("[{m}, {width}]"),
            format!("{:?}", c.shape()),
        ));
    }
    Ok(c)
}

/// One-hot rows from a label column `[m, 1]` or one-hot rows `[m, k]` (argmax).
fn one_hot_labels<D: TensorDevice<f32>>(cond: &Condition<D>, m: usize, k: usize) -> Result<Vec<f32>> {
    one_hot_rows(cond.as_vec(), *cond.shape(), m, k)
}

/// [`one_hot_labels`] on row-major host values of shape `shape`.
fn one_hot_rows(values: Vec<f32>, shape: (usize, usize), m: usize, k: usize) -> Result<Vec<f32>> {
    let (rows, cols) = shape;
    if rows != m || !(cols == 1 || cols == k) {
        return Err(Error::shape(
            "KdePotential labels",
            format!("[{m}, 1] labels or [{m}, {k}] one-hot rows"),
            format!("{shape:?}"),
        ));
    }
    let mut out = vec![0.0; m * k];
    for r in 0..m {
        let label = if cols == 1 && k != 1 {
            let v = values[r];
            if !(v >= 0.0 && v.fract() == 0.0 && (v as usize) < k) {
                return Err(Error::InvalidArgument(format!(
                    "label {v} is not an integer in 0..{k}"
                )));
            }
            v as usize
        } else {
            let row = &values[r * cols..(r + 1) * cols];
            (0..cols).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap_or(0)
        };
        out[r * k + label] = 1.0;
    }
    Ok(out)
}

impl<D: TensorDevice<f32> + Send + Sync> Potential<D> for KdePotential<D> {
    fn name(&self) -> String {
        format!("KDE potential (h = {}, α = {})", self.bandwidth, self.alpha)
    }
    /// Evaluated on the host (exact value and gradient, see [`KdePotential::value_and_gradient`]) and put
    /// on the tape as its tangent line at `q`: exact value, exact first derivative, far cheaper than
    /// the taped `[M, N]` kernel matrix. Nothing downstream differentiates twice (dfdx cannot).
    fn value(&self, q: Points<D>, cond: Option<&Condition<D>>) -> Result<Scalars<D>> {
        let d = self.dim();
        check_points("KdePotential", &q, d)?;
        let m = q.shape().0;
        let points = Array2::from_shape_vec((m, d), q.as_vec())
            .map_err(|e| Error::shape("KdePotential points", format!("[{m}, {d}]"), e.to_string()))?;
        let cond_host = match cond {
            Some(c) => {
                let (rows, cols) = *c.shape();
                Some(Array2::from_shape_vec((rows, cols), c.as_vec()).map_err(|e| {
                    Error::shape(
                        "KdePotential condition",
                        format!("[{rows}, {cols}]"),
                        e.to_string(),
                    )
                })?)
            }
            None => None,
        };
        let (values, grads) = self.value_and_gradient(&points, cond_host.as_ref())?;
        let offset: Vec<f32> = values
            .iter()
            .zip(points.rows())
            .zip(grads.rows())
            .map(|((&u, p), g)| u - p.dot(&g))
            .collect();
        let dev = q.device().clone();
        let slope = array_to_tensor(&dev, &grads, "KDE gradient")?;
        let offset = dev.tensor_from_vec(offset, (m,));
        Ok((q * slope).sum::<(usize,), Axis<1>>() + offset)
    }
    fn is_zero(&self) -> bool {
        self.alpha == 0.0
    }
    fn bounds(&self) -> Option<Bounds> {
        Some(self.bounds.clone())
    }
}

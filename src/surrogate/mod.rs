//! Surrogates: models that, trained on a few anchors (a base model's outputs at hyperparameters
//! t_0 < … < t_{K−1}), predict the outputs at any t* in between without retraining the base model.
//!
//! Every method — HTI's conditional Lagrangian OT and the baselines it is compared with — implements
//! [`Surrogate`]: start from samples of the first anchor with their conditions, return the predicted
//! samples at t*. [`Trajectories`] draws any of them at a range of times.
//!
//! - [`Anchors`]: the training anchors of an [`AnchoredDataset`], conditions encoded as floats.
//! - [`ConditionEncoding`]: continuous conditions as they are, labels one-hot (a dense layer on a
//!   one-hot vector is an embedding lookup), no condition as zero columns.

mod clot;
pub use clot::{labels_of, HtiSurrogate};
mod cfm;
mod checks;
mod coupling;
mod linear;
mod mfm;
mod net_fit;
mod regression;
pub use cfm::{FlowMatching, FlowMatchingSettings};
pub use linear::LinearInterpolation;
pub use mfm::{land_gamma, LandMetric, MetricFlowMatching, MetricFlowMatchingSettings};
pub use regression::{DirectRegression, RegressionSettings};

use ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::data::{AnchoredDataset, Condition, ConditionView};
use crate::plot::{ColorMap, Figure, Plot};
use crate::{Error, Result};

/// A model of how a base model's outputs move with its hyperparameter "time".
pub trait Surrogate: Send + Sync {
    /// A short name for tables and legends.
    fn name(&self) -> String;
    /// Output dimension D.
    fn dim(&self) -> usize;
    /// Times of the training anchors, strictly increasing.
    fn anchor_times(&self) -> &[f32];
    /// The outputs at time `t` (inside the anchor range) of the samples `start` `[N, D]` of the first
    /// anchor, whose conditions are `cond` (`N` rows).
    fn predict(&self, t: f32, start: ArrayView2<'_, f32>, cond: &ConditionView<'_>) -> Result<Array2<f32>>;
}

/// Which interval `[t_k, t_{k+1}]` holds `t`, and the fraction `s = (t − t_k)/(t_{k+1} − t_k)`;
/// [`Error::OutOfRange`] outside `[t_0, t_{K−1}]`.
///
/// ```
/// let (k, s) = lagrangian_ot::surrogate::locate(&[0.0, 0.5, 1.0], 0.75)?;
/// assert_eq!(k, 1);
/// assert!((s - 0.5).abs() < 1e-6);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn locate(times: &[f32], t: f32) -> Result<(usize, f32)> {
    check_times(times)?;
    let (lo, hi) = (times[0], times[times.len() - 1]);
    if !t.is_finite() || t < lo || t > hi {
        return Err(Error::OutOfRange {
            query: t as f64,
            lo: lo as f64,
            hi: hi as f64,
        });
    }
    let k = times
        .windows(2)
        .position(|w| t <= w[1])
        .unwrap_or(times.len() - 2);
    Ok((k, (t - times[k]) / (times[k + 1] - times[k])))
}

/// At least two finite, strictly increasing times.
pub fn check_times(times: &[f32]) -> Result<()> {
    if times.len() < 2 {
        return Err(Error::InvalidArgument(format!(
            "a surrogate needs at least 2 anchors, got {}",
            times.len()
        )));
    }
    crate::error::ensure_finite("anchor times", times)?;
    if times.windows(2).any(|w| w[1] <= w[0]) {
        return Err(Error::UnsortedAnchors(format!("{times:?}")));
    }
    Ok(())
}

/// How conditions become network inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionEncoding {
    /// No condition: zero columns.
    None,
    /// Continuous conditions of this width, used as they are.
    Continuous {
        /// Width C.
        dim: usize,
    },
    /// Labels in `0..num_categories`, one-hot.
    Categorical {
        /// Number of classes.
        num_categories: usize,
    },
}

impl ConditionEncoding {
    /// The encoding of a dataset's conditions.
    pub fn of(dataset: &AnchoredDataset) -> Result<Self> {
        Ok(match dataset.condition() {
            Condition::None => ConditionEncoding::None,
            Condition::Continuous(x) => ConditionEncoding::Continuous {
                dim: x.len_of(Axis(2)),
            },
            Condition::Categorical(labels) => {
                let num_categories = match dataset.manifest().num_categories {
                    Some(n) => n,
                    None => labels
                        .iter()
                        .copied()
                        .max()
                        .map_or(1, |m| (m.max(0) + 1) as usize),
                };
                ConditionEncoding::Categorical { num_categories }
            }
        })
    }

    /// Width of the encoded condition.
    pub fn width(&self) -> usize {
        match *self {
            ConditionEncoding::None => 0,
            ConditionEncoding::Continuous { dim } => dim,
            ConditionEncoding::Categorical { num_categories } => num_categories,
        }
    }

    /// Whether the condition is a label.
    pub fn is_categorical(&self) -> bool {
        matches!(self, ConditionEncoding::Categorical { .. })
    }

    /// Encodes the conditions of `n` samples as `[n, width]`; typed errors on a kind or width that
    /// does not match, a wrong row count, NaN, or an unknown label.
    pub fn encode(&self, cond: &ConditionView<'_>, n: usize) -> Result<Array2<f32>> {
        match (*self, cond) {
            (ConditionEncoding::None, ConditionView::None) => Ok(Array2::zeros((n, 0))),
            (ConditionEncoding::Continuous { dim }, ConditionView::Continuous(x)) => {
                if x.nrows() != n || x.ncols() != dim {
                    return Err(Error::shape(
                        "conditions",
                        format!("[{n}, {dim}]"),
                        format!("{:?}", x.shape()),
                    ));
                }
                crate::error::ensure_finite("conditions", x.iter())?;
                Ok(x.to_owned())
            }
            (ConditionEncoding::Categorical { num_categories }, ConditionView::Categorical(labels)) => {
                if labels.len() != n {
                    return Err(Error::shape(
                        "labels",
                        format!("{n} labels"),
                        labels.len().to_string(),
                    ));
                }
                let mut one_hot = Array2::zeros((n, num_categories));
                for (i, &label) in labels.iter().enumerate() {
                    let c = usize::try_from(label)
                        .ok()
                        .filter(|&c| c < num_categories)
                        .ok_or_else(|| {
                            Error::InvalidArgument(format!(
                                "unknown label {label}: the model knows 0..{num_categories}"
                            ))
                        })?;
                    one_hot[[i, c]] = 1.0;
                }
                Ok(one_hot)
            }
            (expected, _) => Err(Error::InvalidArgument(format!(
                "the model expects {} conditions, got {}",
                expected.describe(),
                describe_view(cond)
            ))),
        }
    }

    fn describe(&self) -> String {
        match *self {
            ConditionEncoding::None => "no".into(),
            ConditionEncoding::Continuous { dim } => format!("continuous {dim}-wide"),
            ConditionEncoding::Categorical { num_categories } => {
                format!("categorical ({num_categories} classes)")
            }
        }
    }
}

fn describe_view(cond: &ConditionView<'_>) -> &'static str {
    match cond {
        ConditionView::None => "none",
        ConditionView::Continuous(_) => "continuous ones",
        ConditionView::Categorical(_) => "labels",
    }
}

/// The training anchors of a dataset in the form surrogates train on.
#[derive(Debug, Clone)]
pub struct Anchors {
    /// Anchor times, strictly increasing.
    pub times: Vec<f32>,
    /// Samples `[N_k, D]` per anchor.
    pub samples: Vec<Array2<f32>>,
    /// Encoded conditions `[N_k, width]` per anchor.
    pub conditions: Vec<Array2<f32>>,
    /// Labels per anchor (categorical data only; used to couple samples class by class).
    pub labels: Option<Vec<Array1<i64>>>,
    /// How the conditions were encoded.
    pub encoding: ConditionEncoding,
}

impl Anchors {
    /// The dataset's training anchors at its time points (manifest `anchors_used_for_training`,
    /// `clot_time_points`).
    pub fn from_dataset(dataset: &AnchoredDataset) -> Result<Self> {
        let encoding = ConditionEncoding::of(dataset)?;
        let indices = dataset.training_anchors().to_vec();
        let times = dataset.time_points().to_vec();
        if times.len() != indices.len() {
            return Err(Error::shape(
                "anchor time points",
                format!("{} (one per training anchor)", indices.len()),
                times.len().to_string(),
            ));
        }
        check_times(&times)?;
        let mut samples = Vec::new();
        let mut conditions = Vec::new();
        let mut labels = encoding.is_categorical().then(Vec::new);
        for &k in &indices {
            let y = dataset.anchor(k)?.to_owned();
            if y.is_empty() {
                return Err(Error::Empty(format!("anchor {k} holds no samples")));
            }
            crate::error::ensure_finite(&format!("samples of anchor {k}"), y.iter())?;
            let cond = dataset.condition_at(k)?;
            conditions.push(encoding.encode(&cond, y.nrows())?);
            if let (Some(labels), ConditionView::Categorical(l)) = (labels.as_mut(), &cond) {
                labels.push(l.to_owned());
            }
            samples.push(y);
        }
        Ok(Anchors {
            times,
            samples,
            conditions,
            labels,
            encoding,
        })
    }

    /// Number of anchors K.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether there are no anchors (never true for a checked set).
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Output dimension D.
    pub fn dim(&self) -> usize {
        self.samples[0].ncols()
    }
}

/// A surrogate's predictions for the same start samples at several times: what draws the inferred
/// trajectories and marginals.
#[derive(Debug, Clone)]
pub struct Trajectories {
    /// Name of the surrogate.
    pub name: String,
    /// The query times.
    pub times: Vec<f32>,
    /// Predictions `[N, D]` per time.
    pub points: Vec<Array2<f32>>,
}

impl Trajectories {
    /// Runs `surrogate` at every time in `times` from the same start samples.
    pub fn compute<S: Surrogate + ?Sized>(
        surrogate: &S,
        times: &[f32],
        start: ArrayView2<'_, f32>,
        cond: &ConditionView<'_>,
    ) -> Result<Self> {
        if times.is_empty() {
            return Err(Error::Empty("no query times".into()));
        }
        let points = times
            .iter()
            .map(|&t| surrogate.predict(t, start, cond))
            .collect::<Result<Vec<_>>>()?;
        Ok(Trajectories {
            name: surrogate.name(),
            times: times.to_vec(),
            points,
        })
    }

    /// Sample i's path through the query times, `[T, D]`.
    pub fn path(&self, i: usize) -> Array2<f32> {
        let views: Vec<_> = self.points.iter().map(|p| p.row(i)).collect();
        ndarray::stack(Axis(0), &views).expect("predictions share their shape")
    }

    /// Shows the trajectories inline in an evcxr notebook.
    pub fn evcxr_display(&self) {
        self.figure().evcxr_display();
    }
}

/// Most sample paths drawn (keeps SVGs small).
const MAX_DRAWN_PATHS: usize = 200;

impl Plot for Trajectories {
    /// Sample paths coloured by time (first two output coordinates), over the predicted marginals at
    /// the first, middle and last query times.
    fn figure(&self) -> Figure {
        let n = self.points[0].nrows();
        let stride = n.div_ceil(MAX_DRAWN_PATHS).max(1);
        let paths: Vec<Array2<f32>> = (0..n).step_by(stride).map(|i| self.path(i)).collect();
        let mut fig = Figure::new()
            .title(&format!("{}: inferred trajectories", self.name))
            .x_label("y₁")
            .y_label("y₂")
            .paths_by_time(&paths, ColorMap::Viridis);
        let last = self.times.len() - 1;
        for &j in &[0, last / 2, last] {
            fig = fig.scatter(self.points[j].view(), &format!("t = {:.2}", self.times[j]));
        }
        fig
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_finds_the_interval_and_rejects_outside_queries() {
        let times = [0.0, 0.25, 1.0];
        assert_eq!(locate(&times, 0.0).unwrap(), (0, 0.0));
        assert_eq!(locate(&times, 0.25).unwrap(), (0, 1.0));
        let (k, s) = locate(&times, 0.625).unwrap();
        assert_eq!(k, 1);
        assert!((s - 0.5).abs() < 1e-6);
        assert!(matches!(locate(&times, 1.1), Err(Error::OutOfRange { .. })));
        assert!(matches!(locate(&[0.0, 0.0], 0.0), Err(Error::UnsortedAnchors(_))));
        assert!(matches!(locate(&[0.0], 0.0), Err(Error::InvalidArgument(_))));
    }

    #[test]
    fn labels_are_one_hot_and_unknown_labels_are_errors() {
        let enc = ConditionEncoding::Categorical { num_categories: 3 };
        let labels = ndarray::array![2i64, 0];
        let x = enc.encode(&ConditionView::Categorical(labels.view()), 2).unwrap();
        assert_eq!(x, ndarray::array![[0.0f32, 0.0, 1.0], [1.0, 0.0, 0.0]]);
        let bad = ndarray::array![3i64];
        assert!(matches!(
            enc.encode(&ConditionView::Categorical(bad.view()), 1),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            enc.encode(&ConditionView::None, 1),
            Err(Error::InvalidArgument(_))
        ));
    }
}

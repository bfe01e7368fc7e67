//! [`AnchoredDataset`]: samples of a model's output at several hyperparameter settings
//! ("anchors"), with an optional per-sample condition — the input of hyperparameter trajectory
//! inference.
//!
//! On disk a dataset is a folder of `.npy` files plus a `manifest.json` (the layout of the shared
//! data folder, see its `README.md`):
//!
//! | file | shape | dtype | meaning |
//! |---|---|---|---|
//! | `y.npy` | `[K, N, D]` | f32 | output samples, anchor `k` in slice `k` |
//! | `x.npy` (optional) | `[K, N, C]` | f32 | continuous condition of each sample |
//! | `label.npy` (optional, not with `x.npy`) | `[K, N]` | i64 | categorical condition |
//! | `hyperparam.npy` | `[K]` | f32 | hyperparameter value of each anchor |
//! | `manifest.json` (optional) | | | `D`, `C`, `categorical`, `num_categories`, `anchors_used_for_training`, `clot_time_points` (or `clot_time_points_of_anchors`), plus anything else |
//!
//! Missing manifest fields are inferred from the arrays (all anchors train, time points evenly
//! spaced in `[0, 1]`); present ones must agree with the arrays.

use std::path::{Path, PathBuf};

use ndarray::{s, Array1, Array2, Array3, ArrayView1, ArrayView2, Axis};
use serde_json::{json, Value};

use super::shared_data_dir;
use crate::plot::{Figure, Plot};
use crate::{Error, Result};

/// Most samples drawn per anchor panel; larger anchors are thinned evenly (keeps SVGs small).
pub const MAX_PLOTTED_SAMPLES: usize = 1500;
/// Most anchors drawn by [`AnchoredDataset`]'s figure.
pub const MAX_PLOTTED_ANCHORS: usize = 12;

/// The per-sample condition of an [`AnchoredDataset`].
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Unconditional data.
    None,
    /// A continuous condition `[K, N, C]`.
    Continuous(Array3<f32>),
    /// An integer class `[K, N]`, each in `0..num_categories`.
    Categorical(Array2<i64>),
}

/// The condition of the samples of one anchor.
#[derive(Debug, Clone, PartialEq)]
pub enum ConditionView<'a> {
    /// Unconditional data.
    None,
    /// `[N, C]` continuous conditions.
    Continuous(ArrayView2<'a, f32>),
    /// `[N]` class labels.
    Categorical(ArrayView1<'a, i64>),
}

/// The manifest: the raw JSON plus the fields this crate relies on, checked against the arrays.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The whole `manifest.json` as read (or as it will be written), including fields this crate
    /// does not interpret (provenance, held-out notes, ...).
    pub raw: Value,
    /// `D`: dimension of the output samples.
    pub dim: usize,
    /// `C`: dimension of the condition (1 for a categorical label, 0 for none).
    pub cond_dim: usize,
    /// Whether the condition is a categorical label.
    pub categorical: bool,
    /// Number of classes of a categorical condition.
    pub num_categories: Option<usize>,
    /// Indices of the anchors a model may train on (others are held out).
    pub anchors_used_for_training: Vec<usize>,
    /// Time point `t` assigned to each training anchor.
    pub clot_time_points: Vec<f32>,
}

/// Output samples at `K` anchors, `N` samples each, with an optional condition.
///
/// ```
/// use lagrangian_ot::data::{AnchoredDataset, Condition};
/// use ndarray::{Array1, Array3};
/// let y = Array3::<f32>::zeros((3, 10, 2));
/// let ds = AnchoredDataset::new(y, Condition::None, Array1::from(vec![0.0, 0.5, 1.0])).unwrap();
/// assert_eq!((ds.num_anchors(), ds.num_samples(), ds.dim()), (3, 10, 2));
/// assert_eq!(ds.time_points(), &[0.0, 0.5, 1.0]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AnchoredDataset {
    name: String,
    y: Array3<f32>,
    condition: Condition,
    hyperparam: Array1<f32>,
    manifest: Manifest,
}

/// The manifest's own claims, before they are reconciled with the arrays.
#[derive(Default)]
struct ManifestClaims {
    dim: Option<usize>,
    cond_dim: Option<usize>,
    categorical: Option<bool>,
    num_categories: Option<usize>,
    anchors: Option<Vec<usize>>,
    time_points: Option<Vec<f32>>,
}

impl ManifestClaims {
    fn parse(raw: &Value) -> std::result::Result<Self, String> {
        let count = |key: &str| -> std::result::Result<Option<usize>, String> {
            raw.get(key)
                .map(|v| {
                    v.as_u64()
                        .map(|n| n as usize)
                        .ok_or(format!("'{key}' must be a non-negative integer"))
                })
                .transpose()
        };
        let anchors = raw
            .get("anchors_used_for_training")
            .map(|v| {
                v.as_array()
                    .and_then(|items| {
                        items
                            .iter()
                            .map(|i| i.as_u64().map(|n| n as usize))
                            .collect::<Option<Vec<_>>>()
                    })
                    .ok_or("'anchors_used_for_training' must be a list of indices".to_string())
            })
            .transpose()?;
        let time_points = ["clot_time_points", "clot_time_points_of_anchors"]
            .iter()
            .find_map(|key| raw.get(*key).map(|v| (key, v)))
            .map(|(key, v)| {
                v.as_array()
                    .and_then(|items| {
                        items
                            .iter()
                            .map(|t| t.as_f64().map(|t| t as f32))
                            .collect::<Option<Vec<_>>>()
                    })
                    .ok_or(format!("'{key}' must be a list of numbers"))
            })
            .transpose()?;
        let categorical = raw
            .get("categorical")
            .map(|v| {
                v.as_bool()
                    .ok_or("'categorical' must be true or false".to_string())
            })
            .transpose()?;
        Ok(ManifestClaims {
            dim: count("D")?,
            cond_dim: count("C")?,
            categorical,
            num_categories: count("num_categories")?,
            anchors,
            time_points,
        })
    }
}

/// Evenly spaced time points `0, 1/(n-1), …, 1` (just `0` for one anchor).
fn even_time_points(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| if n > 1 { i as f32 / (n - 1) as f32 } else { 0.0 })
        .collect()
}

/// Checks the arrays against each other and the manifest's claims, and returns the typed
/// manifest; errors are reasons in words, given a path by the caller.
fn reconcile(
    y: &Array3<f32>,
    condition: &Condition,
    hyperparam: &Array1<f32>,
    raw: Value,
) -> std::result::Result<Manifest, String> {
    let (k, n, d) = y.dim();
    if k == 0 || n == 0 || d == 0 {
        return Err(format!(
            "y must have shape [K >= 1, N >= 1, D >= 1], got {:?}",
            y.shape()
        ));
    }
    if !y.iter().all(|v| v.is_finite()) {
        return Err("y holds NaN or infinite values".into());
    }
    if hyperparam.len() != k {
        return Err(format!(
            "hyperparam has {} values but y has K = {k} anchors",
            hyperparam.len()
        ));
    }
    if !hyperparam.iter().all(|v| v.is_finite()) {
        return Err("hyperparam holds NaN or infinite values".into());
    }
    let claims = ManifestClaims::parse(&raw)?;
    let (cond_dim, categorical, observed_categories) = match condition {
        Condition::None => (0, false, None),
        Condition::Continuous(x) => {
            let (xk, xn, c) = x.dim();
            if (xk, xn) != (k, n) || c == 0 {
                return Err(format!(
                    "x must have shape [{k}, {n}, C >= 1] like y, got {:?}",
                    x.shape()
                ));
            }
            if !x.iter().all(|v| v.is_finite()) {
                return Err("x holds NaN or infinite values".into());
            }
            (c, false, None)
        }
        Condition::Categorical(labels) => {
            if labels.dim() != (k, n) {
                return Err(format!(
                    "label must have shape [{k}, {n}] like y, got {:?}",
                    labels.shape()
                ));
            }
            if let Some(&bad) = labels.iter().find(|&&c| c < 0) {
                return Err(format!("labels must be >= 0, found {bad}"));
            }
            (1, true, Some(labels.iter().max().map_or(0, |&m| m as usize + 1)))
        }
    };
    if let Some(claimed) = claims.dim.filter(|&claimed| claimed != d) {
        return Err(format!("manifest says D = {claimed} but y has D = {d}"));
    }
    if let Some(claimed) = claims.cond_dim.filter(|&claimed| claimed != cond_dim) {
        return Err(format!(
            "manifest says C = {claimed} but the condition has dimension {cond_dim}"
        ));
    }
    if let Some(claimed) = claims.categorical.filter(|&claimed| claimed != categorical) {
        return Err(format!(
            "manifest says categorical = {claimed}, but the files hold {}",
            if categorical { "label.npy" } else { "no label.npy" }
        ));
    }
    let num_categories = match (claims.num_categories, observed_categories) {
        (Some(claimed), Some(observed)) if observed > claimed => {
            return Err(format!(
                "labels reach {} but the manifest says num_categories = {claimed}",
                observed - 1
            ))
        }
        (claimed, observed) if categorical => claimed.or(observed),
        _ => None,
    };
    let anchors = claims.anchors.unwrap_or_else(|| (0..k).collect());
    if anchors.is_empty() {
        return Err("anchors_used_for_training is empty".into());
    }
    if let Some(&bad) = anchors.iter().find(|&&a| a >= k) {
        return Err(format!(
            "anchors_used_for_training names anchor {bad}, but there are only {k}"
        ));
    }
    if (1..anchors.len()).any(|i| anchors[i] <= anchors[i - 1]) {
        return Err(format!(
            "anchors_used_for_training must be strictly increasing, got {anchors:?}"
        ));
    }
    let time_points = claims
        .time_points
        .unwrap_or_else(|| even_time_points(anchors.len()));
    if time_points.len() != anchors.len() {
        return Err(format!(
            "{} time points for {} training anchors",
            time_points.len(),
            anchors.len()
        ));
    }
    if !time_points.iter().all(|t| t.is_finite()) {
        return Err("time points hold NaN or infinite values".into());
    }
    Ok(Manifest {
        raw,
        dim: d,
        cond_dim,
        categorical,
        num_categories,
        anchors_used_for_training: anchors,
        clot_time_points: time_points,
    })
}

fn read_array<T: ndarray_npy::ReadNpyExt>(path: &Path) -> Result<T> {
    ndarray_npy::read_npy(path).map_err(|e| Error::Dataset {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn write_array<T: ndarray_npy::WriteNpyExt>(path: &Path, array: &T) -> Result<()> {
    ndarray_npy::write_npy(path, array).map_err(|e| Error::Dataset {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

impl AnchoredDataset {
    /// A dataset from arrays: all anchors train, at evenly spaced time points in `[0, 1]`.
    /// Shapes must agree (`y` `[K, N, D]`, condition `[K, N, C]` or `[K, N]`, `hyperparam`
    /// `[K]`), values be finite and labels non-negative; otherwise [`Error::Dataset`].
    pub fn new(y: Array3<f32>, condition: Condition, hyperparam: Array1<f32>) -> Result<Self> {
        Self::from_parts("in-memory", y, condition, hyperparam, json!({}))
    }

    fn from_parts(
        name: &str,
        y: Array3<f32>,
        condition: Condition,
        hyperparam: Array1<f32>,
        raw: Value,
    ) -> Result<Self> {
        let manifest = reconcile(&y, &condition, &hyperparam, raw).map_err(|reason| Error::Dataset {
            path: PathBuf::from(name),
            reason,
        })?;
        Ok(AnchoredDataset {
            name: name.to_string(),
            y,
            condition,
            hyperparam,
            manifest,
        })
    }

    /// Restricts training to the anchors `indices` (strictly increasing), placed at `time_points`
    /// (one per index).
    ///
    /// ```
    /// use lagrangian_ot::data::{AnchoredDataset, Condition};
    /// use ndarray::{Array1, Array3};
    /// let ds = AnchoredDataset::new(Array3::zeros((5, 4, 2)), Condition::None, Array1::linspace(0.0, 1.0, 5)).unwrap();
    /// let ds = ds.with_training_anchors(&[0, 2, 4], &[0.0, 0.5, 1.0]).unwrap();
    /// assert_eq!(ds.training_anchors(), &[0, 2, 4]);
    /// assert!(ds.clone().with_training_anchors(&[0, 9], &[0.0, 1.0]).is_err());
    /// ```
    pub fn with_training_anchors(self, indices: &[usize], time_points: &[f32]) -> Result<Self> {
        let mut raw = self.manifest.raw.clone();
        if let Some(map) = raw.as_object_mut() {
            map.remove("clot_time_points_of_anchors");
            map.insert("anchors_used_for_training".into(), json!(indices));
            map.insert("clot_time_points".into(), json!(time_points));
        }
        Self::from_parts(&self.name, self.y, self.condition, self.hyperparam, raw)
    }

    /// Loads a dataset folder (layout in the module docs). Any missing or malformed file, or
    /// arrays and manifest that disagree, give [`Error::Dataset`].
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        if !dir.is_dir() {
            return Err(Error::Dataset {
                path: dir.to_path_buf(),
                reason: "not a folder".into(),
            });
        }
        let y: Array3<f32> = read_array(&dir.join("y.npy"))?;
        let hyperparam: Array1<f32> = read_array(&dir.join("hyperparam.npy"))?;
        let (x_path, label_path) = (dir.join("x.npy"), dir.join("label.npy"));
        let condition = match (x_path.exists(), label_path.exists()) {
            (true, true) => {
                return Err(Error::Dataset {
                    path: dir.to_path_buf(),
                    reason: "both x.npy and label.npy present; a dataset has one condition".into(),
                })
            }
            (true, false) => Condition::Continuous(read_array(&x_path)?),
            (false, true) => Condition::Categorical(read_array(&label_path)?),
            (false, false) => Condition::None,
        };
        let manifest_path = dir.join("manifest.json");
        let raw = if manifest_path.exists() {
            let text = std::fs::read_to_string(&manifest_path)?;
            serde_json::from_str(&text).map_err(|e| Error::Dataset {
                path: manifest_path.clone(),
                reason: e.to_string(),
            })?
        } else {
            json!({})
        };
        let name = dir
            .file_name()
            .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned());
        let manifest = reconcile(&y, &condition, &hyperparam, raw).map_err(|reason| Error::Dataset {
            path: dir.to_path_buf(),
            reason,
        })?;
        Ok(AnchoredDataset {
            name,
            y,
            condition,
            hyperparam,
            manifest,
        })
    }

    /// Loads the dataset `name` (e.g. `"semicircle"`) from the shared data folder
    /// ([`shared_data_dir`]); a missing folder gives [`Error::MissingSharedData`].
    pub fn load_shared(name: &str) -> Result<Self> {
        let root = shared_data_dir()?;
        let dir = root.join(name);
        if !dir.is_dir() {
            return Err(Error::MissingSharedData {
                var: super::SHARED_DATA_ENV,
                path: dir,
            });
        }
        Self::load(dir)
    }

    /// Writes the dataset into `dir` (created if needed) in the layout [`AnchoredDataset::load`]
    /// reads; a condition file of the other kind left there by an earlier save is removed.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)?;
        write_array(&dir.join("y.npy"), &self.y)?;
        write_array(&dir.join("hyperparam.npy"), &self.hyperparam)?;
        let (keep, stale) = match &self.condition {
            Condition::None => (None, ["x.npy", "label.npy"].as_slice()),
            Condition::Continuous(x) => (Some(write_array(&dir.join("x.npy"), x)), ["label.npy"].as_slice()),
            Condition::Categorical(labels) => (
                Some(write_array(&dir.join("label.npy"), labels)),
                ["x.npy"].as_slice(),
            ),
        };
        keep.transpose()?;
        for file in stale {
            let path = dir.join(file);
            if path.exists() {
                std::fs::remove_file(path)?;
            }
        }
        let text = serde_json::to_string_pretty(&self.manifest_json())?;
        std::fs::write(dir.join("manifest.json"), text + "\n")?;
        Ok(())
    }

    /// The raw manifest with the typed fields written back in.
    fn manifest_json(&self) -> Value {
        let m = &self.manifest;
        let mut raw = match &m.raw {
            Value::Object(map) => map.clone(),
            _ => serde_json::Map::new(),
        };
        raw.remove("clot_time_points_of_anchors");
        raw.insert("D".into(), json!(m.dim));
        raw.insert("C".into(), json!(m.cond_dim));
        raw.insert("categorical".into(), json!(m.categorical));
        match m.num_categories {
            Some(c) => raw.insert("num_categories".into(), json!(c)),
            None => raw.remove("num_categories"),
        };
        raw.insert(
            "anchors_used_for_training".into(),
            json!(m.anchors_used_for_training),
        );
        raw.insert("clot_time_points".into(), json!(m.clot_time_points));
        Value::Object(raw)
    }

    /// The folder name the dataset was loaded from (`"in-memory"` for [`AnchoredDataset::new`]).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// All samples, `[K, N, D]`.
    pub fn y(&self) -> &Array3<f32> {
        &self.y
    }

    /// The condition of every sample.
    pub fn condition(&self) -> &Condition {
        &self.condition
    }

    /// The hyperparameter value of each anchor, `[K]`.
    pub fn hyperparam(&self) -> &Array1<f32> {
        &self.hyperparam
    }

    /// The manifest (raw JSON and typed fields).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Number of anchors `K`.
    pub fn num_anchors(&self) -> usize {
        self.y.len_of(Axis(0))
    }

    /// Samples per anchor `N`.
    pub fn num_samples(&self) -> usize {
        self.y.len_of(Axis(1))
    }

    /// Output dimension `D`.
    pub fn dim(&self) -> usize {
        self.y.len_of(Axis(2))
    }

    /// Indices of the anchors a model may train on.
    pub fn training_anchors(&self) -> &[usize] {
        &self.manifest.anchors_used_for_training
    }

    /// Time point of each training anchor.
    pub fn time_points(&self) -> &[f32] {
        &self.manifest.clot_time_points
    }

    fn check_anchor(&self, k: usize) -> Result<()> {
        if k >= self.num_anchors() {
            return Err(Error::InvalidArgument(format!(
                "anchor {k} does not exist; the dataset has {}",
                self.num_anchors()
            )));
        }
        Ok(())
    }

    /// The `[N, D]` samples of anchor `k`.
    pub fn anchor(&self, k: usize) -> Result<ArrayView2<'_, f32>> {
        self.check_anchor(k)?;
        Ok(self.y.index_axis(Axis(0), k))
    }

    /// The conditions of the samples of anchor `k`.
    pub fn condition_at(&self, k: usize) -> Result<ConditionView<'_>> {
        self.check_anchor(k)?;
        Ok(match &self.condition {
            Condition::None => ConditionView::None,
            Condition::Continuous(x) => ConditionView::Continuous(x.index_axis(Axis(0), k)),
            Condition::Categorical(labels) => ConditionView::Categorical(labels.index_axis(Axis(0), k)),
        })
    }

    /// Shows the dataset inline in an evcxr notebook (see [`Plot`]).
    pub fn evcxr_display(&self) {
        Plot::evcxr_display(self)
    }
}

impl Plot for AnchoredDataset {
    /// One panel per anchor (at most [`MAX_PLOTTED_ANCHORS`]) on shared axes, coloured by class
    /// for categorical data; for `D > 2` the first two coordinates, for `D = 1` the value
    /// against the sample index. At most [`MAX_PLOTTED_SAMPLES`] evenly spaced samples per anchor.
    fn figure(&self) -> Figure {
        let (k, n, d) = self.y.dim();
        let stride = n.div_ceil(MAX_PLOTTED_SAMPLES).max(1);
        let shown = |k: usize| -> Array2<f32> {
            let samples = self.y.slice(s![k, ..;stride, ..]);
            if d >= 2 {
                samples.slice(s![.., 0..2]).to_owned()
            } else {
                Array2::from_shape_fn((samples.nrows(), 2), |(i, j)| {
                    if j == 0 {
                        samples[[i, 0]]
                    } else {
                        (i * stride) as f32
                    }
                })
            }
        };
        let anchors: Vec<usize> = (0..k.min(MAX_PLOTTED_ANCHORS)).collect();
        let clouds: Vec<Array2<f32>> = anchors.iter().map(|&a| shown(a)).collect();
        let bounds = |column: usize| {
            crate::plot::finite_bounds(
                clouds
                    .iter()
                    .flat_map(|c| c.column(column).to_vec())
                    .map(f64::from),
            )
            .and_then(|(lo, hi)| crate::plot::padded_range(lo, hi, crate::plot::DEFAULT_PADDING).ok())
        };
        let (Some(x_range), Some(y_range)) = (bounds(0), bounds(1)) else {
            return Figure::failed(Error::Empty(format!(
                "dataset {} has no finite samples",
                self.name
            )));
        };
        let (x_label, y_label) = if d >= 2 {
            ("y[0]", "y[1]")
        } else {
            ("y[0]", "sample")
        };
        let panels = anchors
            .iter()
            .zip(&clouds)
            .map(|(&a, cloud)| {
                let role = if self.training_anchors().contains(&a) {
                    ", train"
                } else {
                    ""
                };
                let fig =
                    Figure::new().title(&format!("anchor {a}: hyperparam {}{role}", self.hyperparam[a]));
                let fig = match &self.condition {
                    Condition::Categorical(labels) => {
                        fig.scatter_groups(cloud, &labels.slice(s![a, ..;stride]).to_owned())
                    }
                    _ => fig.scatter(cloud, ""),
                };
                fig.x_range(x_range.0, x_range.1)
                    .y_range(y_range.0, y_range.1)
                    .x_label(x_label)
                    .y_label(y_label)
            })
            .collect();
        let mut title = format!("{}: K = {k} anchors, N = {n}, D = {d}", self.name);
        if d > 2 {
            title.push_str(" (first 2 coordinates shown)");
        }
        if stride > 1 {
            title.push_str(&format!(", 1 in {stride} samples shown"));
        }
        if k > MAX_PLOTTED_ANCHORS {
            title.push_str(&format!(", first {MAX_PLOTTED_ANCHORS} anchors"));
        }
        let cols = anchors.len().min(4);
        Figure::grid(cols, panels).suptitle(&title).panel_size(360, 320)
    }
}

//! The CLOT surrogate (HTI spec §6): no optimisation at inference. From a start sample at the first
//! anchor, chain the interval maps T_0, T_1, … up to the interval holding t*, map once more to its
//! end, and read the least-action spline path between the two at s* = (t* − t_k)/(t_{k+1} − t_k).
//!
//! A fitted surrogate saves to a folder (`surrogate.json`, one `.npz` per network, the start pool as
//! `.npy`), written under a temporary name and renamed, and loads back without the training data.

use std::path::{Path, PathBuf};

use ndarray::{s, Array1, Array2, ArrayView2, Axis};
use ndarray_npy::{read_npy, write_npy};
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{check_times, locate, Anchors, ConditionEncoding, Surrogate, Trajectories};
use crate::data::ConditionView;
use crate::device::{default_device, rng, Device};
use crate::error::{Error, Result};
use crate::io::{read_checkpoint_json, write_checkpoint_json};
use crate::lagrangian::Bounds;
use crate::nn::{Activation, ConditionalMlp, FilmMlp, HostFilmMlp, HostMlp, Trainable};
use crate::path::{
    ActionKind, CubicSplinePath, Order, PathPairs, Quadrature, SplineAction, SplineAmortiser,
    SplineAmortiserConfig,
};
use crate::plot::{Figure, Plot};
use crate::solver::{HtiConfig, HtiVariant};

/// Format tag written into `surrogate.json`.
const FORMAT: &str = "lagrangian-ot/hti-surrogate";
const VERSION: u64 = 1;
/// The surrogate's description beside its weights.
const META_FILE: &str = "surrogate.json";

/// What [`META_FILE`] holds: enough to rebuild every network before its weights load.
#[derive(Serialize, Deserialize)]
struct SurrogateMeta {
    format: String,
    version: u64,
    variant: String,
    dim: usize,
    condition: SavedCondition,
    times: Vec<f32>,
    map_hidden: Vec<usize>,
    film_hidden: Vec<usize>,
    amortiser_hidden: Vec<usize>,
    amortiser_activation: Activation,
    knots: usize,
    bounds: Option<SavedBounds>,
}

/// The condition encoding as `{"kind": "none" | "continuous" | "categorical", "width": n}`.
#[derive(Serialize, Deserialize)]
struct SavedCondition {
    kind: String,
    width: usize,
}

/// Box bounds as their two corners.
#[derive(Serialize, Deserialize)]
struct SavedBounds {
    lo: Vec<f32>,
    hi: Vec<f32>,
}

/// A fitted CLOT surrogate; see the module docs.
pub struct HtiSurrogate {
    variant: HtiVariant,
    times: Vec<f32>,
    encoding: ConditionEncoding,
    dim: usize,
    map_hidden: Vec<usize>,
    film_hidden: Vec<usize>,
    maps: Vec<ConditionalMlp>,
    amortiser: SplineAmortiser,
    bounds: Option<Bounds>,
    start: Array2<f32>,
    start_cond: Array2<f32>,
    host: HostNets,
}

/// Host copies of the maps and the amortiser, taken once: inference runs on them in parallel row
/// blocks, with the amortiser's last layer folded into the spline read at s* (see
/// [`HtiSurrogate::predict_encoded`]).
struct HostNets {
    maps: Vec<HostFilmMlp>,
    amortiser: HostMlp,
}

impl HostNets {
    fn new(maps: &[ConditionalMlp], amortiser: &SplineAmortiser) -> Self {
        HostNets {
            maps: maps.iter().map(HostFilmMlp::snapshot).collect(),
            amortiser: HostMlp::snapshot(amortiser.net()),
        }
    }
}

/// Rows per parallel block of inference.
const INFERENCE_BLOCK_ROWS: usize = 2048;

impl HtiSurrogate {
    /// Assembles a surrogate from a fit: `maps` per interval, the amortiser, the clipping box, and the
    /// first anchor's samples as the start pool.
    pub(crate) fn new(
        config: &HtiConfig,
        anchors: &Anchors,
        maps: Vec<ConditionalMlp>,
        amortiser: SplineAmortiser,
        bounds: Option<Bounds>,
    ) -> Result<Self> {
        if maps.len() + 1 != anchors.len() {
            return Err(Error::shape(
                "HTI surrogate maps",
                format!("{} (one per interval)", anchors.len() - 1),
                maps.len().to_string(),
            ));
        }
        Ok(HtiSurrogate {
            host: HostNets::new(&maps, &amortiser),
            variant: config.variant,
            times: anchors.times.clone(),
            encoding: anchors.encoding,
            dim: anchors.dim(),
            map_hidden: config.map_hidden.clone(),
            film_hidden: config.film_hidden.clone(),
            maps,
            amortiser,
            bounds,
            start: anchors.samples[0].clone(),
            start_cond: anchors.conditions[0].clone(),
        })
    }

    /// The variant it was trained as.
    pub fn variant(&self) -> HtiVariant {
        self.variant
    }

    /// How conditions are encoded.
    pub fn encoding(&self) -> ConditionEncoding {
        self.encoding
    }

    /// The first anchor's samples `[N, D]` (the start pool of [`HtiSurrogate::sample`]).
    pub fn start_pool(&self) -> ArrayView2<'_, f32> {
        self.start.view()
    }

    fn cond_arg<'a>(&self, cond: &'a Array2<f32>) -> Option<&'a Array2<f32>> {
        (cond.ncols() > 0).then_some(cond)
    }

    /// [`Surrogate::predict`] with conditions already encoded `[N, width]`.
    pub fn predict_encoded(
        &self,
        t: f32,
        start: ArrayView2<'_, f32>,
        cond: &Array2<f32>,
    ) -> Result<Array2<f32>> {
        let (k, s) = locate(&self.times, t)?;
        self.check_input(start, cond)?;
        let x = self.cond_arg(cond);
        // The spline point at s* is linear in (y, end, params): y·A + end·B + params·P. With params
        // = h·W + b from the amortiser's last layer, P folds into it (W·P is [hidden, d]). At an
        // anchor (s* = 1) the path is not read.
        let read = (s < 1.0)
            .then(|| -> Result<_> {
                let map = self
                    .amortiser
                    .action()
                    .path()
                    .linear_map(&[s as f64], Order::Position)?;
                let f32_of = |m: &Array2<f64>| m.mapv(|v| v as f32);
                let amortiser = self.host.amortiser.compose_output(&f32_of(&map.from_params))?;
                Ok((f32_of(&map.from_x), f32_of(&map.from_y), amortiser))
            })
            .transpose()?;
        let block = |rows: std::ops::Range<usize>| -> Result<Array2<f32>> {
            let x = x.map(|c| c.slice(s![rows.clone(), ..]).to_owned());
            let mut y = start.slice(s![rows, ..]).to_owned();
            for map in &self.host.maps[..k] {
                y = map.forward(&y, x.as_ref())? + &y;
            }
            let end = self.host.maps[k].forward(&y, x.as_ref())? + &y;
            let out = match &read {
                None => end,
                Some((from_start, from_end, amortiser)) => {
                    let mut parts = vec![y.view(), end.view()];
                    if let Some(c) = &x {
                        parts.push(c.view());
                    }
                    let input = ndarray::concatenate(Axis(1), &parts)
                        .map_err(|e| Error::shape("HTI surrogate input", "equal rows", e.to_string()))?;
                    y.dot(from_start) + end.dot(from_end) + amortiser.forward(&input)?
                }
            };
            self.clip(out)
        };
        let n = start.nrows();
        let blocks = (0..n)
            .step_by(INFERENCE_BLOCK_ROWS)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|from| block(from..(from + INFERENCE_BLOCK_ROWS).min(n)))
            .collect::<Result<Vec<_>>>()?;
        let views: Vec<_> = blocks.iter().map(|b| b.view()).collect();
        ndarray::concatenate(Axis(0), &views)
            .map_err(|e| Error::shape("HTI surrogate output", "equal widths", e.to_string()))
    }

    /// [`HtiSurrogate::predict_encoded`] through the training-time dfdx networks and the full spline
    /// parameters: the reference the host path is tested against.
    pub fn predict_encoded_reference(
        &self,
        t: f32,
        start: ArrayView2<'_, f32>,
        cond: &Array2<f32>,
    ) -> Result<Array2<f32>> {
        let (k, s) = locate(&self.times, t)?;
        self.check_input(start, cond)?;
        let x = self.cond_arg(cond);
        let mut y = start.to_owned();
        for map in &self.maps[..k] {
            y = map.forward_array(&y, x)? + &y;
        }
        let end = self.maps[k].forward_array(&y, x)? + &y;
        let out = if s >= 1.0 {
            end
        } else {
            let mut pairs = PathPairs::new(y.clone(), end.clone());
            if let Some(x) = x {
                pairs = pairs.with_condition(x.clone());
            }
            let params = self.amortiser.predict(&pairs)?;
            self.amortiser
                .action()
                .path()
                .evaluate_batch(y.view(), end.view(), params.view(), &[s as f64], Order::Position)?
                .index_axis_move(Axis(1), 0)
        };
        self.clip(out)
    }

    /// Predictions clipped into the box, when the surrogate clips.
    fn clip(&self, out: Array2<f32>) -> Result<Array2<f32>> {
        match &self.bounds {
            Some(b) => b.clip(&out),
            None => Ok(out),
        }
    }

    fn check_input(&self, start: ArrayView2<'_, f32>, cond: &Array2<f32>) -> Result<()> {
        if start.ncols() != self.dim || start.nrows() != cond.nrows() || cond.ncols() != self.encoding.width()
        {
            return Err(Error::shape(
                "HTI surrogate input",
                format!(
                    "start [N, {}] and conditions [N, {}]",
                    self.dim,
                    self.encoding.width()
                ),
                format!("{:?} and {:?}", start.dim(), cond.dim()),
            ));
        }
        if start.is_empty() {
            return Err(Error::Empty("no start samples".into()));
        }
        crate::error::ensure_finite("start samples", start.iter())
    }

    /// Start samples for the given conditions, drawn from the first anchor: a random sample with the
    /// same label (categorical), the sample whose condition is nearest (continuous), or a random
    /// sample (unconditional). Unknown labels are an error.
    pub fn draw_starts(
        &self,
        cond: &ConditionView<'_>,
        n: usize,
        seed: u64,
    ) -> Result<(Array2<f32>, Array2<f32>)> {
        let encoded = self.encoding.encode(cond, n)?;
        let mut r = rng(seed);
        let pool = self.start.nrows();
        let mut idx = Vec::with_capacity(n);
        for row in encoded.rows() {
            let pick = match self.encoding {
                ConditionEncoding::None => r.gen_range(0..pool),
                ConditionEncoding::Categorical { .. } => {
                    let same: Vec<usize> = (0..pool).filter(|&i| self.start_cond.row(i) == row).collect();
                    if same.is_empty() {
                        return Err(Error::InvalidArgument(
                            "no start sample of the first anchor has this label".into(),
                        ));
                    }
                    same[r.gen_range(0..same.len())]
                }
                ConditionEncoding::Continuous { .. } => {
                    (0..pool)
                        .map(|i| {
                            let d: f32 = self
                                .start_cond
                                .row(i)
                                .iter()
                                .zip(row)
                                .map(|(a, b)| (a - b) * (a - b))
                                .sum();
                            (i, d)
                        })
                        .fold(
                            (0, f32::INFINITY),
                            |best, cur| if cur.1 < best.1 { cur } else { best },
                        )
                        .0
                }
            };
            idx.push(pick);
        }
        Ok((self.start.select(Axis(0), &idx), encoded))
    }

    /// Samples at `t` for every row of `cond` (`n` rows): starts drawn by
    /// [`HtiSurrogate::draw_starts`], then [`Surrogate::predict`].
    pub fn sample(&self, t: f32, cond: &ConditionView<'_>, n: usize, seed: u64) -> Result<Array2<f32>> {
        let (start, encoded) = self.draw_starts(cond, n, seed)?;
        self.predict_encoded(t, start.view(), &encoded)
    }

    /// `n` samples at `t` from random start-pool rows with their own conditions; returns the samples and
    /// the pool rows used.
    pub fn sample_at(&self, t: f32, n: usize, seed: u64) -> Result<(Array2<f32>, Vec<usize>)> {
        if n == 0 {
            return Err(Error::Empty("zero samples requested".into()));
        }
        let mut r = rng(seed);
        let idx: Vec<usize> = (0..n).map(|_| r.gen_range(0..self.start.nrows())).collect();
        let out = self.predict_encoded(
            t,
            self.start.select(Axis(0), &idx).view(),
            &self.start_cond.select(Axis(0), &idx),
        )?;
        Ok((out, idx))
    }

    /// The trajectories of the whole start pool through `times`.
    pub fn trajectories_from_pool(&self, times: &[f32]) -> Result<Trajectories> {
        let points = times
            .iter()
            .map(|&t| self.predict_encoded(t, self.start.view(), &self.start_cond))
            .collect::<Result<Vec<_>>>()?;
        Ok(Trajectories {
            name: self.name(),
            times: times.to_vec(),
            points,
        })
    }

    /// Writes the surrogate to the folder `dir` (created or replaced atomically).
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        let tmp = sibling(dir, &format!(".tmp-{}", std::process::id()))?;
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp)?;
        }
        std::fs::create_dir_all(&tmp)?;
        let written = (|| -> Result<()> {
            let (kind, width) = match self.encoding {
                ConditionEncoding::None => ("none", 0),
                ConditionEncoding::Continuous { dim } => ("continuous", dim),
                ConditionEncoding::Categorical { num_categories } => ("categorical", num_categories),
            };
            let config = self.amortiser.config();
            let meta = SurrogateMeta {
                format: FORMAT.to_string(),
                version: VERSION,
                variant: self.variant.cli_name().to_string(),
                dim: self.dim,
                condition: SavedCondition {
                    kind: kind.to_string(),
                    width,
                },
                times: self.times.clone(),
                map_hidden: self.map_hidden.clone(),
                film_hidden: self.film_hidden.clone(),
                amortiser_hidden: config.hidden.clone(),
                amortiser_activation: config.activation,
                knots: self.amortiser.action().path().knots(),
                bounds: self.bounds.as_ref().map(|b| SavedBounds {
                    lo: b.lo().to_vec(),
                    hi: b.hi().to_vec(),
                }),
            };
            write_checkpoint_json(&tmp.join(META_FILE), &meta)?;
            for (k, map) in self.maps.iter().enumerate() {
                map.save(tmp.join(format!("map_{k}.npz")))?;
            }
            self.amortiser.save(tmp.join("amortiser.npz"))?;
            let npy = |name: &str, a: &Array2<f32>| {
                write_npy(tmp.join(name), a).map_err(|e| Error::Npy(format!("{name}: {e}")))
            };
            npy("start_y.npy", &self.start)?;
            npy("start_condition.npy", &self.start_cond)
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::rename(&tmp, dir)?;
        Ok(())
    }

    /// Loads a surrogate written by [`HtiSurrogate::save`]; a missing or inconsistent file is an
    /// [`Error::Checkpoint`].
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let bad = |reason: String| Error::checkpoint(dir, reason);
        let meta: SurrogateMeta = read_checkpoint_json(&dir.join(META_FILE))?;
        if meta.format != FORMAT || meta.version != VERSION {
            return Err(bad(format!("not an HTI surrogate of version {VERSION}")));
        }
        let SurrogateMeta {
            variant,
            dim,
            condition,
            times,
            map_hidden,
            film_hidden,
            amortiser_hidden,
            amortiser_activation: activation,
            knots,
            bounds,
            ..
        } = meta;
        let variant = HtiVariant::from_name(&variant)?;
        check_times(&times)?;
        let width = condition.width;
        let encoding = match condition.kind.as_str() {
            "none" => ConditionEncoding::None,
            "continuous" => ConditionEncoding::Continuous { dim: width },
            "categorical" => ConditionEncoding::Categorical {
                num_categories: width,
            },
            other => return Err(bad(format!("unknown condition kind {other:?}"))),
        };
        let bounds = bounds.map(|b| Bounds::new(b.lo, b.hi)).transpose()?;

        let dev: Device = default_device(0);
        let mut maps = Vec::with_capacity(times.len() - 1);
        for k in 0..times.len() - 1 {
            let mut map = FilmMlp::builder(dim, width)
                .hidden(&map_hidden)
                .output(dim)
                .activation(Activation::ReLU)
                .cond_hidden(&film_hidden)
                .build_conditional(&dev)?;
            map.load(dir.join(format!("map_{k}.npz")))?;
            maps.push(map);
        }
        let action = SplineAction::new(
            &dev,
            CubicSplinePath::new(dim, knots)?,
            Quadrature::default(),
            ActionKind::SquaredGeodesic,
        )?;
        let config = SplineAmortiserConfig {
            hidden: amortiser_hidden,
            activation,
            ..SplineAmortiserConfig::default()
        };
        let mut amortiser = SplineAmortiser::new(action, width, config)?;
        amortiser.load(dir.join("amortiser.npz"))?;
        let npy = |name: &str| -> Result<Array2<f32>> {
            read_npy(dir.join(name)).map_err(|e| bad(format!("{name}: {e}")))
        };
        let (start, start_cond) = (npy("start_y.npy")?, npy("start_condition.npy")?);
        if start.ncols() != dim || start_cond.dim() != (start.nrows(), width) {
            return Err(bad(format!("start pool shapes disagree with {META_FILE}")));
        }
        Ok(HtiSurrogate {
            host: HostNets::new(&maps, &amortiser),
            variant,
            times,
            encoding,
            dim,
            map_hidden,
            film_hidden,
            maps,
            amortiser,
            bounds,
            start,
            start_cond,
        })
    }

    /// Shows the surrogate's trajectories from its start pool inline in an evcxr notebook.
    pub fn evcxr_display(&self) {
        self.figure().evcxr_display();
    }
}

/// `dir` with `suffix` appended to its last component.
fn sibling(dir: &Path, suffix: &str) -> Result<PathBuf> {
    let name = dir
        .file_name()
        .ok_or_else(|| Error::InvalidArgument(format!("not a folder path: {}", dir.display())))?;
    Ok(dir.with_file_name(format!("{}{suffix}", name.to_string_lossy())))
}

impl Surrogate for HtiSurrogate {
    fn name(&self) -> String {
        format!("CLOT {}", self.variant.paper_name())
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn anchor_times(&self) -> &[f32] {
        &self.times
    }
    fn predict(&self, t: f32, start: ArrayView2<'_, f32>, cond: &ConditionView<'_>) -> Result<Array2<f32>> {
        let encoded = self.encoding.encode(cond, start.nrows())?;
        self.predict_encoded(t, start, &encoded)
    }
}

impl Plot for HtiSurrogate {
    /// The start pool's trajectories through 21 times over the anchor range.
    fn figure(&self) -> Figure {
        let (lo, hi) = (self.times[0], self.times[self.times.len() - 1]);
        let query: Vec<f32> = (0..=20).map(|i| lo + (hi - lo) * i as f32 / 20.0).collect();
        match self.trajectories_from_pool(&query) {
            Ok(t) => t.figure(),
            Err(e) => Figure::failed(e),
        }
    }
}

/// Labels of one-hot rows (argmax), for per-class scoring of predictions.
pub fn labels_of(one_hot: &Array2<f32>) -> Array1<i64> {
    one_hot
        .rows()
        .into_iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .fold((0, f32::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b })
                .0 as i64
        })
        .collect()
}

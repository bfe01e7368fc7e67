//! The three synthetic sequences of Scarvelis & Solomon's metric learning (circle, mass splitting,
//! X paths), regenerated from their known metrics with the crate's own geodesic solver.
//!
//! NLOT's Table 2 learns a Riemannian metric from a sequence of point clouds ρ₀ … ρ_{K−1} that flow
//! along a known direction field; the original tensors are not shipped, so this module rebuilds
//! them the way the paper's appendix C describes: sample start and end clouds, join every start
//! point to its end point by a geodesic of the known [`ScarvelisMetric`], and record all paths at
//! the same times — slice k holds every path's position at time s_k.
//!
//! Simplifications against the original generator (spec §11): geodesics are spline paths minimising
//! the action ½∫γ̇ᵀA(γ)γ̇ (constant metric speed) by batched L-BFGS, not an ODE whose velocity
//! network is fitted per pair with a terminal penalty, so every path ends exactly at its target; the
//! metrics are the reference code's ([`ScarvelisMetric`], ε = 10⁻³, X field divided by 1.25, vee field
//! zero-normal at y = 0), not the generator's own variants; and the mass-splitting slices are taken
//! at the times that reproduce the original files' slice-mean spacing
//! ([`MASS_SPLIT_REFERENCE_MEANS`]) since a constant-speed straight path would space them evenly.
//!
//! ```no_run
//! use lagrangian_ot::data::scarvelis;
//! let circle = scarvelis::circle(0)?;
//! assert_eq!(circle.slices.dim(), (25, 100, 2));
//! # Ok::<(), lagrangian_ot::Error>(())
//! ```

use std::f64::consts::{FRAC_PI_2, PI};

use ndarray::{concatenate, s, Array2, Array3, ArrayView2, Axis};
use rand::seq::SliceRandom;

use crate::data::toy;
use crate::device::{default_device, rng, SeededRng};
use crate::error::{Error, Result};
use crate::lagrangian::{Bounds, Lagrangian, NoPotential, ScarvelisMetric};
use crate::path::{
    ActionKind, CubicSplinePath, GeodesicConfig, GeodesicSolver, Order, Quadrature, SplineAction,
};
use crate::plot::{ColorMap, Figure, Plot};

/// Slice means (x coordinate) of the original mass-splitting file, slice 0 to 9 (spec §11); the
/// generator records its paths at the times that reproduce this spacing.
pub const MASS_SPLIT_REFERENCE_MEANS: [f64; 10] =
    [-0.05, 0.45, 1.09, 1.87, 2.80, 3.88, 5.11, 6.53, 8.15, 10.0];

/// Which of the three sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScarvelisKind {
    /// Gaussians walking counter-clockwise around the unit circle from (1, 0) and back (closed loop).
    Circle,
    /// N(0, I) splitting into halves that reach N((10, 10), I) and N((10, −10), I).
    MassSplitting,
    /// Two crossing streams, (−1, −1) → (1, 1) and (−1, 1) → (1, −1).
    XPaths,
}

impl ScarvelisKind {
    /// The known metric the data flow along.
    pub fn metric(self) -> ScarvelisMetric {
        match self {
            ScarvelisKind::Circle => ScarvelisMetric::circle(),
            ScarvelisKind::MassSplitting => ScarvelisMetric::vee(),
            ScarvelisKind::XPaths => ScarvelisMetric::xpath(),
        }
    }

    /// The reference's bounds of the data set (the alignment grid and the c-transform's clip box):
    /// [−1.5, 1.5]² for circle and X paths, [−2.5, 15] × [−15, 15] for mass splitting.
    pub fn bounds(self) -> Bounds {
        let bounds = match self {
            ScarvelisKind::Circle | ScarvelisKind::XPaths => Bounds::cube(-1.5, 1.5, 2),
            ScarvelisKind::MassSplitting => Bounds::rect((-2.5, 15.0), (-15.0, 15.0)),
        };
        bounds.expect("constant bounds are valid")
    }

    /// A short name for titles.
    pub fn name(self) -> &'static str {
        match self {
            ScarvelisKind::Circle => "circle",
            ScarvelisKind::MassSplitting => "mass splitting",
            ScarvelisKind::XPaths => "X paths",
        }
    }
}

/// How to generate a sequence; [`ScarvelisConfig::paper`] gives the original sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct ScarvelisConfig {
    /// The sequence.
    pub kind: ScarvelisKind,
    /// Points per stream: per slice for circle and mass splitting, per stream for X paths (each slice
    /// then holds twice as many). Mass splitting needs an even number.
    pub samples: usize,
    /// Number of slices K (at least 2). Circle: K − 1 must be a multiple of 4 (equal steps on each
    /// quarter arc).
    pub slices: usize,
    /// Standard deviation of the Gaussian start and end clouds.
    pub std: f32,
    /// Knots of the spline paths the geodesic solver optimises.
    pub knots: usize,
    /// Seed of the clouds (and their pairing).
    pub seed: u64,
}

impl ScarvelisConfig {
    /// The original sizes: circle 25 slices × 100 points (std 0.1), mass splitting 10 × 100 (std 1),
    /// X paths 10 slices × 2 streams × 100 points (std 0.1).
    pub fn paper(kind: ScarvelisKind, seed: u64) -> Self {
        let (slices, std) = match kind {
            ScarvelisKind::Circle => (25, 0.1),
            ScarvelisKind::MassSplitting => (10, 1.0),
            ScarvelisKind::XPaths => (10, 0.1),
        };
        ScarvelisConfig {
            kind,
            samples: 100,
            slices,
            std,
            knots: 12,
            seed,
        }
    }

    /// Replaces the number of points per stream.
    pub fn samples(mut self, samples: usize) -> Self {
        self.samples = samples;
        self
    }

    /// Replaces the number of slices.
    pub fn slices(mut self, slices: usize) -> Self {
        self.slices = slices;
        self
    }

    fn validate(&self) -> Result<()> {
        let problem = if self.samples == 0 {
            Some("samples must be positive".to_string())
        } else if self.slices < 2 {
            Some(format!("a sequence needs at least 2 slices, got {}", self.slices))
        } else if self.kind == ScarvelisKind::Circle && (self.slices - 1) % 4 != 0 {
            Some(format!(
                "the circle walks 4 quarter arcs in equal steps: slices − 1 must be a multiple of 4, got {}",
                self.slices
            ))
        } else if self.kind == ScarvelisKind::MassSplitting && self.samples % 2 != 0 {
            Some(format!(
                "mass splitting sends half the points each way: samples must be even, got {}",
                self.samples
            ))
        } else if !(self.std.is_finite() && self.std >= 0.0) {
            Some(format!("std must be finite and >= 0, got {}", self.std))
        } else if self.knots < 3 {
            Some(format!("paths need at least 3 knots, got {}", self.knots))
        } else {
            None
        };
        problem.map_or(Ok(()), |p| {
            Err(Error::InvalidArgument(format!("Scarvelis data: {p}")))
        })
    }
}

/// A generated sequence: `slices[k]` is ρ_k as `[N, 2]`.
#[derive(Debug, Clone)]
pub struct ScarvelisData {
    /// The sequence.
    pub kind: ScarvelisKind,
    /// The point clouds `[K, N, 2]`; row i of every slice belongs to the same path.
    pub slices: Array3<f32>,
    /// The data set's bounds (see [`ScarvelisKind::bounds`]).
    pub bounds: Bounds,
    /// The metric the data were generated under.
    pub metric: ScarvelisMetric,
}

impl ScarvelisData {
    /// Number of slices K.
    pub fn num_slices(&self) -> usize {
        self.slices.len_of(Axis(0))
    }

    /// Slice k as `[N, 2]`; `None` past the last.
    pub fn slice(&self, k: usize) -> Option<Array2<f32>> {
        (k < self.num_slices()).then(|| self.slices.index_axis(Axis(0), k).to_owned())
    }

    /// The mean of every slice, `[K, 2]`.
    pub fn means(&self) -> Array2<f32> {
        self.slices
            .mean_axis(Axis(1))
            .expect("a generated slice has points")
    }
}

/// The circle sequence at the original sizes (25 slices × 100 points).
pub fn circle(seed: u64) -> Result<ScarvelisData> {
    generate(&ScarvelisConfig::paper(ScarvelisKind::Circle, seed))
}

/// The mass-splitting sequence at the original sizes (10 slices × 100 points).
pub fn mass_splitting(seed: u64) -> Result<ScarvelisData> {
    generate(&ScarvelisConfig::paper(ScarvelisKind::MassSplitting, seed))
}

/// The X-paths sequence at the original sizes (10 slices × 200 points).
pub fn x_paths(seed: u64) -> Result<ScarvelisData> {
    generate(&ScarvelisConfig::paper(ScarvelisKind::XPaths, seed))
}

/// Generates a sequence: draws the start and end clouds, solves all geodesics in one batch, and
/// records them at the slice times. Errors on an invalid configuration.
pub fn generate(config: &ScarvelisConfig) -> Result<ScarvelisData> {
    config.validate()?;
    let mut r = rng(config.seed);
    let legs = match config.kind {
        ScarvelisKind::Circle => circle_legs(&mut r, config)?,
        ScarvelisKind::MassSplitting => mass_split_legs(&mut r, config)?,
        ScarvelisKind::XPaths => x_path_legs(&mut r, config)?,
    };
    let metric = config.kind.metric();
    let slices = record_geodesics(metric, config.knots, legs)?;
    let slices = match config.kind {
        // The loop closes: the last slice is the first cloud again.
        ScarvelisKind::Circle => {
            let first = slices.slice(s![0..1, .., ..]).to_owned();
            concatenate(Axis(0), &[slices.view(), first.view()])
                .map_err(|e| Error::shape("circle slices", "equal slice sizes", e.to_string()))?
        }
        _ => slices,
    };
    Ok(ScarvelisData {
        kind: config.kind,
        slices,
        bounds: config.kind.bounds(),
        metric,
    })
}

/// Pairs of clouds joined by geodesics, the times at which they are recorded, and how the recorded
/// paths are arranged into slices.
struct Legs {
    /// Start points of every path `[P, 2]`.
    start: Array2<f32>,
    /// End points `[P, 2]`.
    end: Array2<f32>,
    /// Initial spline parameters (`None`: straight lines).
    init: Option<Array2<f32>>,
    /// Recording times per path.
    times: Vec<f64>,
    /// Paths per slice group: consecutive blocks of `group` paths.
    group: usize,
    /// How blocks combine: `Sequential` puts block b's times after block b − 1's (legs of one walk),
    /// `Parallel` puts blocks side by side in every slice (independent streams).
    layout: Layout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Sequential,
    Parallel,
}

/// Solves all paths at once and arranges their recordings as `[K, N, 2]`.
fn record_geodesics(metric: ScarvelisMetric, knots: usize, legs: Legs) -> Result<Array3<f32>> {
    let dev = default_device(0);
    let action = SplineAction::new(
        &dev,
        CubicSplinePath::new(2, knots)?,
        Quadrature::physical(),
        ActionKind::Lagrangian,
    )?;
    let solver = GeodesicSolver::new(action, GeodesicConfig::default())?;
    let lagrangian = Lagrangian::new(metric, NoPotential);
    let geodesics = solver.solve(&lagrangian, &legs.start, &legs.end, legs.init.as_ref(), None)?;
    let recorded = solver.action().path().evaluate_batch(
        legs.start.view(),
        legs.end.view(),
        geodesics.params.view(),
        &legs.times,
        Order::Position,
    )?; // [P, T, 2]
    let blocks: Vec<Array3<f32>> = (0..legs.start.nrows() / legs.group)
        .map(|b| {
            recorded
                .slice(s![b * legs.group..(b + 1) * legs.group, .., ..])
                .permuted_axes([1, 0, 2])
                .to_owned()
        })
        .collect();
    let views: Vec<_> = blocks.iter().map(|b| b.view()).collect();
    let axis = match legs.layout {
        Layout::Sequential => Axis(0),
        Layout::Parallel => Axis(1),
    };
    concatenate(axis, &views).map_err(|e| Error::shape("Scarvelis slices", "equal blocks", e.to_string()))
}

/// Circle: clouds at angles 0°, 90°, 180°, 270°; leg q joins cloud q to cloud q + 1 (mod 4) point by
/// point, recorded at (K − 1)/4 equal steps without its end point (the next leg starts there).
fn circle_legs(r: &mut SeededRng, config: &ScarvelisConfig) -> Result<Legs> {
    let clouds: Vec<Array2<f32>> = (0..4)
        .map(|q| {
            let angle = q as f64 * FRAC_PI_2;
            toy::gaussian(
                r,
                config.samples,
                &[angle.cos() as f32, angle.sin() as f32],
                config.std,
            )
        })
        .collect::<Result<_>>()?;
    let start = stack(&clouds.iter().map(|c| c.view()).collect::<Vec<_>>())?;
    let end = stack(&[
        clouds[1].view(),
        clouds[2].view(),
        clouds[3].view(),
        clouds[0].view(),
    ])?;
    let steps = (config.slices - 1) / 4;
    let init = polar_init(&CubicSplinePath::new(2, config.knots)?, &start, &end);
    Ok(Legs {
        start,
        end,
        init: Some(init),
        times: (0..steps).map(|j| j as f64 / steps as f64).collect(),
        group: config.samples,
        layout: Layout::Sequential,
    })
}

/// Mass splitting: N(0, I) → half to N((10, 10), I), half to N((10, −10), I); the upper half of the
/// start cloud (by y) goes up, each half paired at random.
fn mass_split_legs(r: &mut SeededRng, config: &ScarvelisConfig) -> Result<Legs> {
    let n = config.samples;
    let source = toy::gaussian(r, n, &[0.0, 0.0], config.std)?;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| source[[b, 1]].total_cmp(&source[[a, 1]]));
    let (upper, lower) = order.split_at(n / 2);
    let (mut upper, mut lower) = (upper.to_vec(), lower.to_vec());
    upper.shuffle(r);
    lower.shuffle(r);
    let rows: Vec<usize> = upper.into_iter().chain(lower).collect();
    let start = source.select(Axis(0), &rows);
    let end = stack(&[
        toy::gaussian(r, n / 2, &[10.0, 10.0], config.std)?.view(),
        toy::gaussian(r, n / 2, &[10.0, -10.0], config.std)?.view(),
    ])?;
    Ok(Legs {
        start,
        end,
        init: None,
        times: mass_split_times(config.slices),
        group: n,
        layout: Layout::Sequential,
    })
}

/// X paths: two streams, (−1, −1) → (1, 1) and (−1, 1) → (1, −1), recorded at K equal times.
fn x_path_legs(r: &mut SeededRng, config: &ScarvelisConfig) -> Result<Legs> {
    let n = config.samples;
    let mut cloud = |x: f32, y: f32| toy::gaussian(r, n, &[x, y], config.std);
    let (a0, a1, b0, b1) = (
        cloud(-1.0, -1.0)?,
        cloud(1.0, 1.0)?,
        cloud(-1.0, 1.0)?,
        cloud(1.0, -1.0)?,
    );
    let k = config.slices;
    Ok(Legs {
        start: stack(&[a0.view(), b0.view()])?,
        end: stack(&[a1.view(), b1.view()])?,
        init: None,
        times: (0..k).map(|j| j as f64 / (k - 1) as f64).collect(),
        group: n,
        layout: Layout::Parallel,
    })
}

/// `k` recording times whose progress follows the original mass-splitting slice means
/// ([`MASS_SPLIT_REFERENCE_MEANS`], normalised to [0, 1]), interpolated linearly for k ≠ 10.
///
/// ```
/// let t = lagrangian_ot::data::scarvelis::mass_split_times(10);
/// assert_eq!((t[0], t[9]), (0.0, 1.0));
/// assert!((t[1] - 0.5 / 10.05).abs() < 1e-12);
/// ```
pub fn mass_split_times(k: usize) -> Vec<f64> {
    let m = MASS_SPLIT_REFERENCE_MEANS;
    let (first, last) = (m[0], m[m.len() - 1]);
    let profile: Vec<f64> = m.iter().map(|v| (v - first) / (last - first)).collect();
    (0..k)
        .map(|j| {
            let u = if k > 1 { j as f64 / (k - 1) as f64 } else { 0.0 } * (profile.len() - 1) as f64;
            let i = (u.floor() as usize).min(profile.len() - 2);
            profile[i] + (u - i as f64) * (profile[i + 1] - profile[i])
        })
        .collect()
}

/// Spline parameters of the paths that interpolate angle and radius linearly from each start to its
/// end point (the shorter way round): a warm start on the circle's arcs, so the solver need not
/// bend a chord out to the circle.
fn polar_init(path: &CubicSplinePath, start: &Array2<f32>, end: &Array2<f32>) -> Array2<f32> {
    let interior = &path.knot_times()[1..path.knots() - 1];
    Array2::from_shape_fn((start.nrows(), path.num_params()), |(b, p)| {
        let (s, c) = (interior[p / 2], p % 2);
        let (x, y) = (start.row(b), end.row(b));
        let (r0, r1) = (x[0].hypot(x[1]) as f64, y[0].hypot(y[1]) as f64);
        let a0 = (x[1] as f64).atan2(x[0] as f64);
        let mut turn = (y[1] as f64).atan2(y[0] as f64) - a0;
        turn -= 2.0 * PI * ((turn + PI) / (2.0 * PI)).floor();
        let (radius, angle) = ((1.0 - s) * r0 + s * r1, a0 + s * turn);
        let polar = if c == 0 {
            radius * angle.cos()
        } else {
            radius * angle.sin()
        };
        (polar - ((1.0 - s) * x[c] as f64 + s * y[c] as f64)) as f32
    })
}

fn stack(parts: &[ArrayView2<'_, f32>]) -> Result<Array2<f32>> {
    concatenate(Axis(0), parts).map_err(|e| Error::shape("Scarvelis clouds", "[N, 2] each", e.to_string()))
}

/// Adds every slice of `slices` (`[K, N, 2]`) to the current panel of `figure` as a scatter coloured
/// by time (viridis, first slice dark), labelling the first and last.
pub fn scatter_slices(figure: Figure, slices: &Array3<f32>) -> Figure {
    let k = slices.len_of(Axis(0));
    slices.outer_iter().enumerate().fold(figure, |fig, (i, slice)| {
        let label = match i {
            0 => "first slice".to_string(),
            _ if i + 1 == k => "last slice".to_string(),
            _ => String::new(),
        };
        fig.scatter(slice, &label)
            .color(ColorMap::Viridis.at(i as f64 / (k.max(2) - 1) as f64))
            .marker_size(2)
    })
}

impl Plot for ScarvelisData {
    /// The slices coloured by time over the metric's cheap direction field.
    fn figure(&self) -> Figure {
        let (x, y) = match (self.bounds.range(0), self.bounds.range(1)) {
            (Some(x), Some(y)) => (x, y),
            _ => return Figure::failed(Error::Plot("Scarvelis bounds are 2-D".into())),
        };
        let grid = crate::metrics::grid_2d((x.0 as f32, x.1 as f32), (y.0 as f32, y.1 as f32), 15);
        let field = match self.metric.direction_at(&grid) {
            Ok(f) => f,
            Err(e) => return Figure::failed(e),
        };
        let fig = Figure::new()
            .title(&format!("{} ({} slices)", self.kind.name(), self.num_slices()))
            .quiver(&grid, &field, None)
            .label("cheap direction")
            .color(crate::plot::Rgb(0x99, 0x99, 0x99));
        scatter_slices(fig, &self.slices)
            .x_range(x.0, x.1)
            .y_range(y.0, y.1)
            .equal_aspect()
    }
}

impl ScarvelisData {
    /// Shows the sequence inline in an evcxr notebook.
    pub fn evcxr_display(&self) {
        Plot::evcxr_display(self)
    }
}

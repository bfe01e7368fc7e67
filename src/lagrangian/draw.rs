//! Lagrangians draw themselves: the obstacle penalty −U as a heatmap over the domain and, for a
//! non-Euclidean metric, arrows along its cheap direction, with samples and paths overlaid.
//!
//! In more than two dimensions the figure shows the slice through the first two coordinates (the
//! others at 0) and the top-left 2×2 block of the metric.

use ndarray::{s, Array2};

use super::{potential_at, Bounds, Lagrangian, Metric, Potential};
use crate::device::{default_device, Device};
use crate::error::{Error, Result};
use crate::plot::{ColorMap, Figure, Plot};

/// Heatmap cells per side drawn by [`Lagrangian::plot`].
pub const DEFAULT_RESOLUTION: usize = 64;
/// Arrows per side of the metric's grid.
const ARROWS_PER_SIDE: usize = 15;

/// Something drawn over the Lagrangian.
#[derive(Debug, Clone)]
enum Overlay {
    Samples(Array2<f32>, String),
    Paths(Vec<Array2<f32>>, String),
    PathsByTime(Vec<Array2<f32>>),
}

/// A drawn Lagrangian (penalty heatmap, metric arrows) with chainable overlays; it keeps the
/// evaluated grids, so adding samples or paths does not re-evaluate the Lagrangian.
///
/// ```
/// use lagrangian_ot::lagrangian::{Lagrangian, Obstacle, ObstacleShape};
/// use lagrangian_ot::plot::Plot;
/// let lag = Lagrangian::euclidean(2).with_potential(Obstacle::new(ObstacleShape::Box));
/// let x = ndarray::array![[-1.0f32, 0.2], [-1.1, -0.4]];
/// let path = ndarray::array![[-1.0f32, 0.0], [0.0, 0.8], [1.0, 0.0]];
/// let svg = lag.plot().samples(&x, "source").paths(&[path], "geodesics").to_svg()?;
/// assert!(svg.contains("<polyline") && svg.matches("<rect").count() > 64 * 64);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct LagrangianPlot {
    title: String,
    x: (f64, f64),
    y: (f64, f64),
    penalty: Option<Array2<f32>>,
    arrows: Option<(Array2<f32>, Array2<f32>)>,
    overlays: Vec<Overlay>,
    error: Option<String>,
}

impl LagrangianPlot {
    fn failed(title: String, error: Error) -> Self {
        LagrangianPlot {
            title,
            x: (0.0, 1.0),
            y: (0.0, 1.0),
            penalty: None,
            arrows: None,
            overlays: Vec::new(),
            error: Some(error.to_string()),
        }
    }

    /// Overlays a point cloud `[N, d]` (first two coordinates) with a legend label.
    pub fn samples(mut self, points: &Array2<f32>, label: &str) -> Self {
        self.overlays
            .push(Overlay::Samples(first_two(points), label.to_string()));
        self
    }

    /// Overlays paths, each `[T, d]` (first two coordinates), in one colour.
    pub fn paths(mut self, paths: &[Array2<f32>], label: &str) -> Self {
        self.overlays.push(Overlay::Paths(
            paths.iter().map(first_two).collect(),
            label.to_string(),
        ));
        self
    }

    /// Overlays paths coloured by time along them.
    pub fn paths_by_time(mut self, paths: &[Array2<f32>]) -> Self {
        self.overlays
            .push(Overlay::PathsByTime(paths.iter().map(first_two).collect()));
        self
    }

    /// Replaces the title.
    pub fn title(mut self, title: &str) -> Self {
        self.title = title.to_string();
        self
    }

    /// The penalty −U on the grid (`[iy, ix]`, row 0 at the bottom), if the potential is not zero.
    pub fn penalty_grid(&self) -> Option<&Array2<f32>> {
        self.penalty.as_ref()
    }

    /// Shows the figure inline in an evcxr notebook.
    pub fn evcxr_display(&self) {
        Plot::evcxr_display(self)
    }
}

impl Plot for LagrangianPlot {
    fn figure(&self) -> Figure {
        if let Some(e) = &self.error {
            return Figure::failed(Error::Plot(format!("{}: {e}", self.title)));
        }
        let mut fig = Figure::new()
            .title(&self.title)
            .x_range(self.x.0, self.x.1)
            .y_range(self.y.0, self.y.1);
        if let Some(grid) = &self.penalty {
            fig = fig
                .heatmap(grid, self.x, self.y)
                .colormap(ColorMap::Viridis)
                .label("penalty −U");
        }
        if let Some((points, vectors)) = &self.arrows {
            fig = fig.quiver(points, vectors, Some(1.0)).label("cheap direction");
        }
        for overlay in &self.overlays {
            fig = match overlay {
                Overlay::Samples(points, label) => fig.scatter(points, label),
                Overlay::Paths(paths, label) => fig.paths(paths, label),
                Overlay::PathsByTime(paths) => fig.paths_by_time(paths, ColorMap::Plasma),
            };
        }
        fig.equal_aspect()
    }
}

/// The first two columns of `x` (a lone column is paired with zeros).
fn first_two(x: &Array2<f32>) -> Array2<f32> {
    if x.ncols() >= 2 {
        x.slice(s![.., 0..2]).to_owned()
    } else {
        Array2::from_shape_fn((x.nrows(), 2), |(r, c)| {
            if c == 0 && x.ncols() == 1 {
                x[[r, 0]]
            } else {
                0.0
            }
        })
    }
}

/// Points at the centres of an `n × n` grid over the first two coordinates of `bounds`, the other
/// coordinates 0; row `iy·n + ix`.
fn grid_points(bounds: &Bounds, n: usize) -> Result<Array2<f32>> {
    let (x, y) = match (bounds.range(0), bounds.range(1)) {
        (Some(x), Some(y)) => (x, y),
        _ => return Err(Error::InvalidArgument("drawing needs at least 2-D bounds".into())),
    };
    let centre = |(lo, hi): (f64, f64), i: usize| (lo + (i as f64 + 0.5) * (hi - lo) / n as f64) as f32;
    Ok(Array2::from_shape_fn((n * n, bounds.dim()), |(row, c)| match c {
        0 => centre(x, row % n),
        1 => centre(y, row / n),
        _ => 0.0,
    }))
}

/// The cheap direction of a symmetric 2×2 matrix [[a, b], [b, c]] scaled by its anisotropy
/// 1 − λ_min/λ_max (zero for an isotropic matrix).
fn cheap_direction(a: f32, b: f32, c: f32) -> [f32; 2] {
    let mean = 0.5 * (a + c);
    let radius = (0.25 * (a - c) * (a - c) + b * b).sqrt();
    let (small, large) = (mean - radius, mean + radius);
    if large.is_nan() || large <= 0.0 || radius <= 1e-12 * large {
        return [0.0, 0.0];
    }
    // (A − λ I) u = 0: both rows give a candidate; the longer one is the stable choice.
    let first = [b, small - a];
    let second = [small - c, b];
    let norm = |v: [f32; 2]| (v[0] * v[0] + v[1] * v[1]).sqrt();
    let u = if norm(first) >= norm(second) {
        first
    } else {
        second
    };
    let anisotropy = (1.0 - small / large).clamp(0.0, 1.0);
    let n = norm(u);
    [u[0] / n * anisotropy, u[1] / n * anisotropy]
}

impl<M: Metric<Device>, P: Potential<Device>> Lagrangian<M, P> {
    /// Draws the Lagrangian over its potential's (else its metric's, else [−2, 2]^d) domain.
    pub fn plot(&self) -> LagrangianPlot {
        let dim = self.metric.dim();
        let bounds = self
            .potential
            .bounds()
            .or_else(|| self.metric.bounds())
            .or_else(|| Bounds::cube(-2.0, 2.0, dim.max(2)).ok());
        match bounds {
            Some(b) => self.plot_on(&b, DEFAULT_RESOLUTION, None),
            None => LagrangianPlot::failed(self.title(), Error::InvalidArgument("no domain to draw".into())),
        }
    }

    /// Draws the Lagrangian over `bounds` with a `resolution`² heatmap, at the condition `cond` (one
    /// row, repeated for every grid point) when it is conditional.
    pub fn plot_on(&self, bounds: &Bounds, resolution: usize, cond: Option<&[f32]>) -> LagrangianPlot {
        match self.draw(bounds, resolution, cond) {
            Ok(plot) => plot,
            Err(e) => LagrangianPlot::failed(self.title(), e),
        }
    }

    /// Shows [`Lagrangian::plot`] inline in an evcxr notebook.
    pub fn evcxr_display(&self) {
        self.plot().evcxr_display()
    }

    fn title(&self) -> String {
        let metric = self.metric.name();
        if self.potential.is_zero() {
            metric
        } else {
            format!("{metric} − {}", self.potential.name())
        }
    }

    fn draw(&self, bounds: &Bounds, resolution: usize, cond: Option<&[f32]>) -> Result<LagrangianPlot> {
        let dim = self.metric.dim();
        if bounds.dim() != dim {
            return Err(Error::shape(
                "Lagrangian::plot_on bounds",
                format!("{dim}-D"),
                format!("{}-D", bounds.dim()),
            ));
        }
        if resolution < 2 {
            return Err(Error::InvalidArgument(format!(
                "resolution must be at least 2, got {resolution}"
            )));
        }
        let repeat = |n: usize| cond.map(|c| Array2::from_shape_fn((n, c.len()), |(_, k)| c[k]));
        let penalty = if self.potential.is_zero() {
            None
        } else {
            let points = grid_points(bounds, resolution)?;
            let dev = default_device(0);
            let u = potential_at(&self.potential, &dev, &points, repeat(points.nrows()).as_ref())?;
            Some(Array2::from_shape_fn((resolution, resolution), |(iy, ix)| {
                -u[iy * resolution + ix]
            }))
        };
        let arrows = if self.metric.is_euclidean() {
            None
        } else {
            let points = grid_points(bounds, ARROWS_PER_SIDE)?;
            let a = self.metric.matrix_at(&points, repeat(points.nrows()).as_ref())?;
            let (x, y) = (
                bounds.range(0).unwrap_or((0.0, 1.0)),
                bounds.range(1).unwrap_or((0.0, 1.0)),
            );
            let spacing = 0.8 * ((x.1 - x.0).min(y.1 - y.0) / ARROWS_PER_SIDE as f64) as f32;
            let mut starts = Array2::zeros((points.nrows(), 2));
            let mut vectors = Array2::zeros((points.nrows(), 2));
            for k in 0..points.nrows() {
                let u = cheap_direction(a[[k, 0, 0]], 0.5 * (a[[k, 0, 1]] + a[[k, 1, 0]]), a[[k, 1, 1]]);
                for c in 0..2 {
                    vectors[[k, c]] = u[c] * spacing;
                    // Arrows are centred on their grid point: an eigenvector has no sign.
                    starts[[k, c]] = points[[k, c]] - 0.5 * vectors[[k, c]];
                }
            }
            Some((starts, vectors))
        };
        Ok(LagrangianPlot {
            title: self.title(),
            x: bounds.range(0).unwrap_or((0.0, 1.0)),
            y: bounds.range(1).unwrap_or((0.0, 1.0)),
            penalty,
            arrows,
            overlays: Vec::new(),
            error: None,
        })
    }
}

impl<M: Metric<Device>, P: Potential<Device>> Plot for Lagrangian<M, P> {
    fn figure(&self) -> Figure {
        self.plot().figure()
    }
}

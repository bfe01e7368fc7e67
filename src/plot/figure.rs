//! [`Figure`]: a chainable description of one or more panels, rendered to a single SVG.
//!
//! A notebook cell shows one output, so everything a cell wants to show goes into one figure:
//! several panels are laid out on a grid inside the same SVG.

use std::path::Path;

use ndarray::{Array2, ArrayView1, ArrayView2};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::color::{ColorMap, Rgb};
use super::display::{evcxr_bundle, evcxr_text, print_locked};
use super::layer::{check_range, groups_from, points_from, sample_field, xy_from, Layer, PathColoring};
use super::panel::{plot_err, Panel};
use crate::{Error, Result};

/// Default size of one panel in pixels (width, height).
pub const DEFAULT_PANEL_SIZE: (u32, u32) = (480, 400);
/// Most panels placed side by side before a new row starts, unless [`Figure::cols`] says otherwise.
pub const DEFAULT_MAX_COLS: usize = 3;
/// Largest heatmap grid resolution accepted (cells per axis).
pub const MAX_HEATMAP_RESOLUTION: usize = 1000;
const SUPTITLE_HEIGHT: u32 = 32;

/// A figure of one or more panels, built by chaining and rendered to SVG.
///
/// Drawing methods (`scatter`, `paths`, `heatmap_fn`, ...) and axis settings (`title`, `x_range`,
/// ...) apply to the *current* panel, the last one; [`Figure::next_panel`] starts a new one and
/// [`Figure::grid`] / [`Figure::panel`] assemble figures built separately. Modifiers such as
/// [`Figure::color`] apply to the layer added last.
///
/// Invalid input (wrong shape, empty, NaN) does not panic: the first problem is kept and
/// returned, as a typed [`Error`], by [`Figure::to_svg`] and [`Figure::save_svg`].
///
/// ```
/// use lagrangian_ot::plot::Figure;
/// use ndarray::array;
/// let source = array![[0.0f32, 0.0], [1.0, 0.5]];
/// let target = array![[2.0f32, 1.0], [3.0, 1.5]];
/// let fig = Figure::new().title("two clouds").scatter(&source, "source").scatter(&target, "target").equal_aspect();
/// let svg = fig.to_svg().unwrap();
/// assert!(svg.starts_with("<svg"));
/// assert_eq!(svg.matches("<circle").count(), 4);
/// ```
#[derive(Debug)]
pub struct Figure {
    panels: Vec<Panel>,
    cols: Option<usize>,
    panel_size: (u32, u32),
    suptitle: Option<String>,
    error: Option<Error>,
}

impl Default for Figure {
    fn default() -> Self {
        Self::new()
    }
}

impl Figure {
    /// An empty figure with one (current) panel.
    pub fn new() -> Self {
        Figure {
            panels: vec![Panel::default()],
            cols: None,
            panel_size: DEFAULT_PANEL_SIZE,
            suptitle: None,
            error: None,
        }
    }

    /// A figure that renders to `error`; lets a [`super::Plot`] implementation report a problem
    /// through the usual output path.
    pub fn failed(error: Error) -> Self {
        Figure {
            error: Some(error),
            ..Self::new()
        }
    }

    /// Lays out the panels of `figures` on a grid `cols` wide (row by row), in one SVG.
    ///
    /// ```
    /// use lagrangian_ot::plot::Figure;
    /// let a = Figure::new().title("a").loss_curve(&[3.0, 2.0, 1.5], "train");
    /// let b = Figure::new().title("b").loss_curve(&[1.0, 0.5, 0.2], "val");
    /// let fig = Figure::grid(2, vec![a, b]);
    /// assert_eq!((fig.num_panels(), fig.grid_shape()), (2, (1, 2)));
    /// assert!(fig.to_svg().unwrap().starts_with("<svg"));
    /// ```
    pub fn grid(cols: usize, figures: Vec<Figure>) -> Self {
        let mut grid = Figure {
            panels: Vec::new(),
            cols: Some(cols),
            ..Self::new()
        };
        if cols == 0 {
            grid.fail(Error::InvalidArgument("grid needs at least one column".into()));
        }
        if figures.is_empty() {
            grid.fail(Error::Empty("grid of no figures".into()));
        }
        let grid = figures.into_iter().fold(grid, Figure::panel);
        if grid.panels.is_empty() {
            Figure {
                panels: vec![Panel::default()],
                ..grid
            }
        } else {
            grid
        }
    }

    /// Appends the panels of `figure` (and its first error, if any) after this figure's panels.
    /// A still-blank current panel is dropped first, so `Figure::new().panel(a).panel(b)` has two.
    pub fn panel(mut self, figure: Figure) -> Self {
        if self.panels.last().is_some_and(Panel::is_blank) {
            self.panels.pop();
        }
        if let Some(error) = figure.error {
            self.fail(error);
        }
        self.panels
            .extend(figure.panels.into_iter().filter(|p| !p.is_blank()));
        if self.panels.is_empty() {
            self.panels.push(Panel::default());
        }
        self
    }

    /// Starts a new, empty current panel.
    pub fn next_panel(mut self) -> Self {
        self.panels.push(Panel::default());
        self
    }

    /// Number of panels per row.
    pub fn cols(mut self, cols: usize) -> Self {
        if cols == 0 {
            self.fail(Error::InvalidArgument(
                "a figure needs at least one column".into(),
            ));
        } else {
            self.cols = Some(cols);
        }
        self
    }

    /// Size of each panel in pixels.
    pub fn panel_size(mut self, width: u32, height: u32) -> Self {
        if width < 120 || height < 100 {
            self.fail(Error::InvalidArgument(format!(
                "panel size {width}x{height} is below the 120x100 px minimum"
            )));
        } else {
            self.panel_size = (width, height);
        }
        self
    }

    /// A title over the whole figure.
    pub fn suptitle(mut self, title: &str) -> Self {
        self.suptitle = Some(title.to_string());
        self
    }

    /// Title of the current panel.
    pub fn title(self, title: &str) -> Self {
        self.with_panel(|p| p.title = Some(title.to_string()))
    }

    /// Label of the current panel's x axis.
    pub fn x_label(self, label: &str) -> Self {
        self.with_panel(|p| p.x_label = Some(label.to_string()))
    }

    /// Label of the current panel's y axis.
    pub fn y_label(self, label: &str) -> Self {
        self.with_panel(|p| p.y_label = Some(label.to_string()))
    }

    /// Fixes the current panel's x range (otherwise: the data's, padded by 5 %).
    pub fn x_range(self, lo: f64, hi: f64) -> Self {
        match check_range((lo, hi), "x_range") {
            Ok(r) => self.with_panel(|p| p.x_range = Some(r)),
            Err(e) => self.failing(e),
        }
    }

    /// Fixes the current panel's y range (otherwise: the data's, padded by 5 %).
    pub fn y_range(self, lo: f64, hi: f64) -> Self {
        match check_range((lo, hi), "y_range") {
            Ok(r) => self.with_panel(|p| p.y_range = Some(r)),
            Err(e) => self.failing(e),
        }
    }

    /// Makes one unit equally long on both axes of the current panel (for 2-D point clouds);
    /// the ranges are widened, never cut.
    pub fn equal_aspect(self) -> Self {
        self.with_panel(|p| p.equal_aspect = true)
    }

    /// Log-scales the current panel's y axis; every y value must then be positive.
    pub fn log_y(self) -> Self {
        self.with_panel(|p| p.log_y = true)
    }

    /// Scatter of an `[N, 2]` cloud in the next palette colour; a non-empty `label` goes into the
    /// legend.
    pub fn scatter<'a>(self, points: impl Into<ArrayView2<'a, f32>>, label: &str) -> Self {
        let layer = points_from(points.into(), "scatter").map(|points| Layer::Scatter {
            points,
            label: non_empty(label),
            color: None,
            radius: None,
        });
        self.push(layer)
    }

    /// Scatter of an `[N, 2]` cloud coloured by integer group (`labels[i]` for row `i`), with
    /// one legend entry per group.
    pub fn scatter_groups<'a, 'b>(
        self,
        points: impl Into<ArrayView2<'a, f32>>,
        labels: impl Into<ArrayView1<'b, i64>>,
    ) -> Self {
        let layer = points_from(points.into(), "scatter_groups").and_then(|points| {
            let groups = groups_from(labels.into(), points.len(), "scatter_groups")?;
            Ok(Layer::Groups {
                points,
                groups,
                radius: None,
            })
        });
        self.push(layer)
    }

    /// A line through `(x[i], y[i])`.
    pub fn line_xy(self, x: &[f64], y: &[f64], label: &str) -> Self {
        let layer = xy_from(x, y, "line_xy").map(|points| Layer::Line {
            points,
            label: non_empty(label),
            color: None,
        });
        self.push(layer)
    }

    /// A loss curve: `values[i]` against step `i`; labels the axes "step" and "loss" unless they
    /// already have labels. Combine with [`Figure::log_y`] for losses spanning decades.
    ///
    /// ```
    /// use lagrangian_ot::plot::Figure;
    /// let svg = Figure::new().loss_curve(&[1.0, 0.1, 0.01], "train").log_y().to_svg().unwrap();
    /// assert!(svg.contains("<polyline"));
    /// // Log scales need positive values: the error is typed, not a panic.
    /// assert!(Figure::new().loss_curve(&[1.0, 0.0], "train").log_y().to_svg().is_err());
    /// ```
    pub fn loss_curve(self, values: &[f64], label: &str) -> Self {
        let steps: Vec<f64> = (0..values.len()).map(|i| i as f64).collect();
        self.line_xy(&steps, values, label).with_panel(|p| {
            p.x_label.get_or_insert_with(|| "step".into());
            p.y_label.get_or_insert_with(|| "loss".into());
        })
    }

    /// Polylines, each path an `[T, 2]` array (`T >= 2`), all in the next palette colour.
    pub fn paths(self, paths: &[Array2<f32>], label: &str) -> Self {
        let layer = paths_from(paths).map(|paths| Layer::Paths {
            paths,
            label: non_empty(label),
            color: None,
            coloring: PathColoring::Solid,
        });
        self.push(layer)
    }

    /// Polylines coloured by time: segment `i` of a `T`-point path gets `cmap` at
    /// `(i + 0.5) / (T - 1)`, with a colour bar for `t`.
    pub fn paths_by_time(self, paths: &[Array2<f32>], cmap: ColorMap) -> Self {
        let layer = paths_from(paths).map(|paths| Layer::Paths {
            paths,
            label: None,
            color: None,
            coloring: PathColoring::Time(cmap),
        });
        self.push(layer)
    }

    /// Arrows from `points[i]` along `vectors[i]` (both `[N, 2]`), multiplied by `scale`, or,
    /// with `None`, scaled so the longest arrow is about one grid spacing of the points.
    pub fn quiver<'a, 'b>(
        self,
        points: impl Into<ArrayView2<'a, f32>>,
        vectors: impl Into<ArrayView2<'b, f32>>,
        scale: Option<f32>,
    ) -> Self {
        let layer = (|| {
            let points = points_from(points.into(), "quiver points")?;
            let vectors = points_from(vectors.into(), "quiver vectors")?;
            if points.len() != vectors.len() {
                return Err(Error::shape(
                    "quiver",
                    format!("{} vectors", points.len()),
                    vectors.len().to_string(),
                ));
            }
            let scale = match scale {
                Some(s) if !(s.is_finite() && s > 0.0) => {
                    return Err(Error::InvalidArgument(format!(
                        "quiver scale must be positive, got {s}"
                    )))
                }
                s => s.map(f64::from),
            };
            Ok(Layer::Quiver {
                points,
                vectors,
                scale,
                label: None,
                color: None,
            })
        })();
        self.push(layer)
    }

    /// Heatmap of a scalar field sampled at the centres of a `resolution x resolution` grid over
    /// `x` × `y`, coloured with viridis (see [`Figure::colormap`]) and a colour bar.
    ///
    /// ```
    /// use lagrangian_ot::plot::Figure;
    /// let svg = Figure::new().heatmap_fn(|x, y| x * x + y * y, (-1.0, 1.0), (-1.0, 1.0), 20).to_svg().unwrap();
    /// assert!(svg.matches("<rect").count() >= 400);
    /// ```
    pub fn heatmap_fn(
        self,
        field: impl Fn(f32, f32) -> f32,
        x: (f64, f64),
        y: (f64, f64),
        resolution: usize,
    ) -> Self {
        let layer = (|| {
            let (x, y) = (
                check_range(x, "heatmap x range")?,
                check_range(y, "heatmap y range")?,
            );
            if !(2..=MAX_HEATMAP_RESOLUTION).contains(&resolution) {
                return Err(Error::InvalidArgument(format!(
                    "heatmap resolution must be in 2..={MAX_HEATMAP_RESOLUTION}, got {resolution}"
                )));
            }
            let values = sample_field(field, x, y, resolution);
            if !values.iter().all(|v| v.is_finite()) {
                return Err(Error::NonFinite("heatmap field values".into()));
            }
            Ok(Layer::Heatmap {
                values,
                x,
                y,
                cmap: ColorMap::default(),
                label: None,
            })
        })();
        self.push(layer)
    }

    /// Heatmap of a precomputed grid over `x` × `y`: `values[[iy, ix]]` is the cell `ix`-th from
    /// the left and `iy`-th from the **bottom** (row 0 at `y.0`).
    pub fn heatmap<'a>(self, values: impl Into<ArrayView2<'a, f32>>, x: (f64, f64), y: (f64, f64)) -> Self {
        let values = values.into();
        let layer = (|| {
            let (x, y) = (
                check_range(x, "heatmap x range")?,
                check_range(y, "heatmap y range")?,
            );
            if values.is_empty() {
                return Err(Error::Empty("heatmap grid".into()));
            }
            crate::error::ensure_finite("heatmap grid", values.iter())?;
            Ok(Layer::Heatmap {
                values: values.mapv(f64::from),
                x,
                y,
                cmap: ColorMap::default(),
                label: None,
            })
        })();
        self.push(layer)
    }

    /// Colour of the layer added last (single-colour layers only).
    pub fn color(self, rgb: Rgb) -> Self {
        self.with_last_layer(|l| l.set_color(rgb))
    }

    /// Marker radius in pixels of the scatter added last.
    pub fn marker_size(self, radius: u32) -> Self {
        self.with_last_layer(|l| l.set_radius(radius))
    }

    /// Colour map of the heatmap or time-coloured paths added last.
    pub fn colormap(self, cmap: ColorMap) -> Self {
        self.with_last_layer(|l| l.set_colormap(cmap))
    }

    /// Legend label of the layer added last (a caption for a heatmap's colour bar).
    pub fn label(self, text: &str) -> Self {
        self.with_last_layer(|layer| match layer {
            Layer::Scatter { label, .. }
            | Layer::Line { label, .. }
            | Layer::Paths { label, .. }
            | Layer::Quiver { label, .. }
            | Layer::Heatmap { label, .. } => *label = non_empty(text),
            Layer::Groups { .. } => {}
        })
    }

    /// Number of panels.
    pub fn num_panels(&self) -> usize {
        self.panels.len()
    }

    /// `(rows, cols)` of the panel grid.
    pub fn grid_shape(&self) -> (usize, usize) {
        let n = self.panels.len().max(1);
        let cols = self.cols.unwrap_or(DEFAULT_MAX_COLS).min(n).max(1);
        (n.div_ceil(cols), cols)
    }

    /// Size of the whole SVG in pixels.
    pub fn size_px(&self) -> (u32, u32) {
        let (rows, cols) = self.grid_shape();
        let title = if self.suptitle.is_some() {
            SUPTITLE_HEIGHT
        } else {
            0
        };
        (
            cols as u32 * self.panel_size.0,
            rows as u32 * self.panel_size.1 + title,
        )
    }

    /// Renders the figure as one SVG document.
    pub fn to_svg(&self) -> Result<String> {
        if let Some(error) = &self.error {
            return Err(replicate(error));
        }
        let (width, height) = self.size_px();
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
            root.fill(&WHITE).map_err(plot_err)?;
            let body = match &self.suptitle {
                Some(title) => {
                    let (top, rest) = root.split_vertically(SUPTITLE_HEIGHT);
                    let style = TextStyle::from(("sans-serif", 17).into_font())
                        .pos(Pos::new(HPos::Center, VPos::Center));
                    top.draw(&Text::new(
                        title.clone(),
                        (width as i32 / 2, SUPTITLE_HEIGHT as i32 / 2 + 2),
                        style,
                    ))
                    .map_err(plot_err)?;
                    rest
                }
                None => root.clone(),
            };
            let areas = body.split_evenly(self.grid_shape());
            for (panel, area) in self.panels.iter().zip(&areas) {
                panel.draw(area)?;
            }
            root.present().map_err(plot_err)?;
        }
        Ok(svg)
    }

    /// Writes the SVG to `path` (to a temporary file next to it first, then renamed, so a reader
    /// never sees half a file).
    pub fn save_svg(&self, path: impl AsRef<Path>) -> Result<()> {
        let svg = self.to_svg()?;
        crate::io::write_atomic(path.as_ref(), svg.as_bytes())
    }

    /// One line describing the figure (the `text/plain` part of the notebook output).
    pub fn summary(&self) -> String {
        let (rows, cols) = self.grid_shape();
        let (width, height) = self.size_px();
        let n = self.panels.len();
        let mut text = format!(
            "Figure: {n} panel{} ({rows}x{cols}, {width}x{height} px)",
            if n == 1 { "" } else { "s" }
        );
        if let Some(title) = &self.suptitle {
            text.push_str(&format!(" \"{title}\""));
        }
        let described: Vec<String> = self
            .panels
            .iter()
            .take(6)
            .map(|p| {
                let kinds: Vec<&str> = p.layers.iter().map(Layer::kind).collect();
                format!("\"{}\" [{}]", p.title.as_deref().unwrap_or(""), kinds.join(", "))
            })
            .collect();
        text.push_str(": ");
        text.push_str(&described.join("; "));
        if n > 6 {
            text.push_str("; ...");
        }
        text
    }

    /// Exactly what [`Figure::evcxr_display`] prints: a `text/plain` summary and the SVG, or only
    /// a `text/plain` error message when the figure cannot be drawn.
    pub fn evcxr_output(&self) -> String {
        self.evcxr_output_with_text(&self.summary())
    }

    /// Like [`Figure::evcxr_output`] with `text` (a metrics table, say) as the `text/plain` part.
    pub fn evcxr_output_with_text(&self, text: &str) -> String {
        match self.to_svg() {
            Ok(svg) => evcxr_bundle(text, &svg),
            Err(e) => evcxr_text(&format!("figure not drawn: {e}\n{text}")),
        }
    }

    /// Shows the figure inline in a Jupyter notebook running the evcxr kernel (called for the
    /// last expression of a cell).
    pub fn evcxr_display(&self) {
        print_locked(&self.evcxr_output());
    }

    fn fail(&mut self, error: Error) {
        self.error.get_or_insert(error);
    }

    fn failing(mut self, error: Error) -> Self {
        self.fail(error);
        self
    }

    fn with_panel(mut self, edit: impl FnOnce(&mut Panel)) -> Self {
        if let Some(panel) = self.panels.last_mut() {
            edit(panel);
        }
        self
    }

    fn with_last_layer(self, edit: impl FnOnce(&mut Layer)) -> Self {
        self.with_panel(|p| {
            if let Some(layer) = p.layers.last_mut() {
                edit(layer);
            }
        })
    }

    fn push(self, layer: Result<Layer>) -> Self {
        match layer {
            Ok(layer) => self.with_panel(|p| p.layers.push(layer)),
            Err(e) => self.failing(e),
        }
    }
}

fn non_empty(label: &str) -> Option<String> {
    (!label.is_empty()).then(|| label.to_string())
}

fn paths_from(paths: &[Array2<f32>]) -> Result<Vec<Vec<(f64, f64)>>> {
    if paths.is_empty() {
        return Err(Error::Empty("paths: no paths".into()));
    }
    paths
        .iter()
        .map(|path| {
            if path.nrows() < 2 {
                return Err(Error::shape(
                    "paths",
                    "[T >= 2, 2]",
                    format!("{:?}", path.shape()),
                ));
            }
            points_from(path.view(), "paths")
        })
        .collect()
}

/// A copy of a stored error for repeated rendering; variants holding non-cloneable sources
/// become [`Error::Plot`] with the same message.
fn replicate(error: &Error) -> Error {
    match error {
        Error::Shape {
            context,
            expected,
            got,
        } => Error::shape(context.clone(), expected.clone(), got.clone()),
        Error::Empty(what) => Error::Empty(what.clone()),
        Error::NonFinite(what) => Error::NonFinite(what.clone()),
        Error::InvalidArgument(what) => Error::InvalidArgument(what.clone()),
        Error::Dataset { path, reason } => Error::Dataset {
            path: path.clone(),
            reason: reason.clone(),
        },
        Error::MissingSharedData { var, path } => Error::MissingSharedData {
            var,
            path: path.clone(),
        },
        Error::Plot(what) => Error::Plot(what.clone()),
        other => Error::Plot(other.to_string()),
    }
}

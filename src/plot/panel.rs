//! One panel (one set of axes) of a figure: its settings, its layers, and how it is drawn.
//!
//! A panel reserves a strip to the right of its axes for the legend and colour bar, so neither
//! ever hides data.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::color::{palette, ColorMap, Rgb};
use super::layer::{Layer, PathColoring, Point};
use super::range::{
    equal_aspect, finite_bounds, format_log_tick, format_tick, padded_range, DEFAULT_PADDING,
};
use crate::{Error, Result};

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

const FONT: &str = "sans-serif";
const TITLE_HEIGHT: u32 = 26;
const CHART_MARGIN_TOP: i32 = 8;
const LEGEND_ROW: i32 = 18;
const MAX_LEGEND_GROUPS: usize = 12;
/// Longest legend label or colour-bar caption shown in full.
const MAX_LABEL_CHARS: usize = 24;
const COLOR_BAR_STEPS: i32 = 64;
const GRID: RGBColor = RGBColor(225, 225, 225);
const TEXT: RGBColor = RGBColor(30, 30, 30);
/// Opacity of scatter markers, so dense clouds show their density.
const MARKER_OPACITY: f64 = 0.7;

/// The settings and layers of one set of axes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Panel {
    pub(crate) title: Option<String>,
    pub(crate) x_label: Option<String>,
    pub(crate) y_label: Option<String>,
    pub(crate) x_range: Option<(f64, f64)>,
    pub(crate) y_range: Option<(f64, f64)>,
    pub(crate) equal_aspect: bool,
    pub(crate) log_y: bool,
    pub(crate) layers: Vec<Layer>,
}

/// What the legend strip shows for one entry.
struct LegendEntry {
    label: String,
    color: Rgb,
    is_line: bool,
}

/// A colour bar: the map, the value range it spans, and its caption.
struct ColorBar {
    cmap: ColorMap,
    lo: f64,
    hi: f64,
    caption: String,
}

/// A layer with its colours resolved.
struct Styled<'a> {
    layer: &'a Layer,
    color: Rgb,
    group_offset: i64,
}

impl Panel {
    /// True when nothing was set on the panel at all.
    pub(crate) fn is_blank(&self) -> bool {
        self.layers.is_empty() && self.title.is_none()
    }

    /// Maps a data y to the plotted coordinate (log10 on a log axis).
    fn plot_y(&self, y: f64) -> f64 {
        if self.log_y {
            y.log10()
        } else {
            y
        }
    }

    fn to_plot(&self, p: Point) -> Point {
        (p.0, self.plot_y(p.1))
    }

    /// Draws the panel into `area`.
    pub(crate) fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        if self.layers.is_empty() {
            let name = self.title.as_deref().unwrap_or("untitled");
            return Err(Error::Empty(format!("panel '{name}' has nothing to draw")));
        }
        if self.log_y && self.layers.iter().flat_map(Layer::y_values).any(|y| y <= 0.0) {
            return Err(Error::InvalidArgument(
                "log-scaled y axis needs all y values > 0".into(),
            ));
        }
        let arrows = self.resolve_arrows();
        let (x_range, y_range) = self.ranges(&arrows)?;
        let (styled, legend, color_bar) = self.resolve_styles();

        let area = match &self.title {
            Some(title) => {
                let (top, rest) = area.split_vertically(TITLE_HEIGHT);
                let (w, h) = top.dim_in_pixel();
                let style = TextStyle::from((FONT, 15).into_font())
                    .color(&TEXT)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                top.draw(&Text::new(title.clone(), (w as i32 / 2, h as i32 / 2 + 2), style))
                    .map_err(plot_err)?;
                rest
            }
            None => area.clone(),
        };
        let strip_width = strip_width(&legend, color_bar.as_ref());
        let (width, _) = area.dim_in_pixel();
        let (chart_area, strip) = area.split_horizontally(width.saturating_sub(strip_width));

        let (x_range, y_range) = if self.equal_aspect {
            let (w, h) = self
                .builder(&chart_area)
                .build_cartesian_2d(0f64..1f64, 0f64..1f64)
                .map_err(plot_err)?
                .plotting_area()
                .dim_in_pixel();
            equal_aspect(x_range, y_range, w, h)
        } else {
            (x_range, y_range)
        };
        let mut chart = self
            .builder(&chart_area)
            .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)
            .map_err(plot_err)?;
        self.draw_mesh(&mut chart, y_range)?;
        for (item, layer_arrows) in styled.iter().zip(&arrows) {
            self.draw_layer(&mut chart, item, layer_arrows, x_range, y_range)?;
        }
        draw_strip(&strip, CHART_MARGIN_TOP, &legend, color_bar.as_ref())
    }

    fn builder<'a, 'b, DB: DrawingBackend>(
        &self,
        area: &'a DrawingArea<DB, Shift>,
    ) -> ChartBuilder<'a, 'b, DB> {
        let mut builder = ChartBuilder::on(area);
        builder
            .margin_top(CHART_MARGIN_TOP)
            .margin_right(12)
            .margin_left(4)
            .margin_bottom(4)
            .x_label_area_size(if self.x_label.is_some() { 42 } else { 26 })
            .y_label_area_size(if self.y_label.is_some() { 72 } else { 54 });
        builder
    }

    fn draw_mesh<DB: DrawingBackend>(&self, chart: &mut Chart<'_, DB>, y_range: (f64, f64)) -> Result<()> {
        let span_decades = y_range.1 - y_range.0;
        let x_format = |v: &f64| format_tick(*v);
        let y_format = move |v: &f64| {
            if self.log_y {
                format_log_tick(*v, span_decades)
            } else {
                format_tick(*v)
            }
        };
        let mut mesh = chart.configure_mesh();
        mesh.x_labels(6)
            .y_labels(6)
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .label_style((FONT, 12).into_font().color(&TEXT))
            .axis_desc_style((FONT, 13).into_font().color(&TEXT))
            .x_label_formatter(&x_format)
            .y_label_formatter(&y_format);
        if let Some(label) = &self.x_label {
            mesh.x_desc(label.clone());
        }
        if let Some(label) = &self.y_label {
            let suffix = if self.log_y { " (log scale)" } else { "" };
            mesh.y_desc(format!("{label}{suffix}"));
        }
        mesh.draw().map_err(plot_err)
    }

    /// Start and end of every quiver arrow, in data coordinates, with each layer's scale applied.
    fn resolve_arrows(&self) -> Vec<Vec<(Point, Point)>> {
        self.layers
            .iter()
            .map(|layer| match layer {
                Layer::Quiver {
                    points,
                    vectors,
                    scale,
                    ..
                } => {
                    let k = scale.unwrap_or_else(|| auto_arrow_scale(points, vectors));
                    points
                        .iter()
                        .zip(vectors)
                        .map(|(&(x, y), &(u, v))| ((x, y), (x + k * u, y + k * v)))
                        .collect()
                }
                _ => Vec::new(),
            })
            .collect()
    }

    /// The axis ranges in plot coordinates: the user's, or the data's with padding.
    fn ranges(&self, arrows: &[Vec<(Point, Point)>]) -> Result<((f64, f64), (f64, f64))> {
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        let mut add = |p: Point| {
            xs.push(p.0);
            ys.push(self.plot_y(p.1));
        };
        for (layer, layer_arrows) in self.layers.iter().zip(arrows) {
            match layer {
                Layer::Scatter { points, .. } | Layer::Groups { points, .. } | Layer::Line { points, .. } => {
                    points.iter().for_each(|&p| add(p))
                }
                Layer::Paths { paths, .. } => paths.iter().flatten().for_each(|&p| add(p)),
                Layer::Quiver { .. } => layer_arrows.iter().for_each(|&(a, b)| {
                    add(a);
                    add(b)
                }),
                Layer::Heatmap { x, y, .. } => {
                    add((x.0, y.0));
                    add((x.1, y.1))
                }
            }
        }
        let heatmap_only = self.layers.iter().all(|l| matches!(l, Layer::Heatmap { .. }));
        let padding = if heatmap_only { 0.0 } else { DEFAULT_PADDING };
        let auto = |values: &[f64], what: &str| -> Result<(f64, f64)> {
            let (lo, hi) =
                finite_bounds(values.iter().copied()).ok_or_else(|| Error::NonFinite(what.into()))?;
            padded_range(lo, hi, padding)
        };
        let x = match self.x_range {
            Some(r) => r,
            None => auto(&xs, "x values")?,
        };
        let y = match self.y_range {
            Some(r) if self.log_y => (self.plot_y(r.0), self.plot_y(r.1)),
            Some(r) => r,
            None => auto(&ys, "y values")?,
        };
        if !(x.0.is_finite() && x.1.is_finite() && y.0.is_finite() && y.1.is_finite()) {
            return Err(Error::InvalidArgument(
                "axis range is not finite (log axis with a range <= 0?)".into(),
            ));
        }
        Ok((x, y))
    }

    /// Colours of the layers, legend entries and the colour bar.
    fn resolve_styles(&self) -> (Vec<Styled<'_>>, Vec<LegendEntry>, Option<ColorBar>) {
        let mut next_series = 0i64;
        let mut styled = Vec::new();
        let mut legend = Vec::new();
        let mut color_bar = None;
        for layer in &self.layers {
            let mut take_color = |explicit: &Option<Rgb>| {
                explicit.unwrap_or_else(|| {
                    next_series += 1;
                    palette(next_series - 1)
                })
            };
            let (color, group_offset) = match layer {
                Layer::Scatter { label, color, .. }
                | Layer::Line { label, color, .. }
                | Layer::Quiver { label, color, .. } => {
                    let rgb = take_color(color);
                    if let Some(label) = label {
                        legend.push(LegendEntry {
                            label: label.clone(),
                            color: rgb,
                            is_line: !matches!(layer, Layer::Scatter { .. }),
                        });
                    }
                    (rgb, 0)
                }
                Layer::Paths {
                    label,
                    color,
                    coloring,
                    ..
                } => match coloring {
                    PathColoring::Solid => {
                        let rgb = take_color(color);
                        if let Some(label) = label {
                            legend.push(LegendEntry {
                                label: label.clone(),
                                color: rgb,
                                is_line: true,
                            });
                        }
                        (rgb, 0)
                    }
                    PathColoring::Time(cmap) => {
                        if color_bar.is_none() {
                            color_bar = Some(ColorBar {
                                cmap: *cmap,
                                lo: 0.0,
                                hi: 1.0,
                                caption: label.clone().unwrap_or_else(|| "t".into()),
                            });
                        }
                        (cmap.at(0.5), 0)
                    }
                },
                Layer::Groups { groups, .. } => {
                    let offset = next_series;
                    let mut distinct = groups.clone();
                    distinct.sort_unstable();
                    distinct.dedup();
                    for &g in distinct.iter().take(MAX_LEGEND_GROUPS) {
                        legend.push(LegendEntry {
                            label: format!("group {g}"),
                            color: palette(offset + g),
                            is_line: false,
                        });
                    }
                    if distinct.len() > MAX_LEGEND_GROUPS {
                        legend.push(LegendEntry {
                            label: format!("+{} more", distinct.len() - MAX_LEGEND_GROUPS),
                            color: Rgb(255, 255, 255),
                            is_line: false,
                        });
                    }
                    next_series += distinct.last().map_or(0, |&g| g.max(0) + 1);
                    (palette(offset), offset)
                }
                Layer::Heatmap {
                    values, cmap, label, ..
                } => {
                    let (lo, hi) = finite_bounds(values.iter().copied()).unwrap_or((0.0, 1.0));
                    // A heatmap's scale is the one a reader needs; it replaces a time bar.
                    color_bar = Some(ColorBar {
                        cmap: *cmap,
                        lo,
                        hi,
                        caption: label.clone().unwrap_or_default(),
                    });
                    (cmap.at(0.5), 0)
                }
            };
            styled.push(Styled {
                layer,
                color,
                group_offset,
            });
        }
        (styled, legend, color_bar)
    }

    fn draw_layer<DB: DrawingBackend>(
        &self,
        chart: &mut Chart<'_, DB>,
        item: &Styled<'_>,
        arrows: &[(Point, Point)],
        x_range: (f64, f64),
        y_range: (f64, f64),
    ) -> Result<()> {
        let inside = |p: &Point| p.0 >= x_range.0 && p.0 <= x_range.1 && p.1 >= y_range.0 && p.1 <= y_range.1;
        let solid = item.color.to_plotters();
        match item.layer {
            Layer::Scatter { points, radius, .. } => {
                let r = radius.unwrap_or_else(|| default_radius(points.len())) as i32;
                let style = solid.mix(MARKER_OPACITY).filled();
                let visible = points.iter().map(|&p| self.to_plot(p)).filter(inside);
                chart
                    .draw_series(visible.map(|p| Circle::new(p, r, style)))
                    .map_err(plot_err)?;
            }
            Layer::Groups {
                points,
                groups,
                radius,
            } => {
                let r = radius.unwrap_or_else(|| default_radius(points.len())) as i32;
                let visible = points
                    .iter()
                    .map(|&p| self.to_plot(p))
                    .zip(groups)
                    .filter(|(p, _)| inside(p));
                let circles = visible.map(|(p, &g)| {
                    Circle::new(
                        p,
                        r,
                        palette(item.group_offset + g)
                            .to_plotters()
                            .mix(MARKER_OPACITY)
                            .filled(),
                    )
                });
                chart.draw_series(circles).map_err(plot_err)?;
            }
            Layer::Line { points, .. } => {
                let line: Vec<Point> = points.iter().map(|&p| self.to_plot(p)).collect();
                self.draw_polyline(chart, &line, solid.stroke_width(2), x_range, y_range)?;
            }
            Layer::Paths { paths, coloring, .. } => {
                for path in paths {
                    let path: Vec<Point> = path.iter().map(|&p| self.to_plot(p)).collect();
                    match coloring {
                        PathColoring::Solid => self.draw_polyline(
                            chart,
                            &path,
                            solid.mix(0.8).stroke_width(1),
                            x_range,
                            y_range,
                        )?,
                        PathColoring::Time(cmap) => {
                            let segments = path.len().saturating_sub(1);
                            for (i, pair) in path.windows(2).enumerate() {
                                let t = (i as f64 + 0.5) / segments as f64;
                                let style = cmap.at(t).to_plotters().stroke_width(2);
                                self.draw_polyline(chart, pair, style, x_range, y_range)?;
                            }
                        }
                    }
                }
            }
            Layer::Quiver { .. } => {
                let (w, h) = chart.plotting_area().dim_in_pixel();
                let px_per_unit = (
                    w as f64 / (x_range.1 - x_range.0),
                    h as f64 / (y_range.1 - y_range.0),
                );
                let style = solid.stroke_width(1);
                for &(start, end) in arrows {
                    let (a, b) = (self.to_plot(start), self.to_plot(end));
                    if !inside(&a) {
                        continue;
                    }
                    let shape = arrow_polyline(a, b, px_per_unit);
                    self.draw_polyline(chart, &shape, style, x_range, y_range)?;
                }
            }
            Layer::Heatmap {
                values, x, y, cmap, ..
            } => {
                let (lo, hi) = finite_bounds(values.iter().copied()).unwrap_or((0.0, 1.0));
                let (ny, nx) = values.dim();
                let edge = |(a, b): (f64, f64), i: usize, n: usize| a + (b - a) * i as f64 / n as f64;
                let mut cells = Vec::with_capacity(nx * ny);
                for ((iy, ix), &value) in values.indexed_iter() {
                    let x0 = edge(*x, ix, nx).max(x_range.0);
                    let x1 = edge(*x, ix + 1, nx).min(x_range.1);
                    let y0 = self.plot_y(edge(*y, iy, ny)).max(y_range.0);
                    let y1 = self.plot_y(edge(*y, iy + 1, ny)).min(y_range.1);
                    if x0 < x1 && y0 < y1 {
                        let fill = cmap.scaled(value, lo, hi).to_plotters().filled();
                        cells.push(Rectangle::new([(x0, y0), (x1, y1)], fill));
                    }
                }
                chart.draw_series(cells).map_err(plot_err)?;
            }
        }
        Ok(())
    }

    /// Draws a polyline clipped to the axes: one SVG polyline per visible run.
    fn draw_polyline<DB: DrawingBackend>(
        &self,
        chart: &mut Chart<'_, DB>,
        points: &[Point],
        style: ShapeStyle,
        x_range: (f64, f64),
        y_range: (f64, f64),
    ) -> Result<()> {
        let runs = clip_polyline(points, x_range, y_range);
        chart
            .draw_series(runs.into_iter().map(|run| PathElement::new(run, style)))
            .map_err(plot_err)?;
        Ok(())
    }
}

/// Marker radius in pixels: smaller for dense clouds.
fn default_radius(n_points: usize) -> u32 {
    match n_points {
        0..=200 => 4,
        201..=2000 => 3,
        _ => 2,
    }
}

/// Scale that makes the longest arrow about one grid spacing (for `n` arrows spread over the
/// points' extent) and never more than a fifth of that extent.
pub(crate) fn auto_arrow_scale(points: &[Point], vectors: &[Point]) -> f64 {
    let xs = finite_bounds(points.iter().map(|p| p.0)).unwrap_or((0.0, 0.0));
    let ys = finite_bounds(points.iter().map(|p| p.1)).unwrap_or((0.0, 0.0));
    let span = (xs.1 - xs.0).max(ys.1 - ys.0);
    let span = if span > 0.0 { span } else { 1.0 };
    let target = span * (0.9 / (points.len().max(1) as f64).sqrt()).min(0.2);
    let longest = vectors.iter().map(|v| v.0.hypot(v.1)).fold(0.0, f64::max);
    if longest > 0.0 {
        target / longest
    } else {
        1.0
    }
}

/// The arrow from `a` to `b` as one polyline `a → b → left barb → b → right barb`; barbs are
/// built in pixel space so heads look the same whatever the axis scales.
pub(crate) fn arrow_polyline(a: Point, b: Point, px_per_unit: (f64, f64)) -> Vec<Point> {
    let d = ((b.0 - a.0) * px_per_unit.0, (b.1 - a.1) * px_per_unit.1);
    let length = d.0.hypot(d.1);
    if length < 1e-9 {
        return vec![a, b];
    }
    let head = (0.35 * length).min(7.0);
    let (ux, uy) = (d.0 / length, d.1 / length);
    let (sin, cos) = 25f64.to_radians().sin_cos();
    let barb = |s: f64| {
        let (rx, ry) = (ux * cos - s * uy * sin, s * ux * sin + uy * cos);
        (b.0 - head * rx / px_per_unit.0, b.1 - head * ry / px_per_unit.1)
    };
    vec![a, b, barb(1.0), b, barb(-1.0)]
}

/// Clips a polyline to the box `x × y` (Liang–Barsky per segment) and returns the visible runs,
/// each with at least two points.
pub(crate) fn clip_polyline(points: &[Point], x: (f64, f64), y: (f64, f64)) -> Vec<Vec<Point>> {
    let mut runs: Vec<Vec<Point>> = Vec::new();
    let mut current: Vec<Point> = Vec::new();
    for pair in points.windows(2) {
        match clip_segment(pair[0], pair[1], x, y) {
            Some((p, q)) => {
                if current.last() != Some(&p) {
                    if current.len() >= 2 {
                        runs.push(std::mem::take(&mut current));
                    }
                    current = vec![p];
                }
                current.push(q);
            }
            None => {
                if current.len() >= 2 {
                    runs.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if current.len() >= 2 {
        runs.push(current);
    }
    runs
}

fn clip_segment(p: Point, q: Point, x: (f64, f64), y: (f64, f64)) -> Option<(Point, Point)> {
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (denominator, numerator) in [
        (-dx, p.0 - x.0),
        (dx, x.1 - p.0),
        (-dy, p.1 - y.0),
        (dy, y.1 - p.1),
    ] {
        if denominator == 0.0 {
            if numerator < 0.0 {
                return None;
            }
        } else {
            let t = numerator / denominator;
            if denominator < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    if t0 > t1 {
        return None;
    }
    let at = |t: f64| {
        if t == 0.0 {
            p
        } else if t == 1.0 {
            q
        } else {
            (p.0 + t * dx, p.1 + t * dy)
        }
    };
    Some((at(t0), at(t1)))
}

/// Width of the strip right of the axes: wide enough for the longest legend label and the colour
/// bar's tick labels, zero when there is neither.
fn strip_width(legend: &[LegendEntry], color_bar: Option<&ColorBar>) -> u32 {
    let legend_width = legend
        .iter()
        .map(|e| short_label(&e.label).chars().count())
        .max()
        .map_or(0, |chars| (chars as u32 * 7 + 34).clamp(70, 210));
    let bar_width = color_bar.map_or(0, |bar| {
        let label_chars = [
            format_tick(bar.lo),
            format_tick(bar.hi),
            short_label(&bar.caption),
        ]
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0);
        (label_chars as u32 * 7 + 40).clamp(70, 210)
    });
    legend_width.max(bar_width)
}

/// `label` cut to [`MAX_LABEL_CHARS`] characters (with an ellipsis) so it fits the strip.
fn short_label(label: &str) -> String {
    if label.chars().count() <= MAX_LABEL_CHARS {
        label.to_string()
    } else {
        label.chars().take(MAX_LABEL_CHARS - 1).chain(['…']).collect()
    }
}

/// Draws the legend entries (from the top) and the colour bar (below them) in the strip.
fn draw_strip<DB: DrawingBackend>(
    strip: &DrawingArea<DB, Shift>,
    top: i32,
    legend: &[LegendEntry],
    color_bar: Option<&ColorBar>,
) -> Result<()> {
    let (_, height) = strip.dim_in_pixel();
    let label_style = TextStyle::from((FONT, 12).into_font())
        .color(&TEXT)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let mut y = top + LEGEND_ROW / 2;
    for entry in legend {
        let color = entry.color.to_plotters();
        let marker = if entry.is_line {
            Rectangle::new([(4, y - 1), (20, y + 1)], color.filled())
        } else {
            Rectangle::new([(7, y - 4), (15, y + 4)], color.mix(MARKER_OPACITY).filled())
        };
        strip.draw(&marker).map_err(plot_err)?;
        strip
            .draw(&Text::new(
                short_label(&entry.label),
                (26, y),
                label_style.clone(),
            ))
            .map_err(plot_err)?;
        y += LEGEND_ROW;
    }
    let Some(bar) = color_bar else { return Ok(()) };
    let caption_y = if legend.is_empty() { top + 6 } else { y + 8 };
    let bar_top = caption_y + 14;
    let bar_bottom = (bar_top + 180).min(height as i32 - 30);
    if bar_bottom - bar_top < 20 {
        return Ok(());
    }
    strip
        .draw(&Text::new(
            short_label(&bar.caption),
            (6, caption_y),
            label_style.clone(),
        ))
        .map_err(plot_err)?;
    let step_height = (bar_bottom - bar_top) as f64 / COLOR_BAR_STEPS as f64;
    for step in 0..COLOR_BAR_STEPS {
        let t = (step as f64 + 0.5) / COLOR_BAR_STEPS as f64;
        let y1 = bar_bottom - (step as f64 * step_height).round() as i32;
        let y0 = bar_bottom - ((step + 1) as f64 * step_height).round() as i32;
        strip
            .draw(&Rectangle::new(
                [(6, y0), (20, y1)],
                bar.cmap.at(t).to_plotters().filled(),
            ))
            .map_err(plot_err)?;
    }
    strip
        .draw(&Rectangle::new(
            [(6, bar_top), (20, bar_bottom)],
            TEXT.stroke_width(1),
        ))
        .map_err(plot_err)?;
    let mid = (bar.lo + bar.hi) / 2.0;
    for (value, y) in [
        (bar.hi, bar_top),
        (mid, (bar_top + bar_bottom) / 2),
        (bar.lo, bar_bottom),
    ] {
        strip
            .draw(&Text::new(format_tick(value), (24, y), label_style.clone()))
            .map_err(plot_err)?;
    }
    Ok(())
}

/// Turns any plotters error into [`Error::Plot`].
pub(crate) fn plot_err<E: std::fmt::Debug>(error: E) -> Error {
    Error::Plot(format!("{error:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_cuts_segments_at_the_box_edges() {
        let runs = clip_polyline(&[(-1.0, 0.5), (2.0, 0.5)], (0.0, 1.0), (0.0, 1.0));
        assert_eq!(runs, vec![vec![(0.0, 0.5), (1.0, 0.5)]]);
        let diagonal = clip_polyline(&[(-1.0, -1.0), (0.5, 0.5), (3.0, 3.0)], (0.0, 1.0), (0.0, 1.0));
        assert_eq!(diagonal, vec![vec![(0.0, 0.0), (0.5, 0.5), (1.0, 1.0)]]);
        assert!(clip_polyline(&[(2.0, 2.0), (3.0, 3.0)], (0.0, 1.0), (0.0, 1.0)).is_empty());
    }

    #[test]
    fn long_legend_labels_are_cut_with_an_ellipsis() {
        let long = "x".repeat(30);
        let short = short_label(&long);
        assert_eq!(short.chars().count(), MAX_LABEL_CHARS);
        assert!(short.ends_with('…') && short.starts_with(&"x".repeat(MAX_LABEL_CHARS - 1)));
        assert_eq!(short_label("target"), "target");
    }

    #[test]
    fn arrow_barbs_are_symmetric_in_pixel_space() {
        // 10 px per x unit, 20 px per y unit; an arrow of 40 px along x.
        let shape = arrow_polyline((0.0, 0.0), (4.0, 0.0), (10.0, 20.0));
        assert_eq!(shape.len(), 5);
        let (left, right) = (shape[2], shape[4]);
        let head = 7.0;
        let (sin, cos) = 25f64.to_radians().sin_cos();
        assert!((left.0 - (4.0 - head * cos / 10.0)).abs() < 1e-12);
        assert!((left.1 + head * sin / 20.0).abs() < 1e-12);
        assert!((left.0 - right.0).abs() < 1e-12 && (left.1 + right.1).abs() < 1e-12);
    }

    #[test]
    fn auto_arrow_scale_makes_the_longest_arrow_a_grid_spacing() {
        // 4 points over a span of 1: target length min(0.2, 0.9 / 2) = 0.2.
        let points = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)];
        let vectors = [(2.0, 0.0), (0.0, 1.0), (0.0, 0.0), (1.0, 1.0)];
        assert!((auto_arrow_scale(&points, &vectors) - 0.1).abs() < 1e-12);
    }
}

//! The things a panel can draw, validated and copied into plot coordinates (`f64`) when they are
//! added, so a figure owns its data and never borrows the caller's arrays.

use ndarray::{Array2, ArrayView1, ArrayView2};

use super::color::{ColorMap, Rgb};
use crate::{Error, Result};

/// A point in data coordinates.
pub(crate) type Point = (f64, f64);

/// How a set of polylines is coloured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum PathColoring {
    /// One colour for the whole layer (listed in the legend).
    Solid,
    /// Each segment coloured by its position along the path, `t` in `[0, 1]`.
    Time(ColorMap),
}

/// One drawable item of a panel.
#[derive(Debug, Clone)]
pub(crate) enum Layer {
    Scatter {
        points: Vec<Point>,
        label: Option<String>,
        color: Option<Rgb>,
        radius: Option<u32>,
    },
    Groups {
        points: Vec<Point>,
        groups: Vec<i64>,
        radius: Option<u32>,
    },
    Line {
        points: Vec<Point>,
        label: Option<String>,
        color: Option<Rgb>,
    },
    Paths {
        paths: Vec<Vec<Point>>,
        label: Option<String>,
        color: Option<Rgb>,
        coloring: PathColoring,
    },
    Quiver {
        points: Vec<Point>,
        vectors: Vec<Point>,
        scale: Option<f64>,
        label: Option<String>,
        color: Option<Rgb>,
    },
    Heatmap {
        /// `values[[iy, ix]]`: row `iy` = `iy`-th cell from the bottom, column `ix` from the left.
        values: Array2<f64>,
        x: (f64, f64),
        y: (f64, f64),
        cmap: ColorMap,
        label: Option<String>,
    },
}

impl Layer {
    /// Sets the colour of a layer drawn in one colour; other layers ignore it.
    pub(crate) fn set_color(&mut self, rgb: Rgb) {
        match self {
            Layer::Scatter { color, .. }
            | Layer::Line { color, .. }
            | Layer::Paths { color, .. }
            | Layer::Quiver { color, .. } => *color = Some(rgb),
            Layer::Groups { .. } | Layer::Heatmap { .. } => {}
        }
    }

    /// Sets the marker radius of scatter layers; other layers ignore it.
    pub(crate) fn set_radius(&mut self, r: u32) {
        if let Layer::Scatter { radius, .. } | Layer::Groups { radius, .. } = self {
            *radius = Some(r);
        }
    }

    /// Sets the colour map of heatmaps and time-coloured paths; other layers ignore it.
    pub(crate) fn set_colormap(&mut self, map: ColorMap) {
        match self {
            Layer::Heatmap { cmap, .. } => *cmap = map,
            Layer::Paths {
                coloring: PathColoring::Time(cmap),
                ..
            } => *cmap = map,
            _ => {}
        }
    }

    /// Short name for summaries.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Layer::Scatter { .. } => "scatter",
            Layer::Groups { .. } => "groups",
            Layer::Line { .. } => "line",
            Layer::Paths { .. } => "paths",
            Layer::Quiver { .. } => "quiver",
            Layer::Heatmap { .. } => "heatmap",
        }
    }

    /// Every y value the layer places (used to validate log scales).
    pub(crate) fn y_values(&self) -> Vec<f64> {
        match self {
            Layer::Scatter { points, .. } | Layer::Groups { points, .. } | Layer::Line { points, .. } => {
                points.iter().map(|p| p.1).collect()
            }
            Layer::Paths { paths, .. } => paths.iter().flatten().map(|p| p.1).collect(),
            Layer::Quiver { points, .. } => points.iter().map(|p| p.1).collect(),
            Layer::Heatmap { y, .. } => vec![y.0, y.1],
        }
    }
}

/// Copies an `[N, 2]` point array into plot coordinates, rejecting empty, wrongly shaped or
/// non-finite input. `what` names the call in the error.
pub(crate) fn points_from(view: ArrayView2<'_, f32>, what: &str) -> Result<Vec<Point>> {
    if view.ncols() != 2 {
        return Err(Error::shape(what, "[N, 2]", format!("{:?}", view.shape())));
    }
    if view.nrows() == 0 {
        return Err(Error::Empty(format!("{what}: no points")));
    }
    crate::error::ensure_finite(what, view.iter())?;
    Ok(view
        .rows()
        .into_iter()
        .map(|r| (r[0] as f64, r[1] as f64))
        .collect())
}

/// Copies paired `x`, `y` series into points, rejecting empty, unequal or non-finite input.
pub(crate) fn xy_from(x: &[f64], y: &[f64], what: &str) -> Result<Vec<Point>> {
    if x.len() != y.len() {
        return Err(Error::shape(
            what,
            format!("y of length {}", x.len()),
            y.len().to_string(),
        ));
    }
    if x.is_empty() {
        return Err(Error::Empty(format!("{what}: no values")));
    }
    if !x.iter().chain(y).all(|v| v.is_finite()) {
        return Err(Error::NonFinite(what.into()));
    }
    Ok(x.iter().copied().zip(y.iter().copied()).collect())
}

/// Copies integer group labels, one per point.
pub(crate) fn groups_from(labels: ArrayView1<'_, i64>, n_points: usize, what: &str) -> Result<Vec<i64>> {
    if labels.len() != n_points {
        return Err(Error::shape(
            what,
            format!("{n_points} labels"),
            labels.len().to_string(),
        ));
    }
    Ok(labels.to_vec())
}

/// Checks a `(lo, hi)` range given by the user.
pub(crate) fn check_range(range: (f64, f64), what: &str) -> Result<(f64, f64)> {
    if !(range.0.is_finite() && range.1.is_finite()) {
        return Err(Error::NonFinite(what.into()));
    }
    if range.0 >= range.1 {
        return Err(Error::InvalidArgument(format!(
            "{what}: need lo < hi, got [{}, {}]",
            range.0, range.1
        )));
    }
    Ok(range)
}

/// Samples `field` at the centres of a `resolution x resolution` grid over `x` × `y`;
/// `values[[iy, ix]]` is the cell `ix`-th from the left and `iy`-th from the bottom.
pub(crate) fn sample_field(
    field: impl Fn(f32, f32) -> f32,
    x: (f64, f64),
    y: (f64, f64),
    resolution: usize,
) -> Array2<f64> {
    let centre = |(lo, hi): (f64, f64), i: usize| lo + (hi - lo) * (i as f64 + 0.5) / resolution as f64;
    Array2::from_shape_fn((resolution, resolution), |(iy, ix)| {
        field(centre(x, ix) as f32, centre(y, iy) as f32) as f64
    })
}

//! Figures for notebooks and reports: scatter clouds, paths, vector fields, heatmaps and loss
//! curves, composed into one SVG and shown inline by evcxr.
//!
//! Everything draws through [`Figure`], a chainable builder over plotters' SVG backend (no fonts
//! or bitmaps needed). A notebook cell shows one output, so several panels go into one figure
//! ([`Figure::grid`]). Result types implement [`Plot`] to draw themselves.
//!
//! ```
//! use lagrangian_ot::plot::{ColorMap, Figure};
//! use ndarray::array;
//! let path = array![[0.0f32, 0.0], [0.5, 0.4], [1.0, 1.0]];
//! let fig = Figure::new()
//!     .title("a path over a field")
//!     .heatmap_fn(|x, y| (x - y).abs(), (0.0, 1.0), (0.0, 1.0), 16)
//!     .paths_by_time(&[path], ColorMap::Plasma)
//!     .equal_aspect();
//! assert!(fig.to_svg().unwrap().contains("<polyline"));
//! ```

mod color;
mod display;
mod figure;
mod layer;
mod panel;
mod range;

use std::path::Path;

pub use color::{palette, ColorMap, Rgb, PALETTE};
pub use display::{evcxr_bundle, evcxr_text, print_locked};
pub use figure::{Figure, DEFAULT_MAX_COLS, DEFAULT_PANEL_SIZE, MAX_HEATMAP_RESOLUTION};
pub use range::{equal_aspect, finite_bounds, format_log_tick, format_tick, padded_range, DEFAULT_PADDING};

use crate::Result;

/// A value that can draw itself as a [`Figure`]; the provided methods give it SVG export and
/// inline notebook display for free.
///
/// Types that should display without importing this trait also add an inherent
/// `evcxr_display` that calls [`Plot::evcxr_display`] (evcxr looks the method up by name).
pub trait Plot {
    /// The figure that shows this value.
    fn figure(&self) -> Figure;

    /// The figure as an SVG document.
    fn to_svg(&self) -> Result<String> {
        self.figure().to_svg()
    }

    /// Writes the figure to an SVG file (atomically, see [`Figure::save_svg`]).
    fn save_svg(&self, path: impl AsRef<Path>) -> Result<()>
    where
        Self: Sized,
    {
        self.figure().save_svg(path)
    }

    /// Shows the figure inline in an evcxr notebook.
    fn evcxr_display(&self) {
        self.figure().evcxr_display()
    }
}

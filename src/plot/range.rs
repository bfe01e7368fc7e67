//! Axis ranges and tick labels: automatic ranges with padding, equal-aspect adjustment and
//! compact number formatting.
//!
//! These are plain functions so the numbers a figure will use can be checked without drawing.

use crate::{Error, Result};

/// Fraction of the data span added on each side of an automatic axis range.
pub const DEFAULT_PADDING: f64 = 0.05;

/// The smallest and largest finite value of `values`, or `None` when there is none.
pub fn finite_bounds(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Widens `[lo, hi]` by `padding` times its span on each side. A degenerate range (`lo == hi`)
/// becomes `lo ± 5 %` of its magnitude, or `± 0.5` around zero, so an axis always has extent.
///
/// ```
/// use lagrangian_ot::plot::padded_range;
/// assert_eq!(padded_range(0.0, 10.0, 0.1).unwrap(), (-1.0, 11.0));
/// assert_eq!(padded_range(0.0, 0.0, 0.1).unwrap(), (-0.5, 0.5));
/// assert!(padded_range(1.0, 0.0, 0.1).is_err());
/// ```
pub fn padded_range(lo: f64, hi: f64, padding: f64) -> Result<(f64, f64)> {
    if !(lo.is_finite() && hi.is_finite() && padding.is_finite()) {
        return Err(Error::NonFinite("axis range".into()));
    }
    if lo > hi || padding < 0.0 {
        return Err(Error::InvalidArgument(format!(
            "axis range needs lo <= hi and padding >= 0, got [{lo}, {hi}] and {padding}"
        )));
    }
    if lo == hi {
        let half = if lo == 0.0 { 0.5 } else { lo.abs() * 0.05 };
        return Ok((lo - half, hi + half));
    }
    let pad = (hi - lo) * padding;
    Ok((lo - pad, hi + pad))
}

/// Enlarges one of the two ranges about its centre so that one data unit covers the same number
/// of pixels on both axes of a plotting area `width_px x height_px`.
///
/// ```
/// use lagrangian_ot::plot::equal_aspect;
/// // A 400x200 px area showing [0,1]x[0,1]: the x range must double.
/// let (x, y) = equal_aspect((0.0, 1.0), (0.0, 1.0), 400, 200);
/// assert_eq!((x, y), ((-0.5, 1.5), (0.0, 1.0)));
/// ```
pub fn equal_aspect(x: (f64, f64), y: (f64, f64), width_px: u32, height_px: u32) -> ((f64, f64), (f64, f64)) {
    let (w, h) = (width_px.max(1) as f64, height_px.max(1) as f64);
    let (x_span, y_span) = (x.1 - x.0, y.1 - y.0);
    let units_per_px = (x_span / w).max(y_span / h);
    let widen = |(lo, hi): (f64, f64), px: f64| {
        let half = units_per_px * px / 2.0;
        let mid = (lo + hi) / 2.0;
        (mid - half, mid + half)
    };
    let x_new = if x_span / w < units_per_px { widen(x, w) } else { x };
    let y_new = if y_span / h < units_per_px { widen(y, h) } else { y };
    (x_new, y_new)
}

/// A short label for a tick value: four significant digits without trailing zeros, scientific
/// notation for very large or very small magnitudes.
///
/// ```
/// use lagrangian_ot::plot::format_tick;
/// assert_eq!(format_tick(0.30000000000000004), "0.3");
/// assert_eq!(format_tick(-0.0), "0");
/// assert_eq!(format_tick(100.5), "100.5");
/// assert_eq!(format_tick(2.0), "2");
/// assert_eq!(format_tick(0.00015), "1.5e-4");
/// assert_eq!(format_tick(250000.0), "2.5e5");
/// ```
pub fn format_tick(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let magnitude = value.abs();
    if magnitude < 1e-12 {
        return "0".into();
    }
    if !(1e-3..1e5).contains(&magnitude) {
        let formatted = format!("{value:.2e}");
        let (mantissa, exponent) = formatted.split_once('e').unwrap_or((&formatted, "0"));
        return format!("{}e{exponent}", trim_zeros(mantissa));
    }
    let decimals = (3 - magnitude.log10().floor() as i32).clamp(0, 6) as usize;
    trim_zeros(&format!("{value:.decimals$}"))
}

fn trim_zeros(number: &str) -> String {
    let trimmed = if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        number
    };
    if trimmed == "-0" {
        "0".into()
    } else {
        trimmed.into()
    }
}

/// The label of a tick on a log-scaled axis whose plotted coordinate is `log10(value)`.
/// Over a span of two decades or more only whole powers of ten are labelled, so labels stay
/// sparse; otherwise every tick is.
///
/// ```
/// use lagrangian_ot::plot::format_log_tick;
/// assert_eq!(format_log_tick(-2.0, 3.0), "0.01");
/// assert_eq!(format_log_tick(-1.5, 3.0), "");
/// assert_eq!(format_log_tick(0.5, 0.8), "3.162");
/// ```
pub fn format_log_tick(log10_value: f64, span_decades: f64) -> String {
    let is_power = (log10_value - log10_value.round()).abs() < 1e-9;
    if span_decades >= 2.0 && !is_power {
        String::new()
    } else {
        format_tick(10f64.powf(log10_value))
    }
}

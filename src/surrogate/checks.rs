//! Input checks the baseline surrogates share: a consistent set of anchors at fit time, a well-formed
//! query at predict time. Each returns the crate's typed errors so a notebook can tell them apart.

use ndarray::{Array2, ArrayView2};

use super::coupling::class_of;
use super::{check_times, locate, Anchors, ConditionEncoding};
use crate::data::ConditionView;
use crate::error::{ensure_finite, Error, Result};

/// Checks that `anchors` agree with themselves: sorted times, one cloud and one condition block per
/// time, the same output width everywhere, condition widths matching the encoding, finite values,
/// and one label per sample for categorical data.
pub(crate) fn validate_anchors(anchors: &Anchors) -> Result<()> {
    check_times(&anchors.times)?;
    let k = anchors.times.len();
    if anchors.samples.len() != k || anchors.conditions.len() != k {
        return Err(Error::shape(
            "anchors",
            format!("{k} sample and condition blocks (one per time)"),
            format!("{} and {}", anchors.samples.len(), anchors.conditions.len()),
        ));
    }
    let dim = anchors.samples[0].ncols();
    let width = anchors.encoding.width();
    for (i, (y, x)) in anchors.samples.iter().zip(&anchors.conditions).enumerate() {
        check_anchor(i, y, x, dim, width)?;
    }
    check_labels(anchors)
}

fn check_anchor(i: usize, y: &Array2<f32>, x: &Array2<f32>, dim: usize, width: usize) -> Result<()> {
    if y.nrows() == 0 || dim == 0 {
        return Err(Error::Empty(format!("anchor {i} holds no samples")));
    }
    if y.ncols() != dim {
        return Err(Error::shape(
            format!("samples of anchor {i}"),
            format!("[N, {dim}] (the width of anchor 0)"),
            format!("{:?}", y.shape()),
        ));
    }
    if x.dim() != (y.nrows(), width) {
        return Err(Error::shape(
            format!("conditions of anchor {i}"),
            format!("[{}, {width}]", y.nrows()),
            format!("{:?}", x.shape()),
        ));
    }
    ensure_finite(&format!("samples of anchor {i}"), y.iter())?;
    ensure_finite(&format!("conditions of anchor {i}"), x.iter())
}

fn check_labels(anchors: &Anchors) -> Result<()> {
    let Some(labels) = &anchors.labels else {
        return Ok(());
    };
    if !anchors.encoding.is_categorical() {
        return Err(Error::InvalidArgument(
            "anchors hold labels but their encoding is not categorical".into(),
        ));
    }
    if labels.len() != anchors.len() {
        return Err(Error::shape(
            "anchor labels",
            format!("{} label arrays", anchors.len()),
            labels.len().to_string(),
        ));
    }
    for (i, (l, x)) in labels.iter().zip(&anchors.conditions).enumerate() {
        if l.len() != x.nrows() {
            return Err(Error::shape(
                format!("labels of anchor {i}"),
                format!("{} labels", x.nrows()),
                l.len().to_string(),
            ));
        }
        // Couplings group samples by their one-hot rows, so labels that disagree would be ignored.
        let agree = l
            .iter()
            .zip(x.rows())
            .all(|(&label, row)| label == class_of(row) as i64);
        if !agree {
            return Err(Error::InvalidArgument(format!(
                "labels of anchor {i} disagree with its one-hot conditions"
            )));
        }
    }
    Ok(())
}

/// A checked query: the interval `k` holding `t`, the fraction `s` into it, and the conditions
/// encoded `[N, width]`.
pub(crate) struct Query {
    /// Interval index.
    pub k: usize,
    /// Fraction of the way from `t_k` to `t_{k+1}`.
    pub s: f32,
    /// Encoded conditions, one row per start sample.
    pub cond: Array2<f32>,
}

/// Checks a [`crate::surrogate::Surrogate::predict`] call: `t` inside the anchor range, `start`
/// `[N ≥ 1, dim]` and finite, `cond` of the kind and width the model was fitted on with `N` rows.
pub(crate) fn check_query(
    times: &[f32],
    dim: usize,
    encoding: ConditionEncoding,
    t: f32,
    start: ArrayView2<'_, f32>,
    cond: &ConditionView<'_>,
) -> Result<Query> {
    let (k, s) = locate(times, t)?;
    if start.ncols() != dim {
        return Err(Error::shape(
            "start samples",
            format!("[N, {dim}]"),
            format!("{:?}", start.shape()),
        ));
    }
    if start.nrows() == 0 {
        return Err(Error::Empty("no start samples".into()));
    }
    ensure_finite("start samples", start.iter())?;
    let cond = encoding.encode(cond, start.nrows())?;
    Ok(Query { k, s, cond })
}

/// An [`Error::InvalidArgument`] unless `value` is a positive count.
pub(crate) fn positive(what: &str, value: usize) -> Result<()> {
    if value == 0 {
        return Err(Error::InvalidArgument(format!("{what} must be positive")));
    }
    Ok(())
}

/// An [`Error::InvalidArgument`] unless `value` is finite and positive.
pub(crate) fn positive_real(what: &str, value: f64) -> Result<()> {
    if !(value.is_finite() && value > 0.0) {
        return Err(Error::InvalidArgument(format!(
            "{what} must be finite and positive, got {value}"
        )));
    }
    Ok(())
}

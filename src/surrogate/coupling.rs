//! Exact optimal-transport couplings between clouds of samples, the pairing every baseline surrogate
//! trains or predicts from.
//!
//! The rule ([`CouplingRule`]): squared-Euclidean exact OT ([`crate::metrics::exact_ot`]); labelled
//! samples are coupled class by class (a sample never changes class); continuous conditions are
//! coupled jointly, by exact OT on the concatenation `[y, w·x]`, so `w` trades closeness of outputs
//! against closeness of conditions (a large `w` approaches "nearest condition"). Equal-size groups
//! get a permutation; unequal ones send each row to its largest entry of the optimal plan.

use std::collections::BTreeMap;

use ndarray::{concatenate, Array2, ArrayView1, ArrayView2, Axis};

use super::{Anchors, ConditionEncoding};
use crate::error::{Error, Result};
use crate::metrics::{exact_ot, GroundCost};

/// Samples `[N, D]` with their encoded conditions `[N, width]`.
#[derive(Clone, Copy)]
pub(crate) struct Cloud<'a> {
    /// Outputs.
    pub y: ArrayView2<'a, f32>,
    /// Encoded conditions.
    pub cond: ArrayView2<'a, f32>,
}

impl<'a> Cloud<'a> {
    /// Anchor `k` of `anchors`.
    pub fn anchor(anchors: &'a Anchors, k: usize) -> Self {
        Cloud {
            y: anchors.samples[k].view(),
            cond: anchors.conditions[k].view(),
        }
    }
}

/// How samples are paired across anchors; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CouplingRule {
    encoding: ConditionEncoding,
    condition_weight: f32,
}

impl CouplingRule {
    /// A rule for conditions encoded as `encoding`; `condition_weight` (finite, ≥ 0) scales
    /// continuous conditions in the OT cost and is ignored otherwise.
    pub fn new(encoding: ConditionEncoding, condition_weight: f32) -> Result<Self> {
        if !(condition_weight.is_finite() && condition_weight >= 0.0) {
            return Err(Error::InvalidArgument(format!(
                "condition_weight must be finite and non-negative, got {condition_weight}"
            )));
        }
        Ok(CouplingRule {
            encoding,
            condition_weight,
        })
    }

    /// The group of every row: its class for labelled data, 0 otherwise (one group).
    pub fn groups(&self, cond: ArrayView2<'_, f32>) -> Vec<usize> {
        if self.encoding.is_categorical() {
            cond.rows().into_iter().map(class_of).collect()
        } else {
            vec![0; cond.nrows()]
        }
    }

    /// For every row of `from`, the row of `to` it is coupled with. A class present in `from` but
    /// absent from `to` is an [`Error::InvalidArgument`].
    pub fn couple(&self, from: Cloud<'_>, to: Cloud<'_>) -> Result<Vec<usize>> {
        let to_groups = rows_by_group(&self.groups(to.cond));
        let mut partner = vec![0; from.y.nrows()];
        for (group, from_rows) in rows_by_group(&self.groups(from.cond)) {
            let to_rows = to_groups.get(&group).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "class {group} has samples to couple but none in the cloud they are coupled to"
                ))
            })?;
            let matched = match_rows(&self.features(from, &from_rows), &self.features(to, to_rows))?;
            for (&row, j) in from_rows.iter().zip(matched) {
                partner[row] = to_rows[j];
            }
        }
        Ok(partner)
    }

    /// What OT compares: the outputs, plus the weighted condition when it is continuous.
    fn features(&self, cloud: Cloud<'_>, rows: &[usize]) -> Array2<f32> {
        let y = cloud.y.select(Axis(0), rows);
        match self.encoding {
            ConditionEncoding::Continuous { .. } => {
                let x = cloud.cond.select(Axis(0), rows) * self.condition_weight;
                concatenate(Axis(1), &[y.view(), x.view()]).expect("rows of one cloud agree")
            }
            _ => y,
        }
    }
}

/// The class of a one-hot row (its largest entry).
pub(crate) fn class_of(row: ArrayView1<'_, f32>) -> usize {
    row.iter()
        .enumerate()
        .fold(
            (0, f32::NEG_INFINITY),
            |best, (i, &v)| if v > best.1 { (i, v) } else { best },
        )
        .0
}

/// Row indices per group, groups in increasing order (so couplings are deterministic).
pub(crate) fn rows_by_group(groups: &[usize]) -> BTreeMap<usize, Vec<usize>> {
    let mut rows: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &g) in groups.iter().enumerate() {
        rows.entry(g).or_default().push(i);
    }
    rows
}

/// Exact OT between two feature clouds: for each row of `a`, its partner in `b`.
fn match_rows(a: &Array2<f32>, b: &Array2<f32>) -> Result<Vec<usize>> {
    let ot = exact_ot(a, b, GroundCost::SqEuclidean)?;
    Ok(match ot.assignment {
        Some(assignment) => assignment,
        None => ot.plan.rows().into_iter().map(largest_entry).collect(),
    })
}

fn largest_entry(row: ArrayView1<'_, f64>) -> usize {
    row.iter()
        .enumerate()
        .fold(
            (0, f64::NEG_INFINITY),
            |best, (j, &p)| if p > best.1 { (j, p) } else { best },
        )
        .0
}

/// The couplings between consecutive anchors: `links[k][i]` is the partner at anchor `k + 1` of
/// row `i` of anchor `k`. Following them from anchor 0 gives each sample a path through all anchors.
#[derive(Debug, Clone)]
pub(crate) struct OtChain {
    links: Vec<Vec<usize>>,
}

impl OtChain {
    /// Couples every pair of consecutive anchors by `rule`.
    pub fn fit(anchors: &Anchors, rule: CouplingRule) -> Result<Self> {
        let links = (0..anchors.len() - 1)
            .map(|k| rule.couple(Cloud::anchor(anchors, k), Cloud::anchor(anchors, k + 1)))
            .collect::<Result<_>>()?;
        Ok(OtChain { links })
    }

    /// The rows at anchors `0..=last` reached from rows `first` of anchor 0: element `k` holds
    /// one row of anchor `k` per start row.
    pub fn follow(&self, first: Vec<usize>, last: usize) -> Vec<Vec<usize>> {
        let mut path = vec![first];
        for link in &self.links[..last] {
            let next = path[path.len() - 1].iter().map(|&i| link[i]).collect();
            path.push(next);
        }
        path
    }
}

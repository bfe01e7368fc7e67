//! The linear-interpolation baseline (HTI spec §9): no training, only couplings.
//!
//! Consecutive anchors are coupled by exact optimal transport with the squared-Euclidean cost, class
//! by class for labelled data and on the concatenation `[y, w·x]` for continuous conditions (`w` =
//! the condition weight, 1 by default). At prediction the start batch is coupled to the first
//! anchor by the same rule, each start sample follows the precomputed couplings to the interval
//! `[t_k, t_{k+1}]` holding `t`, and the prediction is `(1 − s)·y_k + s·y_{k+1}`. In the first
//! interval `y_0` is the start sample itself, so the prediction at `t_0` returns the input.

use ndarray::{Array2, ArrayView2, Axis};

use super::checks::{check_query, validate_anchors};
use super::coupling::{Cloud, CouplingRule, OtChain};
use super::{Anchors, ConditionEncoding, Surrogate};
use crate::data::ConditionView;
use crate::error::Result;

/// Piecewise-linear interpolation along exact-OT couplings of the anchors; see the module docs.
///
/// ```
/// use lagrangian_ot::data::ConditionView;
/// use lagrangian_ot::surrogate::{Anchors, ConditionEncoding, LinearInterpolation, Surrogate};
/// use ndarray::{array, Array2};
/// let anchors = Anchors {
///     times: vec![0.0, 1.0],
///     samples: vec![array![[0.0f32], [1.0]], array![[2.0f32], [3.0]]],
///     conditions: vec![Array2::zeros((2, 0)), Array2::zeros((2, 0))],
///     labels: None,
///     encoding: ConditionEncoding::None,
/// };
/// let linear = LinearInterpolation::fit(&anchors)?;
/// let start = array![[0.0f32], [1.0]];
/// let half = linear.predict(0.5, start.view(), &ConditionView::None)?;
/// assert_eq!(half, array![[1.0f32], [2.0]]);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct LinearInterpolation {
    times: Vec<f32>,
    encoding: ConditionEncoding,
    rule: CouplingRule,
    samples: Vec<Array2<f32>>,
    first_conditions: Array2<f32>,
    chain: OtChain,
    condition_weight: f32,
}

impl LinearInterpolation {
    /// Couples the anchors with condition weight 1; see [`LinearInterpolation::fit_with_condition_weight`].
    pub fn fit(anchors: &Anchors) -> Result<Self> {
        Self::fit_with_condition_weight(anchors, 1.0)
    }

    /// Couples consecutive anchors by exact OT. `condition_weight` (finite, ≥ 0) multiplies
    /// continuous conditions in the cost `‖y − y'‖² + w²‖x − x'‖²`; labels and unconditional data
    /// ignore it. Inconsistent anchors (shapes, NaN, unsorted times, a class missing from an anchor)
    /// are typed errors.
    pub fn fit_with_condition_weight(anchors: &Anchors, condition_weight: f32) -> Result<Self> {
        validate_anchors(anchors)?;
        let rule = CouplingRule::new(anchors.encoding, condition_weight)?;
        let chain = OtChain::fit(anchors, rule)?;
        Ok(LinearInterpolation {
            times: anchors.times.clone(),
            encoding: anchors.encoding,
            rule,
            samples: anchors.samples.clone(),
            first_conditions: anchors.conditions[0].clone(),
            chain,
            condition_weight,
        })
    }

    /// The weight of continuous conditions in the coupling cost.
    pub fn condition_weight(&self) -> f32 {
        self.condition_weight
    }

    /// How conditions are encoded.
    pub fn encoding(&self) -> ConditionEncoding {
        self.encoding
    }
}

impl Surrogate for LinearInterpolation {
    fn name(&self) -> String {
        "linear interpolation".into()
    }

    fn dim(&self) -> usize {
        self.samples[0].ncols()
    }

    fn anchor_times(&self) -> &[f32] {
        &self.times
    }

    /// Couples `start` to the first anchor, follows the anchor couplings and interpolates linearly
    /// in the interval holding `t`. Errors: [`crate::Error::OutOfRange`] for `t` outside the
    /// anchors, [`crate::Error::Shape`] / [`crate::Error::NonFinite`] / [`crate::Error::Empty`] for
    /// a bad `start`, [`crate::Error::InvalidArgument`] for conditions of the wrong kind or a class
    /// the first anchor lacks.
    fn predict(&self, t: f32, start: ArrayView2<'_, f32>, cond: &ConditionView<'_>) -> Result<Array2<f32>> {
        let query = check_query(&self.times, self.dim(), self.encoding, t, start, cond)?;
        let first_anchor = Cloud {
            y: self.samples[0].view(),
            cond: self.first_conditions.view(),
        };
        let start_cloud = Cloud {
            y: start,
            cond: query.cond.view(),
        };
        let first = self.rule.couple(start_cloud, first_anchor)?;
        let path = self.chain.follow(first, query.k + 1);
        let lower = match query.k {
            0 => start.to_owned(),
            k => self.samples[k].select(Axis(0), &path[k]),
        };
        let upper = self.samples[query.k + 1].select(Axis(0), &path[query.k + 1]);
        Ok(lower * (1.0 - query.s) + upper * query.s)
    }
}

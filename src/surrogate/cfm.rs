//! The conditional flow-matching baseline (HTI spec §9: the authors' Metric Flow Matching code run
//! with `mfm: false`, i.e. OT-CFM with straight interpolants).
//!
//! One velocity network `v(y, x, τ)` over the whole anchor range (hidden `[64, 64, 64]`; the
//! reference uses SELU, which this crate lacks, so the default is [`Activation::SiLU`], the closest
//! smooth activation with a negative lobe that it has). Every training step draws, for every
//! interval `[t_k, t_{k+1}]`, a minibatch from anchor `k`, an equally sized one from anchor `k + 1`
//! with the same class counts, and couples them by exact OT (class by class for labels, on
//! `[y, w·x]` for continuous conditions). Each pair gets `s ~ U(0, 1)`, the point
//! `y_s = (1 − s) y_0 + s y_1` at `t = t_k + s (t_{k+1} − t_k)`, the condition of `y_0`, and the
//! target velocity `(y_1 − y_0)/(t_{k+1} − t_k)`; the loss is their mean-squared error over all
//! intervals at once. Sampling integrates `dy/dt = v` by explicit Euler from `t_0` to `t`: 200 steps
//! (by default) over the full range, proportionally fewer for a shorter span. The reference
//! integrates from the previous anchor's data; [`Surrogate::predict`] starts from first-anchor
//! samples, so it integrates from `t_0`. The reference's early stopping (patience 100) is replaced
//! by a fixed step count, which keeps fits deterministic and their cost bounded.

use ndarray::{concatenate, Array2, ArrayView2, Axis};
use rand::Rng;

use super::checks::{check_query, positive, positive_real, validate_anchors};
use super::coupling::{rows_by_group, Cloud, CouplingRule};
use super::net_fit::{build_net, draw_rows, mse_step, network_input, normalised_time};
use super::{Anchors, ConditionEncoding, Surrogate};
use crate::data::ConditionView;
use crate::device::rng;
use crate::error::Result;
use crate::nn::{Activation, Adam, AdamConfig, Mlp};

/// Settings of [`FlowMatching::fit`]; chain the setters on [`FlowMatchingSettings::default`].
#[derive(Debug, Clone, PartialEq)]
pub struct FlowMatchingSettings {
    /// Hidden widths of the velocity net (default `[64, 64, 64]`, as the reference).
    pub hidden: Vec<usize>,
    /// Hidden activation (default [`Activation::SiLU`], standing in for the reference's SELU).
    pub activation: Activation,
    /// Adam steps, each over one minibatch per interval (default 1500: about 500 epochs of a
    /// 400-sample anchor at batch 128, a few seconds on two cores for 3 anchors in 2-D).
    pub iterations: usize,
    /// Samples drawn from each anchor of an interval per step (default 128, as the reference).
    pub batch_size: usize,
    /// Adam learning rate (default 1e-3).
    pub learning_rate: f64,
    /// Euler steps over the full anchor range at sampling (default 200, as the reference).
    pub euler_steps: usize,
    /// Weight of continuous conditions in the minibatch coupling cost (default 1; ignored for labels).
    pub condition_weight: f32,
    /// Seed of the weights, the minibatches and the interpolation times (default 0).
    pub seed: u64,
}

impl Default for FlowMatchingSettings {
    fn default() -> Self {
        FlowMatchingSettings {
            hidden: vec![64, 64, 64],
            activation: Activation::SiLU,
            iterations: 1500,
            batch_size: 128,
            learning_rate: 1e-3,
            euler_steps: 200,
            condition_weight: 1.0,
            seed: 0,
        }
    }
}

super::net_fit::network_setters!(FlowMatchingSettings);

impl FlowMatchingSettings {
    /// Sets the Euler steps over the full anchor range.
    pub fn euler_steps(mut self, euler_steps: usize) -> Self {
        self.euler_steps = euler_steps;
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        positive("iterations", self.iterations)?;
        positive("batch_size", self.batch_size)?;
        positive("euler_steps", self.euler_steps)?;
        positive_real("learning_rate", self.learning_rate)
    }
}

/// A fitted conditional flow-matching surrogate; see the module docs.
#[derive(Debug, Clone)]
pub struct FlowMatching {
    net: Mlp,
    times: Vec<f32>,
    dim: usize,
    encoding: ConditionEncoding,
    euler_steps: usize,
    losses: Vec<f32>,
}

/// One training minibatch: network inputs `[y_s, x, τ]` and target velocities.
struct VelocityBatch {
    inputs: Array2<f32>,
    targets: Array2<f32>,
}

impl FlowMatching {
    /// Trains the velocity network on minibatch-OT pairs of every interval. Typed errors for
    /// inconsistent anchors or invalid settings; [`crate::Error::Diverged`] if the loss blows up.
    pub fn fit(anchors: &Anchors, settings: &FlowMatchingSettings) -> Result<Self> {
        validate_anchors(anchors)?;
        Self::fit_along(anchors, settings, &Straight)
    }

    /// Trains the velocity network on the curves `interpolant` draws between minibatch-OT pairs
    /// (the straight lines of [`FlowMatching::fit`], or MFM's learned interpolants). `anchors` must
    /// already have passed `validate_anchors`.
    pub(crate) fn fit_along(
        anchors: &Anchors,
        settings: &FlowMatchingSettings,
        interpolant: &impl Interpolant,
    ) -> Result<Self> {
        settings.validate()?;
        let rule = CouplingRule::new(anchors.encoding, settings.condition_weight)?;
        let dim = anchors.dim();
        let in_dim = dim + anchors.encoding.width() + 1;
        let mut net = build_net(in_dim, dim, &settings.hidden, settings.activation, settings.seed)?;
        let mut adam = Adam::new(AdamConfig::with_lr(settings.learning_rate))?;
        let mut draws = rng(settings.seed);
        let mut losses = Vec::with_capacity(settings.iterations);
        for step in 0..settings.iterations {
            let batch = velocity_batch(anchors, rule, interpolant, settings.batch_size, &mut draws)?;
            losses.push(mse_step(
                &mut net,
                &mut adam,
                &batch.inputs,
                &batch.targets,
                step,
            )?);
        }
        Ok(FlowMatching {
            net,
            times: anchors.times.clone(),
            dim,
            encoding: anchors.encoding,
            euler_steps: settings.euler_steps,
            losses,
        })
    }

    /// The minibatch loss of every training step.
    pub fn losses(&self) -> &[f32] {
        &self.losses
    }

    /// The trained velocity network `v(y, x, τ)` (velocity per unit of anchor time).
    pub fn network(&self) -> &Mlp {
        &self.net
    }

    /// Euler steps over the full anchor range.
    pub fn euler_steps(&self) -> usize {
        self.euler_steps
    }

    /// How conditions are encoded.
    pub fn encoding(&self) -> ConditionEncoding {
        self.encoding
    }

    /// The velocity `v(y, x, t)` at every row.
    fn velocity(&self, y: ArrayView2<'_, f32>, cond: ArrayView2<'_, f32>, t: f32) -> Result<Array2<f32>> {
        let tau = normalised_time(&self.times, t);
        self.net
            .forward_array(&network_input(y, cond, &vec![tau; y.nrows()]))
    }

    /// Euler steps for the span `[t_0, t]`: the full count over the whole range, at least one for
    /// any positive span.
    fn steps_to(&self, t: f32) -> usize {
        let fraction = normalised_time(&self.times, t);
        (self.euler_steps as f32 * fraction).ceil() as usize
    }
}

/// Minibatch-OT pairs of one interval `[t_k, t_{k+1}]`, each with its own fraction `s ∈ [0, 1)`
/// of the way along the interval: what every flow-matching variant trains on, whatever curve it
/// then draws between the two ends.
pub(crate) struct IntervalPairs {
    /// Interval index.
    pub k: usize,
    /// Start points (rows of anchor `k`).
    pub y0: Array2<f32>,
    /// Their OT partners at anchor `k + 1`.
    pub y1: Array2<f32>,
    /// The encoded conditions of the start points.
    pub cond: Array2<f32>,
    /// The fraction of the interval of every pair.
    pub s: Vec<f32>,
}

impl IntervalPairs {
    /// `τ` (normalised anchor time) of every pair.
    pub fn tau(&self, times: &[f32]) -> Vec<f32> {
        let (t0, dt) = (times[self.k], times[self.k + 1] - times[self.k]);
        self.s
            .iter()
            .map(|&s| normalised_time(times, t0 + s * dt))
            .collect()
    }

    /// `s` as a column broadcast to `[N, width]`.
    pub fn s_block(&self, width: usize) -> Array2<f32> {
        Array2::from_shape_fn((self.s.len(), width), |(i, _)| self.s[i])
    }
}

/// The curve a flow-matching surrogate regresses its velocity onto: for every coupled pair, the
/// point at its fraction `s` and the curve's velocity there per unit of anchor time.
pub(crate) trait Interpolant {
    /// `(y_s, dy/dt)` of every pair of `pairs`, with `times` the anchor times.
    fn point_and_velocity(&self, pairs: &IntervalPairs, times: &[f32]) -> Result<(Array2<f32>, Array2<f32>)>;
}

/// OT-CFM's straight line `y_s = (1 − s) y_0 + s y_1`, velocity `(y_1 − y_0)/(t_{k+1} − t_k)`.
pub(crate) struct Straight;

impl Interpolant for Straight {
    fn point_and_velocity(&self, pairs: &IntervalPairs, times: &[f32]) -> Result<(Array2<f32>, Array2<f32>)> {
        let dt = times[pairs.k + 1] - times[pairs.k];
        let s = pairs.s_block(pairs.y0.ncols());
        let y_s = &pairs.y0 * &(1.0 - &s) + &pairs.y1 * &s;
        Ok((y_s, (&pairs.y1 - &pairs.y0) / dt))
    }
}

/// Network inputs `[y_s, x, τ]` and target velocities of every interval, stacked.
fn velocity_batch(
    anchors: &Anchors,
    rule: CouplingRule,
    interpolant: &impl Interpolant,
    batch_size: usize,
    draws: &mut impl Rng,
) -> Result<VelocityBatch> {
    let mut inputs = Vec::with_capacity(anchors.len() - 1);
    let mut targets = Vec::with_capacity(anchors.len() - 1);
    for k in 0..anchors.len() - 1 {
        let pairs = coupled_pairs(anchors, k, rule, batch_size, draws)?;
        let (y_s, velocity) = interpolant.point_and_velocity(&pairs, &anchors.times)?;
        inputs.push(network_input(
            y_s.view(),
            pairs.cond.view(),
            &pairs.tau(&anchors.times),
        ));
        targets.push(velocity);
    }
    Ok(VelocityBatch {
        inputs: stack_rows(&inputs),
        targets: stack_rows(&targets),
    })
}

/// Blocks of equal width stacked row-wise.
pub(crate) fn stack_rows(blocks: &[Array2<f32>]) -> Array2<f32> {
    let views: Vec<_> = blocks.iter().map(|b| b.view()).collect();
    concatenate(Axis(0), &views).expect("blocks share their width")
}

/// Pairs for interval `k`: a minibatch of anchor `k`, one of anchor `k + 1` with the same class
/// counts, coupled by exact OT, each pair at its own random fraction `s ~ U(0, 1)`.
pub(crate) fn coupled_pairs(
    anchors: &Anchors,
    k: usize,
    rule: CouplingRule,
    batch_size: usize,
    draws: &mut impl Rng,
) -> Result<IntervalPairs> {
    let (from, to) = (Cloud::anchor(anchors, k), Cloud::anchor(anchors, k + 1));
    let from_rows = draw_rows(draws, from.y.nrows(), batch_size.min(from.y.nrows()));
    let to_rows = matching_draw(rule, from, &from_rows, to, draws)?;
    let (y0, x0) = (
        from.y.select(Axis(0), &from_rows),
        from.cond.select(Axis(0), &from_rows),
    );
    let (y1, x1) = (to.y.select(Axis(0), &to_rows), to.cond.select(Axis(0), &to_rows));
    let partner = rule.couple(
        Cloud {
            y: y0.view(),
            cond: x0.view(),
        },
        Cloud {
            y: y1.view(),
            cond: x1.view(),
        },
    )?;
    let y1 = y1.select(Axis(0), &partner);
    let s = (0..y0.nrows()).map(|_| draws.gen::<f32>()).collect();
    Ok(IntervalPairs {
        k,
        y0,
        y1,
        cond: x0,
        s,
    })
}

/// Rows of `to` with the same number per class as `from_rows` has in `from` (one class when
/// unlabelled), so every class is coupled as an equal-size assignment.
fn matching_draw(
    rule: CouplingRule,
    from: Cloud<'_>,
    from_rows: &[usize],
    to: Cloud<'_>,
    draws: &mut impl Rng,
) -> Result<Vec<usize>> {
    let from_groups = rule.groups(from.cond.select(Axis(0), from_rows).view());
    let to_classes = rows_by_group(&rule.groups(to.cond));
    let mut rows = Vec::with_capacity(from_rows.len());
    for (group, members) in rows_by_group(&from_groups) {
        let candidates = to_classes.get(&group).ok_or_else(|| {
            crate::Error::InvalidArgument(format!(
                "class {group} has samples at one anchor but none at the next"
            ))
        })?;
        let picked = draw_rows(draws, candidates.len(), members.len());
        rows.extend(picked.into_iter().map(|i| candidates[i]));
    }
    Ok(rows)
}

impl Surrogate for FlowMatching {
    fn name(&self) -> String {
        "CFM".into()
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn anchor_times(&self) -> &[f32] {
        &self.times
    }

    /// Integrates the learned velocity from `t_0` to `t` by Euler steps, starting at `start`.
    /// Errors: [`crate::Error::OutOfRange`] for `t` outside the anchors, [`crate::Error::Shape`] /
    /// [`crate::Error::NonFinite`] / [`crate::Error::Empty`] for a bad `start`,
    /// [`crate::Error::InvalidArgument`] for conditions of the wrong kind.
    fn predict(&self, t: f32, start: ArrayView2<'_, f32>, cond: &ConditionView<'_>) -> Result<Array2<f32>> {
        let query = check_query(&self.times, self.dim, self.encoding, t, start, cond)?;
        let steps = self.steps_to(t);
        let mut y = start.to_owned();
        if steps == 0 {
            return Ok(y);
        }
        let h = (t - self.times[0]) / steps as f32;
        for i in 0..steps {
            let v = self.velocity(y.view(), query.cond.view(), self.times[0] + i as f32 * h)?;
            y = y + v * h;
        }
        Ok(y)
    }
}

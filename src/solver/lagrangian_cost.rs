//! The Lagrangian cost c(x, y) = action of the amortised spline path from x to y (NLOT §3.3).
//!
//! The path between x and y is the spline whose parameters an amortiser network φ(x, y) predicts;
//! c(x, y) is its discrete action. As in the reference, the prediction is treated as a constant
//! inside the cost (∇_y c flows through the end point and the Lagrangian along the path only), and
//! φ learns on the side: a pre-fit on pairs of the two measures, one online step per dual step on
//! the c-transform pairs, and a refit on (x, T(x)) every few iterations.

use super::cost::{check_pairs, MapFn, TransportCost};
use crate::data::Measure;
use crate::device::{Device, SeededRng};
use crate::error::Result;
use crate::lagrangian::{Lagrangian, Metric, Potential};
use crate::path::{PathPairs, SplineAmortiser};
use ndarray::{concatenate, Array1, Array2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// When the amortised paths learn; defaults are the reference's (`train_ot.yaml`).
#[derive(Debug, Clone, PartialEq)]
pub struct AmortiserSchedule {
    /// Pre-fit steps before training (early stop applies). Reference: 5001.
    pub prefit_steps: usize,
    /// Pairs per pre-fit step are `2 × batch` mixture points, as the reference draws them.
    pub batch: usize,
    /// One step on the c-transform pairs after every dual step. Reference: yes.
    pub online: bool,
    /// Refit period in iterations (0: never). Reference: 25.
    pub refit_every: usize,
    /// Steps of each refit (early stop applies). Reference: 5001.
    pub refit_steps: usize,
    /// No refits from this iteration on (reference: iterations − 1000).
    pub refit_until: usize,
}

impl Default for AmortiserSchedule {
    fn default() -> Self {
        AmortiserSchedule {
            prefit_steps: 5001,
            batch: 1024,
            online: true,
            refit_every: 25,
            refit_steps: 5001,
            refit_until: 9001,
        }
    }
}

type StepHook<M, P> = Box<dyn FnMut(usize, &mut Lagrangian<M, P>) -> Result<()> + Send>;

/// c(x, y) = action of the amortised spline path under a Lagrangian; see the module docs.
pub struct LagrangianCost<M, P> {
    /// The Lagrangian whose action is the cost.
    pub lagrangian: Lagrangian<M, P>,
    /// The spline amortiser φ(x, y) that predicts paths.
    pub amortiser: SplineAmortiser<Device>,
    /// When φ learns.
    pub schedule: AmortiserSchedule,
    on_step: Option<StepHook<M, P>>,
    source: Option<Measure>,
    rng: SeededRng,
}

impl<M: Metric<Device>, P: Potential<Device>> LagrangianCost<M, P> {
    /// A Lagrangian cost with the reference's amortiser schedule.
    pub fn new(lagrangian: Lagrangian<M, P>, amortiser: SplineAmortiser<Device>) -> Self {
        LagrangianCost {
            lagrangian,
            amortiser,
            schedule: AmortiserSchedule::default(),
            on_step: None,
            source: None,
            rng: SeededRng::seed_from_u64(0),
        }
    }

    /// Replaces the amortiser schedule.
    pub fn schedule(mut self, schedule: AmortiserSchedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// A hook run at the start of every observed iteration that may change the Lagrangian (the
    /// NLOT obstacle annealing of strength and temperature, say).
    pub fn on_step(
        mut self,
        hook: impl FnMut(usize, &mut Lagrangian<M, P>) -> Result<()> + Send + 'static,
    ) -> Self {
        self.on_step = Some(Box::new(hook));
        self
    }

    /// Paths' spline parameters predicted for paired rows.
    pub fn predict(&self, x: &Array2<f32>, y: &Array2<f32>) -> Result<Array2<f32>> {
        self.amortiser
            .predict(&PathPairs::new(x.to_owned(), y.to_owned()))
    }

    fn fit_on(
        &mut self,
        steps: usize,
        mut pairs: impl FnMut(&mut SeededRng) -> Result<PathPairs>,
    ) -> Result<()> {
        let LagrangianCost {
            lagrangian,
            amortiser,
            rng,
            ..
        } = self;
        amortiser.fit_with(lagrangian, steps, |_| pairs(rng))?;
        Ok(())
    }
}

/// The reference's pre-fit pairs: source and target batches concatenated, permuted twice
/// independently, giving (mixture point, mixture point) pairs.
fn mixture_pairs(rng: &mut SeededRng, source: &Measure, target: &Measure, batch: usize) -> Result<PathPairs> {
    let pool = concatenate(
        Axis(0),
        &[
            source.sample(rng, batch)?.view(),
            target.sample(rng, batch)?.view(),
        ],
    )
    .map_err(|e| crate::Error::shape("pre-fit pairs", "equal widths", e.to_string()))?;
    let mut order: Vec<usize> = (0..pool.nrows()).collect();
    order.shuffle(rng);
    let x = pool.select(Axis(0), &order);
    order.shuffle(rng);
    let y = pool.select(Axis(0), &order);
    Ok(PathPairs::new(x, y))
}

impl<M: Metric<Device>, P: Potential<Device>> TransportCost for LagrangianCost<M, P> {
    fn dim(&self) -> usize {
        self.amortiser.action().dim()
    }

    fn name(&self) -> String {
        format!(
            "action of {} − {}",
            self.lagrangian.metric.name(),
            self.lagrangian.potential.name()
        )
    }

    fn cost(&self, x: &Array2<f32>, y: &Array2<f32>) -> Result<Array1<f32>> {
        check_pairs("LagrangianCost::cost", x, y, self.dim())?;
        let params = self.predict(x, y)?;
        self.amortiser
            .action()
            .cost_array(&self.lagrangian, x, y, &params, None)
    }

    fn cost_and_grad_y(&self, x: &Array2<f32>, y: &Array2<f32>) -> Result<(Array1<f32>, Array2<f32>)> {
        check_pairs("LagrangianCost::cost_and_grad_y", x, y, self.dim())?;
        // The predicted parameters enter as constants (the reference's stop_gradient).
        let params = self.predict(x, y)?;
        let grads = self
            .amortiser
            .action()
            .cost_and_gradients(&self.lagrangian, x, y, &params, None)?;
        Ok((grads.costs, grads.d_y))
    }

    fn prepare(&mut self, rng: &mut SeededRng, source: &Measure, target: &Measure) -> Result<()> {
        use rand::Rng;
        self.rng = SeededRng::seed_from_u64(rng.gen());
        self.source = Some(source.clone());
        if let Some(hook) = self.on_step.as_mut() {
            hook(0, &mut self.lagrangian)?;
        }
        let batch = self.schedule.batch;
        let (source, target) = (source.clone(), target.clone());
        self.fit_on(self.schedule.prefit_steps, |rng| {
            mixture_pairs(rng, &source, &target, batch)
        })
    }

    fn observe(&mut self, step: usize, x: &Array2<f32>, y: &Array2<f32>, map: &MapFn<'_>) -> Result<()> {
        if let Some(hook) = self.on_step.as_mut() {
            hook(step + 1, &mut self.lagrangian)?;
        }
        if self.schedule.online {
            self.amortiser
                .step(&self.lagrangian, &PathPairs::new(x.to_owned(), y.to_owned()))?;
        }
        let s = &self.schedule;
        if s.refit_every > 0 && step % s.refit_every == 0 && step < s.refit_until {
            if let Some(source) = self.source.clone() {
                let batch = self.schedule.batch;
                self.fit_on(self.schedule.refit_steps, |rng| {
                    let x = source.sample(rng, batch)?;
                    let y = map(&x)?;
                    Ok(PathPairs::new(x, y))
                })?;
            }
        }
        Ok(())
    }

    fn paths(&self, x: &Array2<f32>, y: &Array2<f32>, points: usize) -> Result<Vec<Array2<f32>>> {
        check_pairs("LagrangianCost::paths", x, y, self.dim())?;
        let params = self.predict(x, y)?;
        let path = self.amortiser.action().path();
        let s: Vec<f64> = (0..points.max(2))
            .map(|k| k as f64 / (points.max(2) - 1) as f64)
            .collect();
        let batch = path.evaluate_batch(
            x.view(),
            y.view(),
            params.view(),
            &s,
            crate::path::Order::Position,
        )?;
        Ok(batch.outer_iter().map(|p| p.to_owned()).collect())
    }
}

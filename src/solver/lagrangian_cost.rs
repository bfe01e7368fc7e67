//! The Lagrangian cost c(x, y) = action of the amortised spline path from x to y (NLOT §3.3).
//!
//! The path between x and y is the spline whose parameters an amortiser network φ(x, y) predicts;
//! c(x, y) is its discrete action. As in the reference, the prediction is treated as a constant
//! inside the cost (∇_y c flows through the end point and the Lagrangian along the path only), and
//! φ learns on the side: a pre-fit on pairs of the two measures, one online step per dual step on
//! the c-transform pairs, and a refit on (x, T(x)) every few iterations.
//!
//! Inside one c-transform solve the paths may also be held fixed ([`PathRefresh`]): the amortiser
//! (4 → 1024 → 1024 → 56 at the paper's size) costs about ten times the action and its gradient, and
//! the reference re-runs it at every one of the solve's 50–100 batched evaluations.

use super::cost::{check_pairs, select_rows, MapFn, SolveCost, TransportCost};
use crate::data::Measure;
use crate::device::{Device, SeededRng};
use crate::error::{Error, Result};
use crate::lagrangian::{FrozenGivensMetric, GivensMetric, Lagrangian, Metric, Potential};
use crate::path::{PathPairs, SplineAmortiser};
use ndarray::{concatenate, Array1, Array2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::path::Path;

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

/// How often a c-transform solve re-predicts the spline parameters φ(x, y) of the rows it evaluates.
///
/// The prediction is a constant inside the cost either way (the reference's stop-gradient), and the
/// parameters are residuals about the chord, γ(s) = (1 − s)x + s y + r(s), so fixed parameters still
/// give a path from x to the moving y whose action and ∇_y are exact for that path. Holding them
/// fixed changes only which path the L-BFGS prices: the one φ predicted at the warm start y⁰ = T(x)
/// (clipped into the box) instead of the one φ would predict at the current y. At the first
/// evaluation every mode predicts at y⁰, so values and gradients there are identical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PathRefresh {
    /// Re-predict at every evaluation, as the reference does (and the line search then sees a
    /// value whose path moves with y, but a gradient that ignores dφ/dy; specs/nlot.md §2).
    ///
    /// The default, because the builders' defaults reproduce the paper and the cached modes'
    /// accuracy has only been measured on the quick box task (below). Choose
    /// [`PathRefresh::OncePerSolve`] for speed.
    #[default]
    EveryEvaluation,
    /// Predict once per solve, at each row's first evaluation, and reuse those parameters for the
    /// rest of the solve; the value and gradient are then those of one fixed path per row, so the
    /// line search sees a consistent objective.
    ///
    /// The fast mode: with NLOT's default (reference) line search a paper-size iteration takes
    /// 0.454 s against 1.692 s under `EveryEvaluation` on 2 cores (`benches/nlot_iteration.rs`;
    /// 20.3× and 5.4× the reference's 9.2 s). The price is accuracy when T(x) is a poor warm
    /// start. On a briefly trained box problem (`tests/solver_lagrangian_cost.rs`, unclipped solves
    /// of 200 points, the paper's Armijo search) the cached c-transform, priced with re-predicted
    /// paths, made 56 % of the reference's progress from the warm start
    /// (0.14508 against 0.14004 from 0.15160); on the same problem trained from seeds 4–8 it made 84 %,
    /// ended worse than its start (−8.81 against −9.96 from −9.77), 49 %, 75 %, and ran away
    /// (5821 against −104.9). Earlier, on the quick box task, the final W2 × 100 over seeds 0–4 was
    /// 5.3, 4.0, 6.0, 8.9, 223 against the reference's 3.6, 37, 3.1, 2.7, 185
    /// (`examples/nlot_path_refresh.rs`, before the amortiser's OpenBLAS path changed the rounding): a
    /// worse median, a smaller spread. The fixed paths can mislead the solve, so this mode is opt-in.
    OncePerSolve,
    /// Hold the paths fixed per solve as [`PathRefresh::OncePerSolve`] does, then re-predict them at
    /// the solution and solve again from there with a fresh L-BFGS, k more times (k + 1 predictions
    /// and solves in all, each with the full iteration budget). Every solve prices a consistent
    /// objective, and the last one's paths are predicted near its answer, as the reference's are;
    /// see [`TransportCost::solve_restarts`]. Measured on the test problem: one restart takes the
    /// cached solve from 0.14508 to 0.14148 (reference 0.14004) at about twice the iterations (an
    /// earlier paper-size bench: 0.49 s per iteration); on seeds 4–8 it improved on the cached solve
    /// three times and made the two bad cases worse. Earlier, the quick box task (seed 0) ended at
    /// W2 × 100 59 (best after annealing 3.5), one noisy seed that neither confirms nor rules it out.
    Restarts(std::num::NonZeroUsize),
    /// Re-predict every k-th batched evaluation of a solve (the 1st, (k+1)-th, …), holding the
    /// parameters fixed in between; `Every(1)` is [`PathRefresh::EveryEvaluation`]. Build with
    /// [`PathRefresh::every`]. Measured: no clear gain. A refresh inside a line search changes the
    /// objective between trials and the L-BFGS stops early (4.6–7.1 iterations); on the test problem
    /// as trained before the OpenBLAS path changed the rounding, the objective was 0.1098 / 0.1109 /
    /// 0.1125 for k = 2 / 4 / 8, against 0.1109 once per solve and 0.1083 at every evaluation; the
    /// quick box task (seed 0) with k = 10 ended at W2 × 100 95.
    Every(std::num::NonZeroUsize),
}

impl PathRefresh {
    /// Re-predict every `k` evaluations; `k = 0` is an error.
    pub fn every(k: usize) -> Result<Self> {
        std::num::NonZeroUsize::new(k)
            .map(PathRefresh::Every)
            .ok_or_else(|| Error::InvalidArgument("PathRefresh::every(0): the period must be ≥ 1".into()))
    }

    /// `k` restarts after the first solve; `k = 0` is an error (that is [`PathRefresh::OncePerSolve`]).
    pub fn restarts(k: usize) -> Result<Self> {
        std::num::NonZeroUsize::new(k)
            .map(PathRefresh::Restarts)
            .ok_or_else(|| Error::InvalidArgument("PathRefresh::restarts(0): that is OncePerSolve".into()))
    }

    /// Whether evaluation number `evaluation` (0 for a solve's first) re-predicts every row.
    fn refreshes_at(self, evaluation: usize) -> bool {
        match self {
            PathRefresh::EveryEvaluation => true,
            PathRefresh::OncePerSolve | PathRefresh::Restarts(_) => false,
            PathRefresh::Every(k) => evaluation % k.get() == 0,
        }
    }
}

/// The spline parameters of one c-transform solve, one row per row of the solve's batch. Rows are
/// filled at their first evaluation and re-predicted as the [`PathRefresh`] says; the L-BFGS's
/// active set means an evaluation sees a subset of the rows, indexed by `active`.
struct PathCache {
    refresh: PathRefresh,
    rows: usize,
    params: Option<Array2<f32>>,
    filled: Vec<bool>,
    evaluations: usize,
}

impl PathCache {
    fn new(refresh: PathRefresh, rows: usize) -> Self {
        PathCache {
            refresh,
            rows,
            params: None,
            filled: vec![false; rows],
            evaluations: 0,
        }
    }

    /// The parameters of the rows `active` at their points `y`, `[active.len(), P]`; `predict(k)`
    /// predicts for the positions `k` (into `active`) that need fresh parameters, `None` meaning all.
    fn params(
        &mut self,
        active: &[usize],
        mut predict: impl FnMut(Option<&[usize]>) -> Result<Array2<f32>>,
    ) -> Result<Array2<f32>> {
        if let Some(&i) = active.iter().find(|&&i| i >= self.rows) {
            return Err(Error::InvalidArgument(format!(
                "path cache: row {i} of a solve over {} rows",
                self.rows
            )));
        }
        let all = self.refresh.refreshes_at(self.evaluations);
        self.evaluations += 1;
        let stale: Vec<usize> = (0..active.len())
            .filter(|&k| all || !self.filled[active[k]])
            .collect();
        if stale.is_empty() {
            // Invariant: a row is only marked filled once `params` holds it.
            let params = self
                .params
                .as_ref()
                .ok_or_else(|| Error::InvalidArgument("path cache: no parameters for filled rows".into()))?;
            return Ok(params.select(Axis(0), active));
        }
        let whole = stale.len() == active.len();
        let fresh = predict(if whole { None } else { Some(&stale) })?;
        let width = fresh.ncols();
        let cache = self
            .params
            .get_or_insert_with(|| Array2::zeros((self.rows, width)));
        if cache.ncols() != width || fresh.nrows() != stale.len() {
            return Err(Error::shape(
                "path cache",
                format!("[{}, {}]", stale.len(), cache.ncols()),
                format!("{:?}", fresh.dim()),
            ));
        }
        for (row, &k) in fresh.outer_iter().zip(&stale) {
            cache.row_mut(active[k]).assign(&row);
            self.filled[active[k]] = true;
        }
        // When every row was re-predicted the fresh block already is the answer (and is exactly
        // what the reference computes).
        Ok(if whole {
            fresh
        } else {
            cache.select(Axis(0), active)
        })
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
    /// How often a c-transform solve re-predicts the paths (default [`PathRefresh::EveryEvaluation`]).
    pub path_refresh: PathRefresh,
    on_step: Option<StepHook<M, P>>,
    /// The step last passed to the hook (0 after `prepare`), so a checkpoint can restore the
    /// Lagrangian as training left it.
    hook_step: usize,
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
            path_refresh: PathRefresh::default(),
            on_step: None,
            hook_step: 0,
            source: None,
            rng: SeededRng::seed_from_u64(0),
        }
    }

    /// Replaces the amortiser schedule.
    pub fn schedule(mut self, schedule: AmortiserSchedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// How often a c-transform solve re-predicts the paths; [`PathRefresh::EveryEvaluation`] is the
    /// reference's behaviour.
    pub fn path_refresh(mut self, refresh: PathRefresh) -> Self {
        self.path_refresh = refresh;
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

    /// Paths' spline parameters predicted for paired rows, through a frozen host copy of the amortiser
    /// ([`SplineAmortiser::frozen`](crate::path::SplineAmortiser::frozen)), the same prediction a
    /// c-transform solve makes, so that a cost priced here and inside a solve agree exactly.
    pub fn predict(&self, x: &Array2<f32>, y: &Array2<f32>) -> Result<Array2<f32>> {
        self.amortiser
            .frozen()
            .predict(&PathPairs::new(x.to_owned(), y.to_owned()))
    }

    /// Runs the step hook, if any, at `step` and records the step for checkpoints.
    fn run_hook(&mut self, step: usize) -> Result<()> {
        self.hook_step = step;
        match self.on_step.as_mut() {
            Some(hook) => hook(step, &mut self.lagrangian),
            None => Ok(()),
        }
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

impl<P: Potential<Device> + Clone> LagrangianCost<GivensMetric, P> {
    /// A copy of this cost whose learned metric is frozen on the host ([`FrozenGivensMetric`]: same
    /// value and first derivatives in points and velocities, many times cheaper, no gradient for the
    /// metric's weights), for c-transforms, which move only points. It carries the amortiser, the
    /// schedule and the path refresh, not the step hook or the pre-fit source.
    pub fn with_frozen_metric(&self) -> LagrangianCost<FrozenGivensMetric, P> {
        LagrangianCost {
            lagrangian: Lagrangian::new(self.lagrangian.metric.frozen(), self.lagrangian.potential.clone()),
            amortiser: self.amortiser.clone(),
            schedule: self.schedule.clone(),
            path_refresh: self.path_refresh,
            on_step: None,
            hook_step: self.hook_step,
            source: None,
            rng: self.rng.clone(),
        }
    }
}

/// Checkpoint files of a [`LagrangianCost`] inside a model's folder.
const AMORTISER_FILE: &str = "amortiser.npz";
const STATE_FILE: &str = "lagrangian_cost.json";

/// What `STATE_FILE` holds besides the amortiser: the step the hook last saw.
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedState {
    hook_step: usize,
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

    fn solve_cost<'a>(&'a self, x: &'a Array2<f32>) -> Result<SolveCost<'a>> {
        if x.ncols() != self.dim() {
            return Err(Error::shape(
                "LagrangianCost::solve_cost",
                format!("x [B, {}]", self.dim()),
                format!("{:?}", x.dim()),
            ));
        }
        // The amortiser's weights are fixed for the solve: one host copy predicts every evaluation's
        // paths (the reference's stop_gradient: they enter the action as constants).
        let amortiser = self.amortiser.frozen();
        let predict = move |x: &Array2<f32>, y: &Array2<f32>| {
            amortiser.predict(&PathPairs::new(x.to_owned(), y.to_owned()))
        };
        // Re-predicting every evaluation holds nothing across them, so it skips the cache's copies.
        let mut cache = (self.path_refresh != PathRefresh::EveryEvaluation)
            .then(|| PathCache::new(self.path_refresh, x.nrows()));
        Ok(Box::new(move |active: &[usize], y: &Array2<f32>| {
            let xa = select_rows("LagrangianCost::solve_cost", x, active)?;
            check_pairs("LagrangianCost::solve_cost", &xa, y, self.dim())?;
            // With a cache the parameters may have been predicted at an earlier y of this solve.
            let params = match cache.as_mut() {
                None => predict(&xa, y)?,
                Some(cache) => cache.params(active, |stale| match stale {
                    None => predict(&xa, y),
                    Some(k) => predict(&xa.select(Axis(0), k), &y.select(Axis(0), k)),
                })?,
            };
            let grads =
                self.amortiser
                    .action()
                    .cost_and_gradients(&self.lagrangian, &xa, y, &params, None)?;
            Ok((grads.costs, grads.d_y))
        }))
    }

    fn solve_restarts(&self) -> usize {
        match self.path_refresh {
            PathRefresh::Restarts(k) => k.get(),
            _ => 0,
        }
    }

    fn prepare(&mut self, rng: &mut SeededRng, source: &Measure, target: &Measure) -> Result<()> {
        use rand::Rng;
        self.rng = SeededRng::seed_from_u64(rng.gen());
        self.source = Some(source.clone());
        self.run_hook(0)?;
        let batch = self.schedule.batch;
        let (source, target) = (source.clone(), target.clone());
        self.fit_on(self.schedule.prefit_steps, |rng| {
            mixture_pairs(rng, &source, &target, batch)
        })
    }

    fn observe(&mut self, step: usize, x: &Array2<f32>, y: &Array2<f32>, map: &MapFn<'_>) -> Result<()> {
        self.run_hook(step + 1)?;
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

    /// Writes the amortiser's weights (`amortiser.npz`) and the step the Lagrangian's hook last saw
    /// (`lagrangian_cost.json`). A learned metric is not part of it (metric learning keeps its own).
    fn save_state(&self, dir: &Path) -> Result<()> {
        self.amortiser.save(dir.join(AMORTISER_FILE))?;
        let state = SavedState {
            hook_step: self.hook_step,
        };
        crate::io::write_checkpoint_json(&dir.join(STATE_FILE), &state)
    }

    /// Loads the amortiser's weights and replays the hook at the saved step (the obstacle's
    /// annealed strength and temperature, for NLOT), so the cost prices paths as at the end of
    /// training.
    fn load_state(&mut self, dir: &Path) -> Result<()> {
        let state: SavedState = crate::io::read_checkpoint_json(&dir.join(STATE_FILE))?;
        self.amortiser.load(dir.join(AMORTISER_FILE))?;
        self.run_hook(state.hook_step)
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

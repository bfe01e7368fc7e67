//! Entropy-regularised optimal transport (Sinkhorn) and the debiased Sinkhorn divergence.
//!
//! Exact OT is cubic; Sinkhorn gives a smooth, cheaper estimate whose debiased divergence tends
//! to the exact cost as the regularisation `ε → 0`. The iterations run on dual potentials in the
//! log domain, so small `ε` neither underflows nor overflows.

use super::{
    checked_pair, exp_f64, log_sum_exp_of_scaled_differences, pairwise_cost, sum_exp_of_scaled_differences,
    worth_parallel, GroundCost,
};
use crate::error::{Error, Result};
use ndarray::{Array1, Array2, Zip};

/// Settings of [`sinkhorn`].
#[derive(Debug, Clone, PartialEq)]
pub struct SinkhornConfig {
    /// Entropic regularisation `ε > 0`, in the units of the ground cost.
    pub epsilon: f64,
    /// Maximum number of (f, g) update pairs, summed over all ε-scaling stages.
    pub max_iters: usize,
    /// Stop when the L1 error of the column marginal falls below this (rows are exact after each
    /// update pair). Marginals converge slowly at small ε (thousands of iterations at ε = 1e-3 on
    /// unit-scale data) while the cost settles much sooner; see [`SinkhornOutput::converged`].
    pub tol: f64,
    /// The ground cost.
    pub cost: GroundCost,
    /// Anneal ε geometrically (halving) from the largest cost down to `epsilon`, warm-starting the
    /// potentials. Much faster at small ε; same fixed point.
    pub epsilon_scaling: bool,
}

impl Default for SinkhornConfig {
    fn default() -> Self {
        SinkhornConfig {
            epsilon: 1e-2,
            max_iters: 10_000,
            tol: 1e-6,
            cost: GroundCost::SqEuclidean,
            epsilon_scaling: true,
        }
    }
}

/// The result of [`sinkhorn`].
#[derive(Debug, Clone)]
pub struct SinkhornOutput {
    /// Entropic OT value `OT_ε = <f, a> + <g, b>` (dual objective; equals
    /// `<P, C> + ε KL(P | a⊗b)` at convergence).
    pub cost: f64,
    /// Transport part `<P, C>` of the entropic plan.
    pub transport_cost: f64,
    /// Dual potential on the first cloud `[N]`.
    pub f: Array1<f64>,
    /// Dual potential on the second cloud `[M]`.
    pub g: Array1<f64>,
    /// Entropic plan `P_ij = a_i b_j exp((f_i + g_j - C_ij) / ε)`, `[N, M]`.
    pub plan: Array2<f64>,
    /// Update pairs used (all stages).
    pub iterations: usize,
    /// Whether the final stage reached `tol` within `max_iters`.
    pub converged: bool,
}

/// Log-domain Sinkhorn between the uniform measures on two point clouds `[N, D]`, `[M, D]`.
///
/// # Errors
/// [`Error::Empty`], [`Error::NonFinite`], [`Error::Shape`] for the clouds;
/// [`Error::InvalidArgument`] for `epsilon <= 0`, `max_iters == 0` or `tol <= 0`.
///
/// # Example
/// ```
/// use lagrangian_ot::metrics::{sinkhorn, SinkhornConfig};
/// use ndarray::array;
/// let x = array![[0.0f32, 0.0], [1.0, 0.0]];
/// let y = array![[0.0f32, 1.0], [1.0, 1.0]];
/// let out = sinkhorn(&x, &y, &SinkhornConfig { epsilon: 1e-3, ..Default::default() })?;
/// assert!(out.converged);
/// assert!((out.transport_cost - 1.0).abs() < 1e-6);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn sinkhorn(x: &Array2<f32>, y: &Array2<f32>, config: &SinkhornConfig) -> Result<SinkhornOutput> {
    validate_config(config)?;
    let (x, y) = checked_pair("sinkhorn", x, y)?;
    let cost = pairwise_cost(&x, &y, config.cost);
    Ok(solve_log_sinkhorn(&cost, config, Coupling::Cross))
}

/// Debiased Sinkhorn divergence `S_ε = OT_ε(x, y) − ½ OT_ε(x, x) − ½ OT_ε(y, y)` with the
/// squared-Euclidean cost and default iteration settings.
///
/// Same units as [`exact_ot`](super::exact_ot)`(.., SqEuclidean).cost` (no factor ½ on the
/// cost), to which it converges as `ε → 0`.
///
/// # Errors
/// As [`sinkhorn`].
///
/// # Example
/// ```
/// use lagrangian_ot::metrics::sinkhorn_divergence;
/// use ndarray::array;
/// let x = array![[0.0f32, 0.0], [1.0, 0.0]];
/// assert!(sinkhorn_divergence(&x, &x, 0.1)?.abs() < 1e-9);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn sinkhorn_divergence(x: &Array2<f32>, y: &Array2<f32>, epsilon: f64) -> Result<f64> {
    let config = SinkhornConfig {
        epsilon,
        ..Default::default()
    };
    sinkhorn_divergence_with(x, y, &config)
}

/// [`sinkhorn_divergence`] with explicit settings (ground cost, iteration budget, tolerance), for
/// large clouds at small ε where the default budget would take minutes.
///
/// # Errors
/// As [`sinkhorn`].
pub fn sinkhorn_divergence_with(x: &Array2<f32>, y: &Array2<f32>, config: &SinkhornConfig) -> Result<f64> {
    validate_config(config)?;
    let (x, y) = checked_pair("sinkhorn_divergence", x, y)?;
    let entropic = |p: &Array2<f64>, q: &Array2<f64>, coupling| {
        solve_log_sinkhorn(&pairwise_cost(p, q, config.cost), config, coupling).cost
    };
    let cross = entropic(&x, &y, Coupling::Cross);
    let self_x = entropic(&x, &x, Coupling::SelfTransport);
    let self_y = entropic(&y, &y, Coupling::SelfTransport);
    Ok(cross - 0.5 * (self_x + self_y))
}

fn validate_config(config: &SinkhornConfig) -> Result<()> {
    if !(config.epsilon.is_finite() && config.epsilon > 0.0) {
        return Err(Error::InvalidArgument(format!(
            "sinkhorn: epsilon must be positive and finite, got {}",
            config.epsilon
        )));
    }
    if config.max_iters == 0 {
        return Err(Error::InvalidArgument(
            "sinkhorn: max_iters must be at least 1".into(),
        ));
    }
    if !(config.tol.is_finite() && config.tol > 0.0) {
        return Err(Error::InvalidArgument(format!(
            "sinkhorn: tol must be positive and finite, got {}",
            config.tol
        )));
    }
    Ok(())
}

/// Iterations allowed per intermediate ε-scaling stage; only the final stage must converge.
const ITERS_PER_SCALING_STAGE: usize = 50;

/// The marginal error costs as much as an update, so it is measured only every few updates.
const ERROR_CHECK_EVERY: usize = 5;

/// Which iteration to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coupling {
    /// Two different clouds: alternate the f and g updates.
    Cross,
    /// A cloud with itself (symmetric cost, equal weights): the optimum has `f = g`, and the
    /// averaged update `f ← ½(f + T(f))` converges far faster than alternating updates, which
    /// oscillate here.
    SelfTransport,
}

fn solve_log_sinkhorn(cost: &Array2<f64>, config: &SinkhornConfig, coupling: Coupling) -> SinkhornOutput {
    let (n, m) = cost.dim();
    let cost_t = match coupling {
        Coupling::Cross => cost.t().as_standard_layout().into_owned(),
        Coupling::SelfTransport => cost.clone(),
    };
    let log_a = -(n as f64).ln();
    let log_b = -(m as f64).ln();
    let mut f = Array1::<f64>::zeros(n);
    let mut g = Array1::<f64>::zeros(m);

    let max_cost = cost.iter().copied().fold(0.0f64, f64::max);
    let mut stages = vec![config.epsilon];
    if config.epsilon_scaling {
        let mut eps = config.epsilon;
        while eps < max_cost {
            eps *= 2.0;
            stages.push(eps);
        }
        stages.reverse();
    }

    let mut iterations = 0;
    let mut converged = false;
    let last_stage = stages.len() - 1;
    for (stage, &eps) in stages.iter().enumerate() {
        let stage_budget = if stage == last_stage {
            config.max_iters.saturating_sub(iterations).max(1)
        } else {
            ITERS_PER_SCALING_STAGE.min(config.max_iters)
        };
        converged = false;
        for _ in 0..stage_budget {
            match coupling {
                Coupling::Cross => {
                    soft_c_transform(&cost_t, &f, log_a, eps, &mut g);
                    soft_c_transform(cost, &g, log_b, eps, &mut f);
                }
                Coupling::SelfTransport => {
                    soft_c_transform(cost, &f, log_b, eps, &mut g);
                    f = (&f + &g) * 0.5;
                    g.assign(&f);
                }
            }
            iterations += 1;
            if iterations % ERROR_CHECK_EVERY != 0 && iterations < config.max_iters {
                continue;
            }
            // After a cross update rows are exact, so measure the columns (by symmetry, the same as
            // the rows for self-transport).
            let f_slice = f.as_slice().expect("potentials are contiguous");
            let col_error: f64 = cost_t
                .rows()
                .into_iter()
                .zip(g.iter())
                .map(|(col, &gj)| {
                    let col = col.as_slice().expect("cost rows are contiguous");
                    let offset = log_a + log_b + gj / eps;
                    let mass = sum_exp_of_scaled_differences(f_slice, col, 1.0 / eps, offset);
                    (mass - 1.0 / m as f64).abs()
                })
                .sum();
            if col_error < config.tol {
                converged = true;
                break;
            }
        }
    }

    let eps = config.epsilon;
    let mut plan = cost.clone();
    plan.indexed_iter_mut()
        .for_each(|((i, j), p)| *p = exp_f64(log_a + log_b + (f[i] + g[j] - *p) / eps));
    let transport_cost = (&plan * cost).sum();
    let dual = f.sum() / n as f64 + g.sum() / m as f64;
    SinkhornOutput {
        cost: dual,
        transport_cost,
        f,
        g,
        plan,
        iterations,
        converged,
    }
}

/// `out_i = -ε log Σ_j exp(log w + (h_j - C_ij) / ε)`: the potential on the rows of `cost` given
/// the potential `h` on its columns, whose uniform weights have log `log_w`.
fn soft_c_transform(cost: &Array2<f64>, h: &Array1<f64>, log_w: f64, eps: f64, out: &mut Array1<f64>) {
    let h = h.as_slice().expect("potentials are contiguous");
    let inverse_eps = 1.0 / eps;
    let update = |row: ndarray::ArrayView1<f64>, out_i: &mut f64| {
        let row = row.as_slice().expect("cost rows are contiguous");
        *out_i = -eps * (log_w + log_sum_exp_of_scaled_differences(h, row, inverse_eps));
    };
    let rows = Zip::from(cost.rows()).and(out);
    if worth_parallel(cost.nrows(), cost.ncols(), 8) {
        rows.par_for_each(update);
    } else {
        rows.for_each(update);
    }
}

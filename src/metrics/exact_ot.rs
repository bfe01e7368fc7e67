//! Exact (unregularised) discrete optimal transport.
//!
//! The reference numbers of the papers are exact OT costs between sample clouds, so this module
//! solves the linear program exactly rather than approximately: equal-size uniform clouds are an
//! assignment problem (shortest augmenting paths, `O(n³)`), anything else a transportation problem
//! solved by successive shortest paths with node potentials.

use super::{checked_pair, pairwise_cost, squared_distance, GroundCost};
use crate::error::{Error, Result};
use ndarray::{Array1, Array2};

/// The optimal transport between two uniformly weighted point clouds.
#[derive(Debug, Clone)]
pub struct ExactOt {
    /// Optimal total cost `Σ P_ij c(x_i, y_j)` under the requested ground cost.
    pub cost: f64,
    /// `Σ P_ij |x_i - y_j|²` of the optimal plan: the exact squared W2 distance when the ground
    /// cost is [`GroundCost::SqEuclidean`], otherwise the squared-distance cost of the W1 plan.
    pub w2_squared: f64,
    /// `sqrt(w2_squared)`.
    pub w2: f64,
    /// The optimal plan `[N, M]`: rows sum to `1/N`, columns to `1/M`.
    pub plan: Array2<f64>,
    /// When `N == M`, the optimal matching: `x_i` is sent to `y_{assignment[i]}`.
    pub assignment: Option<Vec<usize>>,
}

/// An optimal plan between two weighted discrete measures given by their cost matrix.
#[derive(Debug, Clone)]
pub struct TransportPlan {
    /// Optimal total cost `Σ P_ij C_ij`.
    pub cost: f64,
    /// The optimal plan `[N, M]` with row sums `a` and column sums `b`.
    pub plan: Array2<f64>,
}

/// Exact optimal transport between the uniform measures on two point clouds `[N, D]`, `[M, D]`.
///
/// `N == M` is solved as an assignment problem in `O(N³)` (thousands of points take seconds);
/// otherwise as a transportation problem (fine for hundreds of points).
///
/// # Errors
/// [`Error::Empty`], [`Error::NonFinite`] or [`Error::Shape`] (different dimensions).
///
/// # Example
/// ```
/// use lagrangian_ot::metrics::{exact_ot, GroundCost};
/// use ndarray::array;
/// let x = array![[0.0f32], [1.0]];
/// let y = array![[1.0f32], [0.0]];
/// let ot = exact_ot(&x, &y, GroundCost::SqEuclidean)?;
/// assert_eq!(ot.cost, 0.0);
/// assert_eq!(ot.assignment, Some(vec![1, 0]));
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn exact_ot(x: &Array2<f32>, y: &Array2<f32>, cost: GroundCost) -> Result<ExactOt> {
    let (x, y) = checked_pair("exact_ot", x, y)?;
    let (n, m) = (x.nrows(), y.nrows());
    let costs = pairwise_cost(&x, &y, cost);
    let (plan, assignment) = if n == m {
        let assignment = solve_assignment(&costs);
        let mut plan = Array2::zeros((n, n));
        for (i, &j) in assignment.iter().enumerate() {
            plan[[i, j]] = 1.0 / n as f64;
        }
        (plan, Some(assignment))
    } else {
        // Integer masses (M per source, N per sink) keep every augmentation exact in f64.
        let supply = Array1::from_elem(n, m as f64);
        let demand = Array1::from_elem(m, n as f64);
        let plan = solve_transportation(&supply, &demand, &costs)? / (n * m) as f64;
        (plan, None)
    };
    let total_cost = (&plan * &costs).sum();
    let w2_squared = match cost {
        GroundCost::SqEuclidean => total_cost,
        GroundCost::Euclidean => plan
            .indexed_iter()
            .filter(|(_, &p)| p > 0.0)
            .map(|((i, j), &p)| p * squared_distance(x.row(i), y.row(j)))
            .sum(),
    };
    Ok(ExactOt {
        cost: total_cost,
        w2_squared,
        w2: w2_squared.sqrt(),
        plan,
        assignment,
    })
}

/// The Wasserstein-2 distance (not squared) between the uniform measures on two point clouds.
///
/// # Errors
/// As [`exact_ot`].
///
/// # Example
/// ```
/// use lagrangian_ot::metrics::wasserstein2;
/// use ndarray::array;
/// let x = array![[0.0f32, 0.0], [1.0, 0.0]];
/// let y = array![[0.0f32, 3.0], [1.0, 3.0]];
/// assert!((wasserstein2(&x, &y)? - 3.0).abs() < 1e-12);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn wasserstein2(x: &Array2<f32>, y: &Array2<f32>) -> Result<f64> {
    Ok(exact_ot(x, y, GroundCost::SqEuclidean)?.w2)
}

/// Exact optimal transport between weighted discrete measures `a` (`[N]`) and `b` (`[M]`) under
/// the cost matrix `cost` (`[N, M]`), like POT's `ot.emd`.
///
/// The weights must be non-negative with equal totals (relative tolerance `1e-9`); they need not
/// sum to one.
///
/// # Errors
/// [`Error::Empty`], [`Error::NonFinite`], [`Error::Shape`] (cost matrix not `[N, M]`),
/// [`Error::InvalidArgument`] (negative weights, unequal totals).
///
/// # Example
/// ```
/// use lagrangian_ot::metrics::exact_ot_weighted;
/// use ndarray::array;
/// let a = array![0.5, 0.5];
/// let b = array![1.0];
/// let cost = array![[1.0], [3.0]];
/// let ot = exact_ot_weighted(&a, &b, &cost)?;
/// assert_eq!(ot.cost, 2.0);
/// assert_eq!(ot.plan, array![[0.5], [0.5]]);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn exact_ot_weighted(a: &Array1<f64>, b: &Array1<f64>, cost: &Array2<f64>) -> Result<TransportPlan> {
    if a.is_empty() || b.is_empty() {
        return Err(Error::Empty(
            "exact_ot_weighted: weight vectors must be non-empty".into(),
        ));
    }
    if cost.dim() != (a.len(), b.len()) {
        return Err(Error::shape(
            "exact_ot_weighted cost matrix",
            format!("[{}, {}]", a.len(), b.len()),
            format!("{:?}", cost.shape()),
        ));
    }
    if a.iter().chain(b.iter()).any(|v| !v.is_finite()) {
        return Err(Error::NonFinite("exact_ot_weighted: weights".into()));
    }
    if cost.iter().any(|v| !v.is_finite()) {
        return Err(Error::NonFinite("exact_ot_weighted: cost matrix".into()));
    }
    if a.iter().chain(b.iter()).any(|&w| w < 0.0) {
        return Err(Error::InvalidArgument(
            "exact_ot_weighted: weights must be non-negative".into(),
        ));
    }
    let (mass_a, mass_b) = (a.sum(), b.sum());
    if mass_a <= 0.0 || (mass_a - mass_b).abs() > 1e-9 * mass_a.max(mass_b) {
        return Err(Error::InvalidArgument(format!(
            "exact_ot_weighted: weights must have equal positive totals, got {mass_a} and {mass_b}"
        )));
    }
    // Rescale b so both totals agree exactly; the difference is within the tolerance above.
    let b = b * (mass_a / mass_b);
    let plan = solve_transportation(a, &b, cost)?;
    Ok(TransportPlan {
        cost: (&plan * cost).sum(),
        plan,
    })
}

/// Optimal assignment of an `n × n` cost matrix: `result[row] = column`.
///
/// Shortest augmenting paths with dual potentials (Hungarian / Jonker–Volgenant family): each row
/// is inserted by a Dijkstra-like search over columns on reduced costs, so the total work is
/// `O(n³)` with contiguous row reads.
fn solve_assignment(cost: &Array2<f64>) -> Vec<usize> {
    let n = cost.nrows();
    // Index 0 is a virtual column that roots each search; real rows and columns are 1-based.
    // Warm-start the column potentials with near-optimal auction prices: exact augmentation from
    // zero potentials explores almost every column per row on shifted or anisotropic clouds.
    let mut col_potential = vec![0.0f64; n + 1];
    col_potential[1..].copy_from_slice(&auction_potentials(cost));
    let mut row_potential = vec![0.0f64; n + 1];
    for (i, row) in cost.rows().into_iter().enumerate() {
        row_potential[i + 1] = row
            .iter()
            .zip(&col_potential[1..])
            .map(|(c, v)| c - v)
            .fold(f64::INFINITY, f64::min);
    }
    let mut row_of_col = vec![0usize; n + 1];
    let mut previous_col = vec![0usize; n + 1];
    let mut min_reduced = vec![f64::INFINITY; n + 1];
    let mut visited = vec![false; n + 1];
    for row in 1..=n {
        row_of_col[0] = row;
        min_reduced.fill(f64::INFINITY);
        visited.fill(false);
        let mut col = 0;
        loop {
            visited[col] = true;
            let current_row = row_of_col[col];
            let costs = cost.row(current_row - 1);
            let row_pot = row_potential[current_row];
            let mut delta = f64::INFINITY;
            let mut next_col = 0;
            for j in 1..=n {
                if visited[j] {
                    continue;
                }
                let reduced = costs[j - 1] - row_pot - col_potential[j];
                if reduced < min_reduced[j] {
                    min_reduced[j] = reduced;
                    previous_col[j] = col;
                }
                if min_reduced[j] < delta {
                    delta = min_reduced[j];
                    next_col = j;
                }
            }
            for j in 0..=n {
                if visited[j] {
                    row_potential[row_of_col[j]] += delta;
                    col_potential[j] -= delta;
                } else {
                    min_reduced[j] -= delta;
                }
            }
            col = next_col;
            if row_of_col[col] == 0 {
                break;
            }
        }
        // Flip the augmenting path back to the root.
        while col != 0 {
            let prev = previous_col[col];
            row_of_col[col] = row_of_col[prev];
            col = prev;
        }
    }
    let mut assignment = vec![0; n];
    for j in 1..=n {
        assignment[row_of_col[j] - 1] = j - 1;
    }
    assignment
}

/// Column potentials `v` of an ε-optimal assignment dual, by Gauss–Seidel forward auction with
/// ε-scaling (Bertsekas). Each row bids for the column minimising `c_ij − v_j`, lowering that
/// column's potential by the margin to its second choice plus ε. Only the potentials are kept:
/// they are a warm start for the exact solver, which needs no particular accuracy from them.
fn auction_potentials(cost: &Array2<f64>) -> Vec<f64> {
    let n = cost.nrows();
    let mut potential = vec![0.0f64; n];
    if n < 2 {
        return potential;
    }
    let (lo, hi) = cost
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &c| {
            (lo.min(c), hi.max(c))
        });
    let range = hi - lo;
    if range <= 0.0 {
        return potential;
    }
    // Stop at ε ≈ range / n²: the duals are then within ~range / n of optimal, close enough that
    // the exact solver's searches stay short. Bid rounds are capped so a phase never runs away.
    let final_epsilon = range / (n * n) as f64;
    let mut epsilon = range / 4.0;
    let max_bids_per_phase = 50 * n;
    let mut col_owner = vec![usize::MAX; n];
    let mut free_rows: Vec<usize> = Vec::with_capacity(n);
    loop {
        col_owner.fill(usize::MAX);
        free_rows.clear();
        free_rows.extend((0..n).rev());
        let mut bids = 0;
        while let Some(i) = free_rows.pop() {
            bids += 1;
            if bids > max_bids_per_phase {
                break;
            }
            let (mut best, mut best_value, mut second_value) = (0, f64::INFINITY, f64::INFINITY);
            for (j, (&c, &v)) in cost.row(i).iter().zip(&potential).enumerate() {
                let value = c - v;
                if value < best_value {
                    second_value = best_value;
                    best_value = value;
                    best = j;
                } else if value < second_value {
                    second_value = value;
                }
            }
            potential[best] -= second_value - best_value + epsilon;
            let previous = std::mem::replace(&mut col_owner[best], i);
            if previous != usize::MAX {
                free_rows.push(previous);
            }
        }
        if epsilon <= final_epsilon {
            return potential;
        }
        epsilon = (epsilon / 8.0).max(final_epsilon);
    }
}

/// Min-cost transportation plan with supplies `supply` (`[N]`) and demands `demand` (`[M]`) of
/// equal total, by successive shortest paths.
///
/// Each round finds the cheapest source-to-sink path in the residual network (see
/// [`ResidualNetwork`]) and pushes its bottleneck. Every push empties a supply, fills a demand or
/// cancels a flow exactly, so the loop ends; the round cap only guards against the impossible.
fn solve_transportation(
    supply: &Array1<f64>,
    demand: &Array1<f64>,
    cost: &Array2<f64>,
) -> Result<Array2<f64>> {
    let mut network = ResidualNetwork::new(supply, demand, cost);
    let (n, m) = cost.dim();
    let max_rounds = 4 * (n + 1) * (m + 1) + 16;
    for _ in 0..max_rounds {
        if network.supply_left.iter().all(|&s| s <= network.negligible) {
            return Ok(network.flow);
        }
        let path = network.cheapest_path().ok_or_else(|| {
            Error::InvalidArgument("exact OT: supplies and demands cannot be matched".into())
        })?;
        network.push_along(&path);
    }
    Err(Error::InvalidArgument(
        "exact OT: transportation solver did not terminate".into(),
    ))
}

/// Residual network of a transportation problem: a source `S` (node 0), the `N` supply nodes
/// (`1..=N`), the `M` demand nodes (`N+1..=N+M`) and a sink `T` (last). Supply→demand arcs are
/// uncapacitated with the (shifted, non-negative) cost; demand→supply arcs exist where flow can be
/// cancelled. Node potentials keep reduced costs non-negative so Dijkstra applies.
struct ResidualNetwork {
    cost: Array2<f64>,
    supply_left: Array1<f64>,
    demand_left: Array1<f64>,
    flow: Array2<f64>,
    potential: Vec<f64>,
    /// Masses at or below this are treated as zero (round-off on the order of the total mass).
    negligible: f64,
}

impl ResidualNetwork {
    fn new(supply: &Array1<f64>, demand: &Array1<f64>, cost: &Array2<f64>) -> Self {
        // Non-negative costs make zero initial potentials feasible; a constant shift keeps the plan.
        let min_cost = cost.iter().copied().fold(f64::INFINITY, f64::min);
        let negligible = 1e-14 * supply.sum();
        let clean = |v: &f64| if *v > negligible { *v } else { 0.0 };
        ResidualNetwork {
            cost: cost.mapv(|c| c - min_cost),
            supply_left: supply.map(clean),
            demand_left: demand.map(clean),
            flow: Array2::zeros(cost.dim()),
            potential: vec![0.0; cost.nrows() + cost.ncols() + 2],
            negligible,
        }
    }

    fn sink(&self) -> usize {
        self.potential.len() - 1
    }

    /// Dense Dijkstra on reduced costs from `S`; updates the potentials and returns the node path
    /// `S, supply, demand, supply, …, demand, T`, or `None` if `T` is unreachable.
    fn cheapest_path(&mut self) -> Option<Vec<usize>> {
        let (n, m) = self.cost.dim();
        let node_count = self.potential.len();
        let sink = self.sink();
        let mut dist = vec![f64::INFINITY; node_count];
        let mut parent = vec![usize::MAX; node_count];
        let mut done = vec![false; node_count];
        dist[0] = 0.0;
        while let Some(u) = (0..node_count)
            .filter(|&v| !done[v] && dist[v].is_finite())
            .min_by(|&p, &q| dist[p].total_cmp(&dist[q]))
        {
            done[u] = true;
            if u == sink {
                break;
            }
            let potential = &self.potential;
            let mut relax = |v: usize, arc_cost: f64| {
                let candidate = dist[u] + arc_cost + potential[u] - potential[v];
                if !done[v] && candidate < dist[v] {
                    dist[v] = candidate;
                    parent[v] = u;
                }
            };
            if u == 0 {
                for i in 0..n {
                    if self.supply_left[i] > self.negligible {
                        relax(1 + i, 0.0);
                    }
                }
            } else if u <= n {
                for j in 0..m {
                    relax(1 + n + j, self.cost[[u - 1, j]]);
                }
            } else {
                let j = u - 1 - n;
                for i in 0..n {
                    if self.flow[[i, j]] > 0.0 {
                        relax(1 + i, -self.cost[[i, j]]);
                    }
                }
                if self.demand_left[j] > self.negligible {
                    relax(sink, 0.0);
                }
            }
        }
        if !dist[sink].is_finite() {
            return None;
        }
        for (p, d) in self.potential.iter_mut().zip(&dist) {
            *p += d.min(dist[sink]);
        }
        let mut path = vec![sink];
        while let Some(&last) = path.last().filter(|&&v| v != 0) {
            path.push(parent[last]);
        }
        path.reverse();
        Some(path)
    }

    /// Pushes the bottleneck amount along a path from [`Self::cheapest_path`].
    fn push_along(&mut self, path: &[usize]) {
        let n = self.cost.nrows();
        let first_supply = path[1] - 1;
        let last_demand = path[path.len() - 2] - 1 - n;
        let inner_arcs = || path[1..path.len() - 1].windows(2).map(|arc| (arc[0], arc[1]));
        // Demand -> supply arcs cancel existing flow and limit the push.
        let bottleneck = inner_arcs()
            .filter(|&(from, _)| from > n)
            .map(|(from, to)| self.flow[[to - 1, from - 1 - n]])
            .fold(
                self.supply_left[first_supply].min(self.demand_left[last_demand]),
                f64::min,
            );
        let negligible = self.negligible;
        self.supply_left[first_supply] =
            zero_if_negligible(self.supply_left[first_supply] - bottleneck, negligible);
        self.demand_left[last_demand] =
            zero_if_negligible(self.demand_left[last_demand] - bottleneck, negligible);
        for (from, to) in inner_arcs() {
            if from <= n {
                self.flow[[from - 1, to - 1 - n]] += bottleneck;
            } else {
                let entry = &mut self.flow[[to - 1, from - 1 - n]];
                *entry = zero_if_negligible(*entry - bottleneck, negligible);
            }
        }
    }
}

/// Rounds values within floating-point noise of zero to exactly zero.
fn zero_if_negligible(value: f64, negligible: f64) -> f64 {
    if value <= negligible {
        0.0
    } else {
        value
    }
}

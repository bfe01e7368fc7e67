//! One problem's L-BFGS memory: a circular buffer of correction pairs and the two-loop recursion.

/// The last `capacity` pairs `s_k = x_{k+1} - x_k`, `y_k = ∇f_{k+1} - ∇f_k` with `ρ_k = 1/(s_k·y_k)`,
/// stored flat in `f64`. All buffers are allocated once; pushing and the recursion never allocate.
#[derive(Debug, Clone)]
pub(crate) struct History {
    dim: usize,
    capacity: usize,
    s: Vec<f64>,
    y: Vec<f64>,
    rho: Vec<f64>,
    /// Scratch for the first loop's coefficients.
    coeff: Vec<f64>,
    len: usize,
    /// Slot the next pair is written to.
    next: usize,
}

impl History {
    pub(crate) fn new(dim: usize, capacity: usize) -> Self {
        History {
            dim,
            capacity,
            s: vec![0.0; dim * capacity],
            y: vec![0.0; dim * capacity],
            rho: vec![0.0; capacity],
            coeff: vec![0.0; capacity],
            len: 0,
            next: 0,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.len = 0;
        self.next = 0;
    }

    /// Writes `s` and `y = grad_new - grad_old` into the next slot and stores it unless
    /// `keep(s·y, |s|, |y|)` says no. Returns whether the pair was stored.
    pub(crate) fn push(
        &mut self,
        s: &[f64],
        grad_new: &[f64],
        grad_old: &[f64],
        keep: impl Fn(f64, f64, f64) -> bool,
    ) -> bool {
        if self.capacity == 0 {
            return false;
        }
        let range = self.next * self.dim..(self.next + 1) * self.dim;
        let (s_slot, y_slot) = (&mut self.s[range.clone()], &mut self.y[range]);
        let (mut sy, mut ss, mut yy) = (0.0, 0.0, 0.0);
        for j in 0..self.dim {
            let yj = grad_new[j] - grad_old[j];
            s_slot[j] = s[j];
            y_slot[j] = yj;
            sy += s[j] * yj;
            ss += s[j] * s[j];
            yy += yj * yj;
        }
        if !keep(sy, ss.sqrt(), yy.sqrt()) {
            return false;
        }
        // The reference sets ρ = 0 for s·y = 0, which makes the pair inert in both loops.
        self.rho[self.next] = if sy != 0.0 { 1.0 / sy } else { 0.0 };
        self.next = (self.next + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
        true
    }

    /// Slot of the `age`-th newest pair (0 = newest).
    fn slot(&self, age: usize) -> usize {
        (self.next + self.capacity - 1 - age) % self.capacity
    }

    /// Writes the quasi-Newton direction `d = -H·grad` (two-loop recursion) into `direction`. The
    /// initial inverse Hessian is `γ·I` with `γ = s·y / y·y` of the newest pair (1 without pairs or
    /// when `y = 0`).
    pub(crate) fn direction(&mut self, grad: &[f64], direction: &mut [f64]) {
        let n = self.dim;
        direction.copy_from_slice(grad);
        for age in 0..self.len {
            let k = self.slot(age);
            let (s, y) = (&self.s[k * n..(k + 1) * n], &self.y[k * n..(k + 1) * n]);
            let a = self.rho[k] * dot(s, direction);
            self.coeff[k] = a;
            direction.iter_mut().zip(y).for_each(|(q, yj)| *q -= a * yj);
        }
        let gamma = if self.len == 0 {
            1.0
        } else {
            let k = self.slot(0);
            let (s, y) = (&self.s[k * n..(k + 1) * n], &self.y[k * n..(k + 1) * n]);
            let yy = dot(y, y);
            if yy > 0.0 {
                dot(s, y) / yy
            } else {
                1.0
            }
        };
        direction.iter_mut().for_each(|r| *r *= gamma);
        for age in (0..self.len).rev() {
            let k = self.slot(age);
            let (s, y) = (&self.s[k * n..(k + 1) * n], &self.y[k * n..(k + 1) * n]);
            let b = self.rho[k] * dot(y, direction);
            let c = self.coeff[k] - b;
            direction.iter_mut().zip(s).for_each(|(r, sj)| *r += c * sj);
        }
        direction.iter_mut().for_each(|r| *r = -*r);
    }
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a quadratic with Hessian A, after n mutually A-conjugate pairs (s, A s) the BFGS inverse
    /// Hessian equals A⁻¹ (hereditary secant conditions), so the recursion returns -A⁻¹ g exactly.
    #[test]
    fn conjugate_pairs_give_newton_direction() {
        let a = [[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 2.0]];
        let mul = |v: &[f64]| -> Vec<f64> { (0..3).map(|i| (0..3).map(|j| a[i][j] * v[j]).sum()).collect() };
        // A-orthogonalise the unit vectors (Gram-Schmidt in the A inner product).
        let mut directions: Vec<Vec<f64>> = Vec::new();
        for k in 0..3 {
            let mut v = vec![0.0; 3];
            v[k] = 1.0;
            for u in &directions {
                let coeff = dot(&v, &mul(u)) / dot(u, &mul(u));
                v.iter_mut().zip(u).for_each(|(vj, uj)| *vj -= coeff * uj);
            }
            directions.push(v);
        }
        let mut history = History::new(3, 5);
        let zero = [0.0; 3];
        for s in &directions {
            assert!(history.push(s, &mul(s), &zero, |_, _, _| true));
        }
        let g = [1.0, -2.0, 0.5];
        let mut d = [0.0; 3];
        history.direction(&g, &mut d);
        let ad = mul(&d);
        for i in 0..3 {
            assert!((ad[i] + g[i]).abs() < 1e-12, "A d = {ad:?}, -g = {g:?}");
        }
    }

    /// The buffer keeps only the newest `capacity` pairs: with capacity 1 only the last pair counts,
    /// giving d = -(γ-scaled BFGS update from that single pair).
    #[test]
    fn circular_buffer_drops_oldest() {
        let mut full = History::new(2, 1);
        let mut single = History::new(2, 1);
        let zero = [0.0; 2];
        full.push(&[1.0, 0.0], &[5.0, 1.0], &zero, |_, _, _| true);
        full.push(&[0.0, 1.0], &[1.0, 2.0], &zero, |_, _, _| true);
        single.push(&[0.0, 1.0], &[1.0, 2.0], &zero, |_, _, _| true);
        let g = [0.7, -0.3];
        let (mut d1, mut d2) = ([0.0; 2], [0.0; 2]);
        full.direction(&g, &mut d1);
        single.direction(&g, &mut d2);
        assert_eq!(d1, d2);
        assert_eq!(full.len, 1);
    }

    #[test]
    fn empty_history_is_steepest_descent() {
        let mut history = History::new(2, 3);
        let mut d = [0.0; 2];
        history.direction(&[1.5, -2.0], &mut d);
        assert_eq!(d, [-1.5, 2.0]);
    }
}

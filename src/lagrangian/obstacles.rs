//! The papers' obstacle potentials, with their exact constants: NLOT's box, slit, hill, well and GSB
//! obstacles (sigmoid-smoothed walls, NLOT spec §5) and HOTA's benchmark set (softplus obstacles,
//! the same box/slit/baby maze, and a ball in any dimension; HOTA spec §4).
//!
//! Every obstacle is U(q) = M·u(q) with u ≤ 0 where the obstacle stands, so a path pays −U ≥ 0 there.
//! The strength M and the wall temperature τ are settable (and annealed by [`crate::lagrangian::Annealing`]);
//! each shape knows its paper defaults and its domain box.

use dfdx::prelude::*;

use super::ops::{check_points, softplus, weighted_square_distance, window, xy};
use super::{forward_tape, Bounds, Condition, Points, Potential, Scalars};
use crate::error::{Error, Result};
use crate::nn::{device_error, Taped, TensorDevice};

/// Centres of the three GSB discs (radius 1.5).
const GMM_CENTRES: [[f32; 2]; 3] = [[6.0, 6.0], [6.0, -6.0], [-6.0, -6.0]];
/// Radius of the GSB discs.
const GMM_RADIUS: f32 = 1.5;
/// Centres of the two S-tunnel ellipses 20(x − cₓ)² + (y − c_y)² < 90.
const STUNNEL_CENTRES: [[f32; 2]; 2] = [[5.0, 6.0], [-5.0, -6.0]];
/// Axis weights and level of the S-tunnel ellipses.
const STUNNEL_WEIGHTS: [f32; 2] = [20.0, 1.0];
const STUNNEL_LEVEL: f32 = 90.0;
/// The V-neck's wedges are 5x² − y² < −0.36.
const VNECK_WEIGHTS: [f32; 2] = [5.0, -1.0];
const VNECK_LEVEL: f32 = -0.36;
/// HOTA's V-neck keeps softplus values in (0.53, 5) and caps larger ones at 5.
const HOTA_VNECK_FLOOR: f32 = 0.53;
const HOTA_VNECK_CAP: f32 = 5.0;
/// HOTA's GMM obstacle sharpness: softplus(100 (1.5 − |x − c|)).
const HOTA_GMM_SHARPNESS: f32 = 100.0;
/// Keeps |x − c| differentiable at the centre.
const NORM_EPS: f32 = 1e-12;

/// Which obstacle: the formula of u(q) (see each variant; x, y are the two coordinates, w is the
/// [`window`] soft indicator with temperature τ, σ the logistic function).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ObstacleShape {
    /// NLOT `lsb_box`: u = −w(x; −0.5, 0.5)·w(y; −0.5, 0.5). Defaults M = 0.01, τ = 0.01, [−1.5, 1.5]².
    Box,
    /// NLOT `lsb_slit`: u = w(x; −0.1, 0.1)·(w(y; −0.25, 0.25) − 1), a wall at |x| < 0.1 open for
    /// |y| < 0.25. Defaults M = 1, τ = 0.01, [−1.5, 1.5]².
    Slit,
    /// NLOT `lsb_hill` (code, not the paper's formula): u = −exp(−|q|²), a bump to go around.
    /// Default M = 0.05, [−2, 2]².
    Hill,
    /// NLOT `lsb_well` (code, not the paper's formula): u = −|q|², pulling paths to the origin.
    /// Default M = 0.01, [−2, 2]².
    Well,
    /// NLOT `gsb_gmm`: u = −Σ_c σ((1.5 − |q − c|)/τ), discs at (6,6), (6,−6), (−6,−6).
    /// Defaults M = 0.1, τ = 0.1, [−20, 20]².
    GmmDiscs,
    /// NLOT `gsb_vneck`: u = −σ((−0.36 − (5x² − y²))/τ). Defaults M = 0.1, τ = 0.1, [−10, 10]×[−8, 8].
    VNeck,
    /// NLOT `gsb_stunnel`: u = −Σ_c σ((90 − 20(x − cₓ)² − (y − c_y)²)/τ), c ∈ {(5,6), (−5,−6)}.
    /// Defaults M = 0.1, τ = 0.1, [−15, 15]×[−7.5, 7.5].
    STunnel,
    /// NLOT/HOTA `babymaze`: u = w(x; −0.5, −0.3)(w(y; −1.99, −0.15) − 1) + w(x; 0.3, 0.5)(w(y; 0.15, 1.99) − 1).
    /// Defaults M = 10, τ = 0.01, [−2, 2]².
    BabyMaze,
    /// HOTA `STunnel_bench`: u = −Σ_c softplus(90 − 20(x − cₓ)² − (y − c_y)²). Default M = 1 (HOTA
    /// multiplies by its potential weight, 25 in its Table 3); τ unused.
    HotaSTunnel,
    /// HOTA `VNeck_bench`: with s = softplus(−0.36 − (5x² − y²)), u = −s on 0.53 < s < 5, −5 for
    /// s ≥ 5, 0 otherwise. Default M = 1 (HOTA weight 1000); τ unused.
    HotaVNeck,
    /// HOTA GMM-16 obstacles: u = −Σ_c softplus(100(1.5 − |q − c|))·𝟙[|q − c| < 1.5], the GSB discs.
    /// Default M = 1 (HOTA weight 25); τ unused.
    HotaGmm,
    /// HOTA `Sphere_Potential`: u = −𝟙[|q| < radius] in `dim` dimensions (hard, τ = 0, as in the
    /// code) or −σ((radius − |q|)/τ) when τ > 0. Default M = 1 (HOTA weight 5–30), [−1.5, 1.5]^dim.
    Ball {
        /// Radius of the ball (HOTA: 1, its 3-D notebook 0.98).
        radius: f32,
        /// Dimension of the points.
        dim: usize,
    },
}

impl ObstacleShape {
    /// The paper name (NLOT geometry key where there is one).
    pub fn name(self) -> &'static str {
        match self {
            ObstacleShape::Box => "box",
            ObstacleShape::Slit => "slit",
            ObstacleShape::Hill => "hill",
            ObstacleShape::Well => "well",
            ObstacleShape::GmmDiscs => "gsb_gmm",
            ObstacleShape::VNeck => "gsb_vneck",
            ObstacleShape::STunnel => "gsb_stunnel",
            ObstacleShape::BabyMaze => "babymaze",
            ObstacleShape::HotaSTunnel => "hota_stunnel",
            ObstacleShape::HotaVNeck => "hota_vneck",
            ObstacleShape::HotaGmm => "hota_gmm16",
            ObstacleShape::Ball { .. } => "ball",
        }
    }

    /// Dimension of the points.
    pub fn dim(self) -> usize {
        match self {
            ObstacleShape::Ball { dim, .. } => dim,
            _ => 2,
        }
    }

    /// Paper defaults: (M, τ, domain). τ is the final (annealed) temperature.
    fn defaults(self) -> (f32, f32, Bounds) {
        let square = |a: f32| Bounds::cube(-a, a, 2).expect("positive half-width");
        let rect = |a: f32, b: f32| Bounds::rect((-a, a), (-b, b)).expect("positive half-widths");
        match self {
            ObstacleShape::Box => (0.01, 0.01, square(1.5)),
            ObstacleShape::Slit => (1.0, 0.01, square(1.5)),
            ObstacleShape::Hill => (0.05, 0.01, square(2.0)),
            ObstacleShape::Well => (0.01, 0.01, square(2.0)),
            ObstacleShape::GmmDiscs => (0.1, 0.1, square(20.0)),
            ObstacleShape::VNeck => (0.1, 0.1, rect(10.0, 8.0)),
            ObstacleShape::STunnel => (0.1, 0.1, rect(15.0, 7.5)),
            ObstacleShape::BabyMaze => (10.0, 0.01, square(2.0)),
            ObstacleShape::HotaSTunnel => (1.0, 0.1, rect(15.0, 7.5)),
            ObstacleShape::HotaVNeck => (1.0, 0.1, rect(10.0, 8.0)),
            ObstacleShape::HotaGmm => (1.0, 0.1, square(20.0)),
            ObstacleShape::Ball { dim, .. } => (
                1.0,
                0.0,
                Bounds::cube(-1.5, 1.5, dim.max(1)).expect("positive half-width"),
            ),
        }
    }

    /// The temperature NLOT's annealing starts from: 1.0 for the three GSB obstacles, 0.1 otherwise.
    pub fn annealing_start_temperature(self) -> f32 {
        match self {
            ObstacleShape::GmmDiscs | ObstacleShape::VNeck | ObstacleShape::STunnel => 1.0,
            _ => 0.1,
        }
    }
}

/// An obstacle potential U(q) = M·u(q) (see [`ObstacleShape`] for the formulas).
///
/// ```
/// use lagrangian_ot::lagrangian::{potential_at, Obstacle, ObstacleShape};
/// let dev = lagrangian_ot::device::default_device(0);
/// let slit = Obstacle::new(ObstacleShape::Slit);
/// let u = potential_at(&slit, &dev, &ndarray::array![[0.05f32, 0.6], [0.05, 0.0]], None)?;
/// assert!((u[0] + 0.993307).abs() < 1e-5); // in the wall
/// assert!(u[1].abs() < 1e-5); // in the opening
/// let stronger = Obstacle::from_name("box")?.with_strength(0.1)?.with_temperature(0.05)?;
/// assert_eq!((stronger.strength(), stronger.temperature()), (0.1, 0.05));
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Obstacle {
    shape: ObstacleShape,
    strength: f32,
    temperature: f32,
    bounds: Bounds,
}

impl Obstacle {
    /// The obstacle with its paper defaults for M, τ and the domain.
    pub fn new(shape: ObstacleShape) -> Self {
        let (strength, temperature, bounds) = shape.defaults();
        Obstacle {
            shape,
            strength,
            temperature,
            bounds,
        }
    }

    /// HOTA's box: NLOT's box with the annealed temperature τ = 2e-3 (M = 0.01).
    pub fn hota_box() -> Self {
        Obstacle {
            temperature: 2e-3,
            ..Obstacle::new(ObstacleShape::Box)
        }
    }

    /// HOTA's slit: NLOT's slit (M = 1) with the annealed temperature τ = 2e-3.
    pub fn hota_slit() -> Self {
        Obstacle {
            temperature: 2e-3,
            ..Obstacle::new(ObstacleShape::Slit)
        }
    }

    /// HOTA's sphere benchmark barrier: the hard ball of `radius` in `dim` dimensions.
    pub fn ball(dim: usize, radius: f32) -> Result<Self> {
        if dim == 0 || !(radius.is_finite() && radius > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "a ball needs dim > 0 and a positive radius, got dim {dim}, radius {radius}"
            )));
        }
        Ok(Obstacle::new(ObstacleShape::Ball { radius, dim }))
    }

    /// NLOT's potentials (spec §5 table), in table order.
    pub fn nlot_set() -> Vec<Obstacle> {
        use ObstacleShape::*;
        [Box, Slit, Hill, Well, GmmDiscs, VNeck, STunnel, BabyMaze]
            .into_iter()
            .map(Obstacle::new)
            .collect()
    }

    /// HOTA's benchmark obstacles: S-tunnel, V-neck, GMM-16, baby maze, slit, box, and the 3-D ball
    /// of its notebook (radius 0.98).
    pub fn hota_set() -> Vec<Obstacle> {
        vec![
            Obstacle::new(ObstacleShape::HotaSTunnel),
            Obstacle::new(ObstacleShape::HotaVNeck),
            Obstacle::new(ObstacleShape::HotaGmm),
            Obstacle::new(ObstacleShape::BabyMaze),
            Obstacle::hota_slit(),
            Obstacle::hota_box(),
            Obstacle::new(ObstacleShape::Ball { radius: 0.98, dim: 3 }),
        ]
    }

    /// The obstacle called `name` (the names of [`ObstacleShape::name`]; "ball" is the unit ball in 3-D).
    pub fn from_name(name: &str) -> Result<Self> {
        use ObstacleShape::*;
        let shapes = [
            Box,
            Slit,
            Hill,
            Well,
            GmmDiscs,
            VNeck,
            STunnel,
            BabyMaze,
            HotaSTunnel,
            HotaVNeck,
            HotaGmm,
            Ball { radius: 1.0, dim: 3 },
        ];
        shapes
            .into_iter()
            .find(|s| s.name() == name)
            .map(Obstacle::new)
            .ok_or_else(|| {
                let known: Vec<&str> = shapes.iter().map(|s| s.name()).collect();
                Error::InvalidArgument(format!("unknown obstacle '{name}'; known: {}", known.join(", ")))
            })
    }

    /// The shape (formula) of this obstacle.
    pub fn shape(&self) -> ObstacleShape {
        self.shape
    }

    /// The strength M.
    pub fn strength(&self) -> f32 {
        self.strength
    }

    /// The wall temperature τ.
    pub fn temperature(&self) -> f32 {
        self.temperature
    }

    /// Dimension of the points.
    pub fn dim(&self) -> usize {
        self.shape.dim()
    }

    /// Sets M (finite, ≥ 0: annealing starts from 0).
    pub fn set_strength(&mut self, strength: f32) -> Result<()> {
        if !(strength.is_finite() && strength >= 0.0) {
            return Err(Error::InvalidArgument(format!(
                "obstacle strength must be finite and >= 0, got {strength}"
            )));
        }
        self.strength = strength;
        Ok(())
    }

    /// Sets τ (finite, > 0; the ball also accepts 0, its hard indicator).
    pub fn set_temperature(&mut self, temperature: f32) -> Result<()> {
        let hard_ball = matches!(self.shape, ObstacleShape::Ball { .. }) && temperature == 0.0;
        if !(hard_ball || temperature.is_finite() && temperature > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "obstacle temperature must be finite and > 0, got {temperature}"
            )));
        }
        self.temperature = temperature;
        Ok(())
    }

    /// This obstacle with strength M.
    pub fn with_strength(mut self, strength: f32) -> Result<Self> {
        self.set_strength(strength)?;
        Ok(self)
    }

    /// This obstacle with temperature τ.
    pub fn with_temperature(mut self, temperature: f32) -> Result<Self> {
        self.set_temperature(temperature)?;
        Ok(self)
    }

    /// This obstacle drawn and clipped on `bounds` instead of its default domain.
    pub fn with_bounds(mut self, bounds: Bounds) -> Result<Self> {
        if bounds.dim() != self.dim() {
            return Err(Error::shape(
                "Obstacle::with_bounds",
                format!("{}-D bounds", self.dim()),
                format!("{}-D", bounds.dim()),
            ));
        }
        self.bounds = bounds;
        Ok(self)
    }

    /// u(q), before the strength multiplies it.
    fn unit_value<D: TensorDevice<f32>>(&self, q: Points<D>) -> Result<Scalars<D>> {
        let tau = self.temperature;
        let ones = [1.0, 1.0];
        let origin = [0.0, 0.0];
        Ok(match self.shape {
            ObstacleShape::Box => {
                let (x, y) = xy(q)?;
                (window(x, -0.5, 0.5, tau) * window(y, -0.5, 0.5, tau)).negate()
            }
            ObstacleShape::Slit => {
                let (x, y) = xy(q)?;
                window(x, -0.1, 0.1, tau) * (window(y, -0.25, 0.25, tau) - 1.0)
            }
            ObstacleShape::Hill => weighted_square_distance(q, &origin, &ones)?
                .negate()
                .exp()
                .negate(),
            ObstacleShape::Well => weighted_square_distance(q, &origin, &ones)?.negate(),
            ObstacleShape::GmmDiscs => sum_over_centres(q, &GMM_CENTRES, |q, c| {
                let r = distance(q, c)?;
                Ok(((r.negate() + GMM_RADIUS) / tau).sigmoid())
            })?
            .negate(),
            ObstacleShape::VNeck => {
                let d = weighted_square_distance(q, &origin, &VNECK_WEIGHTS)?;
                ((d.negate() + VNECK_LEVEL) / tau).sigmoid().negate()
            }
            ObstacleShape::STunnel => sum_over_centres(q, &STUNNEL_CENTRES, |q, c| {
                let d = weighted_square_distance(q, c, &STUNNEL_WEIGHTS)?;
                Ok(((d.negate() + STUNNEL_LEVEL) / tau).sigmoid())
            })?
            .negate(),
            ObstacleShape::BabyMaze => {
                let (x1, y1) = xy(q.retaped::<Taped<D>>())?;
                let (x2, y2) = xy(q.retaped::<Taped<D>>())?;
                let left = window(x1, -0.5, -0.3, tau) * (window(y1, -1.99, -0.15, tau) - 1.0);
                let right = window(x2, 0.3, 0.5, tau) * (window(y2, 0.15, 1.99, tau) - 1.0);
                forward_tape(left + right, q)
            }
            ObstacleShape::HotaSTunnel => sum_over_centres(q, &STUNNEL_CENTRES, |q, c| {
                let d = weighted_square_distance(q, c, &STUNNEL_WEIGHTS)?;
                Ok(softplus(d.negate() + STUNNEL_LEVEL))
            })?
            .negate(),
            ObstacleShape::HotaVNeck => {
                let d = weighted_square_distance(q, &origin, &VNECK_WEIGHTS)?;
                let s = softplus(d.negate() + VNECK_LEVEL);
                let values = s.as_vec();
                let kept = mask(&s, &values, |v| v > HOTA_VNECK_FLOOR && v < HOTA_VNECK_CAP)?;
                let capped = mask(&s, &values, |v| v >= HOTA_VNECK_CAP)? * HOTA_VNECK_CAP;
                (s * kept + capped).negate()
            }
            ObstacleShape::HotaGmm => sum_over_centres(q, &GMM_CENTRES, |q, c| {
                let r = distance(q, c)?;
                let inside = mask(&r, &r.as_vec(), |v| v < GMM_RADIUS)?;
                Ok(softplus((r.negate() + GMM_RADIUS) * HOTA_GMM_SHARPNESS) * inside)
            })?
            .negate(),
            ObstacleShape::Ball { radius, dim } => {
                let r = distance(q, &vec![0.0; dim])?;
                if tau > 0.0 {
                    ((r.negate() + radius) / tau).sigmoid().negate()
                } else {
                    // The hard barrier has zero gradient; the tape still reaches the result.
                    let inside = mask(&r, &r.as_vec(), |v| v < radius)?;
                    let (r, tape) = r.split_tape();
                    (r * 0.0 - inside).put_tape(tape)
                }
            }
        })
    }
}

/// |q − c| for every row, smoothed at the centre so its gradient stays finite.
fn distance<D: TensorDevice<f32>>(q: Points<D>, centre: &[f32]) -> Result<Scalars<D>> {
    let ones = vec![1.0; centre.len()];
    Ok((weighted_square_distance(q, centre, &ones)? + NORM_EPS).sqrt())
}

/// Σ_c term(q, c), reading q once per centre without running its upstream operations twice.
fn sum_over_centres<D: TensorDevice<f32>>(
    q: Points<D>,
    centres: &[[f32; 2]],
    term: impl Fn(Points<D>, &[f32]) -> Result<Scalars<D>>,
) -> Result<Scalars<D>> {
    let mut total: Option<Scalars<D>> = None;
    for c in centres {
        let t = term(q.retaped::<Taped<D>>(), c)?;
        total = Some(match total {
            Some(sum) => sum + t,
            None => t,
        });
    }
    let total = total.ok_or_else(|| Error::Empty("obstacle with no centres".into()))?;
    Ok(forward_tape(total, q))
}

/// A constant 0/1 tensor shaped like `like`: 1 where `keep(value)`. Indicators have no gradient,
/// so they are computed from the values on the host.
fn mask<D: TensorDevice<f32>>(
    like: &Scalars<D>,
    values: &[f32],
    keep: impl Fn(f32) -> bool,
) -> Result<Tensor<(usize,), f32, D>> {
    let data: Vec<f32> = values.iter().map(|&v| if keep(v) { 1.0 } else { 0.0 }).collect();
    like.device()
        .try_tensor_from_vec(data, (values.len(),))
        .map_err(device_error)
}

impl<D: TensorDevice<f32>> Potential<D> for Obstacle {
    fn name(&self) -> String {
        self.shape.name().to_string()
    }
    fn value(&self, q: Points<D>, _cond: Option<&Condition<D>>) -> Result<Scalars<D>> {
        check_points(self.shape.name(), &q, self.dim())?;
        Ok(self.unit_value(q)? * self.strength)
    }
    fn is_zero(&self) -> bool {
        self.strength == 0.0
    }
    fn bounds(&self) -> Option<Bounds> {
        Some(self.bounds.clone())
    }
}

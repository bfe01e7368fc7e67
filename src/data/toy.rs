//! Toy point-cloud samplers for tutorials and tests: Gaussians, mixtures, moons, circles, boxes.
//!
//! Every sampler draws `n` i.i.d. rows from the caller's random number generator, so a seeded
//! generator ([`crate::device::rng`]) gives the same cloud every run. Samplers with classes
//! (mixture component, moon, circle) have a `*_with_labels` variant returning the class of
//! each row as well.

use ndarray::{Array1, Array2};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::{Error, Result};

fn check_n(n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::InvalidArgument("a sampler needs n >= 1 points".into()));
    }
    Ok(())
}

fn check_nonnegative(value: f32, what: &str) -> Result<()> {
    if !value.is_finite() {
        return Err(Error::NonFinite(what.into()));
    }
    if value < 0.0 {
        return Err(Error::InvalidArgument(format!(
            "{what} must be >= 0, got {value}"
        )));
    }
    Ok(())
}

fn check_vector(values: &[f32], what: &str) -> Result<()> {
    if values.is_empty() {
        return Err(Error::Empty(what.into()));
    }
    crate::error::ensure_finite(what, values)
}

fn normal(rng: &mut impl Rng) -> f32 {
    StandardNormal.sample(rng)
}

/// `n` draws from the isotropic Gaussian `N(mean, std² I)`; the dimension is `mean.len()`.
///
/// ```
/// use lagrangian_ot::{data::toy, device::rng};
/// let x = toy::gaussian(&mut rng(0), 500, &[1.0, -2.0], 0.5).unwrap();
/// assert_eq!(x.dim(), (500, 2));
/// assert!(toy::gaussian(&mut rng(0), 10, &[0.0], -1.0).is_err());
/// ```
pub fn gaussian(rng: &mut impl Rng, n: usize, mean: &[f32], std: f32) -> Result<Array2<f32>> {
    check_n(n)?;
    check_vector(mean, "gaussian mean")?;
    check_nonnegative(std, "gaussian std")?;
    Ok(Array2::from_shape_fn((n, mean.len()), |(_, j)| {
        mean[j] + std * normal(rng)
    }))
}

/// `n` draws from `N(mean, cov)` for a symmetric positive semi-definite `cov` of shape `[D, D]`
/// (`D = mean.len()`), as `mean + L z` with `L` the Cholesky factor of `cov`.
///
/// ```
/// use lagrangian_ot::{data::toy, device::rng};
/// use ndarray::array;
/// let cov = array![[1.0f32, 0.8], [0.8, 1.0]];
/// let x = toy::gaussian_with_cov(&mut rng(1), 100, &[0.0, 0.0], &cov).unwrap();
/// assert_eq!(x.dim(), (100, 2));
/// ```
pub fn gaussian_with_cov(
    rng: &mut impl Rng,
    n: usize,
    mean: &[f32],
    cov: &Array2<f32>,
) -> Result<Array2<f32>> {
    check_n(n)?;
    check_vector(mean, "gaussian mean")?;
    let d = mean.len();
    if cov.dim() != (d, d) {
        return Err(Error::shape(
            "gaussian_with_cov covariance",
            format!("[{d}, {d}]"),
            format!("{:?}", cov.shape()),
        ));
    }
    crate::error::ensure_finite("gaussian covariance", cov.iter())?;
    let factor = cholesky_psd(cov)?;
    let mut samples = Array2::zeros((n, d));
    let mut z = vec![0.0f32; d];
    for mut row in samples.rows_mut() {
        z.iter_mut().for_each(|v| *v = normal(rng));
        for i in 0..d {
            row[i] = mean[i] + (0..=i).map(|j| factor[[i, j]] * z[j]).sum::<f32>();
        }
    }
    Ok(samples)
}

/// Lower-triangular `L` with `L Lᵀ = cov` for a symmetric positive semi-definite `cov`
/// (columns of zero variance get zero entries). Computed in f64 for accuracy.
fn cholesky_psd(cov: &Array2<f32>) -> Result<Array2<f32>> {
    let d = cov.nrows();
    let scale = cov
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs() as f64))
        .max(f64::MIN_POSITIVE);
    let tolerance = 1e-6 * scale;
    for i in 0..d {
        for j in 0..i {
            if ((cov[[i, j]] - cov[[j, i]]) as f64).abs() > tolerance {
                return Err(Error::InvalidArgument(format!(
                    "covariance is not symmetric at ({i}, {j})"
                )));
            }
        }
    }
    let mut l = Array2::<f64>::zeros((d, d));
    for j in 0..d {
        let pivot = cov[[j, j]] as f64 - (0..j).map(|k| l[[j, k]] * l[[j, k]]).sum::<f64>();
        if pivot < -tolerance {
            return Err(Error::InvalidArgument(
                "covariance is not positive semi-definite".into(),
            ));
        }
        let diagonal = pivot.max(0.0).sqrt();
        l[[j, j]] = diagonal;
        for i in j + 1..d {
            let off = cov[[i, j]] as f64 - (0..j).map(|k| l[[i, k]] * l[[j, k]]).sum::<f64>();
            l[[i, j]] = if diagonal > tolerance.sqrt() {
                off / diagonal
            } else {
                0.0
            };
        }
    }
    Ok(l.mapv(|v| v as f32))
}

/// `n` draws from the equal-weight mixture of `N(means[c], std² I)`; returns the points and the
/// component `c` of each row. Accepts `&[[f32; 2]]`, `&[Vec<f32>]`, ... (all of one length).
///
/// ```
/// use lagrangian_ot::{data::toy, device::rng};
/// let (x, c) = toy::gaussian_mixture_with_labels(&mut rng(2), 300, &[[-3.0, 0.0], [3.0, 0.0]], 0.3).unwrap();
/// assert_eq!((x.nrows(), c.len()), (300, 300));
/// assert!(c.iter().all(|&k| k == 0 || k == 1));
/// ```
pub fn gaussian_mixture_with_labels<M: AsRef<[f32]>>(
    rng: &mut impl Rng,
    n: usize,
    means: &[M],
    std: f32,
) -> Result<(Array2<f32>, Array1<i64>)> {
    check_n(n)?;
    let first = means
        .first()
        .ok_or_else(|| Error::Empty("gaussian_mixture means".into()))?;
    let d = first.as_ref().len();
    for (c, mean) in means.iter().enumerate() {
        check_vector(mean.as_ref(), "gaussian_mixture mean")?;
        if mean.as_ref().len() != d {
            return Err(Error::shape(
                format!("gaussian_mixture mean {c}"),
                format!("length {d}"),
                mean.as_ref().len().to_string(),
            ));
        }
    }
    check_nonnegative(std, "gaussian_mixture std")?;
    let labels = Array1::from_shape_fn(n, |_| rng.gen_range(0..means.len()) as i64);
    let points = Array2::from_shape_fn((n, d), |(i, j)| {
        means[labels[i] as usize].as_ref()[j] + std * normal(rng)
    });
    Ok((points, labels))
}

/// [`gaussian_mixture_with_labels`] without the labels.
pub fn gaussian_mixture<M: AsRef<[f32]>>(
    rng: &mut impl Rng,
    n: usize,
    means: &[M],
    std: f32,
) -> Result<Array2<f32>> {
    gaussian_mixture_with_labels(rng, n, means, std).map(|(points, _)| points)
}

/// Two interleaving half circles ("two moons") plus `N(0, noise²)` noise per coordinate; row `i`
/// belongs to moon `i % 2`: moon 0 is `(cos θ, sin θ)`, moon 1 is `(1 - cos θ, 0.5 - sin θ)`,
/// with `θ ~ U[0, π]`.
///
/// ```
/// use lagrangian_ot::{data::toy, device::rng};
/// let (x, moon) = toy::moons_with_labels(&mut rng(3), 4, 0.0).unwrap();
/// assert_eq!(moon.to_vec(), vec![0, 1, 0, 1]);
/// let r = (x[[0, 0]].powi(2) + x[[0, 1]].powi(2)).sqrt();
/// assert!((r - 1.0).abs() < 1e-5);
/// ```
pub fn moons_with_labels(rng: &mut impl Rng, n: usize, noise: f32) -> Result<(Array2<f32>, Array1<i64>)> {
    check_n(n)?;
    check_nonnegative(noise, "moons noise")?;
    let labels = Array1::from_shape_fn(n, |i| (i % 2) as i64);
    let mut points = Array2::zeros((n, 2));
    for (mut row, &moon) in points.rows_mut().into_iter().zip(&labels) {
        let theta = rng.gen_range(0.0..=std::f32::consts::PI);
        let (s, c) = theta.sin_cos();
        let (x, y) = if moon == 0 { (c, s) } else { (1.0 - c, 0.5 - s) };
        row[0] = x + noise * normal(rng);
        row[1] = y + noise * normal(rng);
    }
    Ok((points, labels))
}

/// [`moons_with_labels`] without the labels.
pub fn moons(rng: &mut impl Rng, n: usize, noise: f32) -> Result<Array2<f32>> {
    moons_with_labels(rng, n, noise).map(|(points, _)| points)
}

/// Two concentric circles, radius 1 (row `i` with `i % 2 == 0`, label 0) and radius `factor`
/// (label 1), uniform angle, plus `N(0, noise²)` noise per coordinate; `0 <= factor < 1`.
///
/// ```
/// use lagrangian_ot::{data::toy, device::rng};
/// let (x, ring) = toy::circles_with_labels(&mut rng(4), 2, 0.0, 0.5).unwrap();
/// let radius = |i: usize| (x[[i, 0]].powi(2) + x[[i, 1]].powi(2)).sqrt();
/// assert!((radius(0) - 1.0).abs() < 1e-5 && (radius(1) - 0.5).abs() < 1e-5);
/// assert_eq!(ring.to_vec(), vec![0, 1]);
/// ```
pub fn circles_with_labels(
    rng: &mut impl Rng,
    n: usize,
    noise: f32,
    factor: f32,
) -> Result<(Array2<f32>, Array1<i64>)> {
    check_n(n)?;
    check_nonnegative(noise, "circles noise")?;
    check_nonnegative(factor, "circles factor")?;
    if factor >= 1.0 {
        return Err(Error::InvalidArgument(format!(
            "circles factor must be in [0, 1), got {factor}"
        )));
    }
    let labels = Array1::from_shape_fn(n, |i| (i % 2) as i64);
    let mut points = Array2::zeros((n, 2));
    for (mut row, &ring) in points.rows_mut().into_iter().zip(&labels) {
        let radius = if ring == 0 { 1.0 } else { factor };
        let (s, c) = rng.gen_range(0.0..std::f32::consts::TAU).sin_cos();
        row[0] = radius * c + noise * normal(rng);
        row[1] = radius * s + noise * normal(rng);
    }
    Ok((points, labels))
}

/// [`circles_with_labels`] without the labels.
pub fn circles(rng: &mut impl Rng, n: usize, noise: f32, factor: f32) -> Result<Array2<f32>> {
    circles_with_labels(rng, n, noise, factor).map(|(points, _)| points)
}

/// `n` uniform draws from the box `[lo[0], hi[0]] × … × [lo[D-1], hi[D-1]]`.
///
/// ```
/// use lagrangian_ot::{data::toy, device::rng};
/// let x = toy::uniform_box(&mut rng(5), 50, &[0.0, -1.0], &[1.0, 1.0]).unwrap();
/// assert!(x.column(1).iter().all(|&v| (-1.0..=1.0).contains(&v)));
/// assert!(toy::uniform_box(&mut rng(5), 50, &[1.0], &[0.0]).is_err());
/// ```
pub fn uniform_box(rng: &mut impl Rng, n: usize, lo: &[f32], hi: &[f32]) -> Result<Array2<f32>> {
    check_n(n)?;
    check_vector(lo, "uniform_box lo")?;
    check_vector(hi, "uniform_box hi")?;
    if lo.len() != hi.len() {
        return Err(Error::shape(
            "uniform_box",
            format!("hi of length {}", lo.len()),
            hi.len().to_string(),
        ));
    }
    if let Some(j) = (0..lo.len()).find(|&j| lo[j] > hi[j]) {
        return Err(Error::InvalidArgument(format!(
            "uniform_box needs lo <= hi, but lo[{j}] = {} > hi[{j}] = {}",
            lo[j], hi[j]
        )));
    }
    Ok(Array2::from_shape_fn((n, lo.len()), |(_, j)| {
        lo[j] + (hi[j] - lo[j]) * rng.gen::<f32>()
    }))
}

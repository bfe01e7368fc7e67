//! HOTA image translation on the UCI 8×8 handwritten digits (issue 6, the CPU-sized stand-in for
//! the paper's CelebA translation): images of one digit are transported to images of another in
//! pixel space (64-D) by HOTA without a state cost, and scored with a classifier trained on the
//! digits.
//!
//! - **Data**: `data/digits/{x,label}.npy`, exported from scikit-learn by `scripts/fetch_digits.py`
//!   (not committed); [`Digits::load_default`] reads them or says to run the script. 20% of each
//!   class is held out ([`Digits::split`]).
//! - **Classifier**: an [`Mlp`] 64 → 128 → 64 → 10 (SiLU) trained with Adam on softmax cross-entropy
//!   ([`DigitClassifier::train`]); its 64-D penultimate activations are the feature space of the score.
//! - **FID-style distance**: the Fréchet distance between Gaussians fitted to the features of two
//!   image sets, ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₁^½ Σ₂ Σ₁^½)^½) — the squared Bures–Wasserstein
//!   distance of [`gaussian_w2_squared`], so it is reused ([`DigitClassifier::frechet_distance`]).
//!   The reference set is always the held-out images of the target digit.
//! - **Target-class accuracy**: the share of translated images the classifier calls the target digit.
//! - **Rows scored**: HOTA's pushforward of the held-out source images; the plain W2 map (the
//!   barycentric projection of the exact OT plan under |x − y|² between those images and the training
//!   images of the target digit, [`w2_barycentric_map`] — an in-sample oracle, not a learned map);
//!   the untranslated sources (identity); and, as the floor, as many real training images of the
//!   target digit.
//!
//! The default pair is 3 → 8: the two shapes share their right half, so a good map keeps the
//! writer's stroke and closes the left side, and the pair is not trivially separable by a few pixels
//! (as 0 → 1 would be). Any pair works ([`DigitsConfig`]).

use super::{Report, RunConfig};
use crate::data::Measure;
use crate::device::{default_device, rng};
use crate::error::{Error, Result};
use crate::lagrangian::NoPotential;
use crate::metrics::{exact_ot, fit_gaussian, gaussian_w2_squared, GroundCost};
use crate::nn::{
    array_to_tensor, check_loss, tensor_to_array, traced, Activation, Adam, AdamConfig, LrSchedule, Mlp,
};
use crate::plot::Figure;
use crate::progress::ProgressMode;
use crate::solver::{Hota, HotaPreset};
use dfdx::prelude::*;
use ndarray::{s, Array1, Array2, Axis};
use rand::seq::SliceRandom;
use rand::Rng;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Pixels per image (8 × 8).
pub const PIXELS: usize = 64;
/// Side of an image in pixels.
pub const SIDE: usize = 8;
/// Number of digit classes.
pub const CLASSES: usize = 10;
/// The script that writes the data files.
pub const FETCH_SCRIPT: &str = "scripts/fetch_digits.py";

/// Where `scripts/fetch_digits.py` writes the digits: `data/digits` in this crate's root (so
/// notebooks and tests in any sub-folder find it).
pub fn default_digits_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join("digits")
}

/// The UCI 8×8 digits: images `[N, 64]` (pixels / 16, in [0, 1], row-major, row 0 at the top) and
/// their digits `[N]`.
#[derive(Debug, Clone)]
pub struct Digits {
    /// One image per row.
    pub images: Array2<f32>,
    /// The digit 0..9 of each row.
    pub labels: Array1<i64>,
}

impl Digits {
    /// Reads `x.npy` (`f32 [N, 64]`) and `label.npy` (`i64 [N]`) from `dir`.
    ///
    /// # Errors
    /// [`Error::Dataset`] naming `scripts/fetch_digits.py` when a file is missing; [`Error::Dataset`]
    /// for a wrong dtype or shape, labels outside 0..9 or pixels outside [0, 1].
    ///
    /// ```
    /// use lagrangian_ot::experiments::hota_digits::Digits;
    /// let err = Digits::load("/no/such/folder").unwrap_err();
    /// assert!(err.to_string().contains("scripts/fetch_digits.py"));
    /// ```
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let dataset = |reason: String| Error::Dataset {
            path: dir.to_path_buf(),
            reason,
        };
        for file in ["x.npy", "label.npy"] {
            if !dir.join(file).is_file() {
                return Err(dataset(format!(
                    "{file} not found; run `python3 {FETCH_SCRIPT}` in the crate root to export the \
                     UCI 8x8 digits from scikit-learn (it installs scikit-learn into .venv if needed)"
                )));
            }
        }
        let read_error = |file: &str, e: ndarray_npy::ReadNpyError| {
            dataset(format!("{file}: {e} (expected the output of {FETCH_SCRIPT})"))
        };
        let images: Array2<f32> =
            ndarray_npy::read_npy(dir.join("x.npy")).map_err(|e| read_error("x.npy", e))?;
        let labels: Array1<i64> =
            ndarray_npy::read_npy(dir.join("label.npy")).map_err(|e| read_error("label.npy", e))?;
        Self::new(images, labels).map_err(|e| dataset(e.to_string()))
    }

    /// [`Digits::load`] from [`default_digits_dir`].
    ///
    /// # Errors
    /// As [`Digits::load`].
    pub fn load_default() -> Result<Self> {
        Self::load(default_digits_dir())
    }

    /// Checks and wraps images `[N, 64]` in [0, 1] and labels `[N]` in 0..9.
    ///
    /// # Errors
    /// [`Error::Shape`], [`Error::Empty`], [`Error::NonFinite`], [`Error::InvalidArgument`].
    pub fn new(images: Array2<f32>, labels: Array1<i64>) -> Result<Self> {
        if images.ncols() != PIXELS || images.nrows() != labels.len() {
            return Err(Error::shape(
                "Digits",
                format!("images [N, {PIXELS}] and labels [N]"),
                format!("images {:?}, labels [{}]", images.dim(), labels.len()),
            ));
        }
        if images.is_empty() {
            return Err(Error::Empty("Digits: no images".into()));
        }
        crate::error::ensure_finite("Digits images", images.iter())?;
        if images.iter().any(|&v| !(0.0..=1.0).contains(&v)) {
            return Err(Error::InvalidArgument(
                "Digits: pixel values must lie in [0, 1] (raw 0..16 divided by 16)".into(),
            ));
        }
        if let Some(bad) = labels.iter().find(|&&l| !(0..CLASSES as i64).contains(&l)) {
            return Err(Error::InvalidArgument(format!(
                "Digits: label {bad} is not a digit 0..9"
            )));
        }
        Ok(Digits { images, labels })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images (never true for a checked set).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The images of `digit`, `[n, 64]`, in file order.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a digit outside 0..9; [`Error::Empty`] when there is none.
    pub fn class(&self, digit: usize) -> Result<Array2<f32>> {
        check_digit(digit)?;
        let rows = self.rows_of(digit);
        if rows.is_empty() {
            return Err(Error::Empty(format!("Digits: no image of digit {digit}")));
        }
        Ok(self.images.select(Axis(0), &rows))
    }

    /// Stratified split: `test_fraction` of each class (rounded, at least one image per class that has
    /// two or more) goes to the second set, chosen by a seeded shuffle; the rest to the first.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] unless `0 < test_fraction < 1`.
    pub fn split(&self, test_fraction: f64, seed: u64) -> Result<(Digits, Digits)> {
        if !(test_fraction > 0.0 && test_fraction < 1.0) {
            return Err(Error::InvalidArgument(format!(
                "Digits::split: test_fraction must be in (0, 1), got {test_fraction}"
            )));
        }
        let mut r = rng(seed);
        let (mut train, mut test) = (Vec::new(), Vec::new());
        for digit in 0..CLASSES {
            let mut rows = self.rows_of(digit);
            rows.shuffle(&mut r);
            let n_test = if rows.len() < 2 {
                0
            } else {
                ((rows.len() as f64 * test_fraction).round() as usize).clamp(1, rows.len() - 1)
            };
            test.extend_from_slice(&rows[..n_test]);
            train.extend_from_slice(&rows[n_test..]);
        }
        train.sort_unstable();
        test.sort_unstable();
        let subset = |rows: &[usize]| Digits {
            images: self.images.select(Axis(0), rows),
            labels: self.labels.select(Axis(0), rows),
        };
        Ok((subset(&train), subset(&test)))
    }

    fn rows_of(&self, digit: usize) -> Vec<usize> {
        self.labels
            .iter()
            .enumerate()
            .filter(|(_, &l)| l == digit as i64)
            .map(|(i, _)| i)
            .collect()
    }
}

fn check_digit(digit: usize) -> Result<()> {
    if digit < CLASSES {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!("{digit} is not a digit 0..9")))
    }
}

/// Training settings of [`DigitClassifier`].
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierConfig {
    /// Hidden widths (the last is the feature dimension of the FID-style score).
    pub hidden: Vec<usize>,
    /// Adam steps.
    pub steps: usize,
    /// Images per minibatch (drawn with replacement).
    pub batch_size: usize,
    /// Peak learning rate (cosine-decayed to 1% over the run).
    pub learning_rate: f64,
}

impl Default for ClassifierConfig {
    /// 64 → 128 → 64 → 10, 1500 steps of batch 128 at lr 3e-3.
    fn default() -> Self {
        ClassifierConfig {
            hidden: vec![128, 64],
            steps: 1500,
            batch_size: 128,
            learning_rate: 3e-3,
        }
    }
}

impl ClassifierConfig {
    /// The CI-sized run: 500 steps.
    pub fn quick() -> Self {
        ClassifierConfig {
            steps: 500,
            ..Self::default()
        }
    }
}

/// A small MLP digit classifier whose penultimate activations serve as the features of the
/// FID-style distance.
#[derive(Debug, Clone)]
pub struct DigitClassifier {
    mlp: Mlp,
    /// Cross-entropy of every training step.
    pub losses: Vec<f64>,
}

impl DigitClassifier {
    /// Trains on `digits` with softmax cross-entropy and Adam (seeded initialisation and batches).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for zero steps, batch or hidden layers; [`Error::Diverged`].
    pub fn train(digits: &Digits, config: &ClassifierConfig, seed: u64) -> Result<Self> {
        if config.steps == 0 || config.batch_size == 0 || config.hidden.is_empty() {
            return Err(Error::InvalidArgument(
                "DigitClassifier: steps, batch_size and the hidden widths must be non-empty".into(),
            ));
        }
        let dev = default_device(seed);
        let mut mlp = Mlp::builder(PIXELS)
            .hidden(&config.hidden)
            .output(CLASSES)
            .activation(Activation::SiLU)
            .build(&dev)?;
        let schedule = LrSchedule::warmup_cosine(
            config.learning_rate,
            config.learning_rate * 1e-2,
            config.steps / 20,
            config.steps,
        );
        let mut adam = Adam::new(AdamConfig::with_lr(config.learning_rate).schedule(schedule))?;
        let mut r = rng(seed.wrapping_add(1));
        let n = digits.len();
        let mut losses = Vec::with_capacity(config.steps);
        for step in 0..config.steps {
            let rows: Vec<usize> = (0..config.batch_size).map(|_| r.gen_range(0..n)).collect();
            let x = array_to_tensor(&dev, &digits.images.select(Axis(0), &rows), "digit batch")?;
            let mut onehot = Array2::<f32>::zeros((rows.len(), CLASSES));
            for (k, &i) in rows.iter().enumerate() {
                onehot[[k, digits.labels[i] as usize]] = 1.0;
            }
            let y = array_to_tensor(&dev, &onehot, "one-hot labels")?;
            let logits = mlp.forward(traced(&x))?;
            let loss = dfdx::losses::cross_entropy_with_logits_loss(logits, y);
            let value = loss.array();
            check_loss(step, value)?;
            losses.push(value as f64);
            let mut grads = loss.backward();
            adam.step(&mut mlp, &mut grads)?;
        }
        Ok(DigitClassifier { mlp, losses })
    }

    /// The underlying network.
    pub fn mlp(&self) -> &Mlp {
        &self.mlp
    }

    /// Class scores `[n, 10]` of images `[n, 64]`.
    ///
    /// # Errors
    /// [`Error::Shape`], [`Error::Empty`], [`Error::NonFinite`].
    pub fn logits(&self, images: &Array2<f32>) -> Result<Array2<f32>> {
        self.mlp.forward_array(images)
    }

    /// The predicted digit of each image.
    ///
    /// # Errors
    /// As [`DigitClassifier::logits`].
    pub fn predict(&self, images: &Array2<f32>) -> Result<Vec<usize>> {
        Ok(self
            .logits(images)?
            .rows()
            .into_iter()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .fold(
                        (0, f32::NEG_INFINITY),
                        |best, (k, &v)| if v > best.1 { (k, v) } else { best },
                    )
                    .0
            })
            .collect())
    }

    /// Penultimate-layer activations `[n, last hidden width]` (64 by default).
    ///
    /// # Errors
    /// As [`DigitClassifier::logits`].
    pub fn features(&self, images: &Array2<f32>) -> Result<Array2<f32>> {
        let layers = self.mlp.layers();
        let mut h = array_to_tensor(self.mlp.device(), images, "DigitClassifier::features input")?;
        for layer in &layers[..layers.len() - 1] {
            h = self.mlp.activation().apply(layer.forward(h)?);
        }
        Ok(tensor_to_array(&h))
    }

    /// Fraction of `digits` classified correctly.
    ///
    /// # Errors
    /// As [`DigitClassifier::logits`].
    pub fn accuracy(&self, digits: &Digits) -> Result<f64> {
        let predicted = self.predict(&digits.images)?;
        let right = predicted
            .iter()
            .zip(digits.labels.iter())
            .filter(|(&p, &l)| p as i64 == l)
            .count();
        Ok(right as f64 / digits.len() as f64)
    }

    /// Fraction of `images` classified as `digit`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a digit outside 0..9, otherwise as [`DigitClassifier::logits`].
    pub fn fraction_classified_as(&self, images: &Array2<f32>, digit: usize) -> Result<f64> {
        check_digit(digit)?;
        let predicted = self.predict(images)?;
        Ok(predicted.iter().filter(|&&p| p == digit).count() as f64 / predicted.len() as f64)
    }

    /// FID-style distance between two image sets: the Fréchet (squared Bures–Wasserstein) distance
    /// between Gaussians fitted to their [`DigitClassifier::features`].
    ///
    /// # Errors
    /// As [`DigitClassifier::features`]; [`Error::InvalidArgument`] for fewer than two images in a set;
    /// [`Error::Linalg`].
    pub fn frechet_distance(&self, a: &Array2<f32>, b: &Array2<f32>) -> Result<f64> {
        let (ma, ca) = fit_gaussian(&self.features(a)?)?;
        let (mb, cb) = fit_gaussian(&self.features(b)?)?;
        gaussian_w2_squared(&ma, &ca, &mb, &cb)
    }
}

/// The plain W2 map of `x` onto `y`: the barycentric projection T(xᵢ) = N Σⱼ Pᵢⱼ yⱼ of the exact
/// optimal plan P between the uniform measures on `x` `[N, d]` and `y` `[M, d]` under |x − y|².
///
/// # Errors
/// As [`exact_ot`].
///
/// ```
/// use lagrangian_ot::experiments::hota_digits::w2_barycentric_map;
/// use ndarray::array;
/// let mapped = w2_barycentric_map(&array![[0.0f32], [1.0]], &array![[10.0f32], [11.0], [12.0], [13.0]])?;
/// assert_eq!(mapped, array![[10.5f32], [12.5]]);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn w2_barycentric_map(x: &Array2<f32>, y: &Array2<f32>) -> Result<Array2<f32>> {
    let ot = exact_ot(x, y, GroundCost::SqEuclidean)?;
    let y64 = y.mapv(f64::from);
    let mapped = ot.plan.dot(&y64) * x.nrows() as f64;
    Ok(mapped.mapv(|v| v as f32))
}

/// The empirical measure on `images` `[n, d]` ([`Measure::from_samples`]). HOTA draws its batches
/// with [`Measure::sample_exact`], with replacement at any batch size, so batches of 256-512 work on
/// the ~145 training images of one digit.
///
/// # Errors
/// [`Error::Empty`], [`Error::NonFinite`].
pub fn digits_measure(name: &str, images: Array2<f32>) -> Result<Measure> {
    Measure::from_samples(name, images)
}

/// Mean squared displacement mean |xᵢ − T(xᵢ)|² between paired rows of two `[n, d]` arrays.
///
/// # Errors
/// [`Error::Shape`] for different shapes, [`Error::Empty`].
pub fn mean_displacement(x: &Array2<f32>, mapped: &Array2<f32>) -> Result<f64> {
    if x.dim() != mapped.dim() {
        return Err(Error::shape(
            "mean_displacement",
            format!("{:?}", x.dim()),
            format!("{:?}", mapped.dim()),
        ));
    }
    if x.is_empty() {
        return Err(Error::Empty("mean_displacement: no rows".into()));
    }
    let diff = (x - mapped).mapv(|v| f64::from(v) * f64::from(v));
    Ok(diff.sum() / x.nrows() as f64)
}

/// Scores `images` as translations into digit `target_digit`: the FID-style distance to `reference`
/// (real images of that digit), the share classified as it, and the mean squared displacement from
/// `sources` when given (NaN otherwise).
///
/// # Errors
/// As [`DigitClassifier::frechet_distance`], [`DigitClassifier::fraction_classified_as`] and
/// [`mean_displacement`].
pub fn score_translation(
    classifier: &DigitClassifier,
    images: &Array2<f32>,
    sources: Option<&Array2<f32>>,
    reference: &Array2<f32>,
    target_digit: usize,
) -> Result<TranslationScores> {
    Ok(TranslationScores {
        fid: classifier.frechet_distance(images, reference)?,
        target_accuracy: classifier.fraction_classified_as(images, target_digit)?,
        displacement: match sources {
            Some(x) => mean_displacement(x, images)?,
            None => f64::NAN,
        },
    })
}

/// One heatmap panel showing the first `n` images of `images` side by side (1-pixel gaps), pixel
/// values clamped to [0, 1], titled `title`.
pub fn digit_row(images: &Array2<f32>, n: usize, title: &str) -> Figure {
    if images.ncols() != PIXELS {
        return Figure::failed(Error::shape(
            "digit_row",
            format!("[n, {PIXELS}]"),
            format!("{:?}", images.dim()),
        ));
    }
    let n = n.min(images.nrows());
    if n == 0 {
        return Figure::failed(Error::Empty("digit_row: no images".into()));
    }
    let width = n * (SIDE + 1) - 1;
    let mut canvas = Array2::<f32>::zeros((SIDE, width));
    for k in 0..n {
        for r in 0..SIDE {
            for c in 0..SIDE {
                // Heatmap row 0 is drawn at the bottom; image row 0 is the top.
                let v = images[[k, r * SIDE + c]];
                canvas[[SIDE - 1 - r, k * (SIDE + 1) + c]] =
                    if v.is_finite() { v.clamp(0.0, 1.0) } else { 0.0 };
            }
        }
    }
    // Pin the colour scale to [0, 1] whatever the images hold (the gap pixels carry the extremes).
    if width > SIDE {
        canvas[[0, SIDE]] = 0.0;
        canvas[[SIDE - 1, SIDE]] = 1.0;
    }
    Figure::new()
        .title(title)
        .heatmap(&canvas, (0.0, width as f64), (0.0, SIDE as f64))
        .colormap(crate::plot::ColorMap::Viridis)
}

/// Stacks [`digit_row`] panels, one per `(title, images)`, into a one-column figure.
pub fn digit_grid(rows: &[(&str, &Array2<f32>)], n: usize) -> Figure {
    let figures = rows
        .iter()
        .map(|(title, images)| digit_row(images, n, title))
        .collect();
    Figure::grid(1, figures).panel_size(960, 190)
}

/// Settings of the digit translation experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct DigitsConfig {
    /// Digit translated from.
    pub source_digit: usize,
    /// Digit translated to.
    pub target_digit: usize,
    /// Share of each class held out for scoring.
    pub test_fraction: f64,
    /// HOTA size preset.
    pub preset: HotaPreset,
    /// HOTA steps (`None`: the preset's).
    pub iterations: Option<usize>,
    /// HOTA's initial learning rate (`None`: the preset's).
    pub learning_rate: Option<f64>,
    /// HOTA's base noise level σ.
    pub sigma: f32,
    /// The classifier's training.
    pub classifier: ClassifierConfig,
    /// Images per row of the figure.
    pub shown: usize,
    /// Seed of the split, the classifier, HOTA and the rollout noise.
    pub seed: u64,
}

impl DigitsConfig {
    /// 3 → 8 with HOTA's `Quick` network: 1200 steps, or 400 and a shorter classifier run when
    /// `quick`. (The `Fast` preset, 3×128 at lr 1e-3, diverges on this task: at 4000 steps its HJB
    /// residual reaches 2e4 and only 3% of its outputs are classified as 8s.)
    pub fn new(quick: bool, seed: u64) -> Self {
        DigitsConfig {
            source_digit: 3,
            target_digit: 8,
            test_fraction: 0.2,
            preset: HotaPreset::Quick,
            iterations: if quick { None } else { Some(1200) },
            learning_rate: None,
            sigma: 0.05,
            classifier: if quick {
                ClassifierConfig::quick()
            } else {
                ClassifierConfig::default()
            },
            shown: 10,
            seed,
        }
    }
}

/// One translated image set's scores (the reference is always the held-out target images).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TranslationScores {
    /// FID-style distance to the held-out target images.
    pub fid: f64,
    /// Fraction classified as the target digit.
    pub target_accuracy: f64,
    /// Mean squared pixel displacement from the source image (0 for the identity; undefined, NaN,
    /// for the real-target floor).
    pub displacement: f64,
}

/// Everything the digit translation experiment measured.
#[derive(Debug)]
pub struct DigitsOutcome {
    /// Accuracy of the classifier on all held-out images.
    pub classifier_accuracy: f64,
    /// HOTA's pushforward of the held-out sources.
    pub hota: TranslationScores,
    /// The plain W2 (barycentric exact-OT) map of the held-out sources.
    pub w2_map: TranslationScores,
    /// The held-out sources untranslated.
    pub identity: TranslationScores,
    /// As many real training images of the target digit (the sampling floor).
    pub floor: TranslationScores,
    /// Held-out source images `[n, 64]`.
    pub sources: Array2<f32>,
    /// HOTA's translations of them.
    pub hota_images: Array2<f32>,
    /// The W2 map's translations of them.
    pub w2_images: Array2<f32>,
    /// HOTA's training seconds.
    pub hota_seconds: f64,
    /// HOTA's final HJB loss.
    pub hota_final_hjb: f64,
    /// The input / HOTA / W2-map image grid.
    pub figure: Figure,
}

/// `n` (at least 2) rows of `images` drawn without replacement by a seeded shuffle: the real-image
/// floor of the FID-style distance at the sample size of the translated set.
pub fn real_subset(images: &Array2<f32>, n: usize, seed: u64) -> Array2<f32> {
    let mut rows: Vec<usize> = (0..images.nrows()).collect();
    rows.shuffle(&mut rng(seed.wrapping_add(29)));
    rows.truncate(n.max(2));
    images.select(Axis(0), &rows)
}

/// Runs the whole experiment on `digits`: split, classifier, HOTA, baseline, scores, figure.
///
/// # Errors
/// [`Error::InvalidArgument`] for a digit outside 0..9 or equal digits; errors of the steps.
pub fn translate_digits(
    digits: &Digits,
    config: &DigitsConfig,
    progress: ProgressMode,
) -> Result<DigitsOutcome> {
    check_digit(config.source_digit)?;
    check_digit(config.target_digit)?;
    if config.source_digit == config.target_digit {
        return Err(Error::InvalidArgument(format!(
            "translate_digits: source and target digit are both {}",
            config.source_digit
        )));
    }
    let (a, b) = (config.source_digit, config.target_digit);
    let (train, test) = digits.split(config.test_fraction, config.seed)?;
    let classifier = DigitClassifier::train(&train, &config.classifier, config.seed)?;
    let classifier_accuracy = classifier.accuracy(&test)?;

    let (train_a, train_b) = (train.class(a)?, train.class(b)?);
    let (test_a, test_b) = (test.class(a)?, test.class(b)?);

    let mut builder = Hota::builder(NoPotential, PIXELS)
        .source(digits_measure(&format!("digit {a}"), train_a)?)
        .target(digits_measure(&format!("digit {b}"), train_b.clone())?)
        .preset(config.preset)
        .sigma(config.sigma)
        .seed(config.seed)
        .progress(progress);
    if let Some(n) = config.iterations {
        builder = builder.iterations(n);
    }
    if let Some(lr) = config.learning_rate {
        builder = builder.learning_rate(lr);
    }
    let started = Instant::now();
    let model = builder.build()?.fit()?;
    let hota_seconds = started.elapsed().as_secs_f64();
    let hota_images = model.transport(&test_a, config.seed.wrapping_add(17))?;
    crate::error::ensure_finite("HOTA translations", hota_images.iter())?;
    let w2_images = w2_barycentric_map(&test_a, &train_b)?;

    let score = |images: &Array2<f32>, sources: Option<&Array2<f32>>| {
        score_translation(&classifier, images, sources, &test_b, b)
    };
    let hota = score(&hota_images, Some(&test_a))?;
    let w2_map = score(&w2_images, Some(&test_a))?;
    let identity = score(&test_a, Some(&test_a))?;
    let floor = score(&real_subset(&train_b, test_a.nrows(), config.seed), None)?;

    let shown = config.shown.max(1);
    let figure = digit_grid(
        &[
            (&format!("input: held-out {a}s"), &test_a),
            (
                &format!(
                    "HOTA {a} -> {b}: FID-style {:.2}, classified {b}: {:.0}%",
                    hota.fid,
                    100.0 * hota.target_accuracy
                ),
                &hota_images,
            ),
            (
                &format!(
                    "plain W2 map (exact OT barycentric): FID-style {:.2}, classified {b}: {:.0}%",
                    w2_map.fid,
                    100.0 * w2_map.target_accuracy
                ),
                &w2_images,
            ),
            (
                &format!("real held-out {b}s (reference)"),
                &test_b.slice(s![..shown.min(test_b.nrows()), ..]).to_owned(),
            ),
        ],
        shown,
    )
    .suptitle(&format!("UCI 8x8 digits: {a} -> {b} in pixel space"));
    Ok(DigitsOutcome {
        classifier_accuracy,
        hota,
        w2_map,
        identity,
        floor,
        sources: test_a,
        hota_images,
        w2_images,
        hota_seconds,
        hota_final_hjb: model.history().hjb_loss.last().copied().unwrap_or(f64::NAN),
        figure,
    })
}

impl DigitsOutcome {
    /// The score table as text: one row per image set.
    pub fn table(&self) -> String {
        let mut out = format!(
            "classifier accuracy on held-out digits: {:.4}\n{:<26} {:>12} {:>16} {:>14}\n",
            self.classifier_accuracy, "images", "FID-style", "target-class acc", "displacement"
        );
        for (name, s) in self.rows() {
            out.push_str(&format!(
                "{name:<26} {:>12.3} {:>16.3} {:>14.3}\n",
                s.fid, s.target_accuracy, s.displacement
            ));
        }
        out
    }

    fn rows(&self) -> [(&'static str, TranslationScores); 4] {
        [
            ("HOTA", self.hota),
            ("plain W2 map (exact OT)", self.w2_map),
            ("identity (untranslated)", self.identity),
            ("real targets (floor)", self.floor),
        ]
    }

    /// The outcome as an experiment [`Report`] holding the image grid.
    pub fn into_report(self) -> Report {
        let mut report = Report::new(Figure::new())
            .metric("classifier_test_accuracy", self.classifier_accuracy, None)
            .metric("hota_train_seconds", self.hota_seconds, None)
            .metric("hota_final_hjb_loss", self.hota_final_hjb, None);
        for (key, scores) in [
            ("hota", self.hota),
            ("w2_map", self.w2_map),
            ("identity", self.identity),
            ("real_target", self.floor),
        ] {
            report = report.metric(&format!("{key}_fid"), scores.fid, None).metric(
                &format!("{key}_target_accuracy"),
                scores.target_accuracy,
                None,
            );
            if scores.displacement.is_finite() && key != "identity" {
                report = report.metric(&format!("{key}_displacement"), scores.displacement, None);
            }
        }
        report.figure = self.figure;
        report
    }
}

/// `lot reproduce hota-digits`: 3 → 8 on the held-out digits, HOTA vs the plain W2 map vs the
/// identity vs real target images, scored by FID-style distance and target-class accuracy.
///
/// # Errors
/// [`Error::Dataset`] naming `scripts/fetch_digits.py` when the data is missing; errors of
/// [`translate_digits`].
pub fn run(config: &RunConfig) -> Result<Report> {
    let digits = Digits::load_default()?;
    let settings = DigitsConfig::new(config.quick, config.seed);
    Ok(translate_digits(&digits, &settings, ProgressMode::Auto)?.into_report())
}

//! Fits CLOT on the semicircles and prints NLL / CD at the held-out times, for tuning presets.
//! `cargo run --release --example hti_semicircle -- [variant] [fast|paper|quick] [seed] [key=value ...]`
//! keys: iters, batch (0 = full), metric (hidden width), lr, lbfgs (max iterations), refit (steps per
//! refit), every (refit period), init (initial path steps), spline (amortiser width), decay (final rate
//! of the potentials' and maps' cosine decay; 0 keeps the rate constant).
//! Also prints the circle distance at each time, and with `HTI_SAVE=DIR` saves the surrogate there.
use lagrangian_ot::data::AnchoredDataset;
use lagrangian_ot::data::{semicircle, ConditionView};
use lagrangian_ot::experiments::hti::{
    semicircle_bounds, semicircle_density, semicircle_scores, semicircle_start,
};
use lagrangian_ot::nn::AdamConfig;
use lagrangian_ot::progress::ProgressMode;
use lagrangian_ot::solver::{Hti, HtiConfig, HtiPreset, HtiVariant};
use lagrangian_ot::surrogate::Surrogate;

fn main() -> lagrangian_ot::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let variant = HtiVariant::from_name(args.get(1).map_or("ktheta-u", |s| s.as_str()))?;
    let preset = match args.get(2).map_or("fast", |s| s.as_str()) {
        "paper" => HtiPreset::Paper,
        "quick" => HtiPreset::Quick,
        _ => HtiPreset::Fast,
    };
    let seed: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut c = HtiConfig::preset(preset, variant);
    for kv in args.iter().skip(4) {
        let (k, v) = kv.split_once('=').expect("key=value");
        let n: f64 = v.parse().expect("a number");
        match k {
            "iters" => c.iterations = n as usize,
            "batch" => c.batch_size = (n > 0.0).then_some(n as usize),
            "metric" => c.metric_hidden = vec![n as usize; 2],
            "lr" => c.potential_optimizer = AdamConfig::with_lr(n).weight_decay(1e-4),
            // Final rate of the potentials' and maps' cosine decay (0: constant rate).
            "decay" => c.potential_lr_final = (n > 0.0).then_some(n),
            "lbfgs" => c.ctransform.max_iters = n as usize,
            "refit" => c.refit_steps = n as usize,
            "every" => c.refit_every = n as usize,
            "init" => c.initial_path_steps = n as usize,
            "spline" => c.amortiser.hidden = vec![n as usize; 2],
            _ => panic!("unknown key {k}"),
        }
    }
    c.seed = seed;
    c.progress = ProgressMode::Lines;
    c.density = semicircle_density();
    c.bounds = Some(semicircle_bounds()?);
    let data = AnchoredDataset::load_shared("semicircle")?;
    let model = Hti::builder().data(&data).config(c).build()?.fit()?;
    let (nll, cd) = semicircle_scores(model.surrogate(), seed)?;
    let h = model.history();
    println!(
        "{} seed {seed} {:?}: NLL {nll:.3} CD {:.4} ({:.1} s, initial path fit {:.1} s, path losses {:?})",
        variant.paper_name(),
        &args[4.min(args.len())..],
        cd,
        h.seconds,
        h.initial_fit_seconds,
        h.path_loss
            .iter()
            .step_by(4)
            .map(|v| (v * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>()
    );
    // Where the circle distance comes from: each held-out time, and the map ends at the anchors
    // (t = 0.5: T_0, t = 1: T_1 ∘ T_0) that the paths join.
    let (start, labels) = semicircle_start(seed)?;
    let cond = ConditionView::Categorical(labels.view());
    let per_time: Vec<String> = [0.25f32, 0.5, 0.75, 1.0]
        .iter()
        .map(|&t| {
            let p = model.surrogate().predict(t, start.view(), &cond)?;
            Ok(format!(
                "t = {t}: {:.4}",
                semicircle::circle_distance(&p, &labels)?
            ))
        })
        .collect::<lagrangian_ot::Result<_>>()?;
    println!("circle distance by time: {}", per_time.join(", "));
    if let Ok(dir) = std::env::var("HTI_SAVE") {
        let path = std::path::Path::new(&dir).join(format!("{}_s{seed}", variant.cli_name()));
        model.surrogate().save(&path)?;
        println!("saved the surrogate to {}", path.display());
    }
    Ok(())
}

//! Trains HOTA on one benchmark and prints the paper's scores, for tuning presets.
//! `cargo run --release --example hota_benchmark -- <benchmark> [fast|paper|quick] [seed] [key=value ...]`
//! keys: iters, batch, pbatch (potential batch), lr, warmup, width (trunk width), depth, film, sigma,
//! hjb (λ_hjb), accel (λ_a), eval (evaluation points), buffer/balance/ema (0 switches off),
//! kappa_max (cap on the balancing factor κ; 0: uncapped), raw (1, the benchmarks' default: train
//! in the original coordinates; 0: in normalised ones), svg (1: write the trajectories figure to
//! `hota-<benchmark>-seed<seed>.svg`).
use lagrangian_ot::data::HotaBenchmark;
use lagrangian_ot::experiments::hota::score_benchmark;
use lagrangian_ot::progress::ProgressMode;
use lagrangian_ot::solver::{Hota, HotaPreset, Normalization};

fn main() -> lagrangian_ot::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let benchmark = HotaBenchmark::from_name(args.get(1).map_or("vneck", |s| s.as_str()))?;
    let preset = HotaPreset::from_name(args.get(2).map_or("fast", |s| s.as_str()))?;
    let seed: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut builder = Hota::benchmark(benchmark)?
        .preset(preset)
        .seed(seed)
        .progress(ProgressMode::Lines);
    let mut c = builder.settings().clone();
    let (mut width, mut depth, mut film) = (c.net.widths()[0], c.net.widths().len(), 0usize);
    let mut eval = 2000usize;
    let mut svg = false;
    for kv in args.iter().skip(4) {
        let (k, v) = kv.split_once('=').expect("key=value");
        let n: f64 = v.parse().expect("a number");
        match k {
            "iters" => c.iterations = n as usize,
            "batch" => c.batch_size = n as usize,
            "pbatch" => c.potential_batch = n as usize,
            "lr" => c.learning_rate = n,
            "warmup" => c.warmup_steps = n as usize,
            "width" => width = n as usize,
            "depth" => depth = n as usize,
            "film" => film = n as usize,
            "sigma" => c.sigma = n as f32,
            "hjb" => c.hjb_weight = n as f32,
            "accel" => c.acceleration_weight = n as f32,
            "eval" => eval = n as usize,
            "buffer" => c.ablation.replay_buffer = n != 0.0,
            "balance" => c.ablation.gradient_balancing = n != 0.0,
            "ema" => c.ablation.ema_target = n != 0.0,
            "raw" if n != 0.0 => c.normalization = Some(Normalization::identity(c.net.dim())),
            "raw" => c.normalization = None,
            "svg" => svg = n != 0.0,
            "kappa_max" => c.max_balance = (n > 0.0).then_some(n as f32),
            _ => panic!("unknown key {k}"),
        }
    }
    c.net = c.net.clone().hidden(&vec![width; depth]);
    if film > 0 {
        c.net = c.net.clone().film_width(film);
    }
    builder = builder.config(c);
    let model = builder.build()?.fit()?;
    let scores = score_benchmark(&model, benchmark, eval, seed)?;
    let h = model.history();
    // Where the evaluation mass is along the way: the first failure mode to look for.
    let rollout = model.rollout(model.eval_samples().0, seed)?;
    let steps = rollout.states.len() - 1;
    for k in [0, steps / 4, steps / 2, 3 * steps / 4, steps] {
        let x = &rollout.states[k];
        let mean = x.mean_axis(ndarray::Axis(0)).expect("non-empty");
        let std = x.std_axis(ndarray::Axis(0), 0.0);
        let shown = mean.len().min(3);
        println!(
            "  t = {:.2}: mean {:.3?}, std {:.3?}",
            k as f64 / steps as f64,
            &mean.as_slice().expect("contiguous")[..shown],
            &std.as_slice().expect("contiguous")[..shown]
        );
    }
    if svg {
        model
            .trajectories_figure()
            .save_svg(format!("hota-{}-seed{seed}.svg", benchmark.name()))?;
    }
    for ((it, w2), action) in h.eval_iteration.iter().zip(&h.eval_w2).zip(&h.eval_action) {
        println!("  step {it:>6}: divergence (ε = 1e-2) {w2:.5}, action {action:.3}");
    }
    println!(
        "{} seed {seed} {:?}: W2 {:.5} (floor {:.5}, paper {:?}) cost {:.3} (paper {:?}) kinetic {:.3} in-obstacle {:.4}; {:.1} s ({:.1} ms/step)",
        benchmark.name(),
        &args[4.min(args.len())..],
        scores.w2,
        scores.w2_floor,
        benchmark.paper_w2(),
        scores.cost,
        benchmark.paper_cost(),
        scores.kinetic,
        scores.in_obstacle,
        h.seconds,
        1000.0 * h.seconds / model.config().iterations as f64,
    );
    Ok(())
}

//! The regenerated Scarvelis sequences: shapes, routes of the slice means, paths that really follow
//! the known metric's cheap direction (the circle's arcs, not its chords), determinism per seed.

use lagrangian_ot::data::scarvelis::{self, ScarvelisConfig, ScarvelisKind};
use lagrangian_ot::prelude::*;
use ndarray::Axis;

#[test]
fn circle_slices_walk_the_unit_circle_counter_clockwise() {
    let data = scarvelis::circle(0).unwrap();
    assert_eq!(data.slices.dim(), (25, 100, 2));
    assert_eq!(data.slice(0), data.slice(24), "closed loop");
    let means = data.means();
    let mut previous = 0.0f64;
    for (k, m) in means.outer_iter().enumerate() {
        let radius = (m[0] as f64).hypot(m[1] as f64);
        assert!((radius - 1.0).abs() < 0.05, "slice {k}: mean radius {radius}");
        if k > 0 {
            let mut angle = (m[1] as f64).atan2(m[0] as f64);
            while angle < previous - 0.5 {
                angle += 2.0 * std::f64::consts::PI;
            }
            let step = (angle - previous).to_degrees();
            assert!(
                (10.0..20.0).contains(&step),
                "slice {k}: step {step}° (15° expected)"
            );
            previous = angle;
        }
    }
    // Half-way along a quarter arc the chord would sit at radius 0.71: the points are on the circle.
    let middle = data.slice(3).unwrap();
    let radii = middle.map_axis(Axis(1), |p| p[0].hypot(p[1]));
    let mean_radius = radii.mean().unwrap();
    assert!(
        (mean_radius - 1.0).abs() < 0.05,
        "points of slice 3 at mean radius {mean_radius}"
    );
}

#[test]
fn mass_splitting_halves_reach_both_targets_with_the_reference_spacing() {
    let data = scarvelis::mass_splitting(1).unwrap();
    assert_eq!(data.slices.dim(), (10, 100, 2));
    let last = data.slice(9).unwrap();
    let upper = last.slice(ndarray::s![..50, ..]).mean_axis(Axis(0)).unwrap();
    let lower = last.slice(ndarray::s![50.., ..]).mean_axis(Axis(0)).unwrap();
    assert!(
        (upper[0] - 10.0).abs() < 0.5 && (upper[1] - 10.0).abs() < 0.5,
        "{upper}"
    );
    assert!(
        (lower[0] - 10.0).abs() < 0.5 && (lower[1] + 10.0).abs() < 0.5,
        "{lower}"
    );
    let means = data.means();
    for (k, reference) in scarvelis::MASS_SPLIT_REFERENCE_MEANS.iter().enumerate() {
        let x = means[[k, 0]] as f64;
        assert!(
            (x - reference).abs() < 0.4,
            "slice {k}: mean x {x} vs {reference}"
        );
    }
    assert_eq!(data.bounds, Bounds::rect((-2.5, 15.0), (-15.0, 15.0)).unwrap());
}

#[test]
fn x_paths_are_two_diagonal_streams() {
    let data = scarvelis::x_paths(2).unwrap();
    assert_eq!(data.slices.dim(), (10, 200, 2));
    for k in 0..10 {
        let slice = data.slice(k).unwrap();
        let a = slice.slice(ndarray::s![..100, ..]).mean_axis(Axis(0)).unwrap();
        let b = slice.slice(ndarray::s![100.., ..]).mean_axis(Axis(0)).unwrap();
        let expected = -1.0 + 2.0 * k as f32 / 9.0;
        // Constant metric speed is not constant Euclidean speed (A = I near the origin), so the
        // positions along the diagonal only roughly follow k/9.
        assert!(
            (a[0] - a[1]).abs() < 0.1 && (a[0] - expected).abs() < 0.3,
            "stream 1, slice {k}: {a}"
        );
        assert!(
            (b[0] + b[1]).abs() < 0.1 && (b[0] - expected).abs() < 0.3,
            "stream 2, slice {k}: {b}"
        );
    }
}

#[test]
fn generation_is_deterministic_per_seed_and_validated() {
    let config = ScarvelisConfig::paper(ScarvelisKind::XPaths, 7)
        .samples(16)
        .slices(4);
    let a = scarvelis::generate(&config).unwrap();
    let b = scarvelis::generate(&config).unwrap();
    assert_eq!(a.slices, b.slices);
    let other = scarvelis::generate(&ScarvelisConfig {
        seed: 8,
        ..config.clone()
    })
    .unwrap();
    assert_ne!(a.slices, other.slices);
    for bad in [
        config.clone().slices(1),
        config.clone().samples(0),
        ScarvelisConfig::paper(ScarvelisKind::Circle, 0).slices(8),
        ScarvelisConfig::paper(ScarvelisKind::MassSplitting, 0).samples(15),
    ] {
        assert!(
            matches!(scarvelis::generate(&bad), Err(Error::InvalidArgument(_))),
            "{bad:?}"
        );
    }
    assert!(a.to_svg().unwrap().starts_with("<svg"));
}

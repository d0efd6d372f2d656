//! End-to-end checks of the synthetic relief world: determinism, labels that agree with
//! the heights they were derived from, value ranges, class coverage, and the dataset
//! folder written by `write_dataset` (read back with the image crate).

use relievo::labels::{self, SEMANTIC_CLASSES};
use relievo::synth::{SynthParams, generate, sample_name, write_dataset};

fn params(size_px: usize) -> SynthParams {
    SynthParams {
        size_px,
        ..Default::default()
    }
}

#[test]
fn same_seed_same_sample_and_different_seeds_differ() {
    let p = params(128);
    let a = generate(7, &p);
    let b = generate(7, &p);
    assert!(a == b, "seed 7 must give a bit-identical sample");
    let c = generate(8, &p);
    assert_ne!(a.height, c.height);
    assert_ne!(a.photo, c.photo);
}

#[test]
fn labels_agree_with_heights_and_values_are_in_range() {
    let p = params(128);
    let mut seen = [false; SEMANTIC_CLASSES];
    let mut raised_samples = 0;
    let mut samples_with_both = 0;
    for seed in 0..40u64 {
        let s = generate(seed, &p);
        for grid_size in [
            (s.photo.width, s.photo.height),
            (s.height.width, s.height.height),
            (s.semantics.width, s.semantics.height),
            (s.edges.width, s.edges.height),
        ] {
            assert_eq!(grid_size, (128, 128), "seed {seed}");
        }
        assert_eq!(
            s.edges,
            labels::soft_edge_classes(&s.height),
            "seed {seed}: edges are derived from the height"
        );
        assert!(s.edges.data.iter().all(|&c| c <= 5));
        assert!(s.height.data.iter().all(|v| (0.0..=1.0).contains(v)), "seed {seed}");
        let (lo, hi) = s.height.min_max();
        assert!(lo < 0.01 && hi > 0.99, "seed {seed}: height spans 0..1 ({lo}..{hi})");
        assert!(
            s.photo.data.iter().flatten().all(|v| (0.0..=1.0).contains(v)),
            "seed {seed}: photo in 0..1"
        );
        assert!(
            s.semantics.data.iter().all(|&c| (c as usize) < SEMANTIC_CLASSES),
            "seed {seed}"
        );
        for &c in &s.semantics.data {
            seen[c as usize] = true;
        }
        let mean = |pick: &dyn Fn(u8) -> bool| {
            let v: Vec<f32> = s
                .height
                .data
                .iter()
                .zip(&s.semantics.data)
                .filter(|(_, c)| pick(**c))
                .map(|(h, _)| *h)
                .collect();
            (!v.is_empty()).then(|| v.iter().sum::<f32>() / v.len() as f32)
        };
        if let (Some(carved), Some(ground)) = (mean(&|c| c > 0), mean(&|c| c == 0)) {
            samples_with_both += 1;
            if carved > ground {
                raised_samples += 1;
            }
        }
    }
    assert!(
        seen.iter().all(|&s| s),
        "all four classes occur over 40 samples: {seen:?}"
    );
    assert!(
        samples_with_both >= 30,
        "most samples have carved and background pixels"
    );
    // Carvings are raised, except by design incised inscriptions and pecked rock art,
    // which are labelled with what they depict but lie below the ground (about a tenth
    // of the samples).
    assert!(
        raised_samples * 4 >= samples_with_both * 3,
        "carved classes are raised: {raised_samples}/{samples_with_both}"
    );
}

#[test]
fn all_six_edge_classes_occur() {
    let p = params(128);
    let mut seen = [0usize; 6];
    for seed in 100..110u64 {
        for &c in &generate(seed, &p).edges.data {
            seen[c as usize] += 1;
        }
    }
    assert!(seen.iter().all(|&n| n > 0), "edge class counts {seen:?}");
}

#[test]
fn write_dataset_writes_the_four_folders() {
    let dir = std::env::temp_dir().join(format!("relievo_synth_test_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let p = params(64);
    let calls = std::cell::Cell::new(0);
    write_dataset(&dir, 3, &p, 5, |done, total| {
        assert!(done <= total && total == 3);
        calls.set(calls.get() + 1);
    })
    .expect("dataset written");
    assert!(calls.get() >= 1);
    for i in 0..3 {
        let name = format!("{}.png", sample_name(5, i));
        let photo = image::open(dir.join("images").join(&name)).expect("photo");
        assert!(matches!(photo, image::DynamicImage::ImageRgb8(_)));
        assert_eq!((photo.width(), photo.height()), (64, 64));
        let depth = image::open(dir.join("depth").join(&name)).expect("depth");
        let depth = match depth {
            image::DynamicImage::ImageLuma16(d) => d,
            other => panic!("depth must be 16-bit grey, got {:?}", other.color()),
        };
        assert_eq!(depth.dimensions(), (64, 64));
        assert_eq!(depth.pixels().map(|p| p.0[0]).max(), Some(65535));
        for (sub, max_class) in [("semantics", 3u8), ("edges", 5u8)] {
            let img = image::open(dir.join(sub).join(&name)).expect(sub);
            let img = match img {
                image::DynamicImage::ImageLuma8(g) => g,
                other => panic!("{sub} must be 8-bit grey, got {:?}", other.color()),
            };
            assert_eq!(img.dimensions(), (64, 64));
            assert!(img.pixels().all(|p| p.0[0] <= max_class), "{sub} ids in range");
        }
        // The written edges agree with the written depth's generator sample.
        let sample = generate(relievo::synth::sample_seed(5, i), &p);
        let depth_back: Vec<f32> = depth.pixels().map(|p| p.0[0] as f32 / 65535.0).collect();
        let original: Vec<f32> = sample.height.data.clone();
        assert!(
            depth_back
                .iter()
                .zip(&original)
                .all(|(a, b)| (a - b).abs() <= 1.0 / 65535.0)
        );
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

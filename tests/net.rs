//! The network end to end on the CPU: a tiny configuration overfits one batch,
//! weights round-trip exactly, and bad weights give one clear error.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor};
use relievo::grid::Grid;
use relievo::net::loss::total_loss;
use relievo::net::weights::{self, WeightsMeta};
use relievo::net::{EdgeMode, InferOptions, InitNet, MultiTaskConfig, predict};
use relievo::photo::Photo;
use relievo::train::data::{Sample, to_batch};

/// The tests that train from a seeded start, one at a time: the CPU device's random
/// generator (drawn when burn first touches a parameter) is shared by every test thread.
static ONE_SEEDED_RUN_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn tiny(edge_mode: EdgeMode) -> MultiTaskConfig {
    MultiTaskConfig::new()
        .with_encoder_channels([8, 8, 12, 12, 16])
        .with_edge_channels([4, 4, 6, 6])
        .with_edge_mode(edge_mode)
}

/// A 32×32 relief: a raised disc (figure) on a plane, with its soft edges.
fn disc_sample() -> Sample {
    let n = 32;
    let height = Grid::from_fn(n, n, |x, y| {
        let r = (((x as f32 - 15.5).powi(2) + (y as f32 - 15.5).powi(2)).sqrt() / 10.0).min(1.0);
        (1.0 - r * r).max(0.0)
    });
    let photo = Grid::from_fn(n, n, |x, y| {
        let v = 0.5
            + 0.4 * (height.get_clamped(x as isize - 1, y as isize) - height.get_clamped(x as isize + 1, y as isize));
        [v, v * 0.95, v * 0.85]
    });
    let semantics = height.map(|h| u8::from(h > 0.0));
    let edges = relievo::labels::soft_edge_classes(&height);
    Sample {
        photo,
        height,
        semantics: Some(semantics),
        edges,
        edges_from_depth: true,
        // Faces that slope down to the right are the bright ones: lit from the right.
        light: Some([0.9, 0.0]),
    }
}

#[test]
fn tiny_model_overfits_one_batch_with_the_edge_module() {
    let _run = ONE_SEEDED_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let device = Device::flex().autodiff();
    device.seed(1);
    let config = tiny(EdgeMode::MultiClass);
    let mut model = config.init(&device);
    let mut optim = AdamConfig::new().init();
    let (photo, targets) = to_batch(&[disc_sample()], &WeightsMeta::default(), &device);
    let mut first = None;
    let mut last = (0.0, 0.0, 0.0, 0.0);
    for _ in 0..60 {
        let out = model.forward(photo.clone());
        assert!(out.edges_photo.is_some() && out.edges_depth.is_some());
        let parts = total_loss(&out, &targets, &config.loss, config.edge_mode);
        last = (
            parts.total.clone().into_scalar::<f32>() as f64,
            parts.depth,
            parts.edge,
            parts.semantic,
        );
        first.get_or_insert(last);
        let grads = GradientsParams::from_grads(parts.total.backward(), &model);
        model = optim.step(3e-3, model, grads);
    }
    // (total, depth, edge, semantic): depth and semantics fit the batch 10×; the
    // soft edges, predicted at half resolution and upsampled, fit it more slowly.
    let first = first.unwrap();
    assert!(
        last.1 < 0.1 * first.1 && last.3 < 0.1 * first.3 && last.2 < 0.35 * first.2 && last.0 < 0.2 * first.0,
        "loss fell from {first:?} to {last:?} only"
    );
}

#[test]
fn a_light_head_learns_which_side_a_photo_is_lit_from() {
    let _run = ONE_SEEDED_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let device = Device::flex().autodiff();
    device.seed(4);
    let config = tiny(EdgeMode::MultiClass).with_light_head(true);
    let mut model = config.init(&device);
    let mut optim = AdamConfig::new().init();
    // The disc lit from the right, and mirrored: lit from the left.
    let right = disc_sample();
    let mirror = |g: &Grid<[f32; 3]>| Grid::from_fn(g.width, g.height, |x, y| g.get(g.width - 1 - x, y));
    let left = Sample {
        photo: mirror(&right.photo),
        light: Some([-0.9, 0.0]),
        ..right.clone()
    };
    let (photo, targets) = to_batch(&[right, left], &WeightsMeta::default(), &device);
    let light_error = |out: &relievo::net::MultiTaskOutput| {
        relievo::net::loss::light_loss(
            out.light.clone().unwrap(),
            targets.light.clone(),
            targets.light_known.clone(),
        )
        .into_scalar::<f32>()
    };
    let first = light_error(&model.forward(photo.clone()));
    for _ in 0..120 {
        let out = model.forward(photo.clone());
        let parts = total_loss(&out, &targets, &config.loss, config.edge_mode);
        assert!(parts.light.is_some());
        let grads = GradientsParams::from_grads(parts.total.backward(), &model);
        model = optim.step(3e-3, model, grads);
    }
    let last = light_error(&model.forward(photo));
    assert!(last < 0.2 * first && last < 0.1, "light error {first} → {last}");
}

#[test]
fn every_edge_mode_builds_and_gives_a_finite_loss() {
    let device = Device::flex();
    for mode in [
        EdgeMode::None,
        EdgeMode::Binary,
        EdgeMode::MultiClass,
        EdgeMode::Continuous,
    ] {
        let mut config = tiny(mode)
            .with_seg_depth_attention(true)
            .with_edge_weighted_decoder(true);
        config.loss.point_cloud = 1.0;
        config.loss.virtual_normal = 1.0;
        config.loss.gradient = 1.0;
        config.loss.edge_aware = 1.0;
        let model = config.init(&device);
        let (photo, targets) = to_batch(&[disc_sample()], &WeightsMeta::default(), &device);
        let out = model.forward(photo);
        assert_eq!(out.depth.dims(), [1, 1, 32, 32]);
        assert_eq!(out.semantics.dims(), [1, 4, 32, 32]);
        assert_eq!(out.edges_photo.is_some(), mode != EdgeMode::None);
        let total = total_loss(&out, &targets, &config.loss, mode)
            .total
            .into_scalar::<f32>();
        assert!(total.is_finite(), "{mode:?}: {total}");
    }
}

#[test]
fn a_slope_head_learns_a_batch_round_trips_and_is_fused_only_with_a_screen() {
    let _run = ONE_SEEDED_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let device = Device::flex().autodiff();
    device.seed(2);
    let config = tiny(EdgeMode::MultiClass).with_slope_head(true);
    let mut model = config.init(&device);
    let mut optim = AdamConfig::new().init();
    let sample = disc_sample();
    let (photo, targets) = to_batch(std::slice::from_ref(&sample), &WeightsMeta::default(), &device);
    let slope_error = |out: &relievo::net::MultiTaskOutput| {
        relievo::net::loss::slope_loss(out.slopes.clone().unwrap(), targets.depth.clone()).into_scalar::<f32>()
    };
    let first = slope_error(&model.forward(photo.clone()));
    for _ in 0..60 {
        let out = model.forward(photo.clone());
        let parts = total_loss(&out, &targets, &config.loss, config.edge_mode);
        let grads = GradientsParams::from_grads(parts.total.backward(), &model);
        model = optim.step(3e-3, model, grads);
    }
    let last = slope_error(&model.forward(photo.clone()));
    assert!(last < 0.5 * first, "slope error fell from {first} to {last} only");

    let dir = tempfile::tempdir().unwrap();
    weights::save(dir.path(), &model.valid(), &config, &WeightsMeta::default()).unwrap();
    let cpu = Device::flex();
    let loaded = weights::load(dir.path(), &cpu).unwrap();
    assert!(loaded.config.slope_head && loaded.model.has_slope_head());
    let input = Tensor::<4>::random([1, 3, 32, 32], burn::tensor::Distribution::Default, &cpu);
    assert_eq!(
        model.valid().forward(input.clone()).slopes.unwrap().into_data(),
        loaded.model.forward(input).slopes.unwrap().into_data()
    );
    // Screen 0 (the default) leaves the height as the head predicts it; a screen in the
    // saved config fuses the slopes in, still a finite 0..1 height of the photo's size.
    let depth = |screen: f64| {
        let dir = tempfile::tempdir().unwrap();
        let config = MultiTaskConfig {
            slope_screen: screen,
            ..config.clone()
        };
        weights::save(dir.path(), &model.valid(), &config, &WeightsMeta::default()).unwrap();
        let w = weights::load(dir.path(), &cpu).unwrap();
        let photo = Photo {
            rgb: sample.photo.clone(),
            was_grey: false,
        };
        predict(&w, &photo, &cpu, &InferOptions::default()).depth
    };
    let (plain, fused) = (depth(0.0), depth(0.01));
    assert_eq!(plain.data, depth(0.0).data);
    assert_eq!((fused.width, fused.height), (32, 32));
    assert!(fused.data.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
    let moved = plain
        .data
        .iter()
        .zip(&fused.data)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(moved > 1e-3, "fusing changed nothing");
}

/// Every float tensor of a network by its path, as numbers.
fn tensors(model: &relievo::net::MultiTaskNet) -> std::collections::BTreeMap<String, Vec<f32>> {
    weights::float_tensors(model)
        .into_iter()
        .map(|(path, data)| (path, data.try_to_vec().unwrap()))
        .collect()
}

#[test]
fn interpolated_weights_blend_every_shared_tensor_and_keep_a_new_head() {
    let device = Device::flex();
    let weights_of = |config: MultiTaskConfig, seed: u64| {
        device.seed(seed);
        weights::Weights {
            model: config.init(&device),
            config,
            meta: WeightsMeta::default(),
        }
    };
    let base = weights_of(tiny(EdgeMode::MultiClass), 3);
    let tuned = weights_of(tiny(EdgeMode::MultiClass).with_slope_head(true), 4);
    let (half, report) = weights::interpolate(&base, &tuned, 0.25).unwrap();
    let (a, b, h) = (tensors(&base.model), tensors(&tuned.model), tensors(&half.model));
    assert_eq!(report.blended, a.len());
    assert_eq!((report.tuned_only, report.base_only), (b.len() - a.len(), 0));
    assert!(report.tuned_only >= 1 && h.len() == b.len());
    for (path, blended) in &h {
        match a.get(path) {
            Some(base) => {
                for ((x, y), z) in base.iter().zip(&b[path]).zip(blended) {
                    assert!(
                        (0.75 * x + 0.25 * y - z).abs() < 1e-6,
                        "{path}: {z} is not the blend of {x} and {y}"
                    );
                }
            }
            None => assert_eq!(blended, &b[path], "{path}, only in the tuned network, changed"),
        }
    }
    assert!(half.config.slope_head);
    // alpha 0 is the base network: the same depth for the same photo.
    let (start, _) = weights::interpolate(&base, &tuned, 0.0).unwrap();
    let input = Tensor::<4>::random([1, 3, 32, 32], burn::tensor::Distribution::Default, &device);
    let depth = |w: &weights::Weights| {
        w.model
            .valid()
            .forward(input.clone())
            .depth
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    };
    let gap = depth(&start)
        .iter()
        .zip(depth(&base))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    assert!(gap < 1e-5, "alpha 0 differs from the base by {gap}");

    let wider = weights_of(tiny(EdgeMode::MultiClass).with_encoder_channels([8, 8, 12, 12, 24]), 5);
    let err = weights::interpolate(&base, &wider, 0.5).unwrap_err();
    assert!(err.contains("not the same network"), "{err}");
    assert!(weights::interpolate(&base, &tuned, 1.5).unwrap_err().contains("alpha"));
}

fn saved_tiny(dir: &std::path::Path) -> (relievo::net::MultiTaskNet, MultiTaskConfig) {
    let device = Device::flex();
    device.seed(7);
    let config = tiny(EdgeMode::MultiClass);
    let model = config.init(&device);
    weights::save(dir, &model, &config, &WeightsMeta::default()).unwrap();
    (model, config)
}

/// The tiny network saved and loaded back, as inference gets it (and the folder it is in).
fn loaded_tiny() -> (tempfile::TempDir, weights::Weights, Device) {
    let dir = tempfile::tempdir().unwrap();
    saved_tiny(dir.path());
    let device = Device::flex();
    let w = weights::load(dir.path(), &device).unwrap();
    (dir, w, device)
}

#[test]
fn save_then_load_gives_identical_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = saved_tiny(dir.path());
    let device = Device::flex();
    let loaded = weights::load(dir.path(), &device).unwrap();
    let input = Tensor::<4>::random([1, 3, 32, 48], burn::tensor::Distribution::Default, &device);
    let a = model.valid().forward(input.clone()).depth.into_data();
    let b = loaded.model.valid().forward(input).depth.into_data();
    assert_eq!(a, b);

    // And through the whole inference path (padding, resizing) on an odd-sized photo.
    let photo = Photo {
        rgb: Grid::from_fn(37, 21, |x, y| [x as f32 / 37.0, y as f32 / 21.0, 0.5]),
        was_grey: false,
    };
    let layers = predict(&loaded, &photo, &device, &InferOptions::default());
    assert_eq!((layers.depth.width, layers.depth.height), (37, 21));
    assert!(layers.edges.data.iter().all(|&c| c < 6) && layers.semantics.data.iter().all(|&c| c < 4));
}

#[test]
fn tiled_inference_matches_size_and_blends() {
    let (_dir, w, device) = loaded_tiny();
    let photo = Photo {
        rgb: Grid::from_fn(150, 90, |x, y| [((x + y) % 17) as f32 / 17.0; 3]),
        was_grey: false,
    };
    let opts = InferOptions {
        max_side_px: Some(0),
        tile_px: 64,
        overlap_px: 16,
        ..InferOptions::default()
    };
    let layers = predict(&w, &photo, &device, &opts);
    assert_eq!((layers.depth.width, layers.depth.height), (150, 90));
    assert!(layers.depth.data.iter().all(|v| v.is_finite()));
}

#[test]
fn mirror_averaging_makes_a_mirrored_photo_give_the_mirrored_layers() {
    // An untrained network is not mirror-symmetric; with the mirrored pass averaged in,
    // predict(mirror(photo)) must be mirror(predict(photo)), to float rounding.
    let (_dir, w, device) = loaded_tiny();
    let rgb = Grid::from_fn(48, 32, |x, y| {
        [((x * 7 + y * 3) % 23) as f32 / 23.0, y as f32 / 32.0, 0.4]
    });
    let mut mirrored_rgb = rgb.clone();
    mirrored_rgb.mirror_x();
    let photo = |rgb: Grid<[f32; 3]>| Photo { rgb, was_grey: false };
    let depth_of = |p: &Photo, mirror_average: bool| {
        let opts = InferOptions {
            max_side_px: Some(0),
            mirror_average,
            ..InferOptions::default()
        };
        predict(&w, p, &device, &opts).depth
    };
    let largest_gap = |a: &Grid<f32>, b: &Grid<f32>| {
        let mut b = b.clone();
        b.mirror_x();
        a.data
            .iter()
            .zip(&b.data)
            .map(|(p, q)| (p - q).abs())
            .fold(0f32, f32::max)
    };
    let (a, b) = (photo(rgb), photo(mirrored_rgb));
    let (plain_a, plain_b) = (depth_of(&a, false), depth_of(&b, false));
    let (lo, hi) = plain_a.min_max();
    assert!(
        largest_gap(&plain_a, &plain_b) > 1e-3 * (hi - lo),
        "the untrained net is already symmetric"
    );
    let gap = largest_gap(&depth_of(&a, true), &depth_of(&b, true));
    assert!(gap <= 1e-5 * (hi - lo).max(1e-3), "{gap}");
}

#[test]
fn cancelled_inference_stops_within_a_second() {
    let (_dir, w, device) = loaded_tiny();
    let photo = Photo {
        rgb: Grid::from_fn(1024, 1024, |x, y| [((x ^ y) % 29) as f32 / 29.0; 3]),
        was_grey: false,
    };
    // Full resolution in 64-px tiles: hundreds of network passes, many seconds of work.
    let opts = InferOptions {
        max_side_px: Some(0),
        tile_px: 64,
        overlap_px: 16,
        ..InferOptions::default()
    };
    let cancel = relievo::cancel::Cancel::default();
    let started = std::time::Instant::now();
    let result = std::thread::scope(|scope| {
        let worker = scope.spawn(|| relievo::net::predict_cancellable(&w, &photo, &device, &opts, &cancel));
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(
            !worker.is_finished(),
            "the work must outlast the wait for this test to mean anything"
        );
        cancel.cancel();
        let cancelled_at = std::time::Instant::now();
        let result = worker.join().unwrap();
        (result, cancelled_at.elapsed())
    });
    assert_eq!(result.0.map(|_| ()), Err(relievo::cancel::Cancelled));
    assert!(result.1.as_secs_f32() < 1.0, "stopped {:?} after the cancel", result.1);
    assert!(started.elapsed().as_secs_f32() < 5.0);
}

#[test]
fn weights_from_before_a_new_switch_still_load_and_mean_what_they_meant() {
    // Weights of the first network shape (full-resolution stem, corner-aligned
    // resizes, SILog), saved before those switches existed.
    let dir = tempfile::tempdir().unwrap();
    let device = Device::flex();
    let legacy = MultiTaskConfig::legacy();
    let config = tiny(EdgeMode::MultiClass)
        .with_pixel_unshuffle(legacy.pixel_unshuffle)
        .with_half_pixel_resize(legacy.half_pixel_resize)
        .with_loss(legacy.loss.clone());
    let model = config.init(&device);
    weights::save(dir.path(), &model, &config, &WeightsMeta::default()).unwrap();
    let path = dir.path().join(weights::CONFIG_FILE);
    let mut json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for field in ["aligned", "depth_term"] {
        json["loss"]
            .as_object_mut()
            .unwrap()
            .remove(field)
            .expect("the field was saved");
    }
    for field in ["edge_weighted_decoder", "pixel_unshuffle", "half_pixel_resize"] {
        json.as_object_mut()
            .unwrap()
            .remove(field)
            .expect("the field was saved");
    }
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
    let loaded = weights::load(dir.path(), &device).unwrap();
    assert_eq!(loaded.config, config);
    assert_eq!(loaded.config.pixel_unshuffle, 1);
    assert_eq!(loaded.config.loss.depth_term, relievo::net::DepthTerm::Silog);
    let input = Tensor::<4>::random([1, 3, 32, 32], burn::tensor::Distribution::Default, &device);
    assert_eq!(
        model.valid().forward(input.clone()).depth.into_data(),
        loaded.model.valid().forward(input).depth.into_data()
    );
}

/// The shipped weights load as today's default network with the slope head their runs trained
/// beside the height, which inference does not use (`slope_screen` 0). (A `config.json` written
/// by burn before the slope head existed is tested in `relievo_engine::config`.)
#[test]
fn the_shipped_weights_are_the_default_network_with_an_unused_slope_head() {
    let shipped = weights::default_dir();
    let loaded = weights::load(&shipped, &Device::flex()).unwrap();
    assert_eq!(loaded.config, MultiTaskConfig::new().with_slope_head(true));
    assert_eq!(loaded.config.slope_screen, 0.0);
    assert!(loaded.model.has_slope_head());
}

#[test]
fn bad_weights_give_one_clear_error() {
    let device = Device::flex();
    let missing = weights::load(std::path::Path::new("/nonexistent/relievo-weights"), &device).unwrap_err();
    assert!(missing.to_string().contains("weights not found"), "{missing}");

    let dir = tempfile::tempdir().unwrap();
    saved_tiny(dir.path());
    std::fs::write(dir.path().join(weights::MODEL_FILE), b"not a burn record").unwrap();
    let corrupt = weights::load(dir.path(), &device).unwrap_err().to_string();
    assert!(
        corrupt.contains("model.bpk") && corrupt.contains("corrupt"),
        "{corrupt}"
    );

    let dir = tempfile::tempdir().unwrap();
    saved_tiny(dir.path());
    let bigger = MultiTaskConfig::new();
    std::fs::write(
        dir.path().join(weights::CONFIG_FILE),
        serde_json::to_vec(&bigger).unwrap(),
    )
    .unwrap();
    let mismatch = weights::load(dir.path(), &device).unwrap_err().to_string();
    assert!(mismatch.contains("do not match"), "{mismatch}");

    let dir = tempfile::tempdir().unwrap();
    saved_tiny(dir.path());
    let meta = WeightsMeta {
        format_version: 99,
        ..WeightsMeta::default()
    };
    std::fs::write(dir.path().join(weights::META_FILE), serde_json::to_vec(&meta).unwrap()).unwrap();
    let version = weights::load(dir.path(), &device).unwrap_err().to_string();
    assert!(version.contains("format version 99"), "{version}");
    assert!(!version.contains('\n'));
}

/// Copying weights (the app's "Save weights…") gives a folder that loads as the original,
/// and a copy from an incomplete folder changes nothing at the target.
#[test]
fn copied_weights_load_and_a_bad_copy_leaves_the_target_alone() {
    let (from, to) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let device = Device::flex();
    let config = tiny(EdgeMode::MultiClass);
    weights::save(from.path(), &config.init(&device), &config, &WeightsMeta::default()).unwrap();
    weights::copy(from.path(), to.path()).unwrap();
    assert_eq!(weights::load(to.path(), &device).unwrap().config, config);
    let before = std::fs::read(to.path().join(weights::MODEL_FILE)).unwrap();
    std::fs::remove_file(from.path().join(weights::META_FILE)).unwrap();
    assert!(weights::copy(from.path(), to.path()).is_err());
    assert_eq!(std::fs::read(to.path().join(weights::MODEL_FILE)).unwrap(), before);
}

mod common;

/// The weights the hard-kill tests save: the shipped network's shapes (a save of tens of
/// megabytes), initialised from seed `version`.
fn save_version(dir: &std::path::Path, version: u64) {
    let device = Device::flex();
    device.seed(version);
    let config = MultiTaskConfig::new();
    weights::save(dir, &config.init(&device), &config, &WeightsMeta::default()).unwrap();
}

/// The child process of the hard-kill test (does nothing when run on its own): loads the
/// weights in `RELIEVO_CHILD_FROM` and saves them into `RELIEVO_CHILD_OUT`.
#[test]
#[ignore = "started by a_weights_save_killed_at_any_moment_leaves_whole_weights"]
fn child_saving_weights() {
    if let (Ok(from), Ok(out)) = (std::env::var("RELIEVO_CHILD_FROM"), std::env::var("RELIEVO_CHILD_OUT")) {
        let w = weights::load(std::path::Path::new(&from), &Device::flex()).unwrap();
        weights::save(std::path::Path::new(&out), &w.model, &w.config, &w.meta).unwrap();
    }
}

/// Kill -9 at random moments of a weights save over existing weights (50 times): the
/// folder always loads, and gives the old network's output or the new one's.
#[test]
fn a_weights_save_killed_at_any_moment_leaves_whole_weights() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("weights");
    let sources = [0, 1].map(|version| {
        let d = dir.path().join(format!("v{version}"));
        save_version(&d, version);
        d
    });
    // A save's bytes differ from run to run (burn gives parameters fresh ids), so the
    // network is told by its output on a fixed input.
    let device = Device::flex();
    let input = Tensor::<4>::random([1, 3, 32, 32], burn::tensor::Distribution::Default, &device);
    // flex's sums may run in another order from one forward pass to the next, so outputs
    // are compared within a tolerance far below the two networks' difference.
    let output = |dir: &std::path::Path| {
        let w = weights::load(dir, &device).expect("the weights load after a kill");
        w.model
            .valid()
            .forward(input.clone())
            .depth
            .into_data()
            .try_into_vec::<f32>()
            .unwrap()
    };
    let distance = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
    let outputs = sources.clone().map(|d| output(&d));
    let apart = distance(&outputs[0], &outputs[1]);
    assert!(apart > 1e-2, "the two networks give nearly the same output ({apart})");
    let spawn = |i: usize| {
        common::child_test(
            "child_saving_weights",
            &[
                ("RELIEVO_CHILD_FROM", sources[i % 2].display().to_string()),
                ("RELIEVO_CHILD_OUT", target.display().to_string()),
            ],
        )
    };
    let check = || {
        let got = output(&target);
        let nearest = outputs.iter().map(|o| distance(o, &got)).fold(f32::INFINITY, f32::min);
        assert!(
            nearest < 1e-4,
            "neither the old network nor the new one (off by {nearest})"
        )
    };
    common::kill_at_random_moments("weights save", &spawn, &check);
}

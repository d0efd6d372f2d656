//! Training data: dataset folders (DESIGN.md layout: `images/`, `depth/`, optional
//! `semantics/` and `edges/`), the synthetic relief world on the fly, or both; the
//! folder check run before training; seed 000's augmentations; batches as tensors.
//! Everything is a pure function of (seed, step), so `--resume` sees the same data.

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};

use crate::filter;
use crate::grid::Grid;
use crate::labels::{EDGE_CLASSES, SEMANTIC_CLASSES, soft_edge_classes};
pub use relievo_engine::training::DatasetReport;

use crate::net::loss::Targets;
use crate::net::weights::WeightsMeta;
use crate::photo::{LoadOptions, load_depth, load_photo};
use crate::rng::Rng;
use crate::synth::{SynthParams, generate};

/// One training example at any size.
#[derive(Clone, Debug)]
pub struct Sample {
    pub photo: Grid<[f32; 3]>,
    /// 0..1, 1 = most raised.
    pub height: Grid<f32>,
    /// Class ids 0..3, when the dataset has them.
    pub semantics: Option<Grid<u8>>,
    /// Soft-edge classes 0..5 (from the dataset, else derived from `height`).
    pub edges: Grid<u8>,
    /// `edges` were derived from `height`: [`augment`] derives them again from the
    /// crop's re-stretched height, so labels and depth agree after every augmentation.
    pub edges_from_depth: bool,
    /// Where the main light comes from, when known (synthetic panels): the horizontal part
    /// of the unit vector towards it, x right, y down (its length is the cosine of the
    /// light's elevation).
    pub light: Option<[f32; 2]>,
}

/// The files of one complete pair, found by the dataset check.
#[derive(Clone, Debug)]
pub struct PairFiles {
    pub name: String,
    pub image: PathBuf,
    pub depth: PathBuf,
    pub semantics: Option<PathBuf>,
    pub edges: Option<PathBuf>,
}

/// A dataset folder and its complete pairs.
#[derive(Clone, Debug)]
pub struct DatasetFolder {
    pub pairs: Vec<PairFiles>,
}

fn stems(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, PathBuf)> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| crate::photo::SUPPORTED_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        })
        .filter_map(|p| Some((p.file_stem()?.to_str()?.to_string(), p)))
        .collect();
    out.sort();
    out
}

fn find(list: &[(String, PathBuf)], name: &str) -> Option<PathBuf> {
    list.iter().find(|(n, _)| n == name).map(|(_, p)| p.clone())
}

fn header(path: &Path) -> Result<(u32, u32, image::ColorType), String> {
    let reader = image::ImageReader::open(path).map_err(|e| e.to_string())?;
    let reader = reader.with_guessed_format().map_err(|e| e.to_string())?;
    let decoder = reader.into_decoder().map_err(|e| e.to_string())?;
    use image::ImageDecoder;
    let (w, h) = decoder.dimensions();
    Ok((w, h, decoder.color_type()))
}

/// Checks `root` and lists its usable pairs and its problems, reading only headers.
pub fn check_folder(root: &Path) -> (DatasetFolder, DatasetReport) {
    let mut report = DatasetReport::default();
    let images = stems(&root.join("images"));
    let depths = stems(&root.join("depth"));
    let semantics = stems(&root.join("semantics"));
    let edges = stems(&root.join("edges"));
    if images.is_empty() {
        report.problems.push(format!(
            "{}: no images (expected images/NAME.png|jpg)",
            root.join("images").display()
        ));
    }
    if depths.is_empty() {
        report.problems.push(format!(
            "{}: no depth maps (expected depth/NAME.png)",
            root.join("depth").display()
        ));
    }
    let mut pairs = Vec::new();
    for (name, image_path) in &images {
        let Some(depth_path) = find(&depths, name) else {
            report
                .problems
                .push(format!("{name}: image without depth/{name}.png (skipped)"));
            continue;
        };
        let (iw, ih) = match header(image_path) {
            Ok((w, h, _)) => (w, h),
            Err(e) => {
                report
                    .problems
                    .push(format!("{}: unreadable ({e}) (skipped)", image_path.display()));
                continue;
            }
        };
        match header(&depth_path) {
            Ok((w, h, colour)) => {
                if (w, h) != (iw, ih) {
                    report
                        .problems
                        .push(format!("{name}: image {iw}×{ih} but depth {w}×{h} (skipped)"));
                    continue;
                }
                if colour.bytes_per_pixel() / colour.channel_count().max(1) < 2 {
                    report.problems.push(format!(
                        "{name}: depth is 8-bit (256 levels; 16-bit keeps carved detail)"
                    ));
                }
            }
            Err(e) => {
                report
                    .problems
                    .push(format!("{}: unreadable ({e}) (skipped)", depth_path.display()));
                continue;
            }
        }
        let pair = PairFiles {
            name: name.clone(),
            image: image_path.clone(),
            depth: depth_path,
            semantics: find(&semantics, name),
            edges: find(&edges, name),
        };
        report.with_semantics += usize::from(pair.semantics.is_some());
        report.with_edges += usize::from(pair.edges.is_some());
        pairs.push(pair);
    }
    for (name, _) in &depths {
        if find(&images, name).is_none() {
            report
                .problems
                .push(format!("{name}: depth without images/{name}.* (skipped)"));
        }
    }
    report.pairs = pairs.len();
    (DatasetFolder { pairs }, report)
}

fn load_labels(path: Option<&PathBuf>, width: usize, height: usize, max: u8) -> Result<Option<Grid<u8>>, String> {
    let Some(path) = path else { return Ok(None) };
    let img = image::open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .into_luma8();
    if (img.width() as usize, img.height() as usize) != (width, height) {
        return Err(format!("{}: size differs from the image", path.display()));
    }
    Ok(Some(Grid::from_vec(
        width,
        height,
        img.into_raw().into_iter().map(|v| v.min(max)).collect(),
    )))
}

impl DatasetFolder {
    /// Loads pair `index` (labels derived from depth where absent).
    pub fn load(&self, index: usize) -> Result<Sample, String> {
        let pair = &self.pairs[index];
        let opts = LoadOptions::default();
        let photo = load_photo(&pair.image, &opts).map_err(|e| e.to_string())?;
        let height = load_depth(&pair.depth, &opts).map_err(|e| e.to_string())?;
        let (w, h) = (height.width, height.height);
        let semantics = load_labels(pair.semantics.as_ref(), w, h, 3)?;
        let given_edges = load_labels(pair.edges.as_ref(), w, h, 5)?;
        let edges_from_depth = given_edges.is_none();
        let edges = given_edges.unwrap_or_else(|| soft_edge_classes(&height));
        Ok(Sample {
            photo: photo.rgb,
            height,
            semantics,
            edges,
            edges_from_depth,
            light: None,
        })
    }
}

/// Where training examples come from.
#[derive(Clone, Debug)]
pub enum Source {
    Folder(DatasetFolder),
    Synthetic {
        size_px: usize,
    },
    /// Folder pairs and synthetic panels alternating, `synthetic_fraction` of them synthetic.
    Mix {
        folder: DatasetFolder,
        size_px: usize,
        synthetic_fraction: f32,
    },
}

impl Source {
    /// Example `index` of the stream (deterministic). Folder examples cycle.
    pub fn example(&self, seed: u64, index: u64) -> Result<Sample, String> {
        let synthetic = |size_px: usize| {
            let s = generate(
                Rng::mix(seed, index),
                &SynthParams {
                    size_px,
                    ..SynthParams::default()
                },
            );
            Sample {
                photo: s.photo,
                height: s.height,
                semantics: Some(s.semantics),
                edges: s.edges,
                edges_from_depth: true,
                light: Some([s.light[0], s.light[1]]),
            }
        };
        match self {
            Source::Folder(f) => f.load((Rng::mix(seed, index) % f.pairs.len() as u64) as usize),
            Source::Synthetic { size_px } => Ok(synthetic(*size_px)),
            Source::Mix {
                folder,
                size_px,
                synthetic_fraction,
            } => {
                let mut rng = Rng::new(Rng::mix(seed ^ 0x5eed, index));
                if rng.f32() < *synthetic_fraction {
                    Ok(synthetic(*size_px))
                } else {
                    folder.load((rng.next_u64() % folder.pairs.len() as u64) as usize)
                }
            }
        }
    }
}

/// The mean crop fraction of a run whose smallest crop is `min_fraction` of a panel: a whole
/// panel spans crop / this pixels of what the network saw (its working side).
pub fn mean_crop_fraction(min_fraction: f32) -> f32 {
    (min_fraction + 1.0) / 2.0
}

/// Seed 000's augmentations, deterministic from `rng`: random resize-and-crop to
/// `crop_px` (covering `min_fraction`..1 of the shorter side), horizontal flip, HSV jitter,
/// Gaussian noise. Labels and the light follow geometry; soft edges derived from depth are
/// derived again from the crop's stretched height (the curvature rule is relative to the
/// image's size and height range).
pub fn augment(sample: &Sample, crop_px: usize, min_fraction: f32, rng: &mut Rng) -> Sample {
    let (w, h) = (sample.height.width, sample.height.height);
    // Random scale: the crop covers min_fraction..1 of the shorter side.
    let side = w.min(h) as f32 * (min_fraction + (1.0 - min_fraction) * rng.f32());
    let side = side.max(2.0);
    let x0 = rng.f32() * (w as f32 - side).max(0.0);
    let y0 = rng.f32() * (h as f32 - side).max(0.0);
    let flip = rng.f32() < 0.5;
    let step = side / crop_px as f32;
    let src = |x: usize, y: usize| {
        let xf = if flip { crop_px - 1 - x } else { x } as f32;
        (x0 + (xf + 0.5) * step - 0.5, y0 + (y as f32 + 0.5) * step - 0.5)
    };
    let nearest = |g: &Grid<u8>, x: usize, y: usize| {
        let (sx, sy) = src(x, y);
        g.get_clamped(sx.round() as isize, sy.round() as isize)
    };
    let height = Grid::from_fn(crop_px, crop_px, |x, y| {
        let (sx, sy) = src(x, y);
        sample.height.sample_bilinear(sx, sy)
    });
    let channels: Vec<Grid<f32>> = (0..3).map(|c| sample.photo.map(|p| p[c])).collect();
    // HSV jitter: hue rotation (small), saturation and value scaling; then noise.
    let hue = (rng.f32() - 0.5) * 0.1;
    let sat = 0.7 + 0.6 * rng.f32();
    let val = 0.75 + 0.5 * rng.f32();
    let noise_sigma = 0.03 * rng.f32();
    let mut noise_rng = Rng::new(rng.next_u64());
    let photo = Grid::from_fn(crop_px, crop_px, |x, y| {
        let (sx, sy) = src(x, y);
        let rgb = [0, 1, 2].map(|c| channels[c].sample_bilinear(sx, sy));
        let [r, g, b] = jitter_hsv(rgb, hue, sat, val);
        [r, g, b].map(|v| (v + noise_sigma * noise_rng.normal()).clamp(0.0, 1.0))
    });
    // Relative heights: renormalise the crop to 0..1.
    let height = height.stretched();
    let edges = if sample.edges_from_depth {
        soft_edge_classes(&height)
    } else {
        Grid::from_fn(crop_px, crop_px, |x, y| nearest(&sample.edges, x, y))
    };
    Sample {
        semantics: sample
            .semantics
            .as_ref()
            .map(|s| Grid::from_fn(crop_px, crop_px, |x, y| nearest(s, x, y))),
        edges,
        edges_from_depth: sample.edges_from_depth,
        // A mirrored photo is lit from the mirrored side.
        light: sample.light.map(|[x, y]| [if flip { -x } else { x }, y]),
        photo,
        height,
    }
}

/// Texture that says nothing about the height: inside random blobs (a sixth to two fifths
/// of the crop across), either fine grain is added to the photo or its detail is smoothed
/// away. The network otherwise learns that busy texture means raised relief (on terrain its
/// height follows the photo's local texture energy three to four times more closely than the
/// truth does: `scripts/texture_corr.py`), which is wrong for terrain and for figures carved
/// smooth on a rough ground.
pub fn texture_patches(photo: &mut Grid<[f32; 3]>, rng: &mut Rng) {
    let (w, h) = (photo.width, photo.height);
    let blob_px = w as f32 * rng.range(0.15, 0.4);
    let blobs = crate::synth::noise::fbm(rng, w, h, blob_px, 2, 0.5);
    let threshold = rng.range(-0.15, 0.25);
    let mask = blobs.map(|v| ((v - threshold) / 0.1).clamp(0.0, 1.0));
    if rng.f32() < 0.5 {
        let grain_px = rng.range(1.0, 4.0);
        let grain = crate::synth::noise::fbm(rng, w, h, grain_px, 2, 0.6);
        let amplitude = rng.range(0.1, 0.4);
        for ((p, m), g) in photo.data.iter_mut().zip(&mask.data).zip(&grain.data) {
            let f = 1.0 + amplitude * m * g;
            *p = p.map(|c| (c * f).clamp(0.0, 1.0));
        }
    } else {
        let sigma = rng.range(1.0, 3.0);
        let smooth: Vec<Grid<f32>> = (0..3).map(|c| filter::blur(&photo.map(|p| p[c]), sigma)).collect();
        for (i, (p, m)) in photo.data.iter_mut().zip(&mask.data).enumerate() {
            *p = [0, 1, 2].map(|c| p[c] + m * (smooth[c].data[i] - p[c]));
        }
    }
}

fn jitter_hsv([r, g, b]: [f32; 3], hue: f32, sat: f32, val: f32) -> [f32; 3] {
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let d = max - min;
    let mut hh = if d <= 0.0 {
        0.0
    } else if max == r {
        ((g - b) / d).rem_euclid(6.0)
    } else if max == g {
        (b - r) / d + 2.0
    } else {
        (r - g) / d + 4.0
    } / 6.0;
    let s = if max > 0.0 { (d / max * sat).min(1.0) } else { 0.0 };
    let v = (max * val).min(1.0);
    hh = (hh + hue).rem_euclid(1.0);
    let i = (hh * 6.0).floor();
    let f = hh * 6.0 - i;
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - f * s), v * (1.0 - (1.0 - f) * s));
    match i as i32 % 6 {
        0 => [v, t, p],
        1 => [q, v, p],
        2 => [p, v, t],
        3 => [p, q, v],
        4 => [t, p, v],
        _ => [v, p, q],
    }
}

/// A batch as tensors: normalised photos `[b, 3, h, w]` and the targets.
pub fn to_batch(samples: &[Sample], meta: &WeightsMeta, device: &Device) -> (Tensor<4>, Targets) {
    let (w, h) = (samples[0].height.width, samples[0].height.height);
    let n = w * h;
    let b = samples.len();
    let mut photo = Vec::with_capacity(b * 3 * n);
    let mut depth = Vec::with_capacity(b * n);
    let mut sem = vec![0f32; b * SEMANTIC_CLASSES * n];
    let mut edges = vec![0f32; b * EDGE_CLASSES * n];
    let mut light = vec![0f32; b * 2];
    let mut light_known = vec![0f32; b];
    for (i, s) in samples.iter().enumerate() {
        if let Some([x, y]) = s.light {
            light[2 * i..2 * i + 2].copy_from_slice(&[x, y]);
            light_known[i] = 1.0;
        }
        for c in 0..3 {
            photo.extend(s.photo.data.iter().map(|p| (p[c] - meta.mean[c]) / meta.std[c]));
        }
        depth.extend_from_slice(&s.height.data);
        if let Some(labels) = &s.semantics {
            for (p, &c) in labels.data.iter().enumerate() {
                sem[(i * SEMANTIC_CLASSES + c as usize) * n + p] = 1.0;
            }
        }
        for (p, &c) in s.edges.data.iter().enumerate() {
            edges[(i * EDGE_CLASSES + c as usize) * n + p] = 1.0;
        }
    }
    let t = |v: Vec<f32>, c: usize| Tensor::from_data(TensorData::new(v, [b, c, h, w]), device);
    (
        t(photo, 3),
        Targets {
            depth: t(depth, 1),
            semantics: t(sem, SEMANTIC_CLASSES),
            edges: t(edges, EDGE_CLASSES),
            light: Tensor::from_data(TensorData::new(light, [b, 2]), device),
            light_known: Tensor::from_data(TensorData::new(light_known, [b, 1]), device),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DEFAULT_MIN_CROP_FRACTION;

    #[test]
    fn edge_labels_and_depth_agree_after_a_random_crop() {
        let sample = Source::Synthetic { size_px: 96 }.example(5, 0).unwrap();
        for i in 0..4 {
            let crop = augment(&sample, 48, DEFAULT_MIN_CROP_FRACTION, &mut Rng::new(i));
            // The crop's height is stretched to 0..1 again, so its curvature classes
            // are those of the crop, not resampled from the whole panel.
            assert_eq!(crop.edges, soft_edge_classes(&crop.height), "crop {i}");
        }
        // Labels given by a dataset are kept (resampled), not replaced.
        let given = Sample {
            edges: Grid::filled(96, 96, 3),
            edges_from_depth: false,
            ..sample
        };
        let crop = augment(&given, 48, DEFAULT_MIN_CROP_FRACTION, &mut Rng::new(0));
        assert!(crop.edges.data.iter().all(|&c| c == 3));
    }

    #[test]
    fn a_smallest_crop_of_one_keeps_the_whole_panel() {
        // A ramp along x with a mark at one corner: a crop of the whole panel at the
        // panel's own size gives back every height (or its mirror image), however drawn.
        let height = Grid::from_fn(32, 32, |x, y| if x < 4 && y < 4 { 1.0 } else { x as f32 / 62.0 });
        let sample = Sample {
            photo: Grid::filled(32, 32, [0.5; 3]),
            height: height.clone(),
            semantics: None,
            edges: Grid::filled(32, 32, 0),
            edges_from_depth: true,
            light: None,
        };
        for seed in 0..8 {
            let crop = augment(&sample, 32, 1.0, &mut Rng::new(seed));
            let mirrored = crop.height.get(31, 0) == 1.0;
            for (x, y) in [(0, 0), (3, 3), (4, 0), (20, 9), (31, 31)] {
                let sx = if mirrored { 31 - x } else { x };
                let want = height.get(sx, y);
                assert!((crop.height.get(x, y) - want).abs() < 1e-5, "seed {seed} at ({x}, {y})");
            }
        }
        // The default's crops are smaller than the panel: the mark is cut off or magnified.
        let cut = (0..8)
            .filter(|&s| augment(&sample, 32, DEFAULT_MIN_CROP_FRACTION, &mut Rng::new(s)).height != height)
            .count();
        assert_eq!(cut, 8);
    }

    #[test]
    fn the_light_follows_a_mirrored_crop() {
        // Lit from the right: the photo brightens to the right, the light points right.
        let sample = Sample {
            photo: Grid::from_fn(64, 64, |x, _| [x as f32 / 63.0; 3]),
            height: Grid::from_fn(64, 64, |x, y| ((x + y) % 7) as f32 / 6.0),
            semantics: None,
            edges: Grid::filled(64, 64, 0),
            edges_from_depth: true,
            light: Some([0.6, -0.2]),
        };
        let mut mirrored = 0;
        for seed in 0..16 {
            let crop = augment(&sample, 32, DEFAULT_MIN_CROP_FRACTION, &mut Rng::new(seed));
            let brighter_right = crop.photo.get(31, 16)[0] > crop.photo.get(0, 16)[0];
            let [x, y] = crop.light.expect("the light stays known");
            assert_eq!(y, -0.2, "seed {seed}");
            assert_eq!(x.abs(), 0.6, "seed {seed}");
            assert_eq!(x > 0.0, brighter_right, "seed {seed}: light x {x}");
            mirrored += usize::from(x < 0.0);
        }
        assert!(mirrored > 0 && mirrored < 16, "{mirrored} of 16 crops mirrored");
    }

    #[test]
    fn texture_patches_add_or_remove_detail_in_part_of_the_photo() {
        let mut noise = Rng::new(9);
        let photo = Grid::from_fn(64, 64, |_, _| [0.3 + 0.4 * noise.f32(); 3]);
        let energy = |g: &Grid<[f32; 3]>| -> f32 {
            (1..64)
                .flat_map(|x| (0..64).map(move |y| (x, y)))
                .map(|(x, y)| (g.get(x, y)[0] - g.get(x - 1, y)[0]).powi(2))
                .sum()
        };
        let (mut rougher, mut smoother) = (0, 0);
        for seed in 0..16 {
            let mut p = photo.clone();
            texture_patches(&mut p, &mut Rng::new(seed));
            assert!(p.data.iter().flatten().all(|v| (0.0..=1.0).contains(v)), "seed {seed}");
            let changed = p.data.iter().zip(&photo.data).filter(|(a, b)| a != b).count();
            assert!(
                changed > 0 && changed < p.data.len(),
                "seed {seed}: {changed} pixels changed"
            );
            if energy(&p) > energy(&photo) {
                rougher += 1;
            } else {
                smoother += 1;
            }
        }
        assert!(rougher > 0 && smoother > 0, "{rougher} rougher, {smoother} smoother");
    }
}

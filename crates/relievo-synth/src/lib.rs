//! The synthetic relief world that teaches the network: random carved bas-reliefs
//! (friezes, medallions, coins, plaques, ornament panels, arcades, close-ups) with exact
//! labels, rendered and degraded like old photographs. One sample is a pure function of
//! its seed: [`layout`] composes motifs from [`shapes`] into a heightfield with a
//! semantic label per pixel ([`carve`]), [`weather`] erodes, chips, cracks and breaks
//! it, the height is normalised to 0..1 and its soft-edge classes are derived with
//! [`crate::labels`], then [`render`] lights it and [`degrade`] turns it into a faded,
//! grainy, scratched, JPEG-compressed print. [`write_dataset`] writes samples in the
//! dataset folder layout (`images/`, `depth/`, `semantics/`, `edges/`).

// The core modules under the paths the code names them by (`crate::grid`, …).
use relievo_core::{filter, grid, labels, rng};

pub mod carve;
pub mod degrade;
pub mod layout;
pub mod noise;
pub mod render;
pub mod shapes;
pub mod weather;

use std::path::Path;

use image::{ImageBuffer, Luma, Rgb};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::grid::Grid;
use crate::rng::Rng;
use noise::RngExt;

/// Knobs of the generator. Saved beside datasets and checkpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SynthParams {
    /// Width and height of every sample, in pixels (at least 16).
    pub size_px: usize,
    /// Range of the relief depth (highest minus lowest point) as a fraction of the
    /// panel width; bas-reliefs are compressed to a few percent.
    pub relief_depth_frac: (f32, f32),
    /// Upper bound of weathering (erosion, chips, cracks, missing pieces), 0..1; each
    /// sample draws its own strength below it.
    pub weathering: f32,
    /// Upper bound of old-photo degradation, 0..1; each sample draws its own strength.
    pub degradation: f32,
    /// Fraction of samples photographed as modern prints: degradation strength 0, so
    /// only toning, faint grain and sometimes JPEG compression remain.
    pub clean_fraction: f32,
}

impl Default for SynthParams {
    fn default() -> Self {
        Self {
            size_px: 256,
            relief_depth_frac: (0.01, 0.08),
            weathering: 1.0,
            degradation: 1.0,
            clean_fraction: 0.1,
        }
    }
}

/// One training sample: a photo and the exact truth it was rendered from.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthSample {
    /// RGB in 0..1, sRGB-encoded, like a scanned print.
    pub photo: Grid<[f32; 3]>,
    /// Relief height 0..1, 1 = most raised.
    pub height: Grid<f32>,
    /// Semantic class ids 0..3 ([`labels::SEMANTIC_NAMES`]).
    pub semantics: Grid<u8>,
    /// Soft-edge classes 0..5, equal to `labels::soft_edge_classes(&height)`.
    pub edges: Grid<u8>,
    /// Unit vector towards the main light (x right, y down, z out of the panel).
    pub light: [f32; 3],
}

/// Generates the sample for `seed`; the same seed and parameters give a bit-identical
/// sample on every run and thread.
pub fn generate(seed: u64, params: &SynthParams) -> SynthSample {
    let size_px = params.size_px.max(16);
    let unit_px = size_px as f32 / 256.0;
    let mut rng = Rng::new(seed);
    let mut scene = layout::compose(&mut rng.fork(), size_px);
    let weathering = params.weathering.clamp(0.0, 1.0) * rng.f32();
    weather::weather(
        &mut rng.fork(),
        &mut scene.canvas,
        unit_px,
        weathering,
        scene.object_mask.is_some(),
    );

    let (lo, hi) = scene.canvas.height.min_max();
    let range = (hi - lo).max(1e-6);
    let height = scene.canvas.height.map(|z| ((z - lo) / range).clamp(0.0, 1.0));
    let edges = labels::soft_edge_classes(&height);

    let (d0, d1) = params.relief_depth_frac;
    let relief_px = rng.range(d0.min(d1), d0.max(d1)) * scene.panel_width_px;
    let rendered = render::render(
        &mut rng.fork(),
        &height,
        relief_px,
        scene.object_mask.as_ref(),
        scene.metal,
        unit_px,
    );
    let clean = rng.chance(params.clean_fraction);
    let strength = if clean {
        0.0
    } else {
        params.degradation.clamp(0.0, 1.0) * rng.range(0.2, 1.0)
    };
    let photo = degrade::degrade(&mut rng.fork(), &rendered.linear, unit_px, strength);
    SynthSample {
        photo,
        light: rendered.light,
        height,
        semantics: scene.canvas.class,
        edges,
    }
}

/// The seed of sample `index` of a dataset generated with `seed`.
pub fn sample_seed(seed: u64, index: usize) -> u64 {
    Rng::mix(seed, index as u64)
}

/// The file stem of sample `index`: `synth_{seed}_{index:05}`.
pub fn sample_name(seed: u64, index: usize) -> String {
    format!("synth_{seed}_{index:05}")
}

/// Writes `count` samples to `out_dir` in the dataset layout: `images/NAME.png` (8-bit
/// RGB), `depth/NAME.png` (16-bit grey, 65535 = most raised), `semantics/NAME.png` and
/// `edges/NAME.png` (8-bit class ids). Samples are generated in parallel;
/// `progress(done, count)` is called from this thread after each batch.
pub fn write_dataset(
    out_dir: &Path,
    count: usize,
    params: &SynthParams,
    seed: u64,
    progress: impl Fn(usize, usize),
) -> std::io::Result<()> {
    for sub in ["images", "depth", "semantics", "edges"] {
        std::fs::create_dir_all(out_dir.join(sub))?;
    }
    let batch = rayon::current_num_threads().max(1) * 4;
    let mut done = 0;
    while done < count {
        let end = (done + batch).min(count);
        (done..end).into_par_iter().try_for_each(|i| {
            let sample = generate(sample_seed(seed, i), params);
            write_sample(out_dir, &sample_name(seed, i), &sample)
        })?;
        done = end;
        progress(done, count);
    }
    Ok(())
}

fn write_sample(out_dir: &Path, name: &str, s: &SynthSample) -> std::io::Result<()> {
    let (w, h) = (s.height.width as u32, s.height.height as u32);
    let file = |sub: &str| out_dir.join(sub).join(format!("{name}.png"));
    let to_u8 = |v: f32| (v * 255.0).round().clamp(0.0, 255.0) as u8;
    let photo: Vec<u8> = s.photo.data.iter().flat_map(|p| p.map(to_u8)).collect();
    let depth: Vec<u16> = s
        .height
        .data
        .iter()
        .map(|v| (v * 65535.0).round().clamp(0.0, 65535.0) as u16)
        .collect();
    let err = std::io::Error::other;
    buffer::<Rgb<u8>, u8>(w, h, photo).save(file("images")).map_err(err)?;
    buffer::<Luma<u16>, u16>(w, h, depth).save(file("depth")).map_err(err)?;
    buffer::<Luma<u8>, u8>(w, h, s.semantics.data.clone())
        .save(file("semantics"))
        .map_err(err)?;
    buffer::<Luma<u8>, u8>(w, h, s.edges.data.clone())
        .save(file("edges"))
        .map_err(err)?;
    Ok(())
}

fn buffer<P: image::Pixel<Subpixel = T>, T: image::Primitive>(w: u32, h: u32, data: Vec<T>) -> ImageBuffer<P, Vec<T>> {
    ImageBuffer::from_raw(w, h, data).expect("buffer length matches the image size")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_samples_have_consistent_sizes() {
        let params = SynthParams {
            size_px: 64,
            ..Default::default()
        };
        let s = generate(1, &params);
        for (w, h) in [
            (s.photo.width, s.photo.height),
            (s.semantics.width, s.semantics.height),
            (s.edges.width, s.edges.height),
        ] {
            assert_eq!((w, h), (64, 64));
        }
        assert_ne!(sample_seed(1, 0), sample_seed(1, 1));
        assert_ne!(sample_seed(1, 0), sample_seed(2, 0));
        assert_eq!(sample_name(7, 3), "synth_7_00003");
    }
}

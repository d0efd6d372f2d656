//! Old-photograph degradation of a rendered image, each effect with a random strength
//! scaled by one overall `strength`: defocus blur, halation around highlights, film
//! response (soft shoulder, sRGB encoding), grey or sepia/selenium toning, fading and
//! lifted blacks on yellowed paper, uneven exposure and vignetting, water stains with
//! dark tide lines, film grain, scratches, dust specks, and JPEG compression at a
//! random quality. Input is linear RGB; output is sRGB-encoded RGB in 0..1.

use std::f32::consts::TAU;

use image::codecs::jpeg::JpegEncoder;

use super::noise::{RngExt, fbm};
use crate::filter::blur;
use crate::grid::Grid;
use crate::rng::Rng;

/// Degrades a linear-RGB rendering into an old photographic print (sRGB, 0..1).
pub fn degrade(rng: &mut Rng, linear: &Grid<[f32; 3]>, unit_px: f32, strength: f32) -> Grid<[f32; 3]> {
    let (w, h) = (linear.width, linear.height);
    let s = strength.clamp(0.0, 1.0);
    let mut channels: [Grid<f32>; 3] = std::array::from_fn(|c| linear.map(|p| p[c]));

    // Optics: defocus and halation.
    if rng.chance(0.3 + 0.5 * s) {
        let sigma = rng.range(0.3, 1.6) * unit_px * s;
        channels = channels.map(|g| blur(&g, sigma));
    }
    if rng.chance(0.35 * s) {
        let threshold = rng.range(0.25, 0.5);
        let glow_amount = rng.range(0.2, 0.6);
        let sigma = rng.range(3.0, 10.0) * unit_px;
        channels = channels.map(|g| {
            let bright = g.map(|v| (v - threshold).max(0.0));
            let glow = blur(&bright, sigma);
            Grid::from_vec(
                w,
                h,
                g.data
                    .iter()
                    .zip(&glow.data)
                    .map(|(v, b)| v + glow_amount * b)
                    .collect(),
            )
        });
    }

    // Film response: soft shoulder then sRGB encoding, tabulated over 0..ENCODE_MAX.
    let encode_table = Table::new(ENCODE_MAX, |v| {
        let v = if v < 0.8 {
            v
        } else {
            0.8 + 0.2 * (1.0 - (-(v - 0.8) / 0.2).exp())
        };
        if v <= 0.0031308 {
            12.92 * v
        } else {
            1.055 * v.powf(1.0 / 2.4) - 0.055
        }
    });
    let encode = |v: f32| encode_table.get(v);
    let mut img: Vec<[f32; 3]> = (0..w * h)
        .map(|i| {
            [
                encode(channels[0].data[i]),
                encode(channels[1].data[i]),
                encode(channels[2].data[i]),
            ]
        })
        .collect();

    // Toning: most old photos are monochrome, many sepia.
    let mono = rng.chance(0.55 + 0.3 * s);
    let tone = match rng.weighted(&[0.35, 0.4, 0.15, 0.1]) {
        0 => [1.0, 1.0, 1.0],
        1 => [1.08, 0.95, 0.75],
        2 => [0.97, 0.98, 1.05],
        _ => [1.05, 0.98, 0.9],
    };
    let saturation = if mono { 0.0 } else { rng.range(0.4, 1.0) };
    // Fading and paper: lifted blacks, dimmed whites, gamma.
    let black = [rng.range(0.0, 0.18) * s; 3];
    let paper = [rng.range(0.85, 1.0), rng.range(0.82, 0.98), rng.range(0.72, 0.95)];
    let white: [f32; 3] = std::array::from_fn(|c| 1.0 - (1.0 - paper[c]) * s);
    let gamma = rng.range(0.8, 1.25);
    let gamma_table = Table::new(1.0, |v| v.powf(gamma));
    for p in img.iter_mut() {
        let lum = 0.3 * p[0] + 0.59 * p[1] + 0.11 * p[2];
        for c in 0..3 {
            let v = gamma_table.get((lum + (p[c] - lum) * saturation) * tone[c]);
            p[c] = black[c] + (white[c] - black[c]) * v;
        }
    }

    // Some archive photos survive only as halftone reproductions in books.
    if rng.chance(0.1 * s) {
        halftone(rng, &mut img, w, h, unit_px);
    }

    // Uneven exposure and vignetting.
    let exposure = fbm(rng, w, h, w.max(h) as f32 * 0.6, 2, 0.5);
    let exposure_amp = rng.range(0.0, 0.25) * s;
    let vignette = rng.range(0.0, 0.6) * s;
    let (cx, cy) = (w as f32 * rng.range(0.4, 0.6), h as f32 * rng.range(0.4, 0.6));
    let radius = (w * w + h * h) as f32 * 0.25;
    // A water stain: a blob (a disc with a wavy edge) with a dark tide line.
    let stain_cell_px = w.max(h) as f32 * rng.range(0.1, 0.25);
    let stain_wobble = fbm(rng, w, h, stain_cell_px, 3, 0.5);
    let stain_centre = (rng.range(0.0, w as f32), rng.range(0.0, h as f32));
    let stain_radius = w.max(h) as f32 * rng.range(0.15, 0.5);
    let stain_amount = if rng.chance(0.25 * s) {
        rng.range(0.05, 0.25)
    } else {
        0.0
    };
    // Grain: blurred Gaussian noise, strongest in the mid tones.
    let grain_amp = rng.range(0.005, 0.045) * (0.3 + s);
    // Approximately normal (Irwin–Hall sum of four uniforms), much cheaper than Box–Muller.
    let mut noise = Grid::from_fn(w, h, |_, _| {
        (rng.f32() + rng.f32() + rng.f32() + rng.f32() - 2.0) * 1.732
    });
    let grain_px = rng.range(0.0, 0.9) * unit_px;
    if grain_px > 0.3 {
        noise = blur(&noise, grain_px);
        let boost = 1.0 / (2.0 * grain_px * std::f32::consts::PI.sqrt()).clamp(0.3, 1.0);
        noise.data.iter_mut().for_each(|v| *v *= boost);
    }
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let (ddx, ddy) = (x as f32 - cx, y as f32 - cy);
            let r2 = (ddx * ddx + ddy * ddy) / radius;
            let vig = 1.0 - vignette * r2 * r2.sqrt();
            let expo = 1.0 + exposure_amp * exposure.data[i];
            let (tide, inside) = if stain_amount > 0.0 {
                let (sx, sy) = (x as f32 - stain_centre.0, y as f32 - stain_centre.1);
                let n = 1.0 - (sx * sx + sy * sy).sqrt() / stain_radius + 0.35 * stain_wobble.data[i];
                ((-(n / 0.03).powi(2)).exp(), (n / 0.1).clamp(0.0, 1.0))
            } else {
                (0.0, 0.0)
            };
            let p = &mut img[i];
            let lum = 0.3 * p[0] + 0.59 * p[1] + 0.11 * p[2];
            let g = grain_amp * noise.data[i] * (0.3 + 2.8 * lum * (1.0 - lum));
            for (c, v) in p.iter_mut().enumerate() {
                let stained = *v * (1.0 - stain_amount * (0.8 * tide + 0.15 * inside * (1.0 + 0.3 * c as f32)));
                *v = (stained * vig * expo + g).clamp(0.0, 1.0);
            }
        }
    }

    // Scratches and dust.
    for _ in 0..rng.int(0, (4.0 * s) as usize) {
        scratch(rng, &mut img, w, h, unit_px);
    }
    for _ in 0..rng.int(0, (40.0 * s) as usize) {
        let c = (rng.range(0.0, w as f32), rng.range(0.0, h as f32));
        let r = rng.range(0.4, 1.8) * unit_px;
        let value = if rng.chance(0.6) {
            rng.range(0.85, 1.0)
        } else {
            rng.range(0.0, 0.15)
        };
        paint_disc(&mut img, w, h, c, r, value);
    }

    let mut out = Grid::from_vec(w, h, img);
    if rng.chance(0.3 + 0.5 * s) {
        let quality = rng.int(15, 90) as u8;
        out = jpeg_roundtrip(&out, quality);
    }
    out
}

/// Upper end of the linear range the film response is tabulated over (brighter clips).
const ENCODE_MAX: f32 = 4.0;

/// A function tabulated on 4096 points over `0..=max`, linearly interpolated and
/// clamped at both ends.
struct Table {
    values: Vec<f32>,
    scale: f32,
}

impl Table {
    fn new(max: f32, f: impl Fn(f32) -> f32) -> Table {
        let n = 4096;
        Table {
            values: (0..=n).map(|i| f(max * i as f32 / n as f32)).collect(),
            scale: n as f32 / max,
        }
    }

    fn get(&self, v: f32) -> f32 {
        let s = (v * self.scale).clamp(0.0, (self.values.len() - 1) as f32);
        let i = (s as usize).min(self.values.len() - 2);
        let t = s - i as f32;
        self.values[i] + (self.values[i + 1] - self.values[i]) * t
    }
}

/// Re-screens the image as a printed halftone (a rotated grid of round dots whose size
/// follows the darkness) and blurs it slightly as a scanner would.
fn halftone(rng: &mut Rng, img: &mut [[f32; 3]], w: usize, h: usize, unit_px: f32) {
    let period_px = rng.range(1.8, 3.5) * unit_px;
    let (s, c) = rng.range(0.3, 1.2).sin_cos();
    let k = TAU / period_px;
    let mut lum = Grid::from_fn(w, h, |x, y| {
        let p = img[y * w + x];
        let l = 0.3 * p[0] + 0.59 * p[1] + 0.11 * p[2];
        let (u, v) = (x as f32 * c - y as f32 * s, x as f32 * s + y as f32 * c);
        let screen = 0.5 + 0.25 * ((u * k).cos() + (v * k).cos());
        let ink = ((1.0 - l - screen) / 0.15 + 0.5).clamp(0.0, 1.0);
        1.0 - ink
    });
    lum = blur(&lum, rng.range(0.5, 1.0) * unit_px);
    for (p, screened) in img.iter_mut().zip(&lum.data) {
        let l = (0.3 * p[0] + 0.59 * p[1] + 0.11 * p[2]).max(0.02);
        for v in p.iter_mut() {
            *v = (*v * screened / l).clamp(0.0, 1.0);
        }
    }
}

/// A long thin line, nearly vertical (film) or at any angle (print), light or dark.
fn scratch(rng: &mut Rng, img: &mut [[f32; 3]], w: usize, h: usize, unit_px: f32) {
    let vertical = rng.chance(0.6);
    let angle = if vertical {
        TAU / 4.0 + rng.normal() * 0.05
    } else {
        rng.range(0.0, TAU)
    };
    let (dx, dy) = (angle.cos(), angle.sin());
    let (px, py) = (rng.range(0.0, w as f32), rng.range(0.0, h as f32));
    let half_len = rng.range(0.2, 1.0) * (w.max(h) as f32);
    let half_width = rng.range(0.3, 0.9) * unit_px;
    let value = if rng.chance(0.7) {
        rng.range(0.8, 1.0)
    } else {
        rng.range(0.0, 0.2)
    };
    let alpha = rng.range(0.15, 0.6);
    // Visit only the pixels within reach of the line: per row when it is steep, per
    // column when it is flat.
    let reach = half_width + 1.0;
    let steep = dy.abs() >= dx.abs();
    let (n_major, n_minor) = if steep { (h, w) } else { (w, h) };
    for a in 0..n_major {
        let (centre, extent) = if steep {
            (px + (a as f32 - py) * dx / dy, reach / dy.abs())
        } else {
            (py + (a as f32 - px) * dy / dx, reach / dx.abs())
        };
        let lo = (centre - extent).floor().max(0.0) as usize;
        let hi = ((centre + extent).ceil().max(0.0) as usize).min(n_minor - 1);
        for b in lo..=hi {
            let (x, y) = if steep { (b, a) } else { (a, b) };
            let (rx, ry) = (x as f32 - px, y as f32 - py);
            let along = rx * dx + ry * dy;
            if along.abs() > half_len {
                continue;
            }
            let across = (rx * -dy + ry * dx).abs();
            let cover = (half_width + 0.5 - across).clamp(0.0, 1.0) * alpha;
            if cover > 0.0 {
                for v in img[y * w + x].iter_mut() {
                    *v += (value - *v) * cover;
                }
            }
        }
    }
}

fn paint_disc(img: &mut [[f32; 3]], w: usize, h: usize, c: (f32, f32), r: f32, value: f32) {
    let x0 = (c.0 - r - 1.0).max(0.0) as usize;
    let x1 = ((c.0 + r + 1.0) as usize).min(w - 1);
    let y0 = (c.1 - r - 1.0).max(0.0) as usize;
    let y1 = ((c.1 + r + 1.0) as usize).min(h - 1);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let d = ((x as f32 - c.0).powi(2) + (y as f32 - c.1).powi(2)).sqrt();
            let cover = (r + 0.5 - d).clamp(0.0, 1.0);
            for v in img[y * w + x].iter_mut() {
                *v += (value - *v) * cover;
            }
        }
    }
}

/// Encodes to JPEG at `quality` and decodes again, keeping its block artefacts.
fn jpeg_roundtrip(img: &Grid<[f32; 3]>, quality: u8) -> Grid<[f32; 3]> {
    let bytes: Vec<u8> = img
        .data
        .iter()
        .flat_map(|p| p.map(|v| (v * 255.0).round().clamp(0.0, 255.0) as u8))
        .collect();
    let mut buf = Vec::new();
    let encoded = JpegEncoder::new_with_quality(&mut buf, quality).encode(
        &bytes,
        img.width as u32,
        img.height as u32,
        image::ExtendedColorType::Rgb8,
    );
    let decoded = encoded
        .ok()
        .and_then(|_| image::load_from_memory_with_format(&buf, image::ImageFormat::Jpeg).ok());
    match decoded {
        Some(d) => {
            let rgb = d.to_rgb8();
            Grid::from_vec(
                img.width,
                img.height,
                rgb.pixels().map(|p| p.0.map(|v| v as f32 / 255.0)).collect(),
            )
        }
        // In-memory JPEG of a valid RGB buffer cannot fail; keep the image if it ever does.
        None => img.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_in_unit_range_and_same_size() {
        let linear = Grid::from_fn(40, 30, |x, y| [x as f32 / 40.0, y as f32 / 30.0, 0.5]);
        for seed in 0..8 {
            let out = degrade(&mut Rng::new(seed), &linear, 0.2, 1.0);
            assert_eq!((out.width, out.height), (40, 30));
            assert!(out.data.iter().flatten().all(|v| (0.0..=1.0).contains(v)));
        }
    }
}

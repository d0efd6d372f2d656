//! Photographic rendering of a heightfield, orthographic and near-frontal: stone or
//! metal albedo (multi-octave value noise, speckles, marble veins, lichen and dirt
//! stains, grime in the hollows), Lambert shading with a little Blinn–Phong specular,
//! ambient occlusion from how far a point lies below its blurred neighbourhood, and
//! soft cast shadows found by propagating a horizon height along the light direction
//! (one pass over the image, independent of the relief depth). The light rakes at
//! 15–60° elevation, centred on the upper left but often from the top, the left or
//! beyond (photographers rake reliefs from whichever side reveals the carving),
//! from any side in 30 % of the photos, sometimes nearly frontal and diffuse. Output is linear
//! RGB radiance, roughly normalised to mid grey.

use std::f32::consts::PI;

use super::noise::{RngExt, fbm};
use crate::filter::blur;
use crate::grid::Grid;
use crate::rng::Rng;

/// Surface reflectance of one material.
#[derive(Clone, Copy, Debug)]
struct Material {
    /// Linear RGB albedo.
    albedo: [f32; 3],
    /// Contrast of the multi-octave albedo noise.
    mottle: f32,
    /// Strength of fine dark/light grains.
    speckle: f32,
    /// Marble-like veining strength.
    veins: f32,
    /// Specular strength and Blinn–Phong exponent; metals tint their highlight.
    specular: f32,
    shininess: f32,
    metal: bool,
}

fn stone(rng: &mut Rng) -> Material {
    let (albedo, mottle, speckle, veins) = match rng.weighted(&[0.3, 0.25, 0.15, 0.2, 0.1]) {
        0 => ([0.46, 0.34, 0.22], 0.25, 0.25, 0.0), // sandstone
        1 => ([0.2, 0.2, 0.19], 0.3, 0.3, 0.0),     // andesite
        2 => ([0.7, 0.68, 0.63], 0.1, 0.05, 0.5),   // marble
        3 => ([0.52, 0.48, 0.4], 0.2, 0.15, 0.0),   // limestone
        _ => ([0.48, 0.26, 0.16], 0.2, 0.2, 0.0),   // terracotta
    };
    let k = rng.range(0.7, 1.3);
    let tint = [rng.range(0.93, 1.07), rng.range(0.95, 1.05), rng.range(0.93, 1.07)];
    Material {
        albedo: std::array::from_fn(|i| (albedo[i] * k * tint[i]).min(0.9)),
        mottle: mottle * rng.range(0.5, 1.5),
        speckle: speckle * rng.range(0.2, 1.0),
        veins: veins * rng.range(0.3, 1.0),
        specular: rng.range(0.0, 0.08),
        shininess: rng.range(5.0, 20.0),
        metal: false,
    }
}

fn metal(rng: &mut Rng) -> Material {
    let albedo = match rng.int(0, 2) {
        0 => [0.22, 0.17, 0.1],  // bronze with patina
        1 => [0.45, 0.45, 0.44], // silver
        _ => [0.55, 0.42, 0.2],  // gold
    };
    let k = rng.range(0.6, 1.2);
    Material {
        albedo: albedo.map(|a| a * k),
        mottle: rng.range(0.15, 0.5),
        speckle: rng.range(0.1, 0.4),
        veins: 0.0,
        specular: rng.range(0.1, 0.5),
        shininess: rng.range(8.0, 40.0),
        metal: true,
    }
}

/// The tray objects lie on: dark cloth, card, or wood.
fn tray(rng: &mut Rng) -> Material {
    let albedo = match rng.int(0, 2) {
        0 => [0.03, 0.03, 0.03],
        1 => [0.5, 0.47, 0.42],
        _ => [0.25, 0.15, 0.08],
    };
    Material {
        albedo,
        mottle: 0.2,
        speckle: 0.1,
        veins: 0.0,
        specular: 0.0,
        shininess: 1.0,
        metal: false,
    }
}

/// A rendered panel and the light it was lit by.
pub struct Rendered {
    /// Linear RGB.
    pub linear: Grid<[f32; 3]>,
    /// Unit vector towards the main light, in image axes: x right, y down, z out of the panel.
    pub light: [f32; 3],
}

/// Renders `height` (0..1) with a relief depth of `relief_px` pixels; `object_mask`
/// separates objects (1) from the tray (0) they lie on; `metal` picks metal objects.
pub fn render(
    rng: &mut Rng,
    height: &Grid<f32>,
    relief_px: f32,
    object_mask: Option<&Grid<f32>>,
    metal_objects: bool,
    unit_px: f32,
) -> Rendered {
    let (w, h) = (height.width, height.height);
    let object = if metal_objects { metal(rng) } else { stone(rng) };
    let ground = if object_mask.is_some() { tray(rng) } else { object };
    let relief: Vec<f32> = height.data.iter().map(|v| v * relief_px).collect();
    let relief = Grid::from_vec(w, h, relief);

    // Light: raking, from any side for 30 % of the photos, otherwise centred on the
    // upper left with a spread of ±50° (1σ), so the top, the left and the upper right
    // are common too (heritage photographers light from above, but not always).
    let diffuse = rng.chance(0.1);
    let azimuth = if rng.chance(0.3) {
        rng.range(0.0, 2.0 * PI)
    } else {
        1.25 * PI + rng.normal() * 0.87
    };
    // Photographers of reliefs favour raking light: low elevations are more likely.
    let u = rng.f32();
    let elevation = if diffuse {
        rng.range(55.0f32, 85.0)
    } else {
        15.0 + 45.0 * u * u
    }
    .to_radians();
    let (dx, dy) = (azimuth.cos(), azimuth.sin());
    let light = [dx * elevation.cos(), dy * elevation.cos(), elevation.sin()];
    let ambient = if diffuse {
        rng.range(0.5, 0.9)
    } else {
        rng.range(0.12, 0.4)
    };
    let fill = if rng.chance(0.3) { rng.range(0.1, 0.35) } else { 0.0 };
    let fill_light = [-light[0], -light[1], light[2]];
    let lit = shadow_factor(&relief, dx, dy, elevation.tan(), rng.range(0.3, 1.5));

    // Ambient occlusion and grime from the height below the local average.
    let near = blur(&relief, 2.5 * unit_px);
    let far = blur(&relief, 10.0 * unit_px);
    let ao_strength = rng.range(0.5, 2.0) / relief_px.max(1.0);
    let grime = rng.range(0.0, 0.6);

    // Albedo textures.
    let cells_px = [rng.range(20.0, 60.0), rng.range(1.0, 2.5), rng.range(15.0, 50.0)].map(|c| c * unit_px);
    let mottle = fbm(rng, w, h, cells_px[0], 5, 0.55);
    let grains = fbm(rng, w, h, cells_px[1], 1, 0.5);
    let stains = fbm(rng, w, h, cells_px[2], 4, 0.55);
    let vein_warp = fbm(rng, w, h, 40.0 * unit_px, 3, 0.45);
    let stain_amount = if rng.chance(0.5) { rng.range(0.1, 0.6) } else { 0.0 };
    let stain_colour = if rng.chance(0.5) {
        [0.6, 0.65, 0.45]
    } else {
        [0.45, 0.42, 0.38]
    };
    let vein_freq = rng.range(0.01, 0.04) / unit_px;

    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let hx =
                0.5 * (relief.get_clamped(x as isize + 1, y as isize) - relief.get_clamped(x as isize - 1, y as isize));
            let hy =
                0.5 * (relief.get_clamped(x as isize, y as isize + 1) - relief.get_clamped(x as isize, y as isize - 1));
            let inv = 1.0 / (hx * hx + hy * hy + 1.0).sqrt();
            let n = [-hx * inv, -hy * inv, inv];
            let ndl = (n[0] * light[0] + n[1] * light[1] + n[2] * light[2]).max(0.0);
            let fill_ndl = (n[0] * fill_light[0] + n[1] * fill_light[1] + n[2] * fill_light[2]).max(0.0);
            let cavity = (near.data[i] - relief.data[i]).max(0.0) + 0.5 * (far.data[i] - relief.data[i]).max(0.0);
            let ao = (1.0 - cavity * ao_strength).clamp(0.25, 1.0);
            // Blinn–Phong with the camera straight above.
            let half = [light[0], light[1], light[2] + 1.0];
            let hl = (half[0] * half[0] + half[1] * half[1] + half[2] * half[2]).sqrt();
            let ndh = ((n[0] * half[0] + n[1] * half[1] + n[2] * half[2]) / hl).max(0.0);
            let m_obj = object_mask.map_or(1.0, |m| m.data[i]);
            let mut colour = [0.0f32; 3];
            for (mat, weight) in [(object, m_obj), (ground, 1.0 - m_obj)] {
                if weight <= 0.0 {
                    continue;
                }
                let mut a = 1.0 + mat.mottle * mottle.data[i];
                a *= 1.0 + mat.speckle * (grains.data[i] * 2.5).clamp(-1.0, 1.0);
                if mat.veins > 0.0 {
                    let v = ((x as f32 + y as f32 * 0.6) * vein_freq + 3.0 * vein_warp.data[i])
                        .sin()
                        .abs();
                    a *= 1.0 - mat.veins * (1.0 - v).powi(8);
                }
                a *= 1.0 - grime * (cavity * ao_strength).min(1.0);
                let stain = (stains.data[i] * 3.0 - 0.3).clamp(0.0, 1.0) * stain_amount;
                let spec = mat.specular * ndh.powf(mat.shininess) * lit.data[i];
                for c in 0..3 {
                    let albedo = (mat.albedo[c] * a * (1.0 - stain + stain * stain_colour[c])).max(0.0);
                    let diffuse_light = ambient * ao + ndl * lit.data[i] + fill * fill_ndl * ao;
                    let spec_colour = if mat.metal { mat.albedo[c] * 2.0 } else { 1.0 };
                    colour[c] += weight * (albedo * diffuse_light + spec * spec_colour);
                }
            }
            out.push(colour);
        }
    }
    // Exposure: bring the mean luminance to a random mid grey.
    let mean: f32 = out.iter().map(|c| c[0] * 0.3 + c[1] * 0.59 + c[2] * 0.11).sum::<f32>() / out.len().max(1) as f32;
    let target = rng.range(0.14, 0.3);
    let k = target / mean.max(1e-4);
    Rendered {
        linear: Grid::from_vec(w, h, out.into_iter().map(|c| c.map(|v| v * k)).collect()),
        light,
    }
}

/// 1 where lit, 0 in cast shadow, soft in between: a horizon height
/// `S(p) = max(H(p), S(p + d) − |d|·tan(elevation))` is carried from the side facing the
/// light across the image (`(dx, dy)` points towards the light), interpolating between
/// neighbours; `softness_px` widens the penumbra.
fn shadow_factor(relief: &Grid<f32>, dx: f32, dy: f32, tan_elevation: f32, softness_px: f32) -> Grid<f32> {
    let (w, h) = (relief.width, relief.height);
    let mut horizon = relief.clone();
    let mut out = Grid::filled(w, h, 1.0f32);
    let soft = softness_px.max(0.1);
    // March along the major axis of the light direction, one column (or row) at a time.
    let along_x = dx.abs() >= dy.abs();
    let (major, minor) = if along_x { (dx, dy) } else { (dy, dx) };
    let (n_major, n_minor) = if along_x { (w, h) } else { (h, w) };
    let step_len = 1.0 / major.abs().max(1e-4);
    let minor_offset = minor * step_len;
    let drop = step_len * tan_elevation;
    let index = |a: usize, b: usize| if along_x { b * w + a } else { a * w + b };
    let order: Vec<usize> = if major < 0.0 {
        (0..n_major).collect()
    } else {
        (0..n_major).rev().collect()
    };
    for (k, &a) in order.iter().enumerate() {
        if k == 0 {
            continue;
        }
        let upstream = order[k - 1];
        for b in 0..n_minor {
            let pos = b as f32 + minor_offset;
            let b0 = pos.floor();
            let t = pos - b0;
            let b0i = (b0 as isize).clamp(0, n_minor as isize - 1) as usize;
            let b1i = (b0 as isize + 1).clamp(0, n_minor as isize - 1) as usize;
            let up = horizon.data[index(upstream, b0i)] * (1.0 - t) + horizon.data[index(upstream, b1i)] * t - drop;
            let i = index(a, b);
            let here = relief.data[i];
            if up > here {
                horizon.data[i] = up;
                out.data[i] = (1.0 - (up - here) / soft).clamp(0.0, 1.0);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wall_casts_a_shadow_away_from_the_light() {
        // A tall ridge at x = 10; light from the left (dx < 0) at low elevation.
        let relief = Grid::from_fn(40, 8, |x, _| if (9..=11).contains(&x) { 10.0 } else { 0.0 });
        let lit = shadow_factor(&relief, -1.0, 0.0, (20.0f32).to_radians().tan(), 0.5);
        assert!(lit.get(5, 4) > 0.99, "before the ridge is lit");
        assert!(lit.get(15, 4) < 0.01, "just behind the ridge is in shadow");
        assert!(lit.get(39, 4) > 0.99, "far behind is lit again");
    }

    #[test]
    fn rendering_is_finite_and_positive() {
        let height = Grid::from_fn(48, 48, |x, y| {
            if (x as i32 - 24).pow(2) + (y as i32 - 24).pow(2) < 200 {
                1.0
            } else {
                0.0
            }
        });
        let img = render(&mut Rng::new(2), &height, 4.0, None, false, 0.2);
        assert!(img.linear.data.iter().flatten().all(|v| v.is_finite() && *v >= 0.0));
        let [x, y, z] = img.light;
        assert!((x * x + y * y + z * z - 1.0).abs() < 1e-5 && z > 0.0, "{:?}", img.light);
    }
}

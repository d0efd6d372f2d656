//! Weathering of a carved scene, applied to the heightfield before labels are derived:
//! erosion (blurring towards a smoother surface plus granular noise and pitting), chips
//! knocked out of raised parts, cracks (incised random polylines, sometimes branching)
//! and missing pieces broken off down to the ground or below it (labelled background,
//! since nothing carved remains there).

use std::f32::consts::TAU;

use super::carve::{Canvas, Prim, Profile, Stamp, V2, v2};
use super::noise::{RngExt, fbm};
use super::shapes::{SemanticClass, stroke};
use crate::filter::blur;
use crate::rng::Rng;

/// Weathers `canvas` in place; `strength` (0..1) scales every effect, `worn` is for
/// objects that were handled or buried (coins), which erode much more.
pub fn weather(rng: &mut Rng, canvas: &mut Canvas, unit_px: f32, strength: f32, worn: bool) {
    let (w, h) = (canvas.height.width, canvas.height.height);
    let erosion = strength * if worn { rng.range(0.3, 1.0) } else { rng.range(0.0, 0.7) };
    for _ in 0..rng.int(0, (12.0 * strength) as usize) {
        chip(rng, canvas, unit_px);
    }
    let cracks = if rng.chance(0.5 * strength) { rng.int(1, 3) } else { 0 };
    for _ in 0..cracks {
        crack(rng, canvas, unit_px);
    }
    let broken = if rng.chance(0.25 * strength) {
        missing_piece(rng, canvas, unit_px)
    } else {
        Vec::new()
    };
    // Granular surface, pits and the rough fracture of broken areas, then erosion
    // smooths all of it together.
    let grain = fbm(rng, w, h, 6.0 * unit_px, 3, 0.6);
    let pits = fbm(rng, w, h, 2.5 * unit_px, 2, 0.5);
    let grain_amp = rng.range(0.0005, 0.002) + 0.003 * erosion;
    let pit_amp = if rng.chance(0.4) {
        rng.range(0.0, 0.006) * (0.3 + erosion)
    } else {
        0.0
    };
    for ((v, g), p) in canvas.height.data.iter_mut().zip(&grain.data).zip(&pits.data) {
        *v += grain_amp * g - pit_amp * (p - 0.35).max(0.0) * 3.0;
    }
    if !broken.is_empty() {
        let rough_amp = rng.range(0.03, 0.1);
        let (lo, hi) = broken.iter().map(Prim::bounds).fold(
            (
                v2(f32::INFINITY, f32::INFINITY),
                v2(f32::NEG_INFINITY, f32::NEG_INFINITY),
            ),
            |(lo, hi), (a, b)| (v2(lo.x.min(a.x), lo.y.min(a.y)), v2(hi.x.max(b.x), hi.y.max(b.y))),
        );
        let (x0, x1) = (lo.x.max(0.0) as usize, (hi.x.ceil().max(0.0) as usize).min(w - 1));
        let (y0, y1) = (lo.y.max(0.0) as usize, (hi.y.ceil().max(0.0) as usize).min(h - 1));
        for y in y0..=y1 {
            for x in x0..=x1 {
                let q = v2(x as f32, y as f32);
                let inside = broken.iter().map(|b| b.sdf(q)).fold(f32::INFINITY, f32::min);
                let i = y * w + x;
                canvas.height.data[i] += rough_amp * grain.data[i] * (-inside / unit_px).clamp(0.0, 4.0);
            }
        }
    }
    if erosion > 0.02 {
        let soft = blur(&canvas.height, (0.6 + 2.5 * erosion) * unit_px);
        let k = (erosion * 0.8).min(0.85);
        for (v, s) in canvas.height.data.iter_mut().zip(&soft.data) {
            *v += (s - *v) * k;
        }
    }
}

/// A random pixel whose label is not background, if one is found quickly.
fn raised_pixel(rng: &mut Rng, canvas: &Canvas) -> Option<(usize, usize)> {
    let (w, h) = (canvas.height.width, canvas.height.height);
    (0..40)
        .map(|_| (rng.int(0, w - 1), rng.int(0, h - 1)))
        .find(|&(x, y)| canvas.class.get(x, y) != SemanticClass::Background.id())
}

/// A small piece knocked out of a raised part: the surface drops part of the way to
/// the ground inside an irregular blob; labels stay.
fn chip(rng: &mut Rng, canvas: &mut Canvas, unit_px: f32) {
    let Some((x, y)) = raised_pixel(rng, canvas) else {
        return;
    };
    let c = v2(x as f32, y as f32);
    let r = rng.range(1.5, 5.0) * unit_px;
    let prims = (0..rng.int(1, 3))
        .map(|_| Prim::Ellipse {
            c: c + V2::polar(rng.range(0.0, TAU)) * (r * 0.5),
            a: r,
            b: r * rng.range(0.4, 1.0),
            angle: rng.range(0.0, TAU),
        })
        .collect();
    let top = canvas.height.get(x, y) - canvas.plane.get(x, y);
    let base = top * rng.range(0.2, 0.7);
    canvas.apply(&Stamp {
        class: None, // a chip keeps the label of what it breaks
        ..Stamp::lower(prims, SemanticClass::Background, base, 0.0, 1.0, Profile::chamfer())
    });
}

/// A crack: a jagged polyline incised across part of the panel, maybe with a branch.
fn crack(rng: &mut Rng, canvas: &mut Canvas, unit_px: f32) {
    let (w, h) = (canvas.height.width as f32, canvas.height.height as f32);
    let mut p = match rng.int(0, 3) {
        0 => v2(0.0, rng.range(0.0, h)),
        1 => v2(w, rng.range(0.0, h)),
        2 => v2(rng.range(0.0, w), 0.0),
        _ => v2(rng.range(0.0, w), h),
    };
    let mut dir = v2(w, h) * 0.5 + v2(rng.range(-0.3, 0.3) * w, rng.range(-0.3, 0.3) * h) - p;
    dir = dir * (1.0 / dir.len().max(1e-3));
    let step = 4.0 * unit_px;
    let steps = (rng.range(0.3, 1.2) * w.max(h) / step) as usize;
    let mut pts = vec![p];
    for _ in 0..steps {
        dir = dir.rotated(rng.normal() * 0.35);
        p = p + dir * step;
        pts.push(p);
    }
    let half_width = rng.range(0.4, 1.0) * unit_px;
    let depth = rng.range(0.05, 0.3);
    canvas.apply(&Stamp::cut(
        stroke(&pts, half_width, half_width * 0.5),
        depth,
        half_width,
    ));
    if pts.len() > 6 && rng.chance(0.4) {
        let mut q = pts[rng.int(2, pts.len() - 3)];
        let mut d = dir.rotated(rng.sign() * rng.range(0.5, 1.2));
        let mut branch = vec![q];
        for _ in 0..steps / 3 {
            d = d.rotated(rng.normal() * 0.4);
            q = q + d * step;
            branch.push(q);
        }
        canvas.apply(&Stamp::cut(
            stroke(&branch, half_width * 0.7, half_width * 0.3),
            depth * 0.7,
            half_width,
        ));
    }
}

/// A broken-off area near the border: an irregular blob lowered to the ground or below;
/// returns its shapes so that its surface can be roughened.
fn missing_piece(rng: &mut Rng, canvas: &mut Canvas, unit_px: f32) -> Vec<Prim> {
    let (w, h) = (canvas.height.width as f32, canvas.height.height as f32);
    let c = match rng.int(0, 3) {
        0 => v2(rng.range(0.0, w), 0.0),
        1 => v2(w, rng.range(0.0, h)),
        2 => v2(rng.range(0.0, w), h),
        _ => v2(0.0, rng.range(0.0, h)),
    };
    let r = w.min(h) * rng.range(0.08, 0.25);
    // Big lumps for the mass, many small ones for a jagged outline.
    let mut prims: Vec<Prim> = (0..rng.int(2, 5))
        .map(|_| Prim::Circle {
            c: c + V2::polar(rng.range(0.0, TAU)) * (r * rng.range(0.0, 0.6)),
            r: r * rng.range(0.3, 0.6),
        })
        .collect();
    for _ in 0..rng.int(8, 20) {
        let p = c + V2::polar(rng.range(0.0, TAU)) * (r * rng.range(0.4, 1.0));
        prims.push(Prim::Ellipse {
            c: p,
            a: r * rng.range(0.1, 0.3),
            b: r * rng.range(0.05, 0.2),
            angle: rng.range(0.0, TAU),
        });
    }
    let base = -rng.range(0.0, 0.15);
    let stamp = Stamp::lower(
        prims.clone(),
        SemanticClass::Background,
        base,
        0.0,
        2.0 * unit_px,
        Profile::chamfer(),
    );
    canvas.apply(&stamp);
    prims
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Grid;

    #[test]
    fn weathering_keeps_the_size_and_changes_the_surface() {
        let mut canvas = Canvas::new(Grid::filled(64, 64, 0.0));
        canvas.apply(&Stamp::raise(
            vec![Prim::Circle {
                c: v2(32.0, 32.0),
                r: 20.0,
            }],
            SemanticClass::Figure,
            0.0,
            1.0,
            6.0,
            Profile::round(),
        ));
        let before = canvas.height.clone();
        weather(&mut Rng::new(5), &mut canvas, 0.25, 1.0, true);
        assert_eq!(canvas.height.len(), before.len());
        assert!(
            canvas
                .height
                .data
                .iter()
                .zip(&before.data)
                .any(|(a, b)| (a - b).abs() > 1e-3)
        );
        assert!(canvas.height.data.iter().all(|v| v.is_finite()));
    }
}

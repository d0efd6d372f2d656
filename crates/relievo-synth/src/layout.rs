//! Composition of whole scenes from motifs: the background plane (tilt, unevenness,
//! tool marks) and one of several panel kinds — friezes of 1–3 registers (processions,
//! ornament bands, inscriptions, arcades), round medallions and coins with raised rims,
//! trays of coins, inscribed plaques, ornament panels, frameless fields of figures, and
//! natural rock faces (ridged, rolling or terraced) with pecked rock art, and line work
//! on a flat field (raised or incised waves, rings, frames and loops enclosing ground
//! that stays at the field's level, with bosses and sunk recesses). Built panels
//! sometimes show the joints between their stone blocks.
//! Scenes are laid out in output pixels; a zoom factor makes the panel larger than the
//! image so that some samples are close-up crops without frame.

use std::f32::consts::{FRAC_PI_2, TAU};

use super::carve::{Canvas, Mode, Prim, Profile, Stamp, V2, v2};
use super::noise::{RngExt, fbm};
use super::shapes::{self, Look, Motif, SemanticClass};
use crate::grid::Grid;
use crate::rng::Rng;

/// A carved scene before weathering and rendering.
pub struct Scene {
    pub canvas: Canvas,
    /// Width of the carved panel (or, on a tray, of a typical object) in pixels; the
    /// relief depth is a fraction of it.
    pub panel_width_px: f32,
    /// Metal objects (coins) rather than stone.
    pub metal: bool,
    /// For objects lying on a tray: 1 on the objects, 0 on the tray.
    pub object_mask: Option<Grid<f32>>,
}

/// Axis-aligned rectangle in pixels.
#[derive(Clone, Copy, Debug)]
struct Rect {
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
}

impl Rect {
    fn w(&self) -> f32 {
        self.x1 - self.x0
    }
    fn h(&self) -> f32 {
        self.y1 - self.y0
    }
    fn shrink(&self, d: f32) -> Rect {
        Rect {
            x0: self.x0 + d,
            y0: self.y0 + d,
            x1: self.x1 - d,
            y1: self.y1 - d,
        }
    }
    fn centre(&self) -> V2 {
        v2((self.x0 + self.x1) * 0.5, (self.y0 + self.y1) * 0.5)
    }
}

/// Builds a random scene of `size_px × size_px`.
pub fn compose(rng: &mut Rng, size_px: usize) -> Scene {
    let s = size_px as f32;
    let unit_px = s / 256.0;
    let kind = rng.weighted(&[0.25, 0.10, 0.05, 0.05, 0.09, 0.10, 0.10, 0.14, 0.12]);
    let mut plane = background_plane(rng, size_px, unit_px);
    if kind == 7 {
        let rock = rock_surface(rng, size_px);
        plane.data.iter_mut().zip(&rock.data).for_each(|(p, r)| *p += r);
    }
    let mut canvas = Canvas::new(plane);
    let look = Look::random(rng, unit_px);
    let zoom = if rng.chance(0.3) { rng.range(1.25, 2.6) } else { 1.0 };
    let aspect = if rng.chance(0.5) { 1.0 } else { rng.range(0.7, 1.8) };
    let pw = s * zoom * rng.range(1.0, 1.06);
    let ph = (pw / aspect).max(s * rng.range(1.0, 1.06));
    let (ox, oy) = (rng.range(0.0, 1.0) * (pw - s), rng.range(0.0, 1.0) * (ph - s));
    let panel = Rect {
        x0: -ox,
        y0: -oy,
        x1: pw - ox,
        y1: ph - oy,
    };
    let mut stamps = Vec::new();
    // The relief depth is a fraction of the carved object's width: the panel's, or for
    // a tray of coins a coin's (coins are thin).
    let mut object_width_px = pw.max(s);
    let mut metal = false;
    let mut object_mask = None;
    match kind {
        0 => {
            let inner = frame(rng, &look, &mut stamps, panel, unit_px);
            registers(rng, &look, &mut stamps, inner, unit_px);
        }
        1 => {
            let r = 0.5 * s * zoom * rng.range(0.8, 0.98);
            let c =
                v2(s * 0.5, s * 0.5) + v2(rng.range(-0.5, 0.5), rng.range(-0.5, 0.5)) * (s * zoom - 2.0 * r).max(0.0);
            metal = rng.chance(0.5);
            medallion(rng, &look, &mut stamps, c, r, unit_px);
            if metal {
                object_mask = Some(disc_mask(size_px, &[(c, r)]));
            }
        }
        2 => {
            let coins = coin_tray(rng, &look, &mut stamps, s * zoom.min(1.4), unit_px);
            if !coins.is_empty() {
                object_width_px = 3.0 * coins.iter().map(|(_, r)| r).sum::<f32>() / coins.len() as f32;
            }
            metal = rng.chance(0.8);
            object_mask = Some(disc_mask(size_px, &coins));
        }
        3 => {
            let inner = frame(rng, &look, &mut stamps, panel, unit_px);
            plaque(rng, &look, &mut stamps, inner, unit_px);
        }
        4 => {
            let inner = frame(rng, &look, &mut stamps, panel, unit_px);
            ornament_field(rng, &look, &mut stamps, inner);
        }
        5 => {
            let inner = frame(rng, &look, &mut stamps, panel, unit_px);
            arcade(rng, &look, &mut stamps, inner, unit_px);
        }
        6 => free_field(rng, &look, &mut stamps, panel),
        8 => {
            let inner = frame(rng, &look, &mut stamps, panel, unit_px);
            line_field(rng, &mut stamps, inner, unit_px);
        }
        _ => {
            // Bare rock and terrain-like relief (landscape models, eroded faces) as often as rock art.
            if rng.chance(0.4) {
                rock_art(rng, &look, &mut stamps, s);
            }
        }
    }
    for stamp in &stamps {
        canvas.apply(stamp);
    }
    if matches!(kind, 0 | 3..=6 | 8) && rng.chance(0.25) {
        block_joints(rng, &mut canvas, unit_px);
    }
    Scene {
        canvas,
        panel_width_px: object_width_px,
        metal,
        object_mask,
    }
}

/// The ground the relief is cut from: a slight tilt, low-frequency unevenness and,
/// often, claw-chisel striations in patches.
fn background_plane(rng: &mut Rng, size_px: usize, unit_px: f32) -> Grid<f32> {
    let s = size_px as f32;
    let (gx, gy) = (rng.range(-0.12, 0.12) / s, rng.range(-0.12, 0.12) / s);
    let uneven_cell_px = s * rng.range(0.3, 0.8);
    let uneven = fbm(rng, size_px, size_px, uneven_cell_px, 3, 0.5);
    let uneven_amp = rng.range(0.0, 0.08);
    let mut plane = Grid::from_fn(size_px, size_px, |x, y| {
        gx * x as f32 + gy * y as f32 + uneven_amp * uneven.get(x, y)
    });
    if rng.chance(0.6) {
        let dir = V2::polar(rng.range(0.0, TAU));
        let period_px = rng.range(6.0, 14.0) * unit_px;
        let amp = rng.range(0.0003, 0.0012);
        let patches = fbm(rng, size_px, size_px, s * 0.15, 2, 0.5);
        let wobble = fbm(rng, size_px, size_px, s * 0.1, 2, 0.5);
        for y in 0..size_px {
            for x in 0..size_px {
                let i = y * size_px + x;
                let u = (x as f32 * dir.x + y as f32 * dir.y) / period_px + 2.0 * wobble.data[i];
                let mask = (patches.data[i] * 4.0).clamp(0.0, 1.0);
                plane.data[i] += amp * mask * (u * TAU).sin();
            }
        }
    }
    plane
}

/// A natural rock surface: ridged, rolling or terraced multi-octave noise, up to about
/// a figure's depth in amplitude.
fn rock_surface(rng: &mut Rng, size_px: usize) -> Grid<f32> {
    let s = size_px as f32;
    let cell_px = s * rng.range(0.1, 0.4);
    let gain = rng.range(0.5, 0.65);
    let noise = fbm(rng, size_px, size_px, cell_px, 6, gain);
    let amp = rng.range(0.4, 1.2);
    let steps = rng.range(4.0, 9.0);
    let mut surface = match rng.int(0, 2) {
        0 => noise.map(|v| amp * (1.0 - (2.0 * v).abs())),
        1 => noise.map(|v| amp * v),
        _ => noise.map(|v| {
            let t = (v + 1.0) * steps;
            let k = t.floor();
            let riser = ((t - k - 0.7) / 0.3).clamp(0.0, 1.0);
            amp * (k + riser * riser * (3.0 - 2.0 * riser)) / steps
        }),
    };
    // Sometimes a fault: a soft step along a random line, as in eroded terrain.
    if rng.chance(0.4) {
        let dir = V2::polar(rng.range(0.0, TAU));
        let offset = rng.range(0.3, 0.7) * s;
        let width_px = s * rng.range(0.005, 0.03);
        let height = amp * rng.range(0.2, 0.6);
        for y in 0..size_px {
            for x in 0..size_px {
                let d = (x as f32 - s * 0.5) * dir.x + (y as f32 - s * 0.5) * dir.y + s * 0.5 - offset;
                let t = (d / width_px).clamp(-1.0, 1.0);
                surface.data[y * size_px + x] += height * 0.5 * (1.0 + t * (1.5 - 0.5 * t * t));
            }
        }
    }
    surface
}

/// Pecked rock art: animals, people and spirals sunk into the rock (intaglio), labelled
/// with what they depict although they lie below the surrounding surface.
fn rock_art(rng: &mut Rng, look: &Look, stamps: &mut Vec<Stamp>, size_px: f32) {
    for _ in 0..rng.int(1, 5) {
        let c = v2(rng.range(0.1, 0.9), rng.range(0.1, 0.9)) * size_px;
        let scale = size_px * rng.range(0.2, 0.45);
        let kind = rng.weighted(&[0.4, 0.3, 0.2, 0.1]);
        let mut m = Motif::new(
            look,
            if kind == 2 {
                SemanticClass::Ornament
            } else {
                SemanticClass::Figure
            },
            0.0,
            rng.range(0.1, 0.35),
        );
        match kind {
            0 => shapes::quadruped(rng, &mut m, c.x, c.y + scale * 0.4, scale),
            1 => shapes::human(rng, &mut m, v2(c.x, c.y + scale * 0.5), scale),
            2 => shapes::spiral(
                &mut m,
                c,
                scale * 0.4,
                rng.range(1.5, 3.0),
                rng.range(0.0, TAU),
                rng.sign(),
                1.0,
            ),
            _ => shapes::bird(rng, &mut m, c.x, c.y + scale * 0.3, scale * 0.7),
        }
        stamps.extend(
            m.stamps
                .into_iter()
                .filter(|s| s.mode == Mode::Raise)
                .map(|s| Stamp { mode: Mode::Lower, ..s }),
        );
    }
}

/// Joints between the stone blocks a panel is built from: horizontal courses with
/// staggered vertical joints, cut through whatever is carved across them.
fn block_joints(rng: &mut Rng, canvas: &mut Canvas, unit_px: f32) {
    let (w, h) = (canvas.height.width as f32, canvas.height.height as f32);
    let course_px = h * rng.range(0.2, 0.6);
    let block_px = course_px * rng.range(1.0, 2.5);
    let half_width = rng.range(0.4, 1.0) * unit_px;
    let mut prims = Vec::new();
    let mut y = rng.range(-course_px, 0.0);
    while y < h {
        let next = y + course_px;
        prims.push(Prim::capsule(
            v2(-2.0, next),
            v2(w + 2.0, next + rng.range(-1.0, 1.0) * unit_px),
            half_width,
        ));
        let mut x = rng.range(-block_px, 0.0);
        while x < w {
            x += block_px * rng.range(0.8, 1.2);
            prims.push(Prim::capsule(
                v2(x, y),
                v2(x + rng.range(-1.0, 1.0) * unit_px, next),
                half_width,
            ));
        }
        y = next;
    }
    canvas.apply(&Stamp::cut(prims, rng.range(0.05, 0.2), half_width));
}

/// 1 inside any of the discs `(centre, radius)`, 0 elsewhere, anti-aliased.
fn disc_mask(size_px: usize, discs: &[(V2, f32)]) -> Grid<f32> {
    Grid::from_fn(size_px, size_px, |x, y| {
        let p = v2(x as f32, y as f32);
        let d = discs
            .iter()
            .map(|(c, r)| (p - *c).len() - r)
            .fold(f32::INFINITY, f32::min);
        (0.5 - d).clamp(0.0, 1.0)
    })
}

/// A moulded frame around `panel` (most of the time); returns the field inside it.
fn frame(rng: &mut Rng, look: &Look, stamps: &mut Vec<Stamp>, panel: Rect, unit_px: f32) -> Rect {
    if rng.chance(0.2) {
        return panel;
    }
    let width = panel.w().min(panel.h()) * rng.range(0.04, 0.11);
    let depth = rng.range(0.5, 1.3);
    let band = Prim::Frame {
        min: v2(panel.x0, panel.y0),
        max: v2(panel.x1, panel.y1),
        width,
    };
    let profile = if rng.chance(0.7) {
        Profile::moulding(rng)
    } else {
        Profile::chamfer()
    };
    let round_px = if rng.chance(0.7) {
        width
    } else {
        rng.range(1.0, 3.0) * unit_px
    };
    stamps.push(Stamp::raise(
        vec![band],
        SemanticClass::Architecture,
        0.0,
        depth,
        round_px,
        profile,
    ));
    let inner = panel.shrink(width);
    if rng.chance(0.3) {
        // A bead row or a small scroll just inside the frame.
        let r = width * rng.range(0.15, 0.25);
        let mut m = Motif::new(look, SemanticClass::Ornament, 0.0, depth * 0.6);
        for (a, b) in corners_path(inner.shrink(r * 1.3)) {
            let n = ((b - a).len() / (r * 2.4)).floor().max(1.0) as usize;
            for i in 0..n {
                let c = a.lerp(b, (i as f32 + 0.5) / n as f32);
                m.stamps.push(Stamp::raise(
                    vec![Prim::Circle { c, r }],
                    SemanticClass::Ornament,
                    0.0,
                    depth * 0.6,
                    r,
                    Profile::round(),
                ));
            }
        }
        stamps.extend(m.finish());
        return inner.shrink(r * 2.6);
    }
    inner
}

/// The four edges of `r` as segments.
fn corners_path(r: Rect) -> [(V2, V2); 4] {
    let (a, b, c, d) = (v2(r.x0, r.y0), v2(r.x1, r.y0), v2(r.x1, r.y1), v2(r.x0, r.y1));
    [(a, b), (b, c), (c, d), (d, a)]
}

/// A raised horizontal band (register divider, ground ledge, entablature).
fn ledge(rng: &mut Rng, stamps: &mut Vec<Stamp>, x0: f32, x1: f32, y0: f32, y1: f32) {
    let half = v2((x1 - x0) * 0.5, (y1 - y0) * 0.5);
    let profile = match rng.int(0, 2) {
        0 => Profile::round(),
        1 => Profile::stepped(2),
        _ => Profile::chamfer(),
    };
    let round_px = if rng.chance(0.5) {
        half.y
    } else {
        (half.y * 0.3).max(0.75)
    };
    let c = v2((x0 + x1) * 0.5, (y0 + y1) * 0.5);
    stamps.push(Stamp::raise(
        vec![Prim::Box {
            c,
            half,
            angle: 0.0,
            corner: 0.0,
        }],
        SemanticClass::Architecture,
        0.0,
        rng.range(0.4, 1.0),
        round_px,
        profile,
    ));
}

/// 1–3 registers separated by ledges, each filled with its own content.
fn registers(rng: &mut Rng, look: &Look, stamps: &mut Vec<Stamp>, field: Rect, unit_px: f32) {
    let n = rng.weighted(&[0.5, 0.35, 0.15]) + 1;
    let divider = field.h() * rng.range(0.03, 0.06);
    let reg_h = (field.h() - divider * (n - 1) as f32) / n as f32;
    for i in 0..n {
        let y0 = field.y0 + i as f32 * (reg_h + divider);
        let reg = Rect {
            y0,
            y1: y0 + reg_h,
            ..field
        };
        if i > 0 {
            ledge(rng, stamps, field.x0, field.x1, y0 - divider, y0);
        }
        let wide = reg.w() > 3.0 * reg.h();
        let kind = if wide {
            rng.weighted(&[0.45, 0.38, 0.17, 0.0])
        } else {
            rng.weighted(&[0.68, 0.07, 0.1, 0.15])
        };
        match kind {
            0 => procession(rng, look, stamps, reg),
            1 => ornament_band(rng, look, stamps, reg),
            2 => inscription(rng, look, stamps, reg, unit_px),
            _ => arcade(rng, look, stamps, reg, unit_px),
        }
    }
}

/// Figures, animals and trees standing on a ground line, overlapping in depth.
fn procession(rng: &mut Rng, look: &Look, stamps: &mut Vec<Stamp>, reg: Rect) {
    let mut ground = reg.y1;
    if rng.chance(0.5) {
        let lh = reg.h() * rng.range(0.04, 0.08);
        ledge(rng, stamps, reg.x0, reg.x1, reg.y1 - lh, reg.y1);
        ground -= lh;
    }
    let tall = (ground - reg.y0) * 0.92;
    // A crowd packs figures so closely that they overlap, the nearer carved higher.
    let crowd = rng.chance(0.25);
    let spacing = if crowd {
        rng.range(0.2, 0.35)
    } else {
        rng.range(0.35, 0.8)
    };
    let n = ((reg.w() / (tall * spacing)).round() as usize).clamp(1, 16);
    let slot = reg.w() / n as f32;
    let mut motifs: Vec<(f32, Vec<Stamp>)> = Vec::new();
    for i in 0..n {
        let x = reg.x0 + (i as f32 + 0.5) * slot + rng.range(-0.25, 0.25) * slot;
        let base = if crowd {
            0.12 * (i % 3) as f32 + rng.range(0.0, 0.05)
        } else {
            rng.range(0.0, 0.25)
        };
        let depth = rng.range(0.55, 1.0);
        let kind = rng.weighted(&[0.47, 0.2, 0.06, 0.14, 0.07, 0.06]);
        let class = match kind {
            0..=2 => SemanticClass::Figure,
            3 | 4 => SemanticClass::Ornament,
            _ => SemanticClass::Architecture,
        };
        let mut m = Motif::new(look, class, base, depth);
        let scale = rng.range(0.7, 1.0);
        match kind {
            0 => shapes::human(rng, &mut m, v2(x, ground), tall * scale),
            1 => shapes::quadruped(rng, &mut m, x, ground, (tall * scale * 1.3).min(slot * 1.6)),
            2 => shapes::bird(rng, &mut m, x, ground, tall * scale * 0.6),
            3 => shapes::tree(rng, &mut m, v2(x, ground), tall * scale),
            4 => shapes::palmette(rng, &mut m, v2(x, ground), tall * scale * 0.65),
            _ => shapes::building(rng, &mut m, v2(x, ground), (slot * 1.2).min(tall), tall * scale),
        }
        motifs.push((base, m.finish()));
    }
    if rng.chance(0.3) {
        // Small fillers in the upper space: birds in flight or rosettes.
        for _ in 0..rng.int(1, 3) {
            let c = v2(rng.range(reg.x0, reg.x1), reg.y0 + rng.range(0.1, 0.3) * reg.h());
            let mut m = Motif::new(look, SemanticClass::Ornament, 0.0, rng.range(0.4, 0.8));
            let r = reg.h() * rng.range(0.06, 0.12);
            shapes::rosette(rng, &mut m, c, r);
            motifs.push((0.0, m.finish()));
        }
    }
    motifs.sort_by(|a, b| a.0.total_cmp(&b.0));
    stamps.extend(motifs.into_iter().flat_map(|(_, s)| s));
}

/// One ornament frieze filling the band.
fn ornament_band(rng: &mut Rng, look: &Look, stamps: &mut Vec<Stamp>, reg: Rect) {
    let mut m = Motif::new(look, SemanticClass::Ornament, 0.0, rng.range(0.4, 0.9));
    let cy = (reg.y0 + reg.y1) * 0.5;
    let amp = reg.h() * 0.32;
    match rng.weighted(&[0.22, 0.18, 0.13, 0.13, 0.1, 0.12, 0.06, 0.06]) {
        0 => shapes::vine_scroll(rng, &mut m, reg.x0, reg.x1, cy, amp),
        1 => shapes::guilloche(rng, &mut m, reg.x0, reg.x1, cy, amp),
        2 => shapes::bead_row(&mut m, reg.x0, reg.x1, cy, amp * 0.6, rng.chance(0.5)),
        3 => {
            let step = reg.h() * rng.range(0.9, 1.3);
            let mut x = reg.x0 + step * 0.5;
            let palm = rng.chance(0.5);
            while x < reg.x1 + step {
                if palm {
                    shapes::palmette(rng, &mut m, v2(x, reg.y1 - reg.h() * 0.1), reg.h() * 0.75);
                } else {
                    shapes::rosette(rng, &mut m, v2(x, cy), reg.h() * 0.4);
                }
                x += step;
            }
        }
        4 => shapes::meander(&mut m, reg.x0, reg.x1, reg.y0 + reg.h() * 0.15, reg.y1 - reg.h() * 0.15),
        6 => shapes::zigzag(&mut m, reg.x0, reg.x1, reg.y0 + reg.h() * 0.15, reg.y1 - reg.h() * 0.15),
        7 => shapes::dentils(&mut m, reg.x0, reg.x1, reg.y0 + reg.h() * 0.2, reg.y1 - reg.h() * 0.2),
        _ => {
            // Leaf frieze: overlapping leaves all leaning one way.
            let step = reg.h() * rng.range(0.35, 0.6);
            let lean = rng.range(0.3, 0.9);
            let mut x = reg.x0;
            while x < reg.x1 + step {
                let a = v2(x, reg.y1 - reg.h() * 0.15);
                let b = a + V2::polar(-FRAC_PI_2 + lean) * (reg.h() * 0.8);
                shapes::leaf(rng, &mut m, a, b, reg.h() * 0.15, 1.0);
                x += step;
            }
        }
    }
    stamps.extend(m.finish());
}

/// Rows of random glyphs, raised or incised, sometimes on a raised tablet.
fn inscription(rng: &mut Rng, look: &Look, stamps: &mut Vec<Stamp>, reg: Rect, unit_px: f32) {
    let mut area = reg.shrink(reg.h().min(reg.w()) * 0.08);
    let mut base = 0.0;
    if rng.chance(0.4) {
        let half = v2(area.w() * 0.5, area.h() * 0.5);
        let tablet = Prim::Box {
            c: area.centre(),
            half,
            angle: 0.0,
            corner: 0.0,
        };
        base = rng.range(0.2, 0.5);
        stamps.push(Stamp::raise(
            vec![tablet],
            SemanticClass::Architecture,
            0.0,
            base,
            rng.range(1.0, 3.0) * unit_px,
            Profile::chamfer(),
        ));
        area = area.shrink(area.h().min(area.w()) * 0.1);
    }
    let rows = ((area.h() / (area.w() * rng.range(0.08, 0.3))).round() as usize).clamp(1, 6);
    let row_h = area.h() / rows as f32;
    let glyph_h = row_h * rng.range(0.55, 0.75);
    let glyph_w = glyph_h * rng.range(0.5, 0.85);
    let gap = glyph_w * rng.range(0.2, 0.5);
    let incised = rng.chance(0.45);
    let alphabet = shapes::alphabet(rng, 24);
    let w = (glyph_h * rng.range(0.05, 0.1)).max(0.7 * unit_px);
    let mut m = Motif::new(
        look,
        SemanticClass::Architecture,
        base,
        if incised {
            rng.range(0.2, 0.5)
        } else {
            rng.range(0.3, 0.7)
        },
    );
    for r in 0..rows {
        let y = area.y0 + r as f32 * row_h + (row_h - glyph_h) * 0.5;
        let mut x = area.x0 + rng.range(0.0, 1.0) * gap;
        while x + glyph_w <= area.x1 {
            if rng.chance(0.1) {
                x += glyph_w * 0.6; // word space
                continue;
            }
            let g = &alphabet[rng.int(0, alphabet.len() - 1)];
            shapes::glyph(&mut m, g, v2(x, y), v2(glyph_w, glyph_h), 0.0, w, incised);
            x += glyph_w + gap;
        }
    }
    stamps.extend(m.finish());
}

/// Niches between columns under arches, each holding a figure or a plant.
fn arcade(rng: &mut Rng, look: &Look, stamps: &mut Vec<Stamp>, reg: Rect, unit_px: f32) {
    let n = ((reg.w() / (reg.h() * rng.range(0.45, 0.9))).round() as usize).clamp(1, 8);
    let bay = reg.w() / n as f32;
    let col_w = bay * rng.range(0.1, 0.18);
    let spring_y = reg.y0 + reg.h() * rng.range(0.3, 0.45);
    let mut m = Motif::new(look, SemanticClass::Architecture, 0.0, rng.range(0.5, 1.0));
    let mut contents = Vec::new();
    for i in 0..=n {
        let x = reg.x0 + i as f32 * bay;
        shapes::column(rng, &mut m, v2(x, reg.y1), spring_y, col_w);
        if i < n {
            let c = v2(x + bay * 0.5, spring_y);
            let r = bay * 0.5 - col_w * 0.1;
            shapes::arch(&mut m, c, r, col_w * 0.35);
            // Recessed niche back.
            let niche = vec![
                Prim::Box {
                    c: v2(c.x, (spring_y + reg.y1) * 0.5),
                    half: v2(r - col_w * 0.6, (reg.y1 - spring_y) * 0.5),
                    angle: 0.0,
                    corner: 0.0,
                },
                Prim::Circle { c, r: r - col_w * 0.6 },
            ];
            let depth = rng.range(0.05, 0.2);
            stamps.push(Stamp::lower(
                niche,
                SemanticClass::Background,
                0.0,
                depth,
                2.0 * unit_px,
                Profile::smooth(),
            ));
            let mut fig = Motif::new(look, SemanticClass::Figure, 0.0, rng.range(0.6, 1.0));
            let h = (reg.y1 - c.y + r) * 0.85;
            match rng.weighted(&[0.7, 0.3]) {
                0 => shapes::human(rng, &mut fig, v2(c.x, reg.y1), h),
                _ => {
                    fig.class = SemanticClass::Ornament;
                    shapes::tree(rng, &mut fig, v2(c.x, reg.y1), h);
                }
            }
            contents.push(fig.finish());
        }
    }
    stamps.extend(m.finish());
    stamps.extend(contents.into_iter().flatten());
}

/// A round medallion or coin: raised disc, rim (sometimes beaded), a motif and often a
/// legend of glyphs around the edge.
fn medallion(rng: &mut Rng, look: &Look, stamps: &mut Vec<Stamp>, c: V2, r: f32, unit_px: f32) {
    // A roundel carved into a wall often has no raised disc: its ring encloses ground
    // at the level outside it.
    let field = if rng.chance(0.3) { 0.0 } else { rng.range(0.15, 0.5) };
    let edge_px = rng.range(0.8, 2.5) * unit_px;
    if field > 0.0 {
        stamps.push(Stamp::raise(
            vec![Prim::Circle { c, r }],
            SemanticClass::Background,
            0.0,
            field,
            edge_px,
            Profile::round(),
        ));
    }
    let rim_w = r * rng.range(0.03, 0.08);
    let rim_depth = rng.range(0.15, 0.5);
    if rng.chance(0.7) {
        let ring = Prim::Ring {
            c,
            r: r - rim_w * 1.2,
            half_width: rim_w,
        };
        stamps.push(Stamp::raise(
            vec![ring],
            SemanticClass::Architecture,
            field,
            rim_depth,
            rim_w,
            Profile::round(),
        ));
    }
    let mut inner = r - rim_w * 2.5;
    if rng.chance(0.35) {
        let bead_r = rim_w * 0.6;
        let ring_r = inner - bead_r * 1.5;
        let n = (TAU * ring_r / (bead_r * 2.6)).floor().max(6.0) as usize;
        let beads = (0..n)
            .map(|i| Prim::Circle {
                c: c + V2::polar(TAU * i as f32 / n as f32) * ring_r,
                r: bead_r,
            })
            .collect();
        stamps.push(Stamp::raise(
            beads,
            SemanticClass::Ornament,
            field,
            rim_depth * 0.8,
            bead_r,
            Profile::round(),
        ));
        inner = ring_r - bead_r * 2.0;
    }
    if rng.chance(0.5) {
        // Legend around the edge.
        let alphabet = shapes::alphabet(rng, 20);
        let gh = inner * rng.range(0.1, 0.16);
        let gw = gh * 0.7;
        let ring_r = inner - gh * 0.7;
        let count = (TAU * ring_r * rng.range(0.5, 0.85) / (gw * 1.4)) as usize;
        let start = rng.range(0.0, TAU);
        let incised = rng.chance(0.3);
        let mut m = Motif::new(look, SemanticClass::Architecture, field, rng.range(0.2, 0.45));
        for i in 0..count {
            let a = start + i as f32 * gw * 1.4 / ring_r;
            let p = c + V2::polar(a) * ring_r;
            let g = &alphabet[rng.int(0, alphabet.len() - 1)];
            shapes::glyph(
                &mut m,
                g,
                p - v2(gw, gh) * 0.5,
                v2(gw, gh),
                a + FRAC_PI_2,
                (gh * 0.08).max(0.6 * unit_px),
                incised,
            );
        }
        stamps.extend(m.finish());
        inner -= gh * 1.4;
    }
    let depth = rng.range(0.4, 1.0);
    let kind = rng.weighted(&[0.35, 0.2, 0.15, 0.15, 0.15]);
    let class = match kind {
        3 => SemanticClass::Ornament,
        4 => SemanticClass::Architecture,
        _ => SemanticClass::Figure,
    };
    let mut m = Motif::new(look, class, field, depth);
    match kind {
        0 => shapes::bust(rng, &mut m, c, inner * 1.5),
        1 => {
            let ground = c.y + inner * 0.5;
            let mut ex = Motif::new(look, SemanticClass::Architecture, field, depth * 0.4);
            ex.stamps.push(Stamp::raise(
                vec![Prim::capsule(
                    v2(c.x - inner, ground + 1.0),
                    v2(c.x + inner, ground + 1.0),
                    rim_w * 0.5,
                )],
                SemanticClass::Architecture,
                field,
                depth * 0.4,
                rim_w * 0.5,
                Profile::round(),
            ));
            stamps.extend(ex.stamps);
            if rng.chance(0.7) {
                shapes::quadruped(rng, &mut m, c.x, ground, inner * 1.3);
            } else {
                shapes::bird(rng, &mut m, c.x, ground, inner * 1.1);
            }
        }
        2 => shapes::human(rng, &mut m, v2(c.x, c.y + inner * 0.85), inner * 1.7),
        3 => shapes::rosette(rng, &mut m, c, inner * 0.85),
        _ => {
            // A temple front: steps, columns, pediment.
            let w = inner * 1.2;
            let base_y = c.y + inner * 0.55;
            shapes::steps(&mut m, c.x - w * 0.5, c.x + w * 0.5, base_y, inner * 0.06, 2);
            let top = c.y - inner * 0.25;
            let n = rng.int(2, 4);
            for i in 0..n {
                let x = c.x - w * 0.4 + w * 0.8 * i as f32 / (n - 1) as f32;
                shapes::column(rng, &mut m, v2(x, base_y - inner * 0.12), top, w * 0.07);
            }
            let ped = [
                v2(c.x - w * 0.55, top),
                v2(c.x, top - inner * 0.35),
                v2(c.x + w * 0.55, top),
                v2(c.x - w * 0.55, top),
            ];
            let wpx = (inner * 0.035).max(0.8);
            m.stamps.push(Stamp::raise(
                shapes::stroke(&ped, wpx, wpx),
                SemanticClass::Architecture,
                field,
                depth,
                wpx,
                Profile::round(),
            ));
        }
    }
    stamps.extend(m.finish());
}

/// Several coins laid on a tray in rough rows; returns their discs.
fn coin_tray(rng: &mut Rng, look: &Look, stamps: &mut Vec<Stamp>, extent_px: f32, unit_px: f32) -> Vec<(V2, f32)> {
    let cols = rng.int(2, 5);
    let rows = rng.int(2, 4);
    let cell = v2(extent_px / cols as f32, extent_px / rows as f32);
    let offset = v2(rng.range(-0.1, 0.05), rng.range(-0.1, 0.05)) * extent_px;
    let mut discs = Vec::new();
    for j in 0..rows {
        for i in 0..cols {
            if rng.chance(0.1) {
                continue;
            }
            let r = cell.x.min(cell.y) * 0.5 * rng.range(0.6, 0.9);
            let c = offset
                + v2((i as f32 + 0.5) * cell.x, (j as f32 + 0.5) * cell.y)
                + v2(rng.range(-0.1, 0.1), rng.range(-0.1, 0.1)) * cell.x.min(cell.y);
            medallion(rng, look, stamps, c, r, unit_px);
            discs.push((c, r));
        }
    }
    discs
}

/// An inscribed plaque, sometimes with rosettes in the corners or dovetail handles.
fn plaque(rng: &mut Rng, look: &Look, stamps: &mut Vec<Stamp>, field: Rect, unit_px: f32) {
    let mut area = field;
    if rng.chance(0.4) {
        let r = field.h().min(field.w()) * 0.1;
        let mut m = Motif::new(look, SemanticClass::Ornament, 0.0, rng.range(0.4, 0.8));
        for (c, _) in corners_path(field.shrink(r * 1.3)) {
            shapes::rosette(rng, &mut m, c, r);
        }
        stamps.extend(m.finish());
        area = Rect {
            x0: field.x0 + r * 2.8,
            x1: field.x1 - r * 2.8,
            ..field
        };
    }
    inscription(rng, look, stamps, area, unit_px);
}

/// A field filled with one ornament: a grid of rosettes, rows of scrolls or guilloche,
/// or a free rinceau of spirals and leaves.
fn ornament_field(rng: &mut Rng, look: &Look, stamps: &mut Vec<Stamp>, field: Rect) {
    match rng.int(0, 2) {
        0 => {
            let n = rng.int(2, 5);
            let cell = field.w().min(field.h()) / n as f32;
            let mut m = Motif::new(look, SemanticClass::Ornament, 0.0, rng.range(0.4, 0.9));
            let (nx, ny) = ((field.w() / cell).ceil() as usize, (field.h() / cell).ceil() as usize);
            for j in 0..ny {
                for i in 0..nx {
                    let c = v2(field.x0 + (i as f32 + 0.5) * cell, field.y0 + (j as f32 + 0.5) * cell);
                    shapes::rosette(rng, &mut m, c, cell * 0.42);
                }
            }
            stamps.extend(m.finish());
        }
        1 => {
            let n = rng.int(1, 4);
            let band = field.h() / n as f32;
            for j in 0..n {
                let reg = Rect {
                    y0: field.y0 + j as f32 * band,
                    y1: field.y0 + (j + 1) as f32 * band,
                    ..field
                };
                ornament_band(rng, look, stamps, reg);
            }
        }
        _ => {
            let mut m = Motif::new(look, SemanticClass::Ornament, 0.0, rng.range(0.4, 0.9));
            for _ in 0..rng.int(3, 9) {
                let c = v2(rng.range(field.x0, field.x1), rng.range(field.y0, field.y1));
                let r = field.w().min(field.h()) * rng.range(0.08, 0.2);
                shapes::spiral(&mut m, c, r, rng.range(1.0, 2.0), rng.range(0.0, TAU), rng.sign(), 1.0);
                let tip = c + V2::polar(rng.range(0.0, TAU)) * (r * 1.8);
                shapes::leaf(rng, &mut m, c, tip, r * 0.3, 1.05);
            }
            stamps.extend(m.finish());
        }
    }
}

/// A frameless close-up: a few large figures and plants on plain ground.
fn free_field(rng: &mut Rng, look: &Look, stamps: &mut Vec<Stamp>, panel: Rect) {
    let n = rng.int(1, 4);
    let slot = panel.w() / n as f32;
    for i in 0..n {
        let x = panel.x0 + (i as f32 + 0.5) * slot + rng.range(-0.2, 0.2) * slot;
        let ground = panel.y1 - panel.h() * rng.range(0.03, 0.12);
        let tall = panel.h() * rng.range(0.6, 0.88);
        let kind = rng.weighted(&[0.42, 0.2, 0.2, 0.1, 0.08]);
        let mut m = Motif::new(
            look,
            [
                SemanticClass::Figure,
                SemanticClass::Figure,
                SemanticClass::Ornament,
                SemanticClass::Figure,
                SemanticClass::Architecture,
            ][kind],
            rng.range(0.0, 0.2),
            rng.range(0.5, 1.0),
        );
        match kind {
            0 => shapes::human(rng, &mut m, v2(x, ground), tall),
            1 => shapes::quadruped(rng, &mut m, x, ground, tall.min(slot * 1.5)),
            2 => shapes::tree(rng, &mut m, v2(x, ground), tall),
            3 => shapes::fish(rng, &mut m, v2(x, panel.y0 + panel.h() * 0.5), slot * 0.8),
            _ => shapes::building(rng, &mut m, v2(x, ground), slot * 0.9, tall),
        }
        stamps.extend(m.finish());
    }
}

/// Line work on a flat field: raised or incised waves, straight rules, rings, frames and
/// closed loops a few pixels wide. The ground they enclose stays at the field's level,
/// which a photo cannot tell from a raised plateau by its shading, only by the lines'
/// two sides; a few bosses and sunk recesses sit between them.
fn line_field(rng: &mut Rng, stamps: &mut Vec<Stamp>, field: Rect, unit_px: f32) {
    let extent = field.w().min(field.h());
    let point_in = |rng: &mut Rng, margin: f32| {
        v2(
            rng.range(field.x0 + margin, (field.x1 - margin).max(field.x0 + margin)),
            rng.range(field.y0 + margin, (field.y1 - margin).max(field.y0 + margin)),
        )
    };
    let incised_panel = rng.chance(0.3);
    let depth = rng.range(0.3, 1.0);
    for _ in 0..rng.int(2, 6) {
        let half_w = rng.range(0.8, 4.0) * unit_px;
        let prims = match rng.weighted(&[0.3, 0.15, 0.25, 0.15, 0.15]) {
            0 => {
                // A wave across the field, sometimes vertical.
                let vertical = rng.chance(0.3);
                let (len, across) = if vertical {
                    (field.h(), field.w())
                } else {
                    (field.w(), field.h())
                };
                let period = len * rng.range(0.15, 0.5);
                let amp = across * rng.range(0.08, 0.35);
                let mid = rng.range(0.3, 0.7) * across;
                let phase = rng.range(0.0, TAU);
                let n = 96;
                let points: Vec<V2> = (0..=n)
                    .map(|i| {
                        let t = len * i as f32 / n as f32;
                        let o = mid + amp * (TAU * t / period + phase).sin();
                        if vertical {
                            v2(field.x0 + o, field.y0 + t)
                        } else {
                            v2(field.x0 + t, field.y0 + o)
                        }
                    })
                    .collect();
                shapes::stroke(&points, half_w, half_w)
            }
            1 => {
                // Straight rules, parallel, across the field.
                let angle = if rng.chance(0.6) { 0.0 } else { rng.range(0.0, TAU) };
                let dir = V2::polar(angle);
                let gap = extent * rng.range(0.08, 0.25);
                let start = point_in(rng, 0.0);
                (0..rng.int(1, 4))
                    .map(|i| {
                        let o = start + dir.perp() * (gap * i as f32);
                        Prim::capsule(o - dir * (2.0 * extent), o + dir * (2.0 * extent), half_w)
                    })
                    .collect()
            }
            2 => {
                // A ring, sometimes concentric rings.
                let r = extent * rng.range(0.1, 0.4);
                let c = point_in(rng, r * 0.5);
                let gap = r * rng.range(0.15, 0.35);
                (0..rng.weighted(&[0.6, 0.3, 0.1]) + 1)
                    .map(|i| Prim::Ring {
                        c,
                        r: (r - gap * i as f32).max(half_w * 2.0),
                        half_width: half_w,
                    })
                    .collect()
            }
            3 => {
                // A rectangular frame enclosing ground.
                let half = v2(field.w() * rng.range(0.1, 0.4), field.h() * rng.range(0.1, 0.4));
                let c = point_in(rng, 0.0);
                vec![Prim::Frame {
                    min: c - half,
                    max: c + half,
                    width: 2.0 * half_w,
                }]
            }
            _ => {
                // A closed, wobbly loop.
                let r = extent * rng.range(0.12, 0.35);
                let c = point_in(rng, r * 0.5);
                let (k, wobble, phase) = (rng.int(2, 5) as f32, rng.range(0.05, 0.3), rng.range(0.0, TAU));
                let n = 72;
                let points: Vec<V2> = (0..=n)
                    .map(|i| {
                        let a = TAU * i as f32 / n as f32;
                        c + V2::polar(a) * (r * (1.0 + wobble * (k * a + phase).sin()))
                    })
                    .collect();
                shapes::stroke(&points, half_w, half_w)
            }
        };
        let line_depth = depth * rng.range(0.6, 1.0);
        if incised_panel || rng.chance(0.15) {
            stamps.push(Stamp::cut(prims, line_depth, half_w));
        } else {
            let profile = if rng.chance(0.6) {
                Profile::round()
            } else {
                Profile::chamfer()
            };
            stamps.push(Stamp::raise(
                prims,
                SemanticClass::Ornament,
                0.0,
                line_depth,
                half_w,
                profile,
            ));
        }
    }
    // Bosses (raised discs) on the ground between the lines.
    if rng.chance(0.4) {
        let r = extent * rng.range(0.03, 0.1);
        let bosses = (0..rng.int(1, 6))
            .map(|_| Prim::Circle { c: point_in(rng, r), r })
            .collect();
        stamps.push(Stamp::raise(
            bosses,
            SemanticClass::Ornament,
            0.0,
            depth * rng.range(0.5, 1.0),
            r * rng.range(0.5, 1.0),
            Profile::round(),
        ));
    }
    // Sunk recesses: ground lowered below the field, flat-bottomed.
    if rng.chance(0.35) {
        let half = v2(field.w() * rng.range(0.05, 0.2), field.h() * rng.range(0.05, 0.2));
        let c = point_in(rng, half.x.max(half.y));
        let prim = if rng.chance(0.5) {
            Prim::Box {
                c,
                half,
                angle: 0.0,
                corner: rng.range(0.0, 0.5) * half.x.min(half.y),
            }
        } else {
            Prim::Circle {
                c,
                r: half.x.max(half.y),
            }
        };
        stamps.push(Stamp::lower(
            vec![prim],
            SemanticClass::Background,
            0.0,
            depth * rng.range(0.3, 0.8),
            rng.range(1.0, 3.0) * unit_px,
            Profile::smooth(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenes_carve_something_or_are_bare_rock() {
        let mut carved_scenes = 0;
        for seed in 0..30 {
            let scene = compose(&mut Rng::new(seed), 96);
            let carved = scene.canvas.class.data.iter().any(|&c| c > 0);
            carved_scenes += usize::from(carved);
            let (lo, hi) = scene.canvas.height.min_max();
            // Bare rock / terrain-like scenes carve nothing but are far from flat.
            assert!(carved || hi - lo > 0.1, "seed {seed} is a flat, empty panel");
            assert!(
                scene.panel_width_px > 5.0,
                "seed {seed}: a relief needs a width to scale its depth"
            );
        }
        assert!(carved_scenes >= 20, "only {carved_scenes} of 30 scenes carve something");
    }
}

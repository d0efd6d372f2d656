//! Carving primitives: signed-distance shapes in pixel coordinates, cross-section
//! profiles, and the [`Canvas`] that stamps them into a heightfield with a semantic
//! label per pixel. A [`Stamp`] is a union of shapes carved one way (raised with a
//! profile, cut as an incised line, or lowered as a recess or a broken area); raised
//! stamps compose by maximum, so a nearer (higher) shape occludes a farther one and the
//! label is always that of the visible surface. Heights are in relative relief units:
//! the background plane sits near 0 and a full-depth figure near 1.

use std::ops::{Add, Mul, Sub};

use super::noise::RngExt;
use crate::grid::Grid;
use crate::labels::SemanticClass;
use crate::rng::Rng;

/// A 2-D point or vector in pixels (x right, y down).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct V2 {
    pub x: f32,
    pub y: f32,
}

pub fn v2(x: f32, y: f32) -> V2 {
    V2 { x, y }
}

impl V2 {
    pub fn dot(self, o: V2) -> f32 {
        self.x * o.x + self.y * o.y
    }
    pub fn len(self) -> f32 {
        self.dot(self).sqrt()
    }
    /// Unit vector at `angle` radians from +x (towards +y, i.e. clockwise on screen).
    pub fn polar(angle: f32) -> V2 {
        v2(angle.cos(), angle.sin())
    }
    /// This vector rotated by `angle` radians.
    pub fn rotated(self, angle: f32) -> V2 {
        let (s, c) = angle.sin_cos();
        v2(c * self.x - s * self.y, s * self.x + c * self.y)
    }
    pub fn perp(self) -> V2 {
        v2(-self.y, self.x)
    }
    pub fn lerp(self, o: V2, t: f32) -> V2 {
        self + (o - self) * t
    }
}

impl Add for V2 {
    type Output = V2;
    fn add(self, o: V2) -> V2 {
        v2(self.x + o.x, self.y + o.y)
    }
}

impl Sub for V2 {
    type Output = V2;
    fn sub(self, o: V2) -> V2 {
        v2(self.x - o.x, self.y - o.y)
    }
}

impl Mul<f32> for V2 {
    type Output = V2;
    fn mul(self, k: f32) -> V2 {
        v2(self.x * k, self.y * k)
    }
}

/// A shape with a signed distance in pixels (negative inside).
#[derive(Clone, Debug)]
pub enum Prim {
    Circle {
        c: V2,
        r: f32,
    },
    /// Ellipse with semi-axes `a` (along `angle`) and `b`.
    Ellipse {
        c: V2,
        a: f32,
        b: f32,
        angle: f32,
    },
    /// Capsule from `a` (radius `ra`) to `b` (radius `rb`), linearly tapered.
    Cone {
        a: V2,
        b: V2,
        ra: f32,
        rb: f32,
    },
    /// Rectangle with half extents `half` rotated by `angle`, corners rounded by `corner`.
    Box {
        c: V2,
        half: V2,
        angle: f32,
        corner: f32,
    },
    /// Pointed leaf (vesica, the intersection of two discs) from tip `a` to tip `b`,
    /// `half_width` at its middle.
    Leaf {
        a: V2,
        b: V2,
        half_width: f32,
    },
    /// Annulus of centre radius `r` and half width `half_width`.
    Ring {
        c: V2,
        r: f32,
        half_width: f32,
    },
    /// Band between the rectangle `min..max` and the same rectangle shrunk by `width`.
    Frame {
        min: V2,
        max: V2,
        width: f32,
    },
}

fn sd_box(p: V2, half: V2) -> f32 {
    let q = v2(p.x.abs() - half.x, p.y.abs() - half.y);
    v2(q.x.max(0.0), q.y.max(0.0)).len() + q.x.max(q.y).min(0.0)
}

impl Prim {
    /// Capsule of constant radius along a segment.
    pub fn capsule(a: V2, b: V2, r: f32) -> Prim {
        Prim::Cone { a, b, ra: r, rb: r }
    }

    pub fn sdf(&self, p: V2) -> f32 {
        match *self {
            Prim::Circle { c, r } => (p - c).len() - r,
            Prim::Ellipse { c, a, b, angle } => {
                let q = (p - c).rotated(-angle);
                let k0 = v2(q.x / a, q.y / b).len();
                let k1 = v2(q.x / (a * a), q.y / (b * b)).len();
                if k1 > 1e-6 { k0 * (k0 - 1.0) / k1 } else { -a.min(b) }
            }
            Prim::Cone { a, b, ra, rb } => {
                let ab = b - a;
                let l2 = ab.dot(ab);
                let t = if l2 > 1e-6 {
                    ((p - a).dot(ab) / l2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                (p - (a + ab * t)).len() - (ra + (rb - ra) * t)
            }
            Prim::Box { c, half, angle, corner } => {
                let q = (p - c).rotated(-angle);
                sd_box(q, v2((half.x - corner).max(0.0), (half.y - corner).max(0.0))) - corner
            }
            Prim::Leaf { a, b, half_width } => {
                let axis = b - a;
                let half_len = 0.5 * axis.len().max(1e-3);
                let dir = axis * (0.5 / half_len);
                let q = p - a.lerp(b, 0.5);
                let (u, v) = (q.dot(dir), q.dot(dir.perp()));
                let w = half_width.max(1e-3);
                let r = (half_len * half_len + w * w) / (2.0 * w);
                let off = r - w;
                let d1 = v2(u, v + off).len() - r;
                let d2 = v2(u, v - off).len() - r;
                d1.max(d2)
            }
            Prim::Ring { c, r, half_width } => ((p - c).len() - r).abs() - half_width,
            Prim::Frame { min, max, width } => {
                let c = min.lerp(max, 0.5);
                let half = (max - min) * 0.5;
                let outer = sd_box(p - c, half);
                let inner = sd_box(p - c, v2((half.x - width).max(0.0), (half.y - width).max(0.0)));
                outer.max(-inner)
            }
        }
    }

    /// Axis-aligned bounds `(min, max)` in pixels.
    pub fn bounds(&self) -> (V2, V2) {
        let around = |c: V2, r: f32| (c - v2(r, r), c + v2(r, r));
        match *self {
            Prim::Circle { c, r } => around(c, r),
            Prim::Ellipse { c, a, b, .. } => around(c, a.max(b)),
            Prim::Cone { a, b, ra, rb } => {
                let r = ra.max(rb);
                (
                    v2(a.x.min(b.x) - r, a.y.min(b.y) - r),
                    v2(a.x.max(b.x) + r, a.y.max(b.y) + r),
                )
            }
            Prim::Box { c, half, .. } => around(c, half.len()),
            Prim::Leaf { a, b, half_width } => (
                v2(a.x.min(b.x), a.y.min(b.y)) - v2(half_width, half_width),
                v2(a.x.max(b.x), a.y.max(b.y)) + v2(half_width, half_width),
            ),
            Prim::Ring { c, r, half_width } => around(c, r + half_width),
            Prim::Frame { min, max, .. } => (min, max),
        }
    }
}

/// A cross-section: height 0..1 as a function of `t` = inside distance / rounding width,
/// tabulated on 33 points over `t ∈ [0, 1]` (constant beyond).
#[derive(Clone, Debug)]
pub struct Profile {
    table: [f32; 33],
}

impl Profile {
    pub fn from_fn(f: impl Fn(f32) -> f32) -> Profile {
        Profile {
            table: std::array::from_fn(|i| f(i as f32 / 32.0)),
        }
    }

    /// Quarter circle: a round cylinder or dome across the rounding width.
    pub fn round() -> Profile {
        Profile::from_fn(|t| (1.0 - (1.0 - t) * (1.0 - t)).sqrt())
    }

    /// Parabolic shoulder: steep wall easing into a flat top.
    pub fn pillow() -> Profile {
        Profile::from_fn(|t| t * (2.0 - t))
    }

    /// Straight chamfer (with a small rounding width: a vertical wall).
    pub fn chamfer() -> Profile {
        Profile::from_fn(|t| t)
    }

    /// Soft S-curve.
    pub fn smooth() -> Profile {
        Profile::from_fn(|t| t * t * (3.0 - 2.0 * t))
    }

    /// `steps` terraces with short chamfered risers (layered planes).
    pub fn stepped(steps: usize) -> Profile {
        let n = steps.max(1) as f32;
        Profile::from_fn(move |t| {
            let s = t * n;
            let k = s.floor();
            let riser = ((s - k) / 0.25).min(1.0);
            ((k + riser) / n).min(1.0)
        })
    }

    /// An architectural moulding: a random sequence of fillets, tori, coves and
    /// chamfers rising from the inner edge (`t = 0`) to the outer edge.
    pub fn moulding(rng: &mut Rng) -> Profile {
        let parts = rng.int(2, 4);
        let mut breaks: Vec<f32> = (0..parts - 1).map(|_| rng.f32()).collect();
        breaks.push(0.0);
        breaks.push(1.0);
        breaks.sort_by(f32::total_cmp);
        let kinds: Vec<usize> = (0..parts).map(|_| rng.int(0, 4)).collect();
        let levels: Vec<f32> = {
            let mut l: Vec<f32> = (0..parts).map(|_| rng.range(0.25, 1.0)).collect();
            l.sort_by(f32::total_cmp);
            *l.last_mut().expect("at least two parts") = 1.0;
            l
        };
        Profile::from_fn(move |t| {
            let i = (0..parts).find(|&i| t <= breaks[i + 1]).unwrap_or(parts - 1);
            let span = (breaks[i + 1] - breaks[i]).max(1e-3);
            let u = ((t - breaks[i]) / span).clamp(0.0, 1.0);
            let from = if i == 0 { 0.0 } else { levels[i - 1] };
            let to = levels[i];
            let shape = match kinds[i] {
                0 => (u / 0.15).min(1.0),                                       // fillet: riser then flat
                1 => (1.0 - (2.0 * u - 1.0).powi(2)).max(0.0).sqrt() * 0.4 + u, // torus
                2 => 1.0 - (1.0 - u * u).max(0.0).sqrt(),                       // cove
                3 => (1.0 - (1.0 - u) * (1.0 - u)).sqrt(),                      // ovolo
                _ => u,                                                         // chamfer
            };
            from + (to - from) * shape
        })
    }

    pub fn eval(&self, t: f32) -> f32 {
        let s = t.clamp(0.0, 1.0) * 32.0;
        let i = (s as usize).min(31);
        let f = s - i as f32;
        self.table[i] + (self.table[i + 1] - self.table[i]) * f
    }
}

/// Surface detail modulating a raised stamp's height inside its outline.
#[derive(Clone, Debug)]
pub enum Detail {
    None,
    /// Parallel rounded folds (drapery, ribs): ridges every `period_px` across `dir`.
    Folds {
        dir: V2,
        period_px: f32,
        amp: f32,
    },
    /// Parallel incised lines (hair, feathers, fur, fluting).
    Hatch {
        dir: V2,
        period_px: f32,
        amp: f32,
    },
    /// Grid of small bosses (curls, beads, granular texture).
    Curls {
        period_px: f32,
        amp: f32,
    },
}

impl Detail {
    fn eval(&self, p: V2) -> f32 {
        match *self {
            Detail::None => 0.0,
            Detail::Folds { dir, period_px, amp } => {
                let s = (p.dot(dir) / period_px).fract().abs();
                amp * (1.0 - (2.0 * s - 1.0).abs()).powf(0.6)
            }
            Detail::Hatch { dir, period_px, amp } => {
                let s = (p.dot(dir) / period_px).rem_euclid(1.0);
                -amp * (1.0 - (s - 0.5).abs() / 0.18).max(0.0)
            }
            Detail::Curls { period_px, amp } => {
                // One boss per cell at a hashed position (no visible grid): the highest
                // of the rounded bumps of the 3 × 3 neighbouring cells.
                let (u, v) = (p.x / period_px, p.y / period_px);
                let (cx, cy) = (u.floor() as i64, v.floor() as i64);
                let mut top = 0.0f32;
                for j in cy - 1..=cy + 1 {
                    for i in cx - 1..=cx + 1 {
                        let hash = cell_hash(i, j);
                        let jx = (hash & 0xFFFF) as f32 / 65536.0;
                        let jy = ((hash >> 16) & 0xFFFF) as f32 / 65536.0;
                        let (dx, dy) = (u - (i as f32 + jx), v - (j as f32 + jy));
                        top = top.max(1.0 - (dx * dx + dy * dy) / 0.36);
                    }
                }
                amp * top.max(0.0).sqrt()
            }
        }
    }
}

/// A well-mixed hash of integer cell coordinates (SplitMix64 finaliser).
fn cell_hash(i: i64, j: i64) -> u64 {
    let mut z = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (j as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// How a stamp changes the surface.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    /// Raised: `plane + base + depth · profile`, composed by maximum; labels the pixels
    /// where it ends up visible.
    Raise,
    /// Incised: subtracts `depth · profile` inside the outline; labels unchanged.
    Cut,
    /// Recessed or broken: the surface becomes at most `plane + base − depth · profile`;
    /// labels the pixels it lowers unless it has no class (a chip keeps the label of
    /// what it breaks).
    Lower,
}

/// One carving operation: a union of shapes with a profile and a label.
#[derive(Clone, Debug)]
pub struct Stamp {
    pub prims: Vec<Prim>,
    pub mode: Mode,
    /// The label of the pixels it carves; `None` keeps the labels underneath.
    pub class: Option<SemanticClass>,
    /// Level above the background plane where the stamp starts (relative units).
    pub base: f32,
    /// Height of the profile at full inside distance (relative units).
    pub depth: f32,
    /// Inside distance at which the profile reaches its top, in pixels.
    pub round_px: f32,
    pub profile: Profile,
    pub detail: Detail,
    /// Deep-cut outline around a raised stamp: `(width_px, depth)` of a groove outside it.
    pub outline_groove: Option<(f32, f32)>,
}

impl Stamp {
    pub fn raise(
        prims: Vec<Prim>,
        class: SemanticClass,
        base: f32,
        depth: f32,
        round_px: f32,
        profile: Profile,
    ) -> Stamp {
        Stamp {
            prims,
            mode: Mode::Raise,
            class: Some(class),
            base,
            depth,
            round_px,
            profile,
            detail: Detail::None,
            outline_groove: None,
        }
    }

    /// A recess: the surface within `prims` lowered to at most `plane + base − depth ·
    /// profile` (see [`Mode::Lower`]), labelled `class`.
    pub fn lower(
        prims: Vec<Prim>,
        class: SemanticClass,
        base: f32,
        depth: f32,
        round_px: f32,
        profile: Profile,
    ) -> Stamp {
        Stamp {
            mode: Mode::Lower,
            ..Stamp::raise(prims, class, base, depth, round_px, profile)
        }
    }

    /// An incised line along `prims` (usually capsules whose radius is the half width).
    pub fn cut(prims: Vec<Prim>, depth: f32, round_px: f32) -> Stamp {
        Stamp {
            prims,
            mode: Mode::Cut,
            class: None,
            base: 0.0,
            depth,
            round_px,
            profile: Profile::chamfer(),
            detail: Detail::None,
            outline_groove: None,
        }
    }
}

/// The heightfield being carved, with its semantic labels and the background plane that
/// raised and lowered stamps are measured from.
pub struct Canvas {
    pub height: Grid<f32>,
    pub class: Grid<u8>,
    pub plane: Grid<f32>,
}

impl Canvas {
    /// A canvas whose surface is the background plane itself.
    pub fn new(plane: Grid<f32>) -> Canvas {
        let class = Grid::filled(plane.width, plane.height, 0u8);
        Canvas {
            height: plane.clone(),
            class,
            plane,
        }
    }

    pub fn apply(&mut self, stamp: &Stamp) {
        let margin = 1.5 + stamp.outline_groove.map_or(0.0, |(w, _)| w);
        let (w, h) = (self.height.width as isize, self.height.height as isize);
        let clip = |lo: V2, hi: V2| {
            let x0 = ((lo.x - margin).floor() as isize).max(0);
            let y0 = ((lo.y - margin).floor() as isize).max(0);
            let x1 = ((hi.x + margin).ceil() as isize).min(w - 1);
            let y1 = ((hi.y + margin).ceil() as isize).min(h - 1);
            (x0, y0, x1, y1)
        };
        let mut lo = v2(f32::INFINITY, f32::INFINITY);
        let mut hi = v2(f32::NEG_INFINITY, f32::NEG_INFINITY);
        for p in &stamp.prims {
            let (a, b) = p.bounds();
            lo = v2(lo.x.min(a.x), lo.y.min(a.y));
            hi = v2(hi.x.max(b.x), hi.y.max(b.y));
        }
        let (x0, y0, x1, y1) = clip(lo, hi);
        if x1 < x0 || y1 < y0 {
            return;
        }
        let bw = (x1 - x0 + 1) as usize;
        let bh = (y1 - y0 + 1) as usize;
        let mut dist = vec![f32::INFINITY; bw * bh];
        for p in &stamp.prims {
            let (a, b) = p.bounds();
            let (px0, py0, px1, py1) = clip(a, b);
            for y in py0.max(y0)..=py1.min(y1) {
                for x in px0.max(x0)..=px1.min(x1) {
                    let i = (y - y0) as usize * bw + (x - x0) as usize;
                    let d = p.sdf(v2(x as f32, y as f32));
                    if d < dist[i] {
                        dist[i] = d;
                    }
                }
            }
        }
        let inv_round = 1.0 / stamp.round_px.max(0.5);
        let width = self.height.width;
        for by in 0..bh {
            for bx in 0..bw {
                let d_in = -dist[by * bw + bx];
                let (x, y) = (x0 as usize + bx, y0 as usize + by);
                let i = y * width + x;
                match stamp.mode {
                    Mode::Raise => {
                        let plane = self.plane.data[i];
                        if let Some((gw, gd)) = stamp.outline_groove
                            && d_in < 0.5
                            && d_in > -gw
                        {
                            let u = (-d_in).max(0.0) / gw;
                            let floor = plane + stamp.base - gd * (1.0 - u * u).sqrt();
                            self.height.data[i] = self.height.data[i].min(floor);
                        }
                        if d_in <= -0.5 {
                            continue;
                        }
                        let t = (d_in + 0.5) * inv_round;
                        let mut top = stamp.profile.eval(t);
                        if !matches!(stamp.detail, Detail::None) {
                            top += stamp.detail.eval(v2(x as f32, y as f32)) * (t * 1.5).min(1.0);
                        }
                        let value = plane + stamp.base + stamp.depth * top;
                        if value > self.height.data[i] {
                            self.height.data[i] = value;
                            if d_in >= 0.0
                                && let Some(class) = stamp.class
                            {
                                self.class.data[i] = class.id();
                            }
                        }
                    }
                    Mode::Cut => {
                        if d_in > -0.5 {
                            let t = (d_in + 0.5) * inv_round;
                            self.height.data[i] -= stamp.depth * stamp.profile.eval(t);
                        }
                    }
                    Mode::Lower => {
                        if d_in > -0.5 {
                            let t = (d_in + 0.5) * inv_round;
                            let floor = self.plane.data[i] + stamp.base - stamp.depth * stamp.profile.eval(t);
                            if floor < self.height.data[i] {
                                self.height.data[i] = floor;
                                if d_in >= 0.0
                                    && let Some(class) = stamp.class
                                {
                                    self.class.data[i] = class.id();
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_distances_are_negative_inside() {
        let c = v2(10.0, 10.0);
        let prims = [
            Prim::Circle { c, r: 4.0 },
            Prim::Ellipse {
                c,
                a: 6.0,
                b: 3.0,
                angle: 0.4,
            },
            Prim::capsule(v2(5.0, 10.0), v2(15.0, 10.0), 2.0),
            Prim::Box {
                c,
                half: v2(4.0, 2.0),
                angle: 0.3,
                corner: 1.0,
            },
            Prim::Leaf {
                a: v2(4.0, 10.0),
                b: v2(16.0, 10.0),
                half_width: 2.0,
            },
            Prim::Ring {
                c,
                r: 5.0,
                half_width: 1.0,
            },
            Prim::Frame {
                min: v2(0.0, 0.0),
                max: v2(20.0, 20.0),
                width: 3.0,
            },
        ];
        let inside = [c, c, c, c, c, v2(15.0, 10.0), v2(1.5, 10.0)];
        for (p, q) in prims.iter().zip(inside) {
            assert!(p.sdf(q) < 0.0, "{p:?} at {q:?}");
            assert!(p.sdf(v2(40.0, 40.0)) > 0.0, "{p:?} far away");
            let (lo, hi) = p.bounds();
            assert!(lo.x <= q.x && q.x <= hi.x && lo.y <= q.y && q.y <= hi.y);
        }
        let leaf = Prim::Leaf {
            a: v2(0.0, 0.0),
            b: v2(10.0, 0.0),
            half_width: 2.0,
        };
        assert!(
            (leaf.sdf(v2(5.0, 0.0)) + 2.0).abs() < 1e-4,
            "depth at the middle is the half width"
        );
        assert!(
            leaf.sdf(v2(0.0, 0.0)).abs() < 1e-4 && leaf.sdf(v2(10.0, 0.0)).abs() < 1e-4,
            "tips on the outline"
        );
    }

    #[test]
    fn raised_stamps_occlude_by_height_and_label_the_visible_one() {
        let mut canvas = Canvas::new(Grid::filled(40, 20, 0.0));
        let low = Stamp::raise(
            vec![Prim::Circle {
                c: v2(15.0, 10.0),
                r: 8.0,
            }],
            SemanticClass::Figure,
            0.0,
            0.5,
            2.0,
            Profile::pillow(),
        );
        let high = Stamp::raise(
            vec![Prim::Circle {
                c: v2(22.0, 10.0),
                r: 6.0,
            }],
            SemanticClass::Ornament,
            0.0,
            1.0,
            2.0,
            Profile::pillow(),
        );
        canvas.apply(&low);
        canvas.apply(&high);
        assert_eq!(canvas.class.get(10, 10), 1);
        assert_eq!(canvas.class.get(22, 10), 2);
        assert_eq!(canvas.class.get(38, 2), 0);
        assert!((canvas.height.get(22, 10) - 1.0).abs() < 1e-5);
        canvas.apply(&Stamp::cut(
            vec![Prim::capsule(v2(0.0, 10.0), v2(39.0, 10.0), 1.5)],
            0.2,
            1.5,
        ));
        assert!(canvas.height.get(22, 10) < 0.9 && canvas.height.get(38, 10) < 0.0);
        assert_eq!(canvas.class.get(22, 10), 2, "cuts keep labels");
    }

    #[test]
    fn profiles_rise_from_zero_to_one() {
        let mut rng = Rng::new(4);
        for p in [
            Profile::round(),
            Profile::pillow(),
            Profile::chamfer(),
            Profile::smooth(),
            Profile::stepped(3),
        ] {
            assert!(p.eval(0.0).abs() < 1e-6 && (p.eval(1.0) - 1.0).abs() < 1e-5);
        }
        for _ in 0..20 {
            let m = Profile::moulding(&mut rng);
            assert!((m.eval(1.0) - 1.0).abs() < 1e-5 && m.eval(0.0).abs() < 1e-5);
        }
    }
}

//! Motif builders: each turns a few random choices into carving [`Stamp`]s in pixel
//! coordinates. Figures (people standing, walking, seated, kneeling or cross-legged;
//! portrait busts; quadrupeds from horse to elephant; birds; fish) are unions of
//! ellipses and tapered capsules with far limbs carved lower than near ones; vegetation
//! and ornament (leaves, trees, spirals, vine scrolls, rosettes, palmettes, guilloche,
//! bead rows, egg-and-dart, meanders, zigzags, dentils); architecture (columns, arches,
//! steps, buildings with tiered, gabled or stupa roofs) and inscriptions of random
//! glyphs. A [`Look`] holds the carving style shared by one panel.

use std::f32::consts::{FRAC_PI_2, PI, TAU};

use super::carve::{Detail, Mode, Prim, Profile, Stamp, V2, v2};
use super::noise::RngExt;
use crate::rng::Rng;

pub use crate::labels::SemanticClass;

/// The carving style of one panel: cross-section, how far in the rounding reaches (as a
/// fraction of each part's radius), optional deep-cut outlines, internal detail.
#[derive(Clone, Debug)]
pub struct Look {
    pub profile: Profile,
    pub round_frac: f32,
    /// `(width_px, depth)` of the groove cut around raised figures, if any.
    pub outline_groove: Option<(f32, f32)>,
    /// Strength of internal detail (folds, hatching) relative to the part depth.
    pub detail_amp: f32,
}

impl Look {
    /// A random style; `unit_px` is the pixel size of one unit at 256 px resolution.
    pub fn random(rng: &mut Rng, unit_px: f32) -> Look {
        let (profile, round_frac) = match rng.weighted(&[0.4, 0.25, 0.15, 0.1, 0.1]) {
            0 => (Profile::round(), rng.range(0.7, 1.2)),
            1 => (Profile::pillow(), rng.range(0.4, 0.9)),
            2 => (Profile::chamfer(), rng.range(0.08, 0.3)),
            3 => (Profile::smooth(), rng.range(0.6, 1.2)),
            _ => (Profile::stepped(rng.int(2, 3)), rng.range(0.6, 1.0)),
        };
        let outline_groove = rng
            .chance(0.15)
            .then(|| (rng.range(1.0, 2.5) * unit_px, rng.range(0.1, 0.35)));
        Look {
            profile,
            round_frac,
            outline_groove,
            detail_amp: rng.range(0.0, 0.12),
        }
    }
}

/// Collects the stamps of one motif with shared label, base level and depth.
pub struct Motif<'a> {
    pub look: &'a Look,
    pub class: SemanticClass,
    pub base: f32,
    pub depth: f32,
    pub stamps: Vec<Stamp>,
}

impl<'a> Motif<'a> {
    pub fn new(look: &'a Look, class: SemanticClass, base: f32, depth: f32) -> Motif<'a> {
        Motif {
            look,
            class,
            base,
            depth,
            stamps: Vec::new(),
        }
    }

    /// A raised part whose rounding width follows its radius; `layer` scales the depth
    /// (far limbs < 1 < near limbs).
    fn part(&mut self, prims: Vec<Prim>, radius_px: f32, layer: f32) -> &mut Stamp {
        let round_px = (radius_px * self.look.round_frac).max(0.75);
        self.stamps.push(Stamp::raise(
            prims,
            self.class,
            self.base,
            self.depth * layer,
            round_px,
            self.look.profile.clone(),
        ));
        self.stamps.last_mut().expect("just pushed")
    }

    /// An incised line along `points` inside the motif.
    fn incise(&mut self, points: &[V2], half_width_px: f32, depth_frac: f32) {
        let prims = stroke(points, half_width_px, half_width_px);
        self.stamps
            .push(Stamp::cut(prims, self.depth * depth_frac, half_width_px));
    }

    /// Emits the deep-cut outline (if the look has one) around the union of all parts
    /// so far, before them, so that it cuts the ground and not the motif itself.
    pub fn finish(mut self) -> Vec<Stamp> {
        if let Some(groove) = self.look.outline_groove {
            let prims: Vec<Prim> = self
                .stamps
                .iter()
                .filter(|s| s.mode == Mode::Raise)
                .flat_map(|s| s.prims.clone())
                .collect();
            let mut outline = Stamp::raise(prims, self.class, self.base, 0.0, 1.0, Profile::chamfer());
            outline.outline_groove = Some(groove);
            self.stamps.insert(0, outline);
        }
        self.stamps
    }
}

/// Tapered capsules along a polyline, the radius going linearly from `r0` to `r1`.
pub fn stroke(points: &[V2], r0: f32, r1: f32) -> Vec<Prim> {
    let n = points.len().saturating_sub(1).max(1) as f32;
    points
        .windows(2)
        .enumerate()
        .map(|(i, p)| Prim::Cone {
            a: p[0],
            b: p[1],
            ra: r0 + (r1 - r0) * i as f32 / n,
            rb: r0 + (r1 - r0) * (i + 1) as f32 / n,
        })
        .collect()
}

/// `n + 1` points on the quadratic Bézier `a → c → b`.
pub fn bezier(a: V2, c: V2, b: V2, n: usize) -> Vec<V2> {
    (0..=n)
        .map(|i| {
            let t = i as f32 / n as f32;
            a.lerp(c, t).lerp(c.lerp(b, t), t)
        })
        .collect()
}

/// Points on a spiral around `c` from radius `r_out` inwards over `turns` turns,
/// starting at angle `start`, turning with `sense` (±1).
pub fn spiral_points(c: V2, r_out: f32, turns: f32, start: f32, sense: f32) -> Vec<V2> {
    let n = (turns * 24.0).ceil().max(4.0) as usize;
    (0..=n)
        .map(|i| {
            let t = i as f32 / n as f32;
            let r = r_out * (1.0 - 0.8 * t);
            c + V2::polar(start + sense * t * turns * TAU) * r
        })
        .collect()
}

/// Facing direction of a figure: +1 looks right, −1 left.
fn facing(rng: &mut Rng) -> f32 {
    rng.sign()
}

/// A person standing on `foot` (bottom centre), `height_px` tall.
pub fn human(rng: &mut Rng, m: &mut Motif, foot: V2, height_px: f32) {
    let h = height_px;
    let f = facing(rng);
    let frontal = rng.chance(0.4);
    let pose = rng.weighted(&[0.4, 0.28, 0.22, 0.1]); // standing, walking, seated, kneeling
    if pose == 2 && rng.chance(0.5) {
        return cross_legged(rng, m, foot, h);
    }
    let stride = if pose == 1 {
        rng.range(0.25, 0.5)
    } else {
        rng.range(0.0, 0.08)
    };
    let seated = pose == 2;
    let kneeling = pose == 3;
    let hip = if seated {
        foot + v2(0.0, -0.30 * h)
    } else if kneeling {
        foot + v2(0.0, -0.27 * h)
    } else {
        foot + v2(0.0, -0.50 * h)
    };
    let lean = rng.range(-0.04, 0.06) * f;
    let neck = hip + v2(lean * h, -0.33 * h);
    let head_c = neck + v2(0.015 * h * f, -0.075 * h);
    let torso_w = if frontal { 0.115 * h } else { 0.075 * h };
    // Legs: far one first (lower), then the near one.
    let leg_r = 0.055 * h;
    for (k, sign) in [(-1.0f32, 0.75f32), (1.0, 1.0)] {
        let offset = if frontal { k * 0.045 * h } else { 0.0 };
        let hip_k = hip + v2(offset, 0.0);
        let (knee, ankle) = if seated {
            let knee = hip_k + v2(0.22 * h * f, 0.02 * h);
            (knee, v2(knee.x + 0.02 * h * f, foot.y - 0.02 * h))
        } else if kneeling && k > 0.0 {
            // Near leg: thigh forward, shin upright.
            let knee = hip_k + v2(0.22 * h * f, -0.02 * h);
            (knee, v2(knee.x, foot.y - 0.02 * h))
        } else if kneeling {
            // Far leg: knee on the ground, shin flat behind.
            let knee = v2(hip_k.x + 0.06 * h * f, foot.y - 0.03 * h);
            (knee, knee - v2(0.2 * h * f, 0.0))
        } else {
            let swing = stride * k * f;
            let knee = hip_k + V2::polar(FRAC_PI_2 - swing) * (0.245 * h);
            let bend = if k < 0.0 { 0.15 * f } else { 0.0 };
            let ankle = knee + V2::polar(FRAC_PI_2 - swing * 0.6 + bend) * (0.23 * h);
            (knee, ankle)
        };
        let toe = ankle + v2(0.07 * h * f, 0.01 * h);
        m.part(
            vec![Prim::Cone {
                a: hip_k,
                b: knee,
                ra: leg_r,
                rb: 0.034 * h,
            }],
            leg_r,
            sign,
        );
        m.part(
            vec![Prim::Cone {
                a: knee,
                b: ankle,
                ra: 0.034 * h,
                rb: 0.022 * h,
            }],
            0.034 * h,
            sign,
        );
        m.part(
            vec![Prim::Cone {
                a: ankle,
                b: toe,
                ra: 0.02 * h,
                rb: 0.015 * h,
            }],
            0.02 * h,
            sign,
        );
    }
    if seated {
        let seat = Prim::Box {
            c: hip + v2(0.05 * h * f, 0.15 * h),
            half: v2(0.12 * h, 0.15 * h),
            angle: 0.0,
            corner: 0.01 * h,
        };
        let chair = Stamp::raise(
            vec![seat],
            SemanticClass::Architecture,
            m.base,
            m.depth * 0.6,
            (0.02 * h).max(1.0),
            Profile::chamfer(),
        );
        m.stamps.insert(0, chair);
    }
    // Robe over the legs.
    if !seated && rng.chance(0.5) {
        let hem = hip + v2(0.0, rng.range(0.25, 0.45) * h);
        let robe = Prim::Cone {
            a: hip + v2(0.0, -0.05 * h),
            b: hem,
            ra: torso_w * 0.9,
            rb: torso_w * rng.range(1.1, 1.6),
        };
        let amp = m.look.detail_amp.max(0.04);
        m.part(vec![robe], torso_w, 1.0).detail = Detail::Folds {
            dir: v2(1.0, 0.15 * f),
            period_px: rng.range(0.025, 0.045) * h,
            amp,
        };
    }
    // Torso and head.
    let chest = neck + v2(0.0, 0.03 * h);
    let torso = Prim::Cone {
        a: hip,
        b: chest,
        ra: torso_w * 0.8,
        rb: torso_w,
    };
    let amp = m.look.detail_amp;
    let detail = if amp > 0.03 && rng.chance(0.5) {
        Detail::Folds {
            dir: v2(0.8 * f, 0.6),
            period_px: rng.range(0.03, 0.05) * h,
            amp,
        }
    } else {
        Detail::None
    };
    m.part(vec![torso], torso_w, 1.0).detail = detail;
    m.part(
        vec![Prim::capsule(neck + v2(0.0, 0.02 * h), head_c, 0.03 * h)],
        0.03 * h,
        1.0,
    );
    let head_r = 0.062 * h;
    let mut head = vec![Prim::Ellipse {
        c: head_c,
        a: head_r * 0.9,
        b: head_r,
        angle: 0.0,
    }];
    if !frontal {
        head.push(Prim::Cone {
            a: head_c + v2(0.6 * head_r * f, -0.1 * head_r),
            b: head_c + v2(1.05 * head_r * f, 0.25 * head_r),
            ra: 0.25 * head_r,
            rb: 0.12 * head_r,
        });
    }
    m.part(head, head_r, 1.05);
    match rng.weighted(&[0.35, 0.2, 0.2, 0.15, 0.1]) {
        1 => {
            // Tall headdress.
            let top = head_c + v2(0.0, -1.9 * head_r);
            m.part(
                vec![Prim::Cone {
                    a: head_c + v2(0.0, -0.6 * head_r),
                    b: top,
                    ra: 0.8 * head_r,
                    rb: 0.5 * head_r,
                }],
                head_r * 0.6,
                1.0,
            );
        }
        2 => {
            // Hair bun or curls.
            let curls = Detail::Curls {
                period_px: (0.3 * head_r).max(2.0),
                amp: 0.08,
            };
            m.part(
                vec![Prim::Ellipse {
                    c: head_c + v2(-0.25 * head_r * f, -0.35 * head_r),
                    a: head_r * 0.85,
                    b: head_r * 0.7,
                    angle: 0.0,
                }],
                head_r,
                1.08,
            )
            .detail = curls;
        }
        3 => {
            // Halo behind the head (carved lower).
            let halo = Prim::Ring {
                c: head_c,
                r: head_r * 1.6,
                half_width: head_r * 0.18,
            };
            let stamp = Stamp::raise(
                vec![halo],
                SemanticClass::Figure,
                m.base,
                m.depth * 0.35,
                head_r * 0.15,
                Profile::round(),
            );
            m.stamps.insert(0, stamp);
        }
        _ => {}
    }
    if !frontal && rng.chance(0.6) {
        // Eye.
        m.incise(
            &[
                head_c + v2(0.35 * head_r * f, -0.15 * head_r),
                head_c + v2(0.6 * head_r * f, -0.15 * head_r),
            ],
            (0.08 * head_r).max(0.5),
            0.15,
        );
    }
    // Arms: far one first.
    let shoulder_dx = if frontal { 0.95 * torso_w } else { 0.0 };
    for (k, layer) in [(-1.0f32, 0.8f32), (1.0, 1.12)] {
        let shoulder = chest + v2(k * shoulder_dx, 0.02 * h);
        let (a1, a2) = match rng.weighted(&[0.35, 0.2, 0.3, 0.15]) {
            0 => (rng.range(0.05, 0.3), rng.range(0.0, 0.4)), // hanging
            1 => (rng.range(2.2, 2.9), rng.range(-0.3, 0.3)), // raised
            2 => (rng.range(0.6, 1.2), rng.range(0.6, 1.6)),  // forward, holding
            _ => (rng.range(0.2, 0.5), rng.range(1.8, 2.4)),  // hand to chest
        };
        let side = if frontal { k } else { f };
        let dir1 = V2::polar(FRAC_PI_2 - a1 * side);
        let elbow = shoulder + dir1 * (0.17 * h);
        let wrist = elbow + V2::polar(FRAC_PI_2 - (a1 + a2) * side) * (0.15 * h);
        let r = 0.038 * h;
        m.part(
            vec![
                Prim::Cone {
                    a: shoulder,
                    b: elbow,
                    ra: r,
                    rb: 0.031 * h,
                },
                Prim::Cone {
                    a: elbow,
                    b: wrist,
                    ra: 0.031 * h,
                    rb: 0.024 * h,
                },
                Prim::Circle {
                    c: wrist + (wrist - elbow) * 0.15,
                    r: 0.028 * h,
                },
            ],
            r,
            layer,
        );
        if k > 0.0 && rng.chance(0.35) {
            // Something held: a staff, a shield or a bowl.
            match rng.int(0, 2) {
                0 => m.part(
                    vec![Prim::capsule(
                        wrist + v2(0.0, -0.35 * h),
                        v2(wrist.x, foot.y),
                        0.012 * h,
                    )],
                    0.012 * h,
                    layer * 1.02,
                ),
                1 => m.part(vec![Prim::Circle { c: wrist, r: 0.1 * h }], 0.1 * h, layer * 1.05),
                _ => m.part(
                    vec![Prim::Ellipse {
                        c: wrist + v2(0.0, -0.03 * h),
                        a: 0.06 * h,
                        b: 0.03 * h,
                        angle: 0.0,
                    }],
                    0.03 * h,
                    layer * 1.05,
                ),
            };
        }
    }
}

/// A cross-legged seated figure (a meditating Buddha) with an optional halo.
fn cross_legged(rng: &mut Rng, m: &mut Motif, foot: V2, h: f32) {
    let lap = foot + v2(0.0, -0.1 * h);
    let hip = foot + v2(0.0, -0.22 * h);
    let neck = hip + v2(0.0, -0.4 * h);
    let head_c = neck + v2(0.0, -0.1 * h);
    let head_r = 0.085 * h;
    if rng.chance(0.6) {
        let halo = Prim::Circle {
            c: head_c + v2(0.0, 0.05 * h),
            r: head_r * rng.range(1.8, 2.6),
        };
        m.stamps.push(Stamp::raise(
            vec![halo],
            SemanticClass::Figure,
            m.base,
            m.depth * 0.25,
            head_r * 0.3,
            Profile::pillow(),
        ));
    }
    m.part(
        vec![Prim::Ellipse {
            c: lap,
            a: 0.3 * h,
            b: 0.09 * h,
            angle: 0.0,
        }],
        0.09 * h,
        0.95,
    );
    m.part(
        vec![Prim::Cone {
            a: hip,
            b: neck + v2(0.0, 0.06 * h),
            ra: 0.1 * h,
            rb: 0.13 * h,
        }],
        0.11 * h,
        1.0,
    );
    for k in [-1.0f32, 1.0] {
        let shoulder = neck + v2(k * 0.13 * h, 0.05 * h);
        let elbow = v2(hip.x + k * 0.2 * h, hip.y - 0.02 * h);
        let hand = lap + v2(k * 0.05 * h, -0.06 * h);
        m.part(
            vec![
                Prim::Cone {
                    a: shoulder,
                    b: elbow,
                    ra: 0.045 * h,
                    rb: 0.038 * h,
                },
                Prim::Cone {
                    a: elbow,
                    b: hand,
                    ra: 0.038 * h,
                    rb: 0.03 * h,
                },
            ],
            0.045 * h,
            1.08,
        );
    }
    m.part(
        vec![Prim::capsule(neck + v2(0.0, 0.03 * h), head_c, 0.04 * h)],
        0.04 * h,
        1.0,
    );
    m.part(
        vec![Prim::Ellipse {
            c: head_c,
            a: head_r * 0.85,
            b: head_r,
            angle: 0.0,
        }],
        head_r,
        1.05,
    );
    let curls = Detail::Curls {
        period_px: (0.25 * head_r).max(2.0),
        amp: 0.06,
    };
    m.part(
        vec![Prim::Circle {
            c: head_c + v2(0.0, -0.95 * head_r),
            r: head_r * 0.45,
        }],
        head_r * 0.45,
        1.05,
    )
    .detail = curls;
}

/// A portrait head in profile (as on coins) centred at `c`, `size_px` tall: cranium,
/// face, nose, chin, ear, neck cut off at a draped bust, with curly hair and a wreath or
/// a crested helmet.
pub fn bust(rng: &mut Rng, m: &mut Motif, c: V2, size_px: f32) {
    let s = size_px;
    let f = facing(rng);
    let hc = c + v2(0.0, -0.12 * s);
    let drapery = Detail::Folds {
        dir: v2(0.9 * f, 0.4),
        period_px: (0.05 * s).max(2.0),
        amp: 0.08,
    };
    m.part(
        vec![Prim::Ellipse {
            c: hc + v2(-0.06 * s * f, 0.45 * s),
            a: 0.26 * s,
            b: 0.08 * s,
            angle: -0.1 * f,
        }],
        0.08 * s,
        0.9,
    )
    .detail = drapery;
    m.part(
        vec![Prim::Cone {
            a: hc + v2(-0.02 * s * f, 0.14 * s),
            b: hc + v2(-0.04 * s * f, 0.38 * s),
            ra: 0.13 * s,
            rb: 0.15 * s,
        }],
        0.12 * s,
        0.95,
    );
    m.part(
        vec![Prim::Ellipse {
            c: hc + v2(-0.03 * s * f, -0.02 * s),
            a: 0.23 * s,
            b: 0.25 * s,
            angle: 0.0,
        }],
        0.2 * s,
        1.0,
    );
    m.part(
        vec![Prim::Ellipse {
            c: hc + v2(0.11 * s * f, 0.08 * s),
            a: 0.13 * s,
            b: 0.19 * s,
            angle: -0.25 * f,
        }],
        0.1 * s,
        1.0,
    );
    let nose = hc + v2(0.19 * s * f, -0.03 * s);
    m.part(
        vec![Prim::Cone {
            a: nose,
            b: nose + v2(0.08 * s * f, 0.12 * s),
            ra: 0.05 * s,
            rb: 0.03 * s,
        }],
        0.035 * s,
        1.03,
    );
    m.part(
        vec![Prim::Circle {
            c: hc + v2(0.16 * s * f, 0.24 * s),
            r: 0.06 * s,
        }],
        0.06 * s,
        1.0,
    );
    m.incise(
        &[hc + v2(0.12 * s * f, 0.0), hc + v2(0.18 * s * f, -0.01 * s)],
        (0.012 * s).max(0.5),
        0.15,
    );
    m.incise(
        &[hc + v2(0.15 * s * f, 0.17 * s), hc + v2(0.22 * s * f, 0.17 * s)],
        (0.01 * s).max(0.5),
        0.12,
    );
    if rng.chance(0.35) {
        // Crested helmet.
        let helm = Prim::Ellipse {
            c: hc + v2(-0.04 * s * f, -0.06 * s),
            a: 0.25 * s,
            b: 0.22 * s,
            angle: 0.0,
        };
        m.part(vec![helm], 0.2 * s, 1.06);
        let crest = bezier(
            hc + v2(0.12 * s * f, -0.26 * s),
            hc + v2(-0.1 * s * f, -0.5 * s),
            hc + v2(-0.42 * s * f, -0.12 * s),
            10,
        );
        m.part(stroke(&crest, 0.06 * s, 0.03 * s), 0.05 * s, 1.1).detail = Detail::Hatch {
            dir: v2(1.0, 0.0),
            period_px: (0.04 * s).max(2.0),
            amp: 0.1,
        };
    } else {
        let curls = Detail::Curls {
            period_px: (0.06 * s).max(2.0),
            amp: 0.12,
        };
        let hair = Prim::Ellipse {
            c: hc + v2(-0.09 * s * f, -0.06 * s),
            a: 0.21 * s,
            b: 0.22 * s,
            angle: 0.0,
        };
        m.part(vec![hair], 0.18 * s, 1.04).detail = curls;
        if rng.chance(0.6) {
            for i in 0..7 {
                let a = -FRAC_PI_2 - f * (0.9 - 0.3 * i as f32);
                let p = hc + v2(-0.07 * s * f, -0.05 * s) + V2::polar(a) * (0.2 * s);
                leaf(rng, m, p, p + V2::polar(a - f * 1.3) * (0.13 * s), 0.033 * s, 1.1);
            }
        }
    }
    let ear = hc + v2(-0.03 * s * f, 0.04 * s);
    m.part(
        vec![Prim::Ellipse {
            c: ear,
            a: 0.04 * s,
            b: 0.06 * s,
            angle: 0.0,
        }],
        0.04 * s,
        1.08,
    );
}

/// Quadruped species parameters: body, legs, neck and head proportions.
struct Species {
    body_a: f32,
    body_b: f32,
    leg_len: f32,
    leg_r: f32,
    neck_len: f32,
    neck_angle: f32,
    neck_r: f32,
    head_len: f32,
    head_r: f32,
}

/// A four-legged animal standing on `ground_y`, body centred at `x`, `length_px` long.
pub fn quadruped(rng: &mut Rng, m: &mut Motif, x: f32, ground_y: f32, length_px: f32) {
    let l = length_px;
    let f = facing(rng);
    // 0 horse, 1 bull, 2 deer, 3 lion, 4 elephant, 5 hound.
    let kind = rng.weighted(&[0.22, 0.18, 0.15, 0.15, 0.15, 0.15]);
    let s = match kind {
        0 => Species {
            body_a: 0.3,
            body_b: 0.13,
            leg_len: 0.4,
            leg_r: 0.035,
            neck_len: 0.28,
            neck_angle: 0.9,
            neck_r: 0.07,
            head_len: 0.2,
            head_r: 0.05,
        },
        1 => Species {
            body_a: 0.32,
            body_b: 0.17,
            leg_len: 0.3,
            leg_r: 0.045,
            neck_len: 0.15,
            neck_angle: 0.4,
            neck_r: 0.1,
            head_len: 0.15,
            head_r: 0.07,
        },
        2 => Species {
            body_a: 0.27,
            body_b: 0.11,
            leg_len: 0.42,
            leg_r: 0.025,
            neck_len: 0.26,
            neck_angle: 1.1,
            neck_r: 0.05,
            head_len: 0.14,
            head_r: 0.04,
        },
        3 => Species {
            body_a: 0.3,
            body_b: 0.12,
            leg_len: 0.3,
            leg_r: 0.04,
            neck_len: 0.12,
            neck_angle: 0.5,
            neck_r: 0.1,
            head_len: 0.12,
            head_r: 0.08,
        },
        4 => Species {
            body_a: 0.3,
            body_b: 0.2,
            leg_len: 0.3,
            leg_r: 0.07,
            neck_len: 0.08,
            neck_angle: 0.3,
            neck_r: 0.13,
            head_len: 0.1,
            head_r: 0.14,
        },
        _ => Species {
            body_a: 0.3,
            body_b: 0.09,
            leg_len: 0.33,
            leg_r: 0.025,
            neck_len: 0.18,
            neck_angle: 0.7,
            neck_r: 0.045,
            head_len: 0.16,
            head_r: 0.035,
        },
    };
    let body_y = ground_y - (s.leg_len + s.body_b * 0.6) * l;
    let body_c = v2(x, body_y);
    let gait = rng.range(0.0, 0.45);
    // Legs: far pair lower, drawn first.
    for (layer, phase) in [(0.7f32, 1.0f32), (1.0, -1.0)] {
        for end in [-1.0f32, 1.0] {
            let top = body_c + v2(end * 0.72 * s.body_a * l * f + phase * 0.03 * l, 0.2 * s.body_b * l);
            let swing = gait * phase * end;
            let knee = top + V2::polar(FRAC_PI_2 + swing) * (0.5 * s.leg_len * l);
            let hoof = knee + V2::polar(FRAC_PI_2 + swing * 0.3 - 0.2 * end * f * gait) * (0.52 * s.leg_len * l);
            let r = s.leg_r * l;
            m.part(
                vec![
                    Prim::Cone {
                        a: top,
                        b: knee,
                        ra: r * 1.4,
                        rb: r,
                    },
                    Prim::Cone {
                        a: knee,
                        b: hoof,
                        ra: r,
                        rb: r * 0.8,
                    },
                ],
                r * 1.3,
                layer,
            );
        }
    }
    // Tail.
    let rump = body_c + v2(-s.body_a * l * f * 0.95, -0.3 * s.body_b * l);
    let tail_end = rump + v2(-0.15 * l * f, rng.range(-0.1, 0.35) * l);
    let tail = bezier(rump, rump + v2(-0.12 * l * f, -0.1 * l), tail_end, 8);
    let tr = (0.018 * l).max(0.8);
    m.part(stroke(&tail, tr, tr * 0.6), tr, 0.9);
    if kind == 3 {
        m.part(
            vec![Prim::Circle {
                c: tail_end,
                r: tr * 2.5,
            }],
            tr * 2.5,
            0.9,
        );
    }
    // Body with optional fur/hide detail.
    let amp = m.look.detail_amp;
    let body = Prim::Ellipse {
        c: body_c,
        a: s.body_a * l,
        b: s.body_b * l,
        angle: rng.range(-0.08, 0.08),
    };
    let detail = if amp > 0.05 && rng.chance(0.4) {
        Detail::Hatch {
            dir: v2(0.9, 0.4),
            period_px: (0.04 * l).max(2.5),
            amp: amp * 0.6,
        }
    } else {
        Detail::None
    };
    m.part(vec![body], s.body_b * l, 1.0).detail = detail;
    // Neck and head.
    let shoulder = body_c + v2(s.body_a * l * f * 0.75, -0.3 * s.body_b * l);
    let grazing = rng.chance(0.15);
    let neck_angle = if grazing { -0.6 } else { s.neck_angle };
    let neck_dir = v2(f * neck_angle.cos(), -neck_angle.sin());
    let poll = shoulder + neck_dir * (s.neck_len * l);
    let head_dir = v2(f * 0.8, if grazing { 0.9 } else { 0.6 });
    let head_dir = head_dir * (1.0 / head_dir.len());
    let muzzle = poll + head_dir * (s.head_len * l);
    let mane = if kind == 0 && amp > 0.03 {
        Detail::Hatch {
            dir: neck_dir,
            period_px: (0.03 * l).max(2.0),
            amp,
        }
    } else {
        Detail::None
    };
    m.part(
        vec![Prim::Cone {
            a: shoulder,
            b: poll,
            ra: s.neck_r * l * 1.3,
            rb: s.neck_r * l,
        }],
        s.neck_r * l,
        1.02,
    )
    .detail = mane;
    if kind == 3 {
        let curls = Detail::Curls {
            period_px: (0.04 * l).max(2.0),
            amp: 0.1,
        };
        m.part(
            vec![Prim::Circle {
                c: poll,
                r: s.head_r * l * 1.9,
            }],
            s.head_r * l * 1.5,
            1.03,
        )
        .detail = curls;
    }
    m.part(
        vec![Prim::Cone {
            a: poll,
            b: muzzle,
            ra: s.head_r * l,
            rb: s.head_r * l * 0.65,
        }],
        s.head_r * l,
        1.06,
    );
    match kind {
        1 => {
            for (k, layer) in [(-1.0f32, 0.8), (1.0, 1.08)] {
                let root = poll + v2(0.0, -0.6 * s.head_r * l);
                let tip = root + v2(k * 0.04 * l + 0.03 * l * f, -0.12 * l);
                m.part(
                    stroke(
                        &bezier(root, root + v2(k * 0.08 * l, -0.02 * l), tip, 6),
                        0.02 * l,
                        0.006 * l,
                    ),
                    0.02 * l,
                    layer,
                );
            }
        }
        2 => {
            let root = poll + v2(0.0, -0.5 * s.head_r * l);
            for k in 0..rng.int(2, 4) {
                let tip = root + V2::polar(-FRAC_PI_2 - f * (0.2 + 0.35 * k as f32)) * (0.14 * l);
                m.part(
                    stroke(
                        &bezier(root, root + v2(-0.05 * l * f, -0.09 * l), tip, 6),
                        0.012 * l,
                        0.006 * l,
                    ),
                    0.012 * l,
                    1.04,
                );
            }
        }
        4 => {
            let ear = Prim::Ellipse {
                c: poll + v2(-0.04 * l * f, 0.03 * l),
                a: 0.09 * l,
                b: 0.12 * l,
                angle: 0.2 * f,
            };
            m.part(vec![ear], 0.09 * l, 1.08);
            let trunk = bezier(
                muzzle,
                muzzle + v2(0.1 * l * f, 0.15 * l),
                muzzle + v2(0.02 * l * f, 0.3 * l),
                8,
            );
            m.part(stroke(&trunk, 0.045 * l, 0.022 * l), 0.045 * l, 1.1);
            m.part(
                vec![Prim::Cone {
                    a: muzzle,
                    b: muzzle + v2(0.12 * l * f, 0.06 * l),
                    ra: 0.015 * l,
                    rb: 0.006 * l,
                }],
                0.015 * l,
                1.12,
            );
        }
        _ => {
            let ear = poll + v2(-0.01 * l * f, -0.06 * l);
            m.part(
                vec![Prim::Leaf {
                    a: poll,
                    b: ear,
                    half_width: 0.015 * l,
                }],
                0.015 * l,
                1.06,
            );
        }
    }
}

/// A bird standing on `ground_y`, `length_px` from beak to tail.
pub fn bird(rng: &mut Rng, m: &mut Motif, x: f32, ground_y: f32, length_px: f32) {
    let l = length_px;
    let f = facing(rng);
    let leg_len = rng.range(0.12, 0.35) * l;
    let body_c = v2(x, ground_y - leg_len - 0.12 * l);
    for k in [-1.0f32, 1.0] {
        let top = body_c + v2(k * 0.04 * l, 0.08 * l);
        m.part(
            vec![Prim::capsule(top, v2(top.x + 0.02 * l * k, ground_y), 0.012 * l)],
            0.012 * l,
            0.8,
        );
    }
    let tail = Prim::Leaf {
        a: body_c - v2(0.15 * l * f, 0.0),
        b: body_c - v2(0.55 * l * f, rng.range(-0.05, 0.25) * l),
        half_width: 0.07 * l,
    };
    m.part(vec![tail], 0.06 * l, 0.85).detail = Detail::Hatch {
        dir: v2(0.0, 1.0),
        period_px: (0.03 * l).max(2.0),
        amp: 0.06,
    };
    m.part(
        vec![Prim::Ellipse {
            c: body_c,
            a: 0.25 * l,
            b: 0.13 * l,
            angle: -0.15 * f,
        }],
        0.13 * l,
        1.0,
    );
    let head = body_c + v2(0.25 * l * f, -rng.range(0.1, 0.3) * l);
    m.part(
        vec![Prim::Cone {
            a: body_c + v2(0.15 * l * f, -0.05 * l),
            b: head,
            ra: 0.07 * l,
            rb: 0.05 * l,
        }],
        0.06 * l,
        1.02,
    );
    m.part(vec![Prim::Circle { c: head, r: 0.07 * l }], 0.07 * l, 1.05);
    m.part(
        vec![Prim::Cone {
            a: head,
            b: head + v2(0.16 * l * f, 0.02 * l),
            ra: 0.03 * l,
            rb: 0.005 * l,
        }],
        0.02 * l,
        1.05,
    );
    let wing_tip = body_c - v2(0.3 * l * f, if rng.chance(0.3) { 0.35 * l } else { 0.02 * l });
    let wing = Prim::Leaf {
        a: body_c + v2(0.12 * l * f, -0.04 * l),
        b: wing_tip,
        half_width: 0.09 * l,
    };
    m.part(vec![wing], 0.08 * l, 1.12).detail = Detail::Hatch {
        dir: v2(0.9 * f, 0.4),
        period_px: (0.035 * l).max(2.0),
        amp: 0.08,
    };
}

/// A fish swimming at `c`, `length_px` long.
pub fn fish(rng: &mut Rng, m: &mut Motif, c: V2, length_px: f32) {
    let l = length_px;
    let f = facing(rng);
    let tail_root = c - v2(0.42 * l * f, 0.0);
    for k in [-1.0f32, 1.0] {
        m.part(
            vec![Prim::Leaf {
                a: tail_root,
                b: tail_root + v2(-0.2 * l * f, k * 0.15 * l),
                half_width: 0.05 * l,
            }],
            0.05 * l,
            0.9,
        );
    }
    m.part(
        vec![Prim::Leaf {
            a: c - v2(0.05 * l * f, 0.1 * l),
            b: c - v2(0.2 * l * f, 0.22 * l),
            half_width: 0.04 * l,
        }],
        0.04 * l,
        0.9,
    );
    let scales = Detail::Curls {
        period_px: (0.06 * l).max(2.0),
        amp: 0.07,
    };
    m.part(
        vec![Prim::Leaf {
            a: tail_root,
            b: c + v2(0.5 * l * f, 0.0),
            half_width: rng.range(0.12, 0.2) * l,
        }],
        0.14 * l,
        1.0,
    )
    .detail = scales;
    m.incise(
        &[c + v2(0.3 * l * f, -0.1 * l), c + v2(0.25 * l * f, 0.1 * l)],
        (0.012 * l).max(0.5),
        0.15,
    );
}

/// A leaf from `a` to `b` with an incised midrib and, sometimes, veins.
pub fn leaf(rng: &mut Rng, m: &mut Motif, a: V2, b: V2, half_width_px: f32, layer: f32) {
    m.part(
        vec![Prim::Leaf {
            a,
            b,
            half_width: half_width_px,
        }],
        half_width_px,
        layer,
    );
    if half_width_px > 2.5 {
        m.incise(&[a.lerp(b, 0.1), a.lerp(b, 0.85)], (0.12 * half_width_px).max(0.5), 0.2);
        if rng.chance(0.4) {
            let axis = b - a;
            for i in 1..4 {
                let p = a.lerp(b, i as f32 * 0.22);
                for k in [-1.0f32, 1.0] {
                    let tip = p + axis * 0.12 + axis.perp() * (k * 0.7 * half_width_px / axis.len().max(1.0));
                    m.incise(&[p, tip], (0.08 * half_width_px).max(0.5), 0.12);
                }
            }
        }
    }
}

/// A tree or plant rooted at `root`, `height_px` tall.
pub fn tree(rng: &mut Rng, m: &mut Motif, root: V2, height_px: f32) {
    let h = height_px;
    let top = root + v2(rng.range(-0.08, 0.08) * h, -rng.range(0.45, 0.7) * h);
    let trunk_r = rng.range(0.025, 0.05) * h;
    let trunk = bezier(root, root.lerp(top, 0.5) + v2(rng.range(-0.06, 0.06) * h, 0.0), top, 8);
    m.part(stroke(&trunk, trunk_r, trunk_r * 0.6), trunk_r, 0.9);
    match rng.weighted(&[0.35, 0.3, 0.2, 0.15]) {
        0 => {
            // Lumpy canopy of discs.
            let crown = top + v2(0.0, -0.1 * h);
            let amp = m.look.detail_amp;
            for _ in 0..rng.int(5, 10) {
                let c = crown + v2(rng.range(-0.22, 0.22) * h, rng.range(-0.2, 0.15) * h);
                let r = rng.range(0.08, 0.15) * h;
                let d = if amp > 0.04 {
                    Detail::Curls {
                        period_px: (0.04 * h).max(2.0),
                        amp,
                    }
                } else {
                    Detail::None
                };
                m.part(vec![Prim::Circle { c, r }], r, rng.range(0.85, 1.05)).detail = d;
            }
        }
        1 => {
            // Branches with leaves.
            for i in 0..rng.int(4, 8) {
                let from = root.lerp(top, rng.range(0.5, 1.0));
                let ang = -FRAC_PI_2 + (i as f32 / 3.0 - 1.0) * 0.9 + rng.range(-0.3, 0.3);
                let tip = from + V2::polar(ang) * (rng.range(0.2, 0.35) * h);
                m.part(stroke(&[from, tip], trunk_r * 0.5, trunk_r * 0.25), trunk_r * 0.5, 0.9);
                for j in 0..3 {
                    let p = from.lerp(tip, 0.4 + 0.3 * j as f32);
                    let dir = V2::polar(ang + rng.range(-1.0, 1.0)) * (0.11 * h);
                    leaf(rng, m, p, p + dir, 0.028 * h, 1.0);
                }
            }
        }
        2 => {
            // Palm: fronds from the top.
            for i in 0..rng.int(5, 8) {
                let ang = PI + i as f32 * PI / 6.0 + rng.range(-0.2, 0.2);
                let tip = top + V2::polar(ang) * (rng.range(0.25, 0.35) * h) + v2(0.0, 0.08 * h);
                let mid = top.lerp(tip, 0.5) + v2(0.0, -0.08 * h);
                let frond = bezier(top, mid, tip, 8);
                m.part(stroke(&frond, 0.035 * h, 0.008 * h), 0.03 * h, 1.0).detail = Detail::Hatch {
                    dir: V2::polar(ang + FRAC_PI_2),
                    period_px: (0.025 * h).max(2.0),
                    amp: 0.1,
                };
            }
        }
        _ => {
            // Lotus stems with buds and round leaves.
            for _ in 0..rng.int(2, 4) {
                let tip = top + v2(rng.range(-0.25, 0.25) * h, rng.range(-0.2, 0.1) * h);
                m.part(
                    stroke(
                        &bezier(root, root.lerp(tip, 0.5) + v2(rng.range(-0.1, 0.1) * h, 0.0), tip, 8),
                        0.012 * h,
                        0.01 * h,
                    ),
                    0.012 * h,
                    0.9,
                );
                if rng.chance(0.5) {
                    leaf(rng, m, tip + v2(0.0, 0.04 * h), tip + v2(0.0, -0.1 * h), 0.04 * h, 1.05);
                } else {
                    m.part(
                        vec![Prim::Ellipse {
                            c: tip,
                            a: 0.1 * h,
                            b: 0.035 * h,
                            angle: rng.range(-0.3, 0.3),
                        }],
                        0.035 * h,
                        1.0,
                    );
                }
            }
        }
    }
}

/// A spiral volute of `r_px` outer radius.
pub fn spiral(m: &mut Motif, c: V2, r_px: f32, turns: f32, start: f32, sense: f32, layer: f32) {
    let pts = spiral_points(c, r_px, turns, start, sense);
    let w = (0.16 * r_px).max(0.8);
    m.part(stroke(&pts, w, w * 0.6), w, layer);
    m.part(
        vec![Prim::Circle {
            c: pts[pts.len() - 1],
            r: w * 1.3,
        }],
        w,
        layer * 1.05,
    );
}

/// A rosette of `petals` leaves around a domed centre.
pub fn rosette(rng: &mut Rng, m: &mut Motif, c: V2, r_px: f32) {
    let petals = rng.int(4, 12);
    let start = rng.range(0.0, TAU);
    let inner = r_px * rng.range(0.15, 0.3);
    if rng.chance(0.4) {
        m.part(
            vec![Prim::Ring {
                c,
                r: r_px * 1.05,
                half_width: r_px * 0.07,
            }],
            r_px * 0.07,
            0.8,
        );
    }
    let width = (TAU * r_px / petals as f32) * rng.range(0.2, 0.38);
    for i in 0..petals {
        let dir = V2::polar(start + i as f32 * TAU / petals as f32);
        leaf(rng, m, c + dir * (inner * 0.7), c + dir * r_px, width, 0.9);
    }
    m.part(vec![Prim::Circle { c, r: inner }], inner, 1.1);
}

/// A palmette: a fan of lobes over two volutes, standing on `base`.
pub fn palmette(rng: &mut Rng, m: &mut Motif, base: V2, h_px: f32) {
    let lobes = rng.int(5, 9);
    let spread = rng.range(1.6, 2.6);
    let heart = base + v2(0.0, -0.2 * h_px);
    for i in 0..lobes {
        let a = -FRAC_PI_2 - spread / 2.0 + spread * i as f32 / (lobes - 1) as f32;
        let len = h_px * (0.55 + 0.25 * (1.0 - ((i as f32 / (lobes - 1) as f32) * 2.0 - 1.0).abs()));
        leaf(rng, m, heart, heart + V2::polar(a) * len, 0.08 * h_px, 0.9);
    }
    for k in [-1.0f32, 1.0] {
        spiral(
            m,
            base + v2(k * 0.15 * h_px, -0.08 * h_px),
            0.12 * h_px,
            1.2,
            if k > 0.0 { PI } else { 0.0 },
            -k,
            1.0,
        );
    }
    m.part(
        vec![Prim::Ellipse {
            c: heart,
            a: 0.09 * h_px,
            b: 0.07 * h_px,
            angle: 0.0,
        }],
        0.07 * h_px,
        1.1,
    );
}

/// A running vine scroll along the horizontal band `x0..x1` centred on `cy`: a wavy
/// stem with a tendril spiral curling into every bowl of the wave and a leaf beside it.
pub fn vine_scroll(rng: &mut Rng, m: &mut Motif, x0: f32, x1: f32, cy: f32, amp_px: f32) {
    let period = amp_px * rng.range(2.8, 4.0);
    let phase = rng.range(0.0, TAU);
    let stem_y = |x: f32| cy + amp_px * (TAU * x / period + phase).sin();
    let n = ((x1 - x0) / 3.0).ceil().max(2.0) as usize;
    let pts: Vec<V2> = (0..=n)
        .map(|i| x0 + (x1 - x0) * i as f32 / n as f32)
        .map(|x| v2(x, stem_y(x)))
        .collect();
    let w = (0.12 * amp_px).max(0.8);
    m.part(stroke(&pts, w, w), w, 1.0);
    // Crests at TAU·x/period + phase = π/2 + kπ; side = +1 where the crest is below cy.
    let mut k = ((x0 - period) * TAU / period + phase - FRAC_PI_2).div_euclid(PI);
    loop {
        let xk = (FRAC_PI_2 + k * PI - phase) * period / TAU;
        let side = if (k as i64).rem_euclid(2) == 0 { 1.0 } else { -1.0 };
        k += 1.0;
        if xk > x1 + period {
            break;
        }
        let c = v2(xk + 0.05 * period, cy - side * 0.1 * amp_px);
        spiral(
            m,
            c,
            amp_px * 0.5,
            1.3,
            if side > 0.0 { FRAC_PI_2 } else { -FRAC_PI_2 },
            side,
            0.95,
        );
        let lp = v2(xk - 0.2 * period, stem_y(xk - 0.2 * period));
        leaf(
            rng,
            m,
            lp,
            lp + v2(-0.12 * period, -side * 0.8 * amp_px),
            amp_px * 0.2,
            1.02,
        );
    }
}

/// Two interlaced strands along the band `x0..x1` around `cy`, over and under in turn,
/// with bosses in the eyes.
pub fn guilloche(rng: &mut Rng, m: &mut Motif, x0: f32, x1: f32, cy: f32, amp_px: f32) {
    let period = amp_px * rng.range(2.2, 3.2);
    let w = (0.22 * amp_px).max(0.8);
    let n = ((x1 - x0) / 2.0).ceil().max(2.0) as usize;
    for strand in [0.0f32, PI] {
        // Split at crossings (every half period); alternate the layer.
        let mut seg: Vec<V2> = Vec::new();
        let mut last_cell: Option<i64> = None;
        let strand_id = (strand > 0.0) as i64;
        for i in 0..=n {
            let x = x0 + (x1 - x0) * i as f32 / n as f32;
            let u = TAU * (x - x0) / period + strand;
            let p = v2(x, cy + amp_px * u.sin());
            let cell = ((x - x0) / (period / 2.0)).floor() as i64;
            if let Some(last) = last_cell
                && last != cell
            {
                seg.push(p);
                let over = (last + strand_id) % 2 == 0;
                m.part(stroke(&seg, w, w), w, if over { 1.0 } else { 0.75 });
                seg.clear();
            }
            seg.push(p);
            last_cell = Some(cell);
        }
        if seg.len() > 1 {
            m.part(stroke(&seg, w, w), w, 0.9);
        }
    }
    let mut x = x0 + period / 4.0;
    while x < x1 {
        m.part(
            vec![Prim::Circle {
                c: v2(x, cy),
                r: amp_px * 0.3,
            }],
            amp_px * 0.3,
            0.8,
        );
        x += period / 2.0;
    }
}

/// A row of beads (or, with `dart`, egg-and-dart) along `x0..x1` at `cy`.
pub fn bead_row(m: &mut Motif, x0: f32, x1: f32, cy: f32, r_px: f32, dart: bool) {
    let step = (if dart { r_px * 3.0 } else { r_px * 2.3 }).max(1.0);
    let mut x = x0 + step / 2.0;
    while x < x1 {
        if dart {
            m.part(
                vec![Prim::Ellipse {
                    c: v2(x, cy),
                    a: r_px,
                    b: r_px * 1.4,
                    angle: 0.0,
                }],
                r_px,
                1.0,
            );
            m.part(
                vec![Prim::Ring {
                    c: v2(x, cy),
                    r: r_px * 1.25,
                    half_width: r_px * 0.1,
                }],
                r_px * 0.1,
                0.8,
            );
            let dx = x + step / 2.0;
            m.part(
                vec![Prim::Leaf {
                    a: v2(dx, cy - r_px * 1.2),
                    b: v2(dx, cy + r_px * 1.5),
                    half_width: r_px * 0.2,
                }],
                r_px * 0.2,
                0.8,
            );
        } else {
            m.part(vec![Prim::Circle { c: v2(x, cy), r: r_px }], r_px, 1.0);
        }
        x += step;
    }
}

/// A Greek-key meander band along `x0..x1` between `y0` and `y1`.
pub fn meander(m: &mut Motif, x0: f32, x1: f32, y0: f32, y1: f32) {
    let h = y1 - y0;
    let w = (h * 0.08).max(0.8);
    let (top, bottom) = (y0 + w, y1 - w);
    let unit = (h * 1.1).max(1.0);
    let mut x = x0;
    while x < x1 {
        let s = unit / 4.0;
        let pts = [
            v2(x, bottom),
            v2(x + 3.0 * s, bottom),
            v2(x + 3.0 * s, top),
            v2(x + s, top),
            v2(x + s, top + 0.55 * (bottom - top)),
            v2(x + 2.0 * s, top + 0.55 * (bottom - top)),
            v2(x + 2.0 * s, top + 0.3 * (bottom - top)),
        ];
        m.part(stroke(&pts, w, w), w, 1.0);
        m.part(stroke(&[v2(x + 3.0 * s, bottom), v2(x + unit, bottom)], w, w), w, 1.0);
        x += unit;
    }
}

/// A column from `bottom` up to `top_y`, `width_px` wide, with base, fluted shaft and an
/// Ionic (volutes) or block capital.
pub fn column(rng: &mut Rng, m: &mut Motif, bottom: V2, top_y: f32, width_px: f32) {
    let w = width_px;
    let base_h = 0.6 * w;
    let cap_h = 0.7 * w;
    let step = |m: &mut Motif, cy: f32, half_w: f32, half_h: f32| {
        m.part(
            vec![Prim::Box {
                c: v2(bottom.x, cy),
                half: v2(half_w, half_h),
                angle: 0.0,
                corner: half_h * 0.3,
            }],
            half_h,
            1.0,
        );
    };
    step(m, bottom.y - base_h * 0.25, 0.8 * w, base_h * 0.25);
    step(m, bottom.y - base_h * 0.7, 0.65 * w, base_h * 0.22);
    let shaft_top = top_y + cap_h;
    let shaft = Prim::Box {
        c: v2(bottom.x, (bottom.y - base_h + shaft_top) * 0.5),
        half: v2(0.5 * w, (bottom.y - base_h - shaft_top) * 0.5),
        angle: 0.0,
        corner: 0.0,
    };
    let flutes = if rng.chance(0.5) {
        Detail::Hatch {
            dir: v2(1.0, 0.0),
            period_px: (w / 4.0).max(2.0),
            amp: 0.12,
        }
    } else {
        Detail::None
    };
    let stamp = m.part(vec![shaft], 0.5 * w, 0.9);
    stamp.profile = Profile::round();
    stamp.round_px = 0.5 * w;
    stamp.detail = flutes;
    step(m, top_y + cap_h * 0.5, 0.55 * w, cap_h * 0.5);
    step(m, top_y + cap_h * 0.12, 0.85 * w, cap_h * 0.12);
    if rng.chance(0.5) {
        for k in [-1.0f32, 1.0] {
            spiral(
                m,
                v2(bottom.x + k * 0.6 * w, top_y + cap_h * 0.55),
                0.3 * w,
                1.3,
                -FRAC_PI_2,
                k,
                1.05,
            );
        }
    }
}

/// A round arch (half ring) centred on `c` with radius `r_px` and band half width.
pub fn arch(m: &mut Motif, c: V2, r_px: f32, half_width_px: f32) {
    let pts: Vec<V2> = (0..=24)
        .map(|i| c + V2::polar(PI + PI * i as f32 / 24.0) * r_px)
        .collect();
    m.part(stroke(&pts, half_width_px, half_width_px), half_width_px, 1.0);
}

/// A flight of `n` steps whose bottom edge is `x0..x1` at `bottom_y`.
pub fn steps(m: &mut Motif, x0: f32, x1: f32, bottom_y: f32, step_h_px: f32, n: usize) {
    for i in 0..n {
        let inset = (x1 - x0) * 0.08 * i as f32;
        let c = v2((x0 + x1) * 0.5, bottom_y - step_h_px * (i as f32 + 0.5));
        m.part(
            vec![Prim::Box {
                c,
                half: v2((x1 - x0) * 0.5 - inset, step_h_px * 0.5),
                angle: 0.0,
                corner: 0.0,
            }],
            step_h_px * 0.3,
            1.0 + 0.1 * i as f32,
        );
    }
}

/// A building standing on `base` (bottom centre), `width_px` wide and `height_px` tall:
/// a stepped platform, a body with a recessed doorway, and a tiered, gabled or
/// bell-shaped (stupa) roof.
pub fn building(rng: &mut Rng, m: &mut Motif, base: V2, width_px: f32, height_px: f32) {
    let (w, h) = (width_px, height_px);
    let step_h = 0.05 * h;
    let n_steps = rng.int(1, 3);
    steps(m, base.x - 0.5 * w, base.x + 0.5 * w, base.y, step_h, n_steps);
    let body_bottom = base.y - step_h * n_steps as f32;
    let body_h = 0.45 * h;
    let body_w = 0.75 * w;
    let body_c = v2(base.x, body_bottom - 0.5 * body_h);
    let body = Prim::Box {
        c: body_c,
        half: v2(0.5 * body_w, 0.5 * body_h),
        angle: 0.0,
        corner: 0.0,
    };
    m.part(vec![body], 0.08 * w, 1.0);
    // Doorway: a recess with a rounded top.
    let door_w = body_w * rng.range(0.2, 0.35);
    let door_top = body_bottom - body_h * 0.75;
    let door = vec![
        Prim::Box {
            c: v2(base.x, (door_top + body_bottom) * 0.5),
            half: v2(0.5 * door_w, 0.5 * (body_bottom - door_top)),
            angle: 0.0,
            corner: 0.0,
        },
        Prim::Circle {
            c: v2(base.x, door_top),
            r: 0.5 * door_w,
        },
    ];
    m.stamps.push(Stamp::lower(
        door,
        SemanticClass::Background,
        m.base,
        m.depth * 0.9,
        (0.1 * door_w).max(0.75),
        Profile::chamfer(),
    ));
    let roof_bottom = body_bottom - body_h;
    let roof_h = h - (base.y - roof_bottom);
    match rng.int(0, 2) {
        0 => {
            // Tiered roof of shrinking slabs.
            let tiers = rng.int(2, 4);
            for i in 0..tiers {
                let t = i as f32 / tiers as f32;
                let th = roof_h / tiers as f32;
                let c = v2(base.x, roof_bottom - th * (i as f32 + 0.5));
                let half = v2(0.5 * w * (0.9 - 0.6 * t), 0.45 * th);
                m.part(
                    vec![Prim::Box {
                        c,
                        half,
                        angle: 0.0,
                        corner: 0.1 * th,
                    }],
                    0.3 * th,
                    1.0 + 0.05 * i as f32,
                );
            }
        }
        1 => {
            // Gable: a triangle outline over a beam.
            let beam = Prim::Box {
                c: v2(base.x, roof_bottom - 0.05 * h),
                half: v2(0.5 * w, 0.05 * h),
                angle: 0.0,
                corner: 0.0,
            };
            m.part(vec![beam], 0.03 * h, 1.05);
            let apex = v2(base.x, roof_bottom - roof_h);
            let r = (0.03 * h).max(0.8);
            let left = v2(base.x - 0.55 * w, roof_bottom - 0.1 * h);
            let right = v2(base.x + 0.55 * w, roof_bottom - 0.1 * h);
            m.part(stroke(&[left, apex, right, left], r, r), r, 1.05);
        }
        _ => {
            // Stupa: a bell on a square base with a finial.
            let bell_r = 0.35 * w;
            let bell_c = v2(base.x, roof_bottom - 0.1 * roof_h);
            m.part(
                vec![Prim::Ellipse {
                    c: bell_c,
                    a: bell_r,
                    b: 0.45 * roof_h,
                    angle: 0.0,
                }],
                bell_r,
                1.0,
            );
            let top = bell_c - v2(0.0, 0.45 * roof_h);
            m.part(
                vec![Prim::Box {
                    c: top,
                    half: v2(0.1 * w, 0.05 * roof_h),
                    angle: 0.0,
                    corner: 0.0,
                }],
                0.05 * w,
                1.05,
            );
            m.part(
                vec![Prim::Cone {
                    a: top,
                    b: top - v2(0.0, 0.5 * roof_h),
                    ra: 0.06 * w,
                    rb: 0.01 * w,
                }],
                0.05 * w,
                1.08,
            );
        }
    }
}

/// A zigzag (chevron) band along `x0..x1` between `y0` and `y1`.
pub fn zigzag(m: &mut Motif, x0: f32, x1: f32, y0: f32, y1: f32) {
    let h = y1 - y0;
    let w = (0.12 * h).max(0.8);
    let step = (h * 0.8).max(1.0);
    let n = ((x1 - x0) / step).ceil() as usize + 1;
    let pts: Vec<V2> = (0..=n)
        .map(|i| v2(x0 + i as f32 * step, if i % 2 == 0 { y1 - w } else { y0 + w }))
        .collect();
    m.part(stroke(&pts, w, w), w, 1.0);
}

/// A row of dentils (small blocks) along `x0..x1` between `y0` and `y1`.
pub fn dentils(m: &mut Motif, x0: f32, x1: f32, y0: f32, y1: f32) {
    let h = y1 - y0;
    let block = (h * 0.7).max(1.0);
    let mut x = x0 + block * 0.5;
    while x < x1 {
        let c = v2(x, (y0 + y1) * 0.5);
        m.part(
            vec![Prim::Box {
                c,
                half: v2(0.5 * block, 0.5 * h),
                angle: 0.0,
                corner: 0.0,
            }],
            0.2 * block,
            1.0,
        );
        x += block * 1.6;
    }
}

/// A random alphabet: each glyph is 1–4 strokes between points of a 3 × 3 grid in the
/// unit cell (x 0..1 right, y 0..1 down), some of them curved.
pub fn alphabet(rng: &mut Rng, count: usize) -> Vec<Vec<Vec<V2>>> {
    let grid = |i: usize| v2((i % 3) as f32 * 0.5, (i / 3) as f32 * 0.5);
    (0..count)
        .map(|_| {
            (0..rng.int(1, 4))
                .map(|_| {
                    let a = rng.int(0, 8);
                    let mut b = rng.int(0, 8);
                    if b == a {
                        b = (a + 3) % 9;
                    }
                    let (pa, pb) = (grid(a), grid(b));
                    if rng.chance(0.3) {
                        let bulge = (pb - pa).perp() * rng.range(-0.6, 0.6);
                        bezier(pa, pa.lerp(pb, 0.5) + bulge, pb, 6)
                    } else {
                        vec![pa, pb]
                    }
                })
                .collect()
        })
        .collect()
}

/// Glyph `strokes` placed in the cell with top-left `origin`, `size_px` (width, height),
/// rotated by `angle` about the cell centre; raised or incised with stroke half width `w`.
pub fn glyph(m: &mut Motif, strokes: &[Vec<V2>], origin: V2, size_px: V2, angle: f32, w: f32, incised: bool) {
    let centre = origin + size_px * 0.5;
    for s in strokes {
        let pts: Vec<V2> = s
            .iter()
            .map(|p| {
                let q = v2(origin.x + p.x * size_px.x, origin.y + p.y * size_px.y) - centre;
                centre + q.rotated(angle)
            })
            .collect();
        if incised {
            m.stamps.push(Stamp::lower(
                stroke(&pts, w, w),
                m.class,
                m.base,
                m.depth,
                w,
                Profile::chamfer(),
            ));
        } else {
            m.part(stroke(&pts, w, w), w, 1.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carve::Canvas;
    use crate::grid::Grid;

    #[test]
    fn every_builder_raises_its_own_class_inside_a_small_canvas() {
        let mut rng = Rng::new(11);
        let look = Look::random(&mut rng, 1.0);
        for (i, class) in [
            SemanticClass::Figure,
            SemanticClass::Figure,
            SemanticClass::Figure,
            SemanticClass::Figure,
            SemanticClass::Ornament,
            SemanticClass::Ornament,
            SemanticClass::Ornament,
            SemanticClass::Ornament,
            SemanticClass::Architecture,
        ]
        .iter()
        .enumerate()
        {
            let mut m = Motif::new(&look, *class, 0.0, 1.0);
            match i {
                0 => human(&mut rng, &mut m, v2(48.0, 90.0), 80.0),
                1 => quadruped(&mut rng, &mut m, 48.0, 90.0, 70.0),
                2 => bird(&mut rng, &mut m, 48.0, 90.0, 60.0),
                3 => fish(&mut rng, &mut m, v2(48.0, 48.0), 60.0),
                4 => tree(&mut rng, &mut m, v2(48.0, 90.0), 80.0),
                5 => rosette(&mut rng, &mut m, v2(48.0, 48.0), 30.0),
                6 => palmette(&mut rng, &mut m, v2(48.0, 80.0), 60.0),
                7 => guilloche(&mut rng, &mut m, 0.0, 96.0, 48.0, 10.0),
                _ => column(&mut rng, &mut m, v2(48.0, 90.0), 10.0, 14.0),
            }
            let mut canvas = Canvas::new(Grid::filled(96, 96, 0.0));
            for s in m.finish() {
                canvas.apply(&s);
            }
            let labelled = canvas.class.data.iter().filter(|&&c| c == class.id()).count();
            assert!(labelled > 50, "builder {i} labelled only {labelled} pixels");
            assert!(canvas.height.min_max().1 > 0.5, "builder {i} is raised");
        }
    }
}

//! The 3D viewport's orbit camera and the little matrix algebra it needs (column-major 4 × 4,
//! right-handed, z up, wgpu's 0..1 clip depth). Slicer-style controls: orbit about a target,
//! pan in the view plane, zoom by distance, fit to a box. No egui and no GPU in here.

/// Column-major 4 × 4 matrix: `m[column][row]`, as WGSL's `mat4x4<f32>` expects.
pub type Mat4 = [[f32; 4]; 4];

pub fn mat_mul(a: &Mat4, b: &Mat4) -> Mat4 {
    let mut out = [[0.0; 4]; 4];
    for (c, column) in out.iter_mut().enumerate() {
        for (r, value) in column.iter_mut().enumerate() {
            *value = (0..4).map(|k| a[k][r] * b[c][k]).sum();
        }
    }
    out
}

/// `m · (p, 1)`, the homogeneous result.
pub fn transform(m: &Mat4, p: [f32; 3]) -> [f32; 4] {
    std::array::from_fn(|r| m[0][r] * p[0] + m[1][r] * p[1] + m[2][r] * p[2] + m[3][r])
}

fn sub(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn cross(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn normalize(a: [f32; 3]) -> [f32; 3] {
    let l = dot(a, a).sqrt();
    if l > 0.0 { a.map(|c| c / l) } else { a }
}

/// View matrix of an eye at `eye` looking at `target` with `up` roughly up (right-handed).
pub fn view_from_world(eye: [f32; 3], target: [f32; 3], up: [f32; 3]) -> Mat4 {
    let f = normalize(sub(target, eye));
    let s = normalize(cross(f, up));
    let u = cross(s, f);
    [
        [s[0], u[0], -f[0], 0.0],
        [s[1], u[1], -f[1], 0.0],
        [s[2], u[2], -f[2], 0.0],
        [-dot(s, eye), -dot(u, eye), dot(f, eye), 1.0],
    ]
}

/// Perspective projection to wgpu clip space (depth 0 at `near`, 1 at `far`).
pub fn clip_from_view(fov_y_rad: f32, aspect: f32, near: f32, far: f32) -> Mat4 {
    let f = 1.0 / (fov_y_rad / 2.0).tan();
    let range = far / (near - far);
    [
        [f / aspect, 0.0, 0.0, 0.0],
        [0.0, f, 0.0, 0.0],
        [0.0, 0.0, range, -1.0],
        [0.0, 0.0, near * range, 0.0],
    ]
}

/// An orbit camera around `target`: `yaw_deg` counter-clockwise from +x seen from above (the
/// direction from the target to the eye), `pitch_deg` above the xy plane.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrbitCamera {
    pub target: [f32; 3],
    pub yaw_deg: f32,
    pub pitch_deg: f32,
    pub distance: f32,
    pub fov_y_deg: f32,
}

impl Default for OrbitCamera {
    fn default() -> Self {
        Self {
            target: [0.0; 3],
            yaw_deg: -90.0,
            pitch_deg: 50.0,
            distance: 300.0,
            fov_y_deg: 30.0,
        }
    }
}

/// Degrees of orbit per dragged point.
const ORBIT_DEG_PER_POINT: f32 = 0.4;

impl OrbitCamera {
    /// Looks at a `size_mm` box whose corner is at the origin, from the front and above, so that
    /// it fills the view of aspect `aspect`.
    pub fn fit(size_mm: [f32; 3], aspect: f32) -> Self {
        let mut camera = Self::default();
        camera.fit_to(size_mm, aspect);
        camera
    }

    /// Keeps the direction, recentres on the box and sets the distance so it fills the view.
    /// The box's eight corners must project inside the view with a small margin: for each
    /// corner at view-space offset (x, y, z) from the target (z towards the eye), the distance
    /// must be at least `z + |x| / tan(half fov x)` and `z + |y| / tan(half fov y)`.
    pub fn fit_to(&mut self, size_mm: [f32; 3], aspect: f32) {
        self.target = size_mm.map(|s| s / 2.0);
        self.distance = 1.0;
        let view = self.view_from_world();
        let (right, up, back) = (
            [view[0][0], view[1][0], view[2][0]],
            [view[0][1], view[1][1], view[2][1]],
            [view[0][2], view[1][2], view[2][2]],
        );
        let tan_y = (self.fov_y_deg.to_radians() / 2.0).tan();
        let tan_x = tan_y * aspect.max(0.1);
        let mut distance: f32 = 1.0;
        for corner in 0..8 {
            let p = [0, 1, 2].map(|k| {
                if corner & (1 << k) != 0 {
                    size_mm[k] / 2.0
                } else {
                    -size_mm[k] / 2.0
                }
            });
            let (x, y, z) = (dot(p, right), dot(p, up), dot(p, back));
            distance = distance.max(z + x.abs() / tan_x).max(z + y.abs() / tan_y);
        }
        self.distance = 1.2 * distance;
    }

    pub fn eye(&self) -> [f32; 3] {
        let (yaw, pitch) = (self.yaw_deg.to_radians(), self.pitch_deg.to_radians());
        let dir = [pitch.cos() * yaw.cos(), pitch.cos() * yaw.sin(), pitch.sin()];
        [
            self.target[0] + self.distance * dir[0],
            self.target[1] + self.distance * dir[1],
            self.target[2] + self.distance * dir[2],
        ]
    }

    pub fn view_from_world(&self) -> Mat4 {
        view_from_world(self.eye(), self.target, [0.0, 0.0, 1.0])
    }

    /// Near and far planes that hold a scene of radius `scene_radius` around the target.
    fn depth_range(&self, scene_radius: f32) -> (f32, f32) {
        let far = self.distance + 2.0 * scene_radius.max(1.0);
        ((self.distance - 2.0 * scene_radius).max(far * 1e-4), far)
    }

    pub fn clip_from_world(&self, aspect: f32, scene_radius: f32) -> Mat4 {
        let (near, far) = self.depth_range(scene_radius);
        mat_mul(
            &clip_from_view(self.fov_y_deg.to_radians(), aspect, near, far),
            &self.view_from_world(),
        )
    }

    /// Left-drag: turn about the target (`dx`, `dy` in points).
    pub fn orbit(&mut self, dx: f32, dy: f32) {
        self.yaw_deg = (self.yaw_deg - dx * ORBIT_DEG_PER_POINT).rem_euclid(360.0);
        self.pitch_deg = (self.pitch_deg + dy * ORBIT_DEG_PER_POINT).clamp(-89.0, 89.0);
    }

    /// Right/middle-drag: move the target in the view plane so the scene follows the pointer
    /// (`dx`, `dy` in points, `viewport_height` in points).
    pub fn pan(&mut self, dx: f32, dy: f32, viewport_height: f32) {
        let view = self.view_from_world();
        let right = [view[0][0], view[1][0], view[2][0]];
        let up = [view[0][1], view[1][1], view[2][1]];
        let mm_per_point = 2.0 * self.distance * (self.fov_y_deg.to_radians() / 2.0).tan() / viewport_height.max(1.0);
        for i in 0..3 {
            self.target[i] += (-dx * right[i] + dy * up[i]) * mm_per_point;
        }
    }

    /// Wheel: `factor > 1` moves closer.
    pub fn zoom(&mut self, factor: f32) {
        self.distance = (self.distance / factor.max(1e-3)).clamp(1.0, 1e6);
    }

    /// The ray (eye, unit direction) through a screen position (0..1 across, 0..1 down)
    /// of a view of aspect `aspect`: the inverse of [`Self::project`].
    pub fn ray(&self, aspect: f32, screen: [f32; 2]) -> ([f32; 3], [f32; 3]) {
        let view = self.view_from_world();
        let right = [view[0][0], view[1][0], view[2][0]];
        let up = [view[0][1], view[1][1], view[2][1]];
        let back = [view[0][2], view[1][2], view[2][2]];
        let t = (self.fov_y_deg.to_radians() / 2.0).tan();
        let (sx, sy) = ((2.0 * screen[0] - 1.0) * t * aspect, (1.0 - 2.0 * screen[1]) * t);
        let dir = normalize([
            sx * right[0] + sy * up[0] - back[0],
            sx * right[1] + sy * up[1] - back[1],
            sx * right[2] + sy * up[2] - back[2],
        ]);
        (self.eye(), dir)
    }

    /// Screen position (0..1 across, 0..1 down) of a world point, or `None` behind the eye.
    pub fn project(&self, aspect: f32, scene_radius: f32, p: [f32; 3]) -> Option<[f32; 2]> {
        let clip = transform(&self.clip_from_world(aspect, scene_radius), p);
        (clip[3] > 1e-6).then(|| [0.5 + 0.5 * clip[0] / clip[3], 0.5 - 0.5 * clip[1] / clip[3]])
    }
}

/// A "nice" tick spacing (1, 2 or 5 × 10ⁿ mm) giving about `ticks` ticks over `length_mm`.
pub fn nice_step(length_mm: f32, ticks: f32) -> f32 {
    let raw = (length_mm / ticks.max(1.0)).max(1e-6);
    let magnitude = 10f32.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = if fraction < 1.5 {
        1.0
    } else if fraction < 3.5 {
        2.0
    } else if fraction < 7.5 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_projects_to_the_centre_and_fit_keeps_corners_in_view() {
        let size = [150.0, 100.0, 7.0];
        let camera = OrbitCamera::fit(size, 1.5);
        let centre = camera.project(1.5, 100.0, camera.target).unwrap();
        assert!(
            (centre[0] - 0.5).abs() < 1e-4 && (centre[1] - 0.5).abs() < 1e-4,
            "{centre:?}"
        );
        for corner in [
            [0.0, 0.0, 0.0],
            [150.0, 100.0, 7.0],
            [0.0, 100.0, 0.0],
            [150.0, 0.0, 7.0],
        ] {
            let p = camera.project(1.5, 100.0, corner).unwrap();
            assert!(p.iter().all(|c| (0.0..=1.0).contains(c)), "{corner:?} → {p:?}");
        }
    }

    #[test]
    fn default_view_is_from_the_front_with_x_to_the_right() {
        let camera = OrbitCamera::fit([100.0, 100.0, 5.0], 1.0);
        let left = camera.project(1.0, 100.0, [0.0, 50.0, 0.0]).unwrap();
        let right = camera.project(1.0, 100.0, [100.0, 50.0, 0.0]).unwrap();
        assert!(left[0] < right[0]);
        let near = camera.project(1.0, 100.0, [50.0, 0.0, 0.0]).unwrap();
        let far = camera.project(1.0, 100.0, [50.0, 100.0, 0.0]).unwrap();
        assert!(near[1] > far[1], "the front edge is lower on screen");
    }

    #[test]
    fn a_ray_through_a_projected_point_passes_through_it() {
        let camera = OrbitCamera {
            target: [40.0, 30.0, 2.0],
            yaw_deg: -70.0,
            pitch_deg: 35.0,
            distance: 250.0,
            fov_y_deg: 30.0,
        };
        for p in [[40.0, 30.0, 2.0], [0.0, 0.0, 0.0], [90.0, 10.0, 8.0], [10.0, 70.0, 5.0]] {
            let screen = camera.project(1.6, 100.0, p).unwrap();
            let (eye, dir) = camera.ray(1.6, screen);
            let to_p = sub(p, eye);
            let along = dot(to_p, dir);
            let off = sub(to_p, [dir[0] * along, dir[1] * along, dir[2] * along]);
            assert!(dot(off, off).sqrt() < 1e-3 * along, "{p:?}: {off:?}");
        }
    }

    #[test]
    fn pan_moves_the_target_and_zoom_the_distance() {
        let mut camera = OrbitCamera::fit([100.0, 100.0, 5.0], 1.0);
        let before = camera.target;
        camera.pan(10.0, 0.0, 500.0);
        assert!(camera.target[0] < before[0], "dragging right moves the scene right");
        let d = camera.distance;
        camera.zoom(2.0);
        assert!((camera.distance - d / 2.0).abs() < 1e-3);
        assert_eq!(nice_step(150.0, 6.0), 20.0);
        assert_eq!(nice_step(1000.0, 5.0), 200.0);
    }
}

//! A dense 2-D raster (`Grid<T>`) in row-major order, the one image type every
//! stage outside `net/` and `train/` speaks: photos, depth maps, heightfields,
//! label maps. Row 0 is the top of the image; x grows right, y grows down.

use serde::{Deserialize, Serialize};

/// Row-major raster: `data[y * width + x]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grid<T> {
    pub width: usize,
    pub height: usize,
    pub data: Vec<T>,
}

impl<T: Copy> Grid<T> {
    /// A grid of `width × height` filled with `value`.
    pub fn filled(width: usize, height: usize, value: T) -> Self {
        Self {
            width,
            height,
            data: vec![value; width * height],
        }
    }

    /// Wraps `data`; panics if its length is not `width * height` (a programming error).
    pub fn from_vec(width: usize, height: usize, data: Vec<T>) -> Self {
        assert_eq!(data.len(), width * height, "grid data length must be width × height");
        Self { width, height, data }
    }

    /// A grid whose value at (x, y) is `f(x, y)`.
    pub fn from_fn(width: usize, height: usize, mut f: impl FnMut(usize, usize) -> T) -> Self {
        let mut data = Vec::with_capacity(width * height);
        for y in 0..height {
            for x in 0..width {
                data.push(f(x, y));
            }
        }
        Self { width, height, data }
    }

    #[inline]
    pub fn get(&self, x: usize, y: usize) -> T {
        self.data[y * self.width + x]
    }

    #[inline]
    pub fn set(&mut self, x: usize, y: usize, value: T) {
        self.data[y * self.width + x] = value;
    }

    /// The four pixels around continuous (x, y) (pixel centres at integers, clamped at
    /// the borders): top-left, top-right, bottom-left, bottom-right, and the fractions
    /// of the way to the right and down.
    fn corners(&self, x: f32, y: f32) -> ([T; 4], f32, f32) {
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let (x0, y0) = (x0 as isize, y0 as isize);
        let corners = [
            self.get_clamped(x0, y0),
            self.get_clamped(x0 + 1, y0),
            self.get_clamped(x0, y0 + 1),
            self.get_clamped(x0 + 1, y0 + 1),
        ];
        (corners, fx, fy)
    }

    /// Value at (x, y) with coordinates clamped to the grid (edge replication).
    #[inline]
    pub fn get_clamped(&self, x: isize, y: isize) -> T {
        let x = x.clamp(0, self.width as isize - 1) as usize;
        let y = y.clamp(0, self.height as isize - 1) as usize;
        self.get(x, y)
    }

    pub fn map<U: Copy>(&self, f: impl FnMut(T) -> U) -> Grid<U> {
        Grid {
            width: self.width,
            height: self.height,
            data: self.data.iter().copied().map(f).collect(),
        }
    }

    /// Mirrors the grid left–right in place.
    pub fn mirror_x(&mut self) {
        if self.width > 0 {
            for row in self.data.chunks_mut(self.width) {
                row.reverse();
            }
        }
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

impl Grid<f32> {
    /// (min, max) over all values; (0, 0) for an empty grid.
    pub fn min_max(&self) -> (f32, f32) {
        if self.data.is_empty() {
            return (0.0, 0.0);
        }
        self.data
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            })
    }

    /// Values mapped linearly onto 0..1 (min → 0, max → 1); all zeros when constant.
    pub fn stretched(&self) -> Grid<f32> {
        let (lo, hi) = self.min_max();
        self.map(|v| if hi > lo { (v - lo) / (hi - lo) } else { 0.0 })
    }

    /// Bilinear sample at continuous pixel coordinates (pixel centres at integers),
    /// clamped at the borders.
    pub fn sample_bilinear(&self, x: f32, y: f32) -> f32 {
        let ([a, b, c, d], fx, fy) = self.corners(x, y);
        (a * (1.0 - fx) + b * fx) * (1.0 - fy) + (c * (1.0 - fx) + d * fx) * fy
    }

    /// Resamples to `width × height` with bilinear interpolation (pixel-centre aligned).
    pub fn resized(&self, width: usize, height: usize) -> Grid<f32> {
        let sx = self.width as f32 / width as f32;
        let sy = self.height as f32 / height as f32;
        Grid::from_fn(width, height, |x, y| {
            self.sample_bilinear((x as f32 + 0.5) * sx - 0.5, (y as f32 + 0.5) * sy - 0.5)
        })
    }
}

impl Grid<[f32; 3]> {
    /// [`Grid::<f32>::sample_bilinear`] for colour pixels.
    pub fn sample_bilinear_rgb(&self, x: f32, y: f32) -> [f32; 3] {
        let ([a, b, c, d], fx, fy) = self.corners(x, y);
        std::array::from_fn(|k| (a[k] * (1.0 - fx) + b[k] * fx) * (1.0 - fy) + (c[k] * (1.0 - fx) + d[k] * fx) * fy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_fn_is_row_major() {
        let g = Grid::from_fn(3, 2, |x, y| (10 * y + x) as f32);
        assert_eq!(g.data, vec![0.0, 1.0, 2.0, 10.0, 11.0, 12.0]);
        assert_eq!(g.get(2, 1), 12.0);
        assert_eq!(g.get_clamped(-5, 9), 10.0);
    }

    #[test]
    fn stretched_spans_zero_to_one_and_flat_is_zero() {
        let g = Grid::from_vec(3, 1, vec![2.0f32, 4.0, 3.0]);
        assert_eq!(g.stretched().data, vec![0.0, 1.0, 0.5]);
        assert!(Grid::filled(2, 2, 7.0f32).stretched().data.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn bilinear_resize_keeps_constant_and_midpoints() {
        let g = Grid::from_fn(2, 1, |x, _| x as f32);
        assert_eq!(g.sample_bilinear(0.5, 0.0), 0.5);
        let c = Grid::filled(5, 7, 3.0f32).resized(11, 3);
        assert!(c.data.iter().all(|&v| (v - 3.0).abs() < 1e-6));
    }
}

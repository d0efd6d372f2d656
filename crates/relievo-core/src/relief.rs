//! Depth map → heightfield in millimetres. The lowest depth value sits on the base
//! top (`z = base_mm`), the highest at `base_mm + relief_mm`; the bottom of the
//! solid is `z = 0`. Pixel centres become mesh vertices, so the solid's footprint is
//! exactly `width_mm × height_mm`.

use serde::{Deserialize, Serialize};

use crate::grid::Grid;

/// Everything that turns a depth map into a printable relief. Saved beside exports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReliefParams {
    /// Physical width of the solid (x), in mm.
    pub width_mm: f32,
    /// Physical height of the solid (y); `None` keeps the depth map's aspect ratio.
    pub height_mm: Option<f32>,
    /// Highest point above the base top, in mm.
    pub relief_mm: f32,
    /// Thickness of the flat base under the relief, in mm.
    pub base_mm: f32,
    /// Swap raised and sunken (for depth maps where dark = near).
    pub invert: bool,
    /// Mirror left–right (for casting moulds).
    pub mirror: bool,
    /// Gaussian smoothing of the depth map, standard deviation in pixels (0 = off).
    pub smoothing_px: f32,
    /// Largest allowed vertical distance between any pixel and the mesh, in mm
    /// (0 keeps every pixel as a vertex).
    pub max_error_mm: f32,
}

impl Default for ReliefParams {
    fn default() -> Self {
        Self {
            width_mm: 150.0,
            height_mm: None,
            relief_mm: 5.0,
            base_mm: 2.0,
            invert: false,
            mirror: false,
            smoothing_px: 0.0,
            max_error_mm: 0.02,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReliefError {
    #[error("depth map is {0}×{1} pixels; at least 2×2 are needed to make a solid")]
    TooSmall(usize, usize),
    #[error("{name} must be a finite number {rule} (got {value})")]
    BadParam {
        name: &'static str,
        rule: &'static str,
        value: f32,
    },
    #[error("the edit layer is {}×{} px but the depth map is {}×{} px", .edit.0, .edit.1, .depth.0, .depth.1)]
    EditSize {
        edit: (usize, usize),
        depth: (usize, usize),
    },
}

/// Top surface of the solid: `z_mm` per pixel (base included), with the pixel pitch.
#[derive(Clone, Debug, PartialEq)]
pub struct Heightfield {
    /// Height of the top surface above the bottom (z = 0), in mm; row 0 is the far
    /// edge of the solid (largest y).
    pub z_mm: Grid<f32>,
    /// Distance between neighbouring pixel centres along x, in mm.
    pub mm_per_px_x: f32,
    /// Distance between neighbouring pixel centres along y, in mm.
    pub mm_per_px_y: f32,
    /// Thickness of the base, in mm (the lowest top-surface value).
    pub base_mm: f32,
}

impl Heightfield {
    pub fn width_mm(&self) -> f32 {
        (self.z_mm.width - 1) as f32 * self.mm_per_px_x
    }

    pub fn height_mm(&self) -> f32 {
        (self.z_mm.height - 1) as f32 * self.mm_per_px_y
    }

    /// Mesh position (mm) of pixel (x, y): x right, y up (row 0 at the top), z up.
    #[inline]
    pub fn position_mm(&self, x: usize, y: usize) -> [f32; 3] {
        [
            x as f32 * self.mm_per_px_x,
            (self.z_mm.height - 1 - y) as f32 * self.mm_per_px_y,
            self.z_mm.get(x, y),
        ]
    }
}

fn check(name: &'static str, value: f32, positive: bool) -> Result<(), ReliefError> {
    let ok = value.is_finite() && if positive { value > 0.0 } else { value >= 0.0 };
    if ok {
        Ok(())
    } else {
        let rule = if positive { "greater than 0" } else { "of at least 0" };
        Err(ReliefError::BadParam { name, rule, value })
    }
}

/// Builds the heightfield of a relief from a depth map (any range; higher = more raised).
pub fn build(depth: &Grid<f32>, params: &ReliefParams) -> Result<Heightfield, ReliefError> {
    build_edited(depth, None, params)
}

/// The lowest an edit can bring the top: the solid keeps this much material above its
/// bottom, so it stays closed.
pub const MIN_TOP_MM: f32 = 0.1;

/// [`build`] with hand edits (`edits_mm`, mm per depth pixel in the photo's orientation,
/// [`crate::edit::EditLayer`]) added to the top, which never goes below [`MIN_TOP_MM`].
pub fn build_edited(
    depth: &Grid<f32>,
    edits_mm: Option<&Grid<f32>>,
    params: &ReliefParams,
) -> Result<Heightfield, ReliefError> {
    let mut z_mm = heights_mm(depth, params)?;
    if let Some(edits) = edits_mm {
        if (edits.width, edits.height) != (depth.width, depth.height) {
            return Err(ReliefError::EditSize {
                edit: (edits.width, edits.height),
                depth: (depth.width, depth.height),
            });
        }
        for (z, e) in z_mm.data.iter_mut().zip(&edits.data) {
            *z = (*z + e).max(MIN_TOP_MM);
        }
    }
    if params.mirror {
        z_mm.mirror_x();
    }
    let width_mm = params.width_mm;
    let height_mm = params
        .height_mm
        .unwrap_or(width_mm * (depth.height - 1) as f32 / (depth.width - 1) as f32);
    Ok(Heightfield {
        mm_per_px_x: width_mm / (depth.width - 1) as f32,
        mm_per_px_y: height_mm / (depth.height - 1) as f32,
        base_mm: params.base_mm,
        z_mm,
    })
}

/// The relief's top in mm per depth pixel, in the photo's orientation (not mirrored) and
/// without edits: the lowest depth value on the base top, the highest `relief_mm` above it.
pub fn heights_mm(depth: &Grid<f32>, params: &ReliefParams) -> Result<Grid<f32>, ReliefError> {
    if depth.width < 2 || depth.height < 2 {
        return Err(ReliefError::TooSmall(depth.width, depth.height));
    }
    check("width_mm", params.width_mm, true)?;
    if let Some(h) = params.height_mm {
        check("height_mm", h, true)?;
    }
    check("relief_mm", params.relief_mm, false)?;
    check("base_mm", params.base_mm, true)?;
    check("smoothing_px", params.smoothing_px, false)?;
    check("max_error_mm", params.max_error_mm, false)?;

    let d = if params.smoothing_px > 0.0 {
        crate::filter::blur(depth, params.smoothing_px)
    } else {
        depth.clone()
    };
    let (lo, hi) = d.min_max();
    let range = hi - lo;
    let scale = if range > 0.0 { params.relief_mm / range } else { 0.0 };
    let base = params.base_mm;
    Ok(d.map(|v| {
        let t = if params.invert { hi - v } else { v - lo };
        base + t * scale
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_value_sits_on_base_and_highest_at_relief() {
        let depth = Grid::from_fn(4, 3, |x, _| x as f32 * 10.0 + 7.0);
        let p = ReliefParams {
            width_mm: 30.0,
            relief_mm: 6.0,
            base_mm: 2.0,
            ..Default::default()
        };
        let hf = build(&depth, &p).unwrap();
        assert_eq!(hf.z_mm.min_max(), (2.0, 8.0));
        assert!((hf.width_mm() - 30.0).abs() < 1e-5);
        assert!((hf.height_mm() - 20.0).abs() < 1e-5, "aspect ratio kept");
    }

    #[test]
    fn invert_and_mirror() {
        let depth = Grid::from_fn(3, 2, |x, _| x as f32);
        let p = ReliefParams {
            relief_mm: 2.0,
            base_mm: 1.0,
            invert: true,
            ..Default::default()
        };
        assert_eq!(build(&depth, &p).unwrap().z_mm.data[..3], [3.0, 2.0, 1.0]);
        let p = ReliefParams {
            relief_mm: 2.0,
            base_mm: 1.0,
            mirror: true,
            ..Default::default()
        };
        assert_eq!(build(&depth, &p).unwrap().z_mm.data[..3], [3.0, 2.0, 1.0]);
    }

    #[test]
    fn rejects_bad_input() {
        let one = Grid::filled(1, 1, 0.0f32);
        assert_eq!(build(&one, &ReliefParams::default()), Err(ReliefError::TooSmall(1, 1)));
        let depth = Grid::filled(3, 3, 0.0f32);
        let p = ReliefParams {
            width_mm: f32::NAN,
            ..Default::default()
        };
        assert!(build(&depth, &p).is_err());
    }
}

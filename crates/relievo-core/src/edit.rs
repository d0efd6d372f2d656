//! Hand edits over the predicted relief: a layer of height changes in millimetres, kept
//! apart from the depth map, so that new weights, a new inference or new relief parameters
//! keep them ([`crate::relief::build_edited`] adds them to the relief's heights). Brushes
//! (raise, lower, smooth, flatten, restore) change the layer dab by dab; the damage brush
//! marks pixels that a repair then fills from the relief around them
//! ([`crate::repair::fill`]), and the filled pixels stay marked as restored, so that the
//! restoration can be told apart from what the photo shows. A stroke or a repair is one
//! undo step, stored as the 64-px tiles it touched, before and after: undo and redo give
//! back the exact bits, at the cost of the touched area only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::grid::Grid;
use crate::selection::{Selection, SelectionOp};

/// Side of the square tiles an undo step stores, px.
pub const TILE_PX: usize = 64;
/// Undo steps kept; the oldest go first.
pub const MAX_UNDO: usize = 200;

/// What a brush does where it passes (weighted by its falloff).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tool {
    /// Adds `strength` mm per dab at the centre.
    Raise,
    /// Removes `strength` mm per dab at the centre.
    Lower,
    /// Moves the surface `strength` (0..1) of the way to its local average.
    Smooth,
    /// Moves the surface `strength` (0..1) of the way to the height under the stroke's
    /// first dab.
    Flatten,
    /// Takes `strength` (0..1) of the edits away: back towards the prediction; where it
    /// acts at least half, damage and restoration marks go too.
    Restore,
    /// Marks pixels as damaged, for a repair to fill.
    Damage,
}

impl Tool {
    pub const ALL: [Tool; 6] = [
        Tool::Raise,
        Tool::Lower,
        Tool::Smooth,
        Tool::Flatten,
        Tool::Restore,
        Tool::Damage,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Tool::Raise => "Raise",
            Tool::Lower => "Lower",
            Tool::Smooth => "Smooth",
            Tool::Flatten => "Flatten",
            Tool::Restore => "Restore",
            Tool::Damage => "Mark damage",
        }
    }

    /// Whether `strength` is in mm (raise, lower) rather than a fraction 0..1.
    pub fn strength_in_mm(self) -> bool {
        matches!(self, Tool::Raise | Tool::Lower)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Brush {
    pub tool: Tool,
    /// Radius in depth-map pixels.
    pub radius_px: f32,
    /// mm per dab for raise and lower, 0..1 for the others.
    pub strength: f32,
    /// 0 = soft (the effect fades from the centre to the rim), 1 = hard (full to the rim).
    pub hardness: f32,
}

impl Default for Brush {
    fn default() -> Self {
        Self {
            tool: Tool::Raise,
            radius_px: 20.0,
            strength: 0.05,
            hardness: 0.3,
        }
    }
}

impl Brush {
    /// Weight of the brush at `distance` px from its centre: 1 inside the hard core, then a
    /// smooth (cosine) fall to 0 at the rim.
    pub fn falloff(&self, distance: f32) -> f32 {
        let r = self.radius_px.max(0.5);
        let t = distance / r;
        if t >= 1.0 {
            return 0.0;
        }
        let core = self.hardness.clamp(0.0, 1.0);
        if t <= core {
            return 1.0;
        }
        let u = (t - core) / (1.0 - core).max(1e-6);
        0.5 * (1.0 + (std::f32::consts::PI * u).cos())
    }
}

/// One tile's values before and after an undo step.
#[derive(Clone, Debug)]
struct TilePatch {
    tile: (usize, usize),
    before: Vec<f32>,
    after: Vec<f32>,
}

/// The stroke under way: each touched tile's values from before the stroke.
#[derive(Default)]
struct Stroke {
    before: BTreeMap<(usize, usize), Vec<f32>>,
    /// The height (mm) a flatten stroke levels to: the surface under its first dab.
    level_mm: Option<f32>,
}

/// How many pixels carry a height change, a damage mark, a restoration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub edited: usize,
    pub damaged: usize,
    pub restored: usize,
}

/// The edit layer with its undo history.
pub struct EditLayer {
    /// [`Self::counts`] at a version: the app asks every frame, the layer changes per dab.
    counts: std::cell::Cell<Option<(u64, Counts)>>,
    offset_mm: Grid<f32>,
    /// 1 where marked as damaged (waiting for a repair), else 0.
    damage: Grid<f32>,
    /// 1 where a repair filled the height (the restoration), else 0.
    restored: Grid<f32>,
    undo: Vec<Vec<TilePatch>>,
    redo: Vec<Vec<TilePatch>>,
    stroke: Option<Stroke>,
    version: u64,
}

impl EditLayer {
    /// No edits over a `width × height` depth map.
    pub fn new(width: usize, height: usize) -> Self {
        Self::from_offsets(Grid::filled(width, height, 0.0))
    }

    /// A layer holding `offset_mm` (e.g. read from a project), with no history.
    pub fn from_offsets(offset_mm: Grid<f32>) -> Self {
        let none = Grid::filled(offset_mm.width, offset_mm.height, 0.0);
        Self {
            counts: std::cell::Cell::new(None),
            damage: none.clone(),
            restored: none,
            offset_mm,
            undo: Vec::new(),
            redo: Vec::new(),
            stroke: None,
            version: 0,
        }
    }

    /// A layer holding the three grids of a saved project (same sizes), with no history;
    /// `None` if their sizes differ.
    pub fn from_grids(offset_mm: Grid<f32>, damage: Grid<f32>, restored: Grid<f32>) -> Option<Self> {
        let size = (offset_mm.width, offset_mm.height);
        if (damage.width, damage.height) != size || (restored.width, restored.height) != size {
            return None;
        }
        Some(Self {
            damage,
            restored,
            ..Self::from_offsets(offset_mm)
        })
    }

    /// Height change per depth pixel, mm.
    pub fn offset_mm(&self) -> &Grid<f32> {
        &self.offset_mm
    }

    /// 1 where marked as damaged, else 0.
    pub fn damage(&self) -> &Grid<f32> {
        &self.damage
    }

    /// 1 where a repair filled the height, else 0.
    pub fn restored(&self) -> &Grid<f32> {
        &self.restored
    }

    /// Whether any pixel is edited, marked or restored.
    pub fn is_empty(&self) -> bool {
        self.counts() == Counts::default()
    }

    /// Whether any pixel is marked as damaged.
    pub fn has_damage(&self) -> bool {
        self.counts().damaged > 0
    }

    /// Pixels edited, marked and restored (counted once per version of the layer).
    pub fn counts(&self) -> Counts {
        if let Some((version, counts)) = self.counts.get()
            && version == self.version
        {
            return counts;
        }
        let count = |g: &Grid<f32>| g.data.iter().filter(|&&v| v != 0.0).count();
        let counts = Counts {
            edited: count(&self.offset_mm),
            damaged: count(&self.damage),
            restored: count(&self.restored),
        };
        self.counts.set(Some((self.version, counts)));
        counts
    }

    /// The relief's heights with the edits: `relief_mm` + offsets.
    pub fn edited_heights(&self, relief_mm: &Grid<f32>) -> Grid<f32> {
        Grid::from_fn(relief_mm.width, relief_mm.height, |x, y| {
            relief_mm.get(x, y) + self.offset_mm.get(x, y)
        })
    }

    /// The marked pixels.
    pub fn damage_mask(&self) -> Grid<bool> {
        self.damage.map(|v| v > 0.0)
    }

    /// Takes a repair's result: inside `mask` the edited heights become `filled` (mm, as
    /// [`Self::edited_heights`] with the hole filled), those pixels are marked restored and
    /// their damage marks go. One undo step.
    pub fn accept_fill(&mut self, relief_mm: &Grid<f32>, filled: &Grid<f32>, mask: &Grid<bool>) {
        self.end_stroke();
        let size = (self.offset_mm.width, self.offset_mm.height);
        if [
            (relief_mm.width, relief_mm.height),
            (filled.width, filled.height),
            (mask.width, mask.height),
        ]
        .iter()
        .any(|&s| s != size)
        {
            return;
        }
        let mut stroke = Stroke::default();
        for y in 0..size.1 {
            for x in 0..size.0 {
                if mask.get(x, y) {
                    let tile = (x / TILE_PX, y / TILE_PX);
                    if !stroke.before.contains_key(&tile) {
                        stroke.before.insert(tile, self.read_tile(tile.0, tile.1));
                    }
                    self.offset_mm.set(x, y, filled.get(x, y) - relief_mm.get(x, y));
                    self.restored.set(x, y, 1.0);
                    self.damage.set(x, y, 0.0);
                }
            }
        }
        self.stroke = Some(stroke);
        self.end_stroke();
        self.version += 1;
    }

    /// Applies `op` to the edited surface inside `selection` (weighted by its mask), as
    /// one undo step. Returns whether anything changed.
    pub fn apply_selection(&mut self, relief_mm: &Grid<f32>, selection: &Selection, op: &SelectionOp) -> bool {
        self.end_stroke();
        let (w, h) = (self.offset_mm.width, self.offset_mm.height);
        let mask = selection.mask();
        if (relief_mm.width, relief_mm.height) != (w, h) || (mask.width, mask.height) != (w, h) {
            return false;
        }
        let surface = self.edited_heights(relief_mm);
        let selected = || {
            (0..h)
                .flat_map(move |y| (0..w).map(move |x| (x, y)))
                .filter(|&(x, y)| mask.get(x, y) > 0.0)
        };
        if selected().next().is_none() {
            return false;
        }
        // The height change each op asks for at a pixel of surface height z; the mask
        // weighs it.
        let change: Box<dyn Fn(usize, usize, f32) -> f32> = match *op {
            SelectionOp::Offset { mm } => Box::new(move |_, _, _| mm),
            SelectionOp::ScaleHeight { factor } => {
                let low = selected().map(|(x, y)| surface.get(x, y)).fold(f32::INFINITY, f32::min);
                Box::new(move |_, _, z| (z - low) * (factor - 1.0))
            }
            SelectionOp::Flatten => {
                let (sum, weight) = selected().fold((0.0f64, 0.0f64), |(s, k), (x, y)| {
                    let m = f64::from(mask.get(x, y));
                    (s + m * f64::from(surface.get(x, y)), k + m)
                });
                let level = (sum / weight.max(1e-12)) as f32;
                Box::new(move |_, _, z| level - z)
            }
            SelectionOp::Smooth { radius_px } => {
                let blurred = crate::filter::blur(&surface, (radius_px / 3.0).max(0.7));
                Box::new(move |x, y, z| blurred.get(x, y) - z)
            }
            SelectionOp::Inflate {
                height_mm,
                width_px,
                profile,
            } => {
                let depth = selection.depth_from_outline();
                let width = width_px.max(0.5);
                Box::new(move |x, y, _| height_mm * profile.eval(depth.get(x, y) / width))
            }
            SelectionOp::Clear => Box::new(|_, _, _| 0.0),
        };
        let mut stroke = Stroke::default();
        for (x, y) in selected() {
            let tile = (x / TILE_PX, y / TILE_PX);
            if !stroke.before.contains_key(&tile) {
                stroke.before.insert(tile, self.read_tile(tile.0, tile.1));
            }
            let k = mask.get(x, y).clamp(0.0, 1.0);
            let z = surface.get(x, y);
            let old = self.offset_mm.get(x, y);
            if *op == SelectionOp::Clear {
                // Exactly the unedited relief where fully selected.
                self.offset_mm.set(x, y, old * (1.0 - k));
                if k >= 0.5 {
                    self.damage.set(x, y, 0.0);
                    self.restored.set(x, y, 0.0);
                }
            } else {
                self.offset_mm.set(x, y, old + change(x, y, z) * k);
            }
        }
        self.stroke = Some(stroke);
        self.end_stroke();
        self.version += 1;
        true
    }

    /// Changes with every edit, undo and redo (for caches of what depends on the layer).
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    pub fn undo_steps(&self) -> usize {
        self.undo.len()
    }

    /// Applies one dab of `brush` centred at `at` (depth-map pixels, x right, y down).
    /// `relief_mm` is the unedited relief's height per pixel in mm (photo orientation,
    /// as [`crate::relief::heights_mm`] gives it), which smoothing and flattening read.
    /// The first dab after [`Self::end_stroke`] starts a new stroke.
    pub fn dab(&mut self, relief_mm: &Grid<f32>, at: [f32; 2], brush: &Brush) {
        let (w, h) = (self.offset_mm.width, self.offset_mm.height);
        if (relief_mm.width, relief_mm.height) != (w, h) || w == 0 || h == 0 {
            return;
        }
        let r = brush.radius_px.max(0.5);
        let x0 = (at[0] - r).floor().max(0.0) as usize;
        let y0 = (at[1] - r).floor().max(0.0) as usize;
        let x1 = ((at[0] + r).ceil().max(0.0) as usize).min(w - 1);
        let y1 = ((at[1] + r).ceil().max(0.0) as usize).min(h - 1);
        if at[0] + r < 0.0 || at[1] + r < 0.0 || x0 > x1 || y0 > y1 {
            return;
        }
        let surface = |layer: &Grid<f32>, x: usize, y: usize| relief_mm.get(x, y) + layer.get(x, y);
        let stroke = self.stroke.get_or_insert_with(Stroke::default);
        if brush.tool == Tool::Flatten && stroke.level_mm.is_none() {
            let (cx, cy) = (
                (at[0].round().max(0.0) as usize).min(w - 1),
                (at[1].round().max(0.0) as usize).min(h - 1),
            );
            stroke.level_mm = Some(surface(&self.offset_mm, cx, cy));
        }
        // Keep each touched tile's values from before the stroke.
        for ty in y0 / TILE_PX..=y1 / TILE_PX {
            for tx in x0 / TILE_PX..=x1 / TILE_PX {
                if !stroke.before.contains_key(&(tx, ty)) {
                    let values = read_tiles([&self.offset_mm, &self.damage, &self.restored], tx, ty);
                    stroke.before.insert((tx, ty), values);
                }
            }
        }
        // Smoothing target: the surface blurred over a third of the radius, read from a
        // window wide enough for the blur.
        let smooth = (brush.tool == Tool::Smooth).then(|| {
            let sigma = (r / 3.0).max(0.7);
            let m = (3.0 * sigma).ceil() as usize;
            let (wx0, wy0) = (x0.saturating_sub(m), y0.saturating_sub(m));
            let (wx1, wy1) = ((x1 + m).min(w - 1), (y1 + m).min(h - 1));
            let window = Grid::from_fn(wx1 - wx0 + 1, wy1 - wy0 + 1, |x, y| {
                surface(&self.offset_mm, wx0 + x, wy0 + y)
            });
            ((wx0, wy0), crate::filter::blur(&window, sigma))
        });
        let level = stroke.level_mm;
        for y in y0..=y1 {
            for x in x0..=x1 {
                let d = ((x as f32 - at[0]).powi(2) + (y as f32 - at[1]).powi(2)).sqrt();
                let k = brush.falloff(d);
                if k <= 0.0 {
                    continue;
                }
                let offset = self.offset_mm.get(x, y);
                let z = relief_mm.get(x, y) + offset;
                let s = brush.strength;
                let new = match brush.tool {
                    Tool::Raise => offset + s * k,
                    Tool::Lower => offset - s * k,
                    Tool::Smooth => {
                        let ((wx0, wy0), blurred) = smooth.as_ref().expect("made for smoothing");
                        offset + (blurred.get(x - wx0, y - wy0) - z) * (s * k).clamp(0.0, 1.0)
                    }
                    Tool::Flatten => offset + (level.unwrap_or(z) - z) * (s * k).clamp(0.0, 1.0),
                    Tool::Restore => {
                        if s * k >= 0.5 {
                            self.damage.set(x, y, 0.0);
                            self.restored.set(x, y, 0.0);
                        }
                        offset * (1.0 - (s * k).clamp(0.0, 1.0))
                    }
                    Tool::Damage => {
                        self.damage.set(x, y, 1.0);
                        offset
                    }
                };
                self.offset_mm.set(x, y, new);
            }
        }
        self.version += 1;
    }

    /// Ends the stroke under way: it becomes one undo step (and the redo history goes).
    /// Returns whether there was a stroke.
    pub fn end_stroke(&mut self) -> bool {
        let Some(stroke) = self.stroke.take() else {
            return false;
        };
        let patches: Vec<TilePatch> = stroke
            .before
            .into_iter()
            .map(|(tile, before)| TilePatch {
                tile,
                after: self.read_tile(tile.0, tile.1),
                before,
            })
            .filter(|p| p.before != p.after)
            .collect();
        if patches.is_empty() {
            return true;
        }
        self.redo.clear();
        self.undo.push(patches);
        if self.undo.len() > MAX_UNDO {
            self.undo.remove(0);
        }
        true
    }

    /// Removes every edit, as one undo step.
    pub fn clear(&mut self) {
        self.end_stroke();
        let (w, h) = (self.offset_mm.width, self.offset_mm.height);
        let mut stroke = Stroke::default();
        for ty in 0..h.div_ceil(TILE_PX) {
            for tx in 0..w.div_ceil(TILE_PX) {
                stroke.before.insert((tx, ty), self.read_tile(tx, ty));
            }
        }
        for g in [&mut self.offset_mm, &mut self.damage, &mut self.restored] {
            g.data.fill(0.0);
        }
        self.stroke = Some(stroke);
        self.end_stroke();
        self.version += 1;
    }

    /// Undoes the last step (ending a stroke under way first). Returns whether there was one.
    pub fn undo(&mut self) -> bool {
        self.end_stroke();
        let Some(step) = self.undo.pop() else { return false };
        for p in &step {
            self.write_tile(p.tile, &p.before);
        }
        self.redo.push(step);
        self.version += 1;
        true
    }

    /// Redoes the last undone step. Returns whether there was one.
    pub fn redo(&mut self) -> bool {
        self.end_stroke();
        let Some(step) = self.redo.pop() else { return false };
        for p in &step {
            self.write_tile(p.tile, &p.after);
        }
        self.undo.push(step);
        self.version += 1;
        true
    }

    /// One tile of the three layers (offsets, damage, restored), one after the other.
    fn read_tile(&self, tx: usize, ty: usize) -> Vec<f32> {
        read_tiles([&self.offset_mm, &self.damage, &self.restored], tx, ty)
    }

    fn write_tile(&mut self, tile: (usize, usize), values: &[f32]) {
        let n = values.len() / 3;
        for (k, g) in [&mut self.offset_mm, &mut self.damage, &mut self.restored]
            .into_iter()
            .enumerate()
        {
            write_tile(g, tile, &values[k * n..(k + 1) * n]);
        }
    }

    /// Bytes the undo and redo history hold.
    pub fn history_bytes(&self) -> usize {
        self.undo
            .iter()
            .chain(&self.redo)
            .flatten()
            .map(|p| 4 * (p.before.len() + p.after.len()))
            .sum()
    }
}

fn tile_rect(grid: &Grid<f32>, tx: usize, ty: usize) -> (usize, usize, usize, usize) {
    let (x0, y0) = (tx * TILE_PX, ty * TILE_PX);
    (x0, y0, (x0 + TILE_PX).min(grid.width), (y0 + TILE_PX).min(grid.height))
}

fn read_tiles(grids: [&Grid<f32>; 3], tx: usize, ty: usize) -> Vec<f32> {
    let (x0, y0, x1, y1) = tile_rect(grids[0], tx, ty);
    grids
        .iter()
        .flat_map(|g| (y0..y1).flat_map(move |y| (x0..x1).map(move |x| g.get(x, y))))
        .collect()
}

fn write_tile(grid: &mut Grid<f32>, (tx, ty): (usize, usize), values: &[f32]) {
    let (x0, y0, x1, y1) = tile_rect(grid, tx, ty);
    let mut i = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            grid.set(x, y, values[i]);
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(w: usize, h: usize) -> Grid<f32> {
        Grid::from_fn(w, h, |x, y| 2.0 + 0.01 * x as f32 + 0.02 * y as f32)
    }

    fn brush(tool: Tool, strength: f32) -> Brush {
        Brush {
            tool,
            radius_px: 10.0,
            strength,
            hardness: 0.5,
        }
    }

    #[test]
    fn a_raise_dab_adds_its_strength_at_the_centre_and_nothing_past_the_rim() {
        let relief = ramp(100, 80);
        let mut layer = EditLayer::new(100, 80);
        layer.dab(&relief, [50.0, 40.0], &brush(Tool::Raise, 0.3));
        assert_eq!(layer.offset_mm().get(50, 40), 0.3);
        assert_eq!(layer.offset_mm().get(61, 40), 0.0);
        assert!(layer.offset_mm().get(57, 40) > 0.0 && layer.offset_mm().get(57, 40) < 0.3);
    }

    #[test]
    fn undo_and_redo_give_back_the_exact_bits_for_200_strokes() {
        let relief = ramp(300, 200);
        let mut layer = EditLayer::new(300, 200);
        let snapshot = |l: &EditLayer| (l.offset_mm().clone(), l.damage().clone(), l.restored().clone());
        let mut states = vec![snapshot(&layer)];
        for i in 0..200 {
            let tool = Tool::ALL[i % Tool::ALL.len()];
            let strength = if tool.strength_in_mm() { 0.1 } else { 0.5 };
            for k in 0..4 {
                let at = [((i * 37 + k * 5) % 300) as f32, ((i * 53 + k * 3) % 200) as f32];
                layer.dab(&relief, at, &brush(tool, strength));
            }
            layer.end_stroke();
            if i % 50 == 49 {
                // A repair now and then, as its own step.
                let mask = layer.damage_mask();
                let filled = layer.edited_heights(&relief).map(|z| z + 0.25);
                layer.accept_fill(&relief, &filled, &mask);
            }
            states.push(snapshot(&layer));
        }
        // Strokes that changed nothing (restore over nothing) make no step.
        let steps = layer.undo_steps();
        assert!(steps > 150, "{steps}");
        let mut undone = 0;
        while layer.undo() {
            undone += 1;
        }
        assert_eq!(undone, steps);
        assert!(snapshot(&layer) == states[0], "undo to the start is exact");
        while layer.redo() {}
        assert!(snapshot(&layer) == *states.last().unwrap(), "redo to the end is exact");
        // Only touched tiles are stored: a quarter or less of keeping the three layers
        // whole before and after each step (a stroke covers a tenth of this small layer;
        // of a photo-sized one, far less).
        let whole = 200 * 2 * 300 * 200 * 12;
        assert!(
            layer.history_bytes() < whole / 4,
            "{} of {whole}",
            layer.history_bytes()
        );
    }

    #[test]
    fn a_repair_fills_the_marked_hole_and_keeps_it_marked_restored() {
        // A plane with a dent lowered by hand; the dent is marked damaged and repaired.
        let relief = ramp(120, 90);
        let mut layer = EditLayer::new(120, 90);
        let dent = Brush {
            radius_px: 8.0,
            hardness: 1.0,
            ..brush(Tool::Lower, 1.0)
        };
        layer.dab(&relief, [60.0, 45.0], &dent);
        layer.end_stroke();
        let mark = Brush {
            radius_px: 10.0,
            ..brush(Tool::Damage, 1.0)
        };
        layer.dab(&relief, [60.0, 45.0], &mark);
        layer.end_stroke();
        let mask = layer.damage_mask();
        assert!(layer.has_damage());
        let filled = crate::repair::fill(&layer.edited_heights(&relief), &mask, None).unwrap();
        layer.accept_fill(&relief, &filled, &mask);
        // The plane comes back: the fill continues it across the hole.
        for (x, y) in [(60, 45), (55, 48), (66, 41)] {
            let offset = layer.offset_mm().get(x, y);
            assert!(offset.abs() < 1e-3, "({x}, {y}): {offset}");
            assert_eq!(layer.restored().get(x, y), 1.0);
        }
        assert!(!layer.has_damage());
        assert_eq!(layer.restored().get(10, 10), 0.0);
        layer.undo();
        assert!(layer.has_damage() && layer.offset_mm().get(60, 45) == -1.0);
    }

    #[test]
    fn flatten_levels_to_the_first_dab_and_smooth_removes_a_spike() {
        let relief = ramp(100, 100);
        let mut layer = EditLayer::new(100, 100);
        let level = relief.get(40, 50);
        for x in 40..60 {
            layer.dab(&relief, [x as f32, 50.0], &brush(Tool::Flatten, 1.0));
        }
        layer.end_stroke();
        let z = |layer: &EditLayer, x: usize, y: usize| relief.get(x, y) + layer.offset_mm().get(x, y);
        for x in 42..58 {
            assert!((z(&layer, x, 50) - level).abs() < 1e-5, "x {x}");
        }

        let mut spiky = EditLayer::new(100, 100);
        spiky.dab(
            &relief,
            [20.0, 20.0],
            &Brush {
                radius_px: 1.0,
                hardness: 1.0,
                ..brush(Tool::Raise, 1.0)
            },
        );
        spiky.end_stroke();
        for _ in 0..5 {
            spiky.dab(&relief, [20.0, 20.0], &brush(Tool::Smooth, 1.0));
        }
        spiky.end_stroke();
        assert!(spiky.offset_mm().get(20, 20) < 0.3, "{}", spiky.offset_mm().get(20, 20));
    }

    #[test]
    fn selection_ops_offset_flatten_inflate_and_clear_as_one_undo_step_each() {
        use crate::selection::Profile;
        let relief = ramp(200, 120);
        let mut layer = EditLayer::new(200, 120);
        let square = Selection::polygon(200, 120, &[[50.0, 30.0], [150.0, 30.0], [150.0, 90.0], [50.0, 90.0]]);
        assert!(layer.apply_selection(&relief, &square, &SelectionOp::Offset { mm: 0.4 }));
        assert_eq!(layer.offset_mm().get(100, 60), 0.4);
        assert_eq!(layer.offset_mm().get(20, 60), 0.0, "outside untouched");
        assert_eq!(layer.undo_steps(), 1);

        layer.apply_selection(&relief, &square, &SelectionOp::Flatten);
        let top = layer.edited_heights(&relief);
        let level = top.get(50, 30);
        assert!((top.get(149, 89) - level).abs() < 1e-4 && (top.get(100, 60) - level).abs() < 1e-4);

        layer.apply_selection(&relief, &square, &SelectionOp::Clear);
        assert!(layer.is_empty(), "clear takes every edit in the selection away");
        let flat = Grid::filled(200, 120, 1.0);
        let mut bump = EditLayer::new(200, 120);
        let inflate = SelectionOp::Inflate {
            height_mm: 2.0,
            width_px: 20.0,
            profile: Profile::Round,
        };
        bump.apply_selection(&flat, &square, &inflate);
        let o = bump.offset_mm();
        assert!(o.get(50, 60) < 0.7, "low at the outline: {}", o.get(50, 60));
        assert!((o.get(100, 60) - 2.0).abs() < 1e-5, "full height inside");
        assert!(
            o.get(55, 60) > o.get(52, 60) && o.get(60, 60) > o.get(55, 60),
            "rises inwards"
        );
        let before = bump.offset_mm().clone();
        let low = 1.0
            + (0..square.mask().data.len())
                .filter(|&i| square.mask().data[i] > 0.0)
                .map(|i| before.data[i])
                .fold(f32::INFINITY, f32::min);
        bump.apply_selection(&flat, &square, &SelectionOp::ScaleHeight { factor: 0.5 });
        let (was, now) = (1.0 + before.get(100, 60), 1.0 + bump.offset_mm().get(100, 60));
        assert!(
            (now - low - 0.5 * (was - low)).abs() < 1e-5,
            "half the height above the lowest point"
        );
        assert!(bump.undo());
        assert!(bump.offset_mm() == &before, "undo gives back the bits");
        let none = Selection::none(200, 120);
        assert!(!bump.apply_selection(&flat, &none, &SelectionOp::Offset { mm: 1.0 }));
    }

    #[test]
    fn restore_and_clear_take_edits_away_and_clear_is_undoable() {
        let relief = ramp(64, 64);
        let mut layer = EditLayer::new(64, 64);
        layer.dab(&relief, [30.0, 30.0], &brush(Tool::Lower, 0.5));
        layer.end_stroke();
        layer.dab(&relief, [30.0, 30.0], &brush(Tool::Restore, 1.0));
        layer.end_stroke();
        assert!(layer.offset_mm().get(30, 30).abs() < 1e-6);
        layer.undo();
        layer.clear();
        assert!(layer.is_empty());
        layer.undo();
        assert_eq!(layer.offset_mm().get(30, 30), -0.5);
    }
}

//! The three layers the network predicts for one photo — relief depth, soft edges and
//! semantics — as one [`Layers`] value; their colours; previews with a legend; and
//! [`write_layers`], which saves them to a folder. Depth is shown with viridis
//! ([`colormap`]), the six ordered soft-edge classes with a dark-to-bright palette
//! ([`EDGE_PALETTE`]) and the four semantic classes with Okabe–Ito colours
//! ([`SEMANTIC_PALETTE`]). Every colour function returns plain RGB8 bytes (`width × height × 3`,
//! row-major) so the GUI shows exactly what the files show. Legend text is drawn with a small
//! embedded bitmap font (5 × 7 pixels plus two descender rows, printable ASCII), so previews
//! need no font files.

use std::path::{Path, PathBuf};

use crate::export::{ExportError, write_png_rgb, write_png8_gray, write_png16};
use crate::grid::Grid;
use crate::labels::{EDGE_CLASSES, SEMANTIC_CLASSES, SEMANTIC_NAMES, edge_class_value};

/// 16-bit grey relief height, 0 = lowest, 65535 = most raised.
pub const DEPTH_FILE: &str = "depth.png";
/// 8-bit grey soft edges, class × 51 (Table 1).
pub const EDGES_FILE: &str = "edges.png";
/// 8-bit semantic class ids 0..3.
pub const SEMANTICS_FILE: &str = "semantics.png";
pub const DEPTH_PREVIEW_FILE: &str = "depth_preview.png";
pub const EDGES_PREVIEW_FILE: &str = "edges_preview.png";
pub const SEMANTICS_PREVIEW_FILE: &str = "semantics_preview.png";

/// What the network predicts for one photo; each grid normally has the photo's size.
#[derive(Clone, Debug, PartialEq)]
pub struct Layers {
    /// Relief height in 0..1, 1 = most raised.
    pub depth: Grid<f32>,
    /// Soft-edge classes 0..5 (Table 1: class n ↔ grey value 51·n).
    pub edges: Grid<u8>,
    /// Semantic class ids 0..3, named by [`SEMANTIC_NAMES`].
    pub semantics: Grid<u8>,
}

/// Soft-edge classes 0..5: black → deep blue → magenta → orange → yellow → white, relative
/// luminance strictly increasing (0, 0.03, 0.14, 0.36, 0.72, 1), so the order reads without a legend.
pub const EDGE_PALETTE: [[u8; 3]; EDGE_CLASSES] = [
    [0, 0, 0],
    [40, 30, 140],
    [180, 40, 160],
    [245, 130, 30],
    [250, 220, 40],
    [255, 255, 255],
];

/// Semantic classes by id, from the Okabe–Ito palette: black (background plane), vermillion
/// (figures), yellow (vegetation & ornament), sky blue (architecture & frames). Of all four-colour
/// subsets of that palette this one stays furthest apart under simulated protanopia, deuteranopia
/// and tritanopia (OKLab distance ≥ 0.24; the unit tests check ≥ 0.2).
pub const SEMANTIC_PALETTE: [[u8; 3]; SEMANTIC_CLASSES] = [[0, 0, 0], [213, 94, 0], [240, 228, 66], [86, 180, 233]];

/// Colour of a semantic id outside 0..3 (some datasets mark "ignore" with 255); not in the palette.
pub const UNKNOWN_SEMANTIC_RGB: [u8; 3] = [255, 255, 255];

/// Viridis (van der Walt & Smith, CC0) at `t = k / 32`, `k = 0..=32`, read off matplotlib's
/// 256-entry table and rounded; linear interpolation between these keys stays within 2 levels of
/// that table everywhere.
const VIRIDIS_KEYS: [[u8; 3]; 33] = [
    [68, 1, 84],
    [71, 13, 96],
    [72, 24, 106],
    [72, 35, 116],
    [71, 45, 123],
    [69, 54, 129],
    [66, 64, 134],
    [63, 73, 137],
    [59, 82, 139],
    [55, 90, 141],
    [51, 99, 141],
    [47, 106, 142],
    [44, 114, 142],
    [41, 122, 142],
    [38, 129, 142],
    [35, 137, 142],
    [33, 144, 140],
    [31, 152, 139],
    [31, 159, 136],
    [33, 166, 133],
    [40, 174, 128],
    [49, 181, 123],
    [62, 188, 116],
    [76, 194, 108],
    [93, 201, 99],
    [110, 206, 88],
    [130, 211, 76],
    [150, 216, 63],
    [171, 220, 50],
    [192, 223, 36],
    [213, 226, 26],
    [234, 229, 26],
    [253, 231, 37],
];

/// Perceptual colour map for depth (viridis): 0 dark violet, 0.5 teal, 1 yellow, lightness
/// increasing throughout. `t` is clamped to 0..1; NaN counts as 0.
pub fn colormap(t: f32) -> [u8; 3] {
    let x = unit(t) * (VIRIDIS_KEYS.len() - 1) as f32;
    let i = (x as usize).min(VIRIDIS_KEYS.len() - 2);
    let f = x - i as f32;
    let (a, b) = (VIRIDIS_KEYS[i], VIRIDIS_KEYS[i + 1]);
    std::array::from_fn(|c| (f32::from(a[c]) + (f32::from(b[c]) - f32::from(a[c])) * f).round() as u8)
}

/// Colour of a soft-edge class; classes above 5 show as 5, as [`edge_class_value`] writes them.
pub fn edge_colour(class: u8) -> [u8; 3] {
    EDGE_PALETTE[usize::from(class).min(EDGE_CLASSES - 1)]
}

/// Colour of a semantic id; ids outside 0..3 get [`UNKNOWN_SEMANTIC_RGB`].
pub fn semantic_colour(id: u8) -> [u8; 3] {
    SEMANTIC_PALETTE
        .get(usize::from(id))
        .copied()
        .unwrap_or(UNKNOWN_SEMANTIC_RGB)
}

/// Depth as grey RGB8, `round(depth · 255)` (clamped to 0..1, NaN as 0).
pub fn depth_grey_rgb(depth: &Grid<f32>) -> Vec<u8> {
    depth
        .data
        .iter()
        .flat_map(|&d| {
            let v = (unit(d) * 255.0).round() as u8;
            [v, v, v]
        })
        .collect()
}

/// Depth through [`colormap`] as RGB8, on the absolute 0..1 scale (not stretched to the map's
/// range), so previews of different photos compare.
pub fn depth_colour_rgb(depth: &Grid<f32>) -> Vec<u8> {
    depth.data.iter().flat_map(|&d| colormap(d)).collect()
}

/// Soft-edge classes through [`EDGE_PALETTE`] as RGB8.
pub fn edges_rgb(edges: &Grid<u8>) -> Vec<u8> {
    edges.data.iter().flat_map(|&c| edge_colour(c)).collect()
}

/// Semantic ids through [`SEMANTIC_PALETTE`] as RGB8.
pub fn semantics_rgb(semantics: &Grid<u8>) -> Vec<u8> {
    semantics.data.iter().flat_map(|&id| semantic_colour(id)).collect()
}

/// Blends a layer over a photo of the same size, `photo · (1 − opacity) + layer · opacity` per
/// channel; `opacity` is clamped to 0..1 (NaN counts as 0). Panics if the buffers differ in length.
pub fn overlay_rgb(photo_rgb: &[u8], layer_rgb: &[u8], opacity: f32) -> Vec<u8> {
    assert_eq!(
        photo_rgb.len(),
        layer_rgb.len(),
        "overlay needs a photo and a layer of the same size"
    );
    let a = unit(opacity);
    photo_rgb
        .iter()
        .zip(layer_rgb)
        .map(|(&p, &l)| (f32::from(p) + (f32::from(l) - f32::from(p)) * a).round() as u8)
        .collect()
}

/// Legend entries for the soft-edge classes: colour and "class (grey value)", e.g. "3 (153)".
pub fn edge_legend() -> Vec<([u8; 3], String)> {
    (0..EDGE_CLASSES as u8)
        .map(|c| (edge_colour(c), format!("{c} ({})", edge_class_value(c))))
        .collect()
}

/// Legend entries for the semantic classes: colour and class name.
pub fn semantic_legend() -> Vec<([u8; 3], String)> {
    SEMANTIC_PALETTE
        .iter()
        .zip(SEMANTIC_NAMES)
        .map(|(&rgb, name)| (rgb, name.to_owned()))
        .collect()
}

/// Appends a legend strip below an RGB8 image: one colour swatch and label per entry, wrapped onto
/// as many rows as the width needs. An image narrower than the widest entry is centred on a wider
/// canvas. Returns the new `(rgb, width, height)`; with no entries, the image unchanged.
/// Panics if `rgb` is not `width × height × 3` bytes.
pub fn with_legend(rgb: &[u8], width: usize, height: usize, entries: &[([u8; 3], String)]) -> (Vec<u8>, usize, usize) {
    assert_eq!(
        rgb.len(),
        width * height * 3,
        "legend: image must be width × height × 3 bytes"
    );
    if entries.is_empty() {
        return (rgb.to_vec(), width, height);
    }
    let style = LegendStyle::for_width(width);
    let entry_widths: Vec<usize> = entries.iter().map(|(_, label)| style.entry_width(label)).collect();
    let widest = entry_widths.iter().copied().max().unwrap_or(0);
    let canvas_width = width.max(widest + 2 * style.margin());
    let rows = wrap(&entry_widths, canvas_width - 2 * style.margin(), style.entry_gap());
    let mut canvas = Canvas::with_image_above(rgb, width, height, canvas_width, style.strip_height(rows.len()));
    let mut entry = entries.iter().zip(&entry_widths);
    for (r, &count) in rows.iter().enumerate() {
        let y = height + style.row_y(r);
        let mut x = style.margin();
        for ((colour, label), &entry_width) in entry.by_ref().take(count) {
            style.swatch(&mut canvas, x, y, style.swatch_size(), |_| *colour);
            canvas.text(
                x + style.swatch_size() + style.label_gap(),
                y + style.scale,
                label,
                style.scale,
            );
            x += entry_width + style.entry_gap();
        }
    }
    canvas.into_parts()
}

/// Appends a colour-bar strip below an RGB8 image: `low_label`, a bar running `colour(0)` →
/// `colour(1)` left to right, `high_label`. Widens the canvas like [`with_legend`] when the image is
/// too narrow. Panics if `rgb` is not `width × height × 3` bytes.
pub fn with_colour_bar(
    rgb: &[u8],
    width: usize,
    height: usize,
    colour: impl Fn(f32) -> [u8; 3],
    low_label: &str,
    high_label: &str,
) -> (Vec<u8>, usize, usize) {
    assert_eq!(
        rgb.len(),
        width * height * 3,
        "colour bar: image must be width × height × 3 bytes"
    );
    let style = LegendStyle::for_width(width);
    let (s, gap) = (style.scale, style.label_gap());
    let (low_width, high_width) = (text_width(low_label, s), text_width(high_label, s));
    let labels_width = low_width + high_width + 2 * gap + 2 * style.margin();
    let canvas_width = width.max(labels_width + MIN_BAR_WIDTH * s);
    let mut canvas = Canvas::with_image_above(rgb, width, height, canvas_width, style.strip_height(1));
    let y = height + style.row_y(0);
    let bar_x = style.margin() + low_width + gap;
    let bar_width = canvas_width - labels_width;
    canvas.text(style.margin(), y + s, low_label, s);
    style.swatch(&mut canvas, bar_x, y, bar_width, |i| {
        colour(i as f32 / (bar_width - 2 * s - 1) as f32)
    });
    canvas.text(bar_x + bar_width + gap, y + s, high_label, s);
    canvas.into_parts()
}

/// Depth preview: [`depth_colour_rgb`] with a "low … high" colour bar. Returns `(rgb, width, height)`.
pub fn depth_preview(depth: &Grid<f32>) -> (Vec<u8>, usize, usize) {
    with_colour_bar(
        &depth_colour_rgb(depth),
        depth.width,
        depth.height,
        colormap,
        "low",
        "high",
    )
}

/// Soft-edge preview: [`edges_rgb`] with the six classes and their grey values as legend.
pub fn edges_preview(edges: &Grid<u8>) -> (Vec<u8>, usize, usize) {
    with_legend(&edges_rgb(edges), edges.width, edges.height, &edge_legend())
}

/// Semantic preview: [`semantics_rgb`] with the class names as legend.
pub fn semantics_preview(semantics: &Grid<u8>) -> (Vec<u8>, usize, usize) {
    with_legend(
        &semantics_rgb(semantics),
        semantics.width,
        semantics.height,
        &semantic_legend(),
    )
}

/// Writes the layers into `dir` (created if needed): [`DEPTH_FILE`], [`EDGES_FILE`],
/// [`SEMANTICS_FILE`] and the three previews, each through [`crate::export`]. Returns the paths
/// written, in that order; stops at the first file that cannot be written.
pub fn write_layers(layers: &Layers, dir: &Path) -> Result<Vec<PathBuf>, ExportError> {
    std::fs::create_dir_all(dir).map_err(|source| ExportError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    write_png16(&layers.depth, &dir.join(DEPTH_FILE))?;
    write_png8_gray(&layers.edges.map(edge_class_value), &dir.join(EDGES_FILE))?;
    write_png8_gray(&layers.semantics, &dir.join(SEMANTICS_FILE))?;
    let previews = [
        (DEPTH_PREVIEW_FILE, depth_preview(&layers.depth)),
        (EDGES_PREVIEW_FILE, edges_preview(&layers.edges)),
        (SEMANTICS_PREVIEW_FILE, semantics_preview(&layers.semantics)),
    ];
    for (name, (rgb, width, height)) in &previews {
        write_png_rgb(*width, *height, rgb, &dir.join(name))?;
    }
    let names = [
        DEPTH_FILE,
        EDGES_FILE,
        SEMANTICS_FILE,
        DEPTH_PREVIEW_FILE,
        EDGES_PREVIEW_FILE,
        SEMANTICS_PREVIEW_FILE,
    ];
    Ok(names.iter().map(|name| dir.join(name)).collect())
}

/// `t` clamped to 0..1, NaN as 0.
fn unit(t: f32) -> f32 {
    if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) }
}

/// Legend strip background (light grey).
const STRIP_RGB: [u8; 3] = [238, 238, 238];
/// Legend text and swatch borders (dark grey).
const INK_RGB: [u8; 3] = [51, 51, 51];
/// Shortest colour bar, in font pixels.
const MIN_BAR_WIDTH: usize = 48;

/// Legend geometry in font pixels, multiplied by `scale` (1 for images up to 799 px wide,
/// one more per 400 px, at most 8) so the text stays legible on large images.
struct LegendStyle {
    scale: usize,
}

impl LegendStyle {
    fn for_width(width_px: usize) -> Self {
        Self {
            scale: (width_px / 400).clamp(1, 8),
        }
    }

    fn margin(&self) -> usize {
        6 * self.scale
    }

    /// Square swatches, and the colour bar's height: one glyph cell tall, border included.
    fn swatch_size(&self) -> usize {
        GLYPH_ROWS * self.scale
    }

    fn label_gap(&self) -> usize {
        4 * self.scale
    }

    fn entry_gap(&self) -> usize {
        12 * self.scale
    }

    fn line_height(&self) -> usize {
        (GLYPH_ROWS + 4) * self.scale
    }

    fn entry_width(&self, label: &str) -> usize {
        self.swatch_size() + self.label_gap() + text_width(label, self.scale)
    }

    /// Top of row `r`, from the top of the strip.
    fn row_y(&self, r: usize) -> usize {
        self.margin() + r * self.line_height()
    }

    /// Swatch rows plus the descenders of labels drawn one pixel lower.
    fn strip_height(&self, rows: usize) -> usize {
        self.row_y(rows.saturating_sub(1)) + (GLYPH_ROWS + 1) * self.scale + self.margin()
    }

    /// A `width × swatch_size` box at (x, y) with an ink border one font pixel wide, filled by
    /// `fill(i)` for inner column `i`.
    fn swatch(&self, canvas: &mut Canvas, x: usize, y: usize, width: usize, fill: impl Fn(usize) -> [u8; 3]) {
        let (s, h) = (self.scale, self.swatch_size());
        canvas.fill_rect(x, y, width, h, INK_RGB);
        for i in 0..width.saturating_sub(2 * s) {
            canvas.fill_rect(x + s + i, y + s, 1, h - 2 * s, fill(i));
        }
    }
}

/// Greedy line breaking: how many entries go on each row so no row is wider than `available`
/// (an entry wider than that gets a row of its own).
fn wrap(entry_widths: &[usize], available: usize, gap: usize) -> Vec<usize> {
    let mut rows = Vec::new();
    let (mut count, mut row_width) = (0, 0);
    for &w in entry_widths {
        if count > 0 && row_width + gap + w > available {
            rows.push(count);
            (count, row_width) = (0, 0);
        }
        row_width += if count > 0 { gap + w } else { w };
        count += 1;
    }
    if count > 0 {
        rows.push(count);
    }
    rows
}

/// An RGB8 drawing surface for legends.
struct Canvas {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Canvas {
    /// A `canvas_width`-wide canvas in the strip colour with `rgb` (`width × height`) centred at the
    /// top and `strip_height` rows left below it.
    fn with_image_above(rgb: &[u8], width: usize, height: usize, canvas_width: usize, strip_height: usize) -> Self {
        let canvas_height = height + strip_height;
        let mut canvas = Self {
            width: canvas_width,
            height: canvas_height,
            rgb: STRIP_RGB.repeat(canvas_width * canvas_height),
        };
        let x0 = (canvas_width - width) / 2;
        for y in 0..height {
            let start = (y * canvas_width + x0) * 3;
            canvas.rgb[start..start + width * 3].copy_from_slice(&rgb[y * width * 3..(y + 1) * width * 3]);
        }
        canvas
    }

    fn into_parts(self) -> (Vec<u8>, usize, usize) {
        (self.rgb, self.width, self.height)
    }

    /// Fills a rectangle, clipped to the canvas.
    fn fill_rect(&mut self, x: usize, y: usize, width: usize, height: usize, colour: [u8; 3]) {
        let (x_end, y_end) = ((x + width).min(self.width), (y + height).min(self.height));
        for yy in y.min(y_end)..y_end {
            for xx in x.min(x_end)..x_end {
                let i = (yy * self.width + xx) * 3;
                self.rgb[i..i + 3].copy_from_slice(&colour);
            }
        }
    }

    /// Draws `text` in ink with its top-left at (x, y), each font pixel `scale × scale`.
    fn text(&mut self, x: usize, y: usize, text: &str, scale: usize) {
        for (n, ch) in text.chars().enumerate() {
            let left = x + n * GLYPH_ADVANCE * scale;
            for (row, bits) in glyph(ch).iter().enumerate() {
                for column in 0..GLYPH_COLUMNS {
                    if bits & (1 << (GLYPH_COLUMNS - 1 - column)) != 0 {
                        self.fill_rect(left + column * scale, y + row * scale, scale, scale, INK_RGB);
                    }
                }
            }
        }
    }
}

/// Width in pixels of `text` drawn at `scale` (no trailing space).
fn text_width(text: &str, scale: usize) -> usize {
    (text.chars().count() * GLYPH_ADVANCE).saturating_sub(GLYPH_ADVANCE - GLYPH_COLUMNS) * scale
}

/// Glyph columns; bit 4 of a row is the leftmost.
const GLYPH_COLUMNS: usize = 5;
/// Rows 0..7 hold capitals and digits (baseline below row 6), rows 7..9 descenders.
const GLYPH_ROWS: usize = 9;
/// Horizontal step from one character to the next: the glyph and one blank column.
const GLYPH_ADVANCE: usize = GLYPH_COLUMNS + 1;

/// The glyph for `ch`; characters outside printable ASCII show as '?'.
fn glyph(ch: char) -> &'static [u8; GLYPH_ROWS] {
    let code = if (' '..='~').contains(&ch) { ch } else { '?' };
    &FONT[code as usize - ' ' as usize]
}

/// 5 × 7 bitmap font with descenders for printable ASCII 32..=126, one line per character.
#[rustfmt::skip]
const FONT: [[u8; GLYPH_ROWS]; 95] = [
    [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // space
    [0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04, 0x00, 0x00], // !
    [0x0A, 0x0A, 0x0A, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // "
    [0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A, 0x00, 0x00], // #
    [0x04, 0x0F, 0x14, 0x0E, 0x05, 0x1E, 0x04, 0x00, 0x00], // $
    [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03, 0x00, 0x00], // %
    [0x0C, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0D, 0x00, 0x00], // &
    [0x04, 0x04, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // '
    [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02, 0x00, 0x00], // (
    [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08, 0x00, 0x00], // )
    [0x00, 0x04, 0x15, 0x0E, 0x15, 0x04, 0x00, 0x00, 0x00], // *
    [0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00, 0x00, 0x00], // +
    [0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x06, 0x02, 0x04], // ,
    [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00, 0x00, 0x00], // -
    [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C, 0x00, 0x00], // .
    [0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00, 0x00, 0x00], // /
    [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E, 0x00, 0x00], // 0
    [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E, 0x00, 0x00], // 1
    [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F, 0x00, 0x00], // 2
    [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E, 0x00, 0x00], // 3
    [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02, 0x00, 0x00], // 4
    [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E, 0x00, 0x00], // 5
    [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E, 0x00, 0x00], // 6
    [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08, 0x00, 0x00], // 7
    [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E, 0x00, 0x00], // 8
    [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C, 0x00, 0x00], // 9
    [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00, 0x00, 0x00], // :
    [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x04, 0x08, 0x00], // ;
    [0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02, 0x00, 0x00], // <
    [0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00, 0x00, 0x00], // =
    [0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08, 0x00, 0x00], // >
    [0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04, 0x00, 0x00], // ?
    [0x0E, 0x11, 0x01, 0x0D, 0x15, 0x15, 0x0E, 0x00, 0x00], // @
    [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11, 0x00, 0x00], // A
    [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E, 0x00, 0x00], // B
    [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E, 0x00, 0x00], // C
    [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C, 0x00, 0x00], // D
    [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F, 0x00, 0x00], // E
    [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10, 0x00, 0x00], // F
    [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F, 0x00, 0x00], // G
    [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11, 0x00, 0x00], // H
    [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E, 0x00, 0x00], // I
    [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C, 0x00, 0x00], // J
    [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11, 0x00, 0x00], // K
    [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F, 0x00, 0x00], // L
    [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11, 0x00, 0x00], // M
    [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11, 0x00, 0x00], // N
    [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E, 0x00, 0x00], // O
    [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10, 0x00, 0x00], // P
    [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D, 0x00, 0x00], // Q
    [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11, 0x00, 0x00], // R
    [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E, 0x00, 0x00], // S
    [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x00], // T
    [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E, 0x00, 0x00], // U
    [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04, 0x00, 0x00], // V
    [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A, 0x00, 0x00], // W
    [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11, 0x00, 0x00], // X
    [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x00, 0x00], // Y
    [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F, 0x00, 0x00], // Z
    [0x0E, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0E, 0x00, 0x00], // [
    [0x00, 0x10, 0x08, 0x04, 0x02, 0x01, 0x00, 0x00, 0x00], // \
    [0x0E, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0E, 0x00, 0x00], // ]
    [0x04, 0x0A, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // ^
    [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F, 0x00], // _
    [0x08, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // `
    [0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F, 0x00, 0x00], // a
    [0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E, 0x00, 0x00], // b
    [0x00, 0x00, 0x0E, 0x10, 0x10, 0x11, 0x0E, 0x00, 0x00], // c
    [0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F, 0x00, 0x00], // d
    [0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E, 0x00, 0x00], // e
    [0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08, 0x00, 0x00], // f
    [0x00, 0x00, 0x0F, 0x11, 0x11, 0x11, 0x0F, 0x01, 0x0E], // g
    [0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11, 0x00, 0x00], // h
    [0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E, 0x00, 0x00], // i
    [0x02, 0x00, 0x06, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C], // j
    [0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12, 0x00, 0x00], // k
    [0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E, 0x00, 0x00], // l
    [0x00, 0x00, 0x1A, 0x15, 0x15, 0x15, 0x15, 0x00, 0x00], // m
    [0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11, 0x00, 0x00], // n
    [0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E, 0x00, 0x00], // o
    [0x00, 0x00, 0x1E, 0x11, 0x11, 0x11, 0x1E, 0x10, 0x10], // p
    [0x00, 0x00, 0x0F, 0x11, 0x11, 0x11, 0x0F, 0x01, 0x01], // q
    [0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10, 0x00, 0x00], // r
    [0x00, 0x00, 0x0F, 0x10, 0x0E, 0x01, 0x1E, 0x00, 0x00], // s
    [0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06, 0x00, 0x00], // t
    [0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D, 0x00, 0x00], // u
    [0x00, 0x00, 0x11, 0x11, 0x11, 0x0A, 0x04, 0x00, 0x00], // v
    [0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0A, 0x00, 0x00], // w
    [0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x00, 0x00], // x
    [0x00, 0x00, 0x11, 0x11, 0x11, 0x11, 0x0F, 0x01, 0x0E], // y
    [0x00, 0x00, 0x1F, 0x02, 0x04, 0x08, 0x1F, 0x00, 0x00], // z
    [0x02, 0x04, 0x04, 0x08, 0x04, 0x04, 0x02, 0x00, 0x00], // {
    [0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x00], // |
    [0x08, 0x04, 0x04, 0x02, 0x04, 0x04, 0x08, 0x00, 0x00], // }
    [0x00, 0x00, 0x08, 0x15, 0x02, 0x00, 0x00, 0x00, 0x00], // ~
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative luminance (sRGB, D65) of an 8-bit colour.
    fn luminance(rgb: [u8; 3]) -> f32 {
        let [r, g, b] = linear(rgb);
        0.2126 * r + 0.7152 * g + 0.0722 * b
    }

    fn linear(rgb: [u8; 3]) -> [f32; 3] {
        rgb.map(|c| {
            let c = f32::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        })
    }

    /// OKLab of a linear-RGB colour (Ottosson 2020).
    fn oklab([r, g, b]: [f32; 3]) -> [f32; 3] {
        let l = (0.412_221_46 * r + 0.536_332_55 * g + 0.051_445_995 * b).cbrt();
        let m = (0.211_903_5 * r + 0.680_699_5 * g + 0.107_396_96 * b).cbrt();
        let s = (0.088_302_46 * r + 0.281_718_85 * g + 0.629_978_7 * b).cbrt();
        [
            0.210_454_26 * l + 0.793_617_8 * m - 0.004_072_047 * s,
            1.977_998_5 * l - 2.428_592_2 * m + 0.450_593_7 * s,
            0.025_904_037 * l + 0.782_771_77 * m - 0.808_675_77 * s,
        ]
    }

    #[test]
    fn colormap_is_viridis() {
        // matplotlib's _viridis_data entries 0, 64, 128, 192 and 255, × 255.
        let reference = [
            (0, [68.1, 1.2, 84.0]),
            (64, [58.6, 82.2, 139.2]),
            (128, [33.4, 144.6, 140.3]),
        ];
        for (i, expected) in reference
            .into_iter()
            .chain([(192, [94.1, 201.4, 98.3]), (255, [253.3, 231.1, 36.7])])
        {
            let got = colormap(i as f32 / 255.0);
            for c in 0..3 {
                assert!(
                    (f32::from(got[c]) - expected[c]).abs() <= 2.0,
                    "entry {i}: {got:?} vs {expected:?}"
                );
            }
        }
        assert_eq!(colormap(0.0), [68, 1, 84]);
        assert_eq!(colormap(1.0), [253, 231, 37]);
        assert_eq!(colormap(-3.0), colormap(0.0));
        assert_eq!(colormap(7.0), colormap(1.0));
        assert_eq!(colormap(f32::NAN), colormap(0.0));
    }

    #[test]
    fn colormap_luminance_increases() {
        let lum: Vec<f32> = (0..128).map(|i| luminance(colormap(i as f32 / 127.0))).collect();
        assert!(lum.windows(2).all(|w| w[1] > w[0]), "{lum:?}");
    }

    #[test]
    fn palettes_have_one_distinct_colour_per_class() {
        assert_eq!(EDGE_PALETTE.len(), 6);
        assert_eq!(SEMANTIC_PALETTE.len(), SEMANTIC_NAMES.len());
        for palette in [&EDGE_PALETTE[..], &SEMANTIC_PALETTE[..]] {
            for (i, a) in palette.iter().enumerate() {
                assert!(palette[i + 1..].iter().all(|b| a != b), "{a:?} repeats");
            }
        }
        assert!(!SEMANTIC_PALETTE.contains(&UNKNOWN_SEMANTIC_RGB));
        assert_eq!(semantic_colour(255), UNKNOWN_SEMANTIC_RGB);
        assert_eq!(edge_colour(9), EDGE_PALETTE[5]);
    }

    #[test]
    fn edge_palette_luminance_strictly_increases_from_dark() {
        let lum = EDGE_PALETTE.map(luminance);
        assert!(lum[0] < 0.01, "class 0 must be dark");
        assert!(lum.windows(2).all(|w| w[1] > w[0]), "{lum:?}");
    }

    #[test]
    fn semantic_palette_stays_distinct_for_colour_blind_viewers() {
        // Machado, Oliveira & Fernandes (2009), severity 1, on linear RGB.
        let simulations: [[[f32; 3]; 3]; 4] = [
            [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            [
                [0.152_286, 1.052_583, -0.204_868],
                [0.114_503, 0.786_281, 0.099_216],
                [-0.003_882, -0.048_116, 1.051_998],
            ],
            [
                [0.367_322, 0.860_646, -0.227_968],
                [0.280_085, 0.672_501, 0.047_413],
                [-0.011_820, 0.042_940, 0.968_881],
            ],
            [
                [1.255_528, -0.076_749, -0.178_779],
                [-0.078_411, 0.930_809, 0.147_602],
                [0.004_733, 0.691_367, 0.303_900],
            ],
        ];
        for (k, m) in simulations.iter().enumerate() {
            let seen: Vec<[f32; 3]> = SEMANTIC_PALETTE
                .iter()
                .map(|&c| {
                    let l = linear(c);
                    oklab(std::array::from_fn(|i| {
                        (m[i][0] * l[0] + m[i][1] * l[1] + m[i][2] * l[2]).clamp(0.0, 1.0)
                    }))
                })
                .collect();
            for (i, a) in seen.iter().enumerate() {
                for (j, b) in seen.iter().enumerate().skip(i + 1) {
                    let d = (0..3).map(|c| (a[c] - b[c]).powi(2)).sum::<f32>().sqrt();
                    assert!(d >= 0.2, "simulation {k}: classes {i} and {j} only {d:.3} apart");
                }
            }
        }
    }

    #[test]
    fn layer_colours_follow_the_palettes() {
        let edges = Grid::from_vec(3, 1, vec![0, 5, 2]);
        assert_eq!(
            edges_rgb(&edges),
            [EDGE_PALETTE[0], EDGE_PALETTE[5], EDGE_PALETTE[2]].concat()
        );
        let semantics = Grid::from_vec(2, 1, vec![3, 1]);
        assert_eq!(
            semantics_rgb(&semantics),
            [SEMANTIC_PALETTE[3], SEMANTIC_PALETTE[1]].concat()
        );
        let depth = Grid::from_vec(3, 1, vec![0.0, 0.5, 1.0]);
        assert_eq!(depth_grey_rgb(&depth), [0, 0, 0, 128, 128, 128, 255, 255, 255]);
        assert_eq!(
            depth_colour_rgb(&depth),
            [colormap(0.0), colormap(0.5), colormap(1.0)].concat()
        );
    }

    #[test]
    fn overlay_blends_by_opacity() {
        let photo = [0, 100, 255, 10, 20, 30];
        let layer = [255, 0, 255, 30, 20, 10];
        assert_eq!(overlay_rgb(&photo, &layer, 0.0), photo);
        assert_eq!(overlay_rgb(&photo, &layer, 1.0), layer);
        assert_eq!(overlay_rgb(&photo, &layer, 0.5), [128, 50, 255, 20, 20, 20]);
        assert_eq!(overlay_rgb(&photo, &layer, -1.0), photo);
        assert_eq!(overlay_rgb(&photo, &layer, 2.0), layer);
        assert_eq!(overlay_rgb(&photo, &layer, f32::NAN), photo);
    }

    #[test]
    fn legend_on_a_tiny_image_widens_the_canvas_and_centres_the_image() {
        let image: Vec<u8> = (0..8 * 8 * 3).map(|i| (i % 251) as u8).collect();
        let (rgb, w, h) = with_legend(&image, 8, 8, &semantic_legend());
        assert_eq!(rgb.len(), w * h * 3);
        let widest = SEMANTIC_NAMES.iter().map(|n| text_width(n, 1)).max().unwrap();
        assert!(w >= widest + GLYPH_ROWS && h > 8, "{w} × {h}");
        let x0 = (w - 8) / 2;
        for y in 0..8 {
            let start = (y * w + x0) * 3;
            assert_eq!(rgb[start..start + 24], image[y * 24..(y + 1) * 24], "row {y}");
        }
        assert_eq!(rgb[..3], STRIP_RGB, "left of the image is strip background");
        // Narrow: one entry per row; wide: fewer rows, so a lower strip.
        let wide = vec![0u8; 399 * 8 * 3];
        let (_, wide_w, wide_h) = with_legend(&wide, 399, 8, &semantic_legend());
        assert_eq!(wrap(&[100, 100], 199, 10), [1, 1]);
        assert_eq!(wrap(&[100, 100], 210, 10), [2]);
        assert!(
            wide_w == 399 && wide_h < h,
            "wide {wide_w} × {wide_h}, narrow {w} × {h}"
        );
        assert_eq!(with_legend(&image, 8, 8, &[]), (image.clone(), 8, 8));
    }

    #[test]
    fn colour_bar_runs_low_to_high() {
        let (rgb, w, h) = with_colour_bar(&[], 0, 0, colormap, "low", "high");
        assert_eq!(rgb.len(), w * h * 3);
        let style = LegendStyle::for_width(0);
        let y = style.row_y(0) + GLYPH_ROWS / 2;
        let bar_x = style.margin() + text_width("low", 1) + style.label_gap();
        let bar_end = w - style.margin() - text_width("high", 1) - style.label_gap();
        let pixel = |x: usize| -> [u8; 3] { rgb[(y * w + x) * 3..][..3].try_into().unwrap() };
        assert_eq!(pixel(bar_x), INK_RGB, "border");
        assert_eq!(pixel(bar_x + 1), colormap(0.0));
        assert_eq!(pixel(bar_end - 2), colormap(1.0));
        assert_eq!(pixel(bar_end - 1), INK_RGB, "border");
    }

    #[test]
    fn font_glyphs() {
        let a = [
            ".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#", ".....", ".....",
        ];
        let g = [
            ".....", ".....", ".####", "#...#", "#...#", "#...#", ".####", "....#", ".###.",
        ];
        for (ch, art) in [('A', a), ('g', g)] {
            let rows: Vec<String> = glyph(ch)
                .iter()
                .map(|bits| {
                    (0..5)
                        .map(|c| if bits & (0x10 >> c) != 0 { '#' } else { '.' })
                        .collect()
                })
                .collect();
            assert_eq!(rows, art, "{ch}");
        }
        assert!(glyph(' ').iter().all(|&r| r == 0));
        assert_eq!(glyph('é'), glyph('?'));
        for (i, a) in FONT.iter().enumerate() {
            assert!(a.iter().all(|&r| r < 32), "glyph {i} wider than 5 columns");
            assert!(i == 0 || a.iter().any(|&r| r != 0), "glyph {i} is empty");
            assert!(FONT[i + 1..].iter().all(|b| a != b), "glyph {i} repeats");
        }
        assert_eq!(text_width("ab", 1), 11);
        assert_eq!(text_width("ab", 2), 22);
        assert_eq!(text_width("", 3), 0);
    }
}

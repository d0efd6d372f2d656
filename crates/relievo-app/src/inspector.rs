//! The layers inspector: the photo, the depth (grey or viridis, stretched to its range as the relief maps it), the soft edges (6-class palette
//! with legend) and the semantics (4-class palette with legend), either as a 2 × 2 grid or one
//! layer with another laid over the photo at an adjustable opacity. Every view shares one zoom
//! and pan (wheel zooms about the cursor, drag pans, double-click fits), and the pixel under the
//! cursor is marked in all of them and read out: height in mm, edge class, semantic class.
//! Display images are made on the job threads ([`DisplayImages`]); the UI thread only uploads.

use eframe::egui::{self, Color32, ColorImage, Pos2, Rect, Vec2};

use super::commands::{Command, DialogKind, PickSide, Reshape};
use super::jobs::JobKind;
use super::logic::{self, Readout};
use super::settings::{DepthColours, EditSettings, InspectorLayout, InspectorSettings, LayerKind, SelectTool};
use super::state::{AppView, NoLayers, PickedPairs, ScanComparison};
use crate::edit::{EditLayer, Tool};
use crate::grid::Grid;
use crate::layers::{self, Layers};
use crate::photo::Photo;
use crate::selection::{Profile, Selection, SelectionOp};

/// Largest texture side the inspector uploads (bigger layers are subsampled for display only).
const MAX_DISPLAY_SIDE_PX: usize = 4096;

/// RGBA images ready to upload, made off the UI thread.
#[derive(Default)]
pub struct DisplayImages {
    pub photo: Option<ColorImage>,
    pub depth_grey: Option<ColorImage>,
    pub depth_colour: Option<ColorImage>,
    pub edges: Option<ColorImage>,
    pub semantics: Option<ColorImage>,
}

impl DisplayImages {
    pub fn of_photo(photo: &Photo) -> Self {
        Self {
            photo: Some(rgb_image(&photo.to_rgba8(), photo.width(), photo.height(), 4)),
            ..Self::default()
        }
    }

    /// The depth stretched to its own range (as the relief maps it), in grey and viridis.
    pub fn of_depth(depth: &Grid<f32>) -> Self {
        let (w, h) = (depth.width, depth.height);
        let depth = &depth.stretched();
        Self {
            depth_grey: Some(rgb_image(&layers::depth_grey_rgb(depth), w, h, 3)),
            depth_colour: Some(rgb_image(&layers::depth_colour_rgb(depth), w, h, 3)),
            ..Self::default()
        }
    }

    pub fn of_layers(l: &Layers) -> Self {
        Self {
            edges: Some(rgb_image(
                &layers::edges_rgb(&l.edges),
                l.edges.width,
                l.edges.height,
                3,
            )),
            semantics: Some(rgb_image(
                &layers::semantics_rgb(&l.semantics),
                l.semantics.width,
                l.semantics.height,
                3,
            )),
            ..Self::of_depth(&l.depth)
        }
    }
}

/// An egui image of a row-major buffer with `channels` bytes per pixel (RGB or RGBA), subsampled
/// to at most [`MAX_DISPLAY_SIDE_PX`] per side.
fn rgb_image(bytes: &[u8], width: usize, height: usize, channels: usize) -> ColorImage {
    let step = width.max(height).div_ceil(MAX_DISPLAY_SIDE_PX).max(1);
    let (w, h) = (width.div_ceil(step), height.div_ceil(step));
    let mut rgba = Vec::with_capacity(w * h * 4);
    for y in 0..h {
        for x in 0..w {
            let i = ((y * step) * width + x * step) * channels;
            rgba.extend_from_slice(&[bytes[i], bytes[i + 1], bytes[i + 2], 255]);
        }
    }
    ColorImage::from_rgba_unmultiplied([w, h], &rgba)
}

#[derive(Default)]
struct Textures {
    photo: Option<egui::TextureHandle>,
    depth_grey: Option<egui::TextureHandle>,
    depth_colour: Option<egui::TextureHandle>,
    edges: Option<egui::TextureHandle>,
    semantics: Option<egui::TextureHandle>,
}

/// Runtime state of the inspector.
pub struct InspectorState {
    /// Image pixel at the centre of every view; `None` = centred.
    pub center_px: Option<[f32; 2]>,
    /// Magnification relative to fitting the image in its view.
    pub zoom: f32,
    pending: Option<DisplayImages>,
    textures: Textures,
    uploads: u64,
    /// What is under the cursor (this frame).
    pub hover: Option<Readout>,
    /// Where the brush last dabbed in the stroke under way (depth pixels).
    last_dab_px: Option<[f32; 2]>,
    /// Damage marks (red) and restored pixels (blue) for the edits at a version.
    restoration: Option<(u64, egui::TextureHandle)>,
    /// The lasso being drawn (depth pixels).
    lasso: Vec<[f32; 2]>,
    /// The selection's tint for (document, selection version).
    selection: Option<((u64, u64), egui::TextureHandle)>,
    /// The difference to a scan (its comparison's serial, texture, largest |difference| mm).
    difference: Option<(u64, egui::TextureHandle, f32)>,
    /// The scan's heights in grey, for picking point pairs (its comparison's serial).
    scan: Option<(u64, egui::TextureHandle)>,
}

impl Default for InspectorState {
    fn default() -> Self {
        Self {
            center_px: None,
            zoom: 1.0,
            pending: None,
            textures: Textures::default(),
            uploads: 0,
            hover: None,
            last_dab_px: None,
            restoration: None,
            lasso: Vec::new(),
            selection: None,
            difference: None,
            scan: None,
        }
    }
}

impl InspectorState {
    /// New document: fit, and forget every texture.
    pub fn reset(&mut self) {
        self.center_px = None;
        self.zoom = 1.0;
        self.textures = Textures::default();
        self.pending = None;
        self.hover = None;
    }

    /// The layers changed: forget their textures (the photo stays).
    pub fn invalidate(&mut self) {
        let photo = self.textures.photo.take();
        self.textures = Textures {
            photo,
            ..Textures::default()
        };
    }

    /// Images to upload at the next draw (merged with any not yet uploaded).
    pub fn accept(&mut self, images: DisplayImages) {
        let pending = self.pending.get_or_insert_with(DisplayImages::default);
        let DisplayImages {
            photo,
            depth_grey,
            depth_colour,
            edges,
            semantics,
        } = images;
        for (slot, image) in [
            (&mut pending.photo, photo),
            (&mut pending.depth_grey, depth_grey),
            (&mut pending.depth_colour, depth_colour),
            (&mut pending.edges, edges),
            (&mut pending.semantics, semantics),
        ] {
            if image.is_some() {
                *slot = image;
            }
        }
    }

    fn upload(&mut self, ctx: &egui::Context) {
        let Some(pending) = self.pending.take() else { return };
        self.uploads += 1;
        let n = self.uploads;
        let DisplayImages {
            photo,
            depth_grey,
            depth_colour,
            edges,
            semantics,
        } = pending;
        let linear = egui::TextureOptions::LINEAR;
        let nearest = egui::TextureOptions::NEAREST;
        for (slot, image, name, options) in [
            (&mut self.textures.photo, photo, "photo", linear),
            (&mut self.textures.depth_grey, depth_grey, "depth_grey", linear),
            (&mut self.textures.depth_colour, depth_colour, "depth_colour", linear),
            (&mut self.textures.edges, edges, "edges", nearest),
            (&mut self.textures.semantics, semantics, "semantics", nearest),
        ] {
            if let Some(image) = image {
                *slot = Some(ctx.load_texture(format!("inspector_{name}_{n}"), image, options));
            }
        }
    }

    fn texture(&self, kind: LayerKind, colours: DepthColours) -> Option<&egui::TextureHandle> {
        match kind {
            LayerKind::Photo => self.textures.photo.as_ref(),
            LayerKind::Depth => match colours {
                DepthColours::Grey => self.textures.depth_grey.as_ref(),
                DepthColours::Viridis => self.textures.depth_colour.as_ref(),
            },
            LayerKind::Edges => self.textures.edges.as_ref(),
            LayerKind::Semantics => self.textures.semantics.as_ref(),
        }
    }

    /// How many batches of images have been uploaded (a new depth view is one).
    pub fn uploads(&self) -> u64 {
        self.uploads
    }

    /// Whether the textures of every layer are uploaded (tests wait for this).
    pub fn layers_shown(&self) -> bool {
        self.textures.depth_colour.is_some() && self.textures.edges.is_some() && self.textures.semantics.is_some()
    }
}

/// The shared view transform of one cell: screen points per image pixel, and where the image
/// rectangle lands.
struct View {
    cell: Rect,
    scale: f32,
    center_px: [f32; 2],
}

impl View {
    fn new(cell: Rect, size_px: [usize; 2], zoom: f32, center_px: Option<[f32; 2]>) -> Self {
        let fit = (cell.width() / size_px[0] as f32).min(cell.height() / size_px[1] as f32);
        let center_px = center_px.unwrap_or([size_px[0] as f32 / 2.0, size_px[1] as f32 / 2.0]);
        Self {
            cell,
            scale: fit * zoom,
            center_px,
        }
    }

    fn image_rect(&self, size_px: [usize; 2]) -> Rect {
        let min = self.cell.center() - Vec2::new(self.center_px[0], self.center_px[1]) * self.scale;
        Rect::from_min_size(min, Vec2::new(size_px[0] as f32, size_px[1] as f32) * self.scale)
    }

    fn to_px(&self, pos: Pos2) -> [f32; 2] {
        let d = (pos - self.cell.center()) / self.scale;
        [self.center_px[0] + d.x, self.center_px[1] + d.y]
    }

    fn to_screen(&self, px: [f32; 2]) -> Pos2 {
        self.cell.center() + Vec2::new(px[0] - self.center_px[0], px[1] - self.center_px[1]) * self.scale
    }
}

/// The inspector (central area of the Layers tab): draws `state` with `settings` (its own)
/// over what `app` shows, and returns the commands its widgets ask for.
pub fn inspector_ui(
    state: &mut InspectorState,
    settings: &mut InspectorSettings,
    app: &AppView,
    ui: &mut egui::Ui,
) -> Vec<Command> {
    state.upload(ui.ctx());
    let mut commands = Vec::new();
    toolbar_ui(ui, settings, app.layers().is_some());
    let can_edit = app.doc.is_some_and(|d| d.depth.is_some());
    let edits = app.doc.and_then(|d| d.edits.as_ref());
    let history = (
        edits.is_some_and(EditLayer::can_undo),
        edits.is_some_and(EditLayer::can_redo),
        edits.is_some_and(|e| !e.is_empty()),
    );
    let restoration = RestorationState {
        has_damage: edits.is_some_and(EditLayer::has_damage),
        has_restored: edits.is_some_and(|e| e.counts().restored > 0),
        repairing: app.is_running(JobKind::Repair),
    };
    edit_toolbar_ui(ui, &app.settings.edit, can_edit, history, restoration, &mut commands);
    let selection = app
        .doc
        .as_ref()
        .and_then(|d| d.selection.as_ref().map(|s| (d.id, d.selection_version, s)));
    if can_edit && app.settings.edit.active {
        selection_toolbar_ui(
            ui,
            &app.settings.edit,
            selection.map(|(_, _, s)| s.count()),
            &mut commands,
        );
    }
    // The selection's tint follows its version.
    match selection {
        Some((doc_id, version, s)) => {
            if state.selection.as_ref().map(|(k, _)| *k) != Some((doc_id, version)) {
                let texture = ui
                    .ctx()
                    .load_texture("selection", selection_image(s), egui::TextureOptions::NEAREST);
                state.selection = Some(((doc_id, version), texture));
            }
        }
        None => state.selection = None,
    }
    // The restoration overlay follows the edits' version.
    let show_restoration = app.settings.edit.show_restoration && (restoration.has_damage || restoration.has_restored);
    if let Some(edits) = edits.filter(|_| show_restoration) {
        let current = state.restoration.as_ref().map(|(v, _)| *v);
        if current != Some(edits.version()) {
            let image = restoration_image(edits);
            let texture = ui
                .ctx()
                .load_texture("restoration", image, egui::TextureOptions::NEAREST);
            state.restoration = Some((edits.version(), texture));
        }
    } else {
        state.restoration = None;
    }
    let restoration_alpha = (app.settings.edit.restoration_opacity.clamp(0.0, 1.0) * 255.0).round() as u8;
    // The difference to a scan, drawn over every layer.
    let comparison = app.doc.and_then(|d| d.comparison.as_ref());
    match comparison {
        Some(c) if state.difference.as_ref().map(|d| d.0) != Some(c.serial) => {
            let (image, range) = difference_image(&c.result);
            let texture = ui
                .ctx()
                .load_texture("difference", image, egui::TextureOptions::NEAREST);
            state.difference = Some((c.serial, texture, range));
        }
        Some(_) => {}
        None => state.difference = None,
    }
    // A scan read (aligned or not) can be placed by point pairs.
    let picked = app.doc.map(|d| &d.picked).filter(|p| p.scan.is_some());
    if comparison.is_some() || picked.is_some() {
        ui.horizontal_wrapped(|ui| {
            let name = |p: &std::path::Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if let Some(c) = comparison {
                ui.label(format!("Difference to {} (blue lost, red added):", name(&c.scan)));
                ui.add(egui::Slider::new(&mut settings.difference_opacity, 0.0..=1.0).text("opacity"));
            } else if let Some(scan) = picked.and_then(|p| p.scan.as_ref()) {
                ui.label(format!("{} is not placed yet:", name(&scan.path)));
            }
            let picking = picked.is_some_and(|p| p.active);
            if ui
                .add_enabled(picked.is_some(), egui::Button::selectable(picking, "Pick 3 point pairs"))
                .on_hover_text("Place the scan by hand: click a point on the relief, then the same point on the scan, three times or more")
                .clicked()
            {
                commands.push(Command::SetPointPicking(!picking));
            }
            if ui.button("Clear comparison").clicked() {
                commands.push(Command::ClearComparison);
            }
        });
    }
    if let Some(picked) = picked.filter(|p| p.active) {
        let running = app.is_running(JobKind::Compare);
        pairs_toolbar_ui(ui, settings, comparison, picked, running, &mut commands);
        ui.separator();
        pairs_view_ui(state, settings, app, picked, ui, &mut commands);
        return commands;
    }
    let difference_at = |x: usize, y: usize| {
        comparison
            .map(|c| &c.result.difference_mm)
            .filter(|d| x < d.width && y < d.height)
            .map(|d| d.get(x, y))
            .filter(|v| v.is_finite())
    };
    let difference_alpha = (settings.difference_opacity.clamp(0.0, 1.0) * 255.0).round() as u8;
    ui.separator();

    let Some(doc) = app.doc else {
        empty_ui(ui, &mut commands, app.is_running(JobKind::OpenFile));
        return commands;
    };
    let Some(size_px) = doc.size_px() else { return commands };
    let layers = doc.layers.clone();
    let depth = doc.depth.clone();
    let depth_range = doc.depth_range;
    let has_photo = doc.photo.is_some();
    let missing_reason = if app.is_running(JobKind::Inference) {
        "the network is working…".to_string()
    } else {
        doc.no_layers
            .as_ref()
            .map_or_else(|| "waiting for the network".into(), NoLayers::describe)
    };

    let hover_text = state.hover.as_ref().map(Readout::describe);
    let readout_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
    let area = ui.available_rect_before_wrap();
    let area = Rect::from_min_max(
        area.min,
        Pos2::new(area.max.x, (area.max.y - readout_height).max(area.min.y + 10.0)),
    );
    let cells: Vec<(Rect, LayerKind)> = match settings.layout {
        InspectorLayout::Grid => {
            let half = area.size() / 2.0;
            let gap = 2.0;
            LayerKind::ALL
                .iter()
                .enumerate()
                .map(|(i, &kind)| {
                    let offset = Vec2::new((i % 2) as f32 * half.x, (i / 2) as f32 * half.y);
                    (Rect::from_min_size(area.min + offset, half).shrink(gap), kind)
                })
                .collect()
        }
        InspectorLayout::Single => vec![(area, settings.layer)],
    };
    let response = ui.allocate_rect(area, egui::Sense::click_and_drag());
    let pointer = response.hover_pos();
    let select_tool = app.settings.edit.select.tool;
    let selecting = app.settings.edit.active && depth.is_some() && select_tool != SelectTool::Off;
    let painting = app.settings.edit.active && depth.is_some() && !selecting;
    let brush = app.settings.edit.brush;

    // Interaction, in whichever cell the pointer is.
    if let Some((cell, _)) = pointer.and_then(|p| cells.iter().find(|(r, _)| r.contains(p))) {
        let view = View::new(*cell, size_px, state.zoom, state.center_px);
        let pos = pointer.unwrap_or(cell.center());
        let primary = response.dragged_by(egui::PointerButton::Primary) || response.clicked();
        if selecting && select_tool == SelectTool::Lasso && response.dragged_by(egui::PointerButton::Primary) {
            let p = view.to_px(pos);
            if state
                .lasso
                .last()
                .is_none_or(|q| (p[0] - q[0]).hypot(p[1] - q[1]) >= 1.0)
            {
                state.lasso.push(p);
            }
        } else if selecting && select_tool != SelectTool::Lasso && response.clicked() {
            let [x, y] = view.to_px(pos);
            if x >= 0.0 && y >= 0.0 && (x as usize) < size_px[0] && (y as usize) < size_px[1] {
                commands.push(Command::SelectMagic([x as usize, y as usize]));
            }
        } else if painting && primary {
            // Pixel centres sit at integers for the edit layer.
            let [x, y] = view.to_px(pos);
            let at = [x - 0.5, y - 0.5];
            let dabs = logic::dabs_towards(state.last_dab_px, at, brush.radius_px);
            commands.extend(dabs.into_iter().map(Command::EditDab));
            state.last_dab_px = Some(at);
        } else if response.dragged() {
            let d = response.drag_delta() / view.scale;
            state.center_px = Some([view.center_px[0] - d.x, view.center_px[1] - d.y]);
        }
        let (scroll, pinch) = ui.input(|i| (i.smooth_scroll_delta.y, i.zoom_delta()));
        let factor = (scroll * 0.002).exp() * pinch;
        if (factor - 1.0).abs() > 1e-4 {
            let under = view.to_px(pos);
            let zoom = (state.zoom * factor).clamp(0.1, 200.0);
            let scale = view.scale * zoom / state.zoom;
            let d = (pos - cell.center()) / scale;
            state.zoom = zoom;
            state.center_px = Some([under[0] - d.x, under[1] - d.y]);
        }
        if response.double_clicked() && !painting {
            state.zoom = 1.0;
            state.center_px = None;
        }
    }
    if !state.lasso.is_empty() && !response.dragged() {
        let lasso = std::mem::take(&mut state.lasso);
        if lasso.len() >= 3 {
            commands.push(Command::SelectPolygon(lasso));
        }
    }
    if state.last_dab_px.is_some() && (response.drag_stopped() || response.clicked() || !response.dragged()) {
        state.last_dab_px = None;
        commands.push(Command::EndStroke);
    }

    let painter = ui.painter_at(area);
    let mut hovered_px = None;
    for (cell, kind) in &cells {
        let view = View::new(*cell, size_px, state.zoom, state.center_px);
        let painter = painter.with_clip_rect(*cell);
        painter.rect_filled(*cell, 2.0, ui.visuals().extreme_bg_color);
        let image_rect = view.image_rect(size_px);
        let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
        let single_overlay = settings.layout == InspectorLayout::Single && settings.overlay;
        let base = if single_overlay { LayerKind::Photo } else { *kind };
        match state.texture(base, settings.depth_colours) {
            Some(texture) => {
                painter.image(texture.id(), image_rect, uv, Color32::WHITE);
            }
            None => {
                let text = match base {
                    LayerKind::Photo if !has_photo => "No photo: a depth map was opened.".to_string(),
                    LayerKind::Photo => "Loading…".to_string(),
                    _ => format!("No {}: {missing_reason}.", base.label().to_lowercase()),
                };
                let galley = painter.layout(
                    text,
                    egui::FontId::proportional(13.0),
                    ui.visuals().weak_text_color(),
                    (cell.width() - 24.0).max(40.0),
                );
                let pos = cell.center() - galley.size() / 2.0;
                painter.galley(pos, galley, ui.visuals().weak_text_color());
            }
        }
        if single_overlay && let Some(texture) = state.texture(settings.overlay_layer, settings.depth_colours) {
            let alpha = (settings.overlay_opacity.clamp(0.0, 1.0) * 255.0).round() as u8;
            painter.image(texture.id(), image_rect, uv, Color32::from_white_alpha(alpha));
        }
        if let Some((_, texture)) = &state.selection {
            painter.image(texture.id(), image_rect, uv, Color32::WHITE);
        }
        if state.lasso.len() >= 2 {
            let points: Vec<Pos2> = state.lasso.iter().map(|&p| view.to_screen(p)).collect();
            painter.add(egui::Shape::closed_line(
                points,
                egui::Stroke::new(1.5, Color32::from_rgb(255, 210, 60)),
            ));
        }
        if let Some((_, texture)) = &state.restoration {
            painter.image(
                texture.id(),
                image_rect,
                uv,
                Color32::from_white_alpha(restoration_alpha),
            );
        }
        if let Some((_, texture, range)) = &state.difference
            && difference_alpha > 0
        {
            painter.image(
                texture.id(),
                image_rect,
                uv,
                Color32::from_white_alpha(difference_alpha),
            );
            difference_legend_ui(&painter, *cell, *range);
        }
        let shown = if single_overlay { settings.overlay_layer } else { *kind };
        if state.texture(shown, settings.depth_colours).is_some() {
            legend_ui(&painter, *cell, shown, settings.depth_colours);
        }
        let title = if single_overlay {
            format!("{} over photo", shown.label())
        } else {
            kind.label().to_string()
        };
        let galley_pos = cell.left_top() + Vec2::new(6.0, 4.0);
        let title_rect = painter.text(
            galley_pos,
            egui::Align2::LEFT_TOP,
            &title,
            egui::FontId::proportional(13.0),
            Color32::WHITE,
        );
        painter.rect_filled(title_rect.expand(3.0), 3.0, Color32::from_black_alpha(140));
        painter.text(
            galley_pos,
            egui::Align2::LEFT_TOP,
            &title,
            egui::FontId::proportional(13.0),
            Color32::WHITE,
        );
        if let Some(p) = pointer.filter(|p| cell.contains(*p)) {
            hovered_px = Some(view.to_px(p));
        }
    }
    // The pixel under the cursor, marked in every view.
    state.hover = hovered_px.and_then(|[x, y]| {
        logic::readout(
            depth.as_deref(),
            depth_range,
            layers.as_deref(),
            &app.settings.relief,
            x,
            y,
            size_px,
        )
    });
    if let Some(r) = &state.hover {
        let px = [r.x_px as f32 + 0.5, r.y_px as f32 + 0.5];
        for (cell, _) in &cells {
            let view = View::new(*cell, size_px, state.zoom, state.center_px);
            let p = view.to_screen(px);
            let painter = painter.with_clip_rect(*cell);
            let stroke = egui::Stroke::new(1.0, Color32::from_rgb(255, 80, 80));
            painter.line_segment([p - Vec2::new(8.0, 0.0), p + Vec2::new(8.0, 0.0)], stroke);
            painter.line_segment([p - Vec2::new(0.0, 8.0), p + Vec2::new(0.0, 8.0)], stroke);
        }
    }
    // The brush's reach, in every view.
    if painting && let Some(p) = pointer.filter(|p| area.contains(*p)) {
        if let Some((cell, _)) = cells.iter().find(|(r, _)| r.contains(p)) {
            let here = View::new(*cell, size_px, state.zoom, state.center_px).to_px(p);
            for (cell, _) in &cells {
                let view = View::new(*cell, size_px, state.zoom, state.center_px);
                let centre = view.to_screen(here);
                let outline = egui::Stroke::new(1.5, Color32::from_rgb(255, 210, 60));
                painter
                    .with_clip_rect(*cell)
                    .circle_stroke(centre, brush.radius_px * view.scale, outline);
            }
        }
    }
    let readout_rect = Rect::from_min_max(
        Pos2::new(area.min.x, area.max.y),
        Pos2::new(area.max.x, area.max.y + readout_height),
    );
    let text = state
        .hover
        .as_ref()
        .map(|r| match difference_at(r.x_px, r.y_px) {
            Some(d) => format!("{} · scan − relief {d:+.3} mm", r.describe()),
            None => r.describe(),
        })
        .or(hover_text)
        .unwrap_or_else(|| {
            format!(
                "{} × {} px · drag to pan, wheel to zoom, double-click to fit",
                size_px[0], size_px[1]
            )
        });
    ui.painter().text(
        readout_rect.left_center() + Vec2::new(4.0, 0.0),
        egui::Align2::LEFT_CENTER,
        text,
        egui::FontId::monospace(12.0),
        ui.visuals().text_color(),
    );
    ui.advance_cursor_after_rect(readout_rect);
    commands
}

fn toolbar_ui(ui: &mut egui::Ui, settings: &mut InspectorSettings, has_layers: bool) {
    ui.horizontal_wrapped(|ui| {
        ui.selectable_value(&mut settings.layout, InspectorLayout::Grid, "All layers");
        ui.selectable_value(&mut settings.layout, InspectorLayout::Single, "One layer");
        ui.separator();
        if settings.layout == InspectorLayout::Single {
            if settings.overlay {
                ui.label("Overlay");
                egui::ComboBox::from_id_salt("overlay_layer")
                    .selected_text(settings.overlay_layer.label())
                    .show_ui(ui, |ui| {
                        for kind in &LayerKind::ALL[1..] {
                            ui.selectable_value(&mut settings.overlay_layer, *kind, kind.label());
                        }
                    });
                ui.add(egui::Slider::new(&mut settings.overlay_opacity, 0.0..=1.0).text("opacity"));
            } else {
                for kind in LayerKind::ALL {
                    ui.selectable_value(&mut settings.layer, kind, kind.label());
                }
            }
            ui.add_enabled(has_layers, egui::Checkbox::new(&mut settings.overlay, "over photo"));
            ui.separator();
        }
        ui.label("Depth:");
        ui.selectable_value(&mut settings.depth_colours, DepthColours::Viridis, "colour");
        ui.selectable_value(&mut settings.depth_colours, DepthColours::Grey, "grey");
    });
}

/// The signed difference in its diverging map ([`logic::difference_rgba`]) as an image,
/// and the largest |difference| (mm).
pub(crate) fn difference_image(c: &crate::compare::Comparison) -> (ColorImage, f32) {
    let d = &c.difference_mm;
    let (rgba, range) = logic::difference_rgba(d, c.stats.tolerance_mm);
    let pixels = rgba
        .iter()
        .map(|&[r, g, b, a]| Color32::from_rgba_unmultiplied(r, g, b, a))
        .collect();
    (ColorImage::new([d.width, d.height], pixels), range)
}

/// Point-pair picking: how many pairs, refine or not, Apply, Reset, and the residual of
/// the placement shown.
fn pairs_toolbar_ui(
    ui: &mut egui::Ui,
    settings: &mut InspectorSettings,
    comparison: Option<&ScanComparison>,
    picked: &PickedPairs,
    running: bool,
    commands: &mut Vec<Command>,
) {
    ui.horizontal_wrapped(|ui| {
        let complete = picked.complete().len();
        let next = match picked.pairs.last() {
            Some([Some(_), None]) => "now the same point on the scan (right)",
            Some([None, Some(_)]) => "now the same point on the relief (left)",
            _ => "click a point on the relief (left), then the same point on the scan (right)",
        };
        ui.label(format!("{complete} point pairs: {next}."));
        ui.checkbox(&mut settings.refine_points, "refine by the heights")
            .on_hover_text("Picked points are a pixel or two off: let the heights refine the placement the pairs give");
        if ui
            .add_enabled(complete >= 3 && !running, egui::Button::new("Apply"))
            .on_disabled_hover_text("At least 3 complete pairs")
            .clicked()
        {
            commands.push(Command::ApplyPoints {
                refine: settings.refine_points,
            });
        }
        if ui
            .add_enabled(!picked.pairs.is_empty(), egui::Button::new("Reset"))
            .clicked()
        {
            commands.push(Command::ResetPoints);
        }
        if let Some(c) = comparison
            && let Some(p) = &c.result.alignment.points
        {
            ui.label(format!(
                "Placed by {} pairs: residual {:.2} px{}, heights ±{:.3} mm",
                p.pairs,
                p.residual_px,
                if p.refined {
                    format!(" (pairs alone {:.2} px)", p.fit_residual_px)
                } else {
                    String::new()
                },
                c.result.alignment.residual_mm
            ));
        }
    });
}

/// The relief (left) and the scan (right) side by side for picking point pairs: a click
/// places a point (as a command), numbered markers show the pairs, both views zoom and pan
/// together (the scan's view follows the relief's by the ratio of their sizes).
fn pairs_view_ui(
    state: &mut InspectorState,
    settings: &InspectorSettings,
    app: &AppView,
    picked: &PickedPairs,
    ui: &mut egui::Ui,
    commands: &mut Vec<Command>,
) {
    let (Some(size_relief), Some(scan)) = (app.doc.and_then(|d| d.size_px()), picked.scan.as_ref()) else {
        return;
    };
    if state.scan.as_ref().map(|s| s.0) != Some(scan.serial) {
        let texture = ui
            .ctx()
            .load_texture("scan", scan_image(&scan.heights), egui::TextureOptions::LINEAR);
        state.scan = Some((scan.serial, texture));
    }
    let size_scan = [scan.heights.width, scan.heights.height];
    // Scan pixels per relief pixel, along x and y.
    let ratio = [0, 1].map(|i| size_scan[i] as f32 / size_relief[i] as f32);
    let area = ui.available_rect_before_wrap();
    let half = Vec2::new(area.width() / 2.0, area.height());
    let cells = [
        (Rect::from_min_size(area.min, half).shrink(2.0), PickSide::Relief),
        (
            Rect::from_min_size(area.min + Vec2::new(half.x, 0.0), half).shrink(2.0),
            PickSide::Scan,
        ),
    ];
    let (zoom, center_px) = (state.zoom, state.center_px);
    let view = |cell: Rect, side: PickSide| match side {
        PickSide::Relief => View::new(cell, size_relief, zoom, center_px),
        PickSide::Scan => View::new(
            cell,
            size_scan,
            zoom,
            center_px.map(|p| [p[0] * ratio[0], p[1] * ratio[1]]),
        ),
    };
    // A point of `side`'s image in relief pixels.
    let to_relief = |side: PickSide, p: [f32; 2]| match side {
        PickSide::Relief => p,
        PickSide::Scan => [p[0] / ratio[0], p[1] / ratio[1]],
    };
    let response = ui.allocate_rect(area, egui::Sense::click_and_drag());
    if let Some(pos) = response.hover_pos()
        && let Some(&(cell, side)) = cells.iter().find(|(r, _)| r.contains(pos))
    {
        let v = view(cell, side);
        let size = if side == PickSide::Relief {
            size_relief
        } else {
            size_scan
        };
        if response.clicked() {
            // Pixel centres sit at integers for the comparison.
            let [x, y] = v.to_px(pos);
            if (0.0..size[0] as f32).contains(&x) && (0.0..size[1] as f32).contains(&y) {
                commands.push(Command::PickPoint {
                    side,
                    px: [x - 0.5, y - 0.5],
                });
            }
        } else if response.dragged() {
            let d = response.drag_delta() / v.scale;
            let d = to_relief(side, [d.x, d.y]);
            let centre = to_relief(side, v.center_px);
            state.center_px = Some([centre[0] - d[0], centre[1] - d[1]]);
        }
        let (scroll, pinch) = ui.input(|i| (i.smooth_scroll_delta.y, i.zoom_delta()));
        let factor = (scroll * 0.002).exp() * pinch;
        if (factor - 1.0).abs() > 1e-4 {
            let under = to_relief(side, v.to_px(pos));
            let zoom = (state.zoom * factor).clamp(0.1, 200.0);
            let d = (pos - cell.center()) / (v.scale * zoom / state.zoom);
            let d = to_relief(side, [d.x, d.y]);
            state.zoom = zoom;
            state.center_px = Some([under[0] - d[0], under[1] - d[1]]);
        }
        if response.double_clicked() {
            state.zoom = 1.0;
            state.center_px = None;
        }
    }
    let painter = ui.painter_at(area);
    let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
    let relief_texture = state
        .texture(LayerKind::Depth, settings.depth_colours)
        .or_else(|| state.texture(LayerKind::Photo, settings.depth_colours));
    for (cell, side) in cells {
        let v = view(cell, side);
        let painter = painter.with_clip_rect(cell);
        painter.rect_filled(cell, 2.0, ui.visuals().extreme_bg_color);
        let (texture, size, title) = match side {
            PickSide::Relief => (relief_texture, size_relief, "Relief: click a point"),
            PickSide::Scan => (state.scan.as_ref().map(|s| &s.1), size_scan, "Scan: the same point"),
        };
        if let Some(texture) = texture {
            painter.image(texture.id(), v.image_rect(size), uv, Color32::WHITE);
        }
        let k = if side == PickSide::Relief { 0 } else { 1 };
        for (i, pair) in picked.pairs.iter().enumerate() {
            let Some(p) = pair[k] else { continue };
            let at = v.to_screen([p[0] + 0.5, p[1] + 0.5]);
            let colour = if pair.iter().all(Option::is_some) {
                Color32::from_rgb(255, 210, 60)
            } else {
                Color32::from_rgb(255, 120, 40)
            };
            painter.circle_stroke(at, 6.0, egui::Stroke::new(2.0, colour));
            painter.line_segment([at - Vec2::X * 3.0, at + Vec2::X * 3.0], egui::Stroke::new(1.0, colour));
            painter.line_segment([at - Vec2::Y * 3.0, at + Vec2::Y * 3.0], egui::Stroke::new(1.0, colour));
            painter.text(
                at + Vec2::new(8.0, -8.0),
                egui::Align2::LEFT_BOTTOM,
                format!("{}", i + 1),
                egui::FontId::proportional(14.0),
                colour,
            );
        }
        let title_pos = cell.left_top() + Vec2::new(6.0, 4.0);
        let galley = painter.layout_no_wrap(title.to_string(), egui::FontId::proportional(13.0), Color32::WHITE);
        painter.rect_filled(
            Rect::from_min_size(title_pos, galley.size()).expand(3.0),
            3.0,
            Color32::from_black_alpha(140),
        );
        painter.galley(title_pos, galley, Color32::WHITE);
    }
}

/// A scan's heights in grey, stretched to their range; transparent where it has no data.
fn scan_image(heights: &Grid<f32>) -> ColorImage {
    let (lo, hi) = heights
        .data
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let span = (hi - lo).max(1e-12);
    let pixels = heights
        .data
        .iter()
        .map(|&v| {
            if v.is_finite() {
                Color32::from_gray((40.0 + 215.0 * (v - lo) / span) as u8)
            } else {
                Color32::TRANSPARENT
            }
        })
        .collect();
    ColorImage::new([heights.width, heights.height], pixels)
}

/// The difference's colour bar, bottom right of a cell (the layers view and the 3D view).
pub(crate) fn difference_legend_ui(painter: &egui::Painter, cell: Rect, range: f32) {
    let font = egui::FontId::proportional(11.0);
    let text = format!("−{range:.2} mm  lost · added  +{range:.2} mm");
    let galley = painter.layout_no_wrap(text, font, Color32::WHITE);
    let pos = Pos2::new(
        cell.right() - galley.size().x - 10.0,
        cell.bottom() - galley.size().y - 8.0,
    );
    painter.rect_filled(
        Rect::from_min_size(pos, galley.size()).expand(4.0),
        3.0,
        Color32::from_black_alpha(160),
    );
    painter.galley(pos, galley, Color32::WHITE);
}

#[derive(Clone, Copy)]
struct RestorationState {
    has_damage: bool,
    has_restored: bool,
    repairing: bool,
}

/// The selection as a translucent amber tint, stronger at its outline.
fn selection_image(s: &Selection) -> ColorImage {
    let inside = s.mask().map(|v| v >= 0.5);
    let (w, h) = (s.mask().width, s.mask().height);
    let pixels = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .map(|(x, y)| {
            let k = s.mask().get(x, y).clamp(0.0, 1.0);
            let edge = inside.get(x, y)
                && [(-1, 0), (1, 0), (0, -1), (0, 1)].iter().any(|&(dx, dy)| {
                    let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                    nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 || !inside.get(nx as usize, ny as usize)
                });
            let alpha = if edge { 230.0 } else { 70.0 * k };
            Color32::from_rgba_unmultiplied(255, 200, 40, alpha as u8)
        })
        .collect();
    ColorImage::new([w, h], pixels)
}

/// The selection tools and, with a selection, its outline changes and the operations.
fn selection_toolbar_ui(
    ui: &mut egui::Ui,
    current: &EditSettings,
    selected: Option<usize>,
    commands: &mut Vec<Command>,
) {
    let mut edit = current.clone();
    let s = &mut edit.select;
    ui.horizontal_wrapped(|ui| {
        ui.label("Select:");
        for tool in SelectTool::ALL {
            ui.selectable_value(&mut s.tool, tool, tool.label());
        }
        match selected {
            Some(n) => {
                ui.separator();
                ui.label(format!("{n} px selected"));
                ui.add(egui::DragValue::new(&mut s.reshape_px).range(0.5..=200.0).suffix(" px"));
                for (label, reshape) in [
                    ("Grow", Reshape::Grow(s.reshape_px)),
                    ("Shrink", Reshape::Shrink(s.reshape_px)),
                    ("Feather", Reshape::Feather(s.reshape_px)),
                ] {
                    if ui.button(label).clicked() {
                        commands.push(Command::ReshapeSelection(reshape));
                    }
                }
                if ui.button("Deselect").clicked() {
                    commands.push(Command::Deselect);
                }
            }
            None if s.tool == SelectTool::Lasso => {
                ui.weak("drag around a region");
            }
            None if s.tool != SelectTool::Off => {
                ui.weak("click a region");
            }
            None => {}
        }
    });
    if selected.is_some() {
        ui.horizontal_wrapped(|ui| {
            let mut op = |ui: &mut egui::Ui, label: &str, op: SelectionOp| {
                if ui.button(label).clicked() {
                    commands.push(Command::ApplyToSelection(op));
                }
            };
            op(ui, "Raise by", SelectionOp::Offset { mm: s.offset_mm });
            ui.add(
                egui::DragValue::new(&mut s.offset_mm)
                    .speed(0.01)
                    .range(-20.0..=20.0)
                    .suffix(" mm"),
            );
            op(ui, "Scale heights ×", SelectionOp::ScaleHeight { factor: s.scale });
            ui.add(egui::DragValue::new(&mut s.scale).speed(0.01).range(0.0..=10.0));
            op(ui, "Flatten", SelectionOp::Flatten);
            op(ui, "Smooth", SelectionOp::Smooth { radius_px: s.smooth_px });
            ui.add(egui::DragValue::new(&mut s.smooth_px).range(1.0..=200.0).suffix(" px"));
            op(
                ui,
                "Inflate",
                SelectionOp::Inflate {
                    height_mm: s.inflate_mm,
                    width_px: s.inflate_width_px,
                    profile: s.profile,
                },
            );
            ui.add(
                egui::DragValue::new(&mut s.inflate_mm)
                    .speed(0.01)
                    .range(-20.0..=20.0)
                    .suffix(" mm"),
            );
            ui.add(
                egui::DragValue::new(&mut s.inflate_width_px)
                    .range(1.0..=500.0)
                    .prefix("over ")
                    .suffix(" px"),
            );
            egui::ComboBox::from_id_salt("inflate profile")
                .selected_text(s.profile.label())
                .show_ui(ui, |ui| {
                    for p in Profile::ALL {
                        ui.selectable_value(&mut s.profile, p, p.label());
                    }
                });
            op(ui, "Clear edits", SelectionOp::Clear);
        });
    }
    if edit != *current {
        commands.push(Command::SetEdit(edit));
    }
}

/// Damage marks in red and restored pixels in blue, transparent elsewhere.
fn restoration_image(edits: &EditLayer) -> ColorImage {
    let (damage, restored) = (edits.damage(), edits.restored());
    let pixels = damage
        .data
        .iter()
        .zip(&restored.data)
        .map(|(&d, &r)| {
            if d > 0.0 {
                Color32::from_rgb(230, 40, 40)
            } else if r > 0.0 {
                Color32::from_rgb(40, 170, 255)
            } else {
                Color32::TRANSPARENT
            }
        })
        .collect();
    ColorImage::new([damage.width, damage.height], pixels)
}

/// The brush: on/off, tool, size, strength, hardness; undo, redo, clear; repair of the
/// marked damage and how the restoration is shown.
fn edit_toolbar_ui(
    ui: &mut egui::Ui,
    current: &EditSettings,
    can_edit: bool,
    (can_undo, can_redo, has_edits): (bool, bool, bool),
    restoration: RestorationState,
    commands: &mut Vec<Command>,
) {
    let mut edit = current.clone();
    ui.horizontal_wrapped(|ui| {
        ui.add_enabled(can_edit, egui::Checkbox::new(&mut edit.active, "Edit relief"))
            .on_hover_text("Drag on the layers to paint height changes (mm) over the prediction; right-drag pans.");
        if edit.active && can_edit {
            for tool in Tool::ALL {
                ui.selectable_value(&mut edit.brush.tool, tool, tool.label());
            }
        }
        if can_undo && ui.button("Undo").on_hover_text("Ctrl+Z").clicked() {
            commands.push(Command::Undo);
        }
        if can_redo && ui.button("Redo").on_hover_text("Ctrl+Shift+Z").clicked() {
            commands.push(Command::Redo);
        }
        if has_edits && ui.button("Clear edits").clicked() {
            commands.push(Command::ClearEdits);
        }
    });
    if restoration.has_damage || restoration.has_restored {
        ui.horizontal_wrapped(|ui| {
            if restoration.has_damage {
                let repair = ui
                    .add_enabled(!restoration.repairing, egui::Button::new("Repair damage"))
                    .on_hover_text("Fill the pixels marked in red from the relief around them.");
                if repair.clicked() {
                    commands.push(Command::RepairDamage);
                }
                ui.checkbox(&mut edit.repair_guided, "follow the prediction inside")
                    .on_hover_text("Off: heights and slopes continue smoothly across the hole. On: the network's relief fills it, bridged to the edges.");
            }
            ui.checkbox(&mut edit.show_restoration, "show damage and restoration");
            if edit.show_restoration {
                ui.add(egui::Slider::new(&mut edit.restoration_opacity, 0.0..=1.0).text("opacity"));
            }
        });
    }
    if edit.active && can_edit {
        ui.horizontal_wrapped(|ui| {
            let b = &mut edit.brush;
            ui.add(
                egui::Slider::new(&mut b.radius_px, 1.0..=400.0)
                    .logarithmic(true)
                    .text("radius px"),
            );
            if b.tool.strength_in_mm() {
                b.strength = b.strength.clamp(0.001, 2.0);
                ui.add(
                    egui::Slider::new(&mut b.strength, 0.001..=2.0)
                        .logarithmic(true)
                        .text("mm per dab"),
                );
            } else {
                b.strength = b.strength.clamp(0.0, 1.0);
                ui.add(egui::Slider::new(&mut b.strength, 0.0..=1.0).text("strength"));
            }
            ui.add(egui::Slider::new(&mut b.hardness, 0.0..=1.0).text("hardness"));
        });
    }
    if edit != *current {
        commands.push(Command::SetEdit(edit));
    }
}

fn empty_ui(ui: &mut egui::Ui, commands: &mut Vec<Command>, opening: bool) {
    ui.vertical_centered(|ui| {
        ui.add_space(ui.available_height() * 0.3);
        if opening {
            ui.spinner();
            ui.label("Opening…");
            return;
        }
        ui.heading("Open a photo of a carved relief");
        ui.label("File › Open photo…, or drop an image on this window (PNG, JPEG, TIFF, WebP, BMP).");
        ui.add_space(8.0);
        if ui.button("Open photo…").clicked() {
            commands.push(Command::ShowDialog(DialogKind::OpenPhoto));
        }
        if ui.button("Open depth map…").clicked() {
            commands.push(Command::ShowDialog(DialogKind::OpenDepth));
        }
    });
}

/// Legend of a layer, bottom-left of its cell.
fn legend_ui(painter: &egui::Painter, cell: Rect, kind: LayerKind, colours: DepthColours) {
    let entries: Vec<([u8; 3], String)> = match kind {
        LayerKind::Photo => return,
        LayerKind::Depth => {
            // A colour bar, low → high.
            let (w, h) = (120.0, 10.0);
            let origin = Pos2::new(cell.left() + 8.0, cell.bottom() - 26.0);
            let background = Rect::from_min_size(origin - Vec2::new(4.0, 4.0), Vec2::new(w + 70.0, h + 8.0));
            painter.rect_filled(background, 3.0, Color32::from_black_alpha(150));
            let font = egui::FontId::proportional(11.0);
            let label_end = painter.text(
                origin + Vec2::new(0.0, h / 2.0),
                egui::Align2::LEFT_CENTER,
                "low",
                font.clone(),
                Color32::WHITE,
            );
            let x0 = label_end.right() + 4.0;
            let steps = 32;
            for i in 0..steps {
                let t = i as f32 / (steps - 1) as f32;
                let [r, g, b] = match colours {
                    DepthColours::Viridis => layers::colormap(t),
                    DepthColours::Grey => [(t * 255.0) as u8; 3],
                };
                let x = x0 + w * i as f32 / steps as f32;
                painter.rect_filled(
                    Rect::from_min_size(Pos2::new(x, origin.y), Vec2::new(w / steps as f32 + 0.5, h)),
                    0.0,
                    Color32::from_rgb(r, g, b),
                );
            }
            painter.text(
                Pos2::new(x0 + w + 4.0, origin.y + h / 2.0),
                egui::Align2::LEFT_CENTER,
                "high",
                font,
                Color32::WHITE,
            );
            return;
        }
        LayerKind::Edges => layers::edge_legend()
            .into_iter()
            .map(|(c, l)| (c, format!("class {l}")))
            .collect(),
        LayerKind::Semantics => layers::semantic_legend(),
    };
    let font = egui::FontId::proportional(11.0);
    let line = 14.0;
    let height = entries.len() as f32 * line + 6.0;
    let origin = Pos2::new(cell.left() + 8.0, cell.bottom() - height - 6.0);
    let width = 8.0 + 14.0 + entries.iter().map(|(_, l)| l.len()).max().unwrap_or(0) as f32 * 6.5;
    painter.rect_filled(
        Rect::from_min_size(origin - Vec2::new(4.0, 3.0), Vec2::new(width, height)),
        3.0,
        Color32::from_black_alpha(150),
    );
    for (i, ([r, g, b], label)) in entries.iter().enumerate() {
        let y = origin.y + i as f32 * line;
        let swatch = Rect::from_min_size(Pos2::new(origin.x, y + 1.0), Vec2::new(10.0, 10.0));
        painter.rect_filled(swatch, 1.0, Color32::from_rgb(*r, *g, *b));
        painter.rect_stroke(
            swatch,
            1.0,
            egui::Stroke::new(1.0, Color32::GRAY),
            egui::StrokeKind::Outside,
        );
        painter.text(
            Pos2::new(origin.x + 14.0, y + 6.0),
            egui::Align2::LEFT_CENTER,
            label,
            font.clone(),
            Color32::WHITE,
        );
    }
}

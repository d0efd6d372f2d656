//! The 3D view: the relief drawn by `render` (off-screen, on the shared wgpu device) with
//! slicer-style controls — left-drag orbits, right- or middle-drag pans, the wheel zooms,
//! double-click fits — plus axes, a millimetre scale along two edges, the raking-light controls
//! (azimuth, elevation, "match photo"), the shading modes, and — when the relief has been
//! compared with a scan — "Colour by difference": the layers view's difference colours on the
//! relief's top, with the same legend. Size, relief, base, invert and
//! mirror only change uniforms, so they show in the next frame — first as a fast image, then,
//! one frame later, as the final one — and the view is redrawn only when something changed.

use std::time::Instant;

use eframe::egui::{self, Color32, Pos2, Rect, Vec2};

use super::RelievoApp;
use super::camera::{OrbitCamera, nice_step};
use super::commands::Command;
use super::jobs::JobKind;
use super::logic::{self, light_direction};
use super::render::{self, FrameInputs, Shading, SurfaceColours};
use super::settings::SelectTool;

/// The relief's bounding box in mm (width, depth, height), when there is a depth map.
fn scene_size_mm(app: &RelievoApp) -> Option<[f32; 3]> {
    let depth = app.doc.as_ref()?.depth.as_ref()?;
    let p = &app.settings.relief;
    let [w, h] = logic::footprint_mm(p, depth.width, depth.height);
    Some([w, h, p.base_mm + p.relief_mm])
}

fn radius(size: [f32; 3]) -> f32 {
    0.5 * (size[0] * size[0] + size[1] * size[1] + size[2] * size[2]).sqrt()
}

/// Pixels of a `size_px` view the relief's top covers (the whole view if a corner is behind the eye).
fn covered_pixels(camera: &OrbitCamera, size: [f32; 3], size_px: [u32; 2]) -> f32 {
    let (w, h) = (size_px[0] as f32, size_px[1] as f32);
    let aspect = w / h.max(1.0);
    let z = size[2] * 0.75;
    let corners = [
        [0.0, 0.0, z],
        [size[0], 0.0, z],
        [size[0], size[1], z],
        [0.0, size[1], z],
    ];
    let projected: Option<Vec<[f32; 2]>> = corners
        .iter()
        .map(|&c| camera.project(aspect, radius(size), c).map(|[x, y]| [x * w, y * h]))
        .collect();
    let Some(p) = projected else { return w * h };
    let twice_area: f32 = (0..4)
        .map(|i| p[i][0] * p[(i + 1) % 4][1] - p[(i + 1) % 4][0] * p[i][1])
        .sum();
    (twice_area.abs() / 2.0).min(w * h)
}

/// What the renderer needs for one frame of `size_px`, from the app's settings and camera:
/// the finest level of detail with at most one grid cell per two covered pixels (eight on a
/// CPU rasteriser; one level coarser while the user drags).
pub fn frame_inputs(app: &RelievoApp, size_px: [u32; 2], interacting: bool) -> Option<FrameInputs> {
    let size = scene_size_mm(app)?;
    let aspect = size_px[0] as f32 / size_px[1].max(1) as f32;
    let p = &app.settings.relief;
    let v = &app.settings.view;
    let cells = app.renderer.as_ref().map(|r| r.level_cells()).unwrap_or_default();
    // One grid cell (two triangles) per two covered pixels (eight on a CPU rasteriser); a
    // quarter of the pixels when fast.
    let covered = covered_pixels(&app.camera, size, size_px);
    let per_cell = app.renderer.as_ref().map_or(2.0, |r| r.pixels_per_cell());
    let budget = |pixels: f32| (pixels / per_cell).max(2_000.0) as usize;
    let level_final = render::level_for(&cells, budget(covered));
    let mut level_fast = render::level_for(&cells, budget(covered * render::FAST_SCALE * render::FAST_SCALE));
    if interacting {
        level_fast = (level_fast + 1).min(cells.len().saturating_sub(1));
    }
    Some(FrameInputs {
        clip_from_world: app.camera.clip_from_world(aspect, radius(size)),
        eye: app.camera.eye(),
        size_mm: [size[0], size[1], p.base_mm, p.relief_mm],
        invert: p.invert,
        mirror: p.mirror,
        shading: v.shading,
        curvature_gain: v.curvature_gain,
        light: light_direction(v.light_azimuth_deg, v.light_elevation_deg),
        ambient: v.ambient,
        level_final,
        level_fast,
        colours: app.renderer.as_ref().is_some_and(|r| r.colours_key().is_some()),
    })
}

/// What the 3D view tints the top with for a comparison: the layers view's difference
/// colours ([`logic::difference_rgba`]), texel for texel.
pub fn difference_colours(c: &crate::compare::Comparison) -> SurfaceColours {
    let d = &c.difference_mm;
    SurfaceColours {
        size: [d.width, d.height],
        rgba: logic::difference_rgba(d, c.stats.tolerance_mm).0,
    }
}

/// Hands the renderer the difference colours while "Colour by difference" is on and there
/// is a comparison (once per comparison), and takes them back otherwise.
fn sync_colours(app: &mut RelievoApp) {
    let wanted = app
        .doc
        .as_ref()
        .and_then(|d| d.comparison.as_ref())
        .filter(|_| app.settings.view.colour_by_difference);
    let Some(renderer) = app.renderer.as_mut() else { return };
    let key = wanted.map(|c| c.serial);
    if renderer.colours_key() != key {
        let colours = wanted.map(|c| difference_colours(&c.result));
        renderer.set_colours(key.zip(colours));
    }
}

/// The 3D tab (or half of the split view).
fn viewport_ui(app: &mut RelievoApp, ui: &mut egui::Ui) {
    let mut commands = Vec::new();
    toolbar_ui(app, ui, &mut commands);
    ui.separator();
    app.sync_preview();
    sync_colours(app);
    let rect = ui.available_rect_before_wrap().intersect(ui.clip_rect());
    let response = ui.allocate_rect(rect, egui::Sense::click_and_drag());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, Color32::from_rgb(27, 28, 31));
    let Some(size) = scene_size_mm(app) else {
        let text = if app.doc.is_some() {
            "The relief appears when the depth is ready."
        } else {
            "Open a photo or a depth map to see its relief."
        };
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            text,
            egui::FontId::proportional(15.0),
            Color32::GRAY,
        );
        finish(app, commands);
        return;
    };
    let aspect = rect.width() / rect.height().max(1.0);
    // Fit when asked, and follow the view's shape until the user moves the camera.
    let resized = app.view_size.replace(rect.size()) != Some(rect.size());
    if app.take_camera_fit() || (resized && !app.camera_moved) {
        app.camera.fit_to(size, aspect);
        app.camera_moved = false;
    }
    // Controls. With the brush on, the left button paints on the surface under the
    // cursor and the right one turns the view.
    let (primary, secondary, middle) = (
        response.dragged_by(egui::PointerButton::Primary),
        response.dragged_by(egui::PointerButton::Secondary),
        response.dragged_by(egui::PointerButton::Middle),
    );
    let edit = &app.settings.edit;
    let painting = edit.active && edit.select.tool == SelectTool::Off;
    let picked = if painting {
        response.hover_pos().and_then(|pos| pick(app, rect, pos, size))
    } else {
        None
    };
    let delta = response.drag_delta();
    if painting && (primary || response.clicked()) {
        if let Some((at, _)) = picked {
            let dabs = logic::dabs_towards(app.stroke_3d, at, app.settings.edit.brush.radius_px);
            commands.extend(dabs.into_iter().map(Command::EditDab));
            app.stroke_3d = Some(at);
        }
    } else if primary || (painting && secondary) {
        app.camera.orbit(delta.x, delta.y);
        app.camera_moved = true;
    }
    if app.stroke_3d.is_some() && !primary {
        app.stroke_3d = None;
        commands.push(Command::EndStroke);
    }
    if (secondary && !painting) || middle {
        app.camera.pan(delta.x, delta.y, rect.height());
        app.camera_moved = true;
    }
    if response.hovered() {
        let (scroll, pinch) = ui.input(|i| (i.smooth_scroll_delta.y, i.zoom_delta()));
        let factor = (scroll * 0.002).exp() * pinch;
        if (factor - 1.0).abs() > 1e-4 {
            app.camera.zoom(factor);
            app.camera_moved = true;
        }
    }
    if response.double_clicked() {
        app.camera.fit_to(size, aspect);
        app.camera_moved = false;
    }
    let interacting = primary || secondary || middle || ui.ctx().dragged_id().is_some();

    let pixels_per_point = ui.ctx().pixels_per_point();
    let size_px = [
        (rect.width() * pixels_per_point).round().max(1.0) as u32,
        (rect.height() * pixels_per_point).round().max(1.0) as u32,
    ];
    let inputs = frame_inputs(app, size_px, interacting);
    let has_heights = app.renderer.as_ref().is_some_and(|r| r.has_heights());
    let texture = match (inputs, app.renderer.as_mut()) {
        (Some(inputs), Some(renderer)) if has_heights => {
            let t = Instant::now();
            let drawn = renderer.render(ui.ctx(), size_px, &inputs);
            let how = drawn.map(|(_, how)| how);
            if matches!(how, Some(render::Drawn::Fast | render::Drawn::Final)) {
                // On the worker, its own time to draw and read back; in place, the submit's.
                app.last_render_ms = renderer.worker_draw_ms().or(Some(t.elapsed().as_secs_f32() * 1e3));
            }
            if how == Some(render::Drawn::Fast) && !renderer.reads_back() {
                // The final image is drawn next frame (the worker wakes the UI itself).
                ui.ctx().request_repaint();
            }
            drawn.map(|(texture, _)| texture)
        }
        _ => None,
    };
    match texture {
        Some(texture) => {
            painter.image(
                texture,
                rect,
                Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
                Color32::WHITE,
            );
        }
        None => {
            let failure = app.renderer.as_ref().and_then(|r| r.failure());
            let text = if app.renderer.is_none() {
                "No GPU device for the 3D view (export still works).".to_string()
            } else if let Some(reason) = failure {
                format!("The 3D view stopped: {reason}. Layers and export still work; restart to see it again.")
            } else {
                "Preparing the relief…".to_string()
            };
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                text,
                egui::FontId::proportional(15.0),
                Color32::GRAY,
            );
        }
    }
    overlay_ui(app, &painter, rect, size);
    if let Some(c) = app.comparison()
        && app.renderer.as_ref().and_then(|r| r.colours_key()) == Some(c.serial)
    {
        let range = crate::compare::largest_difference(&c.result.difference_mm);
        super::inspector::difference_legend_ui(&painter, rect, range);
    }
    if let Some((_, point)) = picked {
        brush_outline_ui(app, &painter, rect, size, point);
    }
    if interacting {
        ui.ctx().request_repaint();
    }
    finish(app, commands);
}

/// The depth pixel (centres at integers) of the relief's top under `pos`, as shown, and
/// that point of the top in mm.
fn pick(app: &mut RelievoApp, rect: Rect, pos: Pos2, size: [f32; 3]) -> Option<([f32; 2], [f32; 3])> {
    let params = app.settings.relief.clone();
    let screen = [
        (pos.x - rect.min.x) / rect.width(),
        (pos.y - rect.min.y) / rect.height(),
    ];
    let (eye, dir) = app.camera.ray(rect.width() / rect.height().max(1.0), screen);
    let doc = app.doc.as_mut()?;
    let heights = doc.relief_heights_for(&params)?.ok()?;
    let offsets = doc.edits.as_ref().map(|e| e.offset_mm());
    let top = |x: usize, y: usize| heights.get(x, y) + offsets.map_or(0.0, |o| o.get(x, y));
    let at = logic::pick_relief(
        eye,
        dir,
        &top,
        [heights.width, heights.height],
        [size[0], size[1]],
        params.base_mm,
        params.mirror,
    )?;
    let (w, h) = ((heights.width - 1) as f32, (heights.height - 1) as f32);
    let u = if params.mirror { 1.0 - at[0] / w } else { at[0] / w };
    let z = params.base_mm + top(at[0].round() as usize, at[1].round() as usize);
    Some((at, [u * size[0], (1.0 - at[1] / h) * size[1], z]))
}

/// The brush's reach around the picked point `centre` (mm), as a circle on the screen.
fn brush_outline_ui(app: &RelievoApp, painter: &egui::Painter, rect: Rect, size: [f32; 3], centre: [f32; 3]) {
    let Some(depth) = app.doc.as_ref().and_then(|d| d.depth.as_ref()) else {
        return;
    };
    let mm_per_px = size[0] / (depth.width - 1).max(1) as f32;
    let edge = [
        centre[0] + app.settings.edit.brush.radius_px * mm_per_px,
        centre[1],
        centre[2],
    ];
    let aspect = rect.width() / rect.height().max(1.0);
    let to_screen = |p: [f32; 3]| {
        app.camera
            .project(aspect, radius(size), p)
            .map(|[x, y]| Pos2::new(rect.min.x + x * rect.width(), rect.min.y + y * rect.height()))
    };
    if let (Some(c), Some(e)) = (to_screen(centre), to_screen(edge)) {
        let outline = egui::Stroke::new(1.5, Color32::from_rgb(255, 210, 60));
        painter.circle_stroke(c, (e - c).length(), outline);
    }
}

fn finish(app: &mut RelievoApp, commands: Vec<Command>) {
    for c in commands {
        app.send(c);
    }
}

fn toolbar_ui(app: &RelievoApp, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    let mut view = app.settings.view.clone();
    ui.horizontal_wrapped(|ui| {
        if app.settings.edit.active && app.settings.edit.select.tool == SelectTool::Off {
            ui.label(egui::RichText::new("Brush on: left-drag paints, right-drag turns").weak());
            ui.separator();
        }
        ui.label("Light");
        ui.add(
            egui::Slider::new(&mut view.light_azimuth_deg, 0.0..=360.0)
                .suffix("°")
                .text("azimuth"),
        )
        .on_hover_text("Where the light comes from: 0° right, 90° top of the photo, 180° left");
        ui.add(
            egui::Slider::new(&mut view.light_elevation_deg, 0.0..=90.0)
                .suffix("°")
                .text("elevation"),
        )
        .on_hover_text("Low angles rake across the carving");
        let can_match = app.doc.as_ref().is_some_and(|d| d.photo.is_some() && d.depth.is_some());
        let estimating = app.jobs.is_running(JobKind::LightEstimate);
        if ui
            .add_enabled(can_match && !estimating, egui::Button::new("Match photo light"))
            .on_hover_text("Estimate the photo's light direction from its shading and the predicted depth")
            .clicked()
        {
            commands.push(Command::MatchPhotoLight);
        }
        ui.separator();
        for shading in Shading::ALL {
            ui.selectable_value(&mut view.shading, shading, shading.label());
        }
        if view.shading == Shading::Curvature {
            ui.add(
                egui::Slider::new(&mut view.curvature_gain, 1.0..=1000.0)
                    .logarithmic(true)
                    .text("contrast"),
            );
        }
        if app.comparison().is_some() {
            ui.separator();
            ui.checkbox(&mut view.colour_by_difference, "Colour by difference")
                .on_hover_text(
                    "The difference to the scan on the relief's top: blue lost, red added (as in the layers view)",
                );
        }
        ui.separator();
        ui.checkbox(&mut view.show_axes, "axes");
        ui.checkbox(&mut view.show_scale, "scale");
        if ui
            .button("Fit")
            .on_hover_text("Fit the relief in the view (or double-click it)")
            .clicked()
        {
            commands.push(Command::FitView);
        }
    });
    if view != app.settings.view {
        commands.push(Command::SetView(Box::new(view)));
    }
}

/// Axes at the origin corner, millimetre ticks along the front and left edges, and the size.
fn overlay_ui(app: &RelievoApp, painter: &egui::Painter, rect: Rect, size: [f32; 3]) {
    let aspect = rect.width() / rect.height().max(1.0);
    let r = radius(size);
    let camera: &OrbitCamera = &app.camera;
    let to_screen = |p: [f32; 3]| {
        camera
            .project(aspect, r, p)
            .map(|[x, y]| rect.min + Vec2::new(x * rect.width(), y * rect.height()))
    };
    let font = egui::FontId::proportional(11.0);
    if app.settings.view.show_axes {
        let length = 0.15 * size[0].max(size[1]);
        let origin = [0.0, 0.0, 0.0];
        for (axis, colour, label) in [
            ([length, 0.0, 0.0], Color32::from_rgb(230, 70, 60), "x"),
            ([0.0, length, 0.0], Color32::from_rgb(80, 200, 90), "y"),
            ([0.0, 0.0, length], Color32::from_rgb(80, 140, 240), "z"),
        ] {
            if let (Some(a), Some(b)) = (to_screen(origin), to_screen(axis)) {
                painter.line_segment([a, b], egui::Stroke::new(2.0, colour));
                painter.text(b, egui::Align2::CENTER_CENTER, label, font.clone(), colour);
            }
        }
    }
    if app.settings.view.show_scale {
        let stroke = egui::Stroke::new(1.0, Color32::from_gray(210));
        let tick_mm = 0.02 * size[0].max(size[1]);
        let grey = Color32::from_gray(210);
        for (along, length) in [(0usize, size[0]), (1usize, size[1])] {
            let step = nice_step(length, 4.0);
            let count = (length / step + 1e-3).floor() as usize;
            let at = |d: f32, off: f32| if along == 0 { [d, -off, 0.0] } else { [-off, d, 0.0] };
            for k in 0..=count {
                let d = k as f32 * step;
                if let (Some(a), Some(b)) = (to_screen(at(d, 0.0)), to_screen(at(d, tick_mm))) {
                    painter.line_segment([a, b], stroke);
                    let outward = (b - a).normalized() * 9.0;
                    painter.text(
                        b + outward,
                        egui::Align2::CENTER_CENTER,
                        format!("{d:.0}"),
                        font.clone(),
                        grey,
                    );
                }
            }
            if let (Some(a), Some(b)) = (to_screen(at(0.0, 0.0)), to_screen(at(length, 0.0))) {
                painter.line_segment([a, b], stroke);
            }
            // The unit, just beyond the end of the edge.
            if let (Some(a), Some(b)) = (
                to_screen(at(length, 0.0)),
                to_screen(at(length + 3.0 * tick_mm, 3.0 * tick_mm)),
            ) {
                let direction = (b - a).normalized();
                painter.text(
                    b + direction * 6.0,
                    egui::Align2::CENTER_CENTER,
                    "mm",
                    font.clone(),
                    grey,
                );
            }
        }
    }
    let mut lines = vec![format!("{:.1} × {:.1} × {:.1} mm", size[0], size[1], size[2])];
    if let Some(renderer) = &app.renderer
        && let Some([gx, gy]) = renderer.grid_size()
    {
        lines.push(format!(
            "preview grid {gx} × {gy} ({} triangles)",
            logic::format_count(renderer.grid_triangles())
        ));
    }
    if let Some(ms) = app.last_render_ms.filter(|_| app.settings.show_frame_overlay) {
        let what = if app.renderer.as_ref().is_some_and(|r| r.reads_back()) {
            "redraw on the worker"
        } else {
            "redraw submit"
        };
        lines.push(format!("{what} {ms:.1} ms"));
    }
    painter.text(
        rect.right_top() + Vec2::new(-8.0, 8.0),
        egui::Align2::RIGHT_TOP,
        lines.join("\n"),
        egui::FontId::monospace(11.0),
        Color32::from_gray(200),
    );
}

impl RelievoApp {
    /// The 3D view (central area of the 3D tab, right half of the split view).
    pub(crate) fn viewport_ui(&mut self, ui: &mut egui::Ui) {
        viewport_ui(self, ui);
    }

    /// Draws the 3D view at `size_px` as the view does after a change — the fast image, then the
    /// final one — waiting for the GPU after each, and returns both times (ms). For measurements;
    /// `None` without a device or heights.
    pub fn measure_render_ms(&mut self, size_px: [u32; 2]) -> Option<(f32, f32)> {
        self.apply_commands();
        self.upload_pending_preview();
        let inputs = frame_inputs(self, size_px, false)?;
        let ctx = self.egui_ctx.clone();
        let renderer = self.renderer.as_mut()?;
        let mut times = [0.0f32; 2];
        for time in &mut times {
            let t = Instant::now();
            let _ = renderer.render(&ctx, size_px, &inputs);
            renderer.finish(&ctx);
            *time = t.elapsed().as_secs_f32() * 1e3;
        }
        let _ = renderer.render(&ctx, size_px, &inputs)?;
        Some((times[0], times[1]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{CompareOptions, compare};
    use crate::grid::Grid;

    #[test]
    fn the_3d_view_gets_the_layer_colours_of_the_difference() {
        let panel = |x: f32, y: f32| (-((x - 20.0).powi(2) + (y - 14.0).powi(2)) / 60.0).exp() + 0.01 * x;
        let recon = Grid::from_fn(48, 32, |x, y| 3.0 * panel(x as f32, y as f32));
        let scan = Grid::from_fn(48, 32, |x, y| {
            let lost = (30..38).contains(&x) && (8..16).contains(&y);
            panel(x as f32, y as f32) - if lost { 0.4 } else { 0.0 }
        });
        let c = compare(&recon, 0.5, &scan, &CompareOptions::default()).unwrap();
        let colours = difference_colours(&c);
        let (image, _) = super::super::inspector::difference_image(&c);
        assert_eq!(colours.size, image.size);
        for (&[r, g, b, a], &shown) in colours.rgba.iter().zip(&image.pixels) {
            assert_eq!(Color32::from_rgba_unmultiplied(r, g, b, a), shown);
        }
        // The lost block is blue, the unchanged panel transparent (the stone shows).
        let at = |x: usize, y: usize| colours.rgba[y * 48 + x];
        assert!(
            at(34, 12)[2] > at(34, 12)[0] && at(34, 12)[3] == 255,
            "{:?}",
            at(34, 12)
        );
        assert_eq!(at(5, 25)[3], 0);
    }
}

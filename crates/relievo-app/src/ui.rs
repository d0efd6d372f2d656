//! The window's frame: menu bar (File, View, Model, Help), status bar (device, weights, last
//! message, running jobs with progress and Cancel, timings), the relief panel (presets, size in
//! mm with linked aspect, relief depth, base, invert, mirror, smoothing, detail, and the exact
//! mesh's triangle count and file size), the tabs of the central area, the frame-time overlay,
//! and the drop-a-file hint. Everything here only reads the app and queues commands.

use eframe::egui::{self, Color32, Key, KeyboardShortcut, Modifiers};
use egui_plot::{Line, Plot, PlotPoints};

use super::RelievoApp;
use super::commands::{Command, DialogKind};
use super::job_output::JobOutput;
use super::jobs::{JobKind, Jobs};
use super::logic;
use super::settings::{Settings, Tab};
use super::state::{AppView, Document, Severity, WeightsState};
use super::{inspector, training};
use crate::engine::Engine;

impl RelievoApp {
    /// The whole window.
    pub(crate) fn window_ui(&mut self, ui: &mut egui::Ui) {
        window_ui(self, ui);
    }

    /// The layers inspector; what it asks for is queued.
    fn inspector_panel(&mut self, ui: &mut egui::Ui) {
        let view = app_view(
            self.doc.as_ref(),
            &self.settings,
            &self.weights,
            &*self.engine,
            &self.jobs,
        );
        let mut settings = self.settings.inspector.clone();
        let commands = inspector::inspector_ui(&mut self.inspector, &mut settings, &view, ui);
        self.settings.inspector = settings;
        self.commands.extend(commands);
    }

    /// The Training tab; what it asks for is queued.
    fn training_panel(&mut self, ui: &mut egui::Ui) {
        let view = app_view(
            self.doc.as_ref(),
            &self.settings,
            &self.weights,
            &*self.engine,
            &self.jobs,
        );
        let commands = training::training_ui(&mut self.training, &view, ui);
        self.commands.extend(commands);
    }
}

/// What the panels see of the app this frame.
fn app_view<'a>(
    doc: Option<&'a Document>,
    settings: &'a Settings,
    weights: &'a WeightsState,
    engine: &'a dyn Engine,
    jobs: &Jobs<JobOutput>,
) -> AppView<'a> {
    AppView {
        doc,
        settings,
        weights,
        engine,
        running: jobs.running().iter().map(|j| j.kind).collect(),
    }
}

fn window_ui(app: &mut RelievoApp, ui: &mut egui::Ui) {
    shortcuts(app, ui);
    egui::Panel::top("menu_bar").show(ui, |ui| menu_bar_ui(app, ui));
    egui::Panel::bottom("status_bar").show(ui, |ui| status_bar_ui(app, ui));
    if app.settings.tab != Tab::Training && app.settings.show_relief_panel {
        egui::Panel::left("relief_panel")
            .resizable(true)
            .default_size(300.0)
            .min_size(240.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| relief_panel_ui(app, ui));
            });
    }
    egui::CentralPanel::default().show(ui, |ui| {
        tabs_ui(app, ui);
        match app.settings.tab {
            Tab::Layers => app.inspector_panel(ui),
            Tab::Relief3d => app.viewport_ui(ui),
            Tab::Split => {
                let half = ui.available_width() / 2.0;
                egui::Panel::right("split_3d")
                    .resizable(true)
                    .default_size(half)
                    .min_size(200.0)
                    .show(ui, |ui| {
                        app.viewport_ui(ui);
                    });
                egui::CentralPanel::default().show(ui, |ui| app.inspector_panel(ui));
            }
            Tab::Training => app.training_panel(ui),
        }
    });
    if app.settings.show_frame_overlay {
        frame_overlay_ui(app, ui.ctx());
    }
    drop_hint_ui(ui.ctx());
    let name = app.doc.as_ref().map_or_else(String::new, |d| d.name());
    app.unsaved.ui(ui.ctx(), &name, &mut app.commands);
}

fn shortcuts(app: &mut RelievoApp, ui: &mut egui::Ui) {
    let open = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
    let export = KeyboardShortcut::new(Modifiers::COMMAND, Key::E);
    // Redo first: Ctrl+Z would also match Ctrl+Shift+Z.
    let redo = KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    let redo_y = KeyboardShortcut::new(Modifiers::COMMAND, Key::Y);
    let undo = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
    let save = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
    let (open, export, save, overlay, redo, undo) = ui.input_mut(|i| {
        (
            i.consume_shortcut(&open),
            i.consume_shortcut(&export),
            i.consume_shortcut(&save),
            i.consume_key(Modifiers::NONE, Key::F12),
            i.consume_shortcut(&redo) || i.consume_shortcut(&redo_y),
            i.consume_shortcut(&undo),
        )
    });
    if save && app.doc.as_ref().is_some_and(|d| d.depth.is_some()) {
        app.send(Command::ShowDialog(DialogKind::SaveProject));
    }
    if redo {
        app.send(Command::Redo);
    }
    if undo {
        app.send(Command::Undo);
    }
    if open {
        app.send(Command::ShowDialog(DialogKind::OpenPhoto));
    }
    if export {
        app.send(Command::ShowDialog(DialogKind::ExportStl));
    }
    if overlay {
        app.send(Command::ToggleFrameOverlay);
    }
}

fn menu_bar_ui(app: &mut RelievoApp, ui: &mut egui::Ui) {
    let mut commands = Vec::new();
    let has_depth = app.doc.as_ref().is_some_and(|d| d.depth.is_some());
    let has_layers = app.layers().is_some();
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            if ui.button("Open photo…").clicked() {
                commands.push(Command::ShowDialog(DialogKind::OpenPhoto));
            }
            if ui
                .button("Open depth map…")
                .on_hover_text("Make a relief from a depth map without the network")
                .clicked()
            {
                commands.push(Command::ShowDialog(DialogKind::OpenDepth));
            }
            if ui
                .add_enabled(has_depth, egui::Button::new("Compare with a scan…"))
                .on_hover_text("A present-day scan of the panel (depth map or STL): aligned, then the difference in mm")
                .clicked()
            {
                commands.push(Command::ShowDialog(DialogKind::CompareScan));
            }
            let compared = app.comparison().is_some();
            if ui
                .add_enabled(compared, egui::Button::new("Export difference…"))
                .on_hover_text("The difference to the scan as a 16-bit PNG (mm, 32768 = unchanged) and a JSON summary")
                .clicked()
            {
                commands.push(Command::ShowDialog(DialogKind::ExportDifference));
            }
            if ui.button("Open project…").clicked() {
                commands.push(Command::ShowDialog(DialogKind::OpenProject));
            }
            if ui
                .add_enabled(has_depth, egui::Button::new("Save project…"))
                .on_hover_text("The depth, layers, edits, relief and view in one .relievo file (Ctrl+S)")
                .clicked()
            {
                commands.push(Command::ShowDialog(DialogKind::SaveProject));
            }
            ui.menu_button("Open recent", |ui| {
                if app.settings.recent.is_empty() {
                    ui.weak("nothing yet");
                }
                for recent in &app.settings.recent {
                    let name = recent
                        .path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let label = if recent.depth_map {
                        format!("{name} (depth map)")
                    } else if logic::is_project(&recent.path) {
                        format!("{name} (project)")
                    } else {
                        name
                    };
                    if ui
                        .button(label)
                        .on_hover_text(recent.path.display().to_string())
                        .clicked()
                    {
                        commands.push(if recent.depth_map {
                            Command::OpenDepth(recent.path.clone())
                        } else {
                            Command::OpenPath(recent.path.clone())
                        });
                    }
                }
                if !app.settings.recent.is_empty() {
                    ui.separator();
                    if ui.button("Clear list").clicked() {
                        commands.push(Command::ClearRecent);
                    }
                }
            });
            ui.separator();
            if ui.add_enabled(has_depth, egui::Button::new("Export STL…")).clicked() {
                commands.push(Command::ShowDialog(DialogKind::ExportStl));
            }
            if ui
                .add_enabled(has_depth, egui::Button::new("Export textured model (OBJ, PLY)…"))
                .clicked()
            {
                commands.push(Command::ShowDialog(DialogKind::ExportTextured));
            }
            if ui
                .add_enabled(has_layers, egui::Button::new("Export layers…"))
                .clicked()
            {
                commands.push(Command::ShowDialog(DialogKind::ExportLayers));
            }
            if ui
                .add_enabled(has_depth, egui::Button::new("Export depth PNG…"))
                .clicked()
            {
                commands.push(Command::ShowDialog(DialogKind::ExportDepth));
            }
            ui.separator();
            if ui.button("Quit").clicked() {
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
            }
        });
        ui.menu_button("View", |ui| {
            for tab in Tab::ALL {
                if ui.selectable_label(app.settings.tab == tab, tab.label()).clicked() {
                    commands.push(Command::SetTab(tab));
                }
            }
            ui.separator();
            let mut relief_panel = app.settings.show_relief_panel;
            if ui.checkbox(&mut relief_panel, "Relief panel").changed() {
                commands.push(Command::ToggleReliefPanel);
            }
            let mut frame_overlay = app.settings.show_frame_overlay;
            if ui.checkbox(&mut frame_overlay, "Frame times (F12)").changed() {
                commands.push(Command::ToggleFrameOverlay);
            }
            if ui.button("Fit 3D view").clicked() {
                commands.push(Command::FitView);
            }
        });
        ui.menu_button("Model", |ui| {
            let photo_open = app.doc.as_ref().is_some_and(|d| d.photo.is_some());
            let ready = matches!(app.weights, WeightsState::Ready { .. });
            if ui
                .add_enabled(photo_open && ready, egui::Button::new("Run the network again"))
                .clicked()
            {
                commands.push(Command::RunNetwork);
            }
            if ui.button("Open weights folder…").clicked() {
                commands.push(Command::ShowDialog(DialogKind::WeightsFolder));
            }
            if ui
                .add_enabled(
                    app.settings.weights_dir.is_some(),
                    egui::Button::new("Use shipped weights"),
                )
                .clicked()
            {
                commands.push(Command::UseShippedWeights);
            }
            ui.separator();
            if ui.button("Training…").clicked() {
                commands.push(Command::SetTab(Tab::Training));
            }
        });
        ui.menu_button("Help", |ui| {
            ui.label(format!("relievo {}", env!("CARGO_PKG_VERSION")));
            ui.label("Rebuilds carved reliefs from a single photo.");
            ui.separator();
            ui.label("3D view: left-drag orbit · right/middle-drag pan · wheel zoom · double-click fit");
            ui.label("Layers: drag pan · wheel zoom · double-click fit");
            ui.label("Files named …depth… or …height… open as depth maps.");
        });
    });
    for c in commands {
        app.send(c);
    }
}

fn tabs_ui(app: &mut RelievoApp, ui: &mut egui::Ui) {
    let mut selected = app.settings.tab;
    ui.horizontal(|ui| {
        for tab in Tab::ALL {
            ui.selectable_value(&mut selected, tab, tab.label());
        }
        if let Some(doc) = &app.doc {
            ui.separator();
            ui.label(egui::RichText::new(doc.name()).strong())
                .on_hover_text(doc.path.display().to_string());
        }
    });
    if selected != app.settings.tab {
        app.send(Command::SetTab(selected));
    }
    ui.separator();
}

fn relief_panel_ui(app: &mut RelievoApp, ui: &mut egui::Ui) {
    let mut commands = Vec::new();
    let mut p = app.settings.relief.clone();
    let size_px = app
        .doc
        .as_ref()
        .and_then(|d| d.depth.as_ref().map(|g| [g.width, g.height]).or(d.size_px()));
    ui.heading("Relief");
    egui::ComboBox::from_id_salt("preset")
        .selected_text("Presets…")
        .width(ui.available_width() - 8.0)
        .show_ui(ui, |ui| {
            for (i, preset) in logic::PRESETS.iter().enumerate() {
                if ui
                    .selectable_label(false, preset.name)
                    .on_hover_text(preset.hint)
                    .clicked()
                {
                    commands.push(Command::ApplyPreset(i));
                }
            }
        });
    ui.add_space(4.0);
    egui::Grid::new("relief_params")
        .num_columns(2)
        .spacing([8.0, 6.0])
        .show(ui, |ui| {
            ui.label("Width");
            ui.add(
                egui::DragValue::new(&mut p.width_mm)
                    .max_decimals(2)
                    .range(1.0..=10_000.0)
                    .speed(0.5)
                    .suffix(" mm"),
            );
            ui.end_row();

            ui.label("Height");
            ui.horizontal(|ui| {
                let linked = p.height_mm.is_none();
                match (size_px, linked) {
                    (Some([w, h]), true) => {
                        let mut height = logic::linked_height_mm(p.width_mm, w, h);
                        if ui
                            .add(
                                egui::DragValue::new(&mut height)
                                    .max_decimals(2)
                                    .range(1.0..=10_000.0)
                                    .speed(0.5)
                                    .suffix(" mm"),
                            )
                            .changed()
                        {
                            p.width_mm = height * (w.max(2) - 1) as f32 / (h.max(2) - 1) as f32;
                        }
                    }
                    (None, true) => {
                        ui.weak("from aspect");
                    }
                    (_, false) => {
                        let mut height = p.height_mm.unwrap_or(p.width_mm);
                        if ui
                            .add(
                                egui::DragValue::new(&mut height)
                                    .max_decimals(2)
                                    .range(1.0..=10_000.0)
                                    .speed(0.5)
                                    .suffix(" mm"),
                            )
                            .changed()
                        {
                            p.height_mm = Some(height);
                        }
                    }
                }
                let mut link = linked;
                if ui
                    .toggle_value(&mut link, "link")
                    .on_hover_text("Keep the depth map's aspect ratio")
                    .changed()
                {
                    p.height_mm = if link {
                        None
                    } else {
                        Some(size_px.map_or(p.width_mm, |[w, h]| logic::linked_height_mm(p.width_mm, w, h)))
                    };
                }
            });
            ui.end_row();

            ui.label("Relief depth");
            ui.add(
                egui::DragValue::new(&mut p.relief_mm)
                    .max_decimals(2)
                    .range(0.0..=1000.0)
                    .speed(0.05)
                    .suffix(" mm"),
            )
            .on_hover_text("Height of the highest point above the base");
            ui.end_row();

            ui.label("Base");
            ui.add(
                egui::DragValue::new(&mut p.base_mm)
                    .max_decimals(2)
                    .range(0.1..=1000.0)
                    .speed(0.05)
                    .suffix(" mm"),
            )
            .on_hover_text("Thickness of the flat plate under the relief");
            ui.end_row();

            ui.label("Smoothing");
            ui.add(egui::Slider::new(&mut p.smoothing_px, 0.0..=20.0).suffix(" px"))
                .on_hover_text("Gaussian σ in depth-map pixels");
            ui.end_row();

            ui.label("Detail");
            ui.add(
                egui::Slider::new(&mut p.max_error_mm, 0.0..=2.0)
                    .logarithmic(true)
                    .smallest_positive(0.001)
                    .suffix(" mm"),
            )
            .on_hover_text("Largest vertical distance between the mesh and any pixel (0 keeps every pixel)");
            ui.end_row();
        });
    ui.horizontal(|ui| {
        ui.checkbox(&mut p.invert, "Invert")
            .on_hover_text("Swap raised and sunken (dark = near depth maps)");
        ui.checkbox(&mut p.mirror, "Mirror")
            .on_hover_text("Mirror left–right (for moulds)");
    });
    if p != app.settings.relief {
        commands.push(Command::SetRelief(p));
    }
    ui.separator();
    mesh_stats_ui(app, ui);
    ui.separator();
    let has_depth = app.doc.as_ref().is_some_and(|d| d.depth.is_some());
    ui.add_enabled_ui(has_depth, |ui| {
        if ui.button("Export STL…").clicked() {
            commands.push(Command::ShowDialog(DialogKind::ExportStl));
        }
        if ui.button("Export OBJ / PLY…").clicked() {
            commands.push(Command::ShowDialog(DialogKind::ExportTextured));
        }
        if ui.button("Export depth PNG…").clicked() {
            commands.push(Command::ShowDialog(DialogKind::ExportDepth));
        }
    });
    if ui
        .add_enabled(app.layers().is_some(), egui::Button::new("Export layers…"))
        .clicked()
    {
        commands.push(Command::ShowDialog(DialogKind::ExportLayers));
    }
    if let Some(path) = &app.last_export {
        ui.weak(format!("Last export: {}", path.display()));
    }
    for c in commands {
        app.send(c);
    }
}

fn mesh_stats_ui(app: &RelievoApp, ui: &mut egui::Ui) {
    let Some(doc) = &app.doc else {
        ui.weak("Open a photo or a depth map.");
        return;
    };
    if doc.depth.is_none() {
        ui.weak("Waiting for the depth…");
        return;
    }
    let current = app.current_mesh();
    let meshing = app.jobs.is_running(JobKind::Mesh);
    match (current, &app.mesh) {
        (Some(m), _) => {
            let n = m.mesh.triangle_count();
            ui.label(format!("{} triangles", logic::format_count(n)));
            ui.label(format!(
                "{} binary STL",
                logic::format_bytes(logic::binary_stl_bytes(n))
            ));
            ui.weak(format!("exact mesh in {}", logic::format_secs(m.secs)));
        }
        (None, Some(old)) if old.key.doc_id == doc.id => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.weak(format!(
                    "≈ {} triangles, recomputing…",
                    logic::format_count(old.mesh.triangle_count())
                ));
            });
        }
        _ => {
            ui.horizontal(|ui| {
                if meshing {
                    ui.spinner();
                }
                ui.weak("meshing…");
            });
        }
    }
}

fn status_bar_ui(app: &mut RelievoApp, ui: &mut egui::Ui) {
    let mut commands = Vec::new();
    ui.horizontal(|ui| {
        let device = app
            .device
            .as_ref()
            .map_or("detecting device…".to_string(), |d| d.label().to_string());
        ui.label(egui::RichText::new(device).monospace())
            .on_hover_text("Where the network runs");
        ui.separator();
        match &app.weights {
            WeightsState::Loading => {
                ui.spinner();
                ui.label("loading weights");
            }
            WeightsState::Ready { dir, .. } => {
                ui.label("weights loaded").on_hover_text(dir.display().to_string());
            }
            WeightsState::Missing { dir, reason } => {
                ui.colored_label(ui.visuals().warn_fg_color, "no weights")
                    .on_hover_text(format!("{}: {reason}", dir.display()));
            }
        }
        ui.separator();
        for job in app.jobs.running() {
            if job.kind == JobKind::FileDialog {
                continue;
            }
            let elapsed = job.started.elapsed().as_secs_f64();
            let status = job.handle.status();
            let text = format!(
                "{}{}{} {:.0} s",
                job.kind.name(),
                if job.label.is_empty() {
                    String::new()
                } else {
                    format!(" {}", job.label)
                },
                if status.is_empty() {
                    String::new()
                } else {
                    format!(" ({status})")
                },
                elapsed
            );
            match job.handle.progress() {
                Some(p) => {
                    ui.add(egui::ProgressBar::new(p).desired_width(90.0).show_percentage());
                }
                None => {
                    ui.spinner();
                }
            }
            ui.label(text);
            if job.kind.cancellable() && ui.small_button("Cancel").clicked() {
                commands.push(Command::CancelJob(job.kind));
            }
            ui.separator();
        }
        if let Some(message) = app.messages.back() {
            let colour = match message.severity {
                Severity::Info => ui.visuals().text_color(),
                Severity::Warning => ui.visuals().warn_fg_color,
                Severity::Error => ui.visuals().error_fg_color,
            };
            let response = ui.add(egui::Label::new(egui::RichText::new(&message.text).color(colour)).truncate());
            response.on_hover_ui(|ui| {
                for m in app.messages.iter().rev().take(12) {
                    ui.label(&m.text);
                }
            });
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let t = &app.timings;
            let mut parts = Vec::new();
            if let Some(s) = t.inference_secs {
                parts.push(format!("inference {}", logic::format_secs(s)));
            }
            if let Some(s) = t.mesh_secs {
                parts.push(format!("mesh {}", logic::format_secs(s)));
            }
            if let Some(s) = t.export_secs {
                parts.push(format!("export {}", logic::format_secs(s)));
            }
            let frame = app.frames.work(None);
            if frame.frames > 0 {
                parts.push(format!("frame {:.1} ms", frame.mean_ms));
            }
            if ui
                .small_button("frame times")
                .on_hover_text("Frame times (F12)")
                .clicked()
            {
                commands.push(Command::ToggleFrameOverlay);
            }
            ui.weak(parts.join(" · "));
        });
    });
    for c in commands {
        app.send(c);
    }
}

fn frame_overlay_ui(app: &mut RelievoApp, ctx: &egui::Context) {
    let mut open = true;
    egui::Window::new("Frame times")
        .open(&mut open)
        .default_width(360.0)
        .show(ctx, |ui| {
            let all = app.frames.work(None);
            let busy = app.frames.work(Some(true));
            let interval = app.frames.interval(None);
            let busy_interval = app.frames.interval(Some(true));
            egui::Grid::new("frame_stats").striped(true).show(ui, |ui| {
                for h in ["", "frames", "mean ms", "p95 ms", "max ms"] {
                    ui.strong(h);
                }
                ui.end_row();
                for (label, s) in [
                    ("UI work, all", all),
                    ("UI work, during inference/training", busy),
                    ("frame interval, all", interval),
                    ("frame interval, busy", busy_interval),
                ] {
                    ui.label(label);
                    ui.label(s.frames.to_string());
                    ui.label(format!("{:.1}", s.mean_ms));
                    ui.label(format!("{:.1}", s.p95_ms));
                    ui.label(format!("{:.1}", s.max_ms));
                    ui.end_row();
                }
            });
            if let Some(ms) = app.last_render_ms {
                ui.label(format!("3D redraw (encode + submit): {ms:.1} ms"));
            }
            let points: Vec<[f64; 2]> = app
                .frames
                .samples()
                .map(|s| [s.at_secs, f64::from(s.work_ms)])
                .collect();
            let intervals: Vec<[f64; 2]> = app
                .frames
                .samples()
                .filter_map(|s| s.interval_ms.map(|ms| [s.at_secs, f64::from(ms)]))
                .collect();
            Plot::new("frame_plot")
                .height(140.0)
                .x_axis_label("s")
                .y_axis_label("ms")
                .include_y(0.0)
                .include_y(50.0)
                .show(ui, |plot| {
                    plot.line(Line::new("UI work", PlotPoints::from(points)));
                    plot.line(Line::new("interval", PlotPoints::from(intervals)));
                });
            if ui.button("Clear").clicked() {
                app.frames.clear();
            }
        });
    if !open {
        app.send(Command::ToggleFrameOverlay);
    }
}

fn drop_hint_ui(ctx: &egui::Context) {
    if ctx.input(|i| i.raw.hovered_files.is_empty()) {
        return;
    }
    let painter = ctx.layer_painter(egui::LayerId::new(
        egui::Order::Foreground,
        egui::Id::unique("relievo drop hint"),
    ));
    let rect = ctx.content_rect();
    painter.rect_filled(rect, 0.0, Color32::from_black_alpha(180));
    painter.text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        "Drop to open (names with \"depth\" open as depth maps)",
        egui::FontId::proportional(22.0),
        Color32::WHITE,
    );
}

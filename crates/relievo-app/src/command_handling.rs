//! The one place commands are applied. Widgets, menus, shortcuts, dropped files and
//! finished file dialogs only queue a [`Command`]; [`RelievoApp::apply_commands`] changes the
//! state and starts the background jobs (loading, inference, preview, meshing, exports, light
//! estimation, dataset checks, training), and [`RelievoApp::on_job_finished`] takes their results
//! back. Jobs started for a document that has since been replaced are ignored on arrival.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::RelievoApp;
use super::commands::{Command, DialogKind, Reshape, UnsavedChoice};
use super::inspector::DisplayImages;
use super::job_output::{JobOutput, Opened, OpenedProject};
use super::jobs::{Finished, JobKind};
use super::logic;
use super::settings::SelectTool;
use super::state::{Document, MeshResult, NoLayers, PreviewKey, ReadScan, ScanComparison, Severity, WeightsState};
use super::training::default_run_dir;
use super::unsaved::Pending;
use crate::cancel::Cancelled;
use crate::edit::EditLayer;
use crate::engine::{DeviceChoice, InferOptions};
use crate::export::{self, MeshFormat, StlFormat, Texture};
use crate::grid::Grid;
use crate::layers::{self, Layers};
use crate::mesh;
use crate::photo::{self, LoadOptions};
use crate::project::{self, EditGrids, PhotoRef, Project};
use crate::relief::{self, ReliefParams};
use crate::selection::{Selection, SelectionOp};

/// Reads a project and its photo (on a worker thread).
fn open_project(path: &Path) -> Result<(Opened, DisplayImages), String> {
    let project = project::load(path).map_err(logic::error_chain)?;
    let (photo, photo_note) = match &project.photo {
        None => (None, None),
        Some(r) => match std::fs::read(&r.path) {
            Err(e) => (
                None,
                Some(format!("its photo {} cannot be read ({e})", r.path.display())),
            ),
            Ok(bytes) if project::hash_bytes(&bytes) != r.hash => {
                (None, Some(format!("its photo {} has changed since", r.path.display())))
            }
            Ok(bytes) => match photo::decode_photo(&bytes, &r.path.display().to_string(), &LoadOptions::default()) {
                Ok(photo) if [photo.width(), photo.height()] == [project.depth.width, project.depth.height] => {
                    (Some(photo), None)
                }
                Ok(_) => (
                    None,
                    Some(format!("its photo {} has another size now", r.path.display())),
                ),
                Err(e) => (None, Some(e.to_string())),
            },
        },
    };
    let mut display = match (&project.edges, &project.semantics) {
        (Some(edges), Some(semantics)) => DisplayImages::of_layers(&Layers {
            depth: project.depth.clone(),
            edges: edges.clone(),
            semantics: semantics.clone(),
        }),
        _ => DisplayImages::of_depth(&project.depth),
    };
    if let Some(photo) = &photo {
        display.photo = DisplayImages::of_photo(photo).photo;
    }
    let opened = OpenedProject {
        project,
        photo,
        photo_note,
    };
    Ok((Opened::Project(Box::new(opened)), display))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

impl RelievoApp {
    /// Applies every queued command, in order.
    pub(crate) fn apply_commands(&mut self) {
        while !self.commands.is_empty() {
            let commands = std::mem::take(&mut self.commands);
            for command in commands {
                self.apply(command);
            }
        }
    }

    fn spawn(
        &mut self,
        kind: JobKind,
        label: impl Into<String>,
        work: impl FnOnce(&super::jobs::JobHandle) -> JobOutput + Send + 'static,
    ) -> bool {
        match self.jobs.spawn(kind, label, work) {
            Ok(()) => {
                self.egui_ctx.request_repaint();
                true
            }
            Err(refused) => {
                self.message(Severity::Warning, refused);
                false
            }
        }
    }

    fn apply(&mut self, command: Command) {
        match command {
            Command::OpenPath(path) => {
                let command = if logic::is_project(&path) {
                    Command::OpenProject(path)
                } else if logic::looks_like_depth_map(&path) {
                    Command::OpenDepth(path)
                } else {
                    Command::OpenPhoto(path)
                };
                self.apply(command);
            }
            open @ (Command::OpenPhoto(_) | Command::OpenDepth(_) | Command::OpenProject(_))
                if self.must_ask_before_replacing() =>
            {
                self.unsaved.prompt = Some(Pending::Open(open));
            }
            Command::ResolveUnsaved(choice) => {
                let Some(pending) = self.unsaved.prompt.take() else {
                    return;
                };
                match choice {
                    UnsavedChoice::Cancel => {}
                    UnsavedChoice::Discard => self.go_ahead(pending),
                    UnsavedChoice::Save => {
                        self.unsaved.after_save = Some(pending);
                        self.apply(Command::ShowDialog(DialogKind::SaveProject));
                    }
                }
            }
            open @ (Command::OpenPhoto(_) | Command::OpenDepth(_) | Command::OpenProject(_))
                if self.jobs.is_running(JobKind::OpenFile) =>
            {
                // The file asked for last is the one the user wants: it opens when the
                // running open finishes (whose result is then dropped unseen).
                self.open_next = Some(open);
            }
            Command::OpenPhoto(path) => {
                let p = path.clone();
                self.spawn(JobKind::OpenFile, file_name(&path), move |_| JobOutput::Opened {
                    content: photo::load_photo(&p, &LoadOptions::default())
                        .map(|photo| {
                            let display = DisplayImages::of_photo(&photo);
                            (Opened::Photo(photo), display)
                        })
                        .map_err(logic::error_chain),
                    path: p,
                });
            }
            Command::OpenDepth(path) => {
                let p = path.clone();
                self.spawn(JobKind::OpenFile, file_name(&path), move |_| JobOutput::Opened {
                    content: photo::load_depth(&p, &LoadOptions::default())
                        .map(|depth| {
                            let display = DisplayImages::of_depth(&depth);
                            (Opened::Depth(depth), display)
                        })
                        .map_err(logic::error_chain),
                    path: p,
                });
            }
            Command::OpenProject(path) => {
                let p = path.clone();
                self.spawn(JobKind::OpenFile, file_name(&path), move |_| JobOutput::Opened {
                    content: open_project(&p),
                    path: p,
                });
            }
            Command::SaveProject(path) => self.save_project(path),
            Command::ShowDialog(kind) => self.show_dialog(kind),
            Command::ClearRecent => self.settings.recent.clear(),
            Command::ExportMesh(path) => self.export_mesh(path),
            Command::ExportLayers(dir) => self.export_layers(dir),
            Command::ExportDepthPng(path) => self.export_depth(path),
            Command::ExportDifference(path) => self.export_difference(path),
            Command::SetRelief(params) => self.set_relief(params),
            Command::ApplyPreset(i) => {
                if let Some(preset) = logic::PRESETS.get(i) {
                    let params = (preset.apply)(&self.settings.relief);
                    self.message(Severity::Info, format!("Preset: {}", preset.name));
                    self.set_relief(params);
                }
            }
            Command::SetLight {
                azimuth_deg,
                elevation_deg,
            } => {
                self.settings.view.light_azimuth_deg = azimuth_deg.rem_euclid(360.0);
                self.settings.view.light_elevation_deg = elevation_deg.clamp(0.0, 90.0);
            }
            Command::MatchPhotoLight => self.estimate_light(),
            Command::FitView => self.camera_needs_fit = true,
            Command::SetView(view) => self.settings.view = *view,
            Command::ToggleFrameOverlay => self.settings.show_frame_overlay = !self.settings.show_frame_overlay,
            Command::ToggleReliefPanel => self.settings.show_relief_panel = !self.settings.show_relief_panel,
            Command::RunNetwork => self.start_inference(),
            Command::LoadWeights(dir) => self.load_weights(dir.clone()),
            Command::UseShippedWeights => self.load_weights(self.options.weights_dir.clone()),
            Command::CancelJob(JobKind::Training) => self.apply(Command::TrainStop),
            Command::CancelJob(kind) => {
                if self.jobs.cancel(kind) {
                    self.message(Severity::Info, format!("Cancelled the {}.", kind.name()));
                    if kind == JobKind::Inference
                        && let Some(doc) = &mut self.doc
                    {
                        doc.no_layers = Some(NoLayers::Cancelled);
                    }
                }
            }
            Command::SetTab(tab) => self.settings.tab = tab,
            Command::SetDatasetFolder(dir) => {
                self.settings.train.run.data = dir.clone();
                self.training.dataset = None;
                if let Some(dir) = dir {
                    self.remember_folder(&dir);
                    let (d, engine) = (dir.clone(), self.engine.clone());
                    self.spawn(JobKind::DatasetCheck, file_name(&dir), move |_| {
                        let report = engine.check_dataset(&d);
                        JobOutput::Dataset { dir: d, report }
                    });
                }
            }
            Command::SetTrainOutput(dir) => self.settings.train.out = Some(dir),
            Command::SetTrainSettings(settings) => self.settings.train = *settings,
            Command::TrainStart => self.start_training(false),
            Command::TrainResume => self.start_training(true),
            Command::TrainPause(pause) => self.training.set_paused(pause),
            Command::TrainStop => self.training.stop(),
            Command::TrainPreview => self.train_preview(),
            Command::SaveTrainedWeights(dir) => self.save_trained_weights(dir),
            Command::SetEdit(edit) => self.settings.edit = edit,
            Command::EditDab(at) => self.edit_dab(at),
            Command::EndStroke => {
                if let Some(edits) = self.doc.as_mut().and_then(|d| d.edits.as_mut())
                    && edits.end_stroke()
                {
                    self.refresh_depth_view();
                }
            }
            Command::Undo | Command::Redo | Command::ClearEdits => {
                let Some(edits) = self.doc.as_mut().and_then(|d| d.edits.as_mut()) else {
                    return;
                };
                let changed = match command {
                    Command::Undo => edits.undo(),
                    Command::Redo => edits.redo(),
                    _ => {
                        let had = !edits.is_empty();
                        edits.clear();
                        had
                    }
                };
                if changed {
                    self.edits_changed();
                    self.refresh_depth_view();
                }
            }
            Command::RepairDamage => self.repair_damage(),
            Command::SelectPolygon(points) => {
                let size = self.doc.as_ref().and_then(Document::size_px);
                if let Some([w, h]) = size {
                    self.set_selection(Some(Selection::polygon(w, h, &points)));
                }
            }
            Command::SelectMagic(at) => {
                let by_edges = self.settings.edit.select.tool == SelectTool::MagicEdges;
                match self.doc.as_ref().and_then(|d| d.layers.clone()) {
                    Some(layers) => {
                        let classes = if by_edges { &layers.edges } else { &layers.semantics };
                        self.set_selection(Some(Selection::magic(classes, at)));
                    }
                    None => self.message(
                        Severity::Warning,
                        "Magic selection reads the network's layers: open a photo (a depth map has none).",
                    ),
                }
            }
            Command::ReshapeSelection(reshape) => {
                let reshaped = self
                    .doc
                    .as_ref()
                    .and_then(|d| d.selection.as_ref())
                    .map(|s| match reshape {
                        Reshape::Grow(px) => s.grow(px),
                        Reshape::Shrink(px) => s.shrink(px),
                        Reshape::Feather(px) => s.feather(px),
                    });
                if reshaped.is_some() {
                    self.set_selection(reshaped);
                }
            }
            Command::ApplyToSelection(op) => self.apply_to_selection(op),
            Command::Deselect => self.set_selection(None),
            Command::CompareScan(path) => {
                if let Some(doc) = self.doc.as_mut() {
                    doc.picked = Default::default();
                }
                self.compare_scan(path, None, None);
            }
            Command::ClearComparison => {
                if let Some(doc) = self.doc.as_mut() {
                    doc.comparison = None;
                    doc.picked = Default::default();
                }
            }
            Command::SetPointPicking(on) => {
                if let Some(doc) = self.doc.as_mut().filter(|d| d.picked.scan.is_some()) {
                    doc.picked.active = on;
                }
            }
            Command::PickPoint { side, px } => {
                if let Some(doc) = self.doc.as_mut().filter(|d| d.picked.active) {
                    doc.picked.pick(side, px);
                }
            }
            Command::ResetPoints => {
                if let Some(doc) = self.doc.as_mut() {
                    doc.picked.pairs.clear();
                }
            }
            Command::ApplyPoints { refine } => self.apply_points(refine),
            Command::UseTrainedWeights => match self.training.best_dir.clone() {
                Some(dir) => self.load_weights(dir),
                None => self.message(Severity::Warning, "No trained weights yet: start a training run first."),
            },
        }
    }

    // -----------------------------------------------------------------------------------------
    // Files

    fn show_dialog(&mut self, kind: DialogKind) {
        let start = self.settings.last_folder.clone();
        let stem = self
            .doc
            .as_ref()
            .and_then(|d| d.path.file_stem().map(|s| s.to_string_lossy().into_owned()));
        self.spawn(JobKind::FileDialog, "", move |_| {
            let started = Instant::now();
            let mut dialog = rfd::FileDialog::new();
            if let Some(dir) = &start {
                dialog = dialog.set_directory(dir);
            }
            let images =
                |d: rfd::FileDialog| d.add_filter("Images (PNG, JPEG, TIFF, WebP, BMP)", photo::SUPPORTED_EXTENSIONS);
            let stem = stem.unwrap_or_else(|| "relief".into());
            let path = match kind {
                DialogKind::OpenPhoto => images(dialog.set_title("Open photo")).pick_file(),
                DialogKind::OpenDepth => images(dialog.set_title("Open depth map")).pick_file(),
                DialogKind::ExportStl => dialog
                    .set_title("Export STL")
                    .add_filter("STL", &["stl"])
                    .set_file_name(format!("{stem}.stl"))
                    .save_file(),
                DialogKind::ExportTextured => dialog
                    .set_title("Export textured model")
                    .add_filter("OBJ with the photo as texture", &["obj"])
                    .add_filter("PLY with the photo's colours", &["ply"])
                    .set_file_name(format!("{stem}.obj"))
                    .save_file(),
                DialogKind::ExportDepth => dialog
                    .set_title("Export depth PNG (16-bit)")
                    .add_filter("PNG", &["png"])
                    .set_file_name(format!("{stem}_depth.png"))
                    .save_file(),
                DialogKind::ExportLayers => dialog.set_title("Export layers into folder").pick_folder(),
                DialogKind::ExportDifference => dialog
                    .set_title("Export the difference to the scan (16-bit PNG + JSON summary)")
                    .add_filter("PNG", &["png"])
                    .set_file_name(format!("{stem}_difference.png"))
                    .save_file(),
                DialogKind::CompareScan => {
                    let scans: Vec<&str> = photo::SUPPORTED_EXTENSIONS
                        .iter()
                        .chain(crate::scan::MESH_EXTENSIONS)
                        .copied()
                        .collect();
                    dialog
                        .set_title("Compare with a scan of the panel today")
                        .add_filter("Depth map or mesh (PNG, TIFF, …, STL, OBJ, PLY)", &scans)
                        .add_filter("Mesh (STL, OBJ, PLY)", crate::scan::MESH_EXTENSIONS)
                        .add_filter("Depth map (PNG, TIFF, …)", photo::SUPPORTED_EXTENSIONS)
                        .pick_file()
                }
                DialogKind::OpenProject => dialog
                    .set_title("Open project")
                    .add_filter("relievo project", &[project::EXTENSION])
                    .pick_file(),
                DialogKind::SaveProject => dialog
                    .set_title("Save project")
                    .add_filter("relievo project", &[project::EXTENSION])
                    .set_file_name(format!("{stem}.{}", project::EXTENSION))
                    .save_file(),
                DialogKind::WeightsFolder => dialog.set_title("Open weights folder").pick_folder(),
                DialogKind::DatasetFolder => dialog.set_title("Choose dataset folder").pick_folder(),
                DialogKind::TrainOutput => dialog.set_title("Training output folder").pick_folder(),
                DialogKind::SaveTrainedWeights => dialog.set_title("Save fine-tuned weights into folder").pick_folder(),
            };
            JobOutput::Picked {
                kind,
                path,
                quick: started.elapsed() < Duration::from_millis(300),
            }
        });
    }

    /// Whether opening a file now would drop unsaved hand edits (unless the user has
    /// just agreed to that).
    fn must_ask_before_replacing(&mut self) -> bool {
        !std::mem::take(&mut self.unsaved.discard_confirmed) && self.has_unsaved_edits()
    }

    /// Does what the unsaved-edits prompt held back, edits or not.
    fn go_ahead(&mut self, pending: Pending) {
        self.unsaved.discard_confirmed = true;
        match pending {
            Pending::Open(command) => self.apply(command),
            Pending::Close => self.egui_ctx.send_viewport_cmd(egui::ViewportCommand::Close),
        }
    }

    fn on_picked(&mut self, kind: DialogKind, path: Option<PathBuf>, quick: bool) {
        if path.is_none() && kind == DialogKind::SaveProject {
            // "Save project…" in the unsaved-edits prompt, then no file chosen: nothing
            // is opened or closed.
            self.unsaved.after_save = None;
        }
        let Some(path) = path else {
            if quick {
                self.message(
                    Severity::Warning,
                    "The file dialog could not open (no desktop portal?). Drop the file on the window or pass it on the command line.",
                );
            }
            return;
        };
        self.remember_folder(&path);
        let with_extension = |p: PathBuf, ext: &str| {
            if p.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext)) {
                p
            } else {
                p.with_extension(ext)
            }
        };
        let command = match kind {
            DialogKind::OpenPhoto => Command::OpenPhoto(path),
            DialogKind::OpenDepth => Command::OpenDepth(path),
            DialogKind::ExportStl => Command::ExportMesh(with_extension(path, "stl")),
            DialogKind::ExportTextured => Command::ExportMesh(match MeshFormat::from_path(&path, StlFormat::Binary) {
                Ok(MeshFormat::Obj | MeshFormat::Ply) => path,
                _ => with_extension(path, "obj"),
            }),
            DialogKind::ExportLayers => Command::ExportLayers(path),
            DialogKind::OpenProject => Command::OpenProject(path),
            DialogKind::CompareScan => Command::CompareScan(path),
            DialogKind::ExportDifference => Command::ExportDifference(with_extension(path, "png")),
            DialogKind::SaveProject => Command::SaveProject(with_extension(path, project::EXTENSION)),
            DialogKind::ExportDepth => Command::ExportDepthPng(with_extension(path, "png")),
            DialogKind::WeightsFolder => Command::LoadWeights(path),
            DialogKind::DatasetFolder => Command::SetDatasetFolder(Some(path)),
            DialogKind::TrainOutput => Command::SetTrainOutput(path),
            DialogKind::SaveTrainedWeights => Command::SaveTrainedWeights(path),
        };
        self.send(command);
    }

    fn on_opened(&mut self, path: PathBuf, content: Result<(Opened, DisplayImages), String>) {
        let (opened, display) = match content {
            Ok(opened) => opened,
            Err(e) => {
                self.message(Severity::Error, e);
                return;
            }
        };
        // Work for the previous document is no longer wanted.
        for kind in [
            JobKind::Inference,
            JobKind::Mesh,
            JobKind::Preview,
            JobKind::LightEstimate,
        ] {
            self.jobs.cancel(kind);
        }
        let id = self.next_doc_id;
        self.next_doc_id += 1;
        let is_depth = matches!(opened, Opened::Depth(_));
        let is_photo = matches!(opened, Opened::Photo(_));
        self.remember_recent(&path, is_depth);
        let mut doc = Document {
            id,
            path,
            photo: None,
            layers: None,
            depth: None,
            depth_range: (0.0, 1.0),
            no_layers: None,
            edits: None,
            selection: None,
            selection_version: 0,
            comparison: None,
            picked: Default::default(),
            relief_heights: None,
            saved_edits_version: 0,
        };
        match opened {
            Opened::Photo(photo) => {
                self.message(
                    Severity::Info,
                    format!("Opened {} ({}×{} px).", doc.name(), photo.width(), photo.height()),
                );
                doc.photo = Some(Arc::new(photo));
            }
            Opened::Depth(depth) => {
                self.message(
                    Severity::Info,
                    format!("Opened depth map {} ({}×{} px).", doc.name(), depth.width, depth.height),
                );
                doc.no_layers = Some(NoLayers::DepthMap);
                doc.depth_range = depth.min_max();
                doc.depth = Some(Arc::new(depth));
            }
            Opened::Project(opened) => {
                let OpenedProject {
                    project,
                    photo,
                    photo_note,
                } = *opened;
                let (w, h) = (project.depth.width, project.depth.height);
                let mut text = format!("Opened project {} ({w}×{h} px", doc.name());
                doc.path = project.source.clone();
                doc.photo = photo.map(Arc::new);
                doc.depth_range = project.depth.min_max();
                let depth = Arc::new(project.depth);
                doc.layers = match (project.edges, project.semantics) {
                    (Some(edges), Some(semantics)) => Some(Arc::new(Layers {
                        depth: (*depth).clone(),
                        edges,
                        semantics,
                    })),
                    _ => {
                        doc.no_layers = Some(NoLayers::NotInProject);
                        None
                    }
                };
                doc.depth = Some(depth);
                if let Some(e) = project.edits {
                    doc.edits = EditLayer::from_grids(e.offset_mm, e.damage, e.restored);
                    text.push_str(", with your edits");
                }
                text.push(')');
                if let Some(note) = photo_note {
                    text.push_str(&format!("; shown without its photo: {note}"));
                }
                self.message(Severity::Info, format!("{text}."));
                self.settings.relief = project.relief;
                self.apply_project_view(&project.app);
            }
        }
        self.doc = Some(doc);
        self.mesh = None;
        self.inspector.reset();
        self.inspector.accept(display);
        self.camera_needs_fit = true;
        if let Some(renderer) = self.renderer.as_mut() {
            renderer.clear_heights();
        }
        self.preview_key = None;
        self.preview_size = None;
        if is_photo {
            self.start_inference();
        } else {
            self.depth_changed();
            // A project's edits show in the depth layer too.
            self.refresh_depth_view();
        }
    }

    /// What a project records of the app besides the document: the view settings.
    fn project_view(&self) -> serde_json::Value {
        serde_json::json!({
            "view": self.settings.view,
            "inspector": self.settings.inspector,
            "edit": self.settings.edit,
        })
    }

    /// Takes a project's view settings back; any part missing or unreadable stays as it is.
    fn apply_project_view(&mut self, app: &serde_json::Value) {
        let part = |name: &str| app.get(name).cloned();
        if let Some(view) = part("view").and_then(|v| serde_json::from_value(v).ok()) {
            self.settings.view = view;
        }
        if let Some(inspector) = part("inspector").and_then(|v| serde_json::from_value(v).ok()) {
            self.settings.inspector = inspector;
        }
        if let Some(edit) = part("edit").and_then(|v| serde_json::from_value(v).ok()) {
            self.settings.edit = edit;
        }
    }

    /// Writes the document as a project (in a background job: the photo is hashed).
    fn save_project(&mut self, path: PathBuf) {
        let Some(doc) = &self.doc else {
            return self.message(Severity::Warning, "Nothing to save: open a photo or a depth map first.");
        };
        let Some(depth) = doc.depth.clone() else {
            return self.message(
                Severity::Warning,
                "Nothing to save yet: the depth is still being computed.",
            );
        };
        let edits = doc.edits.as_ref().map(|e| EditGrids {
            offset_mm: e.offset_mm().clone(),
            damage: e.damage().clone(),
            restored: e.restored().clone(),
        });
        let layers = doc.layers.clone();
        let photo_path = doc.photo.is_some().then(|| doc.path.clone());
        let weights = match &self.weights {
            WeightsState::Ready { dir, .. } if doc.layers.is_some() => Some(dir.clone()),
            _ => None,
        };
        let (source, relief, app) = (doc.path.clone(), self.settings.relief.clone(), self.project_view());
        let saving = (doc.id, doc.edits.as_ref().map_or(0, EditLayer::version));
        let p = path.clone();
        let started = self.spawn(JobKind::SaveProject, file_name(&path), move |handle| {
            let result = (|| {
                handle.set_status("hashing the photo");
                let photo = match photo_path {
                    Some(path) => {
                        let bytes = std::fs::read(&path)
                            .map_err(|e| format!("cannot read the photo {}: {e}", path.display()))?;
                        Some(PhotoRef {
                            hash: project::hash_bytes(&bytes),
                            path,
                        })
                    }
                    None => None,
                };
                handle.set_status("writing");
                let project = Project {
                    source,
                    photo,
                    weights,
                    relief,
                    app,
                    depth: (*depth).clone(),
                    edges: layers.as_ref().map(|l| l.edges.clone()),
                    semantics: layers.as_ref().map(|l| l.semantics.clone()),
                    edits,
                };
                project::save(&project, &p).map_err(logic::error_chain)?;
                Ok(format!("Saved project {}.", p.display()))
            })();
            JobOutput::Exported {
                what: "project",
                path: p,
                result,
            }
        });
        if started {
            self.unsaved.saving = Some(saving);
        }
    }

    /// Starts the network on the current photo, if there is one and the weights are ready.
    pub(crate) fn start_inference(&mut self) {
        let Some(doc) = &mut self.doc else { return };
        let Some(photo) = doc.photo.clone() else { return };
        match &self.weights {
            WeightsState::Loading => {}
            WeightsState::Missing { dir, reason } => {
                doc.no_layers = Some(NoLayers::NoWeights(reason.clone()));
                let text = format!(
                    "No trained weights in {}: layers are unavailable. Open a depth map (File › Open depth map…) to make a relief without the network.",
                    dir.display()
                );
                self.message(Severity::Warning, text);
            }
            WeightsState::Ready { weights, .. } => {
                let weights = weights.clone();
                let (doc_id, name) = (doc.id, doc.name());
                doc.no_layers = None;
                self.jobs.cancel(JobKind::Inference);
                self.spawn(JobKind::Inference, name, move |handle| {
                    handle.set_status("running the network");
                    let options = InferOptions::default();
                    let Ok(layers) = weights.predict(&photo, &options, handle.cancel_flag()) else {
                        return JobOutput::Cancelled;
                    };
                    handle.set_status("colouring the layers");
                    let display = DisplayImages::of_layers(&layers);
                    JobOutput::Layers {
                        doc_id,
                        layers: Box::new(layers),
                        display,
                    }
                });
            }
        }
    }

    /// One brush dab: made on the unedited relief in mm (computed once per relief
    /// parameters), then the 3D preview follows at once and the exact mesh after a pause.
    /// Replaces the selection (an empty one counts as none).
    fn set_selection(&mut self, selection: Option<Selection>) {
        if let Some(doc) = self.doc.as_mut() {
            doc.selection = selection.filter(|s| !s.is_empty());
            doc.selection_version += 1;
        }
    }

    fn apply_to_selection(&mut self, op: SelectionOp) {
        let params = self.settings.relief.clone();
        let Some(doc) = self.doc.as_mut() else { return };
        let Some(selection) = doc.selection.clone() else {
            return self.message(Severity::Warning, "Select a region first (lasso or magic).");
        };
        let heights = match doc.relief_heights_for(&params) {
            None => return,
            Some(Err(e)) => return self.message(Severity::Warning, format!("Cannot edit: {e}")),
            Some(Ok(heights)) => heights,
        };
        let changed = doc
            .edits
            .get_or_insert_with(|| EditLayer::new(heights.width, heights.height))
            .apply_selection(&heights, &selection, &op);
        if changed {
            self.edits_changed();
            self.refresh_depth_view();
        }
    }

    fn edit_dab(&mut self, at: [f32; 2]) {
        let params = self.settings.relief.clone();
        let brush = self.settings.edit.brush;
        let Some(doc) = self.doc.as_mut() else { return };
        let heights = match doc.relief_heights_for(&params) {
            None => return,
            Some(Err(e)) => return self.message(Severity::Warning, format!("Cannot edit: {e}")),
            Some(Ok(heights)) => heights,
        };
        doc.edits
            .get_or_insert_with(|| EditLayer::new(heights.width, heights.height))
            .dab(&heights, at, &brush);
        self.edits_changed();
    }

    /// Places the scan of the current comparison by the picked point pairs and measures
    /// the difference again.
    fn apply_points(&mut self, refine: bool) {
        let Some(doc) = &self.doc else { return };
        let Some(scan) = &doc.picked.scan else {
            return self.message(
                Severity::Warning,
                "Compare with a scan first (File ▸ Compare with a scan).",
            );
        };
        let pairs = doc.picked.complete();
        if pairs.len() < 3 {
            return self.message(
                Severity::Warning,
                format!(
                    "Placing the scan by hand needs 3 point pairs: {} picked. Click a point on the relief, then the same point on the scan.",
                    pairs.len()
                ),
            );
        }
        let (path, heights) = (scan.path.clone(), scan.heights.clone());
        self.compare_scan(path, Some(heights), Some(crate::compare::PointPairs { pairs, refine }));
    }

    /// Aligns a scan to the relief as it is now (edits included, photo orientation) and
    /// measures the difference, in a background job: searched for, or placed by `points`;
    /// the scan is read from `path` unless its `heights` are given.
    fn compare_scan(
        &mut self,
        path: PathBuf,
        heights: Option<Arc<Grid<f32>>>,
        points: Option<crate::compare::PointPairs>,
    ) {
        let params = self.settings.relief.clone();
        let Some(doc) = &self.doc else { return };
        let Some(depth) = doc.depth.clone() else {
            return self.message(
                Severity::Warning,
                "Comparing needs the relief: open a photo or a depth map first.",
            );
        };
        let edits = edits_for_mesh(doc);
        let doc_id = doc.id;
        let scan = path.clone();
        self.spawn(JobKind::Compare, file_name(&path), move |handle| {
            let mut scan_heights = heights;
            let result = (|| {
                let heights = match &scan_heights {
                    Some(heights) => heights.clone(),
                    None => {
                        handle.set_status("reading the scan");
                        let side = depth.width.max(depth.height);
                        let heights = Arc::new(crate::scan::load_scan(&scan, side).map_err(|e| e.to_string())?);
                        scan_heights = Some(heights.clone());
                        heights
                    }
                };
                let unmirrored = ReliefParams {
                    mirror: false,
                    ..params
                };
                let hf = relief::build_edited(&depth, edits.as_deref(), &unmirrored).map_err(|e| e.to_string())?;
                handle.set_status(if points.is_some() {
                    "placing by the point pairs"
                } else {
                    "aligning"
                });
                let options = crate::compare::CompareOptions {
                    points,
                    ..Default::default()
                };
                crate::compare::compare(&hf.z_mm, hf.mm_per_px_x, &heights, &options).map_err(|e| e.to_string())
            })();
            JobOutput::Compared {
                doc_id,
                scan,
                scan_heights,
                result,
            }
        });
    }

    /// Fills the marked damage in a background job (a large hole takes seconds); the result
    /// becomes one undo step if the edits have not changed meanwhile.
    fn repair_damage(&mut self) {
        let params = self.settings.relief.clone();
        let guided = self.settings.edit.repair_guided;
        let Some(doc) = self.doc.as_mut() else { return };
        let Some(edits) = doc.edits.as_mut().filter(|e| e.has_damage()) else {
            return self.message(
                Severity::Warning,
                "Nothing to repair: mark the damage with the Mark damage brush first.",
            );
        };
        edits.end_stroke();
        let relief = match doc.relief_heights_for(&params) {
            None => return,
            Some(Err(e)) => return self.message(Severity::Warning, format!("Cannot repair: {e}")),
            Some(Ok(heights)) => heights,
        };
        let Some(edits) = doc.edits.as_ref() else { return };
        let (heights, mask, version, doc_id) = (
            edits.edited_heights(&relief),
            edits.damage_mask(),
            edits.version(),
            doc.id,
        );
        let name = doc.name();
        self.spawn(JobKind::Repair, name, move |handle| {
            handle.set_status("filling the damage");
            let guide = guided.then_some(relief.as_ref());
            let filled = crate::repair::fill(&heights, &mask, guide).map_err(|e| e.to_string());
            JobOutput::Repaired {
                doc_id,
                version,
                mask,
                relief,
                filled,
            }
        });
    }

    /// Redraws the depth layer with the edits (after a stroke, an undo, a repair): the
    /// depth plus the edits in its own units (`relief_mm` spans its range; inversion flips
    /// them), coloured off the UI thread.
    fn refresh_depth_view(&mut self) {
        let params = &self.settings.relief;
        let Some(doc) = &self.doc else { return };
        let (Some(depth), Some(edits)) = (doc.depth.clone(), doc.edits.as_ref()) else {
            return;
        };
        let (lo, hi) = doc.depth_range;
        let per_mm = if params.relief_mm > 0.0 {
            (hi - lo) / params.relief_mm
        } else {
            0.0
        };
        let per_mm = if params.invert { -per_mm } else { per_mm };
        let offset = edits.offset_mm().clone();
        let (doc_id, version) = (doc.id, edits.version());
        self.jobs.cancel(JobKind::DepthView);
        self.spawn(JobKind::DepthView, "", move |_| {
            let edited = Grid::from_fn(depth.width, depth.height, |x, y| {
                depth.get(x, y) + offset.get(x, y) * per_mm
            });
            JobOutput::DepthView {
                doc_id,
                version,
                display: DisplayImages::of_depth(&edited),
            }
        });
    }

    /// The 3D view schedules its preview itself each frame (one job however many dabs a
    /// frame brings); the exact mesh follows after a pause.
    fn edits_changed(&mut self) {
        if self.doc.as_ref().is_some_and(|d| d.depth.is_some()) {
            self.jobs.cancel(JobKind::Mesh);
            self.mesh_due = Some(Instant::now() + super::MESH_DEBOUNCE);
        }
    }

    /// The document's depth changed: new preview heights, new mesh, inspector textures.
    fn depth_changed(&mut self) {
        self.inspector.invalidate();
        self.mesh = None;
        self.preview_key = None;
        self.preview_unedited = None;
        self.schedule_preview();
        self.mesh_due = Some(Instant::now());
    }

    fn schedule_preview(&mut self) {
        let Some(doc) = &self.doc else { return };
        let Some(depth) = doc.depth.clone() else { return };
        let params = &self.settings.relief;
        let smoothing = params.smoothing_px;
        let edits = doc.edits.as_ref().filter(|e| !e.is_empty() && params.relief_mm > 0.0);
        let key = PreviewKey {
            doc_id: doc.id,
            smoothing_bits: smoothing.to_bits(),
            edits_version: edits.map_or(0, |e| e.version()),
            relief_bits: edits.map_or(0, |_| params.relief_mm.to_bits()),
            invert: edits.is_some() && params.invert,
        };
        if self.preview_key == Some(key) {
            return;
        }
        // One preview job at a time for a document: while a brush or a slider moves, the
        // next frame asks again once the running one is done (jobs wake the UI).
        if self.jobs.is_running(JobKind::Preview) && self.preview_key.is_some_and(|k| k.doc_id == key.doc_id) {
            return;
        }
        // mm → the preview's 0..1 of the relief; the shader inverts heights, not edits.
        let edits = edits.map(|e| {
            let sign = if params.invert { -1.0 } else { 1.0 };
            (e.offset_mm().clone(), sign / params.relief_mm)
        });
        let name = doc.name();
        self.preview_key = Some(key);
        self.jobs.cancel(JobKind::Preview);
        let current_grid = self.renderer.as_ref().and_then(|r| r.grid_size());
        // The unedited heights are kept: a brush dab only adds its edits to them.
        let unedited = self
            .preview_unedited
            .as_ref()
            .filter(|(k, _)| (k.doc_id, k.smoothing_bits) == (key.doc_id, key.smoothing_bits))
            .map(|(_, h)| h.clone());
        self.spawn(JobKind::Preview, name, move |_| {
            let started = Instant::now();
            let unedited = unedited
                .unwrap_or_else(|| Arc::new(logic::preview_heights(&depth, smoothing, logic::PREVIEW_MAX_SIDE_PX)));
            let mut heights = (*unedited).clone();
            if let Some((offset_mm, per_mm)) = edits {
                let offset = logic::preview_grid(&offset_mm, logic::PREVIEW_MAX_SIDE_PX);
                for (h, o) in heights.data.iter_mut().zip(&offset.data) {
                    *h += o * per_mm;
                }
            }
            let data = Box::new(super::render::prepare_preview(&heights, current_grid));
            JobOutput::Preview {
                key,
                data,
                unedited,
                secs: started.elapsed().as_secs_f64(),
            }
        });
    }

    fn set_relief(&mut self, params: ReliefParams) {
        if params == self.settings.relief {
            return;
        }
        let size_changed = params.width_mm != self.settings.relief.width_mm
            || params.height_mm != self.settings.relief.height_mm
            || params.relief_mm != self.settings.relief.relief_mm
            || params.base_mm != self.settings.relief.base_mm;
        self.settings.relief = params;
        if size_changed {
            self.camera_needs_fit = true;
        }
        self.schedule_preview();
        // The exact mesh follows once the user pauses.
        if self.doc.as_ref().is_some_and(|d| d.depth.is_some()) {
            self.jobs.cancel(JobKind::Mesh);
            self.mesh_due = Some(Instant::now() + super::MESH_DEBOUNCE);
        }
    }

    pub(crate) fn start_mesh_job(&mut self) {
        if self.current_mesh().is_some() {
            return;
        }
        let Some(key) = self.mesh_key() else { return };
        let Some(doc) = &self.doc else { return };
        let Some(depth) = doc.depth.clone() else { return };
        let edits = edits_for_mesh(doc);
        let name = doc.name();
        self.spawn(JobKind::Mesh, name, move |handle| {
            handle.set_status("building the heightfield");
            let hf = match relief::build_edited(&depth, edits.as_deref(), &key.params) {
                Ok(hf) => hf,
                Err(e) => {
                    let result = Err(e.to_string());
                    return JobOutput::Mesh { key, result };
                }
            };
            handle.set_status("triangulating");
            match mesh::solid_cancellable(&hf, key.params.max_error_mm, handle.cancel_flag()) {
                Ok(mesh) => JobOutput::Mesh {
                    key,
                    result: Ok(Arc::new(mesh)),
                },
                Err(Cancelled) => JobOutput::Cancelled,
            }
        });
    }

    fn export_mesh(&mut self, path: PathBuf) {
        let format = match MeshFormat::from_path(&path, StlFormat::Binary) {
            Ok(format) => format,
            Err(e) => return self.message(Severity::Error, e.to_string()),
        };
        let Some(doc) = &self.doc else {
            self.message(
                Severity::Warning,
                "Nothing to export: open a photo or a depth map first.",
            );
            return;
        };
        let Some(depth) = doc.depth.clone() else {
            let why = doc
                .no_layers
                .as_ref()
                .map_or_else(|| "the layers are still being computed".into(), NoLayers::describe);
            self.message(Severity::Warning, format!("No depth yet ({why}); the mesh needs one."));
            return;
        };
        let params = self.settings.relief.clone();
        let cached = self.current_mesh().map(|m| m.mesh.clone());
        let edits = edits_for_mesh(doc);
        let counts = doc.edits.as_ref().map(EditLayer::counts).unwrap_or_default();
        let (edited_px, restored_px) = (counts.edited, counts.restored);
        let source = doc.path.clone();
        let photo = doc.photo.clone();
        let weights = match &self.weights {
            WeightsState::Ready { dir, .. } if doc.layers.is_some() => Some(dir.clone()),
            _ => None,
        };
        let p = path.clone();
        self.spawn(JobKind::ExportMesh, file_name(&path), move |handle| {
            let result = (|| {
                let mesh = match cached {
                    Some(mesh) => mesh,
                    None => {
                        handle.set_status("meshing");
                        let hf = relief::build_edited(&depth, edits.as_deref(), &params).map_err(|e| e.to_string())?;
                        let mesh = mesh::solid_cancellable(&hf, params.max_error_mm, handle.cancel_flag())
                            .map_err(|e| e.to_string())?;
                        Arc::new(mesh)
                    }
                };
                handle.set_status("writing");
                let texture = photo.as_deref().map(|photo| Texture {
                    rgb: &photo.rgb,
                    mirrored: params.mirror,
                });
                let provenance = export::Provenance {
                    source: Some(&source),
                    weights: weights.as_deref(),
                    relief: &params,
                    edited_px,
                    restored_px,
                };
                let bytes = export::write_mesh_with_sidecar(&mesh, &p, format, texture, &provenance)
                    .map_err(logic::error_chain)?;
                Ok(format!(
                    "Exported {} ({} triangles, {}).",
                    p.display(),
                    logic::format_count(mesh.triangle_count()),
                    logic::format_bytes(bytes)
                ))
            })();
            JobOutput::Exported {
                what: match format {
                    MeshFormat::Stl(_) => "STL",
                    MeshFormat::Obj => "OBJ",
                    MeshFormat::Ply => "PLY",
                },
                path: p,
                result,
            }
        });
    }

    fn export_layers(&mut self, dir: PathBuf) {
        let Some(layers) = self.layers().cloned() else {
            self.message(
                Severity::Warning,
                "No layers to export: open a photo and wait for the network.",
            );
            return;
        };
        let d = dir.clone();
        self.spawn(JobKind::ExportLayers, file_name(&dir), move |_| JobOutput::Exported {
            what: "layers",
            result: layers::write_layers(&layers, &d)
                .map(|written| format!("Wrote {} files into {}.", written.len(), d.display()))
                .map_err(logic::error_chain),
            path: d,
        });
    }

    fn export_depth(&mut self, path: PathBuf) {
        let Some(depth) = self.doc.as_ref().and_then(|d| d.depth.clone()) else {
            self.message(Severity::Warning, "No depth to export yet.");
            return;
        };
        let p = path.clone();
        self.spawn(JobKind::ExportDepth, file_name(&path), move |_| JobOutput::Exported {
            what: "depth PNG",
            result: export::write_png16(&depth, &p)
                .map(|()| format!("Wrote {} (16-bit, 65535 = most raised).", p.display()))
                .map_err(logic::error_chain),
            path: p,
        });
    }

    fn export_difference(&mut self, path: PathBuf) {
        let Some((doc, comparison)) = self.doc.as_ref().and_then(|d| Some((d, d.comparison.as_ref()?))) else {
            return self.message(
                Severity::Warning,
                "Compare with a scan first (File ▸ Compare with a scan).",
            );
        };
        let (source, scan, result) = (doc.path.clone(), comparison.scan.clone(), comparison.result.clone());
        let p = path.clone();
        self.spawn(JobKind::ExportDifference, file_name(&path), move |_| {
            JobOutput::Exported {
                what: "difference",
                result: crate::compare::write_difference(&result, &source, &scan, &p)
                    .map(|_| format!("Wrote {} and {}.", p.display(), p.with_extension("json").display()))
                    .map_err(logic::error_chain),
                path: p,
            }
        });
    }

    fn estimate_light(&mut self) {
        let Some(doc) = &self.doc else { return };
        let (Some(photo), Some(depth)) = (doc.photo.clone(), doc.depth.clone()) else {
            self.message(
                Severity::Warning,
                "Matching the photo's light needs a photo and its predicted depth.",
            );
            return;
        };
        let params = self.settings.relief.clone();
        let name = doc.name();
        self.spawn(JobKind::LightEstimate, name, move |_| {
            let luminance = photo.luminance();
            let depth = if (depth.width, depth.height) == (luminance.width, luminance.height) {
                (*depth).clone()
            } else {
                depth.resized(luminance.width, luminance.height)
            };
            // Fit on at most ~1024 px per side; the pitch grows with the block size.
            let factor = luminance.width.max(luminance.height).div_ceil(1024).max(1);
            let (luminance, depth) = if factor > 1 {
                (
                    logic::box_downsample(&luminance, factor),
                    logic::box_downsample(&depth, factor),
                )
            } else {
                (luminance, depth)
            };
            let (lo, hi) = depth.min_max();
            let height_mm = depth.map(|d| logic::height_mm_of(d, (lo, hi), &params));
            let [w_mm, h_mm] = logic::footprint_mm(&params, depth.width, depth.height);
            let fit = logic::estimate_light(
                &luminance,
                &height_mm,
                w_mm / (depth.width - 1) as f32,
                h_mm / (depth.height - 1) as f32,
            );
            JobOutput::Light {
                mirror: params.mirror,
                fit,
            }
        });
    }

    fn load_weights(&mut self, dir: PathBuf) {
        if self.jobs.is_running(JobKind::Training) {
            self.message(Severity::Warning, "Stop the training run before switching weights.");
            return;
        }
        // Remembered across runs unless it is the shipped folder.
        self.settings.weights_dir = (dir != self.options.weights_dir).then(|| dir.clone());
        self.weights = WeightsState::Loading;
        let (known_device, engine) = (self.device.clone(), self.engine.clone());
        let d = dir.clone();
        self.jobs.cancel(JobKind::LoadWeights);
        self.spawn(JobKind::LoadWeights, file_name(&dir), move |handle| {
            handle.set_status("looking for a GPU");
            let device = known_device.unwrap_or_else(|| {
                engine
                    .select_device(DeviceChoice::Auto)
                    .unwrap_or_else(|_| engine.cpu_device("no GPU found"))
            });
            handle.set_status("loading weights");
            let weights = device.load_weights(&d).map_err(|e| format!("{e:#}"));
            JobOutput::Weights {
                device,
                dir: d,
                weights,
            }
        });
    }

    fn start_training(&mut self, resume: bool) {
        let Some(device) = self.device.clone() else {
            self.message(
                Severity::Warning,
                "The compute device is not ready yet; try again in a moment.",
            );
            return;
        };
        let shipped = match &self.weights {
            WeightsState::Ready { dir, .. } => Some(dir.clone()),
            _ => None,
        };
        let default_out = default_run_dir();
        match self.training.prepare(
            &self.settings.train,
            shipped,
            default_out,
            resume,
            &*self.engine,
            device,
            &self.egui_ctx,
        ) {
            Ok((label, work)) => {
                if self.spawn(JobKind::Training, label, move |handle| {
                    JobOutput::TrainingEnded(work(handle))
                }) {
                    self.settings.tab = super::settings::Tab::Training;
                } else {
                    self.training.abandon();
                }
            }
            Err(e) => self.message(Severity::Warning, e),
        }
    }

    fn train_preview(&mut self) {
        let Some(dir) = self.training.best_dir.clone() else {
            return;
        };
        let Some(device) = self.device.clone() else {
            return;
        };
        let photo = self.doc.as_ref().and_then(|d| d.photo.clone());
        let seed = self.settings.train.run.seed;
        let size_px = self.settings.train.run.synthetic_size_px;
        self.jobs.cancel(JobKind::TrainPreview);
        self.spawn(JobKind::TrainPreview, "", move |_| {
            JobOutput::TrainPreview(device.train_preview(&dir, photo, seed, size_px))
        });
    }

    fn save_trained_weights(&mut self, target: PathBuf) {
        let Some(best) = self.training.best_dir.clone() else {
            self.message(Severity::Warning, "No trained weights to save yet.");
            return;
        };
        let (t, engine) = (target.clone(), self.engine.clone());
        self.spawn(JobKind::SaveWeights, file_name(&target), move |_| {
            let result = engine.copy_weights(&best, &t).map_err(|e| format!("{e:#}"));
            JobOutput::SavedWeights { dir: t, result }
        });
    }

    // -----------------------------------------------------------------------------------------
    // Results

    pub(crate) fn on_job_finished(&mut self, finished: Finished<JobOutput>) {
        let output = match finished.result {
            Ok(output) => output,
            Err(panic) => {
                if finished.kind == JobKind::Inference
                    && let Some(doc) = &mut self.doc
                {
                    doc.no_layers = Some(NoLayers::Failed(panic.clone()));
                }
                self.message(Severity::Error, panic);
                return;
            }
        };
        let secs = finished.elapsed_secs;
        match output {
            JobOutput::Weights { device, dir, weights } => {
                self.device = Some(device);
                match weights {
                    Ok(weights) => {
                        self.message(
                            Severity::Info,
                            format!(
                                "Network weights loaded from {} ({}).",
                                dir.display(),
                                super::logic::format_secs(secs)
                            ),
                        );
                        self.weights = WeightsState::Ready { weights, dir };
                    }
                    Err(reason) => self.weights = WeightsState::Missing { dir, reason },
                }
                let needs_layers = self
                    .doc
                    .as_ref()
                    .is_some_and(|d| d.photo.is_some() && d.layers.is_none() && d.no_layers.is_none());
                let switched = self.doc.as_ref().is_some_and(|d| d.photo.is_some());
                if needs_layers || switched {
                    self.start_inference();
                } else if let WeightsState::Missing { dir, .. } = &self.weights {
                    let text = format!(
                        "No trained weights in {}: layers are unavailable. You can still open a depth map (File › Open depth map…).",
                        dir.display()
                    );
                    self.message(Severity::Warning, text);
                }
            }
            JobOutput::Opened { path, content } => match self.open_next.take() {
                Some(next) => self.apply(next),
                None => self.on_opened(path, content),
            },
            JobOutput::Layers {
                doc_id,
                layers,
                display,
            } => {
                let Some(doc) = self.doc.as_mut().filter(|d| d.id == doc_id) else {
                    return;
                };
                self.timings.inference_secs = Some(secs);
                doc.depth_range = layers.depth.min_max();
                doc.depth = Some(Arc::new(layers.depth.clone()));
                doc.layers = Some(Arc::new(*layers));
                doc.no_layers = None;
                // Edits are in mm over the same pixels: they stay on the new depth.
                doc.relief_heights = None;
                let kept_edits = doc.edits.as_ref().is_some_and(|e| !e.is_empty());
                let name = doc.name();
                let kept = if kept_edits {
                    "; your edits are kept over it"
                } else {
                    ""
                };
                self.message(
                    Severity::Info,
                    format!("Layers of {name} ready ({}){kept}.", logic::format_secs(secs)),
                );
                self.depth_changed();
                self.inspector.accept(display);
                if kept_edits {
                    self.refresh_depth_view();
                }
            }
            JobOutput::Preview {
                key,
                data,
                unedited,
                secs: work_secs,
            } => {
                if self.preview_key == Some(key) {
                    self.timings.preview_secs = Some(work_secs);
                    self.preview_pending = Some(data);
                    self.preview_unedited = Some((key, unedited));
                }
            }
            JobOutput::Mesh { key, result } => {
                if self.doc.as_ref().is_none_or(|d| d.id != key.doc_id) {
                    return;
                }
                match result {
                    Ok(mesh) => {
                        self.timings.mesh_secs = Some(secs);
                        let stale = self.mesh_key().as_ref() != Some(&key);
                        self.mesh = Some(MeshResult { key, mesh, secs });
                        if stale && self.mesh_due.is_none() {
                            self.mesh_due = Some(Instant::now());
                        }
                    }
                    Err(e) => self.message(Severity::Error, e),
                }
            }
            JobOutput::TrainingEnded(result) => {
                if let Err(e) = result {
                    self.message(Severity::Error, format!("Training stopped: {e}"));
                    self.training.fail(e);
                }
            }
            JobOutput::Exported { what, path, result } => {
                let saved = (what == "project").then(|| self.unsaved.saving.take()).flatten();
                match result {
                    Ok(text) => {
                        self.timings.export_secs = Some(secs);
                        self.message(Severity::Info, text);
                        self.last_export = Some(path);
                        if let Some((id, version)) = saved
                            && let Some(doc) = self.doc.as_mut().filter(|d| d.id == id)
                        {
                            doc.saved_edits_version = version;
                        }
                        if let Some(pending) = self.unsaved.after_save.take() {
                            self.go_ahead(pending);
                        }
                    }
                    Err(e) => {
                        if saved.is_some() {
                            self.unsaved.after_save = None;
                        }
                        self.message(Severity::Error, format!("{what} export failed: {e}"));
                    }
                }
            }
            JobOutput::Light { mirror, fit } => match fit {
                Some(fit) => {
                    // Mirroring the relief mirrors the light across the y axis.
                    let azimuth_deg = if mirror {
                        180.0 - fit.azimuth_deg
                    } else {
                        fit.azimuth_deg
                    };
                    self.message(
                        Severity::Info,
                        format!(
                            "Photo light: azimuth {:.0}°, elevation {:.0}° (fit R² {:.2} over {} px).",
                            azimuth_deg.rem_euclid(360.0),
                            fit.elevation_deg,
                            fit.r_squared,
                            fit.samples
                        ),
                    );
                    self.send(Command::SetLight {
                        azimuth_deg,
                        elevation_deg: fit.elevation_deg.max(5.0),
                    });
                }
                None => self.message(
                    Severity::Warning,
                    "The photo's shading does not fit the depth; light left as it was.",
                ),
            },
            JobOutput::Dataset { dir, report } => {
                if self.settings.train.run.data.as_deref() == Some(dir.as_path()) {
                    self.training.dataset = Some((dir, report));
                }
            }
            JobOutput::TrainPreview(result) => match result {
                Ok(images) => self.training.set_preview(images),
                Err(e) => self.message(Severity::Warning, format!("Training preview: {e}")),
            },
            JobOutput::SavedWeights { dir, result } => match result {
                Ok(()) => self.message(
                    Severity::Info,
                    format!("Saved the fine-tuned weights into {}.", dir.display()),
                ),
                Err(e) => self.message(Severity::Error, format!("Saving weights failed: {e}")),
            },
            JobOutput::Picked { kind, path, quick } => self.on_picked(kind, path, quick),
            JobOutput::Cancelled => {}
            JobOutput::DepthView {
                doc_id,
                version,
                display,
            } => {
                let current = self
                    .doc
                    .as_ref()
                    .filter(|d| d.id == doc_id)
                    .and_then(|d| d.edits.as_ref())
                    .is_some_and(|e| e.version() == version);
                if current {
                    self.inspector.accept(display);
                }
            }
            JobOutput::Compared {
                doc_id,
                scan,
                scan_heights,
                result,
            } => {
                let serial = self.next_doc_id;
                self.next_doc_id += 1;
                let Some(doc) = self.doc.as_mut().filter(|d| d.id == doc_id) else {
                    return;
                };
                // The scan read, aligned or not, is what point pairs place.
                if let Some(heights) = scan_heights {
                    if doc.picked.scan.as_ref().is_none_or(|s| s.path != scan) {
                        doc.picked.pairs.clear();
                    }
                    doc.picked.scan = Some(ReadScan {
                        path: scan.clone(),
                        heights,
                        serial,
                    });
                }
                match result {
                    Err(e) => {
                        let mut text = format!("Comparison with {} failed: {e}", file_name(&scan));
                        if doc.comparison.is_none() && doc.picked.scan.as_ref().is_some_and(|s| s.path == scan) {
                            // The scan was read but not placed: offer to place it by hand.
                            doc.picked.active = true;
                            text.push_str(" Place it by hand: click a point on the relief, then the same point on the scan, three times, and Apply.");
                        }
                        self.message(Severity::Error, text);
                    }
                    Ok(result) => {
                        let (a, st) = (&result.alignment, &result.stats);
                        let placed = match &a.points {
                            Some(p) => format!(
                                "placed by {} point pairs ({:.2} px residual{})",
                                p.pairs,
                                p.residual_px,
                                if p.refined { ", refined by the heights" } else { "" }
                            ),
                            None => "aligned".into(),
                        };
                        let text = format!(
                            "{} {placed} (rotation {:.1}°, zoom {:.3}, residual {:.3} mm): lost {:.0} mm² / {:.0} mm³ (deepest {:.2} mm), added {:.0} mm² / {:.0} mm³ beyond ±{:.2} mm.",
                            file_name(&scan),
                            a.rotation_deg,
                            a.zoom,
                            a.residual_mm,
                            st.area_lost_mm2,
                            st.volume_lost_mm3,
                            st.max_loss_mm,
                            st.area_added_mm2,
                            st.volume_added_mm3,
                            st.tolerance_mm
                        );
                        doc.comparison = Some(ScanComparison { scan, result, serial });
                        self.message(Severity::Info, text);
                    }
                }
            }
            JobOutput::Repaired {
                doc_id,
                version,
                mask,
                relief,
                filled,
            } => {
                let Some(edits) = self
                    .doc
                    .as_mut()
                    .filter(|d| d.id == doc_id)
                    .and_then(|d| d.edits.as_mut())
                else {
                    return;
                };
                match filled {
                    Err(e) => self.message(Severity::Error, format!("Repair failed: {e}")),
                    Ok(_) if edits.version() != version => self.message(
                        Severity::Warning,
                        "The edits changed while the repair ran; run Repair damage again.",
                    ),
                    Ok(filled) => {
                        edits.accept_fill(&relief, &filled, &mask);
                        let n = mask.data.iter().filter(|&&m| m).count();
                        self.message(
                            Severity::Info,
                            format!("Repaired {n} px in {} (undo: Ctrl+Z).", logic::format_secs(secs)),
                        );
                        self.edits_changed();
                        self.refresh_depth_view();
                    }
                }
            }
        }
    }

    /// Keeps the preview geometry in step with the settings; called by the 3D view each frame.
    pub(crate) fn sync_preview(&mut self) {
        self.schedule_preview();
        self.upload_pending_preview();
    }

    pub(crate) fn take_camera_fit(&mut self) -> bool {
        std::mem::take(&mut self.camera_needs_fit)
    }
}

/// The document's edits for a mesh job (a copy: the brush goes on while it runs), or
/// `None` without edits.
fn edits_for_mesh(doc: &Document) -> Option<Arc<Grid<f32>>> {
    doc.edits
        .as_ref()
        .filter(|e| !e.is_empty())
        .map(|e| Arc::new(e.offset_mm().clone()))
}

/// The dispatcher's state changes, driven as the frame loop drives them (`logic` polls the
/// jobs and applies the queued commands), with no window, no GPU and no network: the app
/// drives a [`FakeEngine`] through the `Engine` trait (the real one, burn's, is tested
/// through the app in `tests/app_ui.rs`), and the 3D renderer is whatever
/// `ReliefRenderer::standalone` finds, possibly none.
#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use anyhow::Context as _;

    use super::*;
    use crate::cancel::Cancel;
    use crate::engine::{
        DatasetReport, Engine, EngineDevice, LoadedWeights, PreviewImages, TrainConfig, TrainControl, TrainEvent,
    };
    use crate::photo::Photo;
    use crate::settings::{Settings, Tab};
    use crate::{AppOptions, Command};

    /// The file that makes a folder fake weights; "slow" in it makes inference run until
    /// cancelled.
    const FAKE_WEIGHTS: &str = "fake.weights";

    /// A network without burn: weights are a folder holding [`FAKE_WEIGHTS`], inference gives
    /// a left-to-right ramp of the photo's size, a dataset folder has as many pairs as files.
    /// Counts the predictions started and the ones that ended.
    #[derive(Debug, Default)]
    struct FakeEngine {
        started: Arc<AtomicUsize>,
        ended: Arc<AtomicUsize>,
    }

    #[derive(Debug)]
    struct FakeDevice {
        started: Arc<AtomicUsize>,
        ended: Arc<AtomicUsize>,
    }

    struct FakeWeights {
        slow: bool,
        started: Arc<AtomicUsize>,
        ended: Arc<AtomicUsize>,
    }

    impl Engine for FakeEngine {
        fn default_weights_dir(&self) -> PathBuf {
            PathBuf::from("fake-default-weights")
        }
        fn select_device(&self, _: DeviceChoice) -> anyhow::Result<Arc<dyn EngineDevice>> {
            anyhow::bail!("the fake engine has no GPU")
        }
        fn cpu_device(&self, reason: &str) -> Arc<dyn EngineDevice> {
            assert_eq!(reason, "no GPU found");
            Arc::new(FakeDevice {
                started: self.started.clone(),
                ended: self.ended.clone(),
            })
        }
        fn copy_weights(&self, from: &Path, to: &Path) -> anyhow::Result<()> {
            std::fs::create_dir_all(to)?;
            std::fs::copy(from.join(FAKE_WEIGHTS), to.join(FAKE_WEIGHTS))?;
            Ok(())
        }
        fn check_dataset(&self, dir: &Path) -> DatasetReport {
            DatasetReport {
                pairs: std::fs::read_dir(dir).map_or(0, |d| d.count()),
                problems: vec!["checked by the fake engine".into()],
                ..DatasetReport::default()
            }
        }
        fn has_checkpoint(&self, _: &Path) -> bool {
            false
        }
        fn best_dir(&self, out: &Path) -> PathBuf {
            out.join("best")
        }
    }

    impl EngineDevice for FakeDevice {
        fn label(&self) -> &str {
            "CPU — fake engine"
        }
        fn is_gpu(&self) -> bool {
            false
        }
        fn load_weights(&self, dir: &Path) -> anyhow::Result<Arc<dyn LoadedWeights>> {
            let text = std::fs::read_to_string(dir.join(FAKE_WEIGHTS))
                .with_context(|| format!("no fake weights in {}", dir.display()))?;
            Ok(Arc::new(FakeWeights {
                slow: text.contains("slow"),
                started: self.started.clone(),
                ended: self.ended.clone(),
            }))
        }
        fn train(
            &self,
            _: TrainConfig,
            _: bool,
            _: &TrainControl,
            _: &mut dyn FnMut(TrainEvent),
        ) -> anyhow::Result<()> {
            anyhow::bail!("the fake engine does not train")
        }
        fn train_preview(&self, _: &Path, _: Option<Arc<Photo>>, _: u64, _: usize) -> Result<PreviewImages, String> {
            Err("the fake engine makes no preview".into())
        }
    }

    impl LoadedWeights for FakeWeights {
        fn predict(&self, photo: &Photo, _: &InferOptions, cancel: &Cancel) -> Result<Layers, Cancelled> {
            self.started.fetch_add(1, Ordering::SeqCst);
            let result = (|| {
                while self.slow {
                    cancel.check()?;
                    std::thread::sleep(Duration::from_millis(5));
                }
                let (w, h) = (photo.width(), photo.height());
                Ok(Layers {
                    depth: Grid::from_fn(w, h, |x, _| x as f32 / (w - 1).max(1) as f32),
                    edges: Grid::filled(w, h, 0),
                    semantics: Grid::filled(w, h, 0),
                })
            })();
            self.ended.fetch_add(1, Ordering::SeqCst);
            result
        }
    }

    fn app(weights_dir: PathBuf) -> (egui::Context, RelievoApp) {
        app_with(weights_dir, Arc::new(FakeEngine::default()))
    }

    fn app_with(weights_dir: PathBuf, engine: Arc<FakeEngine>) -> (egui::Context, RelievoApp) {
        let ctx = egui::Context::default();
        let options = AppOptions {
            weights_dir,
            ..AppOptions::default()
        };
        let app = RelievoApp::new(&ctx, None, Settings::default(), options, engine);
        (ctx, app)
    }

    /// Fake weights in `dir/weights` ("slow" ones run until cancelled) and a 96 × 64 photo.
    fn fake_weights_and_photo(dir: &Path, slow: bool) -> (PathBuf, PathBuf) {
        let weights = dir.join("weights");
        std::fs::create_dir_all(&weights).unwrap();
        std::fs::write(weights.join(FAKE_WEIGHTS), if slow { "slow" } else { "fast" }).unwrap();
        let photo = dir.join("panel.png");
        image::RgbImage::from_fn(96, 64, |x, y| image::Rgb([(x * 2) as u8, (y * 3) as u8, 128]))
            .save(&photo)
            .unwrap();
        (weights, photo)
    }

    /// Runs frames' logic until `done` holds (at most 20 s).
    fn pump(ctx: &egui::Context, app: &mut RelievoApp, done: impl Fn(&RelievoApp) -> bool) {
        let start = Instant::now();
        while !done(app) {
            assert!(start.elapsed() < Duration::from_secs(20), "timed out");
            app.logic(ctx);
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// A temporary folder, removed when the returned guard drops.
    fn scratch() -> (tempfile::TempDir, PathBuf) {
        let guard = tempfile::tempdir().unwrap();
        let dir = guard.path().to_path_buf();
        (guard, dir)
    }

    #[test]
    fn view_commands_change_the_settings_they_name() {
        let (_tmp, dir) = scratch();
        let (ctx, mut app) = app(dir.join("no-weights"));
        let before = app.settings.clone();
        app.send(Command::ToggleReliefPanel);
        app.send(Command::ToggleFrameOverlay);
        app.send(Command::SetTab(Tab::Training));
        app.logic(&ctx);
        assert_eq!(app.settings.show_relief_panel, !before.show_relief_panel);
        assert_eq!(app.settings.show_frame_overlay, !before.show_frame_overlay);
        assert_eq!(app.settings.tab, Tab::Training);
        app.send(Command::ToggleFrameOverlay);
        app.logic(&ctx);
        assert_eq!(app.settings.show_frame_overlay, before.show_frame_overlay);
    }

    #[test]
    fn missing_weights_and_a_missing_photo_give_states_and_messages_not_documents() {
        let (_tmp, dir) = scratch();
        let (ctx, mut app) = app(dir.join("no-weights"));
        pump(&ctx, &mut app, |a| !matches!(a.weights, WeightsState::Loading));
        assert!(matches!(app.weights, WeightsState::Missing { .. }));
        app.send(Command::OpenPath(dir.join("not-there.png")));
        pump(&ctx, &mut app, |a| {
            !a.jobs.is_running(JobKind::OpenFile) && a.commands.is_empty()
        });
        assert!(app.doc.is_none());
        let last = app.messages.back().expect("an error message");
        assert_eq!(last.severity, Severity::Error);
        assert!(last.text.contains("not-there.png"), "{}", last.text);
    }

    #[test]
    fn an_opened_depth_map_becomes_the_document_and_a_relief_change_schedules_a_mesh() {
        let (_tmp, dir) = scratch();
        let path = dir.join("panel_depth.png");
        let depth = Grid::from_fn(48, 32, |x, y| ((x as f32 / 47.0) + (y as f32 / 31.0)) / 2.0);
        crate::export::write_png16(&depth, &path).unwrap();
        let (ctx, mut app) = app(dir.join("no-weights"));
        app.send(Command::OpenDepth(path.clone()));
        pump(&ctx, &mut app, |a| {
            a.doc.is_some() && !a.jobs.is_running(JobKind::OpenFile)
        });
        let doc = app.doc.as_ref().unwrap();
        assert_eq!(doc.path, path);
        assert_eq!(doc.size_px(), Some([48, 32]));
        assert_eq!(doc.no_layers, Some(NoLayers::DepthMap));
        let (lo, hi) = doc.depth_range;
        assert!(lo < 0.01 && hi > 0.99, "{lo}..{hi}");

        app.mesh_due = None;
        let mut relief = app.settings.relief.clone();
        relief.relief_mm += 1.0;
        app.send(Command::SetRelief(relief.clone()));
        app.logic(&ctx);
        assert_eq!(app.settings.relief, relief);
        assert!(app.mesh_due.is_some() || app.jobs.is_running(JobKind::Mesh));
        pump(&ctx, &mut app, |a| a.current_mesh().is_some());
        assert!(app.current_mesh().unwrap().mesh.triangle_count() > 0);
    }

    #[test]
    fn an_engine_behind_the_trait_loads_weights_and_gives_an_opened_photo_its_layers() {
        let (_tmp, dir) = scratch();
        let (weights, photo) = fake_weights_and_photo(&dir, false);
        let engine = Arc::new(FakeEngine::default());
        let (ctx, mut app) = app_with(weights.clone(), engine.clone());
        pump(&ctx, &mut app, |a| !matches!(a.weights, WeightsState::Loading));
        assert!(matches!(&app.weights, WeightsState::Ready { dir, .. } if *dir == weights));
        assert_eq!(app.device.as_ref().map(|d| d.label()), Some("CPU — fake engine"));
        app.send(Command::OpenPhoto(photo));
        pump(&ctx, &mut app, |a| a.doc.as_ref().is_some_and(|d| d.layers.is_some()));
        let layers = app.doc.as_ref().unwrap().layers.clone().unwrap();
        assert_eq!([layers.depth.width, layers.depth.height], [96, 64]);
        assert_eq!(layers.depth.get(95, 10), 1.0);
        assert_eq!(engine.started.load(Ordering::SeqCst), 1);

        // A dataset folder is checked by the engine; the report reaches the training panel.
        let data = dir.join("data");
        std::fs::create_dir_all(data.join("images")).unwrap();
        app.send(Command::SetDatasetFolder(Some(data.clone())));
        pump(&ctx, &mut app, |a| a.training.dataset.is_some());
        let (checked, report) = app.training.dataset.clone().unwrap();
        assert_eq!((checked, report.pairs), (data, 1));
        assert_eq!(report.problems, ["checked by the fake engine"]);

        // Weights the engine cannot load leave the app without layers and say why.
        app.send(Command::LoadWeights(dir.join("elsewhere")));
        app.logic(&ctx);
        assert!(matches!(app.weights, WeightsState::Loading));
        pump(&ctx, &mut app, |a| !matches!(a.weights, WeightsState::Loading));
        match &app.weights {
            WeightsState::Missing { reason, .. } => assert!(reason.contains("no fake weights"), "{reason}"),
            _ => panic!("weights from a folder without them"),
        }
    }

    #[test]
    fn cancelling_inference_stops_its_worker_within_a_second() {
        let (_tmp, dir) = scratch();
        let (weights, photo) = fake_weights_and_photo(&dir, true);
        let engine = Arc::new(FakeEngine::default());
        let (ctx, mut app) = app_with(weights, engine.clone());
        pump(&ctx, &mut app, |a| !matches!(a.weights, WeightsState::Loading));
        assert!(matches!(app.weights, WeightsState::Ready { .. }));
        app.send(Command::OpenPhoto(photo));
        pump(&ctx, &mut app, |_| engine.started.load(Ordering::SeqCst) == 1);
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(
            engine.ended.load(Ordering::SeqCst),
            0,
            "the slow inference ended by itself"
        );
        app.send(Command::CancelJob(JobKind::Inference));
        app.logic(&ctx);
        let cancelled = Instant::now();
        while engine.ended.load(Ordering::SeqCst) == 0 {
            assert!(
                cancelled.elapsed() < Duration::from_secs(1),
                "the inference still computes 1 s after Cancel"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        app.logic(&ctx);
        let doc = app.doc.as_ref().unwrap();
        assert!(doc.layers.is_none());
        assert_eq!(doc.no_layers, Some(NoLayers::Cancelled));
    }

    #[test]
    fn picking_three_point_pairs_and_applying_places_the_scan_by_them() {
        use crate::commands::PickSide;
        let (_tmp, dir) = scratch();
        // Two bumps and a ridge; the scan is the panel turned 20° (beyond the search's
        // ±12°), in other height units.
        let panel = |x: f32, y: f32| {
            let bump = |cx: f32, cy: f32, r: f32| (-((x - cx).powi(2) + (y - cy).powi(2)) / (r * r)).exp();
            0.6 * bump(20.0, 18.0, 7.0)
                + 0.4 * bump(44.0, 28.0, 9.0)
                + 0.2 * (-((y - 0.3 * x - 6.0) / 2.0).powi(2)).exp()
        };
        let c = [31.5f32, 23.5];
        let (sin, cos) = 20f32.to_radians().sin_cos();
        let on_scan = |[x, y]: [f32; 2]| {
            let (x, y) = (x - c[0], y - c[1]);
            [c[0] + cos * x + sin * y, c[1] - sin * x + cos * y]
        };
        let depth = dir.join("panel_depth.png");
        crate::export::write_png16(&Grid::from_fn(64, 48, |x, y| panel(x as f32, y as f32)), &depth).unwrap();
        let scan = dir.join("scan_today.png");
        let turned = Grid::from_fn(64, 48, |qx, qy| {
            let (dx, dy) = (qx as f32 - c[0], qy as f32 - c[1]);
            0.2 + 0.5 * panel(cos * dx - sin * dy + c[0], sin * dx + cos * dy + c[1])
        });
        crate::export::write_png16(&turned, &scan).unwrap();
        let (ctx, mut app) = app(dir.join("no-weights"));
        app.send(Command::OpenDepth(depth));
        pump(&ctx, &mut app, |a| {
            a.doc.is_some() && !a.jobs.is_running(JobKind::OpenFile)
        });
        app.send(Command::CompareScan(scan));
        pump(&ctx, &mut app, |a| {
            !a.jobs.is_running(JobKind::Compare) && a.doc.as_ref().is_some_and(|d| d.picked.scan.is_some())
        });
        let searched = app.comparison().map(|c| c.result.alignment.clone());

        app.send(Command::SetPointPicking(true));
        for p in [[20.0, 18.0], [44.0, 28.0], [30.0, 36.0]] {
            app.send(Command::PickPoint {
                side: PickSide::Relief,
                px: p,
            });
            app.send(Command::PickPoint {
                side: PickSide::Scan,
                px: on_scan(p),
            });
        }
        app.logic(&ctx);
        assert_eq!(app.doc.as_ref().unwrap().picked.complete().len(), 3);
        app.send(Command::ApplyPoints { refine: false });
        pump(&ctx, &mut app, |a| {
            a.comparison().is_some_and(|c| c.result.alignment.points.is_some())
        });
        let placed = app.comparison().unwrap().result.alignment.clone();
        assert_ne!(Some(&placed), searched.as_ref());
        assert!((placed.rotation_deg - 20.0).abs() < 0.2, "{placed:?}");
        let points = placed.points.unwrap();
        assert!(points.residual_px < 0.05 && points.pairs == 3, "{points:?}");
        let last = app.messages.back().unwrap();
        assert!(last.text.contains("placed by 3 point pairs"), "{}", last.text);

        // Reset forgets the pairs; a new automatic comparison leaves picking.
        app.send(Command::ResetPoints);
        app.logic(&ctx);
        assert!(app.doc.as_ref().unwrap().picked.pairs.is_empty());
    }

    /// An export the OS refuses says why (the OS reason, not only "cannot write").
    #[cfg(target_os = "linux")]
    #[test]
    fn a_refused_export_names_the_os_reason() {
        let (_tmp, dir) = scratch();
        let path = dir.join("panel_depth.png");
        crate::export::write_png16(&Grid::from_fn(16, 16, |x, _| x as f32 / 15.0), &path).unwrap();
        let (ctx, mut app) = app(dir.join("no-weights"));
        app.send(Command::OpenDepth(path));
        pump(&ctx, &mut app, |a| {
            a.doc.is_some() && !a.jobs.is_running(JobKind::OpenFile)
        });
        // /proc takes no new files, not even from root.
        app.send(Command::ExportDepthPng(PathBuf::from("/proc/relievo-depth.png")));
        pump(&ctx, &mut app, |a| {
            !a.jobs.is_running(JobKind::ExportDepth) && a.commands.is_empty()
        });
        let last = app.messages.back().expect("a message");
        assert_eq!(last.severity, Severity::Error, "{}", last.text);
        // "cannot write /proc/relievo-depth.png: <the reason>", not the path alone.
        let reason = last.text.split("relievo-depth.png: ").nth(1).unwrap_or_default();
        assert!(!reason.trim().is_empty(), "{}", last.text);
    }
}

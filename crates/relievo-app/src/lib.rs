//! The relievo desktop app (egui/eframe; wgpu with a GPU, glow without): open a photo, inspect the layers the network
//! predicts, set the relief's physical size, preview the solid in 3D, export a watertight STL, and
//! fine-tune the network. A thin shell over the library: every long step runs as a named
//! background job (`jobs`), widgets only send [`Command`]s and `command_handling` applies them in
//! one place, and the pure parts (light estimation, presets, preview heights, frame statistics)
//! live in `logic` without egui. Persisted preferences ([`Settings`], `#[serde(default)]`) are
//! kept apart from the runtime state, which is rebuilt at every start.
//!
//! Files, from the bottom up (each imports only files above it; `module_graph.rs` tests
//! it): `camera.rs` (orbit camera maths), `logic.rs` (egui-free logic), `render.rs`
//! (off-screen wgpu drawing of the relief and why, on a worker thread without a GPU, shader in
//! `shaders/relief.wgsl`),
//! `jobs.rs` (background jobs), `settings.rs` (the persisted settings commands carry),
//! `commands.rs` (what can be asked), `unsaved.rs` (the unsaved-edits prompt), `state.rs`
//! (the document, the network's state, messages, and `AppView`, what panels read),
//! `inspector.rs` (layers inspector, brush and selection tools) and `training.rs` (training
//! panel), which draw their own state and return commands, `job_output.rs` (what jobs hand
//! back); then `lib.rs` (the app struct, its frame loop and `run`) and the `impl RelievoApp`
//! blocks over it: `command_handling.rs` (applying commands and the jobs they start),
//! `viewport.rs` (3D view, its camera controls and the brush on the surface) and `ui.rs`
//! (menus, status bar, relief panel, tabs).

// The crates below under the paths the code names them by (`crate::engine`, `crate::grid`, …).
use relievo_core::{
    cancel, compare, edit, export, filter, grid, labels, layers, mesh, photo, project, relief, repair, scan, selection,
};
use relievo_engine as engine;

// Plain data and the panels (their layering is listed in the doc comment above; the
// `module_imports_have_no_cycle` test checks there is no import cycle).
pub mod camera;
mod commands;
mod inspector;
mod job_output;
pub mod jobs;
pub mod logic;
pub mod render;
mod settings;
mod state;
mod training;
mod unsaved;
// The app struct (here), then what is written as `impl RelievoApp` blocks over it.
mod command_handling;
mod ui;
mod viewport;

#[cfg(test)]
mod crate_graph;
#[cfg(test)]
mod module_graph;

use std::collections::VecDeque;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;
use eframe::egui_wgpu;

use crate::edit::EditLayer;
use crate::engine::{Engine, EngineDevice};
use crate::grid::Grid;
use crate::layers::Layers;

pub use commands::{Command, DialogKind, PickSide, Reshape, UnsavedChoice};
pub use jobs::JobKind;
pub use render::Shading;
pub use settings::{
    DepthColours, EditSettings, InspectorLayout, InspectorSettings, LayerKind, RecentFile, SelectTool,
    SelectionSettings, Settings, Tab, TrainSettings, ViewSettings,
};
pub use state::{
    AppView, Document, MeshKey, MeshResult, Message, NoLayers, PickedPairs, PreviewKey, ReadScan, ScanComparison,
    Severity, Timings, WeightsState,
};
pub use training::TrainPhase;

use camera::OrbitCamera;
use job_output::JobOutput;
use jobs::Jobs;
use logic::{FrameSample, FrameStats};

/// Opens the app window; `photo` is opened at once when given (a file whose name contains
/// "depth" or "height" is read as a depth map). The network runs through `engine` (the binary
/// hands it burn's, `relievo_train::BurnEngine`).
pub fn run(photo: Option<PathBuf>, engine: Arc<dyn Engine>) -> anyhow::Result<()> {
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        // wgpu and rfd complain without one; a private temporary folder keeps logs clean.
        let dir = std::env::temp_dir().join(format!("relievo-runtime-{}", std::process::id()));
        if std::fs::create_dir_all(&dir).is_ok() {
            // SAFETY: still single-threaded here; nothing else reads the environment yet.
            unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
        }
    }
    let options = AppOptions {
        photo,
        weights_dir: engine.default_weights_dir(),
        frame_log: std::env::var_os("RELIEVO_FRAME_LOG").map(PathBuf::from),
        continuous_repaint: std::env::var_os("RELIEVO_CONTINUOUS_REPAINT").is_some_and(|v| v != "0"),
        read_back_3d: false,
    };
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("relievo")
            .with_app_id("relievo")
            .with_inner_size([1400.0, 900.0])
            .with_min_inner_size([720.0, 480.0])
            .with_drag_and_drop(true)
            .with_icon(icon()),
        renderer: window_renderer(),
        persist_window: true,
        ..Default::default()
    };
    eframe::run_native(
        "relievo",
        native,
        Box::new(move |cc| {
            let settings: Settings = cc
                .storage
                .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
                .unwrap_or_default();
            Ok(Box::new(RelievoApp::new(
                &cc.egui_ctx,
                cc.wgpu_render_state.clone(),
                settings,
                options,
                engine,
            )))
        }),
    )
    .map_err(|e| anyhow::anyhow!("could not open the relievo window: {e}"))
}

/// How eframe draws the window: wgpu when a hardware GPU adapter exists (the 3D view then
/// renders straight into egui's textures), otherwise glow. Without a GPU, wgpu presents through
/// Mesa lavapipe, which under X11 costs ~155 ms per 1400 × 900 frame even for an empty window,
/// against ~24 ms for glow on llvmpipe (measured under Xvfb, see scripts/screenshot.sh); the 3D
/// view then renders on its own wgpu device and its images are read back. `RELIEVO_RENDERER=wgpu`
/// or `=glow` overrides the choice.
fn window_renderer() -> eframe::Renderer {
    match std::env::var("RELIEVO_RENDERER").as_deref() {
        Ok("wgpu") => eframe::Renderer::Wgpu,
        Ok("glow") => eframe::Renderer::Glow,
        _ if render::hardware_adapter_exists() => eframe::Renderer::Wgpu,
        _ => eframe::Renderer::Glow,
    }
}

/// The window icon (assets/icon.png, made by assets/make_icon.py).
fn icon() -> egui::IconData {
    let decoded = image::load_from_memory(include_bytes!("../../../assets/icon.png")).map(|i| i.to_rgba8());
    match decoded {
        Ok(rgba) => egui::IconData {
            width: rgba.width(),
            height: rgba.height(),
            rgba: rgba.into_raw(),
        },
        Err(_) => egui::IconData::default(),
    }
}

/// How the app is started (what `run` takes from the command line and environment; tests build
/// their own).
#[derive(Clone, Debug, Default)]
pub struct AppOptions {
    /// A photo (or depth map) to open at start.
    pub photo: Option<PathBuf>,
    /// The shipped weights (`Engine::default_weights_dir()`, i.e. `$RELIEVO_MODELS/default`).
    pub weights_dir: PathBuf,
    /// Append one line per frame (seconds, work ms, interval ms, busy) to this file.
    pub frame_log: Option<PathBuf>,
    /// Repaint continuously, so frame intervals measure the whole frame (for benchmarks).
    pub continuous_repaint: bool,
    /// Draw the 3D view as without eframe's wgpu renderer even when egui draws with wgpu (tests
    /// that path; with the glow renderer it is the only one): on a wgpu device of its own, owned
    /// by a worker thread, the images read back to the CPU.
    pub read_back_3d: bool,
}

/// The app. `logic` and `ui` are eframe's two halves of a frame; the tests call them directly.
pub struct RelievoApp {
    pub settings: Settings,
    pub options: AppOptions,
    egui_ctx: egui::Context,
    /// `egui_ctx` is the context frames run in (it is adopted at the first frame, since a test
    /// harness makes its own).
    ctx_adopted: bool,
    pub jobs: Jobs<JobOutput>,
    commands: Vec<Command>,
    pub doc: Option<Document>,
    next_doc_id: u64,
    pub weights: WeightsState,
    pub device: Option<Arc<dyn EngineDevice>>,
    /// The network: weights, devices, inference, training (burn's in the binary, a fake in
    /// the dispatcher's tests).
    engine: Arc<dyn Engine>,
    pub messages: VecDeque<Message>,
    pub timings: Timings,
    /// The exact mesh for `settings.relief`, once computed.
    pub mesh: Option<MeshResult>,
    /// When to start the next exact-mesh job (debounced after parameter changes).
    mesh_due: Option<Instant>,
    /// Heights waiting to be uploaded to the 3D view, and what they were made from.
    preview_pending: Option<Box<render::PreviewData>>,
    preview_key: Option<PreviewKey>,
    /// The preview's heights without edits, and what they were made from.
    preview_unedited: Option<(PreviewKey, Arc<Grid<f32>>)>,
    /// Size of the preview heights last uploaded.
    pub preview_size: Option<[usize; 2]>,
    renderer: Option<render::ReliefRenderer>,
    pub camera: OrbitCamera,
    camera_needs_fit: bool,
    /// The user orbited, panned or zoomed since the last fit.
    camera_moved: bool,
    /// Size of the 3D view last frame (points).
    pub view_size: Option<egui::Vec2>,
    pub inspector: inspector::InspectorState,
    pub training: training::TrainingState,
    pub frames: FrameStats,
    started: Instant,
    /// When this frame began (taken when it ends).
    frame_began: Option<Instant>,
    /// When the last frame began.
    last_frame_began: Option<Instant>,
    /// Time between the last frame's start and this one's.
    frame_interval: Option<Duration>,
    /// The previous frame asked for this one at once (so the interval is a frame time).
    frame_follows: bool,
    frame_log: Option<std::fs::File>,
    /// The most recent file written by an export.
    pub last_export: Option<PathBuf>,
    /// Time the 3D view took to encode and submit its last redraw (ms).
    pub last_render_ms: Option<f32>,
    /// Where the brush last dabbed in a stroke on the 3D view (depth pixels).
    stroke_3d: Option<[f32; 2]>,
    /// The file to open when the running open finishes (the latest asked for).
    open_next: Option<Command>,
    /// The unsaved-edits prompt before an open or a close.
    unsaved: unsaved::UnsavedState,
}

/// Most entries in Open recent.
const MAX_RECENT: usize = 10;
/// Wait after the last parameter change before recomputing the exact mesh.
const MESH_DEBOUNCE: Duration = Duration::from_millis(350);

/// What background work calls when it has something to show: a repaint of `ctx`.
fn repaint_wake(ctx: &egui::Context) -> render::Wake {
    let ctx = ctx.clone();
    Arc::new(move || ctx.request_repaint())
}

impl RelievoApp {
    pub fn new(
        ctx: &egui::Context,
        render_state: Option<egui_wgpu::RenderState>,
        settings: Settings,
        options: AppOptions,
        engine: Arc<dyn Engine>,
    ) -> Self {
        let frame_log = options.frame_log.as_ref().and_then(|p| std::fs::File::create(p).ok());
        let mut app = Self {
            settings,
            egui_ctx: ctx.clone(),
            ctx_adopted: false,
            jobs: Jobs::new(repaint_wake(ctx)),
            commands: Vec::new(),
            doc: None,
            next_doc_id: 1,
            weights: WeightsState::Loading,
            device: None,
            engine,
            messages: VecDeque::new(),
            timings: Timings::default(),
            mesh: None,
            mesh_due: None,
            preview_pending: None,
            preview_key: None,
            preview_unedited: None,
            preview_size: None,
            renderer: match (&render_state, options.read_back_3d) {
                (Some(state), false) => Some(render::ReliefRenderer::new(state)),
                (Some(_), true) | (None, _) => {
                    render::ReliefRenderer::standalone(repaint_wake(ctx)).map(|(renderer, _)| renderer)
                }
            },
            camera: OrbitCamera::default(),
            camera_needs_fit: true,
            camera_moved: false,
            view_size: None,
            inspector: inspector::InspectorState::default(),
            training: training::TrainingState::default(),
            frames: FrameStats::default(),
            started: Instant::now(),
            frame_began: None,
            last_frame_began: None,
            frame_interval: None,
            frame_follows: false,
            frame_log,
            last_export: None,
            last_render_ms: None,
            stroke_3d: None,
            open_next: None,
            unsaved: unsaved::UnsavedState::default(),
            options,
        };
        if app.renderer.is_none() {
            app.message(
                Severity::Warning,
                "No wgpu device: the 3D preview is off (layers and export still work).",
            );
        }
        let dir = app.weights_dir();
        app.send(Command::LoadWeights(dir));
        if let Some(photo) = app.options.photo.clone() {
            app.send(Command::OpenPath(photo));
        }
        app
    }

    /// Queues a command; it is applied at the end of this frame (or the next `logic`).
    pub fn send(&mut self, command: Command) {
        self.commands.push(command);
    }

    /// The weights folder in use: the one the user chose, else the shipped one.
    pub fn weights_dir(&self) -> PathBuf {
        self.settings
            .weights_dir
            .clone()
            .unwrap_or_else(|| self.options.weights_dir.clone())
    }

    pub fn message(&mut self, severity: Severity, text: impl Into<String>) {
        let text = text.into();
        if severity == Severity::Error {
            log_line(&format!("error: {text}"));
        }
        self.messages.push_back(Message {
            severity,
            text,
            at: Instant::now(),
        });
        while self.messages.len() > 200 {
            self.messages.pop_front();
        }
    }

    /// Whether inference or training is running (frames then count as "busy").
    pub fn busy(&self) -> bool {
        self.jobs.is_running(JobKind::Inference) || self.jobs.is_running(JobKind::Training)
    }

    /// Layers of the current document, when the network has produced them.
    pub fn layers(&self) -> Option<&Arc<Layers>> {
        self.doc.as_ref().and_then(|d| d.layers.as_ref())
    }

    /// The current document's comparison with a scan, if any.
    pub fn comparison(&self) -> Option<&ScanComparison> {
        self.doc.as_ref().and_then(|d| d.comparison.as_ref())
    }

    /// What the mesh of the current document and settings is made from.
    pub fn mesh_key(&self) -> Option<MeshKey> {
        let doc = self.doc.as_ref()?;
        Some(MeshKey {
            doc_id: doc.id,
            params: self.settings.relief.clone(),
            edits_version: doc.edits.as_ref().map_or(0, EditLayer::version),
        })
    }

    /// The exact mesh, if it matches the current document, settings and edits.
    pub fn current_mesh(&self) -> Option<&MeshResult> {
        let key = self.mesh_key()?;
        self.mesh.as_ref().filter(|m| m.key == key)
    }

    /// The first half of a frame: results of jobs, dropped files, timers, commands.
    pub fn logic(&mut self, ctx: &egui::Context) {
        if !self.ctx_adopted {
            self.ctx_adopted = true;
            self.egui_ctx = ctx.clone();
            self.jobs.set_wake(repaint_wake(ctx));
            if let Some(renderer) = &self.renderer {
                renderer.set_wake(repaint_wake(ctx));
            }
        }
        let now = Instant::now();
        self.begin_frame(now);
        self.frame_follows = ctx.requested_repaint_last_pass();
        if self.options.continuous_repaint {
            ctx.request_repaint();
        }
        for finished in self.jobs.poll() {
            self.on_job_finished(finished);
        }
        self.training.poll(&mut self.commands);
        if ctx.input(|i| i.viewport().close_requested()) && !self.may_close() {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
        }
        let dropped: Vec<PathBuf> = ctx.input(|i| i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).collect());
        if let Some(path) = dropped.into_iter().find(|p| !p.as_os_str().is_empty()) {
            self.send(Command::OpenPath(path));
        }
        if self.mesh_due.is_some_and(|due| now >= due) && !self.jobs.is_running(JobKind::Mesh) {
            self.mesh_due = None;
            self.start_mesh_job();
        }
        self.apply_commands();
        if let Some(due) = self.mesh_due {
            ctx.request_repaint_after(due.saturating_duration_since(now));
        }
        if self.jobs.any_running() || self.training.is_active() {
            // Spinners, elapsed times and progress bars move.
            ctx.request_repaint_after(Duration::from_millis(100));
        }
    }

    /// Whether unsaved hand edits are open (the window asks before it closes or opens
    /// another file).
    pub fn has_unsaved_edits(&self) -> bool {
        self.doc.as_ref().is_some_and(Document::has_unsaved_edits)
    }

    /// Whether the unsaved-edits prompt is up.
    pub fn is_asking_about_unsaved_edits(&self) -> bool {
        self.unsaved.prompt.is_some()
    }

    /// On a close request: `true` lets the window close; `false` keeps it and asks.
    fn may_close(&mut self) -> bool {
        if std::mem::take(&mut self.unsaved.discard_confirmed) || !self.has_unsaved_edits() {
            return true;
        }
        self.unsaved.prompt = Some(unsaved::Pending::Close);
        false
    }

    /// The second half of a frame: the whole window.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        if self.frame_began.is_none() {
            self.begin_frame(Instant::now());
        }
        self.window_ui(ui);
        self.apply_commands();
        self.end_frame(ui.ctx());
    }

    fn begin_frame(&mut self, now: Instant) {
        self.frame_interval = self.last_frame_began.map(|last| now.duration_since(last));
        self.last_frame_began = Some(now);
        self.frame_began = Some(now);
    }

    fn end_frame(&mut self, _ctx: &egui::Context) {
        let Some(began) = self.frame_began.take() else { return };
        let work_ms = began.elapsed().as_secs_f32() * 1e3;
        // An interval only means "frame time" when frames follow without idling.
        let interval_ms = self
            .frame_interval
            .map(|d| d.as_secs_f32() * 1e3)
            .filter(|_| self.frame_follows || self.options.continuous_repaint);
        let sample = FrameSample {
            at_secs: began.duration_since(self.started).as_secs_f64(),
            work_ms,
            interval_ms,
            busy: self.busy(),
        };
        if let Some(file) = &mut self.frame_log {
            let interval = interval_ms.map_or_else(|| "-".to_string(), |ms| format!("{ms:.2}"));
            let _ = writeln!(
                file,
                "{:.3} {work_ms:.2} {interval} {}",
                sample.at_secs,
                u8::from(sample.busy)
            );
        }
        self.frames.push(sample);
    }

    /// The 3D renderer, when a wgpu device is available.
    pub fn renderer(&mut self) -> Option<&mut render::ReliefRenderer> {
        self.renderer.as_mut()
    }

    /// Whether the 3D view shows its final image of the current settings.
    pub fn view_settled(&self) -> bool {
        self.preview_pending.is_none() && self.renderer.as_ref().is_some_and(|r| r.settled())
    }

    fn upload_pending_preview(&mut self) {
        if let (Some(preview), Some(renderer)) = (self.preview_pending.take(), self.renderer.as_mut()) {
            self.preview_size = Some(preview.size);
            renderer.set_preview(preview);
        }
    }

    pub(crate) fn remember_recent(&mut self, path: &Path, depth_map: bool) {
        self.settings.recent.retain(|r| r.path != path);
        self.settings.recent.insert(
            0,
            RecentFile {
                path: path.to_path_buf(),
                depth_map,
            },
        );
        self.settings.recent.truncate(MAX_RECENT);
        self.remember_folder(path);
    }

    pub(crate) fn remember_folder(&mut self, path: &Path) {
        let folder = if path.is_dir() { Some(path) } else { path.parent() };
        if let Some(folder) = folder.filter(|f| !f.as_os_str().is_empty()) {
            self.settings.last_folder = Some(folder.to_path_buf());
        }
    }
}

impl eframe::App for RelievoApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        RelievoApp::logic(self, ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        RelievoApp::ui(self, ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.settings);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.training.stop_now();
    }
}

fn log_line(line: &str) {
    eprintln!("relievo: {line}");
}

//! The relievo desktop app (egui/eframe; wgpu with a GPU, glow without): open a photo, inspect the layers the network
//! predicts, set the relief's physical size, preview the solid in 3D, export a watertight STL, and
//! fine-tune the network. A thin shell over the library: every long step runs as a named
//! background job (`jobs`), widgets only send [`Command`]s and `command_handling` applies them in
//! one place, and the pure parts (light estimation, presets, preview heights, frame statistics)
//! live in `logic` without egui. Persisted preferences ([`Settings`], `#[serde(default)]`) are
//! kept apart from the runtime state, which is rebuilt at every start.
//!
//! Files: `lib.rs` (the app struct, its frame loop and `run`), `commands.rs` (what can be
//! asked), `command_handling.rs` (applying commands and the jobs they start), `settings.rs`
//! (the persisted settings commands carry), `ui.rs` (menus, status bar, relief panel, tabs), `inspector.rs`
//! (layers inspector, brush and selection tools), `viewport.rs` (3D view, its camera controls and
//! the brush on the surface), `render.rs` (off-screen
//! wgpu drawing of the relief and why, shader in `shaders/relief.wgsl`), `camera.rs` (orbit camera maths),
//! `training.rs` (training panel), `jobs.rs` (background jobs), `logic.rs` (egui-free logic),
//! `unsaved.rs` (the unsaved-edits prompt).

// The crates below under the paths the code names them by (`crate::net`, `crate::grid`, …).
use relievo_core::{
    cancel, compare, edit, export, filter, grid, labels, layers, mesh, photo, project, relief, repair, selection,
};
use relievo_net as net;
use relievo_train as train;

pub mod camera;
mod command_handling;
mod commands;
mod inspector;
pub mod jobs;
pub mod logic;
pub mod render;
mod settings;
mod training;
mod ui;
mod unsaved;
mod viewport;

use std::collections::VecDeque;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;
use eframe::egui_wgpu;
use serde::{Deserialize, Serialize};

use crate::edit::EditLayer;
use crate::grid::Grid;
use crate::layers::Layers;
use crate::mesh::Mesh;
use crate::net::{ComputeDevice, Weights};
use crate::photo::Photo;
use crate::relief::ReliefParams;
use crate::selection::Selection;

pub use commands::{Command, DialogKind, Reshape, UnsavedChoice};
pub use inspector::{DepthColours, InspectorLayout, LayerKind};
pub use jobs::JobKind;
pub use render::Shading;
pub use settings::{EditSettings, SelectTool, SelectionSettings, Tab, TrainSettings, ViewSettings};
pub use training::TrainPhase;

use camera::OrbitCamera;
use command_handling::JobOutput;
use jobs::Jobs;
use logic::{FrameSample, FrameStats};

/// Opens the app window; `photo` is opened at once when given (a file whose name contains
/// "depth" or "height" is read as a depth map).
pub fn run(photo: Option<PathBuf>) -> anyhow::Result<()> {
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
        weights_dir: crate::net::weights::default_dir(),
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
        _ if crate::net::device::adapters().iter().any(|a| a.is_hardware()) => eframe::Renderer::Wgpu,
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
    /// The shipped weights (`net::weights::default_dir()`, i.e. `$RELIEVO_MODELS/default`).
    pub weights_dir: PathBuf,
    /// Append one line per frame (seconds, work ms, interval ms, busy) to this file.
    pub frame_log: Option<PathBuf>,
    /// Repaint continuously, so frame intervals measure the whole frame (for benchmarks).
    pub continuous_repaint: bool,
    /// Read the 3D view's images back to the CPU even when egui draws with wgpu (tests that
    /// path; with the glow renderer it is the only one).
    pub read_back_3d: bool,
}

/// A file in the Open recent menu.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecentFile {
    pub path: PathBuf,
    pub depth_map: bool,
}

impl Default for RecentFile {
    fn default() -> Self {
        Self {
            path: PathBuf::new(),
            depth_map: false,
        }
    }
}

/// The inspector's preferences.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InspectorSettings {
    pub layout: InspectorLayout,
    /// The layer shown in the single-layer layout.
    pub layer: LayerKind,
    /// Draw `overlay_layer` over the photo in the single-layer layout.
    pub overlay: bool,
    pub overlay_layer: LayerKind,
    pub overlay_opacity: f32,
    pub depth_colours: DepthColours,
    /// Opacity of the difference to a scan drawn over the layers (0 hides it).
    pub difference_opacity: f32,
}

impl Default for InspectorSettings {
    fn default() -> Self {
        Self {
            layout: InspectorLayout::Grid,
            layer: LayerKind::Photo,
            overlay: false,
            overlay_layer: LayerKind::Semantics,
            overlay_opacity: 0.5,
            depth_colours: DepthColours::Viridis,
            difference_opacity: 0.8,
        }
    }
}

/// Everything that persists between runs (eframe storage, key `eframe::APP_KEY`); panel sizes
/// persist through egui's own memory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Folder of the last file opened or written, where dialogs start.
    pub last_folder: Option<PathBuf>,
    pub recent: Vec<RecentFile>,
    pub relief: ReliefParams,
    pub view: ViewSettings,
    pub inspector: InspectorSettings,
    pub tab: Tab,
    pub show_relief_panel: bool,
    pub show_frame_overlay: bool,
    /// Weights the user switched to (e.g. fine-tuned); `None` = the shipped ones.
    pub weights_dir: Option<PathBuf>,
    pub train: TrainSettings,
    pub edit: EditSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            last_folder: None,
            recent: Vec::new(),
            relief: ReliefParams::default(),
            view: ViewSettings::default(),
            inspector: InspectorSettings::default(),
            tab: Tab::default(),
            show_relief_panel: true,
            show_frame_overlay: false,
            weights_dir: None,
            train: TrainSettings::default(),
            edit: EditSettings::default(),
        }
    }
}

/// The network as far as the app knows it.
pub enum WeightsState {
    Loading,
    Ready { weights: Box<Weights>, dir: PathBuf },
    Missing { dir: PathBuf, reason: String },
}

/// The file being worked on and what has been computed from it.
pub struct Document {
    /// Increases with every opened file; results of jobs started for an older one are dropped.
    pub id: u64,
    pub path: PathBuf,
    pub photo: Option<Arc<Photo>>,
    /// The network's layers (photos only).
    pub layers: Option<Arc<Layers>>,
    /// The depth the relief is made from: the layers' depth or the opened depth map.
    pub depth: Option<Arc<Grid<f32>>>,
    /// (min, max) of `depth`.
    pub depth_range: (f32, f32),
    /// Why there are no layers, when the network will not bring them by itself.
    pub no_layers: Option<NoLayers>,
    /// Hand edits over `depth` (created by the first brush dab).
    pub edits: Option<EditLayer>,
    /// The region the selection operations change (depth pixels).
    pub selection: Option<Selection>,
    /// Changes whenever `selection` does (for the overlay's texture).
    pub selection_version: u64,
    /// The last comparison with a present-day scan.
    pub comparison: Option<ScanComparison>,
    /// The unedited relief in mm per depth pixel, for the brushes, and the parameters it
    /// was made with.
    relief_heights: Option<(ReliefParams, Arc<Grid<f32>>)>,
    /// The edit layer's version when it was last saved in (or opened from) a project.
    pub saved_edits_version: u64,
}

impl Document {
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "untitled".into())
    }

    /// The unedited relief in mm per depth pixel for `params`, made again only when a
    /// parameter that changes it did; `None` without a depth.
    pub(crate) fn relief_heights_for(
        &mut self,
        params: &ReliefParams,
    ) -> Option<Result<Arc<Grid<f32>>, crate::relief::ReliefError>> {
        let depth = self.depth.clone()?;
        let same = |p: &ReliefParams| {
            (p.relief_mm, p.base_mm, p.smoothing_px, p.invert)
                == (params.relief_mm, params.base_mm, params.smoothing_px, params.invert)
        };
        if let Some((p, heights)) = &self.relief_heights
            && same(p)
        {
            return Some(Ok(heights.clone()));
        }
        Some(crate::relief::heights_mm(&depth, params).map(|z| {
            let z = Arc::new(z);
            self.relief_heights = Some((params.clone(), z.clone()));
            z
        }))
    }

    /// Hand edits (or marks) that no project holds: changed since the last save or
    /// open, and not all cleared.
    pub fn has_unsaved_edits(&self) -> bool {
        self.edits
            .as_ref()
            .is_some_and(|e| e.version() != self.saved_edits_version && !e.is_empty())
    }

    /// Pixel size of what is shown.
    pub fn size_px(&self) -> Option<[usize; 2]> {
        self.photo
            .as_ref()
            .map(|p| [p.width(), p.height()])
            .or_else(|| self.depth.as_ref().map(|d| [d.width, d.height]))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

#[derive(Clone, Debug)]
pub struct Message {
    pub severity: Severity,
    pub text: String,
    pub at: Instant,
}

/// Why a document has no layers.
#[derive(Clone, Debug, PartialEq)]
pub enum NoLayers {
    /// A depth map was opened: there is no photo to run the network on.
    DepthMap,
    /// The project was saved without layers.
    NotInProject,
    /// No network weights (the reason they could not be loaded).
    NoWeights(String),
    /// The user cancelled the inference.
    Cancelled,
    /// The inference failed (its message).
    Failed(String),
}

impl NoLayers {
    /// For "No soft edges: …" and "No depth yet (…)".
    pub fn describe(&self) -> String {
        match self {
            NoLayers::DepthMap => "a depth map has no photo layers".into(),
            NoLayers::NotInProject => "the project holds no photo layers".into(),
            NoLayers::NoWeights(reason) => format!("no network weights ({reason})"),
            NoLayers::Cancelled => "inference cancelled (Model › Run the network again)".into(),
            NoLayers::Failed(e) => format!("the network failed: {e}"),
        }
    }
}

/// The reconstruction compared with a present-day scan of the panel.
pub struct ScanComparison {
    pub scan: PathBuf,
    pub result: crate::compare::Comparison,
    /// Increases with every comparison (the inspector's texture follows it).
    pub serial: u64,
}

/// What a mesh is made from: the document, the relief parameters and the edits' version.
#[derive(Clone, Debug, PartialEq)]
pub struct MeshKey {
    pub doc_id: u64,
    pub params: ReliefParams,
    pub edits_version: u64,
}

/// What the exact-mesh job computed, and from what.
#[derive(Clone)]
pub struct MeshResult {
    pub key: MeshKey,
    pub mesh: Arc<Mesh>,
    pub secs: f64,
}

/// What the 3D preview's heights were made from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PreviewKey {
    doc_id: u64,
    smoothing_bits: u32,
    edits_version: u64,
    /// Edits are stored in mm and the preview in 0..1 of the relief: with edits, the
    /// relief height and inversion shape the heights too.
    relief_bits: u32,
    invert: bool,
}

/// Durations of the last runs of each step, for the status bar.
#[derive(Clone, Debug, Default)]
pub struct Timings {
    pub inference_secs: Option<f64>,
    pub mesh_secs: Option<f64>,
    pub preview_secs: Option<f64>,
    pub export_secs: Option<f64>,
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
    pub device: Option<ComputeDevice>,
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

impl RelievoApp {
    pub fn new(
        ctx: &egui::Context,
        render_state: Option<egui_wgpu::RenderState>,
        settings: Settings,
        options: AppOptions,
    ) -> Self {
        let wake_ctx = ctx.clone();
        let frame_log = options.frame_log.as_ref().and_then(|p| std::fs::File::create(p).ok());
        let mut app = Self {
            settings,
            egui_ctx: ctx.clone(),
            ctx_adopted: false,
            jobs: Jobs::new(Arc::new(move || wake_ctx.request_repaint())),
            commands: Vec::new(),
            doc: None,
            next_doc_id: 1,
            weights: WeightsState::Loading,
            device: None,
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
                (Some(state), true) => Some(render::ReliefRenderer::with_device(
                    state.device.clone(),
                    state.queue.clone(),
                    render::Output::Readback,
                )),
                (None, _) => render::ReliefRenderer::standalone().map(|(renderer, _)| renderer),
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
            let wake_ctx = ctx.clone();
            self.jobs.set_wake(Arc::new(move || wake_ctx.request_repaint()));
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
        ui::window_ui(self, ui);
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

    /// Draws the 3D view at `size_px` as the view does after a change — the fast image, then the
    /// final one — waiting for the GPU after each, and returns both times (ms). For measurements;
    /// `None` without a device or heights.
    pub fn measure_render_ms(&mut self, size_px: [u32; 2]) -> Option<(f32, f32)> {
        self.apply_commands();
        self.upload_pending_preview();
        let inputs = viewport::frame_inputs(self, size_px, false)?;
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

    /// Whether the 3D view shows its final image of the current settings.
    pub fn view_settled(&self) -> bool {
        self.preview_pending.is_none() && self.renderer.as_ref().is_some_and(|r| r.settled())
    }

    fn upload_pending_preview(&mut self) {
        if let (Some(preview), Some(renderer)) = (self.preview_pending.take(), self.renderer.as_mut()) {
            renderer.set_preview(&preview);
            self.preview_size = Some(preview.size);
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

//! End-to-end tests of the app through egui_kittest, driving the real `RelievoApp` on the wgpu
//! renderer (Mesa lavapipe where there is no GPU): open a photo by argument, wait for the
//! network's layers (tiny random weights made here), change a parameter through its widget,
//! export an STL and check it is watertight with `stl_io`; open a depth map by dropping it on the
//! window without any weights; start and stop a tiny training run. Frame times (the UI thread's
//! work per frame) are recorded while inference and training run and must stay under 50 ms.
//! One small snapshot of the window (layers + 3D relief, the 3D image read back to the CPU as
//! under eframe's glow renderer) is compared on lavapipe.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;
use eframe::egui_wgpu;
use egui_kittest::kittest::Queryable;
use egui_kittest::{Harness, SnapshotOptions};

use relievo::app::camera::OrbitCamera;
use relievo::app::render::{Drawn, FrameInputs, ReliefRenderer, prepare_preview};
use relievo::app::{
    AppOptions, Command, EditSettings, InspectorLayout, JobKind, LayerKind, PickSide, RelievoApp, Reshape, SelectTool,
    Settings, Shading, Tab, TrainPhase,
};
use relievo::edit::{Brush, Tool};
use relievo::grid::Grid;
use relievo::net::{InitNet, MultiTaskConfig, WeightsMeta};
use relievo::selection::{Profile, SelectionOp};

/// Frame-time budget of the UI thread while inference or training runs (the issue's 50 ms).
const FRAME_BUDGET_MS: f32 = 50.0;
/// Frame-work budget of the UI thread over a burst of dropped photos with the 3D view on its
/// worker (issue 12: a 60 Hz frame). On 2 cores and lavapipe, p95 was 8–10 ms, max 17–23 ms.
const BURST_BUDGET_MS: f32 = 16.0;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("relievo-app-ui-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Tiny random weights in `<dir>/default`; returns that folder.
fn tiny_weights(dir: &Path) -> PathBuf {
    let device = burn::tensor::Device::flex();
    let config = MultiTaskConfig::new()
        .with_encoder_channels([4, 4, 4, 4, 4])
        .with_edge_channels([2, 2, 2, 2]);
    let model = config.init(&device);
    let weights_dir = dir.join("default");
    relievo::net::weights::save(&weights_dir, &model, &config, &WeightsMeta::default()).unwrap();
    weights_dir
}

/// A photo-like image: shaded domes and a frame, as a relief photographed in raking light.
fn write_photo(path: &Path, width: u32, height: u32) {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        let (u, v) = (x as f32 / width as f32, y as f32 / height as f32);
        let dome = (-((u - 0.4).powi(2) + (v - 0.5).powi(2)) * 30.0).exp();
        let shade = 0.45 + 0.4 * dome * (u - 0.4 - (v - 0.5)) * 4.0 + 0.1 * (u * 20.0).sin();
        let g = (shade.clamp(0.0, 1.0) * 255.0) as u8;
        image::Rgb([g, (g as f32 * 0.92) as u8, (g as f32 * 0.8) as u8])
    });
    image.save(path).unwrap();
}

/// A 16-bit depth map of a few bumps.
fn write_depth(path: &Path, width: usize, height: usize) {
    let depth = Grid::from_fn(width, height, |x, y| {
        let (u, v) = (x as f32 / width as f32, y as f32 / height as f32);
        let bump = |cx: f32, cy: f32, r: f32| (-((u - cx).powi(2) + (v - cy).powi(2)) / (r * r)).exp();
        (0.6 * bump(0.35, 0.45, 0.18) + 0.4 * bump(0.7, 0.6, 0.12) + 0.1 * (u * 12.0).sin().abs()).min(1.0)
    });
    relievo::export::write_png16(&depth, path).unwrap();
}

#[derive(Debug)]
struct DroppedPath(PathBuf);

impl egui::DroppedFile for DroppedPath {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// The real app in a kittest harness on the wgpu renderer (lavapipe without a GPU).
fn harness(options: AppOptions, size: [f32; 2]) -> Harness<'static, RelievoApp> {
    harness_with(options, Settings::default(), size)
}

fn harness_with(options: AppOptions, settings: Settings, size: [f32; 2]) -> Harness<'static, RelievoApp> {
    let render_state = egui_kittest::wgpu::create_render_state(
        egui_kittest::wgpu::default_wgpu_setup(),
        egui_wgpu::RendererOptions::PREDICTABLE,
    );
    let renderer = egui_kittest::wgpu::WgpuTestRenderer::from_render_state(render_state.clone());
    let app = RelievoApp::new(
        &egui::Context::default(),
        Some(render_state),
        settings,
        options,
        relievo::train::BurnEngine::shared(),
    );
    Harness::builder()
        .with_size(egui::vec2(size[0], size[1]))
        .with_accessibility_check(false)
        .renderer(renderer)
        .build_ui_state(
            |ui, app: &mut RelievoApp| {
                app.logic(&ui.ctx().clone());
                app.ui(ui);
            },
            app,
        )
}

/// Steps the harness (in real time) until `done` holds, or panics after `timeout`.
fn step_until(
    harness: &mut Harness<'static, RelievoApp>,
    what: &str,
    timeout: Duration,
    done: impl Fn(&RelievoApp) -> bool,
) {
    let started = Instant::now();
    while !done(harness.state()) {
        assert!(
            started.elapsed() < timeout,
            "timed out waiting for {what}; messages: {:?}",
            messages(harness.state())
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(15));
    }
    harness.step();
}

fn messages(app: &RelievoApp) -> Vec<String> {
    app.messages.iter().map(|m| m.text.clone()).collect()
}

/// Every undirected edge of the STL is shared by exactly two triangles.
fn assert_watertight(path: &Path) -> stl_io::IndexedMesh {
    let mut file = std::fs::File::open(path).unwrap();
    let mesh = stl_io::read_stl(&mut file).unwrap();
    assert!(mesh.faces.len() > 100, "{} faces", mesh.faces.len());
    let mut edges: HashMap<(usize, usize), usize> = HashMap::new();
    for face in &mesh.faces {
        for k in 0..3 {
            let (a, b) = (face.vertices[k], face.vertices[(k + 1) % 3]);
            *edges.entry((a.min(b), a.max(b))).or_default() += 1;
        }
    }
    let bad: Vec<_> = edges.iter().filter(|&(_, &n)| n != 2).take(5).collect();
    assert!(
        bad.is_empty(),
        "edges not shared by two faces: {bad:?} (of {})",
        edges.len()
    );
    mesh
}

fn bounding_box(mesh: &stl_io::IndexedMesh) -> ([f32; 3], [f32; 3]) {
    let mut lo = [f32::INFINITY; 3];
    let mut hi = [f32::NEG_INFINITY; 3];
    for v in &mesh.vertices {
        for c in 0..3 {
            lo[c] = lo[c].min(v[c]);
            hi[c] = hi[c].max(v[c]);
        }
    }
    (lo, hi)
}

#[test]
fn photo_by_argument_layers_parameter_and_watertight_stl() {
    let dir = temp_dir("photo");
    let weights = tiny_weights(&dir.join("models"));
    let photo = dir.join("panel.png");
    write_photo(&photo, 512, 384);
    let options = AppOptions {
        photo: Some(photo),
        weights_dir: weights,
        ..Default::default()
    };
    let mut harness = harness(options, [1200.0, 760.0]);

    step_until(&mut harness, "the layers", Duration::from_secs(180), |app| {
        app.layers().is_some() && app.inspector.layers_shown()
    });
    let app = harness.state();
    assert_eq!(
        app.device.as_ref().map(|d| d.is_gpu()),
        Some(false),
        "lavapipe is not a GPU"
    );
    let layers = app.layers().unwrap();
    assert_eq!((layers.depth.width, layers.depth.height), (512, 384));
    let busy = app.frames.work(Some(true));
    eprintln!(
        "UI frame work during inference: {} frames, mean {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        busy.frames, busy.mean_ms, busy.p95_ms, busy.max_ms
    );
    assert!(busy.frames > 0, "frames ran while the network worked");
    assert!(busy.p95_ms < FRAME_BUDGET_MS, "{busy:?}");

    // The readout under the cursor, in the middle of the photo's view.
    harness.state_mut().send(Command::SetTab(Tab::Layers));
    harness.step();
    harness.step();
    // The photo's view is the top-left quarter of the inspector (right of the relief panel).
    let centre = egui::pos2(540.0, 280.0);
    harness.hover_at(centre);
    harness.step();
    let readout = harness
        .state()
        .inspector
        .hover
        .clone()
        .expect("a readout under the cursor");
    assert!(
        readout.height_mm.is_some() && readout.edge_class.is_some() && readout.semantic.is_some(),
        "{readout:?}"
    );
    harness.state_mut().send(Command::SetTab(Tab::Split));

    // Light from the photo's shading and the predicted depth (random weights: any answer).
    harness.state_mut().send(Command::MatchPhotoLight);
    harness.step();
    step_until(&mut harness, "the light estimate", Duration::from_secs(60), |app| {
        !app.jobs.is_running(JobKind::LightEstimate)
            && app
                .messages
                .back()
                .is_some_and(|m| m.text.starts_with("Photo light:") || m.text.contains("does not fit the depth"))
    });

    // A parameter through its widget, another by command; the 3D view follows.
    harness.get_by_label("Invert").click();
    harness.step();
    assert!(harness.state().settings.relief.invert);
    let mut params = harness.state().settings.relief.clone();
    params.width_mm = 60.0;
    params.relief_mm = 4.0;
    params.base_mm = 1.5;
    harness.state_mut().send(Command::SetRelief(params));
    step_until(&mut harness, "the exact mesh", Duration::from_secs(120), |app| {
        app.current_mesh().is_some()
    });
    let render_ms = harness.state_mut().measure_render_ms([640, 480]);
    assert!(render_ms.is_some(), "the 3D view drew the relief");

    let stl = dir.join("out").join("panel.stl");
    std::fs::create_dir_all(stl.parent().unwrap()).unwrap();
    harness.state_mut().send(Command::ExportMesh(stl.clone()));
    step_until(&mut harness, "the STL export", Duration::from_secs(60), |app| {
        app.last_export.is_some()
    });
    let mesh = assert_watertight(&stl);
    let (lo, hi) = bounding_box(&mesh);
    assert!((hi[0] - lo[0] - 60.0).abs() < 1e-3, "width {}", hi[0] - lo[0]);
    assert!((hi[2] - 5.5).abs() < 1e-3 && lo[2].abs() < 1e-6, "z {lo:?}..{hi:?}");
    let sidecar: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("out").join("panel.relievo.json")).unwrap()).unwrap();
    assert_eq!(sidecar["relief"]["invert"], serde_json::Value::Bool(true));

    // The same solid as an OBJ textured with the photo.
    let obj = dir.join("out").join("panel.obj");
    harness.state_mut().send(Command::ExportMesh(obj.clone()));
    step_until(&mut harness, "the OBJ export", Duration::from_secs(60), |app| {
        !app.jobs.is_running(JobKind::ExportMesh) && obj.is_file()
    });
    let (models, materials) = tobj::load_obj(&obj, &tobj::GPU_LOAD_OPTIONS).unwrap();
    assert_eq!(models[0].mesh.indices.len(), 3 * mesh.faces.len());
    let texture = materials.unwrap()[0].diffuse_texture.clone().unwrap();
    let texture = image::open(dir.join("out").join(texture)).unwrap();
    assert_eq!((texture.width(), texture.height()), (512, 384));

    // Export the layers and the depth PNG too.
    harness.state_mut().send(Command::ExportLayers(dir.join("layers")));
    let layers_dir = dir.join("layers");
    step_until(&mut harness, "the layers export", Duration::from_secs(60), |app| {
        !app.jobs.is_running(JobKind::ExportLayers) && layers_dir.join("semantics_preview.png").is_file()
    });
    let depth_png = dir.join("depth16.png");
    harness.state_mut().send(Command::ExportDepthPng(depth_png.clone()));
    step_until(&mut harness, "the depth PNG", Duration::from_secs(60), |app| {
        !app.jobs.is_running(JobKind::ExportDepth) && depth_png.is_file()
    });
    let depth = relievo::photo::load_depth(&depth_png, &Default::default()).unwrap();
    assert_eq!((depth.width, depth.height), (512, 384));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dropped_depth_map_without_weights_gives_a_watertight_stl_and_a_fast_3d_update() {
    let dir = temp_dir("depth");
    let depth = dir.join("relief_depth.png");
    write_depth(&depth, 1000, 750);
    let options = AppOptions {
        weights_dir: dir.join("no-weights"),
        ..Default::default()
    };
    let mut harness = harness(options, [1000.0, 640.0]);
    step_until(&mut harness, "the missing weights", Duration::from_secs(60), |app| {
        matches!(app.weights, relievo::app::WeightsState::Missing { .. })
    });
    harness.input_mut().dropped_files.push(Arc::new(DroppedPath(depth)));
    step_until(
        &mut harness,
        "the depth map and its preview",
        Duration::from_secs(60),
        |app| app.doc.as_ref().is_some_and(|d| d.depth.is_some()) && app.preview_size.is_some(),
    );
    assert!(harness.state().layers().is_none());

    // Where no desktop portal runs (as here), the native dialog returns at once: a hint, no hang.
    harness
        .state_mut()
        .send(Command::ShowDialog(relievo::app::DialogKind::ExportStl));
    harness.step();
    step_until(
        &mut harness,
        "the file dialog to give up with a hint",
        Duration::from_secs(30),
        |app| {
            !app.jobs.is_running(JobKind::FileDialog)
                && app
                    .messages
                    .back()
                    .is_some_and(|m| m.text.contains("file dialog could not open"))
        },
    );

    // The preview is the issue's 1 M-triangle relief: time a redraw after a parameter change.
    let grid = harness.state_mut().renderer().and_then(|r| r.grid_size()).unwrap();
    let triangles = 2 * (grid[0] - 1) * (grid[1] - 1);
    assert!(triangles > 900_000, "{triangles}");
    let warm = harness.state_mut().measure_render_ms([800, 600]).unwrap();
    let mut params = harness.state().settings.relief.clone();
    params.relief_mm = 9.0;
    harness.state_mut().send(Command::SetRelief(params));
    let (fast_ms, final_ms) = harness.state_mut().measure_render_ms([800, 600]).unwrap();
    eprintln!(
        "3D view, {triangles}-triangle relief at 800×600: first draw {:.0} + {:.0} ms; after a parameter change: \
         fast image {fast_ms:.0} ms, final image {final_ms:.0} ms",
        warm.0, warm.1
    );

    step_until(&mut harness, "the exact mesh", Duration::from_secs(240), |app| {
        app.current_mesh().is_some()
    });
    let stl = dir.join("relief.stl");
    harness.state_mut().send(Command::ExportMesh(stl.clone()));
    step_until(&mut harness, "the STL export", Duration::from_secs(60), |app| {
        app.last_export.is_some()
    });
    let mesh = assert_watertight(&stl);
    let (lo, hi) = bounding_box(&mesh);
    assert!(
        (hi[0] - lo[0] - 150.0).abs() < 1e-3 && (hi[2] - 11.0).abs() < 1e-3,
        "{lo:?}..{hi:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The app without weights in a `size` window, with `depth` dropped on it and loaded.
fn harness_with_depth(dir: &Path, depth: PathBuf, settings: Settings, size: [f32; 2]) -> Harness<'static, RelievoApp> {
    let options = AppOptions {
        weights_dir: dir.join("no-weights"),
        ..Default::default()
    };
    let mut harness = harness_with(options, settings, size);
    harness.input_mut().dropped_files.push(Arc::new(DroppedPath(depth)));
    step_until(&mut harness, "the depth map", Duration::from_secs(60), |app| {
        app.doc.as_ref().is_some_and(|d| d.depth.is_some())
    });
    harness
}

/// Volume enclosed by a closed triangle mesh (mm³), by the divergence theorem.
fn volume_mm3(mesh: &relievo::mesh::Mesh) -> f64 {
    mesh.triangles
        .iter()
        .map(|t| {
            let [a, b, c] = t.map(|i| mesh.vertices[i as usize].map(f64::from));
            (a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0])
                + a[2] * (b[0] * c[1] - b[1] * c[0]))
                / 6.0
        })
        .sum()
}

#[test]
fn painting_the_relief_grows_the_mesh_and_undo_gives_it_back() {
    let dir = temp_dir("edit");
    let depth = dir.join("panel_depth.png");
    write_depth(&depth, 1000, 1000);
    let options = AppOptions {
        weights_dir: dir.join("no-weights"),
        ..Default::default()
    };
    let mut settings = Settings::default();
    settings.tab = Tab::Split;
    settings.inspector.layout = InspectorLayout::Single;
    settings.inspector.layer = LayerKind::Depth;
    settings.relief.max_error_mm = 0.0;
    let mut harness = harness_with(options, settings, [1600.0, 900.0]);
    harness.input_mut().dropped_files.push(Arc::new(DroppedPath(depth)));
    step_until(&mut harness, "the exact mesh", Duration::from_secs(120), |app| {
        app.current_mesh().is_some()
    });
    let before = volume_mm3(&harness.state().current_mesh().unwrap().mesh);

    // A drag across the middle of the layers view with the raise brush.
    let brush = Brush {
        tool: Tool::Raise,
        radius_px: 12.0,
        strength: 0.5,
        hardness: 1.0,
    };
    harness.state_mut().send(Command::SetEdit(EditSettings {
        active: true,
        brush,
        ..EditSettings::default()
    }));
    harness.step();
    let view = harness.get_by_label("Edit relief").rect().left_bottom();
    // Find a point well inside the depth map: the hover readout says which pixel is under
    // the pointer.
    let mut start = egui::pos2(view.x + 20.0, 900.0 - 300.0);
    let inside = |app: &RelievoApp| {
        app.inspector
            .hover
            .as_ref()
            .is_some_and(|h| (200..700).contains(&h.x_px) && (200..800).contains(&h.y_px))
    };
    for _ in 0..40 {
        harness.input_mut().events.push(egui::Event::PointerMoved(start));
        harness.step();
        if inside(harness.state()) {
            break;
        }
        start.x += 20.0;
    }
    assert!(inside(harness.state()), "no point of the depth view found");
    harness.input_mut().events.push(egui::Event::PointerButton {
        pos: start,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    harness.step();
    for i in 1..=10 {
        harness
            .input_mut()
            .events
            .push(egui::Event::PointerMoved(start + egui::vec2(6.0 * i as f32, 0.0)));
        harness.step();
    }
    let end = start + egui::vec2(60.0, 0.0);
    harness.input_mut().events.push(egui::Event::PointerButton {
        pos: end,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    harness.step();
    harness.step();
    let edits = harness
        .state()
        .doc
        .as_ref()
        .unwrap()
        .edits
        .as_ref()
        .expect("the drag painted");
    assert_eq!(edits.undo_steps(), 1, "one drag, one undo step");
    let (lo, hi) = edits.offset_mm().min_max();
    assert!(lo == 0.0 && hi > 0.5, "raised by at least one dab's 0.5 mm: {lo}..{hi}");

    step_until(
        &mut harness,
        "the mesh with the edit",
        Duration::from_secs(120),
        |app| app.current_mesh().is_some(),
    );
    let raised = volume_mm3(&harness.state().current_mesh().unwrap().mesh);
    // Each raised pixel adds its height change times its area (mm); the full-resolution
    // grid triangulation integrates exactly that, less half a pixel at the footprint edge.
    let params = harness.state().settings.relief.clone();
    let offset = harness
        .state()
        .doc
        .as_ref()
        .unwrap()
        .edits
        .as_ref()
        .unwrap()
        .offset_mm()
        .clone();
    let pixel_mm2 = (params.width_mm / (offset.width - 1) as f32).powi(2) as f64;
    let expected: f64 = offset.data.iter().map(|&v| v as f64).sum::<f64>() * pixel_mm2;
    assert!(
        ((raised - before) - expected).abs() < 0.02 * expected,
        "volume grew by {:.1} mm³, edits hold {expected:.1} mm³",
        raised - before
    );

    // The 3D view follows an edit: one more dab, alone (no mesh or depth-view job beside
    // it), on the 1 M-triangle grid; the preview job's own time is read.
    harness.state_mut().send(Command::EditDab([500.0, 500.0]));
    harness.step();
    step_until(&mut harness, "the edited preview", Duration::from_secs(30), |app| {
        !app.jobs.is_running(JobKind::Preview)
    });
    let preview_secs = harness.state().timings.preview_secs.unwrap();
    let (_, render_ms) = harness.state_mut().measure_render_ms([800, 600]).unwrap();
    // The issue's budget from an edit to the 3D view is 50 ms; the redraw takes a
    // millisecond on a GPU, tens here on the CPU. Generous: the suite runs two tests at once.
    eprintln!(
        "edit → 3D view on a 1000² depth map: preview heights {:.0} ms, redraw {render_ms:.0} ms",
        preview_secs * 1e3
    );
    assert!(preview_secs < 0.2, "{preview_secs} s");
    harness.state_mut().send(Command::EndStroke);
    harness.step();
    let extra = harness
        .state()
        .doc
        .as_ref()
        .unwrap()
        .edits
        .as_ref()
        .unwrap()
        .undo_steps();
    assert_eq!(extra, 2);
    harness.state_mut().send(Command::Undo);
    harness.step();
    harness.state_mut().send(Command::Undo);
    harness.step();
    step_until(&mut harness, "the mesh after undo", Duration::from_secs(120), |app| {
        app.current_mesh().is_some()
    });
    let undone = volume_mm3(&harness.state().current_mesh().unwrap().mesh);
    assert_eq!(undone, before, "undo gives the same heights, so the same mesh");
    assert!(harness.state().doc.as_ref().unwrap().edits.as_ref().unwrap().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_marked_dent_is_repaired_from_the_relief_around_it() {
    let dir = temp_dir("repair");
    let depth = dir.join("panel_depth.png");
    write_depth(&depth, 300, 200);
    let mut settings = Settings::default();
    settings.tab = Tab::Layers;
    let mut harness = harness_with_depth(&dir, depth, settings, [1200.0, 800.0]);
    // A 1 mm dent, then the damage marked over it.
    let dent = Brush {
        tool: Tool::Lower,
        radius_px: 12.0,
        strength: 1.0,
        hardness: 1.0,
    };
    let mark = Brush {
        tool: Tool::Damage,
        radius_px: 16.0,
        ..dent
    };
    for brush in [dent, mark] {
        let edit = EditSettings {
            active: true,
            brush,
            ..EditSettings::default()
        };
        harness.state_mut().send(Command::SetEdit(edit));
        harness.state_mut().send(Command::EditDab([150.0, 100.0]));
        harness.state_mut().send(Command::EndStroke);
        harness.step();
    }
    harness.step();
    harness.get_by_label("Repair damage").click();
    harness.step();
    step_until(&mut harness, "the repair", Duration::from_secs(60), |app| {
        app.doc
            .as_ref()
            .and_then(|d| d.edits.as_ref())
            .is_some_and(|e| !e.has_damage())
    });
    let edits = harness.state().doc.as_ref().unwrap().edits.as_ref().unwrap();
    // The surface comes back across the hole: on average to a few hundredths of the dent,
    // at worst to a fifth where the test relief has a crease (|sin|) the fill cannot know.
    let left: Vec<f32> = (135..=165)
        .flat_map(|x| (85..=115).map(move |y| (x, y)))
        .map(|(x, y)| edits.offset_mm().get(x, y).abs())
        .collect();
    let worst = left.iter().fold(0f32, |m, &v| m.max(v));
    let mean = left.iter().sum::<f32>() / left.len() as f32;
    assert!(
        worst < 0.2 && mean < 0.05,
        "{mean} mm on average, {worst} at worst, of a 1 mm dent"
    );
    assert_eq!(edits.restored().get(150, 100), 1.0);
    assert_eq!(edits.restored().get(100, 100), 0.0);
    assert!(messages(harness.state()).iter().any(|m| m.starts_with("Repaired")));
    // One undo brings the dent and its marks back.
    harness.state_mut().send(Command::Undo);
    harness.step();
    let edits = harness.state().doc.as_ref().unwrap().edits.as_ref().unwrap();
    assert!(edits.has_damage() && edits.offset_mm().get(150, 100) == -1.0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_saved_project_reopens_with_its_edits_relief_and_view() {
    let dir = temp_dir("project");
    let depth = dir.join("panel_depth.png");
    write_depth(&depth, 240, 160);
    let mut first = harness_with_depth(&dir, depth, Settings::default(), [1200.0, 800.0]);
    let raise = Brush {
        tool: Tool::Raise,
        radius_px: 10.0,
        strength: 0.7,
        hardness: 0.4,
    };
    let mark = Brush {
        tool: Tool::Damage,
        ..raise
    };
    for (brush, at) in [(raise, [60.0, 50.0]), (mark, [180.0, 110.0])] {
        let edit = EditSettings {
            active: true,
            brush,
            ..EditSettings::default()
        };
        first.state_mut().send(Command::SetEdit(edit));
        first.state_mut().send(Command::EditDab(at));
        first.state_mut().send(Command::EndStroke);
        first.step();
    }
    let mut params = first.state().settings.relief.clone();
    params.relief_mm = 6.5;
    params.invert = true;
    first.state_mut().send(Command::SetRelief(params.clone()));
    let mut view = first.state().settings.view.clone();
    view.light_azimuth_deg = 250.0;
    first.state_mut().send(Command::SetView(Box::new(view)));
    let project = dir.join("panel.relievo");
    first.state_mut().send(Command::SaveProject(project.clone()));
    step_until(&mut first, "the project", Duration::from_secs(60), |app| {
        app.last_export.is_some()
    });
    assert!(messages(first.state()).iter().any(|m| m.starts_with("Saved project")));
    let saved = first.state().doc.as_ref().unwrap().edits.as_ref().unwrap();
    let (offsets, damage) = (saved.offset_mm().clone(), saved.damage().clone());
    step_until(&mut first, "the exact mesh", Duration::from_secs(60), |app| {
        app.current_mesh().is_some()
    });
    let volume = volume_mm3(&first.state().current_mesh().unwrap().mesh);

    // A fresh app with default settings opens the project by dropping it.
    let options = AppOptions {
        weights_dir: dir.join("no-weights"),
        ..Default::default()
    };
    let mut second = harness_with(options, Settings::default(), [1200.0, 800.0]);
    second.input_mut().dropped_files.push(Arc::new(DroppedPath(project)));
    step_until(&mut second, "the project", Duration::from_secs(60), |app| {
        app.doc.as_ref().is_some_and(|d| d.edits.is_some())
    });
    let app = second.state();
    let edits = app.doc.as_ref().unwrap().edits.as_ref().unwrap();
    assert!(
        edits.offset_mm() == &offsets && edits.damage() == &damage,
        "edits come back to the bit"
    );
    assert_eq!(app.settings.relief, params);
    assert_eq!(app.settings.view.light_azimuth_deg, 250.0);
    step_until(&mut second, "the exact mesh", Duration::from_secs(60), |app| {
        app.current_mesh().is_some()
    });
    assert_eq!(volume_mm3(&second.state().current_mesh().unwrap().mesh), volume);

    // A file that is not a project: one clear message, the document stays.
    let bogus = dir.join("bogus.relievo");
    std::fs::write(&bogus, b"hello").unwrap();
    second.state_mut().send(Command::OpenPath(bogus));
    second.step();
    step_until(&mut second, "the error", Duration::from_secs(30), |app| {
        !app.jobs.is_running(JobKind::OpenFile)
    });
    assert!(
        messages(second.state())
            .iter()
            .any(|m| m.contains("is not a relievo project"))
    );
    assert!(second.state().doc.as_ref().unwrap().edits.is_some());
    let _ = std::fs::remove_dir_all(&dir);
}

/// One raise dab through the edit commands.
fn dab(harness: &mut Harness<'static, RelievoApp>, at: [f32; 2]) {
    let edit = EditSettings {
        active: true,
        ..EditSettings::default()
    };
    harness.state_mut().send(Command::SetEdit(edit));
    harness.state_mut().send(Command::EditDab(at));
    harness.state_mut().send(Command::EndStroke);
    harness.step();
}

#[test]
fn unsaved_hand_edits_are_not_dropped_by_an_open_or_a_close() {
    let dir = temp_dir("unsaved");
    let depth = dir.join("panel_depth.png");
    write_depth(&depth, 240, 160);
    let other = dir.join("other_depth.png");
    write_depth(&other, 120, 80);
    let mut harness = harness_with_depth(&dir, depth, Settings::default(), [1200.0, 800.0]);
    let first = harness.state().doc.as_ref().unwrap().id;
    assert!(!harness.state().has_unsaved_edits(), "nothing edited yet");
    dab(&mut harness, [60.0, 50.0]);
    assert!(harness.state().has_unsaved_edits());

    // Opening another file asks first; Cancel keeps the document and its edits.
    harness.state_mut().send(Command::OpenPath(other.clone()));
    // The modal sizes itself in its first frame and shows in the next.
    harness.step();
    harness.step();
    assert!(harness.state().is_asking_about_unsaved_edits());
    assert!(
        !harness.state().jobs.is_running(JobKind::OpenFile),
        "nothing opened while asking"
    );
    // Escape is the modal's Cancel (a "Cancel" button of a running job may be on screen too).
    harness.key_press(egui::Key::Escape);
    harness.step();
    harness.step();
    assert!(!harness.state().is_asking_about_unsaved_edits());
    assert_eq!(harness.state().doc.as_ref().unwrap().id, first);
    assert!(harness.state().has_unsaved_edits());

    // A saved project holds the edits; the next edit is unsaved again.
    harness
        .state_mut()
        .send(Command::SaveProject(dir.join("panel.relievo")));
    step_until(&mut harness, "the project", Duration::from_secs(60), |app| {
        app.last_export.is_some()
    });
    assert!(!harness.state().has_unsaved_edits(), "saved in the project");
    dab(&mut harness, [120.0, 80.0]);
    assert!(harness.state().has_unsaved_edits());

    // Closing the window asks too: the close is cancelled until the user answers.
    harness
        .input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
    harness.step();
    assert!(harness.state().is_asking_about_unsaved_edits());
    let commands = &harness.output().viewport_output[&egui::ViewportId::ROOT].commands;
    assert!(
        commands.contains(&egui::ViewportCommand::CancelClose),
        "close cancelled: {commands:?}"
    );
    harness
        .state_mut()
        .send(Command::ResolveUnsaved(relievo::app::UnsavedChoice::Cancel));
    harness.step();

    // "Discard edits" lets the open go ahead.
    harness.state_mut().send(Command::OpenPath(other));
    harness.step();
    harness.step();
    harness.get_by_label("Discard edits").click();
    step_until(&mut harness, "the other depth map", Duration::from_secs(60), |app| {
        app.doc.as_ref().is_some_and(|d| d.id != first && d.depth.is_some())
    });
    assert!(!harness.state().is_asking_about_unsaved_edits());
    assert!(!harness.state().has_unsaved_edits());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn twenty_photos_dropped_in_a_burst_end_on_the_last_one_and_a_resize_mid_mesh() {
    let dir = temp_dir("burst");
    let weights = tiny_weights(&dir.join("models"));
    // Twenty photos of twenty sizes: layers of the wrong photo would show in their size.
    let photos: Vec<PathBuf> = (0..20)
        .map(|i| {
            let path = dir.join(format!("panel_{i:02}.png"));
            write_photo(&path, 200 + 8 * i, 150 + 4 * i);
            path
        })
        .collect();
    let options = AppOptions {
        photo: Some(photos[0].clone()),
        weights_dir: weights,
        // As without a GPU: the 3D view drawn on a worker thread and device of its own.
        read_back_3d: true,
        ..Default::default()
    };
    let mut settings = Settings::default();
    settings.tab = Tab::Split;
    let mut harness = harness_with(options, settings, [1200.0, 800.0]);
    step_until(
        &mut harness,
        "inference on the first photo",
        Duration::from_secs(120),
        |app| app.jobs.is_running(JobKind::Inference),
    );
    for photo in &photos[1..] {
        harness
            .input_mut()
            .dropped_files
            .push(Arc::new(DroppedPath(photo.clone())));
        harness.step();
    }
    let last = photos.last().unwrap().clone();
    step_until(
        &mut harness,
        "the last photo's layers",
        Duration::from_secs(180),
        |app| app.doc.as_ref().is_some_and(|d| d.path == last) && app.layers().is_some(),
    );
    let layers = harness.state().layers().unwrap().clone();
    assert_eq!((layers.depth.width, layers.depth.height), (200 + 8 * 19, 150 + 4 * 19));

    // The window resized while the mesh job runs: the mesh that lands is this photo's.
    step_until(&mut harness, "the mesh job", Duration::from_secs(60), |app| {
        app.jobs.is_running(JobKind::Mesh) || app.current_mesh().is_some()
    });
    for size in [[900.0, 600.0], [1400.0, 900.0], [700.0, 500.0], [1200.0, 800.0]] {
        harness.set_size(egui::vec2(size[0], size[1]));
        harness.step();
    }
    step_until(&mut harness, "the mesh", Duration::from_secs(120), |app| {
        app.current_mesh().is_some()
    });
    let app = harness.state();
    assert_eq!(app.doc.as_ref().unwrap().path, last);
    assert!(
        !messages(app)
            .iter()
            .any(|m| m.contains("failed") || m.contains("not opened")),
        "{:?}",
        messages(app)
    );
    let work = app.frames.work(None);
    eprintln!(
        "UI frame work over the burst: {} frames, mean {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        work.frames, work.mean_ms, work.p95_ms, work.max_ms
    );
    assert!(work.p95_ms < BURST_BUDGET_MS, "{work:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// What the 3D view shows of `heights` in a `size_px` view from the fitted camera.
fn relief_inputs(heights: &Grid<f32>, size_px: [u32; 2], ambient: f32) -> FrameInputs {
    let size_mm = [heights.width as f32 * 0.1, heights.height as f32 * 0.1, 3.0];
    let aspect = size_px[0] as f32 / size_px[1] as f32;
    let mut camera = OrbitCamera::default();
    camera.fit_to(size_mm, aspect);
    let radius = 0.5 * size_mm.iter().map(|v| v * v).sum::<f32>().sqrt();
    FrameInputs {
        clip_from_world: camera.clip_from_world(aspect, radius),
        eye: camera.eye(),
        size_mm: [size_mm[0], size_mm[1], 1.0, 2.0],
        invert: false,
        mirror: false,
        shading: Shading::Stone,
        curvature_gain: 1.0,
        light: [0.5, 0.5, 0.707],
        ambient,
        level_final: 0,
        level_fast: 1,
        colours: false,
    }
}

/// Calls `render` as frames do until the view is settled; asserts after every call that no image
/// older than `floor` (the version the heights were cleared at) is shown. Returns what each call
/// that showed an image said.
fn render_until_settled(
    renderer: &mut ReliefRenderer,
    ctx: &egui::Context,
    size_px: [u32; 2],
    inputs: &FrameInputs,
    floor: u64,
) -> Vec<Drawn> {
    let started = Instant::now();
    let mut drawn = Vec::new();
    loop {
        assert!(started.elapsed() < Duration::from_secs(60), "no final image: {drawn:?}");
        assert_eq!(renderer.failure(), None);
        if let Some((_, how)) = renderer.render(ctx, size_px, inputs) {
            drawn.push(how);
        }
        let shown = renderer.shown_version();
        assert!(
            shown.is_none_or(|v| v >= floor),
            "an image of heights cleared at {floor} is shown: {shown:?}"
        );
        if renderer.settled() {
            return drawn;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The renderer no-GPU users get: its device and thread of its own. It shows the newest heights,
/// never an image of heights cleared since, says "Unchanged" when nothing changed, wakes the
/// UI as images land, and its thread has ended once it is dropped.
#[test]
fn the_3d_worker_shows_the_newest_heights_only_and_ends_with_the_renderer() {
    let wakes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = wakes.clone();
    let wake: relievo::app::render::Wake = Arc::new(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    let (mut renderer, adapter) = ReliefRenderer::standalone(wake.clone()).expect("a wgpu adapter (lavapipe)");
    assert!(renderer.reads_back(), "{adapter}");
    let ctx = egui::Context::default();
    let size_px = [800, 600];
    // The first photo: ~1 M triangles, so that its images take a while on a CPU rasteriser.
    let first = Grid::from_fn(1000, 750, |x, y| {
        ((x as f32 * 0.02).sin() * (y as f32 * 0.03).cos()).abs()
    });
    let second = Grid::from_fn(300, 200, |x, _| x as f32 / 300.0);
    let (first_preview, second_preview) = (prepare_preview(&first, None), prepare_preview(&second, None));
    let first_inputs = relief_inputs(&first, size_px, 0.2);
    renderer.set_preview(Box::new(first_preview));
    assert_eq!(renderer.render(&ctx, size_px, &first_inputs), None, "no image yet");
    // The worker wakes the UI when the first photo's fast image is ready; before the UI takes it,
    // another photo is opened.
    let started = Instant::now();
    while wakes.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no wake: {:?}",
            renderer.failure()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    renderer.clear_heights();
    let floor = renderer.version();
    assert_eq!(
        renderer.render(&ctx, size_px, &first_inputs),
        None,
        "nothing shown once cleared"
    );
    // The first photo's image, which has landed, must not show now.
    renderer.set_preview(Box::new(second_preview));
    let inputs = relief_inputs(&second, size_px, 0.2);
    let drawn = render_until_settled(&mut renderer, &ctx, size_px, &inputs, floor);
    assert_eq!(renderer.shown_version(), Some(renderer.version()));
    assert_eq!(renderer.grid_size(), Some([300, 200]));
    assert_eq!(drawn.last(), Some(&Drawn::Final), "{drawn:?}");
    assert_eq!(
        renderer.render(&ctx, size_px, &inputs).map(|(_, how)| how),
        Some(Drawn::Unchanged)
    );

    // New inputs: the last image stays while the worker draws; then the newest inputs' final.
    let brighter = relief_inputs(&second, size_px, 0.5);
    let drawn = render_until_settled(&mut renderer, &ctx, size_px, &brighter, floor);
    assert_eq!(drawn.first(), Some(&Drawn::Pending), "{drawn:?}");
    assert_eq!(drawn.last(), Some(&Drawn::Final), "{drawn:?}");

    drop(renderer);
    assert_eq!(
        Arc::strong_count(&wake),
        1,
        "the worker's thread still holds the wake after the drop"
    );
}

/// A lost device stops the worker and the view says why; the app stays up and the renderer
/// drops cleanly.
#[test]
fn a_lost_3d_device_stops_the_worker_with_a_reason() {
    let state = egui_kittest::wgpu::create_render_state(
        egui_kittest::wgpu::default_wgpu_setup(),
        egui_wgpu::RendererOptions::PREDICTABLE,
    );
    let device = state.device.clone();
    let wake: relievo::app::render::Wake = Arc::new(|| {});
    let kind = state.adapter.get_info().device_type;
    let mut renderer = ReliefRenderer::threaded(device.clone(), state.queue.clone(), kind, wake);
    let ctx = egui::Context::default();
    let heights = Grid::from_fn(120, 80, |x, _| x as f32 / 120.0);
    let size_px = [320, 240];
    renderer.set_preview(Box::new(prepare_preview(&heights, None)));
    render_until_settled(&mut renderer, &ctx, size_px, &relief_inputs(&heights, size_px, 0.2), 0);

    device.destroy();
    let started = Instant::now();
    let mut ambient = 0.3;
    while renderer.failure().is_none() {
        assert!(started.elapsed() < Duration::from_secs(30), "the worker never noticed");
        ambient += 0.01;
        let _ = renderer.render(&ctx, size_px, &relief_inputs(&heights, size_px, ambient));
        std::thread::sleep(Duration::from_millis(10));
    }
    eprintln!("3D view stopped: {}", renderer.failure().unwrap());
    assert_eq!(
        renderer.render(&ctx, size_px, &relief_inputs(&heights, size_px, 0.9)),
        None
    );
    drop(renderer);
}

#[test]
fn a_lasso_selection_is_grown_raised_inflated_and_undone() {
    let dir = temp_dir("select");
    let depth = dir.join("panel_depth.png");
    write_depth(&depth, 240, 160);
    let mut settings = Settings::default();
    settings.relief.max_error_mm = 0.0;
    settings.tab = Tab::Split;
    let mut harness = harness_with_depth(&dir, depth, settings, [1400.0, 900.0]);
    step_until(&mut harness, "the exact mesh", Duration::from_secs(60), |app| {
        app.current_mesh().is_some()
    });
    let volume = |h: &Harness<'static, RelievoApp>| volume_mm3(&h.state().current_mesh().unwrap().mesh);
    let before = volume(&harness);
    let mut edit = EditSettings {
        active: true,
        ..EditSettings::default()
    };
    edit.select.tool = SelectTool::Lasso;
    edit.select.offset_mm = 0.5;
    harness.state_mut().send(Command::SetEdit(edit));
    // A 40 × 30 px rectangle: 1,200 pixels.
    let square = vec![[100.0, 60.0], [140.0, 60.0], [140.0, 90.0], [100.0, 90.0]];
    harness.state_mut().send(Command::SelectPolygon(square));
    harness.step();
    harness.step();
    let count = |h: &Harness<'static, RelievoApp>| {
        h.state()
            .doc
            .as_ref()
            .unwrap()
            .selection
            .as_ref()
            .map_or(0, |s| s.count())
    };
    assert_eq!(count(&harness), 1200);
    harness.get_by_label("1200 px selected");
    harness.state_mut().send(Command::ReshapeSelection(Reshape::Grow(2.0)));
    harness.step();
    assert!(count(&harness) > 1200 + 2 * (40 + 30) * 2 - 20, "{}", count(&harness));

    // "Raise by 0.5 mm" through its button: the solid gains about area × 0.5 mm.
    harness.step();
    harness.get_by_label("Raise by").click();
    step_until(&mut harness, "the raised mesh", Duration::from_secs(60), |app| {
        app.current_mesh().is_some_and(|m| volume_mm3(&m.mesh) > before + 1e-3)
    });
    let app = harness.state();
    let params = &app.settings.relief;
    let pixel_mm2 = (params.width_mm / 239.0).powi(2) as f64;
    let expected = count(&harness) as f64 * pixel_mm2 * 0.5;
    let gained = volume(&harness) - before;
    assert!(
        (gained - expected).abs() < 0.1 * expected,
        "gained {gained:.1} mm³, expected {expected:.1}"
    );

    // Inflating adds less than a full raise (it starts at 0 on the outline); undo takes it back.
    let raised = volume(&harness);
    harness
        .state_mut()
        .send(Command::ApplyToSelection(SelectionOp::Inflate {
            height_mm: 0.5,
            width_px: 10.0,
            profile: Profile::Round,
        }));
    step_until(&mut harness, "the inflated mesh", Duration::from_secs(60), |app| {
        app.current_mesh().is_some_and(|m| volume_mm3(&m.mesh) > raised + 1e-3)
    });
    let inflated = volume(&harness) - raised;
    assert!(
        inflated > 0.3 * expected && inflated < 0.95 * expected,
        "{inflated:.1} of {expected:.1}"
    );
    harness.state_mut().send(Command::Undo);
    step_until(&mut harness, "the mesh after undo", Duration::from_secs(60), |app| {
        app.current_mesh()
            .is_some_and(|m| (volume_mm3(&m.mesh) - raised).abs() < 1e-6 * raised.abs().max(1.0))
    });
    harness.state_mut().send(Command::Deselect);
    harness.step();
    assert_eq!(count(&harness), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_brush_paints_on_the_3d_view_where_the_cursor_meets_the_relief() {
    let dir = temp_dir("brush3d");
    let depth = dir.join("panel_depth.png");
    write_depth(&depth, 240, 160);
    let mut settings = Settings::default();
    settings.tab = Tab::Relief3d;
    settings.show_relief_panel = false;
    let mut harness = harness_with_depth(&dir, depth, settings, [1000.0, 700.0]);
    let edit = EditSettings {
        active: true,
        ..EditSettings::default()
    };
    harness.state_mut().send(Command::SetEdit(edit));
    for _ in 0..3 {
        harness.step();
    }
    // The camera looks at the middle of the relief: press in the middle of the view and
    // drag a little to the right.
    let view = harness.state().view_size.expect("the 3D view is laid out");
    let centre = egui::pos2(1000.0 - view.x / 2.0, 700.0 - view.y / 2.0);
    let button = |pressed: bool, pos| egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: Default::default(),
    };
    harness.input_mut().events.push(egui::Event::PointerMoved(centre));
    harness.step();
    harness.input_mut().events.push(button(true, centre));
    harness.step();
    for dx in [5.0, 10.0, 15.0, 20.0] {
        harness
            .input_mut()
            .events
            .push(egui::Event::PointerMoved(centre + egui::vec2(dx, 0.0)));
        harness.step();
    }
    harness
        .input_mut()
        .events
        .push(button(false, centre + egui::vec2(20.0, 0.0)));
    harness.step();
    harness.step();
    let app = harness.state();
    let edits = app.doc.as_ref().unwrap().edits.as_ref().expect("the drag painted");
    assert!(edits.can_undo(), "the stroke ended as one undo step");
    let offsets = edits.offset_mm();
    let (mut sum, mut sx, mut sy) = (0.0f64, 0.0f64, 0.0f64);
    for y in 0..offsets.height {
        for x in 0..offsets.width {
            let o = f64::from(offsets.get(x, y));
            sum += o;
            sx += o * x as f64;
            sy += o * y as f64;
        }
    }
    assert!(sum > 0.0, "raised");
    let (cx, cy) = (sx / sum, sy / sum);
    assert!(
        (cx - 120.0).abs() < 40.0 && (cy - 80.0).abs() < 40.0,
        "painted around the middle of the relief, not ({cx:.0}, {cy:.0})"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_scan_with_a_lost_block_is_compared_and_shown() {
    let dir = temp_dir("compare");
    let depth = dir.join("panel_depth.png");
    write_depth(&depth, 240, 160);
    // Today's scan: the same panel with a 20 × 20 px block knocked 0.2 of the relief deep,
    // in scanner units (×3, offset).
    let original = relievo::photo::load_depth(&depth, &Default::default()).unwrap();
    let scan = Grid::from_fn(240, 160, |x, y| {
        let knocked = (100..120).contains(&x) && (60..80).contains(&y);
        (original.get(x, y) - if knocked { 0.2 } else { 0.0 }) * 0.3 + 0.25
    });
    let scan_path = dir.join("scan_today.png");
    relievo::export::write_png16(&scan, &scan_path).unwrap();
    let mut harness = harness_with_depth(&dir, depth, Settings::default(), [1200.0, 800.0]);
    harness.state_mut().send(Command::CompareScan(scan_path));
    step_until(&mut harness, "the comparison", Duration::from_secs(60), |app| {
        app.comparison().is_some()
    });
    harness.step();
    harness.get_by_label("Difference to scan_today.png (blue lost, red added):");
    let app = harness.state();
    let c = &app.comparison().unwrap().result;
    let params = &app.settings.relief;
    let (lo, hi) = original.min_max();
    let pixel_mm2 = (params.width_mm / 239.0).powi(2) as f64;
    let expected = 400.0 * pixel_mm2 * (0.2 / (hi - lo) * params.relief_mm) as f64;
    assert!(
        (c.stats.volume_lost_mm3 - expected).abs() < 0.1 * expected,
        "lost {:.1} mm³, knocked off {expected:.1}: {:?}",
        c.stats.volume_lost_mm3,
        c.stats
    );
    assert!(c.stats.volume_added_mm3 < 0.05 * expected, "{:?}", c.stats);
    assert!(messages(app).iter().any(|m| m.starts_with("scan_today.png aligned")));
    let lost = c.stats.volume_lost_mm3;

    // Exported as `relievo compare` writes it: a 16-bit PNG and its JSON summary.
    let diff = dir.join("panel_difference.png");
    harness.state_mut().send(Command::ExportDifference(diff.clone()));
    step_until(&mut harness, "the difference export", Duration::from_secs(60), |app| {
        app.last_export.as_deref() == Some(diff.as_path())
    });
    let png = image::open(&diff).unwrap();
    assert_eq!((png.width(), png.height()), (240, 160));
    assert!(png.as_luma16().is_some(), "16-bit");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("panel_difference.json")).unwrap()).unwrap();
    let written = summary["difference"]["volume_lost_mm3"].as_f64().unwrap();
    assert!((written - lost).abs() < 1e-6 * lost.max(1.0), "{written} vs {lost}");

    // The difference on the 3D relief: the same colours the layer shows, drawn.
    harness.get_by_label("Colour by difference").click();
    step_until(&mut harness, "the difference in 3D", Duration::from_secs(60), |app| {
        app.settings.view.colour_by_difference && app.view_settled()
    });
    let serial = harness.state().comparison().unwrap().serial;
    assert_eq!(harness.state_mut().renderer().unwrap().colours_key(), Some(serial));
    harness.get_by_label("Colour by difference").click();
    step_until(&mut harness, "the stone again", Duration::from_secs(60), |app| {
        !app.settings.view.colour_by_difference && app.view_settled()
    });
    assert_eq!(harness.state_mut().renderer().unwrap().colours_key(), None);

    // Placing the scan by hand: the button opens the side-by-side view, three pairs
    // (the same pixels: the scan is framed as the relief) and Apply place it again.
    harness.get_by_label("Pick 3 point pairs").click();
    harness.run_steps(2);
    assert!(harness.state().doc.as_ref().unwrap().picked.active);
    harness.get_by_label("0 point pairs: click a point on the relief (left), then the same point on the scan (right).");
    for p in [[40.0, 30.0], [200.0, 50.0], [120.0, 140.0]] {
        harness.state_mut().send(Command::PickPoint {
            side: PickSide::Relief,
            px: p,
        });
        harness.state_mut().send(Command::PickPoint {
            side: PickSide::Scan,
            px: p,
        });
    }
    harness.run_steps(2);
    harness.get_by_label("Apply").click();
    step_until(
        &mut harness,
        "the comparison by point pairs",
        Duration::from_secs(60),
        |app| app.comparison().is_some_and(|c| c.result.alignment.points.is_some()),
    );
    harness.step();
    let c = &harness.state().comparison().unwrap().result;
    assert!(
        c.alignment.rotation_deg.abs() < 0.2 && (c.stats.volume_lost_mm3 - lost).abs() < 0.1 * lost,
        "{:?}",
        c
    );
    harness.get_by_label_contains("Placed by 3 pairs: residual");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn settings_with_numbers_that_are_not_finite_do_not_break_the_window() {
    // What a damaged settings file can still parse to (the settings fuzz target reads such
    // files): the window draws, a depth map opens, no panic.
    let dir = temp_dir("nan-settings");
    let depth = dir.join("panel_depth.png");
    write_depth(&depth, 120, 80);
    let mut settings = Settings::default();
    settings.relief.width_mm = f32::NAN;
    settings.view.light_azimuth_deg = f32::INFINITY;
    settings.view.ambient = f32::NAN;
    settings.inspector.overlay_opacity = f32::NAN;
    settings.inspector.difference_opacity = f32::NEG_INFINITY;
    settings.edit.brush.radius_px = f32::NAN;
    settings.edit.restoration_opacity = f32::NAN;
    settings.tab = Tab::Split;
    let mut harness = harness_with_depth(&dir, depth, settings, [1000.0, 640.0]);
    // Either the relief panel takes the bad width back to a valid one and the mesh is
    // made, or the mesh job says what is wrong.
    step_until(
        &mut harness,
        "a mesh or the relief's complaint",
        Duration::from_secs(30),
        |app| app.current_mesh().is_some() || messages(app).iter().any(|m| m.contains("width_mm")),
    );
    eprintln!(
        "width after: {} mm; mesh: {}",
        harness.state().settings.relief.width_mm,
        harness.state().current_mesh().is_some()
    );
    for _ in 0..5 {
        harness.step();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn training_panel_starts_and_stops_a_tiny_run() {
    let dir = temp_dir("train");
    let weights = tiny_weights(&dir.join("models"));
    let options = AppOptions {
        weights_dir: weights,
        ..Default::default()
    };
    let mut harness = harness(options, [1200.0, 800.0]);
    step_until(&mut harness, "the weights", Duration::from_secs(60), |app| {
        matches!(app.weights, relievo::app::WeightsState::Ready { .. })
    });
    {
        let app = harness.state_mut();
        let t = &mut app.settings.train;
        t.run.synthetic = true;
        t.run.synthetic_size_px = 48;
        t.run.crop_px = 32;
        t.run.batch = 1;
        t.run.epochs = 1;
        t.run.steps_per_epoch = 10_000;
        t.run.val_count = 1;
        t.run.checkpoint_every = 10_000;
        t.out = Some(dir.join("run"));
        app.send(Command::SetTab(Tab::Training));
    }
    harness.step();
    harness.get_by_label("Start").click();
    step_until(&mut harness, "a few training steps", Duration::from_secs(180), |app| {
        app.training.history.len() >= 3
    });
    // A depth map opened and exported while the run trains.
    let depth = dir.join("panel_depth.png");
    write_depth(&depth, 120, 80);
    harness.input_mut().dropped_files.push(Arc::new(DroppedPath(depth)));
    step_until(&mut harness, "the depth map", Duration::from_secs(60), |app| {
        app.doc.as_ref().is_some_and(|d| d.depth.is_some())
    });
    let stl = dir.join("during_training.stl");
    harness.state_mut().send(Command::ExportMesh(stl.clone()));
    step_until(&mut harness, "the export", Duration::from_secs(120), |app| {
        app.last_export.as_deref() == Some(stl.as_path())
    });
    assert_watertight(&stl);
    assert!(
        harness.state().training.is_active(),
        "the run kept going: {:?}",
        harness.state().training.phase
    );
    harness.state_mut().send(Command::SetTab(Tab::Training));
    harness.step();
    harness.get_by_label("Stop").click();
    step_until(&mut harness, "the run to stop", Duration::from_secs(120), |app| {
        matches!(app.training.phase, TrainPhase::Finished { stopped: true, .. })
    });
    let app = harness.state();
    let busy = app.frames.work(Some(true));
    eprintln!(
        "UI frame work during training: {} frames, mean {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        busy.frames, busy.mean_ms, busy.p95_ms, busy.max_ms
    );
    assert!(busy.frames > 0 && busy.p95_ms < FRAME_BUDGET_MS, "{busy:?}");
    assert!(
        dir.join("run").join("checkpoint").join("state.json").is_file(),
        "stopping saved a checkpoint"
    );
    assert!(
        app.training
            .best_dir
            .as_ref()
            .is_some_and(|d| d.join("model.bpk").is_file())
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn settings_persist_with_defaults_for_missing_fields() {
    let settings: Settings = serde_json::from_str(r#"{"relief": {"width_mm": 80.0}, "tab": "Training"}"#).unwrap();
    assert_eq!(settings.relief.width_mm, 80.0);
    assert_eq!(
        settings.relief.base_mm,
        relievo::relief::ReliefParams::default().base_mm
    );
    assert_eq!(settings.tab, Tab::Training);
    let text = serde_json::to_string(&Settings::default()).unwrap();
    assert_eq!(serde_json::from_str::<Settings>(&text).unwrap(), Settings::default());
}

#[test]
fn snapshot_of_a_depth_map_in_layers_and_3d() {
    snapshot_depth_map("snapshot", false);
}

/// The glow renderer's path (3D images read back to the CPU) draws the same picture.
#[test]
fn snapshot_with_the_3d_view_read_back() {
    snapshot_depth_map("snapshot-readback", true);
}

fn snapshot_depth_map(name: &str, read_back_3d: bool) {
    let dir = temp_dir(name);
    let depth = dir.join("snapshot_depth.png");
    write_depth(&depth, 160, 120);
    let options = AppOptions {
        photo: Some(depth),
        weights_dir: dir.join("no-weights"),
        read_back_3d,
        ..Default::default()
    };
    let mut harness = harness(options, [900.0, 460.0]);
    step_until(&mut harness, "the relief", Duration::from_secs(60), |app| {
        app.preview_size.is_some() && app.mesh.is_some() && !app.jobs.any_running()
    });
    harness.state_mut().settings.show_relief_panel = false;
    step_until(
        &mut harness,
        "the final 3D image",
        Duration::from_secs(60),
        RelievoApp::view_settled,
    );
    harness.run_steps(2);
    // The status bar shows timings and messages; they vary from run to run.
    harness.mask(egui::Rect::from_min_max(
        egui::pos2(0.0, 420.0),
        egui::pos2(900.0, 460.0),
    ));
    harness.snapshot_options(
        "depth_map_layers_and_3d",
        &SnapshotOptions::new().threshold(1.0).max_failed_pixels(50),
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Cancel during inference frees the CPU within a second with the real network (burn's engine
/// behind the app's `Engine` trait): the shipped weights at a working side of 1,024 px, seconds
/// of work on two cores, stop between the network's stages. No window needed.
#[test]
fn cancelling_inference_on_the_shipped_network_stops_its_worker_within_a_second() {
    use relievo::app::{NoLayers, WeightsState};
    use relievo::net::weights::{CONFIG_FILE, META_FILE, MODEL_FILE};
    let dir = temp_dir("cancel-inference");
    let shipped = relievo::net::weights::default_dir();
    let weights = dir.join("weights");
    std::fs::create_dir_all(&weights).unwrap();
    for file in [MODEL_FILE, CONFIG_FILE] {
        std::fs::copy(shipped.join(file), weights.join(file)).unwrap();
    }
    let meta = std::fs::read_to_string(shipped.join(META_FILE)).unwrap();
    let mut meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
    meta["working_side_px"] = 1024.into();
    std::fs::write(weights.join(META_FILE), meta.to_string()).unwrap();
    let photo = dir.join("panel.png");
    image::RgbImage::from_fn(1024, 768, |x, y| {
        image::Rgb([((x * 7 + y * 3) % 256) as u8, (x % 256) as u8, (y % 256) as u8])
    })
    .save(&photo)
    .unwrap();

    let ctx = egui::Context::default();
    let options = AppOptions {
        weights_dir: weights,
        ..AppOptions::default()
    };
    let mut app = RelievoApp::new(
        &ctx,
        None,
        Settings::default(),
        options,
        relievo::train::BurnEngine::shared(),
    );
    let pump = |app: &mut RelievoApp, done: &dyn Fn(&RelievoApp) -> bool| {
        let start = Instant::now();
        while !done(app) {
            assert!(start.elapsed() < Duration::from_secs(60), "timed out");
            app.logic(&ctx);
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    pump(&mut app, &|a| !matches!(a.weights, WeightsState::Loading));
    assert!(matches!(app.weights, WeightsState::Ready { .. }));
    // Every worker calls `wake` as its thread ends, a cancelled (detached) one included.
    let ended = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = ended.clone();
    app.jobs.set_wake(Arc::new(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }));
    app.send(Command::OpenPhoto(photo));
    pump(&mut app, &|a| a.jobs.is_running(JobKind::Inference));
    std::thread::sleep(Duration::from_millis(300));
    app.logic(&ctx);
    assert!(
        app.jobs.is_running(JobKind::Inference),
        "the inference ended before Cancel"
    );
    let before = ended.load(std::sync::atomic::Ordering::SeqCst);
    app.send(Command::CancelJob(JobKind::Inference));
    app.logic(&ctx);
    let cancelled = Instant::now();
    while ended.load(std::sync::atomic::Ordering::SeqCst) == before {
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
    let _ = std::fs::remove_dir_all(&dir);
}

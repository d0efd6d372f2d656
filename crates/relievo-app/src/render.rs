//! The 3D relief preview: drawn off-screen with wgpu and shown in egui as an ordinary image.
//!
//! Why our own wgpu renderer and not three-d in an `egui_glow` paint callback: egui_kittest
//! renders only through wgpu, so a three-d viewport on eframe's glow context could never be
//! exercised or snapshot-tested by the UI tests; three-d 0.19 has no hook for displacing a grid
//! in the vertex shader without writing a custom `Geometry`/`Material` anyway; and a paint
//! callback draws inside egui's pass, which has no depth buffer in the tests. Drawing into our own
//! textures (colour, 4× MSAA on a GPU, depth) and handing egui the resolved image needs no callback, owns
//! its depth buffer, works with either eframe renderer, and redraws only when the camera or the
//! inputs changed. Two outputs: with eframe's wgpu renderer (a hardware GPU, and most tests) the
//! image texture is registered with egui and sampled in place on the shared device, drawn on the
//! UI thread ([`ReliefRenderer::new`]); with eframe's glow renderer (no GPU: wgpu's lavapipe swap
//! chain costs ~155 ms per frame under X11, glow on llvmpipe ~24 ms) the relief renders on a
//! device of its own owned by a worker thread ([`ReliefRenderer::standalone`]), which draws, copies
//! each image back and hands it over; the UI thread only posts the newest heights, colours and
//! inputs, uploads the images that arrive as an egui texture and is woken when one does. A CPU
//! rasteriser draws the previous submission inside the next `Queue::submit`, so on the UI thread
//! that cost fell on whichever frame came next. Images carry the version of the heights they
//! show: none drawn before the heights were cleared (an earlier photo's) is shown. If the worker's
//! device is lost or it panics, the view says so ([`ReliefRenderer::failure`]). The shader is
//! `shaders/relief.wgsl`.
//!
//! Progressive drawing: after a change, a fast image (half resolution, one sample) shows at once;
//! then the final image (full resolution, 4× MSAA on a GPU, one sample on a CPU rasteriser) if
//! nothing changed meanwhile: the next frame draws it in place; the worker draws it right after
//! the fast one.
//!
//! Geometry: a grid of at most [`logic::PREVIEW_MAX_TRIANGLES`] top triangles whose vertices
//! the shader lifts from the height texture, four walls and a bottom, with index buffers for
//! every [`LEVEL_STRIDES`] level of detail (every 1st, 2nd, 3rd… vertex). The viewport draws the
//! finest level with no more cells than half the pixels the relief covers, one level coarser
//! while the user drags: more triangles than pixels would not show, and a software rasteriser
//! (lavapipe) pays for each one. Shading does not lose detail with coarser levels: slopes and
//! curvature come per fragment from a gradient texture at the height texture's resolution,
//! computed with the heights off the UI thread ([`prepare_preview`]).
//!
//! Colours: the top can be tinted by an RGBA texture over the relief's footprint
//! ([`SurfaceColours`], e.g. the difference to a scan in the layers view's colour map), on
//! the same pipeline and bind group as the heights; where the texture is transparent the
//! stone shows, and the light shades the tint like the stone.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use eframe::egui;
use eframe::egui_wgpu;
use eframe::wgpu;
use eframe::wgpu::util::DeviceExt;

use super::logic;
use crate::grid::Grid;
use half::f16;
use rayon::prelude::*;

const SHADER: &str = include_str!("../../../shaders/relief.wgsl");
const COLOR_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;
const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;
/// Samples per pixel of the final (idle) image on a GPU; fast images use one.
const FINAL_SAMPLES: u32 = 4;

/// Samples per pixel of the final image on an adapter of `kind`. A CPU rasteriser
/// (lavapipe, llvmpipe, WARP) draws one: with four, its final image of a 1 M-triangle
/// preview held up the frame that submitted the next one by 130–190 ms on 2 cores
/// (`twenty_photos_dropped_in_a_burst…`), as `Queue::submit` waits for its previous work.
fn final_samples(kind: wgpu::DeviceType) -> u32 {
    if kind == wgpu::DeviceType::Cpu {
        1
    } else {
        FINAL_SAMPLES
    }
}

/// Covered pixels per top-grid cell the level of detail aims at on an adapter of `kind`:
/// two on a GPU; eight on a CPU rasteriser, whose cost grows with the triangles it sets up
/// (the shading, from the gradient texture, keeps its per-pixel detail either way).
fn pixels_per_cell(kind: wgpu::DeviceType) -> f32 {
    if kind == wgpu::DeviceType::Cpu { 8.0 } else { 2.0 }
}
/// Fast images are drawn at this fraction of the view's resolution.
pub const FAST_SCALE: f32 = 0.5;
/// Background behind the relief (gamma-encoded RGB, as the target stores it).
pub const CLEAR_RGB: [f64; 3] = [0.105, 0.11, 0.12];
/// Floats per vertex: u, v, kind, normal xyz.
const VERTEX_FLOATS: usize = 6;
/// Size of the uniform block in bytes (a mat4 and four vec4).
const UNIFORM_BYTES: usize = 64 + 4 * 16;

/// How the relief is shaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Shading {
    /// Matte stone lit by the raking light.
    #[default]
    Stone,
    /// Surface normals as colours.
    Normals,
    /// Convex (orange) and concave (blue) areas.
    Curvature,
}

impl Shading {
    pub const ALL: [Shading; 3] = [Shading::Stone, Shading::Normals, Shading::Curvature];

    pub fn label(self) -> &'static str {
        match self {
            Shading::Stone => "Stone",
            Shading::Normals => "Normals",
            Shading::Curvature => "Curvature",
        }
    }
}

/// Everything one frame of the preview depends on besides the geometry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameInputs {
    pub clip_from_world: super::camera::Mat4,
    pub eye: [f32; 3],
    /// width, height, base, relief (mm)
    pub size_mm: [f32; 4],
    pub invert: bool,
    pub mirror: bool,
    pub shading: Shading,
    pub curvature_gain: f32,
    /// Unit vector towards the light.
    pub light: [f32; 3],
    pub ambient: f32,
    /// Level of detail of the final image: index into [`LEVEL_STRIDES`] (clamped to the levels
    /// the grid has).
    pub level_final: usize,
    /// Level of detail of the fast image (drawn at [`FAST_SCALE`] of the resolution).
    pub level_fast: usize,
    /// Tint the top by the colours set with [`ReliefRenderer::set_colours`].
    pub colours: bool,
}

/// Colours over the relief's footprint (row 0 at the photo's top row, unmirrored), as
/// unmultiplied sRGB RGBA texels; alpha mixes them over the stone.
#[derive(Clone, Debug, PartialEq)]
pub struct SurfaceColours {
    pub size: [usize; 2],
    pub rgba: Vec<[u8; 4]>,
}

/// Which image [`ReliefRenderer::render`] drew or took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drawn {
    /// Nothing changed: the last image is shown again.
    Unchanged,
    /// The inputs changed: a fast image (half resolution, one sample). In place, call again
    /// next frame for the final one; from the worker, it wakes the UI when that is ready.
    Fast,
    /// The final image (full resolution, [`final_samples`] per pixel).
    Final,
    /// The worker draws an image of the current inputs and wakes the UI when it is ready; the
    /// last image is shown meanwhile.
    Pending,
}

/// Called (from any thread) when the worker has an image or has stopped: the app requests a repaint.
pub type Wake = Arc<dyn Fn() + Send + Sync>;

/// What an image shows.
#[derive(Clone, Copy, Debug)]
struct Key {
    /// Without the fast image's level of detail, which releasing a drag changes but must go
    /// straight to the final image.
    inputs: FrameInputs,
    size_px: [u32; 2],
    /// Of the heights and colours ([`ReliefRenderer::version`]).
    version: u64,
}

impl Key {
    fn new(inputs: &FrameInputs, size_px: [u32; 2], version: u64) -> Self {
        Self {
            inputs: FrameInputs {
                level_fast: 0,
                ..*inputs
            },
            size_px,
            version,
        }
    }
}

/// Bit for bit, so that inputs with a NaN (a damaged settings file) are still the same inputs
/// and not drawn again and again.
impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.size_px == other.size_px
            && self.version == other.version
            && self.inputs.level_final == other.inputs.level_final
            && uniform_bytes(&self.inputs) == uniform_bytes(&other.inputs)
    }
}

/// The two images of the progressive order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Fast,
    Final,
}

/// Which images of which inputs are drawn, and what comes next: a fast image after a change, the
/// final one when the inputs stayed, then nothing. Both outputs follow it.
#[derive(Debug, Default)]
struct Progress {
    fast: Option<Key>,
    final_: Option<Key>,
}

impl Progress {
    /// The image to draw for `key`, `None` when its final image is drawn.
    fn next(&self, key: &Key) -> Option<Step> {
        if self.final_.as_ref() == Some(key) {
            None
        } else if self.fast.as_ref() != Some(key) {
            Some(Step::Fast)
        } else {
            Some(Step::Final)
        }
    }

    fn drawn(&mut self, key: Key, step: Step) {
        match step {
            Step::Fast => {
                // The final image now shows older inputs: going back to them draws again.
                if self.final_ != Some(key) {
                    self.final_ = None;
                }
                self.fast = Some(key);
            }
            Step::Final => self.final_ = Some(key),
        }
    }

    /// Whether the final image of the last inputs is drawn, and they are of `version`.
    fn settled(&self, version: u64) -> bool {
        self.final_.is_some_and(|k| k.version == version) && self.fast == self.final_
    }
}

/// Which of the worker's images the UI shows: none drawn before the heights were last cleared
/// (an earlier photo's), none older than the one shown.
#[derive(Debug, Default)]
struct Shown {
    /// The version set by the last [`ReliefRenderer::clear_heights`].
    floor: u64,
    image: Option<(Key, Step)>,
}

impl Shown {
    fn accepts(&self, key: &Key) -> bool {
        key.version >= self.floor && self.image.is_none_or(|(shown, _)| key.version >= shown.version)
    }

    fn clear(&mut self, floor: u64) {
        self.floor = floor;
        self.image = None;
    }
}

/// A copy of an image on its way to the CPU.
struct PendingReadback {
    buffer: wgpu::Buffer,
    size: [u32; 2],
    bytes_per_row: u32,
}

/// Vertex strides of the levels of detail.
pub const LEVEL_STRIDES: [usize; 8] = [1, 2, 3, 4, 6, 8, 12, 16];

/// The finest level whose top grid has at most `budget_cells` cells (`cells[i]` of level i);
/// the coarsest if none does.
pub fn level_for(cells: &[usize], budget_cells: usize) -> usize {
    cells
        .iter()
        .position(|&c| c <= budget_cells)
        .unwrap_or(cells.len().saturating_sub(1))
}

struct Geometry {
    vertices: wgpu::Buffer,
    /// Index buffer, index count and top-grid cells of each level.
    levels: Vec<(wgpu::Buffer, u32, usize)>,
    grid: [usize; 2],
}

struct Target {
    size: [u32; 2],
    samples: u32,
    /// The multisampled colour buffer (final images only).
    msaa: Option<wgpu::TextureView>,
    resolved: wgpu::TextureView,
    resolved_texture: wgpu::Texture,
    depth: wgpu::TextureView,
    /// Registered with egui's wgpu renderer (native output only).
    texture_id: Option<egui::TextureId>,
}

/// Whether a hardware wgpu adapter (discrete or integrated GPU) exists on the primary
/// backends; software (CPU) and virtual adapters do not count. `run` draws the window with
/// wgpu only then.
pub fn hardware_adapter_exists() -> bool {
    let instance = wgpu::Instance::default();
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY))
        .iter()
        .any(|a| {
            matches!(
                a.get_info().device_type,
                wgpu::DeviceType::DiscreteGpu | wgpu::DeviceType::IntegratedGpu
            )
        })
}

/// The preview on one wgpu device: pipelines, heights, colours, geometry and the images'
/// targets. It draws; [`ReliefRenderer`] decides what, on the UI thread (native output) or
/// on its worker (read-back output).
struct Gpu {
    device: wgpu::Device,
    queue: wgpu::Queue,
    /// egui's wgpu renderer on the same device, with which targets are registered (native
    /// output); `None` when images are read back.
    egui_renderer: Option<Arc<egui::mutex::RwLock<egui_wgpu::Renderer>>>,
    /// The last read-back buffer, reused while the view keeps its size.
    spare_readback: Option<wgpu::Buffer>,
    /// Pipelines for one sample (fast) and [`final_samples`] (final).
    pipeline_fast: wgpu::RenderPipeline,
    pipeline_final: wgpu::RenderPipeline,
    /// The adapter's kind (GPU or CPU rasteriser), which sets the final image's samples.
    kind: wgpu::DeviceType,
    layout: wgpu::BindGroupLayout,
    uniforms: wgpu::Buffer,
    sampler: wgpu::Sampler,
    bind_group: Option<wgpu::BindGroup>,
    /// The textures of the bind group: heights and gradients (with the preview), colours
    /// (a transparent texel until colours are set).
    heights_view: Option<(wgpu::TextureView, wgpu::TextureView)>,
    colours_view: wgpu::TextureView,
    geometry: Option<Geometry>,
    fast: Option<Target>,
    final_: Option<Target>,
}

impl Gpu {
    fn new(
        device: wgpu::Device,
        queue: wgpu::Queue,
        egui_renderer: Option<Arc<egui::mutex::RwLock<egui_wgpu::Renderer>>>,
        kind: wgpu::DeviceType,
    ) -> Self {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("relievo relief"),
            source: wgpu::ShaderSource::Wgsl(SHADER.into()),
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("relievo relief"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::VERTEX | wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: std::num::NonZeroU64::new(UNIFORM_BYTES as u64),
                    },
                    count: None,
                },
                texture_entry(1, wgpu::ShaderStages::VERTEX | wgpu::ShaderStages::FRAGMENT, false),
                texture_entry(2, wgpu::ShaderStages::FRAGMENT, true),
                wgpu::BindGroupLayoutEntry {
                    binding: 3,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
                texture_entry(4, wgpu::ShaderStages::FRAGMENT, true),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("relievo relief"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = |samples: u32| {
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some("relievo relief"),
                layout: Some(&pipeline_layout),
                vertex: wgpu::VertexState {
                    module: &module,
                    entry_point: Some("vs_main"),
                    buffers: &[Some(wgpu::VertexBufferLayout {
                        array_stride: (VERTEX_FLOATS * 4) as u64,
                        step_mode: wgpu::VertexStepMode::Vertex,
                        attributes: &wgpu::vertex_attr_array![0 => Float32x3, 1 => Float32x3],
                    })],
                    compilation_options: wgpu::PipelineCompilationOptions::default(),
                },
                primitive: wgpu::PrimitiveState {
                    topology: wgpu::PrimitiveTopology::TriangleList,
                    strip_index_format: None,
                    front_face: wgpu::FrontFace::Ccw,
                    cull_mode: None,
                    unclipped_depth: false,
                    polygon_mode: wgpu::PolygonMode::Fill,
                    conservative: false,
                },
                depth_stencil: Some(wgpu::DepthStencilState {
                    format: DEPTH_FORMAT,
                    depth_write_enabled: Some(true),
                    depth_compare: Some(wgpu::CompareFunction::Less),
                    stencil: wgpu::StencilState::default(),
                    bias: wgpu::DepthBiasState::default(),
                }),
                multisample: wgpu::MultisampleState {
                    count: samples,
                    mask: !0,
                    alpha_to_coverage_enabled: false,
                },
                fragment: Some(wgpu::FragmentState {
                    module: &module,
                    entry_point: Some("fs_main"),
                    targets: &[Some(wgpu::ColorTargetState {
                        format: COLOR_FORMAT,
                        blend: None,
                        write_mask: wgpu::ColorWrites::ALL,
                    })],
                    compilation_options: wgpu::PipelineCompilationOptions::default(),
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        let (pipeline_fast, pipeline_final) = (pipeline(1), pipeline(final_samples(kind)));
        let uniforms = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("relievo relief uniforms"),
            size: UNIFORM_BYTES as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("relievo gradients"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });
        let colours_view = colour_texture(&device, &queue, [1, 1], &[[0; 4]]);
        Self {
            sampler,
            heights_view: None,
            colours_view,
            device,
            queue,
            egui_renderer,
            spare_readback: None,
            pipeline_fast,
            pipeline_final,
            kind,
            layout,
            uniforms,
            bind_group: None,
            geometry: None,
            fast: None,
            final_: None,
        }
    }

    fn clear_heights(&mut self) {
        self.geometry = None;
        self.bind_group = None;
        self.heights_view = None;
    }

    fn texture_2d(
        &self,
        label: &str,
        [w, h]: [u32; 2],
        format: wgpu::TextureFormat,
        bytes: &[u8],
    ) -> wgpu::TextureView {
        let size = wgpu::Extent3d {
            width: w,
            height: h,
            depth_or_array_layers: 1,
        };
        let texture = self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some(label),
            size,
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        let bytes_per_texel = format.block_copy_size(None).unwrap_or(4);
        self.queue.write_texture(
            wgpu::TexelCopyTextureInfo {
                texture: &texture,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            bytes,
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(bytes_per_texel * w),
                rows_per_image: Some(h),
            },
            size,
        );
        texture.create_view(&wgpu::TextureViewDescriptor::default())
    }

    /// Uploads new heights, their gradients and (if the grid size changed) the grid.
    fn set_preview(&mut self, preview: &PreviewData) {
        let size = preview.size.map(|v| v as u32);
        let height_view = self.texture_2d(
            "relievo heights",
            size,
            wgpu::TextureFormat::R32Float,
            &preview.height_bytes,
        );
        let gradient_view = self.texture_2d(
            "relievo gradients",
            size,
            wgpu::TextureFormat::Rgba16Float,
            &preview.gradient_bytes,
        );
        self.heights_view = Some((height_view, gradient_view));
        self.bind();
        if self.geometry.as_ref().is_none_or(|g| g.grid != preview.grid) {
            // The job skips the mesh when this renderer already had its grid; build it here
            // only if the grid changed since (another preview landed in between, or the
            // worker skipped one).
            let mesh = match &preview.mesh {
                Some(mesh) => self.upload_geometry(mesh),
                None => self.upload_geometry(&grid_mesh(preview.grid[0], preview.grid[1])),
            };
            self.geometry = Some(mesh);
        }
    }

    /// The colours the top is tinted with (`None`: a transparent texel).
    fn set_colours(&mut self, colours: Option<&SurfaceColours>) {
        self.colours_view = match colours {
            Some(c) => colour_texture(&self.device, &self.queue, c.size.map(|v| v.max(1) as u32), &c.rgba),
            None => colour_texture(&self.device, &self.queue, [1, 1], &[[0; 4]]),
        };
        self.bind();
    }

    /// The bind group of the heights, gradients and colours (none before heights).
    fn bind(&mut self) {
        let Some((heights, gradients)) = &self.heights_view else {
            return;
        };
        self.bind_group = Some(self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("relievo relief"),
            layout: &self.layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: self.uniforms.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(heights),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: wgpu::BindingResource::TextureView(gradients),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: wgpu::BindingResource::Sampler(&self.sampler),
                },
                wgpu::BindGroupEntry {
                    binding: 4,
                    resource: wgpu::BindingResource::TextureView(&self.colours_view),
                },
            ],
        }));
    }

    fn upload_geometry(&self, mesh: &GridMesh) -> Geometry {
        let bytes: Vec<u8> = mesh.vertices.iter().flat_map(|v| v.to_le_bytes()).collect();
        let vertices = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("relievo grid vertices"),
            contents: &bytes,
            usage: wgpu::BufferUsages::VERTEX,
        });
        let levels = mesh
            .levels
            .iter()
            .map(|level| {
                let bytes: Vec<u8> = level.indices.iter().flat_map(|i| i.to_le_bytes()).collect();
                let buffer = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("relievo grid level"),
                    contents: &bytes,
                    usage: wgpu::BufferUsages::INDEX,
                });
                (buffer, level.indices.len() as u32, level.cells)
            })
            .collect();
        Geometry {
            vertices,
            levels,
            grid: mesh.grid,
        }
    }

    /// A target of `size` with `samples` per pixel, reusing `old` (and its egui texture id).
    fn target(&self, old: Option<Target>, size: [u32; 2], samples: u32) -> Target {
        if let Some(old) = old {
            if old.size == size && old.samples == samples {
                return old;
            }
            return self.new_target(old.texture_id, size, samples);
        }
        self.new_target(None, size, samples)
    }

    fn new_target(&self, texture_id: Option<egui::TextureId>, size: [u32; 2], samples: u32) -> Target {
        let texture = |label: &str, format, samples, usage| {
            self.device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size: wgpu::Extent3d {
                    width: size[0],
                    height: size[1],
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: samples,
                dimension: wgpu::TextureDimension::D2,
                format,
                usage,
                view_formats: &[],
            })
        };
        let view = |texture: &wgpu::Texture| texture.create_view(&wgpu::TextureViewDescriptor::default());
        let attachment = wgpu::TextureUsages::RENDER_ATTACHMENT;
        let usage = attachment | wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_SRC;
        let resolved_texture = texture("relievo view", COLOR_FORMAT, 1, usage);
        let resolved = view(&resolved_texture);
        let texture_id = match &self.egui_renderer {
            Some(egui_renderer) => {
                let mut egui_renderer = egui_renderer.write();
                Some(match texture_id {
                    Some(id) => {
                        egui_renderer.update_egui_texture_from_wgpu_texture(
                            &self.device,
                            &resolved,
                            wgpu::FilterMode::Linear,
                            id,
                        );
                        id
                    }
                    None => egui_renderer.register_native_texture(&self.device, &resolved, wgpu::FilterMode::Linear),
                })
            }
            None => None,
        };
        Target {
            size,
            samples,
            msaa: (samples > 1).then(|| view(&texture("relievo view msaa", COLOR_FORMAT, samples, attachment))),
            resolved,
            depth: view(&texture("relievo view depth", DEPTH_FORMAT, samples, attachment)),
            resolved_texture,
            texture_id,
        }
    }

    /// Draws `step` of `inputs` for a `size_px` view (clamped) and submits it; with read-back
    /// output also queues the copy of the image. `None` without heights.
    fn draw(
        &mut self,
        size_px: [u32; 2],
        inputs: &FrameInputs,
        step: Step,
    ) -> Option<(Option<egui::TextureId>, Option<PendingReadback>)> {
        let fast = step == Step::Fast;
        let (size, samples, level) = if fast {
            let scaled = size_px.map(|s| ((s as f32 * FAST_SCALE).round() as u32).max(1));
            (scaled, 1, inputs.level_fast)
        } else {
            (size_px, final_samples(self.kind), inputs.level_final)
        };
        self.geometry.as_ref()?;
        self.bind_group.as_ref()?;
        let target = if fast {
            let old = self.fast.take();
            self.target(old, size, samples)
        } else {
            let old = self.final_.take();
            self.target(old, size, samples)
        };
        let (Some(geometry), Some(bind_group)) = (&self.geometry, &self.bind_group) else {
            return None;
        };
        let levels = geometry.levels.len();
        self.queue.write_buffer(&self.uniforms, 0, &uniform_bytes(inputs));
        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("relievo relief"),
        });
        {
            let [r, g, b] = CLEAR_RGB;
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("relievo relief"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: target.msaa.as_ref().unwrap_or(&target.resolved),
                    resolve_target: target.msaa.as_ref().map(|_| &target.resolved),
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color { r, g, b, a: 1.0 }),
                        store: if target.msaa.is_some() {
                            wgpu::StoreOp::Discard
                        } else {
                            wgpu::StoreOp::Store
                        },
                    },
                    depth_slice: None,
                })],
                depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                    view: &target.depth,
                    depth_ops: Some(wgpu::Operations {
                        load: wgpu::LoadOp::Clear(1.0),
                        store: wgpu::StoreOp::Discard,
                    }),
                    stencil_ops: None,
                }),
                occlusion_query_set: None,
                timestamp_writes: None,
                multiview_mask: None,
            });
            pass.set_pipeline(if fast {
                &self.pipeline_fast
            } else {
                &self.pipeline_final
            });
            pass.set_bind_group(0, bind_group, &[]);
            pass.set_vertex_buffer(0, geometry.vertices.slice(..));
            let (indices, count, _) = &geometry.levels[level.min(levels - 1)];
            pass.set_index_buffer(indices.slice(..), wgpu::IndexFormat::Uint32);
            pass.draw_indexed(0..*count, 0, 0..1);
        }
        let readback = target
            .texture_id
            .is_none()
            .then(|| self.copy_out(&mut encoder, &target));
        self.queue.submit(Some(encoder.finish()));
        let texture_id = target.texture_id;
        if fast {
            self.fast = Some(target);
        } else {
            self.final_ = Some(target);
        }
        Some((texture_id, readback))
    }

    /// Queues a copy of the target's image into a mappable buffer.
    fn copy_out(&mut self, encoder: &mut wgpu::CommandEncoder, target: &Target) -> PendingReadback {
        let [w, h] = target.size;
        let bytes_per_row = (4 * w).div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT) * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
        let size = u64::from(bytes_per_row) * u64::from(h);
        let buffer = match self.spare_readback.take() {
            Some(spare) if spare.size() == size => spare,
            _ => self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("relievo view readback"),
                size,
                usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
                mapped_at_creation: false,
            }),
        };
        encoder.copy_texture_to_buffer(
            wgpu::TexelCopyTextureInfo {
                texture: &target.resolved_texture,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            wgpu::TexelCopyBufferInfo {
                buffer: &buffer,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(bytes_per_row),
                    rows_per_image: Some(h),
                },
            },
            wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
        );
        PendingReadback {
            buffer,
            size: target.size,
            bytes_per_row,
        }
    }

    /// Waits for the copy to arrive (worker thread only) and returns the image.
    fn read_back(&mut self, pending: PendingReadback) -> Result<egui::ColorImage, String> {
        let (sender, receiver) = std::sync::mpsc::channel();
        pending.buffer.map_async(wgpu::MapMode::Read, .., move |result| {
            let _ = sender.send(result);
        });
        let _ = self.device.poll(wgpu::PollType::wait_indefinitely());
        match receiver.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(format!("reading the image back failed: {e}")),
            Err(_) => return Err("reading the image back never finished".to_string()),
        }
        let [w, h] = pending.size.map(|v| v as usize);
        let mut rgba = Vec::with_capacity(4 * w * h);
        {
            let view = pending
                .buffer
                .slice(..)
                .get_mapped_range()
                .map_err(|e| format!("reading the image back failed: {e}"))?;
            for row in view.chunks(pending.bytes_per_row as usize).take(h) {
                rgba.extend_from_slice(&row[..4 * w]);
            }
        }
        pending.buffer.unmap();
        self.spare_readback = Some(pending.buffer);
        Ok(egui::ColorImage::from_rgba_unmultiplied([w, h], &rgba))
    }
}

/// The native output: a [`Gpu`] on egui's device, drawn on the UI thread, its targets sampled
/// in place.
struct Native {
    gpu: Gpu,
    progress: Progress,
    /// The image shown last, and the version of the heights it shows.
    shown: Option<(egui::TextureId, u64)>,
}

/// What the UI thread hands the worker; the worker takes all of it at once, so only the newest
/// of each kind is ever drawn.
#[derive(Default)]
struct Inbox {
    /// Drop the heights (before `preview`, which came later).
    clear: bool,
    preview: Option<Box<PreviewData>>,
    /// New colours (`Some(None)` clears them).
    colours: Option<Option<SurfaceColours>>,
    /// The version of the heights and colours above.
    version: u64,
    /// The image wanted: what it shows, and the full inputs.
    request: Option<(Key, FrameInputs)>,
    quit: bool,
}

impl Inbox {
    fn has_news(&self) -> bool {
        self.clear || self.preview.is_some() || self.colours.is_some() || self.request.is_some()
    }
}

/// An image drawn by the worker.
struct Image {
    key: Key,
    step: Step,
    image: egui::ColorImage,
    /// Drawing and reading it back, on the worker.
    draw_ms: f32,
}

/// What the worker hands back.
#[derive(Default)]
struct Outbox {
    /// The newest image not yet taken (a newer one replaces it).
    image: Option<Image>,
    /// The worker is drawing or about to.
    busy: bool,
    /// Why the worker stopped (device lost, a panic, a failed read-back).
    failure: Option<String>,
}

/// The mailbox between the UI thread and the worker. Either side holds the lock only to move
/// things in or out, never while drawing.
struct Mailbox {
    inbox: Inbox,
    outbox: Outbox,
    wake: Wake,
}

struct Shared {
    mailbox: Mutex<Mailbox>,
    /// Signalled on every change of the mailbox.
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Mailbox> {
        self.mailbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records why the worker stopped and wakes the UI, unless the renderer is being dropped.
    fn fail(&self, reason: String) {
        let wake = {
            let mut mailbox = self.lock();
            if mailbox.inbox.quit {
                return;
            }
            mailbox.outbox.failure.get_or_insert(reason);
            mailbox.outbox.busy = false;
            mailbox.wake.clone()
        };
        self.changed.notify_all();
        wake();
    }
}

/// The read-back output: a [`Gpu`] on a device of its own, owned by a worker thread that draws
/// and reads back; the UI thread only posts inputs and uploads the images that arrive.
struct Worker {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// The last image asked for.
    requested: Option<Key>,
    shown: Shown,
    texture: Option<egui::TextureHandle>,
    /// Time the worker took for the image shown.
    draw_ms: Option<f32>,
}

impl Worker {
    fn spawn(device: wgpu::Device, queue: wgpu::Queue, kind: wgpu::DeviceType, wake: Wake) -> Self {
        let shared = Arc::new(Shared {
            mailbox: Mutex::new(Mailbox {
                inbox: Inbox::default(),
                outbox: Outbox::default(),
                wake,
            }),
            changed: Condvar::new(),
        });
        let lost = Arc::downgrade(&shared);
        device.set_device_lost_callback(move |_reason, message| {
            if let Some(shared) = lost.upgrade() {
                shared.fail(format!("its wgpu device was lost ({message})"));
            }
        });
        let worker_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("relievo 3D view".to_string())
            .spawn(move || {
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    worker_main(Gpu::new(device, queue, None, kind), &worker_shared)
                }));
                let reason = match run {
                    Ok(Ok(())) => return,
                    Ok(Err(reason)) => reason,
                    Err(panic) => {
                        let text = panic
                            .downcast_ref::<String>()
                            .map(String::as_str)
                            .or_else(|| panic.downcast_ref::<&str>().copied())
                            .unwrap_or("no message");
                        format!("its renderer panicked: {text}")
                    }
                };
                worker_shared.fail(reason);
            })
            .ok();
        let worker = Self {
            shared,
            thread,
            requested: None,
            shown: Shown::default(),
            texture: None,
            draw_ms: None,
        };
        if worker.thread.is_none() {
            worker.shared.fail("its thread could not start".to_string());
        }
        worker
    }

    fn failure(&self) -> Option<String> {
        self.shared.lock().outbox.failure.clone()
    }

    /// Uploads the newest image that arrived, if the view may show it; the step it was.
    fn collect(&mut self, ctx: &egui::Context) -> Option<Step> {
        let image = self.shared.lock().outbox.image.take()?;
        if !self.shown.accepts(&image.key) {
            return None;
        }
        let options = egui::TextureOptions::LINEAR;
        match &mut self.texture {
            Some(texture) => texture.set(image.image, options),
            None => self.texture = Some(ctx.load_texture("relievo 3D view", image.image, options)),
        }
        self.shown.image = Some((image.key, image.step));
        self.draw_ms = Some(image.draw_ms);
        Some(image.step)
    }

    fn post(&self, change: impl FnOnce(&mut Inbox)) {
        change(&mut self.shared.lock().inbox);
        self.shared.changed.notify_all();
    }

    fn render(&mut self, ctx: &egui::Context, key: Key, inputs: &FrameInputs) -> Option<(egui::TextureId, Drawn)> {
        if self.failure().is_some() {
            return None;
        }
        let landed = self.collect(ctx);
        if self.requested != Some(key) {
            self.requested = Some(key);
            self.post(|inbox| inbox.request = Some((key, *inputs)));
        }
        let texture = self.shown.image.and(self.texture.as_ref())?.id();
        let drawn = match (self.shown.image, landed) {
            (Some((shown, Step::Final)), None) if shown == key => Drawn::Unchanged,
            (Some((shown, step)), Some(_)) if shown == key => match step {
                Step::Fast => Drawn::Fast,
                Step::Final => Drawn::Final,
            },
            _ => Drawn::Pending,
        };
        Some((texture, drawn))
    }

    /// Blocks until an image of the last request arrived or the worker has nothing more to
    /// draw, and takes it (measurements and tests; never called from a frame).
    fn finish(&mut self, ctx: &egui::Context) {
        let started = Instant::now();
        loop {
            let idle = {
                let mut mailbox = self.shared.lock();
                loop {
                    let idle = !mailbox.outbox.busy && !mailbox.inbox.has_news();
                    if mailbox.outbox.image.is_some() || mailbox.outbox.failure.is_some() || idle {
                        break idle;
                    }
                    if started.elapsed() > FINISH_TIMEOUT {
                        return;
                    }
                    mailbox = self
                        .shared
                        .changed
                        .wait_timeout(mailbox, Duration::from_millis(100))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            };
            self.collect(ctx);
            let arrived = self.shown.image.is_some_and(|(k, _)| Some(k) == self.requested);
            if idle || arrived || self.failure().is_some() {
                return;
            }
        }
    }

    fn settled(&self) -> bool {
        self.requested.is_some() && self.shown.image == self.requested.map(|k| (k, Step::Final))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.post(|inbox| inbox.quit = true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Longest [`ReliefRenderer::finish`] waits for the worker.
const FINISH_TIMEOUT: Duration = Duration::from_secs(120);

/// The worker's loop: takes the newest heights, colours and request, draws the next image of the
/// request (fast, then final), reads it back and hands it over; sleeps when there is nothing to
/// draw; returns when the renderer is dropped, or with the reason it cannot go on.
fn worker_main(mut gpu: Gpu, shared: &Shared) -> Result<(), String> {
    let mut progress = Progress::default();
    let mut current: Option<(Key, FrameInputs)> = None;
    loop {
        let news = {
            let mut mailbox = shared.lock();
            loop {
                if mailbox.inbox.quit {
                    return Ok(());
                }
                let work = current.as_ref().is_some_and(|(key, ..)| progress.next(key).is_some());
                if mailbox.inbox.has_news() || work {
                    break;
                }
                if mailbox.outbox.busy {
                    mailbox.outbox.busy = false;
                    shared.changed.notify_all();
                }
                mailbox = shared.changed.wait(mailbox).unwrap_or_else(PoisonError::into_inner);
            }
            mailbox.outbox.busy = true;
            let news = std::mem::take(&mut mailbox.inbox);
            // The version stays: a request alone is of the same heights.
            mailbox.inbox.version = news.version;
            news
        };
        if news.clear {
            gpu.clear_heights();
        }
        if let Some(preview) = &news.preview {
            gpu.set_preview(preview);
        }
        if let Some(colours) = &news.colours {
            gpu.set_colours(colours.as_ref());
        }
        if news.request.is_some() {
            current = news.request;
        }
        // A request made before the heights or colours changed shows what is gone.
        if current.as_ref().is_some_and(|(key, _)| key.version != news.version) {
            current = None;
        }
        let Some((key, inputs)) = current else {
            continue;
        };
        let Some(step) = progress.next(&key) else { continue };
        let started = Instant::now();
        let Some((_, Some(pending))) = gpu.draw(key.size_px, &inputs, step) else {
            // Nothing to draw yet (no heights).
            current = None;
            continue;
        };
        let image = gpu.read_back(pending)?;
        progress.drawn(key, step);
        let wake = {
            let mut mailbox = shared.lock();
            mailbox.outbox.image = Some(Image {
                key,
                step,
                image,
                draw_ms: started.elapsed().as_secs_f32() * 1e3,
            });
            mailbox.wake.clone()
        };
        shared.changed.notify_all();
        wake();
    }
}

enum Output {
    Native(Native),
    Worker(Worker),
}

/// The 3D preview's renderer. Create once: on eframe's wgpu device ([`Self::new`], drawn on
/// the UI thread and sampled in place) or on a device and thread of its own
/// ([`Self::standalone`], images read back).
pub struct ReliefRenderer {
    output: Output,
    /// The adapter's kind (GPU or CPU rasteriser), which sets the level of detail.
    kind: wgpu::DeviceType,
    /// Vertices per side and top-grid cells of each level of the heights set last.
    grid: Option<[usize; 2]>,
    level_cells: Vec<usize>,
    /// The key the colours were set with.
    colours_key: Option<u64>,
    /// Bumped by every change of the heights or colours: part of what an image shows.
    version: u64,
}

impl ReliefRenderer {
    /// A renderer on eframe's (or the test's) wgpu device, drawn on the UI thread, its images
    /// sampled in place.
    pub fn new(render_state: &egui_wgpu::RenderState) -> Self {
        let kind = render_state.adapter.get_info().device_type;
        let gpu = Gpu::new(
            render_state.device.clone(),
            render_state.queue.clone(),
            Some(render_state.renderer.clone()),
            kind,
        );
        Self::with_output(
            Output::Native(Native {
                gpu,
                progress: Progress::default(),
                shown: None,
            }),
            kind,
        )
    }

    /// A renderer on a device of its own (a hardware adapter if there is one, else the CPU one,
    /// e.g. lavapipe) whose images are drawn on a worker thread and read back: for eframe's glow
    /// renderer. `wake` is called when an image is ready. Also returns the adapter's name.
    pub fn standalone(wake: Wake) -> Option<(Self, String)> {
        let instance = wgpu::Instance::default();
        let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY));
        let rank = |a: &wgpu::Adapter| match a.get_info().device_type {
            wgpu::DeviceType::DiscreteGpu => 0,
            wgpu::DeviceType::IntegratedGpu => 1,
            wgpu::DeviceType::Cpu => 2,
            _ => 3,
        };
        let adapter = adapters.into_iter().min_by_key(rank)?;
        let info = adapter.get_info();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("relievo 3D view"),
            ..Default::default()
        }))
        .ok()?;
        Some((Self::threaded(device, queue, info.device_type, wake), info.name))
    }

    /// A renderer drawing on `device` (an adapter of `kind`), which it owns from now on, on a
    /// worker thread; the images are read back. The thread ends when the renderer is dropped.
    pub fn threaded(device: wgpu::Device, queue: wgpu::Queue, kind: wgpu::DeviceType, wake: Wake) -> Self {
        Self::with_output(Output::Worker(Worker::spawn(device, queue, kind, wake)), kind)
    }

    fn with_output(output: Output, kind: wgpu::DeviceType) -> Self {
        Self {
            output,
            kind,
            grid: None,
            level_cells: Vec::new(),
            colours_key: None,
            version: 0,
        }
    }

    /// Who the worker wakes when an image is ready (the app's context can change after start).
    pub fn set_wake(&self, wake: Wake) {
        if let Output::Worker(worker) = &self.output {
            worker.shared.lock().wake = wake;
        }
    }

    /// See [`pixels_per_cell`].
    pub fn pixels_per_cell(&self) -> f32 {
        pixels_per_cell(self.kind)
    }

    /// Whether heights have been set.
    pub fn has_heights(&self) -> bool {
        self.grid.is_some()
    }

    /// Vertices per side of the current grid.
    pub fn grid_size(&self) -> Option<[usize; 2]> {
        self.grid
    }

    /// Top-surface triangles of the full grid.
    pub fn grid_triangles(&self) -> usize {
        self.grid_size().map_or(0, |[w, h]| 2 * (w - 1) * (h - 1))
    }

    /// Top-grid cells of each level of detail, finest first.
    pub fn level_cells(&self) -> Vec<usize> {
        self.level_cells.clone()
    }

    /// The version of the heights and colours: bumped by every [`Self::set_preview`],
    /// [`Self::set_colours`] and [`Self::clear_heights`].
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Drops the heights (no relief to show). With read-back output, no image drawn from
    /// earlier heights is shown after this.
    pub fn clear_heights(&mut self) {
        self.version += 1;
        self.grid = None;
        self.level_cells.clear();
        match &mut self.output {
            Output::Native(native) => {
                native.gpu.clear_heights();
                native.progress = Progress::default();
                native.shown = None;
            }
            Output::Worker(worker) => {
                let version = self.version;
                worker.shown.clear(version);
                worker.post(|inbox| {
                    inbox.clear = true;
                    inbox.preview = None;
                    inbox.version = version;
                });
            }
        }
    }

    /// New heights, their gradients and (if the grid size changed) the grid.
    pub fn set_preview(&mut self, preview: Box<PreviewData>) {
        self.version += 1;
        self.grid = Some(preview.grid);
        self.level_cells = grid_level_cells(preview.grid[0], preview.grid[1]);
        match &mut self.output {
            Output::Native(native) => native.gpu.set_preview(&preview),
            Output::Worker(worker) => {
                let version = self.version;
                worker.post(|inbox| {
                    inbox.preview = Some(preview);
                    inbox.version = version;
                });
            }
        }
    }

    /// The colours [`FrameInputs::colours`] tints the top with, and a key telling what
    /// they show (`None` clears them).
    pub fn set_colours(&mut self, colours: Option<(u64, SurfaceColours)>) {
        self.version += 1;
        self.colours_key = colours.as_ref().map(|(key, _)| *key);
        let colours = colours.map(|(_, c)| c);
        match &mut self.output {
            Output::Native(native) => native.gpu.set_colours(colours.as_ref()),
            Output::Worker(worker) => {
                let version = self.version;
                worker.post(|inbox| {
                    inbox.colours = Some(colours);
                    inbox.version = version;
                });
            }
        }
    }

    /// The key of the colours set, if any.
    pub fn colours_key(&self) -> Option<u64> {
        self.colours_key
    }

    /// The relief for a `size_px` view, and the egui texture to show. Progressive: when the inputs
    /// changed, a fast image (half resolution, one sample, coarser grid) comes first, then the
    /// final image (full resolution, 4× MSAA on a GPU); after that nothing is drawn until
    /// something changes. Native output draws them here, one per call (call again after
    /// [`Drawn::Fast`]); read-back output posts the inputs to its worker, which draws both and
    /// wakes the UI as each is ready, and shows the newest image that arrived. `None` before
    /// any image (or after the worker stopped: see [`Self::failure`]).
    pub fn render(
        &mut self,
        ctx: &egui::Context,
        size_px: [u32; 2],
        inputs: &FrameInputs,
    ) -> Option<(egui::TextureId, Drawn)> {
        self.grid?;
        let size_px = [size_px[0].clamp(1, 8192), size_px[1].clamp(1, 8192)];
        let key = Key::new(inputs, size_px, self.version);
        match &mut self.output {
            Output::Worker(worker) => worker.render(ctx, key, inputs),
            Output::Native(native) => {
                let Some(step) = native.progress.next(&key) else {
                    return native.shown.map(|(id, _)| (id, Drawn::Unchanged));
                };
                let (texture_id, _) = native.gpu.draw(size_px, inputs, step)?;
                native.progress.drawn(key, step);
                native.shown = texture_id.map(|id| (id, key.version));
                let drawn = match step {
                    Step::Fast => Drawn::Fast,
                    Step::Final => Drawn::Final,
                };
                native.shown.map(|(id, _)| (id, drawn))
            }
        }
    }

    /// Waits for the GPU (native output) or for the worker's image of the last inputs (read-back
    /// output) and shows it. For measurements and tests: never call it in a frame.
    pub fn finish(&mut self, ctx: &egui::Context) {
        match &mut self.output {
            Output::Native(native) => {
                let _ = native.gpu.device.poll(wgpu::PollType::wait_indefinitely());
            }
            Output::Worker(worker) => worker.finish(ctx),
        }
    }

    /// Whether the final image of the last inputs and the current heights is shown (nothing
    /// in flight).
    pub fn settled(&self) -> bool {
        match &self.output {
            Output::Native(native) => native.progress.settled(self.version),
            Output::Worker(worker) => worker.settled() && worker.requested.is_some_and(|k| k.version == self.version),
        }
    }

    /// Whether images are drawn on a worker and read back to the CPU (glow) rather than drawn
    /// on the UI thread and sampled in place (wgpu).
    pub fn reads_back(&self) -> bool {
        matches!(self.output, Output::Worker(_))
    }

    /// The version (see [`Self::version`]) of the heights and colours the image shown was drawn
    /// from; `None` while no image is shown.
    pub fn shown_version(&self) -> Option<u64> {
        match &self.output {
            Output::Native(native) => native.shown.map(|(_, version)| version),
            Output::Worker(worker) => worker.shown.image.map(|(key, _)| key.version),
        }
    }

    /// Why the worker stopped (its device lost, a panic), if it did: the view shows it.
    pub fn failure(&self) -> Option<String> {
        match &self.output {
            Output::Native(_) => None,
            Output::Worker(worker) => worker.failure(),
        }
    }

    /// How long the worker took to draw and read back the image shown (read-back output).
    pub fn worker_draw_ms(&self) -> Option<f32> {
        match &self.output {
            Output::Native(_) => None,
            Output::Worker(worker) => worker.draw_ms,
        }
    }
}

/// An sRGB RGBA texture of `size` texels (sampled as linear colour).
fn colour_texture(device: &wgpu::Device, queue: &wgpu::Queue, [w, h]: [u32; 2], rgba: &[[u8; 4]]) -> wgpu::TextureView {
    let texture = device.create_texture_with_data(
        queue,
        &wgpu::TextureDescriptor {
            label: Some("relievo surface colours"),
            size: wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba8UnormSrgb,
            usage: wgpu::TextureUsages::TEXTURE_BINDING,
            view_formats: &[],
        },
        wgpu::util::TextureDataOrder::LayerMajor,
        rgba.as_flattened(),
    );
    texture.create_view(&wgpu::TextureViewDescriptor::default())
}

fn uniform_bytes(inputs: &FrameInputs) -> Vec<u8> {
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    let shading = match inputs.shading {
        Shading::Stone => 0.0,
        Shading::Normals => 1.0,
        Shading::Curvature => 2.0,
    };
    let mut floats: Vec<f32> = inputs.clip_from_world.iter().flatten().copied().collect();
    floats.extend(inputs.size_mm);
    floats.extend([flag(inputs.invert), flag(inputs.mirror), shading, inputs.curvature_gain]);
    floats.extend(inputs.light);
    floats.push(inputs.ambient);
    floats.extend(inputs.eye);
    floats.push(flag(inputs.colours));
    debug_assert_eq!(floats.len() * 4, UNIFORM_BYTES);
    floats.iter().flat_map(|f| f.to_le_bytes()).collect()
}

/// Everything the GPU needs for one preview, prepared off the UI thread.
pub struct PreviewData {
    /// Texels of the height and gradient textures.
    pub size: [usize; 2],
    /// Heights in 0..1 (see `logic::preview_heights`) as `R32Float` texels.
    height_bytes: Vec<u8>,
    /// `Rgba16Float` texels: x slope, y slope (central differences, height units per texel,
    /// y down the photo), the Laplacian (convex negative), and 0.
    gradient_bytes: Vec<u8>,
    /// Vertices per side of the preview grid.
    grid: [usize; 2],
    /// The grid with its levels of detail; `None` when the renderer already had this grid.
    mesh: Option<GridMesh>,
}

/// A bind group layout entry for a 2D float texture.
fn texture_entry(binding: u32, visibility: wgpu::ShaderStages, filterable: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility,
        ty: wgpu::BindingType::Texture {
            sample_type: wgpu::TextureSampleType::Float { filterable },
            view_dimension: wgpu::TextureViewDimension::D2,
            multisampled: false,
        },
        count: None,
    }
}

/// Heights → what [`ReliefRenderer::set_preview`] uploads: the texture bytes and, unless
/// `current_grid` (the renderer's grid) already is it, the grid (at most
/// `logic::PREVIEW_MAX_TRIANGLES` top triangles) with all its levels of detail.
pub fn prepare_preview(heights: &Grid<f32>, current_grid: Option<[usize; 2]>) -> PreviewData {
    let (w, h) = (heights.width, heights.height);
    let f16_bytes = |v: f32| f16::from_f32(v).to_bits().to_le_bytes();
    // Rows in parallel: this runs again for every frame of brush strokes.
    let mut gradient_bytes = vec![0u8; 8 * w * h];
    gradient_bytes.par_chunks_mut(8 * w).enumerate().for_each(|(y, row)| {
        let y = y as isize;
        for (x, texel) in row.chunks_exact_mut(8).enumerate() {
            let x = x as isize;
            let at = |dx: isize, dy: isize| heights.get_clamped(x + dx, y + dy);
            let centre = at(0, 0);
            let slope_x = 0.5 * (at(1, 0) - at(-1, 0));
            let slope_y = 0.5 * (at(0, 1) - at(0, -1));
            let laplacian = at(1, 0) + at(-1, 0) + at(0, 1) + at(0, -1) - 4.0 * centre;
            for (k, v) in [slope_x, slope_y, laplacian, 0.0].into_iter().enumerate() {
                texel[2 * k..2 * k + 2].copy_from_slice(&f16_bytes(v));
            }
        }
    });
    let grid = logic::preview_grid_size(w, h, logic::PREVIEW_MAX_TRIANGLES).map(|n| n.max(2));
    PreviewData {
        size: [w, h],
        height_bytes: heights.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        gradient_bytes,
        grid,
        mesh: (current_grid != Some(grid)).then(|| grid_mesh(grid[0], grid[1])),
    }
}

/// One level of detail of the grid.
pub struct GridLevel {
    pub stride: usize,
    /// Top grid, walls and bottom, three indices per triangle.
    pub indices: Vec<u32>,
    /// Cells of its top grid.
    pub cells: usize,
}

/// CPU side of the preview geometry.
pub struct GridMesh {
    /// Vertices per side of the top grid.
    pub grid: [usize; 2],
    /// `VERTEX_FLOATS` per vertex: u, v, kind (0 top, 1 bottom), normal (zero on the top surface).
    pub vertices: Vec<f32>,
    /// Finest first.
    pub levels: Vec<GridLevel>,
}

/// The strides of [`LEVEL_STRIDES`] that leave at least one cell of an `nx × ny` vertex grid.
fn grid_strides(nx: usize, ny: usize) -> impl Iterator<Item = usize> {
    let longest = nx.max(ny).max(2);
    LEVEL_STRIDES
        .into_iter()
        .take_while(move |&stride| stride == 1 || stride < longest - 1)
}

/// Top-grid cells of each level of detail [`grid_mesh`] builds for an `nx × ny` vertex grid,
/// finest first, without building it.
pub fn grid_level_cells(nx: usize, ny: usize) -> Vec<usize> {
    let (nx, ny) = (nx.max(2), ny.max(2));
    grid_strides(nx, ny)
        .map(|stride| (nx - 1).div_ceil(stride) * (ny - 1).div_ceil(stride))
        .collect()
}

/// The preview solid for an `nx × ny` vertex grid — top grid, walls along its border and a
/// bottom, in `u, v` coordinates (v = 0 at the far edge, the photo's top row) — with an index
/// list for every stride of [`LEVEL_STRIDES`] that leaves at least one cell.
pub fn grid_mesh(nx: usize, ny: usize) -> GridMesh {
    let (nx, ny) = (nx.max(2), ny.max(2));
    let mut vertices = Vec::with_capacity((nx * ny + 4 * (nx + ny) + 4) * VERTEX_FLOATS);
    let uv = |i: usize, j: usize| [i as f32 / (nx - 1) as f32, j as f32 / (ny - 1) as f32];
    for j in 0..ny {
        for i in 0..nx {
            let [u, v] = uv(i, j);
            vertices.extend([u, v, 0.0, 0.0, 0.0, 0.0]);
        }
    }
    let top = |i: usize, j: usize| (j * nx + i) as u32;
    // Every `step`-th position of 0..n, always with the last.
    let picks = |n: usize, step: usize| -> Vec<usize> { (0..n - 1).step_by(step).chain([n - 1]).collect() };
    // Each side: (top, bottom) vertex pairs along it with its outward normal, counter-clockwise
    // seen from above; `sides[k].0[m]` is the m-th border position of that side.
    let sides: [(Vec<[usize; 2]>, [f32; 3]); 4] = [
        ((0..nx).map(|i| [i, ny - 1]).collect(), [0.0, -1.0, 0.0]),
        ((0..ny).rev().map(|j| [nx - 1, j]).collect(), [1.0, 0.0, 0.0]),
        ((0..nx).rev().map(|i| [i, 0]).collect(), [0.0, 1.0, 0.0]),
        ((0..ny).map(|j| [0, j]).collect(), [-1.0, 0.0, 0.0]),
    ];
    let mut side_first = Vec::new();
    for (points, normal) in &sides {
        side_first.push((vertices.len() / VERTEX_FLOATS) as u32);
        for &[i, j] in points {
            let [u, v] = uv(i, j);
            vertices.extend([u, v, 0.0, normal[0], normal[1], normal[2]]);
            vertices.extend([u, v, 1.0, normal[0], normal[1], normal[2]]);
        }
    }
    let bottom = (vertices.len() / VERTEX_FLOATS) as u32;
    for [u, v] in [[0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]] {
        vertices.extend([u, v, 1.0, 0.0, 0.0, -1.0]);
    }
    let mut levels = Vec::new();
    for stride in grid_strides(nx, ny) {
        let columns = picks(nx, stride);
        let rows = picks(ny, stride);
        let mut indices = Vec::with_capacity(6 * columns.len() * rows.len());
        for r in rows.windows(2) {
            for c in columns.windows(2) {
                let (i0, i1, j0, j1) = (c[0], c[1], r[0], r[1]);
                // Counter-clockwise seen from above (v grows towards the viewer, i.e. mesh −y).
                indices.extend([
                    top(i0, j1),
                    top(i1, j1),
                    top(i1, j0),
                    top(i0, j1),
                    top(i1, j0),
                    top(i0, j0),
                ]);
            }
        }
        let cells = (columns.len() - 1) * (rows.len() - 1);
        // Walls through the same border vertices as this level's top grid: no cracks.
        for (k, ((points, _), &first)) in sides.iter().zip(&side_first).enumerate() {
            // Keep the border vertices the top grid of this level uses (by grid coordinate).
            let kept = |&[i, j]: &[usize; 2]| {
                let (c, n) = if k % 2 == 0 { (i, nx) } else { (j, ny) };
                c % stride == 0 || c == n - 1
            };
            let along: Vec<usize> = (0..points.len()).filter(|&m| kept(&points[m])).collect();
            for pair in along.windows(2) {
                let (a, b) = (first + 2 * pair[0] as u32, first + 2 * pair[1] as u32);
                let (top_a, bottom_a, top_b, bottom_b) = (a, a + 1, b, b + 1);
                indices.extend([bottom_a, bottom_b, top_b, bottom_a, top_b, top_a]);
            }
        }
        // Seen from below: clockwise from above.
        indices.extend([bottom, bottom + 2, bottom + 1, bottom, bottom + 3, bottom + 2]);
        levels.push(GridLevel { stride, indices, cells });
    }
    GridMesh {
        grid: [nx, ny],
        vertices,
        levels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_mesh_levels_are_closed_and_coarser() {
        let mesh = grid_mesh(9, 7);
        let vertex_count = (mesh.vertices.len() / VERTEX_FLOATS) as u32;
        assert_eq!(mesh.levels[0].cells, 8 * 6);
        assert_eq!(mesh.levels[0].indices.len() / 3, 2 * 8 * 6 + 2 * 2 * (8 + 6) + 2);
        assert!(mesh.levels.windows(2).all(|l| l[1].cells < l[0].cells));
        for level in &mesh.levels {
            assert!(level.indices.iter().all(|&i| i < vertex_count));
            // Closed: every undirected edge (by position) is used by exactly two triangles.
            let key = |i: u32| {
                let v = &mesh.vertices[i as usize * VERTEX_FLOATS..][..3];
                [(v[0] * 1e4) as i64, (v[1] * 1e4) as i64, v[2] as i64]
            };
            let mut edges = std::collections::HashMap::new();
            for t in level.indices.chunks(3) {
                for k in 0..3 {
                    let (a, b) = (key(t[k]), key(t[(k + 1) % 3]));
                    *edges.entry(if a < b { (a, b) } else { (b, a) }).or_insert(0) += 1;
                }
            }
            // The bottom is two big triangles whose edges run past the wall vertices, so only
            // the top grid and walls are checked for cracks: top-border edges appear twice.
            let top_edges_open = edges
                .iter()
                .filter(|((a, b), n)| a[2] == 0 && b[2] == 0 && **n != 2)
                .count();
            assert_eq!(top_edges_open, 0, "stride {}", level.stride);
        }
        for [nx, ny] in [[9, 7], [2, 2], [3, 40], [101, 77], [1001, 751]] {
            let cells: Vec<usize> = grid_mesh(nx, ny).levels.iter().map(|l| l.cells).collect();
            assert_eq!(grid_level_cells(nx, ny), cells, "{nx} × {ny}");
        }
        assert_eq!(level_for(&[100, 25, 9], 30), 1);
        assert_eq!(level_for(&[100, 25, 9], 1), 2);
    }

    fn key(eye_x: f32, version: u64) -> Key {
        let inputs = FrameInputs {
            clip_from_world: [[0.0; 4]; 4],
            eye: [eye_x, 0.0, 0.0],
            size_mm: [0.0; 4],
            invert: false,
            mirror: false,
            shading: Shading::Stone,
            curvature_gain: 1.0,
            light: [0.0, 0.0, 1.0],
            ambient: 0.2,
            level_final: 0,
            level_fast: 0,
            colours: false,
        };
        Key::new(&inputs, [64, 48], version)
    }

    #[test]
    fn progress_is_fast_then_final_then_nothing_and_redraws_inputs_gone_back_to() {
        let (a, b) = (key(0.0, 1), key(1.0, 1));
        let mut progress = Progress::default();
        assert_eq!(progress.next(&a), Some(Step::Fast));
        progress.drawn(a, Step::Fast);
        assert!(!progress.settled(1));
        assert_eq!(progress.next(&a), Some(Step::Final));
        progress.drawn(a, Step::Final);
        assert_eq!(progress.next(&a), None);
        assert!(progress.settled(1));
        assert!(!progress.settled(2), "new heights are not drawn yet");
        // Away to b (its fast image shown) and straight back: a is drawn again, not left to
        // b's fast image.
        progress.drawn(b, Step::Fast);
        assert_eq!(progress.next(&a), Some(Step::Fast));
        // Inputs with a NaN are drawn once, not in every frame.
        let nan = key(f32::NAN, 1);
        progress.drawn(nan, Step::Fast);
        progress.drawn(nan, Step::Final);
        assert_eq!(progress.next(&nan), None);
    }

    #[test]
    fn the_worker_view_refuses_images_of_cleared_or_older_heights() {
        let mut shown = Shown::default();
        assert!(shown.accepts(&key(0.0, 1)));
        shown.image = Some((key(0.0, 3), Step::Fast));
        assert!(!shown.accepts(&key(0.0, 2)), "older heights than the image shown");
        assert!(shown.accepts(&key(5.0, 3)) && shown.accepts(&key(0.0, 4)));
        // Another photo: its heights cleared at version 5. An image the worker drew before
        // (version 4) that lands now is refused, though nothing is shown.
        shown.clear(5);
        assert!(shown.image.is_none());
        assert!(!shown.accepts(&key(0.0, 4)));
        assert!(shown.accepts(&key(0.0, 6)));
    }

    #[test]
    fn preview_texels_and_grid_reuse() {
        // A ramp rising 0.5 per texel: slope 0.5, Laplacian 0, as half floats.
        let ramp = Grid::from_fn(4, 3, |x, _| 0.5 * x as f32);
        let p = prepare_preview(&ramp, None);
        assert_eq!(p.size, [4, 3]);
        assert_eq!(p.height_bytes.len(), 4 * 4 * 3);
        let texel = |i: usize| {
            let t = &p.gradient_bytes[8 * i..8 * i + 8];
            [0, 2, 4, 6].map(|k| u16::from_le_bytes([t[k], t[k + 1]]))
        };
        assert_eq!(texel(4 + 1), [0x3800, 0, 0, 0]);
        assert_eq!(f16::from_bits(texel(0)[0]).to_f32(), 0.25);
        let mesh = p.mesh.expect("a new grid is built");
        assert_eq!(mesh.grid, p.grid);
        assert!(prepare_preview(&ramp, Some(p.grid)).mesh.is_none());
        assert_eq!(uniform_bytes(&key(0.0, 0).inputs).len(), UNIFORM_BYTES);
    }
}

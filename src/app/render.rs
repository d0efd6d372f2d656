//! The 3D relief preview on wgpu, drawn off-screen and shown in egui as an ordinary image.
//!
//! Why wgpu and not three-d: egui_kittest renders only through wgpu, so a viewport drawn with
//! three-d on eframe's glow context could never be exercised or snapshot-tested by the UI tests,
//! and the app would need the glow renderer while the tests use wgpu. Drawing into our own
//! textures (colour with 4× MSAA, depth) on the device eframe and egui_kittest already share,
//! then registering the resolved colour texture with egui's renderer, needs no paint callback,
//! owns its depth buffer (egui's pass has none in the tests), and lets the app redraw only when
//! the camera or the inputs changed, as three-d's examples advise. One renderer serves the
//! window, the tests and the screenshots; the displacement shader is `shaders/relief.wgsl`.
//!
//! Geometry: a grid of at most [`logic::PREVIEW_MAX_TRIANGLES`] top triangles whose vertices
//! the shader lifts from the height texture, four walls and a bottom. A second, coarser index
//! buffer (every other vertex) is drawn while the user drags, so orbiting stays smooth on
//! software rasterisers.

use std::sync::Arc;

use eframe::egui;
use eframe::egui_wgpu;
use eframe::wgpu;
use eframe::wgpu::util::DeviceExt;

use super::logic;
use crate::grid::Grid;

const SHADER: &str = include_str!("../../shaders/relief.wgsl");
const COLOR_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;
const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;
const SAMPLES: u32 = 4;
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
    /// Draw the coarse grid (while the user drags).
    pub coarse: bool,
}

struct Geometry {
    vertices: wgpu::Buffer,
    full: wgpu::Buffer,
    full_count: u32,
    coarse: wgpu::Buffer,
    coarse_count: u32,
    grid: [usize; 2],
}

struct Target {
    size: [u32; 2],
    msaa: wgpu::TextureView,
    resolved: wgpu::TextureView,
    depth: wgpu::TextureView,
}

/// GPU resources of the preview. Create once per wgpu device.
pub struct ReliefRenderer {
    device: wgpu::Device,
    queue: wgpu::Queue,
    egui_renderer: Arc<egui::mutex::RwLock<egui_wgpu::Renderer>>,
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    uniforms: wgpu::Buffer,
    bind_group: Option<wgpu::BindGroup>,
    geometry: Option<Geometry>,
    heights_size: [usize; 2],
    target: Option<Target>,
    texture_id: Option<egui::TextureId>,
    last: Option<(FrameInputs, [u32; 2], u64)>,
    geometry_version: u64,
}

impl ReliefRenderer {
    pub fn new(render_state: &egui_wgpu::RenderState) -> Self {
        let device = render_state.device.clone();
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
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::VERTEX | wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: false },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("relievo relief"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
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
                count: SAMPLES,
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
        });
        let uniforms = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("relievo relief uniforms"),
            size: UNIFORM_BYTES as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Self {
            device,
            queue: render_state.queue.clone(),
            egui_renderer: render_state.renderer.clone(),
            pipeline,
            layout,
            uniforms,
            bind_group: None,
            geometry: None,
            heights_size: [0, 0],
            target: None,
            texture_id: None,
            last: None,
            geometry_version: 0,
        }
    }

    /// Whether heights have been uploaded.
    pub fn has_heights(&self) -> bool {
        self.geometry.is_some()
    }

    /// Vertices per side of the current grid.
    pub fn grid_size(&self) -> Option<[usize; 2]> {
        self.geometry.as_ref().map(|g| g.grid)
    }

    /// Top-surface triangles of the full grid.
    pub fn grid_triangles(&self) -> usize {
        self.grid_size().map_or(0, |[w, h]| 2 * (w - 1) * (h - 1))
    }

    /// Drops the heights (no relief to show).
    pub fn clear_heights(&mut self) {
        self.geometry = None;
        self.bind_group = None;
        self.last = None;
    }

    /// Uploads new heights (0..1) and builds the grid for them.
    pub fn set_heights(&mut self, heights: &Grid<f32>) {
        let (w, h) = (heights.width as u32, heights.height as u32);
        let texture = self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("relievo heights"),
            size: wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::R32Float,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        let bytes: Vec<u8> = heights.data.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.queue.write_texture(
            wgpu::TexelCopyTextureInfo {
                texture: &texture,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            &bytes,
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(4 * w),
                rows_per_image: Some(h),
            },
            wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
        );
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
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
                    resource: wgpu::BindingResource::TextureView(&view),
                },
            ],
        }));
        let grid = logic::preview_grid_size(heights.width, heights.height, logic::PREVIEW_MAX_TRIANGLES);
        if self.geometry.as_ref().is_none_or(|g| g.grid != grid) {
            self.geometry = Some(self.build_geometry(grid));
        }
        self.heights_size = [heights.width, heights.height];
        self.geometry_version += 1;
    }

    fn build_geometry(&self, [nx, ny]: [usize; 2]) -> Geometry {
        let GridMesh { vertices, full, coarse } = grid_mesh(nx, ny);
        let bytes: Vec<u8> = vertices.iter().flat_map(|v| v.to_le_bytes()).collect();
        let vertex_buffer = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("relievo grid vertices"),
            contents: &bytes,
            usage: wgpu::BufferUsages::VERTEX,
        });
        let index_buffer = |label: &str, indices: &[u32]| {
            let bytes: Vec<u8> = indices.iter().flat_map(|i| i.to_le_bytes()).collect();
            self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: &bytes,
                usage: wgpu::BufferUsages::INDEX,
            })
        };
        Geometry {
            vertices: vertex_buffer,
            full: index_buffer("relievo grid", &full),
            full_count: full.len() as u32,
            coarse: index_buffer("relievo coarse grid", &coarse),
            coarse_count: coarse.len() as u32,
            grid: [nx, ny],
        }
    }

    fn ensure_target(&mut self, size: [u32; 2]) -> egui::TextureId {
        if self.target.as_ref().is_none_or(|t| t.size != size) {
            let texture = |label: &str, format, samples, usage| {
                self.device
                    .create_texture(&wgpu::TextureDescriptor {
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
                    .create_view(&wgpu::TextureViewDescriptor::default())
            };
            let attachment = wgpu::TextureUsages::RENDER_ATTACHMENT;
            let target = Target {
                size,
                msaa: texture("relievo view msaa", COLOR_FORMAT, SAMPLES, attachment),
                resolved: texture(
                    "relievo view",
                    COLOR_FORMAT,
                    1,
                    attachment | wgpu::TextureUsages::TEXTURE_BINDING,
                ),
                depth: texture("relievo view depth", DEPTH_FORMAT, SAMPLES, attachment),
            };
            let mut egui_renderer = self.egui_renderer.write();
            match self.texture_id {
                Some(id) => egui_renderer.update_egui_texture_from_wgpu_texture(
                    &self.device,
                    &target.resolved,
                    wgpu::FilterMode::Linear,
                    id,
                ),
                None => {
                    self.texture_id = Some(egui_renderer.register_native_texture(
                        &self.device,
                        &target.resolved,
                        wgpu::FilterMode::Linear,
                    ))
                }
            }
            self.target = Some(target);
            self.last = None;
        }
        self.texture_id.expect("registered above")
    }

    /// Draws the relief into a `size_px` image (unless nothing changed since the last call) and
    /// returns its egui texture. `None` before any heights were uploaded.
    pub fn render(&mut self, size_px: [u32; 2], inputs: &FrameInputs) -> Option<egui::TextureId> {
        let size_px = [size_px[0].clamp(1, 8192), size_px[1].clamp(1, 8192)];
        let texture_id = self.ensure_target(size_px);
        let key = (*inputs, size_px, self.geometry_version);
        if self.last.as_ref() == Some(&key) {
            return Some(texture_id);
        }
        let (Some(geometry), Some(bind_group), Some(target)) = (&self.geometry, &self.bind_group, &self.target) else {
            return None;
        };
        self.queue.write_buffer(&self.uniforms, 0, &uniform_bytes(inputs));
        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("relievo relief"),
        });
        {
            let [r, g, b] = CLEAR_RGB;
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("relievo relief"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &target.msaa,
                    resolve_target: Some(&target.resolved),
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color { r, g, b, a: 1.0 }),
                        store: wgpu::StoreOp::Discard,
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
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, bind_group, &[]);
            pass.set_vertex_buffer(0, geometry.vertices.slice(..));
            let (indices, count) = if inputs.coarse {
                (&geometry.coarse, geometry.coarse_count)
            } else {
                (&geometry.full, geometry.full_count)
            };
            pass.set_index_buffer(indices.slice(..), wgpu::IndexFormat::Uint32);
            pass.draw_indexed(0..count, 0, 0..1);
        }
        self.queue.submit(Some(encoder.finish()));
        self.last = Some(key);
        Some(texture_id)
    }

    /// Blocks until the GPU finished everything submitted (for measurements in tests).
    pub fn wait_idle(&self) {
        let _ = self.device.poll(wgpu::PollType::wait_indefinitely());
    }
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
    floats.push(0.0);
    debug_assert_eq!(floats.len() * 4, UNIFORM_BYTES);
    floats.iter().flat_map(|f| f.to_le_bytes()).collect()
}

/// CPU side of the preview geometry.
pub struct GridMesh {
    /// `VERTEX_FLOATS` per vertex: u, v, kind (0 top, 1 bottom), normal (zero on the top surface).
    pub vertices: Vec<f32>,
    /// Triangles of the full grid, walls and bottom.
    pub full: Vec<u32>,
    /// The same solid with the top at every other grid vertex.
    pub coarse: Vec<u32>,
}

/// The preview solid for an `nx × ny` vertex grid: top grid, walls along its border and a
/// bottom, in `u, v` coordinates (v = 0 at the far edge, the photo's top row).
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
    let cells = |step: usize| -> Vec<u32> {
        let columns: Vec<usize> = (0..nx - 1).step_by(step).chain([nx - 1]).collect();
        let rows: Vec<usize> = (0..ny - 1).step_by(step).chain([ny - 1]).collect();
        let mut out = Vec::new();
        for r in rows.windows(2) {
            for c in columns.windows(2) {
                let (i0, i1, j0, j1) = (c[0], c[1], r[0], r[1]);
                // Counter-clockwise seen from above (v grows towards the viewer, i.e. mesh -y).
                out.extend([
                    top(i0, j1),
                    top(i1, j1),
                    top(i1, j0),
                    top(i0, j1),
                    top(i1, j0),
                    top(i0, j0),
                ]);
            }
        }
        out
    };
    let mut walls = Vec::new();
    // Each side: a strip of (top, bottom) vertex pairs with that side's outward normal.
    let sides: [(Vec<[usize; 2]>, [f32; 3]); 4] = [
        ((0..nx).map(|i| [i, ny - 1]).collect(), [0.0, -1.0, 0.0]),
        ((0..ny).rev().map(|j| [nx - 1, j]).collect(), [1.0, 0.0, 0.0]),
        ((0..nx).rev().map(|i| [i, 0]).collect(), [0.0, 1.0, 0.0]),
        ((0..ny).map(|j| [0, j]).collect(), [-1.0, 0.0, 0.0]),
    ];
    for (points, normal) in &sides {
        let first = (vertices.len() / VERTEX_FLOATS) as u32;
        for &[i, j] in points {
            let [u, v] = uv(i, j);
            vertices.extend([u, v, 0.0, normal[0], normal[1], normal[2]]);
            vertices.extend([u, v, 1.0, normal[0], normal[1], normal[2]]);
        }
        for k in 0..points.len() as u32 - 1 {
            let (top_a, bottom_a, top_b, bottom_b) =
                (first + 2 * k, first + 2 * k + 1, first + 2 * k + 2, first + 2 * k + 3);
            walls.extend([bottom_a, bottom_b, top_b, bottom_a, top_b, top_a]);
        }
    }
    let first = (vertices.len() / VERTEX_FLOATS) as u32;
    for [u, v] in [[0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]] {
        vertices.extend([u, v, 1.0, 0.0, 0.0, -1.0]);
    }
    // Seen from below: clockwise from above.
    walls.extend([first, first + 2, first + 1, first, first + 3, first + 2]);
    let mut full = cells(1);
    full.extend(&walls);
    let mut coarse = cells(2);
    coarse.extend(&walls);
    GridMesh { vertices, full, coarse }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_mesh_counts_and_coarse_level() {
        let mesh = grid_mesh(5, 4);
        let top = 2 * 4 * 3;
        let walls = 2 * (2 * (4 + 3));
        assert_eq!(mesh.full.len() / 3, top + walls + 2);
        assert!(mesh.coarse.len() < mesh.full.len());
        let vertex_count = (mesh.vertices.len() / VERTEX_FLOATS) as u32;
        assert!(mesh.full.iter().chain(&mesh.coarse).all(|&i| i < vertex_count));
        assert_eq!(
            uniform_bytes(&FrameInputs {
                clip_from_world: [[0.0; 4]; 4],
                eye: [0.0; 3],
                size_mm: [0.0; 4],
                invert: false,
                mirror: false,
                shading: Shading::Stone,
                curvature_gain: 1.0,
                light: [0.0, 0.0, 1.0],
                ambient: 0.2,
                coarse: false,
            })
            .len(),
            UNIFORM_BYTES
        );
    }
}

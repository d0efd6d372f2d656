// The relief preview of relievo's 3D viewport (src/app/render.rs).
//
// A fixed grid of vertices (u, v in 0..1, v = 0 at the photo's top row) is displaced in the
// vertex shader by the height texture (0..1, already smoothed and stretched by the app), so
// changing the size, relief depth, base, invert or mirror only changes the uniforms. Walls and
// the bottom are extra vertices: `kind` 1 sits on z = 0, and they carry their flat normal.
// The top surface's normal and curvature come per fragment from the gradient texture (slopes and
// Laplacian of the heights, computed by the app), so shading shows every texel even where the
// grid is coarser. With eye.w = 1 the top is tinted by the colour texture over the footprint
// (the difference to a scan), mixed by its alpha and shaded by the same light. Output is gamma-encoded for an Rgba8Unorm
// target, which egui samples as-is.

struct Uniforms {
    clip_from_world: mat4x4<f32>,
    // width_mm, height_mm, base_mm, relief_mm
    size_mm: vec4<f32>,
    // invert (0/1), mirror (0/1), shading (0 stone, 1 normals, 2 curvature), curvature gain
    flags: vec4<f32>,
    // xyz: unit vector towards the light (mesh frame); w: ambient
    light: vec4<f32>,
    // xyz: eye position (mm); w: tint the top by `colours` (0/1)
    eye: vec4<f32>,
};

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var heights: texture_2d<f32>;
// Per texel: x slope, y slope (height units per texel, y down the photo), Laplacian.
@group(0) @binding(2) var gradients: texture_2d<f32>;
@group(0) @binding(3) var gradient_sampler: sampler;
// sRGB RGBA over the relief's footprint (texel centres at the depth's pixel centres).
@group(0) @binding(4) var colours: texture_2d<f32>;

struct VsOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) uv: vec2<f32>,
    @location(1) world: vec3<f32>,
    @location(2) normal: vec3<f32>,
};

fn texel(p: vec2<i32>) -> f32 {
    let size = vec2<i32>(textureDimensions(heights));
    return textureLoad(heights, clamp(p, vec2<i32>(0, 0), size - vec2<i32>(1, 1)), 0).r;
}

fn height_bilinear(px: vec2<f32>) -> f32 {
    let p0 = floor(px);
    let f = px - p0;
    let i = vec2<i32>(p0);
    let a = texel(i);
    let b = texel(i + vec2<i32>(1, 0));
    let c = texel(i + vec2<i32>(0, 1));
    let d = texel(i + vec2<i32>(1, 1));
    return mix(mix(a, b, f.x), mix(c, d, f.x), f.y);
}

// Texel coordinates (pixel centres at integers) of mesh coordinates (u right, v down the photo).
fn texel_coords(uv: vec2<f32>) -> vec2<f32> {
    let size = vec2<f32>(textureDimensions(heights));
    var x = uv.x;
    if (u.flags.y > 0.5) {
        x = 1.0 - x;
    }
    return vec2<f32>(x, uv.y) * (size - vec2<f32>(1.0, 1.0));
}

fn relief_z(t: f32) -> f32 {
    var h = t;
    if (u.flags.x > 0.5) {
        h = 1.0 - h;
    }
    return u.size_mm.z + h * u.size_mm.w;
}

@vertex
fn vs_main(@location(0) uvk: vec3<f32>, @location(1) normal: vec3<f32>) -> VsOut {
    var z = 0.0;
    if (uvk.z < 0.5) {
        z = relief_z(height_bilinear(texel_coords(uvk.xy)));
    }
    let world = vec3<f32>(uvk.x * u.size_mm.x, (1.0 - uvk.y) * u.size_mm.y, z);
    var out: VsOut;
    out.clip = u.clip_from_world * vec4<f32>(world, 1.0);
    out.uv = uvk.xy;
    out.world = world;
    out.normal = normal;
    return out;
}

fn srgb_from_linear(c: vec3<f32>) -> vec3<f32> {
    let lo = c * 12.92;
    let hi = 1.055 * pow(c, vec3<f32>(1.0 / 2.4)) - 0.055;
    return select(hi, lo, c <= vec3<f32>(0.0031308));
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4<f32> {
    var n = in.normal;
    var curvature = 0.0;
    let on_top = dot(in.normal, in.normal) < 0.25;
    if (on_top) {
        let size = vec2<f32>(textureDimensions(heights));
        let px = texel_coords(in.uv);
        let g = textureSampleLevel(gradients, gradient_sampler, (px + vec2<f32>(0.5, 0.5)) / size, 0.0);
        var sign_z = 1.0;
        if (u.flags.x > 0.5) {
            sign_z = -1.0;
        }
        var sign_x = 1.0;
        if (u.flags.y > 0.5) {
            sign_x = -1.0;
        }
        let texels_per_mm = (size - vec2<f32>(1.0, 1.0)) / max(u.size_mm.xy, vec2<f32>(1e-6, 1e-6));
        let dz_dx = u.size_mm.w * sign_z * g.x * sign_x * texels_per_mm.x;
        let dz_dy = -u.size_mm.w * sign_z * g.y * texels_per_mm.y;
        n = normalize(vec3<f32>(-dz_dx, -dz_dy, 1.0));
        // Convex (ridges, raised outlines) positive, concave (grooves) negative.
        curvature = -sign_z * g.z;
    } else {
        n = normalize(n);
    }

    let l = normalize(u.light.xyz);
    let lambert = max(dot(n, l), 0.0);
    let ambient = u.light.w;
    let sky = 0.5 + 0.5 * n.z;
    var albedo = vec3<f32>(0.74, 0.70, 0.63);
    if (!on_top && in.world.z < u.size_mm.z - 1e-3) {
        // The base band of the walls, a little darker so its thickness reads.
        albedo = albedo * 0.82;
    }
    if (in.normal.z < -0.5) {
        albedo = vec3<f32>(0.45, 0.44, 0.42);
    }
    let light = ambient * (0.55 + 0.45 * sky) + (1.0 - ambient) * lambert;

    var colour = albedo * light;
    let mode = u.flags.z;
    if (mode > 0.5 && mode < 1.5) {
        colour = pow(0.5 * n + vec3<f32>(0.5, 0.5, 0.5), vec3<f32>(2.2));
    } else if (mode > 1.5) {
        let c = tanh(curvature * u.flags.w);
        let flat_colour = vec3<f32>(0.55, 0.55, 0.55);
        let convex = vec3<f32>(0.85, 0.25, 0.08);
        let concave = vec3<f32>(0.08, 0.30, 0.85);
        var tint = mix(flat_colour, convex, max(c, 0.0));
        tint = mix(tint, concave, max(-c, 0.0));
        if (!on_top) {
            tint = flat_colour;
        }
        colour = tint * (0.35 + 0.65 * light);
    }
    if (on_top && u.eye.w > 0.5) {
        let size = vec2<f32>(textureDimensions(colours));
        var x = in.uv.x;
        if (u.flags.y > 0.5) {
            x = 1.0 - x;
        }
        // Nearest texel, as the layers view draws the difference.
        let px = vec2<i32>(round(vec2<f32>(x, in.uv.y) * (size - vec2<f32>(1.0, 1.0))));
        let tint = textureLoad(colours, clamp(px, vec2<i32>(0, 0), vec2<i32>(size) - vec2<i32>(1, 1)), 0);
        colour = mix(colour, tint.rgb * (0.35 + 0.65 * light), tint.a);
    }
    return vec4<f32>(srgb_from_linear(clamp(colour, vec3<f32>(0.0), vec3<f32>(1.0))), 1.0);
}

//! Mesh and STL export benchmarks on a deterministic synthetic relief (smooth sines,
//! fine carving, step-edged rectangles and hashed noise):
//! - `full_resolution_800`: 800×800 depth → `relief::build` → `mesh::solid(…, 0.0)`
//!   (1.28 M top triangles) → binary STL in a temp dir;
//! - `simplified_1187`: 1187×1187 at a max error of 1 % of the relief depth.
//!
//! `cargo bench --bench mesh` prints the median of each (a plain timer: criterion, the
//! crate used before, switched on a feature of `ciborium` that burn depends on too, so
//! `cargo test` rebuilt the whole burn stack that `cargo run` had already built). With
//! `RELIEVO_BENCH_PNG_DIR=DIR` set, it
//! instead writes the two depth maps as 16-bit PNGs into DIR, meshes them (read back,
//! so exactly what other tools see) and prints the medians; `benches/compare_hmm.sh`
//! uses this to compare with fogleman/hmm on the same file.

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use relievo::export::{self, StlFormat};
use relievo::grid::Grid;
use relievo::mesh;
use relievo::relief::{self, ReliefParams};

const WIDTH_MM: f32 = 150.0;
const RELIEF_MM: f32 = 5.0;
const BASE_MM: f32 = 2.0;

/// A relief-like depth map, the same picture at any size (values roughly −2..3).
pub fn synthetic_depth(width_px: usize, height_px: usize) -> Grid<f32> {
    const RECTANGLES: [([f32; 4], f32); 4] = [
        ([0.10, 0.15, 0.35, 0.40], 0.6),
        ([0.55, 0.10, 0.90, 0.30], -0.4),
        ([0.20, 0.60, 0.45, 0.90], 0.8),
        ([0.60, 0.55, 0.85, 0.85], 0.5),
    ];
    Grid::from_fn(width_px, height_px, |x, y| {
        let (u, v) = (x as f32 / width_px as f32, y as f32 / height_px as f32);
        let smooth = (u * 6.0).sin() * (v * 5.0).cos() + 0.5 * ((u + 2.0 * v) * 9.0).sin();
        let carving = 0.15 * (u * 180.0).sin() * (v * 150.0).sin() + 0.1 * ((u - v) * 260.0).sin();
        let steps: f32 = RECTANGLES
            .iter()
            .filter(|([x0, y0, x1, y1], _)| (*x0..*x1).contains(&u) && (*y0..*y1).contains(&v))
            .map(|(_, step)| step)
            .sum();
        let mut hash = (x as u64) << 32 | y as u64;
        hash = (hash ^ (hash >> 31)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        hash = (hash ^ (hash >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let noise = 0.01 * ((hash >> 40) as f32 / (1u64 << 24) as f32);
        smooth + carving + steps + noise
    })
}

fn params(max_error_mm: f32) -> ReliefParams {
    ReliefParams {
        width_mm: WIDTH_MM,
        relief_mm: RELIEF_MM,
        base_mm: BASE_MM,
        max_error_mm,
        ..Default::default()
    }
}

/// Depth map → heightfield → solid → binary STL at `path`; returns the triangle count.
fn depth_to_stl(depth: &Grid<f32>, max_error_mm: f32, path: &Path) -> usize {
    let params = params(max_error_mm);
    let hf = relief::build(depth, &params).expect("valid relief parameters");
    let solid = mesh::solid(&hf, params.max_error_mm);
    export::write_stl(&solid, path, StlFormat::Binary).expect("writable temp dir");
    solid.triangle_count()
}

fn full_resolution_800() {
    let depth = synthetic_depth(800, 800);
    let dir = tempfile::tempdir().expect("temp dir");
    let hf = relief::build(&depth, &params(0.0)).expect("valid relief parameters");
    let (secs, solid) = median_secs(20, || mesh::solid(black_box(&hf), 0.0));
    println!(
        "full_resolution_800/solid: median {secs:.4} s (20 runs, {} triangles)",
        solid.triangle_count()
    );
    let (secs, _) = median_secs(20, || {
        depth_to_stl(black_box(&depth), 0.0, &dir.path().join("full.stl"))
    });
    println!("full_resolution_800/depth_to_binary_stl: median {secs:.4} s (20 runs)");
}

fn simplified_1187() {
    let depth = synthetic_depth(1187, 1187);
    let dir = tempfile::tempdir().expect("temp dir");
    let max_error_mm = 0.01 * RELIEF_MM;
    let hf = relief::build(&depth, &params(max_error_mm)).expect("valid relief parameters");
    let (secs, solid) = median_secs(10, || mesh::solid(black_box(&hf), max_error_mm));
    println!(
        "simplified_1187/solid: median {secs:.4} s (10 runs, {} triangles)",
        solid.triangle_count()
    );
    let (secs, _) = median_secs(10, || {
        depth_to_stl(black_box(&depth), max_error_mm, &dir.path().join("simplified.stl"))
    });
    println!("simplified_1187/depth_to_binary_stl: median {secs:.4} s (10 runs)");
}

/// Median wall time in seconds of `runs` calls of `f`, and its last result.
fn median_secs<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut result = None;
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            result = Some(f());
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[runs / 2], result.expect("at least one run"))
}

/// Writes `depth_{size}.png` (16-bit, min..max ↦ 0..65535) into `dir` and reads it back.
fn depth_png(dir: &Path, size_px: usize) -> Grid<f32> {
    let depth = synthetic_depth(size_px, size_px);
    let (lo, hi) = depth.min_max();
    let path = dir.join(format!("depth_{size_px}.png"));
    export::write_png16(&depth.map(|v| (v - lo) / (hi - lo)), &path).expect("writable PNG dir");
    let read = image::open(&path).expect("readable PNG").into_luma16();
    Grid::from_vec(size_px, size_px, read.into_raw().into_iter().map(f32::from).collect())
}

fn compare_on_pngs(dir: &Path) {
    let depth = depth_png(dir, 800);
    let (secs, triangles) = median_secs(7, || depth_to_stl(&depth, 0.0, &dir.join("relievo_800.stl")));
    println!("full_resolution_800: {triangles} triangles, depth → binary STL median {secs:.4} s (7 runs)");

    let depth = depth_png(dir, 1187);
    let max_error_mm = 0.01 * RELIEF_MM;
    let hf = relief::build(&depth, &params(max_error_mm)).expect("valid relief parameters");
    let (secs_solid, solid) = median_secs(5, || mesh::solid(&hf, max_error_mm));
    let top_triangles = solid.triangle_count() - 3 * solid.vertices.iter().filter(|p| p[2] == 0.0).count() + 2;
    let (secs, _) = median_secs(5, || depth_to_stl(&depth, max_error_mm, &dir.join("relievo_1187.stl")));
    let pitch_mm = WIDTH_MM / 1186.0;
    println!(
        "simplified_1187: {} triangles ({top_triangles} top), solid median {secs_solid:.4} s, \
         depth → binary STL median {secs:.4} s (5 runs); hmm equivalent: -z {:.4} -e 0.01 -b {:.4}",
        solid.triangle_count(),
        RELIEF_MM / pitch_mm,
        BASE_MM / RELIEF_MM,
    );
}

fn main() {
    if let Some(dir) = std::env::var_os("RELIEVO_BENCH_PNG_DIR") {
        compare_on_pngs(Path::new(&dir));
        return;
    }
    // `cargo bench` passes `--bench`; anything else (e.g. `cargo test --benches`) only builds it.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    full_resolution_800();
    simplified_1187();
}

//! End-to-end checks of `mesh::solid` and `export`, written without the mesher's own
//! logic: closedness and orientation from a directed-edge count, Euler characteristic,
//! signed volume against the heightfield's integral, bounding box, the error bound by
//! rasterising the top surface at every pixel, STL round trips through `stl_io`, PNG
//! round trips through `image`, and atomic writes that leave nothing behind on failure.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;

use relievo::export::{self, ExportError, StlFormat};
use relievo::grid::Grid;
use relievo::mesh::{self, Mesh};
use relievo::relief::{self, Heightfield, ReliefParams};

const BASE_MM: f32 = 2.0;
const RELIEF_MM: f32 = 5.0;

#[derive(Clone, Copy, Debug)]
enum Field {
    Noise,
    Sines,
    Steps,
}

fn hash01(x: usize, y: usize) -> f32 {
    let mut h = (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (y as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    h ^= h >> 29;
    h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 32;
    (h % 10_000) as f32 / 10_000.0
}

fn depth(field: Field, width_px: usize, height_px: usize) -> Grid<f32> {
    Grid::from_fn(width_px, height_px, |x, y| {
        let (xf, yf) = (x as f32, y as f32);
        match field {
            Field::Noise => hash01(x, y),
            Field::Sines => (xf * 0.21).sin() * (yf * 0.17).cos() + 0.5 * ((xf + yf) * 0.05).sin(),
            Field::Steps => {
                let block = f32::from(u8::from((x / 7 + y / 5) % 3 == 0));
                let plateau = f32::from(u8::from(x > width_px / 2 && y < height_px / 3));
                block + 0.7 * plateau + 0.01 * xf
            }
        }
    })
}

fn heightfield(field: Field, width_px: usize, height_px: usize) -> Heightfield {
    let params = ReliefParams {
        width_mm: 3.0 * width_px as f32,
        relief_mm: RELIEF_MM,
        base_mm: BASE_MM,
        ..Default::default()
    };
    relief::build(&depth(field, width_px, height_px), &params).expect("valid relief")
}

fn sub(a: [f32; 3], b: [f32; 3]) -> [f64; 3] {
    [0, 1, 2].map(|i| f64::from(a[i]) - f64::from(b[i]))
}

fn cross(u: [f64; 3], v: [f64; 3]) -> [f64; 3] {
    [
        u[1] * v[2] - u[2] * v[1],
        u[2] * v[0] - u[0] * v[2],
        u[0] * v[1] - u[1] * v[0],
    ]
}

fn norm(v: [f64; 3]) -> f64 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

/// Twice the area vector of triangle `t` (right-hand rule).
fn area_vector(mesh: &Mesh, t: [u32; 3]) -> [f64; 3] {
    let [a, b, c] = t.map(|i| mesh.vertices[i as usize]);
    cross(sub(b, a), sub(c, a))
}

/// Closed, consistently oriented, genus 0, no zero-area triangle; every vertex used.
fn assert_closed_solid(mesh: &Mesh) {
    let mut directed: HashMap<(u32, u32), u32> = HashMap::new();
    for &[a, b, c] in &mesh.triangles {
        for edge in [(a, b), (b, c), (c, a)] {
            *directed.entry(edge).or_default() += 1;
        }
    }
    for (&(a, b), &count) in &directed {
        assert_eq!(count, 1, "directed edge {a}→{b} used {count} times");
        assert_eq!(directed.get(&(b, a)), Some(&1), "edge {a}→{b} has no reverse");
    }
    let used: HashSet<u32> = mesh.triangles.iter().flatten().copied().collect();
    assert_eq!(used.len(), mesh.vertices.len(), "every vertex belongs to a triangle");
    let (v, e, f) = (
        mesh.vertices.len() as i64,
        directed.len() as i64 / 2,
        mesh.triangles.len() as i64,
    );
    assert_eq!(v - e + f, 2, "Euler characteristic of one closed genus-0 surface");
    for &t in &mesh.triangles {
        assert!(norm(area_vector(mesh, t)) > 1e-9, "degenerate triangle {t:?}");
    }
}

fn signed_volume(mesh: &Mesh) -> f64 {
    mesh.triangles
        .iter()
        .map(|t| {
            let [a, b, c] = t.map(|i| mesh.vertices[i as usize].map(f64::from));
            let bc = cross(b, c);
            (a[0] * bc[0] + a[1] * bc[1] + a[2] * bc[2]) / 6.0
        })
        .sum()
}

/// Volume under the bilinear interpolation of the pixels, and the largest amount any
/// triangulation of the pixel grid (either diagonal per cell) can differ from it.
fn grid_volume(hf: &Heightfield) -> (f64, f64) {
    let cell = f64::from(hf.mm_per_px_x) * f64::from(hf.mm_per_px_y);
    let z = |x, y| f64::from(hf.z_mm.get(x, y));
    let (mut bilinear, mut slack) = (0.0, 0.0);
    for y in 0..hf.z_mm.height - 1 {
        for x in 0..hf.z_mm.width - 1 {
            let (z00, z10, z01, z11) = (z(x, y), z(x + 1, y), z(x, y + 1), z(x + 1, y + 1));
            bilinear += cell * (z00 + z10 + z01 + z11) / 4.0;
            slack += cell * (z00 + z11 - z10 - z01).abs() / 12.0;
        }
    }
    (bilinear, slack)
}

/// Pixel coordinates (x, y with row 0 at the top) of a top-surface vertex.
fn pixel_of(hf: &Heightfield, p: [f32; 3]) -> (i64, i64) {
    let x = f64::from(p[0]) / f64::from(hf.mm_per_px_x);
    let y_up = f64::from(p[1]) / f64::from(hf.mm_per_px_y);
    assert!(
        (x - x.round()).abs() < 1e-3 && (y_up - y_up.round()).abs() < 1e-3,
        "vertex {p:?} off the pixel grid"
    );
    (x.round() as i64, hf.z_mm.height as i64 - 1 - y_up.round() as i64)
}

/// Top triangles are the ones facing up; rasterises each over the pixel grid and
/// checks every pixel centre lies within `max_error_mm` of the surface. Returns the
/// number of top triangles.
fn assert_error_bound(mesh: &Mesh, hf: &Heightfield, max_error_mm: f32) -> usize {
    let (w, h) = (hf.z_mm.width, hf.z_mm.height);
    let mut covered = vec![false; w * h];
    let mut worst: f64 = 0.0;
    let mut top_count = 0;
    for &t in &mesh.triangles {
        let n = area_vector(mesh, t);
        if n[2] <= 1e-9 * norm(n) {
            continue;
        }
        top_count += 1;
        let v = t.map(|i| mesh.vertices[i as usize]);
        // Integer coordinates with y up, so the triangle is counter-clockwise.
        let q = v.map(|p| {
            let (x, y) = pixel_of(hf, p);
            (x, h as i64 - 1 - y)
        });
        let edge = |a: (i64, i64), b: (i64, i64), p: (i64, i64)| (b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0);
        let area = edge(q[0], q[1], q[2]);
        assert!(area > 0, "top triangle {t:?} is not counter-clockwise seen from above");
        let (x_lo, x_hi) = (
            q.iter().map(|p| p.0).min().unwrap(),
            q.iter().map(|p| p.0).max().unwrap(),
        );
        let (y_lo, y_hi) = (
            q.iter().map(|p| p.1).min().unwrap(),
            q.iter().map(|p| p.1).max().unwrap(),
        );
        for y in y_lo..=y_hi {
            for x in x_lo..=x_hi {
                let w0 = edge(q[1], q[2], (x, y));
                let w1 = edge(q[2], q[0], (x, y));
                let w2 = edge(q[0], q[1], (x, y));
                if w0 < 0 || w1 < 0 || w2 < 0 {
                    continue;
                }
                let z =
                    (w0 as f64 * f64::from(v[0][2]) + w1 as f64 * f64::from(v[1][2]) + w2 as f64 * f64::from(v[2][2]))
                        / area as f64;
                let (px, py) = (x as usize, h - 1 - y as usize);
                covered[py * w + px] = true;
                worst = worst.max((z - f64::from(hf.z_mm.get(px, py))).abs());
            }
        }
    }
    assert!(covered.iter().all(|&c| c), "some pixels lie under no top triangle");
    assert!(
        worst <= f64::from(max_error_mm) + 1e-5,
        "pixel error {worst} mm exceeds {max_error_mm} mm"
    );
    top_count
}

fn assert_bounding_box(mesh: &Mesh, hf: &Heightfield) {
    let mut lo = [f32::INFINITY; 3];
    let mut hi = [f32::NEG_INFINITY; 3];
    for p in &mesh.vertices {
        for i in 0..3 {
            lo[i] = lo[i].min(p[i]);
            hi[i] = hi[i].max(p[i]);
        }
    }
    assert_eq!(lo, [0.0; 3]);
    assert_eq!(hi, [hf.width_mm(), hf.height_mm(), hf.z_mm.min_max().1]);
    assert!((hi[2] - (BASE_MM + RELIEF_MM)).abs() < 1e-4, "height {} mm", hi[2]);
}

/// All solid invariants for one field and error; returns the mesh.
fn check_solid(field: Field, width_px: usize, height_px: usize, max_error_mm: f32) -> Mesh {
    let hf = heightfield(field, width_px, height_px);
    let mesh = mesh::solid(&hf, max_error_mm);
    let what = format!("{field:?} {width_px}×{height_px} at {max_error_mm} mm");
    assert_closed_solid(&mesh);
    assert_bounding_box(&mesh, &hf);
    let top_count = assert_error_bound(&mesh, &hf, max_error_mm);
    if max_error_mm == 0.0 {
        assert_eq!(
            top_count,
            2 * (width_px - 1) * (height_px - 1),
            "{what}: every pixel kept"
        );
    }
    let footprint = f64::from(hf.width_mm()) * f64::from(hf.height_mm());
    let (bilinear, slack) = grid_volume(&hf);
    let tolerance = slack + f64::from(max_error_mm) * footprint + 1e-6 * bilinear;
    let volume = signed_volume(&mesh);
    assert!(volume > 0.0, "{what}: outward orientation gives a positive volume");
    assert!(
        (volume - bilinear).abs() <= tolerance,
        "{what}: volume {volume} vs {bilinear} ± {tolerance}"
    );
    mesh
}

const SIZES: [(usize, usize); 7] = [(2, 2), (3, 2), (2, 5), (17, 9), (64, 64), (97, 41), (40, 120)];

#[test]
fn full_resolution_solids_are_closed_and_exact() {
    for field in [Field::Noise, Field::Sines, Field::Steps] {
        for (w, h) in SIZES {
            check_solid(field, w, h, 0.0);
        }
    }
}

#[test]
fn full_resolution_volume_is_the_grid_triangulation_integral() {
    // With every pixel kept, each cell is split along one diagonal; the solid's volume
    // is the sum of those two prisms, up to float rounding.
    let hf = heightfield(Field::Noise, 31, 23);
    let mesh = mesh::solid(&hf, 0.0);
    let edges: HashSet<(u32, u32)> = mesh
        .triangles
        .iter()
        .flat_map(|&[a, b, c]| [(a, b), (b, c), (c, a)])
        .collect();
    let index: HashMap<(i64, i64), u32> = (0..mesh.vertices.len() as u32)
        .filter(|&i| mesh.vertices[i as usize][2] > 0.0)
        .map(|i| (pixel_of(&hf, mesh.vertices[i as usize]), i))
        .collect();
    let cell = f64::from(hf.mm_per_px_x) * f64::from(hf.mm_per_px_y);
    let z = |x: usize, y: usize| f64::from(hf.z_mm.get(x, y));
    let mut expected = 0.0;
    for y in 0..hf.z_mm.height - 1 {
        for x in 0..hf.z_mm.width - 1 {
            let id = |dx: usize, dy: usize| index[&((x + dx) as i64, (y + dy) as i64)];
            let has = |a: u32, b: u32| edges.contains(&(a, b)) || edges.contains(&(b, a));
            let (z00, z10, z01, z11) = (z(x, y), z(x + 1, y), z(x, y + 1), z(x + 1, y + 1));
            expected += if has(id(0, 0), id(1, 1)) {
                cell * (2.0 * z00 + 2.0 * z11 + z10 + z01) / 6.0
            } else {
                assert!(has(id(1, 0), id(0, 1)), "cell ({x}, {y}) has neither diagonal");
                cell * (2.0 * z10 + 2.0 * z01 + z00 + z11) / 6.0
            };
        }
    }
    let volume = signed_volume(&mesh);
    assert!(
        (volume - expected).abs() < 1e-6 * expected,
        "volume {volume} vs {expected}"
    );
}

#[test]
fn simplified_solids_are_closed_and_within_error() {
    for field in [Field::Noise, Field::Sines, Field::Steps] {
        for (w, h) in SIZES {
            for max_error_mm in [0.01, 0.2, 1.0, 10.0] {
                check_solid(field, w, h, max_error_mm);
            }
        }
    }
}

#[test]
fn simplification_saves_triangles_on_smooth_fields() {
    let full = check_solid(Field::Sines, 97, 41, 0.0);
    let simplified = check_solid(Field::Sines, 97, 41, 0.05);
    assert!(
        simplified.triangle_count() * 3 < full.triangle_count(),
        "{} triangles simplified vs {} full",
        simplified.triangle_count(),
        full.triangle_count()
    );
}

#[test]
fn flat_field_is_a_box_of_twelve_triangles() {
    let params = ReliefParams {
        width_mm: 40.0,
        relief_mm: RELIEF_MM,
        base_mm: BASE_MM,
        ..Default::default()
    };
    let hf = relief::build(&Grid::filled(50, 30, 0.3f32), &params).expect("valid relief");
    let mesh = mesh::solid(&hf, 0.01);
    assert_closed_solid(&mesh);
    assert_eq!((mesh.vertices.len(), mesh.triangle_count()), (8, 12));
    let volume = signed_volume(&mesh);
    let expected = f64::from(hf.width_mm()) * f64::from(hf.height_mm()) * f64::from(BASE_MM);
    assert!((volume - expected).abs() < 1e-6 * expected);
}

fn assert_unit_normals_facing_out(mesh: &Mesh, normals: impl Iterator<Item = [f32; 3]>) {
    for (&t, n) in mesh.triangles.iter().zip(normals) {
        let n = n.map(f64::from);
        assert!((norm(n) - 1.0).abs() < 1e-5, "normal {n:?} of {t:?} is not unit length");
        let a = area_vector(mesh, t);
        assert!(
            n[0] * a[0] + n[1] * a[1] + n[2] * a[2] > 0.999 * norm(a),
            "normal {n:?} does not match {t:?}"
        );
    }
}

#[test]
fn facet_normals_are_unit_and_outward() {
    let mesh = mesh::solid(&heightfield(Field::Steps, 30, 20), 0.1);
    assert_unit_normals_facing_out(&mesh, mesh.facet_normals().into_iter());
}

#[test]
fn stl_round_trips_in_both_formats() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mesh = mesh::solid(&heightfield(Field::Sines, 45, 33), 0.05);
    for (format, name) in [(StlFormat::Binary, "binary.stl"), (StlFormat::Ascii, "ascii.stl")] {
        let path = dir.path().join(name);
        export::write_stl(&mesh, &path, format).expect("write STL");
        let read = stl_io::read_stl(&mut fs::File::open(&path).expect("open STL")).expect("read STL");
        assert_eq!(read.faces.len(), mesh.triangle_count(), "{format:?} triangle count");
        assert_eq!(read.vertices.len(), mesh.vertices.len(), "{format:?} distinct vertices");
        for (face, &t) in read.faces.iter().zip(&mesh.triangles) {
            let positions = face.vertices.map(|i| read.vertices[i].0);
            assert_eq!(
                positions,
                t.map(|i| mesh.vertices[i as usize]),
                "{format:?} vertex positions"
            );
        }
        assert_unit_normals_facing_out(&mesh, read.faces.iter().map(|f| f.normal.0));
        read.validate()
            .expect("stl_io sees a closed, consistently oriented mesh");
    }
    let binary_len = fs::metadata(dir.path().join("binary.stl")).expect("binary STL").len();
    assert_eq!(binary_len, 84 + 50 * mesh.triangle_count() as u64);
}

/// The error and its causes on one line, as the binary prints them.
fn chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        message = format!("{message}: {c}");
        cause = c.source();
    }
    message
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("list dir")
        .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn small_mesh() -> Mesh {
    mesh::solid(&heightfield(Field::Noise, 4, 3), 0.0)
}

#[test]
fn writing_into_a_missing_directory_fails_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("missing").join("x.stl");
    let error = export::write_stl(&small_mesh(), &path, StlFormat::Binary).expect_err("no such directory");
    assert!(matches!(error, ExportError::MissingDirectory { .. }), "{error:?}");
    let message = chain(&error);
    let expected = format!(
        "cannot write {}: directory {} does not exist",
        path.display(),
        path.parent().unwrap().display()
    );
    assert_eq!(message, expected);
    assert!(file_names(dir.path()).is_empty());
}

#[test]
fn writing_below_a_regular_file_fails_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    fs::write(dir.path().join("file"), b"not a directory").expect("write file");
    let path = dir.path().join("file").join("x.stl");
    let error = export::write_stl(&small_mesh(), &path, StlFormat::Ascii).expect_err("parent is a file");
    assert!(matches!(error, ExportError::NotADirectory { .. }), "{error:?}");
    assert_eq!(file_names(dir.path()), ["file"]);
}

#[cfg(unix)]
#[test]
fn writing_into_a_read_only_directory_fails_and_leaves_no_temp_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let locked = dir.path().join("locked");
    fs::create_dir(&locked).expect("create dir");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o555)).expect("chmod");
    let result = export::write_stl(&small_mesh(), &locked.join("x.stl"), StlFormat::Binary);
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).expect("chmod back");
    match result {
        Err(error) => {
            assert!(matches!(error, ExportError::Io { .. }), "{error:?}");
            assert!(
                chain(&error).ends_with("locked/x.stl: permission denied"),
                "{}",
                chain(&error)
            );
            assert!(file_names(&locked).is_empty(), "left behind: {:?}", file_names(&locked));
        }
        // Root ignores permission bits; the write then succeeds and must be complete.
        Ok(()) => assert_eq!(file_names(&locked), ["x.stl"]),
    }
}

#[test]
fn a_failing_writer_keeps_the_old_file_and_leaves_no_temp_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("depth.png");
    fs::write(&path, b"old").expect("write old file");
    let result = export::atomic_write(&path, |out| {
        out.write_all(b"half a file")?;
        Err(std::io::Error::other("disk full"))
    });
    let message = chain(&result.expect_err("writer failed"));
    assert!(
        message.starts_with("cannot write ") && message.ends_with("depth.png: disk full"),
        "{message}"
    );
    assert_eq!(fs::read(&path).expect("old file"), b"old");
    assert_eq!(file_names(dir.path()), ["depth.png"]);
}

#[test]
fn png_writers_round_trip() {
    let dir = tempfile::tempdir().expect("temp dir");
    let values = Grid::from_vec(3, 2, vec![0.0, 0.5, 1.0, -1.0, 2.0, 0.25]);
    let path16 = dir.path().join("depth16.png");
    export::write_png16(&values, &path16).expect("write 16-bit PNG");
    let read = image::open(&path16).expect("read 16-bit PNG").into_luma16();
    assert_eq!(read.dimensions(), (3, 2));
    assert_eq!(read.into_raw(), [0, 32768, 65535, 0, 65535, 16384]);

    let grey = Grid::from_vec(2, 2, vec![0u8, 51, 204, 255]);
    let path8 = dir.path().join("edges.png");
    export::write_png8_gray(&grey, &path8).expect("write 8-bit PNG");
    assert_eq!(
        image::open(&path8).expect("read 8-bit PNG").into_luma8().into_raw(),
        grey.data
    );

    let rgb: Vec<u8> = (0..2 * 3 * 3).map(|i| (i * 13) as u8).collect();
    let path_rgb = dir.path().join("preview.png");
    export::write_png_rgb(2, 3, &rgb, &path_rgb).expect("write RGB PNG");
    let read = image::open(&path_rgb).expect("read RGB PNG").into_rgb8();
    assert_eq!((read.dimensions(), read.into_raw()), ((2, 3), rgb));
}

#[test]
fn png_with_wrong_data_length_is_refused_without_a_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("preview.png");
    let error = export::write_png_rgb(4, 4, &[0; 47], &path).expect_err("47 bytes are not 4×4 RGB");
    assert!(error.to_string().contains("preview.png"), "{error}");
    assert!(file_names(dir.path()).is_empty());
}

#[test]
fn cancelled_simplification_stops_within_a_second() {
    // Noise at a tiny tolerance keeps nearly every pixel: seconds of work at 1500².
    let hf = heightfield(Field::Noise, 1500, 1500);
    let cancel = relievo::cancel::Cancel::default();
    let (result, after_cancel) = std::thread::scope(|scope| {
        let worker = scope.spawn(|| mesh::solid_cancellable(&hf, 1e-4, &cancel));
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(
            !worker.is_finished(),
            "the work must outlast the wait for this test to mean anything"
        );
        cancel.cancel();
        let at = std::time::Instant::now();
        (worker.join().unwrap(), at.elapsed())
    });
    assert!(matches!(result, Err(relievo::cancel::Cancelled)));
    assert!(
        after_cancel.as_secs_f32() < 1.0,
        "stopped {after_cancel:?} after the cancel"
    );
}

#[test]
fn a_write_clears_temp_files_left_by_killed_writes_but_not_fresh_ones() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join(".relievo-killed.tmp");
    let fresh = dir.path().join(".relievo-writing.tmp");
    let other = dir.path().join("notes.tmp");
    for p in [&stale, &fresh, &other] {
        std::fs::write(p, b"partial").unwrap();
    }
    let old = std::time::SystemTime::now() - relievo::export::STALE_TEMP_AGE * 2;
    for p in [&stale, &other] {
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    relievo::export::atomic_write(&dir.path().join("out.bin"), |w| w.write_all(b"whole")).unwrap();
    assert!(!stale.exists(), "a killed write's temp file goes");
    assert!(
        fresh.exists() && other.exists(),
        "a write in progress and other files stay"
    );
}

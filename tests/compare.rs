//! Comparing a reconstruction with a scan: known placements and a known removed block
//! are found, and a relievo STL projected from above gives back its heights.

use relievo::compare::{CompareError, CompareOptions, PointPair, PointPairs, compare, difference_unit};
use relievo::grid::Grid;
use relievo::relief::{self, ReliefParams};
use relievo::scan::project_mesh;

/// A panel in mm at continuous pixel coordinates: two raised discs, a ridge, a tilt.
fn panel(x: f32, y: f32) -> f32 {
    let disc = |cx: f32, cy: f32, r: f32| {
        let d = ((x - cx).powi(2) + (y - cy).powi(2)).sqrt();
        (1.0 - (d / r).powi(2)).max(0.0).sqrt()
    };
    0.01 * x
        + 3.0 * disc(70.0, 60.0, 28.0)
        + 2.0 * disc(150.0, 95.0, 34.0)
        + 1.5 * (-((y - 0.4 * x - 40.0) / 6.0).powi(2)).exp()
}

const W: usize = 220;
const H: usize = 160;
const MM_PER_PX: f32 = 0.5;

/// The scan of the panel today: placed by `rotation_deg` (counter-clockwise on screen),
/// `zoom` and `shift_px` as `compare` reports them, heights ×250 + 1000 (scanner units),
/// with `lost` (a rectangle in reconstruction pixels) sunk by 1 mm.
fn scan(rotation_deg: f32, zoom: f32, shift_px: [f32; 2], lost: Option<[usize; 4]>) -> Grid<f32> {
    let (cr, cs) = (
        [(W - 1) as f32 / 2.0, (H - 1) as f32 / 2.0],
        [(W - 1) as f32 / 2.0, (H - 1) as f32 / 2.0],
    );
    let (sin, cos) = rotation_deg.to_radians().sin_cos();
    Grid::from_fn(W, H, |qx, qy| {
        // Inverse of q = cs + zoom·R(θ)·(p − cr − shift).
        let (dx, dy) = ((qx as f32 - cs[0]) / zoom, (qy as f32 - cs[1]) / zoom);
        let (px, py) = (cos * dx - sin * dy, sin * dx + cos * dy);
        let (x, y) = (px + cr[0] + shift_px[0], py + cr[1] + shift_px[1]);
        let sunk = lost.is_some_and(|[x0, y0, x1, y1]| {
            (x0 as f32 - 0.5..x1 as f32 - 0.5).contains(&x) && (y0 as f32 - 0.5..y1 as f32 - 0.5).contains(&y)
        });
        250.0 * (panel(x, y) - if sunk { 1.0 } else { 0.0 }) + 1000.0
    })
}

fn reconstruction() -> Grid<f32> {
    Grid::from_fn(W, H, |x, y| panel(x as f32, y as f32))
}

#[test]
fn a_turned_shifted_rescaled_scan_is_put_back_in_place() {
    let c = compare(
        &reconstruction(),
        MM_PER_PX,
        &scan(4.0, 1.05, [6.0, -4.0], None),
        &CompareOptions::default(),
    )
    .unwrap();
    let a = &c.alignment;
    assert!((a.rotation_deg - 4.0).abs() < 0.2, "{a:?}");
    assert!((a.zoom - 1.05).abs() < 0.005, "{a:?}");
    assert!(
        (a.shift_px[0] - 6.0).abs() < 0.5 && (a.shift_px[1] + 4.0).abs() < 0.5,
        "{a:?}"
    );
    assert!((a.height_scale - 1.0 / 250.0).abs() < 1e-4, "{a:?}");
    assert!(a.residual_mm < 0.05, "{a:?}");
    assert!(
        c.stats.volume_lost_mm3 < 5.0 && c.stats.volume_added_mm3 < 5.0,
        "{:?}",
        c.stats
    );
}

#[test]
fn a_removed_block_is_measured_as_lost_and_does_not_move_the_fit() {
    // 30 × 20 px sunk by 1 mm: 600 px of 0.25 mm² = 150 mm², 150 mm³.
    let lost = [30, 110, 60, 130];
    let c = compare(
        &reconstruction(),
        MM_PER_PX,
        &scan(-2.5, 1.0, [-3.0, 2.0], Some(lost)),
        &CompareOptions::default(),
    )
    .unwrap();
    let (a, st) = (&c.alignment, &c.stats);
    assert!(
        (a.rotation_deg + 2.5).abs() < 0.2 && (a.shift_px[0] + 3.0).abs() < 0.5,
        "{a:?}"
    );
    // The area also counts the ring of pixels the block's resampled edge cuts through
    // (its perimeter is 100 px, 25 mm²); the volume is exact up to resampling.
    assert!((150.0..190.0).contains(&st.area_lost_mm2), "{st:?}");
    assert!((st.volume_lost_mm3 - 150.0).abs() < 7.5, "{st:?}");
    assert!((st.max_loss_mm - 1.0).abs() < 0.1, "{st:?}");
    // Resampling the discs' vertical walls reads as small gains: under 5 % of the loss.
    assert!(st.volume_added_mm3 < 7.5, "{st:?}");
    // The hole's middle reads −1 mm in the difference map, the panel around it 0.
    assert!((c.difference_mm.get(45, 120) + 1.0).abs() < 0.05);
    assert!(c.difference_mm.get(150, 40).abs() < 0.05);
    let (unit, range) = difference_unit(&c.difference_mm);
    assert!((range - st.max_loss_mm.max(st.max_gain_mm)).abs() < 0.05 || range >= st.max_loss_mm);
    assert!((unit.get(150, 40) - 0.5).abs() < 0.01 && unit.get(45, 120) < 0.1);
}

#[test]
fn flat_or_tiny_inputs_give_an_error_not_a_guess() {
    let flat = Grid::filled(50, 40, 3.0);
    assert!(compare(&reconstruction(), MM_PER_PX, &flat, &CompareOptions::default()).is_err());
    let tiny = Grid::filled(4, 4, 1.0);
    let e = compare(&tiny, MM_PER_PX, &reconstruction(), &CompareOptions::default()).unwrap_err();
    assert!(e.to_string().contains("at least 8×8"), "{e}");
}

#[test]
fn a_relievo_solid_seen_from_above_gives_back_its_heights() {
    let depth = reconstruction();
    let params = ReliefParams {
        width_mm: (W - 1) as f32 * MM_PER_PX,
        ..ReliefParams::default()
    };
    let hf = relief::build(&depth, &params).unwrap();
    let solid = relievo::mesh::solid(&hf, 0.0);
    let triangles: Vec<[usize; 3]> = solid.triangles.iter().map(|t| t.map(|i| i as usize)).collect();
    let seen = project_mesh(&solid.vertices, &triangles, W);
    assert_eq!((seen.width, seen.height), (W, H));
    let worst = seen
        .data
        .iter()
        .zip(&hf.z_mm.data)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(worst < 1e-3, "{worst}");
}

#[test]
fn a_coarser_scan_compares_as_well() {
    // The same panel scanned at half the photo's resolution, a 30 × 20 px block (in photo
    // pixels) sunk by 1 mm: 150 mm³.
    let scan = Grid::from_fn(W / 2, H / 2, |qx, qy| {
        let (x, y) = (2.0 * qx as f32 + 0.5, 2.0 * qy as f32 + 0.5);
        let sunk = (30.0..60.0).contains(&x) && (110.0..130.0).contains(&y);
        250.0 * (panel(x, y) - if sunk { 1.0 } else { 0.0 }) + 1000.0
    });
    let c = compare(&reconstruction(), MM_PER_PX, &scan, &CompareOptions::default()).unwrap();
    assert!(c.alignment.rotation_deg.abs() < 0.3, "{:?}", c.alignment);
    assert!((c.stats.volume_lost_mm3 - 150.0).abs() < 15.0, "{:?}", c.stats);
}

// Scans as meshes: the same solid as STL, OBJ and PLY (ASCII, binary little- and
// big-endian) gives the same heights, and a broken file one line naming it.

/// A plate with a raised block and a pyramid, as a 16-bit-like depth map (0..1).
fn plate_depth() -> Grid<f32> {
    Grid::from_fn(96, 64, |x, y| {
        let (x, y) = (x as f32, y as f32);
        let block = if (14.0..34.0).contains(&x) && (12.0..40.0).contains(&y) {
            0.5
        } else {
            0.0
        };
        let pyramid = (1.0 - ((x - 66.0).abs().max((y - 34.0).abs()) / 18.0)).max(0.0);
        0.1 + block + 0.8 * pyramid
    })
}

/// `mesh` as a PLY with float x, y, z and an int face list, in `format`.
fn ply_bytes(mesh: &relievo::mesh::Mesh, format: &str) -> Vec<u8> {
    let mut out = format!(
        "ply\nformat {format} 1.0\ncomment made by relievo's tests\nelement vertex {}\nproperty float x\nproperty float y\nproperty float z\nelement face {}\nproperty list uchar int vertex_indices\nend_header\n",
        mesh.vertices.len(),
        mesh.triangles.len()
    )
    .into_bytes();
    let big = format == "binary_big_endian";
    let f32_bytes = |v: f32| if big { v.to_be_bytes() } else { v.to_le_bytes() };
    let i32_bytes = |v: i32| if big { v.to_be_bytes() } else { v.to_le_bytes() };
    for v in &mesh.vertices {
        if format == "ascii" {
            out.extend(format!("{} {} {}\n", v[0], v[1], v[2]).bytes());
        } else {
            v.iter().for_each(|&c| out.extend(f32_bytes(c)));
        }
    }
    for t in &mesh.triangles {
        if format == "ascii" {
            out.extend(format!("3 {} {} {}\n", t[0], t[1], t[2]).bytes());
        } else {
            out.push(3);
            t.iter().for_each(|&i| out.extend(i32_bytes(i as i32)));
        }
    }
    out
}

#[test]
fn obj_and_ply_scans_give_the_stl_heights_and_compare_as_unchanged() {
    use relievo::export::{MeshFormat, StlFormat, write_mesh};
    use relievo::scan::load_scan;
    let dir = tempfile::tempdir().unwrap();
    let depth = plate_depth();
    let params = ReliefParams {
        width_mm: 95.0 * MM_PER_PX,
        ..ReliefParams::default()
    };
    let hf = relief::build(&depth, &params).unwrap();
    let solid = relievo::mesh::solid(&hf, 0.0);
    let stl = dir.path().join("plate.stl");
    write_mesh(&solid, &stl, MeshFormat::Stl(StlFormat::Binary), None).unwrap();
    let reference = load_scan(&stl, 96).unwrap();
    assert_eq!((reference.width, reference.height), (96, 64));
    let worst = |a: &Grid<f32>, b: &Grid<f32>| {
        a.data
            .iter()
            .zip(&b.data)
            .map(|(a, b)| if a.is_nan() && b.is_nan() { 0.0 } else { (a - b).abs() })
            .fold(0f32, f32::max)
    };
    assert!(worst(&reference, &hf.z_mm) < 1e-3);

    let obj = dir.path().join("plate.obj");
    write_mesh(&solid, &obj, MeshFormat::Obj, None).unwrap();
    let mut scans = vec![obj];
    for format in ["ascii", "binary_little_endian", "binary_big_endian"] {
        let path = dir.path().join(format!("plate_{format}.ply"));
        std::fs::write(&path, ply_bytes(&solid, format)).unwrap();
        scans.push(path);
    }
    // relievo's own PLY export (binary, with colours) reads the same.
    let ply = dir.path().join("plate_export.ply");
    write_mesh(&solid, &ply, MeshFormat::Ply, None).unwrap();
    scans.push(ply);
    for path in &scans {
        let seen = load_scan(path, 96).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((seen.width, seen.height), (96, 64), "{}", path.display());
        let d = worst(&seen, &reference);
        assert!(d < 1e-4, "{}: {d} mm from the STL's heights", path.display());
    }

    // The OBJ scan compared with the depth it was made from: nothing changed.
    let seen = load_scan(&scans[0], 96).unwrap();
    let c = compare(&hf.z_mm, hf.mm_per_px_x, &seen, &CompareOptions::default()).unwrap();
    let (a, st) = (&c.alignment, &c.stats);
    assert!(a.rotation_deg.abs() < 0.2 && (a.zoom - 1.0).abs() < 0.005, "{a:?}");
    assert!(a.shift_px[0].abs() < 0.3 && a.shift_px[1].abs() < 0.3, "{a:?}");
    assert!((a.height_scale - 1.0).abs() < 1e-3 && a.residual_mm < 0.01, "{a:?}");
    assert!(st.volume_lost_mm3 < 0.5 && st.volume_added_mm3 < 0.5, "{st:?}");
}

#[test]
fn broken_mesh_scans_give_one_line_naming_the_file() {
    use relievo::scan::load_scan;
    let dir = tempfile::tempdir().unwrap();
    let depth = plate_depth();
    let hf = relief::build(&depth, &ReliefParams::default()).unwrap();
    let solid = relievo::mesh::solid(&hf, 0.5);
    let binary_ply = ply_bytes(&solid, "binary_little_endian");
    let ascii_ply = ply_bytes(&solid, "ascii");
    let mut stl = Vec::new();
    let triangles: Vec<stl_io::Triangle> = solid
        .triangles
        .iter()
        .map(|t| stl_io::Triangle {
            normal: stl_io::Normal::new([0.0, 0.0, 1.0]),
            vertices: t.map(|i| stl_io::Vertex::new(solid.vertices[i as usize])),
        })
        .collect();
    stl_io::write_stl(&mut stl, triangles.iter()).unwrap();
    let garbage: Vec<u8> = (0..4000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated.stl", stl[..stl.len() / 2].to_vec()),
        ("garbage.stl", garbage.clone()),
        ("truncated.obj", b"v 0 0 0\nv 1 0 0\nv 1 1 0\nf 1 2 3\nf 1 3 4".to_vec()),
        ("garbage.obj", garbage.clone()),
        ("empty.obj", b"# nothing\n".to_vec()),
        ("truncated_binary.ply", binary_ply[..binary_ply.len() * 2 / 3].to_vec()),
        ("truncated_ascii.ply", ascii_ply[..ascii_ply.len() / 2].to_vec()),
        ("garbage.ply", garbage.clone()),
        (
            "header_only.ply",
            b"ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nend_header\n0\n1\n2\n".to_vec(),
        ),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let e = load_scan(&path, 64).expect_err(name).to_string();
        assert!(e.contains(name) && !e.contains('\n'), "{name}: {e}");
    }
    let missing = load_scan(&dir.path().join("missing.ply"), 64).unwrap_err().to_string();
    assert!(missing.contains("missing.ply not found"), "{missing}");
}

// Placing the scan by hand: point pairs.

/// Where reconstruction pixel `p` lands on a `scan(rotation_deg, zoom, shift_px, _)`
/// (both W × H): q = c + zoom·R(θ)·(p − c − shift).
fn on_scan(p: [f32; 2], rotation_deg: f32, zoom: f32, shift_px: [f32; 2]) -> [f32; 2] {
    let c = [(W - 1) as f32 / 2.0, (H - 1) as f32 / 2.0];
    let (sin, cos) = rotation_deg.to_radians().sin_cos();
    let (x, y) = (p[0] - c[0] - shift_px[0], p[1] - c[1] - shift_px[1]);
    [c[0] + zoom * (cos * x + sin * y), c[1] + zoom * (-sin * x + cos * y)]
}

fn pairs_for(points: &[[f32; 2]], rotation_deg: f32, zoom: f32, shift_px: [f32; 2]) -> Vec<PointPair> {
    points
        .iter()
        .map(|&p| PointPair {
            recon_px: p,
            scan_px: on_scan(p, rotation_deg, zoom, shift_px),
        })
        .collect()
}

fn by_hand(pairs: Vec<PointPair>, refine: bool) -> CompareOptions {
    CompareOptions {
        points: Some(PointPairs { pairs, refine }),
        ..CompareOptions::default()
    }
}

#[test]
fn three_exact_pairs_place_a_scan_the_search_cannot_reach() {
    // 20° and ×1.25 lie outside the automatic search's ±12°, ±15 %.
    let (rotation, zoom, shift) = (20.0, 1.25, [6.0, -5.0]);
    let scan = scan(rotation, zoom, shift, None);
    let pairs = pairs_for(&[[70.0, 60.0], [150.0, 95.0], [95.0, 110.0]], rotation, zoom, shift);
    for refine in [false, true] {
        let c = compare(&reconstruction(), MM_PER_PX, &scan, &by_hand(pairs.clone(), refine)).unwrap();
        let a = &c.alignment;
        assert!((a.rotation_deg - rotation).abs() < 0.2, "refine {refine}: {a:?}");
        assert!((a.zoom - zoom).abs() < 0.005, "refine {refine}: {a:?}");
        assert!(
            (a.shift_px[0] - shift[0]).abs() < 0.5 && (a.shift_px[1] - shift[1]).abs() < 0.5,
            "refine {refine}: {a:?}"
        );
        let points = a.points.as_ref().unwrap();
        assert_eq!((points.pairs, points.refined), (3, refine));
        assert!(points.fit_residual_px < 1e-3 && points.residual_px < 0.5, "{points:?}");
        assert!(
            (a.height_scale - 1.0 / 250.0).abs() < 1e-4 && a.residual_mm < 0.05,
            "{a:?}"
        );
        assert!(c.stats.volume_lost_mm3 < 5.0, "{:?}", c.stats);
    }
}

#[test]
fn pairs_picked_a_pixel_off_are_refined_by_the_heights() {
    let (rotation, zoom, shift) = (-7.0, 0.95, [-4.0, 3.0]);
    let lost = [30, 110, 60, 130];
    let scan = scan(rotation, zoom, shift, Some(lost));
    let mut pairs = pairs_for(
        &[[70.0, 60.0], [150.0, 95.0], [40.0, 130.0], [180.0, 30.0]],
        rotation,
        zoom,
        shift,
    );
    // Clicks a pixel or so off.
    for (pair, error) in pairs
        .iter_mut()
        .zip([[1.2, -0.8], [-1.0, 1.1], [0.9, 1.0], [-1.1, -1.2]])
    {
        pair.scan_px[0] += error[0];
        pair.scan_px[1] += error[1];
    }
    let c = compare(&reconstruction(), MM_PER_PX, &scan, &by_hand(pairs, true)).unwrap();
    let a = &c.alignment;
    assert!((a.rotation_deg - rotation).abs() < 0.2, "{a:?}");
    assert!(
        (a.shift_px[0] - shift[0]).abs() < 0.5 && (a.shift_px[1] - shift[1]).abs() < 0.5,
        "{a:?}"
    );
    let points = a.points.as_ref().unwrap();
    assert!(points.fit_residual_px > 0.3, "the clicks disagree: {points:?}");
    // The removed block is still measured, not fitted away.
    assert!((c.stats.volume_lost_mm3 - 150.0).abs() < 15.0, "{:?}", c.stats);
}

#[test]
fn too_few_duplicate_collinear_or_outside_pairs_are_refused() {
    let scan = scan(5.0, 1.0, [0.0, 0.0], None);
    let recon = reconstruction();
    let pair = |r: [f32; 2], s: [f32; 2]| PointPair {
        recon_px: r,
        scan_px: s,
    };
    let try_pairs = |pairs: Vec<PointPair>| compare(&recon, MM_PER_PX, &scan, &by_hand(pairs, false)).unwrap_err();
    let two = vec![pair([10.0, 10.0], [12.0, 9.0]), pair([100.0, 80.0], [101.0, 75.0])];
    assert_eq!(try_pairs(two.clone()), CompareError::TooFewPairs { pairs: 2 });
    let mut duplicate = two.clone();
    duplicate.push(pair([10.3, 10.2], [50.0, 60.0]));
    assert_eq!(
        try_pairs(duplicate),
        CompareError::DuplicatePoints {
            which: "reconstruction",
            first: 1,
            second: 3
        }
    );
    let mut collinear = two.clone();
    collinear.push(pair([55.0, 45.0], [60.0, 20.0]));
    let e = try_pairs(collinear);
    assert_eq!(
        e,
        CompareError::CollinearPoints {
            which: "reconstruction"
        }
    );
    assert!(e.to_string().contains("one line"), "{e}");
    let mut outside = two;
    outside.push(pair([50.0, 120.0], [400.0, 20.0]));
    let e = try_pairs(outside);
    assert!(
        matches!(
            e,
            CompareError::PointOutside {
                which: "scan",
                pair: 3,
                ..
            }
        ),
        "{e:?}"
    );
}

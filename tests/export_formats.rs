//! OBJ and PLY exports read back by independent readers (`tobj`, `ply-rs`): the same
//! vertices and triangles as the solid, in mm, texture coordinates spanning the
//! photo, vertex colours from the photo, and the material and texture beside the OBJ.

use std::path::Path;

use relievo::export::{self, MeshFormat, StlFormat, Texture};
use relievo::grid::Grid;
use relievo::mesh::{self, Mesh};
use relievo::relief::{self, ReliefParams};

/// A 30 × 20 px dome, 60 mm wide, as a full-resolution solid.
fn solid() -> Mesh {
    let depth = Grid::from_fn(30, 20, |x, y| {
        let (dx, dy) = (x as f32 - 15.0, y as f32 - 10.0);
        (1.0 - (dx * dx + dy * dy) / 300.0).max(0.0)
    });
    let params = ReliefParams {
        width_mm: 60.0,
        relief_mm: 3.0,
        base_mm: 2.0,
        max_error_mm: 0.0,
        ..ReliefParams::default()
    };
    mesh::solid(&relief::build(&depth, &params).unwrap(), 0.0)
}

/// Left half red, right half blue; top rows green.
fn photo() -> Grid<[f32; 3]> {
    Grid::from_fn(40, 30, |x, y| match (x, y) {
        (_, 0..=2) => [0.0, 1.0, 0.0],
        (0..20, _) => [1.0, 0.0, 0.0],
        _ => [0.0, 0.0, 1.0],
    })
}

#[test]
fn obj_has_the_solid_texture_coordinates_a_material_and_the_photo() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("panel.obj");
    let solid = solid();
    let rgb = photo();
    let texture = Texture {
        rgb: &rgb,
        mirrored: false,
    };
    export::write_mesh(&solid, &path, MeshFormat::Obj, Some(texture)).unwrap();

    let (models, materials) = tobj::load_obj(&path, &tobj::GPU_LOAD_OPTIONS).unwrap();
    let model = &models[0].mesh;
    // GPU_LOAD_OPTIONS unifies indices: one vertex per distinct position/uv pair.
    assert_eq!(model.indices.len(), 3 * solid.triangle_count());
    assert_eq!(model.positions.len(), 3 * solid.vertices.len());
    let xs = model.positions.iter().step_by(3);
    let max_x = xs.fold(0.0f32, |m, &x| m.max(x));
    assert!((max_x - 60.0).abs() < 1e-3, "width {max_x} mm");
    let max_z = model.positions.iter().skip(2).step_by(3).fold(0.0f32, |m, &z| m.max(z));
    assert!((max_z - 5.0).abs() < 1e-3, "height {max_z} mm");
    // Texture coordinates span the photo: (0, 0) at the bottom-left, (1, 1) top-right.
    let (us, vs): (Vec<f32>, Vec<f32>) = model.texcoords.chunks(2).map(|c| (c[0], c[1])).unzip();
    let range = |v: &[f32]| {
        v.iter()
            .fold((f32::MAX, f32::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)))
    };
    assert_eq!(range(&us), (0.0, 1.0));
    assert_eq!(range(&vs), (0.0, 1.0));
    // The far edge of the solid (largest y) is the photo's top row: v = 1.
    for (i, p) in model.positions.chunks(3).enumerate() {
        let v = model.texcoords[2 * i + 1];
        assert!((v - p[1] / (19.0 * 60.0 / 29.0)).abs() < 1e-4);
    }

    let materials = materials.unwrap();
    assert_eq!(materials[0].diffuse_texture.as_deref(), Some("panel_texture.png"));
    let texture = image::open(dir.path().join("panel_texture.png")).unwrap().into_rgb8();
    assert_eq!(texture.dimensions(), (40, 30));
    assert_eq!(texture.get_pixel(5, 10).0, [255, 0, 0]);
    assert_eq!(texture.get_pixel(5, 0).0, [0, 255, 0]);
}

/// A binary little-endian PLY as (header lines, vertex records, face index lists),
/// read by the header's own declarations. (A PLY crate was tried: `ply-rs` and
/// `ply-rs-bw` change the features of crates burn and wgpu share, so the test build
/// would compile the whole stack a second time.)
fn read_ply(bytes: &[u8]) -> (Vec<String>, Vec<Vec<f64>>, Vec<Vec<i32>>) {
    let end = bytes.windows(11).position(|w| w == b"end_header\n").unwrap() + 11;
    let header: Vec<String> = std::str::from_utf8(&bytes[..end])
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(header[1], "format binary_little_endian 1.0");
    let count = |element: &str| -> usize {
        let line = header
            .iter()
            .find(|l| l.starts_with(&format!("element {element} ")))
            .unwrap();
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let vertex_props: Vec<&str> = header
        .iter()
        .skip_while(|l| !l.starts_with("element vertex"))
        .skip(1)
        .take_while(|l| l.starts_with("property"))
        .map(|l| l.split(' ').nth(1).unwrap())
        .collect();
    let mut at = end;
    let mut take = |n: usize| {
        let slice = &bytes[at..at + n];
        at += n;
        slice
    };
    let vertices = (0..count("vertex"))
        .map(|_| {
            vertex_props
                .iter()
                .map(|t| match *t {
                    "float" => f32::from_le_bytes(take(4).try_into().unwrap()) as f64,
                    "uchar" => take(1)[0] as f64,
                    other => panic!("unexpected type {other}"),
                })
                .collect()
        })
        .collect();
    let faces = (0..count("face"))
        .map(|_| {
            let n = take(1)[0] as usize;
            (0..n)
                .map(|_| i32::from_le_bytes(take(4).try_into().unwrap()))
                .collect()
        })
        .collect();
    assert_eq!(at, bytes.len(), "no trailing bytes");
    (header, vertices, faces)
}

#[test]
fn ply_has_the_solid_and_the_photo_colours_mirrored_with_the_relief() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("panel.ply");
    let solid = solid();
    let rgb = photo();
    for mirrored in [false, true] {
        let texture = Texture { rgb: &rgb, mirrored };
        export::write_mesh(&solid, &path, MeshFormat::Ply, Some(texture)).unwrap();
        let (header, vertices, faces) = read_ply(&std::fs::read(&path).unwrap());
        assert!(header.contains(&"property uchar red".to_string()));
        assert_eq!(vertices.len(), solid.vertices.len());
        assert_eq!(faces.len(), solid.triangle_count());
        for (v, want) in vertices.iter().zip(&solid.vertices) {
            assert_eq!([v[0] as f32, v[1] as f32, v[2] as f32], *want);
            let colour = [v[3], v[4], v[5]];
            let (x, y) = (want[0], want[1]);
            // Below the green strip: left of the middle red, right blue (swapped when mirrored).
            if y < 25.0 && (x - 30.0).abs() > 3.0 {
                let left = x < 30.0;
                let red = if mirrored { !left } else { left };
                assert_eq!(
                    colour,
                    if red { [255.0, 0.0, 0.0] } else { [0.0, 0.0, 255.0] },
                    "at {x}, {y}"
                );
            }
        }
        for (face, want) in faces.iter().zip(&solid.triangles) {
            assert_eq!(*face, want.map(|i| i as i32).to_vec());
        }
    }
}

#[test]
fn formats_come_from_the_extension() {
    let f = |p: &str| MeshFormat::from_path(Path::new(p), StlFormat::Ascii).ok();
    assert_eq!(f("a.STL"), Some(MeshFormat::Stl(StlFormat::Ascii)));
    assert_eq!(f("a.obj"), Some(MeshFormat::Obj));
    assert_eq!(f("dir/a.Ply"), Some(MeshFormat::Ply));
    assert_eq!(f("a.txt"), None);
    assert_eq!(f("a"), None);
    // Without a texture both formats still hold the solid.
    let dir = tempfile::tempdir().unwrap();
    let obj = dir.path().join("plain.obj");
    export::write_mesh(&solid(), &obj, MeshFormat::Obj, None).unwrap();
    let (models, _) = tobj::load_obj(&obj, &tobj::GPU_LOAD_OPTIONS).unwrap();
    assert_eq!(models[0].mesh.indices.len(), 3 * solid().triangle_count());
    assert!(!dir.path().join("plain.mtl").exists());
}

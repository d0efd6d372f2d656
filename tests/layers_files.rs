//! `write_layers` end to end: the six files exist and read back with the values and formats the
//! CLI contract promises (DESIGN.md, "relievo layers").

use std::path::Path;

use image::DynamicImage;
use relievo::grid::Grid;
use relievo::layers::*;

/// Depth values k/7 (k = 0..=7) never sit near a rounding boundary of `· 65535`, so the expected
/// 16-bit value is exact whichever float width the writer uses.
fn synthetic(width: usize, height: usize) -> Layers {
    Layers {
        depth: Grid::from_fn(width, height, |x, y| ((x + 3 * y) % 8) as f32 / 7.0),
        edges: Grid::from_fn(width, height, |x, y| ((x + y) % 6) as u8),
        semantics: Grid::from_fn(width, height, |x, y| ((x / 5 + y) % 4) as u8),
    }
}

fn open(path: &Path) -> DynamicImage {
    image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn write_layers_writes_six_files_that_read_back() {
    let (width, height) = (400, 24);
    let layers = synthetic(width, height);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out").join("photo");
    let written = write_layers(&layers, &dir).unwrap();

    let names = [
        DEPTH_FILE,
        EDGES_FILE,
        SEMANTICS_FILE,
        DEPTH_PREVIEW_FILE,
        EDGES_PREVIEW_FILE,
        SEMANTICS_PREVIEW_FILE,
    ];
    assert_eq!(
        names,
        [
            "depth.png",
            "edges.png",
            "semantics.png",
            "depth_preview.png",
            "edges_preview.png",
            "semantics_preview.png"
        ]
    );
    assert_eq!(written, names.map(|n| dir.join(n)));
    assert!(written.iter().all(|p| p.is_file()));

    let DynamicImage::ImageLuma16(depth) = open(&dir.join(DEPTH_FILE)) else {
        panic!("depth.png is not 16-bit grey")
    };
    assert_eq!(depth.dimensions(), (width as u32, height as u32));
    for (x, y) in [(0, 0), (7, 0), (3, 0), (1, 2)] {
        let d = layers.depth.get(x, y);
        assert_eq!(
            depth.get_pixel(x as u32, y as u32).0[0],
            (d * 65535.0).round() as u16,
            "depth {d} at ({x}, {y})"
        );
    }
    assert_eq!(depth.get_pixel(0, 0).0[0], 0);
    assert_eq!(depth.get_pixel(7, 0).0[0], 65535);
    assert_eq!(depth.get_pixel(3, 0).0[0], 28086, "3/7 · 65535 = 28086.4");
    let expected: Vec<u16> = layers
        .depth
        .data
        .iter()
        .map(|d| (f64::from(*d) * 65535.0).round() as u16)
        .collect();
    assert_eq!(depth.as_raw(), &expected);

    let DynamicImage::ImageLuma8(edges) = open(&dir.join(EDGES_FILE)) else {
        panic!("edges.png is not 8-bit grey")
    };
    let expected: Vec<u8> = layers.edges.data.iter().map(|c| c * 51).collect();
    assert_eq!(edges.as_raw(), &expected);
    assert!(edges.as_raw().contains(&255));

    let DynamicImage::ImageLuma8(semantics) = open(&dir.join(SEMANTICS_FILE)) else {
        panic!("semantics.png is not 8-bit")
    };
    assert_eq!(semantics.as_raw(), &layers.semantics.data);

    for (name, colour_at) in [
        (
            DEPTH_PREVIEW_FILE,
            Box::new(|x, y| colormap(layers.depth.get(x, y))) as Box<dyn Fn(usize, usize) -> [u8; 3]>,
        ),
        (
            EDGES_PREVIEW_FILE,
            Box::new(|x, y| EDGE_PALETTE[usize::from(layers.edges.get(x, y))]),
        ),
        (
            SEMANTICS_PREVIEW_FILE,
            Box::new(|x, y| SEMANTIC_PALETTE[usize::from(layers.semantics.get(x, y))]),
        ),
    ] {
        let DynamicImage::ImageRgb8(preview) = open(&dir.join(name)) else {
            panic!("{name} is not RGB8")
        };
        assert_eq!(
            preview.width(),
            width as u32,
            "{name}: a 400 px image is wide enough for its legend"
        );
        assert!(preview.height() > height as u32, "{name} has no legend strip");
        for (x, y) in [(0, 0), (5, 3), (399, 23)] {
            assert_eq!(
                preview.get_pixel(x as u32, y as u32).0,
                colour_at(x, y),
                "{name} at ({x}, {y})"
            );
        }
    }
}

#[test]
fn tiny_layers_get_previews_wider_than_the_image() {
    let layers = synthetic(8, 8);
    let tmp = tempfile::tempdir().unwrap();
    let written = write_layers(&layers, tmp.path()).unwrap();
    for path in &written[3..] {
        let DynamicImage::ImageRgb8(preview) = open(path) else {
            panic!("{} is not RGB8", path.display())
        };
        assert!(
            preview.width() > 8 && preview.height() > 8,
            "{}: {:?}",
            path.display(),
            preview.dimensions()
        );
    }
}

//! Project files: a round trip gives every raster back to the bit, newer formats and
//! damaged files give one clear error (never a panic; mutations are in tests/fuzz.rs).

use std::path::Path;

use relievo::grid::Grid;
use relievo::project::{self, EditGrids, PhotoRef, Project, ProjectError};
use relievo::relief::ReliefParams;

fn sample() -> Project {
    let (w, h) = (37, 23);
    Project {
        source: "panel.jpg".into(),
        photo: Some(PhotoRef {
            path: "/photos/panel.jpg".into(),
            hash: project::hash_bytes(b"photo bytes"),
        }),
        weights: Some("models/default".into()),
        relief: ReliefParams {
            width_mm: 123.5,
            invert: true,
            ..ReliefParams::default()
        },
        app: serde_json::json!({"view": {"light_azimuth_deg": 200.0}}),
        depth: Grid::from_fn(w, h, |x, y| (x as f32 * 0.37 + y as f32).sin()),
        edges: Some(Grid::from_fn(w, h, |x, y| ((x + y) % 6) as u8)),
        semantics: Some(Grid::from_fn(w, h, |x, _| (x % 4) as u8)),
        edits: Some(EditGrids {
            offset_mm: Grid::from_fn(w, h, |x, y| if x > 10 { 0.1 * y as f32 - 1.0 } else { 0.0 }),
            damage: Grid::from_fn(w, h, |x, _| f32::from(x == 3)),
            restored: Grid::from_fn(w, h, |_, y| f32::from(y == 5)),
        }),
    }
}

#[test]
fn a_project_round_trips_to_the_bit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("panel.relievo");
    let p = sample();
    project::save(&p, &path).unwrap();
    let back = project::load(&path).unwrap();
    assert_eq!(back, p);
    let bits = |g: &Grid<f32>| g.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&back.depth), bits(&p.depth));
    // Without layers or edits (a depth map opened directly) too.
    let bare = Project {
        edges: None,
        semantics: None,
        edits: None,
        photo: None,
        ..sample()
    };
    project::save(&bare, &path).unwrap();
    assert_eq!(project::load(&path).unwrap(), bare);
}

#[test]
fn a_newer_format_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.relievo");
    project::save(&sample(), &path).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let key = b"\"format_version\":1";
    let at = bytes.windows(key.len()).position(|w| w == key).unwrap() + key.len() - 1;
    bytes[at] = b'7';
    std::fs::write(&path, &bytes).unwrap();
    let e = project::load(&path).unwrap_err();
    assert!(matches!(e, ProjectError::Newer { version: 7, .. }), "{e}");
    assert!(e.to_string().contains("newer relievo"), "{e}");
}

fn assert_refused(bytes: &[u8]) {
    let result = std::panic::catch_unwind(|| project::decode(bytes, Path::new("x.relievo")));
    assert!(
        matches!(result, Ok(Err(_))),
        "{} bytes were accepted or panicked",
        bytes.len()
    );
}

#[test]
fn damaged_files_give_an_error_and_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.relievo");
    project::save(&sample(), &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    // Every truncation (the rasters are what is cut, or the header).
    for len in (0..bytes.len()).step_by(7) {
        assert_refused(&bytes[..len]);
    }
    assert_refused(b"not a project at all");
    // A header whose size does not match its rasters (same length, so it still parses).
    let key = b"\"width\":37,";
    let at = bytes.windows(key.len()).position(|w| w == key).unwrap();
    let mut resized = bytes.clone();
    resized[at + key.len() - 3..at + key.len() - 1].copy_from_slice(b"99");
    assert_refused(&resized);
}

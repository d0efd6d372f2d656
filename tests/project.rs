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

mod common;

/// The project the hard-kill child writes: large enough that a save takes a while, and
/// `version` (0 or 1) tells the two apart in every raster.
fn large(version: usize) -> Project {
    let (w, h) = (1500, 1000);
    let v = version as f32;
    Project {
        relief: ReliefParams {
            width_mm: 100.0 + v,
            ..ReliefParams::default()
        },
        depth: Grid::from_fn(w, h, |x, y| (x as f32 * 0.01 + y as f32 * 0.02 + v).sin()),
        edits: Some(EditGrids {
            offset_mm: Grid::from_fn(w, h, |x, _| v * x as f32 * 0.001),
            damage: Grid::filled(w, h, v),
            restored: Grid::filled(w, h, 1.0 - v),
        }),
        edges: Some(Grid::filled(w, h, version as u8)),
        semantics: Some(Grid::filled(w, h, 3 - version as u8)),
        ..sample()
    }
}

/// The child process of the hard-kill test (does nothing when run on its own).
#[test]
#[ignore = "started by a_project_save_killed_at_any_moment_leaves_the_old_or_the_new"]
fn child_saving_a_project() {
    if let (Ok(out), Ok(version)) = (
        std::env::var("RELIEVO_CHILD_OUT"),
        std::env::var("RELIEVO_CHILD_VERSION"),
    ) {
        project::save(&large(version.parse().unwrap()), Path::new(&out)).unwrap();
    }
}

/// Kill -9 at random moments of a project save over an existing one (50 times): the file
/// under the final name always loads, and is exactly the old project or the new one.
#[test]
fn a_project_save_killed_at_any_moment_leaves_the_old_or_the_new() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("panel.relievo");
    let versions = [large(0), large(1)];
    let spawn = |i: usize| {
        common::child_test(
            "child_saving_a_project",
            &[
                ("RELIEVO_CHILD_OUT", path.display().to_string()),
                ("RELIEVO_CHILD_VERSION", (i % 2).to_string()),
            ],
        )
    };
    let check = || {
        let back = project::load(&path).expect("the project under its name loads after a kill");
        assert!(versions.contains(&back), "a mix of two saves");
    };
    common::kill_at_random_moments("project save", &spawn, &check);
}

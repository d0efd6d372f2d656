//! The `relievo` binary end to end: `mesh` makes a watertight STL with the asked
//! dimensions, and every kind of bad input gives a non-zero exit, one line on
//! stderr naming the problem, and no output file.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

fn relievo(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_relievo"))
        .args(args)
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .expect("relievo runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn depth_png(dir: &Path, name: &str, w: u32, h: u32) -> PathBuf {
    let path = dir.join(name);
    image::ImageBuffer::from_fn(w, h, |x, y| image::Luma([((x * 977 + y * 331) % 65536) as u16]))
        .save(&path)
        .unwrap();
    path
}

#[test]
fn mesh_writes_a_closed_solid_of_the_asked_size() {
    let dir = tempfile::tempdir().unwrap();
    let depth = depth_png(dir.path(), "ramp.png", 40, 20);
    let out = dir.path().join("out.stl");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let (ok, stdout, stderr) = relievo(&[
        "mesh",
        &s(&depth),
        "-o",
        &s(&out),
        "--width-mm",
        "80",
        "--relief-mm",
        "4",
        "--base-mm",
        "2",
        "--max-error-mm",
        "0.1",
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("triangles") && stdout.contains("80.0 × 39.0 × 6.0 mm"),
        "{stdout}"
    );
    let mesh = stl_io::read_stl(&mut std::fs::File::open(&out).unwrap()).unwrap();
    let mut lo = [f32::MAX; 3];
    let mut hi = [f32::MIN; 3];
    for v in &mesh.vertices {
        for k in 0..3 {
            lo[k] = lo[k].min(v[k]);
            hi[k] = hi[k].max(v[k]);
        }
    }
    let size: Vec<f32> = (0..3).map(|k| hi[k] - lo[k]).collect();
    // Pixel centres are vertices: 40 × 20 px at 80 mm wide is 80 × 80·19/39 mm.
    let expected = [80.0, 80.0 * 19.0 / 39.0, 6.0];
    assert!((0..3).all(|k| (size[k] - expected[k]).abs() < 1e-3), "{size:?}");
    // Every undirected edge is shared by exactly two faces.
    let mut edges = std::collections::HashMap::new();
    for f in &mesh.faces {
        for k in 0..3 {
            let (a, b) = (f.vertices[k], f.vertices[(k + 1) % 3]);
            *edges.entry((a.min(b), a.max(b))).or_insert(0) += 1;
        }
    }
    assert!(edges.values().all(|&n| n == 2));
    // The same provenance sidecar as the app's export: the relief that made the solid.
    let sidecar: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out.relievo.json")).unwrap()).unwrap();
    assert_eq!(sidecar["relief"]["width_mm"], 80.0);
    assert_eq!(sidecar["relief"]["max_error_mm"], 0.1f32 as f64);
    assert_eq!(sidecar["source"], s(&depth).as_str());
    assert_eq!(sidecar["weights"], serde_json::Value::Null);
    assert_eq!(sidecar["triangles"], mesh.faces.len());
}

#[test]
fn repair_fills_a_16_bit_hole_and_keeps_the_rest_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    // A tilted plane in 16 bits with a square hole punched to 0.
    let level = |x: u32, y: u32| 5000 + 300 * x + 200 * y;
    let in_hole = |x: u32, y: u32| (20..30).contains(&x) && (8..20).contains(&y);
    let depth = dir.path().join("damaged.png");
    image::ImageBuffer::from_fn(60, 40, |x, y| {
        image::Luma([if in_hole(x, y) { 0 } else { level(x, y) as u16 }])
    })
    .save(&depth)
    .unwrap();
    let mask = dir.path().join("mask.png");
    image::ImageBuffer::from_fn(60, 40, |x, y| image::Luma([if in_hole(x, y) { 255u8 } else { 0 }]))
        .save(&mask)
        .unwrap();
    let out = dir.path().join("repaired.png");
    let (ok, stdout, stderr) = relievo(&["repair", &s(&depth), "--mask", &s(&mask), "-o", &s(&out)]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("120 damaged px"), "{stdout}");
    let repaired = image::open(&out).unwrap().into_luma16();
    for (x, y, p) in repaired.enumerate_pixels() {
        let want = level(x, y) as i32;
        let tolerance = if in_hole(x, y) { 2 } else { 0 };
        assert!(
            (p.0[0] as i32 - want).abs() <= tolerance,
            "({x}, {y}): {} vs {want}",
            p.0[0]
        );
    }
    // A mask of another size: one line, no output.
    let small = depth_png(dir.path(), "small.png", 10, 10);
    let out2 = dir.path().join("never.png");
    assert_fails_cleanly(
        &["repair", &s(&depth), "--mask", &s(&small), "-o", &s(&out2)],
        &out2,
        "the mask is 10×10 px but the depth map is 60×40 px",
    );
}

#[test]
fn compare_writes_the_difference_and_its_summary() {
    let dir = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    // A dome; the scan is the same dome with a 10 × 10 px block knocked off.
    let dome = |x: u32, y: u32| {
        let r2 = ((x as f32 - 31.5).powi(2) + (y as f32 - 23.5).powi(2)) / 400.0;
        (1.0 - r2).max(0.0)
    };
    let recon = dir.path().join("recon.png");
    let scan = dir.path().join("scan.png");
    image::ImageBuffer::from_fn(64, 48, |x, y| image::Luma([(dome(x, y) * 60000.0) as u16]))
        .save(&recon)
        .unwrap();
    image::ImageBuffer::from_fn(64, 48, |x, y| {
        let knocked = (26..36).contains(&x) && (18..28).contains(&y);
        image::Luma([((dome(x, y) - if knocked { 0.3 } else { 0.0 }).max(0.0) * 30000.0 + 5000.0) as u16])
    })
    .save(&scan)
    .unwrap();
    let out = dir.path().join("diff.png");
    let (ok, stdout, stderr) = relievo(&[
        "compare",
        &s(&recon),
        &s(&scan),
        "-o",
        &s(&out),
        "--width-mm",
        "63",
        "--relief-mm",
        "10",
        "--json",
    ]);
    assert!(ok, "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        summary,
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(dir.path().join("diff.json")).unwrap()).unwrap()
    );
    // 100 px of 1 mm² lowered by 3 mm (0.3 of the 10 mm relief).
    let lost = summary["difference"]["volume_lost_mm3"].as_f64().unwrap();
    assert!((lost - 300.0).abs() < 30.0, "{summary}");
    let diff = image::open(&out).unwrap().to_luma16();
    assert!(diff.get_pixel(30, 22)[0] < 8000 && diff.get_pixel(5, 5)[0].abs_diff(32768) < 400);

    let missing = dir.path().join("none.png");
    let out2 = dir.path().join("diff2.png");
    assert_fails_cleanly(
        &["compare", &s(&recon), &s(&missing), "-o", &s(&out2)],
        &out2,
        "not found",
    );
}

#[test]
fn compare_places_a_scan_by_point_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    // Two bumps and a ridge (no symmetry); the scan is the panel turned 20° (beyond the
    // search's ±12°), in other height units.
    let panel = |x: f32, y: f32| {
        let bump = |cx: f32, cy: f32, r: f32| (-((x - cx).powi(2) + (y - cy).powi(2)) / (r * r)).exp();
        0.6 * bump(30.0, 28.0, 10.0)
            + 0.4 * bump(66.0, 40.0, 14.0)
            + 0.2 * (-((y - 0.3 * x - 10.0) / 3.0).powi(2)).exp()
    };
    let (w, h) = (96u32, 64u32);
    let c = [(w - 1) as f32 / 2.0, (h - 1) as f32 / 2.0];
    let (sin, cos) = 20f32.to_radians().sin_cos();
    let on_scan = |[x, y]: [f32; 2]| {
        let (x, y) = (x - c[0], y - c[1]);
        [c[0] + cos * x + sin * y, c[1] - sin * x + cos * y]
    };
    let recon = dir.path().join("recon.png");
    image::ImageBuffer::from_fn(w, h, |x, y| image::Luma([(panel(x as f32, y as f32) * 60000.0) as u16]))
        .save(&recon)
        .unwrap();
    let scan = dir.path().join("scan.png");
    image::ImageBuffer::from_fn(w, h, |qx, qy| {
        let (dx, dy) = (qx as f32 - c[0], qy as f32 - c[1]);
        let (x, y) = (cos * dx - sin * dy + c[0], sin * dx + cos * dy + c[1]);
        image::Luma([(panel(x, y) * 30000.0 + 2000.0) as u16])
    })
    .save(&scan)
    .unwrap();
    let points: Vec<String> = [[30.0, 28.0], [66.0, 40.0], [45.0, 50.0]]
        .iter()
        .map(|&p| {
            let q = on_scan(p);
            format!("{},{}:{:.3},{:.3}", p[0], p[1], q[0], q[1])
        })
        .collect();
    let points = points.join(";");
    let out = dir.path().join("diff.png");
    let (ok, stdout, stderr) = relievo(&[
        "compare",
        &s(&recon),
        &s(&scan),
        "-o",
        &s(&out),
        "--points",
        &points,
        "--no-refine",
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("points   3 pairs: residual 0.00 px"), "{stdout}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("diff.json")).unwrap()).unwrap();
    let a = &summary["alignment"];
    assert!((a["rotation_deg"].as_f64().unwrap() - 20.0).abs() < 0.2, "{a}");
    assert_eq!(a["points"]["pairs"], 3, "{a}");
    assert!(a["points"]["residual_px"].as_f64().unwrap() < 0.5, "{a}");

    // Two pairs, a malformed pair: one line each, no output.
    let out2 = dir.path().join("never.png");
    let two = points.split(';').take(2).collect::<Vec<_>>().join(";");
    let args = |p: &str| {
        vec![
            "compare".to_string(),
            s(&recon),
            s(&scan),
            "-o".into(),
            s(&out2),
            "--points".into(),
            p.to_string(),
        ]
    };
    let a = args(&two);
    assert_fails_cleanly(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        &out2,
        "at least 3 point pairs (2 given)",
    );
    let a = args("1,2:3,4;5,6;7,8:9,10");
    assert_fails_cleanly(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        &out2,
        "--points: pair 2 (\"5,6\") is not x,y:u,v",
    );
}

#[test]
fn compare_reads_mesh_scans() {
    let dir = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let recon = dir.path().join("recon.png");
    image::ImageBuffer::from_fn(96, 64, |x, y| {
        let (x, y) = (x as f32, y as f32);
        let bump = |cx: f32, cy: f32, r: f32| (-((x - cx).powi(2) + (y - cy).powi(2)) / (r * r)).exp();
        image::Luma([((0.6 * bump(30.0, 28.0, 10.0) + 0.4 * bump(66.0, 40.0, 14.0)) * 60000.0) as u16])
    })
    .save(&recon)
    .unwrap();
    // The reconstruction's own solid as OBJ and PLY compares as unchanged.
    for ext in ["obj", "ply"] {
        let mesh = dir.path().join(format!("panel.{ext}"));
        let (ok, _, stderr) = relievo(&["mesh", &s(&recon), "-o", &s(&mesh), "--max-error-mm", "0"]);
        assert!(ok, "{stderr}");
        let out = dir.path().join(format!("diff_{ext}.png"));
        let (ok, stdout, stderr) = relievo(&["compare", &s(&recon), &s(&mesh), "-o", &s(&out), "--json"]);
        assert!(ok, "{stderr}");
        let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert!(
            summary["difference"]["volume_lost_mm3"].as_f64().unwrap() < 1.0,
            "{summary}"
        );
        assert!(
            summary["alignment"]["rotation_deg"].as_f64().unwrap().abs() < 0.2,
            "{summary}"
        );
    }
    // A broken mesh: one line naming it, no output.
    let broken = dir.path().join("broken.ply");
    std::fs::write(
        &broken,
        b"ply\nformat binary_little_endian 1.0\nelement vertex 9\nproperty float x\nend_header\n\x01",
    )
    .unwrap();
    let out = dir.path().join("never.png");
    assert_fails_cleanly(
        &["compare", &s(&recon), &s(&broken), "-o", &s(&out)],
        &out,
        "broken.ply is not a readable PLY mesh",
    );
}

#[test]
fn reconstruct_picks_the_mesh_format_from_the_extension() {
    let dir = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let photo = dir.path().join("coin.png");
    image::ImageBuffer::from_fn(48, 40, |x, y| image::Rgb([(x * 5) as u8, (y * 6) as u8, 90u8]))
        .save(&photo)
        .unwrap();
    let obj = dir.path().join("coin.obj");
    let (ok, stdout, stderr) = relievo(&["reconstruct", &s(&photo), "-o", &s(&obj), "--device", "cpu"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("coin.obj"), "{stdout}");
    let text = std::fs::read_to_string(&obj).unwrap();
    assert!(text.contains("mtllib coin.mtl") && text.contains("\nvt ") && text.contains("/"));
    let mtl = std::fs::read_to_string(dir.path().join("coin.mtl")).unwrap();
    assert!(mtl.contains("map_Kd coin_texture.png"), "{mtl}");
    let texture = image::open(dir.path().join("coin_texture.png")).unwrap();
    assert_eq!((texture.width(), texture.height()), (48, 40));
    let sidecar: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("coin.relievo.json")).unwrap()).unwrap();
    assert!(
        sidecar["weights"].as_str().is_some_and(|w| w.ends_with("default")),
        "{sidecar}"
    );

    let txt = dir.path().join("coin.txt");
    assert_fails_cleanly(
        &["reconstruct", &s(&photo), "-o", &s(&txt), "--device", "cpu"],
        &txt,
        "unknown mesh format (use .stl, .obj or .ply)",
    );
}

#[test]
fn layers_of_a_folder_skip_bad_files_and_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (photos, out) = (dir.path().join("photos"), dir.path().join("layers"));
    std::fs::create_dir(&photos).unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    for (name, w) in [("a.png", 40), ("a.jpg", 36), ("b.png", 32)] {
        image::ImageBuffer::from_fn(w, 28, |x, y| image::Rgb([(x * 5) as u8, (y * 7) as u8, 80u8]))
            .save(photos.join(name))
            .unwrap();
    }
    std::fs::write(photos.join("broken.png"), b"not a picture").unwrap();
    std::fs::write(photos.join("notes.txt"), b"field notes").unwrap();

    let (ok, stdout, stderr) = relievo(&["layers", &s(&photos), "--out-dir", &s(&out), "--device", "cpu"]);
    assert!(!ok, "a skipped photo makes the exit status non-zero");
    let skipped: Vec<&str> = stderr.lines().filter(|l| l.starts_with("skipped")).collect();
    assert!(skipped.len() == 1 && skipped[0].contains("broken.png"), "{stderr}");
    assert!(stderr.contains("1 of 4 photos could not be read"), "{stderr}");
    assert!(
        stdout.contains("1 other files ignored") && stdout.contains("3 of 4 photos"),
        "{stdout}"
    );
    // Two photos with one stem keep apart; every layer has its photo's size.
    for (name, w) in [("a_png", 40), ("a_jpg", 36), ("b", 32)] {
        let depth = image::open(out.join(name).join("depth.png")).unwrap();
        assert_eq!((depth.width(), depth.height()), (w, 28), "{name}");
        assert!(out.join(name).join("semantics.png").is_file());
    }
    assert!(!out.join("broken").exists() && !out.join("notes").exists());

    std::fs::remove_file(photos.join("broken.png")).unwrap();
    let (ok, _, stderr) = relievo(&["layers", &s(&photos), "--out-dir", &s(&out), "--device", "cpu"]);
    assert!(ok, "{stderr}");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_fails_cleanly(
        &[
            "layers",
            &s(&empty),
            "--out-dir",
            &s(&dir.path().join("none")),
            "--device",
            "cpu",
        ],
        &dir.path().join("none"),
        "no photos in this folder",
    );
}

#[test]
fn eval_json_is_pure_json_with_the_benchmark_scores() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("set");
    let (ok, _, err) = relievo(&[
        "synth",
        "--out",
        data.to_str().unwrap(),
        "--count",
        "2",
        "--size",
        "64",
        "--seed",
        "3",
    ]);
    assert!(ok, "{err}");
    let (ok, stdout, err) = relievo(&["eval", "--data", data.to_str().unwrap(), "--json", "--device", "cpu"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is one JSON document");
    assert_eq!(v["images"], 2);
    let rmse = v["bench"]["rmse_pct"].as_f64().unwrap();
    assert!(rmse.is_finite() && (0.0..=100.0).contains(&rmse), "{rmse}");
}

#[test]
fn bench_train_reports_throughput_as_json_and_refuses_a_bad_crop() {
    let (ok, stdout, err) = relievo(&[
        "model-info",
        "--device",
        "cpu",
        "--bench-train",
        "--layers",
        "--crop",
        "32",
        "--batch",
        "1",
        "--steps",
        "1",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is one JSON document");
    for key in ["train_samples_per_s", "train_gflops_per_s", "gflops_per_image_512"] {
        let x = v[key].as_f64().unwrap_or(f64::NAN);
        assert!(x.is_finite() && x > 0.0, "{key}: {x}");
    }
    let layers = v["bench_train"]["layers"].as_array().unwrap();
    assert!(
        layers.iter().any(|l| l["name"] == "stem.a"),
        "per-layer times name the layers"
    );

    let (ok, _, err) = relievo(&["model-info", "--device", "cpu", "--bench-train", "--crop", "40"]);
    assert!(
        !ok && err.trim().lines().count() == 1 && err.contains("multiple of"),
        "{err}"
    );
}

/// An installed binary (`PREFIX/bin/relievo`) finds the weights installed beside it in
/// `PREFIX/share/relievo/models/default`, before the source tree it was built from.
#[test]
fn installed_binary_finds_the_weights_beside_it() {
    let prefix = tempfile::tempdir().unwrap();
    let bin = prefix.path().join("bin/relievo");
    let models = prefix.path().join("share/relievo/models/default");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::create_dir_all(&models).unwrap();
    let built = env!("CARGO_BIN_EXE_relievo");
    // A hard link is an install as far as the binary can tell, and spares a 150 MB copy.
    std::fs::hard_link(built, &bin)
        .or_else(|_| std::fs::copy(built, &bin).map(drop))
        .unwrap();
    let shipped = relievo::net::weights::default_dir();
    for file in ["model.bpk", "config.json"] {
        std::fs::copy(shipped.join(file), models.join(file)).unwrap();
    }
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(shipped.join("meta.json")).unwrap()).unwrap();
    meta["working_side_px"] = 123.into();
    std::fs::write(models.join("meta.json"), meta.to_string()).unwrap();

    let out = Command::new(&bin)
        .args(["model-info", "--device", "cpu"])
        .env_remove("RELIEVO_MODELS")
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("working side   123 px"), "{stdout}");
}

#[test]
fn help_lists_every_command() {
    let (ok, stdout, _) = relievo(&["--help"]);
    assert!(ok);
    for cmd in [
        "mesh",
        "repair",
        "layers",
        "reconstruct",
        "train",
        "eval",
        "model-info",
        "interpolate",
        "synth",
    ] {
        let listed = stdout.lines().any(|l| l.trim_start().starts_with(&format!("{cmd} ")));
        assert!(listed, "--help misses {cmd}:\n{stdout}");
    }
}

#[test]
fn interpolate_writes_weights_that_load_and_refuses_a_bad_alpha() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = relievo::net::weights::default_dir();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let out = dir.path().join("blend");
    let (ok, stdout, stderr) = relievo(&[
        "interpolate",
        &s(&shipped),
        &s(&shipped),
        "--alpha",
        "0.3",
        "-o",
        &s(&out),
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("blended"), "{stdout}");
    let (ok, info, stderr) = relievo(&["model-info", "--weights", &s(&out), "--device", "cpu"]);
    assert!(ok, "{stderr}");
    assert!(
        info.contains("interpolated: 0.3"),
        "provenance misses the blend:\n{info}"
    );
    let refused = dir.path().join("refused");
    assert_fails_cleanly(
        &[
            "interpolate",
            &s(&shipped),
            &s(&shipped),
            "--alpha",
            "2",
            "-o",
            &s(&refused),
        ],
        &refused,
        "alpha",
    );
}

fn assert_fails_cleanly(args: &[&str], out: &Path, expect: &str) {
    let (ok, _, stderr) = relievo(args);
    assert!(!ok, "{args:?} succeeded");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.contains("XDG_RUNTIME_DIR")).collect();
    assert_eq!(lines.len(), 1, "one line expected: {stderr}");
    assert!(lines[0].starts_with("error: ") && lines[0].contains(expect), "{stderr}");
    assert!(!out.exists(), "no output file after a failure");
    let temp_files = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".relievo-"))
        .count();
    assert_eq!(temp_files, 0, "temp files left behind");
}

#[test]
fn bad_input_fails_with_one_line_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let out = d.join("out.stl");
    let good = depth_png(d, "good.png", 8, 8);
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(d.join("truncated.png"), &bytes[..bytes.len() / 2]).unwrap();
    std::fs::write(d.join("empty.png"), b"").unwrap();
    std::fs::write(d.join("notes.png"), b"just some text, not a picture").unwrap();
    depth_png(d, "dot.png", 1, 1);
    std::fs::create_dir(d.join("folder.png")).unwrap();
    // A PNG whose header declares 100000 × 100000 pixels (16-bit grey), with a token of data.
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[16, 0, 0, 0, 0]);
    let mut huge = bytes[..8].to_vec();
    huge.extend(png_chunk(b"IHDR", &ihdr));
    huge.extend(png_chunk(b"IDAT", &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
    huge.extend(png_chunk(b"IEND", &[]));
    std::fs::write(d.join("huge.png"), &huge).unwrap();

    for (file, expect) in [
        ("truncated.png", "truncated.png"),
        ("empty.png", "empty.png"),
        ("notes.png", "not an image"),
        ("dot.png", "1×1"),
        ("folder.png", "folder.png"),
        ("missing.png", "missing.png"),
        ("huge.png", "100000×100000"),
    ] {
        assert_fails_cleanly(&["mesh", &s(&d.join(file)), "-o", &s(&out)], &out, expect);
    }
    let nowhere = d.join("no/such/dir/out.stl");
    assert_fails_cleanly(
        &["mesh", &s(&good), "-o", &s(&nowhere)],
        &d.join("out.stl"),
        "does not exist",
    );
    assert_fails_cleanly(&["mesh", &s(&good), "-o", &s(&out), "--width-mm=-3"], &out, "width_mm");
    let missing_weights = d.join("no-weights");
    assert_fails_cleanly(
        &[
            "layers",
            &s(&good),
            "--out-dir",
            &s(&d.join("layers")),
            "--weights",
            &s(&missing_weights),
            "--device",
            "cpu",
        ],
        &d.join("layers"),
        "weights not found",
    );
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(&body);
    chunk.extend_from_slice(&crc32(&body).to_be_bytes());
    chunk
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Kill -9 at random moments of an STL export over an existing one: the file under the
/// final name is always a complete STL (the old one or the new one), never a partial
/// one. Temporary files a killed process leaves are never taken for results.
#[test]
fn an_export_killed_at_any_moment_leaves_a_complete_file() {
    let dir = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let depth = depth_png(dir.path(), "big.png", 500, 400);
    let out = dir.path().join("out.stl");
    let args = |i: usize| {
        let relief = if i % 2 == 0 { "3" } else { "2" };
        [
            "mesh",
            &s(&depth),
            "-o",
            &s(&out),
            "--max-error-mm",
            "0",
            "--relief-mm",
            relief,
        ]
        .map(String::from)
    };
    let complete = |path: &Path| {
        let bytes = std::fs::read(path).unwrap();
        let count = u32::from_le_bytes(bytes[80..84].try_into().unwrap()) as usize;
        bytes.len() == 84 + 50 * count && count > 0
    };
    kill_at_random_moments(&args, &out, &complete);
}

#[test]
fn a_16_bit_png_killed_at_any_moment_is_whole_or_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let depth = depth_png(dir.path(), "big.png", 1500, 1200);
    let mask = dir.path().join("mask.png");
    image::ImageBuffer::from_fn(1500, 1200, |x, y| {
        image::Luma([if (600..700).contains(&x) && (500..600).contains(&y) {
            255u8
        } else {
            0
        }])
    })
    .save(&mask)
    .unwrap();
    let out = dir.path().join("repaired.png");
    let args = |_: usize| ["repair", &s(&depth), "--mask", &s(&mask), "-o", &s(&out)].map(String::from);
    let complete = |path: &Path| {
        image::open(path).is_ok_and(|i| (i.width(), i.height()) == (1500, 1200) && i.as_luma16().is_some())
    };
    kill_at_random_moments(&args, &out, &complete);
}

/// Runs `relievo ARGS(i)` to the end once, then 50 times killed at a random moment
/// ([`common::kill_at_random_moments`]): after each, `out` must still be `complete`.
fn kill_at_random_moments<const N: usize>(
    args: &dyn Fn(usize) -> [String; N],
    out: &Path,
    complete: &dyn Fn(&Path) -> bool,
) {
    let run = |i: usize| {
        Command::new(env!("CARGO_BIN_EXE_relievo"))
            .args(args(i))
            .env("XDG_RUNTIME_DIR", std::env::temp_dir())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let what = out.display().to_string();
    common::kill_at_random_moments(&what, &run, &|| {
        assert!(complete(out), "{what}: partial file after a kill")
    });
    eprintln!(
        "{what}: {} killed writes left a temp file",
        common::temp_files_left(out.parent().unwrap())
    );
}

/// A full disk (a 256 KiB tmpfs the test mounts) and a read-only folder (as a non-root
/// user; root ignores permissions): one line naming the OS reason, the previous file
/// intact, no temp file left. Skipped, saying so, where the test may not mount or
/// switch user (not root).
#[cfg(unix)]
#[test]
fn a_full_disk_and_a_read_only_folder_give_one_line_and_keep_the_old_file() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let depth = depth_png(dir.path(), "big.png", 400, 300);
    std::fs::set_permissions(&depth, std::fs::Permissions::from_mode(0o644)).unwrap();
    let disk = dir.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs", &s(&disk)])
        .status()
        .is_ok_and(|st| st.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here (not root?)");
        return;
    }
    let old = disk.join("out.stl");
    std::fs::write(&old, b"the previous export").unwrap();
    let (ok, _, stderr) = relievo(&["mesh", &s(&depth), "-o", &s(&old), "--max-error-mm", "0"]);
    let leftovers = std::fs::read_dir(&disk).unwrap().count();
    let kept = std::fs::read(&old).unwrap();
    Command::new("umount").arg(&disk).status().unwrap();
    assert!(!ok);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.contains("XDG_RUNTIME_DIR")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("No space left on device"), "{stderr}");
    assert_eq!(kept, b"the previous export");
    assert_eq!(leftovers, 1, "a temp file was left on the full disk");

    // Read-only folder, as `nobody`, with a copy of the binary that user may run.
    let bin = dir.path().join("relievo");
    std::fs::copy(env!("CARGO_BIN_EXE_relievo"), &bin).unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    let old = locked.join("out.stl");
    std::fs::write(&old, b"the previous export").unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    let run_as_nobody = || {
        Command::new(&bin)
            .args(["mesh", &s(&depth), "-o", &s(&old)])
            .env("XDG_RUNTIME_DIR", std::env::temp_dir())
            .uid(65534)
            .gid(65534)
            .output()
    };
    // A child forked by another test thread while the copy was open for writing keeps
    // the copy busy ("text file busy") until that child execs: try again shortly.
    let mut out = run_as_nobody();
    for _ in 0..50 {
        match &out {
            Err(e) if e.raw_os_error() == Some(26) => {
                std::thread::sleep(std::time::Duration::from_millis(20));
                out = run_as_nobody();
            }
            _ => break,
        }
    }
    let out = out.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.contains("XDG_RUNTIME_DIR")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("ermission denied"), "{stderr}");
    assert_eq!(std::fs::read(&old).unwrap(), b"the previous export");
    assert_eq!(std::fs::read_dir(&locked).unwrap().count(), 1);
}

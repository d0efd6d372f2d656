//! Mutation fuzzing of every parser that reads outside data: photos (PNG 8/16-bit,
//! RGBA, JPEG, TIFF 8/16-bit, BMP, WebP), depth maps, weights folders (`config.json`,
//! `meta.json`, `model.bpk`), dataset folders (headers, then a pair loaded), project
//! files, scan meshes (STL, OBJ, PLY ASCII and binary) and the app's persisted settings
//! (RON, read through eframe's storage).
//!
//! Seeds are small valid files made here; each input is a seed with 1–4 mutations
//! (bit flips, interesting bytes and 32-bit values, insertions, deletions, duplicated
//! chunks, truncation; in JSON also numbers replaced by NaN, 1e309, −1, 0, huge
//! values, strings, null, arrays and objects). Every input must return (`Ok` or a
//! typed error) without panicking and within 5 s. `RELIEVO_FUZZ_ITERS` sets the
//! inputs per parser (default 300 here; `benches/fuzz.sh` runs 10,000 under a memory
//! measurement). A failing input is written to `$CARGO_TARGET_TMPDIR/fuzz-failures/`.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Once;
use std::time::{Duration, Instant};

use burn::tensor::Device;
use image::{DynamicImage, ImageBuffer, ImageFormat, Luma, Rgb, Rgba};
use relievo::net::{InitNet, MultiTaskConfig, weights};
use relievo::photo::{self, LoadOptions};
use relievo::rng::Rng;
use relievo::scan::{self, MeshKind};
use relievo::train::data;

const TIME_LIMIT: Duration = Duration::from_secs(5);

fn iterations() -> usize {
    std::env::var("RELIEVO_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

fn below(rng: &mut Rng, n: usize) -> usize {
    (rng.next_u64() % n.max(1) as u64) as usize
}

/// One to four random edits of `seed`.
fn mutate(seed: &[u8], rng: &mut Rng, json: bool) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + below(rng, 4) {
        let at = below(rng, b.len() + 1);
        match below(rng, if json { 9 } else { 8 }) {
            0 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] ^= 1 << below(rng, 8);
            }
            1 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] = [0x00, 0xff, 0x7f, 0x80, 0x01][below(rng, 5)];
            }
            2 if b.len() >= 4 => {
                let i = at.min(b.len() - 4);
                let v: u32 = [u32::MAX, 0x7fff_ffff, 0x0001_0000, 0xffff, 0, 0x4000_0000][below(rng, 6)];
                let bytes = if rng.f32() < 0.5 {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                };
                b[i..i + 4].copy_from_slice(&bytes);
            }
            3 => {
                let n = 1 + below(rng, 16);
                let insert: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                b.splice(at..at, insert);
            }
            4 if !b.is_empty() => {
                let end = (at + 1 + below(rng, 16)).min(b.len());
                b.drain(at.min(end)..end);
            }
            5 if !b.is_empty() => {
                let start = below(rng, b.len());
                let end = (start + 1 + below(rng, 64)).min(b.len());
                let chunk = b[start..end].to_vec();
                let to = below(rng, b.len() + 1);
                b.splice(to..to, chunk);
            }
            6 => b.truncate(at),
            7 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] = b[i].wrapping_add(1 + below(rng, 3) as u8);
            }
            8 => b = replace_json_value(&b, rng),
            _ => {}
        }
    }
    b
}

/// Replaces one number (or `true`/`false`) in JSON text with a hostile value.
fn replace_json_value(b: &[u8], rng: &mut Rng) -> Vec<u8> {
    let text = String::from_utf8_lossy(b).into_owned();
    let starts: Vec<usize> = text
        .char_indices()
        .filter(|&(i, c)| {
            (c.is_ascii_digit() || c == '-' || c == 't' || c == 'f')
                && text[..i]
                    .chars()
                    .last()
                    .is_some_and(|p| p == ' ' || p == '[' || p == ':')
        })
        .map(|(i, _)| i)
        .collect();
    if starts.is_empty() {
        return b.to_vec();
    }
    let start = starts[below(rng, starts.len())];
    let end = text[start..]
        .find([',', ']', '}', '\n'])
        .map_or(text.len(), |n| start + n);
    let hostile = [
        "NaN",
        "1e309",
        "-1",
        "0",
        "99999999999999999999",
        "4294967297",
        "\"x\"",
        "null",
        "[]",
        "{}",
        "true",
        "-0.0",
        "1.5",
    ];
    format!(
        "{}{}{}",
        &text[..start],
        hostile[below(rng, hostile.len())],
        &text[end..]
    )
    .into_bytes()
}

/// Runs `target` on `iterations()` mutated inputs; panics (with the count, the first
/// message and where the input was saved) if any input panicked or took too long.
fn fuzz(name: &str, seeds: &[(Vec<u8>, bool)], target: impl FnMut(&[u8]) -> bool) {
    fuzz_with(name, seeds, 0.05, target);
}

/// [`fuzz`], requiring that at least `min_valid` of the inputs still parse.
fn fuzz_with(name: &str, seeds: &[(Vec<u8>, bool)], min_valid: f64, mut target: impl FnMut(&[u8]) -> bool) {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let mut rng = Rng::new(0xf022 ^ name.len() as u64);
    let (mut panics, mut slowest, mut accepted) = (Vec::new(), Duration::ZERO, 0usize);
    let n = iterations();
    for i in 0..n {
        let (seed, json) = &seeds[i % seeds.len()];
        let input = mutate(seed, &mut rng, *json);
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| target(&input)));
        let took = started.elapsed();
        slowest = slowest.max(took);
        let failed = match result {
            Err(e) => Some(
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default(),
            ),
            Ok(_) if took > TIME_LIMIT => Some(format!("took {took:?}")),
            Ok(ok) => {
                accepted += usize::from(ok);
                None
            }
        };
        if let Some(message) = failed {
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join(format!("{name}-{i}.bin"));
            std::fs::write(&file, &input).unwrap();
            panics.push(format!("{message} ({})", file.display()));
        }
    }
    eprintln!(
        "fuzz {name}: {n} inputs ({accepted} still valid), slowest {slowest:.2?}, {} failures",
        panics.len()
    );
    assert!(
        panics.is_empty(),
        "{name}: {} of {n} inputs failed, first: {}",
        panics.len(),
        panics[0]
    );
    // Mutations must not all be rejected at the first check, or the decoders' depths go
    // untested.
    assert!(
        accepted as f64 >= min_valid * n as f64,
        "{name}: only {accepted} of {n} mutated inputs parsed"
    );
}

fn encode(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn image_seeds() -> Vec<(Vec<u8>, bool)> {
    let rgb = DynamicImage::ImageRgb8(ImageBuffer::from_fn(16, 12, |x, y| {
        Rgb([(x * 15) as u8, (y * 20) as u8, 128])
    }));
    let grey16 = DynamicImage::ImageLuma16(ImageBuffer::from_fn(16, 12, |x, y| Luma([(x * 4000 + y * 300) as u16])));
    let rgba = DynamicImage::ImageRgba8(ImageBuffer::from_fn(16, 12, |x, y| {
        Rgba([x as u8 * 9, 40, y as u8 * 9, 200])
    }));
    [
        encode(rgb.clone(), ImageFormat::Png),
        encode(grey16.clone(), ImageFormat::Png),
        encode(rgba, ImageFormat::Png),
        encode(rgb.clone(), ImageFormat::Jpeg),
        encode(rgb.clone(), ImageFormat::Tiff),
        encode(grey16, ImageFormat::Tiff),
        encode(rgb.clone(), ImageFormat::Bmp),
        encode(rgb, ImageFormat::WebP),
    ]
    .into_iter()
    .map(|b| (b, false))
    .collect()
}

#[test]
fn photos_never_panic_or_hang() {
    let opts = LoadOptions::default();
    fuzz("photo", &image_seeds(), |b| {
        photo::decode_photo(b, "fuzz", &opts).is_ok()
    });
}

#[test]
fn depth_maps_never_panic_or_hang() {
    let opts = LoadOptions::default();
    fuzz("depth", &image_seeds(), |b| {
        photo::decode_depth(b, "fuzz", &opts).is_ok()
    });
}

/// eframe's storage holding one string, as the app's settings file would.
struct OneValue(String);

impl eframe::Storage for OneValue {
    fn get_string(&self, _key: &str) -> Option<String> {
        Some(self.0.clone())
    }
    fn set_string(&mut self, _key: &str, value: String) {
        self.0 = value;
    }
    fn remove_string(&mut self, _key: &str) {}
    fn flush(&mut self) {}
}

#[test]
fn app_settings_never_panic_or_hang() {
    let mut storage = OneValue(String::new());
    eframe::set_value(&mut storage, eframe::APP_KEY, &relievo::app::Settings::default());
    let seed = storage.0.into_bytes();
    fuzz("settings", &[(seed.clone(), false), (seed, true)], |b| {
        let storage = OneValue(String::from_utf8_lossy(b).into_owned());
        eframe::get_value::<relievo::app::Settings>(&storage, eframe::APP_KEY).is_some()
    });
}

/// A pyramid (4 vertices, 3 faces, one a quad in OBJ and PLY) in each mesh format a
/// scan may come in.
fn mesh_seeds() -> Vec<(Vec<u8>, MeshKind)> {
    let v = [
        [0.0f32, 0.0, 0.0],
        [10.0, 0.0, 0.0],
        [10.0, 8.0, 0.0],
        [0.0, 8.0, 0.0],
        [5.0, 4.0, 3.0],
    ];
    let faces = [[0usize, 1, 4], [1, 2, 4], [2, 3, 4], [3, 0, 4]];
    let mut stl = Vec::new();
    let triangles: Vec<stl_io::Triangle> = faces
        .iter()
        .map(|f| stl_io::Triangle {
            normal: stl_io::Normal::new([0.0, 0.0, 1.0]),
            vertices: f.map(|i| stl_io::Vertex::new(v[i])),
        })
        .collect();
    stl_io::write_stl(&mut Cursor::new(&mut stl), triangles.iter()).unwrap();
    let mut obj = String::from("# pyramid\n");
    let mut ply_body = String::new();
    for p in v {
        obj += &format!("v {} {} {}\n", p[0], p[1], p[2]);
        ply_body += &format!("{} {} {}\n", p[0], p[1], p[2]);
    }
    obj += "vt 0 0\nf 1/1 2/1 5/1\nf 2 3 5\nf 3 4 5\nf 4 1 5\nf 1 4 3 2\n";
    let header = |format: &str| {
        format!(
            "ply\nformat {format} 1.0\ncomment scan\nelement vertex 5\nproperty float x\nproperty float y\nproperty float z\nproperty uchar red\nelement face 4\nproperty list uchar int vertex_indices\nend_header\n"
        )
    };
    let mut ascii = header("ascii");
    for p in v {
        ascii += &format!("{} {} {} 200\n", p[0], p[1], p[2]);
    }
    for f in faces {
        ascii += &format!("3 {} {} {}\n", f[0], f[1], f[2]);
    }
    let mut binary = header("binary_little_endian").into_bytes();
    for p in v {
        p.iter().for_each(|c| binary.extend(c.to_le_bytes()));
        binary.push(200);
    }
    for f in faces {
        binary.push(3);
        f.iter().for_each(|&i| binary.extend((i as i32).to_le_bytes()));
    }
    vec![
        (stl, MeshKind::Stl),
        (obj.into_bytes(), MeshKind::Obj),
        (ascii.into_bytes(), MeshKind::Ply),
        (binary, MeshKind::Ply),
    ]
}

#[test]
fn scan_meshes_never_panic_or_hang() {
    // These PLY seeds are mostly header, where any changed keyword is fatal: 1.6 % (ASCII)
    // and 4 % (binary) of their mutations still parse, against 9 % and more for the others.
    let names = [
        ("scan stl", 0.05),
        ("scan obj", 0.05),
        ("scan ply ascii", 0.01),
        ("scan ply binary", 0.02),
    ];
    for ((seed, kind), (name, min_valid)) in mesh_seeds().into_iter().zip(names) {
        fuzz_with(name, &[(seed, false)], min_valid, |b| {
            scan::decode_mesh(std::io::Cursor::new(b), kind, Path::new("fuzz.mesh"))
                .map(|mesh| scan::project_mesh(&mesh.vertices, &mesh.triangles, 64))
                .is_ok()
        });
    }
}

#[test]
fn project_files_never_panic_or_hang() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.relievo");
    let (w, h) = (24, 16);
    let project = relievo::project::Project {
        source: "panel.png".into(),
        photo: None,
        weights: None,
        relief: relievo::relief::ReliefParams::default(),
        app: serde_json::json!({"view": {"light_azimuth_deg": 135.0}}),
        depth: relievo::grid::Grid::from_fn(w, h, |x, y| (x * y) as f32),
        edges: Some(relievo::grid::Grid::filled(w, h, 2)),
        semantics: Some(relievo::grid::Grid::filled(w, h, 1)),
        edits: Some(relievo::project::EditGrids {
            offset_mm: relievo::grid::Grid::filled(w, h, 0.5),
            damage: relievo::grid::Grid::filled(w, h, 0.0),
            restored: relievo::grid::Grid::filled(w, h, 1.0),
        }),
    };
    relievo::project::save(&project, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    fuzz("project", &[(bytes.clone(), false), (bytes, true)], |b| {
        relievo::project::decode(b, std::path::Path::new("fuzz.relievo")).is_ok()
    });
}

#[test]
fn checkpoint_states_never_panic_or_hang() {
    // A real checkpoint of a two-step run; its state.json is the seed.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut cfg = relievo::train::TrainConfig {
        synthetic: true,
        synthetic_size_px: 48,
        crop_px: 32,
        batch: 1,
        epochs: 1,
        steps_per_epoch: 2,
        val_count: 1,
        checkpoint_every: 1,
        out: out.clone(),
        ..Default::default()
    };
    cfg.model = MultiTaskConfig::new()
        .with_encoder_channels([4, 4, 8, 8, 8])
        .with_edge_channels([2, 2, 4, 4]);
    let control = relievo::train::TrainControl::default();
    relievo::train::run(cfg, false, &Device::flex(), &control, |_| {}).unwrap();
    let state = out.join("checkpoint").join("state.json");
    let seed = std::fs::read(&state).unwrap();
    assert!(relievo::train::checkpoint_config(&out).is_ok());
    // Nearly every byte of this file is structure (keys, nesting), so most mutations break
    // the JSON; 1 % still reach the settings checks (100 of the long run's 10,000).
    fuzz_with("checkpoint state", &[(seed.clone(), true)], 0.01, |b| {
        std::fs::write(&state, b).unwrap();
        relievo::train::checkpoint_config(&out).is_ok()
    });
    // Values that parse but would ask for terabytes are refused before a run starts.
    for (key, value, expect) in [
        ("crop_px", 1_048_576u64, "crop size"),
        ("batch", 1_000_000, "batch"),
        ("synthetic_size_px", 1 << 40, "synthetic panels"),
        ("epochs", 1 << 62, "steps"),
    ] {
        let mut v: serde_json::Value = serde_json::from_slice(&seed).unwrap();
        v["config"][key] = value.into();
        std::fs::write(&state, serde_json::to_vec(&v).unwrap()).unwrap();
        let e = relievo::train::checkpoint_config(&out).unwrap_err().to_string();
        assert!(e.contains(expect), "{key}: {e}");
    }
}

#[test]
fn weights_folders_never_panic_or_hang() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    let device = Device::flex();
    let config = MultiTaskConfig::new()
        .with_encoder_channels([4, 4, 8, 8, 8])
        .with_edge_channels([2, 2, 4, 4]);
    let model = config.init(&device);
    weights::save(&good, &model, &config, &Default::default()).unwrap();
    let files = ["config.json", "meta.json", "model.bpk"];
    let originals: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(good.join(f)).unwrap()).collect();
    // The seed of each input is one file's bytes; the others stay valid.
    let seeds: Vec<(Vec<u8>, bool)> = originals.iter().enumerate().map(|(i, b)| (b.clone(), i < 2)).collect();
    let target = dir.path().join("fuzzed");
    std::fs::create_dir_all(&target).unwrap();
    let mut which = 0usize;
    fuzz("weights", &seeds, |b| {
        // `fuzz` cycles through the seeds in order, so input i mutates file i % 3.
        for (k, file) in files.iter().enumerate() {
            let bytes = if k == which { b } else { &originals[k][..] };
            std::fs::write(target.join(file), bytes).unwrap();
        }
        which = (which + 1) % files.len();
        weights::load(&target, &device).is_ok()
    });
}

#[test]
fn dataset_folders_never_panic_or_hang() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for sub in ["images", "depth"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    let seeds = image_seeds();
    fuzz("dataset", &seeds, |b| {
        // A mutated file as the photo of one pair and as the depth of another.
        std::fs::write(root.join("images/a.png"), b).unwrap();
        std::fs::write(root.join("depth/a.png"), &seeds[1].0).unwrap();
        std::fs::write(root.join("images/b.png"), &seeds[0].0).unwrap();
        std::fs::write(root.join("depth/b.png"), b).unwrap();
        let (folder, _report) = data::check_folder(root);
        (0..folder.pairs.len()).filter(|&i| folder.load(i).is_ok()).count() > 0
    });
}

/// The inputs fuzzing found (tests/regressions/): burn panicked on them; they must be
/// `Corrupt` errors. They are `model.bpk` files of the tiny network above.
#[test]
fn damaged_model_files_found_by_fuzzing_give_errors() {
    let regressions = Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo")).join("tests/regressions");
    let device = Device::flex();
    let config = MultiTaskConfig::new()
        .with_encoder_channels([4, 4, 8, 8, 8])
        .with_edge_channels([2, 2, 4, 4]);
    let dir = tempfile::tempdir().unwrap();
    weights::save(dir.path(), &config.init(&device), &config, &Default::default()).unwrap();
    assert!(weights::load(dir.path(), &device).is_ok());
    for name in [
        "model_bpk_tensor_type_altered_is_corrupt.bpk",
        "model_bpk_damaged_is_corrupt.bpk",
    ] {
        std::fs::copy(regressions.join(name), dir.path().join("model.bpk")).unwrap();
        match weights::load(dir.path(), &device) {
            Err(weights::WeightsError::Corrupt { .. }) => {}
            other => panic!("{name}: {:?}", other.map(|_| "loaded")),
        }
    }
}

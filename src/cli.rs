//! Command-line parsing and the subcommands. Each command parses, calls library
//! functions, and prints what happened; errors surface as one line from `main`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};

use relievo::export::{self, MeshFormat, StlFormat, Texture};
use relievo::net::device::{self, ComputeDevice, DeviceChoice};
use relievo::net::{self, ConvShapes as _, DepthTerm, EdgeMode, InferOptions, LossConfig, MultiTaskConfig, Weights};
use relievo::photo::{self, LoadOptions, load_depth, load_photo};
use relievo::relief::{self, ReliefParams};
use relievo::train::{self, TrainConfig, TrainControl, TrainEvent};
use relievo::{compare, layers, mesh, repair, scan, synth};

/// Rebuild carved reliefs from a single old photo: depth, soft edges, semantics,
/// and a watertight, printable STL. Without a command, opens the app.
#[derive(Parser, Debug)]
#[command(name = "relievo", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Photo to open in the app.
    photo: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Depth map (PNG/TIFF/…, 16-bit kept) → watertight STL (or OBJ / PLY by the
    /// extension of -o).
    Mesh {
        depth: PathBuf,
        #[arg(short, long)]
        out: PathBuf,
        #[command(flatten)]
        relief: ReliefArgs,
    },
    /// Fill damaged regions of a depth map from the relief around them (16-bit PNG out).
    Repair {
        depth: PathBuf,
        /// Image of the same size: white = damaged.
        #[arg(long)]
        mask: PathBuf,
        /// Height map whose shape fills the holes (e.g. the network's depth.png); the
        /// fill then only bridges its offset and tilt to the relief around them.
        #[arg(long)]
        guide: Option<PathBuf>,
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Align a present-day scan (a depth map — PNG/TIFF/…, 16-bit or float — or a mesh —
    /// STL, OBJ, PLY — seen from above) to a reconstruction
    /// (a depth map made a relief by the relief options) and write their signed
    /// difference in mm as a 16-bit PNG (32768 = unchanged) with a JSON summary beside it.
    Compare {
        /// Depth map of the reconstruction (PNG/TIFF/…, 16-bit kept).
        reconstruction: PathBuf,
        /// The panel today: a depth/height map (PNG/TIFF/…, 16-bit or float) or a mesh
        /// (.stl, .obj, .ply) seen from above, +z up.
        scan: PathBuf,
        #[arg(short, long)]
        out: PathBuf,
        /// Differences within ± this many mm count as unchanged (default: three times
        /// the alignment residual).
        #[arg(long)]
        tolerance_mm: Option<f32>,
        /// Print the summary as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Place the scan by hand instead of searching: at least 3 point pairs
        /// "x,y:u,v;…", each a reconstruction pixel (x, y) and the same point on the scan
        /// (u, v); pixels from the top-left, x right, y down. Then refined by the heights
        /// unless --no-refine.
        #[arg(long, value_name = "PAIRS")]
        points: Option<String>,
        /// With --points: use exactly the pairs' placement, without refining it by the heights.
        #[arg(long, requires = "points")]
        no_refine: bool,
        #[command(flatten)]
        relief: ReliefArgs,
    },
    /// Photo → depth.png, edges.png, semantics.png and colour previews. Given a folder,
    /// every photo in it goes into OUT_DIR/NAME/; files that cannot be read are
    /// skipped with one line each, and the exit status is non-zero at the end.
    Layers {
        /// A photo, or a folder of photos.
        photo: PathBuf,
        #[arg(long)]
        out_dir: PathBuf,
        #[command(flatten)]
        net: NetArgs,
    },
    /// Photo → printable STL in one step (layers, relief, mesh); -o out.obj gives an OBJ
    /// textured with the photo, out.ply a PLY with its colours.
    Reconstruct {
        photo: PathBuf,
        #[arg(short, long)]
        out: PathBuf,
        #[command(flatten)]
        relief: ReliefArgs,
        #[command(flatten)]
        net: NetArgs,
    },
    /// Train or fine-tune the network (synthetic reliefs and/or a dataset folder).
    Train(TrainArgs),
    /// Evaluate weights on a dataset folder (seed 000's tables).
    Eval {
        #[arg(long)]
        data: PathBuf,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        net: NetArgs,
    },
    /// Describe the weights: parameters, FLOPs per 512² image, configuration, provenance;
    /// with --bench-train, time training steps of their network on the CPU.
    ModelInfo {
        #[command(flatten)]
        net: NetArgs,
        #[command(flatten)]
        bench: BenchArgs,
    },
    /// Blend fine-tuned weights with the weights they started from:
    /// (1 − alpha)·BASE + alpha·TUNED, tensor by tensor (WiSE-FT). On photos unlike the
    /// fine-tuning data the blend often does better than either.
    Interpolate {
        /// The weights the run started from (e.g. the shipped model's folder).
        base: PathBuf,
        /// The fine-tuned weights (a run's best/ or checkpoint/).
        tuned: PathBuf,
        /// Share of TUNED: 0 = BASE, 1 = TUNED.
        #[arg(long, default_value_t = 0.5)]
        alpha: f32,
        /// Weights folder to write.
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Write synthetic relief samples in the dataset layout.
    Synth {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 16)]
        count: usize,
        #[arg(long, default_value_t = 256)]
        size: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

#[derive(Args, Debug, Clone)]
struct ReliefArgs {
    /// Width of the solid in mm.
    #[arg(long, default_value_t = ReliefParams::default().width_mm)]
    width_mm: f32,
    /// Height in mm (default: from the aspect ratio).
    #[arg(long)]
    height_mm: Option<f32>,
    /// Highest point above the base top, mm.
    #[arg(long, default_value_t = ReliefParams::default().relief_mm)]
    relief_mm: f32,
    /// Base thickness, mm.
    #[arg(long, default_value_t = ReliefParams::default().base_mm)]
    base_mm: f32,
    /// Largest height error of the simplified mesh, mm (0 = every pixel).
    #[arg(long, default_value_t = ReliefParams::default().max_error_mm)]
    max_error_mm: f32,
    /// Swap raised and sunken.
    #[arg(long)]
    invert: bool,
    /// Mirror left–right (moulds).
    #[arg(long)]
    mirror: bool,
    /// Gaussian smoothing, pixels.
    #[arg(long, default_value_t = 0.0)]
    smooth_px: f32,
    /// Write ASCII STL instead of binary.
    #[arg(long)]
    ascii: bool,
}

impl ReliefArgs {
    fn params(&self) -> ReliefParams {
        ReliefParams {
            width_mm: self.width_mm,
            height_mm: self.height_mm,
            relief_mm: self.relief_mm,
            base_mm: self.base_mm,
            invert: self.invert,
            mirror: self.mirror,
            smoothing_px: self.smooth_px,
            max_error_mm: self.max_error_mm,
        }
    }
}

#[derive(Args, Debug, Clone)]
struct NetArgs {
    /// Weights folder (default: the shipped model).
    #[arg(long)]
    weights: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
    /// Longest side the network sees, px (0 = full resolution, tiled).
    #[arg(long)]
    max_side: Option<usize>,
    /// One pass only: skip averaging with the prediction of the mirrored photo (half
    /// the inference time, slightly worse depth).
    #[arg(long)]
    no_mirror: bool,
}

#[derive(Args, Debug, Clone)]
struct BenchArgs {
    /// Time full training steps (forward, loss, backward, Adam) on the CPU: samples/s
    /// and effective GFLOP/s.
    #[arg(long)]
    bench_train: bool,
    /// With --bench-train: also time each convolution alone (where the time goes).
    #[arg(long)]
    layers: bool,
    /// Training crop side, px (default: the one the weights were trained at).
    #[arg(long)]
    crop: Option<usize>,
    #[arg(long, default_value_t = TrainConfig::default().batch)]
    batch: usize,
    /// Timed steps (after one warm-up step); the median is reported.
    #[arg(long, default_value_t = 5)]
    steps: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct TrainArgs {
    /// Dataset folder (images/, depth/, optional semantics/, edges/).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Train on the synthetic relief world (with --data: mix both).
    #[arg(long)]
    synthetic: bool,
    /// Start from these weights (fine-tuning).
    #[arg(long)]
    init: Option<PathBuf>,
    #[arg(long, default_value_t = TrainConfig::default().epochs)]
    epochs: usize,
    #[arg(long, default_value_t = TrainConfig::default().steps_per_epoch)]
    steps_per_epoch: usize,
    #[arg(long, default_value_t = TrainConfig::default().batch)]
    batch: usize,
    /// Training crop side, px (a multiple of the network's size multiple, 32 by default).
    #[arg(long, default_value_t = TrainConfig::default().crop_px)]
    crop: usize,
    /// OneCycle maximum learning rate (default: 0.002 from scratch, 0.0003 with --init).
    #[arg(long)]
    lr: Option<f64>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value_t = TrainConfig::default().checkpoint_every)]
    checkpoint_every: usize,
    #[arg(long, default_value_t = TrainConfig::default().val_count)]
    val_count: usize,
    /// Share of training crops given texture patches that say nothing about the height
    /// (grain added or detail smoothed inside random blobs), 0..1.
    #[arg(long, default_value_t = TrainConfig::default().texture_patches)]
    texture_patches: f32,
    /// The smallest random crop, as a fraction of an example's shorter side (0.05..1; 1 =
    /// whole square panels, at the scale inference sees them).
    #[arg(long, default_value_t = TrainConfig::default().min_crop_fraction)]
    min_crop_fraction: f32,
    /// Decay of the moving average of the weights that validation scores and the run
    /// yields (e.g. 0.998; 0 = off, the last step's weights). The checkpoint keeps both.
    #[arg(long, default_value_t = TrainConfig::default().ema)]
    ema: f32,
    /// Main depth term: aligned (height, scale/shift-invariant, with slopes) or
    /// silog (seed 000's, for the ablations).
    #[arg(long, value_enum, default_value_t = LossConfig::default().depth_term)]
    depth_term: DepthTerm,
    /// Edge representation (seed 000's Exp 1–4).
    #[arg(long, value_enum, default_value_t = MultiTaskConfig::new().edge_mode)]
    edge_mode: EdgeMode,
    /// Fix k = 1 (Exp 5).
    #[arg(long)]
    no_dynamic_k: bool,
    /// Seed 002 point-cloud loss weight.
    #[arg(long, default_value_t = LossConfig::default().point_cloud)]
    point_cloud: f64,
    /// Seed 002 virtual-normal loss weight.
    #[arg(long, default_value_t = LossConfig::default().virtual_normal)]
    virtual_normal: f64,
    /// Seed 004 gradient loss weight.
    #[arg(long, default_value_t = LossConfig::default().gradient)]
    gradient: f64,
    /// Scale/shift-invariant height + multi-scale slope loss weight.
    #[arg(long, default_value_t = LossConfig::default().aligned)]
    aligned: f64,
    /// Weight γ of the whole soft-edge term (eq. 1).
    #[arg(long, default_value_t = LossConfig::default().gamma)]
    edge_weight: f64,
    /// Seed 004 edge-aware loss weight.
    #[arg(long, default_value_t = LossConfig::default().edge_aware)]
    edge_aware: f64,
    /// Seed 004 segmentation→depth attention.
    #[arg(long)]
    seg_attention: bool,
    /// Seed 001 edge-weighted decoder features.
    #[arg(long)]
    edge_weighted_decoder: bool,
    /// A slope head beside the height, an auxiliary task (fused with the height at
    /// inference only with `slope_screen` > 0 in config.json); added, untrained, to
    /// --init weights that have none.
    #[arg(long)]
    slope_head: bool,
    /// Fuse the slope head's slopes with the height inside the network, in training and
    /// inference (`min |∇h − g|² + λ|h − h₀|²`, λ this value; implies --slope-head):
    /// small lets the slopes set levels over long distances. 0 = no fusion.
    #[arg(long, default_value_t = 0.0)]
    slope_screen: f64,
    /// Weight of the slope head's loss.
    #[arg(long, default_value_t = LossConfig::default().slope)]
    slope: f64,
    /// A light head, an auxiliary task: predicts where the light comes from, trained on
    /// synthetic panels (whose light is known); added, untrained, to `--init` weights
    /// that lack it; inference does not use it.
    #[arg(long)]
    light_head: bool,
    /// Weight of the light head's loss.
    #[arg(long, default_value_t = LossConfig::default().light)]
    light: f64,
    /// Output folder (checkpoint/, best/).
    #[arg(long, default_value = "runs/latest")]
    out: PathBuf,
    /// Continue the run in --out from its checkpoint.
    #[arg(long)]
    resume: bool,
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
}

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        None => relievo::app::run(cli.photo, relievo::train::BurnEngine::shared()),
        Some(Command::Mesh { depth, out, relief }) => mesh_cmd(&depth, &out, &relief),
        Some(Command::Repair {
            depth,
            mask,
            guide,
            out,
        }) => repair_cmd(&depth, &mask, guide.as_deref(), &out),
        Some(Command::Compare {
            reconstruction,
            scan,
            out,
            tolerance_mm,
            json,
            points,
            no_refine,
            relief,
        }) => {
            let points = points
                .map(|text| {
                    Ok::<_, anyhow::Error>(compare::PointPairs {
                        pairs: parse_point_pairs(&text)?,
                        refine: !no_refine,
                    })
                })
                .transpose()?;
            let options = compare::CompareOptions { tolerance_mm, points };
            compare_cmd(&reconstruction, &scan, &out, &options, json, &relief)
        }
        Some(Command::Layers { photo, out_dir, net }) => layers_cmd(&photo, &out_dir, &net),
        Some(Command::Interpolate {
            base,
            tuned,
            alpha,
            out,
        }) => interpolate_cmd(&base, &tuned, alpha, &out),
        Some(Command::Reconstruct {
            photo,
            out,
            relief,
            net,
        }) => reconstruct_cmd(&photo, &out, &relief, &net),
        Some(Command::Train(args)) => train_cmd(args),
        Some(Command::Eval { data, json, net }) => eval_cmd(&data, json, &net),
        Some(Command::Synth { out, count, size, seed }) => synth_cmd(&out, count, size, seed),
        Some(Command::ModelInfo { net, bench }) => model_info_cmd(&net, &bench),
    }
}

fn secs(t: Instant) -> String {
    format!("{:.3} s", t.elapsed().as_secs_f64())
}

/// The mesh format `out`'s extension names (checked before any work).
fn mesh_format(out: &Path, args: &ReliefArgs) -> Result<MeshFormat> {
    let stl = if args.ascii {
        StlFormat::Ascii
    } else {
        StlFormat::Binary
    };
    Ok(MeshFormat::from_path(out, stl)?)
}

/// Heightfield → mesh → STL/OBJ/PLY, printing each stage.
/// Builds the solid of `depth` and writes it with its `.relievo.json` sidecar
/// (`provenance` names the source and the weights; its relief is `args`).
fn write_relief(
    depth: &relievo::grid::Grid<f32>,
    out: &Path,
    args: &ReliefArgs,
    format: MeshFormat,
    texture: Option<Texture>,
    source: &Path,
    weights: Option<&Path>,
) -> Result<()> {
    let params = args.params();
    let t = Instant::now();
    let hf = relief::build(depth, &params)?;
    println!(
        "relief   {:.1} × {:.1} × {:.1} mm   {}",
        hf.width_mm(),
        hf.height_mm(),
        params.base_mm + params.relief_mm,
        secs(t)
    );
    let t = Instant::now();
    let solid = mesh::solid(&hf, params.max_error_mm);
    let full = 2 * (depth.width - 1) * (depth.height - 1);
    println!(
        "mesh     {} triangles ({} vertices; full resolution top alone: {})   {}",
        solid.triangles.len(),
        solid.vertices.len(),
        full,
        secs(t)
    );
    let t = Instant::now();
    let provenance = export::Provenance {
        source: Some(source),
        weights,
        relief: &params,
        edited_px: 0,
        restored_px: 0,
    };
    let bytes = export::write_mesh_with_sidecar(&solid, out, format, texture, &provenance)?;
    println!(
        "export   {} ({:.1} MB) + {}   {}",
        out.display(),
        bytes as f64 / 1e6,
        export::sidecar_path(out).display(),
        secs(t)
    );
    Ok(())
}

fn mesh_cmd(depth_path: &Path, out: &Path, args: &ReliefArgs) -> Result<()> {
    let format = mesh_format(out, args)?;
    let t = Instant::now();
    let depth = load_depth(depth_path, &LoadOptions::default())?;
    println!(
        "load     {} ({}×{} px)   {}",
        depth_path.display(),
        depth.width,
        depth.height,
        secs(t)
    );
    write_relief(&depth, out, args, format, None, depth_path, None)
}

fn repair_cmd(depth_path: &Path, mask_path: &Path, guide_path: Option<&Path>, out: &Path) -> Result<()> {
    let opts = LoadOptions::default();
    let depth = load_depth(depth_path, &opts)?;
    let damaged = repair::mask_from_image(&load_depth(mask_path, &opts)?);
    let guide = guide_path.map(|p| load_depth(p, &opts)).transpose()?;
    let count = damaged.data.iter().filter(|&&d| d).count();
    let t = Instant::now();
    let repaired = repair::fill(&depth, &damaged, guide.as_ref())?;
    println!(
        "repair   {count} damaged px of {}×{} ({:.1} %)   {}",
        depth.width,
        depth.height,
        100.0 * count as f64 / depth.data.len().max(1) as f64,
        secs(t)
    );
    export::write_png16(&repaired, out)?;
    println!("wrote    {}", out.display());
    Ok(())
}

/// `--points "x,y:u,v;…"` → point pairs (reconstruction px : scan px).
fn parse_point_pairs(text: &str) -> Result<Vec<compare::PointPair>> {
    let number = |s: &str| s.trim().parse::<f32>().ok().filter(|v| v.is_finite());
    let point = |s: &str| {
        let (x, y) = s.split_once(',')?;
        Some([number(x)?, number(y)?])
    };
    text.split(';')
        .filter(|p| !p.trim().is_empty())
        .enumerate()
        .map(|(i, p)| {
            p.split_once(':')
                .and_then(|(r, s)| {
                    Some(compare::PointPair {
                        recon_px: point(r)?,
                        scan_px: point(s)?,
                    })
                })
                .with_context(|| {
                    format!(
                        "--points: pair {} (\"{}\") is not x,y:u,v (reconstruction px : scan px)",
                        i + 1,
                        p.trim()
                    )
                })
        })
        .collect()
}

fn compare_cmd(
    recon_path: &Path,
    scan_path: &Path,
    out: &Path,
    options: &compare::CompareOptions,
    json: bool,
    relief: &ReliefArgs,
) -> Result<()> {
    let say = |line: String| {
        if !json {
            println!("{line}");
        }
    };
    let t = Instant::now();
    let depth = load_depth(recon_path, &LoadOptions::default())?;
    let hf = relief::build(&depth, &relief.params())?;
    let scan = scan::load_scan(scan_path, depth.width.max(depth.height))?;
    say(format!(
        "load     {} ({}×{} px, {:.1} × {:.1} mm), scan {} ({}×{} px)   {}",
        recon_path.display(),
        depth.width,
        depth.height,
        hf.width_mm(),
        hf.height_mm(),
        scan_path.display(),
        scan.width,
        scan.height,
        secs(t)
    ));
    let t = Instant::now();
    let c = compare::compare(&hf.z_mm, hf.mm_per_px_x, &scan, options)?;
    let (a, st) = (&c.alignment, &c.stats);
    say(format!(
        "align    rotation {:.2}°, zoom {:.3}, shift {:.1}, {:.1} px, residual {:.3} mm   {}",
        a.rotation_deg,
        a.zoom,
        a.shift_px[0],
        a.shift_px[1],
        a.residual_mm,
        secs(t)
    ));
    if let Some(p) = &a.points {
        say(format!(
            "points   {} pairs: residual {:.2} px{}",
            p.pairs,
            p.residual_px,
            if p.refined {
                format!(
                    " after refining by the heights ({:.2} px placed by the pairs alone)",
                    p.fit_residual_px
                )
            } else {
                String::new()
            }
        ));
    }
    say(format!(
        "lost     {:.1} mm² / {:.1} mm³ (deepest {:.2} mm); added {:.1} mm² / {:.1} mm³; tolerance ±{:.3} mm; scan covers {:.0} %",
        st.area_lost_mm2,
        st.volume_lost_mm3,
        st.max_loss_mm,
        st.area_added_mm2,
        st.volume_added_mm3,
        st.tolerance_mm,
        100.0 * st.covered_fraction
    ));
    let text = compare::write_difference(&c, recon_path, scan_path, out)?;
    let range_mm = compare::largest_difference(&c.difference_mm);
    say(format!(
        "wrote    {} (±{range_mm:.3} mm) and {}",
        out.display(),
        out.with_extension("json").display()
    ));
    if json {
        println!("{text}");
    }
    Ok(())
}

/// `--weights`, else the shipped model.
fn weights_dir(net: &NetArgs) -> PathBuf {
    net.weights.clone().unwrap_or_else(net::weights::default_dir)
}

fn load_weights(net: &NetArgs) -> Result<(Weights, ComputeDevice)> {
    let dev = device::select(net.device)?;
    let weights = net::weights::load(&weights_dir(net), &dev.device)?;
    Ok((weights, dev))
}

fn infer_options(net: &NetArgs) -> InferOptions {
    InferOptions {
        max_side_px: net.max_side,
        mirror_average: !net.no_mirror,
        ..InferOptions::default()
    }
}

fn load_photo_timed(path: &Path) -> Result<relievo::photo::Photo> {
    let t = Instant::now();
    let photo = load_photo(path, &LoadOptions::default())?;
    println!(
        "load     {} ({}×{} px)   {}",
        path.display(),
        photo.width(),
        photo.height(),
        secs(t)
    );
    Ok(photo)
}

fn layers_cmd(photo_path: &Path, out_dir: &Path, net: &NetArgs) -> Result<()> {
    if photo_path.is_dir() {
        return layers_batch(photo_path, out_dir, net);
    }
    let photo = load_photo_timed(photo_path)?;
    let t = Instant::now();
    let (weights, dev) = load_weights(net)?;
    println!("device   {}", dev.label);
    println!("weights  loaded   {}", secs(t));
    let t = Instant::now();
    let layers = net::predict(&weights, &photo, &dev.device, &infer_options(net));
    println!("network  depth, soft edges, semantics   {}", secs(t));
    let t = Instant::now();
    let written = layers::write_layers(&layers, out_dir)?;
    println!(
        "export   {} files in {}   {}",
        written.len(),
        out_dir.display(),
        secs(t)
    );
    Ok(())
}

/// `relievo layers FOLDER --out-dir OUT`: the weights are loaded once and one photo is
/// in memory at a time. A photo that cannot be read is skipped with one line on
/// stderr; a layer that cannot be written stops the batch (the disk will not take the
/// next one either).
fn layers_batch(dir: &Path, out_dir: &Path, net: &NetArgs) -> Result<()> {
    let (photos, ignored) = photo_files(dir)?;
    if photos.is_empty() {
        bail!(
            "{}: no photos in this folder ({})",
            dir.display(),
            photo::SUPPORTED_EXTENSIONS.join(", ")
        );
    }
    let (weights, dev) = load_weights(net)?;
    println!("device   {}", dev.label);
    println!(
        "batch    {} photos in {} → {}{}",
        photos.len(),
        dir.display(),
        out_dir.display(),
        if ignored > 0 {
            format!(" ({ignored} other files ignored)")
        } else {
            String::new()
        }
    );
    let options = infer_options(net);
    let started = Instant::now();
    let mut skipped = 0;
    for (i, (path, name)) in photos.iter().zip(output_names(&photos)).enumerate() {
        let t = Instant::now();
        let photo = match load_photo(path, &LoadOptions::default()) {
            Ok(photo) => photo,
            Err(e) => {
                skipped += 1;
                eprintln!("skipped  {e}");
                continue;
            }
        };
        let layers = net::predict(&weights, &photo, &dev.device, &options);
        layers::write_layers(&layers, &out_dir.join(&name))?;
        println!(
            "[{}/{}] {} ({}×{} px) → {name}/   {}",
            i + 1,
            photos.len(),
            path.file_name().unwrap_or_default().to_string_lossy(),
            photo.width(),
            photo.height(),
            secs(t)
        );
    }
    let n = photos.len();
    println!("done     {} of {n} photos   {}", n - skipped, secs(started));
    if skipped > 0 {
        bail!("{skipped} of {n} photos could not be read (each named above)");
    }
    Ok(())
}

/// The photos directly in `dir` (by extension, sorted by name) and how many other
/// files were left out.
fn photo_files(dir: &Path) -> Result<(Vec<PathBuf>, usize)> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("cannot read the folder {}", dir.display()))?;
    let (mut photos, mut ignored) = (Vec::new(), 0);
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot read the folder {}", dir.display()))?
            .path();
        if !path.is_file() {
            continue;
        }
        let is_photo = path
            .extension()
            .is_some_and(|e| photo::SUPPORTED_EXTENSIONS.iter().any(|s| e.eq_ignore_ascii_case(s)));
        if is_photo {
            photos.push(path);
        } else {
            ignored += 1;
        }
    }
    photos.sort();
    Ok((photos, ignored))
}

/// One output folder name per photo: its stem, or its whole file name (dot as `_`)
/// where two photos share a stem (`a.png`, `a.jpg` → `a_png`, `a_jpg`).
fn output_names(photos: &[PathBuf]) -> Vec<String> {
    let stem = |p: &PathBuf| p.file_stem().unwrap_or_default().to_string_lossy().into_owned();
    let mut uses = std::collections::HashMap::new();
    for p in photos {
        *uses.entry(stem(p)).or_insert(0) += 1;
    }
    photos
        .iter()
        .map(|p| match uses[&stem(p)] {
            1 => stem(p),
            _ => p.file_name().unwrap_or_default().to_string_lossy().replace('.', "_"),
        })
        .collect()
}

fn reconstruct_cmd(photo_path: &Path, out: &Path, relief: &ReliefArgs, net: &NetArgs) -> Result<()> {
    let format = mesh_format(out, relief)?;
    let photo = load_photo_timed(photo_path)?;
    let (weights, dev) = load_weights(net)?;
    println!("device   {}", dev.label);
    let t = Instant::now();
    let layers = net::predict(&weights, &photo, &dev.device, &infer_options(net));
    println!("network  depth, soft edges, semantics   {}", secs(t));
    let texture = Texture {
        rgb: &photo.rgb,
        mirrored: relief.mirror,
    };
    write_relief(
        &layers.depth,
        out,
        relief,
        format,
        Some(texture),
        photo_path,
        Some(&weights_dir(net)),
    )
}

fn train_cmd(a: TrainArgs) -> Result<()> {
    let mut model = MultiTaskConfig::new();
    model.edge_mode = a.edge_mode;
    model.seg_depth_attention = a.seg_attention;
    model.edge_weighted_decoder = a.edge_weighted_decoder;
    model.slope_head = a.slope_head || a.slope_screen > 0.0;
    model.slope_screen = a.slope_screen;
    model.loss.slope = a.slope;
    model.light_head = a.light_head;
    model.loss.light = a.light;
    model.loss.dynamic_k = !a.no_dynamic_k;
    model.loss.depth_term = a.depth_term;
    model.loss.point_cloud = a.point_cloud;
    model.loss.virtual_normal = a.virtual_normal;
    model.loss.gradient = a.gradient;
    model.loss.aligned = a.aligned;
    model.loss.edge_aware = a.edge_aware;
    model.loss.gamma = a.edge_weight;
    let cfg = TrainConfig {
        model,
        data: a.data.clone(),
        synthetic: a.synthetic || a.data.is_none(),
        lr: a.lr.unwrap_or(if a.init.is_some() {
            train::FINE_TUNE_MAX_LR
        } else {
            TrainConfig::default().lr
        }),
        init: a.init,
        epochs: a.epochs,
        steps_per_epoch: a.steps_per_epoch,
        batch: a.batch,
        crop_px: a.crop,
        seed: a.seed,
        checkpoint_every: a.checkpoint_every,
        val_count: a.val_count,
        texture_patches: a.texture_patches,
        min_crop_fraction: a.min_crop_fraction,
        ema: a.ema,
        out: a.out,
        ..TrainConfig::default()
    };
    if let Some(dir) = &a.data {
        let (_, report) = train::data::check_folder(dir);
        println!(
            "dataset  {}: {} pairs ({} with semantics, {} with edges)",
            dir.display(),
            report.pairs,
            report.with_semantics,
            report.with_edges
        );
        for p in &report.problems {
            println!("  warning: {p}");
        }
        if !report.is_usable() {
            bail!("{}: no usable image/depth pairs", dir.display());
        }
    }
    let dev = device::select(a.device)?;
    println!("device   {}", dev.label);
    let control = Arc::new(TrainControl::default());
    {
        let control = control.clone();
        ctrlc::set_handler(move || {
            eprintln!("\nstopping after this step (checkpoint will be saved)…");
            control.stop.store(true, Ordering::Relaxed);
        })
        .context("cannot install the Ctrl-C handler")?;
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}").expect("valid template"));
    // Logs go through the bar on a terminal, straight to stdout otherwise (background runs).
    let say = |line: String| {
        if bar.is_hidden() {
            println!("{line}")
        } else {
            bar.println(line)
        }
    };
    let result = train::run(cfg, a.resume, &dev.device, &control, |event| match event {
        TrainEvent::Started {
            total_steps,
            resumed_from,
        } => {
            bar.set_length(total_steps as u64);
            bar.set_position(resumed_from as u64);
        }
        TrainEvent::Step {
            step,
            epoch,
            losses,
            k,
            lr,
            samples_per_sec,
            eta_secs,
            ..
        } => {
            bar.set_position(step as u64);
            bar.set_message(format!(
                "ep {epoch} loss {:.3} (sem {:.3} depth {:.3} edge {:.3}) k {k:.2} lr {lr:.5} {samples_per_sec:.1} img/s eta {:.0} min",
                losses.total, losses.semantic, losses.depth, losses.edge, eta_secs / 60.0
            ));
            if step % 50 == 0 || step == 1 {
                let light = losses.light.map(|l| format!(" light {l:.4}")).unwrap_or_default();
                say(format!(
                    "step {step} loss {:.4} sem {:.4} depth {:.4} edge {:.4}{light} k {k:.3} lr {lr:.6} {samples_per_sec:.2} img/s",
                    losses.total, losses.semantic, losses.depth, losses.edge
                ));
            }
        }
        TrainEvent::Validation {
            epoch, report, best, ..
        } => say(format!(
            "epoch {epoch} validation: rmse {:.2}% normal {:.2}° edge {:.2}% d1 {:.3} sem mIoU {:.3} edge mIoU {:.3}{}",
            report.bench.rmse_pct,
            report.bench.normal_deg,
            report.bench.edge_pct,
            report.bench.d1,
            report.semantics.as_ref().map(|s| s.miou).unwrap_or(f64::NAN),
            report.edges.miou,
            if best { "  (best)" } else { "" }
        )),
        TrainEvent::Checkpoint { step, path } => say(format!("checkpoint step {step} → {}", path.display())),
        TrainEvent::Finished {
            steps,
            stopped,
            best_dir,
        } => say(format!(
            "{} after {steps} steps; best weights in {}",
            if stopped { "stopped" } else { "finished" },
            best_dir.display()
        )),
    });
    bar.finish_and_clear();
    result?;
    Ok(())
}

fn eval_cmd(data: &Path, json: bool, net: &NetArgs) -> Result<()> {
    let (folder, report) = train::data::check_folder(data);
    if !report.is_usable() {
        bail!(
            "{}: no usable image/depth pairs ({})",
            data.display(),
            report.problems.join("; ")
        );
    }
    let (weights, dev) = load_weights(net)?;
    // On stderr with the progress: `--json` keeps stdout one JSON document.
    eprintln!("device   {}", dev.label);
    let samples = (0..folder.pairs.len()).map(|i| folder.load(i));
    let result = train::eval::evaluate(
        &weights,
        samples,
        &dev.device,
        &infer_options(net),
        Default::default(),
        |done, total| {
            eprint!("\revaluating {done}/{total}");
        },
    )
    .map_err(anyhow::Error::msg)?;
    eprintln!();
    if json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", result.tables());
    }
    Ok(())
}

fn synth_cmd(out: &Path, count: usize, size: usize, seed: u64) -> Result<()> {
    if !(32..=4096).contains(&size) {
        bail!("--size must be between 32 and 4096 px");
    }
    let t = Instant::now();
    let params = synth::SynthParams {
        size_px: size,
        ..Default::default()
    };
    synth::write_dataset(out, count, &params, seed, |done, total| {
        eprint!("\rsynth {done}/{total}")
    })
    .with_context(|| format!("cannot write the dataset to {}", out.display()))?;
    eprintln!();
    println!(
        "wrote {count} samples of {size}×{size} px to {} in {}",
        out.display(),
        secs(t)
    );
    Ok(())
}

fn interpolate_cmd(base: &Path, tuned: &Path, alpha: f32, out: &Path) -> Result<()> {
    let device = burn::tensor::Device::flex();
    let base_weights = net::weights::load(base, &device)?;
    let tuned_weights = net::weights::load(tuned, &device)?;
    let (mut blend, report) =
        net::weights::interpolate(&base_weights, &tuned_weights, alpha).map_err(anyhow::Error::msg)?;
    let notes = &mut blend.meta.provenance.notes;
    *notes = format!(
        "{notes}{}interpolated: {alpha} × {} + {} × {}",
        if notes.is_empty() { "" } else { " | " },
        tuned.display(),
        1.0 - alpha,
        base.display()
    );
    net::weights::save(out, &blend.model, &blend.config, &blend.meta)?;
    println!(
        "{}: {} tensors blended, {} kept from {} alone, {} of {} dropped",
        out.display(),
        report.blended,
        report.tuned_only,
        tuned.display(),
        report.base_only,
        base.display()
    );
    Ok(())
}

fn model_info_cmd(net: &NetArgs, bench: &BenchArgs) -> Result<()> {
    use burn::module::Module;
    let (weights, _) = load_weights(net)?;
    let c = &weights.config;
    let p = &weights.meta.provenance;
    let bench_result = if bench.bench_train {
        // The crop the weights were trained at: their working side × the default recipe's mean
        // crop fraction (the weights do not record the fraction a run chose).
        let multiple = c.size_multiple();
        let crop = bench.crop.unwrap_or_else(|| {
            let side =
                weights.meta.working_side_px as f32 * train::data::mean_crop_fraction(train::DEFAULT_MIN_CROP_FRACTION);
            ((side / multiple as f32).round() as usize).max(1) * multiple
        });
        train::bench::check(c, crop, bench.batch, bench.steps).map_err(anyhow::Error::msg)?;
        eprintln!(
            "timing {} training steps at batch {} × {crop}² on the CPU…",
            bench.steps, bench.batch
        );
        let result = train::bench::bench_train(
            c,
            crop,
            bench.batch,
            bench.steps,
            bench.layers,
            &burn::tensor::Device::flex(),
        )
        .map_err(anyhow::Error::msg)?;
        Some(result)
    } else {
        None
    };
    if bench.json {
        let mut info = serde_json::json!({
            "folder": weights_dir(net),
            "parameters": weights.model.num_params(),
            "gflops_per_image_512": c.flops(512, 512) as f64 / 1e9,
            "config": c,
            "working_side_px": weights.meta.working_side_px,
            "provenance": p,
            "bench_train": bench_result,
        });
        if let Some(b) = &bench_result {
            info["train_samples_per_s"] = b.train_samples_per_s.into();
            info["train_gflops_per_s"] = b.train_gflops_per_s.into();
        }
        println!("{}", serde_json::to_string_pretty(&info)?);
        return Ok(());
    }
    println!("folder         {}", weights_dir(net).display());
    println!("parameters     {}", weights.model.num_params());
    println!("GFLOPs / 512²  {:.2}", c.flops(512, 512) as f64 / 1e9);
    println!(
        "encoder        {:?}   edge detectors {:?}   edge mode {:?}   unshuffle {}",
        c.encoder_channels, c.edge_channels, c.edge_mode, c.pixel_unshuffle
    );
    println!("depth term     {:?}", c.loss.depth_term);
    println!("working side   {} px", weights.meta.working_side_px);
    println!(
        "trained on     {} ({} steps, {:.1} h)",
        p.data,
        p.steps,
        p.wall_time_secs / 3600.0
    );
    if !p.notes.is_empty() {
        println!("notes          {}", p.notes);
    }
    if let Some(b) = bench_result {
        println!(
            "training step  batch {} × {}²: {:.3} s (median of {}), {:.2} samples/s, {:.1} GFLOP/s effective ({:.2} GFLOPs forward per crop)",
            b.batch, b.crop_px, b.step_secs, b.steps, b.train_samples_per_s, b.train_gflops_per_s, b.gflops_per_crop
        );
        if !b.layers.is_empty() {
            let total: f64 = b.layers.iter().map(|l| l.secs).sum();
            println!(
                "convolutions alone: {:.3} s of the {:.3} s step ({:.0} %); slowest first:",
                total,
                b.step_secs,
                100.0 * total / b.step_secs
            );
            let mut layers = b.layers.clone();
            layers.sort_by(|a, b| b.secs.total_cmp(&a.secs));
            for l in &layers {
                let x = &l.layer;
                println!(
                    "  {:<24} {:>4}→{:<4} {}×{} s{} d{} at {:>3}×{:<3} {:>7.1} ms {:>6.1} GFLOP/s",
                    x.name,
                    x.channels_in,
                    x.channels_out,
                    x.kernel,
                    x.kernel,
                    x.stride,
                    x.dilation,
                    x.width,
                    x.height,
                    l.secs * 1e3,
                    l.gflops_per_s
                );
            }
        }
    }
    Ok(())
}

//! Writing results to disk: STL solids (binary or ASCII, unit facet normals, mm), OBJ
//! (with the photo as texture) and PLY (with vertex colours) in mm, and
//! PNG rasters (16-bit and 8-bit grey, RGB). Every writer is atomic: it fills a
//! temporary file beside the target and renames it into place, so a failure leaves
//! neither a partial file nor the temporary one behind.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use image::{ExtendedColorType, ImageEncoder, codecs::png::PngEncoder};
use rayon::prelude::*;

use crate::grid::Grid;
use crate::mesh::Mesh;
use crate::relief::ReliefParams;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StlFormat {
    Binary,
    Ascii,
}

/// The mesh file formats, chosen by a path's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeshFormat {
    /// STL: the solid alone (printing).
    Stl(StlFormat),
    /// Wavefront OBJ with texture coordinates, plus `.mtl` and the photo as the texture
    /// (Blender, MeshLab).
    Obj,
    /// Binary PLY with the photo's colour on every vertex (MeshLab, CloudCompare).
    Ply,
}

impl MeshFormat {
    /// The format `path`'s extension names (`.stl`, `.obj`, `.ply`, any case).
    pub fn from_path(path: &Path, stl: StlFormat) -> Result<Self, ExportError> {
        let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("stl") => Ok(Self::Stl(stl)),
            Some("obj") => Ok(Self::Obj),
            Some("ply") => Ok(Self::Ply),
            _ => Err(ExportError::UnknownMeshFormat {
                path: path.to_path_buf(),
            }),
        }
    }
}

/// The photo laid over a mesh's top: texture for OBJ, vertex colours for PLY.
#[derive(Clone, Copy, Debug)]
pub struct Texture<'a> {
    /// sRGB 0..1, the photo the depth was predicted from (any size: it is stretched
    /// over the relief's footprint).
    pub rgb: &'a Grid<[f32; 3]>,
    /// The relief was mirrored left–right (`ReliefParams::mirror`), so is the photo.
    pub mirrored: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write {}: directory {} does not exist", .path.display(), .dir.display())]
    MissingDirectory { path: PathBuf, dir: PathBuf },
    #[error("cannot write {}: {} is not a directory", .path.display(), .dir.display())]
    NotADirectory { path: PathBuf, dir: PathBuf },
    /// The reason is the source error (printed after a colon when the chain is shown).
    #[error("cannot write {}", .path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "cannot write {}: a {width}×{height} image with {bytes_per_pixel} bytes per pixel needs {expected} bytes, \
         got {actual}",
        .path.display()
    )]
    ImageSize {
        path: PathBuf,
        width: usize,
        height: usize,
        bytes_per_pixel: usize,
        expected: usize,
        actual: usize,
    },
    #[error("cannot write {}: unknown mesh format (use .stl, .obj or .ply)", .path.display())]
    UnknownMeshFormat { path: PathBuf },
}

/// Size of a binary STL facet: normal, three vertices (12 f32) and a u16 attribute.
const STL_FACET_BYTES: usize = 50;

/// Writes `mesh` as STL (mm) with unit facet normals.
pub fn write_stl(mesh: &Mesh, path: &Path, format: StlFormat) -> Result<(), ExportError> {
    match format {
        StlFormat::Binary => atomic_write(path, |out| write_binary_stl(mesh, out)),
        StlFormat::Ascii => atomic_write(path, |out| write_ascii_stl(mesh, out)),
    }
}

/// How an exported mesh was made. [`write_mesh_with_sidecar`] records it beside the mesh
/// as `NAME.relievo.json` (the app and the CLI alike): its `relief` brings the same
/// solid back from the same depth.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Provenance<'a> {
    /// The photo or depth map the relief was made from.
    pub source: Option<&'a Path>,
    /// The network weights folder, when the depth came from the network.
    pub weights: Option<&'a Path>,
    pub relief: &'a ReliefParams,
    /// Depth pixels changed by hand, and of those filled by a damage repair (the
    /// restoration, as against what the photo shows).
    pub edited_px: usize,
    pub restored_px: usize,
}

/// The file beside an export that records how it was made: `relief.stl` → `relief.relievo.json`.
pub fn sidecar_path(export: &Path) -> PathBuf {
    export.with_extension("relievo.json")
}

/// [`write_mesh`], then its [`Provenance`] into [`sidecar_path`] (with the program's
/// version, the triangle count and the unit), both atomically. Returns the mesh file's
/// size in bytes.
pub fn write_mesh_with_sidecar(
    mesh: &Mesh,
    path: &Path,
    format: MeshFormat,
    texture: Option<Texture>,
    provenance: &Provenance,
) -> Result<u64, ExportError> {
    write_mesh(mesh, path, format, texture)?;
    let sidecar = serde_json::json!({
        "written_by": format!("relievo {}", env!("CARGO_PKG_VERSION")),
        "source": provenance.source,
        "weights": provenance.weights,
        "relief": provenance.relief,
        "edited_px": provenance.edited_px,
        "restored_px": provenance.restored_px,
        "triangles": mesh.triangle_count(),
        "units": "mm",
    });
    let text = serde_json::to_vec_pretty(&sidecar).expect("plain JSON values serialise");
    atomic_write(&sidecar_path(path), |w| w.write_all(&text))?;
    let io = |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    Ok(std::fs::metadata(path).map_err(io)?.len())
}

/// Writes `mesh` in `format`; OBJ and PLY carry `texture` when given. An OBJ's
/// material and texture go beside it as `NAME.mtl` and `NAME_texture.png`, written
/// before the OBJ that names them.
pub fn write_mesh(mesh: &Mesh, path: &Path, format: MeshFormat, texture: Option<Texture>) -> Result<(), ExportError> {
    match format {
        MeshFormat::Stl(stl) => write_stl(mesh, path, stl),
        MeshFormat::Obj => write_obj(mesh, path, texture),
        MeshFormat::Ply => write_ply(mesh, path, texture),
    }
}

/// Texture coordinates of every vertex: its place in the footprint, (0, 0) at the
/// bottom-left corner (photo bottom-left), (1, 1) at the top-right.
fn texture_coordinates(mesh: &Mesh, mirrored: bool) -> Vec<[f32; 2]> {
    let (max_x, max_y) = mesh
        .vertices
        .iter()
        .fold((0.0f32, 0.0f32), |(x, y), v| (x.max(v[0]), y.max(v[1])));
    mesh.vertices
        .iter()
        .map(|v| {
            let u = v[0] / max_x.max(f32::MIN_POSITIVE);
            [if mirrored { 1.0 - u } else { u }, v[1] / max_y.max(f32::MIN_POSITIVE)]
        })
        .collect()
}

/// The photo's colour at texture coordinates `uv` (bilinear), 8-bit sRGB.
fn colour_at(rgb: &Grid<[f32; 3]>, uv: [f32; 2]) -> [u8; 3] {
    let x = uv[0] * (rgb.width - 1) as f32;
    let y = (1.0 - uv[1]) * (rgb.height - 1) as f32;
    rgb.sample_bilinear_rgb(x, y)
        .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
}

fn write_obj(mesh: &Mesh, path: &Path, texture: Option<Texture>) -> Result<(), ExportError> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "relief".into());
    let uv = texture.map(|t| texture_coordinates(mesh, t.mirrored));
    if let Some(t) = texture {
        let image_name = format!("{stem}_texture.png");
        let rgb: Vec<u8> = t
            .rgb
            .data
            .iter()
            .flat_map(|p| p.map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8))
            .collect();
        write_png_rgb(t.rgb.width, t.rgb.height, &rgb, &path.with_file_name(&image_name))?;
        let mtl = format!(
            "# relievo: the photo over the relief\nnewmtl relief\nKa 1 1 1\nKd 1 1 1\nKs 0 0 0\nillum 1\nmap_Kd {image_name}\n"
        );
        atomic_write(&path.with_file_name(format!("{stem}.mtl")), |w| {
            w.write_all(mtl.as_bytes())
        })?;
    }
    atomic_write(path, |out| {
        writeln!(
            out,
            "# relievo {}: relief solid, millimetres, z up",
            env!("CARGO_PKG_VERSION")
        )?;
        if uv.is_some() {
            writeln!(out, "mtllib {stem}.mtl\nusemtl relief")?;
        }
        for v in &mesh.vertices {
            writeln!(out, "v {} {} {}", v[0], v[1], v[2])?;
        }
        if let Some(uv) = &uv {
            for t in uv {
                writeln!(out, "vt {} {}", t[0], t[1])?;
            }
        }
        for t in &mesh.triangles {
            let [a, b, c] = t.map(|i| i + 1);
            if uv.is_some() {
                writeln!(out, "f {a}/{a} {b}/{b} {c}/{c}")?;
            } else {
                writeln!(out, "f {a} {b} {c}")?;
            }
        }
        Ok(())
    })
}

fn write_ply(mesh: &Mesh, path: &Path, texture: Option<Texture>) -> Result<(), ExportError> {
    let colours: Option<Vec<[u8; 3]>> = texture.map(|t| {
        texture_coordinates(mesh, t.mirrored)
            .into_iter()
            .map(|uv| colour_at(t.rgb, uv))
            .collect()
    });
    atomic_write(path, |out| {
        let mut header = format!(
            "ply\nformat binary_little_endian 1.0\ncomment relievo {}: relief solid, millimetres, z up\n\
             element vertex {}\nproperty float x\nproperty float y\nproperty float z\n",
            env!("CARGO_PKG_VERSION"),
            mesh.vertices.len()
        );
        if colours.is_some() {
            header += "property uchar red\nproperty uchar green\nproperty uchar blue\n";
        }
        header += &format!(
            "element face {}\nproperty list uchar int vertex_indices\nend_header\n",
            mesh.triangles.len()
        );
        out.write_all(header.as_bytes())?;
        for (i, v) in mesh.vertices.iter().enumerate() {
            for c in v {
                out.write_all(&c.to_le_bytes())?;
            }
            if let Some(colours) = &colours {
                out.write_all(&colours[i])?;
            }
        }
        for t in &mesh.triangles {
            out.write_all(&[3])?;
            for i in t {
                out.write_all(&(*i as i32).to_le_bytes())?;
            }
        }
        Ok(())
    })
}

/// Binary STL, encoded in parallel one batch of facets at a time.
fn write_binary_stl(mesh: &Mesh, out: &mut dyn Write) -> io::Result<()> {
    const BATCH: usize = 1 << 15;
    const BLOCK: usize = 1 << 10;
    let count = u32::try_from(mesh.triangle_count())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "too many triangles for binary STL"))?;
    let mut header = [0u8; 84];
    let text = b"binary STL written by relievo, units: mm";
    header[..text.len()].copy_from_slice(text);
    header[80..].copy_from_slice(&count.to_le_bytes());
    out.write_all(&header)?;
    let mut bytes = Vec::new();
    for batch in mesh.triangles.chunks(BATCH) {
        // The last two bytes of each facet, its attribute count, stay zero.
        bytes.resize(STL_FACET_BYTES * batch.len(), 0);
        bytes
            .par_chunks_mut(STL_FACET_BYTES * BLOCK)
            .zip(batch.par_chunks(BLOCK))
            .for_each(|(out, triangles)| {
                for (facet, &t) in out.chunks_exact_mut(STL_FACET_BYTES).zip(triangles) {
                    let [a, b, c] = t.map(|i| mesh.vertices[i as usize]);
                    let values = [mesh.facet_normal(t), a, b, c];
                    for (k, value) in values.as_flattened().iter().enumerate() {
                        facet[4 * k..4 * k + 4].copy_from_slice(&value.to_le_bytes());
                    }
                }
            });
        out.write_all(&bytes)?;
    }
    Ok(())
}

fn write_ascii_stl(mesh: &Mesh, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "solid relievo")?;
    for (&t, n) in mesh.triangles.iter().zip(mesh.facet_normals()) {
        writeln!(out, "  facet normal {} {} {}\n    outer loop", n[0], n[1], n[2])?;
        for i in t {
            let [x, y, z] = mesh.vertices[i as usize];
            writeln!(out, "      vertex {x} {y} {z}")?;
        }
        writeln!(out, "    endloop\n  endfacet")?;
    }
    writeln!(out, "endsolid relievo")
}

/// Writes `grid` (values in 0..1, clamped) as a 16-bit grey PNG, 0..1 ↦ 0..65535.
pub fn write_png16(grid: &Grid<f32>, path: &Path) -> Result<(), ExportError> {
    let bytes: Vec<u8> = grid
        .data
        .iter()
        .flat_map(|v| ((v.clamp(0.0, 1.0) * 65535.0).round() as u16).to_ne_bytes())
        .collect();
    write_png(grid.width, grid.height, &bytes, ExtendedColorType::L16, path)
}

/// Writes `grid` as an 8-bit grey PNG.
pub fn write_png8_gray(grid: &Grid<u8>, path: &Path) -> Result<(), ExportError> {
    write_png(grid.width, grid.height, &grid.data, ExtendedColorType::L8, path)
}

/// Writes `rgb` (row-major, 3 bytes per pixel) as an 8-bit RGB PNG.
pub fn write_png_rgb(width: usize, height: usize, rgb: &[u8], path: &Path) -> Result<(), ExportError> {
    write_png(width, height, rgb, ExtendedColorType::Rgb8, path)
}

/// `bytes` holds the samples row-major, 16-bit ones in native byte order.
fn write_png(
    width: usize,
    height: usize,
    bytes: &[u8],
    color: ExtendedColorType,
    path: &Path,
) -> Result<(), ExportError> {
    let bytes_per_pixel = usize::from(color.bits_per_pixel() / 8);
    let expected = width * height * bytes_per_pixel;
    if bytes.len() != expected {
        let (path, actual) = (path.to_path_buf(), bytes.len());
        return Err(ExportError::ImageSize {
            path,
            width,
            height,
            bytes_per_pixel,
            expected,
            actual,
        });
    }
    let too_large = |_| {
        io_error(
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "image too large for PNG"),
        )
    };
    let (width, height) = (
        u32::try_from(width).map_err(too_large)?,
        u32::try_from(height).map_err(too_large)?,
    );
    atomic_write(path, |out| {
        PngEncoder::new(out)
            .write_image(bytes, width, height, color)
            .map_err(io::Error::other)
    })
}

/// A temporary file of [`atomic_write`] this much older than now belongs to a write that
/// was killed (a write in progress is never this old): the next write there removes it.
pub const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Runs `write` on a buffered temporary file in `path`'s directory, then renames it to
/// `path`. On any failure the temporary file is removed and `path` is left untouched.
/// Afterwards, temporary files of writes killed in that directory ([`STALE_TEMP_AGE`])
/// are removed.
pub fn atomic_write(path: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), ExportError> {
    let file = write_temp(path, write)?;
    file.persist(path).map_err(|e| io_error(path, e.error))?;
    remove_stale_temp_files(parent_dir(path));
    Ok(())
}

/// Several files that belong together (a weights folder's model, config and metadata):
/// every one is written and synced under a temporary name first, and only then are they
/// renamed into place one after the other, so a kill or a failed write never leaves a mix
/// of new and old files beyond the instant of those renames. On any failure before the
/// renames, nothing under the final names has changed.
pub fn atomic_write_all(files: &[(&Path, &[u8])]) -> Result<(), ExportError> {
    let temps = files
        .iter()
        .map(|(path, bytes)| write_temp(path, |w| w.write_all(bytes)))
        .collect::<Result<Vec<_>, _>>()?;
    for (file, (path, _)) in temps.into_iter().zip(files) {
        file.persist(path).map_err(|e| io_error(path, e.error))?;
    }
    let mut dirs: Vec<&Path> = files.iter().map(|(path, _)| parent_dir(path)).collect();
    dirs.dedup();
    for dir in dirs {
        remove_stale_temp_files(dir);
    }
    Ok(())
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// `write` into a synced temporary file beside `path`, not yet renamed.
fn write_temp(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<tempfile::NamedTempFile, ExportError> {
    let dir = parent_dir(path);
    if !dir.is_dir() {
        let (path, dir) = (path.to_path_buf(), dir.to_path_buf());
        return Err(if dir.exists() {
            ExportError::NotADirectory { path, dir }
        } else {
            ExportError::MissingDirectory { path, dir }
        });
    }
    let mut builder = tempfile::Builder::new();
    builder.prefix(".relievo-").suffix(".tmp");
    #[cfg(unix)]
    {
        // As `File::create` does: read/write for all, less the umask (tempfile's default is 0600).
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    // tempfile's message names the temporary file; the kind alone reads better.
    let mut file = builder.tempfile_in(dir).map_err(|e| io_error(path, e.kind().into()))?;
    let mut out = io::BufWriter::with_capacity(1 << 16, file.as_file_mut());
    write(&mut out)
        .and_then(|()| out.flush())
        .map_err(|source| io_error(path, source))?;
    drop(out);
    // On disk before the rename, so a crash cannot leave an empty file under the name.
    file.as_file().sync_all().map_err(|source| io_error(path, source))?;
    Ok(file)
}

/// Best effort: a directory that cannot be listed or a file that cannot go is left as is.
fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let now = std::time::SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(".relievo-") && name.ends_with(".tmp")) {
            continue;
        }
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok());
        if age.is_some_and(|a| a > STALE_TEMP_AGE) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn io_error(path: &Path, source: io::Error) -> ExportError {
    ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_written_together_change_all_or_none() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("model.bpk"), dir.path().join("config.json"));
        std::fs::write(&a, "old model").unwrap();
        std::fs::write(&b, "old config").unwrap();
        // The second file cannot be written: the first keeps its old content.
        let missing = dir.path().join("gone").join("meta.json");
        let err = atomic_write_all(&[(&a, b"new model"), (&missing, b"meta")]).unwrap_err();
        assert!(matches!(err, ExportError::MissingDirectory { .. }), "{err}");
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "old model");
        atomic_write_all(&[(&a, b"new model"), (&b, b"new config")]).unwrap();
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "new model");
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "new config");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "temporary files left: {names:?}");
    }
}

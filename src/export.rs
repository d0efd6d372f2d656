//! Writing results to disk: STL solids (binary or ASCII, unit facet normals, mm) and
//! PNG rasters (16-bit and 8-bit grey, RGB). Every writer is atomic: it fills a
//! temporary file beside the target and renames it into place, so a failure leaves
//! neither a partial file nor the temporary one behind.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use image::{ExtendedColorType, ImageEncoder, codecs::png::PngEncoder};
use rayon::prelude::*;

use crate::grid::Grid;
use crate::mesh::Mesh;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StlFormat {
    Binary,
    Ascii,
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

/// Runs `write` on a buffered temporary file in `path`'s directory, then renames it to
/// `path`. On any failure the temporary file is removed and `path` is left untouched.
pub fn atomic_write(path: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), ExportError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
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
    file.persist(path).map_err(|e| io_error(path, e.error))?;
    Ok(())
}

fn io_error(path: &Path, source: io::Error) -> ExportError {
    ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

//! Project files (`.relievo`): what is needed to reopen a restoration exactly — the depth
//! and the layers the network gave, the hand edits (heights, damage marks, restored
//! pixels), the relief parameters, the photo by path and hash (its pixels stay in the
//! photo file) and the app's view settings — in one file, written atomically.
//!
//! Layout: the 8 bytes `RELIEVOP`, the header's length (u64, little-endian), the header
//! as JSON ([`Header`]: format version, sizes, references, and where each blob lies),
//! then the blobs: raw little-endian `f32` or `u8` rasters, row-major. A reader refuses
//! a newer format version with a clear error and takes older ones; every length is
//! checked against the file before anything is allocated.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::grid::Grid;
use crate::relief::ReliefParams;

pub const MAGIC: &[u8; 8] = b"RELIEVOP";
/// The format this build writes (and the newest it reads).
pub const FORMAT_VERSION: u32 = 1;
/// The extension of project files.
pub const EXTENSION: &str = "relievo";
/// Largest header a project may have.
const MAX_HEADER_BYTES: u64 = 16 << 20;
/// Largest raster a project may hold (pixels), as for photos.
const MAX_PIXELS: usize = 400_000_000;

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("cannot read {}", .path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{} is not a relievo project", .path.display())]
    NotAProject { path: PathBuf },
    #[error("{} was written by a newer relievo (project format {version}; this one reads up to {FORMAT_VERSION})", .path.display())]
    Newer { path: PathBuf, version: u32 },
    #[error("{} is damaged: {why}", .path.display())]
    Corrupt { path: PathBuf, why: String },
    #[error(transparent)]
    Write(#[from] crate::export::ExportError),
}

/// The photo a project was made from: where it was, and a hash of its bytes to tell
/// whether the file there is still the same photo.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhotoRef {
    pub path: PathBuf,
    /// FNV-1a (64-bit) of the file's bytes, hexadecimal.
    pub hash: String,
}

/// The hand edits, as [`crate::edit::EditLayer`] holds them.
#[derive(Clone, Debug, PartialEq)]
pub struct EditGrids {
    pub offset_mm: Grid<f32>,
    pub damage: Grid<f32>,
    pub restored: Grid<f32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Project {
    /// The file the depth came from (the photo, or a depth map opened directly).
    pub source: PathBuf,
    pub photo: Option<PhotoRef>,
    /// The weights folder the layers came from.
    pub weights: Option<PathBuf>,
    pub relief: ReliefParams,
    /// The app's view settings, kept as they were written (the library does not read them).
    pub app: serde_json::Value,
    pub depth: Grid<f32>,
    pub edges: Option<Grid<u8>>,
    pub semantics: Option<Grid<u8>>,
    pub edits: Option<EditGrids>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    format_version: u32,
    written_by: String,
    width: usize,
    height: usize,
    source: PathBuf,
    photo: Option<PhotoRef>,
    weights: Option<PathBuf>,
    relief: ReliefParams,
    #[serde(default)]
    app: serde_json::Value,
    blobs: Vec<Blob>,
}

/// A raster in the file: its name, where it starts after the header, and its length.
#[derive(Serialize, Deserialize)]
struct Blob {
    name: String,
    offset: u64,
    len: u64,
}

/// FNV-1a (64-bit) of `bytes`, as 16 hex digits.
pub fn hash_bytes(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn f32_bytes(g: &Grid<f32>) -> Vec<u8> {
    g.data.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Writes `project` to `path` atomically (a temp file renamed over it).
pub fn save(project: &Project, path: &Path) -> Result<(), ProjectError> {
    let (width, height) = (project.depth.width, project.depth.height);
    let mut blobs: Vec<(String, Vec<u8>)> = vec![("depth".into(), f32_bytes(&project.depth))];
    for (name, grid) in [("edges", &project.edges), ("semantics", &project.semantics)] {
        if let Some(g) = grid {
            blobs.push((name.into(), g.data.clone()));
        }
    }
    if let Some(e) = &project.edits {
        blobs.push(("edit_offset_mm".into(), f32_bytes(&e.offset_mm)));
        blobs.push(("edit_damage".into(), f32_bytes(&e.damage)));
        blobs.push(("edit_restored".into(), f32_bytes(&e.restored)));
    }
    let mut offset = 0u64;
    let header = Header {
        format_version: FORMAT_VERSION,
        written_by: format!("relievo {}", env!("CARGO_PKG_VERSION")),
        width,
        height,
        source: project.source.clone(),
        photo: project.photo.clone(),
        weights: project.weights.clone(),
        relief: project.relief.clone(),
        app: project.app.clone(),
        blobs: blobs
            .iter()
            .map(|(name, bytes)| {
                let blob = Blob {
                    name: name.clone(),
                    offset,
                    len: bytes.len() as u64,
                };
                offset += bytes.len() as u64;
                blob
            })
            .collect(),
    };
    let header = serde_json::to_vec(&header).expect("plain data serialises");
    crate::export::atomic_write(path, |w| {
        w.write_all(MAGIC)?;
        w.write_all(&(header.len() as u64).to_le_bytes())?;
        w.write_all(&header)?;
        for (_, bytes) in &blobs {
            w.write_all(bytes)?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Reads a project file.
pub fn load(path: &Path) -> Result<Project, ProjectError> {
    let bytes = std::fs::read(path).map_err(|source| ProjectError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    decode(&bytes, path)
}

/// Reads a project from its bytes (`path` only names it in errors).
pub fn decode(bytes: &[u8], path: &Path) -> Result<Project, ProjectError> {
    let corrupt = |why: String| ProjectError::Corrupt {
        path: path.to_path_buf(),
        why,
    };
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return Err(ProjectError::NotAProject {
            path: path.to_path_buf(),
        });
    }
    let header_len = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
    if header_len > MAX_HEADER_BYTES || header_len > (bytes.len() - 16) as u64 {
        return Err(corrupt(format!("a header of {header_len} bytes does not fit")));
    }
    let header_end = 16 + header_len as usize;
    // The version first, so a newer file says so even if the rest of its header changed.
    let version = serde_json::from_slice::<serde_json::Value>(&bytes[16..header_end])
        .map_err(|e| corrupt(format!("header: {e}")))?
        .get("format_version")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| corrupt("no format version".into()))?;
    if version > u64::from(FORMAT_VERSION) {
        return Err(ProjectError::Newer {
            path: path.to_path_buf(),
            version: u32::try_from(version).unwrap_or(u32::MAX),
        });
    }
    let header: Header = serde_json::from_slice(&bytes[16..header_end]).map_err(|e| corrupt(format!("header: {e}")))?;
    let (w, h) = (header.width, header.height);
    let pixels = w.checked_mul(h).filter(|&n| n > 0 && n <= MAX_PIXELS);
    let Some(pixels) = pixels else {
        return Err(corrupt(format!("a {w}×{h} raster")));
    };
    let body = &bytes[header_end..];
    let blob = |name: &str, bytes_per_pixel: usize| -> Result<Option<&[u8]>, ProjectError> {
        let Some(b) = header.blobs.iter().find(|b| b.name == name) else {
            return Ok(None);
        };
        let expected = (pixels * bytes_per_pixel) as u64;
        let end = b.offset.checked_add(b.len).filter(|&e| e <= body.len() as u64);
        match end {
            Some(end) if b.len == expected => Ok(Some(&body[b.offset as usize..end as usize])),
            _ => Err(corrupt(format!("the {name} raster is cut short or the wrong size"))),
        }
    };
    let f32_grid = |name: &str| -> Result<Option<Grid<f32>>, ProjectError> {
        Ok(blob(name, 4)?.map(|raw| {
            let data = raw
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                .collect();
            Grid::from_vec(w, h, data)
        }))
    };
    let u8_grid = |name: &str| -> Result<Option<Grid<u8>>, ProjectError> {
        Ok(blob(name, 1)?.map(|raw| Grid::from_vec(w, h, raw.to_vec())))
    };
    let depth = f32_grid("depth")?.ok_or_else(|| corrupt("no depth".into()))?;
    if depth.data.iter().any(|v| !v.is_finite()) {
        return Err(corrupt("the depth holds a value that is not a number".into()));
    }
    let edits = match (
        f32_grid("edit_offset_mm")?,
        f32_grid("edit_damage")?,
        f32_grid("edit_restored")?,
    ) {
        (Some(offset_mm), Some(damage), Some(restored)) => {
            if offset_mm.data.iter().any(|v| !v.is_finite()) {
                return Err(corrupt("the edits hold a value that is not a number".into()));
            }
            Some(EditGrids {
                offset_mm,
                damage,
                restored,
            })
        }
        (None, None, None) => None,
        _ => return Err(corrupt("the edits are incomplete".into())),
    };
    let edges = u8_grid("edges")?;
    let semantics = u8_grid("semantics")?;
    let classes = [
        (&edges, crate::labels::EDGE_CLASSES, "soft-edge"),
        (&semantics, crate::labels::SEMANTIC_CLASSES, "semantic"),
    ];
    for (grid, count, what) in classes {
        if grid
            .as_ref()
            .is_some_and(|g| g.data.iter().any(|&c| usize::from(c) >= count))
        {
            return Err(corrupt(format!("a {what} class outside 0..{count}")));
        }
    }
    Ok(Project {
        source: header.source,
        photo: header.photo,
        weights: header.weights,
        relief: header.relief,
        app: header.app,
        depth,
        edges,
        semantics,
        edits,
    })
}

//! A present-day scan of the panel as heights, for [`crate::compare`]: a depth or height
//! map (PNG, TIFF, … 16-bit and float kept, through [`crate::photo::load_depth`]), or a
//! mesh — STL (binary or ASCII, `stl_io`), OBJ (`tobj`) or PLY (ASCII, binary little- and
//! big-endian) — seen from above along +z and rasterised by [`project_mesh`]. The mesh
//! format is chosen by the file's extension; a file that is not what its name says gives
//! one line naming it, never a panic, and counts a header claims are checked against the
//! file's size before anything is allocated.
//!
//! PLY is read here, driven by its header (the vertices' x, y, z of any scalar type, the
//! faces' `vertex_indices` list, every other element and property skipped): the PLY crates
//! (`ply-rs`, `ply-rs-bw`) turn on `indexmap`'s `std` feature, which wgpu and burn share,
//! so adding one rebuilds the whole GPU stack of every build of the workspace.

use std::path::{Path, PathBuf};

use crate::grid::Grid;

/// File extensions of the meshes [`load_scan`] reads.
pub const MESH_EXTENSIONS: &[&str] = &["stl", "obj", "ply"];

/// A scan mesh's format, from its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeshKind {
    Stl,
    Obj,
    Ply,
}

impl MeshKind {
    /// The mesh format `path`'s extension names; `None` for anything else (a depth map).
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "stl" => Some(Self::Stl),
            "obj" => Some(Self::Obj),
            "ply" => Some(Self::Ply),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Stl => "STL",
            Self::Obj => "OBJ",
            Self::Ply => "PLY",
        }
    }
}

/// Why a scan could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Depth(#[from] crate::photo::PhotoError),
    #[error("{} not found (a depth map or an STL/OBJ/PLY mesh expected)", .path.display())]
    NotFound { path: PathBuf },
    #[error("{} could not be read: {error}", .path.display())]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{} is not a readable {} mesh: {reason}", .path.display(), .kind.name())]
    Mesh {
        path: PathBuf,
        kind: MeshKind,
        reason: String,
    },
    #[error("{} holds no triangles (a {} mesh of the panel's surface expected)", .path.display(), .kind.name())]
    NoTriangles { path: PathBuf, kind: MeshKind },
}

/// Vertices (x, y, z) and triangles (indices into the vertices) of a scan mesh.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScanMesh {
    pub vertices: Vec<[f32; 3]>,
    pub triangles: Vec<[usize; 3]>,
}

/// A scan as heights: a depth map, or a mesh (STL, OBJ, PLY by the extension) seen from
/// above at `side_px` on its longer side. NaN marks pixels without data.
pub fn load_scan(path: &Path, side_px: usize) -> Result<Grid<f32>, ScanError> {
    if MeshKind::from_path(path).is_none() {
        return Ok(crate::photo::load_depth(path, &crate::photo::LoadOptions::default())?);
    }
    let mesh = read_mesh(path)?;
    Ok(project_mesh(&mesh.vertices, &mesh.triangles, side_px))
}

/// Reads an STL, OBJ or PLY mesh (by the extension; polygons are split into triangle
/// fans, points and lines ignored). An error if the file is not that format or has no
/// triangle.
pub fn read_mesh(path: &Path) -> Result<ScanMesh, ScanError> {
    let Some(kind) = MeshKind::from_path(path) else {
        return Err(ScanError::Mesh {
            path: path.to_owned(),
            kind: MeshKind::Stl,
            reason: "the extension is not .stl, .obj or .ply".into(),
        });
    };
    let file = std::fs::File::open(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => ScanError::NotFound { path: path.to_owned() },
        _ => ScanError::Io {
            path: path.to_owned(),
            error,
        },
    })?;
    decode_mesh(std::io::BufReader::new(file), kind, path)
}

/// [`read_mesh`] on a reader of a file of format `kind` (`path` only names it in errors).
pub fn decode_mesh(
    mut reader: impl std::io::BufRead + std::io::Seek,
    kind: MeshKind,
    path: &Path,
) -> Result<ScanMesh, ScanError> {
    let bad = |reason: String| ScanError::Mesh {
        path: path.to_owned(),
        kind,
        reason,
    };
    let mesh = match kind {
        MeshKind::Stl => read_stl(&mut reader),
        MeshKind::Obj => read_obj(&mut reader),
        MeshKind::Ply => read_ply(&mut reader),
    }
    .map_err(bad)?;
    if let Some(t) = mesh
        .triangles
        .iter()
        .find(|t| t.iter().any(|&i| i >= mesh.vertices.len()))
    {
        return Err(bad(format!(
            "a face names vertex {} of {}",
            t.iter().max().copied().unwrap_or_default() + 1,
            mesh.vertices.len()
        )));
    }
    if mesh.triangles.is_empty() {
        return Err(ScanError::NoTriangles {
            path: path.to_owned(),
            kind,
        });
    }
    Ok(mesh)
}

fn read_stl(reader: &mut (impl std::io::Read + std::io::Seek)) -> Result<ScanMesh, String> {
    let mesh = stl_io::read_stl(reader).map_err(|e| e.to_string())?;
    Ok(ScanMesh {
        vertices: mesh.vertices.iter().map(|v| [v[0], v[1], v[2]]).collect(),
        triangles: mesh.faces.iter().map(|f| f.vertices).collect(),
    })
}

fn read_obj(reader: &mut impl std::io::BufRead) -> Result<ScanMesh, String> {
    let options = tobj::LoadOptions {
        triangulate: true,
        ignore_points: true,
        ignore_lines: true,
        ..Default::default()
    };
    // Materials do not shape the surface: none are read (no other file is opened).
    let (models, _) = tobj::load_obj_buf(reader, &options, |_| Ok(Default::default())).map_err(|e| e.to_string())?;
    let mut mesh = ScanMesh::default();
    for model in models {
        let first = mesh.vertices.len();
        let m = model.mesh;
        mesh.vertices
            .extend(m.positions.chunks_exact(3).map(|p| [p[0], p[1], p[2]]));
        mesh.triangles.extend(
            m.indices
                .chunks_exact(3)
                .map(|t| [0, 1, 2].map(|k| first + t[k] as usize)),
        );
    }
    Ok(mesh)
}

fn read_ply(reader: &mut impl std::io::Read) -> Result<ScanMesh, String> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    let header_end = bytes
        .windows(10)
        .position(|w| w == b"end_header")
        .ok_or("no PLY header (no end_header line)")?;
    let body_start = bytes[header_end..]
        .iter()
        .position(|&b| b == b'\n')
        .map(|i| header_end + i + 1)
        .ok_or("the header's last line does not end")?;
    let header = std::str::from_utf8(&bytes[..header_end]).map_err(|_| "the header is not text")?;
    let mut lines = header.lines().map(str::trim).filter(|l| !l.is_empty());
    if lines.next() != Some("ply") {
        return Err("it does not start with \"ply\"".into());
    }
    let mut encoding = None;
    let mut elements: Vec<PlyElement> = Vec::new();
    for line in lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        let bad = || format!("bad header line \"{line}\"");
        match words.as_slice() {
            ["format", format, _] => {
                encoding = Some(match *format {
                    "ascii" => PlyEncoding::Ascii,
                    "binary_little_endian" => PlyEncoding::Little,
                    "binary_big_endian" => PlyEncoding::Big,
                    other => return Err(format!("unknown format {other}")),
                })
            }
            ["comment", ..] | ["obj_info", ..] => {}
            ["element", name, count] => elements.push(PlyElement {
                name: name.to_string(),
                count: count.parse().map_err(|_| bad())?,
                properties: Vec::new(),
            }),
            ["property", "list", count, item, name] => {
                let kind = PlyType::list(count, item).ok_or_else(bad)?;
                let element = elements.last_mut().ok_or("a property before any element")?;
                element.properties.push((name.to_string(), kind));
            }
            ["property", kind, name] => {
                let kind = PlyType::scalar(kind).ok_or_else(bad)?;
                let element = elements.last_mut().ok_or("a property before any element")?;
                element.properties.push((name.to_string(), kind));
            }
            _ => return Err(bad()),
        }
    }
    let encoding = encoding.ok_or("no format line")?;
    // Every record takes at least one byte: a count beyond the bytes left is a corrupt
    // header, refused before allocating anything.
    let left = bytes.len() - body_start;
    let total: usize = elements.iter().map(|e| e.count).fold(0, usize::saturating_add);
    if total > left {
        return Err(format!(
            "the header declares {total} records but only {left} bytes follow it"
        ));
    }
    let mut values = PlyValues {
        bytes: &bytes[body_start..],
        at: 0,
        encoding,
        words: None,
    };
    let mut mesh = ScanMesh::default();
    for element in &elements {
        let find = |n: &str| element.properties.iter().position(|(name, _)| name == n);
        let xyz = (element.name == "vertex").then(|| [find("x"), find("y"), find("z")]);
        if xyz.is_some_and(|xyz| xyz.iter().any(Option::is_none)) {
            return Err("the vertices have no x, y and z".into());
        }
        let indices = find("vertex_indices").or_else(|| find("vertex_index"));
        if element.name == "face" && indices.is_none() {
            return Err("the faces have no vertex_indices list".into());
        }
        for record in 0..element.count {
            let mut vertex = [0f32; 3];
            for (k, (_, kind)) in element.properties.iter().enumerate() {
                let (count_type, item_type) = match *kind {
                    PlyType::Scalar(t) => {
                        let v = values.next(t)?;
                        if let Some(c) = xyz.and_then(|xyz| xyz.iter().position(|&i| i == Some(k))) {
                            vertex[c] = v as f32;
                        }
                        continue;
                    }
                    PlyType::List(count, item) => (count, item),
                };
                let n = values.next(count_type)?;
                if !(0.0..=1e6).contains(&n) || n.fract() != 0.0 {
                    return Err(format!("{} {} has a list of {n} items", element.name, record + 1));
                }
                let items = (0..n as usize)
                    .map(|_| values.next(item_type))
                    .collect::<Result<Vec<f64>, String>>()?;
                if element.name == "face" && Some(k) == indices {
                    if items.iter().any(|&i| !(i >= 0.0 && i.fract() == 0.0)) {
                        return Err(format!("face {} has a negative or fractional index", record + 1));
                    }
                    // A fan: a polygon's first vertex with each following edge.
                    for w in 1..items.len().saturating_sub(1) {
                        mesh.triangles
                            .push([items[0], items[w], items[w + 1]].map(|i| i as usize));
                    }
                }
            }
            if xyz.is_some() {
                mesh.vertices.push(vertex);
            }
        }
    }
    Ok(mesh)
}

#[derive(Clone, Copy, PartialEq)]
enum PlyEncoding {
    Ascii,
    Little,
    Big,
}

/// A PLY scalar type: its size in bytes, floating point or not, signed or not.
#[derive(Clone, Copy)]
struct PlyScalar {
    bytes: usize,
    float: bool,
    signed: bool,
}

#[derive(Clone, Copy)]
enum PlyType {
    Scalar(PlyScalar),
    /// The count's type, the items' type.
    List(PlyScalar, PlyScalar),
}

impl PlyType {
    fn scalar_of(name: &str) -> Option<PlyScalar> {
        let (bytes, float, signed) = match name {
            "char" | "int8" => (1, false, true),
            "uchar" | "uint8" => (1, false, false),
            "short" | "int16" => (2, false, true),
            "ushort" | "uint16" => (2, false, false),
            "int" | "int32" => (4, false, true),
            "uint" | "uint32" => (4, false, false),
            "float" | "float32" => (4, true, true),
            "double" | "float64" => (8, true, true),
            _ => return None,
        };
        Some(PlyScalar { bytes, float, signed })
    }

    fn scalar(name: &str) -> Option<Self> {
        Self::scalar_of(name).map(Self::Scalar)
    }

    fn list(count: &str, item: &str) -> Option<Self> {
        Some(Self::List(
            Self::scalar_of(count).filter(|c| !c.float)?,
            Self::scalar_of(item)?,
        ))
    }
}

struct PlyElement {
    name: String,
    count: usize,
    properties: Vec<(String, PlyType)>,
}

/// The values after the header, one at a time.
struct PlyValues<'a> {
    bytes: &'a [u8],
    at: usize,
    encoding: PlyEncoding,
    /// ASCII: the words not read yet.
    words: Option<std::str::SplitAsciiWhitespace<'a>>,
}

impl PlyValues<'_> {
    fn next(&mut self, t: PlyScalar) -> Result<f64, String> {
        if self.encoding == PlyEncoding::Ascii {
            if self.words.is_none() {
                let text = std::str::from_utf8(self.bytes).map_err(|_| "the ASCII body is not text")?;
                self.words = Some(text.split_ascii_whitespace());
            }
            let word = self
                .words
                .as_mut()
                .and_then(Iterator::next)
                .ok_or("the file ends before its last element")?;
            return word
                .parse::<f64>()
                .ok()
                .filter(|v| t.float || v.fract() == 0.0)
                .ok_or_else(|| format!("\"{word}\" is not a number of its type"));
        }
        let raw = self
            .bytes
            .get(self.at..self.at + t.bytes)
            .ok_or("the file ends before its last element")?;
        self.at += t.bytes;
        let mut b = [0u8; 8];
        b[..t.bytes].copy_from_slice(raw);
        if self.encoding == PlyEncoding::Big {
            b[..t.bytes].reverse();
        }
        Ok(match (t.bytes, t.float, t.signed) {
            (4, true, _) => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            (8, true, _) => f64::from_le_bytes(b),
            (1, _, true) => b[0] as i8 as f64,
            (1, _, false) => b[0] as f64,
            (2, _, true) => i16::from_le_bytes([b[0], b[1]]) as f64,
            (2, _, false) => u16::from_le_bytes([b[0], b[1]]) as f64,
            (4, _, true) => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            _ => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
        })
    }
}

/// A scan mesh seen from above (+z up): the highest surface over each pixel of a grid
/// spanning the mesh's x–y bounds, `longest_side_px` on its longer side (row 0 at the
/// largest y, as a photo of the panel lying face up). NaN where no triangle covers a
/// pixel centre.
pub fn project_mesh(vertices: &[[f32; 3]], triangles: &[[usize; 3]], longest_side_px: usize) -> Grid<f32> {
    let (mut lo, mut hi) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
    for v in vertices.iter().filter(|v| v.iter().all(|c| c.is_finite())) {
        for k in 0..2 {
            lo[k] = lo[k].min(v[k]);
            hi[k] = hi[k].max(v[k]);
        }
    }
    let extent = [(hi[0] - lo[0]).max(0.0), (hi[1] - lo[1]).max(0.0)];
    let longest = extent[0].max(extent[1]);
    if !(longest > 0.0) {
        return Grid::filled(2, 2, f32::NAN);
    }
    let pitch = longest / (longest_side_px.max(2) - 1) as f32;
    let w = ((extent[0] / pitch).round() as usize + 1).max(2);
    let h = ((extent[1] / pitch).round() as usize + 1).max(2);
    let mut grid = Grid::filled(w, h, f32::NAN);
    // Pixel (x, y) sits at (lo.x + x·pitch, hi.y − y·pitch).
    let to_px = |v: [f32; 3]| [(v[0] - lo[0]) / pitch, (hi[1] - v[1]) / pitch, v[2]];
    for t in triangles {
        let Some(&[a, b, c]) = t
            .iter()
            .map(|&i| {
                vertices
                    .get(i)
                    .copied()
                    .filter(|v| v.iter().all(|c| c.is_finite()))
                    .map(to_px)
            })
            .collect::<Option<Vec<_>>>()
            .as_deref()
        else {
            continue;
        };
        let area = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
        if !(area.abs() > 1e-12) {
            continue; // walls seen edge-on, degenerate triangles
        }
        let x0 = a[0].min(b[0]).min(c[0]).ceil().max(0.0) as usize;
        let x1 = (a[0].max(b[0]).max(c[0]).floor() as usize).min(w - 1);
        let y0 = a[1].min(b[1]).min(c[1]).ceil().max(0.0) as usize;
        let y1 = (a[1].max(b[1]).max(c[1]).floor() as usize).min(h - 1);
        for y in y0..=y1 {
            for x in x0..=x1 {
                let (px, py) = (x as f32, y as f32);
                let wa = ((b[0] - px) * (c[1] - py) - (b[1] - py) * (c[0] - px)) / area;
                let wb = ((c[0] - px) * (a[1] - py) - (c[1] - py) * (a[0] - px)) / area;
                let wc = 1.0 - wa - wb;
                if wa >= -1e-5 && wb >= -1e-5 && wc >= -1e-5 {
                    let z = wa * a[2] + wb * b[2] + wc * c[2];
                    let cell = grid.get(x, y);
                    if !(cell >= z) {
                        grid.set(x, y, z);
                    }
                }
            }
        }
    }
    grid
}

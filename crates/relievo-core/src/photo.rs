//! Loading photos and depth maps into `Grid`s: PNG, JPEG, TIFF, WebP and BMP, 8- or 16-bit (and
//! 32-bit float where the image crate decodes it), grey or colour, with or without alpha. The format
//! is sniffed from the content, not the extension; EXIF orientation is applied; the declared size is
//! checked against `LoadOptions::max_pixels` before anything is decoded. Every failure is one
//! `PhotoError` whose message is one line naming the file, the reason and what is expected.

use std::fs;
use std::io::{self, Cursor};
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};
use serde::{Deserialize, Serialize};

use crate::grid::Grid;

/// File extensions offered in file dialogs. Loading itself trusts the content, not the name.
pub const SUPPORTED_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "tif", "tiff", "webp", "bmp"];

/// The formats whose content `load_photo` and `load_depth` decode.
const SUPPORTED_FORMATS: [ImageFormat; 5] = [
    ImageFormat::Png,
    ImageFormat::Jpeg,
    ImageFormat::Tiff,
    ImageFormat::WebP,
    ImageFormat::Bmp,
];

/// Bytes per pixel of the widest decoded layout (RGBA, 32-bit float): the allocation budget is
/// `max_pixels` times this.
const MAX_DECODED_BYTES_PER_PIXEL: u64 = 16;

/// Rec. 709 luma weights, the ones the image crate uses for RGB → grey.
const LUMA_WEIGHTS: [f32; 3] = [0.2126, 0.7152, 0.0722];

/// How images are loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadOptions {
    /// Largest accepted `width × height`, checked on the header before decoding.
    pub max_pixels: u64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            max_pixels: 100_000_000,
        }
    }
}

/// A decoded photo, upright (EXIF orientation applied).
#[derive(Clone, Debug, PartialEq)]
pub struct Photo {
    /// sRGB-encoded values in 0..1 (no linearisation): 8-bit `v / 255`, 16-bit `v / 65535`, float
    /// clamped to 0..1. Grey photos have the grey replicated to all three channels. Alpha is
    /// composited over white in encoded space (`c·a + 1 − a`), as a viewer shows it on a page.
    pub rgb: Grid<[f32; 3]>,
    /// The file stored grey (or grey + alpha) samples, e.g. a scanned black-and-white print.
    pub was_grey: bool,
}

impl Photo {
    pub fn width(&self) -> usize {
        self.rgb.width
    }

    pub fn height(&self) -> usize {
        self.rgb.height
    }

    /// Luma `0.2126 R′ + 0.7152 G′ + 0.0722 B′` of the encoded values (the image crate's RGB →
    /// grey), in 0..1; for a grey photo exactly its grey values.
    pub fn luminance(&self) -> Grid<f32> {
        if self.was_grey {
            self.rgb.map(|[grey, _, _]| grey)
        } else {
            self.rgb.map(luma)
        }
    }

    /// Row-major RGBA, 8 bits per channel, alpha 255 (e.g. for a GUI texture).
    pub fn to_rgba8(&self) -> Vec<u8> {
        let to_u8 = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        self.rgb
            .data
            .iter()
            .flat_map(|&[r, g, b]| [to_u8(r), to_u8(g), to_u8(b), 255])
            .collect()
    }
}

/// Why a photo or depth map could not be loaded. Each message is one line that names the file as
/// it was given.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("{} not found (a PNG/JPEG/TIFF/WebP/BMP image expected)", .path.display())]
    NotFound { path: PathBuf },
    #[error("{} is a directory, not an image file (PNG/JPEG/TIFF/WebP/BMP expected)", .path.display())]
    IsDirectory { path: PathBuf },
    #[error("{} could not be read: {error}", .path.display())]
    Io { path: PathBuf, error: io::Error },
    #[error("{} is empty (0 bytes; a PNG/JPEG/TIFF/WebP/BMP image expected)", .path.display())]
    Empty { path: PathBuf },
    #[error("{} is not an image (PNG/JPEG/TIFF/WebP/BMP expected)", .path.display())]
    NotAnImage { path: PathBuf },
    #[error("{} is a {format} image, which relievo does not read (PNG/JPEG/TIFF/WebP/BMP expected)", .path.display())]
    UnsupportedFormat { path: PathBuf, format: String },
    #[error("{} uses an unsupported image variant: {reason} (8- or 16-bit grey or RGB expected)", .path.display())]
    Unsupported { path: PathBuf, reason: String },
    #[error("{} is truncated or corrupt: {reason}", .path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "{} is {width}×{height} pixels, more than the limit of {max_pixels} pixels; downscale it first",
        .path.display()
    )]
    TooLarge {
        path: PathBuf,
        width: u32,
        height: u32,
        max_pixels: u64,
    },
    #[error("{} is {width}×{height} pixels; at least 2×2 needed", .path.display())]
    TooSmall { path: PathBuf, width: u32, height: u32 },
}

/// Loads a photo from a file (format sniffed from the content).
pub fn load_photo(path: &Path, opts: &LoadOptions) -> Result<Photo, PhotoError> {
    photo_from_bytes(&read_file(path)?, path, opts)
}

/// Decodes a photo from bytes already in memory (e.g. dropped on the window); `name` is used in
/// error messages only.
pub fn decode_photo(bytes: &[u8], name: &str, opts: &LoadOptions) -> Result<Photo, PhotoError> {
    photo_from_bytes(bytes, Path::new(name), opts)
}

/// Loads a height map in 0..1, 1 = most raised: 8-bit `v / 255`, 16-bit `v / 65535` (every 16-bit
/// level stays distinct in `f32`). Colour maps give their luma (as `Photo::luminance`); alpha is
/// ignored. Float samples are kept if all lie in 0..1, otherwise min–max normalised to 0..1
/// (non-finite samples become 0).
pub fn load_depth(path: &Path, opts: &LoadOptions) -> Result<Grid<f32>, PhotoError> {
    depth_from_bytes(&read_file(path)?, path, opts)
}

/// [`load_depth`] from bytes already in memory; `name` is used in error messages only.
pub fn decode_depth(bytes: &[u8], name: &str, opts: &LoadOptions) -> Result<Grid<f32>, PhotoError> {
    depth_from_bytes(bytes, Path::new(name), opts)
}

fn depth_from_bytes(bytes: &[u8], path: &Path, opts: &LoadOptions) -> Result<Grid<f32>, PhotoError> {
    let image = decode_image(bytes, path, opts)?;
    Ok(Grid::from_vec(
        image.width() as usize,
        image.height() as usize,
        heights(&image),
    ))
}

fn photo_from_bytes(bytes: &[u8], path: &Path, opts: &LoadOptions) -> Result<Photo, PhotoError> {
    let image = decode_image(bytes, path, opts)?;
    let rgb = Grid::from_vec(image.width() as usize, image.height() as usize, rgb_over_white(&image));
    Ok(Photo {
        rgb,
        was_grey: !image.color().has_color(),
    })
}

fn read_file(path: &Path) -> Result<Vec<u8>, PhotoError> {
    let io_error = |error: io::Error| match error.kind() {
        io::ErrorKind::NotFound => PhotoError::NotFound { path: path.to_owned() },
        _ => PhotoError::Io {
            path: path.to_owned(),
            error,
        },
    };
    if fs::metadata(path).map_err(io_error)?.is_dir() {
        return Err(PhotoError::IsDirectory { path: path.to_owned() });
    }
    fs::read(path).map_err(io_error)
}

/// Sniffs, checks the declared size, decodes and turns the image upright.
fn decode_image(bytes: &[u8], path: &Path, opts: &LoadOptions) -> Result<DynamicImage, PhotoError> {
    if bytes.is_empty() {
        return Err(PhotoError::Empty { path: path.to_owned() });
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| classify(path, ImageError::IoError(e), None))?;
    let format = reader
        .format()
        .ok_or_else(|| PhotoError::NotAnImage { path: path.to_owned() })?;
    if !SUPPORTED_FORMATS.contains(&format) {
        let format = format!("{format:?}").to_uppercase();
        return Err(PhotoError::UnsupportedFormat {
            path: path.to_owned(),
            format,
        });
    }
    // Read only the header first: our own limits are applied once the size is known, so that a
    // too-large image is reported with its size.
    reader.no_limits();
    let mut decoder = reader.into_decoder().map_err(|e| classify(path, e, None))?;
    let (width, height) = decoder.dimensions();
    let size = Some((width, height, opts.max_pixels));
    if u64::from(width) * u64::from(height) > opts.max_pixels {
        return Err(PhotoError::TooLarge {
            path: path.to_owned(),
            width,
            height,
            max_pixels: opts.max_pixels,
        });
    }
    if width < 2 || height < 2 {
        return Err(PhotoError::TooSmall {
            path: path.to_owned(),
            width,
            height,
        });
    }
    let mut limits = Limits::default();
    let max_side = u32::try_from(opts.max_pixels).unwrap_or(u32::MAX);
    limits.max_image_width = Some(max_side);
    limits.max_image_height = Some(max_side);
    limits.max_alloc = Some(opts.max_pixels.saturating_mul(MAX_DECODED_BYTES_PER_PIXEL));
    limits
        .reserve(decoder.total_bytes())
        .map_err(|e| classify(path, e, size))?;
    decoder.set_limits(limits).map_err(|e| classify(path, e, size))?;
    // Broken orientation metadata must not cost the user the photo: it is then taken as upright.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| classify(path, e, size))?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// Maps the image crate's error kinds onto ours. `size` is (width, height, max_pixels) once the
/// header has been read.
fn classify(path: &Path, error: ImageError, size: Option<(u32, u32, u64)>) -> PhotoError {
    let path = path.to_owned();
    match (error, size) {
        (ImageError::Limits(_), Some((width, height, max_pixels)))
            if u64::from(width) * u64::from(height) > max_pixels =>
        {
            PhotoError::TooLarge {
                path,
                width,
                height,
                max_pixels,
            }
        }
        // Within the pixel limit, yet the decoder was asked for more memory than the image
        // needs: a strip or chunk declaring gigabytes (a decompression bomb or damage).
        (ImageError::Limits(e), Some((width, height, _))) => PhotoError::Corrupt {
            path,
            reason: format!(
                "it asks for more memory than a {width}×{height} image needs ({})",
                one_line(&e.to_string())
            ),
        },
        (ImageError::Unsupported(e), _) => PhotoError::Unsupported {
            path,
            reason: one_line(&e.to_string()),
        },
        (ImageError::IoError(e), _) if e.kind() == io::ErrorKind::UnexpectedEof => PhotoError::Corrupt {
            path,
            reason: "the data ends early".to_owned(),
        },
        (error, _) => PhotoError::Corrupt {
            path,
            reason: one_line(&error.to_string()),
        },
    }
}

/// Decoder messages can span lines; ours are one line.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn luma([r, g, b]: [f32; 3]) -> f32 {
    LUMA_WEIGHTS[0] * r + LUMA_WEIGHTS[1] * g + LUMA_WEIGHTS[2] * b
}

/// Every pixel as encoded RGB in 0..1, alpha composited over white.
fn rgb_over_white(image: &DynamicImage) -> Vec<[f32; 3]> {
    let channels = usize::from(image.color().channel_count());
    if let Some(s) = image.as_flat_samples_u8() {
        over_white(s.samples, channels, |v| f32::from(v) / 255.0)
    } else if let Some(s) = image.as_flat_samples_u16() {
        over_white(s.samples, channels, |v| f32::from(v) / 65535.0)
    } else if let Some(s) = image.as_flat_samples_f32() {
        over_white(s.samples, channels, |v| v.clamp(0.0, 1.0))
    } else {
        over_white(image.to_rgba32f().as_raw(), 4, |v| v.clamp(0.0, 1.0))
    }
}

/// `samples` holds `channels` (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA) samples per pixel.
fn over_white<S: Copy>(samples: &[S], channels: usize, unit: impl Fn(S) -> f32) -> Vec<[f32; 3]> {
    samples
        .chunks_exact(channels)
        .map(|p| {
            let (rgb, alpha) = match channels {
                1 => ([unit(p[0]); 3], 1.0),
                2 => ([unit(p[0]); 3], unit(p[1])),
                3 => ([unit(p[0]), unit(p[1]), unit(p[2])], 1.0),
                _ => ([unit(p[0]), unit(p[1]), unit(p[2])], unit(p[3])),
            };
            rgb.map(|c| c * alpha + (1.0 - alpha))
        })
        .collect()
}

/// Every pixel as one height in 0..1 (see `load_depth`).
fn heights(image: &DynamicImage) -> Vec<f32> {
    let channels = usize::from(image.color().channel_count());
    if let Some(s) = image.as_flat_samples_u8() {
        first_or_luma(s.samples, channels, |v| f32::from(v) / 255.0)
    } else if let Some(s) = image.as_flat_samples_u16() {
        first_or_luma(s.samples, channels, |v| f32::from(v) / 65535.0)
    } else if let Some(s) = image.as_flat_samples_f32() {
        normalised(first_or_luma(s.samples, channels, |v| v))
    } else {
        normalised(first_or_luma(image.to_rgba32f().as_raw(), 4, |v| v))
    }
}

/// The grey sample of grey pixels, the luma of colour ones; alpha dropped.
fn first_or_luma<S: Copy>(samples: &[S], channels: usize, unit: impl Fn(S) -> f32) -> Vec<f32> {
    samples
        .chunks_exact(channels)
        .map(|p| {
            if channels < 3 {
                unit(p[0])
            } else {
                luma([unit(p[0]), unit(p[1]), unit(p[2])])
            }
        })
        .collect()
}

/// Float heights: kept if all in 0..1, else min–max normalised (non-finite → 0).
fn normalised(mut values: Vec<f32>) -> Vec<f32> {
    if values.iter().all(|v| (0.0..=1.0).contains(v)) {
        return values;
    }
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let range = hi - lo;
    for v in &mut values {
        *v = if v.is_finite() && range > 0.0 {
            (*v - lo) / range
        } else {
            0.0
        };
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_heights_outside_unit_range_are_normalised() {
        assert_eq!(normalised(vec![0.0, 0.5, 1.0]), vec![0.0, 0.5, 1.0]);
        assert_eq!(normalised(vec![-2.0, 0.0, 2.0, f32::NAN]), vec![0.0, 0.5, 1.0, 0.0]);
    }

    #[test]
    fn alpha_composites_over_white() {
        let rgba: [u8; 8] = [0, 0, 0, 0, 255, 0, 0, 255];
        assert_eq!(
            over_white(&rgba, 4, |v| f32::from(v) / 255.0),
            vec![[1.0; 3], [1.0, 0.0, 0.0]]
        );
        let grey_alpha: [u8; 2] = [0, 51];
        let [g, _, _] = over_white(&grey_alpha, 2, |v| f32::from(v) / 255.0)[0];
        assert!((g - 0.8).abs() < 1e-6);
    }

    #[test]
    fn multi_line_decoder_messages_become_one_line() {
        assert_eq!(one_line("bad  chunk\n  CRC\tmismatch "), "bad chunk CRC mismatch");
    }
}

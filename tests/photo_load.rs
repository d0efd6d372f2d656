//! End-to-end tests of `relievo::photo`: every format and bit depth written with the image crate
//! into a temporary directory and loaded back, EXIF orientation, and every kind of bad input.
//! Fixtures are made by the tests and named after the expected result.

use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageBuffer, ImageFormat, Luma, LumaA, Rgb, Rgba};
use relievo::photo::*;

const W: u32 = 5;
const H: u32 = 3;

/// A sample that differs per pixel and channel and reaches both ends of the range.
fn sample(x: u32, y: u32, channel: u32, max: u32) -> u32 {
    let v = [0, max, max / 3, 2 * max / 3, 1, max - 1, max / 2][((x + 2 * y + 3 * channel) % 7) as usize];
    if channel == 3 {
        [max, 0, max / 2][((x + y) % 3) as usize]
    } else {
        v
    }
}

fn test_image(kind: &str) -> DynamicImage {
    let s8 = |x, y, c| sample(x, y, c, 255) as u8;
    let s16 = |x, y, c| sample(x, y, c, 65535) as u16;
    let sf = |x, y, c| sample(x, y, c, 65535) as f32 / 65535.0;
    match kind {
        "l8" => ImageBuffer::from_fn(W, H, |x, y| Luma([s8(x, y, 0)])).into(),
        "la8" => ImageBuffer::from_fn(W, H, |x, y| LumaA([s8(x, y, 0), s8(x, y, 3)])).into(),
        "rgb8" => ImageBuffer::from_fn(W, H, |x, y| Rgb([s8(x, y, 0), s8(x, y, 1), s8(x, y, 2)])).into(),
        "rgba8" => ImageBuffer::from_fn(W, H, |x, y| Rgba([s8(x, y, 0), s8(x, y, 1), s8(x, y, 2), s8(x, y, 3)])).into(),
        "l16" => ImageBuffer::from_fn(W, H, |x, y| Luma([s16(x, y, 0)])).into(),
        "la16" => ImageBuffer::from_fn(W, H, |x, y| LumaA([s16(x, y, 0), s16(x, y, 3)])).into(),
        "rgb16" => ImageBuffer::from_fn(W, H, |x, y| Rgb([s16(x, y, 0), s16(x, y, 1), s16(x, y, 2)])).into(),
        "rgba16" => ImageBuffer::from_fn(W, H, |x, y| {
            Rgba([s16(x, y, 0), s16(x, y, 1), s16(x, y, 2), s16(x, y, 3)])
        })
        .into(),
        "rgb32f" => DynamicImage::ImageRgb32F(ImageBuffer::from_fn(W, H, |x, y| {
            Rgb([sf(x, y, 0), sf(x, y, 1), sf(x, y, 2)])
        })),
        "rgba32f" => DynamicImage::ImageRgba32F(ImageBuffer::from_fn(W, H, |x, y| {
            Rgba([sf(x, y, 0), sf(x, y, 1), sf(x, y, 2), sf(x, y, 3)])
        })),
        _ => unreachable!("unknown test image kind {kind}"),
    }
}

/// What a `Photo` of `image` must hold: the image crate's own float conversion, over white.
fn expected_rgb(image: &DynamicImage) -> Vec<[f32; 3]> {
    image
        .to_rgba32f()
        .pixels()
        .map(|p| [p[0], p[1], p[2]].map(|c| c * p[3] + (1.0 - p[3])))
        .collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn load_err(path: &Path) -> PhotoError {
    load_photo(path, &LoadOptions::default()).expect_err("loading should fail")
}

/// The message is one line that names the file.
fn assert_one_line_naming(error: &PhotoError, path: &Path) {
    let message = error.to_string();
    assert!(!message.contains('\n'), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
}

#[test]
fn every_lossless_format_and_bit_depth_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, ImageFormat, &[&str])] = &[
        (
            "png",
            ImageFormat::Png,
            &["l8", "la8", "rgb8", "rgba8", "l16", "la16", "rgb16", "rgba16"],
        ),
        (
            "tiff",
            ImageFormat::Tiff,
            &["l8", "rgb8", "rgba8", "l16", "rgb16", "rgba16", "rgb32f", "rgba32f"],
        ),
        ("webp", ImageFormat::WebP, &["rgb8", "rgba8"]),
        ("bmp", ImageFormat::Bmp, &["rgb8", "rgba8"]),
    ];
    for &(ext, format, kinds) in cases {
        for &kind in kinds {
            let image = test_image(kind);
            let path = dir.path().join(format!("{kind}_{ext}_should_round_trip.{ext}"));
            image.save_with_format(&path, format).unwrap();
            let photo = load_photo(&path, &LoadOptions::default()).unwrap();
            assert_eq!(
                (photo.width(), photo.height()),
                (W as usize, H as usize),
                "{kind}.{ext}"
            );
            for (i, (got, want)) in photo.rgb.data.iter().zip(expected_rgb(&image)).enumerate() {
                let off = got.iter().zip(want).map(|(g, w)| (g - w).abs()).fold(0.0, f32::max);
                assert!(off < 1e-6, "{kind}.{ext} pixel {i}: {got:?} vs {want:?}");
            }
            assert_eq!(photo.was_grey, kind.starts_with('l'), "{kind}.{ext}");
        }
    }
}

#[test]
fn jpeg_loads_close_to_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    // Smooth content so the lossy round trip stays close.
    let image: DynamicImage = ImageBuffer::from_fn(32, 16, |x, y| Rgb([(x * 8) as u8, (y * 16) as u8, 128])).into();
    for (kind, image) in [
        ("rgb8", image.clone()),
        ("l8", DynamicImage::ImageLuma8(image.to_luma8())),
    ] {
        let path = dir.path().join(format!("{kind}_jpeg_should_load.jpg"));
        image.save_with_format(&path, ImageFormat::Jpeg).unwrap();
        let photo = load_photo(&path, &LoadOptions::default()).unwrap();
        assert_eq!((photo.width(), photo.height(), photo.was_grey), (32, 16, kind == "l8"));
        let mean_error = photo
            .rgb
            .data
            .iter()
            .zip(expected_rgb(&image))
            .map(|(g, w)| (g[0] - w[0]).abs())
            .sum::<f32>()
            / photo.rgb.len() as f32;
        assert!(mean_error < 0.02, "{kind}: mean error {mean_error}");
    }
}

#[test]
fn eight_bit_photo_round_trips_through_rgba8_and_grey_luminance_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let rgb = test_image("rgb8");
    let path = dir.path().join("rgb8_should_round_trip.png");
    rgb.save(&path).unwrap();
    assert_eq!(
        load_photo(&path, &LoadOptions::default()).unwrap().to_rgba8(),
        rgb.to_rgba8().into_raw()
    );

    let grey = test_image("l16");
    let path = dir.path().join("l16_luminance_should_be_its_grey.png");
    grey.save(&path).unwrap();
    let luminance = load_photo(&path, &LoadOptions::default()).unwrap().luminance();
    let want: Vec<f32> = grey.to_luma16().pixels().map(|p| f32::from(p[0]) / 65535.0).collect();
    assert_eq!(luminance.data, want);
}

#[test]
fn sixteen_bit_depth_keeps_full_precision() {
    let dir = tempfile::tempdir().unwrap();
    let levels = [0u16, 1, 65534, 65535];
    let depth = ImageBuffer::from_fn(2, 2, |x, y| Luma([levels[(2 * y + x) as usize]]));
    for (ext, format) in [("png", ImageFormat::Png), ("tiff", ImageFormat::Tiff)] {
        let path = dir.path().join(format!("depth16_{ext}_should_keep_every_level.{ext}"));
        DynamicImage::ImageLuma16(depth.clone())
            .save_with_format(&path, format)
            .unwrap();
        let loaded = load_depth(&path, &LoadOptions::default()).unwrap();
        let want: Vec<f32> = levels.iter().map(|&v| f32::from(v) / 65535.0).collect();
        assert_eq!(loaded.data, want, "{ext}");
        assert!(loaded.data.windows(2).all(|w| w[0] < w[1]), "{ext}: levels merged");
    }
}

#[test]
fn depth_maps_of_other_layouts_load_in_unit_range() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("depth8_should_load.png");
    test_image("l8").save(&path).unwrap();
    let want: Vec<f32> = test_image("l8")
        .to_luma8()
        .pixels()
        .map(|p| f32::from(p[0]) / 255.0)
        .collect();
    assert_eq!(load_depth(&path, &LoadOptions::default()).unwrap().data, want);

    // A colour map gives its luma; alpha is ignored.
    let path = dir.path().join("colour_depth_should_give_luma.png");
    ImageBuffer::from_fn(2, 2, |x, _| {
        if x == 0 {
            Rgba([255u8, 0, 0, 0])
        } else {
            Rgba([0, 255, 0, 255])
        }
    })
    .save(&path)
    .unwrap();
    let loaded = load_depth(&path, &LoadOptions::default()).unwrap();
    assert!(
        (loaded.get(0, 0) - 0.2126).abs() < 1e-6 && (loaded.get(1, 1) - 0.7152).abs() < 1e-6,
        "{loaded:?}"
    );

    // Float heights outside 0..1 are normalised to their range.
    let path = dir.path().join("float_depth_in_metres_should_be_normalised.tiff");
    let metres = ImageBuffer::from_fn(2, 2, |x, y| Rgb([(x + 2 * y) as f32 * 3.0; 3]));
    DynamicImage::ImageRgb32F(metres)
        .save_with_format(&path, ImageFormat::Tiff)
        .unwrap();
    let loaded = load_depth(&path, &LoadOptions::default()).unwrap();
    let want = [0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0];
    assert!(
        loaded.data.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-6),
        "{loaded:?}"
    );
}

/// A JPEG with an APP1 Exif segment whose one IFD entry is Orientation (0x0112) = `orientation`.
fn jpeg_with_orientation(image: &DynamicImage, orientation: u16) -> Vec<u8> {
    let mut jpeg = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut jpeg), ImageFormat::Jpeg)
        .unwrap();
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec(); // big-endian TIFF header, IFD at offset 8
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1]); // Orientation, SHORT, count 1
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // value padding, no next IFD
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&((2 + 6 + tiff.len()) as u16).to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&tiff);
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    jpeg.splice(2..2, app1);
    jpeg
}

#[test]
fn exif_orientation_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    // 16×8, left half black, right half white.
    let image: DynamicImage = ImageBuffer::from_fn(16, 8, |x, _| Luma([if x < 8 { 0u8 } else { 255 }])).into();
    let bytes = jpeg_with_orientation(&image, 6); // 6: rotate 90° clockwise to display
    let path = write(dir.path(), "exif_rotate90_jpeg_should_load_upright.jpg", &bytes);
    for photo in [
        load_photo(&path, &LoadOptions::default()).unwrap(),
        decode_photo(&bytes, "dropped.jpg", &LoadOptions::default()).unwrap(),
    ] {
        assert_eq!((photo.width(), photo.height()), (8, 16));
        // The left (black) column became the top row.
        let luminance = photo.luminance();
        assert!(
            luminance.get(4, 2) < 0.1 && luminance.get(4, 13) > 0.9,
            "{:?}",
            luminance.data
        );
    }
    let depth = load_depth(&path, &LoadOptions::default()).unwrap();
    assert_eq!((depth.width, depth.height), (8, 16));
}

#[test]
fn truncated_png_is_reported_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let noise: DynamicImage = ImageBuffer::from_fn(64, 64, |x, y| Luma([((x * 31 + y * 17) ^ (x * y)) as u8])).into();
    let mut bytes = Vec::new();
    noise
        .write_to(&mut std::io::Cursor::new(&mut bytes), ImageFormat::Png)
        .unwrap();
    let path = write(dir.path(), "truncated_png_should_fail.png", &bytes[..bytes.len() / 2]);
    let error = load_err(&path);
    assert!(matches!(error, PhotoError::Corrupt { .. }), "{error:?}");
    assert!(error.to_string().contains("is truncated or corrupt"), "{error}");
    assert_one_line_naming(&error, &path);
}

#[test]
fn empty_file_text_file_and_other_formats_are_refused_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "zero_bytes_should_fail.png", b"");
    let error = load_err(&empty);
    assert!(matches!(error, PhotoError::Empty { .. }), "{error:?}");
    assert_one_line_naming(&error, &empty);

    let text = write(
        dir.path(),
        "text_named_png_should_fail.png",
        b"shopping list: milk, eggs\n",
    );
    let error = load_err(&text);
    assert!(matches!(error, PhotoError::NotAnImage { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!("{} is not an image (PNG/JPEG/TIFF/WebP/BMP expected)", text.display())
    );

    let gif = write(dir.path(), "gif_should_fail.png", b"GIF89a\x02\0\x02\0\0\0\0;");
    let error = load_err(&gif);
    assert!(
        matches!(&error, PhotoError::UnsupportedFormat { format, .. } if format == "GIF"),
        "{error:?}"
    );
    assert_one_line_naming(&error, &gif);

    // Content wins over the name: a PNG called .jpg loads.
    let misnamed = dir.path().join("png_named_jpg_should_load.jpg");
    test_image("rgb8")
        .save_with_format(&misnamed, ImageFormat::Png)
        .unwrap();
    assert!(load_photo(&misnamed, &LoadOptions::default()).is_ok());
}

#[test]
fn images_under_two_by_two_pixels_are_too_small() {
    let dir = tempfile::tempdir().unwrap();
    for (w, h) in [(1, 1), (1, 7)] {
        let path = dir.path().join(format!("{w}x{h}_png_should_fail.png"));
        ImageBuffer::from_pixel(w, h, Luma([9u8])).save(&path).unwrap();
        let error = load_err(&path);
        assert!(
            matches!(error, PhotoError::TooSmall { width, height, .. } if (width, height) == (w, h)),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .ends_with(&format!("{w}×{h} pixels; at least 2×2 needed")),
            "{error}"
        );
        assert_one_line_naming(&error, &path);
    }
}

#[test]
fn directories_and_missing_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let error = load_err(dir.path());
    assert!(matches!(error, PhotoError::IsDirectory { .. }), "{error:?}");
    assert_one_line_naming(&error, dir.path());

    let missing = dir.path().join("missing_file_should_fail.png");
    for error in [
        load_err(&missing),
        load_depth(&missing, &LoadOptions::default()).unwrap_err(),
    ] {
        assert!(matches!(error, PhotoError::NotFound { .. }), "{error:?}");
        assert_one_line_naming(&error, &missing);
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    let crc = crc32(&chunk[4..]);
    chunk.extend_from_slice(&crc.to_be_bytes());
    chunk
}

#[test]
fn huge_declared_size_is_refused_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    // A valid 100000×100000 RGB header followed by a token of image data: 30 GB if decoded.
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(b"IHDR", &ihdr));
    png.extend(png_chunk(b"IDAT", &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
    png.extend(png_chunk(b"IEND", &[]));
    let path = write(dir.path(), "huge_header_png_should_fail.png", &png);
    for error in [load_err(&path), load_depth(&path, &LoadOptions::default()).unwrap_err()] {
        assert!(
            matches!(
                error,
                PhotoError::TooLarge {
                    width: 100_000,
                    height: 100_000,
                    max_pixels: 100_000_000,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(error.to_string().contains("100000×100000 pixels"), "{error}");
        assert_one_line_naming(&error, &path);
    }

    // The limit is an option.
    let small = dir.path().join("4x4_over_a_10_pixel_limit_should_fail.png");
    test_image("rgb8")
        .resize_exact(4, 4, image::imageops::FilterType::Nearest)
        .save(&small)
        .unwrap();
    let error = load_photo(&small, &LoadOptions { max_pixels: 10 }).unwrap_err();
    assert!(
        matches!(
            error,
            PhotoError::TooLarge {
                width: 4,
                height: 4,
                max_pixels: 10,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn dropped_bytes_report_the_given_name() {
    let error = decode_photo(b"not an image at all", "dropped.webp", &LoadOptions::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "dropped.webp is not an image (PNG/JPEG/TIFF/WebP/BMP expected)"
    );
    let error = decode_photo(&[], "empty.png", &LoadOptions::default()).unwrap_err();
    assert!(matches!(error, PhotoError::Empty { .. }));
    assert!(SUPPORTED_EXTENSIONS.contains(&"tiff") && SUPPORTED_EXTENSIONS.len() == 7);
}

/// Peak resident memory of this process so far, MB (Linux).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A little-endian grey TIFF of `width × height` whose one strip declares `strip_bytes`
/// bytes (compression 1 = none, 8 = deflate) but holds 16.
fn tiff_with_strip(width: u32, height: u32, compression: u16, strip_bytes: u32) -> Vec<u8> {
    let entries: [(u16, u16, u32); 9] = [
        (256, 4, width),
        (257, 4, height),
        (258, 3, 8),
        (259, 3, u32::from(compression)),
        (262, 3, 1),
        (273, 4, 8 + 2 + 9 * 12 + 4), // the strip right after the IFD
        (277, 3, 1),
        (278, 4, height),
        (279, 4, strip_bytes),
    ];
    let mut t = b"II*\0".to_vec();
    t.extend_from_slice(&8u32.to_le_bytes());
    t.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, kind, value) in entries {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(&1u32.to_le_bytes());
        if kind == 3 {
            t.extend_from_slice(&(value as u16).to_le_bytes());
            t.extend_from_slice(&[0, 0]);
        } else {
            t.extend_from_slice(&value.to_le_bytes());
        }
    }
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(&[
        0x78, 0x9C, 0x63, 0x60, 0x18, 0x05, 0xA3, 0x60, 0x14, 0x0C, 0x00, 0x00, 0, 0, 0, 0,
    ]);
    t
}

#[test]
fn tiffs_declaring_huge_strips_fail_fast_without_the_memory() {
    let dir = tempfile::tempdir().unwrap();
    let before = peak_rss_mb();
    for (name, width, height, compression, strip) in [
        // A small image whose strip claims 4 GB.
        ("strip_4gb_should_fail.tif", 100, 100, 1, 4_000_000_000u32),
        // The same, deflated: the strip would inflate far past the image.
        ("deflate_strip_4gb_should_fail.tif", 100, 100, 8, 4_000_000_000),
        // An image within the pixel limit (60 M px) whose data is missing.
        ("60mpx_with_16_bytes_should_fail.tif", 10_000, 6_000, 1, 60_000_000),
    ] {
        let path = write(dir.path(), name, &tiff_with_strip(width, height, compression, strip));
        let started = std::time::Instant::now();
        for error in [load_err(&path), load_depth(&path, &LoadOptions::default()).unwrap_err()] {
            // Not "too large": the image is small, its data is what is wrong.
            assert!(matches!(error, PhotoError::Corrupt { .. }), "{name}: {error}");
            assert_one_line_naming(&error, &path);
        }
        assert!(started.elapsed().as_secs_f32() < 2.0, "{name}: {:?}", started.elapsed());
    }
    if let (Some(before), Some(after)) = (before, peak_rss_mb()) {
        // The 60 M-pixel image may be allocated once (60 MB as 8-bit grey, 240 MB as f32);
        // a 4 GB strip must not be.
        assert!(after - before < 1500.0, "peak memory grew by {:.0} MB", after - before);
    }
}

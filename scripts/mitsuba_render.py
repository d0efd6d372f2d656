#!/usr/bin/env python3
"""Renders a relievo dataset's height maps with Mitsuba 3 (held-out test renders).

A renderer the network never trained on: every height map becomes a smooth triangle
mesh lit by a directional key light from any side (elevation 12-70 degrees) and a
constant sky, path traced with interreflections (max_depth 3-4), in stone or metal
materials (diffuse, rough plastic, principled, rough conductor) with optional
procedural mottling. Half the renders are then aged like old prints (sepia, gentle
blur, film grain, vignetting). The depth, edge and semantic labels are copied
unchanged.

    scripts/mitsuba_render.py SRC OUT --seed N [--spp 16] [--variant scalar_rgb]

SRC holds depth/NAME.png (16-bit greyscale, 65535 = most raised); OUT receives
images/NAME.png (8-bit sRGB, same size, pixel-aligned) and copies of depth/, edges/,
semantics/. Each sample's scene is drawn from a generator seeded by (--seed, NAME), so
reruns give the same dataset; finished images are skipped (resumable) and every file
is written to a temporary name and then os.replace()d. Renders use one thread
(--threads). Variant scalar_rgb (default): llvm_ad_rgb aborts on this machine with
the LLVM error "Cannot select: fminimum"; scalar_rgb takes ~2.5 s per 320 px image.

Geometry and alignment. Depth pixel (row r, col c) becomes the vertex
(X, Y, Z) = (c + 0.5, H - (r + 0.5), h * relief) in a Z-up world (the edge is
replicated a few pixels beyond the frame so border pixels never miss the mesh and
shadows from just outside exist). An orthographic camera at Z above the mesh looks
down -Z with up = +Y, scaled to exactly W x H world units, with a box pixel filter,
so output pixel (r, c) integrates over the world square around (c + 0.5, H - r - 0.5),
i.e. depth pixel (r, c). Image row 0 = depth row 0, column 0 = depth column 0.

How it was verified (--check-orientation runs it again): a 200 x 120 (W x H,
rectangular on purpose) depth map that is 0 everywhere except a raised block
(65535) at rows 10..39, cols 20..69 near the top-left corner, rendered with the key
light from the image's right (light travelling towards -X) at 20 degrees elevation.
The block's lit right wall and the cast shadow to its left must appear where the
depth map says: the render's columns 69/70 (wall face, bright) and the columns just
left of 20 (shadow, dark) inside rows 10..39, with nothing of the kind in the other
corners; then the same block lit from the image bottom must light rows 39/40 and
shadow rows 0..9 above it. The script asserts those pixel positions (all passed:
wall 2.1x the flat ground at cols 69 and 70, shadow 0.1-0.2x) and writes the images.
"""

import argparse
import hashlib
import math
import os
import shutil
import sys
import tempfile
import time

import numpy as np
from PIL import Image, ImageFilter

# Linear RGB albedos.
STONES = {
    "buff sandstone": (0.45, 0.35, 0.24),
    "red sandstone": (0.42, 0.2, 0.14),
    "grey granite": (0.3, 0.29, 0.28),
    "white marble": (0.74, 0.72, 0.68),
    "limestone": (0.58, 0.54, 0.45),
    "dark basalt": (0.08, 0.08, 0.08),
    "plaster": (0.8, 0.79, 0.76),
    "slate": (0.17, 0.19, 0.22),
    "terracotta": (0.5, 0.27, 0.16),
}
METALS = {
    "bronze": (0.55, 0.38, 0.2),
    "patinated bronze": (0.25, 0.36, 0.28),
    "silver": (0.8, 0.8, 0.78),
    "gold": (0.9, 0.68, 0.3),
    "copper": (0.85, 0.5, 0.35),
}
PAD = 4  # replicated border, pixels


def rng_for(seed, name):
    h = hashlib.sha256(("mitsuba/%d/%s" % (seed, name)).encode()).digest()
    return np.random.default_rng(int.from_bytes(h[:8], "little"))


# --------------------------------------------------------------------- geometry
def write_ply(path, hgt, relief):
    """Binary PLY heightfield: `hgt` (H x W, 0..1) -> vertices (c+0.5, H-(r+0.5),
    hgt*relief), padded by PAD replicated pixels; two triangles per quad."""
    H, W = hgt.shape
    p = np.pad(hgt, PAD, mode="edge").astype(np.float64)
    ph, pw = p.shape
    rr, cc = np.mgrid[0:ph, 0:pw]
    cc = cc - PAD
    rr = rr - PAD
    x = cc + 0.5
    y = H - (rr + 0.5)
    z = p * relief
    u = (cc + 0.5) / W
    v = (rr + 0.5) / H
    verts = np.zeros(ph * pw, dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("u", "<f4"), ("v", "<f4")])
    verts["x"], verts["y"], verts["z"] = x.ravel(), y.ravel(), z.ravel()
    verts["u"], verts["v"] = u.ravel(), v.ravel()
    idx = np.arange(ph * pw).reshape(ph, pw)
    a, b = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel()
    c, d = idx[1:, :-1].ravel(), idx[1:, 1:].ravel()
    # Orientation: image rows run towards -Y, so (a, c, b) is counter-clockwise seen
    # from +Z (normal up). Alternate the diagonal to avoid a directional bias.
    alt = ((np.arange(ph - 1)[:, None] + np.arange(pw - 1)[None, :]) % 2).ravel().astype(bool)
    t1 = np.where(alt[:, None], np.stack([a, c, d], 1), np.stack([a, c, b], 1))
    t2 = np.where(alt[:, None], np.stack([a, d, b], 1), np.stack([b, c, d], 1))
    tris = np.concatenate([t1, t2])
    faces = np.zeros(len(tris), dtype=[("n", "u1"), ("i", "<i4", (3,))])
    faces["n"] = 3
    faces["i"] = tris
    with open(path, "wb") as f:
        f.write(("ply\nformat binary_little_endian 1.0\nelement vertex %d\n"
                 "property float x\nproperty float y\nproperty float z\n"
                 "property float u\nproperty float v\n"
                 "element face %d\nproperty list uchar int vertex_indices\nend_header\n"
                 % (len(verts), len(faces))).encode())
        f.write(verts.tobytes())
        f.write(faces.tobytes())


# ---------------------------------------------------------------------- texture
def fbm(rng, h, w, scale, octaves=5):
    """Fractal value noise, roughly 0..1, feature size `scale` pixels."""
    out = np.zeros((h, w), np.float32)
    amp, tot = 1.0, 0.0
    s = scale
    for _ in range(octaves):
        gh, gw = max(2, int(h / s) + 2), max(2, int(w / s) + 2)
        g = rng.random((gh, gw)).astype(np.float32)
        img = Image.fromarray(g).resize((int(gw * s), int(gh * s)), Image.BICUBIC)
        a = np.asarray(img)
        oy, ox = rng.integers(0, a.shape[0] - h + 1), rng.integers(0, a.shape[1] - w + 1)
        out += amp * a[oy:oy + h, ox:ox + w]
        tot += amp
        amp *= 0.5
        s = max(1.0, s / 2)
    return out / tot


def albedo_texture(rng, h, w, base, kind):
    """Mottled linear albedo (h x w x 3) around `base`."""
    base = np.asarray(base, np.float32)
    mottle = rng.uniform(0.08, 0.35)
    n = fbm(rng, h, w, rng.uniform(4, 60))
    n = (n - n.mean()) / (n.std() + 1e-6)
    if kind == "marble":  # veins
        t = fbm(rng, h, w, rng.uniform(20, 80), 4)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        ang = rng.uniform(0, math.pi)
        f = rng.uniform(0.02, 0.08)
        veins = np.abs(np.sin((xx * math.cos(ang) + yy * math.sin(ang)) * f + t * rng.uniform(4, 12))) ** 0.3
        n = 0.4 * n + 2.0 * (veins - veins.mean())
    elif kind == "speckle":  # granite: fine grains
        g = rng.random((h, w)).astype(np.float32)
        n = 0.5 * n + 2.5 * ((g > 0.85).astype(np.float32) - (g < 0.1).astype(np.float32))
    tint = 1 + rng.normal(0, 0.06, 3).astype(np.float32)
    tex = base[None, None, :] * tint * (1 + mottle * 0.5 * n[..., None])
    return np.clip(tex, 0.01, 0.95).astype(np.float32)


def material(rng, h, w, mi, force=None):
    """Mitsuba BSDF dict and a description string."""
    metal = rng.random() < 0.12 if force is None else force == "metal"
    table = METALS if metal else STONES
    name = list(table)[rng.integers(len(table))]
    base = [min(0.95, c * rng.uniform(0.8, 1.2)) for c in table[name]]
    if force is None and rng.random() < 0.6:
        kind = "marble" if "marble" in name else "speckle" if name in ("grey granite", "dark basalt") else "mottle"
        refl = {"type": "bitmap", "bitmap": mi.Bitmap(albedo_texture(rng, h, w, base, kind)),
                "raw": True, "filter_type": "bilinear"}
        desc = name + " textured"
    else:
        refl = {"type": "rgb", "value": base}
        desc = name + " plain"
    if metal:
        if rng.random() < 0.5:
            bsdf = {"type": "roughconductor", "material": "none", "specular_reflectance": refl,
                    "distribution": "ggx", "alpha": float(rng.uniform(0.15, 0.45))}
            return bsdf, desc + " roughconductor"
        bsdf = {"type": "principled", "base_color": refl, "metallic": float(rng.uniform(0.6, 1.0)),
                "roughness": float(rng.uniform(0.3, 0.7))}
        return bsdf, desc + " principled-metal"
    u = rng.random() if force is None else 0.0
    if u < 0.6:
        return {"type": "diffuse", "reflectance": refl}, desc + " diffuse"
    if u < 0.8:
        return ({"type": "roughplastic", "diffuse_reflectance": refl, "distribution": "ggx",
                 "alpha": float(rng.uniform(0.15, 0.5)), "int_ior": float(rng.uniform(1.4, 1.6))},
                desc + " roughplastic")
    return ({"type": "principled", "base_color": refl, "roughness": float(rng.uniform(0.4, 0.9)),
             "specular": float(rng.uniform(0.1, 0.5))}, desc + " principled")


# ----------------------------------------------------------------------- render
def scene_dict(mi, rng, ply, W, H, relief, spp, bsdf, light=None):
    """`light` = (azimuth, elevation) in radians, azimuth in image coordinates
    (0 = light on the right, pi/2 = light at the top of the image)."""
    if light is None:
        az = rng.uniform(0, 2 * math.pi)
        el = math.radians(rng.uniform(12, 70))
        fill = rng.uniform(0.05, 0.4)
        depth = int(rng.integers(3, 5))
    else:
        az, el = light
        fill, depth = 0.1, 3
    # Towards the light, world coordinates (image up = +Y).
    to_light = np.array([math.cos(az) * math.cos(el), math.sin(az) * math.cos(el), math.sin(el)])
    key = 3.0
    ktint = 1 + rng.normal(0, 0.04, 3)
    stint = 1 + rng.normal(0, 0.06, 3)
    top = relief + 10.0
    T = mi.ScalarTransform4f
    cam = T().look_at(origin=[W / 2, H / 2, top], target=[W / 2, H / 2, 0], up=[0, 1, 0]) @ T().scale([W / 2, W / 2, 1])
    if spp == int(math.isqrt(spp)) ** 2:
        sampler = {"type": "stratified", "sample_count": spp, "seed": int(rng.integers(1 << 30))}
    else:
        sampler = {"type": "independent", "sample_count": spp, "seed": int(rng.integers(1 << 30))}
    return {
        "type": "scene",
        "integrator": {"type": "path", "max_depth": depth},
        "sensor": {
            "type": "orthographic", "to_world": cam, "near_clip": 1.0, "far_clip": top + 20.0,
            "sampler": sampler,
            "film": {"type": "hdrfilm", "width": W, "height": H, "rfilter": {"type": "box"},
                     "pixel_format": "rgb", "sample_border": False},
        },
        "relief": {"type": "ply", "filename": ply, "bsdf": bsdf, "face_normals": False},
        "key": {"type": "directional", "direction": (-to_light).tolist(),
                "irradiance": {"type": "rgb", "value": (key * ktint).tolist()}},
        "sky": {"type": "constant",
                "radiance": {"type": "rgb", "value": (key * fill / math.pi * stint).tolist()}},
    }, dict(azimuth=math.degrees(az) % 360, elevation=math.degrees(el), fill=fill, max_depth=depth)


def to_srgb(lin):
    lin = np.clip(lin, 0, 1)
    return np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * np.power(lin, 1 / 2.4) - 0.055)


def tone(rng, lin, old):
    """Linear HDR -> sRGB 0..1: median luminance to mid-grey, optional old print."""
    lum = lin @ np.array([0.2126, 0.7152, 0.0722])
    med = float(np.median(lum))
    lin = lin * (rng.uniform(0.15, 0.24) / max(med, 1e-6))
    img = to_srgb(lin)
    if not old:
        return img
    h, w, _ = img.shape
    grey = img @ np.array([0.299, 0.587, 0.114])
    sepia = np.array([1.0, rng.uniform(0.8, 0.92), rng.uniform(0.58, 0.75)])
    img = grey[..., None] * (sepia / (sepia @ np.array([0.299, 0.587, 0.114])))
    yy, xx = np.mgrid[0:h, 0:w]
    r2 = ((xx + 0.5 - w / 2) / (w / 2)) ** 2 + ((yy + 0.5 - h / 2) / (h / 2)) ** 2
    img = img * (1 - rng.uniform(0.08, 0.3) * r2 / 2)[..., None]
    pil = Image.fromarray((np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8))
    pil = pil.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    img = np.asarray(pil).astype(np.float32) / 255
    img = img + rng.normal(0, rng.uniform(0.012, 0.028), (h, w))[..., None].astype(np.float32)
    return np.clip(img, 0, 1)


def render(mi, rng, hgt, relief, spp, tmp, force=None, light=None):
    H, W = hgt.shape
    ply = os.path.join(tmp, "hf.ply")
    write_ply(ply, hgt, relief)
    bsdf, desc = material(rng, H, W, mi, force)
    sd, info = scene_dict(mi, rng, ply, W, H, relief, spp, bsdf, light)
    scene = mi.load_dict(sd)
    lin = np.array(mi.render(scene, spp=spp), dtype=np.float32)[..., :3]
    info["material"] = desc
    return lin, info


def save_png(arr01, dst):
    tmp = dst + ".tmp.png"
    Image.fromarray((np.clip(arr01, 0, 1) * 255 + 0.5).astype(np.uint8)).save(tmp)
    os.replace(tmp, dst)


def check_orientation(mi, outdir):
    """Rectangular map with a raised block near the top-left corner, light from the
    right: asserts where the lit wall and the cast shadow land."""
    W, H = 200, 120
    hgt = np.zeros((H, W), np.float32)
    hgt[10:40, 20:70] = 1.0
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        lin, info = render(mi, rng, hgt, 15.0, 16, tmp, force="diffuse", light=(0.0, math.radians(20)))
    lum = lin @ np.array([0.2126, 0.7152, 0.0722])
    os.makedirs(outdir, exist_ok=True)
    save_png(np.repeat(hgt[..., None], 3, 2), os.path.join(outdir, "check_depth.png"))
    save_png(to_srgb(lin / np.median(lum) * 0.18), os.path.join(outdir, "check_render.png"))
    flat = np.median(lum)
    top = np.median(lum[15:35, 30:60])
    wall = np.median(lum[15:35, 69])  # block's right wall between cols 69.5 and 70.5
    shadow = np.median(lum[15:35, 2:18])  # cast to the left (shadow length 15/tan 20 = 41 px)
    print("flat %.3f  block top %.3f  right wall (col 69) %.3f  shadow left of block %.3f" % (flat, top, wall, shadow))
    for name, (r, c) in {"top-right": (25, 150), "bottom-left": (90, 40), "bottom-right": (90, 150)}.items():
        print("  %s corner %.3f" % (name, np.median(lum[r - 10:r + 10, c - 10:c + 10])))
        assert abs(np.median(lum[r - 10:r + 10, c - 10:c + 10]) / flat - 1) < 0.1, name
    assert wall > 1.5 * flat, "lit wall not at column 69"
    assert shadow < 0.5 * flat, "shadow not left of the block"
    assert abs(top / flat - 1) < 0.1
    # The wall's edge: column 70 is flat ground in shadow-free light, column 71 too.
    print("column profile row 25, cols 16..22 and 66..73:",
          np.round(lum[25, 16:23] / flat, 2), np.round(lum[25, 66:74] / flat, 2))
    # Same block lit from the image bottom (azimuth 270): the bottom wall (rows 39/40)
    # is lit and the shadow falls upwards, rows 0..9 above the block.
    with tempfile.TemporaryDirectory() as tmp:
        lin2, _ = render(mi, np.random.default_rng(0), hgt, 15.0, 16, tmp, force="diffuse",
                         light=(math.radians(270), math.radians(20)))
    lum2 = lin2 @ np.array([0.2126, 0.7152, 0.0722])
    flat2 = np.median(lum2)
    save_png(to_srgb(lin2 / flat2 * 0.18), os.path.join(outdir, "check_render_bottomlight.png"))
    print("light from bottom: row profile col 45, rows 6..12 and 36..43:",
          np.round(lum2[6:13, 45] / flat2, 2), np.round(lum2[36:44, 45] / flat2, 2))
    assert lum2[39, 30:60].mean() > 1.5 * flat2 and lum2[40, 30:60].mean() > 1.5 * flat2
    assert lum2[0:9, 25:65].mean() < 0.5 * flat2
    print("orientation OK; images in", outdir)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("src", nargs="?", help="dataset folder with depth/ (and edges/, semantics/)")
    p.add_argument("out", nargs="?", help="dataset folder to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--spp", type=int, default=16)
    p.add_argument("--variant", default="scalar_rgb", help="Mitsuba variant (scalar_rgb or llvm_ad_rgb)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--check-orientation", metavar="DIR", help="run the alignment test, write images to DIR")
    p.add_argument("--limit", type=int, default=0, help="render at most this many (testing)")
    args = p.parse_args()

    import mitsuba as mi
    mi.set_variant(args.variant)
    import drjit as dr
    dr.set_thread_count(args.threads)
    mi.set_log_level(mi.LogLevel.Warn)

    if args.check_orientation:
        check_orientation(mi, args.check_orientation)
        return
    if not args.src or not args.out:
        p.error("SRC and OUT are required")
    names = sorted(f[:-4] for f in os.listdir(os.path.join(args.src, "depth")) if f.endswith(".png"))
    if not names:
        sys.exit("%s: no depth/*.png" % args.src)
    if args.limit:
        names = names[:args.limit]
    subs = [s for s in ("depth", "edges", "semantics") if os.path.isdir(os.path.join(args.src, s))]
    for sub in ["images"] + subs:
        os.makedirs(os.path.join(args.out, sub), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for i, name in enumerate(names):
            dst = os.path.join(args.out, "images", name + ".png")
            if os.path.exists(dst):
                continue  # resumable
            for sub in subs:
                s = os.path.join(args.src, sub, name + ".png")
                d = os.path.join(args.out, sub, name + ".png")
                if os.path.exists(s):
                    shutil.copyfile(s, d + ".tmp")
                    os.replace(d + ".tmp", d)
            t0 = time.time()
            rng = rng_for(args.seed, name)
            depth = np.asarray(Image.open(os.path.join(args.src, "depth", name + ".png"))).astype(np.float32)
            if depth.ndim == 3:
                depth = depth[..., 0]
            hgt = depth / 65535.0
            H, W = hgt.shape
            relief = max(W, H) * math.exp(rng.uniform(math.log(0.01), math.log(0.1)))
            lin, info = render(mi, rng, hgt, relief, args.spp, tmp)
            old = rng.random() < 0.5
            save_png(tone(rng, lin, old), dst)
            print("%d/%d %s %.1fs relief %.1f px, light az %.0f el %.0f fill %.2f depth %d, %s%s" % (
                i + 1, len(names), name, time.time() - t0, relief, info["azimuth"], info["elevation"],
                info["fill"], info["max_depth"], info["material"], ", old print" if old else ""), flush=True)


if __name__ == "__main__":
    main()

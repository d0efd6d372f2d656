#!/usr/bin/env python3
"""Renders a relievo dataset's height maps a second time, with POV-Ray.

The synthetic world (`relievo synth`) renders its reliefs with relievo's own shader.
A network trained only on that shader learns its look as well as the reliefs. This
script gives the same heights a second look from an independent ray tracer, with
materials, lights and finishes relievo's shader does not have (POV-Ray's granite,
marble, agate and bozo pigments, bump-mapped grain the truth does not contain, area
and point lights, brilliance and metallic finishes), then degrades half of the
renders like old prints. The depth, edge and semantic labels are copied unchanged.

    relievo synth --count 600 --size 320 --seed 777 --out SRC
    scripts/povray_world.py SRC OUT --seed 1          # needs `povray` (Debian: apt install povray)
    relievo train --data OUT --synthetic ...           # half POV-Ray, half relievo's shader

Every sample's scene is drawn from a random generator seeded by (--seed, name), so a
rerun gives the same dataset. Needs numpy and Pillow.
"""

import argparse
import hashlib
import io
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageFilter

# Linear RGB albedos of the stones and metals reliefs are carved or struck in.
STONES = {
    "buff sandstone": (0.45, 0.35, 0.24),
    "red sandstone": (0.42, 0.2, 0.14),
    "granite": (0.3, 0.29, 0.28),
    "marble": (0.74, 0.72, 0.68),
    "limestone": (0.58, 0.54, 0.45),
    "basalt": (0.1, 0.1, 0.1),
    "slate": (0.17, 0.19, 0.22),
    "plaster": (0.8, 0.79, 0.76),
    "terracotta": (0.5, 0.27, 0.16),
    "schist": (0.3, 0.33, 0.3),
}
METALS = {
    "bronze": (0.32, 0.22, 0.11),
    "patinated bronze": (0.18, 0.26, 0.2),
    "silver": (0.5, 0.5, 0.5),
    "gold": (0.6, 0.45, 0.2),
}
PATTERNS = ["granite", "bozo", "marble", "agate", "spotted", "wrinkles", "crackle", "plain"]


def rgb(c):
    return "rgb <%.4f, %.4f, %.4f>" % tuple(c)


def scene(rng, w, h, depth_png, relief):
    """POV-Ray source of one photo of the height map `depth_png` (w × h pixels, relief
    depth `relief` pixels), orthographic and frontal, pixel-aligned with the map."""
    metal = rng.random() < 0.12
    name, base = rng.choice(list((METALS if metal else STONES).items()))
    k = rng.uniform(0.7, 1.25)
    base = [min(0.95, c * k * rng.uniform(0.92, 1.08)) for c in base]
    mottle = rng.uniform(0.0, 0.45)
    pattern = rng.choice(PATTERNS)
    scale = rng.uniform(1.5, 40.0)
    lo = [c * (1 - mottle) for c in base]
    hi = [min(1.0, c * (1 + mottle)) for c in base]
    if pattern == "plain":
        pigment = "pigment { %s }" % rgb(base)
    else:
        turb = "turbulence %.2f" % rng.uniform(0.0, 1.0) if pattern in ("marble", "agate", "bozo") else ""
        pigment = "pigment { %s %s color_map { [0 %s] [0.5 %s] [1 %s] } scale %.2f }" % (
            pattern, turb, rgb(lo), rgb(base), rgb(hi), scale)
    normal = ""
    if rng.random() < 0.5:
        kind = rng.choice(["granite", "bumps", "dents", "wrinkles"])
        normal = "normal { %s %.3f scale %.2f }" % (kind, rng.uniform(0.05, 0.5), rng.uniform(0.4, 4.0))
    if metal:
        finish = "finish { ambient %.3f diffuse %.2f metallic specular %.2f roughness %.3f brilliance %.2f }" % (
            rng.uniform(0.0, 0.15), rng.uniform(0.5, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.01, 0.08),
            rng.uniform(0.8, 2.5))
    else:
        finish = "finish { ambient %.3f diffuse %.2f brilliance %.2f specular %.3f roughness %.3f }" % (
            rng.uniform(0.0, 0.3), rng.uniform(0.5, 0.9), rng.uniform(0.5, 2.0), rng.uniform(0.0, 0.25) ** 2 * 4,
            rng.uniform(0.02, 0.15))

    # Key light: from any side half the time, otherwise around the upper left (where
    # most photographers put it); raking elevations are the common case.
    if rng.random() < 0.5:
        azimuth = rng.uniform(0, 2 * math.pi)
    else:
        azimuth = math.radians(135 + rng.gauss(0, 45))  # upper left in image coordinates
    elevation = math.radians(rng.uniform(12, 40) if rng.random() < 0.7 else rng.uniform(40, 75))
    # Image x to the right, image y down (the render is flipped vertically afterwards,
    # so POV's +z is image down): direction towards the light.
    lx, ly = math.cos(azimuth), -math.sin(azimuth)
    d = [lx * math.cos(elevation), math.sin(elevation), ly * math.cos(elevation)]
    cx, cz = w / 2, h / 2
    lights = []
    if rng.random() < 0.3:
        # A lamp at a finite distance: direction and brightness change across the panel.
        dist = max(w, h) * rng.uniform(1.2, 4.0)
        pos = [cx + d[0] * dist, d[1] * dist, cz + d[2] * dist]
        fade = "fade_distance %.1f fade_power 2" % dist
        lights.append("light_source { <%.2f, %.2f, %.2f> color rgb %.2f %s %s }" % (
            pos[0], pos[1], pos[2], rng.uniform(1.0, 1.4), fade, area(rng, max(w, h))))
    else:
        dist = max(w, h) * 50
        pos = [cx + d[0] * dist, d[1] * dist, cz + d[2] * dist]
        lights.append("light_source { <%.2f, %.2f, %.2f> color rgb %.2f parallel point_at <%.1f, 0, %.1f> %s }" % (
            pos[0], pos[1], pos[2], rng.uniform(0.9, 1.3), cx, cz, area(rng, dist * 0.05)))
    if rng.random() < 0.35:
        fa = azimuth + math.pi + rng.gauss(0, 0.6)
        fe = math.radians(rng.uniform(20, 70))
        fd = [math.cos(fa) * math.cos(fe), math.sin(fe), -math.sin(fa) * math.cos(fe)]
        dist = max(w, h) * 50
        lights.append("light_source { <%.2f, %.2f, %.2f> color rgb %.2f parallel point_at <%.1f, 0, %.1f> shadowless }" % (
            cx + fd[0] * dist, fd[1] * dist, cz + fd[2] * dist, rng.uniform(0.1, 0.4), cx, cz))
    tint = [rng.uniform(0.9, 1.1) for _ in range(3)]
    return """#version 3.7;
global_settings { assumed_gamma 1.0 ambient_light %s max_trace_level 3 }
camera { orthographic location <%.1f, %.1f, %.1f> look_at <%.1f, 0, %.1f> right <%d, 0, 0> up <0, 0, %d> }
%s
height_field { png "%s" smooth scale <%d, %.3f, %d> translate <0.5, 0, 0.5>
  texture { %s %s %s } }
""" % (rgb(tint), cx, relief * 10 + 100, cz, cx, cz, -w, h, "\n".join(lights),
       depth_png, w - 1, relief, h - 1, pigment, normal, finish)


def area(rng, size):
    """Soft shadows from an extended light half the time."""
    if rng.random() < 0.5:
        return ""
    s = size * rng.uniform(0.02, 0.15)
    return "area_light <%.2f, 0, 0>, <0, 0, %.2f>, 4, 4 adaptive 0 jitter" % (s, s)


def degrade(rng, img):
    """Old-print look for about half the renders: toning, fading, blur, grain,
    vignetting, dust; JPEG compression sometimes. `img` is sRGB float 0..1."""
    h, w, _ = img.shape
    img = img * rng.uniform(0.75, 1.3)  # exposure
    if rng.random() < 0.45:
        return np.clip(img, 0, 1), False
    s = rng.uniform(0.3, 1.0)
    if rng.random() < 0.7:
        grey = img @ np.array([0.299, 0.587, 0.114])
        tone = np.array([1.0, rng.uniform(0.78, 0.95), rng.uniform(0.5, 0.8)]) if rng.random() < 0.7 else np.ones(3)
        img = grey[..., None] * tone
    gamma = rng.uniform(0.7, 1.4)
    img = np.clip(img, 0, 1) ** gamma
    paper = np.array([rng.uniform(0.75, 0.95), rng.uniform(0.7, 0.9), rng.uniform(0.55, 0.8)])
    fade = rng.uniform(0.0, 0.5) * s
    img = img * (1 - fade) + paper * fade
    yy, xx = np.mgrid[0:h, 0:w]
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
    img = img * (1 - rng.uniform(0, 0.35) * s * r2)[..., None]
    out = Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8))
    out = out.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 1.6) * s))
    img = np.asarray(out).astype(np.float32) / 255
    grain = rng.uniform(0.005, 0.06) * s
    n = np.asarray(Image.fromarray((np.random.default_rng(rng.getrandbits(32)).normal(0.5, 0.15, (h, w)) * 255)
                                   .clip(0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0))))
    img = img + ((n.astype(np.float32) / 255 - 0.5) * grain * 6)[..., None]
    for _ in range(int(rng.uniform(0, 30) * s)):
        x, y, r = rng.randrange(w), rng.randrange(h), rng.uniform(0.5, 2.0)
        v = 1.0 if rng.random() < 0.5 else 0.1
        img[max(0, int(y - r)):int(y + r) + 1, max(0, int(x - r)):int(x + r) + 1] = v
    return np.clip(img, 0, 1), rng.random() < 0.4


def render_one(args, name, tmp):
    rng = random.Random(int(hashlib.sha256(("%d/%s" % (args.seed, name)).encode()).hexdigest()[:16], 16))
    src = os.path.join(args.src, "depth", name + ".png")
    depth = Image.open(src)
    w, h = depth.size
    # POV-Ray reads 16-bit greyscale PNGs as 16-bit height fields.
    hf = os.path.join(tmp, "hf.png")
    Image.fromarray(np.asarray(depth).astype(np.uint16)).save(hf)
    relief = max(w, h) * math.exp(rng.uniform(math.log(0.01), math.log(0.1)))
    pov = os.path.join(tmp, "scene.pov")
    with open(pov, "w") as f:
        f.write(scene(rng, w, h, hf, relief))
    out = os.path.join(tmp, "render.png")
    cmd = ["povray", "-D", "-GA", "+I" + pov, "+O" + out, "+W%d" % w, "+H%d" % h, "+A0.1", "+AM2", "+R2",
           "+WT%d" % args.threads, "Display_Gamma=2.2", "File_Gamma=2.2"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError("povray failed on %s: %s" % (name, done.stderr.strip().splitlines()[-1:]))
    img = np.flipud(np.asarray(Image.open(out).convert("RGB")).astype(np.float32) / 255)
    img, jpeg = degrade(rng, img)
    pil = Image.fromarray((img * 255 + 0.5).astype(np.uint8))
    if jpeg:
        buf = io.BytesIO()
        pil.save(buf, "JPEG", quality=rng.randrange(30, 90))
        pil = Image.open(buf).convert("RGB")
    dst = os.path.join(args.out, "images", name + ".png")
    pil.save(dst + ".tmp.png")
    os.replace(dst + ".tmp.png", dst)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("src", help="dataset folder with depth/ (and edges/, semantics/), e.g. from relievo synth")
    p.add_argument("out", help="dataset folder to write (images/ rendered here, labels copied)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="POV-Ray render threads")
    args = p.parse_args()
    if shutil.which("povray") is None:
        sys.exit("povray not found (Debian/Ubuntu: apt install povray)")
    names = sorted(f[:-4] for f in os.listdir(os.path.join(args.src, "depth")) if f.endswith(".png"))
    if not names:
        sys.exit("%s: no depth/*.png" % args.src)
    for sub in ("images", "depth", "edges", "semantics"):
        os.makedirs(os.path.join(args.out, sub), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for i, name in enumerate(names):
            if os.path.exists(os.path.join(args.out, "images", name + ".png")):
                continue  # resumable: finished samples stay
            for sub in ("depth", "edges", "semantics"):
                s = os.path.join(args.src, sub, name + ".png")
                if os.path.exists(s):
                    shutil.copyfile(s, os.path.join(args.out, sub, name + ".png"))
            render_one(args, name, tmp)
            print("%d/%d %s" % (i + 1, len(names), name), flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Draw PV Monitor's brand images (original artwork) into custom_components/pv_monitor/brand/.

A sun rising behind a tilted solar panel, with a monitoring curve across the panel: the
integration's three ideas (sun, panel, measurement) in two colours on a transparent
background, drawn with Pillow from geometric primitives (no font or picture of anyone
else's). Sizes follow Home Assistant's brands rules (home-assistant/brands README):
icon.png 256x256 and icon@2x.png 512x512, square; logo.png with its shortest side 128-256
px and logo@2x.png with its shortest side 256-512 px (landscape, the icon and the name).

Usage: scripts/brand_images   (needs Pillow, which Home Assistant installs; deterministic:
running it again writes the same bytes).
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parents[1] / "custom_components" / "pv_monitor" / "brand"
SUN = (255, 176, 32, 255)
PANEL = (28, 78, 140, 255)
GRID = (168, 205, 240, 255)
CURVE = (64, 200, 120, 255)
TEXT = (28, 78, 140, 255)
SCALE = 4  # supersampling factor for smooth edges


def icon(size: int) -> Image.Image:
    """The square icon at ``size`` x ``size`` pixels, transparent background."""
    s = size * SCALE
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    u = s / 32  # drawing unit: a 32 x 32 grid
    # Sun: a disc with eight rays, upper right.
    cx, cy, r = 21 * u, 10 * u, 5 * u
    for k in range(8):
        a = k * math.pi / 4
        x0, y0 = cx + math.cos(a) * (r + 1.2 * u), cy + math.sin(a) * (r + 1.2 * u)
        x1, y1 = cx + math.cos(a) * (r + 3.2 * u), cy + math.sin(a) * (r + 3.2 * u)
        d.line((x0, y0, x1, y1), fill=SUN, width=int(1.3 * u))
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=SUN)
    # Panel: a parallelogram (tilted towards the viewer) with a 4 x 3 cell grid.
    top_l, top_r, bot_r, bot_l = (
        (6 * u, 14 * u),
        (26 * u, 14 * u),
        (30 * u, 28 * u),
        (2 * u, 28 * u),
    )
    d.polygon([top_l, top_r, bot_r, bot_l], fill=PANEL)

    def lerp(p: tuple[float, float], q: tuple[float, float], t: float) -> tuple[float, float]:
        return (p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t)

    for i in range(1, 4):
        t = i / 4
        d.line((*lerp(top_l, top_r, t), *lerp(bot_l, bot_r, t)), fill=GRID, width=int(0.5 * u))
    for j in range(1, 3):
        t = j / 3
        d.line((*lerp(top_l, bot_l, t), *lerp(top_r, bot_r, t)), fill=GRID, width=int(0.5 * u))
    # Monitoring curve: a day's production bell across the panel.
    points = []
    for k in range(41):
        t = k / 40
        x = 5 * u + t * 22 * u
        y = 25 * u - 8 * u * (4 * t * (1 - t)) ** 1.5
        points.append((x, y))
    d.line(points, fill=CURVE, width=int(1.4 * u), joint="curve")
    return img.resize((size, size), Image.Resampling.LANCZOS)


def logo(height: int) -> Image.Image:
    """The landscape logo: the icon and the name, ``height`` pixels high."""
    s = height * SCALE
    font = ImageFont.load_default(size=int(s * 0.36))
    text = "PV Monitor"
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), text, font=font)
    width = s + int(s * 0.1) + (right - left) + int(s * 0.08)
    img = Image.new("RGBA", (width, s), (0, 0, 0, 0))
    img.alpha_composite(icon(height).resize((s, s), Image.Resampling.LANCZOS))
    d = ImageDraw.Draw(img)
    d.text((s + int(s * 0.1) - left, (s - (bottom - top)) / 2 - top), text, font=font, fill=TEXT)
    return img.resize((width // SCALE, height), Image.Resampling.LANCZOS)


def main() -> None:
    """Write the four files."""
    OUT.mkdir(exist_ok=True)
    icon(256).save(OUT / "icon.png", optimize=True)
    icon(512).save(OUT / "icon@2x.png", optimize=True)
    logo(128).save(OUT / "logo.png", optimize=True)
    logo(256).save(OUT / "logo@2x.png", optimize=True)


if __name__ == "__main__":
    main()

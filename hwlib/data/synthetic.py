"""The embedded default dataset: procedural images in the course's list layout, no download.

Each class is a (shape, colour, texture) triple drawn on a cluttered background with position,
scale, rotation and colour jitter. Some classes differ only in colour (so dropping channels costs
accuracy: red vs yellow differ only in G, yellow vs magenta only in G vs B), some only in shape,
some only in texture. Output: `images/<class>/<split>_<i>.jpg` plus train.txt / val.txt /
test.txt (`<relative path> <label>` per line) and classes.txt (`<folder> <name>` per label).
Same arguments -> same bytes.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

COLOURS = {  # RGB
    "red": (220, 40, 40),
    "green": (40, 190, 60),
    "blue": (50, 70, 225),
    "yellow": (225, 210, 40),
    "magenta": (210, 50, 200),
    "cyan": (40, 200, 210),
}
# (shape, colour, texture). Differ only in colour: 0/1/2 and 5/6; only in shape: 0/3/4 and 7/8;
# only in texture: 1/9.
CLASSES: tuple[tuple[str, str, str], ...] = (
    ("circle", "red", "solid"),
    ("circle", "green", "solid"),
    ("circle", "blue", "solid"),
    ("square", "red", "solid"),
    ("triangle", "red", "solid"),
    ("square", "yellow", "stripes"),
    ("square", "magenta", "stripes"),
    ("star", "cyan", "dots"),
    ("cross", "cyan", "dots"),
    ("circle", "green", "stripes"),
)


@dataclass(frozen=True)
class SyntheticSpec:
    """Arguments of :func:`generate`; the bytes written depend on these alone."""

    num_classes: int = 10
    train_per_class: int = 200
    val_per_class: int = 50
    test_per_class: int = 50
    size: int = 64  # stored image side, px
    seed: int = 0

    @property
    def name(self) -> str:
        return f"synthetic{self.num_classes}"


def class_name(label: int) -> str:
    shape, colour, texture = CLASSES[label]
    return f"{label:02d}_{colour}_{shape}_{texture}"


TEXTURE_WORDS = {"solid": "", "stripes": "striped ", "dots": "dotted "}


def display_name(label: int) -> str:
    """The class as a reader names it: 'red circle', 'yellow striped square' (classes.txt's name)."""
    shape, colour, texture = CLASSES[label]
    return f"{colour} {TEXTURE_WORDS[texture]}{shape}"


def classes_text(num_classes: int) -> str:
    """classes.txt: `<folder> <name>` per label, in label order (see hwlib.data.classes)."""
    return "".join(f"{class_name(i)} {display_name(i)}\n" for i in range(num_classes))


def _polygon(shape: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    if shape == "circle":
        pts = [(math.cos(t), math.sin(t)) for t in np.linspace(0, 2 * math.pi, 48, endpoint=False)]
    elif shape == "square":
        pts = [(-0.8, -0.8), (0.8, -0.8), (0.8, 0.8), (-0.8, 0.8)]
    elif shape == "triangle":
        pts = [(math.cos(t), math.sin(t)) for t in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]
    elif shape == "star":
        pts = [
            (
                (1.0 if i % 2 == 0 else 0.45) * math.cos(i * math.pi / 5 - math.pi / 2),
                (1.0 if i % 2 == 0 else 0.45) * math.sin(i * math.pi / 5 - math.pi / 2),
            )
            for i in range(10)
        ]
    elif shape == "cross":
        a, b = 0.3, 0.9
        pts = [
            (-a, -b),
            (a, -b),
            (a, -a),
            (b, -a),
            (b, a),
            (a, a),
            (a, b),
            (-a, b),
            (-a, a),
            (-b, a),
            (-b, -a),
            (-a, -a),
        ]
    else:
        raise ValueError(shape)
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + r * (x * c - y * s), cy + r * (x * s + y * c)) for x, y in pts]


def render(label: int, rng: np.random.Generator, size: int) -> Image.Image:
    """One image of class `label` (drawn at 2x, downsampled for antialiasing)."""
    big = size * 2
    shape, colour, texture = CLASSES[label]
    # Background: a smooth random gradient, plus clutter of small low-saturation shapes.
    base = rng.uniform(60, 190, size=3)
    ramp = rng.uniform(-40, 40, size=(2, 3))
    yy, xx = np.mgrid[0:big, 0:big] / big
    bg = base + xx[..., None] * ramp[0] + yy[..., None] * ramp[1]
    img = Image.fromarray(np.clip(bg, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(4, 9))):
        grey = rng.uniform(50, 200)
        tint = tuple(int(np.clip(grey + rng.uniform(-25, 25), 0, 255)) for _ in range(3))
        poly = _polygon(
            str(rng.choice(["circle", "square", "triangle"])),
            rng.uniform(0, big),
            rng.uniform(0, big),
            rng.uniform(0.05, 0.14) * big,
            rng.uniform(0, 2 * math.pi),
        )
        draw.polygon(poly, fill=tint)
    # The object: mask at a jittered position, scale and rotation.
    r = rng.uniform(0.22, 0.34) * big
    cx, cy = rng.uniform(r, big - r), rng.uniform(r, big - r)
    mask_img = Image.new("L", (big, big), 0)
    ImageDraw.Draw(mask_img).polygon(_polygon(shape, cx, cy, r, rng.uniform(0, 2 * math.pi)), fill=255)
    mask = np.asarray(mask_img, dtype=np.float32)[..., None] / 255.0
    fg = np.asarray(COLOURS[colour], dtype=np.float32) + rng.uniform(-20, 20, size=3)
    theta, period = rng.uniform(0, math.pi), rng.uniform(0.09, 0.13) * big
    u = xx * big * math.cos(theta) + yy * big * math.sin(theta)
    if texture == "stripes":
        shade = np.where((u // (period / 2)) % 2 == 0, 1.0, 0.35)
    elif texture == "dots":
        v = -xx * big * math.sin(theta) + yy * big * math.cos(theta)
        d = np.hypot((u % period) - period / 2, (v % period) - period / 2)
        shade = np.where(d < period * 0.28, 0.3, 1.0)
    else:
        shade = np.ones_like(u)
    obj = fg[None, None, :] * shade[..., None]
    out = np.asarray(img, dtype=np.float32) * (1 - mask) + obj * mask
    out += rng.normal(0, 6, size=out.shape)
    small = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8), "RGB").resize((size, size), Image.Resampling.BOX)
    return small


def generate(root: str | Path, spec: SyntheticSpec = SyntheticSpec()) -> Path:
    """Write the dataset under `root` (skipped when `root/spec.json` already matches)."""
    if not 2 <= spec.num_classes <= len(CLASSES):
        raise ValueError(f"num_classes must be in 2..{len(CLASSES)}, got {spec.num_classes}")
    root = Path(root)
    stamp = root / "spec.json"
    classes = root / "classes.txt"
    if stamp.exists() and json.loads(stamp.read_text()) == asdict(spec):
        if not classes.exists():  # generated before classes.txt was written: add it (images unchanged)
            classes.write_text(classes_text(spec.num_classes))
        return root
    per_split = {"train": spec.train_per_class, "val": spec.val_per_class, "test": spec.test_per_class}
    for split_no, (split, n) in enumerate(per_split.items()):
        lines = []
        for label in range(spec.num_classes):
            folder = root / "images" / class_name(label)
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                rng = np.random.default_rng([spec.seed, split_no, label, i])
                rel = f"images/{class_name(label)}/{split}_{i:04d}.jpg"
                render(label, rng, spec.size).save(root / rel, "JPEG", quality=90)
                lines.append(f"{rel} {label}\n")
        (root / f"{split}.txt").write_text("".join(lines))
    classes.write_text(classes_text(spec.num_classes))
    stamp.write_text(json.dumps(asdict(spec), indent=1))
    return root

"""Training footage for a learned face-reenactment refiner (FSGAN-style self-reenactment).

A refiner learns by self-reenactment: the ``warp`` engine maps one frame of a clip onto
another frame's landmarks and a network learns to turn that into the real other frame.
That only teaches something if the real frame holds what a warp of another frame cannot
make. The committed sample driver was itself made by warping one still, so a warp
reproduces it almost exactly; this footage adds, on top of the same renderer
(``make_samples.DriverAnimator``), what a warp cannot move in from elsewhere, each a
deterministic function of the script frame (so a model can learn it from landmarks/pose):

* eyelids with their own look: a closing eye shows a darker, pinker lid with fine creases
  and a dark lash line with lashes along its edge, fading in with closure (a warp only
  slides the skin above the eye down);
* light fixed in the room (up and to the image's left): the face and hair are shaded by
  their normals on a head ellipsoid that turns with the head, and a soft highlight on
  the forehead and nose moves with the pose; the background is never lit or changed;
* the mouth's interior: dark cavity, upper and lower teeth, tongue, with the teeth
  clearly showing once the lips part more than a little;
* hair that sways: the rings of the mesh round the head follow a damped spring after
  the head's pose (up to about 5 px), so the hair lags a turn and settles after it. This
  one depends on the pose's recent past, not the frame alone; the spring's pose is in
  the script (``hair_*``).

The face is ``make_samples.TARGET_SPEC``'s, the made-up person of ``samples/target.png``
(a morph of two public-domain portraits: no real person), so a personal model trained on
this footage can then animate ``target.png``.

* ``person.mp4``: 30 s (750 frames), 640x360, 25 fps, H.264 yuv420p CRF 18, no audio.
  A seeded random script covers the expression space evenly over the whole clip (train on
  the first 70 %, evaluate on the rest): mouth from shut to wide, smiles, blinks with
  real timing every 2-4 s and slower squints, gaze, head yaw within +-15 degrees, pitch
  +-8, roll +-4, all eased (smooth, never jittery). Frame 0 is neutral.
* ``person.json``: the script per frame (the animator's keys: ``frame``, ``t``, ``yaw``,
  ``pitch``, ``roll``, ``eye_open``, ``mouth_open``, ``smile``, ``gaze_x``, and the hair's
  ``hair_yaw``, ``hair_pitch``, ``hair_roll``) under ``frames``, with metadata.
* ``person_still.png``: the same person from the same renderer and light at zero pose,
  neutral, mouth shut, eyes open: a "photo" for cross-reenactment.

Run ``python samples/make_fsgan_footage.py [OUTDIR]`` (default ``samples/fsgan``); it is
seeded and x264 runs single-threaded, so it reproduces the same bytes, in about a minute.
``--check`` measures a written clip with the project's tracker; ``--sheet PNG`` saves a
contact sheet of telling frames.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import av
import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from streamgan.tracking import landmarks as lmk

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_hard_clips as mhc  # noqa: E402
import make_samples as ms  # noqa: E402

log = logging.getLogger("make_fsgan_footage")

Array = NDArray[np.float64]
Image32 = NDArray[np.float32]
Frame = dict[str, float]

FPS = ms.FPS
WIDTH, HEIGHT = ms.WIDTH, ms.HEIGHT
SECONDS = 30.0
SEED = 40
CRF = 18
CLIPS = ("person", "person_still")
DEFAULT_OUT = Path(__file__).resolve().parent / "fsgan"

LIGHT = (-0.50, -0.40, -0.77)
"""Direction from the face toward the room's light, camera axes (x right, y down, z away
from the camera): up, to the image's left, in front."""
LIGHT_GAIN = 0.5
"""Shading gain per unit of the cosine between surface normal and light (about +-20 %
across the face)."""
HIGHLIGHT = 0.16
"""Peak brightness the highlight adds on the forehead and nose."""
LID_TONE = np.array([0.88, 0.76, 0.77], np.float32)
"""A shut lid's colour relative to the skin it covers: darker, pinker."""
LASH_RGB = np.array([0.09, 0.06, 0.05], np.float32)
TOOTH_RGB = np.array([0.93, 0.91, 0.85], np.float32)

HAIR_HZ, HAIR_DAMPING = 1.4, 0.3
"""The hair's spring: natural frequency and damping ratio."""
HAIR_LEVER = 0.6
"""How far in front of the pivot the hair's mass swings, in face heights."""
HAIR_SHARE = (0.35, 1.0)
"""How much of the sway the inner and the outer ring round the head take."""

AMPLITUDE = {"yaw": 15.0, "pitch": 8.0, "roll": 4.0, "gaze_x": 0.8}
"""Script ranges: each head/gaze channel stays within +- this."""

CHANNELS = {
    **ms.CHANNELS,
    "eye_open": "eyelids: 1 open (as in the still), 0 fully shut; the lid's own tone, creases "
                "and lash line fade in as it falls below 1",
    **{f"hair_{name}": f"the pose (degrees) the hair's outer part follows instead of {name}: "
                       "a damped spring after the head's, so hair lags a turn and sways"
       for name in ("yaw", "pitch", "roll")},
}


# --------------------------------------------------------------------------------------------
# The script: seeded random keys per channel, eased between keys
# --------------------------------------------------------------------------------------------


def _ease(keys: Sequence[tuple[float, float]], times: Array) -> Array:
    """Smoothstep between neighbouring keys (zero speed at each key: no jitter)."""
    kt = np.array([k[0] for k in keys])
    kv = np.array([k[1] for k in keys])
    i = np.clip(np.searchsorted(kt, times, side="right") - 1, 0, len(kt) - 2)
    span = np.maximum(kt[i + 1] - kt[i], 1e-9)
    s = ms.smoothstep(0.0, 1.0, (times - kt[i]) / span)
    return np.asarray(kv[i] + (kv[i + 1] - kv[i]) * s, np.float64)


def _swing_keys(rng: np.random.Generator, seconds: float, amplitude: float,
                gap: tuple[float, float], hold: float = 0.0) -> list[tuple[float, float]]:
    """Keys that swing between the two halves of +-``amplitude``, each target uniform in
    its half, so the whole range is visited evenly and both signs come early. ``hold``
    is the longest pause at a target (uniform from 0)."""
    keys = [(0.0, 0.0)]
    t, side = 0.0, float(rng.choice([-1.0, 1.0]))
    while t < seconds:
        t += float(rng.uniform(*gap))
        keys.append((t, side * amplitude * float(rng.uniform(0.3, 1.0))))
        if hold:
            t += float(rng.uniform(0.0, hold))
            keys.append((t, keys[-1][1]))
        side = -side
    return keys


def _mouth_keys(rng: np.random.Generator, seconds: float) -> list[tuple[float, float]]:
    """Talking and gaping: a new opening every 0.15-0.6 s, shut a third of the time,
    otherwise uniform up to wide (0.6), now and then held."""
    keys = [(0.0, 0.0), (0.4, 0.0)]
    t = 0.4
    while t < seconds:
        t += float(rng.uniform(0.15, 0.6))
        value = 0.0 if rng.random() < 0.33 else float(rng.uniform(0.04, 0.6))
        keys.append((t, value))
        if rng.random() < 0.15:
            t += float(rng.uniform(0.3, 1.0))
            keys.append((t, value))
    return keys


def _smile_keys(rng: np.random.Generator, seconds: float) -> list[tuple[float, float]]:
    """Smiles coming and going: a new level every 1-3.5 s, neutral 40 % of the time."""
    keys = [(0.0, 0.0)]
    t = 0.0
    while t < seconds:
        t += float(rng.uniform(0.5, 1.2))
        value = 0.0 if rng.random() < 0.4 else float(rng.uniform(0.15, 1.0))
        keys.append((t, value))
        t += float(rng.uniform(0.5, 2.3))
        keys.append((t, value))
    return keys


def _gaze_keys(rng: np.random.Generator, seconds: float) -> list[tuple[float, float]]:
    """Saccades: the gaze jumps in 2-3 frames, to the other side each time, and rests
    0.6-2.5 s."""
    keys = [(0.0, 0.0)]
    t, value, side = 0.0, 0.0, float(rng.choice([-1.0, 1.0]))
    while t < seconds:
        t += float(rng.uniform(0.6, 2.5))
        keys.append((t, value))
        value, side = side * float(rng.uniform(0.0, 1.0)) * AMPLITUDE["gaze_x"], -side
        t += float(rng.uniform(2, 3)) / FPS
        keys.append((t, value))
    return keys


def _squint_keys(rng: np.random.Generator, seconds: float) -> list[tuple[float, float]]:
    """Slow lid level: open, with a squint or droop (0.3-0.85) now and then."""
    keys = [(0.0, 1.0), (1.0, 1.0)]
    t = 1.0
    while t < seconds:
        t += float(rng.uniform(1.0, 3.0))
        keys.append((t, 1.0))
        if rng.random() < 0.35:
            level = float(rng.uniform(0.3, 0.85))
            t += float(rng.uniform(0.2, 0.5))
            keys.append((t, level))
            t += float(rng.uniform(0.3, 1.5))
            keys.append((t, level))
            t += float(rng.uniform(0.2, 0.5))
            keys.append((t, 1.0))
    return keys


def _blink(f: Array, at: float, closing: int, shut: int, opening: int) -> Array:
    """Openness (frames ``f``) for one blink starting to close at frame ``at``."""
    d = f - at
    out = np.ones_like(f)
    out = np.where((d >= 0) & (d < closing), 1.0 - d / closing, out)
    out = np.where((d >= closing) & (d < closing + shut), 0.0, out)
    rise = (d - closing - shut) / opening
    return np.asarray(np.where((d >= closing + shut) & (rise < 1.0), rise, out), np.float64)


def _blinks(rng: np.random.Generator, seconds: float, frames: Array) -> Array:
    """Blinks every 2-4 s with real timing: closing in 2-3 frames, shut 2-4, opening 3-5."""
    out = np.ones_like(frames)
    t = float(rng.uniform(0.6, 1.6))
    while t < seconds:
        closing, shut, opening = (int(rng.integers(2, 4)), int(rng.integers(2, 5)),
                                  int(rng.integers(3, 6)))
        out = np.minimum(out, _blink(frames, round(t * FPS), closing, shut, opening))
        t += float(rng.uniform(2.0, 4.0))
    return out


def _sway(pose: Array, hz: float = HAIR_HZ, damping: float = HAIR_DAMPING) -> Array:
    """Where the hair's outer part points: a damped spring pulled after the head's pose
    (it lags a turn and overshoots a little when the head stops)."""
    omega, steps = 2 * math.pi * hz, 8
    dt = 1.0 / (FPS * steps)
    out = np.empty_like(pose)
    x, v = float(pose[0]), 0.0
    for i, target in enumerate(pose):
        for _ in range(steps):
            v += (omega * omega * (float(target) - x) - 2 * damping * omega * v) * dt
            x += v * dt
        out[i] = x
    return out


def build_script(seconds: float = SECONDS, seed: int = SEED) -> list[Frame]:
    """Every frame's channel values. Each channel has its own seeded stream, so a shorter
    clip's script is the start of a longer one's; frame 0 is neutral."""
    n = round(seconds * FPS)
    frames = np.arange(n, dtype=np.float64)
    t = frames / FPS
    horizon = seconds + 5.0

    def rng(k: int) -> np.random.Generator:
        return np.random.default_rng([seed, k])

    values = {
        "yaw": _ease(_swing_keys(rng(0), horizon, AMPLITUDE["yaw"], (0.9, 2.0), 0.6), t),
        "pitch": _ease(_swing_keys(rng(1), horizon, AMPLITUDE["pitch"], (0.8, 1.9), 0.5), t),
        "roll": _ease(_swing_keys(rng(2), horizon, AMPLITUDE["roll"], (1.2, 3.0), 0.8), t),
        "eye_open": _ease(_squint_keys(rng(3), horizon), t) * _blinks(rng(4), horizon, frames),
        "mouth_open": _ease(_mouth_keys(rng(5), horizon), t),
        "smile": _ease(_smile_keys(rng(6), horizon), t),
        "gaze_x": _ease(_gaze_keys(rng(7), horizon), t),
    }
    for name in ("yaw", "pitch", "roll"):
        values["hair_" + name] = _sway(values[name])
    script = []
    for i in range(n):
        row: Frame = {"frame": i, "t": round(i / FPS, 4)}
        row.update({name: round(float(v[i]), 4) for name, v in values.items()})
        script.append(row)
    return script


# --------------------------------------------------------------------------------------------
# The renderer: make_samples' animator plus lids, light and a fuller mouth
# --------------------------------------------------------------------------------------------


def _unit(v: Array) -> Array:
    return np.asarray(v / max(float(np.linalg.norm(v)), 1e-9), np.float64)


class LitAnimator(ms.DriverAnimator):
    """``DriverAnimator`` whose frames also show lids, room light and teeth.

    Everything added is painted on the warped person layer (premultiplied RGB), before
    it goes over the untouched background, and depends only on the script frame.
    """

    def __init__(self, layer: ms.Layer, background: Image32, lm: Array) -> None:
        super().__init__(layer, background, lm)
        px, py, pz = self.pivot
        centre = np.hypot((lm[:, 0] - px) / (0.55 * self.face_w),
                          (lm[:, 1] - py) / (0.5 * self.fh)) < 0.3
        depth = pz - float(np.median(lm[centre, 2]))
        # The head as an ellipsoid about the pivot: its front meets the face, its outline
        # takes in the hair.
        self.axes = np.array([0.66 * self.face_w, 0.66 * self.fh, max(depth, 0.3 * self.face_w)])
        self.light = _unit(np.asarray(LIGHT, np.float64))
        self.half = _unit(self.light + np.array([0.0, 0.0, -1.0]))
        self.frontal_shade = float(self.light @ np.array([0.0, 0.0, -1.0]))
        self.chin_drop = float(lm[lmk.CHIN, 1] - py)

    # -- pose -------------------------------------------------------------------------------

    def pose(self, frame: dict[str, float]) -> tuple[Array, Array]:
        """As ``DriverAnimator.pose``, with the rings round the head (hair) turned part of
        the way from the head's pose to the hair's (``hair_*``; the head's if absent)."""
        landmarks, dst = super().pose(frame)
        if "hair_yaw" not in frame:
            return landmarks, dst
        head = ms.rotation(frame["yaw"], frame["pitch"], frame["roll"])
        hair = ms.rotation(frame["hair_yaw"], frame["hair_pitch"], frame["hair_roll"])
        # The rings lie on the silhouette (the pivot's depth), where a turn hardly moves
        # them in the picture; the hair's mass is taken a lever in front of that instead.
        rings = self.src[ms.MESH_POINTS:self.n_moving] - self.pivot
        rings[:, 2] = -HAIR_LEVER * self.fh
        half = len(rings) // 2  # the inner ring, then the outer one
        share = np.repeat(HAIR_SHARE, [half, len(rings) - half])[:, None]
        dst[ms.MESH_POINTS:self.n_moving] += share * (rings @ hair.T - rings @ head.T)
        return landmarks, dst

    # -- light ------------------------------------------------------------------------------

    def light_fields(self, frame: Frame, landmarks: Array
                     ) -> tuple[Image32, Image32, tuple[int, int, int, int]]:
        """Gain and highlight over the head's box (and the box): Lambert-like shading on
        the head ellipsoid turned by the pose, relative to a frontal face's centre, and a
        glossy highlight on the forehead and nose."""
        rot = ms.rotation(frame["yaw"], frame["pitch"], frame["roll"])
        ax, ay, az = self.axes
        m = rot @ np.diag([1 / ax ** 2, 1 / ay ** 2, 1 / az ** 2]) @ rot.T
        cx, cy, _ = self.pivot
        r = float(self.axes[:2].max()) * 1.05
        x0, x1 = max(0, int(cx - r)), min(WIDTH, int(cx + r) + 1)
        y0, y1 = max(0, int(cy - r)), min(HEIGHT, int(cy + r) + 1)
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
        dx, dy = xs - cx, ys - cy
        # Orthographic ray along z through each pixel: m33 t^2 + 2 b t + c = 0.
        b = m[2, 0] * dx + m[2, 1] * dy
        c = m[0, 0] * dx * dx + 2 * m[0, 1] * dx * dy + m[1, 1] * dy * dy - 1.0
        disc = b * b - m[2, 2] * c
        t = (-b - np.sqrt(np.maximum(disc, 0.0))) / m[2, 2]
        grad = np.stack([m[0, 0] * dx + m[0, 1] * dy + m[0, 2] * t,
                         m[1, 0] * dx + m[1, 1] * dy + m[1, 2] * t,
                         m[2, 0] * dx + m[2, 1] * dy + m[2, 2] * t], -1)
        normal = grad / np.maximum(np.linalg.norm(grad, axis=-1, keepdims=True), 1e-12)
        # Fade to no effect at the ellipsoid's outline and below the chin (in head axes).
        # Half the chord through the ellipsoid over its largest: 1 at the centre, 0 at the rim.
        rim = ms.smoothstep(0.0, 0.35, np.sqrt(np.maximum(disc, 0.0) / m[2, 2]))
        head_y = (np.stack([dx, dy, t], -1) @ rot)[..., 1]
        below = 1.0 - ms.smoothstep(0.8 * self.chin_drop, 1.15 * self.chin_drop, head_y)
        weight = np.where(disc > 0, rim, 0.0) * below
        shade = normal @ self.light - self.frontal_shade
        gain = 1.0 + weight * np.clip(LIGHT_GAIN * shade, -0.25, 0.25)

        gloss = np.clip(normal @ self.half, 0.0, 1.0) ** 10 * weight
        zone = np.zeros((y1 - y0, x1 - x0), np.float32)
        top = landmarks[[103, 67, 109, 10, 338, 297, 332], :2]
        brows = landmarks[[296, 334, 293, 300, 70, 63, 105, 66], :2]
        forehead = np.concatenate([ms.scaled_about(top, 0.85), brows])
        forehead[:, 1] += 0.02 * self.fh
        cv2.fillPoly(zone, [np.round((forehead - [x0, y0]) * 16).astype(np.int32)], 1.0,
                     cv2.LINE_AA, shift=4)
        ridge = landmarks[[168, 6, 197, 195, 5, 4, 1], :2] - [x0, y0]
        cv2.polylines(zone, [np.round(ridge * 16).astype(np.int32)], False, 1.0,
                      max(1, round(0.07 * self.fh)), cv2.LINE_AA, shift=4)
        zone = ms.feather(zone, 0.05 * self.fh)
        highlight = HIGHLIGHT * gloss * zone
        return (np.asarray(gain, np.float32), np.asarray(highlight, np.float32),
                (x0, y0, x1, y1))

    # -- lids -------------------------------------------------------------------------------

    def paint_lids(self, rgb: Image32, landmarks: Array, open_marks: Array,
                   eye_open: float) -> Image32:
        """A closing lid's own look over the band it covers: tone, creases, lash line."""
        strength = float(ms.smoothstep(0.0, 0.7, 1.0 - eye_open))
        if strength <= 0.0:
            return rgb
        eyes = ((lmk.RIGHT_EYE_UPPER, lmk.RIGHT_EYE_LOWER, lmk.RIGHT_EYE_CORNERS),
                (lmk.LEFT_EYE_UPPER, lmk.LEFT_EYE_LOWER, lmk.LEFT_EYE_CORNERS))
        for upper, lower, corners in eyes:
            outer, inner = landmarks[corners[0], :2], landmarks[corners[1], :2]
            eye_w = float(np.linalg.norm(inner - outer))
            lid = landmarks[list(upper), :2]
            rest = open_marks[list(upper), :2]
            up = _unit(rest.mean(0) - open_marks[list(lower), :2].mean(0))
            edge = np.concatenate([[outer], lid, [inner]])
            crease = np.concatenate([[outer], rest + up * 0.14 * eye_w, [inner]])
            band = np.concatenate([edge, crease[::-1]])
            x0, y0 = np.floor(band.min(0)).astype(int) - 6
            x1, y1 = np.ceil(band.max(0)).astype(int) + 7
            x0, y0 = max(x0, 0), max(y0, 0)
            x1, y1 = min(x1, WIDTH), min(y1, HEIGHT)
            h, w = y1 - y0, x1 - x0
            off = np.array([x0, y0], np.float64)
            mask = ms.feather(ms.polygon_mask(band - off, h, w), 0.06 * eye_w)
            line = np.full((h, w), 255, np.uint8)
            cv2.polylines(line, [np.round(edge - off).astype(np.int32)], False, 0, 1)
            dist = cv2.distanceTransform(line, cv2.DIST_L2, 3).astype(np.float32)
            creases = 1.0 - 0.10 * (0.5 + 0.5 * np.cos(2 * np.pi * dist / (0.13 * eye_w))) \
                * ms.smoothstep(0.06 * eye_w, 0.16 * eye_w, dist).astype(np.float32)
            shadow = 1.0 - 0.12 * np.exp(-dist / (0.06 * eye_w))
            factor = LID_TONE[None, None, :] * (creases * shadow)[..., None]
            patch = rgb[y0:y1, x0:x1]
            patch *= 1.0 - (strength * mask)[..., None] * (1.0 - factor)

            lashes = np.zeros((h, w), np.float32)
            cv2.polylines(lashes, [np.round((edge - off) * 16).astype(np.int32)], False, 1.0,
                          max(1, round(0.075 * eye_w)), cv2.LINE_AA, shift=4)
            out = _unit(outer - inner)
            # Lashes: short, fine, curving down and outward, longest past the middle.
            along = np.linspace(0.06, 0.9, 17)
            xs = np.interp(along, np.linspace(0, 1, len(edge)), edge[:, 0])
            ys = np.interp(along, np.linspace(0, 1, len(edge)), edge[:, 1])
            for a, x, y in zip(along, xs, ys, strict=True):
                length = 0.10 * eye_w * math.sin(math.pi * (0.2 + 0.8 * (1 - a)))
                tip = np.array([x, y]) - up * length + out * (0.25 + 0.5 * (1 - a)) * length
                cv2.line(lashes, (round((x - x0) * 16), round((y - y0) * 16)),
                         (round((tip[0] - x0) * 16), round((tip[1] - y0) * 16)), 0.45, 1,
                         cv2.LINE_AA, shift=4)
            lashes = np.clip(ms.feather(lashes, 0.35), 0.0, 1.0) * strength * 0.9
            patch += (LASH_RGB - patch) * lashes[..., None]
        return rgb

    # -- mouth ------------------------------------------------------------------------------

    def paint_mouth(self, frame_rgb: Image32, pts: Array) -> Image32:
        """Inside the parted lips: dark cavity, upper and lower teeth, tongue.

        As ``DriverAnimator.paint_mouth`` with teeth that show clearly once the lips part:
        the upper row reaches down about 40 % of the gap (up to 17 % of the mouth's width),
        a lower row shows under a wider opening, and the tongue lies behind the lower teeth.
        """
        box = ms.mouth_box(pts)
        if box is None:
            return frame_rgb
        upper, lower, gap, ring, corners, width, x0, y0, x1, y1, h, w, off = box
        mouth = ms.feather(ms.polygon_mask(ring - off, h, w), 0.6)

        down = _unit(lower[4] - upper[4])
        side = np.array([down[1], -down[0]])
        colour, mid, profile, xs, ys = box.cavity(down, (0.24, 0.07, 0.06), 0.5)
        tooth_shade = (0.5 + 0.5 * profile)[..., None]
        # Gaps between teeth: a faint darker seam every ~11 % of the mouth's width.
        across = (xs + x0 - mid[0]) * side[0] + (ys + y0 - mid[1]) * side[1]
        seams = (1.0 - 0.16 * ms.smoothstep(0.85, 1.0, np.cos(2 * np.pi * across / (0.11 * width)))
                 ).astype(np.float32)[..., None]

        def row(line: Array, reach: float, sign: float) -> Image32:
            lift = ms.lip_profile(line @ side, float(mid @ side), 0.5 * width)
            edge = line + sign * np.outer(lift * reach, down)
            return ms.feather(ms.polygon_mask(np.concatenate([line, edge[::-1]]) - off, h, w),
                              0.5)

        upper_line = np.concatenate([[corners[0]], upper, [corners[1]]])
        lower_line = np.concatenate([[corners[0]], lower, [corners[1]]])
        top = row(upper_line, min(0.42 * gap, 0.17 * width), 1.0)
        bottom = row(lower_line, min(0.22 * gap, 0.09 * width) * float(
            ms.smoothstep(0.12, 0.3, gap / width)), -1.0) * (1.0 - top)

        tongue = box.tongue(down, 0.24) * (1.0 - top) * (1.0 - bottom)
        colour = colour + (np.array([0.52, 0.22, 0.22], np.float32) - colour) * (
            0.8 * tongue[..., None])
        teeth_rgb = TOOTH_RGB * tooth_shade * seams
        colour = colour + (teeth_rgb - colour) * top[..., None]
        colour = colour + (0.9 * teeth_rgb - colour) * bottom[..., None]

        patch = frame_rgb[y0:y1, x0:x1]
        frame_rgb[y0:y1, x0:x1] = patch + (colour - patch) * mouth[..., None]
        return frame_rgb

    # -- frame ------------------------------------------------------------------------------

    def render_lit(self, frame: Frame) -> tuple[NDArray[np.uint8], Array]:
        """One frame (RGB uint8) and its intended landmarks."""
        landmarks, dst = self.pose(frame)
        depth = dst[self.triangles, 2].mean(1)
        warped = ms.warp_mesh(self.gaze_layer(frame["gaze_x"]), self.src[:, :2], dst[:, :2],
                              self.triangles, depth=depth)
        rgb, alpha = np.ascontiguousarray(warped[..., :3]), warped[..., 3]
        rgb = self.paint_mouth(rgb, landmarks)
        if frame["eye_open"] < 1.0:
            open_marks, _ = self.pose({**frame, "eye_open": 1.0})
            rgb = self.paint_lids(rgb, landmarks, open_marks, frame["eye_open"])
        gain, highlight, (x0, y0, x1, y1) = self.light_fields(frame, landmarks)
        box = rgb[y0:y1, x0:x1]
        box *= gain[..., None]
        box += (highlight * alpha[y0:y1, x0:x1])[..., None] * np.array([1.0, 0.97, 0.92],
                                                                         np.float32)
        out = np.clip(rgb, 0.0, None) + self.background * (1.0 - alpha[..., None])
        return ms.to_uint8(out), landmarks


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def write_script(script: list[Frame], path: Path, video: str) -> None:
    """The script as JSON: metadata, channel meanings, one frame per line."""
    doc = {
        "description": "Per-frame script of the made-up person (samples/target.png's face) "
                       "in " + video + ". Frame 0 is neutral. Generated by "
                       "samples/make_fsgan_footage.py.",
        "video": {"file": video, "fps": FPS, "width": WIDTH, "height": HEIGHT,
                  "frames": len(script), "duration_s": len(script) / FPS, "crf": CRF},
        "light": {"direction": list(LIGHT), "gain_per_cosine": LIGHT_GAIN,
                  "highlight": HIGHLIGHT,
                  "about": "a light fixed in the room shades face and hair by their normals "
                           "on a head ellipsoid turned by the pose; the background is unlit"},
        "seed": SEED,
        "channels": {"frame": "frame index (0-based)",
                     "t": "time of the frame in seconds (frame / fps)", **CHANNELS},
    }
    head = json.dumps(doc, indent=1)[:-2]
    rows = ",\n".join("  " + json.dumps(frame) for frame in script)
    path.write_text(f'{head},\n "frames": [\n{rows}\n ]\n}}\n')


def make_animator() -> LitAnimator:
    """The renderer for TARGET_SPEC's person, from the two public-domain portraits."""
    astronaut, hopper = ms.load_sources()
    layer, background = ms.make_portrait(ms.TARGET_SPEC, astronaut, hopper)
    still = ms.to_uint8(layer.over(background))
    return LitAnimator(layer, background, ms.detect_one_face(still))


NEUTRAL: Frame = {"yaw": 0.0, "pitch": 0.0, "roll": 0.0, "eye_open": 1.0, "mouth_open": 0.0,
                  "smile": 0.0, "gaze_x": 0.0, "hair_yaw": 0.0, "hair_pitch": 0.0,
                  "hair_roll": 0.0}


def generate(out: Path, clips: tuple[str, ...] = CLIPS, seconds: float = SECONDS) -> None:
    """Write the named clips into ``out``: ``person`` (mp4 + json, ``seconds`` long) and
    ``person_still`` (png)."""
    out.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    animator = make_animator()
    if "person_still" in clips:
        image, _ = animator.render_lit({"frame": 0, "t": 0.0, **NEUTRAL})
        Image.fromarray(image).save(out / "person_still.png", optimize=True)
        log.info("wrote %s", out / "person_still.png")
    if "person" in clips:
        script = build_script(seconds)

        def frames() -> Iterator[NDArray[np.uint8]]:
            for frame in script:
                if int(frame["frame"]) % 125 == 0:
                    log.info("frame %d / %d (%.0f s)", frame["frame"], len(script),
                             time.monotonic() - start)
                yield animator.render_lit(frame)[0]

        mhc.write_clip(frames(), out / "person.mp4", crf=CRF)
        write_script(script, out / "person.json", "person.mp4")
        log.info("wrote %s and person.json (%d frames) in %.0f s", out / "person.mp4",
                 len(script), time.monotonic() - start)


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def read_frames(path: Path) -> list[NDArray[np.uint8]]:
    """All RGB frames of a video."""
    with av.open(str(path)) as container:
        return [np.asarray(f.to_ndarray(format="rgb24"), np.uint8)
                for f in container.decode(video=0)]


def check(out: Path) -> dict[str, float]:
    """Track ``person.mp4`` and compare its measures with the script: the tracked share
    and the Pearson correlation of each measure with its channel."""
    from streamgan.tracking.measures import measure_video

    script = json.loads((out / "person.json").read_text())["frames"]
    measured = measure_video(out / "person.mp4")
    found = ~np.isnan(measured.channel("mouth"))
    stats = {"frames": float(measured.frames), "tracked": float(found.mean())}
    for channel, key in (("mouth_open", "mouth"), ("eye_open", "eye"), ("yaw", "yaw"),
                         ("pitch", "pitch"), ("roll", "roll"), ("smile", "smile")):
        truth = np.array([f[channel] for f in script])[found]
        stats[channel] = ms.pearson(truth, measured.channel(key)[found])
    return stats


def contact_sheet(out: Path, path: Path, size: int = 200) -> list[int]:
    """Twelve telling frames of ``person.mp4`` (crops around the head) in a 4x3 sheet;
    returns the frame indices (neutral, mouth wide/half, shut/half eyes, turns, nods,
    roll, smile, gaze)."""
    script = json.loads((out / "person.json").read_text())["frames"]
    col = {k: np.array([f[k] for f in script]) for k in script[0]}
    rest = np.abs(col["yaw"]) + np.abs(col["pitch"])
    picks = [0, int(np.argmax(col["mouth_open"])),
             int(np.argmin(np.abs(col["mouth_open"] - 0.2) + rest / 30)),
             int(np.argmin(col["eye_open"] + rest / 60)),
             int(np.argmin(np.abs(col["eye_open"] - 0.5) + rest / 60)),
             int(np.argmax(col["yaw"])), int(np.argmin(col["yaw"])),
             int(np.argmax(col["pitch"])), int(np.argmin(col["pitch"])),
             int(np.argmax(np.abs(col["roll"]))), int(np.argmax(col["smile"])),
             int(np.argmax(np.abs(col["gaze_x"]) - col["mouth_open"]))]
    frames = read_frames(out / "person.mp4")
    tiles = []
    for i in picks:
        crop = frames[i][15:15 + 280, 182:182 + 280]
        tile = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
        f = script[i]
        label = (f"{i} y{f['yaw']:+.0f} p{f['pitch']:+.0f} m{f['mouth_open']:.2f} "
                 f"e{f['eye_open']:.2f}")
        cv2.putText(tile, label, (3, size - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.36, (255, 255, 0),
                    1, cv2.LINE_AA)
        tiles.append(tile)
    rows = [np.hstack(tiles[r * 4:(r + 1) * 4]) for r in range(3)]
    Image.fromarray(np.vstack(rows)).save(path)
    return picks


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: generate the footage, ``--check`` it, or save a ``--sheet``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--clips", nargs="+", choices=CLIPS, default=list(CLIPS))
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--check", action="store_true",
                        help="track the written person.mp4 instead of generating")
    parser.add_argument("--sheet", type=Path, metavar="PNG",
                        help="save a contact sheet of the written person.mp4")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if args.check or args.sheet:
        if args.sheet:
            log.info("sheet frames %s -> %s", contact_sheet(args.out, args.sheet), args.sheet)
        if args.check:
            stats = check(args.out)
            log.info("%s", ", ".join(f"{k} {v:.3f}" for k, v in stats.items()))
            return 0 if stats["tracked"] >= 0.98 and min(
                stats["mouth_open"], stats["eye_open"]) >= 0.8 else 1
        return 0
    generate(args.out, tuple(args.clips), args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())

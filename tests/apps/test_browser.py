"""``streamgan serve`` in a real browser: headless Chromium, a fake camera playing the
sample driver, the page's own controls, and the processed video's pixels read back.

The browser and the server run inside a network namespace with only ``lo``
(``unshare -n``; see tests/apps/browser_support.py), so nothing leaves loopback.
Skipped where Chromium, Playwright or an unshare that works (root) is missing.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import signal
import subprocess
import sys
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from tests.apps.browser_support import CHROMIUM, FIRST, FRAMES, GRAB_H, GRAB_W, REPO, SAMPLES

TIMEOUT = 240.0
"""The whole browser run, bounded (each wait inside it is bounded too)."""
NETNS = "ip link set lo up && exec \"$0\" -m tests.apps.browser_support \"$@\""


def _unshare_works() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up"],
                           capture_output=True, timeout=20)
    return probe.returncode == 0


def _rgb(path: Path | io.BytesIO) -> NDArray[np.float64]:
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").resize((GRAB_W, GRAB_H), Image.Resampling.BILINEAR)
        return np.asarray(small, np.float64)


def _from_data_url(url: str) -> NDArray[np.float64]:
    assert url.startswith("data:image/png;base64,")
    return _rgb(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


def _small(rgb: NDArray[np.uint8]) -> NDArray[np.float64]:
    """A full-size picture at the grabs' size, scaled as :func:`_rgb` scales."""
    from PIL import Image

    small = Image.fromarray(rgb).resize((GRAB_W, GRAB_H), Image.Resampling.BILINEAR)
    return np.asarray(small, np.float64)


def _driver_frames_rgb() -> list[NDArray[np.uint8]]:
    """The frames the fake camera plays, full size."""
    import av

    frames = []
    with av.open(str(SAMPLES / "driver.mp4")) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index < FIRST:
                continue
            frames.append(np.asarray(frame.to_ndarray(format="rgb24"), np.uint8))
            if len(frames) == FRAMES:
                break
    return frames


def _driver_frames() -> list[NDArray[np.float64]]:
    return [_small(f) for f in _driver_frames_rgb()]


def _face_box(rgb: NDArray[np.uint8]) -> tuple[slice, slice]:
    """The target's face (landmark bounds) in grab coordinates."""
    from streamgan.tracking.facemesh import detect_still

    faces = detect_still(rgb)
    assert faces, "no face found in the sample target"
    points = faces[0]
    sx, sy = GRAB_W / rgb.shape[1], GRAB_H / rgb.shape[0]
    return (slice(int(points[:, 1].min() * sy), int(points[:, 1].max() * sy) + 1),
            slice(int(points[:, 0].min() * sx), int(points[:, 0].max() * sx) + 1))


def _browser_run(tmp_path: Path, *args: str) -> dict[str, Any]:
    """Run tests/apps/browser_support.py in a loopback-only namespace; its result."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    pytest.importorskip("playwright", reason="playwright is not installed")
    if not _unshare_works():
        pytest.skip("no working `unshare -n` with `ip` (needs root) for a loopback-only run")

    process = subprocess.Popen(
        ["unshare", "-n", "sh", "-c", NETNS, sys.executable, str(tmp_path), *args],
        cwd=REPO, env={**os.environ, "STREAMGAN_BROWSER_NETNS": "1"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate(timeout=30)
        pytest.fail(f"the browser run took over {TIMEOUT:.0f} s:\n"
                    f"{output.decode(errors='replace')[-4000:]}")
    server_log = (tmp_path / "server.log").read_text(errors="replace")[-2000:]
    assert process.returncode == 0, (f"{output.decode(errors='replace')[-4000:]}\n"
                                     f"server:\n{server_log}")
    print(f"screenshot: {tmp_path / 'page.png'}")
    result: dict[str, Any] = json.loads((tmp_path / "result.json").read_text())
    return result


def test_browser_reenacts_the_camera_onto_the_target(tmp_path: Path) -> None:
    result = _browser_run(tmp_path)
    screenshot = tmp_path / "page.png"

    # The processed video plays: the target's size, frames decoded, time advancing.
    first, last = result["first"], result["last"]
    assert result["error_text"] == ""
    assert result["state_text"] == "connected"
    assert (first["w"], first["h"]) == (640, 360), result
    assert first["decoded"] > 20, result
    assert last["decoded"] > first["decoded"] and last["t"] > first["t"], result
    assert float(result["fps_text"]) > 5, result["fps_text"]
    assert screenshot.stat().st_size > 0

    # The pixels that came back are the target's picture, not the camera's.
    from PIL import Image

    with Image.open(SAMPLES / "target.png") as image:
        target_rgb = np.asarray(image.convert("RGB"))
    target = _rgb(SAMPLES / "target.png")
    driver = _driver_frames()
    grabs = [_from_data_url(grab["png"]) for grab in result["grabs"]]
    times = [grab["t"] for grab in result["grabs"]]
    assert times == sorted(times) and times[-1] > times[0], times
    to_target = [float(np.abs(grab - target).mean()) for grab in grabs]
    to_camera = [min(float(np.abs(grab - frame).mean()) for frame in driver) for grab in grabs]
    print(f"mean abs difference to the target {to_target}, to the camera {to_camera}")
    assert max(to_target) < 20, to_target
    assert min(to_camera) > 45, to_camera

    # The face moves with the camera (the driver turns its head): grabs differ in the
    # face region.
    rows, cols = _face_box(target_rgb)
    changes = [float(np.abs(a[rows, cols] - b[rows, cols]).mean())
               for a, b in pairwise(grabs)]
    print(f"face changes between grabs: {changes}")
    assert sum(change > 8 for change in changes) >= 2, changes


def test_browser_shows_the_camera_through_the_style_filter(tmp_path: Path) -> None:
    """The page's ``style`` filter with a translation model: what comes back is the
    camera as the model renders it (not the camera, not a target), and it plays."""
    import torch

    from apps.webrtc.styles import LIVE_SIDE
    from streamgan.translate.engine import EngineOptions, Translator
    from streamgan.translate.formats import load_generator
    from tests.translate.conftest import save_fast_model

    model = save_fast_model(tmp_path / "inky.pt", seed=3)
    result = _browser_run(tmp_path, "style", str(model))
    first, last = result["first"], result["last"]
    assert result["error_text"] == "" and result["choice"] == "inky"
    assert (first["w"], first["h"]) == (640, 360), result
    assert last["decoded"] > first["decoded"] > 20, result
    assert float(result["fps_text"]) > 5, result["fps_text"]
    torch.set_num_threads(1)
    translator = Translator(load_generator(model), EngineOptions(size=LIVE_SIDE))
    camera = [np.asarray(f, np.uint8) for f in _driver_frames_rgb()]
    styled = [_small(translator([f])[0]) for f in camera]
    grabs = [_from_data_url(grab["png"]) for grab in result["grabs"]]
    to_styled = [min(float(np.abs(g - s).mean()) for s in styled) for g in grabs]
    to_camera = [min(float(np.abs(g - _small(c)).mean()) for c in camera) for g in grabs]
    print(f"mean abs difference to the styled camera {to_styled}, to the camera {to_camera}")
    assert max(to_styled) < 15, to_styled
    assert min(to_camera) > 25, to_camera

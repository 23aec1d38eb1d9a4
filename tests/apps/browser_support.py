"""The browser test's core, run as ``python -m tests.apps.browser_support OUT`` inside a
network namespace with only ``lo`` up (``unshare -n``), so neither Chromium nor the
server can reach anything but loopback. ``python -m tests.apps.browser_support OUT
style MODEL`` runs the ``style`` filter with the translation model MODEL instead.

It writes a fake camera (``OUT/driver.y4m``: the first frames of samples/driver.mp4),
starts ``streamgan serve`` on a free loopback port, drives the page in headless
Chromium with Playwright (filter ``reenact`` onto the sample target), and writes what
the browser saw to ``OUT/result.json``: the processed video's size, frames decoded,
the page's fps, and GRABS grabs of the processed ``<video>`` element's pixels (drawn
into a GRAB_W x GRAB_H canvas, as PNG data URLs). The test asserts on them. Every wait is
bounded; the server is killed at the end.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parent.parent.parent
SAMPLES = REPO / "samples"
GRAB_W, GRAB_H = 160, 90
"""Grabs are downsampled to this size (the sample target and driver are 640x360)."""
FIRST, FRAMES = 25, 50
"""The fake camera plays driver frames FIRST .. FIRST + FRAMES - 1 in a loop: 1 s to 3 s,
the head turning (the first second is a still neutral face)."""
GRABS = 6
GRAB_EVERY = 0.3
"""Seconds between grabs (the fake camera loops every FRAMES / 25 = 2 s)."""
SERVER_READY = 60.0
FIRST_FRAMES = 40.0
CHROMIUM_FLAGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]


def write_y4m(path: Path) -> None:
    """Driver frames FIRST .. FIRST + FRAMES - 1 as a y4m fake camera."""
    import av

    with av.open(str(SAMPLES / "driver.mp4")) as container, path.open("wb") as out:
        written = 0
        for index, frame in enumerate(container.decode(video=0)):
            if index < FIRST:
                continue
            if written == 0:
                out.write(f"YUV4MPEG2 W{frame.width} H{frame.height} F25:1 Ip A1:1 "
                          "C420jpeg\n".encode())
            out.write(b"FRAME\n")
            out.write(frame.reformat(format="yuv420p").to_ndarray().tobytes())
            written += 1
            if written == FRAMES:
                break


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url: str, server: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamgan serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url + "targets", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"streamgan serve did not answer {url}targets in {timeout:.0f} s")


GRAB_JS = """([w, h]) => {
  const video = document.getElementById("remote");
  const canvas = document.createElement("canvas");
  canvas.width = w; canvas.height = h;
  canvas.getContext("2d").drawImage(video, 0, 0, w, h);
  return { t: video.currentTime, png: canvas.toDataURL("image/png") };
}"""

DECODED_JS = """async () => {
  const video = document.getElementById("remote");
  let decoded = 0;
  const pc = window.__pcs && window.__pcs[window.__pcs.length - 1];
  if (pc) (await pc.getStats()).forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") decoded = s.framesDecoded || 0;
  });
  return { w: video.videoWidth, h: video.videoHeight, t: video.currentTime, decoded };
}"""

# The page keeps its RTCPeerConnection in a closure; remember every one made so that
# getStats can be read from the test.
RECORD_PCS = """(() => {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = function (...args) {
    const pc = new Native(...args);
    window.__pcs.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Native.prototype;
})();"""


def drive_browser(url: str, camera: Path, out: Path, filter_name: str = "reenact"
                  ) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    result: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, timeout=30_000,
            args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-video-capture={camera}"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 700})
            page.set_default_timeout(20_000)
            page.add_init_script(RECORD_PCS)
            console: list[str] = []
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.goto(url)
            choice = "#target" if filter_name == "reenact" else "#style"
            page.wait_for_function(
                f"document.querySelectorAll('{choice} option').length > 0")
            page.select_option("#filter", filter_name)
            page.select_option(choice, index=0)  # the only target or style
            result["choice"] = page.input_value(choice)
            page.click("#start")
            deadline = time.monotonic() + FIRST_FRAMES
            state: dict[str, Any] = {}
            while time.monotonic() < deadline:
                state = page.evaluate(DECODED_JS)
                if state["w"] > 0 and state["decoded"] > 20:
                    break
                time.sleep(0.25)
            result["first"] = state
            result["error_text"] = page.text_content("#error")
            grabs = []
            for _ in range(GRABS):
                grabs.append(page.evaluate(GRAB_JS, [GRAB_W, GRAB_H]))
                time.sleep(GRAB_EVERY)
            result["grabs"] = grabs
            # The page's fps is a rate over the last second: wait for a non-placeholder.
            page.wait_for_function(
                "document.getElementById('stat-fps').textContent !== '-'", timeout=10_000)
            result["fps_text"] = page.text_content("#stat-fps")
            result["state_text"] = page.text_content("#stat-state")
            result["last"] = page.evaluate(DECODED_JS)
            page.screenshot(path=str(out / "page.png"))
            result["console"] = console
            page.click("#stop")
        finally:
            browser.close()
    return result


def main(out: Path, filter_name: str = "reenact", style: str | None = None) -> int:
    camera = out / "driver.y4m"
    write_y4m(camera)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    streamgan = [sys.executable, "-m", "streamgan"]
    with (out / "server.log").open("wb") as log:
        server = subprocess.Popen(
            [*streamgan, "serve", "--host", "127.0.0.1", "--port", str(port),
             "--target", str(SAMPLES / "target.png"),
             "--trust", str(SAMPLES / "consent" / "sample-signer.trust.json"),
             *(["--style", style] if style else [])],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready(url, server, SERVER_READY)
            result = drive_browser(url, camera, out, filter_name)
        finally:
            server.kill()
            server.wait(timeout=10)
    (out / "result.json").write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    if os.environ.get("STREAMGAN_BROWSER_NETNS") != "1":
        sys.exit("run this inside `unshare -n` (see tests/apps/test_browser.py)")
    sys.exit(main(Path(sys.argv[1]), *sys.argv[2:4]))

"""``streamgan verify FILE``: is there a streamgan watermark, and what does the manifest say.

Exit 0 whenever the check ran, whatever it found; a file that cannot be read is a
one-line error. ``--json`` prints one JSON object for scripts and trust-and-safety
tooling.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from streamgan.safety.provenance import read_manifest
from streamgan.safety.watermark import WatermarkKey, detect_file
from streamgan.safety.watermark_detect import MAX_FILE_FRAMES


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "verify", parents=parents,
        help="report a file's streamgan watermark and C2PA provenance manifest",
        description="Looks for the invisible watermark (which survives re-encoding) and "
        "reads the C2PA manifest (which re-encoding strips).",
    )
    p.add_argument("file", type=Path, help="video or image to check")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--frames", type=int, default=MAX_FILE_FRAMES,
                   help="most frames to read for the watermark; reading stops as soon as "
                   f"the mark is certain (default {MAX_FILE_FRAMES}, 0: the whole file)")
    p.add_argument("--watermark-key", type=Path, default=None, metavar="FILE",
                   help="watermark key to check with (default: yours, or "
                   "$STREAMGAN_WATERMARK_KEY)")
    p.set_defaults(run=run)


def report(path: Path, key: WatermarkKey, frames: int = MAX_FILE_FRAMES) -> dict[str, Any]:
    """Watermark and manifest findings for ``path`` as one JSON-ready object; ``frames``
    caps the frames read (0: the whole file)."""
    manifest = read_manifest(path)  # raises InputError for unreadable files, first
    detection = detect_file(path, key, max_frames=frames if frames > 0 else None)
    bound = manifest.watermark_payload
    return {
        "file": str(path),
        "watermark": {
            "present": detection.present,
            "payload": detection.payload,
            "confidence": round(float(detection.confidence), 4),
            "frames": detection.frames_used,
            "matches_manifest": (None if bound is None or detection.payload is None
                                 else bound.lower() == detection.payload.lower()),
        },
        "manifest": manifest.to_json(),
    }


def describe(result: dict[str, Any]) -> str:
    """The findings of :func:`report` as a few readable lines."""
    w, m = result["watermark"], result["manifest"]
    lines = [result["file"]]
    if w["present"]:
        lines.append(f"  watermark: present, payload {w['payload']}, confidence "
                     f"{w['confidence']:.2f} ({w['frames']} frames)")
    else:
        lines.append(f"  watermark: not found ({w['frames']} frames, confidence "
                     f"{w['confidence']:.2f})")
    if not m["present"]:
        lines.append("  manifest: none (re-encoding strips manifests; the watermark survives)")
    else:
        lines.append(f"  manifest: {m['state']}; {m['action']}; source type "
                     f"{m['digital_source_type']}; by {m['software_agent']}")
        if m["consent_record_id"]:
            lines.append(f"  consent record: {m['consent_record_id']}")
        if w["matches_manifest"] is not None:
            lines.append("  watermark matches the manifest's soft binding: "
                         + ("yes" if w["matches_manifest"] else "NO"))
        lines.extend(f"  issue: {issue}" for issue in m["issues"])
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    key = (WatermarkKey.load(args.watermark_key) if args.watermark_key
           else WatermarkKey.load_or_create())
    result = report(args.file, key, args.frames)
    print(json.dumps(result, indent=2) if args.json else describe(result))
    return 0

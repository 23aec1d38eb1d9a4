"""``streamgan consent keygen|grant|show|verify|trust``: consent tags from the command line.

Results go to stdout (they are the command's output); failures are one line on stderr
with exit code 1, through :func:`streamgan.cli.main.main`. FILE is an image (consent
bound to its pixels and one face) or, by its ending, a training video (consent to
``train``, bound to its bytes, in a sidecar); a scope or option that does not fit the
kind of FILE is a usage error (exit 2), like any other bad argument.
"""

from __future__ import annotations

import argparse
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

from streamgan.cli.args import add_trust_option, int_range
from streamgan.media.info import VIDEO_SUFFIXES
from streamgan.safety.consent import (
    SCOPES,
    ConsentRecord,
    TagReport,
    check_consent,
    check_file_consent,
    grant_consent,
    grant_file_consent,
    inspect_consent,
    inspect_file_consent,
    is_video,
)
from streamgan.safety.consent_common import vouches
from streamgan.safety.consent_keys import generate_keypair
from streamgan.safety.consent_pixels import BOX_SCALE
from streamgan.safety.consent_tag import KIND_PLURALS, ConsentTag, TagKind, check_scopes
from streamgan.safety.consent_trust import ENV_TRUST, install_trust, trusted_dir

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "consent", help="grant, show and verify consent tags on target images and videos",
        description="A consent tag is a signed statement that the person in an image lets "
        "that face be animated. It is bound to the image's pixels and to one face, and "
        "travels inside PNG and JPEG files or in an IMAGE.consent.json sidecar. On a "
        f"training video ({' '.join(VIDEO_SUFFIXES)}) it lets the person's footage train a "
        "model of their face (scope train): it is bound to the file's bytes and travels in "
        "VIDEO.consent.json.",
    )
    actions = p.add_subparsers(dest="consent_action", metavar="ACTION", required=True)

    keygen = actions.add_parser(
        "keygen", parents=parents, help="make an Ed25519 signing key pair",
        description="Writes PREFIX.key (private, readable by you only) and PREFIX.pub.")
    keygen.add_argument("prefix", type=Path, metavar="PREFIX")
    keygen.add_argument("--force", action="store_true", help="overwrite an existing key pair")
    keygen.set_defaults(run=run_keygen)

    grant = actions.add_parser(
        "grant", parents=parents, help="sign a consent tag and attach it to an image or video",
        description="Signs a consent tag for one face in IMAGE and puts it inside the file "
        "(PNG, JPEG: the pixels stay exactly as they are) or into IMAGE.consent.json; or, "
        "for a VIDEO, a tag for its bytes (scope train only) into VIDEO.consent.json.")
    grant.add_argument("image", type=Path, metavar="FILE", help="an image, or a video")
    grant.add_argument("--key", type=Path, required=True, help="the signer's PREFIX.key")
    grant.add_argument("--subject", required=True,
                       help="who consents: the person whose face it is")
    grant.add_argument("--scope", type=_scopes, required=True,
                       help=f"what they consent to, comma-separated: {', '.join(SCOPES)} "
                       "(train: videos only; the others: images only)")
    grant.add_argument("--expires", type=_day, default=None, metavar="YYYY-MM-DD",
                       help="no longer valid from this day on (00:00 UTC); default: never")
    grant.add_argument("--not-before", type=_day, default=None, metavar="YYYY-MM-DD",
                       help="valid from this day (00:00 UTC); default: now")
    grant.add_argument("--face-index", type=int_range(0), default=0,
                       help="which face: 0 the largest (as --target-face-index counts; "
                       "images only)")
    grant.add_argument("--sidecar", action="store_true",
                       help="write IMAGE.consent.json even when the file could carry the tag "
                       "(videos always use one)")
    grant.set_defaults(run=run_grant, usage=grant.error)

    show = actions.add_parser("show", parents=parents,
                              help="print an image's or video's consent tags")
    show.add_argument("image", type=Path, metavar="FILE")
    show.add_argument("--json", action="store_true", help="print JSON")
    add_trust_option(show)
    show.set_defaults(run=run_show)

    verify = actions.add_parser(
        "verify", parents=parents, help="check that an image's or video's consent holds",
        description="Exit 0 when a consent tag for the face (for a video: its bytes) holds "
        "(for --scope, when given); else exit 1 with the reason. Trusted signers: "
        f"{trusted_dir()}/*.pub, ${ENV_TRUST}, and --trust.")
    verify.add_argument("image", type=Path, metavar="FILE")
    verify.add_argument("--scope", choices=SCOPES, default=None,
                        help="require this scope (default: any)")
    verify.add_argument("--face-index", type=int_range(0), default=0,
                        help="which face: 0 the largest (images only)")
    add_trust_option(verify)
    verify.set_defaults(run=run_verify, usage=verify.error)

    trust = actions.add_parser(
        "trust", parents=parents, help="trust a signer's public key from now on",
        description=f"Copies a public key (PEM) or JSON trust file into {trusted_dir()}.")
    trust.add_argument("file", type=Path, metavar="PUBFILE")
    trust.set_defaults(run=run_trust)


def _scopes(text: str) -> list[str]:
    scopes = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in scopes if s not in SCOPES]
    if not scopes or unknown:
        raise argparse.ArgumentTypeError(
            f"{unknown[0] if unknown else text!r} is not a scope (known: {', '.join(SCOPES)})")
    return scopes


def _day(text: str) -> date:
    if not _DATE_RE.fullmatch(text):
        raise argparse.ArgumentTypeError("expected a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _say(args: argparse.Namespace, line: str) -> None:
    if not args.quiet:
        print(line)


def run_keygen(args: argparse.Namespace) -> int:
    files = generate_keypair(args.prefix, force=args.force)
    _say(args, f"wrote {files.private} (private: keep it secret) and {files.public} "
         f"({files.fingerprint})")
    return 0


def _kind(args: argparse.Namespace, scopes: list[str]) -> TagKind:
    """Image or video, by FILE's name; a scope or --face-index that does not fit it is
    a usage error, decided before any file is read."""
    kind: TagKind = "file" if is_video(args.image) else "image"
    try:
        if scopes:
            check_scopes(scopes, kind)
    except ValueError as e:
        args.usage(f"argument --scope: {e}")
    if kind == "file" and args.face_index:
        args.usage("argument --face-index: a video's consent covers its whole footage, "
                   "not one face")
    return kind


def run_grant(args: argparse.Namespace) -> int:
    if _kind(args, args.scope) == "file":
        return _grant_video(args)
    done = grant_consent(args.image, args.key, args.subject, args.scope,
                         face_index=args.face_index, not_before=args.not_before,
                         expires=args.expires, sidecar=args.sidecar)
    tag = done.tag
    where = f"into {done.written}" if done.in_file else f"to {done.written}"
    replaced = f" (replaces {done.replaced})" if done.replaced else ""
    _say(args, f"granted consent {tag.id} for {tag.subject}: face {tag.face.index}, "
         f"scopes {','.join(tag.scopes)}, {_validity(tag.not_before, tag.expires)}; "
         f"written {where}{replaced}")
    return 0


def _grant_video(args: argparse.Namespace) -> int:
    done = grant_file_consent(args.image, args.key, args.subject, args.scope,
                              not_before=args.not_before, expires=args.expires)
    tag = done.tag
    replaced = f" (replaces {done.replaced})" if done.replaced else ""
    _say(args, f"granted consent {tag.id} for {tag.subject}: video of {_bytes(tag.file.size)}, "
         f"sha256 {tag.file.sha256[:12]}..., scopes {','.join(tag.scopes)}, "
         f"{_validity(tag.not_before, tag.expires)}; written to {done.written}{replaced}")
    return 0


def _bytes(size: int) -> str:
    return f"{size} byte{'s' if size != 1 else ''}"


def run_show(args: argparse.Namespace) -> int:
    video = is_video(args.image)
    reports = (inspect_file_consent if video else inspect_consent)(args.image, args.trust)
    if args.json:
        print(json.dumps({"video" if video else "image": str(args.image),
                          "tags": [_report_json(r) for r in reports]},
                         indent=2, ensure_ascii=False))
        return 0
    print(f"{args.image}: {len(reports)} consent tag{'s' if len(reports) != 1 else ''}")
    for report in reports:
        print()
        print("\n".join(_report_lines(report)))
    return 0


def run_verify(args: argparse.Namespace) -> int:
    if _kind(args, [args.scope] if args.scope else []) == "file":
        record = check_file_consent(args.image, args.scope, extra_trust=args.trust)
    else:
        record = check_consent(args.image, args.scope, face_index=args.face_index,
                               extra_trust=args.trust)
    _say(args, _record_line(args.image, record))
    return 0


def run_trust(args: argparse.Namespace) -> int:
    dest, signer, added = install_trust(args.file)
    if added:
        _say(args, f"now trusting {signer.describe()} ({signer.fingerprint}): {dest}")
    else:
        _say(args, f"already trusted: {signer.describe()} ({signer.fingerprint}): {dest}")
    return 0


def _validity(not_before: date | None, expires: date | None) -> str:
    start = f"valid from {not_before}" if not_before else "valid from signing"
    end = f"until {expires} (00:00 UTC)" if expires else "with no expiry"
    return f"{start} {end}"


def _record_line(image: Path, record: ConsentRecord) -> str:
    test = ", TEST ONLY signer" if record.test_only else ""
    if record.file_sha256 is not None and record.file_bytes is not None:
        bound = f"video of {_bytes(record.file_bytes)}, sha256 {record.file_sha256[:12]}..."
    else:
        bound = f"face {record.face_index}"
    return (f"{image}: consent {record.record_id} holds: {record.subject}, {bound}, "
            f"scopes {','.join(record.scopes)}, "
            f"{_validity(record.not_before, record.expires)}; signed by {record.signer_name} "
            f"({record.signer_fingerprint}{test})")


def _vouched(report: TagReport) -> bool:
    return report.signer is not None and report.tag is not None and \
        vouches(report.signer, report.tag)


def _trust_text(report: TagReport) -> str:
    signer = report.signer
    if signer is None or report.tag is None:
        return "not trusted"
    if not _vouched(report):
        return f"trusted only for other {KIND_PLURALS[report.tag.kind]} ({signer.source})"
    return f"trusted: {signer.describe()} ({signer.source})"


def _report_lines(report: TagReport) -> list[str]:
    tag = report.tag
    if tag is None:
        return [f"damaged tag in {report.location}: {report.error}"]
    if isinstance(tag, ConsentTag):
        x0, y0, x1, y1 = (v / BOX_SCALE for v in tag.face.box)
        binding = [
            ("face", f"{tag.face.index} (x {x0:.3f}-{x1:.3f}, y {y0:.3f}-{y1:.3f})"),
            ("pixels", f"sha256 {tag.image.sha256} ({tag.image.width}x{tag.image.height} "
                       f"{tag.image.mode})"),
        ]
    else:
        binding = [("bytes", f"sha256 {tag.file.sha256} ({_bytes(tag.file.size)})")]
    rows = [
        ("tag", f"{tag.id} ({report.location})"),
        ("subject", tag.subject),
        ("scopes", ", ".join(tag.scopes)),
        ("validity", _validity(tag.not_before, tag.expires)),
        ("created", tag.created.strftime("%Y-%m-%d %H:%M:%S UTC")),
        *binding,
        ("signer", f"{tag.signer_fingerprint}, {_trust_text(report)}"),
        ("signature", "valid" if report.signature_valid else "INVALID (altered after signing)"),
    ]
    return [f"  {name + ':':<11}{value}" for name, value in rows]


def _report_json(report: TagReport) -> dict[str, Any]:
    out: dict[str, Any] = {"location": report.location, "tag": report.raw}
    if report.error is not None:
        out["error"] = report.error
        return out
    out["signature_valid"] = report.signature_valid
    out["signer_fingerprint"] = report.tag.signer_fingerprint if report.tag else None
    out["signer_trusted"] = _vouched(report)
    return out

"""``streamgan consent keygen|grant|show|verify|trust``: consent tags from the command line.

Results go to stdout (they are the command's output); failures are one line on stderr
with exit code 1, through :func:`streamgan.cli.main.main`.
"""

from __future__ import annotations

import argparse
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

from streamgan.cli.args import add_trust_option, int_range
from streamgan.safety.consent import (
    SCOPES,
    ConsentRecord,
    TagReport,
    check_consent,
    grant_consent,
    inspect_consent,
)
from streamgan.safety.consent_keys import generate_keypair
from streamgan.safety.consent_pixels import BOX_SCALE
from streamgan.safety.consent_trust import ENV_TRUST, install_trust, trusted_dir

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "consent", help="grant, show and verify consent tags on target images",
        description="A consent tag is a signed statement that the person in an image lets "
        "that face be animated. It is bound to the image's pixels and to one face, and "
        "travels inside PNG and JPEG files or in an IMAGE.consent.json sidecar.",
    )
    actions = p.add_subparsers(dest="consent_action", metavar="ACTION", required=True)

    keygen = actions.add_parser(
        "keygen", parents=parents, help="make an Ed25519 signing key pair",
        description="Writes PREFIX.key (private, readable by you only) and PREFIX.pub.")
    keygen.add_argument("prefix", type=Path, metavar="PREFIX")
    keygen.add_argument("--force", action="store_true", help="overwrite an existing key pair")
    keygen.set_defaults(run=run_keygen)

    grant = actions.add_parser(
        "grant", parents=parents, help="sign a consent tag and attach it to an image",
        description="Signs a consent tag for one face in IMAGE and puts it inside the file "
        "(PNG, JPEG: the pixels stay exactly as they are) or into IMAGE.consent.json.")
    grant.add_argument("image", type=Path, metavar="IMAGE")
    grant.add_argument("--key", type=Path, required=True, help="the signer's PREFIX.key")
    grant.add_argument("--subject", required=True,
                       help="who consents: the person whose face it is")
    grant.add_argument("--scope", type=_scopes, required=True,
                       help=f"what they consent to, comma-separated: {', '.join(SCOPES)}")
    grant.add_argument("--expires", type=_day, default=None, metavar="YYYY-MM-DD",
                       help="no longer valid from this day on (00:00 UTC); default: never")
    grant.add_argument("--not-before", type=_day, default=None, metavar="YYYY-MM-DD",
                       help="valid from this day (00:00 UTC); default: now")
    grant.add_argument("--face-index", type=int_range(0), default=0,
                       help="which face: 0 the largest (as --target-face-index counts)")
    grant.add_argument("--sidecar", action="store_true",
                       help="write IMAGE.consent.json even when the file could carry the tag")
    grant.set_defaults(run=run_grant)

    show = actions.add_parser("show", parents=parents, help="print an image's consent tags")
    show.add_argument("image", type=Path, metavar="IMAGE")
    show.add_argument("--json", action="store_true", help="print JSON")
    add_trust_option(show)
    show.set_defaults(run=run_show)

    verify = actions.add_parser(
        "verify", parents=parents, help="check that an image's consent holds",
        description="Exit 0 when a consent tag for the face holds (for --scope, when given); "
        "else exit 1 with the reason. Trusted signers: "
        f"{trusted_dir()}/*.pub, ${ENV_TRUST}, and --trust.")
    verify.add_argument("image", type=Path, metavar="IMAGE")
    verify.add_argument("--scope", choices=SCOPES, default=None,
                        help="require this scope (default: any)")
    verify.add_argument("--face-index", type=int_range(0), default=0,
                        help="which face: 0 the largest")
    add_trust_option(verify)
    verify.set_defaults(run=run_verify)

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


def run_grant(args: argparse.Namespace) -> int:
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


def run_show(args: argparse.Namespace) -> int:
    reports = inspect_consent(args.image, args.trust)
    if args.json:
        print(json.dumps({"image": str(args.image),
                          "tags": [_report_json(r) for r in reports]},
                         indent=2, ensure_ascii=False))
        return 0
    print(f"{args.image}: {len(reports)} consent tag{'s' if len(reports) != 1 else ''}")
    for report in reports:
        print()
        print("\n".join(_report_lines(report)))
    return 0


def run_verify(args: argparse.Namespace) -> int:
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
    return (f"{image}: consent {record.record_id} holds: {record.subject}, face "
            f"{record.face_index}, scopes {','.join(record.scopes)}, "
            f"{_validity(record.not_before, record.expires)}; signed by {record.signer_name} "
            f"({record.signer_fingerprint}{test})")


def _vouched(report: TagReport) -> bool:
    return report.signer is not None and report.tag is not None and \
        report.signer.vouches_for(report.tag.image.sha256)


def _trust_text(report: TagReport) -> str:
    signer = report.signer
    if signer is None:
        return "not trusted"
    if not _vouched(report):
        return f"trusted only for other images ({signer.source})"
    return f"trusted: {signer.describe()} ({signer.source})"


def _report_lines(report: TagReport) -> list[str]:
    tag = report.tag
    if tag is None:
        return [f"damaged tag in {report.location}: {report.error}"]
    x0, y0, x1, y1 = (v / BOX_SCALE for v in tag.face.box)
    rows = [
        ("tag", f"{tag.id} ({report.location})"),
        ("subject", tag.subject),
        ("scopes", ", ".join(tag.scopes)),
        ("validity", _validity(tag.not_before, tag.expires)),
        ("created", tag.created.strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("face", f"{tag.face.index} (x {x0:.3f}-{x1:.3f}, y {y0:.3f}-{y1:.3f})"),
        ("pixels", f"sha256 {tag.image.sha256} ({tag.image.width}x{tag.image.height} "
                   f"{tag.image.mode})"),
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

"""C2PA provenance manifests: every video streamgan writes says, signed, that it is
synthetic, which tool made it, which watermark it carries and under which consent.

Signing and reading use ``c2pa-python`` entirely offline: no timestamp authority, no
OCSP, no remote manifests, no trust lists from the network (the library is also told
that no host at all may be contacted). The signer is the user's own local identity
(:mod:`streamgan.safety.signing`), made on first use.

What a manifest holds:

- ``c2pa.actions``: ``c2pa.created`` (or ``c2pa.edited`` after the library's own
  ``c2pa.opened`` of the parent) with digitalSourceType *trainedAlgorithmicMedia* and
  softwareAgent streamgan + version; ``c2pa.watermarked.bound`` when a watermark is set.
- ``c2pa.soft-binding``: alg ``io.streamgan.watermark.v1``, value the payload in hex:
  the watermark survives re-encoding, the manifest does not, and this ties the two.
- ``io.streamgan.consent``: the consent record id, its subject and the fingerprint of
  the key that signed the consent record.

The hard binding hashes the whole file (BMFF hash), so any change to the media after
signing reads back as "Invalid", and any re-encode or re-mux drops the manifest.
C2PA can embed manifests in MP4 and QuickTime but not in Matroska/WebM.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import c2pa

from streamgan import __version__
from streamgan.errors import InputError, OutputError
from streamgan.safety.signing import SigningIdentity, ensure_identity, trusted_root_pem

log = logging.getLogger(__name__)

TOOL = "streamgan"
CREATED = "c2pa.created"
EDITED = "c2pa.edited"
WATERMARKED = "c2pa.watermarked.bound"
"""C2PA 2.2+: a watermark inserted as a soft binding to this very manifest."""
TRAINED_ALGORITHMIC_MEDIA = (
    "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia")
COMPOSITE_ALGORITHMIC_MEDIA = (
    "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia")
"""An edit that mixes the input with a model's output (e.g. only the person translated)."""
WATERMARK_ALG = "io.streamgan.watermark.v1"
CONSENT_LABEL = "io.streamgan.consent"

FORMATS = {".mp4": "video/mp4", ".mov": "video/quicktime"}
"""Containers a manifest can be embedded in (checked with c2pa-python 0.38: mp4 and
mov sign and verify; mkv is refused as "type is unsupported")."""

_OFFLINE: dict[str, Any] = {
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
    "core": {"allowed_network_hosts": []},  # an empty allow-list allows no host
}
_HEX = re.compile(r"[0-9a-fA-F]+")


@dataclass(frozen=True)
class ProvenanceClaim:
    """What the manifest of one output says beyond "made by streamgan"."""

    action: str = CREATED
    """``c2pa.created`` for a new video; ``c2pa.edited`` for one changed from ``parent``."""
    watermark_payload: str | None = None
    """The watermark payload in hex (soft binding); None: no watermark declared."""
    consent_record_id: str | None = None
    consent_subject: str | None = None
    title: str | None = None
    consent_signer: str | None = None
    """Fingerprint of the key that signed the consent record (``ed25519:...``)."""
    parent: Path | None = None
    """The source an edit starts from; C2PA requires one for ``c2pa.edited`` (it becomes
    the parentOf ingredient) and forbids one for ``c2pa.created``."""
    parameters: dict[str, Any] | None = None
    """The action's parameters, e.g. the model an edit was made with and its hash."""
    source_type: str | None = None
    """IPTC digital source type of the action; None: trainedAlgorithmicMedia."""

    def but(self, **changes: Any) -> ProvenanceClaim:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class ManifestReport:
    """What :func:`read_manifest` found, flattened to the fields streamgan writes."""

    present: bool
    state: str | None
    """The library's verdict: "Trusted" (chains to the user's own root), "Valid"
    (intact and correctly signed, signer not trusted here), "Invalid" (e.g. the file
    changed after signing); None when there is no manifest."""
    digital_source_type: str | None = None
    action: str | None = None
    software_agent: str | None = None
    watermark_payload: str | None = None
    consent_record_id: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    """The primary action's parameters (an edit's model, for instance)."""
    issues: list[str] = field(default_factory=list)
    """Validation failures as ``code: explanation``, or why no manifest could be read."""

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def supports(path: Path) -> bool:
    """Whether :func:`sign_video` can embed a manifest in a file with this name."""
    return Path(path).suffix.lower() in FORMATS


def sign_video(src: Path, dst: Path, claim: ProvenanceClaim) -> None:
    """Write a copy of ``src`` with a signed C2PA manifest to ``dst``; ``src`` is left
    untouched. The whole file is hashed, and checked again once signed: about 15 ms for
    1 MB and 0.3 s for 50 MB on two cores. Makes the signing identity on first use.
    Raises OutputError for containers C2PA cannot carry a manifest in."""
    src, dst = Path(src), Path(dst)
    mime = FORMATS.get(src.suffix.lower())
    if mime is None:
        raise OutputError(f"{src}: cannot embed a C2PA manifest in a {src.suffix or 'suffix-less'}"
                          f" file; only {', '.join(FORMATS)} can carry one")
    if dst.exists() and src.exists() and dst.samefile(src):
        raise OutputError(f"{dst}: the signed copy must not overwrite its source")
    manifest = _manifest(claim)  # checks the claim before any file is touched
    identity = ensure_identity()
    try:
        source = open(src, "rb")  # closed by the with below
    except OSError as e:
        raise InputError(f"{src}: cannot read: {e.strerror or e}") from e
    with source:
        try:
            target = open(dst, "w+b")
        except OSError as e:
            raise OutputError(f"{dst}: cannot write: {e.strerror or e}") from e
        try:
            try:
                _sign(manifest, claim, identity, mime, source, target)
            except BaseException:
                with contextlib.suppress(OSError):  # a full disk fails here too: keep the first
                    target.close()
                raise
            target.close()
        except BaseException:
            dst.unlink(missing_ok=True)
            raise
    log.debug("signed %s -> %s as %s (%s)", src, dst, claim.action, identity.fingerprint)


def read_manifest(path: Path) -> ManifestReport:
    """The C2PA manifest of ``path``, validated against the user's own root CA as the
    only trust anchor. A file without one (never signed, re-encoded, or a format that
    cannot carry one) gives ``present=False``; a damaged manifest gives "Invalid".
    Raises InputError when the file cannot be read or parsed at all."""
    path = Path(path)
    try:
        stream = open(path, "rb")
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from e
    with stream, _context(_reader_settings()) as context:
        mime = FORMATS.get(path.suffix.lower())  # None: let the library look at the bytes
        try:
            reader = c2pa.Reader.try_create(mime, stream, None, context)
        except c2pa.C2paError.NotSupported as e:
            return ManifestReport(present=False, state=None,
                                  issues=[f"no C2PA support for this file type: {e}"])
        except (c2pa.C2paError.Io, c2pa.C2paError.Other) as e:
            raise InputError(f"{path}: cannot read: {_message(e)}") from e
        except c2pa.C2paError as e:  # JUMBF found but the manifest in it is broken
            return ManifestReport(present=True, state="Invalid", issues=[_message(e)])
        if reader is None:
            return ManifestReport(present=False, state=None)
        with reader:
            store = json.loads(reader.json())
    return _report(store)


def _sign(manifest: dict[str, Any], claim: ProvenanceClaim, identity: SigningIdentity,
          mime: str, source: BinaryIO, target: BinaryIO) -> None:
    settings = {**_OFFLINE, "builder": {"thumbnail": {"enabled": False}}}
    info = c2pa.C2paSignerInfo(identity.algorithm, identity.leaf_pem, identity.key_pem, None)
    try:
        with _context(settings) as context, c2pa.Signer.from_info(info) as signer, \
                c2pa.Builder(manifest, context) as builder:
            if claim.parent is None:
                builder.set_intent(c2pa.C2paBuilderIntent.CREATE,
                                   c2pa.C2paDigitalSourceType.TRAINED_ALGORITHMIC_MEDIA)
            else:
                builder.set_intent(c2pa.C2paBuilderIntent.EDIT)
                _add_parent(builder, claim.parent)
            builder.sign(signer, mime, source, target)
    except c2pa.C2paError as e:
        raise OutputError(f"cannot sign the C2PA manifest: {_message(e)}") from e


def _add_parent(builder: Any, parent: Path) -> None:
    ingredient = {"title": parent.name, "relationship": "parentOf"}
    mime = FORMATS.get(parent.suffix.lower(), "application/octet-stream")
    try:
        with open(parent, "rb") as f:
            builder.add_ingredient(ingredient, mime, f)
    except OSError as e:
        raise InputError(f"{parent}: cannot read: {e.strerror or e}") from e


def _manifest(claim: ProvenanceClaim) -> dict[str, Any]:
    """The manifest definition for ``claim``; ValueError for one C2PA would reject."""
    if claim.action not in (CREATED, EDITED):
        raise ValueError(f"action must be {CREATED} or {EDITED}, not {claim.action!r}")
    if (claim.action == EDITED) != (claim.parent is not None):
        raise ValueError(f"{EDITED} needs a parent and {CREATED} must not have one")
    agent = {"name": TOOL, "version": __version__}
    primary: dict[str, Any] = {
        "action": claim.action,
        "digitalSourceType": claim.source_type or TRAINED_ALGORITHMIC_MEDIA,
        "softwareAgent": agent}
    if claim.parameters:
        primary["parameters"] = dict(claim.parameters)
    actions: list[dict[str, Any]] = [primary]
    assertions: list[dict[str, Any]] = [{"label": "c2pa.actions", "data": {"actions": actions}}]
    if claim.watermark_payload is not None:
        payload = claim.watermark_payload
        if not _HEX.fullmatch(payload):
            raise ValueError(f"watermark payload must be hex, not {payload!r}")
        actions.append({"action": WATERMARKED, "softwareAgent": agent})
        assertions.append({"label": "c2pa.soft-binding", "data": {
            "alg": WATERMARK_ALG, "blocks": [{"scope": {}, "value": payload.lower()}], "pad": [],
        }})
    consent = {"record_id": claim.consent_record_id, "subject": claim.consent_subject,
               "signer_fingerprint": claim.consent_signer}
    if any(v is not None for v in consent.values()):
        assertions.append({"label": CONSENT_LABEL,
                           "data": {k: v for k, v in consent.items() if v is not None}})
    manifest: dict[str, Any] = {"claim_generator_info": [agent], "assertions": assertions}
    if claim.title:
        manifest["title"] = claim.title
    return manifest


def _reader_settings() -> dict[str, Any]:
    """Trust exactly the user's own root CA (``trust_anchors`` replaces the library's
    default anchors rather than adding to them); with no root, nothing is trusted."""
    settings: dict[str, Any] = {"verify": {**_OFFLINE["verify"], "verify_trust": True},
                                "core": _OFFLINE["core"]}
    root = trusted_root_pem()
    if root is not None:
        settings["trust"] = {"trust_anchors": root.decode("ascii", "replace")}
    return settings


@contextmanager
def _context(settings: dict[str, Any]) -> Iterator[Any]:
    with c2pa.Context.from_dict(settings) as context:
        yield context


def _report(store: dict[str, Any]) -> ManifestReport:
    """Flatten the library's manifest store JSON (active manifest only)."""
    manifests = store.get("manifests") or {}
    manifest = manifests.get(store.get("active_manifest")) or {}
    assertions = manifest.get("assertions") or []
    actions = _assertion(assertions, "c2pa.actions").get("actions") or []
    primary = next((a for a in actions if a.get("digitalSourceType")),
                   actions[0] if actions else {})
    soft = _assertion(assertions, "c2pa.soft-binding")
    blocks = (soft.get("blocks") or []) if soft.get("alg") == WATERMARK_ALG else []
    issues = _issues(store)
    state = store.get("validation_state") or ("Invalid" if issues else "Valid")
    return ManifestReport(
        present=True, state=state,
        digital_source_type=primary.get("digitalSourceType"),
        action=primary.get("action"),
        software_agent=_agent(primary.get("softwareAgent"))
        or _agent(next(iter(manifest.get("claim_generator_info") or []), None)),
        watermark_payload=blocks[0].get("value") if blocks else None,
        consent_record_id=_assertion(assertions, CONSENT_LABEL).get("record_id"),
        parameters=dict(primary.get("parameters") or {}),
        issues=issues,
    )


def _assertion(assertions: list[dict[str, Any]], label: str) -> dict[str, Any]:
    """The data of the first assertion ``label``, any version (``.v2``) or instance
    (``__1``) suffix allowed; {} when there is none."""
    pattern = re.compile(re.escape(label) + r"(\.v\d+)?(__\d+)?")
    for assertion in assertions:
        if pattern.fullmatch(str(assertion.get("label", ""))):
            data = assertion.get("data")
            return data if isinstance(data, dict) else {}
    return {}


def _agent(agent: object) -> str | None:
    if isinstance(agent, str):
        return agent
    if isinstance(agent, dict) and agent.get("name"):
        return f"{agent['name']} {agent.get('version', '')}".strip()
    return None


def _issues(store: dict[str, Any]) -> list[str]:
    results = store.get("validation_results")
    if isinstance(results, dict):
        statuses = list((results.get("activeManifest") or {}).get("failure") or [])
        for delta in results.get("ingredientDeltas") or []:
            statuses += (delta.get("validationDeltas") or {}).get("failure") or []
    else:
        statuses = store.get("validation_status") or []
    return [f"{s.get('code')}: {s['explanation']}" if s.get("explanation") else str(s.get("code"))
            for s in statuses]


def _message(error: Exception) -> str:
    return str(error).strip() or type(error).__name__

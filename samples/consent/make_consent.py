"""Make the sample consent material: a TEST ONLY signer, its trust file, and the tag on
``samples/target.png``.

The signer's private key is derived from a fixed, published seed, so anyone can sign
with it: it exists only so that tests and demos can run the consent check on the
sample target. Its trust file is marked ``test_only`` and vouches for the pixels of
``samples/target.png`` alone. Everything here is deterministic (fixed seed, tag id and
date; Ed25519 signatures are deterministic), so running the script again reproduces
the same bytes, provided MediaPipe finds the same face box.

    python samples/consent/make_consent.py            # (re)write keys, trust file, tag
    python samples/consent/make_consent.py --check    # verify the committed files

Run it again after ``samples/make_samples.py``, which rewrites ``target.png`` untagged.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

from streamgan.safety.consent import ConsentError, ConsentProblem, check_consent, grant_consent
from streamgan.safety.consent_keys import generate_keypair, load_public_key, public_pem
from streamgan.safety.consent_pixels import pixel_facts

log = logging.getLogger("make_consent")

HERE = Path(__file__).resolve().parent
TARGET = HERE.parent / "target.png"
PREFIX = HERE / "sample-signer"
KEY = PREFIX.with_suffix(".key")
PUB = PREFIX.with_suffix(".pub")
TRUST = HERE / "sample-signer.trust.json"

SEED = hashlib.sha256(b"streamgan sample consent signer: TEST ONLY, this key is public").digest()
TAG_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://streamgan.invalid/samples/target.png#consent"))
CREATED = datetime(2025, 1, 1, tzinfo=timezone.utc)
SUBJECT = "streamgan sample target (a made-up face, no real person)"
SCOPES = ("reenact", "stream")
WARNING = ("TEST ONLY: this signer's private key is published in the streamgan repository "
           "(samples/consent/sample-signer.key); anyone can sign with it. It is trusted only "
           "for the pixels of samples/target.png.")


def make() -> None:
    keys = generate_keypair(PREFIX, force=True, seed=SEED)
    log.info("signer %s", keys.fingerprint)
    done = grant_consent(TARGET, KEY, SUBJECT, SCOPES, now=CREATED, tag_id=TAG_ID)
    log.info("tagged %s (%s)", done.written, done.tag.id)
    trust = {
        "comment": WARNING,
        "name": "streamgan sample signer (TEST ONLY)",
        "test_only": True,
        "public_key": public_pem(load_public_key(PUB)).decode("ascii"),
        "images": [pixel_facts(TARGET).sha256],
    }
    TRUST.write_text(json.dumps(trust, indent=2) + "\n", encoding="utf-8")
    log.info("wrote %s", TRUST)


def check() -> bool:
    """The sample target verifies with the sample trust file, and only with it."""
    record = check_consent(TARGET, "reenact", extra_trust=[TRUST])
    print(f"with {TRUST.name}: consent {record.record_id} holds ({record.subject}; "
          f"test_only={record.test_only})")
    try:
        check_consent(TARGET, "reenact")
    except ConsentError as e:
        print(f"without it: refused ({e.problem.value})")
        return e.problem is ConsentProblem.UNKNOWN_SIGNER
    print("without it: unexpectedly accepted")
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only verify the committed files")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    if not args.check:
        make()
    return 0 if check() else 1


if __name__ == "__main__":
    sys.exit(main())

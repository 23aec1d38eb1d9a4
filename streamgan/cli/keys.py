"""``streamgan keys init|show``: the local identity that signs provenance manifests."""

from __future__ import annotations

import argparse
from typing import Any

from streamgan.errors import StreamganError
from streamgan.safety.signing import SigningIdentity, init_identity, load_identity, signing_dir


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "keys", help="the local certificate that signs every output's C2PA manifest",
        description="streamgan signs a C2PA provenance manifest into every video it writes, "
        "with a local root CA and a signer certificate issued by it. They are made on first "
        "use; files read back as Trusted where this root is known, Valid elsewhere.",
    )
    sub = p.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    init = sub.add_parser("init", parents=parents, help="create the root CA and signer",
                          description="Create the root CA and signer certificate unless they "
                          "exist already.")
    init.add_argument("--force", action="store_true",
                      help="replace them: files signed before then are no longer Trusted here")
    init.set_defaults(run=run_init)
    show = sub.add_parser("show", parents=parents, help="print where they are and who signs",
                          description="Print the files and the signer's subject and "
                          "fingerprint.")
    show.set_defaults(run=run_show)


def run_init(args: argparse.Namespace) -> int:
    identity, created = init_identity(force=args.force)
    if args.quiet:
        return 0
    if created:
        print(f"created a signing identity in {identity.directory}")
    else:
        print(f"kept the existing signing identity in {identity.directory} "
              "(--force replaces it)")
    print(_describe(identity))
    return 0


def run_show(args: argparse.Namespace) -> int:
    identity = load_identity()
    if identity is None:
        raise StreamganError(f"no signing identity in {signing_dir()} yet; "
                             "`streamgan keys init` makes one (so does the first output)")
    print(_describe(identity))
    return 0


def _describe(identity: SigningIdentity) -> str:
    rows = [
        ("root CA", str(identity.root_cert_path)),
        ("root key", str(identity.root_key_path) if identity.root_key_path.exists()
         else "(absent: the signer cannot be re-issued)"),
        ("signer", str(identity.cert_path)),
        ("signer key", str(identity.key_path)),
        ("subject", identity.subject),
        ("issuer", identity.issuer),
        ("fingerprint", f"SHA-256 {identity.fingerprint}"),
        ("valid until", f"{identity.not_after:%Y-%m-%d}" + (" (EXPIRED)" if identity.expired
                                                             else "")),
        ("algorithm", identity.algorithm.upper()),
    ]
    width = max(len(name) for name, _ in rows) + 1
    return "\n".join(f"{name + ':':<{width}} {value}" for name, value in rows)

"""``streamgan consent ...``: exit codes, stdout results, one-line errors."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from streamgan.cli.main import main
from tests.conftest import one_line_error
from tests.safety.test_consent_support import hopper, save


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main(["consent", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip()


@pytest.fixture
def keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    code, out, _ = run(capsys, "keygen", tmp_path / "alice")
    assert code == 0 and "ed25519:" in out
    return tmp_path / "alice"


def test_keygen(tmp_path: Path, keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert stat.S_IMODE(keys.with_suffix(".key").stat().st_mode) == 0o600
    assert keys.with_suffix(".pub").is_file()
    code, _, err = run(capsys, "keygen", keys)
    assert code == 1
    one_line_error(err, "alice.key: already exists")
    assert run(capsys, "keygen", keys, "--force", "-q")[:2] == (0, "")


def test_grant_show_verify_trust(tmp_path: Path, keys: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    image = save(tmp_path / "face.png", hopper())
    code, out, _ = run(capsys, "grant", image, "--key", keys.with_suffix(".key"),
                       "--subject", "Grace Hopper", "--scope", "reenact", "--expires",
                       "2099-12-31", "--not-before", "2024-01-01")
    assert code == 0
    assert out.startswith("granted consent ") and f"written into {image}" in out

    code, out, _ = run(capsys, "show", image)
    assert code == 0
    assert "1 consent tag" in out and "Grace Hopper" in out and "reenact" in out
    assert "signature: valid" in out and "not trusted" in out
    assert "until 2099-12-31" in out and "from 2024-01-01" in out

    code, out, _ = run(capsys, "show", "--json", image, "--trust", keys.with_suffix(".pub"))
    doc = json.loads(out)
    assert code == 0 and doc["tags"][0]["tag"]["subject"] == "Grace Hopper"
    assert doc["tags"][0]["signature_valid"] and doc["tags"][0]["signer_trusted"]

    code, out, err = run(capsys, "verify", image)
    assert code == 1 and out == ""
    one_line_error(err, "not a trusted signer", "grant it with: streamgan consent grant")

    code, out, err = run(capsys, "verify", image, "--trust", keys.with_suffix(".pub"))
    assert code == 0 and "holds: Grace Hopper" in out and err == ""

    code, out, _ = run(capsys, "trust", keys.with_suffix(".pub"))
    assert code == 0 and out.startswith("now trusting alice")
    code, out, _ = run(capsys, "trust", keys.with_suffix(".pub"))
    assert code == 0 and out.startswith("already trusted")

    assert run(capsys, "verify", image, "--scope", "reenact")[0] == 0
    code, _, err = run(capsys, "verify", image, "--scope", "stream")
    assert code == 1
    one_line_error(err, "grants reenact, not stream", "--scope stream")
    code, _, err = run(capsys, "verify", image, "--face-index", "1")
    assert code == 1
    one_line_error(err, "covers face 0, not face 1", "--face-index 1")
    assert run(capsys, "verify", "-q", image) == (0, "", "")


def test_grant_sidecar(tmp_path: Path, keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = save(tmp_path / "face.png", hopper())
    code, out, _ = run(capsys, "grant", image, "--key", keys.with_suffix(".key"),
                       "--subject", "Grace Hopper", "--scope", "reenact,stream", "--sidecar")
    assert code == 0 and "face.png.consent.json" in out
    code, out, _ = run(capsys, "verify", image, "--scope", "stream",
                       "--trust", keys.with_suffix(".pub"))
    assert code == 0 and "scopes reenact,stream" in out


def test_errors_are_one_line(tmp_path: Path, keys: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    image = save(tmp_path / "face.png", hopper())
    code, _, err = run(capsys, "show", image)
    assert code == 1
    one_line_error(err, "no consent tag", "grant it with:")
    code, _, err = run(capsys, "verify", tmp_path / "missing.png")
    assert code == 1
    one_line_error(err, "missing.png: no such file")
    code, _, err = run(capsys, "grant", image, "--key", tmp_path / "nokey.key",
                       "--subject", "X", "--scope", "reenact")
    assert code == 1
    one_line_error(err, "nokey.key: no such file")
    code, _, err = run(capsys, "grant", image, "--key", keys.with_suffix(".key"),
                       "--subject", "X", "--scope", "reenact", "--expires", "2001-01-01")
    assert code == 1
    one_line_error(err, "not in the future")


@pytest.mark.parametrize("bad", [["--scope", "train"], ["--scope", "reenact", "--expires",
                                                         "next week"]])
def test_bad_arguments_are_usage_errors(tmp_path: Path, keys: Path, bad: list[str],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["consent", "grant", str(tmp_path / "x.png"), "--key", str(keys) + ".key",
              "--subject", "X", *bad])
    assert caught.value.code == 2
    one_line_error(capsys.readouterr().err, "streamgan consent grant")


def test_consent_is_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "consent" in capsys.readouterr().out

"""What a batch is made of: jobs read from a JSONL or CSV file, or built from a folder.

One job a line::

    {"job": "reenact", "driver": "d.mp4", "target": "t.png", "output": "o.mp4",
     "options": {"crf": 23}}
    {"job": "translate", "input": "in.mp4", "output": "toon.mp4", "options": {"model": "toon"}}
    {"job": "generate", "output": "clips/", "options": {"count": 4, "seed": 1}}

Relative inputs are found beside the jobs file, relative outputs in the batch's output
folder. Options are the fields of the single command's settings; an unknown one is an
error for that line, found before anything runs.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamgan.errors import InputError
from streamgan.generate.sample import GenerateSettings
from streamgan.media import VIDEO_SUFFIXES
from streamgan.pipeline.reenact import ReenactSettings
from streamgan.pipeline.translate import TranslateSettings

KINDS = ("reenact", "translate", "generate")
INPUTS: dict[str, tuple[str, ...]] = {"reenact": ("driver", "target"),
                                      "translate": ("input",), "generate": ()}
SETTINGS: dict[str, type[Any]] = {"reenact": ReenactSettings,
                                  "translate": TranslateSettings,
                                  "generate": GenerateSettings}
_PATH_OPTIONS = frozenset({"model", "trust", "from_image"})
"""Options that name files, resolved like inputs (a shipped model name stays a name)."""
_NOT_OPTIONS = frozenset({"out"})
"""Settings fields the job itself gives (generate's folder is the job's output)."""


@dataclass(frozen=True)
class Job:
    """One unit of work: a single command's inputs, output and settings."""

    id: str
    kind: str
    inputs: dict[str, Path]
    output: Path
    options: dict[str, Any] = field(default_factory=dict)

    def to_row(self) -> dict[str, Any]:
        """A plain, serialisable form (what travels to a worker: paths, never frames)."""
        return {"id": self.id, "kind": self.kind,
                "inputs": {k: str(v) for k, v in self.inputs.items()},
                "output": str(self.output), "options": _plain(self.options)}

    @staticmethod
    def from_row(row: dict[str, Any]) -> Job:
        return Job(id=str(row["id"]), kind=str(row["kind"]),
                   inputs={k: Path(v) for k, v in dict(row["inputs"]).items()},
                   output=Path(row["output"]), options=dict(row["options"]))

    def settings(self) -> Any:
        """The single command's settings object for this job's options."""
        options = dict(self.options)
        if self.kind == "reenact" and "trust" in options:
            options["trust"] = tuple(Path(p) for p in options["trust"])
        if self.kind == "generate":
            for name in ("model", "from_image"):
                if options.get(name) is not None:
                    options[name] = Path(options[name])
            return GenerateSettings(out=self.output, **options)
        return SETTINGS[self.kind](**options)


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def read_jobs(path: Path, out_dir: Path) -> list[Job]:
    """The jobs in ``path`` (``.jsonl``, ``.json`` lines or ``.csv``), checked.

    Raises InputError naming the file and line of the first bad job.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read: {getattr(e, 'strerror', None) or e}") from e
    if path.suffix.lower() == ".csv":
        rows = _csv_rows(path, text)
    else:
        rows = _jsonl_rows(path, text)
    jobs = [make_job(raw, line, path, out_dir) for line, raw in rows]
    if not jobs:
        raise InputError(f"{path}: no jobs in the file")
    check_unique_outputs(jobs, path)
    return jobs


def _jsonl_rows(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            raw = json.loads(line)
        except (json.JSONDecodeError, RecursionError, ValueError) as e:
            raise InputError(f"{path}:{number}: not a JSON object ({e})") from None
        if not isinstance(raw, dict):
            raise InputError(f"{path}:{number}: a job must be a JSON object")
        rows.append((number, raw))
    return rows


def _csv_rows(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    """CSV columns: job, the inputs, output, and any option as its own column
    (empty cells are left out; numbers and true/false are read as such)."""
    reader = csv.DictReader(text.splitlines())
    rows = []
    for number, record in enumerate(reader, 2):
        fixed = {"job", "output", "id", *(name for names in INPUTS.values() for name in names)}
        raw: dict[str, Any] = {k: v for k, v in record.items() if k in fixed and v}
        raw["options"] = {k: _cell(v) for k, v in record.items()
                          if k not in fixed and k is not None and v not in (None, "")}
        rows.append((number, raw))
    return rows


def _cell(text: str) -> Any:
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def make_job(raw: dict[str, Any], line: int, source: Path, out_dir: Path) -> Job:
    """One checked job from one parsed line; InputError naming ``source:line``."""
    where = f"{source}:{line}"
    kind = raw.get("job")
    if kind not in KINDS:
        raise InputError(f"{where}: \"job\" must be one of {', '.join(KINDS)}, not {kind!r}")
    base = source.parent
    inputs: dict[str, Path] = {}
    for name in INPUTS[kind]:
        value = raw.get(name)
        if not isinstance(value, str) or not value:
            raise InputError(f"{where}: a {kind} job needs \"{name}\" (a file path)")
        inputs[name] = _resolve(base, value)
    output = raw.get("output")
    if not isinstance(output, str) or not output:
        raise InputError(f"{where}: a job needs \"output\" (a path)")
    options = raw.get("options", {})
    if not isinstance(options, dict):
        raise InputError(f"{where}: \"options\" must be an object")
    unknown = sorted(set(raw) - {"job", "output", "options", "id", *INPUTS[kind]})
    if unknown:
        raise InputError(f"{where}: unknown field {unknown[0]!r}")
    job = Job(id=str(raw.get("id", line)), kind=kind, inputs=inputs,
              output=_resolve(out_dir, output),
              options={k: _option_path(base, k, v) for k, v in options.items()})
    _check_options(job, where)
    return job


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _option_path(base: Path, name: str, value: Any) -> Any:
    if name not in _PATH_OPTIONS or value is None:
        return value
    if name == "trust":
        values = value if isinstance(value, list) else [value]
        return [str(_resolve(base, str(v))) for v in values]
    text = str(value)
    if "/" in text or "\\" in text or text.endswith((".pt", ".pth", ".png", ".jpg")):
        return str(_resolve(base, text))
    return text  # a shipped model's name


def _check_options(job: Job, where: str) -> None:
    fields = {f.name for f in dataclasses.fields(SETTINGS[job.kind])} - _NOT_OPTIONS
    unknown = sorted(set(job.options) - fields)
    if unknown:
        raise InputError(f"{where}: unknown {job.kind} option {unknown[0]!r} "
                         f"(known: {', '.join(sorted(fields))})")
    try:
        job.settings()
    except (TypeError, ValueError) as e:
        raise InputError(f"{where}: bad {job.kind} options ({e})") from None
    if job.kind != "generate" and job.output.suffix.lower() not in (".mp4", ".mov"):
        raise InputError(f"{where}: output {job.output.name!r} must end in .mp4 or .mov")


def check_unique_outputs(jobs: Sequence[Job], source: Path) -> None:
    """Two jobs writing one output would overwrite each other: refuse before running."""
    seen: dict[Path, str] = {}
    for job in jobs:
        key = job.output.resolve()
        if key in seen:
            raise InputError(f"{source}: jobs {seen[key]} and {job.id} both write {job.output}")
        seen[key] = job.id


def folder_jobs(kind: str, folder: Path, out_dir: Path, *, target: Path | None = None,
                options: dict[str, Any] | None = None) -> list[Job]:
    """The shorthand: one job per video in ``folder`` (drivers for reenact, inputs for
    translate), each written to ``out_dir/<name>.mp4``."""
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    videos = sorted(p for p in folder.iterdir()
                    if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
    if not videos:
        raise InputError(f"{folder}: no videos ({', '.join(sorted(VIDEO_SUFFIXES))})")
    jobs = []
    for video in videos:
        inputs = ({"driver": video, "target": target} if kind == "reenact" and target
                  else {"input": video})
        job = Job(id=video.stem, kind=kind, inputs=inputs,
                  output=out_dir / f"{video.stem}.mp4", options=dict(options or {}))
        _check_options(job, str(video))
        jobs.append(job)
    check_unique_outputs(jobs, folder)
    return jobs


def rows(jobs: Iterable[Job]) -> list[dict[str, Any]]:
    return [job.to_row() for job in jobs]

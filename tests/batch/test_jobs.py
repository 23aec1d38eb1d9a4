"""Reading a batch's jobs: every mistake is found, with its line, before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamgan.batch.jobs import Job, folder_jobs, read_jobs
from streamgan.errors import InputError
from streamgan.pipeline.reenact import ReenactSettings
from streamgan.pipeline.translate import TranslateSettings


def _write(tmp_path: Path, text: str, name: str = "jobs.jsonl") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_jsonl_jobs_resolve_inputs_beside_the_file_and_outputs_in_outdir(tmp_path: Path) -> None:
    jobs = read_jobs(_write(tmp_path, """
# a comment line
{"job": "reenact", "driver": "d.mp4", "target": "/abs/t.png", "output": "a/o.mp4",
 "options": {"crf": 23}}
""".replace("\n ", " ")), tmp_path / "out")
    (job,) = jobs
    assert job.inputs == {"driver": tmp_path / "d.mp4", "target": Path("/abs/t.png")}
    assert job.output == tmp_path / "out" / "a" / "o.mp4"
    settings = job.settings()
    assert isinstance(settings, ReenactSettings) and settings.crf == 23
    assert Job.from_row(job.to_row()) == job  # what travels to a worker comes back whole


def test_csv_jobs_take_options_as_columns(tmp_path: Path) -> None:
    jobs = read_jobs(_write(tmp_path, "job,input,output,model,temporal\n"
                                      "translate,in.mp4,o.mp4,toon,false\n", "jobs.csv"),
                     tmp_path)
    settings = jobs[0].settings()
    assert isinstance(settings, TranslateSettings)
    assert settings.model == "toon" and settings.temporal is False


@pytest.mark.parametrize(("line", "needle"), [
    ('{"job": "dance", "output": "o.mp4"}', '"job" must be one of'),
    ('{"job": "reenact", "driver": "d.mp4", "output": "o.mp4"}', 'needs "target"'),
    ('{"job": "translate", "input": "i.mp4"}', 'needs "output"'),
    ('{"job": "translate", "input": "i.mp4", "output": "o.mp4", "options": {"speed": 2}}',
     "unknown translate option 'speed'"),
    ('{"job": "translate", "input": "i.mp4", "output": "o.avi"}', "must end in .mp4"),
    ('{"job": "translate", "input": "i.mp4", "output": "o.mp4", "colour": 1}',
     "unknown field 'colour'"),
    ("[1, 2]", "must be a JSON object"),
    ("{not json", "not a JSON object"),
])
def test_a_bad_line_is_one_error_naming_it(tmp_path: Path, line: str, needle: str) -> None:
    good = '{"job": "translate", "input": "i.mp4", "output": "first.mp4"}'
    path = _write(tmp_path, f"{good}\n{line}\n")
    with pytest.raises(InputError, match=r"jobs.jsonl:2: .*") as caught:
        read_jobs(path, tmp_path)
    assert needle in str(caught.value)


def test_two_jobs_writing_one_output_are_refused(tmp_path: Path) -> None:
    line = '{"job": "translate", "input": "i.mp4", "output": "same.mp4"}\n'
    with pytest.raises(InputError, match="both write"):
        read_jobs(_write(tmp_path, line * 2), tmp_path)


def test_the_folder_shorthand_makes_one_job_per_video(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    for name in ("b.mp4", "a.mkv", "notes.txt"):
        (tmp_path / "in" / name).write_bytes(b"x")
    jobs = folder_jobs("reenact", tmp_path / "in", tmp_path / "out", target=tmp_path / "t.png")
    assert [(j.id, j.output.name) for j in jobs] == [("a", "a.mp4"), ("b", "b.mp4")]
    assert all(j.inputs["target"] == tmp_path / "t.png" for j in jobs)

"""The shipped live model (models/translate-toon) learned its recipe: on pictures it
never saw, its output is much closer to the recipe's than the input is, it runs at
its working size, and its card holds the measured quality."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from streamgan.errors import InputError
from streamgan.train.card import quality_section
from streamgan.translate.engine import Translator
from streamgan.translate.registry import DEFAULT, model_path, resolve_model

REPO = Path(__file__).resolve().parents[2]


def _recipe() -> object:
    spec = importlib.util.spec_from_file_location(
        "toon_make_data", REPO / "models" / "translate-toon" / "make_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_default_model_is_the_shipped_live_model() -> None:
    loaded = resolve_model(None)
    assert DEFAULT == "toon" and loaded.name == "toon"
    assert loaded.spec.kind == "fast" and loaded.extra["work_side"] == 320
    assert loaded.extra["trained_steps"] >= 1000


def test_it_does_what_the_recipe_does_on_pictures_it_never_saw() -> None:
    recipe = _recipe()
    rng = np.random.default_rng(777)  # not a training seed
    translator = Translator(resolve_model("toon"))
    closer = []
    for _ in range(4):
        scene = recipe.scene(rng, 480)  # type: ignore[attr-defined]
        picture = np.ascontiguousarray(cv2.resize(scene, (640, 480)))
        # The recipe at full size, seen at the model's working size, as in training.
        seen = cv2.resize(recipe.toon(picture), (320, 240),  # type: ignore[attr-defined]
                          interpolation=cv2.INTER_AREA)
        target = cv2.resize(seen, (640, 480))
        output = translator([picture])[0].astype(float)
        closer.append(np.abs(output - target).mean() / np.abs(picture.astype(float)
                                                              - target).mean())
    assert max(closer) < 0.7, closer


def test_its_card_holds_the_measured_quality() -> None:
    card = model_path("toon").with_name("card.md").read_text()
    quality = quality_section(card)
    assert "PSNR to the recipe" in quality and "input unchanged" in quality


def test_a_folder_of_the_same_name_does_not_hide_the_shipped_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "toon").mkdir()  # e.g. the training data, made where the user stands
    monkeypatch.chdir(tmp_path)
    assert resolve_model("toon").name == "toon"
    assert resolve_model(None).name == "toon"
    with pytest.raises(InputError, match="no such model file"):
        resolve_model("toon/model.pt")

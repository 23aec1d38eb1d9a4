"""Face detection on stills of any shape: a degenerate one finds nothing, never crashes."""

from __future__ import annotations

import numpy as np
import pytest

from streamgan.tracking.facemesh import detect_still


@pytest.mark.parametrize("shape", [(1, 1), (2, 1920), (1920, 2), (40, 4000), (4000, 40)])
def test_degenerate_stills_give_no_face_not_a_crash(shape: tuple[int, int]) -> None:
    # A 1920x2 strip used to abort the process natively inside the detector's scaling.
    assert detect_still(np.full((*shape, 3), 128, np.uint8)) == []

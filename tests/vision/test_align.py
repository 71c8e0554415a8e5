"""Registration: the similarity found between two photos' landmarks is the one that was applied."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microamp.vision.align import Similarity, similarity


@settings(max_examples=80, deadline=None)
@given(
    scale=st.floats(0.3, 4.0),
    rotation_deg=st.floats(-170, 170),
    tx=st.floats(-2000, 2000),
    ty=st.floats(-2000, 2000),
)
def test_the_similarity_applied_is_the_one_recovered_property(
    scale: float, rotation_deg: float, tx: float, ty: float
) -> None:
    points = np.random.default_rng(7).uniform(0, 1000, size=(17, 2))
    applied = Similarity(scale, rotation_deg, tx, ty)
    found = similarity(points, applied.apply(points))
    assert found.scale == pytest.approx(scale, rel=1e-6)
    assert found.rotation_deg == pytest.approx(rotation_deg, abs=1e-6)
    assert found.apply(points) == pytest.approx(applied.apply(points), abs=1e-6)
    assert found.inverse().apply(applied.apply(points)) == pytest.approx(points, abs=1e-6)

"""A photo is judged by its header before a pixel is decoded: the size its header states is the
size Pillow would decode, more than `MAX_PHOTO_PIXELS` is refused naming the count, and what is
kept is upright and no larger than `MAX_STORED_EDGE_PX` on its longer side."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from microamp.errors import InvalidValue
from microamp.store.photos import (
    MAX_PHOTO_PIXELS,
    MAX_STORED_EDGE_PX,
    header_size,
    prepare_photo,
)
from support.images import photo, png_bomb, png_header_only

SIDES = st.integers(min_value=1, max_value=120_000)


@given(st.sampled_from(["PNG", "JPEG"]), st.integers(1, 300), st.integers(1, 300))
def test_the_header_states_the_size_pillow_decodes(kind: str, width: int, height: int) -> None:
    image = Image.new("RGB", (width, height), (10, 20, 30))
    out = io.BytesIO()
    image.save(out, format=kind, progressive=kind == "JPEG" and width % 2 == 0)
    assert header_size(out.getvalue()) == (width, height)


@given(SIDES, SIDES)
def test_a_header_over_the_pixel_limit_is_refused_before_decoding(width: int, height: int) -> None:
    """The file holds no pixel data: a decoder would call it broken. Refused for its pixels
    exactly when the header states more than the limit; otherwise it reached the decoder."""
    with pytest.raises(InvalidValue) as refused:
        prepare_photo(png_header_only(width, height))
    assert refused.value.field == "photo"
    if width * height > MAX_PHOTO_PIXELS:
        assert refused.value.value == f"{width} x {height} pixels ({width * height:,} pixels)"
        assert "before decoding" in refused.value.rule
    else:
        assert refused.value.rule == "must be a JPEG or PNG image"


def test_a_real_bomb_is_refused_by_its_header() -> None:
    with pytest.raises(InvalidValue) as refused:
        prepare_photo(png_bomb())
    assert "176,890,000 pixels" in refused.value.rule


@given(st.binary(max_size=64))
def test_anything_that_is_not_a_photo_is_refused_by_name(noise: bytes) -> None:
    with pytest.raises(InvalidValue) as refused:
        prepare_photo(noise)
    assert refused.value.field == "photo"


@pytest.mark.parametrize(
    ("kind", "size", "kept"),
    [
        ("JPEG", (4_000, 3_000), (MAX_STORED_EDGE_PX, 1_536)),
        ("PNG", (1_000, 5_000), (410, MAX_STORED_EDGE_PX)),
        ("JPEG", (800, 600), (800, 600)),  # small enough already: kept at its size
    ],
)
def test_a_photo_is_kept_at_most_the_stored_edge(
    kind: str, size: tuple[int, int], kept: tuple[int, int]
) -> None:
    prepared = prepare_photo(photo(kind, size))
    assert (prepared.width_px, prepared.height_px) == kept
    with Image.open(io.BytesIO(prepared.data)) as stored:
        assert stored.size == kept

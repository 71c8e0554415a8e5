"""The face map SVG: well formed, every muscle drawn, steps numbered in order, one highlighted,
and its inline styles kept to its own classes."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from microamp.errors import InvalidValue
from microamp.protocols import MUSCLES, load_protocol, plan_protocol
from microamp.viz.facemap import CLASS_PREFIX, facemap_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_the_map_is_well_formed_svg_with_every_muscle() -> None:
    root = ET.fromstring(facemap_svg())
    assert root.tag == f"{SVG}svg"
    muscles = root.find(f".//{SVG}g[@id='facemap-muscles']")
    assert muscles is not None
    drawn = len(muscles.findall(f"{SVG}polyline"))
    assert drawn == sum(2 if m.paired else 1 for m in MUSCLES.values())


def test_each_step_is_numbered_in_order_once_per_side() -> None:
    steps = plan_protocol(load_protocol("home-express"))
    root = ET.fromstring(facemap_svg(steps, title="home"))
    groups = root.findall(f".//{SVG}g[@class='step']")
    assert [int(g.attrib["data-step"]) for g in groups] == [s.index for s in steps]
    for group, step in zip(groups, steps, strict=True):
        numbers = [t.text for t in group.findall(f"{SVG}text")]
        assert numbers == [str(step.index + 1)] * len(step.sides)


def test_a_highlighted_step_is_drawn_last_and_the_others_dimmed() -> None:
    steps = plan_protocol(load_protocol("home-express"))
    root = ET.fromstring(facemap_svg(steps, highlight_step=3))
    groups = root.findall(f".//{SVG}g[@class='step']")
    assert groups[-1].attrib["data-step"] == "3"
    assert groups[-1].attrib["opacity"] == "1"
    assert all(g.attrib["opacity"] != "1" for g in groups[:-1])
    assert 'marker-end="url(#facemap-arrow-hi)"' in ET.tostring(groups[-1], encoding="unicode")


def _ids_and_references(svg: str) -> tuple[set[str], set[str]]:
    root = ET.fromstring(svg)
    ids = {el.attrib["id"] for el in root.iter() if "id" in el.attrib}
    references = set(re.findall(r"url\(#([^)]+)\)", svg)) | set(re.findall(r'href="#([^"]+)"', svg))
    return ids, references


def test_two_maps_in_one_page_share_no_id_and_each_resolves_its_own_markers() -> None:
    steps = plan_protocol(load_protocol("home-express"))
    first = facemap_svg(steps, drawing_id="map-home-express")
    second = facemap_svg(steps, highlight_step=2, drawing_id="live-map")
    first_ids, first_refs = _ids_and_references(first)
    second_ids, second_refs = _ids_and_references(second)
    assert first_ids and second_ids
    assert not first_ids & second_ids
    assert first_refs and first_refs <= first_ids
    assert second_refs and second_refs <= second_ids
    assert all(i.startswith("map-home-express") for i in first_ids)
    assert all(i.startswith("live-map") for i in second_ids)


def test_a_drawing_id_that_is_not_a_plain_name_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        facemap_svg(drawing_id='x" onload="alert(1)')
    assert caught.value.field == "drawing_id"


def test_text_from_a_protocol_is_escaped() -> None:
    svg = facemap_svg(title="<script>alert(1)</script> & co")
    assert "<script>" not in svg
    ET.fromstring(svg)


def test_the_inline_style_only_reaches_the_maps_own_classes() -> None:
    """Inlined in a page, the map's <style> applies page-wide: a bare .num or .zone would
    restyle the page's own tables and labels."""
    steps = plan_protocol(load_protocol("home-express"))
    svg = facemap_svg(steps, title="home", highlight_step=2)
    root = ET.fromstring(svg)
    style = root.find(f"{SVG}style")
    assert style is not None and style.text
    selectors = re.findall(r"([^{}]+)\{", style.text)
    assert selectors
    for selector in selectors:
        classes = re.findall(r"\.([\w-]+)", selector)
        assert classes, f"{selector!r} is not scoped by a class"
        assert all(c.startswith(CLASS_PREFIX) for c in classes), selector
    styled = {c for el in root.iter() for c in el.attrib.get("class", "").split()} - {"step"}
    assert styled and all(c.startswith(CLASS_PREFIX) for c in styled), sorted(styled)

"""The anatomy table: enough muscles, shared zones, and no default path where probes must not go."""

from __future__ import annotations

import pytest

from microamp.errors import InvalidValue
from microamp.protocols.anatomy import (
    FORBIDDEN,
    MUSCLES,
    TECHNIQUES,
    forbidden_at,
    get_muscle,
    mirror,
    nearest_muscles,
    path_crosses_head,
)
from microamp.safety.limits import ZONES


def test_table_has_at_least_thirty_muscles_and_regions_covering_every_zone() -> None:
    assert len(MUSCLES) >= 30
    assert {m.zone for m in MUSCLES.values()} == set(ZONES)


def test_every_entry_uses_a_shared_zone_and_a_known_technique() -> None:
    for muscle in MUSCLES.values():
        assert muscle.zone in ZONES, muscle.name
        assert muscle.technique in TECHNIQUES, muscle.name
        assert muscle.origin and muscle.insertion, muscle.name


@pytest.mark.parametrize("name", sorted(MUSCLES))
def test_default_paths_avoid_forbidden_placements_on_both_sides(name: str) -> None:
    muscle = MUSCLES[name]
    for point in muscle.path_xy:
        assert forbidden_at(point) is None, point
        assert forbidden_at(mirror(point)) is None, point
    assert not path_crosses_head(muscle.path_xy)


@pytest.mark.parametrize(
    "name", ["depressor-anguli-oris", "depressor-labii-inferioris", "corrugator-supercilii"]
)
def test_depressors_and_corrugator_are_lengthened_not_lifted(name: str) -> None:
    muscle = MUSCLES[name]
    assert muscle.lengthen_only
    assert muscle.technique == "lengthen"
    assert any("lengthen" in c for c in muscle.cautions)


def test_lifting_muscles_are_not_marked_lengthen_only() -> None:
    assert not MUSCLES["zygomaticus-major"].lengthen_only
    assert MUSCLES["zygomaticus-major"].technique == "lift-hold"


def test_forbidden_placements_cover_eyes_front_of_neck_chest_and_head() -> None:
    names = {f.name for f in FORBIDDEN}
    assert names == {"eyes", "carotid-sinus", "chest", "through-head"}
    assert forbidden_at((148, 192)).name == "eyes"  # type: ignore[union-attr]
    assert forbidden_at((252, 192)).name == "eyes"  # type: ignore[union-attr]
    assert forbidden_at((200, 430)).name == "carotid-sinus"  # type: ignore[union-attr]
    assert forbidden_at((200, 530)).name == "chest"  # type: ignore[union-attr]
    assert forbidden_at((110, 300)) is None


def test_a_path_reaching_both_temples_passes_through_the_head() -> None:
    assert path_crosses_head([(100, 150), (300, 150)])
    assert not path_crosses_head([(168, 310), (232, 310)])


def test_a_typo_suggests_the_nearest_muscle() -> None:
    assert nearest_muscles("zygomaticus majr")[0] == "zygomaticus-major"
    with pytest.raises(InvalidValue, match="did you mean 'mentalis'") as info:
        get_muscle("mentalsi", "steps[2].muscle")
    assert info.value.field == "steps[2].muscle"


def test_paired_muscles_offer_each_side_and_midline_muscles_only_the_midline() -> None:
    assert MUSCLES["masseter"].sides == ("left", "right", "both")
    assert MUSCLES["procerus"].sides == ("midline",)

"""Which requests take the urgent lane: every Stop (API, console, home device page) and
nothing else, whatever the session's id."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from microamp.web.lanes import is_urgent

IDS = st.text(st.characters(codec="ascii", exclude_characters="/"), min_size=1, max_size=64)
STOPS = ("/api/v1/sessions/{}/stop", "/live/{}/stop", "/device/live/{}/stop")
NOT_STOPS = ("/api/v1/sessions/{}/pause", "/live/{}", "/live/{}/stop/more", "/x/live/{}/stop",
             "/api/v1/sessions/{}/intensity", "/device/live/{}/level")  # fmt: skip


@given(live_id=IDS, shape=st.sampled_from(STOPS))
def test_every_stop_posted_takes_the_urgent_lane(live_id: str, shape: str) -> None:
    assert is_urgent({"method": "POST", "path": shape.format(live_id)})


@given(live_id=IDS, shape=st.sampled_from(STOPS), method=st.sampled_from(["GET", "HEAD", "PUT"]))
def test_a_stop_path_read_is_not_urgent(live_id: str, shape: str, method: str) -> None:
    assert not is_urgent({"method": method, "path": shape.format(live_id)})


@given(live_id=IDS, shape=st.sampled_from(NOT_STOPS))
def test_no_other_control_or_page_takes_it(live_id: str, shape: str) -> None:
    assert not is_urgent({"method": "POST", "path": shape.format(live_id)})


def test_an_overlong_id_is_no_stop() -> None:
    assert not is_urgent({"method": "POST", "path": "/live/" + "a" * 65 + "/stop"})

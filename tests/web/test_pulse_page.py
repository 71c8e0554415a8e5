"""The pulse graph of a protocol step: linked from the protocol page, seen by every role, drawn
on the server into the chosen load, and a wrong choice is refused naming its field."""

from __future__ import annotations

import re

import httpx
import pytest

from web.conftest import Clinic

# the roles that see protocols (reception does not)
CLINICAL = ("owner", "practitioner")

PULSE = "/protocols/pro-lift/steps/1/pulse"


def get(clinic: Clinic, role: str, path: str, **params: str) -> httpx.Response:
    client = clinic.browser_client(role)
    try:
        return client.get(path, params=params)
    finally:
        client.close()


def figure(html: str, name: str) -> float:
    found = re.search(rf'data-figure="{name}">(-?[\d.,]+)', html)
    assert found, f"no {name} figure on the page"
    return float(found.group(1).replace(",", ""))


def limits_text(html: str) -> str:
    found = re.search(r'id="pulse-limits"[^>]*>([^<]+)', html)
    assert found, "no limits sentence on the page"
    return found.group(1)


def test_each_step_links_to_its_pulse_graph(clinic: Clinic) -> None:
    assert f'href="{PULSE}"' in get(clinic, "practitioner", "/protocols/pro-lift").text


@pytest.mark.parametrize("role", CLINICAL)
def test_every_clinical_role_sees_the_graph_the_table_and_the_limits(
    clinic: Clinic, role: str
) -> None:
    shown = get(clinic, role, PULSE)
    assert shown.status_code == 200, shown.text
    assert '<svg class="chart pulse"' in shown.text
    assert "professional profile" in limits_text(shown.text)
    assert figure(shown.text, "peak") == pytest.approx(150.0, abs=1.0)


def test_a_dry_load_takes_more_voltage_and_leaves_less_headroom_than_gel(clinic: Clinic) -> None:
    gel = get(clinic, "practitioner", PULSE, load="gel", window="10ms").text
    dry = get(clinic, "practitioner", PULSE, load="dry", window="10ms").text
    assert figure(dry, "volts") > figure(gel, "volts")
    assert figure(dry, "headroom") < figure(gel, "headroom")


def test_the_home_profile_caps_a_professional_step_and_says_so(clinic: Clinic) -> None:
    home = get(clinic, "owner", "/protocols/pro-lift/steps/3/pulse", profile="home").text
    assert "capped at 400 µA" in limits_text(home)
    assert figure(home, "peak") <= 400.0 + 0.5


@pytest.mark.parametrize(("field", "value"), [("load", "damp"), ("window", "2s")])
def test_a_wrong_choice_is_refused_naming_it(clinic: Clinic, field: str, value: str) -> None:
    refused = get(clinic, "owner", PULSE, **{field: value})
    assert refused.status_code == 422
    assert value in refused.text


def test_reception_may_not_see_it_as_it_may_not_see_protocols(clinic: Clinic) -> None:
    assert get(clinic, "reception", PULSE).status_code == 403


def test_a_step_past_the_last_is_not_found(clinic: Clinic) -> None:
    assert get(clinic, "owner", "/protocols/pro-lift/steps/999/pulse").status_code == 404

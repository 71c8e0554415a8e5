"""The client's address: X-Forwarded-For believed only from a trusted proxy, and then only the
hops the trusted proxies wrote."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from microamp.errors import InvalidValue
from microamp.web.addresses import client_address, parse_networks
from microamp.web.settings import WebSettings

PROXIES = parse_networks("10.0.0.0/8, ::1")
ipv4 = st.ip_addresses(v=4).map(str)


@given(peer=ipv4, header=st.text(max_size=200))
def test_a_peer_that_is_no_trusted_proxy_is_the_address_whatever_it_sends(
    peer: str, header: str
) -> None:
    assume(ipaddress.ip_address(peer) not in ipaddress.ip_network("10.0.0.0/8"))
    assert client_address(peer, header, PROXIES) == peer


@given(client=ipv4, forged=st.lists(ipv4, max_size=3))
def test_behind_a_trusted_proxy_the_client_is_the_last_hop_it_did_not_write(
    client: str, forged: list[str]
) -> None:
    assume(ipaddress.ip_address(client) not in ipaddress.ip_network("10.0.0.0/8"))
    header = ", ".join([*forged, client, "10.1.2.3"])
    assert client_address("10.9.9.9", header, PROXIES) == client


def test_nothing_is_trusted_by_default_and_garbage_is_not_believed() -> None:
    assert client_address("127.0.0.1", "203.0.113.5", parse_networks("")) == "127.0.0.1"
    assert client_address("10.0.0.1", "203.0.113.5, not-an-ip", PROXIES) == "10.0.0.1"
    assert client_address("::1", "2001:db8::7", PROXIES) == "2001:db8::7"
    assert WebSettings(trusted_proxies="").trusted_proxies == ""


@pytest.mark.parametrize("text", ["10.0.0.0/33", "proxy.example", "10.0.0.1;rm"])
def test_a_trusted_proxy_that_is_no_network_is_refused_naming_the_setting(text: str) -> None:
    with pytest.raises(InvalidValue, match="trusted_proxies"):
        parse_networks(text)
    with pytest.raises(ValueError, match="trusted_proxies"):
        WebSettings(trusted_proxies=text)

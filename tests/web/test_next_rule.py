"""The page a sign-in returns to: only a path of this site, whatever the text (property)."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from hypothesis import given
from hypothesis import strategies as st

from microamp.web.identity import safe_next, step_path

SITE = "https://clinic.example/signin"
# the characters that build tricks: slashes of both kinds, scheme and host marks, whitespace
_TRICKY = st.text(alphabet=st.sampled_from(list("/\\:.@?#%\t\n\r ")) | st.characters(), max_size=40)


def _where_a_browser_goes(target: str) -> str:
    """The host a browser on the sign-in page would open for a Location of ``target``
    (browsers drop tabs and newlines and read a backslash as a slash)."""
    cleaned = target.replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/")
    return urlsplit(urljoin(SITE, cleaned.strip())).netloc


@given(_TRICKY)
def test_whatever_the_text_the_target_stays_on_this_site(text: str) -> None:
    target = safe_next(text)
    assert target.startswith("/") and not target.startswith(("//", "/\\"))
    assert _where_a_browser_goes(target) == "clinic.example"


@given(st.from_regex(r"/[a-z0-9/_-]{0,30}(\?[a-z]=[0-9]{1,3})?", fullmatch=True))
def test_a_plain_path_of_the_site_is_kept(path: str) -> None:
    if not path.startswith("//"):
        assert safe_next(path) == path


def test_a_step_carries_the_page_and_the_last_step_goes_there() -> None:
    assert step_path("second_factor", "/clients/3") == "/signin/code?next=/clients/3"
    assert step_path("second_factor", "//evil.example") == "/signin/code"
    assert step_path("signed_in", "/clients/3") == "/clients/3"
    assert step_path("signed_in", "https://evil.example") == "/"

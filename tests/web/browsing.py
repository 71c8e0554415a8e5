"""Debian's chromium, launched headless through Playwright for the browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def fake_camera_args(y4m: Path) -> list[str]:
    """Flags that make ``y4m`` (a YUV4MPEG2 file) the camera, the permission granted."""
    return [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={y4m}",
    ]


@contextmanager
def astronaut_camera(directory: Path) -> Iterator[Browser]:
    """Chromium whose camera plays the astronaut portrait (written into ``directory``)."""
    from support import faces

    video = directory / "astronaut.y4m"
    video.write_bytes(faces.y4m(faces.astronaut()))
    with launch_chromium(fake_camera_args(video)) as launched:
        yield launched


@contextmanager
def launch_chromium(extra_args: list[str] | None = None) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=[*ARGS, *(extra_args or [])]
        )
        try:
            yield launched
        finally:
            launched.close()


def choose_client(where: Page | Locator, name: str, search: str | None = None) -> None:
    """Choose the client ``name`` in a form's client field (the booking form's, the console's):
    type ``search`` (her name unless given) in "Find the client", wait for the choices it
    brings, and check her radio."""
    from playwright.sync_api import expect

    box = where.get_by_label("Find the client")
    typed = name if search is None else search
    if box.input_value() != typed:  # an unchanged box asks for nothing
        page: Page = getattr(where, "page", where)  # a locator's page, or the page itself
        with page.expect_response(lambda answer: "client_q=" in answer.url):
            box.fill(typed)
    radio = where.get_by_role("radio", name=name, exact=True)
    radio.check()
    expect(radio).to_be_checked()

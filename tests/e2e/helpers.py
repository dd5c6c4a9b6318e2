"""Helpers of the end-to-end tests: where artefacts go, a signed-in browser tab, PDF pages."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM = os.environ.get("DUBAN_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "e2e-demo-password"
LAPTOP = {"width": 1366, "height": 768}
TABLET = {"width": 768, "height": 1024}
# Playwright's waiting APIs (never sleeps) give up after this many milliseconds.
TIMEOUT_MS = 20_000


class Officer:
    """One signed-in user's browser tab, with numbered screenshots of every step."""

    def __init__(self, server: Any, page: Any, journey: str) -> None:
        self.server = server
        self.page = page
        self.journey = journey
        self.steps = 0

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on the live server."""
        return self.server.url + path

    def goto(self, path: str) -> Any:
        """Open ``path`` and return the response."""
        return self.page.goto(self.url(path))

    def login(self, username: str) -> None:
        """Sign in on the login page, as a person would: label, type, Enter."""
        self.goto("/login")
        self.page.get_by_label("用户名").fill(username)
        self.page.get_by_label("密码").fill(PASSWORD)
        self.page.get_by_label("密码").press("Enter")
        self.page.wait_for_url(re.compile(r"^(?!.*/login).*$"))

    def artifact(self, name: str) -> Path:
        """The path of this journey's next numbered artefact ``name`` (with its suffix)."""
        self.steps += 1
        return ARTIFACTS / f"{self.journey}-{self.steps:02d}-{name}"

    def shot(self, name: str, readme: str | None = None, *, full_page: bool = False) -> Path:
        """Save a screenshot of this step; ``readme`` also saves it as a README illustration."""
        path = self.artifact(f"{name}.png")
        self.page.screenshot(path=path, full_page=full_page)
        if readme:
            readme_copy(path, readme)
        return path


def readme_copy(path: Path, name: str) -> None:
    """Copy ``path`` to ``$DUBAN_README_SCREENSHOTS/name.png`` when that variable is set."""
    target = os.environ.get("DUBAN_README_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(target) / f"{name}.png")


def pdf_first_page_png(pdf: Path, png: Path, page: int = 1) -> Path | None:
    """Render the first page (or page ``page``) of ``pdf`` to ``png`` with poppler's pdftoppm
    (None without it)."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        return None
    stem = png.with_suffix("")
    number = str(page)
    subprocess.run(
        [tool, "-png", "-r", "80", "-f", number, "-l", number, "-singlefile", str(pdf), str(stem)],
        check=True, timeout=60,
    )  # fmt: skip
    return png

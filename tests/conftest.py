"""Shared pytest fixtures and settings for the gridgeo test suite."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

# CI machines are shared and slow: no deadlines, fewer examples unless asked for more.
settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(scope="session")
def in_ci() -> bool:
    """True when running under CI (``CI=true``): optional tools must then be present."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture
def need_tools(in_ci: bool):
    """``need_tools(problems)``: skip the test for missing tools locally, fail it under CI."""

    def need(problems: list[str]) -> None:
        if problems:
            reason = "; ".join(problems)
            if in_ci:
                pytest.fail(f"browser test cannot run in CI: {reason}")
            pytest.skip(reason)

    return need


CHROMIUM = Path(os.environ.get("GRIDGEO_CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture
def chromium_launch(need_tools) -> dict:
    """Playwright launch options for Debian's Chromium (never ``playwright install``).

    Skips locally, fails under CI, when Chromium (``GRIDGEO_CHROMIUM``, default
    ``/usr/bin/chromium``) or the playwright package is missing.
    """
    problems = []
    if not CHROMIUM.exists():
        problems.append(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the playwright Python package is not installed")
    need_tools(problems)
    return {
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }

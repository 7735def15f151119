"""Shared pytest fixtures and settings for the gridgeo test suite."""

from __future__ import annotations

import os

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

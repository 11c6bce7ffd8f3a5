"""Fixtures for the lab tier: a Docker engine (never skipped under CI=true) and the lab."""

from __future__ import annotations

import os

import pytest
from lab_helpers import REPO

from llminfra_lab import LabError, down, up
from llminfra_lab.engine import client
from llminfra_lab.state import LABEL, state_dir


@pytest.fixture(scope="session")
def dc():
    try:
        return client()
    except LabError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but no Docker engine: {exc}")
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def lab(dc):
    """The lab, up for the session; torn down afterwards unless it was already up."""
    was_up = (state_dir(REPO) / "lab.json").exists()
    state = up(REPO)
    yield state
    if not was_up:
        down(REPO)
        assert dc.containers.list(all=True, filters={"label": LABEL}) == []
        down(REPO)  # idempotent

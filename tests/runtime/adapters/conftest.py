"""Adapter tests: feature-gated conformance tests are deselected (not skipped) for adapters without the feature."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from edakit.devservers import moto_server


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requires_features(*names): adapter features the conformance test needs")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker("requires_features")
        features = getattr(item.cls, "features", frozenset())
        (drop if marker and not set(marker.args) <= features else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


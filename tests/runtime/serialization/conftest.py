"""Serialization fixtures: a local registry (`edakit registry serve`'s server) holding the repository's schemas, and
the order-events specs whose channels name them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from edakit.schemas.registry import Registry
from edakit.schemas.serve import running
from edakit.spec.loader import load_spec
from edakit.spec.model import Spec


@pytest.fixture
def registry_url(repo_root: Path) -> Iterator[str]:
    """Preloaded from schemas/ (not persisting: tests may register versions the repository does not have)."""
    with running(Registry.from_repository(repo_root / "schemas")) as url:
        yield url


@pytest.fixture(scope="session")
def kafka_spec(repo_root: Path) -> Spec:
    return load_spec(repo_root / "configs/order-events-kafka.yaml")


@pytest.fixture(scope="session")
def sns_spec(repo_root: Path) -> Spec:
    return load_spec(repo_root / "configs/order-events-sns.yaml")


@pytest.fixture(scope="session")
def example(repo_root: Path) -> Callable[[str], dict[str, Any]]:
    """An OrderPlaced example payload by name (v1, v2-digital-goods, v2-with-shipping-address), a fresh copy."""
    return lambda name: json.loads((repo_root / f"examples/payloads/order-events/order-placed/{name}.json")
                                   .read_text())

"""Paths the AsyncAPI tests share (a module of its own: `from conftest import …` picks whichever conftest.py pytest
imported first when several test folders run together)."""

from __future__ import annotations

from pathlib import Path

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))
FIXTURES = Path(__file__).resolve().parent / "fixtures"

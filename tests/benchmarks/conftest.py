"""benchmarks/ is a top-level folder of the checkout (not part of the installed edakit package): importable here
however pytest is started, as `make bench` runs it from the checkout's root."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

"""`claim_check.channels` names channels of the spec: an entry that is none is a located spec error."""

from __future__ import annotations

from pathlib import Path

import pytest

from edakit.spec.errors import SpecError
from edakit.spec.loader import load_spec

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "configs" / "order-claim-check.yaml").read_text()
ANCHOR = "  payload_expiration_days: 30\n"


def _write(tmp_path: Path, channels: str) -> Path:
    assert ANCHOR in TEXT
    path = tmp_path / "spec.yaml"
    path.write_text(TEXT.replace(ANCHOR, ANCHOR + f"  channels: {channels}\n", 1))
    return path


def test_a_channel_of_the_spec_is_accepted(tmp_path):
    spec = load_spec(_write(tmp_path, "[order-documents]"), root=ROOT)
    assert spec.claim_check.channels == ("order-documents",)


def test_an_unknown_channel_is_refused_at_its_entry_with_the_channels_there_are(tmp_path):
    with pytest.raises(SpecError) as caught:
        load_spec(_write(tmp_path, "[order-documents, order-documnets]"), root=ROOT)
    message = str(caught.value)
    line = TEXT[:TEXT.index(ANCHOR)].count("\n") + 2  # the line after payload_expiration_days
    assert f"spec.yaml:{line}:31 " in message and "claim_check.channels[1]" in message
    assert "'order-documnets' is not a channel of this spec" in message and "order-documents" in message

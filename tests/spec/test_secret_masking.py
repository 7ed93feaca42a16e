"""A secret written where the spec wants a secret reference is refused without the error quoting it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edakit.spec.errors import SpecError
from edakit.spec.loader import load_spec

ROOT = Path(__file__).resolve().parents[2]
KAFKA = (ROOT / "configs" / "order-events-kafka.yaml").read_text()
AZURE = (ROOT / "configs" / "order-events-eventgrid.yaml").read_text()
ANCHOR = "  min_insync_replicas: 2\n"


def _kafka_password(tmp_path: Path, value: str) -> Path:
    block = f"  security:\n    sasl:\n      mechanism: PLAIN\n      username: u\n      password: {value}\n"
    path = tmp_path / "spec.yaml"
    path.write_text(KAFKA.replace(ANCHOR, ANCHOR + block, 1))
    return path


def _error(path: Path) -> str:
    with pytest.raises(SpecError) as caught:
        load_spec(path, root=ROOT)
    return str(caught.value)


# Each form puts the secret where a secret reference belongs: as the value, in a list, as the variable name or the
# file, next to a second key.
FORMS = ["{s}", "[{s}, other]", "{{env: {s}}}", "{{env: A, file: {s}}}", "{{file: {s}, extra: 1}}",
         "{{env: {{nested: {s}}}}}", "{{file: [{s}]}}"]


@pytest.mark.parametrize("form", FORMS)
def test_the_literal_password_is_refused_at_its_key_and_not_shown(tmp_path, form):
    message = _error(_kafka_password(tmp_path, form.format(s='"hunter2 secret"')))
    assert "kafka.security.sasl.password" in message
    assert "hunter2" not in message
    assert "value not shown" in message


secrets = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40).map(
    lambda s: "Zq9-" + s)  # no spec text contains it, so an occurrence in the message is the secret; never an env name


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=secrets, form=st.sampled_from(FORMS))
def test_no_error_quotes_a_secret_whatever_its_text(tmp_path, secret, form):
    message = _error(_kafka_password(tmp_path, form.format(s=json.dumps(secret))))
    assert "Zq9" not in message


def test_an_azure_client_secret_is_not_shown_either(tmp_path):
    anchor = "event_grid:\n"
    assert anchor in AZURE
    block = "  security:\n    credential: client_secret\n    tenant_id: t\n    client_id: c\n    client_secret: s3cr3tvalue\n"
    path = tmp_path / "spec.yaml"
    path.write_text(AZURE.replace(anchor, anchor + block, 1))
    message = _error(path)
    assert "event_grid.security.client_secret" in message and "s3cr3tvalue" not in message


def test_values_outside_secret_references_are_still_quoted(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(KAFKA.replace(ANCHOR, ANCHOR + "  security:\n    protocol: KERBEROS\n", 1))
    assert '"KERBEROS"' in _error(path)

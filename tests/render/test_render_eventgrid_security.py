"""Event Grid render: webhook authentication and the topic's network access go from the spec to the module inputs,
and a secret header's value never reaches a rendered file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from edakit.render import render_tfvars
from edakit.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]

SPEC = """
name: media
broker: event-grid
event_grid:
  resource_group_name: rg-media
  location: northeurope
  dead_letter_storage: {storage_account_name: mediadl}
  inbound_ip_rules: [203.0.113.0/24, 198.51.100.7/32]
events:
  OrderPlaced: {schema: schemas/order-events/v1/order-placed.avsc, version: 1}
channels:
  uploads: {events: [OrderPlaced]}
subscribers:
  thumbnails:
    channel: uploads
    event_grid: {destination: {type: webhook, webhook_url: "https://t.example.com/e", secret_header_name: X-Secret}}
  open:
    channel: uploads
    event_grid: {destination: {type: webhook, webhook_url: "https://o.example.com/e", allow_unauthenticated_webhook: true}}
"""


def test_the_example_s_webhook_gets_an_entra_id_token_and_the_topic_stays_private() -> None:
    grid = render_tfvars(load_spec(ROOT / "configs/order-events-eventgrid.yaml", "staging"))["azure-eventgrid"]
    email = grid["event_subscriptions"]["email"]["destination"]
    assert (email["active_directory_tenant_id"], email["active_directory_app_id_or_uri"]) == (
        "00000000-0000-0000-0000-000000000000", "api://orders-email-webhook")
    assert "allow_unauthenticated_webhook" not in email  # the opt-out is left to the module's default (false)
    assert (grid["public_network_access_enabled"], grid["inbound_ip_rules"]) == (False, [])


def test_ip_rules_open_the_public_endpoint_to_those_ranges_only_and_secrets_stay_out(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    (tmp_path / "media.yaml").write_text(SPEC)
    grid = render_tfvars(load_spec(tmp_path / "media.yaml"))["azure-eventgrid"]
    assert (grid["public_network_access_enabled"], grid["inbound_ip_rules"]) == (
        True, ["203.0.113.0/24", "198.51.100.7/32"])
    subscriptions = grid["event_subscriptions"]
    assert subscriptions["thumbnails"]["destination"]["secret_header_name"] == "X-Secret"
    assert subscriptions["open"]["destination"]["allow_unauthenticated_webhook"] is True
    assert "webhook_delivery_secrets" not in grid and "secret" not in json.dumps(grid).replace("secret_header", "")

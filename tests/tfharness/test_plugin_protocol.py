"""The provider process as Terraform sees it: go-plugin handshake, TLS gRPC, plan-only answers, clean exits."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from tfplugin_proto import tfplugin6_5_pb2 as pb
from tfplugin_proto import tfplugin6_5_pb2_grpc as pb_grpc

from edakit.tfharness import values
from edakit.tfharness.plugin import MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE

PLUGIN = [sys.executable, "-m", "edakit.tfharness.plugin", "--provider", "aws"]
ENV = {**os.environ, MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


@pytest.fixture
def plugin() -> Iterator[tuple[subprocess.Popen[str], grpc.Channel]]:
    process = subprocess.Popen(PLUGIN, stdout=subprocess.PIPE, env=ENV, text=True)
    try:
        core, proto, network, address, protocol, cert = process.stdout.readline().strip().split("|")
        assert (core, proto, network, protocol) == ("1", "6", "tcp", "grpc")
        assert address.startswith("127.0.0.1:")
        der = base64.b64decode(cert + "=" * (-len(cert) % 4))
        pem = x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM)
        credentials = grpc.ssl_channel_credentials(root_certificates=pem)
        # go-plugin verifies the certificate for "localhost", whatever address it dials
        options = [("grpc.ssl_target_name_override", "localhost")]
        with grpc.secure_channel(address, credentials, options=options) as channel:
            yield process, channel
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_serves_schema_plans_and_refuses_apply_then_shuts_down(
    plugin: tuple[subprocess.Popen[str], grpc.Channel]
) -> None:
    process, channel = plugin
    provider = pb_grpc.ProviderStub(channel)
    schema = provider.GetProviderSchema(pb.GetProviderSchema.Request(), timeout=10)
    queue = {a.name: a for a in schema.resource_schemas["aws_sqs_queue"].block.attributes}
    assert queue["arn"].computed and not queue["arn"].optional and queue["name"].optional
    assert "aws_iam_policy_document" in schema.data_source_schemas

    config = {name: None for name in queue} | {"name": "orders", "timeouts": None}
    planned = provider.PlanResourceChange(pb.PlanResourceChange.Request(
        type_name="aws_sqs_queue", proposed_new_state=pb.DynamicValue(msgpack=values.encode(config)),
        config=pb.DynamicValue(msgpack=values.encode(config))), timeout=10)
    state = values.decode(planned.planned_state.msgpack)
    assert state["name"] == "orders" and values.is_unknown(state["arn"]) and state["delay_seconds"] is None

    applied = provider.ApplyResourceChange(pb.ApplyResourceChange.Request(type_name="aws_sqs_queue"), timeout=10)
    assert [d.summary for d in applied.diagnostics] == ["plan-only harness"]

    shutdown = channel.unary_unary("/plugin.GRPCController/Shutdown")
    assert shutdown(b"", timeout=10) == b""
    assert process.wait(timeout=10) == 0


def test_health_check_reports_serving(plugin: tuple[subprocess.Popen[str], grpc.Channel]) -> None:
    _, channel = plugin
    check = channel.unary_unary("/grpc.health.v1.Health/Check")
    assert check(b"\n\x06plugin", timeout=10) == b"\x08\x01"  # service "plugin" -> SERVING


def test_refuses_to_run_without_terraform() -> None:
    env = {k: v for k, v in os.environ.items() if k != MAGIC_COOKIE_KEY}
    result = subprocess.run(PLUGIN, capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 1 and "Terraform starts it" in result.stderr


def test_exits_when_terraform_dies_without_shutting_it_down(tmp_path: Path) -> None:
    # a shell stands in for Terraform: it starts the plugin, reports its pid, and is then killed
    parent = subprocess.Popen(
        ["sh", "-c", f'{" ".join(PLUGIN)} > {tmp_path / "handshake"} & echo $!; wait'],
        stdout=subprocess.PIPE, env=ENV, text=True, start_new_session=True,
    )
    child = int(parent.stdout.readline())
    deadline = time.monotonic() + 20
    handshake = tmp_path / "handshake"
    while not (handshake.exists() and handshake.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    try:
        assert _gone(child, within=5), "plugin outlived its parent"
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)

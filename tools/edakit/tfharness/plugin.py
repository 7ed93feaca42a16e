"""A Terraform provider (plugin protocol v6 over gRPC) that serves a provider's schema from our JSON and plans offline.

    python -m edakit.tfharness.plugin --provider aws     (started by Terraform, never by hand)

Terraform validates configuration against the schema itself, so unknown arguments, missing required ones, wrong
types and block counts fail exactly as with the real provider. Plans keep config values and mark unset computed
attributes unknown; data sources return plausible values (datasources.py); apply is refused.

The stubs are tfplugin6.5 (PyPI tfplugin-proto-all). RPCs added later (GetResourceIdentitySchemas, ephemeral
resources, MoveResourceState...) answer UNIMPLEMENTED, which Terraform 1.15 accepts from a provider without them.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import signal
import sys
import threading
from concurrent import futures
from functools import cached_property
from importlib.resources import files
from typing import Any

import grpc
from tfplugin_proto import tfplugin6_5_pb2 as pb
from tfplugin_proto import tfplugin6_5_pb2_grpc as pb_grpc

from edakit.tfharness import datasources, values

SCHEMA_DIR = files("edakit.tfharness") / "provider_schemas"  # package data
# go-plugin's handshake: Terraform sets this cookie so a provider binary run by hand can say what it is.
MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
NESTING = {
    "single": pb.Schema.NestedBlock.SINGLE,
    "list": pb.Schema.NestedBlock.LIST,
    "set": pb.Schema.NestedBlock.SET,
    "map": pb.Schema.NestedBlock.MAP,
}


def load_schema(provider: str) -> dict[str, Any]:
    path = SCHEMA_DIR / f"{provider}.json"
    if not path.is_file():
        known = sorted(p.name.removesuffix(".json") for p in SCHEMA_DIR.iterdir() if p.name.endswith(".json"))
        raise SystemExit(f"no provider schema {path.name}; known: {', '.join(known)}")
    return json.loads(path.read_text(encoding="utf-8"))


def block_proto(block: dict[str, Any]) -> pb.Schema.Block:
    return pb.Schema.Block(
        attributes=[
            pb.Schema.Attribute(
                name=name,
                type=json.dumps(attribute["type"]).encode(),
                required=attribute.get("required", False),
                optional=attribute.get("optional", False),
                computed=attribute.get("computed", False),
                sensitive=attribute.get("sensitive", False),
            )
            for name, attribute in block["attributes"].items()
        ],
        block_types=[
            pb.Schema.NestedBlock(
                type_name=name,
                nesting=NESTING[nested["nesting"]],
                min_items=nested["min_items"],
                max_items=nested["max_items"],
                block=block_proto(nested["block"]),
            )
            for name, nested in block["blocks"].items()
        ],
    )


def _error(summary: str, detail: str = "") -> pb.Diagnostic:
    return pb.Diagnostic(severity=pb.Diagnostic.ERROR, summary=summary, detail=detail)


def _attribute_path(path: tuple[Any, ...]) -> pb.AttributePath:
    return pb.AttributePath(steps=[
        pb.AttributePath.Step(element_key_int=step) if isinstance(step, int)
        else pb.AttributePath.Step(attribute_name=step)
        for step in path
    ])


def _count_diagnostics(block: dict[str, Any], config: pb.DynamicValue) -> list[pb.Diagnostic]:
    return [
        pb.Diagnostic(severity=pb.Diagnostic.ERROR, summary=summary, detail=detail, attribute=_attribute_path(path))
        for path, summary, detail in values.block_count_problems(block, values.decode(config.msgpack))
    ]


class Provider(pb_grpc.ProviderServicer):
    """The provider's RPCs; validation beyond block counts is Terraform core's, against the schema we serve."""

    def __init__(self, name: str, schema: dict[str, Any]) -> None:
        self.name = name
        self.schema = schema

    @cached_property
    def provider_schema(self) -> pb.GetProviderSchema.Response:
        def schema(block: dict[str, Any]) -> pb.Schema:
            return pb.Schema(version=0, block=block_proto(block))

        return pb.GetProviderSchema.Response(
            provider=schema(self.schema["provider"]),
            resource_schemas={n: schema(b) for n, b in self.schema["resources"].items()},
            data_source_schemas={n: schema(b) for n, b in self.schema["data_sources"].items()},
            server_capabilities=pb.ServerCapabilities(plan_destroy=False, get_provider_schema_optional=False),
        )

    def GetMetadata(self, request, context):  # noqa: N802 (gRPC method names)
        return pb.GetMetadata.Response(
            server_capabilities=pb.ServerCapabilities(plan_destroy=False, get_provider_schema_optional=False),
            resources=[pb.GetMetadata.ResourceMetadata(type_name=n) for n in self.schema["resources"]],
            data_sources=[pb.GetMetadata.DataSourceMetadata(type_name=n) for n in self.schema["data_sources"]],
        )

    def GetProviderSchema(self, request, context):  # noqa: N802
        return self.provider_schema

    def ValidateProviderConfig(self, request, context):  # noqa: N802
        diagnostics = _count_diagnostics(self.schema["provider"], request.config)
        return pb.ValidateProviderConfig.Response(diagnostics=diagnostics)

    def ValidateResourceConfig(self, request, context):  # noqa: N802
        block = self.schema["resources"][request.type_name]
        return pb.ValidateResourceConfig.Response(diagnostics=_count_diagnostics(block, request.config))

    def ValidateDataResourceConfig(self, request, context):  # noqa: N802
        block = self.schema["data_sources"][request.type_name]
        return pb.ValidateDataResourceConfig.Response(diagnostics=_count_diagnostics(block, request.config))

    def ConfigureProvider(self, request, context):  # noqa: N802
        return pb.ConfigureProvider.Response()

    def UpgradeResourceState(self, request, context):  # noqa: N802
        block = self.schema["resources"][request.type_name]
        state = values.from_json(block, json.loads(request.raw_state.json or b"{}"))
        return pb.UpgradeResourceState.Response(upgraded_state=pb.DynamicValue(msgpack=values.encode(state)))

    def ReadResource(self, request, context):  # noqa: N802
        return pb.ReadResource.Response(new_state=request.current_state, private=request.private)

    def PlanResourceChange(self, request, context):  # noqa: N802
        proposed = values.decode(request.proposed_new_state.msgpack)
        if proposed is None:  # destroy
            return pb.PlanResourceChange.Response(planned_state=request.proposed_new_state)
        block = self.schema["resources"][request.type_name]
        planned = values.plan(block, proposed, values.decode(request.prior_state.msgpack))
        return pb.PlanResourceChange.Response(
            planned_state=pb.DynamicValue(msgpack=values.encode(planned)), planned_private=request.prior_private
        )

    def ApplyResourceChange(self, request, context):  # noqa: N802
        return pb.ApplyResourceChange.Response(
            diagnostics=[_error("plan-only harness", f"edakit's {self.name} schema provider cannot apply changes; "
                                "use terraform plan, or terraform test with command = plan")]
        )

    def ImportResourceState(self, request, context):  # noqa: N802
        diagnostics = [_error("plan-only harness", "import needs the real provider")]
        return pb.ImportResourceState.Response(diagnostics=diagnostics)

    def ReadDataSource(self, request, context):  # noqa: N802
        block = self.schema["data_sources"][request.type_name]
        config = values.decode(request.config.msgpack)
        state = values.fill_computed(block, config, datasources.read(request.type_name, config))
        return pb.ReadDataSource.Response(state=pb.DynamicValue(msgpack=values.encode(state)))

    def GetFunctions(self, request, context):  # noqa: N802
        return pb.GetFunctions.Response()

    def StopProvider(self, request, context):  # noqa: N802
        return pb.StopProvider.Response()


def self_signed_certificate() -> tuple[bytes, bytes, bytes]:
    """(key PEM, cert PEM, cert DER) for 'localhost', the name go-plugin's client verifies against."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HashiCorp"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(seconds=30)).not_valid_after(now + datetime.timedelta(hours=12))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, key_cert_sign=True,
                                     content_commitment=False, data_encipherment=False, key_agreement=True,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM), cert.public_bytes(serialization.Encoding.DER)


def _go_plugin_services(stop: threading.Event) -> tuple[grpc.GenericRpcHandler, ...]:
    """go-plugin's side services: health check ("plugin" is SERVING) and the controller's Shutdown."""
    def check(request: bytes, context: grpc.ServicerContext) -> bytes:
        return b"\x08\x01"  # HealthCheckResponse{status: SERVING}

    def shutdown(request: bytes, context: grpc.ServicerContext) -> bytes:
        stop.set()
        return b""  # Empty

    return (
        grpc.method_handlers_generic_handler("grpc.health.v1.Health",
                                             {"Check": grpc.unary_unary_rpc_method_handler(check)}),
        grpc.method_handlers_generic_handler("plugin.GRPCController",
                                             {"Shutdown": grpc.unary_unary_rpc_method_handler(shutdown)}),
    )


def _watch_parent(stop: threading.Event) -> None:
    """Terraform killed without a Shutdown call re-parents us: exit rather than linger as an orphan."""
    parent = os.getppid()
    while not stop.wait(1.0):
        if os.getppid() != parent:
            stop.set()


def serve(provider: str) -> None:
    if os.environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        sys.exit("This is a Terraform provider plugin (edakit schema harness); Terraform starts it, not people.")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Terraform forwards Ctrl-C as a StopProvider call instead
    servicer = Provider(provider, load_schema(provider))
    stop = threading.Event()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_ProviderServicer_to_server(servicer, server)
    server.add_generic_rpc_handlers(_go_plugin_services(stop))
    key_pem, cert_pem, cert_der = self_signed_certificate()
    # Python's gRPC cannot verify Terraform's P-521 client certificate: TLS without client authentication.
    credentials = grpc.ssl_server_credentials([(key_pem, cert_pem)], require_client_auth=False)
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    cert = base64.b64encode(cert_der).decode().rstrip("=")
    sys.stdout.write(f"1|6|tcp|127.0.0.1:{port}|grpc|{cert}\n")
    sys.stdout.flush()
    threading.Thread(target=_watch_parent, args=(stop,), daemon=True).start()
    stop.wait()
    server.stop(grace=0.2).wait()
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--provider", required=True, help="provider type: a file name in provider_schemas/")
    serve(parser.parse_args(argv).provider)


if __name__ == "__main__":
    main()

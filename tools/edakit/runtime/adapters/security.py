"""Credentials and encryption for every adapter, from the spec's `security` blocks and the environment.

A spec never holds a secret: where one is needed it names where to read it, `{env: NAME}` (an environment variable)
or `{file: PATH}` (a mounted secret, at most MAX_SECRET_BYTES, one trailing newline stripped). The schema refuses a
literal string there, and every error here names the spec key and the variable or file, never a secret's value.

- Kafka (`kafka.security`) -> librdkafka settings for every client of a KafkaBroker (producers, consumers and admin
  clients alike): `protocol` PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL (default SASL_SSL with `sasl`, else SSL),
  `tls` (CA file, client certificate and key, key password, hostname verification on unless turned off), `sasl`
  with `mechanism` SCRAM-SHA-256 | SCRAM-SHA-512 | PLAIN (username and password), OAUTHBEARER (librdkafka's OIDC
  client-credentials flow: token endpoint, client id and secret, scope) or AWS_MSK_IAM (OAUTHBEARER whose token
  `aws_msk_iam_sasl_signer` signs with the AWS credential chain, or a role it assumes; refreshed by librdkafka).
- SNS/SQS (`sqs_sns.security`) -> a boto3 Session: the standard credential chain (environment, shared files,
  web identity, container and instance roles), a named `profile`, and optionally `role_arn` assumed through STS
  (refreshed before expiry by botocore).
- Pub/Sub (`pubsub.security`) -> google-auth credentials: Application Default Credentials, or a service-account key
  file (`service_account_file`), optionally impersonating `impersonate_service_account`.
- Event Grid (`event_grid.security`) -> an azure-identity TokenCredential: DefaultAzureCredential, a managed
  identity, workload identity, or a service principal whose client secret is a secret reference.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

MAX_SECRET_BYTES = 64 * 1024  # a password, a token or a PEM key; anything larger is not what was meant
KAFKA_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
KAFKA_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN", "OAUTHBEARER", "AWS_MSK_IAM")
AZURE_CREDENTIALS = ("default", "managed_identity", "workload_identity", "client_secret")

Env = Mapping[str, str]


class SecurityConfigError(ValueError):
    """A security setting that cannot be used; the message is one line naming the key and what was expected."""


def secret(ref: object, where: str, env: Env | None = None) -> str:
    """The value a secret reference (`{env: NAME}` or `{file: PATH}`) points to; never a literal."""
    env = os.environ if env is None else env
    if not isinstance(ref, Mapping) or len(ref) != 1 or not ({"env", "file"} & set(ref)):
        raise SecurityConfigError(f"{where}: expected {{env: NAME}} or {{file: PATH}} (a secret is never written "
                                  f"in the spec)")
    if "env" in ref:
        name = str(ref["env"])
        value = env.get(name)
        if not value:
            raise SecurityConfigError(f"{where}: environment variable {name} is not set or empty")
        return value
    path = Path(str(ref["file"]))
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SECRET_BYTES + 1)
    except OSError as exc:
        raise SecurityConfigError(f"{where}: cannot read secret file {path}: {exc.strerror}") from None
    if len(data) > MAX_SECRET_BYTES:
        raise SecurityConfigError(f"{where}: secret file {path} is larger than {MAX_SECRET_BYTES} bytes")
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise SecurityConfigError(f"{where}: secret file {path} is not UTF-8 text") from None
    text = text[:-1] if text.endswith("\n") else text
    text = text[:-1] if text.endswith("\r") else text
    if not text:
        raise SecurityConfigError(f"{where}: secret file {path} is empty")
    return text


def _text(value: object, where: str, env: Env | None) -> str:
    """A non-secret value (a user name) written in the spec, or read like a secret."""
    if isinstance(value, str) and value:
        return value
    return secret(value, where, env)


def _readable_file(value: object, where: str) -> str:
    path = Path(str(value))
    if not isinstance(value, str) or not path.is_file() or not os.access(path, os.R_OK):
        raise SecurityConfigError(f"{where}: expected a readable file, got {str(value)[:200]!r}")
    return str(path)


def _only(block: Mapping, allowed: set[str], where: str) -> None:
    unknown = sorted(set(block) - allowed)
    if unknown:
        raise SecurityConfigError(f"{where}.{unknown[0]}: unknown key; expected one of {', '.join(sorted(allowed))}")


def _mapping(value: object, where: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise SecurityConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def kafka_config(security: Mapping | None, where: str = "kafka.security", env: Env | None = None
                 ) -> dict[str, Any]:
    """librdkafka settings for `security` (None or empty: {} - a plaintext, unauthenticated cluster)."""
    if not security:
        return {}
    security = _mapping(security, where)
    _only(security, {"protocol", "tls", "sasl"}, where)
    tls = _mapping(security.get("tls") or {}, f"{where}.tls")
    sasl = security.get("sasl")
    protocol = security.get("protocol", "SASL_SSL" if sasl else "SSL")
    if protocol not in KAFKA_PROTOCOLS:
        raise SecurityConfigError(f"{where}.protocol: expected one of {', '.join(KAFKA_PROTOCOLS)}, got "
                                  f"{str(protocol)[:40]!r}")
    uses_sasl, uses_tls = protocol.startswith("SASL_"), protocol.endswith("SSL")
    if uses_sasl != bool(sasl):
        raise SecurityConfigError(f"{where}.sasl: protocol {protocol} " + ("needs a sasl block" if uses_sasl else
                                                                          "takes no sasl block"))
    if tls and not uses_tls:
        raise SecurityConfigError(f"{where}.tls: protocol {protocol} is not encrypted; use SSL or SASL_SSL")
    config: dict[str, Any] = {"security.protocol": protocol.lower()}
    if uses_tls:
        config.update(_kafka_tls(tls, f"{where}.tls", env))
    if uses_sasl:
        config.update(_kafka_sasl(_mapping(sasl, f"{where}.sasl"), f"{where}.sasl", env))
    return config


def _kafka_tls(tls: Mapping, where: str, env: Env | None) -> dict[str, Any]:
    _only(tls, {"ca_file", "cert_file", "key_file", "key_password", "verify_hostname"}, where)
    config: dict[str, Any] = {}
    if "ca_file" in tls:
        config["ssl.ca.location"] = _readable_file(tls["ca_file"], f"{where}.ca_file")
    if ("cert_file" in tls) != ("key_file" in tls):
        raise SecurityConfigError(f"{where}: a client certificate needs both cert_file and key_file")
    if "cert_file" in tls:
        config["ssl.certificate.location"] = _readable_file(tls["cert_file"], f"{where}.cert_file")
        config["ssl.key.location"] = _readable_file(tls["key_file"], f"{where}.key_file")
    if "key_password" in tls:
        if "key_file" not in tls:
            raise SecurityConfigError(f"{where}.key_password: given without key_file")
        config["ssl.key.password"] = secret(tls["key_password"], f"{where}.key_password", env)
    verify = tls.get("verify_hostname", True)
    if not isinstance(verify, bool):
        raise SecurityConfigError(f"{where}.verify_hostname: expected true or false")
    # librdkafka verifies the broker's certificate chain always; this is the hostname check on top (its default).
    config["ssl.endpoint.identification.algorithm"] = "https" if verify else "none"
    return config


def _kafka_sasl(sasl: Mapping, where: str, env: Env | None) -> dict[str, Any]:
    mechanism = sasl.get("mechanism")
    if mechanism not in KAFKA_MECHANISMS:
        raise SecurityConfigError(f"{where}.mechanism: expected one of {', '.join(KAFKA_MECHANISMS)}, got "
                                  f"{str(mechanism)[:40]!r}")
    if mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"):
        _only(sasl, {"mechanism", "username", "password"}, where)
        for key in ("username", "password"):
            if key not in sasl:
                raise SecurityConfigError(f"{where}.{key}: required for {mechanism}")
        return {"sasl.mechanism": mechanism, "sasl.username": _text(sasl["username"], f"{where}.username", env),
                "sasl.password": secret(sasl["password"], f"{where}.password", env)}
    if mechanism == "OAUTHBEARER":
        _only(sasl, {"mechanism", "token_endpoint_url", "client_id", "client_secret", "scope"}, where)
        for key in ("token_endpoint_url", "client_id", "client_secret"):
            if key not in sasl:
                raise SecurityConfigError(f"{where}.{key}: required for OAUTHBEARER")
        url = str(sasl["token_endpoint_url"])
        if not url.startswith("https://"):
            raise SecurityConfigError(f"{where}.token_endpoint_url: expected an https:// URL (the client secret is "
                                      f"sent there)")
        config = {"sasl.mechanism": "OAUTHBEARER", "sasl.oauthbearer.method": "oidc",
                  "sasl.oauthbearer.token.endpoint.url": url,
                  "sasl.oauthbearer.client.id": _text(sasl["client_id"], f"{where}.client_id", env),
                  "sasl.oauthbearer.client.secret": secret(sasl["client_secret"], f"{where}.client_secret", env)}
        if "scope" in sasl:
            config["sasl.oauthbearer.scope"] = str(sasl["scope"])
        return config
    _only(sasl, {"mechanism", "aws_region", "aws_role_arn", "aws_profile"}, where)
    region = sasl.get("aws_region")
    if not isinstance(region, str) or not region:
        raise SecurityConfigError(f"{where}.aws_region: required for AWS_MSK_IAM (the cluster's region)")
    if "aws_role_arn" in sasl and "aws_profile" in sasl:
        raise SecurityConfigError(f"{where}: aws_role_arn and aws_profile exclude each other")
    return {"sasl.mechanism": "OAUTHBEARER",
            "oauth_cb": msk_iam_token_callback(region, role_arn=sasl.get("aws_role_arn"),
                                               profile=sasl.get("aws_profile"))}


def msk_iam_token_callback(region: str, *, role_arn: str | None = None, profile: str | None = None
                           ) -> Callable[[str], tuple[str, float]]:
    """confluent-kafka's `oauth_cb` for Amazon MSK IAM: a token signed with the AWS credentials (the default chain,
    a profile, or a role assumed with either, see assumed_role_session) and its expiry in epoch seconds; librdkafka
    calls it again before expiry. The session is kept, so a role's credentials are refreshed, not re-assumed."""
    import boto3
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider
    from botocore.credentials import CredentialProvider

    session = boto3.Session(profile_name=profile, region_name=region)
    if role_arn:
        session = assumed_role_session(session, role_arn, session_name="edakit-msk")

    class SessionCredentials(CredentialProvider):
        METHOD = "edakit-session"

        def load(self):  # noqa: ANN202 - botocore Credentials
            return session.get_credentials()

    def token(_config: str) -> tuple[str, float]:
        value, expiry_ms = MSKAuthTokenProvider.generate_auth_token_from_credentials_provider(
            region, SessionCredentials())
        return value, expiry_ms / 1000

    return token


def aws_session(security: Mapping | None, region: str | None = None, where: str = "sqs_sns.security"):  # noqa: ANN201
    """A boto3 Session for `security` (None: the standard credential chain in `region`)."""
    import boto3

    security = _mapping(security or {}, where)
    _only(security, {"profile", "role_arn", "external_id", "session_name", "duration_seconds"}, where)
    base = boto3.Session(profile_name=security.get("profile"), region_name=region)
    role_arn = security.get("role_arn")
    if not role_arn:
        for key in ("external_id", "session_name", "duration_seconds"):
            if key in security:
                raise SecurityConfigError(f"{where}.{key}: only used with role_arn")
        return base
    if not isinstance(role_arn, str) or not role_arn.startswith("arn:") or ":role/" not in role_arn:
        raise SecurityConfigError(f"{where}.role_arn: expected an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
    duration = security.get("duration_seconds", 3600)
    if not isinstance(duration, int) or isinstance(duration, bool) or not 900 <= duration <= 43_200:
        raise SecurityConfigError(f"{where}.duration_seconds: expected 900 to 43200 seconds")
    return assumed_role_session(base, role_arn, session_name=security.get("session_name", "edakit"),
                                external_id=security.get("external_id"), duration_seconds=duration)


def assumed_role_session(base, role_arn: str, *, session_name: str = "edakit",  # noqa: ANN001, ANN201 - boto3
                         external_id: str | None = None, duration_seconds: int = 3600):
    """A boto3 Session acting as `role_arn`: STS AssumeRole with `base`'s credentials, called on first use and again
    before the temporary credentials expire (botocore's refreshable credentials, as for a profile's role_arn). The
    STS client honours `base`'s endpoint settings (AWS_ENDPOINT_URL_STS, a profile's endpoint_url)."""
    import boto3
    import botocore.session
    from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials

    extra: dict[str, object] = {"RoleSessionName": session_name, "DurationSeconds": duration_seconds}
    if external_id:
        extra["ExternalId"] = external_id
    fetcher = AssumeRoleCredentialFetcher(base.client, base.get_credentials(), role_arn, extra_args=extra)
    core = botocore.session.Session()
    if base.region_name:
        core.set_config_variable("region", base.region_name)
    # botocore has no public setter for a session's credentials; this is the attribute its own resolver fills.
    core._credentials = DeferredRefreshableCredentials(fetcher.fetch_credentials, "assume-role")  # noqa: SLF001
    return boto3.Session(botocore_session=core)


def pubsub_credentials(security: Mapping | None, where: str = "pubsub.security"):  # noqa: ANN201
    """google-auth credentials for `security`: a service-account key file, else Application Default Credentials;
    `impersonate_service_account` wraps either in short-lived impersonated credentials."""
    import google.auth
    from google.auth import impersonated_credentials
    from google.auth.exceptions import GoogleAuthError
    from google.oauth2 import service_account

    security = _mapping(security or {}, where)
    _only(security, {"service_account_file", "impersonate_service_account"}, where)
    scopes = ["https://www.googleapis.com/auth/pubsub"]
    try:
        if "service_account_file" in security:
            path = _readable_file(security["service_account_file"], f"{where}.service_account_file")
            credentials = service_account.Credentials.from_service_account_file(path, scopes=scopes)
        else:
            credentials, _ = google.auth.default(scopes=scopes)
    except (GoogleAuthError, ValueError) as exc:
        if isinstance(exc, SecurityConfigError):
            raise
        key = "service_account_file" if "service_account_file" in security else "(Application Default Credentials)"
        raise SecurityConfigError(f"{where}.{key}: {str(exc).splitlines()[0][:300]}") from None
    target = security.get("impersonate_service_account")
    if target:
        if not isinstance(target, str) or not target.endswith(".gserviceaccount.com"):
            raise SecurityConfigError(f"{where}.impersonate_service_account: expected a service account email")
        credentials = impersonated_credentials.Credentials(source_credentials=credentials, target_principal=target,
                                                           target_scopes=scopes, lifetime=3600)
    return credentials


def azure_credential(security: Mapping | None, where: str = "event_grid.security", env: Env | None = None
                     ):  # noqa: ANN201 - azure.core.credentials.TokenCredential
    """An azure-identity TokenCredential for `security` (None: DefaultAzureCredential)."""
    from azure import identity

    security = _mapping(security or {}, where)
    _only(security, {"credential", "tenant_id", "client_id", "client_secret"}, where)
    kind = security.get("credential", "default")
    if kind not in AZURE_CREDENTIALS:
        raise SecurityConfigError(f"{where}.credential: expected one of {', '.join(AZURE_CREDENTIALS)}, got "
                                  f"{str(kind)[:40]!r}")
    if kind != "client_secret" and "client_secret" in security:
        raise SecurityConfigError(f"{where}.client_secret: only used with credential: client_secret")
    if kind == "default":
        return identity.DefaultAzureCredential(managed_identity_client_id=security.get("client_id"))
    if kind == "managed_identity":
        return identity.ManagedIdentityCredential(client_id=security.get("client_id"))
    if kind == "workload_identity":
        return identity.WorkloadIdentityCredential(tenant_id=security.get("tenant_id"),
                                                   client_id=security.get("client_id"))
    for key in ("tenant_id", "client_id", "client_secret"):
        if key not in security:
            raise SecurityConfigError(f"{where}.{key}: required for credential: client_secret")
    return identity.ClientSecretCredential(str(security["tenant_id"]), str(security["client_id"]),
                                           secret(security["client_secret"], f"{where}.client_secret", env))


def spec_security(path: str | Path, env: str | None = None, *, root: Path | None = None) -> dict[str, Mapping]:
    """The `security` block of each broker section (`kafka`, `sqs_sns`, `pubsub`, `event_grid`) of the spec at
    `path`, after its environment `env` is merged in; the spec is checked first (load_spec raises SpecError)."""
    from edakit.spec.limits import MAX_SPEC_BYTES
    from edakit.spec.loader import load_spec
    from edakit.spec.overrides import base, merge
    from edakit.spec.source import read_document

    load_spec(path, env, root=root)
    document, _ = read_document(path, what="spec", max_bytes=MAX_SPEC_BYTES)
    data = (merge(document, env)[0] if env else base(document)).data
    return {section: data[section]["security"] for section in ("kafka", "sqs_sns", "pubsub", "event_grid")
            if isinstance(data.get(section), Mapping) and data[section].get("security")}

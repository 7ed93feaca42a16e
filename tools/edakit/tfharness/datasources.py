"""Plausible values for the data sources the kit's modules read at plan time (no cloud account behind them)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
AZURE_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000001"
AZURE_TENANT_ID = "00000000-0000-0000-0000-000000000002"
GOOGLE_PROJECT = "edakit-project"
GOOGLE_PROJECT_NUMBER = "123456789012"


def _one_or_many(values: list[str]) -> str | list[str]:
    # the AWS provider renders a single-element set as a bare string
    ordered = sorted(values)
    return ordered[0] if len(ordered) == 1 else ordered


def _principals(blocks: list[dict[str, Any]]) -> Any:
    merged: dict[str, list[str]] = {}
    for block in blocks:
        merged.setdefault(block["type"], []).extend(block["identifiers"] or [])
    if set(merged) == {"*"} and merged["*"] == ["*"]:
        return "*"
    return {kind: _one_or_many(ids) for kind, ids in sorted(merged.items())}


def _statement(config: dict[str, Any]) -> dict[str, Any]:
    statement: dict[str, Any] = {}
    if config.get("sid"):
        statement["Sid"] = config["sid"]
    statement["Effect"] = config.get("effect") or "Allow"
    for key, field in (("Action", "actions"), ("NotAction", "not_actions"), ("Resource", "resources"),
                       ("NotResource", "not_resources")):
        if config.get(field):
            statement[key] = _one_or_many(config[field])
    if config.get("principals"):
        statement["Principal"] = _principals(config["principals"])
    if config.get("not_principals"):
        statement["NotPrincipal"] = _principals(config["not_principals"])
    if config.get("condition"):
        conditions: dict[str, dict[str, Any]] = {}
        for condition in config["condition"]:
            conditions.setdefault(condition["test"], {})[condition["variable"]] = _one_or_many(condition["values"])
        statement["Condition"] = conditions
    return statement


def iam_policy_document(config: dict[str, Any]) -> dict[str, Any]:
    """Render the policy JSON the way the AWS provider does: source documents, own statements, then overrides by Sid."""
    statements: list[dict[str, Any]] = []
    for source in config.get("source_policy_documents") or []:
        statements.extend(json.loads(source).get("Statement", []))
    for block in config.get("statement") or []:
        statements.append(_statement(block))
    for override in config.get("override_policy_documents") or []:
        for replacement in json.loads(override).get("Statement", []):
            sid = replacement.get("Sid")
            same_sid = [i for i, statement in enumerate(statements) if sid and statement.get("Sid") == sid]
            if same_sid:
                statements[same_sid[0]] = replacement
            else:
                statements.append(replacement)
    document: dict[str, Any] = {"Version": config.get("version") or "2012-10-17"}
    if config.get("policy_id"):
        document["Id"] = config["policy_id"]
    document["Statement"] = statements
    return {
        "json": json.dumps(document, indent=2),
        "minified_json": json.dumps(document, separators=(",", ":")),
        "id": str(int(hashlib.sha256(json.dumps(document).encode()).hexdigest()[:8], 16)),
    }


def _region(config: dict[str, Any]) -> dict[str, Any]:
    region = config.get("region") or config.get("name") or REGION
    return {"name": region, "region": region, "id": region, "description": "US East (N. Virginia)",
            "endpoint": f"ec2.{region}.amazonaws.com"}


def _resource_group(config: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"/subscriptions/{AZURE_SUBSCRIPTION_ID}/resourceGroups/{config.get('name')}",
            "location": "westeurope", "tags": {}}


def _google_project(config: dict[str, Any]) -> dict[str, Any]:
    project = config.get("project_id") or GOOGLE_PROJECT
    return {"project_id": project, "number": GOOGLE_PROJECT_NUMBER, "name": project, "id": f"projects/{project}"}


# data source name -> config (a plain dict) -> values for its computed attributes; the rest get placeholders.
READERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "aws_iam_policy_document": iam_policy_document,
    "aws_caller_identity": lambda _: {"account_id": ACCOUNT_ID, "id": ACCOUNT_ID, "user_id": "AIDAEDAKITHARNESS",
                                      "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/edakit-harness"},
    "aws_region": _region,
    "aws_partition": lambda _: {"partition": "aws", "id": "aws", "dns_suffix": "amazonaws.com",
                                "reverse_dns_prefix": "com.amazonaws"},
    "azurerm_client_config": lambda _: {"client_id": "00000000-0000-0000-0000-000000000003",
                                        "tenant_id": AZURE_TENANT_ID, "subscription_id": AZURE_SUBSCRIPTION_ID,
                                        "object_id": "00000000-0000-0000-0000-000000000004",
                                        "id": f"clientConfigs/{AZURE_TENANT_ID}"},
    "azurerm_resource_group": _resource_group,
    "google_project": _google_project,
}


def read(name: str, config: dict[str, Any]) -> dict[str, Any]:
    reader = READERS.get(name)
    return reader(config) if reader else {}

"""tfvars for terraform/modules/aws-saga-stepfunctions: the spec's saga, its ASL generated from the saga file."""

from __future__ import annotations

from typing import Any

from edakit.render.sns_sqs_fanout import tags
from edakit.saga import render_asl
from edakit.spec.build import resource_name
from edakit.spec.model import Spec

MODULE = "aws-saga-stepfunctions"


def tfvars(spec: Spec) -> dict[str, Any] | None:
    saga = spec.saga
    if saga is None:
        return None
    return {
        "name": resource_name(spec.name, spec.environment, saga.definition_path.stem),
        "definition": render_asl(saga.definition_path),
        "log_retention_in_days": saga.log_retention_days,
        # Opt-in only: states' input and output are the saga's business data.
        "allow_execution_data_logging": saga.allow_execution_data_logging,
        "integration_kms_key_arns": list(saga.integration_kms_key_arns),
        "alarm_actions": list(saga.alarm_actions),
        "tags": tags(spec),
    }


def provider_settings(spec: Spec) -> dict[str, Any] | None:
    return {"region": spec.saga.region} if spec.saga is not None else None

"""Encryption at rest: every topic and queue is encrypted with a key its producers and the broker may use.

What the spec and the modules can get wrong is the SNS/SQS key: Pub/Sub and Event Grid always encrypt at rest
(Google- or Microsoft-managed keys unless a CMEK is given); Kafka encrypts on the brokers' disks, outside the spec.
"""

from __future__ import annotations

from collections.abc import Iterator

from edakit.lint.core import Severity, Target, module_vars, rule
from edakit.lint.rules.delivery import SNS_SQS
from edakit.spec.model import Location


@rule("EDA014", "encryption-at-rest", Severity.ERROR,
      "Every topic and queue is encrypted at rest with a key its producers may use.")
def encryption_at_rest(target: Target) -> Iterator[tuple[Location, str]]:
    key = module_vars(target, SNS_SQS).get("kms_master_key_id")
    where = target.at(("kms_master_key_id",), ("sqs_sns", "kms_master_key_id"))
    if key == "":
        yield where, ("kms_master_key_id is empty, so the topic and queues get no KMS key; leave it unset "
                      "(the module creates one)")
    elif isinstance(key, str) and key.startswith("alias/aws/"):
        yield where, (f"kms_master_key_id {key} is an AWS managed key: SNS cannot use it to deliver to encrypted "
                      "queues; use a customer managed key or leave it unset")

"""Apache Kafka profile: attribute mapping and budget.

CloudEvents attributes travel as `ce_<name>` record headers (Kafka protocol binding; the key is the record key);
Kafka has no header count limit (only the record size) and no broker-side filters.
"""

BROKER = "kafka"
PREFIX = "ce_"
WHY = ""


def budget(spec: object, channel: str) -> None:
    return None


def filter_attributes(subscription_filter: object) -> set[str]:
    return set()

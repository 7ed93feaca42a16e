"""Export: every spec in configs/ becomes AsyncAPI 3.0 that AsyncAPI's own parser accepts (one node process), with
servers per environment and broker, bindings, CloudEvents headers and x-edakit extensions where they belong."""

from __future__ import annotations

import copy

import yaml
from asyncapi_paths import CONFIGS

from edakit.asyncapi.check import validate_documents
from edakit.asyncapi.export import AVRO_FORMAT, export_spec


def test_every_config_export_is_valid_for_the_asyncapi_parser_and_a_broken_one_is_not(repo_root, tmp_path):
    files = []
    for path in CONFIGS:
        target = tmp_path / f"{path.stem}.yaml"
        target.write_text(yaml.safe_dump(export_spec(path, out_dir=tmp_path), sort_keys=False), encoding="utf-8")
        files.append(target)
    broken = copy.deepcopy(export_spec(repo_root / "configs/order-events-kafka.yaml", out_dir=tmp_path))
    broken["channels"]["order-placed"]["bindings"]["kafka"]["partitions"] = "twelve"
    broken["operations"]["receive-billing"]["bindings"]["kafka"]["groupid"] = "typo"
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(broken, sort_keys=False), encoding="utf-8")
    diagnostics = validate_documents([tmp_path / "broken.yaml", *files], repo_root)  # first: argv offsets show
    assert len(files) == 10
    assert {d.file for d in diagnostics} == {str((tmp_path / "broken.yaml").resolve())}, diagnostics
    pointers = {d.path for d in diagnostics}
    assert "/channels/order-placed/bindings/kafka/partitions" in pointers
    assert "/operations/receive-billing/bindings/kafka/groupid" in pointers


def test_kafka_export_has_servers_per_environment_operations_headers_and_bindings(repo_root, tmp_path):
    doc = export_spec(repo_root / "configs/order-events-kafka.yaml", out_dir=tmp_path)
    assert doc["asyncapi"] == "3.0.0"
    assert doc["servers"]["staging-kafka"]["host"] == "kafka-staging.internal:9092"
    assert doc["servers"]["prod-kafka"]["host"] == "kafka-1.internal:9092"
    assert doc["servers"]["prod-kafka"]["bindings"]["kafka"]["schemaRegistryUrl"] == \
        "http://schema-registry.internal:8081"
    channel = doc["channels"]["order-placed"]
    assert channel["address"] == "orders-kafka-{environment}-order-placed"
    assert channel["parameters"]["environment"]["enum"] == ["staging", "prod"]
    assert channel["bindings"]["kafka"]["partitions"] == 12
    assert channel["bindings"]["kafka"]["replicas"] == 3
    assert channel["bindings"]["kafka"]["topicConfiguration"]["retention.ms"] == 168 * 3_600_000
    message = channel["messages"]["OrderPlaced"]
    assert message["payload"]["schemaFormat"] == AVRO_FORMAT
    assert (tmp_path / message["payload"]["schema"]["$ref"]).resolve() == \
        (repo_root / "schemas/order-events/v1/order-placed.avsc").resolve()
    assert message["headers"]["required"] == ["ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time"]
    assert message["headers"]["properties"]["ce_type"]["const"] == "OrderPlaced"
    operations = doc["operations"]
    assert operations["publish-order-placed"]["action"] == "send"
    assert {k for k, v in operations.items() if v["action"] == "receive"} == \
        {"receive-email", "receive-billing", "receive-audit"}
    billing = operations["receive-billing"]
    assert billing["bindings"]["kafka"]["groupId"]["enum"] == ["billing"]
    assert billing["x-edakit-dlq"]["name"] == "orders-kafka-order-placed.billing.dlq"
    assert billing["x-edakit-dlq"]["retryTopics"] == [f"orders-kafka-order-placed.billing.retry.{n}" for n in (1, 2, 3)]
    assert billing["x-edakit-retry"]["minBackoffSeconds"] == 30
    assert set(billing["x-edakit-alerts"]) == {"lag_messages", "lag_seconds", "dlq_messages", "error_ratio",
                                               "for_seconds"}
    assert doc["x-edakit-environments"]["staging"]["kafka"]["retention_hours"] == 24


def test_sns_export_puts_filters_the_binding_can_hold_into_it_and_every_filter_into_x_edakit(repo_root, tmp_path):
    doc = export_spec(repo_root / "configs/order-events-sns.yaml", "prod", out_dir=tmp_path)
    assert list(doc["servers"]) == ["prod-sqs-sns"]
    assert doc["servers"]["prod-sqs-sns"]["host"] == "sns.eu-central-1.amazonaws.com"
    assert doc["channels"]["order-placed"]["address"] == "orders-sns-prod-order-placed"
    assert doc["channels"]["order-placed"]["bindings"]["sns"]["name"] == "orders-sns-prod-order-placed"
    email = doc["operations"]["receive-email"]
    assert email["bindings"]["sns"]["consumers"][0]["filterPolicy"] == {"event_type": ["OrderPlaced"]}
    assert email["bindings"]["sns"]["consumers"][0]["rawMessageDelivery"] is True
    billing = doc["operations"]["receive-billing"]
    assert "filterPolicy" not in billing["bindings"]["sns"]["consumers"][0]  # numeric: the binding schema cannot
    assert billing["x-edakit-filter"] == {"scope": "MessageBody", "policy": {"total_amount": [{"numeric": [">", 0]}]}}
    queue, dlq = billing["bindings"]["sqs"]["queues"]
    assert queue["visibilityTimeout"] == 180
    assert queue["redrivePolicy"] == {"deadLetterQueue": {"name": "orders-sns-prod-order-placed-billing-dlq"},
                                      "maxReceiveCount": 5}  # prod's override
    assert dlq["messageRetentionPeriod"] == 336 * 3600
    headers = doc["channels"]["order-placed"]["messages"]["OrderPlaced"]["headers"]["properties"]
    assert "event_type" in headers and "ce_type" in headers
    assert doc["x-edakit-environment"] == "prod" and "x-edakit-environments" not in doc


def test_export_cli_writes_a_file_and_refuses_a_bad_spec_in_one_line(repo_root, tmp_path):
    from click.testing import CliRunner

    from edakit.cli import main

    out = tmp_path / "a" / "kafka.yaml"
    result = CliRunner().invoke(main, ["asyncapi", "export", str(repo_root / "configs/order-events-kafka.yaml"),
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(out.read_text())["info"]["title"] == "orders-kafka"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nbroker: nope\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["asyncapi", "export", str(bad)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "broker" in result.output

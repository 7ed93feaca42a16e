"""The repository-wide check `edakit validate` runs: layout and config, every subject's history at its level,
unique subject names, every example payload against its schema."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from edakit.cli.registry import registry as registry_cli
from edakit.cli.schema import schema as schema_cli
from edakit.schemas.repo import check_repository, load_subjects


def _plant_v3(root: Path, suffix: str, change) -> Path:
    source = root / "schemas/order-events/v2" / f"order-placed{suffix}"
    target = root / "schemas/order-events/v3" / f"order-placed{suffix}"
    target.parent.mkdir(exist_ok=True)
    schema = json.loads(source.read_text())
    change(schema)
    target.write_text(json.dumps(schema, indent=2))
    return target


def test_the_repository_is_clean(repo_root: Path) -> None:
    assert [str(p) for p in check_repository(repo_root)] == []


def test_subjects_follow_the_naming_strategies(repo_root: Path) -> None:
    subjects, problems = load_subjects(repo_root / "schemas")
    assert problems == []
    by_event = {s.event: s for s in subjects}
    assert by_event["order-placed"].name == "orders.order-placed-value"
    assert by_event["order-placed"].versions == [1, 2]
    assert by_event["payment-failed"].name == "payments-com.edakit.payments.PaymentFailed"
    assert by_event["payment-failed"].compatibility == "FULL"


def test_incompatible_avro_v3_names_the_field(repo_copy: Path) -> None:
    def quantity_to_string(schema: dict) -> None:
        schema["fields"][4]["type"]["items"]["fields"][1]["type"] = "string"

    planted = _plant_v3(repo_copy, ".avsc", quantity_to_string)
    shutil.copy(repo_copy / "schemas/order-events/v2/order-placed.schema.json", planted.parent)
    problems = check_repository(repo_copy)
    assert problems, "the planted v3 must be rejected"
    assert all(p.file == str(planted) for p in problems)
    assert any("field 'items.quantity'" in p.message and "TYPE_MISMATCH" in p.message for p in problems)


def test_incompatible_json_v3_names_the_property(repo_copy: Path) -> None:
    def drop_sales_channel(schema: dict) -> None:
        del schema["properties"]["sales_channel"]

    planted = _plant_v3(repo_copy, ".schema.json", drop_sales_channel)
    shutil.copy(repo_copy / "schemas/order-events/v2/order-placed.avsc", planted.parent)
    messages = [p.message for p in check_repository(repo_copy)]
    assert any("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL" in m and "#/properties/sales_channel" in m
               for m in messages), messages


def test_compatible_v3_passes(repo_copy: Path) -> None:
    def add_optional_note(schema: dict) -> None:
        if "fields" in schema:
            schema["fields"].append({"name": "note", "type": ["null", "string"], "default": None})
        else:
            schema["properties"]["note"] = {"type": ["string", "null"]}

    _plant_v3(repo_copy, ".avsc", add_optional_note)
    _plant_v3(repo_copy, ".schema.json", add_optional_note)
    assert check_repository(repo_copy) == []


def test_config_errors_point_at_the_line(repo_copy: Path) -> None:
    config = repo_copy / "schemas/order-events/schema-config.yaml"
    config.write_text("compatibility: SOMETIMES\nsubject_name_strategy: TopicNameStrategy\nflavour: mint\n")
    problems = {(p.line, p.message.split(":")[0]) for p in check_repository(repo_copy) if p.file == str(config)}
    assert problems == {(1, "compatibility"), (3, "unknown key 'flavour' (expected one of ['compatibility', "
                                                 "'events', 'serialization', 'subject_name_strategy'])")}


def test_invalid_example_payload_is_reported_with_its_path(repo_copy: Path) -> None:
    example = repo_copy / "examples/payloads/order-events/order-placed/v1-broken.json"
    example.write_text(json.dumps({**json.loads((example.parent / "v1.json").read_text()), "total_amount": "lots"}))
    orphan = repo_copy / "examples/payloads/order-events/order-placed/v9.json"
    orphan.write_text("{}")
    problems = [p for p in check_repository(repo_copy)]
    broken = [p.message for p in problems if p.file == str(example)]
    assert len(broken) == 2  # against the Avro schema and its JSON twin
    assert all("$.total_amount" in m for m in broken)
    assert [p.message for p in problems if p.file == str(orphan)] == [
        "no schema order-events/v9/order-placed for this example"]


def test_two_events_on_one_subject_are_reported(repo_copy: Path) -> None:
    config = repo_copy / "schemas/order-events/schema-config.yaml"
    config.write_text("events:\n  order-placed:\n    topic: orders\n  order-shipped:\n    topic: orders\n")
    messages = [p.message for p in check_repository(repo_copy)]
    assert messages == ["subject 'orders-value' is used by both order-events/order-placed and "
                        "order-events/order-shipped"]


def test_check_command_exit_codes(repo_copy: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(schema_cli, ["check", "--root", str(repo_copy)]).exit_code == 0
    (repo_copy / "schemas/order-events/v1/order-placed.avsc").write_text("{")
    result = runner.invoke(schema_cli, ["check", "--root", str(repo_copy), "--format", "json"])
    assert result.exit_code == 1
    assert any(p["file"].endswith("v1/order-placed.avsc") and "not valid JSON" in p["message"]
               for p in json.loads(result.output))


def test_compat_command(repo_copy: Path) -> None:
    v1, v2 = (str(repo_copy / f"schemas/order-events/v{n}/order-placed.avsc") for n in (1, 2))
    json_v1 = str(repo_copy / "schemas/order-events/v1/order-placed.schema.json")
    runner = CliRunner()
    ok = runner.invoke(schema_cli, ["compat", v2, "--previous", v1, "--level", "full_transitive"])
    assert ok.exit_code == 0 and ok.output.strip().endswith("compatible at FULL_TRANSITIVE")
    backwards = runner.invoke(schema_cli, ["compat", v1, "--previous", v2, v1, "--level", "BACKWARD"])
    assert backwards.exit_code == 0  # v1 reads v2 data: the added fields are ignored
    json_v2 = str(repo_copy / "schemas/order-events/v2/order-placed.schema.json")
    forward_json = runner.invoke(schema_cli, ["compat", json_v2, "--previous", json_v1, "--level", "FORWARD"])
    assert forward_json.exit_code == 1 and "#/properties/sales_channel" in forward_json.output
    assert runner.invoke(schema_cli, ["compat", v2, v1]).exit_code == 2  # earlier versions need --previous
    mixed = runner.invoke(schema_cli, ["compat", v2, "--previous", json_v1])
    assert mixed.exit_code == 2 and "expected a schema of the same kind" in mixed.output


@pytest.mark.parametrize("config, expected", [
    ("events: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 100 levels deep"),
    ("a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
     "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n", "aliases expand to more than"),
    ("compatibility: " + "x" * 70_000 + "\n", "of at most 64 KiB"),
])
def test_a_hostile_schema_config_is_a_located_problem(repo_copy: Path, config: str, expected: str) -> None:
    path = repo_copy / "schemas" / "order-events" / "schema-config.yaml"
    path.write_text(config)
    problems = check_repository(repo_copy)
    assert [p for p in problems if p.file == str(path) and expected in p.message and p.line], problems
    result = CliRunner().invoke(registry_cli, ["serve", "--schemas", str(repo_copy / "schemas"), "--port", "0"])
    assert result.exit_code == 2 and str(path) in result.output and "Traceback" not in result.output


def test_an_empty_schema_config_means_defaults(repo_copy: Path) -> None:
    path = repo_copy / "schemas" / "payment-events" / "schema-config.yaml"
    path.write_text("# every setting at its default\n---\n")
    assert [p for p in check_repository(repo_copy) if "schema-config" in p.file] == []

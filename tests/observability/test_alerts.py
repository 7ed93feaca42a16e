"""Alert rules from the spec: thresholds and their defaults, the rules promtool accepts and whose generated unit
tests pass (the rule fires one above the threshold and stays quiet at it), runbook anchors, and the staleness
check `make validate` runs."""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from edakit.cli import main
from edakit.observability import alerts, generate
from edakit.spec import SpecError, load_environments
from edakit.validate import STEPS, validate

ROOT = Path(__file__).resolve().parents[2]

SPEC = """\
name: shop
broker: kafka
kafka: { bootstrap_servers: ["127.0.0.1:9092"] }
events:
  OrderPlaced: { schema: schemas/shop/v1/order-placed.avsc, version: 1 }
channels:
  order-placed: { events: [OrderPlaced] }
{alerts}
subscribers:
  billing:
    channel: order-placed
{billing}
  email: { channel: order-placed }
environments:
  staging: {{}}
  prod:
    alerts: {{ lag_seconds: 60 }}
"""


def _repo(tmp_path: Path, alerts_block: str = "", billing_block: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    schemas = tmp_path / "schemas" / "shop" / "v1"
    schemas.mkdir(parents=True)
    (schemas / "order-placed.avsc").write_text('{"type": "record", "name": "X", "fields": []}\n')
    (tmp_path / "configs").mkdir()
    text = SPEC.replace("{alerts}", alerts_block).replace("{billing}", textwrap.indent(billing_block, "    "))
    (tmp_path / "configs" / "shop.yaml").write_text(text.replace("{{", "{").replace("}}", "}"))
    return tmp_path


def _rules(root: Path) -> dict[tuple[str, str, str], dict]:
    """(group, subscriber, alert) -> rule, from the rendered rule file."""
    files = generate.alert_files(root)
    groups = [g for env in ("staging", "prod")
              for g in YAML(typ="safe").load(files[f"alerts/shop.{env}.rules.yml"])["groups"]]
    return {(g["name"], r["labels"].get("subscriber", ""), r["alert"]): r for g in groups for r in g["rules"]}


def _promtool(root: Path, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    tests = ["shop.staging.test.yml", "shop.prod.test.yml", "edakit.test.yml"]
    return subprocess.run(["promtool", "test", "rules", *tests],
                          cwd=root / "alerts" / "tests", capture_output=True, text=True, timeout=120)


def test_defaults_apply_and_spec_environment_and_subscriber_override_them(tmp_path: Path) -> None:
    root = _repo(tmp_path, "alerts: { lag_messages: 500 }", "alerts: { lag_messages: 20000, error_ratio: 0.01 }")
    rules = _rules(root)
    staging, prod = "edakit-shop-staging", "edakit-shop-prod"
    assert rules[(staging, "email", "ConsumerLagHigh")]["expr"].endswith("> 500")  # spec-wide
    assert rules[(staging, "billing", "ConsumerLagHigh")]["expr"].endswith("> 20000")  # the subscriber's own
    assert rules[(staging, "billing", "HandlerErrorRateHigh")]["expr"].endswith("> 0.01")
    assert rules[(staging, "email", "HandlerErrorRateHigh")]["expr"].endswith("> 0.05")  # schema default
    assert rules[(staging, "email", "ConsumerLagAgeHigh")]["expr"].endswith("> 300")
    assert rules[(prod, "email", "ConsumerLagAgeHigh")]["expr"].endswith("> 60")  # environment override
    assert rules[(staging, "email", "ConsumerLagHigh")]["for"] == "5m"
    assert rules[(staging, "email", "DeadLetterQueueNotEmpty")]["expr"].endswith("> 0")
    lag = rules[(prod, "email", "ConsumerLagHigh")]
    assert 'topic="shop-prod-order-placed"' in lag["expr"] and 'group="shop-prod-email"' in lag["expr"]
    assert lag["labels"] == {"severity": "warning", "spec": "shop", "environment": "prod", "subscriber": "email",
                             "channel": "order-placed", "broker": "kafka"}
    assert set(lag["annotations"]) == {"summary", "description", "runbook_url"}


def test_every_rule_of_every_committed_spec_has_severity_annotations_and_a_runbook_section() -> None:
    headings = {line[4:].strip().lower() for line in (ROOT / "alerts" / "README.md").read_text().splitlines()
                if line.startswith("### ")}
    seen = set()
    for path in sorted((ROOT / "alerts").glob("*.rules.yml")):
        for group in YAML(typ="safe").load(path.read_text())["groups"]:
            for rule in group["rules"]:
                seen.add(rule["alert"])
                assert rule["labels"]["severity"] in ("warning", "critical"), (path, rule["alert"])
                assert rule["annotations"]["summary"] and rule["annotations"]["description"]
                anchor = rule["annotations"]["runbook_url"].split("#", 1)[1]
                assert rule["annotations"]["runbook_url"] == f"alerts/README.md#{anchor}"
                assert anchor in headings, f"{path.name}: {rule['alert']} has no runbook section"
    assert seen == set(alerts.ALERT_NAMES)


@pytest.mark.slow
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lag=st.integers(1, 10**6), age=st.integers(1, 10**5), dlq=st.integers(0, 1000),
       ratio=st.sampled_from([0.001, 0.01, 0.05, 0.25, 0.5, 0.99]), hold=st.sampled_from([0, 60, 300, 900]))
@example(lag=999_999, age=1, dlq=0, ratio=0.05, hold=0)  # fires at 1000000, which {{ $value }} prints as 1e+06
def test_generated_promtool_tests_pass_for_any_thresholds(tmp_path_factory: pytest.TempPathFactory, lag: int,
                                                          age: int, dlq: int, ratio: float, hold: int) -> None:
    """promtool evaluates the real PromQL: one above each threshold fires with the expected labels and
    annotations, at the threshold nothing fires."""
    root = _repo(tmp_path_factory.mktemp("repo"),
                 f"alerts: {{ lag_messages: {lag}, lag_seconds: {age}, dlq_messages: {dlq}, "
                 f"error_ratio: {ratio}, for_seconds: {hold} }}")
    done = _promtool(root, generate.alert_files(root))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("SUCCESS") == 3


@pytest.mark.slow
def test_promtool_fails_a_rule_whose_threshold_is_off_by_one(tmp_path: Path) -> None:
    """The generated tests are not vacuous: a rule that fires at the threshold instead of above it fails them."""
    root = _repo(tmp_path, "alerts: { lag_messages: 100 }")
    files = generate.alert_files(root)
    files["alerts/shop.prod.rules.yml"] = files["alerts/shop.prod.rules.yml"].replace(") > 100\n", ") >= 100\n")
    done = _promtool(root, files)
    assert done.returncode == 1
    assert "ConsumerLagHigh" in done.stdout + done.stderr


def test_bad_thresholds_are_located_problems(tmp_path: Path) -> None:
    root = _repo(tmp_path, "alerts: { lag_messages: 0, error_ratio: 2 }", "alerts: { lag_msgs: 5 }")
    with pytest.raises(SpecError) as caught:
        load_environments(root / "configs" / "shop.yaml", root=root)
    shown = [re.sub(r"^.*?configs/", "configs/", str(p)) for p in caught.value.problems]
    assert shown == [
        "configs/shop.yaml:8:11 alerts.lag_messages: 0 is less than the minimum of 1",
        "configs/shop.yaml:8:28 alerts.error_ratio: 2 is greater than the maximum of 1",
        "configs/shop.yaml:12:15 subscribers.billing.alerts.lag_msgs: unknown key 'lag_msgs'; "
        "did you mean 'lag_messages'?",
    ]


def test_committed_alert_files_are_current() -> None:
    assert generate.stale(ROOT, generate.alert_files(ROOT), "alerts", "edakit alerts") == []


def _observability_step(root: Path) -> tuple[int, list[str]]:
    lines: list[str] = []
    step = [s for s in STEPS if s.name.startswith("observability")]
    return validate(root, echo=lines.append, steps=step), lines


@pytest.mark.slow
def test_validate_step_fails_on_a_stale_missing_or_orphaned_file_and_passes_when_current(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["alerts", "--root", str(root)]).exit_code == 0
    assert runner.invoke(main, ["dashboards", "--root", str(root)]).exit_code == 0
    status, lines = _observability_step(root)
    assert status == 0, lines
    assert "  promtool test rules: 3 files, 3 passed" in lines

    spec = root / "configs" / "shop.yaml"
    spec.write_text(spec.read_text().replace("{ lag_seconds: 60 }", "{ lag_seconds: 61 }"))
    (root / "dashboards" / "shop.json").unlink()
    (root / "alerts" / "old.rules.yml").write_text(generate.GENERATED_MARK + " from configs/old.yaml\ngroups: []\n")
    status, lines = _observability_step(root)
    assert status == 1
    assert "  alerts/shop.prod.rules.yml: stale, the spec changed since it was generated; run `edakit alerts`" in lines
    assert not any(line.startswith("  alerts/shop.staging") for line in lines)
    assert "  dashboards/shop.json: missing; run `edakit dashboards`" in lines
    assert "  alerts/old.rules.yml: no spec generates it any more; run `edakit alerts` to remove it" in lines
    check = runner.invoke(main, ["alerts", "--check", "--root", str(root)])
    assert check.exit_code == 1 and "alerts/shop.prod.rules.yml: stale" in check.output

    assert runner.invoke(main, ["alerts", "--root", str(root)]).exit_code == 0
    assert not (root / "alerts" / "old.rules.yml").exists()
    assert runner.invoke(main, ["alerts", "--check", "--root", str(root)]).exit_code == 0


@pytest.mark.slow
def test_validate_step_reports_promtool_failures(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    CliRunner().invoke(main, ["alerts", "--root", str(root)])
    CliRunner().invoke(main, ["dashboards", "--root", str(root)])
    (root / "alerts" / "hand-written.rules.yml").write_text(
        "groups:\n- name: mine\n  rules:\n  - alert: Broken\n    expr: sum(rate(x[5m]) >\n")
    status, lines = _observability_step(root)
    assert status == 1
    assert any("hand-written.rules.yml" in line for line in lines), lines
    assert any(line.startswith("  promtool check rules: 4 files") and "exit 1" in line for line in lines), lines


def test_a_bad_spec_is_exit_2_with_its_location(tmp_path: Path) -> None:
    root = _repo(tmp_path, "alerts: { for_seconds: -1 }")
    result = CliRunner().invoke(main, ["alerts", "--root", str(root)])
    assert result.exit_code == 2
    assert "configs/shop.yaml:8:11 alerts.for_seconds: -1 is less than the minimum of 0" in result.output
    assert "Traceback" not in result.output


def test_promtool_missing_is_a_finding_that_says_how_to_install_it(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("promtool") is None
    ok, lines = generate.promtool(ROOT)
    assert not ok
    assert lines == ["promtool not found: run `make setup` (scripts/setup-system.sh installs Debian's prometheus)"]


def test_event_grid_dead_letters_are_matched_as_the_exporter_labels_them() -> None:
    """`edakit lag serve` reads the dead-letter container (target azblob:<container>) and labels blobs by the event
    subscription, upper case as Event Grid writes the path; the rule must select exactly that series."""
    (_staging, prod) = load_environments(ROOT / "configs" / "order-events-eventgrid.yaml", root=ROOT)
    rule = next(r for r in alerts.subscriber_rules(prod, prod.subscribers["billing"])
                if r.alert == "DeadLetterQueueNotEmpty")
    container = prod.event_grid.dead_letter_container_name
    assert rule.expr == (f'sum by (target, subscription) (edakit_dead_lettered_events{{broker="eventgrid",'
                         f'target="azblob:{container}",subscription="BILLING"}}) > 0')
    assert rule.result_labels == {"target": f"azblob:{container}", "subscription": "BILLING"}


def test_pubsub_dead_letters_are_the_backlog_of_the_modules_dlq_subscription() -> None:
    (_staging, prod) = load_environments(ROOT / "configs" / "order-events-pubsub.yaml", root=ROOT)
    rule = next(r for r in alerts.subscriber_rules(prod, prod.subscribers["billing"])
                if r.alert == "DeadLetterQueueNotEmpty")
    name = f"{prod.channels['order-placed'].resource_name}-billing"
    assert rule.expr == (f'sum by (subscription) (edakit_subscription_backlog_messages{{broker="pubsub",'
                         f'subscription="{name}-dlq"}}) > 0')


def test_runbook_base_makes_absolute_links_in_rules_and_their_tests(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    base = "https://git.example.com/platform/eda-kit/-/blob/main/alerts/README.md"
    result = CliRunner().invoke(main, ["alerts", "--root", str(root), "--runbook-base", base])
    assert result.exit_code == 0, result.output
    rules = (root / "alerts" / "shop.prod.rules.yml").read_text()
    assert f"runbook_url: {base}#consumerlaghigh" in rules and "alerts/README.md#" not in rules.replace(base, "")
    tests = (root / "alerts" / "tests" / "shop.prod.test.yml").read_text()
    assert f"runbook_url: {base}#deadletterqueuenotempty" in tests


@pytest.mark.parametrize(("value", "printed"), [
    (1e6, "1e+06"), (999_999, "999999"), (1_234_567, "1.234567e+06"), (0.0001, "0.0001"), (0.00001, "1e-05"),
    (0.5, "0.5"), (0, "0"), (301, "301"), (123456.5, "123456.5"), (1.5e-7, "1.5e-07"), (-2.5, "-2.5"),
    (2**53, "9.007199254740992e+15")])
def test_value_is_printed_as_go_prints_a_float64(value: float, printed: str) -> None:
    """{{ $value }} in an annotation is Go's %v of a float64 (the expected annotations of the promtool tests)."""
    assert alerts.go_float(value) == printed


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-1e300, max_value=1e300, allow_nan=False).filter(lambda v: v != 0))
def test_go_float_reads_back_as_the_same_number(value: float) -> None:
    assert float(alerts.go_float(value)) == value

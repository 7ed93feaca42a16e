"""Every runbook link the kit hands out lands on a section of alerts/README.md: the generated Prometheus rules'
`runbook_url` anchors and the sections every cloud module's alarms append to its `runbook_url`."""

from __future__ import annotations

import re
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
# how each module names its alarms' sections: locals { runbook = { for section in ["a", "b"] : ... } }
SECTIONS = re.compile(r'runbook\s*=\s*\{\s*for\s+section\s+in\s+\[([^\]]*)\]')


def _anchors() -> set[str]:
    """GitHub's anchors of the README's headings: lower case, spaces to dashes, punctuation dropped."""
    text = (ROOT / "alerts" / "README.md").read_text(encoding="utf-8")
    return {re.sub(r"[^a-z0-9 _-]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
            for line in text.splitlines() if line.startswith("#")}


def module_sections() -> dict[str, list[str]]:
    """Module -> the runbook sections its alarms link, for every module with a `runbook_url` variable."""
    found: dict[str, list[str]] = {}
    for variables in sorted((ROOT / "terraform" / "modules").glob("*/variables.tf")):
        if 'variable "runbook_url"' not in variables.read_text(encoding="utf-8"):
            continue
        module = variables.parent
        sections = [s for tf in sorted(module.glob("*.tf")) for match in SECTIONS.finditer(tf.read_text("utf-8"))
                    for s in re.findall(r'"([^"]+)"', match[1])]
        uses = {s for tf in module.glob("*.tf") for s in re.findall(r"local\.runbook\.(\w+)", tf.read_text("utf-8"))}
        assert uses <= set(sections), f"{module.name}: links sections it does not declare: {uses - set(sections)}"
        found[module.name] = sections
    return found


def test_every_module_alarm_runbook_section_exists() -> None:
    found = module_sections()
    # the modules with alarms, each linking at least one section (a regex that found nothing would pass vacuously)
    assert {"aws-sns-sqs-fanout", "aws-eventbridge-routing", "azure-eventgrid", "gcp-pubsub",
            "aws-saga-stepfunctions"} <= set(found)
    assert all(found.values()), found
    anchors = _anchors()
    missing = {module: [s for s in sections if s not in anchors] for module, sections in found.items()}
    assert not any(missing.values()), f"runbook sections missing from alerts/README.md: {missing}"


def test_every_rule_runbook_anchor_exists() -> None:
    anchors = _anchors()
    seen = 0
    for path in sorted((ROOT / "alerts").glob("*.rules.yml")):
        for group in YAML(typ="safe").load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                anchor = rule["annotations"]["runbook_url"].rsplit("#", 1)[1]
                assert anchor in anchors, f"{path.name}: {rule['alert']} links #{anchor}, not in alerts/README.md"
                seen += 1
    assert seen > 0


def test_the_anchor_check_catches_a_missing_section(tmp_path: Path) -> None:
    """The check is not vacuous: without the DeliveryFailing heading, the modules that link it are reported."""
    text = (ROOT / "alerts" / "README.md").read_text(encoding="utf-8")
    assert "\n### DeliveryFailing\n" in text
    pruned = {a for a in _anchors() if a != "deliveryfailing"}
    linking = [m for m, sections in module_sections().items() if "deliveryfailing" in sections]
    assert sorted(linking) == ["aws-eventbridge-routing", "aws-sns-sqs-fanout", "azure-eventgrid"]
    assert all(any(s not in pruned for s in module_sections()[m]) for m in linking)

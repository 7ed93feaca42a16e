"""`edakit saga ls|show|retry|abort` on a real orchestrator database (SQLite, made by a saga_harness run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edakit.cli import main
from saga_harness import Deployment
from test_engine import saga_yaml


@pytest.fixture
def deployment(tmp_path: Path):
    broken = {"refund": True}

    def behaviour(command):
        if (command.step, command.phase) == ("Ship", "action") and command.input.get("order_id") == "broken":
            return ("fail", "Declined")
        if (command.step, command.phase) == ("Charge", "compensation") and broken["refund"]:
            return ("fail", "RefundRejected")
        if command.input.get("order_id") == "slow" and command.step == "Charge" and command.phase == "action":
            return "silent"
        return "ok"

    d = Deployment(tmp_path, saga_yaml(), behaviour)
    d.ids = {"ok": d.start({"order_id": "ok"}, "s-ok"), "broken": d.start({"order_id": "broken"}, "s-broken")}
    d.pump()
    d.ids["slow"] = d.start({"order_id": "slow"}, "s-slow")
    for _ in range(3):
        d.step_once()
    d.broken = broken
    d.definition = tmp_path / "trial.yaml"
    d.definition.write_text(saga_yaml())
    d.url = f"sqlite:{tmp_path / 'saga.sqlite3'}"
    return d


def run(*args: str):
    return CliRunner().invoke(main, ["saga", *args])


def test_ls_filters_by_state_and_prints_json(deployment) -> None:
    result = run("ls", "--db", deployment.url, "--format", "json")
    assert result.exit_code == 0
    assert {r["saga_id"]: r["state"] for r in json.loads(result.output)} == {
        "s-ok": "Succeeded", "s-broken": "CompensationFailed", "s-slow": "Running"}
    result = run("ls", "--db", deployment.url, "--state", "CompensationFailed", "--format", "json")
    assert [r["saga_id"] for r in json.loads(result.output)] == ["s-broken"]
    table = run("ls", "--db", deployment.url)
    assert "s-broken" in table.output and "CompensationFailed" in table.output


def test_show_prints_the_history(deployment) -> None:
    result = run("show", "--db", deployment.url, "s-broken", "--format", "json")
    status = json.loads(result.output)
    assert status["state"] == "CompensationFailed" and status["pending"] == ["Charge", "Reserve"]
    events = [t["event"] for t in status["history"]]
    assert events[0] == "started" and events[-1] == "ended" and "compensating" in events
    text = run("show", "--db", deployment.url, "s-broken").output
    assert "compensations to run: Charge, Reserve" in text


def test_retry_after_the_fix_ends_the_saga_failed_and_compensated(deployment) -> None:
    deployment.broken["refund"] = False
    result = run("retry", "--db", deployment.url, "--definition", str(deployment.definition), "s-broken",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["state"] == "Compensating"
    deployment.pump()
    assert deployment.state("s-broken") == "Failed", _debug(deployment, "s-broken")


def test_abort_compensates_a_running_saga(deployment) -> None:
    deployment.broken["refund"] = False
    result = run("abort", "--db", deployment.url, "--definition", str(deployment.definition), "s-slow")
    assert result.exit_code == 0, result.output
    deployment.pump()
    assert deployment.state("s-slow") == "Failed"
    assert [e[:3] for e in _debug(deployment, "s-slow") if e[0] == "dispatched"][-2:] == [
        ("dispatched", "Charge", "compensation"), ("dispatched", "Reserve", "compensation")]


@pytest.mark.parametrize(("args", "message"), [
    (("show", "nope"), "error: saga 'nope': no such saga instance in this database"),
    (("retry", "--definition", "{definition}", "s-ok"), "error: saga s-ok is Succeeded; retry applies to "
                                                          "CompensationFailed sagas only"),
    (("abort", "--definition", "{definition}", "s-ok"), "error: saga s-ok is Succeeded; abort applies to Running"),
    (("retry", "--definition", "{definition}", "arn:aws:states:eu-west-1:123456789012:execution:m:e"),
     "is a Step Functions execution: its CompensationFailed end is a Fail state"),
])
def test_bad_ids_and_wrong_states_are_one_line_and_exit_2(deployment, args, message) -> None:
    args = [a.format(definition=deployment.definition) for a in args]
    result = run(args[0], "--db", deployment.url, *args[1:])
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_unreachable_databases_exit_2_with_one_line(tmp_path: Path) -> None:
    result = run("ls", "--db", f"sqlite:{tmp_path / 'missing.sqlite3'}")
    assert result.exit_code == 2 and "does not exist" in result.output
    result = run("ls", "--db", "postgresql://u:secret@127.0.0.1:1/db")
    assert result.exit_code == 2 and "secret" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    empty = tmp_path / "empty.sqlite3"
    import sqlite3
    sqlite3.connect(empty).execute("CREATE TABLE t (x)")
    result = run("ls", "--db", f"sqlite:{empty}")
    assert result.exit_code == 2 and "no saga tables" in result.output


def _debug(d, saga_id):
    from edakit.saga.store import history
    return [(t.event, t.step, t.phase, t.attempt, t.detail.get("error")) for t in history(d.saga_db, saga_id)]

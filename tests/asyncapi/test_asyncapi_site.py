"""The docs page of a spec: every channel, subscriber, message, filter and alert threshold is on it (every config,
parsed offline), and a real headless Chromium renders it without a console message, keeping a screenshot."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from asyncapi_paths import CONFIGS

from edakit.asyncapi.site import write_site
from edakit.spec import load_spec

ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"


class Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.ids |= {v for k, v in attrs if k == "id" and v}

    def handle_data(self, data):
        self.text.append(data)


def read(path: Path) -> Ids:
    parser = Ids()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_channel_subscriber_message_filter_and_threshold_is_on_the_page(path, tmp_path):
    spec = load_spec(path)
    page = read(write_site(path, None, tmp_path / "site.html"))
    text = " ".join(page.text)
    for channel in spec.channels:
        assert f"channel-{channel}" in page.ids
    for event in spec.events:
        assert f"message-{event}" in page.ids
    for sub in spec.subscribers.values():
        assert f"subscriber-{sub.name}" in page.ids
        assert f"{sub.alerts.lag_messages}" in text and f"{sub.alerts.error_ratio}" in text
        if sub.filter is not None and isinstance(sub.filter.policy, dict):
            assert all(key in text for key in sub.filter.policy)
    if spec.channels:
        assert "<svg" in (tmp_path / "site.html").read_text()


def test_chromium_renders_the_page_without_console_messages_and_keeps_a_screenshot(repo_root, tmp_path):
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is installed by scripts/setup-system.sh"
    spec_path = repo_root / "configs/order-events-kafka.yaml"
    spec = load_spec(spec_path, "prod")
    page = write_site(spec_path, "prod", tmp_path / "kafka.html")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "asyncapi-site-order-events-kafka.png"
    shot.unlink(missing_ok=True)
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0", "--window-size=1280,2400",
         f"--screenshot={shot}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    # Chromium logs each console message (errors, CSP violations, failed loads) as a CONSOLE line
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    dom = result.stdout
    for channel in spec.channels:
        assert f'id="channel-{channel}"' in dom
    for sub in spec.subscribers:
        assert f'id="subscriber-{sub}"' in dom
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_site_and_check_commands(repo_root, tmp_path):
    from click.testing import CliRunner

    from edakit.asyncapi.check import ParserUnavailable, validate_documents
    from edakit.cli import main

    out = tmp_path / "page.html"
    result = CliRunner().invoke(main, ["asyncapi", "site", str(repo_root / "configs/order-events-sns.yaml"),
                                       "-o", str(out)])
    assert result.exit_code == 0 and 'id="subscriber-billing"' in out.read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Bad\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["asyncapi", "check", str(bad), "--out", str(tmp_path / "exports")])
    assert result.exit_code == 1 and "bad.yaml" in result.output  # the spec's own problems; no export to parse
    with pytest.raises(ParserUnavailable, match="install-azurite.sh"):
        validate_documents([bad], tmp_path)  # no .edakit-cache/node under this root

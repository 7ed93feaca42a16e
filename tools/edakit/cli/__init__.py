"""The `edakit` command line: one click group, one file per command group, no logic here."""

from __future__ import annotations

import importlib

import click

from edakit import __version__

# command name -> "module:attribute"; each module holds one thin click command or group.
COMMANDS: dict[str, str] = {
    "validate": "edakit.cli.validate:validate",
    "render": "edakit.cli.render:render",
    "spec": "edakit.cli.spec:spec",
    "tf": "edakit.cli.tf:tf",
    "docs": "edakit.cli.docs:docs",
    "schema": "edakit.cli.schema:schema",
    "registry": "edakit.cli.registry:registry",
    "routes": "edakit.cli.routes:routes",
    "lint": "edakit.cli.lint:lint",
    "dlq": "edakit.cli.dlq:dlq",
    "outbox": "edakit.cli.outbox:outbox",
    "lag": "edakit.cli.lag:lag",
    "alerts": "edakit.cli.observability:alerts",
    "dashboards": "edakit.cli.observability:dashboards",
    "saga": "edakit.cli.saga:saga",
    "es": "edakit.cli.es:es",
    "asyncapi": "edakit.cli.asyncapi:asyncapi",
    "diagram": "edakit.cli.diagram:diagram",
    "worker": "edakit.cli.worker:worker",
    "claim-check": "edakit.cli.claimcheck:claim_check",
}


class LazyGroup(click.Group):
    """Imports a command's module only when that command runs (keeps `edakit --help` and start-up fast)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self._load(name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # command group not present in this install
                return None
            raise
        return getattr(module, attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edakit")
def main() -> None:
    """eda-kit: spec -> Terraform, schemas, routes, lint and runtime tools.

    Exit codes: 0 ok, 1 findings, 2 bad input or usage.
    """

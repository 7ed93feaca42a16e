"""`edakit asyncapi export|import|check|site`: the spec as AsyncAPI 3.0, AsyncAPI 2.6/3.0 as a spec, the parser's
verdict on every export, and a browsable HTML page of a spec."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import yaml

from edakit.cli._problems import exit_bad_input, exit_error

MAX_DOCUMENT_BYTES = 4 * 1024 * 1024


@click.group()
def asyncapi() -> None:
    """AsyncAPI in and out: export a spec, import a document, validate exports, build a docs page."""


def _dump(document: dict, as_json: bool) -> str:
    if as_json:
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


@asyncapi.command()
@click.argument("spec_path", metavar="SPEC", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--env", default=None, help="Export this environment resolved [default: every environment].")
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write here [default: stdout]; payload $refs are relative to this file's folder.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of YAML.")
def export(spec_path: Path, env: str | None, out: Path | None, as_json: bool) -> None:
    """Write SPEC as an AsyncAPI 3.0 document. Exit 2 listing every problem of a bad spec."""
    from edakit.asyncapi.export import export_spec
    from edakit.spec import SpecError

    try:
        document = export_spec(spec_path, env, out_dir=(out.parent if out else Path.cwd()).resolve())
    except SpecError as exc:
        exit_bad_input(exc.problems)
    text = _dump(document, as_json)
    if out is None:
        sys.stdout.write(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        click.echo(str(out))


@asyncapi.command(name="import")
@click.argument("doc_path", metavar="DOC", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--broker", type=click.Choice(["kafka", "sqs-sns", "pubsub"]), default=None,
              help="The kit broker to map onto [default: from the servers' protocols].")
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the spec here [default: stdout].")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Repository root: schema paths are relative to it; inline payload schemas are written under "
                   "<root>/schemas/imported/<name>/ [default: the current directory].")
def import_(doc_path: Path, broker: str | None, out: Path | None, root: Path | None) -> None:
    """Turn an AsyncAPI 2.6 or 3.0 DOC into a kit spec. Exit 1 listing every part that does not map (with its
    JSON pointer), 2 for a document that is not AsyncAPI 2.6/3.0."""
    from edakit.asyncapi.importer import ImportError_, import_document
    from edakit.spec.source import read_document

    document, problems = read_document(doc_path, what="AsyncAPI document", max_bytes=MAX_DOCUMENT_BYTES)
    if problems:
        exit_bad_input(problems)
    root = (root or Path.cwd()).resolve()
    try:
        result = import_document(document.data, doc_dir=doc_path.resolve().parent, root=root, broker=broker)
    except ImportError_ as exc:
        exit_error(f"{doc_path}: {exc}")
    for relative, text in result.schemas.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        click.echo(f"wrote {relative}", err=True)
    text = yaml.safe_dump(result.spec, sort_keys=False, allow_unicode=True)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(str(out), err=True)
    for item in result.unmapped:
        click.echo(f"{doc_path}#{item}", err=True)
    if result.unmapped:
        click.echo(f"{len(result.unmapped)} part(s) not mapped", err=True)
        sys.exit(1)


@asyncapi.command()
@click.argument("specs", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Where the exports are written [default: build/asyncapi/].")
def check(specs: tuple[Path, ...], out: Path | None) -> None:
    """Export SPECS [default: configs/*.yaml] and validate them with AsyncAPI's parser. Exit 1 on any problem."""
    from edakit.asyncapi.check import check_exports
    from edakit.spec.loader import repository_root

    paths = list(specs) or sorted(Path("configs").glob("*.yaml"))
    if not paths:
        exit_error("no specs given and none in configs/")
    root = repository_root(paths[0])
    problems = check_exports(paths, root, out)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(1)
    click.echo(f"ok: {len(paths)} AsyncAPI export(s) valid")


@asyncapi.command()
@click.argument("spec_path", metavar="SPEC", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--env", default=None, help="Environment whose overrides apply.")
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The HTML file [default: build/docs-site/<spec file>.html].")
def site(spec_path: Path, env: str | None, out: Path | None) -> None:
    """Write one self-contained HTML page documenting SPEC: diagram, channels, messages, subscribers, filters,
    alert thresholds. Exit 2 listing every problem of a bad spec."""
    from edakit.asyncapi.site import write_site
    from edakit.spec import SpecError
    from edakit.spec.loader import repository_root

    out = out or repository_root(spec_path) / "build" / "docs-site" / f"{spec_path.stem}.html"
    try:
        write_site(spec_path, env, out)
    except SpecError as exc:
        exit_bad_input(exc.problems)
    click.echo(str(out))

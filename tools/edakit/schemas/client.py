"""`edakit schema push` and `edakit schema diff`: the repository's subjects against a registry, over Confluent's
REST API (any Confluent-compatible registry, or `edakit registry serve`)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from edakit.schemas.registry import canonical
from edakit.schemas.repo import Problem, Subject, load_subjects

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


class RegistryHTTPError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        message = body.get("message") if isinstance(body, dict) else body
        super().__init__(f"HTTP {status}: {message}")
        self.status, self.body = status, body


class RegistryClient:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url, self.timeout = url.rstrip("/"), timeout

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method,
                                         headers={"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode(errors="replace")
            raise RegistryHTTPError(exc.code, parsed) from exc

    def versions(self, subject: str) -> list[dict[str, Any]]:
        """Every registered version of a subject ([] when the subject does not exist)."""
        try:
            numbers = self.request("GET", f"/subjects/{quote(subject, safe='')}/versions")
        except RegistryHTTPError as exc:
            if exc.status == 404:
                return []
            raise
        return [self.request("GET", f"/subjects/{quote(subject, safe='')}/versions/{n}") for n in numbers]

    def level(self, subject: str) -> str | None:
        try:
            return self.request("GET", f"/config/{quote(subject, safe='')}").get("compatibilityLevel")
        except RegistryHTTPError as exc:
            if exc.status == 404:  # no subject-level setting
                return None
            raise


@dataclass(frozen=True)
class Pushed:
    subject: str
    version: int  # the repository's v<N>
    schema_id: int | None
    error: str | None = None

    def __str__(self) -> str:
        if self.error:
            return f"{self.subject} v{self.version}: REJECTED {self.error}"
        return f"{self.subject} v{self.version}: id {self.schema_id}"


def _registration(subject: Subject, version: int) -> dict[str, Any]:
    body: dict[str, Any] = {"schema": json.dumps(subject.schema(version))}
    if subject.serialization != "AVRO":
        body["schemaType"] = subject.serialization
    return body


def push(schemas_root: Path, url: str) -> tuple[list[Pushed], list[Problem]]:
    """Set each subject's level, then register its versions oldest first (already registered ones keep their id)."""
    subjects, problems = load_subjects(schemas_root)
    if problems:
        return [], problems
    client = RegistryClient(url)
    results = []
    for subject in subjects:
        name = subject.name
        client.request("PUT", f"/config/{quote(name, safe='')}", {"compatibility": subject.compatibility})
        for version in subject.versions:
            try:
                response = client.request("POST", f"/subjects/{quote(name, safe='')}/versions",
                                          _registration(subject, version))
                results.append(Pushed(name, version, response["id"]))
            except RegistryHTTPError as exc:
                results.append(Pushed(name, version, None, str(exc)))
                break  # later versions build on this one
    return results, []


@dataclass(frozen=True)
class Drift:
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.message}"


def diff(schemas_root: Path, url: str) -> tuple[list[Drift], list[Problem]]:
    """What differs between the repository and the registry, subject by subject (empty: in sync)."""
    subjects, problems = load_subjects(schemas_root)
    if problems:
        return [], problems
    client = RegistryClient(url)
    drifts = []
    for subject in subjects:
        name = subject.name
        registered = client.versions(name)
        if not registered:
            drifts.append(Drift(name, "only in the repository (not registered)"))
            continue
        repo_schemas = [canonical(json.dumps(subject.schema(v))) for v in subject.versions]
        remote = [canonical(v["schema"]) for v in registered]
        for index, (mine, theirs) in enumerate(zip(repo_schemas, remote, strict=False)):
            if mine != theirs:
                drifts.append(Drift(name, f"repository v{subject.versions[index]} differs from registry version "
                                          f"{registered[index]['version']}"))
        for index in range(len(remote), len(repo_schemas)):
            drifts.append(Drift(name, f"repository v{subject.versions[index]} is not registered"))
        for index in range(len(repo_schemas), len(remote)):
            drifts.append(Drift(name, f"registry version {registered[index]['version']} is not in the repository"))
        level = client.level(name)
        if level is not None and level != subject.compatibility:
            drifts.append(Drift(name, f"compatibility is {level} in the registry, {subject.compatibility} in the "
                                      "repository"))
    known = {s.name for s in subjects}
    for name in client.request("GET", "/subjects"):
        if name not in known:
            drifts.append(Drift(name, "only in the registry"))
    return drifts, []

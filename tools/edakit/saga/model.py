"""The saga definition as the generator and the orchestrator read it: validated, defaults applied."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Retry:
    max_attempts: int
    interval_seconds: int
    backoff_rate: float
    errors: tuple[str, ...]


@dataclass(frozen=True)
class Invocation:
    service: str  # lambda | sqs | sns
    resource: str  # ARN of the function, queue or topic
    callback: bool  # the worker answers with the task token
    timeout_seconds: int | None
    heartbeat_seconds: int | None
    retry: Retry


@dataclass(frozen=True)
class Step:
    name: str
    description: str | None
    action: Invocation
    compensation: Invocation | None


@dataclass(frozen=True)
class Saga:
    name: str
    description: str | None
    timeout_seconds: int | None
    steps: tuple[Step, ...]

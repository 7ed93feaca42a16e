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
    channel: str | None = None  # the kit channel of this step's commands (Python engine)
    # When the action itself, failed after its retries, is compensated: "timeout" (it may have had its effect),
    # "failure" (it reported failure). Default ("timeout",): the safe one.
    compensate_on: tuple[str, ...] = ("timeout",)

    def compensates_own(self, kind: str) -> bool:
        """Whether an action that ended in `kind` ("timeout" or "failure") is itself compensated."""
        return self.compensation is not None and kind in self.compensate_on


@dataclass(frozen=True)
class Saga:
    name: str
    description: str | None
    timeout_seconds: int | None
    steps: tuple[Step, ...]
    reply_channel: str = ""  # the kit channel participants answer on (Python engine)

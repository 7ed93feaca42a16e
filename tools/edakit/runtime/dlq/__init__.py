"""Dead-letter queue tooling: inspect, filter, replay to the source keeping the event id, purge."""

from edakit.runtime.dlq.queue import DeadLetter, DeadLetterQueue, Outcome, Selection

__all__ = ["DeadLetter", "DeadLetterQueue", "Outcome", "Selection"]

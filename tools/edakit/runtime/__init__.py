"""Runtime that services import: one message model, broker adapters, and the patterns built on them."""

from edakit.runtime.message import Message, MessageError

__all__ = ["Message", "MessageError"]

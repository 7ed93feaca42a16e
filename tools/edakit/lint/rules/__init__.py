"""Every lint rule; importing this package registers them in `edakit.lint.core.RULES`."""

from edakit.lint import suppressions
from edakit.lint.rules import attributes, delivery, encryption, filters, kafka, naming, replay

__all__ = ["attributes", "delivery", "encryption", "filters", "kafka", "naming", "replay", "suppressions"]

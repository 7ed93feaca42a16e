"""eda-kit: the Event-Driven Architecture Kit."""

__version__ = "0.1.0"

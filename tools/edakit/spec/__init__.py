"""The YAML spec: one file describes a system; `load_spec` turns it into the typed model everything else reads."""

from edakit.spec.errors import Problem, SpecError
from edakit.spec.loader import load_environments, load_spec
from edakit.spec.model import Channel, Event, Location, Spec, Subscriber
from edakit.spec.schema import SCHEMA_PATH, spec_schema

__all__ = [
    "SCHEMA_PATH",
    "Channel",
    "Event",
    "Location",
    "Problem",
    "Spec",
    "SpecError",
    "Subscriber",
    "load_environments",
    "load_spec",
    "spec_schema",
]

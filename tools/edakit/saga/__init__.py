"""Saga definitions: load and validate the YAML (located errors), generate Amazon States Language, and run the same
definition durably on the kit's own brokers (`engine.Orchestrator`, participants with `worker.Participant`)."""

from edakit.spec.errors import Problem

from .asl import render_asl, to_asl
from .check import check_sagas
from .loader import SagaError, load_saga, parse_saga
from .model import Invocation, Retry, Saga, Step

__all__ = [
    "Invocation", "Problem", "Retry", "Saga", "SagaError", "Step",
    "check_sagas", "load_saga", "parse_saga", "render_asl", "to_asl",
]

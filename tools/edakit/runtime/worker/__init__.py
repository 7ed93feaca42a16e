"""`edakit worker run module:app`: a service's subscribers with the spec's middleware chain, probes, metrics, JSON
logs and a drain on SIGTERM (runner.py). `App` (app.py) is what the service's module declares."""

from edakit.runtime.worker.app import App, AppError, Subscription
from edakit.runtime.worker.runner import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_PUSH_PORT, Worker

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "DEFAULT_PUSH_PORT", "App", "AppError", "Subscription", "Worker"]

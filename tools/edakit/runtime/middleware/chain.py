"""Handlers and middlewares: a middleware wraps a handler and returns a handler (Watermill's router model)."""

from __future__ import annotations

from collections.abc import Callable
from functools import reduce

from edakit.runtime.adapters.base import Delivery

Handler = Callable[[Delivery], None]
Middleware = Callable[[Handler], Handler]


def compose(handler: Handler, *middlewares: Middleware) -> Handler:
    """`compose(h, a, b)` runs a(b(h)): the first middleware is the outermost."""
    return reduce(lambda inner, middleware: middleware(inner), reversed(middlewares), handler)

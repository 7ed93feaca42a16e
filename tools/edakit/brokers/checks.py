"""Spec checks of the publish contract: a filter reads only attributes its channel carries, and a native attribute
taken from a header names a declared header."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from edakit.brokers import contract, filter_attributes
from edakit.routing.errors import InvalidFilterError

if TYPE_CHECKING:
    from edakit.spec.errors import Problem
    from edakit.spec.model import Spec
    from edakit.spec.source import Document


def attribute_contract(spec: Spec, doc: Document) -> Iterator[Problem]:
    for channel in spec.channels.values():
        for name, source in channel.native_attributes.items():
            header = source.removeprefix("header.")
            if source.startswith("header.") and header not in channel.attribute_headers:
                yield doc.problem(("channels", channel.name, "attributes", "native", name),
                                  f"native attribute '{name}' takes its value from header '{header}', which "
                                  f"channels.{channel.name}.attributes.headers does not declare")
    for sub in spec.subscribers.values():
        channel = spec.channels.get(sub.channel)
        if sub.filter is None or channel is None:
            continue
        carried = contract(spec, channel.name)
        if carried is None:
            continue
        try:
            read = filter_attributes(channel.broker, sub.filter)
        except InvalidFilterError:
            continue  # a bad filter is reported by the filter validation
        for attribute in sorted(read - carried.names()):
            yield doc.problem(
                ("subscribers", sub.name, "filter", "policy"),
                f"filter of subscriber '{sub.name}' reads message attribute '{attribute}', which channel "
                f"'{channel.name}' never carries (the kit's publisher sets {', '.join(sorted(carried.names()))}); "
                f"declare it in channels.{channel.name}.attributes.native ({attribute}: type | subject | key | source | header.<name> | payload.<field>)")

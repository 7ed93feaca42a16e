"""Attribute budget: a channel whose messages could carry more attributes than its broker delivers breaks filters."""

from __future__ import annotations

from collections.abc import Iterator

from edakit.brokers import budget_problem
from edakit.lint.core import Severity, Target, rule
from edakit.spec.model import Location


@rule("EDA030", "attribute-budget", Severity.ERROR,
      "A message with more attributes than a subscription accepts is refused by the kit's publisher (on SNS, a raw-"
      "delivery SQS subscription would have it discarded): every declared attribute must fit the broker's budget.")
def attribute_budget(target: Target) -> Iterator[tuple[Location, str]]:
    spec = target.spec
    if spec is None:
        return  # the publish contract is in the spec, not in the tfvars
    for name in spec.channels:
        problem = budget_problem(spec, name)
        if problem is not None:
            yield (target.at((), ("channels", name, "attributes"), ("channels", name)),
                   f"channel '{name}': a message with every declared attribute set (CloudEvents context attributes, "
                   f"subject, partitionkey, content-type, traceparent, headers, native attributes and, where the channel "
                   f"offloads, the claim-check size) carries {problem.most}, "
                   f"more than the {problem.budget} {problem.why}: declare fewer headers or native attributes")

"""Naming rules: an event states a fact that happened (OrderPlaced), not an order to do something (PlaceOrder).

The heuristic: split the PascalCase name into words; the last word must read as a past participle, i.e. end in
"ed" (but not be a noun such as Feed or Speed) or be one of a small list of irregular participles (Sent, Paid...).
When the first word is a common imperative verb, the finding suggests the fact form (PlaceOrder -> OrderPlaced).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from edakit.lint.core import Severity, Target, rule
from edakit.spec.model import Location

IRREGULAR_PARTICIPLES = frozenset({
    "Begun", "Bought", "Brought", "Built", "Caught", "Chosen", "Cut", "Done", "Drawn", "Found", "Frozen",
    "Given", "Got", "Gotten", "Grown", "Held", "Kept", "Known", "Left", "Lost", "Made", "Met", "Paid", "Put",
    "Read", "Reset", "Run", "Seen", "Sent", "Set", "Shown", "Sold", "Spent", "Split", "Taken", "Taught",
    "Thrown", "Told", "Withdrawn", "Won", "Written",
})
ED_NOUNS = frozenset({"Bed", "Feed", "Need", "Red", "Seed", "Shed", "Speed"})
# imperative verb -> its participle, for the suggestion
COMMAND_VERBS = {
    "Add": "Added", "Approve": "Approved", "Archive": "Archived", "Assign": "Assigned", "Book": "Booked",
    "Calculate": "Calculated", "Cancel": "Cancelled", "Change": "Changed", "Charge": "Charged", "Close": "Closed",
    "Complete": "Completed", "Confirm": "Confirmed", "Create": "Created", "Delete": "Deleted", "Do": "Done",
    "Generate": "Generated", "Get": "Got", "Handle": "Handled", "Make": "Made", "Notify": "Notified",
    "Open": "Opened", "Pay": "Paid", "Place": "Placed", "Process": "Processed", "Publish": "Published",
    "Refund": "Refunded", "Register": "Registered", "Reject": "Rejected", "Remove": "Removed", "Reserve": "Reserved",
    "Schedule": "Scheduled", "Send": "Sent", "Ship": "Shipped", "Start": "Started", "Stop": "Stopped",
    "Submit": "Submitted", "Update": "Updated", "Validate": "Validated",
}
_WORD = re.compile(r"[A-Z][a-z0-9]*|[a-z0-9]+")


def is_past_participle(word: str) -> bool:
    return word in IRREGULAR_PARTICIPLES or (word.endswith("ed") and len(word) > 3 and word not in ED_NOUNS)


def fact_name_problem(name: str) -> str | None:
    """Why `name` reads as a command rather than a fact, or None when it reads as a fact."""
    words = _WORD.findall(name)
    if not words or is_past_participle(words[-1]):
        return None
    if words[0] in COMMAND_VERBS and len(words) > 1:
        suggestion = "".join(words[1:]) + COMMAND_VERBS[words[0]]
        return f"event '{name}' reads as a command; name the fact that happened, e.g. '{suggestion}'"
    return f"event '{name}' does not end in a past-tense verb; name the fact that happened (e.g. OrderPlaced)"


@rule("EDA017", "event-name-fact", Severity.WARNING,
      "Events record facts (OrderPlaced); a command name (PlaceOrder) invites request/response coupling.")
def event_name_fact(target: Target) -> Iterator[tuple[Location, str]]:
    if target.spec is None:
        return
    for event in target.spec.events.values():
        problem = fact_name_problem(event.name)
        if problem:
            yield target.at((), ("events", event.name)), problem

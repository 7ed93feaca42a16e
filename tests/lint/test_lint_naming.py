"""The past-tense heuristic of EDA017 (event-name-fact)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from edakit.lint.rules.naming import COMMAND_VERBS, IRREGULAR_PARTICIPLES, fact_name_problem

NOUNS = st.sampled_from(["Order", "Payment", "Customer", "Invoice", "Shipment", "Cart", "Item", "Account"])
REGULAR = st.sampled_from(["Placed", "Authorized", "Shipped", "Cancelled", "Created", "Updated", "Failed"])
PARTICIPLES = st.one_of(REGULAR, st.sampled_from(sorted(IRREGULAR_PARTICIPLES)))


@given(st.lists(NOUNS, min_size=1, max_size=3), PARTICIPLES)
def test_facts_pass(nouns: list[str], participle: str) -> None:
    assert fact_name_problem("".join(nouns) + participle) is None


@given(st.sampled_from(sorted(COMMAND_VERBS)), st.lists(NOUNS, min_size=1, max_size=3))
def test_commands_fail_with_the_fact_form_suggested(verb: str, nouns: list[str]) -> None:
    problem = fact_name_problem(verb + "".join(nouns))
    assert problem is not None and "reads as a command" in problem
    assert f"'{''.join(nouns)}{COMMAND_VERBS[verb]}'" in problem
    assert fact_name_problem("".join(nouns) + COMMAND_VERBS[verb]) is None


@given(st.lists(NOUNS, min_size=1, max_size=3), st.sampled_from(["Feed", "Status", "Request", "Speed", "Data"]))
def test_nouns_at_the_end_fail(nouns: list[str], last: str) -> None:
    problem = fact_name_problem("".join(nouns) + last)
    assert problem is not None and "past-tense" in problem

"""Event Grid subscription filters. No third-party conformance file exists, so the cases below are written from
Microsoft's "Understand event filtering for Event Grid subscriptions" (operators, array handling, limits)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edakit.routing import (
    InvalidEventGridFilter,
    eventgrid_filter_matches,
    explain_eventgrid,
    validate_eventgrid_filter,
)

EVENT = {
    "id": "1", "topic": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct",
    "subject": "/blobServices/default/containers/images/blobs/cat.JPG", "eventType": "Microsoft.Storage.BlobCreated",
    "dataVersion": "1", "data": {"api": "PutBlob", "contentLength": 524288, "ratio": 0.25, "isPublic": True,
                                 "tags": ["pets", "cats"], "sizes": [1, 5], "owner": None,
                                 "blob": {"tier": "Hot", "metadata": {"color": "Blue"}}},
}


def advanced(operator: str, key: str, **reference: Any) -> dict[str, Any]:
    return {"advancedFilters": [{"operatorType": operator, "key": key, **reference}]}


@pytest.mark.parametrize(("subscription_filter", "expected"), [
    ({"includedEventTypes": ["Microsoft.Storage.BlobCreated", "Microsoft.Storage.BlobDeleted"]}, True),
    ({"includedEventTypes": ["Microsoft.Storage.BlobDeleted"]}, False),
    ({"subjectBeginsWith": "/blobServices/default/containers/images/"}, True),
    ({"subjectEndsWith": ".jpg"}, True),  # subject filters ignore case by default
    ({"subjectEndsWith": ".jpg", "isSubjectCaseSensitive": True}, False),
    ({"subjectBeginsWith": "/blobServices/default/containers/docs/"}, False),
    (advanced("NumberIn", "data.contentLength", values=[1024, 524288]), True),
    (advanced("NumberNotIn", "data.contentLength", values=[1024, 524288]), False),
    (advanced("NumberLessThan", "data.ratio", value=0.25), False),
    (advanced("NumberLessThanOrEquals", "data.ratio", value=0.25), True),
    (advanced("NumberGreaterThan", "data.contentLength", value=524287), True),
    (advanced("NumberGreaterThanOrEquals", "data.contentLength", value=524289), False),
    (advanced("NumberInRange", "data.ratio", values=[[0, 0.25], [10, 20]]), True),  # ranges are inclusive
    (advanced("NumberNotInRange", "data.ratio", values=[[0.3, 1]]), True),
    (advanced("BoolEquals", "data.isPublic", value=True), True),
    (advanced("BoolEquals", "data.api", value=True), False),
    (advanced("StringIn", "data.api", values=["putblob", "CopyBlob"]), True),  # string matching ignores case
    (advanced("StringNotIn", "data.api", values=["PutBlob"]), False),
    (advanced("StringBeginsWith", "data.blob.tier", values=["co", "ho"]), True),
    (advanced("StringNotBeginsWith", "data.blob.tier", values=["ho"]), False),
    (advanced("StringEndsWith", "subject", values=[".png", ".jpg"]), True),
    (advanced("StringNotEndsWith", "subject", values=[".png"]), True),
    (advanced("StringContains", "data.blob.metadata.color", values=["lu"]), True),
    (advanced("StringNotContains", "data.blob.metadata.color", values=["lu"]), False),
    (advanced("StringIn", "Data.Blob.Tier", values=["hot"]), True),  # keys too, as in Microsoft's "Data.Key1"
    (advanced("IsNullOrUndefined", "data.owner"), True),
    (advanced("IsNullOrUndefined", "data.missing"), True),
    (advanced("IsNullOrUndefined", "data.api"), False),
    (advanced("IsNotNull", "data.owner"), False),
    (advanced("IsNotNull", "data.api"), True),
    # an absent key fails the positive operators and passes the NOT-operators
    (advanced("NumberGreaterThan", "data.missing", value=0), False),
    (advanced("StringNotIn", "data.missing", values=["x"]), True),
    (advanced("StringNotContains", "data.blob.missing.deeper", values=["x"]), True),
    # arrays: without enableAdvancedFilteringOnArrays the match fails (IsNotNull still sees a value)
    (advanced("StringIn", "data.tags", values=["cats"]), False),
    (advanced("StringNotIn", "data.tags", values=["dogs"]), False),
    (advanced("IsNotNull", "data.tags"), True),
    ({**advanced("StringIn", "data.tags", values=["cats"]), "enableAdvancedFilteringOnArrays": True}, True),
    ({**advanced("StringNotIn", "data.tags", values=["cats"]), "enableAdvancedFilteringOnArrays": True}, False),
    ({**advanced("StringNotIn", "data.tags", values=["dogs"]), "enableAdvancedFilteringOnArrays": True}, True),
    ({**advanced("NumberGreaterThan", "data.sizes", value=4), "enableAdvancedFilteringOnArrays": True}, True),
    ({**advanced("NumberNotInRange", "data.sizes", values=[[4, 6]]), "enableAdvancedFilteringOnArrays": True},
     False),
    # all parts are ANDed
    ({"includedEventTypes": ["Microsoft.Storage.BlobCreated"], "subjectEndsWith": ".jpg",
      "advancedFilters": [{"operatorType": "StringIn", "key": "data.api", "values": ["PutBlob"]},
                          {"operatorType": "NumberLessThan", "key": "data.contentLength", "value": 1024}]}, False),
    ({}, True),
])
def test_documented_filter_semantics(subscription_filter: dict[str, Any], expected: bool) -> None:
    assert eventgrid_filter_matches(subscription_filter, EVENT) is expected


def test_cloudevents_schema_uses_type() -> None:
    cloud_event = {"specversion": "1.0", "type": "Contoso.Orders.OrderPlaced", "source": "/orders",
                   "subject": "orders/42", "id": "42", "data": {"total": 12}}
    assert eventgrid_filter_matches({"includedEventTypes": ["Contoso.Orders.OrderPlaced"],
                                     **advanced("NumberGreaterThan", "data.total", value=10)}, cloud_event)


def _filters(n: int, values_each: int = 1) -> dict[str, Any]:
    return {"advancedFilters": [{"operatorType": "StringIn", "key": f"data.k{i}", "values": [f"v{j}" for j in
                                                                                           range(values_each)]}
                                for i in range(n)]}


@pytest.mark.parametrize(("subscription_filter", "error"), [
    (_filters(26), "filter.advancedFilters: 26 advanced filters; Event Grid allows 25"),
    (_filters(13, 2), "filter.advancedFilters: 26 filter values in total; Event Grid allows 25"),
    (advanced("StringIn", "data.k", values=["x" * 513]),
     "filter.advancedFilters[0].values[0]: 513 characters; Event Grid allows 512"),
    (advanced("StringEquals", "data.k", values=["x"]), "filter.advancedFilters[0].operatorType: 'StringEquals' is "
                                                       "not one of"),
    (advanced("NumberGreaterThan", "data.k", values=[1]), "filter.advancedFilters[0].value: NumberGreaterThan needs "
                                                          "a single number"),
    (advanced("BoolEquals", "data.k", value="true"), "filter.advancedFilters[0].value: BoolEquals needs a single "
                                                     "true/false"),
    (advanced("NumberInRange", "data.k", values=[[5, 1]]), "filter.advancedFilters[0].values[0]: expected [low, "
                                                           "high] with low <= high"),
    (advanced("StringIn", "data.k", values=[]), "filter.advancedFilters[0].values: StringIn needs a non-empty list"),
    (advanced("NumberIn", "data.k", values=["1"]), "filter.advancedFilters[0].values[0]: expected a number"),
    (advanced("IsNotNull", "data.k", value=1), "filter.advancedFilters[0]: IsNotNull takes no value"),
    (advanced("StringIn", "data..k", values=["x"]), "filter.advancedFilters[0].key: expected a dot path"),
    ({"subjectBeginsWith": 1}, "filter.subjectBeginsWith: expected a string"),
    ({"isSubjectCaseSensitive": "yes"}, "filter.isSubjectCaseSensitive: expected true or false"),
    ({"includedEventTypes": "a"}, "filter.includedEventTypes: expected a list of event type strings"),
    ({"advancedFilter": []}, "filter.advancedFilter: unknown key"),
])
def test_invalid_filters_name_the_key_and_limit(subscription_filter: dict[str, Any], error: str) -> None:
    with pytest.raises(InvalidEventGridFilter) as raised:
        validate_eventgrid_filter(subscription_filter)
    assert str(raised.value).startswith(error)


def test_limits_are_inclusive() -> None:
    validate_eventgrid_filter(_filters(25))
    validate_eventgrid_filter(advanced("StringIn", "data.k", values=["x" * 512]))


def test_explanation_lists_each_failed_part() -> None:
    subscription_filter = {"includedEventTypes": ["Microsoft.Storage.BlobDeleted"],
                           "advancedFilters": [{"operatorType": "StringIn", "key": "data.api", "values": ["PutBlob"]},
                                               {"operatorType": "NumberLessThan", "key": "data.ratio", "value": 0.1}]}
    assert explain_eventgrid(subscription_filter, EVENT) == [
        "event type 'Microsoft.Storage.BlobCreated' is not in includedEventTypes ['Microsoft.Storage.BlobDeleted']",
        "advancedFilters[1]: data.ratio = 0.25 fails NumberLessThan 0.1",
    ]


NEGATIONS = [("NumberIn", "NumberNotIn", "numbers"), ("NumberInRange", "NumberNotInRange", "ranges"),
             ("StringIn", "StringNotIn", "strings"), ("StringBeginsWith", "StringNotBeginsWith", "strings"),
             ("StringEndsWith", "StringNotEndsWith", "strings"), ("StringContains", "StringNotContains", "strings")]
event_values = st.one_of(st.integers(-3, 3), st.sampled_from(["ab", "AB", "ba", ""]), st.booleans())
references = {"numbers": st.lists(st.integers(-3, 3), min_size=1, max_size=3),
              "strings": st.lists(st.sampled_from(["a", "B", "b"]), min_size=1, max_size=3),
              "ranges": st.lists(st.tuples(st.integers(-3, 0), st.integers(0, 3)).map(list), min_size=1, max_size=2)}


@given(st.sampled_from(NEGATIONS), st.data(), st.one_of(event_values, st.lists(event_values, max_size=3)),
       st.booleans())
def test_not_operators_are_complements_elementwise(pair: tuple[str, str, str], data: st.DataObject, value: Any,
                                                   on_arrays: bool) -> None:
    positive, negative, shape = pair
    reference = data.draw(references[shape])

    def holds(operator: str, actual: Any) -> bool:
        return eventgrid_filter_matches({**advanced(operator, "data.k", values=reference),
                                         "enableAdvancedFilteringOnArrays": on_arrays}, {"data": {"k": actual}})

    if not isinstance(value, list):
        assert holds(negative, value) is not holds(positive, value)
    elif not on_arrays:
        assert (holds(positive, value), holds(negative, value)) == (False, False)
    else:
        # any element for the positive operator, every element for the NOT-operator
        assert holds(positive, value) == any(holds(positive, e) for e in value)
        assert holds(negative, value) == all(holds(negative, e) for e in value)

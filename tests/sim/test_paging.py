"""Paging to the end yields exactly the total with no duplicates, in every
pagination style, at several page sizes including the maximum, for the big
campaign (more than ten pages at the maximum), the empty one and filters."""

import pytest

from simhelpers import MAX_PAGE, get_json, record_key, walk

CONTACT_STATUS = {"altur": "status", "burki": "status", "truedy": "call_status"}


@pytest.fixture(scope="module")
def dumps(sim):
    return {p: sim.dump(p) for p in ("altur", "burki", "truedy", "koreai")}


def check_walk(w, expected, provider, kind):
    assert w.total == len(expected)
    assert len(w.items) == len(expected)
    keys = [record_key(provider, kind, r) for r in w.items]
    if provider != "koreai" or kind != "contacts":
        assert len(set(keys)) == len(keys), "duplicates across pages"
    assert w.items == expected


@pytest.mark.parametrize("provider,sizes", [
    ("altur", [100, 7, 50]),
    ("burki", [1000, 333, 50]),
    ("truedy", [100, 9, 50]),
    ("koreai", [100, 13, 50]),
])
def test_big_campaign_contacts(sim, dumps, provider, sizes):
    camp = dumps[provider]["campaigns"][1]
    for size in sizes:
        w = walk(sim, provider, "contacts", camp["id"], size)
        check_walk(w, camp["contacts"], provider, "contacts")
        if size == MAX_PAGE[(provider, "contacts")]:
            assert w.requests > 10, "campaign #2 spans more than ten maximal pages"


@pytest.mark.parametrize("provider", ["altur", "burki"])
def test_calls_paginate(sim, dumps, provider):
    for camp in dumps[provider]["campaigns"]:
        for size in (100, 1, 40):
            w = walk(sim, provider, "calls", camp["id"], size)
            check_walk(w, camp["calls"], provider, "calls")
    assert walk(sim, provider, "calls", dumps[provider]["campaigns"][1]["id"], 100).requests == 2


@pytest.mark.parametrize("provider", ["altur", "burki", "truedy", "koreai"])
def test_campaign_lists(sim, dumps, provider):
    expected = [c["list_item"] for c in dumps[provider]["campaigns"]]
    for size in (1, 3, MAX_PAGE[(provider, "campaigns")]):
        w = walk(sim, provider, "campaigns", size=size)
        check_walk(w, expected, provider, "campaigns")


@pytest.mark.parametrize("provider", ["altur", "burki", "truedy", "koreai"])
def test_empty_campaign(sim, dumps, provider):
    camp = dumps[provider]["campaigns"][0]
    w = walk(sim, provider, "contacts", camp["id"], 10)
    assert w.total == 0 and w.items == [] and w.requests == 1


def test_altur_total_count_on_first_page_only(sim, dumps):
    camp = dumps["altur"]["campaigns"][1]["id"]
    w = walk(sim, "altur", "contacts", camp, 100)
    assert w.pages[0]["total_count"] == 1003
    assert all("total_count" not in p for p in w.pages[1:])
    first, last = w.pages[0]["pagination"], w.pages[-1]["pagination"]
    assert first["previous_page"] is None and first["has_previous"] is False
    assert last["next_page"] is None and last["has_next"] is False
    assert last["previous_page"] == len(w.pages) - 2
    # calls always carry the total and their own pagination fields
    calls = walk(sim, "altur", "calls", camp, 100)
    assert [p["total_count"] for p in calls.pages] == [150, 150]
    assert [p["pagination"]["page_index"] for p in calls.pages] == [0, 1]


def test_past_the_end(sim, dumps):
    a = dumps["altur"]["campaigns"][2]["id"]
    page = get_json(sim, "altur", "GET", f"/campaigns/{a}/contacts",
                    query={"pageIndex": 25000, "pageSize": 100})
    assert page["contacts"] == [] and page["pagination"]["has_next"] is False
    b = dumps["burki"]["campaigns"][2]["id"]
    page = get_json(sim, "burki", "GET", f"/campaigns/{b}/contacts", query={"page": 99})
    assert page["contacts"] == [] and page["pagination"]["has_next"] is False
    assert page["pagination"]["total_items"] == 25 and page["pagination"]["total_pages"] == 1
    t = dumps["truedy"]["campaigns"][2]["id"]
    page = get_json(sim, "truedy", "GET", f"/batch-calls/{t}/contacts", query={"offset": 500})
    assert page["data"] == [] and page["pagination"]["has_more"] is False


@pytest.mark.parametrize("provider", ["altur", "burki", "truedy"])
def test_status_filter(sim, dumps, provider):
    field = CONTACT_STATUS[provider]
    camp = dumps[provider]["campaigns"][1]
    statuses = sorted({c[field] for c in camp["contacts"]})
    assert len(statuses) >= 3
    for status in statuses:
        expected = [c for c in camp["contacts"] if c[field] == status]
        w = walk(sim, provider, "contacts", camp["id"], 100, status=status)
        assert w.items == expected and w.total == len(expected)


def test_altur_call_filters(sim, dumps):
    camp = dumps["altur"]["campaigns"][1]
    for status in ("ended", "in-progress", "no-answer"):
        w = walk(sim, "altur", "calls", camp["id"], 100, status=status)
        assert w.items == [c for c in camp["calls"] if c["status"] == status]
    page = get_json(sim, "altur", "GET", f"/campaigns/{camp['id']}/calls",
                    query={"answeredBy": "machine", "pageSize": 100})
    assert page["calls"] == [c for c in camp["calls"] if c["answered_by"] == "machine"]
    middle = camp["calls"][75]["created_at"][:19]
    page = get_json(sim, "altur", "GET", f"/campaigns/{camp['id']}/calls",
                    query={"startDate": middle + "Z", "pageSize": 100})
    assert page["total_count"] == len([c for c in camp["calls"] if c["created_at"][:19] >= middle])
    assert 0 < page["total_count"] < 150


def test_burki_campaign_filters(sim, dumps):
    camps = dumps["burki"]["campaigns"]
    page = get_json(sim, "burki", "GET", "/campaigns/", query={"status": "draft"})
    assert page["campaigns"] == [c["list_item"] for c in camps if c["list_item"]["status"] == "draft"]
    page = get_json(sim, "burki", "GET", "/campaigns/", query={"search": "renewal"})
    assert [c["name"] for c in page["campaigns"]] == ["Q4 Renewal Outreach"]


def test_altur_cursor_goes_back(sim, dumps):
    first = get_json(sim, "altur", "GET", "/campaigns", query={"pageSize": 2})
    second = get_json(sim, "altur", "GET", "/campaigns",
                      query={"pageSize": 2, "cursor": first["pagination"]["next_cursor"]})
    assert second["pagination"]["has_previous"] is True
    back = get_json(sim, "altur", "GET", "/campaigns",
                    query={"pageSize": 2, "cursor": second["pagination"]["previous_cursor"]})
    assert back["campaigns"] == first["campaigns"]
    assert first["pagination"]["previous_cursor"] is None

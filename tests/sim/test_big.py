"""--big-contacts N sets the size of campaign #2 of every provider: the dump
and the APIs' totals say N, paging ends after N, and nothing else in the
dataset changes (campaign #2 keeps its first contacts, the other campaigns
are the same, ids stay unique)."""

import json

import pytest

from campaignfs_sim import PROVIDERS, Sim
from conftest import NO_LIMITS
from simhelpers import get_json, record_key, walk

DEFAULT_BIG = {"altur": 1003, "burki": 10007, "truedy": 1003, "koreai": 1003}


@pytest.fixture(scope="module")
def default_dumps(sim):
    return {p: sim.dump(p) for p in PROVIDERS}


@pytest.fixture(scope="module")
def big():
    with Sim("--big-contacts", "2500", *NO_LIMITS) as s:
        yield s


@pytest.fixture(scope="module")
def big_dumps(big):
    return {p: big.dump(p) for p in PROVIDERS}


def test_dump_has_n_contacts(big_dumps):
    for p in PROVIDERS:
        sizes = [len(c["contacts"]) for c in big_dumps[p]["campaigns"]]
        assert sizes == [0, 2500, 25, 25], p


def test_api_totals(big, big_dumps):
    ids = {p: big_dumps[p]["campaigns"][1]["id"] for p in PROVIDERS}
    altur = get_json(big, "altur", "GET", f"/campaigns/{ids['altur']}/contacts")
    assert altur["total_count"] == 2500
    burki = get_json(big, "burki", "GET", f"/campaigns/{ids['burki']}/contacts")
    assert burki["pagination"]["total_items"] == 2500
    assert get_json(big, "burki", "GET", f"/campaigns/{ids['burki']}")["total_contacts"] == 2500
    truedy = get_json(big, "truedy", "GET", f"/batch-calls/{ids['truedy']}/contacts")
    assert truedy["pagination"]["total"] == 2500
    batch = get_json(big, "truedy", "GET", f"/batch-calls/{ids['truedy']}")["data"]
    assert batch["total_contacts"] == 2500
    assert batch["called"] + batch["pending"] == 2500
    acct = big.creds["koreai"]["account_id"]
    kore = get_json(big, "koreai", "POST", f"/campaign/{ids['koreai']}/status",
                    query={"view": "contacts", "accountId": acct}, body={"page": 1, "limit": 100})
    assert kore["data"]["totalResults"] == 2500 and kore["data"]["totalPages"] == 25
    detail = get_json(big, "koreai", "GET", f"/campaign/{ids['koreai']}",
                      query={"accountId": acct})["data"]
    assert detail["totalContacts"] == 2500


def test_altur_paging_ends(big, big_dumps):
    camp = big_dumps["altur"]["campaigns"][1]
    for size, pages in ((100, 25), (7, 358)):
        w = walk(big, "altur", "contacts", camp["id"], size)
        assert w.requests == pages
        assert w.items == camp["contacts"]
        assert w.pages[0]["total_count"] == 2500
        last = w.pages[-1]["pagination"]
        assert last["has_next"] is False and last["next_page"] is None
    # one past the end is empty
    page = get_json(big, "altur", "GET", f"/campaigns/{camp['id']}/contacts",
                    query={"pageIndex": 25, "pageSize": 100})
    assert page["contacts"] == [] and page["pagination"]["has_next"] is False


@pytest.mark.parametrize("provider", ["burki", "truedy", "koreai"])
def test_other_providers_page_to_the_end(big, big_dumps, provider):
    camp = big_dumps[provider]["campaigns"][1]
    w = walk(big, provider, "contacts", camp["id"])
    assert w.total == 2500 and w.items == camp["contacts"]


def test_truedy_calls_follow_contacts(big, big_dumps):
    camp = big_dumps["truedy"]["campaigns"][1]
    named = [c["call_id"] for c in camp["contacts"] if c["call_id"]]
    assert [c["id"] for c in camp["calls"]] == named
    assert len(named) > 1003
    call = get_json(big, "truedy", "GET", f"/calls/{named[-1]}")["data"]
    assert call == camp["calls"][-1]


def test_nothing_else_changes(default_dumps, big_dumps):
    for p in PROVIDERS:
        old, new = default_dumps[p]["campaigns"], big_dumps[p]["campaigns"]
        assert len(old) == len(new)
        for i in (0, 2, 3):
            assert new[i] == old[i], f"{p} campaign #{i + 1}"
        assert new[1]["id"] == old[1]["id"]
        keep = min(2500, DEFAULT_BIG[p])
        assert new[1]["contacts"][:keep] == old[1]["contacts"][:keep], p
        if p in ("altur", "burki"):
            assert len(new[1]["calls"]) == len(old[1]["calls"]) == 150


def contact_ids(dump, provider):
    return [record_key(provider, "contacts", c) for camp in dump["campaigns"]
            for c in camp["contacts"]]


@pytest.mark.parametrize("provider", ["altur", "burki", "truedy"])
def test_contact_ids_stay_unique(big_dumps, provider):
    ids = contact_ids(big_dumps[provider], provider)
    assert len(ids) == 2550 and len(set(ids)) == len(ids)


def test_burki_beyond_its_default(default_dumps):
    """Burki's campaign #2 grown past its 10007: the new contacts get ids of
    their own, the other campaigns keep theirs."""
    with Sim("--big-contacts", "10100", *NO_LIMITS) as s:
        dump = s.dump("burki")
        ids = contact_ids(dump, "burki")
        assert len(ids) == 10150 and len(set(ids)) == len(ids)
        old = default_dumps["burki"]["campaigns"]
        assert dump["campaigns"][2:] == old[2:]
        assert dump["campaigns"][1]["contacts"][:10007] == old[1]["contacts"]
        w = walk(s, "burki", "contacts", dump["campaigns"][1]["id"])
        assert w.requests == 11 and w.items == dump["campaigns"][1]["contacts"]


def test_one_contact():
    with Sim("--big-contacts", "1", "--campaigns", "2", *NO_LIMITS) as s:
        for p in PROVIDERS:
            camps = s.dump(p)["campaigns"]
            assert [len(c["contacts"]) for c in camps] == [0, 1], p
        camp = s.dump("altur")["campaigns"][1]
        w = walk(s, "altur", "contacts", camp["id"], 100)
        assert w.requests == 1 and w.total == 1 and w.items == camp["contacts"]
        assert len(camp["calls"]) == 150
        assert {c["contact"]["id"] for c in camp["calls"]} == {camp["contacts"][0]["id"]}
        k = s.dump("koreai")["campaigns"][1]["id"]
        status, _, body = s.request("koreai", "POST", f"/campaign/{k}/status",
                                    query={"view": "contacts"}, body={"page": 1, "limit": 10})
        assert status == 200 and json.loads(body)["data"]["totalPages"] == 1

"""POST /_sim/advance?n=K moves exactly K open records on (per the dump
diff), reports every record it changed or created, moves the sim clock, and
is deterministic."""

import json

import pytest

from campaignfs_sim import Sim
from conftest import NO_LIMITS
from simhelpers import get_json, walk

PROVIDERS = ("altur", "burki", "truedy", "koreai")
CALL_ID = {"altur": "id", "burki": "execution_id", "truedy": "id"}


def contact_id(provider, rec):
    if provider == "truedy":
        return rec.get("contact_id", rec.get("id"))
    return str(rec["id"])


def diff(before, after):
    """-> (changed, created): sets of (provider, kind, campaign, id-or-index)."""
    changed, created = set(), set()
    for p in PROVIDERS:
        for cb, ca in zip(before[p]["campaigns"], after[p]["campaigns"]):
            assert cb["id"] == ca["id"]
            assert cb["list_item"] == ca["list_item"] and cb["detail"] == ca["detail"]
            assert len(cb["contacts"]) == len(ca["contacts"])
            for i, (x, y) in enumerate(zip(cb["contacts"], ca["contacts"])):
                if x != y:
                    ident = i if p == "koreai" else contact_id(p, x)
                    changed.add((p, "contact", cb["id"], ident))
            if p == "koreai":
                continue
            old = {c[CALL_ID[p]]: c for c in cb["calls"]}
            new = {c[CALL_ID[p]]: c for c in ca["calls"]}
            assert set(old) <= set(new)
            for k, v in new.items():
                if k not in old:
                    created.add((p, "call", cb["id"], k))
                elif old[k] != v:
                    changed.add((p, "call", cb["id"], k))
    return changed, created


def reported(report):
    changed, created = set(), set()
    for e in report["changed"]:
        ident = e["index"] if e["provider"] == "koreai" else e["id"]
        key = (e["provider"], e["kind"], e["campaign"], ident)
        (created if e["action"] == "created" else changed).add(key)
    return changed, created


def dumps(sim):
    return {p: sim.dump(p) for p in PROVIDERS}


@pytest.mark.parametrize("k", [1, 12, 60])
def test_advance_changes_exactly_k(fresh_sim, k):
    before = dumps(fresh_sim)
    report = fresh_sim.advance(k)
    after = dumps(fresh_sim)
    changed, created = diff(before, after)
    assert report["advanced"] == k
    assert len(changed) == k
    assert (changed, created) == reported(report)
    assert len(report["changed"]) == k + len(created)


def test_advance_touches_every_provider_and_moves_the_clock(fresh_sim):
    ts0 = get_json(fresh_sim, "truedy", "GET", "/batch-calls")["meta"]["ts"]
    report = fresh_sim.advance(40)
    assert {e["provider"] for e in report["changed"]} == set(PROVIDERS)
    ts1 = get_json(fresh_sim, "truedy", "GET", "/batch-calls")["meta"]["ts"]
    assert ts1 > ts0 and ts1[:19] == report["now"][:19]
    # Kore.ai reports carry the contact's identity fields and its position
    k = next(e for e in report["changed"] if e["provider"] == "koreai")
    camp = next(c for c in fresh_sim.dump("koreai")["campaigns"] if c["id"] == k["campaign"])
    rec = camp["contacts"][k["index"]]
    assert (rec["phoneNumber"], rec["uniqueId"]) == (k["phoneNumber"], k["uniqueId"])


def test_new_timestamps_are_the_newest(fresh_sim):
    before = dumps(fresh_sim)
    report = fresh_sim.advance(30)
    now = report["now"][:19]
    assert now > max_stamp(before)
    after = dumps(fresh_sim)
    assert max_stamp(after) <= now
    burki = [e for e in report["changed"] if e["provider"] == "burki" and e["kind"] == "contact"]
    for e in burki:
        camp = next(c for c in after["burki"]["campaigns"] if c["id"] == e["campaign"])
        rec = next(c for c in camp["contacts"] if str(c["id"]) == e["id"])
        assert rec["last_attempt_at"][:19] == now


def max_stamp(d):
    import re
    stamps = re.findall(r'"(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d)', json.dumps(d))
    return max(s.replace(" ", "T") for s in stamps)


def test_truedy_created_calls_are_served(fresh_sim):
    for _ in range(10):
        report = fresh_sim.advance(20)
        created = [e for e in report["changed"] if e["action"] == "created"]
        if created:
            break
    assert created, "advancing pending Truedy contacts creates their calls"
    for e in created:
        body = get_json(fresh_sim, "truedy", "GET", f"/calls/{e['id']}")
        assert body["data"]["id"] == e["id"]
        assert body["data"]["metadata"]["campaign_id"] == e["campaign"]
        assert body["data"]["transcript"] is None
        contacts = walk(fresh_sim, "truedy", "contacts", e["campaign"]).items
        assert sum(c["call_id"] == e["id"] for c in contacts) == 1


def test_advance_is_deterministic():
    reports = []
    for _ in range(2):
        with Sim(*NO_LIMITS, seed=3) as s:
            reports.append([s.advance(15), s.advance(5)])
            reports[-1].append(s.dump("burki"))
    assert reports[0] == reports[1]


def test_advance_bounds(fresh_sim):
    before = dumps(fresh_sim)
    assert fresh_sim.advance(0)["advanced"] == 0
    assert dumps(fresh_sim) == before
    for bad in ("-1", "x", "2000000"):
        status, _, body = fresh_sim.raw("POST", f"/_sim/advance?n={bad}")
        assert status == 400 and "error" in json.loads(body)
    status, _, _ = fresh_sim.raw("GET", "/_sim/advance?n=1")
    assert status == 405


def test_advance_everything_runs_out(make_sim):
    s = make_sim("--campaigns", "3", "--contacts", "2", "--calls", "1", *NO_LIMITS)
    total = 0
    for _ in range(100):
        r = s.advance(100000)
        total += r["advanced"]
        if r["advanced"] == 0:
            break
    assert r["advanced"] == 0 and total > 0

"""--faults: each kind observable at probability 1, in each provider's own
format; never on /_sim/; the same seed gives the same fault sequence."""

import http.client
import json
import re
import time

import pytest

from campaignfs_sim import Sim
from conftest import NO_LIMITS
from simhelpers import PROBES as REQUESTS
from simhelpers import probe as ask


def test_5xx(make_sim):
    s = make_sim("--faults", "5xx=1", *NO_LIMITS)
    seen = set()
    for _ in range(5):
        for p in REQUESTS:
            status, _, body = ask(s, p)
            assert status in (500, 503)
            seen.add(status)
            err = json.loads(body)
            if p == "altur":
                assert err["error"] == status and err["message"]
            elif p == "burki":
                assert isinstance(err["detail"], str)
            elif p == "truedy":
                assert err["error"]["code"] in ("internal_error", "service_unavailable")
                assert "meta" in err
            else:
                assert err["status"] == "failure" and err["errors"][0]["code"] == status
    assert seen == {500, 503}
    # never on /_sim/
    assert s.stats()["total_requests"] == 20
    assert s.dump("altur")["campaigns"]
    assert s.advance(1)["advanced"] == 1


def test_429(make_sim):
    s = make_sim("--faults", "429=1", *NO_LIMITS)
    status, headers, body = ask(s, "altur")
    assert status == 429 and json.loads(body)["error"] == 429
    status, headers, body = ask(s, "burki")
    assert status == 429 and headers["Retry-After"].isdigit()
    assert json.loads(body) == {"detail": "Rate limit exceeded"}
    status, headers, body = ask(s, "truedy")
    assert status == 429 and headers.get("Retry-After") is None
    assert "reset_at" in json.loads(body)["error"]["details"]
    status, headers, body = ask(s, "koreai")
    assert status == 429 and json.loads(body)["status"] == "failure"


def test_reset(make_sim):
    s = make_sim("--faults", "reset=1", *NO_LIMITS)
    for p in REQUESTS:
        with pytest.raises((http.client.IncompleteRead, http.client.RemoteDisconnected,
                            ConnectionError)):
            ask(s, p)
    assert s.stats()["total_requests"] == 4


def test_truncate(make_sim):
    clean = make_sim(*NO_LIMITS)
    s = make_sim("--faults", "truncate=1", *NO_LIMITS)
    for p in REQUESTS:
        good = ask(clean, p)[2]
        status, headers, body = ask(s, p)
        assert status == 200
        assert int(headers["Content-Length"]) == len(body)
        assert 0 < len(body) < len(good)
        if p != "truedy":  # Truedy's meta.request_id differs per request number
            assert good.startswith(body)
        with pytest.raises(ValueError):
            json.loads(body)


def test_malformed(make_sim):
    s = make_sim("--faults", "malformed=1", *NO_LIMITS)
    for p in REQUESTS:
        status, headers, body = ask(s, p)
        assert status == 200 and headers["Content-Type"] == "application/json"
        with pytest.raises(ValueError):
            json.loads(body)


def test_slow(make_sim):
    s = make_sim("--faults", "slow=1", "--slow-ms", "300", *NO_LIMITS)
    t0 = time.monotonic()
    status, _, body = ask(s, "altur")
    assert status == 200 and json.loads(body)["total_count"] == 4
    assert time.monotonic() - t0 >= 0.3
    t0 = time.monotonic()
    s.stats()  # never slowed
    assert time.monotonic() - t0 < 0.3


def sequence(sim, n=40):
    out = []
    for i in range(n):
        p = list(REQUESTS)[i % 4]
        try:
            status, _, body = ask(sim, p)
        except (http.client.HTTPException, ConnectionError) as e:
            status, body = type(e).__name__, b""
        # reset_at is wall-clock time (when a retry will be accepted)
        out.append((status, re.sub(rb'"reset_at":"[^"]*"', b'"reset_at":""', body)))
    return out


MIX = ("--faults", "5xx=0.2,429=0.15,truncate=0.15,malformed=0.1,reset=0.1", *NO_LIMITS)


def test_same_seed_same_faults(make_sim):
    a = sequence(make_sim(*MIX, seed=5))
    b = sequence(make_sim(*MIX, seed=5))
    assert a == b
    kinds = {s for s, _ in a}
    assert 200 in kinds and len(kinds) >= 3
    c = sequence(make_sim(*MIX, seed=6))
    assert [s for s, _ in c] != [s for s, _ in a]


def test_probability_is_respected(make_sim):
    s = make_sim("--faults", "5xx=0.5", *NO_LIMITS)
    codes = [ask(s, "burki")[0] for _ in range(100)]
    assert 25 <= sum(c >= 500 for c in codes) <= 75
    assert set(codes) <= {200, 500, 503}


def test_faults_changed_at_run_time(make_sim):
    """POST /_sim/faults: the next `after` API requests are clean, then the spec
    applies; an empty spec ends it.  Control requests never count."""
    s = make_sim(*NO_LIMITS)
    assert ask(s, "burki")[0] == 200
    assert s.set_faults("5xx=1", after=2) == {"spec": "5xx=1", "after": 2, "retry_after": 1}
    assert [ask(s, "burki")[0] for _ in range(2)] == [200, 200]
    assert all(ask(s, p)[0] in (500, 503) for p in REQUESTS)
    s.set_faults("")
    assert all(ask(s, p)[0] == 200 for p in REQUESTS)
    status, _, body = s.raw("POST", "/_sim/faults?spec=bogus=1")
    assert status == 400 and b"unknown fault" in body
    status, _, body = s.raw("POST", "/_sim/faults?spec=5xx=1&after=-1")
    assert status == 400
    assert ask(s, "altur")[0] == 200  # a refused change changes nothing


def test_overlap_shifts_later_pages_like_an_insertion(make_sim):
    """overlap=1 after the first page: every later page starts one record
    early, so paging to the end repeats exactly one record and misses none."""
    s = make_sim(*NO_LIMITS)
    big = max(s.dump("altur")["campaigns"], key=lambda c: len(c["contacts"]))
    want = [r["id"] for r in big["contacts"]]
    s.set_faults("overlap=1", after=1)
    got, index = [], 0
    while True:
        page = s.json("altur", "GET", f"/campaigns/{big['id']}/contacts",
                      query={"pageIndex": index, "pageSize": 100})
        got += [r["id"] for r in page["contacts"]]
        if not page["pagination"]["has_next"]:
            break
        index += 1
    assert len(got) == len(want) + 1
    assert sorted(set(got)) == sorted(want)
    assert got.count(want[99]) == 2  # the last record of the first page, again

"""GET /_sim/requests: every API request (never /_sim/ ones) in arrival
order with its monotonic arrival and answer times, provider, method, path
and query as sent, status, fault served, credential key and the wait a 429
asked for; since/next paging; a bounded ring (--request-log)."""

import json
import socket
import threading
import time

import pytest

from conftest import NO_LIMITS
from simhelpers import wait_for

FIELDS = ["seq", "t_ms", "done_ms", "provider", "method", "path", "status", "fault",
          "override", "key", "retry_after", "reset_at", "not_before_ms"]



def test_entries(fresh_sim):
    s = fresh_sim
    t0 = time.monotonic() * 1000
    s.request("altur", "GET", "/campaigns", query={"pageSize": 2})
    s.stats()
    s.dump("altur")
    s.request("burki", "GET", "/campaigns", auth=False)
    s.request("koreai", "POST", "/campaign/getAllCampaignDetails", body={"type": "voice"})
    s.raw("GET", "/nowhere?x=1")
    t1 = time.monotonic() * 1000
    log = s.requests()
    assert list(log) == ["requests", "next", "oldest"]
    assert log["next"] == 4 and log["oldest"] == 0
    reqs = log["requests"]
    assert [list(r) for r in reqs] == [FIELDS] * 4
    assert [r["seq"] for r in reqs] == [0, 1, 2, 3]
    assert [(r["provider"], r["method"], r["path"], r["status"]) for r in reqs] == [
        ("altur", "GET", "/api/v1.0/campaigns?pageSize=2", 200),
        ("burki", "GET", "/api/v1/campaigns", 307),
        ("koreai", "POST", "/campaign/api/v2/public/"
         f"{s.creds['koreai']['stream_id']}/campaign/getAllCampaignDetails", 200),
        (None, "GET", "/nowhere?x=1", 404),
    ]
    assert [r["key"] for r in reqs] == [s.key_of("altur"), None, s.key_of("koreai"), None]
    prev = t0
    for r in reqs:
        assert prev <= r["t_ms"] <= r["done_ms"] <= t1
        prev = r["t_ms"]
        assert r["fault"] is None and r["override"] is False
        assert r["retry_after"] is None and r["reset_at"] is None and r["not_before_ms"] is None
    # since / next / limit
    assert s.requests(since=2)["requests"] == reqs[2:]
    assert s.requests(since=4) == {"requests": [], "next": 4, "oldest": 0}
    assert s.requests(since=99)["next"] == 4
    part = s.requests(since=1, limit=2)
    assert [r["seq"] for r in part["requests"]] == [1, 2] and part["next"] == 3


def test_keys(fresh_sim):
    s = fresh_sim
    s.request("truedy", "GET", "/batch-calls")
    s.request("truedy", "GET", "/batch-calls", headers={"Authorization": "Bearer truedy_other"})
    s.request("altur", "GET", "/campaigns", headers={"Authorization": "API-KEY " +
                                                     s.creds["altur"]["api_key"]})
    acct = s.creds["koreai"]["account_id"]
    s.request("koreai", "GET", "/campaign/x", query={"accountId": acct},
              headers={"accountId": None})
    keys = [r["key"] for r in s.requests()["requests"]]
    assert keys[0] == s.key_of("truedy") and len(keys[0]) == 8
    assert keys[1] not in (None, keys[0])
    assert keys[2] == s.key_of("altur")  # the scheme is not part of the key
    assert keys[3] == s.key_of("koreai")  # accountId from the query
    assert len(set(s.key_of(p) for p in ("altur", "burki", "truedy", "koreai"))) == 4
    # the key names the credential without giving it away
    assert all(s.creds[p].get("api_key", "").find(k) < 0 for p, k in
               (("altur", keys[2]), ("truedy", keys[0])))


def test_faults_and_waits(make_sim):
    s = make_sim("--faults", "429=1", "--retry-after", "2", *NO_LIMITS)
    s.request("altur", "GET", "/campaigns")
    s.request("truedy", "GET", "/batch-calls")
    s.request("koreai", "POST", "/campaign/getAllCampaignDetails", body={})
    a, t, k = s.requests()["requests"]
    assert (a["status"], a["fault"], a["retry_after"], a["reset_at"]) == (429, "429", 2, None)
    assert a["not_before_ms"] == pytest.approx(a["done_ms"] + 2000, abs=0.01)
    assert (t["status"], t["fault"], t["retry_after"]) == (429, "429", None)
    assert t["reset_at"] >= int(time.time()) + 1
    assert 2000 <= t["not_before_ms"] - t["done_ms"] <= 3100  # whole seconds, rounded up
    assert (k["status"], k["fault"], k["retry_after"], k["not_before_ms"]) == (429, "429", None,
                                                                             None)


def test_a_client_honouring_retry_after(make_sim):
    """What a mount test asserts: after a 429 with Retry-After: 2, no
    request of that account arrived for 2 s."""
    s = make_sim("--faults", "429=1", "--retry-after", "2", *NO_LIMITS)
    s.set_faults("429=1", after=1)
    s.request("burki", "GET", "/campaigns/")
    status, headers, _ = s.request("burki", "GET", "/campaigns/")
    assert status == 429
    time.sleep(int(headers["Retry-After"]))
    s.set_faults("")
    assert s.request("burki", "GET", "/campaigns/")[0] == 200
    reqs = [r for r in s.requests()["requests"] if r["key"] == s.key_of("burki")]
    assert [r["status"] for r in reqs] == [200, 429, 200]
    throttled = reqs[1]
    later = [r for r in reqs if r["seq"] > throttled["seq"]]
    assert all(r["t_ms"] >= throttled["not_before_ms"] - 50 for r in later)


def test_request_in_progress_then_done(make_sim):
    s = make_sim(*NO_LIMITS)
    s.hold("/batch-calls")
    result = []
    th = threading.Thread(target=lambda: result.append(s.request("truedy", "GET",
                                                                 "/batch-calls")[0]))
    th.start()
    wait_for(lambda: s.stats()["held"] == 1, "the held request")
    (r,) = s.requests()["requests"]
    assert r["done_ms"] is None and r["status"] is None and r["path"] == \
        "/api/public/v1/batch-calls"
    s.release()
    th.join(30)
    assert result == [200]
    (r,) = s.requests()["requests"]
    assert r["status"] == 200 and r["done_ms"] >= r["t_ms"]


def test_ring_is_bounded(make_sim):
    s = make_sim("--request-log", "5", *NO_LIMITS)
    for i in range(8):
        s.request("altur", "GET", "/campaigns", query={"pageSize": i + 1})
    log = s.requests()
    assert log["oldest"] == 3 and log["next"] == 8
    assert [r["seq"] for r in log["requests"]] == [3, 4, 5, 6, 7]
    assert log["requests"][0]["path"].endswith("pageSize=4")
    assert s.requests(since=6)["requests"][0]["seq"] == 6
    off = make_sim("--request-log", "0", *NO_LIMITS)
    off.request("altur", "GET", "/campaigns")
    assert off.requests() == {"requests": [], "next": 1, "oldest": 1}


def test_odd_bytes_in_the_path_are_escaped(fresh_sim):
    s = fresh_sim
    with socket.create_connection(("127.0.0.1", s.port), timeout=10) as c:
        c.sendall(b"GET /api/v1.0/caf\xc3\xa9\x01?q=\xff HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
        while c.recv(65536):
            pass
    (r,) = s.requests()["requests"]
    assert r["path"] == "/api/v1.0/caf%C3%A9%01?q=%FF"
    json.dumps(r)


def test_bad_parameters(sim):
    assert sim.raw("GET", "/_sim/requests?since=-1")[0] == 400
    assert sim.raw("GET", "/_sim/requests?since=x")[0] == 400
    assert sim.raw("GET", "/_sim/requests?limit=0")[0] == 400
    assert sim.raw("POST", "/_sim/requests")[0] == 405

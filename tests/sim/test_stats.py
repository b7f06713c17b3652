"""GET /_sim/stats counts every API request answered (faults, 401, 404, 429
included) per provider and endpoint template; /_sim/ is never counted;
POST /_sim/reset-stats zeroes the counters.  Per provider, in_flight and
max_in_flight count the requests being answered at once (latency and holds
included)."""

import json
import threading
import time

from conftest import NO_LIMITS


def endpoints(stats, provider):
    return {k: v for k, v in stats["providers"][provider]["endpoints"].items() if v}


def test_counts_and_reset(fresh_sim):
    s = fresh_sim
    a = s.dump("altur")["campaigns"][1]["id"]
    k = s.dump("koreai")["campaigns"][1]["id"]
    s.reset_stats()
    for _ in range(3):
        s.request("altur", "GET", "/campaigns")
    s.request("altur", "GET", f"/campaigns/{a}/contacts")
    s.request("altur", "GET", f"/campaigns/{a}/contacts", auth=False)      # 401
    s.request("altur", "GET", "/campaigns/1/contacts")                     # 404
    s.request("altur", "GET", f"/campaigns/{a}/contacts", query={"pageSize": 0})  # 400
    s.request("altur", "GET", "/no/such/thing")                            # unmatched
    s.request("burki", "GET", "/campaigns", auth=False)                    # 307
    s.request("burki", "GET", "/campaigns/")
    s.request("truedy", "GET", "/calls/call_x")
    s.request("koreai", "POST", f"/campaign/{k}/status", query={"view": "contacts"},
              body={"page": 1})
    s.request("koreai", "GET", f"/campaign/{k}")
    s.raw("GET", "/elsewhere")                                             # no provider
    for _ in range(3):
        s.stats()
        s.dump("truedy")
    s.advance(1)
    st = s.stats()
    assert st["total_requests"] == 14
    assert st["unrouted"] == 1
    assert endpoints(st, "altur") == {"GET /campaigns": 3, "GET /campaigns/{id}/contacts": 4,
                                      "(unmatched)": 1}
    assert st["providers"]["altur"]["requests"] == 8
    assert endpoints(st, "burki") == {"GET /campaigns": 1, "GET /campaigns/": 1}
    assert endpoints(st, "truedy") == {"GET /calls/{id}": 1}
    assert endpoints(st, "koreai") == {"POST /campaign/{campaignId}/status": 1,
                                       "GET /campaign/{campaignId}": 1}
    # every endpoint is listed, used or not
    assert st["providers"]["altur"]["endpoints"]["GET /call/{id}"] == 0
    assert set(st["providers"]["koreai"]["endpoints"]) >= {"POST /campaign/getAllCampaignDetails"}
    assert s.reset_stats() == {"reset": True}
    st = s.stats()
    assert st["total_requests"] == 0
    assert all(p["requests"] == 0 for p in st["providers"].values())


def test_faulted_and_throttled_answers_count(make_sim):
    s = make_sim("--faults", "5xx=1", *NO_LIMITS)
    for _ in range(4):
        assert s.request("truedy", "GET", "/batch-calls")[0] in (500, 503)
    assert s.stats()["providers"]["truedy"]["endpoints"]["GET /batch-calls"] == 4
    t = make_sim("--rate-limit", "truedy=2/min")
    codes = [t.request("truedy", "GET", "/batch-calls")[0] for _ in range(5)]
    assert codes == [200, 200, 429, 429, 429]
    assert t.stats()["total_requests"] == 5


def test_control_errors(sim):
    status, _, body = sim.raw("GET", "/_sim/nothing")
    assert status == 404 and "error" in json.loads(body)
    assert sim.raw("POST", "/_sim/stats")[0] == 405
    assert sim.raw("GET", "/_sim/reset-stats")[0] == 405
    status, _, body = sim.raw("GET", "/_sim/dump?provider=acme")
    assert status == 400
    assert sim.raw("GET", "/_sim/dump")[0] == 400


# ---- in flight ----

def flight(stats, provider):
    p = stats["providers"][provider]
    return p["in_flight"], p["max_in_flight"]


def wait_for(cond, what, timeout=20):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def parallel(n, fn):
    """Runs fn() in n threads started together; returns the threads (running)."""
    barrier = threading.Barrier(n)
    results = []

    def run():
        barrier.wait()
        results.append(fn())

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    return threads, results


def test_in_flight_counts_parallel_requests(make_sim):
    n = 8
    s = make_sim("--latency-ms", "2000", *NO_LIMITS)
    assert flight(s.stats(), "burki") == (0, 0)
    # started together, all n wait out the latency at the same time
    threads, results = parallel(n, lambda: s.request("burki", "GET", "/campaigns/")[0])
    for t in threads:
        t.join(timeout=60)
    assert results == [200] * n
    st = s.stats()
    assert flight(st, "burki") == (0, n)
    for p in ("altur", "truedy", "koreai"):
        assert flight(st, p) == (0, 0), p
    # another provider's requests are counted on their own
    threads, results = parallel(3, lambda: s.request("altur", "GET", "/campaigns")[0])
    for t in threads:
        t.join(timeout=60)
    assert results == [200] * 3
    assert flight(s.stats(), "altur") == (0, 3)
    assert flight(s.stats(), "burki") == (0, n)


def test_sequential_requests_and_reset(make_sim):
    s = make_sim("--latency-ms", "20", *NO_LIMITS)
    s.reset_stats()
    for _ in range(5):
        s.request("truedy", "GET", "/batch-calls")
        s.request("truedy", "GET", "/no/such/endpoint")   # counted too: routed to Truedy
        s.request("truedy", "GET", "/batch-calls", auth=False)  # and its 401
    assert flight(s.stats(), "truedy") == (0, 1)
    assert s.stats()["providers"]["truedy"]["requests"] == 15
    s.reset_stats()
    assert flight(s.stats(), "truedy") == (0, 0)


def test_reset_keeps_what_is_in_flight(make_sim):
    s = make_sim(*NO_LIMITS)
    s.hold("/batch-calls")
    threads, results = parallel(2, lambda: s.request("truedy", "GET", "/batch-calls")[0])
    wait_for(lambda: s.stats()["held"] == 2, "two held requests")
    assert flight(s.stats(), "truedy") == (2, 2)
    # reset-stats: the maximum becomes what is in flight now, not 0
    s.reset_stats()
    assert flight(s.stats(), "truedy") == (2, 2)
    assert s.release() == {"released": 2}
    for t in threads:
        t.join(timeout=30)
    assert results == [200, 200]
    assert flight(s.stats(), "truedy") == (0, 2)
    s.reset_stats()
    assert flight(s.stats(), "truedy") == (0, 0)

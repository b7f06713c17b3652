"""POST /_sim/hold?match=TEXT[&count=K] holds API requests whose "METHOD
/path?query[ body]" contains TEXT until POST /_sim/release[?match=TEXT];
held requests show in /_sim/stats (held, in_flight), other requests go on
meanwhile, and SIGINT/SIGTERM still end the simulator at once with exit 0."""

import json
import signal
import threading
import time

import pytest

from conftest import NO_LIMITS

HELD_JOIN = 1.0  # how long a held request is given to (wrongly) answer


class Call:
    """One API request in a thread of its own."""

    def __init__(self, sim, *args, **kw):
        self.result = None
        self.error = None
        self.thread = threading.Thread(target=self._run, args=(sim, args, kw), daemon=True)
        self.thread.start()

    def _run(self, sim, args, kw):
        try:
            self.result = sim.request(*args, **kw)
        except Exception as e:  # the connection closed at shutdown, for one
            self.error = e

    def answered_within(self, timeout):
        self.thread.join(timeout)
        return not self.thread.is_alive()


def wait_held(sim, n, timeout=20):
    deadline = time.monotonic() + timeout
    while sim.stats()["held"] != n:
        assert time.monotonic() < deadline, f"not {n} held: {sim.stats()['held']}"
        time.sleep(0.02)


def altur_page(sim, campaign, index):
    return sim.request("altur", "GET", f"/campaigns/{campaign}/contacts",
                       query={"pageIndex": index, "pageSize": 100})


@pytest.fixture
def s(make_sim):
    return make_sim(*NO_LIMITS)


def test_held_until_release(s):
    camp = s.dump("altur")["campaigns"][1]["id"]
    want = altur_page(s, camp, 3)
    assert want[0] == 200
    assert s.hold("pageIndex=3") == {"hold": "pageIndex=3", "count": None}
    call = Call(s, "altur", "GET", f"/campaigns/{camp}/contacts",
                query={"pageIndex": 3, "pageSize": 100})
    assert not call.answered_within(HELD_JOIN)
    wait_held(s, 1)
    st = s.stats()
    assert st["held"] == 1
    assert st["providers"]["altur"]["in_flight"] == 1
    # the rest of the API, other pages and the control endpoints still answer
    assert altur_page(s, camp, 2)[0] == 200
    assert s.request("burki", "GET", "/campaigns/")[0] == 200
    assert s.request("truedy", "GET", "/batch-calls")[0] == 200
    assert s.advance(1)["advanced"] == 1
    assert len(s.dump("altur")["campaigns"]) == 4
    assert call.thread.is_alive(), "still held"
    assert s.release() == {"released": 1}
    assert call.answered_within(20), "released request answers"
    status, headers, body = call.result
    assert status == 200 and headers.get("Content-Type") == "application/json"
    page = json.loads(body)
    assert [c["id"] for c in page["contacts"]] == [c["id"] for c in json.loads(want[2])["contacts"]]
    assert page["pagination"]["previous_page"] == 2 and page["pagination"]["next_page"] == 4
    st = s.stats()
    assert st["held"] == 0 and st["providers"]["altur"]["in_flight"] == 0
    # the rule went with the release: the same request now answers at once
    status, _, _ = altur_page(s, camp, 3)
    assert status == 200 and s.stats()["held"] == 0


def test_count_holds_only_the_first_matches(s):
    assert s.hold("/batch-calls", count=1) == {"hold": "/batch-calls", "count": 1}
    first = Call(s, "truedy", "GET", "/batch-calls", query={"limit": 2})
    wait_held(s, 1)
    # later matches pass
    second = Call(s, "truedy", "GET", "/batch-calls", query={"limit": 3})
    assert second.answered_within(20) and second.result[0] == 200
    assert len(json.loads(second.result[2])["data"]) == 3
    assert not first.answered_within(HELD_JOIN)
    assert s.stats()["held"] == 1
    assert s.release() == {"released": 1}
    assert first.answered_within(20) and first.result[0] == 200
    assert len(json.loads(first.result[2])["data"]) == 2


def test_match_text_is_method_path_query_and_body(s):
    k = s.dump("koreai")["campaigns"][1]["id"]
    burki = s.dump("burki")["campaigns"][1]["id"]
    s.hold('"page": 2')
    s.hold(f"GET /api/v1/campaigns/{burki}/contacts?page=3&")
    s.hold("POST /api/v1/")  # Burki has no POST: matches nothing
    page = {"view": "contacts"}
    held_k = Call(s, "koreai", "POST", f"/campaign/{k}/status", query=page,
                  body={"page": 2, "limit": 100})
    held_b = Call(s, "burki", "GET", f"/campaigns/{burki}/contacts",
                  query={"page": 3, "per_page": 10})
    wait_held(s, 2)
    # other pages, other query orders and other methods pass
    assert s.request("koreai", "POST", f"/campaign/{k}/status", query=page,
                     body={"page": 3, "limit": 100})[0] == 200
    assert s.request("burki", "GET", f"/campaigns/{burki}/contacts",
                     query={"per_page": 10, "page": 3})[0] == 200
    assert s.request("burki", "GET", f"/campaigns/{burki}/contacts",
                     query={"page": 30, "per_page": 10})[0] == 200
    assert s.stats()["held"] == 2
    # releasing one rule's requests leaves the others held
    assert s.release('"page": 2') == {"released": 1}
    assert held_k.answered_within(20)
    data = json.loads(held_k.result[2])["data"]
    assert data["page"] == 2 and len(data["results"]) == 100
    assert not held_b.answered_within(HELD_JOIN)
    assert s.stats()["held"] == 1
    assert s.release("no such rule") == {"released": 0}
    assert s.release() == {"released": 1}
    assert held_b.answered_within(20) and held_b.result[0] == 200
    assert s.release() == {"released": 0}


def test_several_rules_hold_in_order(s):
    s.hold("/campaigns", count=1)
    s.hold("/campaigns", count=1)
    calls = [Call(s, "altur", "GET", "/campaigns", query={"pageSize": n}) for n in (1, 2)]
    wait_held(s, 2)
    third = Call(s, "altur", "GET", "/campaigns", query={"pageSize": 3})
    assert third.answered_within(20) and third.result[0] == 200
    assert s.release("/campaigns") == {"released": 2}
    for c in calls:
        assert c.answered_within(20) and c.result[0] == 200


def test_released_requests_get_faults_and_latency(make_sim):
    s = make_sim("--faults", "5xx=1", "--latency-ms", "300", *NO_LIMITS)
    s.hold("/batch-calls")
    call = Call(s, "truedy", "GET", "/batch-calls")
    wait_held(s, 1)
    t0 = time.monotonic()
    assert s.release() == {"released": 1}
    assert call.answered_within(20)
    assert time.monotonic() - t0 >= 0.3, "the latency is waited after the release"
    status, _, body = call.result
    assert status in (500, 503) and "error" in json.loads(body)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stop_with_held_requests(make_sim, sig):
    # the latency too must not keep a released request's thread from ending
    s = make_sim("--latency-ms", "60000", *NO_LIMITS)
    s.hold("/campaigns")
    calls = [Call(s, "altur", "GET", "/campaigns") for _ in range(3)]
    wait_held(s, 3)
    t0 = time.monotonic()
    s.proc.send_signal(sig)
    assert s.proc.wait(timeout=30) == 0
    assert time.monotonic() - t0 < 10, "held requests do not delay the exit"
    for c in calls:
        assert c.answered_within(20)


def test_bad_hold_requests(s):
    for query in ("", "?match=", "?match=x&count=0", "?match=x&count=abc",
                  "?match=x&count=-1"):
        status, _, body = s.raw("POST", "/_sim/hold" + query)
        assert status == 400, query
        assert "error" in json.loads(body)
    assert s.raw("GET", "/_sim/hold?match=x")[0] == 405
    assert s.raw("GET", "/_sim/release")[0] == 405
    # nothing was added
    assert s.request("altur", "GET", "/campaigns")[0] == 200
    assert s.release() == {"released": 0}

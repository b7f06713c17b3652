"""GET /_sim/stats counts every API request answered (faults, 401, 404, 429
included) per provider and endpoint template; /_sim/ is never counted;
POST /_sim/reset-stats zeroes the counters."""

import json

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

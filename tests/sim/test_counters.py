"""/_sim/stats "faults": every fault kind, override and redirect actually
served, in total, per provider and for requests under no prefix; exact (a
drawn fault that changed nothing is not counted); zeroed by reset-stats;
never for /_sim/ requests."""

import http.client
import json

import pytest

from conftest import NO_LIMITS
from simhelpers import probe

KINDS = ["5xx", "429", "reset", "truncate", "malformed", "slow", "overlap", "override",
         "redirect"]
ROWS = ["total", "altur", "burki", "truedy", "koreai", "unrouted"]

def ask(sim, provider):
    """The status of the provider's probe, None if the connection broke."""
    try:
        return probe(sim, provider)[0]
    except (http.client.HTTPException, ConnectionError):
        return None


def faults(sim):
    return sim.stats()["faults"]


def nonzero(row):
    return {k: v for k, v in row.items() if v}


def test_shape_all_zero_at_start(fresh_sim):
    f = faults(fresh_sim)
    assert list(f) == ROWS
    for row in ROWS:
        assert list(f[row]) == KINDS
        assert not nonzero(f[row])


@pytest.mark.parametrize("kind", ["5xx", "429", "reset", "truncate", "malformed", "slow"])
def test_each_kind_counted_per_provider(make_sim, kind):
    extra = ("--slow-ms", "1") if kind == "slow" else ()
    s = make_sim("--faults", f"{kind}=1", *extra, *NO_LIMITS)
    n = {"altur": 3, "burki": 1, "truedy": 2, "koreai": 1}
    for p, k in n.items():
        for _ in range(k):
            ask(s, p)
    s.raw("GET", "/nowhere")  # under no prefix: never faulted
    for _ in range(3):
        s.stats()  # /_sim/: never faulted nor counted
    f = faults(s)
    assert nonzero(f["total"]) == {kind: 7}
    for p, k in n.items():
        assert nonzero(f[p]) == {kind: k}, p
    assert not nonzero(f["unrouted"])


def test_mixed_faults_match_what_was_seen(make_sim):
    s = make_sim("--faults", "5xx=0.3,429=0.3", *NO_LIMITS, seed=4)
    codes = [ask(s, "burki") for _ in range(60)]
    f = faults(s)["burki"]
    assert f["5xx"] == sum(c in (500, 503) for c in codes) > 0
    assert f["429"] == codes.count(429) > 0
    assert faults(s)["total"]["5xx"] == f["5xx"]


def test_overlap_counted_only_when_a_page_moved(make_sim):
    """overlap=1: the first page (offset 0) cannot start earlier, so it is
    not counted; every later page is."""
    s = make_sim("--faults", "overlap=1", *NO_LIMITS)
    camp = s.dump("altur")["campaigns"][1]["id"]
    for index in range(4):
        status, _, _ = s.request("altur", "GET", f"/campaigns/{camp}/contacts",
                                 query={"pageIndex": index, "pageSize": 100})
        assert status == 200
    s.request("altur", "GET", f"/campaigns/{camp}")  # no page at all
    assert nonzero(faults(s)["altur"]) == {"overlap": 3}


def test_truncate_not_counted_for_a_body_too_short_to_cut(make_sim):
    """A one-byte body cannot be cut shorter: served whole, not counted."""
    s = make_sim("--faults", "truncate=1", *NO_LIMITS)
    s.override("/one-byte", body=b"x")
    s.override("/two-bytes", body=b"xy")
    # overrides are never faulted, so nothing is counted for them either
    assert s.request("altur", "GET", "/one-byte")[2] == b"x"
    assert s.request("altur", "GET", "/two-bytes")[2] == b"xy"
    assert nonzero(faults(s)["altur"]) == {"override": 2}
    assert ask(s, "altur") == 200
    assert nonzero(faults(s)["altur"]) == {"override": 2, "truncate": 1}


def test_reset_and_malformed_not_counted_for_an_empty_body(make_sim):
    """Burki's 307 has no body: half of nothing is the whole answer."""
    for kind in ("reset", "malformed"):
        s = make_sim("--faults", f"{kind}=1", *NO_LIMITS)
        status, headers, body = s.request("burki", "GET", "/campaigns", auth=False)
        assert (status, body) == (307, b"") and headers["Location"]
        assert nonzero(faults(s)["burki"]) == {"redirect": 1}
        want = None if kind == "reset" else 200  # a broken connection; a bad body
        assert ask(s, "burki") == want
        assert nonzero(faults(s)["burki"]) == {"redirect": 1, kind: 1}


def test_overrides_and_redirects(fresh_sim):
    s = fresh_sim
    s.request("burki", "GET", "/campaigns", auth=False)  # Burki's own 307
    s.override("/elsewhere", status=503, count=2)
    s.override("/api/v1.0/campaigns", redirect="http://127.0.0.1:{port}/moved", count=1)
    assert s.raw("GET", "/elsewhere/x")[0] == 503
    assert s.raw("GET", "/elsewhere/y")[0] == 503
    assert s.raw("GET", "/elsewhere/z")[0] == 404  # count used up
    status, headers, _ = s.request("altur", "GET", "/campaigns")
    assert status == 302 and headers["Location"] == f"http://127.0.0.1:{s.port}/moved"
    assert s.request("altur", "GET", "/campaigns")[0] == 200
    f = faults(s)
    assert nonzero(f["burki"]) == {"redirect": 1}
    assert nonzero(f["altur"]) == {"override": 1, "redirect": 1}
    assert nonzero(f["unrouted"]) == {"override": 2}
    assert nonzero(f["total"]) == {"override": 3, "redirect": 2}
    assert s.reset_stats() == {"reset": True}
    for row in faults(s).values():
        assert not nonzero(row)


def test_runtime_faults_counted_from_after(make_sim):
    s = make_sim(*NO_LIMITS)
    s.set_faults("malformed=1", after=2)
    bodies = [s.request("truedy", "GET", "/batch-calls")[2] for _ in range(5)]
    good = 0
    for b in bodies:
        try:
            json.loads(b)
            good += 1
        except ValueError:
            pass
    assert good == 2
    assert nonzero(faults(s)["truedy"]) == {"malformed": 3}

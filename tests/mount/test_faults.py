"""Failures on the way: a refresh that fails halfway keeps the whole
previous listing; transient faults (5xx, resets, truncated or malformed
bodies) and 429s are retried until the listing is complete and exact."""
import os
import re
import threading
import time

import pytest

from campaignfs_sim import Sim
from mountlib import Mount, expected_bytes, expected_paths, is_view, wait_for, wait_quiet

PROVIDERS = ["altur", "burki", "truedy", "koreai"]


def listing_requests(sim, provider, word):
    eps = sim.stats()["providers"][provider]["endpoints"]
    return sum(n for k, n in eps.items() if word in k)


def test_failed_refresh_keeps_the_whole_previous_listing():
    """With max_stale=0 an expired listing waits for its refresh; when the
    refresh fails halfway, the reader gets the whole previous listing."""
    with Sim("--rate-limit", "altur=0", seed=21) as sim:
        big = max(sim.dump("altur")["campaigns"], key=lambda c: len(c["contacts"]))
        assert len(big["contacts"]) > 1000  # 11 pages of 100
        with Mount(sim.config_path, ttl=1, extra=("-o", "max_stale=0"), log_errors=True) as m:
            contacts = m.path("altur", "campaigns", big["id"], "contacts")
            before = sorted(os.listdir(contacts))
            assert len(before) == len(big["contacts"])
            time.sleep(1.2)  # the listing expires
            sim.reset_stats()
            sim.set_faults("5xx=1", after=3)  # three pages arrive, then nothing does
            during = sorted(os.listdir(contacts))
            assert during == before  # the previous listing, whole
            with open(os.path.join(contacts, before[-1])) as f:
                assert f.read().startswith("{")
            assert listing_requests(sim, "altur", "contacts") > 3  # the refresh was tried
            log = m.stderr()
            assert "still showing the previous listing" in log
            # it failed after some pages had arrived (the campaign list, which
            # expired too, may have taken one of the three clean requests)
            assert "HTTP 50" in log and re.search(r"/contacts\?pageIndex=[1-9]", log), log

            sim.set_faults("")

            def refreshed():
                # within the backoff after a failure (it doubles with each
                # one) the old listing is shown without asking; then a
                # complete refresh
                sim.reset_stats()
                assert sorted(os.listdir(contacts)) == before
                return listing_requests(sim, "altur", "contacts")
            assert wait_for(refreshed, what="the next refresh") == 11


def test_failed_background_refresh_keeps_the_listing_and_backs_off():
    """Past the TTL the listing is shown at once while one refresh runs in
    the background; when that refresh fails, the listing stays whole, the
    failure is logged once, and no new refresh starts before a backoff."""
    with Sim("--rate-limit", "altur=0", seed=21) as sim:
        big = max(sim.dump("altur")["campaigns"], key=lambda c: len(c["contacts"]))
        with Mount(sim.config_path, ttl=3, log_errors=True) as m:  # backoff: 3 s
            contacts = m.path("altur", "campaigns", big["id"], "contacts")
            before = sorted(os.listdir(contacts))
            time.sleep(3.2)
            sim.set_faults("5xx=1", after=3)
            sim.reset_stats()
            assert sorted(os.listdir(contacts)) == before  # stale, at once
            wait_for(lambda: "still showing the previous listing" in m.stderr(), what="the failure")
            wait_quiet(sim, quiet=0.5)
            tried = listing_requests(sim, "altur", "contacts")
            assert tried > 3  # the refresh went past its first pages, then failed
            # within the backoff, more accesses are answered from the listing
            # and start nothing
            for _ in range(5):
                assert sorted(os.listdir(contacts)) == before
            assert listing_requests(sim, "altur", "contacts") == tried
            assert m.stderr().count("still showing the previous listing") == 1
            sim.set_faults("")


def test_first_listing_failure_is_eio_not_empty():
    with Sim("--faults", "5xx=1", seed=22) as sim:
        with Mount(sim.config_path, log_errors=True) as m:
            with pytest.raises(OSError) as e:
                os.listdir(m.path("burki", "campaigns"))
            assert e.value.errno == 5  # EIO, never an empty directory
            assert "[burki] GET" in m.stderr()


FAULT_MIX = "5xx=0.2,reset=0.05,truncate=0.05,429=0.1"


def test_faults_are_retried_into_exact_listings():
    """With 20% 5xx, 5% resets, 5% truncated bodies and 10% 429s, a full
    find + cat of multi-page campaigns of the four providers yields exactly
    the simulator's records: no duplicate, no missing file."""
    with Sim("--rate-limit", "altur=0", "--rate-limit", "truedy=0", "--rate-limit", "burki=0",
             "--campaigns", "2", "--contacts", "120", "--calls", "5", "--big-contacts", "1100",
             "--retry-after", "0", "--faults", FAULT_MIX, seed=23) as sim:
        with Mount(sim.config_path, ttl=3600) as m:
            for p in PROVIDERS:
                dump = sim.dump(p)
                assert max(len(c["contacts"]) for c in dump["campaigns"]) > 1000  # many pages
                big = max(dump["campaigns"], key=lambda c: len(c["contacts"]))
                # Truedy fetches each call on its own: the big batch's 1,100
                # calls would be most of the run; its contacts are walked
                skip = os.path.join("campaigns", str(big["id"]), "calls") if p == "truedy" else None
                want = [w for w in expected_paths(p, dump)
                        if not skip or not w.startswith(skip + "/")]
                exact = expected_bytes(p, dump, sim.raw("GET", "/_sim/dump?provider=" + p)[2]
                                       .decode())
                got = []
                for root, dirs, files in os.walk(m.path(p), onerror=lambda e: got.append(e)):
                    if skip and os.path.relpath(root, m.path(p)) == os.path.dirname(skip):
                        dirs.remove("calls")
                    for f in files:
                        rel = os.path.relpath(os.path.join(root, f), m.path(p))
                        if is_view(rel):
                            continue  # test_views.py
                        with open(os.path.join(root, f), "rb") as fh:
                            assert fh.read() == exact[rel], rel
                        got.append(rel)
                assert sorted(got) == sorted(want), p  # nothing missing, nothing twice
            faults = sim.stats()["faults"]
        # the faults did happen: each kind, and in every provider
        for kind in ("5xx", "reset", "truncate", "429"):
            assert faults["total"][kind] > 0, (kind, faults["total"])
        for p in PROVIDERS:
            assert sum(faults[p][k] for k in ("5xx", "reset", "truncate", "429")) > 0, p


def test_429_retry_after_is_honoured():
    """After a 429 with Retry-After: 2 no request reaches that account for
    2 s (the simulator's request log), and the listing is complete."""
    with Sim("--rate-limit", "burki=0", "--retry-after", "2", seed=24) as sim:
        big = max(sim.dump("burki")["campaigns"], key=lambda c: len(c["contacts"]))
        with Mount(sim.config_path) as m:
            os.listdir(m.path("burki", "campaigns"))
            since = sim.requests()["next"]
            sim.set_faults("429=1", after=2)  # two pages, then 429s ...
            contacts = m.path("burki", "campaigns", str(big["id"]), "contacts")
            t = threading.Thread(target=lambda: time.sleep(0.5) or sim.set_faults(""))
            t.start()  # ... for half a second
            names = os.listdir(contacts)
            t.join()
            assert len(names) == len(big["contacts"])
            log = sim.requests(since=since)["requests"]
        key = sim.key_of("burki")
        refused = [r for r in log if r["fault"] == "429" and r["key"] == key]
        assert refused and all(r["retry_after"] == 2 for r in refused)
        for r in refused:
            # no request of the account inside the wait it asked for, once
            # campaignfs had the answer (50 ms for it to arrive and be read:
            # a request it sent before that crossed the 429 on the way)
            inside = [x["t_ms"] - r["done_ms"] for x in log if x["key"] == key and
                      r["done_ms"] + 50 < x["t_ms"] < r["done_ms"] + 2000 - 5]
            assert inside == [], inside
        assert any(x["t_ms"] >= r["done_ms"] + 2000 - 5 for x in log for r in refused)


@pytest.mark.parametrize("provider", ["altur", "truedy", "koreai"])
def test_records_repeated_across_pages_appear_once(provider):
    """A record that the API repeats on the next page (pages shifted while
    they were read) is one file, with its bytes."""
    with Sim("--rate-limit", "altur=0", "--rate-limit", "truedy=0", seed=25) as sim:
        dump = sim.dump(provider)
        big = max(dump["campaigns"], key=lambda c: len(c["contacts"]))
        exact = expected_bytes(provider, dump, sim.raw("GET", "/_sim/dump?provider=" + provider)[2]
                               .decode())
        want = sorted(os.path.basename(rel) for rel in exact
                      if rel.startswith(os.path.join("campaigns", big["id"], "contacts") + "/"))
        with Mount(sim.config_path) as m:
            os.listdir(m.path(provider, "campaigns"))  # the campaign list, clean
            sim.reset_stats()
            sim.set_faults("overlap=1", after=1)  # page 1 clean, every later page shifted
            contacts = m.path(provider, "campaigns", big["id"], "contacts")
            names = sorted(os.listdir(contacts))
            endpoint = "status" if provider == "koreai" else "contacts"
            assert listing_requests(sim, provider, endpoint) == -(-len(big["contacts"]) // 100)
            sim.set_faults("")
            assert names == want
            for name in names[:150]:
                with open(os.path.join(contacts, name), "rb") as f:
                    assert f.read() == exact[os.path.join("campaigns", big["id"], "contacts", name)]

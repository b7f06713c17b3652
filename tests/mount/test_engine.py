"""The fetch engine: pages in parallel (never more at once than the
account's concurrency), readers of one cold directory sharing one fetch,
stale listings answered at once with one background refresh, pages answered
out of order giving the same listing, interrupted waits, cached files
answering while listings are stuck, and no 429 under the documented limits.
Request and in-flight counts come from the simulator; no timings, except
generous bounds on operations that would otherwise hang for good."""
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from campaignfs_sim import Sim
from mountlib import Mount, expected_bytes, wait_for, wait_quiet


def endpoint_requests(sim, provider, word):
    eps = sim.stats()["providers"][provider]["endpoints"]
    return sum(n for k, n in eps.items() if word in k)


def with_keys(sim, name, section_keys):
    """A copy of the simulator's config with keys added to sections."""
    lines = []
    for line in sim.config_text.splitlines():
        lines.append(line)
        m = re.match(r"\[(\w+)\]$", line.strip())
        if m and m.group(1) in section_keys:
            lines.extend("%s = %s" % kv for kv in section_keys[m.group(1)].items())
    path = os.path.join(os.path.dirname(sim.config_path), name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return path


def biggest(sim, provider):
    return max(sim.dump(provider)["campaigns"], key=lambda c: len(c["contacts"]))


def contact_names(sim, provider, campaign):
    dump = sim.dump(provider)
    exact = expected_bytes(provider, dump, sim.raw("GET", "/_sim/dump?provider=" + provider)[2]
                           .decode())
    prefix = os.path.join("campaigns", str(campaign["id"]), "contacts") + "/"
    return {rel[len(prefix):]: data for rel, data in exact.items() if rel.startswith(prefix)}


def test_pages_in_parallel_within_concurrency():
    with Sim("--rate-limit", "altur=0", "--latency-ms", "30", seed=31) as sim:
        conf = with_keys(sim, "c3.conf", {"altur": {"concurrency": 3}})
        big = biggest(sim, "altur")
        with Mount(conf) as m:
            os.listdir(m.path("altur", "campaigns"))
            sim.reset_stats()
            names = os.listdir(m.path("altur", "campaigns", big["id"], "contacts"))
            assert len(names) == len(big["contacts"])
            stats = sim.stats()["providers"]["altur"]
            assert endpoint_requests(sim, "altur", "contacts") == 11  # 1003 by 100: no more
            assert stats["max_in_flight"] == 3  # in parallel, never beyond concurrency


def test_readers_of_one_cold_directory_share_one_fetch():
    with Sim("--rate-limit", "altur=0", "--latency-ms", "20", seed=32) as sim:
        big = biggest(sim, "altur")
        with Mount(sim.config_path) as m:
            path = m.path("altur", "campaigns", big["id"], "contacts")
            sim.reset_stats()
            results = [None] * 16

            def reader(i):
                results[i] = sorted(os.listdir(path))
                with open(os.path.join(path, results[i][i])) as f:
                    f.read()
            threads = [threading.Thread(target=reader, args=(i,)) for i in range(16)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert all(r == results[0] for r in results) and len(results[0]) == 1003
            assert endpoint_requests(sim, "altur", "contacts") == 11  # one reader's requests
            assert endpoint_requests(sim, "altur", "GET /campaigns") - \
                endpoint_requests(sim, "altur", "/campaigns/") == 1


def test_stale_listing_is_answered_with_one_background_refresh():
    with Sim("--rate-limit", "altur=0", seed=33) as sim:
        big = biggest(sim, "altur")
        with Mount(sim.config_path, ttl=2) as m:
            path = m.path("altur", "campaigns", big["id"], "contacts")
            before = sorted(os.listdir(path))
            time.sleep(2.5)
            sim.reset_stats()
            for _ in range(5):  # stale: answered from the listing, refreshed once
                assert sorted(os.listdir(path)) == before
            wait_quiet(sim)
            assert endpoint_requests(sim, "altur", "contacts") == 11
            sim.reset_stats()
            assert sorted(os.listdir(path)) == before  # fresh again: nothing asked
            assert endpoint_requests(sim, "altur", "contacts") == 0


@pytest.mark.parametrize("provider,held", [("altur", "pageIndex=1&"), ("burki", "page=2&"),
                                           ("truedy", "offset=100&"), ("koreai", '"page": 2,')])
def test_pages_answered_out_of_order_give_the_same_listing(provider, held):
    with Sim("--rate-limit", "altur=0", "--rate-limit", "truedy=0", "--rate-limit", "burki=0",
             seed=34) as sim:
        big = biggest(sim, provider)
        want = contact_names(sim, provider, big)
        pages = -(-len(big["contacts"]) // (1000 if provider == "burki" else 100))
        with Mount(sim.config_path) as m:
            os.listdir(m.path(provider, "campaigns"))
            sim.reset_stats()
            sim.hold(held, count=1)  # the second page arrives last
            got = {}
            path = m.path(provider, "campaigns", str(big["id"]), "contacts")
            t = threading.Thread(target=lambda: got.update(names=sorted(os.listdir(path))))
            t.start()
            endpoint = "status" if provider == "koreai" else "contacts"
            # every other page is answered (and counted) while the second one is held
            wait_for(lambda: endpoint_requests(sim, provider, endpoint) == pages - 1 and
                     sim.stats()["held"] == 1 and
                     sim.stats()["providers"][provider]["in_flight"] == 1, what="the other pages")
            assert t.is_alive()  # nothing is shown before every page is in
            assert sim.release()["released"] == 1
            t.join(30)
            assert endpoint_requests(sim, provider, endpoint) == pages
            assert got["names"] == sorted(want)
            for name in got["names"][::50]:
                with open(os.path.join(path, name), "rb") as f:
                    assert f.read() == want[name], name


LISTER = r"""
import os, signal, sys, time
class Interrupted(Exception):
    pass
def on_alarm(signum, frame):
    raise Interrupted()
signal.signal(signal.SIGALRM, on_alarm)
signal.setitimer(signal.ITIMER_REAL, 0.5)
t = time.monotonic()
try:
    os.listdir(sys.argv[1])
    print("listed")
except Interrupted:
    print("interrupted %.1f" % (time.monotonic() - t - 0.5))
"""


def test_interrupted_listing_returns_eintr_and_the_fetch_is_kept():
    with Sim("--rate-limit", "altur=0", seed=35) as sim:
        big = biggest(sim, "altur")
        with Mount(sim.config_path) as m:
            path = m.path("altur", "campaigns", big["id"], "contacts")
            os.listdir(m.path("altur", "campaigns"))
            sim.hold("pageIndex=3&")  # the listing cannot complete
            # a signal ends the wait at once (EINTR), though the page is held
            out = subprocess.run([sys.executable, "-c", LISTER, path], capture_output=True,
                                 text=True, timeout=30)
            assert out.stdout.startswith("interrupted"), out
            assert float(out.stdout.split()[1]) < 5
            # so does SIGKILL (an uninterruptible wait would keep it forever)
            ls = subprocess.Popen(["ls", path], stdout=subprocess.DEVNULL)
            time.sleep(0.5)
            ls.kill()
            assert ls.wait(timeout=10) == -signal.SIGKILL
            assert sim.stats()["held"] >= 1  # the page is still held: the fetch went on
            sim.release()
            wait_quiet(sim)
            sim.reset_stats()
            names = os.listdir(path)  # the interrupted fetch's result, kept
            assert len(names) == len(big["contacts"])
            assert sim.stats()["total_requests"] == 0


def test_cached_files_answer_while_listings_are_stuck():
    with Sim("--rate-limit", "altur=0", "--rate-limit", "truedy=0", "--rate-limit", "burki=0",
             seed=36) as sim:
        with Mount(sim.config_path) as m:
            first = biggest(sim, "altur")
            cached = m.path("altur", "campaigns", first["id"], "contacts")
            name = sorted(os.listdir(cached))[0]
            others = []
            for p in ("altur", "burki", "truedy", "koreai"):
                for c in sim.dump(p)["campaigns"]:
                    if c["id"] != first["id"]:
                        others.append(m.path(p, "campaigns", str(c["id"]), "contacts"))
                os.listdir(m.path(p, "campaigns"))
            assert len(others) >= 12
            sim.hold("contacts")  # every contacts page (Kore.ai: status?view=contacts)
            stuck = [threading.Thread(target=os.listdir, args=(d,), daemon=True) for d in others]
            for t in stuck:
                t.start()
            wait_for(lambda: sim.stats()["held"] >= 12, what="twelve stuck listings")
            done = {}

            def read_cached():
                os.stat(os.path.join(cached, name))
                with open(os.path.join(cached, name), "rb") as f:
                    done["bytes"] = f.read()
                done["names"] = len(os.listdir(cached))
            t = threading.Thread(target=read_cached, daemon=True)
            t.start()
            t.join(10)  # it would hang for good if the stuck listings held the daemon
            assert done.get("names") == len(first["contacts"]) and done["bytes"].startswith(b"{")
            assert all(t.is_alive() for t in stuck)
            sim.release()
            for t in stuck:
                t.join(60)
            assert not any(t.is_alive() for t in stuck)


def test_full_crawl_under_the_documented_limits_gets_no_429():
    """Default limits (Altur 12/s, Truedy 100/min, the simulator's Burki
    20/s): the account's token bucket keeps under them."""
    with Sim("-v", "--contacts", "5", "--calls", "2", "--campaigns", "3", seed=37) as sim:
        with Mount(sim.config_path) as m:
            for p in ("altur", "burki", "koreai"):  # everything, read
                for root, _, files in os.walk(m.path(p)):
                    for f in files:
                        with open(os.path.join(root, f), "rb") as fh:
                            fh.read()
            for c in sim.dump("truedy")["campaigns"]:  # Truedy's listings (100/min)
                os.listdir(m.path("truedy", "campaigns", c["id"], "contacts"))
            stats = sim.stats()
        log = sim.stderr_text()
        assert stats["providers"]["altur"]["requests"] > 20  # a crawl with bursts
        assert re.search(r"-> 200", log)
        assert not re.search(r"-> 429", log), [l for l in log.splitlines() if "-> 429" in l][:5]


class StubBurki:
    """A Burki stand-in on 127.0.0.1:0: one campaign of `contacts` contacts
    (ids 0..n-1) with `status`; once `refuse` is set, every request is a 429
    with a long Retry-After."""

    def __init__(self):
        import http.server
        import json as _json
        stub = self
        self.refuse = False
        self.requests = 0
        self.contacts = 3
        self.status = "completed"

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                stub.requests += 1
                if stub.refuse:
                    body = b'{"detail": "Rate limit exceeded"}'
                    self.send_response(429)
                    self.send_header("Retry-After", "100000")
                elif "/contacts" in self.path:
                    n = stub.contacts
                    body = _json.dumps({"contacts": [{"id": i, "status": stub.status}
                                                     for i in range(n)],
                                        "pagination": {"page": 1, "per_page": 1000,
                                                       "total_items": n, "total_pages": 1,
                                                       "has_next": False}}).encode()
                    self.send_response(200)
                elif self.path.startswith("/api/v1/campaigns/?"):
                    body = _json.dumps({"campaigns": [{"id": 7, "name": "x"}],
                                        "pagination": {"page": 1, "per_page": 1000,
                                                       "total_items": 1, "total_pages": 1,
                                                       "has_next": False}}).encode()
                    self.send_response(200)
                else:
                    body = _json.dumps({"id": 7, "name": "x"}).encode()
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.dir = __import__("tempfile").mkdtemp(prefix="cfs-stub-")
        self.config_path = os.path.join(self.dir, "stub.conf")
        with open(self.config_path, "w") as f:
            f.write("[burki]\nprovider = burki\nurl = http://127.0.0.1:%d\napi_key = k\n"
                    % self.server.server_address[1])
        os.chmod(self.config_path, 0o600)

    def close(self):
        self.server.shutdown()
        __import__("shutil").rmtree(self.dir, ignore_errors=True)


def test_a_long_retry_after_fails_fast_and_cached_listings_stay():
    stub = StubBurki()
    try:
        with Mount(stub.config_path, ttl=1, extra=("-o", "timeout=5"), log_errors=True) as m:
            cached = m.path("burki", "campaigns", "7", "contacts")
            assert sorted(os.listdir(cached)) == ["0.json", "1.json", "2.json"]
            stub.refuse = True
            time.sleep(1.2)  # expired: the refresh meets the 429
            assert sorted(os.listdir(cached)) == ["0.json", "1.json", "2.json"]  # at once
            wait_for(lambda: "longer than -o timeout=5 s" in m.stderr(), what="the message")
            # a listing never fetched fails with EIO, long before the server's 100000 s
            with pytest.raises(OSError) as e:
                os.listdir(m.path("burki", "campaigns", "7", "calls"))
            assert e.value.errno == 5
            assert sorted(os.listdir(cached)) == ["0.json", "1.json", "2.json"]
    finally:
        stub.close()


@pytest.mark.parametrize("max_stale", [0, None])
def test_a_refresh_that_deletes_or_changes_records_reaches_the_kernel(max_stale):
    """Names and attributes the kernel cached are invalidated by the
    refresh that changes them: a deleted record disappears (ENOENT, gone
    from ls), a changed one is read whole with its new size."""
    stub = StubBurki()
    extra = ("-o", "max_stale=%d" % max_stale) if max_stale is not None else ()
    try:
        with Mount(stub.config_path, ttl=1, extra=extra) as m:
            d = m.path("burki", "campaigns", "7", "contacts")
            assert sorted(os.listdir(d)) == ["0.json", "1.json", "2.json"]
            for name in os.listdir(d):  # names, attributes and bytes cached
                with open(os.path.join(d, name)) as f:
                    assert '"completed"' in f.read()
            stub.contacts, stub.status = 2, "voicemail_left_after_retry"
            time.sleep(1.2)
            if max_stale is None:
                os.listdir(d)  # stale at once; the refresh runs meanwhile

                def refreshed():
                    return sorted(os.listdir(d)) == ["0.json", "1.json"]
                wait_for(refreshed, what="the refreshed listing")
            else:
                assert sorted(os.listdir(d)) == ["0.json", "1.json"]
            assert not os.path.exists(os.path.join(d, "2.json"))
            with pytest.raises(FileNotFoundError):
                os.stat(os.path.join(d, "2.json"))
            with open(os.path.join(d, "1.json"), "rb") as f:
                data = f.read()
            assert data.endswith(b'"voicemail_left_after_retry"\n}\n'), data
            assert os.stat(os.path.join(d, "1.json")).st_size == len(data)
    finally:
        stub.close()

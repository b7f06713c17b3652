"""Fetch and cache: what a listing costs in requests, and that nothing is
asked again within the TTL (request counts from /_sim/stats, no timings)."""
import os
import subprocess

import pytest

from conftest import PROVIDERS
from mountlib import Mount, expected_files, wait_for


def walk_and_read(root):
    n = 0
    for d, _, files in os.walk(root):
        for f in files:
            with open(os.path.join(d, f), "rb") as fh:
                fh.read()
            n += 1
    return n


def drop_kernel_caches():
    """Forget the kernel's dentries and inodes, so that lookups reach campaignfs."""
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("2\n")
        return True
    except OSError:
        return False


def test_repeat_within_ttl_costs_zero_requests(sim, mnt):
    walk_and_read(mnt.dir)  # warm
    sim.reset_stats()
    subprocess.run(["ls", "-lR", mnt.dir], capture_output=True, check=True)
    n = walk_and_read(mnt.dir)
    assert n > 1000
    if drop_kernel_caches():
        # now every lookup and getattr goes to campaignfs, which must answer
        # from its own cache
        subprocess.run(["ls", "-lR", mnt.dir], capture_output=True, check=True)
        walk_and_read(mnt.dir)
    assert sim.stats()["total_requests"] == 0


def test_listing_costs_its_pages(sim):
    """ls of a directory fetches all its pages at the maximum page size, once."""
    with Mount(sim.config_path, ttl=3600) as m:
        dump = sim.dump("burki")
        big = max(dump["campaigns"], key=lambda c: len(c["contacts"]))
        sim.reset_stats()
        names = os.listdir(m.path("burki", "campaigns", str(big["id"]), "contacts"))
        assert len(names) == len(big["contacts"])
        stats = sim.stats()["providers"]["burki"]
        pages = -(-len(big["contacts"]) // 1000)
        contacts_requests = sum(n for k, n in stats["endpoints"].items() if "contacts" in k)
        assert contacts_requests == pages  # per_page=1000: no more, no fewer
        # the campaign list was fetched once on the way
        assert sum(n for k, n in stats["endpoints"].items()
                   if k.rstrip("/").endswith("/campaigns")) == 1
        # a second ls, a cat and a stat cost nothing
        sim.reset_stats()
        os.listdir(m.path("burki", "campaigns", str(big["id"]), "contacts"))
        with open(m.path("burki", "campaigns", str(big["id"]), "contacts", names[0])) as f:
            f.read()
        os.stat(m.path("burki", "campaigns", str(big["id"]), "contacts", names[-1]))
        assert sim.stats()["total_requests"] == 0


def test_lazy_files_are_fetched_on_lookup_only(sim):
    """ls of a Truedy calls/ costs list pages only; each call file is one GET."""
    with Mount(sim.config_path, ttl=3600) as m:
        dump = sim.dump("truedy")
        c = next(c for c in dump["campaigns"] if 0 < len(c["calls"]) < 200)
        calls = m.path("truedy", "campaigns", c["id"], "calls")
        sim.reset_stats()
        names = os.listdir(calls)
        assert len(names) == len(c["calls"])
        eps = sim.stats()["providers"]["truedy"]["endpoints"]
        assert sum(v for k, v in eps.items() if k.startswith("GET /calls/")) == 0, eps
        sim.reset_stats()
        for n in names:
            os.stat(os.path.join(calls, n))
        eps = sim.stats()["providers"]["truedy"]["endpoints"]
        assert sum(v for k, v in eps.items() if k.startswith("GET /calls/")) == len(names)


def test_refresh_after_ttl(sim):
    with Mount(sim.config_path, ttl=1) as m:
        path = m.path("altur", "campaigns")
        first = os.listdir(path)
        import time
        time.sleep(1.5)
        sim.reset_stats()
        assert os.listdir(path) == first  # the stale listing, at once
        # ... while one refresh runs in the background
        wait_for(lambda: sim.stats()["providers"]["altur"]["requests"] >= 1, what="the refresh")

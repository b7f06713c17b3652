import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from campaignfs_sim import Sim  # noqa: E402  (tests/pylib, on PYTHONPATH)
from mountlib import Mount  # noqa: E402

PROVIDERS = ["altur", "burki", "truedy", "koreai"]

# A real mount needs the FUSE device and the setuid helper; without them the
# runner (tests/mount/run.py) exits 77 so meson counts a skip.


@pytest.fixture(scope="session")
def sim():
    # Truedy's 100/min would make fetching every call file take minutes:
    # the rate-limit behaviour itself is tested against the simulator.
    with Sim("--rate-limit", "truedy=0", "--rate-limit", "altur=0", "--calls", "6",
             "--contacts", "12", seed=11) as s:
        yield s


@pytest.fixture(scope="session")
def dumps(sim):
    return {p: sim.dump(p) for p in PROVIDERS}


@pytest.fixture(scope="session")
def mnt(sim):
    with Mount(sim.config_path, ttl=3600) as m:
        yield m

"""Shared fixtures for the campaignfs-sim tests.

Every fixture that starts a simulator stops it when the test (or module)
ends, also on failure: Sim is a context manager.  Every simulator stopped
during a test must have exited 0 without sanitizer reports (that is how the
ASan/UBSan build's leaks and undefined behaviour fail the suite).
"""

import pytest

from campaignfs_sim import Sim

_problems = []
_plain_stop = Sim.stop


def _checked_stop(self):
    _plain_stop(self)
    if getattr(self, "_checked_run", None) != self.runs:  # each run (restart) once
        self._checked_run = self.runs
        _problems.extend(self.problems())


Sim.stop = _checked_stop


def assert_clean():
    """Fails if a simulator stopped so far exited badly or reported errors."""
    found = list(_problems)
    _problems.clear()
    assert not found, "\n".join(found)


@pytest.fixture(autouse=True)
def simulators_exit_cleanly():
    yield
    assert_clean()

NO_LIMITS = ("--rate-limit", "altur=0", "--rate-limit", "burki=0", "--rate-limit", "truedy=0")


@pytest.fixture(scope="module")
def sim():
    """A default simulator (seed 1) without rate limits, shared by a module."""
    with Sim(*NO_LIMITS) as s:
        yield s
    assert_clean()


@pytest.fixture
def fresh_sim():
    """A default simulator without rate limits for one test (it may mutate)."""
    with Sim(*NO_LIMITS) as s:
        yield s


@pytest.fixture
def make_sim():
    """Starts simulators with extra arguments; all are stopped afterwards."""
    started = []

    def start(*args, **kw):
        s = Sim(*args, **kw)
        started.append(s)
        return s

    try:
        yield start
    finally:
        for s in started:
            s.cleanup()

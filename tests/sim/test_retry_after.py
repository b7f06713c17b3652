"""The wait a 429 fault asks for: --retry-after N and retry_after=N on
POST /_sim/faults, in each provider's own 429 form (Altur and Burki a
Retry-After header; Truedy details.reset_at N seconds ahead and no header;
Kore.ai neither, as its documentation gives no 429 form).  The rate
limiter's own 429s keep their real waits."""

import calendar
import json
import subprocess
import time

import pytest

from campaignfs_sim import Sim, sim_binary
from conftest import NO_LIMITS
from simhelpers import probe as ask


def reset_in(body):
    """Seconds from now to a Truedy 429's reset_at."""
    when = json.loads(body)["error"]["details"]["reset_at"]
    return calendar.timegm(time.strptime(when, "%Y-%m-%dT%H:%M:%SZ")) - time.time()


def check_waits(s, n):
    for p in ("altur", "burki"):
        status, headers, _ = ask(s, p)
        assert status == 429 and headers["Retry-After"] == str(n), p
    status, headers, body = ask(s, "truedy")
    assert status == 429 and headers.get("Retry-After") is None
    assert n - 0.5 <= reset_in(body) <= n + 1.01  # whole seconds, rounded up
    status, headers, body = ask(s, "koreai")
    assert status == 429 and headers.get("Retry-After") is None
    assert json.loads(body)["status"] == "failure"


def test_default_is_one_second(make_sim):
    check_waits(make_sim("--faults", "429=1", *NO_LIMITS), 1)


@pytest.mark.parametrize("n", [0, 7, 3600])
def test_option(make_sim, n):
    check_waits(make_sim("--faults", "429=1", "--retry-after", str(n), *NO_LIMITS), n)


def test_at_run_time(make_sim):
    s = make_sim("--retry-after", "5", *NO_LIMITS)
    assert s.set_faults("429=1", retry_after=3) == {"spec": "429=1", "after": 0,
                                                   "retry_after": 3}
    check_waits(s, 3)
    # without retry_after, the --retry-after value again
    assert s.set_faults("429=1")["retry_after"] == 5
    check_waits(s, 5)
    for bad in ("-1", "86401", "soon"):
        status, _, body = s.raw("POST", f"/_sim/faults?spec=429=1&retry_after={bad}")
        assert status == 400 and b"retry_after" in body
    check_waits(s, 5)  # a refused change changes nothing


def test_with_after(make_sim):
    s = make_sim(*NO_LIMITS)
    s.set_faults("429=1", after=1, retry_after=4)
    assert ask(s, "burki")[0] == 200
    status, headers, _ = ask(s, "burki")
    assert status == 429 and headers["Retry-After"] == "4"


def test_limiter_keeps_its_own_wait(make_sim):
    s = make_sim("--retry-after", "50", "--rate-limit", "burki=1/min")
    assert ask(s, "burki")[0] == 200
    status, headers, _ = ask(s, "burki")
    assert status == 429 and 55 <= int(headers["Retry-After"]) <= 60


@pytest.mark.parametrize("value", ["-1", "86401", "x", ""])
def test_bad_option(value):
    r = subprocess.run([sim_binary(), "--retry-after", value], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode == 2 and "--retry-after" in r.stderr


def test_sim_helper_passes_it():
    with Sim("--faults", "429=1", "--retry-after", "9", *NO_LIMITS) as s:
        assert ask(s, "altur")[1]["Retry-After"] == "9"

"""The command line: --help/--version, bad values (exit 2, one line naming
the option), --port-file, --config-out, the listening line, --listen,
--seed/--campaigns/--contacts/--calls/--big-contacts, --latency-ms, concurrency and a
clean exit on SIGTERM."""

import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from campaignfs_sim import Sim, read_config, sim_binary
from conftest import NO_LIMITS

OPTIONS = ["--listen", "--port-file", "--config-out", "--seed", "--campaigns", "--contacts",
           "--calls", "--big-contacts", "--latency-ms", "--rate-limit", "--faults", "--slow-ms",
           "--retry-after", "--request-log", "--tls-cert", "--tls-key",
           "--verbose", "--help", "--version"]


def run(*args, timeout=20):
    return subprocess.run([sim_binary(), *args], capture_output=True, text=True, timeout=timeout)


def test_help_and_version():
    r = run("--help")
    assert r.returncode == 0 and r.stdout.startswith("Usage: campaignfs-sim")
    for opt in OPTIONS:
        assert opt in r.stdout, opt
    r = run("--version")
    assert r.returncode == 0 and re.match(r"^campaignfs-sim \d+\.\d+", r.stdout)


@pytest.mark.parametrize("args,option", [
    (["--seed", "abc"], "--seed"),
    (["--seed", "-1"], "--seed"),
    (["--campaigns", "0"], "--campaigns"),
    (["--contacts", "-5"], "--contacts"),
    (["--calls", "1e3"], "--calls"),
    (["--big-contacts", "0"], "--big-contacts"),
    (["--big-contacts", "1000001"], "--big-contacts"),
    (["--big-contacts", "-3"], "--big-contacts"),
    (["--big-contacts", "many"], "--big-contacts"),
    (["--big-contacts", ""], "--big-contacts"),
    (["--latency-ms", "soon"], "--latency-ms"),
    (["--slow-ms", ""], "--slow-ms"),
    (["--request-log", "-1"], "--request-log"),
    (["--request-log", "10000001"], "--request-log"),
    (["--listen", "localhost"], "--listen"),
    (["--listen", "127.0.0.1:99999"], "--listen"),
    (["--listen", "not-an-ip:80"], "--listen"),
    (["--faults", "5xx"], "--faults"),
    (["--faults", "boom=0.5"], "--faults"),
    (["--faults", "5xx=2"], "--faults"),
    (["--faults", "5xx=0.6,429=0.6"], "--faults"),
    (["--faults", "5xx=0.1,"], "--faults"),
    (["--rate-limit", "acme=1/s"], "--rate-limit"),
    (["--rate-limit", "altur=fast"], "--rate-limit"),
    (["--rate-limit", "altur"], "--rate-limit"),
    (["--frobnicate"], "frobnicate"),
    (["--seed"], "seed"),
    (["stray"], "stray"),
])
def test_bad_options_exit_2(args, option):
    r = run(*args)
    assert r.returncode == 2, r
    assert option in r.stderr
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) <= 2


def test_port_file_config_and_banner():
    with Sim(seed=9) as s:
        with open(s.port_file) as f:
            assert f.read() == f"{s.port}\n"
        deadline = time.monotonic() + 5
        while "listening" not in s.stdout_text() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert s.stdout_text() == f"campaignfs-sim: listening on http://127.0.0.1:{s.port}\n"
        lines = s.config_text.splitlines()
        # owner-only: the config holds the simulator's credentials
        assert os.stat(s.config_path).st_mode & 0o777 == 0o600
        at = f"127.0.0.1:{s.port}"
        assert lines[0] == f"# campaignfs configuration for campaignfs-sim on {at} (seed 9)"
        expected = [
            "[altur]", "provider = altur", f"url = http://{at}/api/v1.0", "api_key = *",
            "rate_limit = 12/s", "",
            "[burki]", "provider = burki", f"url = http://{at}", "api_key = *",
            "rate_limit = 20/s", "",
            "[truedy]", "provider = truedy", f"url = http://{at}/api/public/v1",
            "api_key = truedy_*", "rate_limit = 100/min", "",
            "[koreai]", "provider = koreai", f"url = http://{at}", "stream_id = st-*",
            "account_id = *", "client_id = cs-*", "client_secret = *", "rate_limit = 0",
        ]
        assert len(lines) == len(expected) + 1
        for got, want in zip(lines[1:], expected):
            if want.endswith("*"):
                assert got.startswith(want[:-1]) and len(got) > len(want), got
            else:
                assert got == want
        cfg = read_config(s.config_text)
        assert re.match(r"^[0-9a-f]{24}$", cfg["koreai"]["account_id"])
        # the config's credentials work
        for p in ("altur", "burki", "truedy"):
            assert s.request(p, "GET", "/campaigns" if p == "altur" else
                             "/campaigns/" if p == "burki" else "/batch-calls")[0] == 200
        assert s.request("koreai", "POST", "/campaign/getAllCampaignDetails",
                         body={"type": "voice"})[0] == 200


def test_listen_on_a_given_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    s = Sim("--listen", f"127.0.0.1:{port}", start=False)
    try:
        # the helper's own --listen comes first; the later one wins
        s.start()
        assert s.port == port
        assert s.stats()["total_requests"] == 0
    finally:
        s.cleanup()


def test_sizes():
    with Sim("--campaigns", "3", "--contacts", "4", "--calls", "2", *NO_LIMITS) as s:
        for p in ("altur", "burki", "truedy", "koreai"):
            camps = s.dump(p)["campaigns"]
            assert [len(c["contacts"]) for c in camps][0] == 0
            assert len(camps) == 3 and len(camps[2]["contacts"]) == 4
            assert len(camps[1]["contacts"]) > 1000
            if p in ("altur", "burki"):
                assert [len(c["calls"]) for c in camps] == [0, 150, 2]


def test_latency_and_concurrency():
    with Sim("--latency-ms", "400", *NO_LIMITS) as s:
        t0 = time.monotonic()
        assert s.request("altur", "GET", "/campaigns")[0] == 200
        assert time.monotonic() - t0 >= 0.4
        t0 = time.monotonic()
        s.stats()
        assert time.monotonic() - t0 < 0.4, "control endpoints are not delayed"
        # sleeping answers do not hold up each other
        codes = []
        threads = [threading.Thread(target=lambda: codes.append(
            s.request("burki", "GET", "/campaigns/")[0])) for _ in range(8)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert codes == [200] * 8
        assert time.monotonic() - t0 < 8 * 0.4 / 2


def test_sigterm_exits_cleanly():
    s = Sim()
    try:
        s.proc.send_signal(signal.SIGTERM)
        assert s.proc.wait(timeout=10) == 0
    finally:
        s.cleanup()


def test_port_in_use_fails():
    with Sim() as s:
        r = run("--listen", f"127.0.0.1:{s.port}")
        assert r.returncode == 1 and "cannot listen" in r.stderr

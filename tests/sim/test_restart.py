"""A simulator restarted on a fixed port right after the previous one
stopped (an outage test): SIGTERM ends it promptly even with idle
keep-alive, held and hung connections; the new one binds the same port at
once although the old connections linger in TIME_WAIT; a port in use by a
running simulator is still refused."""

import http.client
import shutil
import signal
import socket
import subprocess
import time

import pytest

from campaignfs_sim import Sim, make_tls_files, sim_binary
from conftest import NO_LIMITS
from simhelpers import wait_for



def busy_connections(sim):
    """A request the server closes (TIME_WAIT on the server's side), an
    idle keep-alive connection, a held and a hung request."""
    closed = sim.raw("GET", "/api/v1.0/campaigns", headers={
        "Connection": "close", **sim.auth_headers("altur")})
    assert closed[0] == 200
    idle = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    idle.request("GET", "/api/v1/campaigns/", headers=sim.auth_headers("burki"))
    assert idle.getresponse().read()
    sim.hold("/batch-calls")
    sim.override("/call/", hang=True)
    socks = []
    for path in ("/api/public/v1/batch-calls", "/api/v1.0/call/x"):
        c = socket.create_connection(("127.0.0.1", sim.port), timeout=10)
        c.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        socks.append(c)
    wait_for(lambda: sim.stats()["held"] == 1 and sim.stats()["hanging"] == 1,
             "a held and a hung request")
    return [idle] + socks


def test_restart_on_the_same_port_at_once(make_sim):
    a = make_sim(*NO_LIMITS)
    port = a.port
    conns = busy_connections(a)
    t0 = time.monotonic()
    a.proc.send_signal(signal.SIGTERM)
    assert a.proc.wait(timeout=10) == 0
    assert time.monotonic() - t0 < 3, "the stop waited for its connections"
    b = make_sim(*NO_LIMITS, port=port)  # at once: no pause after the stop
    assert b.port == port
    assert b.json("altur", "GET", "/campaigns")["total_count"] == 4
    for c in conns:
        c.close()


def test_helper_restart(make_sim):
    s = make_sim(*NO_LIMITS, seed=3)
    port, creds = s.port, s.creds
    before = s.json("altur", "GET", "/campaigns")
    s.advance(3)
    conns = busy_connections(s)
    s.restart()
    assert (s.port, s.creds, s.runs) == (port, creds, 2)
    assert s.json("altur", "GET", "/campaigns") == before  # same data, same seed
    st = s.stats()
    assert (st["total_requests"], st["held"], st["hanging"]) == (1, 0, 0)
    assert [r["seq"] for r in s.requests()["requests"]] == [0]
    # a stopped simulator refuses connections: what an outage looks like
    s.stop()
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        refused = False
    except ConnectionRefusedError:
        refused = True
    assert refused
    s.restart(downtime=0.2)
    assert s.request("truedy", "GET", "/batch-calls")[0] == 200
    for c in conns:
        c.close()


def test_port_in_use_is_refused(make_sim):
    a = make_sim(*NO_LIMITS)
    r = subprocess.run([sim_binary(), "--listen", f"127.0.0.1:{a.port}"], capture_output=True,
                       text=True, timeout=20)
    assert r.returncode == 1 and "cannot listen" in r.stderr and str(a.port) in r.stderr
    assert a.request("altur", "GET", "/campaigns")[0] == 200


@pytest.mark.skipif(not shutil.which("openssl"), reason="no openssl command")
def test_restart_with_https(tmp_path):
    tls = make_tls_files(tmp_path)
    with Sim(*NO_LIMITS, tls_cert=tls["cert"], tls_key=tls["key"], tls_ca=tls["ca"]) as s:
        port = s.port
        assert s.request("burki", "GET", "/campaigns/")[0] == 200
        s.restart()
        assert s.port == port and s.base.startswith("https://")
        assert s.request("burki", "GET", "/campaigns/")[0] == 200

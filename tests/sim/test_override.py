"""POST /_sim/override: hostile answers for the API requests whose path and
query contain a text: any status, raw bytes (gzip'd ones with
Content-Encoding), content types, extra headers, redirects with {port} and
{path}, and hangs that end at a clear, when the client goes or at
shutdown; before authentication, rate limits and faults; first match wins;
POST /_sim/override/clear."""

import gzip
import http.client
import json
import signal
import socket
import threading
import time
import urllib.parse

import pytest

from conftest import NO_LIMITS
from simhelpers import wait_for



def get(sim, path, **kw):
    return sim.request("altur", "GET", path, **kw)


def test_status_body_and_headers(fresh_sim):
    s = fresh_sim
    rule = s.override("/campaigns?pageSize=7", status=502, body=b"<html>bad gateway</html>",
                      content_type="text/html", headers={"X-Trace": "abc", "Retry-After": "3"})
    assert rule == {"id": 1, "match": "/campaigns?pageSize=7", "count": None, "status": 502,
                    "hang": False, "redirect": None, "body_bytes": 24,
                    "content_type": "text/html",
                    "headers": ["X-Trace: abc", "Retry-After: 3"]}
    for _ in range(2):
        status, headers, body = get(s, "/campaigns", query={"pageSize": 7})
        assert (status, body) == (502, b"<html>bad gateway</html>")
        assert headers["Content-Type"] == "text/html"
        assert headers["X-Trace"] == "abc" and headers["Retry-After"] == "3"
    assert get(s, "/campaigns", query={"pageSize": 8})[0] == 200  # no match
    log = s.requests()["requests"]
    assert [(r["status"], r["override"], r["retry_after"]) for r in log] == [
        (502, True, 3), (502, True, 3), (200, False, None)]


def test_raw_bytes_and_gzip(fresh_sim, tmp_path):
    s = fresh_sim
    payload = json.dumps({"campaigns": [], "total_count": 0}).encode()
    packed = gzip.compress(payload, mtime=0)
    f = tmp_path / "body.gz"
    f.write_bytes(packed)
    s.override("/gz", body_file=str(f), encoding="gzip")
    f.unlink()  # read when the rule is added
    status, headers, body = get(s, "/gz")
    assert status == 200 and body == packed  # sent as they are
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Content-Type"] == "application/json"
    assert gzip.decompress(body) == payload
    binary = bytes(range(256)) * 4
    s.override("/bin", body=binary, content_type="")
    status, headers, body = get(s, "/bin")
    assert body == binary and headers.get("Content-Type") is None
    s.override("/empty", status=204)
    status, headers, body = get(s, "/empty")
    assert (status, body) == (204, b"")


def test_count_and_first_match_wins(fresh_sim):
    s = fresh_sim
    s.override("contacts", status=500, count=2)
    s.override("contacts", status=418)
    s.override("/campaigns", status=503, count=1)
    codes = [get(s, "/campaigns/1/contacts")[0] for _ in range(4)]
    assert codes == [500, 500, 418, 418]
    assert get(s, "/campaigns")[0] == 503
    assert get(s, "/campaigns")[0] == 200
    assert s.clear_overrides() == {"cleared": 3}  # used-up rules count too
    assert get(s, "/campaigns/1/contacts")[0] == 404
    assert s.clear_overrides() == {"cleared": 0}


def test_clear_by_match(fresh_sim):
    s = fresh_sim
    s.override("/campaigns", status=500)
    s.override("/call/", status=501)
    assert s.clear_overrides("/campaigns") == {"cleared": 1}
    assert get(s, "/campaigns")[0] == 200
    assert get(s, "/call/x")[0] == 501


def test_before_auth_rate_limit_and_faults(make_sim):
    s = make_sim("--faults", "5xx=1", "--rate-limit", "truedy=1/min")
    s.override("/batch-calls", status=200, body='{"data": []}')
    for _ in range(3):
        status, _, body = s.request("truedy", "GET", "/batch-calls", auth=False)
        assert (status, body) == (200, b'{"data": []}')
    assert s.request("truedy", "GET", "/calls/x")[0] in (500, 503)
    f = s.stats()["faults"]["truedy"]
    assert (f["override"], f["5xx"]) == (3, 1)
    assert s.stats()["providers"]["truedy"]["endpoints"]["GET /batch-calls"] == 3


def test_redirect(fresh_sim):
    s = fresh_sim
    s.override("/campaigns", redirect="http://localhost:{port}{path}", count=1)
    s.override("/call/", redirect="https://example.invalid/x", status=307,
               headers=["Cache-Control: no-store"])
    status, headers, body = get(s, "/campaigns", query={"pageSize": 3})
    assert status == 302 and body == b""
    assert headers["Location"] == f"http://localhost:{s.port}/api/v1.0/campaigns?pageSize=3"
    # following it by hand: another origin (localhost), same simulator
    u = urllib.parse.urlsplit(headers["Location"])
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.request("GET", f"{u.path}?{u.query}", headers=s.auth_headers("altur"))
    assert json.loads(conn.getresponse().read())["total_count"] == 4
    conn.close()
    status, headers, _ = get(s, "/call/abc")
    assert status == 307 and headers["Location"] == "https://example.invalid/x"
    assert headers["Cache-Control"] == "no-store"
    assert s.stats()["faults"]["altur"]["redirect"] == 2


def raw_request(port, path, timeout):
    c = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    c.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return c


def test_hang_until_cleared(fresh_sim):
    s = fresh_sim
    s.override("/batch-calls", hang=True)
    c = raw_request(s.port, "/api/public/v1/batch-calls", timeout=30)
    wait_for(lambda: s.stats()["hanging"] == 1, "the hung request")
    assert s.stats()["providers"]["truedy"]["in_flight"] == 1
    c.settimeout(0.5)
    with pytest.raises(socket.timeout):
        c.recv(1)  # nothing comes
    # the rest goes on meanwhile
    assert s.request("truedy", "GET", "/calls/x")[0] == 404
    (r, _) = s.requests()["requests"]
    assert r["done_ms"] is None
    assert s.clear_overrides() == {"cleared": 1}
    c.settimeout(10)
    assert c.recv(1) == b""  # closed without an answer
    c.close()
    wait_for(lambda: s.stats()["hanging"] == 0, "the end of the hang")
    (r, _) = s.requests()["requests"]
    assert (r["status"], r["override"]) == (None, True) and r["done_ms"] >= r["t_ms"]
    assert s.stats()["faults"]["truedy"]["override"] == 1
    assert s.stats()["providers"]["truedy"]["in_flight"] == 0
    assert s.request("truedy", "GET", "/batch-calls")[0] == 200


def test_hang_ends_when_the_client_goes(fresh_sim):
    s = fresh_sim
    s.override("/campaigns/", hang=True, count=2)
    conns = [raw_request(s.port, "/api/v1/campaigns/", timeout=5) for _ in range(2)]
    wait_for(lambda: s.stats()["hanging"] == 2, "two hung requests")
    conns[0].close()
    wait_for(lambda: s.stats()["hanging"] == 1, "the first hang to notice its client left")
    assert s.request("burki", "GET", "/campaigns/")[0] == 200  # the count is used up
    conns[1].close()
    wait_for(lambda: s.stats()["hanging"] == 0, "the second hang")
    log = s.requests()["requests"]
    assert [(r["status"], r["override"]) for r in log] == [(None, True), (None, True),
                                                           (200, False)]


def test_hang_at_shutdown(make_sim):
    s = make_sim(*NO_LIMITS)
    s.override("/api/", hang=True)
    conns = [raw_request(s.port, "/api/v1.0/campaigns", timeout=30) for _ in range(3)]
    wait_for(lambda: s.stats()["hanging"] == 3, "three hung requests")
    t0 = time.monotonic()
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(timeout=10) == 0
    assert time.monotonic() - t0 < 3
    for c in conns:
        c.close()


def test_hang_in_a_thread_with_the_helper(fresh_sim):
    s = fresh_sim
    s.override("/campaigns", hang=True, count=1)
    out = []
    th = threading.Thread(target=lambda: out.append(_try(lambda: get(s, "/campaigns"))))
    th.start()
    wait_for(lambda: s.stats()["hanging"] == 1, "the hung request")
    s.clear_overrides()
    th.join(10)
    assert out and isinstance(out[0], (http.client.RemoteDisconnected, ConnectionError))


def _try(fn):
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - the test looks at which
        return e


def test_form_and_json_bodies(fresh_sim):
    s = fresh_sim
    status, _, body = s.raw("POST", "/_sim/override",
                            body=b"match=%2Fcall%2F&status=500&header=X-A%3A+1&header=X-B:2",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200, body
    assert json.loads(body)["headers"] == ["X-A: 1", "X-B: 2"]
    status, headers, _ = get(s, "/call/1")
    assert (status, headers["X-A"], headers["X-B"]) == (500, "1", "2")
    status, _, body = s.raw("POST", "/_sim/override?count=1", body=json.dumps(
        {"match": "/campaigns", "status": 401, "body": "{\"error\": 401}", "hang": False,
         "header": ["WWW-Authenticate: api-key"]}),
        headers={"Content-Type": "application/json"})
    assert status == 200, body
    assert json.loads(body)["count"] == 1
    status, headers, body = get(s, "/campaigns")
    assert (status, body, headers["WWW-Authenticate"]) == (401, b'{"error": 401}', "api-key")


@pytest.mark.parametrize("query,why", [
    ("", b"match"),
    ("match=", b"match"),
    ("match=x&count=0", b"count"),
    ("match=x&status=99", b"status"),
    ("match=x&status=600", b"status"),
    ("match=x&hang=maybe", b"hang"),
    ("match=x&frob=1", b"unknown parameter"),
    ("match=x&header=NoColon", b"header"),
    ("match=x&header=Bad%20Name:1", b"header"),
    ("match=x&header=X:a%0d%0aY:b", b"line break"),
    ("match=x&header=Content-Length:5", b"Content-Length"),
    ("match=x&encoding=g%20zip", b"encoding"),
    ("match=x&body_file=/nonexistent/file", b"body_file"),
    ("match=x&body=a&body_file=/etc/hostname", b"body"),
    ("match=x&redirect=", b"redirect"),
])
def test_bad_rules(sim, query, why):
    status, _, body = sim.raw("POST", "/_sim/override?" + query)
    assert status == 400 and why in body, body
    assert sim.raw("GET", "/_sim/override")[0] == 405
    status, _, body = sim.raw("POST", "/_sim/override", body=b"[1]",
                              headers={"Content-Type": "application/json"})
    assert status == 400
    assert sim.stats()["faults"]["total"]["override"] == 0

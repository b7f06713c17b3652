"""campaignfs --check: one request per account, a line each, and an exit
status; the reasons told apart (credential, wrong URL path, unreachable,
TLS, rate limited) with what to do, never a secret."""
import json
import os
import re
import socket
import subprocess
import tempfile

import pytest

from campaignfs_sim import Sim, make_tls_files
from conftest import PROVIDERS
from mountlib import CAMPAIGNFS
from mountlib import cache_home_in_tmp  # noqa: F401  (autouse: no disk cache in ~/.cache)
from test_secrets import secrets_of


@pytest.fixture(scope="module")
def sim():
    # 150: more than the first page of Altur and Truedy (100), so the count
    # comes from the total the page tells, not from its records
    with Sim("--rate-limit", "truedy=0", "--campaigns", "150", seed=47) as s:
        yield s


def check(config, *extra, timeout=60):
    out = subprocess.run([CAMPAIGNFS, "--check", "-o", "config=" + config, *extra],
                         capture_output=True, text=True, timeout=timeout)
    assert out.stderr == "", out.stderr  # failures go to stdout; nothing else (sanitizers)
    lines = dict(line.split(": ", 1) for line in out.stdout.splitlines())
    return out, lines


def edited(sim, old, new):
    path = os.path.join(tempfile.mkdtemp(prefix="cfs-check-"), "config")
    text = sim.config_text
    assert old in text
    with open(path, "w") as f:
        f.write(text.replace(old, new, 1))
    os.chmod(path, 0o600)
    return path


def line_of(text, key, section):
    """The 1-based line of key = in [section] of a config's text."""
    lines = text.splitlines()
    start = lines.index("[%s]" % section)
    return next(i + 1 for i in range(start, len(lines))
                if lines[i].split("=")[0].strip() == key)


def url_of(sim, provider):
    section = sim.config_text.split("[%s]" % provider, 1)[1]
    return re.search(r"^url\s*=\s*(\S+)", section, re.M).group(1)


def test_a_good_config_is_ok_with_one_request_an_account(sim):
    mark = sim.requests()["next"]
    out, lines = check(sim.config_path)
    assert out.returncode == 0, out
    assert list(lines) == PROVIDERS
    for p in PROVIDERS:
        n = len(sim.dump(p)["campaigns"])
        assert re.match(r"ok: %d campaigns in \d+ ms \(http://127\.0\.0\.1:\d+" % n, lines[p]), \
            lines[p]
    asked = sim.requests(mark)["requests"]
    assert sorted(r["key"] for r in asked) == sorted(sim.key_of(p) for p in PROVIDERS)


def test_a_wrong_key_says_so_and_names_the_key_and_file(sim):
    key = sim.creds["burki"]["api_key"]
    config = edited(sim, key, "wrong-" + key[::-1])
    out, lines = check(config)
    assert out.returncode == 1
    assert lines["burki"].startswith(
        "FAILED: the credential was refused: check api_key in section [burki] of %s: " % config), \
        lines["burki"]
    assert "HTTP 401" in lines["burki"]
    assert [lines[p][:3] for p in PROVIDERS if p != "burki"] == ["ok:"] * 3
    for secret in secrets_of(sim.config_text) + ["wrong-" + key[::-1]]:
        assert secret not in out.stdout + out.stderr


def test_a_wrong_secret_in_a_file_names_that_key(sim):
    secret = sim.creds["koreai"]["client_secret"]
    wrong = "not-" + secret[::-1]
    directory = tempfile.mkdtemp(prefix="cfs-check-")
    with open(os.path.join(directory, "koreai.secret"), "w") as f:
        f.write(wrong + "\n")
    os.chmod(os.path.join(directory, "koreai.secret"), 0o600)
    config = edited(sim, "client_secret = " + secret,
                    "client_secret_file = %s/koreai.secret" % directory)
    out, lines = check(config)
    assert out.returncode == 1
    assert lines["koreai"].startswith(
        "FAILED: the credential was refused: check client_secret_file in section [koreai] of "
        "%s: " % config), lines["koreai"]
    for s in secrets_of(sim.config_text) + [wrong]:
        assert s not in out.stdout + out.stderr


def test_a_wrong_url_path_is_named_as_such(sim):
    url = url_of(sim, "altur")
    out, lines = check(edited(sim, url, url + "/typo"))
    assert out.returncode == 1
    assert "path of url = is probably wrong" in lines["altur"], lines["altur"]
    assert "/typo/campaigns" in lines["altur"]


def test_an_unreachable_port_is_named_as_such(sim):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    url = url_of(sim, "truedy")
    dead = re.sub(r":\d+", ":%d" % port, url, count=1)
    out, lines = check(edited(sim, url, dead), "-o", "timeout=5")
    assert out.returncode == 1
    assert lines["truedy"].startswith(
        "FAILED: nothing answers at 127.0.0.1:%d: check url = and the network" % port), lines
    assert ":%d/" % port in lines["truedy"]
    assert [lines[p][:3] for p in PROVIDERS if p != "truedy"] == ["ok:"] * 3


def test_a_429_past_the_timeout_fails_at_once(sim):
    sim.override("/api/v1.0/campaigns?", status=429, headers={"Retry-After": "3600"})
    try:
        out, lines = check(sim.config_path, "-o", "timeout=2")
    finally:
        sim.clear_overrides()
    assert out.returncode == 1 and lines["altur"].startswith("FAILED: rate limited"), lines
    assert "rate_limit" in lines["altur"]


def test_429s_without_end_are_told_within_a_bound(sim):
    """Retry-After: 1 over and over: the engine would wait it out 20 times;
    the check gives up after 3 x timeout + 2 s (5 s here)."""
    mark = sim.requests()["next"]
    sim.override("/api/v1.0/campaigns?", status=429, headers={"Retry-After": "1"})
    try:
        out, lines = check(sim.config_path, "-o", "timeout=1", timeout=15)
    finally:
        sim.clear_overrides()
    assert out.returncode == 1, out
    assert lines["altur"].startswith("FAILED: rate limited"), lines
    assert "still HTTP 429 after 5 s" in lines["altur"], lines["altur"]
    assert [lines[p][:3] for p in PROVIDERS if p != "altur"] == ["ok:"] * 3
    asked = [r for r in sim.requests(mark)["requests"] if r["provider"] == "altur"]
    assert len(asked) >= 2 and all(r["status"] == 429 for r in asked if r["status"])


def test_the_first_page_without_a_total_is_counted_or_told_as_a_minimum(sim):
    status, _, body = sim.request("altur", "GET", "/campaigns", query={"pageSize": 100})
    assert status == 200
    page = json.loads(body)
    assert page["pagination"]["has_next"] and len(page["campaigns"]) == 100
    del page["total_count"]
    sim.override("/api/v1.0/campaigns?", body=json.dumps(page), count=1)
    out, lines = check(sim.config_path)
    assert out.returncode == 0 and lines["altur"].startswith("ok: at least 100 campaigns in"), \
        lines
    page["pagination"]["has_next"] = False
    page["pagination"].pop("has_more", None)
    page["pagination"]["next_cursor"] = None
    page["campaigns"] = page["campaigns"][:7]
    sim.override("/api/v1.0/campaigns?", body=json.dumps(page), count=1)
    out, lines = check(sim.config_path)
    assert out.returncode == 0 and lines["altur"].startswith("ok: 7 campaigns in"), lines


def test_an_untrusted_tls_certificate_names_cacert():
    tls = make_tls_files(tempfile.mkdtemp(prefix="cfs-check-tls-"))
    with Sim("--rate-limit", "truedy=0", seed=48, tls_cert=tls["cert"], tls_key=tls["key"],
             tls_ca=tls["ca"]) as https:
        out, lines = check(https.config_path)
        assert out.returncode == 1
        assert all(lines[p].startswith("FAILED: the server's TLS certificate is not trusted")
                   and "cacert =" in lines[p] for p in PROVIDERS), lines
        out, lines = check(edited(https, "[altur]\n", "[altur]\ncacert = %s\n" % tls["ca"]))
        assert out.returncode == 1 and lines["altur"].startswith("ok: "), lines
        assert lines["burki"].startswith("FAILED: the server's TLS"), lines


def test_a_config_error_names_the_file():
    missing = os.path.join(tempfile.mkdtemp(), "nope.conf")
    out = subprocess.run([CAMPAIGNFS, "--check", "-o", "config=" + missing],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and missing in out.stderr and out.stdout == ""


def test_an_account_that_cannot_open_names_its_key_and_file(sim):
    key = sim.creds["truedy"]["api_key"]
    config = edited(sim, "api_key = " + key, "api_key_command = exit 3")
    out = subprocess.run([CAMPAIGNFS, "--check", "-o", "config=" + config],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and out.stdout == "", out
    line = line_of(open(config).read(), "api_key_command", "truedy")
    assert "%s:%d: [truedy] key 'api_key_command'" % (config, line) in out.stderr, out.stderr

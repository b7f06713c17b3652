"""What campaignfs does with servers that do not behave: credentials stay
with their origin across redirects, hostile and contradicting answers fail
the one directory they answer for with a clear error (never a partial
listing), a server that says nothing is bounded by -o timeout, a message
that echoes the key is redacted, and the Kore.ai token is signed again
after a 401."""
import base64
import errno
import json
import os
import time

import pytest

from mountlib import Mount
from stubs import (BURKI_KEY, Stub, burki_page, burki_routes, gzip_bomb, ok, raw, wait_until)

CREDENTIAL_HEADERS = ("authorization", "auth", "iid", "accountid")


def good_contacts(campaign, query):
    return ok(burki_page([{"id": i, "name": "n%d" % i} for i in range(3)]))


def listdir_errno(path):
    try:
        os.listdir(path)
    except OSError as e:
        return e.errno
    return 0


def credential_headers(headers):
    return sorted(k.lower() for k in headers if k.lower() in CREDENTIAL_HEADERS)


# ---- redirects ----

def koreai_campaigns(doc_id="k1"):
    return ok({"status": "success", "message": "",
               "data": {"results": [{"_id": doc_id, "name": "x"}], "skip": 0, "limit": 100,
                        "hasMore": False, "totalPages": 1, "totalResults": 1}})


@pytest.mark.parametrize("provider", ["koreai", "burki"])
def test_a_redirect_to_another_origin_gets_no_credential(provider):
    """Kore.ai's auth/iid/accountId headers (which libcurl would pass along)
    and Authorization go only to the configured origin."""
    def other_route(stub, method, path, headers, body):
        if provider == "koreai":
            return koreai_campaigns()
        return ok(burki_page([{"id": 7, "name": "x"}]))

    with Stub(other_route) as other:
        def route(stub, method, path, headers, body):
            return 307, {"Location": other.url + path}, b""

        with Stub(route) as origin:
            conf = origin.koreai_config() if provider == "koreai" else origin.burki_config()
            with Mount(conf, extra=("-o", "timeout=3")) as m:
                names = os.listdir(m.path(provider, "campaigns"))
            assert names == (["k1"] if provider == "koreai" else ["7"])
            first = origin.seen()[0]
            assert credential_headers(first[2]), "the origin itself gets the credential"
            assert other.seen(), "the redirect was followed"
            for method, path, headers in other.seen():
                assert credential_headers(headers) == [], (method, path, headers)
                assert BURKI_KEY not in json.dumps(headers)
            if provider == "koreai":  # a 307 keeps the method and the body
                assert other.seen()[0][0] == "POST"


def test_a_redirect_within_the_origin_keeps_the_credential():
    """Burki documents a 307 between /campaigns and /campaigns/."""
    def route(stub, method, path, headers, body):
        base, _, query = path.partition("?")
        if base == "/api/v1/campaigns/":
            return 307, {"Location": "/api/v1/campaigns?" + query}, b""
        if base == "/api/v1/campaigns":
            if headers.get("Authorization") != "Bearer " + BURKI_KEY:
                return raw(b'{"detail": "Not authenticated"}', 401)
            return ok(burki_page([{"id": 7, "name": "x"}]))
        return raw(b'{"detail": "Not Found"}', 404)

    with Stub(route) as s:
        with Mount(s.burki_config()) as m:
            assert os.listdir(m.path("burki", "campaigns")) == ["7"]
        paths = [p for _, p, _ in s.seen()]
        assert paths[0].startswith("/api/v1/campaigns/?") and paths[1].startswith(
            "/api/v1/campaigns?")
        assert all(h.get("Authorization") == "Bearer " + BURKI_KEY for _, _, h in s.seen())


def chain_route(target):
    def route(stub, method, path, headers, body):
        return 302, {"Location": target(stub, path)}, b""
    return route


@pytest.mark.parametrize("case,target,message", [
    ("loop", lambda s, p: s.url + "/api/v1/campaigns/?page=1&per_page=1000"
     if p.startswith("/x") else s.url + "/x", "redirect loop"),
    ("hops", lambda s, p: s.url + "/hop%d" % (len(s.requests)), "more than 5 redirects"),
    ("scheme", lambda s, p: "ftp://127.0.0.1:%d/x" % s.port, "ftp"),
    ("file", lambda s, p: "file:///etc/passwd", "file"),
])
def test_a_redirect_that_must_not_be_followed_is_a_clear_error(case, target, message):
    with Stub(chain_route(target)) as s:
        with Mount(s.burki_config(), extra=("-o", "timeout=3"), log_errors=True) as m:
            assert listdir_errno(m.path("burki", "campaigns")) == errno.EIO
            assert message in m.stderr()
        if case == "hops":
            assert len(s.seen()) == 6  # the first request and five redirects followed
        if case == "loop":
            assert len(s.seen()) == 2


# ---- hostile and broken bodies ----

DEEP = b'{"contacts": [' + b"[" * 5000 + b"]" * 5000 + b'], "pagination": {}}'
HOSTILE = {
    "not-json": (raw(b"<html>oops</html>"), "malformed JSON", 10),
    "truncated": (raw(b'{"contacts": [{"id": 1}, {"id"'), "truncated", 10),
    "items-not-objects": (ok(burki_page([1, 2, 3])), "is not an object", 1),
    "missing-id": (ok(burki_page([{"id": 1}, {"name": "no id"}])), "has no id", 1),
    "empty-id": (ok(burki_page([{"id": ""}])), "has no id", 1),
    "id-is-an-object": (ok(burki_page([{"id": {"x": 1}}])), "has no id", 1),
    "items-not-an-array": (ok({"contacts": {"id": 1}, "pagination": {}}), "no 'contacts' array", 1),
    "deep-nesting": (raw(DEEP), "nesting too deep", 1),
    "gzip-bomb": (raw(gzip_bomb(80 << 20), headers={"Content-Encoding": "gzip"}),
                  "larger than -o max_body", 1),
    "too-large": (raw(b" " * (2 << 20)), "larger than -o max_body", 1),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_answer_fails_its_directory_and_nothing_else(case):
    answer, message, most_requests = HOSTILE[case]
    extra = ("-o", "timeout=5") + (("-o", "max_body=1M") if case == "too-large" else ())

    def contacts(campaign, query):
        return answer if campaign == 7 else good_contacts(campaign, query)

    with Stub(burki_routes(contacts)) as s:
        with Mount(s.burki_config(), extra=extra, log_errors=True) as m:
            bad = m.path("burki", "campaigns", "7", "contacts")
            assert listdir_errno(bad) == errno.EIO
            assert message in m.stderr()
            assert "http://127.0.0.1:%d/api/v1/campaigns/7/contacts" % s.port in m.stderr()
            assert sorted(os.listdir(m.path("burki", "campaigns", "8", "contacts"))) == [
                "0.json", "1.json", "2.json"]
            assert listdir_errno(bad) == errno.EIO  # still nothing shown, not an empty dir
        asked = len(s.seen(lambda m_, p, h: p.startswith("/api/v1/campaigns/7/contacts")))
        # a damaged transfer is asked again (up to 10 attempts); an answer
        # that is wrong as it stands is not; the second listing meets the
        # failure's backoff and asks nothing
        assert 1 <= asked <= most_requests
        if most_requests == 1:
            assert asked == 1


def test_a_kore_failure_status_in_a_200_is_an_error():
    def route(stub, method, path, headers, body):
        return ok({"status": "failure", "message": "stream not found", "data": None})

    with Stub(route) as s:
        with Mount(s.koreai_config(), extra=("-o", "timeout=3"), log_errors=True) as m:
            assert listdir_errno(m.path("koreai", "campaigns")) == errno.EIO
            assert "stream not found" in m.stderr()
        assert len(s.seen()) == 1  # the server said no: not asked again


# ---- pages that contradict themselves ----

def contradicting(case):
    def contacts(campaign, query):
        if campaign != 7:
            return good_contacts(campaign, query)
        page = int(dict(kv.split("=") for kv in query.split("&")).get("page", 1))
        if case == "repeated-page":  # the page parameter is ignored
            return ok(burki_page([{"id": i} for i in range(1000)], page=1, pages=3, has_next=True))
        if case == "empty-page-with-more":
            items = [{"id": i} for i in range(1000)] if page == 1 else []
            return ok(burki_page(items, page=page, pages=3, total=3000, has_next=True))
        if case == "far-fewer-than-promised":
            return ok(burki_page([{"id": 1}, {"id": 2}], total=5000, pages=1, has_next=False))
        raise AssertionError(case)
    return contacts


@pytest.mark.parametrize("case,message", [
    ("repeated-page", "repeats page 1 record for record"),
    ("empty-page-with-more", "is empty but says that more pages follow"),
    ("far-fewer-than-promised", "promised 5000"),
])
def test_pages_that_contradict_themselves_are_an_error(case, message):
    with Stub(burki_routes(contradicting(case))) as s:
        with Mount(s.burki_config(), extra=("-o", "timeout=3"), log_errors=True) as m:
            assert listdir_errno(m.path("burki", "campaigns", "7", "contacts")) == errno.EIO
            assert message in m.stderr()
            assert len(os.listdir(m.path("burki", "campaigns", "8", "contacts"))) == 3


def test_a_cursor_that_repeats_is_an_error():
    """Altur pages its campaign list by cursor: a cursor seen before would
    make the walk go round for ever."""
    def route(stub, method, path, headers, body):
        base, _, query = path.partition("?")
        cursor = "A" if "cursor=B" in query else "B"
        return ok({"campaigns": [{"id": cursor, "name": cursor}],
                   "pagination": {"has_next": True, "next_cursor": cursor}})

    with Stub(route) as s:
        conf = s.config("[altur]\nprovider = altur\nurl = %s\napi_key = altur-key-0123456789\n"
                        % s.url)
        with Mount(conf, extra=("-o", "timeout=3"), log_errors=True) as m:
            assert listdir_errno(m.path("altur", "campaigns")) == errno.EIO
            assert "a next cursor that an earlier page gave" in m.stderr()
        assert len(s.seen()) == 3  # B, A, then B again: stop


# ---- silence ----

def test_a_server_that_never_answers_is_bounded_by_the_timeout():
    with Stub(lambda *a: Stub.HANG) as s:
        with Mount(s.burki_config(), extra=("-o", "timeout=2"), log_errors=True) as m:
            t0 = time.monotonic()
            assert listdir_errno(m.path("burki", "campaigns")) == errno.ETIMEDOUT
            took = time.monotonic() - t0
            assert "did not answer in time" in m.stderr()
        # an attempt lasts at most 2 s and none starts past 2 x timeout:
        # a bound on the number of attempts, not a timing
        assert 1 <= len(s.seen()) <= 3, (len(s.seen()), took)


# ---- credentials in answers, renewed credentials ----

def test_a_message_that_echoes_the_key_is_redacted():
    def route(stub, method, path, headers, body):
        return raw(json.dumps({"detail": "invalid key %s\x1b[31m" % BURKI_KEY}).encode(), 401)

    with Stub(route) as s:
        with Mount(s.burki_config(), extra=("-o", "timeout=3"), log_errors=True) as m:
            assert listdir_errno(m.path("burki", "campaigns")) == errno.EACCES
            log = m.stderr()
        assert "invalid key [redacted]" in log
        assert BURKI_KEY not in log
        assert "\x1b" not in log and "\\x1b[31m" in log  # the escape reaches no terminal


def jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_the_kore_token_is_signed_again_after_a_401():
    def route(stub, method, path, headers, body):
        tokens = [h.get("auth") for _, _, h in stub.seen()]
        if len(set(tokens)) == 1:  # the first token is refused
            return raw(b'{"status": "failure", "message": "token expired"}', 401)
        return koreai_campaigns()

    with Stub(route) as s:
        with Mount(s.koreai_config(), extra=("-o", "timeout=3,loglevel=info"),
                   log_errors=True) as m:
            assert os.listdir(m.path("koreai", "campaigns")) == ["k1"]
            assert "renewed" in m.stderr()
        tokens = [h.get("auth") for _, _, h in s.seen()]
        assert len(tokens) == 2 and tokens[0] != tokens[1]
        for t in tokens:
            c = jwt_claims(t)
            assert c["appId"] == "cs-1" and c["exp"] > c["iat"]
            assert c["exp"] - c["iat"] <= 3600


def test_a_refused_key_that_cannot_be_renewed_is_asked_once():
    def route(stub, method, path, headers, body):
        return raw(b'{"detail": "Invalid API key"}', 401)

    with Stub(route) as s:
        with Mount(s.burki_config(), extra=("-o", "timeout=3"), log_errors=True) as m:
            assert listdir_errno(m.path("burki", "campaigns")) == errno.EACCES
        assert len(s.seen()) == 1  # an inline key has nothing new to try

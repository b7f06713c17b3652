"""Programmable stand-ins for a provider's API on 127.0.0.1 port 0, for the
tests of what campaignfs does with answers no honest server gives: hostile
bodies, contradicting pages, redirects, credentials echoed back, silence.

A Stub answers each request with route(stub, method, path, headers, body),
which returns (status, headers, body bytes), or None to hang up without an
answer, or stub.HANG to keep the connection open and say nothing.  Every
request is recorded (method, path, headers) so a test can see which
server received which credential.
"""
import gzip
import http.server
import json
import os
import shutil
import tempfile
import threading
import time

BURKI_KEY = "burki-secret-key-0123456789"


class Stub:
    HANG = object()

    def __init__(self, route):
        stub = self
        self.route = route
        self.requests = []
        self.lock = threading.Lock()
        self.released = threading.Event()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                with stub.lock:
                    stub.requests.append((self.command, self.path, dict(self.headers.items())))
                out = stub.route(stub, self.command, self.path, self.headers, body)
                if out is Stub.HANG:
                    stub.released.wait(120)
                    return
                if out is None:
                    self.close_connection = True
                    return
                status, headers, data = out
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = answer
            do_POST = answer

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.dir = tempfile.mkdtemp(prefix="cfs-stub-")

    def config(self, text):
        """Writes a config (mode 0600) and returns its path."""
        path = os.path.join(self.dir, "stub.conf")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        return path

    def burki_config(self, url=None):
        return self.config("[burki]\nprovider = burki\nurl = %s\napi_key = %s\n"
                           % (url or self.url, BURKI_KEY))

    def koreai_config(self, url=None):
        return self.config("[koreai]\nprovider = koreai\nurl = %s\nstream_id = st-1\n"
                           "account_id = acc-1\nclient_id = cs-1\n"
                           "client_secret = kore-client-secret-0123456789\n" % (url or self.url))

    def seen(self, predicate=lambda m, p, h: True):
        with self.lock:
            return [r for r in self.requests if predicate(*r)]

    def close(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def ok(doc, headers=None):
    return 200, {"Content-Type": "application/json", **(headers or {})}, json.dumps(doc).encode()


def raw(body, status=200, headers=None):
    return status, {"Content-Type": "application/json", **(headers or {})}, body


def burki_page(items, page=1, pages=1, total=None, has_next=None):
    return {"contacts": items, "campaigns": items, "executions": items,
            "pagination": {"page": page, "per_page": 1000,
                           "total_items": len(items) if total is None else total,
                           "total_pages": pages,
                           "has_next": page < pages if has_next is None else has_next,
                           "has_prev": page > 1}}


def burki_routes(contacts, campaigns=(7, 8)):
    """A Burki with campaigns 7 and 8; contacts(campaign, query) answers a
    contacts page (as route() does), executions are empty."""
    def route(stub, method, path, headers, body):
        base, _, query = path.partition("?")
        if base == "/api/v1/campaigns/":
            return ok(burki_page([{"id": c, "name": "c%d" % c} for c in campaigns]))
        parts = base.split("/")
        if len(parts) == 6 and parts[5] == "contacts":
            return contacts(int(parts[4]), query)
        if len(parts) == 6 and parts[5] == "executions":
            return ok(burki_page([]))
        if len(parts) == 5:
            return ok({"id": int(parts[4]), "name": "c" + parts[4]})
        return raw(b'{"detail": "Not Found"}', 404)
    return route


def gzip_bomb(size):
    """A gzip body that inflates to size bytes of spaces (a valid JSON prefix)."""
    return gzip.compress(b" " * size, compresslevel=9)


def wait_until(predicate, limit=20):
    deadline = time.time() + limit
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()

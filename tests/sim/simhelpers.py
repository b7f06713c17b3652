"""Helpers for the simulator tests: one ordinary request per provider
(probe), waiting for a condition, and paging helpers that walk a whole
listing the way a client must, per provider and pagination style, and
report what it saw."""

import json
import time

# one ordinary request per provider: (method, path relative to the prefix, kwargs)
PROBES = {
    "altur": ("GET", "/campaigns", {}),
    "burki": ("GET", "/campaigns/", {}),
    "truedy": ("GET", "/batch-calls", {}),
    "koreai": ("POST", "/campaign/getAllCampaignDetails", {"body": {"type": "voice"}}),
}


def probe(sim, provider):
    """The provider's PROBES request: (status, headers, body)."""
    method, path, kw = PROBES[provider]
    return sim.request(provider, method, path, **kw)


def wait_for(cond, what, timeout=20):
    """Polls cond() until it is true; fails after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)

# (provider, kind) -> the provider's largest page size
MAX_PAGE = {
    ("altur", "campaigns"): 100, ("altur", "contacts"): 100, ("altur", "calls"): 100,
    ("burki", "campaigns"): 1000, ("burki", "contacts"): 1000, ("burki", "calls"): 1000,
    ("truedy", "campaigns"): 100, ("truedy", "contacts"): 100,
    ("koreai", "campaigns"): 100, ("koreai", "contacts"): 100,
}

# provider -> id field of contacts (None: no id) and of calls
CONTACT_ID = {"altur": "id", "burki": "id", "truedy": "contact_id", "koreai": None}
CALL_ID = {"altur": "id", "burki": "execution_id", "truedy": "id"}


def get_json(sim, provider, method, path, **kw):
    status, _, body = sim.request(provider, method, path, **kw)
    assert status == 200, f"{provider} {method} {path} {kw}: {status} {body[:300]!r}"
    return json.loads(body)


class Walk:
    """The result of paging through a listing."""

    def __init__(self):
        self.items = []
        self.requests = 0
        self.total = None
        self.pages = []  # decoded bodies


def _altur(sim, kind, campaign, size, status):
    w, index = Walk(), 0
    path = f"/campaigns/{campaign}/{kind}"
    while True:
        q = {"pageIndex": index, "pageSize": size}
        if status:
            q["status"] = status
        page = get_json(sim, "altur", "GET", path, query=q)
        w.pages.append(page)
        w.requests += 1
        if index == 0:
            w.total = page["total_count"]
        w.items += page[kind]
        if not page["pagination"]["has_next"]:
            return w
        index = page["pagination"]["next_page"]


def _altur_campaigns(sim, size, status):
    w, cursor = Walk(), None
    while True:
        q = {"pageSize": size}
        if cursor:
            q["cursor"] = cursor
        if status:
            q["status"] = status
        page = get_json(sim, "altur", "GET", "/campaigns", query=q)
        w.pages.append(page)
        w.requests += 1
        w.total = w.total if w.total is not None else page["total_count"]
        w.items += page["campaigns"]
        if not page["pagination"]["has_next"]:
            return w
        cursor = page["pagination"]["next_cursor"]


def _burki(sim, path, key, size, status):
    w, page_no = Walk(), 1
    while True:
        q = {"page": page_no, "per_page": size}
        if status:
            q["status"] = status
        page = get_json(sim, "burki", "GET", path, query=q)
        w.pages.append(page)
        w.requests += 1
        w.total = page["pagination"]["total_items"]
        w.items += page[key]
        if not page["pagination"]["has_next"]:
            return w
        page_no += 1


def _truedy(sim, path, size, status):
    w, offset = Walk(), 0
    while True:
        q = {"offset": offset, "limit": size}
        if status:
            q["status"] = status
        page = get_json(sim, "truedy", "GET", path, query=q)
        w.pages.append(page)
        w.requests += 1
        w.total = page["pagination"]["total"]
        w.items += page["data"]
        if not page["pagination"]["has_more"]:
            return w
        offset += size


def _koreai_contacts(sim, campaign, size):
    w, page_no = Walk(), 1
    acct = sim.creds["koreai"]["account_id"]
    while True:
        page = get_json(sim, "koreai", "POST", f"/campaign/{campaign}/status",
                        query={"view": "contacts", "accountId": acct},
                        body={"page": page_no, "limit": size})
        w.pages.append(page)
        w.requests += 1
        w.total = page["data"]["totalResults"]
        w.items += page["data"]["results"]
        if page_no >= page["data"]["totalPages"]:
            return w
        page_no += 1


def _koreai_campaigns(sim, size):
    w, skip = Walk(), 0
    acct = sim.creds["koreai"]["account_id"]
    while True:
        page = get_json(sim, "koreai", "POST", "/campaign/getAllCampaignDetails",
                        query={"accountId": acct},
                        body={"type": "voice", "skip": skip, "limit": size})
        w.pages.append(page)
        w.requests += 1
        w.total = page["data"]["totalResults"]
        w.items += page["data"]["results"]
        if not page["data"]["hasMore"]:
            return w
        skip += size


def walk(sim, provider, kind, campaign=None, size=None, status=None):
    """Pages through campaigns, contacts or calls of one provider."""
    size = size or MAX_PAGE[(provider, kind)]
    if provider == "altur":
        if kind == "campaigns":
            return _altur_campaigns(sim, size, status)
        return _altur(sim, kind, campaign, size, status)
    if provider == "burki":
        if kind == "campaigns":
            return _burki(sim, "/campaigns/", "campaigns", size, status)
        sub = "executions" if kind == "calls" else "contacts"
        return _burki(sim, f"/campaigns/{campaign}/{sub}", sub, size, status)
    if provider == "truedy":
        if kind == "campaigns":
            return _truedy(sim, "/batch-calls", size, status)
        return _truedy(sim, f"/batch-calls/{campaign}/contacts", size, status)
    if kind == "campaigns":
        return _koreai_campaigns(sim, size)
    return _koreai_contacts(sim, campaign, size)


def record_key(provider, kind, rec):
    """A hashable identity for a record (Kore.ai contacts: the whole record)."""
    if kind == "campaigns":
        return rec.get("_id", rec.get("id"))
    if kind == "calls":
        return rec[CALL_ID[provider]]
    if provider == "koreai":
        return json.dumps(rec, sort_keys=True)
    return rec.get("contact_id", rec.get("id"))

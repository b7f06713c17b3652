"""Records have each provider's exact field names, key order and JSON types
(seed docs 000-004 and providers.md), realistic values, and the dump serves
exactly what the API serves."""

import json
import re

import pytest

from simhelpers import get_json, walk

E164 = re.compile(r"^\+[1-9]\d{7,14}$")
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
ALTUR_NAIVE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")

ALTUR_CONTACT = ["f_id", "id", "name", "contact", "status", "context", "retries",
                 "has_follow_up", "call_count", "billed_duration", "last_call_at",
                 "extracted_data", "tags"]
ALTUR_CALL = ["id", "type", "status", "answered_by", "created_at", "started_at", "ended_at",
              "duration", "billed_duration", "contact", "extracted_data", "tags",
              "recording_url", "policy_evaluation"]
ALTUR_POLICY = ["score", "policies_evaluated_count", "policies_met_count",
                "policies_not_applicable_count", "completed", "completed_at", "policies"]
BURKI_CONTACT = ["id", "phone_number", "contact_data", "status", "attempts", "created_at",
                 "last_attempt_at"]
BURKI_EXECUTION = ["id", "execution_id", "contact_id", "contact_name", "contact_phone", "status",
                   "call_id", "executed_at", "execution_data"]
BURKI_CAMPAIGN_FIELDS = ["id", "name", "status", "total_contacts", "completed_contacts",
                         "failed_contacts", "created_at", "started_at", "completed_at",
                         "metrics"]
TRUEDY_CONTACT = ["contact_id", "phone_number", "first_name", "call_status", "call_id",
                  "called_at"]
TRUEDY_OLD_CONTACT = ["id", "name", "phone", "call_status", "call_id", "called_at"]
TRUEDY_CALL = ["id", "status", "direction", "agent_id", "to", "from", "duration_seconds",
               "recording_url", "transcript", "summary", "metadata", "started_at", "ended_at",
               "created_at"]
TRUEDY_BATCH = ["id", "name", "status", "agent_id", "total_contacts", "called", "completed",
                "failed", "pending", "created_at", "updated_at"]
KOREAI_CONTACT = ["phoneNumber", "uniqueId", "dialerOutcome", "numberOfAttemptsSoFar",
                  "botSessionId", "agentDispositionCodes", "botOutboundStatus",
                  "botOutboundStatusDetail"]
KOREAI_CAMPAIGN = ["_id", "name", "status", "priority", "dialingMode", "createdAt", "updatedAt",
                   "contactLists"]


def in_order(keys, expected):
    """keys contain expected as a subsequence (documented fields, in order)."""
    it = iter(keys)
    return all(k in it for k in expected)


@pytest.fixture(scope="module")
def dumps(sim):
    return {p: sim.dump(p) for p in ("altur", "burki", "truedy", "koreai")}


def sim_now(sim):
    body = get_json(sim, "truedy", "GET", "/batch-calls", query={"limit": 1})
    return body["meta"]["ts"]


def test_altur_contacts_page_shape(sim, dumps):
    camp = dumps["altur"]["campaigns"][1]["id"]
    page = get_json(sim, "altur", "GET", f"/campaigns/{camp}/contacts", query={"pageSize": 100})
    assert list(page) == ["total_count", "contacts", "pagination"]
    assert list(page["pagination"]) == ["has_next", "has_previous", "next_page", "previous_page"]
    assert page["pagination"]["previous_page"] is None
    for c in page["contacts"]:
        assert list(c) == ALTUR_CONTACT
        assert isinstance(c["id"], int) and isinstance(c["f_id"], str)
        assert isinstance(c["retries"], int) and isinstance(c["call_count"], int)
        assert isinstance(c["billed_duration"], int) and isinstance(c["has_follow_up"], bool)
        assert isinstance(c["extracted_data"], dict) and isinstance(c["tags"], list)
        assert E164.match(c["contact"]), c["contact"]
        if c["status"] == "queue":
            assert c["last_call_at"] is None and c["call_count"] == 0
        else:
            assert ALTUR_NAIVE.match(c["last_call_at"]), c["last_call_at"]
    statuses = {c["status"] for c in page["contacts"]}
    assert statuses <= {"queue", "sending", "failed", "retrying", "converted", "voicemail",
                        "answered"}
    assert len(statuses) >= 4


def test_altur_calls_shape(sim, dumps):
    camp = dumps["altur"]["campaigns"][1]["id"]
    page = get_json(sim, "altur", "GET", f"/campaigns/{camp}/calls", query={"pageSize": 100})
    assert list(page) == ["total_count", "calls", "pagination"]
    assert list(page["pagination"]) == ["page_index", "page_size", "has_next", "has_previous",
                                        "next_page", "previous_page"]
    seen = set()
    for call in walk(sim, "altur", "calls", camp).items:
        assert list(call) == ALTUR_CALL
        assert re.match(r"^call_[0-9a-f]+$", call["id"])
        assert call["recording_url"] == f"/api/v1.0/call/{call['id']}/recording"
        assert list(call["contact"]) == ["id", "f_id", "name", "phone_number", "status"]
        assert list(call["policy_evaluation"]) == ALTUR_POLICY
        assert ISO_Z.match(call["created_at"])
        assert call["answered_by"] in ("human", "machine", "unknown", None)
        seen.add(call["status"])
        if call["status"] == "in-progress":
            assert call["ended_at"] is None
        if call["policy_evaluation"]["completed"]:
            assert isinstance(call["policy_evaluation"]["score"], (int, float))
        else:
            assert call["policy_evaluation"]["score"] is None
    assert "ended" in seen and "in-progress" in seen


def test_altur_single_records(sim, dumps):
    camp = dumps["altur"]["campaigns"][2]
    one = get_json(sim, "altur", "GET", f"/campaigns/{camp['id']}")
    assert list(one) == ["success", "campaign"] and one["success"] is True
    assert one["campaign"] == camp["detail"] == camp["list_item"]
    assert isinstance(one["campaign"]["id"], int)
    assert list(one["campaign"]["agent"]) == ["id", "name"]
    assert set(one["campaign"]["scheduling"]) == {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
    contact = camp["contacts"][3]
    got = get_json(sim, "altur", "GET", f"/campaigns/{camp['id']}/contacts/{contact['id']}")
    assert got == {"success": True, "contact": contact}
    call = camp["calls"][0]
    detail = get_json(sim, "altur", "GET", f"/call/{call['id']}")
    assert {k: v for k, v in detail.items() if k != "thread"} == call
    assert detail["thread"]["id"].startswith("thr_")


def test_burki_shapes(sim, dumps):
    camp = dumps["burki"]["campaigns"][1]
    page = get_json(sim, "burki", "GET", f"/campaigns/{camp['id']}/contacts",
                    query={"per_page": 200})
    assert list(page) == ["contacts", "pagination"]
    assert list(page["pagination"]) == ["page", "per_page", "total_items", "total_pages",
                                        "has_next", "has_prev"]
    with_custom = 0
    for c in page["contacts"]:
        assert list(c) == BURKI_CONTACT
        assert isinstance(c["id"], int) and isinstance(c["attempts"], int)
        assert E164.match(c["phone_number"])
        assert list(c["contact_data"])[:3] == ["company", "source", "variable_values"]
        with_custom += "custom_fields" in c["contact_data"]
        assert ISO_Z.match(c["created_at"])
        if c["status"] == "pending":
            assert c["last_attempt_at"] is None and c["attempts"] == 0
        elif c["status"] != "skipped":
            assert ISO_Z.match(c["last_attempt_at"])
    assert 0 < with_custom < len(page["contacts"])
    ex = get_json(sim, "burki", "GET", f"/campaigns/{camp['id']}/executions")
    assert list(ex) == ["executions", "pagination"]
    for e in ex["executions"]:
        assert list(e) == BURKI_EXECUTION
        assert isinstance(e["id"], int) and re.match(r"^exec_[0-9a-f]+$", e["execution_id"])
        assert "duration_seconds" in e["execution_data"]
        if e["status"] == "pending":
            assert e["executed_at"] is None and e["call_id"] is None
    one = get_json(sim, "burki", "GET", f"/campaigns/{camp['id']}")
    assert one == camp["detail"]
    assert in_order(list(one), BURKI_CAMPAIGN_FIELDS)
    assert isinstance(one["metrics"], dict)


def test_truedy_shapes(sim, dumps):
    batches = dumps["truedy"]["campaigns"]
    old = [b for b in batches if b["contacts"] and "contact_id" not in b["contacts"][0]]
    assert len(old) == 1, "exactly one batch serves the older contact shape"
    for b in batches:
        assert re.match(r"^bc_", b["id"])
        assert list(b["list_item"]) == TRUEDY_BATCH
        body = get_json(sim, "truedy", "GET", f"/batch-calls/{b['id']}")
        assert list(body) == ["data", "meta"] and body["data"] == b["detail"]
        assert list(body["meta"]) == ["request_id", "ts"]
        page = get_json(sim, "truedy", "GET", f"/batch-calls/{b['id']}/contacts",
                        query={"limit": 100})
        assert list(page) == ["data", "meta", "pagination"]
        assert list(page["pagination"]) == ["total", "limit", "offset", "has_more"]
        shape = TRUEDY_OLD_CONTACT if b is old[0] else TRUEDY_CONTACT
        for c in page["data"]:
            assert list(c) == shape
            if c["call_status"] == "pending":
                assert c["call_id"] is None and c["called_at"] is None
            else:
                assert c["call_id"].startswith("call_") and ISO_Z.match(c["called_at"])
        if shape is TRUEDY_CONTACT:
            assert all(c["contact_id"].startswith("ctc_") for c in page["data"])
            assert any(c["first_name"] is None for c in b["contacts"]) or len(b["contacts"]) < 100


def test_truedy_calls(sim, dumps):
    camp = dumps["truedy"]["campaigns"][1]
    named = [c["call_id"] for c in camp["contacts"] if c["call_id"]]
    assert len(named) == len(camp["calls"]) > 0
    transcripts = 0
    for call_id in named[:40]:
        body = get_json(sim, "truedy", "GET", f"/calls/{call_id}")
        call = body["data"]
        assert list(call) == TRUEDY_CALL and call["id"] == call_id
        assert list(call["metadata"]) == ["campaign_id", "contact_id"]
        assert call["metadata"]["campaign_id"] == camp["id"]
        if call["recording_url"]:
            assert re.match(r"^https://.*\.mp3\?.*X-Amz-Signature=[0-9a-f]{64}",
                            call["recording_url"])
        if call["transcript"] is not None:
            transcripts += 1
            for turn in call["transcript"]:
                assert list(turn) == ["speaker", "text", "timestamp"]
    assert transcripts > 0


def test_koreai_shapes(sim, dumps):
    camps = dumps["koreai"]["campaigns"]
    acct = sim.creds["koreai"]["account_id"]
    for c in camps:
        assert re.match(r"^[0-9a-f]{24}$", c["id"])
        assert list(c["list_item"]) == KOREAI_CAMPAIGN
        assert isinstance(c["list_item"]["priority"], str)
        assert c["calls"] == []
        body = get_json(sim, "koreai", "GET", f"/campaign/{c['id']}", query={"accountId": acct})
        assert body["status"] == "success" and body["data"] == c["detail"]
        assert list(body["data"])[:2] == ["_id", "name"]
    big = camps[1]["contacts"]
    page = get_json(sim, "koreai", "POST", f"/campaign/{camps[1]['id']}/status",
                    query={"view": "contacts", "accountId": acct}, body={"page": 1, "limit": 100})
    assert list(page) == ["status", "data"]
    assert list(page["data"]) == ["results", "page", "limit", "totalPages", "totalResults"]
    for r in page["data"]["results"]:
        assert list(r) == KOREAI_CONTACT
        assert re.match(r"^[1-9]\d{7,14}$", r["phoneNumber"]), "no '+' in Kore.ai numbers"
        assert isinstance(r["numberOfAttemptsSoFar"], int)
    uniques = [r["uniqueId"] for r in big]
    assert uniques.count("") > len(big) // 2
    assert "CRM/4411" in uniques
    assert any(u and not u.isascii() for u in uniques)
    pairs = [(r["phoneNumber"], r["uniqueId"]) for r in big]
    assert len(set(pairs)) < len(pairs), "a repeated phoneNumber+uniqueId pair"


def test_names_phones_and_clock(sim, dumps):
    names = [c["name"] for c in dumps["altur"]["campaigns"][1]["contacts"]]
    assert any(not n.isascii() for n in names)
    assert any(re.search(r"[\u4e00-\u9fff]", n) for n in names), "CJK names too"
    phones = [c["contact"] for c in dumps["altur"]["campaigns"][1]["contacts"]]
    assert any(p.startswith("+1555") for p in phones)
    assert any(not p.startswith("+1") for p in phones)
    now = sim_now(sim)[:19]
    stamps = re.findall(r'"(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d)', json.dumps(dumps))
    assert stamps and max(s.replace(" ", "T") for s in stamps) <= now


@pytest.mark.parametrize("provider", ["altur", "burki", "truedy", "koreai"])
def test_dump_is_what_the_api_serves(sim, dumps, provider):
    camps = dumps[provider]["campaigns"]
    listed = walk(sim, provider, "campaigns").items
    assert listed == [c["list_item"] for c in camps]
    for c in camps[2:]:
        assert walk(sim, provider, "contacts", c["id"]).items == c["contacts"]
        if provider in ("altur", "burki"):
            assert walk(sim, provider, "calls", c["id"]).items == c["calls"]


def test_campaign_set(sim, dumps):
    sizes = {"altur": 1003, "burki": 10007, "truedy": 1003, "koreai": 1003}
    for p, d in dumps.items():
        camps = d["campaigns"]
        assert len(camps) == 4
        assert camps[0]["contacts"] == [] and camps[0]["calls"] == []
        assert len(camps[1]["contacts"]) == sizes[p]
        assert [len(c["contacts"]) for c in camps[2:]] == [25, 25]
        if p in ("altur", "burki"):
            assert len(camps[1]["calls"]) == 150
            assert [len(c["calls"]) for c in camps[2:]] == [10, 10]

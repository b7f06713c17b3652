"""Errors in each provider's own format: bounds (101/1001/0/-1/non-integer),
unknown status filters, missing or wrong credentials (including Kore.ai JWTs
signed with the wrong secret or naming the wrong appId), unknown campaigns
and calls, unknown paths and methods; and Burki's slashless redirect."""

import json

import pytest

from campaignfs_sim import hs256_jwt


@pytest.fixture(scope="module")
def ids(sim):
    return {p: [c["id"] for c in sim.dump(p)["campaigns"]] for p in
            ("altur", "burki", "truedy", "koreai")}


def call(sim, *args, **kw):
    status, headers, body = sim.request(*args, **kw)
    return status, headers, json.loads(body) if body else None


# ---- Altur: DRF field->messages for 400, {"error", "message"} otherwise ----

@pytest.mark.parametrize("query,field,msg", [
    ({"pageSize": 101}, "pageSize", "Ensure this value is less than or equal to 100."),
    ({"pageSize": 0}, "pageSize", "Ensure this value is greater than or equal to 1."),
    ({"pageSize": -1}, "pageSize", "Ensure this value is greater than or equal to 1."),
    ({"pageSize": "ten"}, "pageSize", "A valid integer is required."),
    ({"pageIndex": 25001}, "pageIndex", "Ensure this value is less than or equal to 25000."),
    ({"pageIndex": -1}, "pageIndex", "Ensure this value is greater than or equal to 0."),
    ({"pageIndex": "1.5"}, "pageIndex", "A valid integer is required."),
    ({"status": "bogus"}, "status", '"bogus" is not a valid choice.'),
])
def test_altur_bad_contacts_query(sim, ids, query, field, msg):
    status, _, body = call(sim, "altur", "GET", f"/campaigns/{ids['altur'][1]}/contacts",
                           query=query)
    assert status == 400
    assert body == {field: [msg]}


def test_altur_other_400s(sim, ids):
    status, _, body = call(sim, "altur", "GET", f"/campaigns/{ids['altur'][1]}/calls",
                           query={"pageSize": 101, "status": "done", "answeredBy": "robot"})
    assert status == 400 and set(body) == {"pageSize", "status", "answeredBy"}
    assert all(isinstance(v, list) and isinstance(v[0], str) for v in body.values())
    status, _, body = call(sim, "altur", "GET", "/campaigns", query={"cursor": "garbage!"})
    assert status == 400 and body == {"cursor": ["Invalid cursor."]}
    status, _, body = call(sim, "altur", "GET", "/campaigns", query={"status": "paused"})
    assert status == 400 and "status" in body


def test_altur_auth_and_404(sim, ids):
    status, _, body = call(sim, "altur", "GET", "/campaigns", auth=False)
    assert status == 401 and body["error"] == 401 and isinstance(body["message"], str)
    status, _, body = call(sim, "altur", "GET", "/campaigns",
                           headers={"Authorization": "api-key wrong"})
    assert (status, body["error"]) == (401, 401)
    status, _, body = call(sim, "altur", "GET", "/campaigns",
                           headers={"Authorization": "Bearer " + sim.creds["altur"]["api_key"]})
    assert status == 401
    for path in ("/campaigns/999999", "/campaigns/999999/contacts", "/campaigns/abc/calls",
                 f"/campaigns/{ids['altur'][1]}/contacts/1", "/call/call_nope"):
        status, _, body = call(sim, "altur", "GET", path)
        assert status == 404 and body["error"] == 404 and body["message"], path


# ---- Burki: {"detail": "..."}; 422 with a list for unparsable values ----

@pytest.mark.parametrize("query", [{"per_page": 1001}, {"per_page": 0}, {"per_page": -1},
                                   {"page": 0}, {"page": -1}, {"status": "bogus"}])
def test_burki_400(sim, ids, query):
    for path in (f"/campaigns/{ids['burki'][1]}/contacts", f"/campaigns/{ids['burki'][1]}/executions",
                 "/campaigns/"):
        status, _, body = call(sim, "burki", "GET", path, query=query)
        assert status == 400, path
        assert list(body) == ["detail"] and isinstance(body["detail"], str)


@pytest.mark.parametrize("query", [{"per_page": "many"}, {"page": "1.0"}])
def test_burki_422(sim, ids, query):
    status, _, body = call(sim, "burki", "GET", f"/campaigns/{ids['burki'][1]}/contacts",
                           query=query)
    assert status == 422
    (item,) = body["detail"]
    assert list(item) == ["loc", "msg", "type"] and item["loc"][0] == "query"
    assert item["loc"][1] == list(query)[0]


def test_burki_auth_and_404(sim):
    status, _, body = call(sim, "burki", "GET", "/campaigns/", auth=False)
    assert status == 401 and isinstance(body["detail"], str)
    status, _, body = call(sim, "burki", "GET", "/campaigns/",
                           headers={"Authorization": "Bearer nope"})
    assert status == 401 and isinstance(body["detail"], str)
    for path in ("/campaigns/999999", "/campaigns/999999/contacts",
                 "/campaigns/999999/executions"):
        status, _, body = call(sim, "burki", "GET", path)
        assert status == 404 and body == {"detail": "Campaign not found"}


def test_burki_slashless_redirect(sim):
    status, headers, body = sim.request("burki", "GET", "/campaigns",
                                        query={"page": 2, "per_page": 1}, auth=False)
    assert status == 307
    loc = headers["Location"]
    assert loc == f"{sim.base}/api/v1/campaigns/?page=2&per_page=1"
    status, _, body = sim.raw("GET", loc[len(sim.base):], headers=sim.auth_headers("burki"))
    assert status == 200 and json.loads(body)["pagination"]["page"] == 2


# ---- Truedy: {"error": {code, message, details}, "meta"} ----

@pytest.mark.parametrize("query", [{"limit": 101}, {"limit": 0}, {"limit": -1}, {"limit": "x"},
                                   {"offset": -1}, {"offset": "x"}, {"status": "bogus"}])
def test_truedy_400(sim, ids, query):
    for path in ("/batch-calls", f"/batch-calls/{ids['truedy'][1]}/contacts"):
        status, _, body = call(sim, "truedy", "GET", path, query=query)
        assert status == 400
        assert list(body) == ["error", "meta"]
        assert list(body["error"]) == ["code", "message", "details"]
        assert body["error"]["code"] == "validation_error"


def test_truedy_auth_and_404(sim):
    for headers in ({"Authorization": None}, {"Authorization": "Bearer truedy_wrong"}):
        status, h, body = call(sim, "truedy", "GET", "/batch-calls", headers=headers)
        assert status == 401 and body["error"]["code"] == "unauthorized"
        assert list(body["meta"]) == ["request_id", "ts"]
    for path in ("/batch-calls/bc_nope", "/batch-calls/bc_nope/contacts", "/calls/call_nope"):
        status, _, body = call(sim, "truedy", "GET", path)
        assert status == 404 and body["error"]["code"] == "not_found"
        assert body["error"]["details"]["id"] in path


# ---- Kore.ai: {"status": "failure", "message", "errors": [{"msg", "code"}]} ----

def assert_failure(status, body, code):
    assert status == code
    assert body["status"] == "failure" and isinstance(body["message"], str)
    assert list(body["errors"][0]) == ["msg", "code"]


@pytest.mark.parametrize("body", [{"page": 1, "limit": 101}, {"page": 0, "limit": 10},
                                  {"page": -1}, {"page": "1"}, {"limit": 2.5}, {"limit": 0}])
def test_koreai_contacts_400(sim, ids, body):
    status, _, answer = call(sim, "koreai", "POST", f"/campaign/{ids['koreai'][1]}/status",
                             query={"view": "contacts"}, body=body)
    assert_failure(status, answer, 400)


@pytest.mark.parametrize("body", [{"type": "voice", "limit": 101}, {"limit": 5},
                                  {"type": "voice", "skip": -1}, "not json"])
def test_koreai_list_400(sim, body):
    status, _, answer = call(sim, "koreai", "POST", "/campaign/getAllCampaignDetails", body=body)
    assert_failure(status, answer, 400)


def test_koreai_auth(sim, ids):
    k = sim.creds["koreai"]
    path = f"/campaign/{ids['koreai'][1]}"
    bad = [
        {"auth": None},
        {"auth": sim.koreai_token(secret="not-the-secret")},
        {"auth": sim.koreai_token(app_id="cs-someone-else")},
        {"auth": hs256_jwt({"sub": "x", "appid": k["client_id"]}, k["client_secret"])},
        {"auth": "not.a.jwt"},
        {"iid": "st-other"},
        {"iid": None},
        {"accountId": "000000000000000000000000"},
        {"accountId": None},
    ]
    for headers in bad:
        status, _, body = call(sim, "koreai", "GET", path, headers=headers)
        assert_failure(status, body, 401)
    # accountId may come as a query parameter instead of a header
    status, _, body = call(sim, "koreai", "GET", path, headers={"accountId": None},
                           query={"accountId": k["account_id"]})
    assert status == 200 and body["status"] == "success"
    # a wrong stream id in the path
    status, _, body = sim.request("koreai", "GET",
                                  f"/campaign/api/v2/public/st-other/campaign/{ids['koreai'][1]}",
                                  raw_path=True)
    assert_failure(status, json.loads(body), 401)
    # a token with extra claims (iat/exp) is fine
    status, _, _ = call(sim, "koreai", "GET", path,
                        headers={"auth": sim.koreai_token(claims={"iat": 1, "exp": 4102444800})})
    assert status == 200


def test_koreai_404(sim):
    status, _, body = call(sim, "koreai", "GET", "/campaign/0123456789abcdef01234567")
    assert_failure(status, body, 404)
    status, _, body = call(sim, "koreai", "POST", "/campaign/0123456789abcdef01234567/status",
                           query={"view": "contacts"}, body={"page": 1})
    assert_failure(status, body, 404)


# ---- everyone: unknown paths and methods ----

def test_unknown_paths_and_methods(sim):
    assert call(sim, "altur", "GET", "/nothing")[0] == 404
    assert call(sim, "burki", "GET", "/nothing")[0] == 404
    assert call(sim, "truedy", "GET", "/nothing")[0] == 404
    assert call(sim, "koreai", "GET", "/nothing")[0] == 404
    status, _, body = sim.raw("GET", "/no/such/api")
    assert status == 404 and json.loads(body) == {"detail": "Not Found"}
    status, _, body = call(sim, "altur", "DELETE", "/campaigns")
    assert status == 405 and body["error"] == 405
    status, _, body = call(sim, "koreai", "GET", "/campaign/getAllCampaignDetails")
    assert status == 404  # GET /campaign/{id} with an unknown id
    status, _, body = call(sim, "truedy", "POST", "/batch-calls", body={})
    assert status == 405 and body["error"]["code"] == "method_not_allowed"


def test_oversized_body(sim):
    status, _, body = call(sim, "koreai", "POST", "/campaign/getAllCampaignDetails",
                           body=b"x" * (2 << 20))
    assert_failure(status, body, 413)
    status, _, body = call(sim, "koreai", "POST", "/campaign/getAllCampaignDetails",
                           body={"type": "voice", "limit": 1})
    assert status == 200 and len(body["data"]["results"]) == 1

"""Per-key rate limits in each provider's own 429 form: Altur 12/s, Burki
20/s with an integer Retry-After, Truedy 100/min with details.reset_at and no
Retry-After, Kore.ai off by default; --rate-limit overrides and turns off."""

import datetime
import json
import time

import pytest

from campaignfs_sim import Sim
from conftest import assert_clean


@pytest.fixture(scope="module")
def limited():
    with Sim() as s:  # the default limits
        yield s
    assert_clean()


def burst(sim, provider, path, n, **kw):
    return [sim.request(provider, "GET" if provider != "koreai" else "POST", path, **kw)
            for _ in range(n)]


def test_altur_12_per_second(limited):
    answers = burst(limited, "altur", "/campaigns", 40)
    codes = [a[0] for a in answers]
    assert codes[:12] == [200] * 12, "a full bucket allows a burst of 12"
    assert 429 in codes
    status, headers, body = next(a for a in answers if a[0] == 429)
    assert json.loads(body) == {"error": 429, "message": "Request was throttled."}
    assert int(headers["Retry-After"]) >= 1
    time.sleep(1.1)
    assert limited.request("altur", "GET", "/campaigns")[0] == 200


def test_burki_429_with_retry_after(limited):
    answers = burst(limited, "burki", "/campaigns/", 60)
    codes = [a[0] for a in answers]
    assert codes[:20] == [200] * 20 and 429 in codes
    status, headers, body = next(a for a in answers if a[0] == 429)
    assert json.loads(body) == {"detail": "Rate limit exceeded"}
    assert headers["Retry-After"].isdigit() and int(headers["Retry-After"]) >= 1


def test_truedy_100_per_minute(limited):
    before = datetime.datetime.now(datetime.timezone.utc)
    answers = burst(limited, "truedy", "/batch-calls", 101, query={"limit": 1})
    assert [a[0] for a in answers[:100]] == [200] * 100
    status, headers, body = answers[100]
    assert status == 429
    assert headers.get("Retry-After") is None
    err = json.loads(body)
    assert list(err) == ["error", "meta"]
    assert err["error"]["code"] == "rate_limit_exceeded"
    assert err["error"]["details"]["limit"] == 100
    reset = datetime.datetime.fromisoformat(err["error"]["details"]["reset_at"].replace("Z", "+00:00"))
    assert before < reset <= before + datetime.timedelta(seconds=62)


def test_unauthenticated_requests_are_not_limited_but_counted(limited):
    codes = [limited.request("altur", "GET", "/campaigns", auth=False)[0] for _ in range(30)]
    assert codes == [401] * 30


def test_koreai_unlimited_by_default(limited):
    answers = burst(limited, "koreai", "/campaign/getAllCampaignDetails", 60,
                    body={"type": "voice", "skip": 0, "limit": 1})
    assert {a[0] for a in answers} == {200}


def test_overrides(make_sim):
    s = make_sim("--rate-limit", "altur=0", "--rate-limit", "truedy=5/min",
                 "--rate-limit", "koreai=3/s", "--rate-limit", "burki=2/s")
    assert s.creds["altur"]["rate_limit"] == "0"
    assert s.creds["truedy"]["rate_limit"] == "5/min"
    assert s.creds["koreai"]["rate_limit"] == "3/s"
    assert {a[0] for a in burst(s, "altur", "/campaigns", 60)} == {200}
    codes = [a[0] for a in burst(s, "truedy", "/batch-calls", 6)]
    assert codes == [200] * 5 + [429]
    status, _, body = s.request("truedy", "GET", "/batch-calls")
    assert status == 429 and json.loads(body)["error"]["details"]["limit"] == 5
    answers = burst(s, "koreai", "/campaign/getAllCampaignDetails", 10,
                    body={"type": "voice"})
    assert [a[0] for a in answers][:3] == [200] * 3
    status, _, body = next(a for a in answers if a[0] != 200)
    assert status == 429 and json.loads(body)["status"] == "failure"
    assert [a[0] for a in burst(s, "burki", "/campaigns/", 3)] == [200, 200, 429]

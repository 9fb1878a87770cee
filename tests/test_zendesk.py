"""The Zendesk API client against a local stub: look-ups, ticket writes, retries, secrecy, idempotency."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.errors import UsageError
from frontend_server import zendesk as zendesk_module
from frontend_server.zendesk import (
    IdempotencyLedger,
    TicketAttacher,
    ZendeskAuthError,
    ZendeskClient,
    ZendeskNotFound,
    ZendeskRateLimited,
    ZendeskUnavailable,
    attach_marker,
)
from tests.zendesk_stub import ZendeskStub


@pytest.fixture
def stub() -> Iterator[ZendeskStub]:
    with ZendeskStub() as s:
        s.add_user(42, name="Ana Lyst", role="agent", custom_role_id=360000123456,
                   groups=[(7, "Cloud Security"), (8, "Billing")])
        s.add_user(43, name="Eve User", role="end-user")
        yield s


class Sleeps:
    """A sleep that records what it was asked and returns at once, so back-off tests take no time."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def client_for(stub: ZendeskStub, sleeps: Sleeps | None = None, **kw: Any) -> ZendeskClient:
    return ZendeskClient(base_url=stub.url, email=stub.email, api_token=stub.api_token, sleep=sleeps or Sleeps(), **kw)


# ---- users and groups -----------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_user_look_up_reads_role_custom_role_name_and_email_and_is_cached(stub: ZendeskStub) -> None:
    clock = Clock()
    async with client_for(stub, user_cache_ttl_s=60, clock=clock) as client:
        user = await client.get_user(42)
        assert (user.id, user.name, user.email, user.role, user.custom_role_id) == (
            "42", "Ana Lyst", "user42@example.com", "agent", "360000123456")
        assert await client.get_user("42") is user
        assert len(stub.calls("GET", "/api/v2/users/42.json")) == 1
        clock.now += 61
        await client.get_user(42)
        assert len(stub.calls("GET", "/api/v2/users/42.json")) == 2


@pytest.mark.asyncio
async def test_lookup_agent_gives_the_user_with_group_ids_and_names(stub: ZendeskStub) -> None:
    async with client_for(stub) as client:
        agent = await client.lookup_agent(42)
        assert [(g.id, g.name) for g in agent.groups] == [("7", "Cloud Security"), ("8", "Billing")]
        memberships = await client.get_group_memberships(42)
        assert [g.id for g in memberships] == ["7", "8"]
        await client.lookup_agent(42)
        assert len(stub.calls("GET", "/api/v2/users/42")) == 3  # user, groups, memberships: each once


@pytest.mark.asyncio
async def test_group_pages_are_followed_on_the_same_host_only(stub: ZendeskStub) -> None:
    stub.page_size = 2
    stub.add_user(44, groups=[(i, f"g{i}") for i in range(1, 6)])
    async with client_for(stub) as client:
        assert [g.id for g in await client.get_group_memberships(44)] == ["1", "2", "3", "4", "5"]
        assert len(stub.calls("GET", "/api/v2/users/44/group_memberships.json")) == 3
        stub.next_page_base = "http://127.0.0.2:1"  # a link elsewhere must not receive our credentials
        assert [g.id for g in await client.get_user_groups(44)] == ["1", "2"]


@pytest.mark.asyncio
async def test_unknown_user_is_not_found(stub: ZendeskStub) -> None:
    async with client_for(stub) as client:
        with pytest.raises(ZendeskNotFound, match="404"):
            await client.get_user(999)


@pytest.mark.asyncio
async def test_ids_are_checked_before_any_request(stub: ZendeskStub) -> None:
    async with client_for(stub) as client:
        for bad in ("1/../2", "abc", "", "1" * 21):
            with pytest.raises(UsageError):
                await client.get_user(bad)
        with pytest.raises(UsageError):
            await client.add_internal_note("5?x=1", "hi")
    assert stub.requests == []


def test_client_needs_a_place_and_credentials() -> None:
    with pytest.raises(UsageError, match="SUBDOMAIN"):
        ZendeskClient(email="a@b.c", api_token="t")
    with pytest.raises(UsageError, match="not valid"):
        ZendeskClient("evil.com/x", email="a@b.c", api_token="t")
    with pytest.raises(UsageError, match="API_TOKEN"):
        ZendeskClient("acme", email="a@b.c", api_token="")
    assert ZendeskClient("acme", email="a@b.c", api_token="t").base_url == "https://acme.zendesk.com"


# ---- ticket writes --------------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_upload_then_internal_note_with_the_attachment(stub: ZendeskStub) -> None:
    async with client_for(stub) as client:
        token = await client.upload("reports/report.html", b"<html>report</html>")
        note = await client.add_internal_note(1234, "Scan finished: 3 critical findings.", [token])
    [upload] = stub.calls("POST", "/api/v2/uploads.json")
    assert upload.query == {"filename": ["report.html"]}
    assert upload.headers["content-type"] == "text/html" and upload.body == b"<html>report</html>"
    [put] = stub.calls("PUT", "/api/v2/tickets/1234.json")
    assert put.json() == {"ticket": {"comment": {"body": "Scan finished: 3 critical findings.", "public": False,
                                                 "uploads": [token]}}}
    assert put.headers["content-type"] == "application/json"
    assert (note.ticket_id, note.audit_id) == ("1234", "7001")


@pytest.mark.asyncio
async def test_upload_larger_than_zendesk_accepts_is_refused_locally(stub: ZendeskStub, monkeypatch) -> None:
    monkeypatch.setattr(zendesk_module, "MAX_UPLOAD_BYTES", 10)
    async with client_for(stub) as client:
        with pytest.raises(UsageError, match="attachments up to"):
            await client.upload("big.json", b"x" * 11)
    assert stub.requests == []


@pytest.mark.asyncio
async def test_task_creation_sends_the_documented_body(stub: ZendeskStub) -> None:
    async with client_for(stub) as client:
        task_id = await client.create_task(
            "Follow up: 2 critical findings in 111111111111", "- s3 bucket public\n- root MFA off",
            datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), "urgent", ["cloudscreen", "critical"],
            {360001: "111111111111"})
        with pytest.raises(UsageError, match="priority"):
            await client.create_task("s", "b", "2025-01-01T00:00:00Z", priority="asap")
    [post] = stub.calls("POST", "/api/v2/tickets.json")
    assert post.json() == {"ticket": {
        "subject": "Follow up: 2 critical findings in 111111111111",
        "comment": {"body": "- s3 bucket public\n- root MFA off", "public": False},
        "type": "task", "due_at": "2025-01-02T03:04:05Z", "priority": "urgent",
        "tags": ["cloudscreen", "critical"], "custom_fields": [{"id": 360001, "value": "111111111111"}]}}
    assert task_id == str(stub.tasks[0]["id"])


# ---- rate limits and failures ---------------------------------------------------------------------

@pytest.mark.asyncio
async def test_429_with_retry_after_is_waited_out_then_succeeds(stub: ZendeskStub) -> None:
    stub.fail(429, retry_after="2", times=2, path="/api/v2/users/42.json")
    sleeps = Sleeps()
    async with client_for(stub, sleeps) as client:
        assert (await client.get_user(42)).name == "Ana Lyst"
    assert len(stub.calls("GET", "/api/v2/users/42.json")) == 3
    assert len(sleeps.waits) == 2 and all(2 <= w <= 2.2 for w in sleeps.waits)


@pytest.mark.asyncio
async def test_429_without_retry_after_backs_off_exponentially_and_stops_at_its_limit(stub: ZendeskStub) -> None:
    stub.fail(429, times=None)
    sleeps = Sleeps()
    async with client_for(stub, sleeps, max_attempts=4, initial_wait_s=0.5, max_wait_s=30) as client:
        with pytest.raises(ZendeskRateLimited) as info:
            await client.get_user(42)
    assert "after 4 attempts" in str(info.value) and "GET /api/v2/users/42.json" in str(info.value)
    assert info.value.retry_after is None
    assert len(stub.requests) == 4
    assert len(sleeps.waits) == 3
    for n, wait in enumerate(sleeps.waits):  # 0.5·2^n plus up to 0.5 of jitter
        assert 0.5 * 2**n <= wait <= 0.5 * 2**n + 0.5


@pytest.mark.asyncio
async def test_back_off_is_capped(stub: ZendeskStub) -> None:
    stub.fail(503, times=None)
    sleeps = Sleeps()
    async with client_for(stub, sleeps, max_attempts=6, initial_wait_s=1, max_wait_s=3) as client:
        with pytest.raises(ZendeskUnavailable, match="gave up after 6 attempts"):
            await client.get_user(42)
    assert max(sleeps.waits) <= 3


@pytest.mark.asyncio
async def test_retry_after_longer_than_the_cap_fails_at_once_with_the_advice(stub: ZendeskStub) -> None:
    stub.fail(429, retry_after="120", times=None)
    sleeps = Sleeps()
    async with client_for(stub, sleeps, max_wait_s=30) as client:
        with pytest.raises(ZendeskRateLimited) as info:
            await client.add_internal_note(5, "hello")
    assert info.value.retry_after == 120 and "120 s" in str(info.value)
    assert len(stub.requests) == 1 and sleeps.waits == []


@pytest.mark.asyncio
async def test_5xx_is_retried_for_reads(stub: ZendeskStub) -> None:
    stub.fail(503, times=2)
    async with client_for(stub) as client:
        assert (await client.get_user(42)).id == "42"
    assert len(stub.requests) == 3


@pytest.mark.asyncio
async def test_5xx_on_a_note_is_not_retried_but_429_is(stub: ZendeskStub) -> None:
    stub.fail(502, method="PUT")
    async with client_for(stub) as client:
        with pytest.raises(ZendeskUnavailable, match="502"):
            await client.add_internal_note(5, "once")
        assert len(stub.calls("PUT", "/api/v2/tickets/5.json")) == 1
        stub.fail(429, retry_after="1", method="PUT")
        await client.add_internal_note(5, "once")
    assert len(stub.calls("PUT", "/api/v2/tickets/5.json")) == 3
    assert [c["body"] for c in stub.comments["5"]] == ["once"]


@pytest.mark.asyncio
async def test_unreachable_zendesk_is_retried_then_reported() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps = Sleeps()
    async with ZendeskClient(base_url=f"http://127.0.0.1:{port}", email="a@b.c", api_token="t", max_attempts=3,
                             sleep=sleeps) as client:
        with pytest.raises(ZendeskUnavailable, match="gave up after 3 attempts") as info:
            await client.add_internal_note(5, "never sent")  # never left: safe to retry even a write
    assert info.value.sent is False and len(sleeps.waits) == 2


# ---- secrecy of the credential --------------------------------------------------------------------

@pytest.mark.asyncio
async def test_credential_is_sent_on_every_call_but_never_logged(stub: ZendeskStub, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    stub.fail(429, retry_after="0", times=1)
    stub.fail(500, times=1, path="/api/v2/users/42/groups.json")
    errors: list[str] = []
    async with client_for(stub) as client:
        await client.lookup_agent(42)
        token = await client.upload("r.json", b"{}")
        await client.add_internal_note(9, "note", [token])
        for call in (client.get_user(999), client.get_user(1)):
            try:
                await call
            except Exception as exc:  # noqa: BLE001 - collecting every message to inspect it
                errors.append(str(exc))
        text_repr = repr(client)
    wrong = ZendeskClient(base_url=stub.url, email=stub.email, api_token="wrong-token-abcdef")
    async with wrong:
        with pytest.raises(ZendeskAuthError, match="credentials") as info:
            await wrong.get_user(42)
        errors.append(str(info.value))
    sent = [r.headers.get("authorization", "") for r in stub.requests]
    assert sent[:-1] == [stub.expected_authorization] * (len(sent) - 1)  # every call of the right client
    assert sent[-1].startswith("Basic ") and sent[-1] != stub.expected_authorization
    secret_forms = [stub.api_token, stub.expected_authorization.split()[1], "wrong-token-abcdef"]
    assert "retrying" in caplog.text  # the retries were logged...
    for secret in secret_forms:  # ...and nothing that could authenticate was
        assert secret not in caplog.text
        assert all(secret not in e for e in errors)
        assert secret not in text_repr and secret not in repr(wrong)


# ---- exactly one note per attach request ----------------------------------------------------------

@pytest.mark.asyncio
async def test_many_presses_make_one_upload_and_one_note(stub: ZendeskStub) -> None:
    async with client_for(stub) as client:
        attacher = TicketAttacher(client)

        def press() -> Any:
            return attacher.attach_once("scan-1:1234:summary", ticket_id=1234, body="Scan scan-1 finished.",
                                        files=[("report.html", b"<html/>")])

        results = await asyncio.gather(*(press() for _ in range(20)))
        results += [await press() for _ in range(5)]
    assert len(stub.uploads) == 1
    assert len(stub.calls("PUT", "/api/v2/tickets/1234.json")) == 1
    [comment] = stub.comments["1234"]
    assert comment["uploads"] == ["upload-token-1"]
    assert comment["body"].startswith("Scan scan-1 finished.")
    assert attach_marker("scan-1:1234:summary") in comment["body"]
    assert sum(r.created for r in results) == 1
    assert {(r.ticket_id, r.upload_tokens) for r in results} == {("1234", ("upload-token-1",))}


@pytest.mark.asyncio
async def test_different_requests_each_get_their_note(stub: ZendeskStub) -> None:
    async with client_for(stub) as client:
        attacher = TicketAttacher(client)
        await asyncio.gather(attacher.attach_once("a", ticket_id=1, body="A"),
                             attacher.attach_once("b", ticket_id=1, body="B"))
    assert sorted(c["body"].split("\n")[0] for c in stub.comments["1"]) == ["A", "B"]


class DictStore:
    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}

    async def get(self, key: str) -> Mapping[str, Any] | None:
        return self.records.get(key)

    async def put(self, key: str, record: Mapping[str, Any]) -> None:
        self.records[key] = dict(record)


@pytest.mark.asyncio
async def test_another_front_sharing_the_store_does_not_attach_again(stub: ZendeskStub) -> None:
    store = DictStore()
    async with client_for(stub) as client:
        first = await TicketAttacher(client, IdempotencyLedger(store)).attach_once(
            "k", ticket_id=5, body="x", files=[("r.csv", b"a,b")])
        before = len(stub.requests)
        again = await TicketAttacher(client, IdempotencyLedger(store)).attach_once(
            "k", ticket_id=5, body="x", files=[("r.csv", b"a,b")])
    assert first.created and not again.created
    assert again.upload_tokens == first.upload_tokens
    assert len(stub.requests) == before  # answered from the store: not even a look at the ticket


@pytest.mark.asyncio
async def test_a_restarted_front_finds_the_note_in_the_ticket(stub: ZendeskStub) -> None:
    async with client_for(stub) as client:
        await TicketAttacher(client).attach_once("k", ticket_id=5, body="x", files=[("r.csv", b"a,b")])
        result = await TicketAttacher(client).attach_once("k", ticket_id=5, body="x", files=[("r.csv", b"a,b")])
    assert not result.created
    assert len(stub.uploads) == 1 and len(stub.comments["5"]) == 1


@pytest.mark.asyncio
async def test_a_note_saved_despite_an_error_answer_is_not_added_twice(stub: ZendeskStub) -> None:
    stub.fail(502, method="PUT", process=True)  # Zendesk saved the note, the answer was lost
    async with client_for(stub) as client:
        attacher = TicketAttacher(client)
        with pytest.raises(ZendeskUnavailable):
            await attacher.attach_once("k", ticket_id=5, body="x", files=[("r.csv", b"a,b")])
        result = await attacher.attach_once("k", ticket_id=5, body="x", files=[("r.csv", b"a,b")])
    assert not result.created
    assert len(stub.uploads) == 1 and len(stub.comments["5"]) == 1


@pytest.mark.asyncio
async def test_a_failed_note_is_retried_with_the_files_already_uploaded(stub: ZendeskStub) -> None:
    stub.fail(500, method="PUT")  # refused, nothing saved
    async with client_for(stub) as client:
        attacher = TicketAttacher(client)
        with pytest.raises(ZendeskUnavailable):
            await attacher.attach_once("k", ticket_id=5, body="x", files=[("r.csv", b"a,b")])
        result = await attacher.attach_once("k", ticket_id=5, body="x", files=[("r.csv", b"a,b")])
    assert result.created and result.upload_tokens == ("upload-token-1",)
    assert len(stub.uploads) == 1 and len(stub.comments["5"]) == 1


@pytest.mark.asyncio
async def test_follow_up_task_is_created_once_per_request(stub: ZendeskStub) -> None:
    task = {"subject": "Follow up", "body": "fix it", "due_at": "2025-01-01T00:00:00Z", "tags": ["cloudscreen"]}
    async with client_for(stub) as client:
        attacher = TicketAttacher(client)
        results = await asyncio.gather(*(attacher.create_task_once("scan-1:task", **task) for _ in range(10)))
        # a restarted front forgot the key, but Zendesk's Idempotency-Key answers the same ticket
        again = await TicketAttacher(client).create_task_once("scan-1:task", **task)
    posts = stub.calls("POST", "/api/v2/tickets.json")
    assert len(posts) == 2 and posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]
    assert len(stub.tasks) == 1
    assert {r.task_id for r in results} == {again.task_id} and sum(r.created for r in results) == 1

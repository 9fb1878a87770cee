"""The hash-chained audit log: what it writes, what `verify` detects, and `cloudscreen audit verify`."""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontend_server.audit import (
    GENESIS,
    Action,
    AuditError,
    AuditLog,
    canonical_json,
    main,
    verify,
)

ROOT = Path(__file__).resolve().parents[1]


def _write(path: Path, n: int) -> str:
    """n records; returns the head."""
    with AuditLog(path) as log:
        for i in range(n):
            log.record(Action.SCAN_START, user_id=1000 + i, role="analyst", accounts=["111111111111"],
                       scan_id=f"scan-{i}", ticket_id=42, request_id=f"req-{i}")
        return log.head


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _put(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(lines))


def _edit(line: bytes, rehash: bool = False, **changes: object) -> bytes:
    """A line with fields changed, still canonical JSON; with rehash its own hash is recomputed."""
    rec = json.loads(line)
    rec.update(changes)
    if rehash:
        rec.pop("hash")
        rec["hash"] = hashlib.sha256(canonical_json(rec)).hexdigest()
    return canonical_json(rec) + b"\n"


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    path = tmp_path / "audit.jsonl"
    _write(path, 6)
    return path


def test_a_chain_of_records_verifies(log_file: Path) -> None:
    result = verify(log_file)
    assert (result.ok, result.lines, result.first_bad_line, result.reason) == (True, 6, None, None)


def test_a_record_carries_identity_action_result_time_and_chain_fields(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    with AuditLog(path) as log:
        rec = log.record("access.denied", result="denied", user_id=7, role="viewer", accounts=["222222222222"],
                         ticket_id=9, reason="viewers cannot start scans", connection_id="c1")
    line = json.loads(path.read_bytes().splitlines()[0])
    assert line == rec
    assert line["prev"] == GENESIS
    assert (line["action"], line["result"], line["user_id"], line["role"]) == ("access.denied", "denied", "7", "viewer")
    assert line["accounts"] == ["222222222222"] and line["ticket_id"] == "9" and line["connection_id"] == "c1"
    assert line["time"].endswith("Z") and line["scan_id"] is None


def test_the_head_is_the_hash_of_the_last_line_and_what_verify_reports(log_file: Path) -> None:
    assert verify(log_file).head == hashlib.sha256(_lines(log_file)[-1][:-1]).hexdigest()
    assert verify(log_file).head == AuditLog(log_file).head


def test_an_empty_or_new_log_verifies(tmp_path: Path) -> None:
    path = tmp_path / "new.jsonl"
    AuditLog(path).close()
    assert verify(path).ok and verify(path).lines == 0 and verify(path).head == GENESIS


def test_editing_a_field_is_detected_at_that_line(log_file: Path) -> None:
    lines = _lines(log_file)
    lines[2] = _edit(lines[2], role="admin")
    _put(log_file, lines)
    result = verify(log_file)
    assert (result.ok, result.first_bad_line, result.lines) == (False, 3, 2)
    assert "hash" in result.reason


def test_editing_a_field_and_recomputing_its_hash_is_detected_at_the_next_line(log_file: Path) -> None:
    lines = _lines(log_file)
    lines[2] = _edit(lines[2], rehash=True, result="ok", user_id="someone-else")
    _put(log_file, lines)
    result = verify(log_file)
    assert (result.ok, result.first_bad_line) == (False, 4)
    assert "prev" in result.reason


def test_reformatting_a_line_without_changing_values_is_detected(log_file: Path) -> None:
    lines = _lines(log_file)
    lines[1] = json.dumps(json.loads(lines[1]), indent=None).encode() + b"\n"  # spaces after separators
    _put(log_file, lines)
    assert (verify(log_file).ok, verify(log_file).first_bad_line) == (False, 2)
    assert "canonical" in verify(log_file).reason


@pytest.mark.parametrize(("index", "bad_line"), [(0, 1), (3, 4)])
def test_deleting_a_line_is_detected_where_the_chain_breaks(log_file: Path, index: int, bad_line: int) -> None:
    lines = _lines(log_file)
    del lines[index]
    _put(log_file, lines)
    result = verify(log_file)
    assert (result.ok, result.first_bad_line) == (False, bad_line)


def test_inserting_a_forged_line_is_detected(log_file: Path) -> None:
    lines = _lines(log_file)
    # The forger knows the scheme: the new line links to line 2 and carries a correct hash of its own.
    forged = _edit(lines[2], rehash=True, prev=hashlib.sha256(lines[1][:-1]).hexdigest(), scan_id="forged")
    lines.insert(2, forged)
    _put(log_file, lines)
    assert verify(log_file).first_bad_line == 4  # the original third line no longer follows its predecessor


def test_reordering_two_lines_is_detected(log_file: Path) -> None:
    lines = _lines(log_file)
    lines[2], lines[3] = lines[3], lines[2]
    _put(log_file, lines)
    assert (verify(log_file).ok, verify(log_file).first_bad_line) == (False, 3)


def test_removing_lines_from_the_middle_is_detected(log_file: Path) -> None:
    lines = _lines(log_file)
    _put(log_file, lines[:2] + lines[4:])
    assert (verify(log_file).ok, verify(log_file).first_bad_line) == (False, 3)


def test_cutting_the_file_in_the_middle_of_a_line_is_detected(log_file: Path) -> None:
    data = log_file.read_bytes()
    cut = len(b"".join(_lines(log_file)[:3])) + 40
    log_file.write_bytes(data[:cut])
    result = verify(log_file)
    assert (result.ok, result.first_bad_line, result.lines) == (False, 4, 3)
    assert "incomplete" in result.reason


def test_a_blank_line_is_detected(log_file: Path) -> None:
    lines = _lines(log_file)
    lines.insert(1, b"\n")
    _put(log_file, lines)
    assert (verify(log_file).first_bad_line, verify(log_file).reason) == (2, "empty line")


def test_truncating_the_tail_is_detected_only_with_an_external_anchor(log_file: Path) -> None:
    anchor = verify(log_file).head
    _put(log_file, _lines(log_file)[:4])
    assert verify(log_file).ok  # the shorter chain is still a valid chain
    result = verify(log_file, anchor=anchor)
    assert (result.ok, result.first_bad_line) == (False, 5)
    assert "anchor" in result.reason


def test_an_anchor_taken_earlier_is_found_in_a_longer_log(log_file: Path) -> None:
    anchor = verify(log_file).head
    _write(log_file, 3)
    assert verify(log_file, anchor=anchor).ok


def test_reopening_the_file_continues_the_chain(log_file: Path) -> None:
    head = verify(log_file).head
    with AuditLog(log_file) as log:
        assert log.head == head
        rec = log.record("scan.view", user_id=1, scan_id="scan-0")
    assert rec["prev"] == head
    assert verify(log_file).ok and verify(log_file).lines == 7


def test_two_writers_on_one_file_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "shared.jsonl"
    a, b = AuditLog(path), AuditLog(path)  # like two processes: each re-reads the tail the other grew
    for i in range(10):
        (a if i % 3 else b).record("query", user_id=i)
    a.close()
    b.close()
    assert verify(path).ok and verify(path).lines == 10


def test_concurrent_writers_from_threads_keep_a_valid_chain(tmp_path: Path) -> None:
    path = tmp_path / "threads.jsonl"
    with AuditLog(path) as log:
        def work(t: int) -> None:
            for i in range(40):
                log.record("scan.view", user_id=t, scan_id=f"s{i}")

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    result = verify(path)
    assert (result.ok, result.lines) == (True, 320)


def test_concurrent_writers_from_processes_keep_a_valid_chain(tmp_path: Path) -> None:
    path = tmp_path / "procs.jsonl"
    code = ("import sys; from frontend_server.audit import AuditLog\n"
            "log = AuditLog(sys.argv[1])\n"
            "for i in range(60): log.record('query', user_id=sys.argv[2], details={'i': i})\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path), str(p)], cwd=ROOT) for p in range(3)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    result = verify(path)
    assert (result.ok, result.lines) == (True, 180)


def test_stdout_mode_writes_a_verifiable_chain_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with AuditLog("-") as log:
        log.record("auth.login", user_id=5, role="admin")
        log.record("scan.start", user_id=5, role="admin", accounts=["111111111111"])
    out = capsys.readouterr().out
    assert [json.loads(line)["action"] for line in out.splitlines()] == ["auth.login", "scan.start"]
    path = tmp_path / "captured.jsonl"
    path.write_text(out)
    assert verify(path).ok


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.names: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.names.append(record.name)


def test_audit_lines_stay_out_of_the_application_log(tmp_path: Path) -> None:
    app_log = _Collect()  # stands for the application's root handler (engine.logs.configure_logging)
    logging.getLogger().addHandler(app_log)
    try:
        with AuditLog(tmp_path / "a.jsonl") as log:
            log.record("scan.start", user_id=1)
    finally:
        logging.getLogger().removeHandler(app_log)
    assert "cloudscreen.audit" not in app_log.names
    assert logging.getLogger("cloudscreen.audit").propagate is False


def test_two_audit_logs_on_the_shared_logger_write_only_their_own_records(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "a.jsonl") as a, AuditLog(tmp_path / "b.jsonl") as b:
        a.record("scan.start", user_id=1)
        b.record("query", user_id=2)
        b.record("query", user_id=3)
    assert verify(tmp_path / "a.jsonl").lines == 1 and verify(tmp_path / "b.jsonl").lines == 2


def test_tokens_and_secrets_are_never_written(tmp_path: Path) -> None:
    jwt_like = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    path = tmp_path / "a.jsonl"
    with AuditLog(path) as log:
        log.record("auth.denied", result="denied", reason=f"bad token {jwt_like}",
                   details={"token": "secret-value", "api_key": "k", "zendesk_token": "z",
                            "header": "Bearer abc.defghij", "kind": "expired"})
    text = path.read_text()
    for secret in (jwt_like, "secret-value", "Bearer abc", '"k"', '"z"'):
        assert secret not in text
    rec = json.loads(text)
    assert rec["details"] == {"header": "[redacted]", "kind": "expired"}
    assert rec["reason"] == "bad token [redacted]"


def test_times_follow_the_order_of_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    with AuditLog(path) as log:
        for _ in range(20):
            log.record("query")
    times = [json.loads(line)["time"] for line in path.read_bytes().splitlines()]
    assert times == sorted(times)


def test_an_unknown_result_or_malformed_action_is_a_programming_error(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "a.jsonl") as log:
        with pytest.raises(ValueError):
            log.record("scan.start", result="maybe")
        with pytest.raises(ValueError):
            log.record("Scan Start!")
        log.record("settings.update")  # any dotted lower-case name is a valid action


def test_a_file_ending_in_an_incomplete_line_is_not_extended(log_file: Path) -> None:
    log_file.write_bytes(log_file.read_bytes()[:-10])
    with pytest.raises(AuditError, match="incomplete line"):
        AuditLog(log_file)


def test_a_write_after_another_writer_left_an_incomplete_line_fails_loudly(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    with AuditLog(path) as log:
        log.record("query")
        with path.open("ab") as fh:
            fh.write(b'{"half":')
        with pytest.raises(AuditError, match="incomplete line"):
            log.record("query")


def test_recording_on_a_closed_or_disabled_log_raises(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.jsonl")
    logging.disable(logging.CRITICAL)
    try:
        with pytest.raises(AuditError, match="disabled"):
            log.record("query")
    finally:
        logging.disable(logging.NOTSET)
    log.close()
    with pytest.raises(AuditError, match="closed"):
        log.record("query")


def test_an_unwritable_path_is_an_actionable_error(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="cannot open audit log"):
        AuditLog(tmp_path / "missing-folder" / "a.jsonl")


def test_cli_verify_exits_0_on_an_intact_log(log_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(log_file)]) == 0
    assert f"ok, 6 lines, head {verify(log_file).head}" in capsys.readouterr().out


def test_cli_verify_exits_1_with_the_line_and_reason_on_stderr(log_file: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    lines = _lines(log_file)
    lines[4] = _edit(lines[4], accounts=["999999999999"])
    _put(log_file, lines)
    assert main(["verify", str(log_file)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{log_file}: line 5: ") and err.count("\n") == 1


def test_cli_verify_with_an_anchor_detects_tail_truncation(log_file: Path) -> None:
    anchor = verify(log_file).head
    _put(log_file, _lines(log_file)[:-1])
    assert main(["verify", str(log_file)]) == 0
    assert main(["verify", str(log_file), "--anchor", anchor]) == 1


@pytest.mark.parametrize("argv", [[], ["verify"], ["check", "x"], ["verify", "/nonexistent/audit.jsonl"],
                                  ["verify", "x", "--anchor", "not-hex"]])
def test_cli_usage_errors_exit_2_with_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("cloudscreen audit: error: ") and err.count("\n") == 1


_text = st.text(max_size=30)
_records = st.lists(st.fixed_dictionaries({
    "action": st.sampled_from(list(Action)),
    "result": st.sampled_from(["ok", "denied", "error"]),
    "user_id": st.one_of(st.none(), st.integers(min_value=0, max_value=10**12), _text),
    "role": st.one_of(st.none(), st.sampled_from(["admin", "analyst", "viewer"])),
    "accounts": st.lists(st.from_regex(r"\A[0-9]{12}\Z"), max_size=3),
    "scan_id": st.one_of(st.none(), _text),
    "reason": st.one_of(st.none(), _text),
    "details": st.one_of(st.none(), st.dictionaries(st.text(max_size=8), st.one_of(_text, st.integers(),
                                                                                  st.floats(), st.booleans()),
                                                    max_size=3)),
}), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(records=_records, where=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
       new_byte=st.integers(min_value=0, max_value=255))
def test_property_chain_verifies_and_any_single_byte_change_is_detected(records: list[dict], where: float,
                                                                        new_byte: int) -> None:
    """Property 9: audit — for any sequence of records the chain verifies, and any single-byte change
    to any line is detected."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "audit.jsonl"
        with AuditLog(path) as log:
            for rec in records:
                log.record(**rec)
        assert verify(path).ok and verify(path).lines == len(records)
        data = bytearray(path.read_bytes())
        pos = int(where * len(data))
        if data[pos] == new_byte:
            new_byte = (new_byte + 1) % 256
        data[pos] = new_byte
        path.write_bytes(bytes(data))
        result = verify(path)
        assert not result.ok
        line_of_change = data[:pos].count(b"\n") + 1
        assert result.first_bad_line == line_of_change

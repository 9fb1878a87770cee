"""IAM-style policy documents: parsing and the catalogue's shared definitions (CHECKS.md).

Used by every collector that reads a policy (S3, SNS, SQS, Lambda, KMS, ECR, IAM trust policies)
and by every check that evaluates one, so "public statement" means one thing everywhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote


def normalise_document(doc: Any) -> dict[str, Any] | None:
    """A policy document as a dict. APIs return dicts, JSON strings or URL-encoded JSON strings
    (IAM); accept all three. Unparseable input raises ValueError."""
    if doc is None or doc == "":
        return None
    if isinstance(doc, dict):
        return doc
    if isinstance(doc, (bytes, bytearray)):
        doc = doc.decode("utf-8")
    text = str(doc).strip()
    if not text.startswith("{"):
        text = unquote(text)
    parsed = json.loads(text)
    return parsed if isinstance(parsed, dict) else None


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements(doc: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
    """The statements of a document (a single statement object counts as a list of one)."""
    if not doc:
        return
    for st in as_list(doc.get("Statement")):
        if isinstance(st, dict):
            yield st


def is_everyone(principal: Any) -> bool:
    """`"*"`, `{"AWS": "*"}` or an AWS list containing `"*"`."""
    if principal == "*":
        return True
    return isinstance(principal, dict) and "*" in as_list(principal.get("AWS"))


def is_public_statement(stmt: dict[str, Any]) -> bool:
    """Effect Allow, Principal everyone, and no Condition element."""
    return stmt.get("Effect") == "Allow" and not stmt.get("Condition") and is_everyone(stmt.get("Principal"))


def is_admin_statement(stmt: dict[str, Any]) -> bool:
    """Effect Allow, Action "*" or "*:*" (alone or in a list), Resource "*" (alone or in a list).
    NotAction statements are not evaluated."""
    if stmt.get("Effect") != "Allow" or "Action" not in stmt:
        return False
    return any(a in ("*", "*:*") for a in as_list(stmt.get("Action"))) and "*" in as_list(stmt.get("Resource"))


def public_statement_ids(doc: dict[str, Any] | None) -> list[str]:
    """The public statements of a document, each named by its Sid (or `#<index>` without one)."""
    return [st.get("Sid") or f"#{i}" for i, st in enumerate(statements(doc)) if is_public_statement(st)]


def has_public_statement(doc: dict[str, Any] | None) -> bool:
    return any(is_public_statement(s) for s in statements(doc))


def has_admin_statement(doc: dict[str, Any] | None) -> bool:
    return any(is_admin_statement(s) for s in statements(doc))

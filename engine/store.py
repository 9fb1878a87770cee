"""The result store: where every finished unit, account outcome and scan document lives.

Layout under the store root (`file:///path`, default `./.cloudscreen`):

    scans/<scan_id>/scan.json                         request, plan, engine options (no secrets)
    scans/<scan_id>/units/<account>/<region>/<service>.json   one finished unit (written at once)
    scans/<scan_id>/accounts/<account>.json           an account job's outcome
    scans/<scan_id>/findings.json                     the final document (CONTRACTS.md section 2)
    history/unit_costs.json                           mean unit duration per service (plan costs)

Writes are atomic (temporary file + rename), so a crash never leaves half a document.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from engine.errors import StoreError
from engine.model import UnitResult


class ResultStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str) -> ResultStore:
        parts = urlsplit(url)
        if parts.scheme == "file":
            path = (parts.netloc + parts.path) if parts.netloc in ("", ".", "..") else parts.path
            return cls(Path(path or ".").expanduser().resolve())
        if parts.scheme == "" and url:
            return cls(Path(url).expanduser().resolve())
        raise StoreError(f"unsupported result store {url!r}: use file:///path")

    @property
    def url(self) -> str:
        return "file://" + str(self.root)

    # -- raw objects --
    def _path(self, key: str) -> Path:
        p = (self.root / key).resolve()
        if self.root not in p.parents and p != self.root:
            raise StoreError(f"key {key!r} escapes the store")
        return p

    def put_json(self, key: str, obj: Any) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w") as fh:
                json.dump(obj, fh, separators=(",", ":"), default=str)
            os.replace(tmp, path)
        except OSError as exc:
            raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from exc

    def get_json(self, key: str) -> Any:
        path = self._path(key)
        try:
            with open(path) as fh:
                return json.load(fh)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot read {path}: {exc}") from exc

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        if not base.exists():
            return []
        return sorted(str(p.relative_to(self.root)) for p in base.rglob("*.json") if not p.name.startswith(".tmp-"))

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass

    def check_writable(self) -> None:
        self.put_json("health/probe.json", {"ok": True})

    # -- scan documents --
    @staticmethod
    def _unit_key(scan_id: str, account: str, region: str, service: str) -> str:
        return f"scans/{scan_id}/units/{account}/{region}/{service}.json"

    def save_scan(self, scan_id: str, doc: dict[str, Any]) -> None:
        self.put_json(f"scans/{scan_id}/scan.json", doc)

    def load_scan(self, scan_id: str) -> dict[str, Any] | None:
        return self.get_json(f"scans/{scan_id}/scan.json")

    def save_unit(self, scan_id: str, result: UnitResult) -> None:
        u = result.unit
        self.put_json(self._unit_key(scan_id, u.account_id, u.region, u.service), result.to_dict())

    def finished_units(self, scan_id: str, account: str) -> set[str]:
        """Keys (`account/region/service`) of the units of `account` already stored."""
        prefix = f"scans/{scan_id}/units/{account}"
        out = set()
        for key in self.list(prefix):
            region, service = key.split("/")[-2], key.rsplit("/", 1)[-1][: -len(".json")]
            out.add(f"{account}/{region}/{service}")
        return out

    def load_unit(self, scan_id: str, account: str, region: str, service: str) -> UnitResult | None:
        d = self.get_json(self._unit_key(scan_id, account, region, service))
        return UnitResult.from_dict(d) if d else None

    def load_units(self, scan_id: str) -> list[UnitResult]:
        return [UnitResult.from_dict(self.get_json(k)) for k in self.list(f"scans/{scan_id}/units")]

    def save_account(self, scan_id: str, account: str, status: str, error: str | None = None,
                     retryable: bool = False) -> None:
        self.put_json(f"scans/{scan_id}/accounts/{account}.json",
                      {"account_id": account, "status": status, "error": error, "retryable": retryable})

    def load_account(self, scan_id: str, account: str) -> dict[str, Any] | None:
        return self.get_json(f"scans/{scan_id}/accounts/{account}.json")

    def save_findings(self, scan_id: str, doc: dict[str, Any]) -> None:
        self.put_json(f"scans/{scan_id}/findings.json", doc)

    def load_findings(self, scan_id: str) -> dict[str, Any] | None:
        return self.get_json(f"scans/{scan_id}/findings.json")

    def list_scans(self) -> list[str]:
        base = self._path("scans")
        if not base.exists():
            return []
        return sorted((p.name for p in base.iterdir() if p.is_dir()), reverse=True)

    # -- history of unit costs --
    def unit_costs(self) -> dict[str, float]:
        d = self.get_json("history/unit_costs.json") or {}
        return {k: float(v["mean_s"]) for k, v in d.items() if isinstance(v, dict) and v.get("mean_s")}

    def record_unit_costs(self, durations: dict[str, list[float]], alpha: float = 0.3) -> None:
        """Fold this scan's unit durations into an exponentially weighted mean per service."""
        with self._lock:
            d = self.get_json("history/unit_costs.json") or {}
            for service, values in durations.items():
                if not values:
                    continue
                mean = sum(values) / len(values)
                prev = d.get(service, {})
                old = prev.get("mean_s")
                d[service] = {"mean_s": mean if old is None else (1 - alpha) * old + alpha * mean,
                              "samples": int(prev.get("samples", 0)) + len(values)}
            self.put_json("history/unit_costs.json", d)

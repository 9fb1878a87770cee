// CloudScreen demo console: the WebSocket protocol of CONTRACTS.md section 3, driven from a page.
// Every value from the server is shown with textContent, never parsed as HTML.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const state = { token: null, expiresAt: null, user: null, ws: null, scanId: null, nextId: 1,
                  refreshTimer: null, reconnectTimer: null, signedIn: false };

  function text(id, value) { $(id).textContent = value == null ? "" : String(value); }

  function showError(message) {
    const el = $("error");
    el.textContent = message;
    el.hidden = !message;
  }

  function csvList(id) {
    const parts = $(id).value.split(",").map((s) => s.trim()).filter(Boolean);
    return parts.length ? parts : undefined;
  }

  function setConnected(on) {
    $("start-btn").disabled = !on;
    $("refresh-btn").disabled = !on;
    $("cancel-btn").disabled = !on || !state.scanId;
  }

  async function newSession(role) {
    const resp = await fetch("/api/dev/session", { method: "POST", headers: { "Content-Type": "application/json" },
                                                   body: JSON.stringify({ role: role }) });
    const body = await resp.json();
    if (!resp.ok) throw new Error((body.error && body.error.message) || ("sign-in failed: HTTP " + resp.status));
    return body;
  }

  function scheduleRefresh() {
    clearTimeout(state.refreshTimer);
    // Refresh a minute before expiry (or halfway for very short sessions).
    const left = Date.parse(state.expiresAt) - Date.now();
    const wait = Math.max(1000, Math.min(left - 60000, left / 2));
    state.refreshTimer = setTimeout(async () => {
      try {
        const session = await newSession(state.user.role);
        state.token = session.token;
        state.expiresAt = session.expires_at;
        send({ type: "auth.refresh", token: session.token });
      } catch (err) {
        showError("could not refresh the session: " + err.message);
      }
    }, wait);
  }

  function send(message) {
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) {
      showError("not connected");
      return;
    }
    if (message.type !== "auth" && message.type !== "auth.refresh") message.id = state.nextId++;
    state.ws.send(JSON.stringify(message));
  }

  function connect() {
    if (state.ws) state.ws.close(1000);
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
    const ws = new WebSocket(url);
    state.ws = ws;
    text("status", "connecting");
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: state.token }));
    ws.onmessage = (event) => {
      let msg;
      try { msg = JSON.parse(event.data); } catch (e) { return; }
      const handler = HANDLERS[msg.type];
      if (handler) handler(msg);
    };
    ws.onclose = (event) => {
      if (state.ws !== ws) return;
      setConnected(false);
      text("who", "disconnected (close " + event.code + ")");
      $("who").dataset.state = "disconnected";
      // Reconnect while signed in: the scan keeps running on the server; subscribing resumes the stream.
      if (state.signedIn && event.code !== 4401) {
        clearTimeout(state.reconnectTimer);
        state.reconnectTimer = setTimeout(connect, 2000);
      }
    };
  }

  function resetProgress() {
    text("percent", 0); text("units", "0/0"); text("eta", "—"); text("current", "\u00a0");
    $("bar-fill").style.width = "0%";
    $("bar").setAttribute("aria-valuenow", "0");
    for (const s of ["critical", "high", "medium", "low", "informational"]) text("c-" + s, 0);
    $("result").hidden = true;
    $("reports").replaceChildren();
  }

  function formatEta(seconds) {
    if (seconds == null) return "—";
    const s = Math.max(0, Math.round(seconds));
    return s >= 60 ? Math.floor(s / 60) + " min " + (s % 60) + " s" : s + " s";
  }

  function watching(msg) { return msg.scan_id && msg.scan_id === state.scanId; }

  function finish(status, message) {
    text("status", status);
    $("status").dataset.final = status;
    text("result-text", message);
    $("result").hidden = false;
    $("cancel-btn").disabled = true;
    send({ type: "scan.list", limit: 10 });
  }

  const HANDLERS = {
    "auth.ok": (msg) => {
      state.user = msg.user;
      state.expiresAt = msg.expires_at;
      state.signedIn = true;
      text("who", "signed in as " + msg.user.name + " (" + msg.user.role + "), session until " + msg.expires_at);
      $("who").dataset.state = "signed-in";
      setConnected(true);
      scheduleRefresh();
      if (state.scanId) send({ type: "scan.subscribe", scan_id: state.scanId });
      send({ type: "scan.list", limit: 10 });
    },
    "scan.accepted": (msg) => {
      state.scanId = msg.scan_id;
      resetProgress();
      text("scan-id", msg.scan_id);
      text("status", "accepted");
      delete $("status").dataset.final;
      text("units", "0/" + msg.plan.units);
      text("current", msg.plan.accounts.length + " account(s), " + msg.plan.regions.join(", ") + ", " +
           msg.plan.services.length + " service(s)");
      $("cancel-btn").disabled = false;
    },
    "scan.progress": (msg) => {
      if (!watching(msg)) return;
      text("status", msg.status || "running");
      text("percent", Math.floor(msg.percent));
      $("bar-fill").style.width = msg.percent + "%";
      $("bar").setAttribute("aria-valuenow", String(Math.floor(msg.percent)));
      text("units", msg.done_units + "/" + msg.total_units);
      text("eta", formatEta(msg.eta_seconds));
      const c = msg.current || {};
      text("current", [c.account_id, c.region, c.service].filter(Boolean).join(" · ") + (msg.message ? " — " + msg.message : ""));
      for (const [sev, n] of Object.entries(msg.counts || {})) if ($("c-" + sev)) text("c-" + sev, n);
    },
    "scan.completed": (msg) => {
      if (!watching(msg)) return;
      text("percent", 100);
      $("bar-fill").style.width = "100%";
      $("bar").setAttribute("aria-valuenow", "100");
      const byStatus = (msg.summary && msg.summary.by_status) || {};
      finish(msg.status || "completed", "Finished in " + Math.round(msg.duration_s || 0) + " s: " +
             Object.entries(byStatus).map(([k, v]) => k + " " + v).join(", "));
      const list = $("reports");
      for (const r of msg.reports || []) {
        const li = document.createElement("li");
        const a = document.createElement("a");
        a.href = r.url;
        a.textContent = r.name;
        a.target = "_blank";
        a.rel = "noopener";
        a.dataset.type = r.type;
        li.append(a, document.createTextNode(" (" + Math.ceil(r.size / 1024) + " KiB)"));
        list.append(li);
      }
    },
    "scan.failed": (msg) => { if (watching(msg)) finish("failed", msg.error); },
    "scan.cancelled": (msg) => { if (watching(msg)) finish("cancelled", "The scan was cancelled."); },
    "scan.list": (msg) => {
      const rows = (msg.scans || []).map((s) => {
        const tr = document.createElement("tr");
        const fails = s.summary && s.summary.by_status ? s.summary.by_status.FAIL : "";
        for (const v of [s.scan_id, s.status, s.started_at || "", fails]) {
          const td = document.createElement("td");
          td.textContent = v == null ? "" : String(v);
          tr.append(td);
        }
        const td = document.createElement("td");
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = "open";
        b.addEventListener("click", () => {
          state.scanId = s.scan_id;
          resetProgress();
          text("scan-id", s.scan_id);
          send({ type: "scan.subscribe", scan_id: s.scan_id });
        });
        td.append(b);
        tr.append(td);
        return tr;
      });
      $("scans").replaceChildren(...rows);
    },
    "error": (msg) => showError(msg.code + ": " + msg.message),
    "pong": () => {},
  };

  document.addEventListener("DOMContentLoaded", () => {
    $("signin-btn").addEventListener("click", async () => {
      showError("");
      try {
        const session = await newSession($("role").value);
        state.token = session.token;
        state.expiresAt = session.expires_at;
        state.user = session.user;
        connect();
      } catch (err) {
        showError(err.message);
      }
    });
    $("start-btn").addEventListener("click", () => {
      showError("");
      const msg = { type: "scan.start", accounts: csvList("accounts"), regions: csvList("regions"),
                    services: csvList("services") };
      const ticket = $("ticket").value.trim();
      if (ticket) msg.ticket_id = ticket;
      send(msg);
    });
    $("cancel-btn").addEventListener("click", () => {
      if (state.scanId) send({ type: "scan.cancel", scan_id: state.scanId });
    });
    $("refresh-btn").addEventListener("click", () => send({ type: "scan.list", limit: 10 }));
    document.body.dataset.ready = "true";
  });
})();

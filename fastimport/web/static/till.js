// The till page's little JavaScript: imports with live progress, order buttons, retries, stock, verify.
// Server text is always put in with textContent, never as HTML.
"use strict";
(function () {
  const T = JSON.parse(document.getElementById("i18n")?.textContent || "{}");
  const t = (key, values) => (T[key] || key).replace(/%\((\w+)\)s/g, (_, k) => String(values?.[k] ?? ""));
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const $ = (sel) => document.querySelector(sel);

  function flash(text, ok) {
    const box = $("#flash");
    if (!box) return;
    box.textContent = text;
    box.className = "flash " + (ok ? "good" : "bad");
    box.hidden = false;
  }
  // A message to show after the page reloads (the table has changed).
  function flashAfterReload(text, ok) {
    sessionStorage.setItem("fastimport.flash", JSON.stringify([text, ok]));
    location.reload();
  }
  const kept = sessionStorage.getItem("fastimport.flash");
  if (kept) {
    sessionStorage.removeItem("fastimport.flash");
    const [text, ok] = JSON.parse(kept);
    flash(text, ok);
  }

  async function call(method, url, body) {
    const options = { method, headers: { "X-CSRF-Token": csrf, Accept: "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, options);
    } catch (e) {
      return { ok: false, status: 0, data: { error: t("The server did not answer.") } };
    }
    let data = {};
    try { data = await response.json(); } catch (e) { data = { error: response.statusText }; }
    return { ok: response.ok, status: response.status, data };
  }

  // -- import ------------------------------------------------------------------------------------
  const opener = $("#import-open");
  if (opener) {
    const panel = $("#import-panel");
    opener.addEventListener("click", () => {
      panel.hidden = !panel.hidden;
      opener.setAttribute("aria-expanded", String(!panel.hidden));
      if (!panel.hidden) panel.querySelector("button")?.focus();
    });
    const store = $("#import-store")?.value || undefined;
    document.querySelectorAll("[data-preset]").forEach((button) =>
      button.addEventListener("click", () => startImport({ preset: button.dataset.preset, store })));
    $("#import-range")?.addEventListener("submit", (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      startImport({ since: form.get("since"), until: form.get("until") || undefined, store });
    });
  }

  function showProgress(state) {
    const box = $("#progress");
    box.hidden = false;
    $("#progress-title").textContent = state.state === "running" ? t("Import running…")
      : state.state === "done" ? t("Import finished.") + " " + t("%(new)s new, %(updated)s updated, %(unchanged)s already there", state)
      : t("Import failed:") + " " + (state.error || "");
    const list = $("#progress-stores");
    list.replaceChildren(...(state.progress || []).map((p) => {
      const item = document.createElement("li");
      item.textContent = t("%(store)s: %(pages)s pages, %(orders)s orders read", p);
      return item;
    }));
  }

  async function startImport(body) {
    $("#import-panel").hidden = true;
    document.querySelectorAll("[data-preset], #import-range button").forEach((b) => (b.disabled = true));
    showProgress({ state: "running", progress: [] });
    const answer = await call("POST", "/api/import", body);
    if (!answer.ok) {
      showProgress({ state: "failed", error: answer.data.error });
      document.querySelectorAll("[data-preset], #import-range button").forEach((b) => (b.disabled = false));
      return;
    }
    const events = new EventSource("/api/import/" + answer.data.run + "/events");
    let last = null;
    events.addEventListener("progress", (event) => { last = JSON.parse(event.data); showProgress(last); });
    events.addEventListener("end", () => {
      events.close();
      if (last) flashAfterReload($("#progress-title").textContent, last.state === "done");
    });
  }

  // -- an order's buttons ------------------------------------------------------------------------
  document.querySelectorAll("form.action").forEach((form) =>
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      flash(t("Working…"), true);
      const body = Object.fromEntries(new FormData(form).entries());
      const answer = await call("POST", form.dataset.url, body);
      button.disabled = false;
      const text = answer.data.message || answer.data.error || "";
      if (answer.ok) flashAfterReload(text, true); else flash(text, false);
    }));

  // -- prints, stock, journal --------------------------------------------------------------------
  document.querySelectorAll("[data-retry]").forEach((button) =>
    button.addEventListener("click", async () => {
      button.disabled = true;
      flash(t("Working…"), true);
      const job = button.dataset.retry;
      const answer = await call("POST", "/api/print/retry", job ? { job: Number(job) } : {});
      if (!answer.ok) { button.disabled = false; flash(answer.data.error, false); return; }
      flashAfterReload(t("%(printed)s tickets printed, %(waiting)s still waiting.",
        { printed: answer.data.printed, waiting: answer.data.waiting.length }), answer.data.waiting.length === 0);
    }));

  $("#stock-push")?.addEventListener("click", async (event) => {
    event.target.disabled = true;
    flash(t("Working…"), true);
    const answer = await call("POST", "/api/stock/push", {});
    if (answer.ok) flashAfterReload(t("Stock sent to the shop."), true);
    else { event.target.disabled = false; flash(answer.data.error, false); }
  });

  $("#verify")?.addEventListener("click", async () => {
    const box = $("#verify-result");
    box.hidden = false;
    box.textContent = t("Working…");
    const answer = await call("GET", "/api/verify");
    const report = answer.data;
    if (answer.ok && report.ok) {
      box.className = "flash good";
      box.textContent = t("The invoice chain is whole: %(records)s records checked.", report);
    } else {
      box.className = "flash bad";
      const first = report.first_problem ? JSON.stringify(report.first_problem) : (report.error || "");
      box.textContent = t("The invoice chain is broken:") + " " + first;
    }
  });
})();

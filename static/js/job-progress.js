// The one job-progress component, with its markup from the templates (load job_progress):
//   <p{% job_watch job refresh="#part-a, #part-b" %}>{% include "core/job_progress.html" %}</p>
// which renders data-job-progress="<job id>" data-status="queued" data-job-refresh=… on the element and
// <span data-job-field="status">, <span data-job-field="percent"> and <span data-job-field="message"> inside it.
// While the job is queued or running the element polls /api/jobs/<id>/ and shows its status, percentage and
// message. When the job ends, the parts of the page named by data-job-refresh (default: the whole <main>) are
// replaced by the same parts of a fresh GET of this page, so what the job produced appears without a reload and
// without resubmitting the form that started it. Watchers inside the refreshed parts start again by themselves.
(function () {
  "use strict";

  // Anything but these is an end state, so a new final status needs no change here.
  const ACTIVE = new Set(["queued", "running"]);
  const ended = (status) => !ACTIVE.has(status);
  const FIRST_POLL_MS = 500;
  const MAX_POLL_MS = 4000;
  let refreshing = null;

  function setField(element, name, text) {
    element.querySelectorAll(`[data-job-field="${name}"]`).forEach((field) => { field.textContent = text; });
  }

  // A queued job says how many jobs (running or queued before it) it waits behind, so a wait reads as a place
  // in line, not as a hang.
  function waiting(job) {
    if (job.status !== "queued" || !job.jobs_ahead) return "";
    return `waiting behind ${job.jobs_ahead} job${job.jobs_ahead === 1 ? "" : "s"}`;
  }

  function show(element, job) {
    element.dataset.status = job.status;
    setField(element, "status", job.status);
    setField(element, "percent", ended(job.status) ? "" : `${Math.round(100 * (job.progress || 0))}%`);
    setField(element, "message", ended(job.status) ? "" : ([waiting(job), job.message].filter(Boolean).join(" · ")));
  }

  async function refresh(selectors) {
    const response = await fetch(window.location.href, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) throw new Error(`page answered ${response.status}`);
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const selector of selectors) {
      const current = document.querySelector(selector);
      const replacement = fresh.querySelector(selector);
      // A part that is new on the fresh page has no place to go: only a full load can show it.
      if (!current || !replacement) throw new Error(`no ${selector} to refresh`);
      current.replaceWith(document.importNode(replacement, true));
    }
    start(document);
    document.dispatchEvent(new CustomEvent("job-progress:refreshed"));
  }

  function refreshOnce(element) {
    if (!refreshing) {
      const selectors = (element.dataset.jobRefresh || "main").split(",").map((s) => s.trim()).filter(Boolean);
      // Falls back to a plain load of the page (never a form resubmission) when a part cannot be swapped.
      refreshing = refresh(selectors)
        .catch(() => window.location.replace(window.location.href))
        .finally(() => { refreshing = null; });
    }
    return refreshing;
  }

  function watch(element) {
    if (element.dataset.jobWatched || (element.dataset.status && ended(element.dataset.status))) return;
    element.dataset.jobWatched = "1";
    let delay = FIRST_POLL_MS;
    const poll = async () => {
      if (!element.isConnected) return;
      try {
        const response = await fetch(`/api/jobs/${element.dataset.jobProgress}/`, { credentials: "same-origin", cache: "no-store" });
        if (!response.ok) throw new Error(`job answered ${response.status}`);
        const job = await response.json();
        show(element, job);
        if (ended(job.status)) {
          await refreshOnce(element);
          return;
        }
        delay = Math.min(delay * 1.5, MAX_POLL_MS);
      } catch (error) {
        delay = MAX_POLL_MS;
      }
      setTimeout(poll, delay);
    };
    setTimeout(poll, delay);
  }

  // A flash announcing a job (class job-flash-<id>) says the page updates while the job runs; once the job's row
  // shows it ended (or it had ended before the page loaded) that clause would be false, so it is replaced.
  const WHILE_RUNNING = "; this page updates while it runs.";
  function settleFlashes() {
    document.querySelectorAll('.messages li[class*="job-flash-"]').forEach((flash) => {
      const id = (flash.className.match(/job-flash-([\w-]+)/) || [])[1];
      const watched = document.querySelector(`[data-job-progress="${id}"]`);
      if (!watched && !document.querySelector(`[data-job="${id}"]`)) return;  // the job is not on this page
      if (watched && !ended(watched.dataset.status || "queued")) return;
      flash.textContent = flash.textContent.replace(WHILE_RUNNING, " and has ended.");
    });
  }

  function start(root) {
    root.querySelectorAll("[data-job-progress]").forEach(watch);
    settleFlashes();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => start(document));
  } else {
    start(document);
  }
})();

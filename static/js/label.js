// Labelling page: fetches the next item, renders it, handles hotkeys and submits annotations.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("lg-config").textContent);
  const api = `/api/projects/${config.project}`;
  const view = document.getElementById("item-view");
  const progressEl = document.getElementById("progress");
  const statusLine = document.getElementById("status-line");
  const comment = document.getElementById("comment");
  const unsure = document.getElementById("flag-unsure");
  const unusable = document.getElementById("flag-unusable");
  let current = null;
  // The answer's controls come from the project's task kind (kinds/<kind>/widget.js, loaded before this file).
  const widget = window.labelgateWidget(config, () => Boolean(current));
  let shownAt = 0;
  let busy = false;
  // Going back: ``history`` is the annotator's own recent votes (GET my-recent, newest first), ``back`` the one on
  // screen (-1: the item the queue served, which keeps its lease meanwhile). Only their own label comes back.
  let history = null;
  let back = -1;
  const backBanner = document.getElementById("back-banner");
  const forwardBtn = document.getElementById("forward-btn");

  // The one fetch/CSRF helper (static/js/api.js, loaded by base.html).
  const call = window.labelgateApi.call;

  function say(text, isError) {
    statusLine.textContent = text;
    statusLine.classList.toggle("error", Boolean(isError));
  }

  function errorText(data) {
    if (!data) return "Something went wrong.";
    if (data.detail) return data.detail;
    return Object.entries(data).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(" ") : v}`).join("; ");
  }

  // The counter is fetched from the server on load, when the queue runs dry and every PROGRESS_EVERY items or
  // PROGRESS_MAX_AGE_MS; in between it is kept locally (a submit or skip takes one item off "left"). Counting the
  // items left for an annotator scans the project's open items, so doing it after every item would make each
  // label cost more as the project grows.
  const PROGRESS_EVERY = 20;
  const PROGRESS_MAX_AGE_MS = 60000;
  let progress = null;
  let sinceRefresh = 0;
  let refreshedAt = 0;

  function showProgress() {
    if (progress === null) return;
    // The server counts the item on screen as left for the annotator (the project page, read before it was
    // leased, counts it too); saying so keeps "left" from reading as "after this one".
    const onScreen = current !== null && progress.left > 0 ? ", this one included" : "";
    progressEl.textContent = `${progress.done} done, ${progress.left} left for you${onScreen}`;
    progressEl.dataset.left = progress.left;
    progressEl.dataset.done = progress.done;
  }

  // A submit or skip is counted when the next item is on screen, so the counter never runs ahead of the page.
  // The counts are running totals, so a server figure can say which of them it already holds: those confirmed
  // before its request was sent. One confirmed while the request was in flight may or may not be in it, so the
  // figure is asked for again rather than guessed at.
  let confirmedDone = 0;
  let confirmedTaken = 0;
  let shownDone = 0;
  let shownTaken = 0;
  let base = null;  // the server's figure and the confirmed totals it holds
  function countLocally(done) {
    if (done) confirmedDone += 1;
    confirmedTaken += 1;
  }

  function applyCounted() {
    shownDone = confirmedDone;
    shownTaken = confirmedTaken;
    showCounts();
  }

  function showCounts() {
    if (base === null) return;  // kept until the first server count arrives
    // Below the server's figure only while a confirmed submit waits for its next item: never ahead of the page.
    progress = {
      done: base.done + (shownDone - base.doneHeld),
      left: Math.max(0, base.left - (shownTaken - base.takenHeld)),
    };
    sinceRefresh = shownTaken - base.takenHeld;
    showProgress();
  }

  // An annotator who labels faster than the counts come back would keep the figure being read again; after this
  // many reads the last one is shown as the server gave it, and the next refresh puts any difference right.
  const PROGRESS_READS = 3;

  async function refreshProgress(force) {
    const stale = sinceRefresh >= PROGRESS_EVERY || performance.now() - refreshedAt > PROGRESS_MAX_AGE_MS;
    if (!force && progress !== null && !stale) return;
    let doneHeld, takenHeld, status, data;
    for (let read = 1; read <= PROGRESS_READS; read += 1) {
      doneHeld = confirmedDone;
      takenHeld = confirmedTaken;
      ({ status, data } = await call("GET", `${api}/progress/`));
      if (status !== 200 || confirmedTaken === takenHeld) break;
      if (read === PROGRESS_READS) {
        doneHeld = confirmedDone;
        takenHeld = confirmedTaken;
      }
    }
    if (status === 200) {
      base = { done: data.done, left: data.left, doneHeld, takenHeld };
      refreshedAt = performance.now();
      showCounts();
      // Items others are labelling right now count as left: they come back if a lease expires unused.
      const held = document.getElementById("empty-held");
      held.hidden = !(current === null && data.left > 0);
      held.textContent = data.left === 1
        ? "1 item is with other annotators right now; it comes back here if they do not finish it."
        : `${data.left} items are with other annotators right now; they come back here if they do not finish them.`;
    }
  }

  function resetForm() {
    widget.reset();
    unsure.checked = false;
    unusable.checked = false;
    comment.value = "";
  }

  function render(item, suggestion) {
    view.replaceChildren();
    media = null;
    // Blind labelling: only the content is shown. External ids, tags and metadata come from whoever made the
    // data and often name the answer (a file called cat_01.jpg, a tag "module:math"); see annotation/blind.py.
    // A kind whose answer is drawn on the item (boxes on an image) shows the media itself.
    if (item.media_url && widget.render) {
      widget.render(view, item);
    } else if (item.media_url && MEDIA_SCRIPTS[config.taskType]) {
      // Image and audio viewers are ES modules (static/js/media/), loaded once by label.html's script tags.
      const slot = document.createElement("div");
      slot.className = `media-slot media-${config.taskType}`;
      view.appendChild(slot);
      mediaModule(config.taskType).then((module) => {
        if (slot.isConnected && !slot.firstChild) media = module.show(slot, item.media_url);
      });
    }
    // A kind that draws on the text (spans) renders it itself.
    if (item.text && !(widget.renderText && widget.renderText(item, view))) {
      const text = document.createElement("div");
      text.className = "item-text";
      text.textContent = item.text;  // textContent: item text is never interpreted as HTML
      view.appendChild(text);
    }
    // Only sent when a manager turned pre-annotation on; shown with its bias warning, never pre-selected.
    if (suggestion && config.preannotation) {
      const box = document.createElement("p");
      box.className = "suggestion";
      box.id = "suggestion";
      const label = Array.isArray(suggestion.label) ? suggestion.label.join(", ") : String(suggestion.label);
      const p = suggestion.probs && suggestion.probs[label];
      const strong = document.createElement("strong");
      strong.textContent = `Model suggestion: ${label}` + (typeof p === "number" ? ` (${Math.round(p * 100)} %)` : "");
      const warning = document.createElement("span");
      warning.className = "small";
      warning.textContent = ` — ${suggestion.warning}`;
      box.append(strong, warning);
      view.appendChild(box);
    }
  }

  function setEditing(row) {
    backBanner.hidden = row === null;
    forwardBtn.hidden = row === null;
    document.getElementById("skip-btn").hidden = row !== null;
    document.querySelector(".labeller").classList.toggle("editing", row !== null);
    if (row === null) return;
    const when = new Date(row.annotated_at).toLocaleString();
    document.getElementById("back-text").textContent = back === 0
      ? `Your last item (labelled ${when}). Change the label and press Enter to save, or go forward.`
      : `${back + 1} items back (labelled ${when}). Change the label and press Enter to save, or go forward.`;
  }

  function showPast(row) {
    document.getElementById("controls").hidden = false;
    document.getElementById("empty-state").hidden = true;
    resetForm();
    say("");
    render(row.item, null);
    widget.restore(row);
    unsure.checked = row.unsure;
    unusable.checked = row.unusable;
    comment.value = row.comment;
    shownAt = performance.now();
    setEditing(row);
  }

  function showCurrent() {
    back = -1;
    setEditing(null);
    resetForm();
    if (current === null) {
      view.replaceChildren();
      document.getElementById("controls").hidden = true;
      document.getElementById("empty-state").hidden = false;
      return;
    }
    render(current.item, current.suggestion);
    shownAt = performance.now();
  }

  async function goBack() {
    if (busy || !document.getElementById("ack-dialog").hidden) return;
    if (history === null || back === -1) {
      const { status, data } = await call("GET", `${api}/my-recent/`);
      if (status !== 200) { say(errorText(data), true); return; }
      history = data;
    }
    if (back + 1 >= history.length) {
      say(history.length ? `That is as far back as you can go (your last ${history.length} items).`
        : "You have not labelled anything here yet.", true);
      return;
    }
    back += 1;
    showPast(history[back]);
  }

  function goForward() {
    if (busy || back < 0) return;
    back -= 1;
    if (back >= 0) showPast(history[back]); else showCurrent();
  }

  async function loadNext() {
    back = -1;
    setEditing(null);
    resetForm();
    say("");
    const { status, data } = await call("GET", `${api}/next/`);
    if (status === 204) {
      current = null;
      view.replaceChildren();
      document.getElementById("controls").hidden = true;
      document.getElementById("empty-state").hidden = false;
      applyCounted();
      await refreshProgress(true);
      return;
    }
    if (status === 409 && data && data.code === "guideline_ack_required") {
      // Published after this page was rendered: its dialog holds the old text and version, so reload to show the new one.
      if (data.guideline_version !== config.guidelineVersion) { window.location.reload(); return; }
      askAck(data.detail);
      return;
    }
    if (status !== 200) { say(errorText(data), true); return; }
    current = data;
    shownAt = performance.now();
    render(data.item, data.suggestion);
    applyCounted();
    await refreshProgress();
  }

  // The media viewer of the item on screen (its key(event, key) takes the media keys), by task type.
  const MEDIA_SCRIPTS = { image_classification: "media-image-js", audio_classification: "media-audio-js" };
  let media = null;
  function mediaModule(taskType) {
    return import(document.getElementById(MEDIA_SCRIPTS[taskType]).src);
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) =>
      (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16));
  }

  async function submit() {
    const editing = back >= 0 ? history[back] : null;
    if ((!current && !editing) || busy) return;
    const missing = widget.missing(unusable.checked);
    if (missing) {
      say(missing, true);
      return;
    }
    busy = true;
    // A change is a new annotation that supersedes the earlier one, so it gets its own client_id.
    const target = editing || current;
    const body = {
      item: target.item.id,
      unsure: unsure.checked,
      unusable: unusable.checked,
      comment: comment.value,
      lead_time_ms: Math.round(performance.now() - shownAt),
      client_id: target.clientId || (target.clientId = uuid()),
    };
    widget.fill(body);
    // Retries reuse the same client_id, so a flaky network never creates a duplicate annotation.
    let result = null;
    for (let attempt = 0; attempt < 3; attempt++) {
      try { result = await call("POST", `${api}/annotations/`, body); break; }
      catch (e) { await new Promise((r) => setTimeout(r, 500 * (attempt + 1))); }
    }
    busy = false;
    if (!result) { say("Network problem: your label was not sent. Press Enter to retry.", true); return; }
    if (editing && (result.status === 201 || result.status === 200)) {
      // The changed vote is now the newest: the list is read again on the next step back.
      history = null;
      showCurrent();
      say("Change saved.");
      return;
    }
    if (editing) { say(errorText(result.data), true); return; }
    if (result.status === 201 || result.status === 200) {
      say("Saved.");
      countLocally(true);
      await loadNext();
    } else {
      say(errorText(result.data), true);
      if (result.status === 409) setTimeout(loadNext, 1500);
    }
  }

  async function skip() {
    if (!current || busy || back >= 0) return;
    const { status } = await call("POST", `${api}/assignments/${current.assignment.id}/skip/`);
    if (status >= 200 && status < 300) countLocally(false);  // a skipped item never comes back to this annotator
    await loadNext();
  }

  document.getElementById("submit-btn").addEventListener("click", submit);
  document.getElementById("skip-btn").addEventListener("click", skip);
  document.getElementById("back-btn").addEventListener("click", goBack);
  forwardBtn.addEventListener("click", goForward);
  document.getElementById("toggle-guideline").addEventListener("click", () =>
    document.getElementById("guideline-panel").classList.toggle("collapsed"));
  // The acknowledgement dialog is modal: its button takes focus, Enter acknowledges, Tab cycles inside it.
  const ackDialog = document.getElementById("ack-dialog");
  const ackBtn = document.getElementById("ack-btn");
  function askAck(changeText) {
    document.getElementById("ack-text").textContent = document.getElementById("ack-diff")
      ? changeText : "Read it once before your first item; the guideline panel (g) keeps it at hand while you label.";
    openAckDialog();
  }
  function openAckDialog() {
    ackDialog.hidden = false;
    ackBtn.focus();
  }
  ackDialog.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.tagName !== "A" && event.target.tagName !== "SUMMARY") {
      event.preventDefault();
      ackBtn.click();
      return;
    }
    if (event.key !== "Tab") return;
    const focusable = Array.from(ackDialog.querySelectorAll("a[href], button, summary, [tabindex]:not([tabindex='-1'])"))
      .filter((el) => el.offsetParent !== null);
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && (document.activeElement === first || !ackDialog.contains(document.activeElement))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !ackDialog.contains(document.activeElement))) {
      event.preventDefault();
      first.focus();
    }
  });
  // Focus that escapes the dialog (a click on the page behind it) is brought back.
  document.addEventListener("focusin", (event) => {
    if (!ackDialog.hidden && !ackDialog.contains(event.target)) ackBtn.focus();
  });
  let acknowledging = false;
  ackBtn.addEventListener("click", async () => {
    if (acknowledging) return;  // Enter held down or pressed twice asks the server once
    acknowledging = true;
    const { status, data } = await call("POST", `${api}/guidelines/acknowledge/`, { version: config.guidelineVersion });
    acknowledging = false;
    if (status === 200) { ackDialog.hidden = true; await loadNext(); }
    else { say(errorText(data), true); setTimeout(() => window.location.reload(), 1500); }
  });

  document.addEventListener("keydown", (event) => {
    if (event.target === comment) {
      if (event.key === "Escape") comment.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    // Keys pressed on the top bar or the project navigation are theirs: Enter on "Log out" or a nav link must
    // not also submit a label, nor a letter there pick one.
    if (event.target instanceof Element && event.target.closest("header, nav")) return;
    if (!document.getElementById("ack-dialog").hidden) return;  // the dialog handles its own keys
    const key = event.key.toLowerCase();
    if (key === "backspace") { event.preventDefault(); if (event.shiftKey) goForward(); else goBack(); return; }
    if (key === "enter") { event.preventDefault(); submit(); return; }
    if (key === "u") { unsure.checked = !unsure.checked; return; }
    if (key === "x") { unusable.checked = !unusable.checked; return; }
    if (key === "s") { skip(); return; }
    if (key === "g") { document.getElementById("guideline-panel").classList.toggle("collapsed"); return; }
    if (key === "c") { event.preventDefault(); comment.focus(); return; }
    if (media && media.key(event, key)) return;
    widget.key(event, key);
  });

  // The page was rendered knowing which version this annotator acknowledged: ask first, so the usual first visit
  // sends no request that fails; next's 409 still catches a version published while the page is open.
  if (config.acknowledged < config.guidelineVersion) {
    askAck(`The guideline changed (version ${config.guidelineVersion}: ${config.guidelineNote}). `
      + "Read and acknowledge it before the next item.");
  } else {
    loadNext();
  }
})();

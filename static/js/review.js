// Review pages: hotkeys on the queue (j/k/Enter) and on one item (label hotkeys, a/Enter accept, r relabel,
// d discard, e escalate, x add as example, h history, j/k next/previous). Decisions go through the REST API;
// the page then moves on. A kind with structured answers (spans, boxes) has no label buttons: its labelling
// widget (window.labelgateWidget, loaded before this file) is the editor "m" opens, seeded with the consensus,
// and Accept then sends the edited answer in the kind's own fields.
(function () {
  "use strict";

  function typing(event) {
    const el = event.target;
    // A checkbox (the box view's layer toggles) takes no letters: the page's keys stay on after a click on it.
    const toggle = el && el.tagName === "INPUT" && (el.type === "checkbox" || el.type === "radio");
    return el && !toggle && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }

  function errorText(data) {
    if (!data) return "Something went wrong.";
    if (data.detail) return data.detail;
    return Object.entries(data).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(" ") : v}`).join("; ");
  }

  // The one fetch/CSRF helper (static/js/api.js, loaded by base.html).
  function post(url, body) {
    return window.labelgateApi.call("POST", url, body);
  }

  // --- the queue ------------------------------------------------------------------------------------------
  function queuePage() {
    const rows = Array.from(document.querySelectorAll("#queue-table tbody tr"));
    if (!rows.length) return;
    let index = 0;
    function select(i) {
      index = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach((row, n) => row.classList.toggle("selected", n === index));
      rows[index].scrollIntoView({ block: "nearest" });
    }
    select(0);
    document.addEventListener("keydown", (event) => {
      if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "j") { select(index + 1); event.preventDefault(); }
      else if (event.key === "k") { select(index - 1); event.preventDefault(); }
      else if (event.key === "Enter" || event.key === "o") { window.location.href = rows[index].dataset.url; event.preventDefault(); }
    });
  }

  // --- one item -------------------------------------------------------------------------------------------
  function itemPage() {
    const config = JSON.parse(document.getElementById("review-config").textContent);
    const api = `/api/projects/${config.project}`;
    const statusLine = document.getElementById("status-line");
    const structured = config.reviewWidget || null;
    // The widget's label buttons share the class buttons' markup; they are the widget's own.
    const buttons = structured ? [] : Array.from(document.querySelectorAll("#label-buttons .label-btn"));
    const hotkeys = new Map(buttons.filter((b) => b.dataset.hotkey).map((b) => [b.dataset.hotkey.toLowerCase(), b]));
    const dialog = document.getElementById("reason-dialog");
    const form = document.getElementById("reason-form");
    const input = document.getElementById("reason-input");
    const reasonError = document.getElementById("reason-error");
    const presets = document.getElementById("reason-presets");
    let selected = new Set();
    let pending = null; // the action waiting for its reason
    let busy = false;
    let editing = false;
    const widget = structured && window.labelgateWidget ? window.labelgateWidget(structured, () => editing) : null;
    const editBtn = document.getElementById("edit-btn");

    function startEdit() {
      if (!widget || editing) return;
      editing = true;
      const panel = document.getElementById("review-edit");
      const view = document.getElementById("review-edit-view");
      panel.hidden = false;
      view.replaceChildren();
      const item = structured.item;
      if (item.media_url && widget.render) widget.render(view, item);
      else if (widget.renderText) widget.renderText(item, view);
      widget.restore({ ...structured.seed, unusable: false });
      editBtn.setAttribute("aria-pressed", "true");
      editBtn.disabled = true;
      const note = document.getElementById("accept-note") || document.getElementById("must-choose");
      if (note) {
        note.className = "muted small";
        note.textContent = "Accept stores your answer above (what you leave in the editor), not the consensus.";
      }
      panel.scrollIntoView({ block: "start" });
      say("Editing a copy of the consensus: the editor's keys apply; Accept (Enter) stores your answer.");
    }
    if (editBtn) editBtn.addEventListener("click", startEdit);

    function say(text, isError) {
      statusLine.textContent = text;
      statusLine.classList.toggle("error", Boolean(isError));
    }

    function toggle(button) {
      const value = button.dataset.value;
      if (config.multiLabel) {
        if (selected.has(value)) selected.delete(value); else selected.add(value);
      } else {
        selected = selected.has(value) ? new Set() : new Set([value]);
      }
      buttons.forEach((b) => b.classList.toggle("selected", selected.has(b.dataset.value)));
    }

    function chosenLabel() {
      if (!selected.size) return undefined; // the server falls back to the consensus
      return config.multiLabel ? Array.from(selected) : Array.from(selected)[0];
    }

    function moveOn() {
      window.location.href = config.nextUrl || config.queueUrl;
    }

    async function decide(action, reason) {
      if (busy) return;
      if (action === "accept" && structured && !editing && config.mustChoose) {
        say("No consensus to accept yet: press m (or Edit) to give the answer yourself, then Accept.", true);
        return;
      }
      if (action === "accept" && editing) {
        const missing = widget.missing(false);
        if (missing) { say(missing, true); return; }
      }
      if (action === "accept" && !structured && config.mustChoose && chosenLabel() === undefined) {
        // The consensus method overrode the annotators here: a label is only taken when the reviewer chose it.
        say("Choose a label first (click it or press its hotkey): Accept does not take one by default here.", true);
        return;
      }
      busy = true;
      const body = { item: config.item, action, reason: reason || "" };
      if (action === "accept" && chosenLabel() !== undefined) body.label = chosenLabel();
      if (action === "accept" && editing) widget.fill(body);
      say(`${action}…`);
      try {
        const { status, data } = await post(`${api}/reviews/`, body);
        if (status === 201) {
          const statusWords = data.item_status.replace(/_/g, " ");  // the API's code, in words on the page
          say(`${action} stored — status ${statusWords}.`);
          document.getElementById("item-status").textContent = statusWords;
          document.getElementById("item-status").dataset.status = data.item_status;
          moveOn();
        } else {
          say(errorText(data), true);
          busy = false;
        }
      } catch (e) {
        say("Network error; nothing was stored. Try again.", true);
        busy = false;
      }
    }

    const prompts = {
      discard: { title: "Discard this item", label: "Why? (required)", required: true, presets: true },
      escalate: { title: "Escalate to the guideline", label: "What should the guideline clarify? (required)", required: true, presets: false },
      relabel: { title: "Send back for relabelling", label: "Note for the record (optional)", required: false, presets: false },
    };

    function ask(action) {
      if (action === "relabel" && config.relabelTakers === 0) {
        // Nobody is left to take it: the server would refuse, so say why instead of asking for a note.
        say(document.getElementById("relabel-note").textContent, true);
        return;
      }
      const prompt = prompts[action];
      pending = action;
      document.getElementById("reason-title").textContent = prompt.title;
      document.getElementById("reason-label").textContent = prompt.label;
      presets.hidden = !prompt.presets;
      input.value = "";
      reasonError.textContent = "";
      dialog.hidden = false;
      input.focus();
    }

    function closeDialog() {
      dialog.hidden = true;
      pending = null;
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const reason = input.value.trim();
      if (prompts[pending].required && !reason) {
        reasonError.textContent = "A reason is required.";
        return;
      }
      const action = pending;
      closeDialog();
      decide(action, reason);
    });
    document.getElementById("reason-cancel").addEventListener("click", closeDialog);
    presets.querySelectorAll(".preset").forEach((b) => b.addEventListener("click", () => {
      input.value = b.dataset.reason;
      input.focus();
    }));
    buttons.forEach((b) => b.addEventListener("click", () => toggle(b)));
    document.querySelectorAll(".decision-bar [data-action]").forEach((b) => b.addEventListener("click", () => {
      const action = b.dataset.action;
      if (action === "accept") decide("accept"); else ask(action);
    }));

    async function addExample() {
      // A single selected label (label hotkey) wins over the list, so "3 then x" adds an example of 3.
      const chosen = selected.size === 1 ? Array.from(selected)[0] : null;
      const label = chosen || document.getElementById("example-label").value;
      const { status, data } = await post(`${api}/label-examples/`, { item: config.item, label });
      if (status === 201 || status === 200) say(`Added as an example of ${label}.`);
      else say(errorText(data), true);
    }
    document.getElementById("example-btn").addEventListener("click", addExample);

    document.addEventListener("keydown", (event) => {
      if (!dialog.hidden) {
        if (event.key === "Escape") { closeDialog(); event.preventDefault(); }
        return;
      }
      if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
      const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
      if (editing) {
        // The editor's keys first (label hotkeys, arrows, its own letters); Enter still accepts. Nothing else
        // of the page's: a stray j or h would leave the page and lose the edit.
        if (key === "Enter") { decide("accept"); event.preventDefault(); return; }
        widget.key(event, event.key.toLowerCase());
        return;
      }
      if (structured && key === "m") { startEdit(); event.preventDefault(); return; }
      if (key === "Enter" || key === "a") { decide("accept"); event.preventDefault(); }
      else if (key === "d") { ask("discard"); event.preventDefault(); }
      else if (key === "e") { ask("escalate"); event.preventDefault(); }
      else if (key === "r") { ask("relabel"); event.preventDefault(); }
      else if (key === "x") { addExample(); event.preventDefault(); }
      else if (key === "h") { window.location.href = document.getElementById("history-link").href; event.preventDefault(); }
      else if (key === "j") { if (config.nextUrl) window.location.href = config.nextUrl; event.preventDefault(); }
      else if (key === "k") { if (config.prevUrl) window.location.href = config.prevUrl; event.preventDefault(); }
      else if (hotkeys.has(key)) { toggle(hotkeys.get(key)); event.preventDefault(); }
    });
  }

  if (document.getElementById("review-item")) itemPage();
  else if (document.getElementById("review-queue")) queuePage();
})();

// Spans answer on the labelling page: labelled character ranges of the item's text (end exclusive), tagged by
// selecting text (mouse, or a token caret moved with the arrow keys and extended with Shift) and pressing a label
// key. static/js/label.js drives the page, lets the widget draw the text (renderText) and asks it for the answer.
//
// The text is split once per item into units: its tokens (runs of non-whitespace) and the gaps between them,
// one element each. A change of the spans redraws only the units it touches, so tagging costs the same on a
// long document as on a short one. Offsets always come from the text (data-start of each drawn piece), never
// from the screen.
(function () {
  "use strict";
  const LANE_PX = 3;  // height of one span's underline
  const NONE_KEYS = ["n", "0", "-", "="];

  // First index i of the sorted numbers ``arr`` (by key) with key(arr[i]) > value.
  function upperBound(arr, value, key) {
    let lo = 0;
    let hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (key(arr[mid]) > value) hi = mid; else lo = mid + 1;
    }
    return lo;
  }

  function tint(hex, alpha) {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }

  function bySpanOrder(a, b) {
    return a.start - b.start || a.end - b.end || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0);
  }

  window.labelgateWidget = function (config, isActive) {
    const labels = config.labels || [];
    const colourOf = new Map(labels.map((l) => [l.value, l.colour || "#888888"]));
    const labelOfKey = new Map(labels.filter((l) => l.hotkey).map((l) => [l.hotkey.toLowerCase(), l.value]));
    const noneKey = NONE_KEYS.find((key) => !labelOfKey.has(key)) || "";
    const noneBtn = document.getElementById("spans-none");
    const listEl = document.getElementById("spans-list");
    const statusLine = document.getElementById("status-line");
    document.getElementById("spans-none-key").textContent = noneKey;

    let text = "";
    let host = null;       // the drawn text (.item-text)
    let units = [];        // {start, end, el}: tokens and gaps, in text order
    let tokens = [];       // the token units
    let spans = [];        // {start, end, label}, sorted
    let lanes = new Map(); // span -> its underline's stacking level
    let noEntities = false;
    let sel = null;        // the pending selection {start, end}
    let picked = null;     // a span selected by a click
    let anchor = -1;       // the keyboard caret: token indices
    let focus = -1;

    function say(message) {
      statusLine.textContent = message;
      statusLine.classList.remove("error");
    }

    // ---------------------------------------------------------------- drawing

    function unitIndexAt(offset) {
      return Math.max(0, upperBound(units, offset, (u) => u.start) - 1);
    }

    // Underline levels: each span keeps one level along its whole length; overlapping spans get different ones.
    function assignLanes() {
      const next = new Map();
      const laneEnds = [];
      for (const span of spans) {
        let lane = laneEnds.findIndex((end) => end <= span.start);
        if (lane < 0) { lane = laneEnds.length; laneEnds.push(0); }
        laneEnds[lane] = span.end;
        next.set(span, lane);
      }
      return next;
    }

    function drawUnit(unit) {
      const cuts = new Set([unit.start, unit.end]);
      const covering = [];
      for (const span of spans) {
        if (span.start >= unit.end) break;
        if (span.end <= unit.start) continue;
        covering.push(span);
        if (span.start > unit.start) cuts.add(span.start);
        if (span.end < unit.end) cuts.add(span.end);
      }
      const points = Array.from(cuts).sort((a, b) => a - b);
      const pieces = [];
      for (let i = 0; i + 1 < points.length; i++) {
        const a = points[i];
        const b = points[i + 1];
        const seg = document.createElement("span");
        seg.className = "seg";
        seg.dataset.start = a;
        seg.textContent = text.slice(a, b);
        const here = covering.filter((s) => s.start <= a && s.end >= b);
        if (here.length) {
          seg.classList.add("ent");
          const top = Math.max(...here.map((s) => lanes.get(s)));
          const shadows = [];
          for (let lane = 0; lane <= top; lane++) {
            const s = here.find((x) => lanes.get(x) === lane);
            shadows.push(`inset 0 -${(lane + 1) * LANE_PX}px 0 0 ${s ? colourOf.get(s.label) : "#fafbfc"}`);
          }
          seg.style.boxShadow = shadows.join(", ");
          seg.style.paddingBottom = `${(top + 1) * LANE_PX}px`;
          seg.style.background = tint(colourOf.get(here[0].label) || "#888888", 0.18);
          seg.title = here.map((s) => `${s.label}: ${text.slice(s.start, s.end)}`).join("\n");
          // The labels are named by the colour legend, the tooltip and the list, not by generated content
          // in the text: a ::after label inside the text stopped Chromium's next drag selection.
          if (picked && here.includes(picked)) seg.classList.add("picked");
        }
        pieces.push(seg);
      }
      unit.el.replaceChildren(...pieces);
    }

    function redraw(ranges) {
      if (!host) return;
      for (const [a, b] of ranges) {
        if (b <= a) continue;
        const last = unitIndexAt(b - 1);
        for (let i = unitIndexAt(a); i <= last; i++) drawUnit(units[i]);
      }
    }

    // After ``spans`` changed: redraw ``changed`` and every span whose underline level moved.
    function spansChanged(changed) {
      const before = lanes;
      lanes = assignLanes();
      const ranges = changed.slice();
      for (const [span, lane] of lanes) {
        if (before.get(span) !== lane) ranges.push([span.start, span.end]);
      }
      redraw(ranges);
      drawList();
      noneBtn.setAttribute("aria-pressed", String(noEntities));
    }

    function drawList() {
      const rows = spans.map((span, index) => {
        const li = document.createElement("li");
        li.dataset.start = span.start;
        li.dataset.end = span.end;
        li.dataset.label = span.label;
        const chip = document.createElement("span");
        chip.className = "chip";
        chip.style.background = tint(colourOf.get(span.label) || "#888888", 0.45);
        chip.textContent = span.label;
        const quoted = text.slice(span.start, span.end);
        const words = document.createElement("span");
        words.textContent = quoted.length > 80 ? `${quoted.slice(0, 77)}…` : quoted;
        const where = document.createElement("span");
        where.className = "where";
        where.textContent = `${span.start}–${span.end}`;
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "remove";
        remove.title = "Remove this span";
        remove.textContent = "×";
        remove.addEventListener("click", () => removeSpan(spans[index]));
        li.append(chip, words, where, remove);
        return li;
      });
      listEl.replaceChildren(...rows);
    }

    // ---------------------------------------------------------------- selection

    function clearSelection() {
      sel = null;
      if (host) showSelection();
      const dom = window.getSelection();
      if (dom && host && dom.rangeCount && host.contains(dom.anchorNode)) dom.removeAllRanges();
    }

    function setPicked(span) {
      const was = picked;
      picked = span;
      redraw([was, span].filter(Boolean).map((s) => [s.start, s.end]));
    }

    // The pending selection is shown by marking the units it covers, not as a DOM selection: a selection set
    // by script during a mouse gesture left Chromium unable to start the next drag selection.
    let marked = [0, -1];
    function showSelection() {
      for (let i = marked[0]; i <= marked[1]; i++) units[i].el.classList.remove("sel");
      marked = sel ? [unitIndexAt(sel.start), unitIndexAt(sel.end - 1)] : [0, -1];
      for (let i = marked[0]; i <= marked[1]; i++) units[i].el.classList.add("sel");
    }

    // A text offset from a DOM position inside the drawn text; null outside it.
    function offsetOf(node, off) {
      if (!host || !host.contains(node)) return null;
      if (node.nodeType === Node.TEXT_NODE) return Number(node.parentElement.closest(".seg").dataset.start) + off;
      const child = node.childNodes[off];
      if (child) return firstOffset(child);
      return lastOffset(node);
    }

    function firstOffset(node) {
      const el = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
      if (el === host) return 0;
      const seg = el.classList.contains("unit") ? el.firstElementChild : el.closest(".seg") || el.querySelector(".seg");
      return seg ? Number(seg.dataset.start) : text.length;
    }

    function lastOffset(node) {
      const el = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
      if (el === host) return text.length;
      const seg = el.closest(".seg") || el.lastElementChild;
      return seg ? Number(seg.dataset.start) + seg.textContent.length : text.length;
    }

    // [start, end) snapped to whole tokens (a start inside or before a token moves to its first character, an
    // end to the last character of the token it falls in or follows), or trimmed of whitespace when the project
    // labels characters; null when nothing is left.
    function snap(start, end) {
      if (config.snapTokens !== false) {
        const first = upperBound(tokens, start, (t) => t.end - 1);  // first token ending after start
        const last = upperBound(tokens, end - 1, (t) => t.start) - 1;  // last token starting before end
        if (first >= tokens.length || last < 0 || first > last) return null;
        return { start: tokens[first].start, end: tokens[last].end };
      }
      while (start < end && /\s/.test(text[start])) start++;
      while (end > start && /\s/.test(text[end - 1])) end--;
      return start < end ? { start, end } : null;
    }

    function onMouseUp(event) {
      if (!isActive() || !host) return;
      const dom = window.getSelection();
      if (dom && !dom.isCollapsed && dom.rangeCount) {
        const range = dom.getRangeAt(0);
        const a = offsetOf(range.startContainer, range.startOffset);
        const b = offsetOf(range.endContainer, range.endOffset);
        if (a === null || b === null) return;
        sel = snap(Math.min(a, b), Math.max(a, b));
        if (picked) setPicked(null);
        if (sel) {
          // Snapped, the selection is shown by its units; a character selection stays as the mouse made it.
          if (config.snapTokens !== false) dom.removeAllRanges();
          showSelection();
          const i = upperBound(tokens, sel.start, (t) => t.start) - 1;
          anchor = Math.max(0, i);
          focus = Math.max(0, upperBound(tokens, sel.end - 1, (t) => t.start) - 1);
          say(`Selected “${text.slice(sel.start, sel.end)}”: press a label key.`);
        } else {
          clearSelection();
        }
        return;
      }
      // A click: the shortest span under it is picked; a click on the picked span removes it.
      if (!host.contains(event.target)) return;
      const seg = event.target.closest(".seg.ent");
      if (!seg) { if (picked) setPicked(null); return; }
      const at = Number(seg.dataset.start);
      const under = spans.filter((s) => s.start <= at && s.end > at).sort((x, y) => (x.end - x.start) - (y.end - y.start));
      if (!under.length) return;
      if (picked && under.includes(picked)) { removeSpan(picked); return; }
      sel = null;
      setPicked(under[0]);
      say(`${picked.label} “${text.slice(picked.start, picked.end)}” selected: a label key relabels it, Delete or a second click removes it.`);
    }

    // The keyboard caret: a plain arrow selects the next token (the first one after a tag, the one beside where
    // the caret was), Shift+arrow extends the selection by a token; Home/End go to the first/last token.
    function moveCaret(step, extend, to) {
      if (!tokens.length) return;
      if (!sel) extend = false;
      if (to !== undefined) focus = to;
      else if (focus < 0) focus = step < 0 ? tokens.length - 1 : 0;
      else focus = Math.min(tokens.length - 1, Math.max(0, focus + step));
      if (!extend || anchor < 0) anchor = focus;
      if (picked) setPicked(null);
      const lo = Math.min(anchor, focus);
      const hi = Math.max(anchor, focus);
      sel = { start: tokens[lo].start, end: tokens[hi].end };
      showSelection();
    }

    // ---------------------------------------------------------------- changes

    // Adds ``span``; spans of its label that it overlaps are replaced (a larger selection tagged again grows it).
    function addSpan(span) {
      const replaced = spans.filter((s) => s.label === span.label && s.start < span.end && span.start < s.end);
      spans = spans.filter((s) => !replaced.includes(s));
      spans.push(span);
      spans.sort(bySpanOrder);
      noEntities = false;
      spansChanged([[span.start, span.end], ...replaced.map((s) => [s.start, s.end])]);
      return replaced.length;
    }

    function removeSpan(span) {
      spans = spans.filter((s) => s !== span);
      if (picked === span) picked = null;
      spansChanged([[span.start, span.end]]);
      say(`Removed ${span.label} “${text.slice(span.start, span.end)}”.`);
    }

    function tag(label) {
      if (!isActive() || !host) return;
      const t0 = performance.now();
      let message;
      if (picked) {
        const old = picked;
        spans = spans.filter((s) => s !== old);
        picked = null;
        redraw([[old.start, old.end]]);
        const replaced = addSpan({ start: old.start, end: old.end, label });
        message = `Relabelled “${text.slice(old.start, old.end)}” ${old.label} → ${label}.`;
        if (replaced) message += ` It replaced ${replaced} overlapping ${label} span${replaced > 1 ? "s" : ""}.`;
      } else if (sel) {
        const same = spans.find((s) => s.start === sel.start && s.end === sel.end && s.label === label);
        if (same) {
          removeSpan(same);
          message = `Removed ${label} “${text.slice(same.start, same.end)}”.`;
        } else {
          const replaced = addSpan({ start: sel.start, end: sel.end, label });
          message = `Tagged “${text.slice(sel.start, sel.end)}” ${label}.`;
          if (replaced) message += ` It replaced ${replaced} overlapping ${label} span${replaced > 1 ? "s" : ""}.`;
        }
        clearSelection();
      } else {
        say("Select some text first (mouse, or the arrow keys).");
        return;
      }
      host.getBoundingClientRect();  // the layout the change causes belongs to its cost
      performance.measure("span-tag", { start: t0, end: performance.now() });
      say(message);
    }

    function toggleNone() {
      if (!isActive()) return;
      if (spans.length) { say("Remove the tagged spans first: “No entities” means the text has none."); return; }
      noEntities = !noEntities;
      noneBtn.setAttribute("aria-pressed", String(noEntities));
      say(noEntities ? "Answer: no entities. Press Enter to submit." : "");
    }

    document.querySelectorAll(".span-label-btn").forEach((b) => {
      // Keep a mouse selection alive through the click on the button.
      b.addEventListener("mousedown", (event) => event.preventDefault());
      b.addEventListener("click", () => tag(b.dataset.value));
    });
    noneBtn.addEventListener("mousedown", (event) => event.preventDefault());
    noneBtn.addEventListener("click", toggleNone);
    // On the document: a drag that starts in the text may end outside it.
    document.addEventListener("mouseup", onMouseUp);

    function resetState() {
      spans = [];
      lanes = new Map();
      noEntities = false;
      sel = null;
      picked = null;
      anchor = focus = -1;
      marked = [0, -1];
      noneBtn.setAttribute("aria-pressed", "false");
      listEl.replaceChildren();
    }

    return {
      // Draws the item's text into ``view``; true: label.js draws no text of its own.
      renderText(item, view) {
        resetState();
        text = item.text;
        host = document.createElement("div");
        host.className = "item-text spans-text";
        host.id = "spans-text";
        units = [];
        tokens = [];
        const fragment = document.createDocumentFragment();
        const pushUnit = (start, end, isToken) => {
          const el = document.createElement("span");
          el.className = isToken ? "unit tok" : "unit gap";
          const unit = { start, end, el };
          units.push(unit);
          if (isToken) tokens.push(unit);
          const seg = document.createElement("span");
          seg.className = "seg";
          seg.dataset.start = start;
          seg.textContent = text.slice(start, end);  // textContent: item text is never interpreted as HTML
          el.appendChild(seg);
          fragment.appendChild(el);
        };
        let at = 0;
        for (const match of text.matchAll(/\S+/g)) {
          if (match.index > at) pushUnit(at, match.index, false);
          pushUnit(match.index, match.index + match[0].length, true);
          at = match.index + match[0].length;
        }
        if (at < text.length) pushUnit(at, text.length, false);
        host.appendChild(fragment);
        view.appendChild(host);
        return true;
      },
      reset() {
        resetState();
        host = null;
      },
      // An earlier answer of the annotator's own (a row of GET my-recent), shown to be changed.
      restore(row) {
        spans = (row.spans || []).map((s) => ({ start: s.start, end: s.end, label: s.label })).sort(bySpanOrder);
        noEntities = spans.length === 0 && !row.unusable;
        spansChanged([[0, text.length]]);
      },
      // Why the answer cannot be sent yet ("" when it can).
      missing(unusable) {
        if (spans.length || noEntities || unusable) return "";
        return `Tag at least one entity, or press “No entities” (${noneKey}) if the text has none.`;
      },
      fill(body) {
        body.spans = spans.map((s) => ({ start: s.start, end: s.end, label: s.label }));
      },
      // A key the page did not use; true when the widget took it.
      key(event, key) {
        if (!host) return false;
        if (key === "arrowright" || key === "arrowleft") {
          event.preventDefault();
          moveCaret(key === "arrowright" ? 1 : -1, event.shiftKey);
          return true;
        }
        if (key === "home" || key === "end") {
          event.preventDefault();
          moveCaret(0, event.shiftKey, key === "home" ? 0 : tokens.length - 1);
          return true;
        }
        if (key === "escape") {
          clearSelection();
          if (picked) setPicked(null);
          say("");
          return true;
        }
        if (key === "delete" && picked) {
          event.preventDefault();
          removeSpan(picked);
          return true;
        }
        const label = labelOfKey.get(key);
        if (label !== undefined) {
          event.preventDefault();
          tag(label);
          return true;
        }
        if (key === noneKey) {
          event.preventDefault();
          toggleNone();
          return true;
        }
        return false;
      },
    };
  };
})();

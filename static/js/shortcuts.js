// The "?" overlay: every keyboard shortcut the page declares, in one dialog. A page declares its shortcuts as
// JSON in <script type="application/json" id="page-shortcuts"> (base.html, from config.navigation) and may add
// more in any <script type="application/json" data-shortcuts>: a list of {title, keys: [[keys, what]]}.
// Opens on "?" unless the caller is typing, closes on Escape, keeps focus inside and gives it back.

const FOCUSABLE = 'button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])';
let overlay = null;
let opener = null;

function declaredGroups() {
  const groups = [];
  const sources = document.querySelectorAll('script#page-shortcuts, script[type="application/json"][data-shortcuts]');
  for (const source of sources) {
    try {
      const parsed = JSON.parse(source.textContent);
      if (Array.isArray(parsed)) groups.push(...parsed);
    } catch (error) {
      // A malformed declaration leaves its group out; the others still show.
    }
  }
  return groups;
}

function keyNodes(keys) {
  // "a / Enter" are alternatives; "Shift+Backspace" is pressed together ("+" alone is the plus key).
  const out = [];
  keys.split(" / ").forEach((alternative, i) => {
    if (i > 0) out.push(document.createTextNode(" or "));
    const parts = alternative.length > 1 && !alternative.split("+").includes("") ? alternative.split("+") : [alternative];
    parts.forEach((part, j) => {
      if (j > 0) out.push(document.createTextNode(" + "));
      const kbd = document.createElement("kbd");
      kbd.textContent = part;
      out.push(kbd);
    });
  });
  return out;
}

function build() {
  overlay = document.createElement("div");
  overlay.className = "modal shortcuts-overlay";
  overlay.id = "shortcuts-overlay";
  overlay.hidden = true;
  const card = document.createElement("div");
  card.className = "card";
  card.setAttribute("role", "dialog");
  card.setAttribute("aria-modal", "true");
  card.setAttribute("aria-labelledby", "shortcuts-title");
  const head = document.createElement("div");
  head.className = "row";
  const title = document.createElement("h2");
  title.id = "shortcuts-title";
  title.textContent = "Keyboard shortcuts";
  const spacer = document.createElement("span");
  spacer.className = "spacer";
  const close = document.createElement("button");
  close.type = "button";
  close.id = "shortcuts-close";
  close.textContent = "Close";
  close.addEventListener("click", hide);
  head.append(title, spacer, close);
  card.append(head);
  for (const group of declaredGroups()) {
    const section = document.createElement("section");
    section.className = "shortcut-group";
    const heading = document.createElement("h3");
    heading.textContent = group.title;
    const list = document.createElement("dl");
    for (const [keys, what] of group.keys || []) {
      const dt = document.createElement("dt");
      dt.append(...keyNodes(String(keys)));
      const dd = document.createElement("dd");
      dd.textContent = what;
      list.append(dt, dd);
    }
    section.append(heading, list);
    card.append(section);
  }
  overlay.append(card);
  overlay.addEventListener("click", (event) => { if (event.target === overlay) hide(); });
  document.body.append(overlay);
}

function show() {
  if (!overlay) build();
  opener = document.activeElement;
  overlay.hidden = false;
  document.getElementById("shortcuts-close").focus();
}

function hide() {
  if (!overlay || overlay.hidden) return;
  overlay.hidden = true;
  if (opener && typeof opener.focus === "function" && document.contains(opener)) opener.focus();
  opener = null;
}

function typing(target) {
  if (!(target instanceof Element)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

function trapTab(event) {
  const items = Array.from(overlay.querySelectorAll(FOCUSABLE)).filter((el) => !el.disabled);
  if (items.length === 0) { event.preventDefault(); return; }
  const first = items[0];
  const last = items[items.length - 1];
  if (event.shiftKey && (document.activeElement === first || !overlay.contains(document.activeElement))) {
    event.preventDefault(); last.focus();
  } else if (!event.shiftKey && (document.activeElement === last || !overlay.contains(document.activeElement))) {
    event.preventDefault(); first.focus();
  }
}

// Capture phase, so that while the overlay is open the page's own shortcuts (Enter submits a label) stay quiet.
window.addEventListener("keydown", (event) => {
  const open = overlay && !overlay.hidden;
  if (open) {
    if (event.key === "Escape") { event.preventDefault(); hide(); }
    else if (event.key === "Tab") trapTab(event);
    event.stopPropagation();
    return;
  }
  // The top bar's button answers its own activation keys first: a page's Enter shortcut would take them.
  if ((event.key === "Enter" || event.key === " ") && event.target instanceof Element && event.target.id === "shortcuts-open") {
    event.preventDefault();
    event.stopPropagation();
    show();
    return;
  }
  if (event.key === "?" && !event.ctrlKey && !event.metaKey && !event.altKey && !typing(event.target)) {
    event.preventDefault();
    event.stopPropagation();
    show();
  }
}, true);

const button = document.getElementById("shortcuts-open");
if (button) button.addEventListener("click", show);

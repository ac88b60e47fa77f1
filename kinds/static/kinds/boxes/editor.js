// The box editor: an <img> at its natural size with an SVG overlay in image pixels, both inside one element that
// is zoomed and panned by a CSS transform. The image is decoded once and never redrawn; a drag rewrites the
// attributes of one box, so a 4,000 x 3,000 image with hundreds of boxes stays smooth.
import {
  HANDLES, MIN_SIDE, boxFromCorners, clamp, handlePoint, moved, resized, toImagePoint, wireBox,
} from "./geometry.js";

const SVG = "http://www.w3.org/2000/svg";
// Used for labels without a colour of their own, by their order in the project.
const PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324",
  "#808000", "#000075"];
const HANDLE_PX = 9;      // handles and the drag threshold are in screen pixels
const DRAG_THRESHOLD_PX = 4;
const UNDO_DEPTH = 200;
const ZOOM_STEP = 1.25;

export class BoxEditor {
  constructor({ labels, maxBoxes, onChange }) {
    this.labels = labels;
    this.maxBoxes = maxBoxes || 1000;
    this.onChange = onChange || (() => {});
    this.colours = new Map(labels.map((l, i) => [l.value, l.colour || PALETTE[i % PALETTE.length]]));
    this.hotkeys = new Map(labels.filter((l) => l.hotkey).map((l) => [l.hotkey.toLowerCase(), l.value]));
    this.current = labels.length ? labels[0].value : "";
    this.clear();
    this.stage = null;
  }

  clear() {
    this.boxes = [];
    this.nothing = false;
    this.selected = -1;
    this.undoStack = [];
    this.hidden = false;
    this.resizeMode = false;
  }

  // ---------------------------------------------------------------- the stage

  mount(view, item) {
    this.width = 0;
    this.height = 0;
    const stage = document.createElement("div");
    stage.className = "box-stage";
    stage.id = "box-stage";
    const canvas = document.createElement("div");
    canvas.className = "box-canvas";
    const img = document.createElement("img");
    img.className = "box-image";
    img.id = "box-image";
    img.alt = "the image to draw boxes on";
    img.draggable = false;
    const svg = document.createElementNS(SVG, "svg");
    svg.classList.add("box-overlay");
    svg.id = "box-overlay";
    canvas.append(img, svg);
    stage.append(canvas);
    view.appendChild(stage);
    Object.assign(this, { stage, canvas, img, svg, scale: 1, panX: 0, panY: 0 });
    img.addEventListener("load", () => {
      this.width = img.naturalWidth;
      this.height = img.naturalHeight;
      stage.dataset.width = String(this.width);
      stage.dataset.height = String(this.height);
      svg.setAttribute("viewBox", `0 0 ${this.width} ${this.height}`);
      svg.setAttribute("width", String(this.width));
      svg.setAttribute("height", String(this.height));
      this.fit();
      this.render();
      stage.dataset.ready = "1";
    });
    img.src = item.media_url;
    stage.addEventListener("pointerdown", (e) => this.pointerDown(e));
    stage.addEventListener("pointermove", (e) => this.pointerMove(e));
    stage.addEventListener("pointerup", (e) => this.pointerUp(e));
    stage.addEventListener("pointercancel", (e) => this.pointerUp(e));
    stage.addEventListener("wheel", (e) => this.wheel(e), { passive: false });
    stage.addEventListener("auxclick", (e) => e.preventDefault());
    this.render();
  }

  ready() {
    return Boolean(this.stage && this.width && this.height);
  }

  // ---------------------------------------------------------------- zoom and pan

  applyTransform() {
    this.canvas.style.transform = `translate(${this.panX}px, ${this.panY}px) scale(${this.scale})`;
    this.stage.dataset.scale = this.scale.toFixed(4);
  }

  fit() {
    if (!this.ready()) return;
    const w = this.stage.clientWidth;
    const h = this.stage.clientHeight;
    this.scale = Math.min(w / this.width, h / this.height);
    this.panX = (w - this.width * this.scale) / 2;
    this.panY = (h - this.height * this.scale) / 2;
    this.applyTransform();
    this.renderOne(this.selected);
  }

  // Zoom by ``factor`` keeping the stage point (sx, sy) over the same image point.
  zoomAt(factor, sx, sy) {
    if (!this.ready()) return;
    const next = clamp(this.scale * factor, 0.02, 64);
    this.panX = sx - ((sx - this.panX) * next) / this.scale;
    this.panY = sy - ((sy - this.panY) * next) / this.scale;
    this.scale = next;
    this.applyTransform();
    // Only the handles depend on the zoom (they keep their screen size); the boxes move with the transform.
    this.renderOne(this.selected);
  }

  zoomCentre(factor) {
    this.zoomAt(factor, this.stage.clientWidth / 2, this.stage.clientHeight / 2);
  }

  wheel(event) {
    event.preventDefault();
    const r = this.stage.getBoundingClientRect();
    this.zoomAt(event.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP, event.clientX - r.left, event.clientY - r.top);
  }

  // ---------------------------------------------------------------- editing (each change can be undone)

  snapshot() {
    return { boxes: this.boxes.map((b) => ({ ...b })), nothing: this.nothing, selected: this.selected };
  }

  remember(state) {
    this.undoStack.push(state || this.snapshot());
    if (this.undoStack.length > UNDO_DEPTH) this.undoStack.shift();
  }

  undo() {
    const state = this.undoStack.pop();
    if (!state) return false;
    Object.assign(this, state);
    this.changed();
    return true;
  }

  changed() {
    this.render();
    this.onChange();
  }

  add(box) {
    if (this.boxes.length >= this.maxBoxes) return false;
    this.boxes.push(box);
    this.nothing = false;
    this.hidden = false;
    this.selected = this.boxes.length - 1;
    return true;
  }

  setLabel(value) {
    if (this.selected >= 0) {
      if (this.boxes[this.selected].label === value) return;
      this.remember();
      this.boxes[this.selected] = { ...this.boxes[this.selected], label: value };
    }
    this.current = value;
    this.changed();
  }

  removeSelected() {
    if (this.selected < 0) return;
    this.remember();
    this.boxes.splice(this.selected, 1);
    this.selected = -1;
    this.changed();
  }

  duplicateLast() {
    const last = this.boxes[this.boxes.length - 1];
    if (!last || !this.ready()) return;
    const state = this.snapshot();
    const shift = Math.max(MIN_SIDE, Math.round(Math.min(this.width, this.height) / 50));
    if (this.add(moved({ ...last }, shift, shift, this.width, this.height))) {
      this.remember(state);
      this.changed();
    }
  }

  nudge(dx, dy) {
    if (this.selected < 0 || !this.ready()) return;
    this.remember();
    const box = this.boxes[this.selected];
    this.boxes[this.selected] = this.resizeMode
      ? resized(box, "se", dx, dy, this.width, this.height)
      : moved(box, dx, dy, this.width, this.height);
    this.changed();
  }

  toggleNothing() {
    if (this.boxes.length) return "Remove the boxes first: an image with boxes is not empty.";
    this.remember();
    this.nothing = !this.nothing;
    this.changed();
    return "";
  }

  // ---------------------------------------------------------------- the pointer

  imagePoint(event) {
    return toImagePoint(event.clientX, event.clientY, this.img.getBoundingClientRect(), this.width, this.height);
  }

  pointerDown(event) {
    if (!this.ready()) return;
    const panning = event.button === 1 || (event.button === 0 && this.spaceHeld);
    if (!panning && event.button !== 0) return;
    event.preventDefault();
    this.stage.setPointerCapture(event.pointerId);
    const target = event.target;
    const index = target.dataset && target.dataset.index !== undefined ? Number(target.dataset.index) : -1;
    const start = { cx: event.clientX, cy: event.clientY, point: this.imagePoint(event), before: this.snapshot() };
    if (panning) {
      this.drag = { kind: "pan", ...start, panX: this.panX, panY: this.panY };
    } else if (target.dataset && target.dataset.handle) {
      this.drag = { kind: "resize", handle: target.dataset.handle, index, box: { ...this.boxes[index] }, ...start };
    } else if (index >= 0 && !this.hidden) {
      this.selected = index;
      this.render();
      this.drag = { kind: "move", index, box: { ...this.boxes[index] }, ...start };
    } else {
      this.drag = { kind: "draw", ...start };
    }
  }

  pointerMove(event) {
    const d = this.drag;
    if (!d) return;
    const far = Math.hypot(event.clientX - d.cx, event.clientY - d.cy) >= DRAG_THRESHOLD_PX;
    if (d.kind === "pan") {
      this.panX = d.panX + event.clientX - d.cx;
      this.panY = d.panY + event.clientY - d.cy;
      this.applyTransform();
      return;
    }
    if (!far && !d.moving) return;
    d.moving = true;
    const p = this.imagePoint(event);
    const dx = p.x - d.point.x;
    const dy = p.y - d.point.y;
    if (d.kind === "draw") {
      if (d.index === undefined) {
        if (!this.add({ ...boxFromCorners(d.point, p, this.width, this.height), label: this.current })) {
          this.drag = null;
          return;
        }
        d.index = this.selected;
        this.render();
      }
      this.boxes[d.index] = { ...boxFromCorners(d.point, p, this.width, this.height), label: this.current };
    } else if (d.kind === "move") {
      this.boxes[d.index] = moved(d.box, dx, dy, this.width, this.height);
    } else {
      this.boxes[d.index] = resized(d.box, d.handle, dx, dy, this.width, this.height);
    }
    this.renderOne(d.index);
  }

  pointerUp(event) {
    const d = this.drag;
    this.drag = null;
    if (!d) return;
    if (this.stage.hasPointerCapture(event.pointerId)) this.stage.releasePointerCapture(event.pointerId);
    if (d.kind === "pan") return;
    if (!d.moving) {
      // A click: on a box it selected it (pointerDown); on the image it clears the selection.
      if (d.kind === "draw") this.selected = -1;
      this.render();
      return;
    }
    const box = this.boxes[d.index];
    if (d.kind === "draw" && (box.w < MIN_SIDE || box.h < MIN_SIDE)) {
      Object.assign(this, d.before);
      this.render();
      return;
    }
    this.remember(d.before);
    this.changed();
  }

  // ---------------------------------------------------------------- keys (from the page's key handler)

  key(event, key) {
    if (key === " ") { event.preventDefault(); this.spaceHeld = true; this.stage && this.stage.classList.add("panning"); return true; }
    const label = this.hotkeys.get(key);
    if (label !== undefined) { event.preventDefault(); this.setLabel(label); return true; }
    const arrows = { arrowleft: [-1, 0], arrowright: [1, 0], arrowup: [0, -1], arrowdown: [0, 1] };
    if (arrows[key]) {
      if (this.selected < 0) return false;
      event.preventDefault();
      const step = event.shiftKey ? 10 : 1;
      this.nudge(arrows[key][0] * step, arrows[key][1] * step);
      return true;
    }
    const actions = {
      delete: () => this.removeSelected(),
      d: () => this.duplicateLast(),
      h: () => { this.hidden = !this.hidden; this.render(); },
      z: () => this.undo(),
      r: () => { this.resizeMode = !this.resizeMode; this.render(); },
      escape: () => { this.selected = -1; this.render(); },
      "+": () => this.zoomCentre(ZOOM_STEP),
      "=": () => this.zoomCentre(ZOOM_STEP),
      "-": () => this.zoomCentre(1 / ZOOM_STEP),
      "0": () => this.fit(),
      n: () => this.toggleNothing(),
    };
    const action = actions[key];
    if (!action) return false;
    event.preventDefault();
    return action() || true;
  }

  keyUp(event) {
    if (event.key === " ") { this.spaceHeld = false; this.stage && this.stage.classList.remove("panning"); }
  }

  // ---------------------------------------------------------------- drawing the overlay

  colour(label) {
    return this.colours.get(label) || "#ffbf00";
  }

  render() {
    if (!this.stage) return;
    this.svg.replaceChildren();
    this.svg.style.display = this.hidden ? "none" : "";
    this.stage.classList.toggle("resize-mode", this.resizeMode);
    this.elements = this.boxes.map((box, index) => {
      const group = document.createElementNS(SVG, "g");
      group.classList.add("box");
      if (index === this.selected) group.classList.add("selected");
      const rect = document.createElementNS(SVG, "rect");
      rect.dataset.index = String(index);
      rect.style.setProperty("--box-colour", this.colour(box.label));
      group.appendChild(rect);
      const handles = index === this.selected ? HANDLES.map((handle) => {
        const h = document.createElementNS(SVG, "rect");
        h.classList.add("box-handle", `handle-${handle}`);
        h.dataset.index = String(index);
        h.dataset.handle = handle;
        group.appendChild(h);
        return h;
      }) : [];
      this.svg.appendChild(group);
      return { rect, handles };
    });
    this.elements.forEach((_, index) => this.renderOne(index));
    this.onRender && this.onRender();
  }

  renderOne(index) {
    const el = this.elements && this.elements[index];
    const box = this.boxes[index];
    if (!el || !box) return;
    el.rect.setAttribute("x", box.x);
    el.rect.setAttribute("y", box.y);
    el.rect.setAttribute("width", box.w);
    el.rect.setAttribute("height", box.h);
    el.rect.style.setProperty("--box-colour", this.colour(box.label));
    const side = HANDLE_PX / this.scale;
    el.handles.forEach((h) => {
      const p = handlePoint(box, h.dataset.handle);
      h.setAttribute("x", p.x - side / 2);
      h.setAttribute("y", p.y - side / 2);
      h.setAttribute("width", side);
      h.setAttribute("height", side);
    });
  }

  // ---------------------------------------------------------------- the answer

  wireBoxes() {
    return this.boxes.map((box) => wireBox(box, this.width, this.height));
  }

  load(boxes, nothing) {
    this.clear();
    this.boxes = (boxes || []).map((b) => ({ ...b }));
    this.nothing = Boolean(nothing) && !this.boxes.length;
    this.changed();
  }
}

export { PALETTE };

// The labelling page's image viewer for classification projects: zoom (wheel around the pointer, + / - around
// the centre, Home fits), pan (drag, Space+drag, arrow keys when zoomed), and brightness/contrast as a CSS
// filter on the picture only. Nothing here touches the answer; every item starts fitted and unfiltered.
// label.js calls show(slot, url) for each item and key(event, key) for each key it does not take itself.

const STEP = 1.25;           // one + or - press
const MAX_ZOOM = 64;         // times the fitted size
const PAN_FRACTION = 0.15;   // of the stage, per arrow press (Shift: three times that)

const INTERACTIVE = "button, input, select, textarea, a[href], summary, audio, [role=button]";

let active = null;           // the viewer of the item on screen
let spaceHeld = false;

function button(text, label, id) {
  const b = document.createElement("button");
  b.type = "button";
  b.id = id;
  b.textContent = text;
  if (label) b.setAttribute("aria-label", label);
  b.title = label || text;
  return b;
}

function slider(id, text, min, max) {
  const wrap = document.createElement("label");
  wrap.className = "image-adjust";
  wrap.htmlFor = id;
  const input = document.createElement("input");
  input.type = "range";
  input.id = id;
  input.min = String(min);
  input.max = String(max);
  input.step = "5";
  input.value = "100";
  const shown = document.createElement("output");
  shown.htmlFor = id;
  shown.textContent = "100 %";
  input.addEventListener("input", () => {
    shown.textContent = `${input.value} %`;
    input.setAttribute("aria-valuetext", `${input.value} percent`);
  });
  wrap.append(`${text} `, input, " ", shown);
  return { wrap, input };
}

class ImageViewer {
  constructor(slot, url) {
    this.stage = document.createElement("div");
    this.stage.className = "image-stage";
    this.stage.id = "image-stage";
    this.img = document.createElement("img");
    this.img.src = url;
    this.img.alt = "the item to label";
    this.img.className = "item-image";
    this.img.id = "item-image";
    this.img.draggable = false;
    this.stage.append(this.img);

    const tools = document.createElement("div");
    tools.className = "image-tools row";
    tools.setAttribute("role", "group");
    tools.setAttribute("aria-label", "View of the image (not part of your answer)");
    const out = button("−", "Zoom out (-)", "zoom-out");
    const fit = button("Fit", "Fit the image (Home)", "zoom-fit");
    const into = button("+", "Zoom in (+)", "zoom-in");
    this.level = document.createElement("span");
    this.level.className = "muted small zoom-level";
    this.level.id = "zoom-level";
    const brightness = slider("image-brightness", "Brightness", 20, 300);
    const contrast = slider("image-contrast", "Contrast", 20, 300);
    const reset = button("Reset", "Reset brightness and contrast", "image-adjust-reset");
    tools.append(out, fit, into, this.level, brightness.wrap, contrast.wrap, reset);
    slot.append(this.stage, tools);

    this.brightness = brightness.input;
    this.contrast = contrast.input;
    const filter = () => {
      const b = Number(this.brightness.value);
      const c = Number(this.contrast.value);
      this.img.style.filter = b === 100 && c === 100 ? "" : `brightness(${b}%) contrast(${c}%)`;
    };
    this.brightness.addEventListener("input", filter);
    this.contrast.addEventListener("input", filter);
    reset.addEventListener("click", () => {
      for (const input of [this.brightness, this.contrast]) {
        input.value = "100";
        input.dispatchEvent(new Event("input"));
      }
    });
    out.addEventListener("click", () => this.zoomBy(1 / STEP));
    into.addEventListener("click", () => this.zoomBy(STEP));
    fit.addEventListener("click", () => this.fit());

    this.scale = 1;
    this.x = 0;
    this.y = 0;
    this.fitted = true;
    this.img.addEventListener("load", () => this.fit());
    if (this.img.complete && this.img.naturalWidth) this.fit();
    this.stage.addEventListener("wheel", (event) => this.wheel(event), { passive: false });
    this.stage.addEventListener("pointerdown", (event) => this.grab(event));
    this.stage.addEventListener("dblclick", (event) => {
      if (this.fitted) this.zoomAt(4 * this.fitScale(), ...this.point(event));
      else this.fit();
    });
    this.resized = () => { if (this.fitted) this.fit(); else this.place(); };
    window.addEventListener("resize", this.resized);
  }

  fitScale() {
    const w = this.img.naturalWidth;
    const h = this.img.naturalHeight;
    if (!w || !h) return 1;
    return Math.min(this.stage.clientWidth / w, this.stage.clientHeight / h);
  }

  point(event) {
    const box = this.stage.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  }

  fit() {
    this.scale = this.fitScale();
    this.fitted = true;
    this.place();
  }

  zoomBy(factor) {
    this.zoomAt(this.scale * factor, this.stage.clientWidth / 2, this.stage.clientHeight / 2);
  }

  // Zoom to ``scale`` keeping the image point under (px, py) of the stage where it is.
  zoomAt(scale, px, py) {
    const least = this.fitScale();
    const next = Math.max(least, Math.min(least * MAX_ZOOM, scale));
    this.x = px - (px - this.x) * (next / this.scale);
    this.y = py - (py - this.y) * (next / this.scale);
    this.scale = next;
    this.fitted = next <= least * 1.0001;
    this.place();
  }

  panBy(dx, dy) {
    this.x += dx;
    this.y += dy;
    this.place();
  }

  // Keeps the picture covering the stage where it is larger than it, centred where it is smaller.
  place() {
    const w = this.img.naturalWidth * this.scale;
    const h = this.img.naturalHeight * this.scale;
    const sw = this.stage.clientWidth;
    const sh = this.stage.clientHeight;
    this.x = w <= sw ? (sw - w) / 2 : Math.min(0, Math.max(sw - w, this.x));
    this.y = h <= sh ? (sh - h) / 2 : Math.min(0, Math.max(sh - h, this.y));
    if (this.fitted) {
      this.x = (sw - w) / 2;
      this.y = (sh - h) / 2;
    }
    this.img.style.transform = `translate(${this.x}px, ${this.y}px) scale(${this.scale})`;
    // Upscaled pixels stay square (an 8 x 8 digit is 64 blocks, not a blur); downscaled photos stay smooth.
    this.img.classList.toggle("pixelated", this.scale > 1);
    const zoom = this.scale / this.fitScale();
    this.img.dataset.zoom = zoom.toFixed(2);
    this.stage.classList.toggle("zoomed", !this.fitted);
    // Relative to the fitted size: "35070 %" of an 8 x 8 digit's own size says nothing useful.
    this.level.textContent = this.fitted ? "fitted" : `×${zoom.toFixed(2)}`;
  }

  wheel(event) {
    event.preventDefault();
    const factor = Math.exp(-event.deltaY * (event.deltaMode === 1 ? 0.05 : 0.002));
    this.zoomAt(this.scale * factor, ...this.point(event));
  }

  grab(event) {
    if (event.button !== 0 || this.fitted) return;
    event.preventDefault();
    this.stage.setPointerCapture(event.pointerId);
    this.stage.classList.add("panning");
    let [lastX, lastY] = [event.clientX, event.clientY];
    const move = (e) => {
      this.panBy(e.clientX - lastX, e.clientY - lastY);
      [lastX, lastY] = [e.clientX, e.clientY];
    };
    const up = () => {
      this.stage.classList.remove("panning");
      this.stage.removeEventListener("pointermove", move);
      this.stage.removeEventListener("pointerup", up);
      this.stage.removeEventListener("pointercancel", up);
    };
    this.stage.addEventListener("pointermove", move);
    this.stage.addEventListener("pointerup", up);
    this.stage.addEventListener("pointercancel", up);
  }

  key(event, key) {
    // A focused control keeps Space and the arrows (buttons press, sliders move).
    const inTools = event.target instanceof Element && event.target.closest(INTERACTIVE);
    if (key === "+" || key === "=") { event.preventDefault(); this.zoomBy(STEP); return true; }
    if (key === "-") { event.preventDefault(); this.zoomBy(1 / STEP); return true; }
    if (key === "home") { event.preventDefault(); this.fit(); return true; }
    if (inTools) return false;
    if (key === " ") {
      event.preventDefault();  // no page scroll; held, a drag pans (as a drag alone does)
      spaceHeld = true;
      this.stage.classList.add("space-held");
      return true;
    }
    const arrows = { arrowleft: [1, 0], arrowright: [-1, 0], arrowup: [0, 1], arrowdown: [0, -1] };
    if (arrows[key] && !this.fitted) {
      event.preventDefault();
      const step = PAN_FRACTION * (event.shiftKey ? 3 : 1);
      this.panBy(arrows[key][0] * step * this.stage.clientWidth, arrows[key][1] * step * this.stage.clientHeight);
      return true;
    }
    return false;
  }

  close() {
    window.removeEventListener("resize", this.resized);
  }
}

document.addEventListener("keyup", (event) => {
  if (event.key === " " && spaceHeld) {
    spaceHeld = false;
    if (active) active.stage.classList.remove("space-held");
  }
});

export function show(slot, url) {
  if (active) active.close();
  active = new ImageViewer(slot, url);
  return active;
}

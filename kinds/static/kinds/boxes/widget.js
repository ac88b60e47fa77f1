// Boxes answer on the labelling page. static/js/label.js drives the page (submit, skip, flags, comment, going
// back) and asks the widget for the answer through window.labelgateWidget; this classic script only connects
// the page to the editor, which is a pair of ES modules (editor.js, geometry.js) loaded as they are, with no
// build step, like the rest of the front end.
(function () {
  "use strict";
  const loading = import(new URL("editor.js", document.currentScript.src).href);

  window.labelgateWidget = function (config, isActive) {
    const buttons = Array.from(document.querySelectorAll(".box-label-btn"));
    const nothingBtn = document.getElementById("box-nothing");
    const list = document.getElementById("box-list");
    const labels = config.boxLabels || [];
    let editor = null;
    let pending = null;  // what the page asked for before the editor's modules arrived

    function showTools() {
      if (!editor) return;
      buttons.forEach((b) => {
        b.classList.toggle("selected", b.dataset.value === editor.current);
        b.querySelector(".box-swatch").style.background = editor.colour(b.dataset.value);
      });
      nothingBtn.classList.toggle("selected", editor.nothing);
      nothingBtn.setAttribute("aria-pressed", String(editor.nothing));
      const wires = editor.ready() ? editor.wireBoxes() : editor.boxes;
      list.replaceChildren(...editor.boxes.map((box, index) => {
        const row = document.createElement("li");
        row.className = "box-row" + (index === editor.selected ? " selected" : "");
        row.dataset.index = String(index);
        const swatch = document.createElement("span");
        swatch.className = "box-swatch";
        swatch.style.background = editor.colour(box.label);
        const wire = wires[index];
        row.append(swatch, `${box.label}: x ${Math.round(wire.x)}, y ${Math.round(wire.y)}, ${Math.round(wire.w)} × ${Math.round(wire.h)} px`);
        row.addEventListener("click", () => { editor.selected = index; editor.render(); });
        return row;
      }));
      const stage = document.getElementById("box-stage");
      if (stage) {
        stage.dataset.boxes = String(editor.boxes.length);
        stage.classList.toggle("boxes-hidden", editor.hidden);
      }
    }

    loading.then((module) => {
      editor = new module.BoxEditor({ labels, maxBoxes: config.maxBoxes, onChange: showTools });
      editor.onRender = showTools;
      if (pending && pending.item) editor.mount(pending.view, pending.item);
      if (pending && pending.row) editor.load(pending.row.boxes, pending.row.boxes.length === 0 && !pending.row.unusable);
      pending = null;
      showTools();
    });

    buttons.forEach((b) => b.addEventListener("click", () => { if (editor && isActive()) editor.setLabel(b.dataset.value); }));
    nothingBtn.addEventListener("click", () => {
      if (!editor || !isActive()) return;
      const refusal = editor.toggleNothing();
      if (refusal) document.getElementById("status-line").textContent = refusal;
    });
    document.addEventListener("keyup", (event) => editor && editor.keyUp(event));
    // label.js leaves keys with Ctrl/Cmd to the browser; Ctrl+Z undoes the last box edit like z.
    document.addEventListener("keydown", (event) => {
      if (!editor || !(event.ctrlKey || event.metaKey) || event.key.toLowerCase() !== "z") return;
      if (event.target.closest && event.target.closest("textarea, input")) return;
      event.preventDefault();
      editor.undo();
    });

    return {
      // The item is shown by the widget: the boxes are drawn on it.
      render(view, item) {
        if (editor) editor.mount(view, item); else pending = { ...(pending || {}), view, item };
      },
      reset() {
        if (editor) editor.load([], false); else pending = { ...(pending || {}), row: null };
      },
      // An earlier answer of the annotator's own (a row of GET my-recent), shown to be changed.
      restore(row) {
        const nothing = row.boxes.length === 0 && !row.unusable;
        if (editor) editor.load(row.boxes, nothing); else pending = { ...(pending || {}), row };
      },
      // Why the answer cannot be sent yet ("" when it can).
      missing(unusable) {
        if (!editor || !editor.ready()) return "The image is still loading.";
        if (unusable || editor.boxes.length || editor.nothing) return "";
        return "Draw a box, or press n for \u201cNothing to box\u201d (or flag the image as unusable).";
      },
      fill(body) {
        if (editor.boxes.length || editor.nothing || !body.unusable) body.boxes = editor.wireBoxes();
      },
      // A key the page did not use; true when the widget took it.
      key(event, key) {
        if (!editor || !isActive()) return false;
        const taken = editor.key(event, key);
        if (key === "n" && taken && editor.boxes.length) {
          document.getElementById("status-line").textContent = "Remove the boxes first: an image with boxes is not empty.";
        }
        return taken;
      },
    };
  };
})();

// The review page's box view: each legend checkbox shows or hides one layer (an annotator's boxes, gold, the
// consensus). The editor (widget.js) and the decisions are static/js/review.js's.
(function () {
  "use strict";
  // A note's words start at its box's left edge and can run past the image's right or bottom edge: shift each
  // caption back inside the image (in image pixels, the SVG's viewBox) once the font has laid it out.
  const overlay = document.getElementById("box-review-overlay");
  function clampCaptions() {
    if (!overlay) return;
    const view = overlay.viewBox.baseVal;
    overlay.querySelectorAll("text.box-review-caption").forEach((text) => {
      text.removeAttribute("transform");
      const box = text.getBBox();
      let dx = 0;
      let dy = 0;
      if (box.x + box.width > view.width) dx = view.width - (box.x + box.width);
      if (box.x + dx < 0) dx = -box.x;
      if (box.y + box.height > view.height) dy = view.height - (box.y + box.height);
      if (box.y + dy < 0) dy = -box.y;
      if (dx || dy) text.setAttribute("transform", `translate(${dx} ${dy})`);
    });
  }
  clampCaptions();
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(clampCaptions);
  document.querySelectorAll("#box-legend input[data-layer]").forEach((box) => {
    box.addEventListener("change", () => {
      const layer = document.querySelector(`#box-review-overlay g[data-layer="${box.dataset.layer}"]`);
      if (layer) layer.style.display = box.checked ? "" : "none";
    });
  });
})();

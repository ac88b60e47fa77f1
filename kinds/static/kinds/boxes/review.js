// The review page's box view: each legend checkbox shows or hides one layer (an annotator's boxes, gold, the
// consensus). The editor (widget.js) and the decisions are static/js/review.js's.
(function () {
  "use strict";
  document.querySelectorAll("#box-legend input[data-layer]").forEach((box) => {
    box.addEventListener("change", () => {
      const layer = document.querySelector(`#box-review-overlay g[data-layer="${box.dataset.layer}"]`);
      if (layer) layer.style.display = box.checked ? "" : "none";
    });
  });
})();

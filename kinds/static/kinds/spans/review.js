// The review page's span rows: hovering a span's note outlines that span in its row, so a reason in words is
// found in the text. The editor (widget.js) and the decisions are static/js/review.js's.
(function () {
  "use strict";
  document.querySelectorAll(".span-row").forEach((row) => {
    const segs = Array.from(row.querySelectorAll(".span-row-text .seg"));
    row.querySelectorAll(".span-note[data-start]").forEach((note) => {
      const start = Number(note.dataset.start);
      const end = Number(note.dataset.end);
      const inside = segs.filter((s) => Number(s.dataset.start) >= start && Number(s.dataset.start) < end);
      note.addEventListener("mouseenter", () => inside.forEach((s) => s.classList.add("pointed")));
      note.addEventListener("mouseleave", () => inside.forEach((s) => s.classList.remove("pointed")));
    });
  });
})();

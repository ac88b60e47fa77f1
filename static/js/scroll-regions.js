// A card or table too wide for the screen scrolls inside itself (app.css); keyboard users must be able to
// scroll it too, so while it overflows it is a named, focusable region (arrow keys then scroll it).
const SELECTOR = ".card";

function update() {
  for (const element of document.querySelectorAll(SELECTOR)) {
    const overflows = element.scrollWidth > element.clientWidth + 1;
    if (overflows && !element.hasAttribute("tabindex")) {
      element.setAttribute("tabindex", "0");
      element.dataset.scrollRegion = "1";
      if (!element.hasAttribute("role")) { element.setAttribute("role", "region"); element.dataset.scrollRole = "1"; }
      if (!element.hasAttribute("aria-label") && !element.hasAttribute("aria-labelledby")) {
        const heading = element.querySelector("h1, h2, h3, caption");
        element.setAttribute("aria-label", heading ? heading.textContent.trim() : "Scrollable table");
      }
    } else if (!overflows && element.dataset.scrollRegion) {
      element.removeAttribute("tabindex");
      delete element.dataset.scrollRegion;
      if (element.dataset.scrollRole) { element.removeAttribute("role"); delete element.dataset.scrollRole; }
    }
  }
}

update();
let pending = 0;
window.addEventListener("resize", () => {
  cancelAnimationFrame(pending);
  pending = requestAnimationFrame(update);
});

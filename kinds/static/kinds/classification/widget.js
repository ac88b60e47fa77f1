// Classification answer on the labelling page: one class (a set with multi-label) chosen by button or hotkey.
// static/js/label.js drives the page and asks the widget for the answer through window.labelgateWidget.
(function () {
  "use strict";
  window.labelgateWidget = function (config, isActive) {
    const buttons = Array.from(document.querySelectorAll(".label-btn"));
    const hotkeys = new Map(buttons.filter((b) => b.dataset.hotkey).map((b) => [b.dataset.hotkey.toLowerCase(), b]));
    let selected = new Set();

    function show() {
      buttons.forEach((b) => b.classList.toggle("selected", selected.has(b.dataset.value)));
    }

    function toggle(value) {
      if (!isActive()) return;
      if (config.multiLabel) {
        if (selected.has(value)) selected.delete(value); else selected.add(value);
      } else {
        selected = new Set([value]);
      }
      show();
    }

    buttons.forEach((b) => b.addEventListener("click", () => toggle(b.dataset.value)));

    return {
      reset() {
        selected = new Set();
        buttons.forEach((b) => b.classList.remove("selected"));
      },
      // An earlier answer of the annotator's own (a row of GET my-recent), shown to be changed.
      restore(row) {
        selected = new Set(row.labels);
        show();
      },
      // Why the answer cannot be sent yet ("" when it can).
      missing(unusable) {
        return !config.multiLabel && selected.size === 0 && !unusable
          ? "Choose a label first (or flag the input as unusable)." : "";
      },
      fill(body) {
        const labels = Array.from(selected);
        if (config.multiLabel) body.labels = labels; else if (labels.length) body.label = labels[0];
      },
      // A key the page did not use; true when the widget took it.
      key(event, key) {
        const button = hotkeys.get(key);
        if (!button) return false;
        event.preventDefault();
        toggle(button.dataset.value);
        return true;
      },
    };
  };
})();

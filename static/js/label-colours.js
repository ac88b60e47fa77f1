// The Labels page's colour forms: each sends the label's new colour to PATCH /api/projects/{pid}/labels/{value}/
// and shows the API's field error in words beside the field; on success the label's chip takes the colour.
(function () {
  "use strict";
  document.querySelectorAll(".label-colour-form").forEach((form) => {
    const field = form.querySelector("input[name=colour]");
    const picker = form.querySelector(".label-colour-picker");
    const error = form.querySelector(".label-colour-error");
    const chip = form.closest("tr").querySelector(".label-chip");
    picker.addEventListener("input", () => { field.value = picker.value; });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      field.removeAttribute("aria-invalid");
      let answer;
      try {
        answer = await window.labelgateApi.call("PATCH", form.dataset.url, { colour: field.value.trim() });
      } catch (e) {
        error.textContent = "Network error; the colour was not saved. Try again.";
        return;
      }
      const { status, data } = answer;
      if (status === 200) {
        field.value = data.colour;
        picker.value = data.colour;
        chip.dataset.colour = data.colour;
        chip.style.borderColor = data.colour;
        chip.querySelector(".label-swatch").style.background = data.colour;
        error.textContent = "";
        error.classList.remove("error");
        error.classList.add("muted");
        error.textContent = "Saved.";
        return;
      }
      error.classList.add("error");
      error.classList.remove("muted");
      field.setAttribute("aria-invalid", "true");
      const words = data && (data.colour || data.detail);
      error.textContent = Array.isArray(words) ? words.join(" ") : words || `The colour was not saved (${status}).`;
    });
  });
})();

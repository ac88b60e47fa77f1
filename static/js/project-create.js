// The multi-label box applies only to the task types listed on it (classification); for the others it is hidden
// and cleared, so the form never sends a setting the server refuses for that kind.
const box = document.getElementById("id_multi_label");
const taskType = document.getElementById("id_task_type");
if (box && taskType) {
  const allowed = (box.dataset.taskTypes || "").split(",").filter(Boolean);
  const row = box.closest("[data-field]");
  const sync = () => {
    const shown = allowed.includes(taskType.value);
    if (row) row.hidden = !shown;
    if (!shown) box.checked = false;
  };
  taskType.addEventListener("change", sync);
  sync();
}

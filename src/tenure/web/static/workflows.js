// Workflow builder: show the fields of the chosen trigger, and check filter fields as
// the user types with the segment builder's preview (same messages, same positions).
(function () {
  "use strict";
  const kind = document.getElementById("trigger-kind");
  function showTrigger() {
    document.querySelectorAll(".wf-trigger-fields").forEach((box) => {
      box.hidden = !box.dataset.for.split(" ").includes(kind.value);
    });
  }
  if (kind) {
    kind.addEventListener("change", showTrigger);
    showTrigger();
  }
  document.querySelectorAll("[data-filter-check]").forEach((box) => {
    const out = document.getElementById(box.dataset.filterCheck);
    let timer = null;
    let inFlight = null;
    async function check() {
      const text = box.value.trim();
      if (inFlight) inFlight.abort();
      out.classList.remove("error");
      if (!text) { out.textContent = ""; return; }
      const controller = new AbortController();
      inFlight = controller;
      out.textContent = "Checking…";
      let response;
      try {
        response = await fetch("/segments/preview?filter=" + encodeURIComponent(text), {
          headers: { Accept: "application/json" }, signal: controller.signal,
        });
      } catch (err) {
        if (err.name !== "AbortError") out.textContent = "The server did not answer.";
        return;
      }
      const body = await response.json().catch(() => null);
      if (controller.signal.aborted) return;
      if (!response.ok) {
        const first = body && body.errors && body.errors[0];
        out.classList.add("error");
        const where = first && first.position != null ? " (at character " + (first.position + 1) + ")" : "";
        out.textContent = (first ? first.reason : "The check failed (" + response.status + ").") + where;
        return;
      }
      out.textContent = body.count.toLocaleString() + (body.count === 1 ? " person matches today" : " people match today");
    }
    box.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(check, 300); });
    if (box.value.trim()) check();
  });
})();

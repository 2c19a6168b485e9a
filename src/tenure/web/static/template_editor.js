// The template editor's live preview (templates/edit.html).
//
// 400 ms after the last keystroke the form (with its CSRF token) is posted to
// /templates/preview; the answer is the email rendered with the chosen person's data, shown
// in an iframe that is sandboxed (no scripts, no same origin) through srcdoc, or the list
// of problems with their lines. Older answers are dropped, and their requests aborted, so
// the preview never goes back in time.
(function () {
  "use strict";
  const form = document.getElementById("template-form");
  if (!form) return;
  const frame = document.getElementById("preview-frame");
  const textPart = document.getElementById("preview-text");
  const subjectOut = document.getElementById("preview-subject");
  const problems = document.getElementById("preview-problems");
  const status = document.getElementById("preview-status");
  const personId = document.getElementById("person_id");
  const personLabel = document.getElementById("person-label");
  const search = document.getElementById("person-search");
  const results = document.getElementById("person-results");
  let timer = null;
  let inFlight = null;
  let searchTimer = null;
  let searchFlight = null;

  function showProblems(errors) {
    status.textContent = "The template does not render:";
    problems.replaceChildren(...errors.map((e) => {
      const item = document.createElement("li");
      item.textContent = (e.field ? e.field + (e.line ? ", line " + e.line : "") + ": " : "") + e.reason;
      return item;
    }));
    problems.hidden = false;
  }

  async function render() {
    if (inFlight) inFlight.abort();
    if (!personId.value) {
      status.textContent = "Choose a person above to preview with.";
      return;
    }
    const controller = new AbortController();
    inFlight = controller;
    status.textContent = "Rendering…";
    let response;
    try {
      response = await fetch("/templates/preview", {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        signal: controller.signal,
      });
    } catch (err) {
      if (err.name !== "AbortError") status.textContent = "The server did not answer: " + err.message;
      return;
    }
    const body = await response.json().catch(() => null);
    if (controller.signal.aborted) return;
    inFlight = null;
    if (!response.ok) {
      showProblems((body && body.errors) || [{ reason: "The preview failed (" + response.status + ")." }]);
      return;
    }
    problems.replaceChildren();
    problems.hidden = true;
    status.textContent = "Up to date.";
    subjectOut.textContent = body.subject;
    frame.srcdoc = body.html;
    textPart.textContent = body.text;
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(render, 400);
  }

  function choose(person) {
    personId.value = String(person.id);
    personLabel.textContent = person.label;
    results.replaceChildren();
    search.value = "";
    const url = new URL(window.location.href);
    url.searchParams.set("person", String(person.id));
    url.searchParams.delete("saved");
    window.history.replaceState(null, "", url);
    render();
  }

  async function find() {
    const q = search.value.trim();
    if (searchFlight) searchFlight.abort();
    if (q.length < 1) {
      results.replaceChildren();
      return;
    }
    const controller = new AbortController();
    searchFlight = controller;
    let body;
    try {
      const response = await fetch("/templates/people?q=" + encodeURIComponent(q), {
        headers: { Accept: "application/json" },
        signal: controller.signal,
      });
      body = await response.json();
    } catch (err) {
      return;
    }
    if (controller.signal.aborted) return;
    results.replaceChildren(...body.items.map((person) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = person.label;
      button.addEventListener("click", () => choose(person));
      item.appendChild(button);
      return item;
    }));
    if (!body.items.length) {
      const item = document.createElement("li");
      item.className = "hint";
      item.textContent = "Nobody found.";
      results.appendChild(item);
    }
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(find, 250);
  });
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      const first = results.querySelector("button");
      if (first) first.click();
    }
  });
  document.querySelectorAll("[data-part]").forEach((button) => button.addEventListener("click", () => {
    const showText = button.dataset.part === "text";
    frame.hidden = showText;
    textPart.hidden = !showText;
    document.querySelectorAll("[data-part]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
  }));
  render();
})();

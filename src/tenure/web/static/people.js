// The people pages' small helpers; every form works without them.
(function () {
  // Person form: "Add another email/phone" adds a blank row (the form always has one).
  document.querySelectorAll("button.add-row").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var rows = button.parentElement.querySelectorAll(".contact-row");
      var last = rows[rows.length - 1];
      var row = last.cloneNode(true);
      var index = rows.length;
      var input = row.querySelector("input:not([type])");
      input.value = "";
      input.id = input.id.replace(/-\d+$/, "-" + index);
      input.setAttribute("aria-label", input.getAttribute("aria-label").replace(/\d+$/, String(index + 1)));
      input.removeAttribute("aria-invalid");
      var radio = row.querySelector("input[type=radio]");
      radio.value = String(index);
      radio.checked = false;
      var remove = row.querySelector("input[type=checkbox]");
      if (remove) { remove.closest("label").remove(); }
      last.after(row);
      input.focus();
    });
  });
  // People list: select all on this page, and the count the bulk bar acts on.
  var all = document.getElementById("select-all");
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name=ids][form=bulk]"));
  var count = document.getElementById("bulk-count");
  function update() {
    var n = boxes.filter(function (b) { return b.checked; }).length;
    if (count) { count.textContent = n + " selected"; }
    if (all) { all.checked = n > 0 && n === boxes.length; all.indeterminate = n > 0 && n < boxes.length; }
  }
  if (all) {
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
      update();
    });
  }
  boxes.forEach(function (b) { b.addEventListener("change", update); });
  update();
})();

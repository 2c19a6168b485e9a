// The top bar's global search (templates/_search.html): results as you type, grouped
// (people, organizations, segments), keyboard navigable, following the ARIA combobox
// pattern. "/" (outside a text field) or Ctrl/Cmd+K focuses it; ArrowDown/ArrowUp move
// through the options, Enter opens the chosen one (or the full results page when none is
// chosen), Escape closes the list, then the box.
(function () {
  "use strict";
  var form = document.getElementById("global-search");
  if (!form) return;
  var input = document.getElementById("global-search-input");
  var list = document.getElementById("global-search-list");
  var status = document.getElementById("global-search-status");
  var toggle = form.querySelector(".search-toggle");
  var DEBOUNCE_MS = 150;
  var GROUPS = [["people", "People"], ["organizations", "Organizations"], ["segments", "Segments"]];
  var timer = null;
  var latest = 0; // only the newest request's answer is shown
  var options = [];
  var active = -1;

  function typingIn(element) {
    var tag = element && element.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (element && element.isContentEditable);
  }

  function open() {
    form.classList.add("open");
    toggle.setAttribute("aria-expanded", "true");
    input.focus();
    input.select();
  }

  function closeList() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function setActive(index) {
    if (!options.length) return;
    active = (index + options.length) % options.length;
    options.forEach(function (option, i) {
      option.setAttribute("aria-selected", i === active ? "true" : "false");
    });
    var chosen = options[active];
    input.setAttribute("aria-activedescendant", chosen.id);
    chosen.scrollIntoView({ block: "nearest" });
  }

  function detail(kind, item) {
    if (kind === "people") {
      return [item.email, item.phone, item.organization].filter(Boolean).join(" · ");
    }
    if (kind === "organizations") return item.domain || "";
    return item.kind + " · " + item.members.toLocaleString() + " people";
  }

  function render(query, answer) {
    list.textContent = "";
    options = [];
    active = -1;
    var count = 0;
    GROUPS.forEach(function (group) {
      var items = answer[group[0]] || [];
      if (!items.length) return;
      var box = document.createElement("div");
      box.setAttribute("role", "group");
      var label = document.createElement("div");
      label.className = "search-group-label";
      label.id = "global-search-group-" + group[0];
      label.textContent = group[1];
      box.setAttribute("aria-labelledby", label.id);
      box.appendChild(label);
      items.forEach(function (item) {
        var option = document.createElement("div");
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.id = "global-search-" + group[0] + "-" + item.id;
        option.dataset.url = item.url;
        var name = document.createElement("span");
        name.className = "search-name";
        name.textContent = item.name;
        var sub = document.createElement("span");
        sub.className = "search-detail";
        sub.textContent = detail(group[0], item);
        option.appendChild(name);
        option.appendChild(sub);
        option.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the box
          window.location.assign(item.url);
        });
        box.appendChild(option);
        options.push(option);
        count += 1;
      });
      list.appendChild(box);
    });
    // The full results page is the last option (a listbox holds only options and groups).
    var all = document.createElement("div");
    all.setAttribute("role", "option");
    all.setAttribute("aria-selected", "false");
    all.id = "global-search-all";
    all.className = "search-all";
    all.dataset.url = "/search?q=" + encodeURIComponent(query);
    all.textContent = count ? "All results for “" + query + "”" : "Nothing found for “" + query + "”: search again";
    all.addEventListener("mousedown", function (event) {
      event.preventDefault();
      window.location.assign(all.dataset.url);
    });
    list.appendChild(all);
    options.push(all);
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    status.textContent = count ? count + " results" : "No results";
  }

  function suggest() {
    var query = input.value.trim();
    if (!query) {
      closeList();
      return;
    }
    var ticket = ++latest;
    fetch(form.dataset.suggest + "?q=" + encodeURIComponent(query), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (answer) {
        if (ticket === latest && answer && input.value.trim() === query) render(query, answer);
      })
      .catch(function () { /* offline or logged out: the form still submits to /search */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(suggest, DEBOUNCE_MS);
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (list.hidden && options.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      }
      if (event.key === "ArrowDown") setActive(active < 0 ? 0 : active + 1);
      else setActive(active < 0 ? options.length - 1 : active - 1);
    } else if (event.key === "Enter") {
      if (!list.hidden && active >= 0) {
        event.preventDefault();
        window.location.assign(options[active].dataset.url);
      } else if (!input.value.trim()) {
        event.preventDefault();
      }
      // else: the form submits to the full results page, /search?q=
    } else if (event.key === "Escape") {
      if (!list.hidden) {
        event.preventDefault(); // a search field's own Escape would also clear the text
        closeList();
      } else {
        input.value = "";
        form.classList.remove("open");
        toggle.setAttribute("aria-expanded", "false");
        input.blur();
      }
    }
  });

  input.addEventListener("blur", function () {
    setTimeout(closeList, 120);
  });

  form.addEventListener("submit", function (event) {
    // The box has no name (a page's own filter field is "q"): the full results page's URL
    // is built here.
    event.preventDefault();
    var query = input.value.trim();
    if (query) window.location.assign(form.action + "?q=" + encodeURIComponent(query));
  });

  toggle.addEventListener("click", open);

  document.addEventListener("keydown", function (event) {
    var shortcut = (event.key === "k" || event.key === "K") && (event.ctrlKey || event.metaKey);
    var slash = event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !typingIn(event.target);
    if (shortcut || slash) {
      event.preventDefault();
      open();
    }
  });
})();

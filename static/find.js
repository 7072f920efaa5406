// Type-to-find on the long lists (countries and regions, nationalities, missions, ports):
// progressive enhancement of a <select data-find>. A search field is put before the select;
// typing filters the options and selects the best match, so "mg", "meiguo", "美国" or "USA"
// choose 美国. The keys (pinyin initials, full pinyin, codes) come from the server in each
// option's data-keys (src/collate.rs); the option labels are unchanged. By keyboard: type,
// ↓/↑ go through the matches, Enter keeps the choice (it does not submit the form), Esc
// clears. The result is announced in a status line. Without JavaScript the select works as
// it is.
(function () {
  "use strict";

  function norm(s) {
    return (s || "").toLowerCase().replace(/\s+/g, "");
  }

  // The field's own label ("国籍 *" → "国籍").
  function labelOf(select) {
    var l = select.id ? document.querySelector('label[for="' + select.id + '"]') : null;
    return l ? l.textContent.replace(/\*/g, "").trim() : "";
  }

  function options(select) {
    return Array.prototype.filter.call(select.options, function (o) {
      return o.value !== "";
    });
  }

  // Whether option o matches query q: "strong" when its label or one of its keys begins
  // with q, "weak" when only its label contains q, false otherwise.
  function match(o, q) {
    var label = norm(o.textContent);
    if (label.indexOf(q) === 0) return "strong";
    var keys = (o.getAttribute("data-keys") || "").split(" ");
    for (var i = 0; i < keys.length; i++) {
      if (keys[i] && keys[i].indexOf(q) === 0) return "strong";
    }
    return label.indexOf(q) >= 0 ? "weak" : false;
  }

  function enhance(select) {
    var name = labelOf(select);
    var id = (select.id || select.name) + "-find";
    var input = document.createElement("input");
    input.type = "search";
    input.id = id;
    input.className = "find";
    input.autocomplete = "off";
    input.spellcheck = false;
    input.setAttribute("aria-label", "查找：" + name + "（输入拼音首字母、中文或代码）");
    input.setAttribute("aria-controls", select.id);
    input.placeholder = "查找：拼音首字母、中文或代码";
    var status = document.createElement("span");
    status.className = "find-status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    select.parentNode.insertBefore(input, select);
    select.parentNode.insertBefore(status, select.nextSibling);

    var matches = [];
    // The select's options and groups as the server sent them. Options that are not offered
    // are taken out of the select rather than hidden: iOS Safari shows hidden options.
    var nodes = Array.prototype.map.call(select.children, function (n) {
      return { node: n, options: n.tagName === "OPTGROUP" ? Array.prototype.slice.call(n.children) : null };
    });
    var everyOption = [];
    nodes.forEach(function (n) {
      if (n.options) everyOption = everyOption.concat(n.options);
      else everyOption.push(n.node);
    });
    // data-find-by="country": an option with data-country is offered only when it is the
    // value of that other select (the missions of the chosen host country).
    var by = document.getElementById(select.getAttribute("data-find-by") || "");

    function offered(o) {
      var own = o.getAttribute("data-country");
      return !(by && own && own !== by.value);
    }

    // Puts back the offered options that match the search, in the server's order; the chosen
    // one stays while it is offered, so a search that finds nothing loses no choice.
    function apply() {
      var q = norm(input.value);
      var value = select.value;
      var strong = [];
      var weak = [];
      var shown = {};
      everyOption.forEach(function (o, i) {
        if (o.value === "") {
          shown[i] = true;
          return;
        }
        if (!offered(o)) return;
        var m = q ? match(o, q) : "strong";
        if (m === "strong") strong.push(o);
        if (m === "weak") weak.push(o);
        if (m || o.value === value) shown[i] = true;
      });
      var at = 0;
      var fragment = document.createDocumentFragment();
      nodes.forEach(function (n) {
        if (!n.options) {
          if (shown[at++]) fragment.appendChild(n.node);
          return;
        }
        var kept = n.options.filter(function () { return shown[at++]; });
        while (n.node.firstChild) n.node.removeChild(n.node.firstChild);
        kept.forEach(function (o) { n.node.appendChild(o); });
        if (kept.length) fragment.appendChild(n.node);
      });
      while (select.firstChild) select.removeChild(select.firstChild);
      select.appendChild(fragment);
      var chosen = everyOption.filter(function (o) { return o.value === value; })[0];
      select.value = chosen && offered(chosen) ? value : "";
      matches = q ? strong.concat(weak) : [];
      return q;
    }

    var choosing = false;
    function choose(o) {
      if (!o) return;
      if (select.value !== o.value) {
        select.value = o.value;
        choosing = true;
        select.dispatchEvent(new Event("change", { bubbles: true }));
        choosing = false;
      }
      announce();
    }

    // A choice made in the select itself ends the search: every option is offered again.
    select.addEventListener("change", function () {
      if (choosing || !input.value) return;
      input.value = "";
      apply();
      announce();
    });

    function announce() {
      var q = norm(input.value);
      if (!q) {
        status.textContent = "";
        return;
      }
      if (!matches.length) {
        status.textContent = "未找到“" + input.value.trim() + "”";
        return;
      }
      var sel = select.options[select.selectedIndex];
      status.textContent = "找到" + matches.length + "项" +
        (sel && sel.value ? "，已选择：" + sel.textContent : "");
    }

    input.addEventListener("input", function () {
      if (apply()) choose(matches[0]);
      announce();
    });

    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        var list = matches.length ? matches : options(select);
        if (!list.length) return;
        e.preventDefault();
        var at = list.indexOf(select.options[select.selectedIndex]);
        var next = e.key === "ArrowDown" ? Math.min(at + 1, list.length - 1) : Math.max(at - 1, 0);
        choose(list[next]);
      } else if (e.key === "Enter") {
        // Keep the choice; the form is submitted by its own buttons.
        e.preventDefault();
        if (matches.length) choose(select.options[select.selectedIndex].value ? select.options[select.selectedIndex] : matches[0]);
      } else if (e.key === "Escape" && input.value) {
        e.preventDefault();
        input.value = "";
        apply();
        announce();
      }
    });

    return apply;
  }

  var appliers = [];
  Array.prototype.forEach.call(document.querySelectorAll("select[data-find]"), function (s) {
    if (s.id) appliers.push(enhance(s));
  });
  // A change elsewhere may change which options are offered (the group form offers only the
  // missions of the chosen country): filter again after any change.
  if (appliers.length) {
    document.addEventListener("change", function () {
      appliers.forEach(function (apply) { apply(); });
    });
  }
})();

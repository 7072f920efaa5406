// The little JavaScript the manual asks for: the registration notice countdown and the message
// reminder at the bottom right. Everything also works without it (the reminder then shows at
// each page load and its buttons are plain forms).
(function () {
  "use strict";

  // Registration notice: "我已阅读以上须知" is enabled after the countdown.
  var btn = document.getElementById("accept-notice");
  if (btn) {
    var left = parseInt(btn.getAttribute("data-countdown"), 10) || 0;
    var label = document.getElementById("countdown");
    var tick = function () {
      if (left <= 0) {
        btn.disabled = false;
        if (label) label.textContent = "请点击“我已阅读以上须知”继续";
        return;
      }
      if (label) label.textContent = "请阅读须知，" + left + "秒后可继续";
      left -= 1;
      window.setTimeout(tick, 1000);
    };
    tick();
  }

  // Group form: the multiple-entry ground matters only for the multiple entry types (the
  // missions offered follow the chosen host country: data-find-by in find.js).
  var entry = document.getElementById("entry_type");
  var groundField = document.getElementById("ground-field");
  if (entry && groundField) {
    var toggle = function () { groundField.hidden = entry.value === "single"; };
    entry.addEventListener("change", toggle);
    toggle();
  }
  // Visa types not chosen yet follow the purpose's usual type (the server does the same on
  // save); a type the clerk chose is left alone.
  var purpose = document.getElementById("purpose");
  if (purpose) {
    var preselect = function () {
      var o = purpose.options[purpose.selectedIndex];
      var visa = o ? o.getAttribute("data-visa") : "";
      if (!visa) return;
      Array.prototype.forEach.call(document.querySelectorAll("select.visa-type"), function (s) {
        if (s.value === "") s.value = visa;
      });
    };
    purpose.addEventListener("change", preselect);
    preselect();
  }
  var printNow = document.getElementById("print-now");
  if (printNow) printNow.addEventListener("click", function () { window.print(); });

  // Message reminder (manual 2.2.2).
  var meta = document.querySelector('meta[name="csrf"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  var counter = document.getElementById("msgcount");

  function setUnread(n) {
    if (!counter) return;
    n = Math.max(0, n);
    counter.setAttribute("data-unread", String(n));
    counter.textContent = "新消息" + n;
    counter.classList.toggle("has", n > 0);
  }

  function post(url, extra) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Requested-With": "fetch" },
      body: "csrf=" + encodeURIComponent(csrf) + (extra || "")
    });
  }

  // [删除] cannot be undone (issue 17): asked here, as the confirmation page asks without script.
  var DELETE_ASK = "删除这条消息？删除后不能恢复，也不再弹出提醒。";

  function wire(box) {
    var id = box.getAttribute("data-id");
    var close = function () { box.remove(); };
    box.querySelector('[data-act="close"]').addEventListener("click", close);
    ["read", "delete"].forEach(function (act) {
      var form = box.querySelector('form[data-act="' + act + '"]');
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var extra = "";
        if (act === "delete") {
          if (!window.confirm(DELETE_ASK)) return;
          extra = "&confirm=1";
        }
        post("/messages/" + id + "/" + act, extra).then(function (r) {
          // 204: done. Anything else (the confirmation page, an error) is left to the form.
          if (r.status === 204) {
            close();
            setUnread(parseInt(counter ? counter.getAttribute("data-unread") : "1", 10) - 1);
          } else {
            form.submit();
          }
        });
      });
    });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function actionForm(id, act, label, cls) {
    var f = el("form");
    f.method = "post";
    f.action = "/messages/" + id + "/" + act;
    f.setAttribute("data-act", act);
    var t = el("input");
    t.type = "hidden"; t.name = "csrf"; t.value = csrf;
    var b = el("button", cls, label);
    b.type = "submit";
    f.appendChild(t); f.appendChild(b);
    return f;
  }

  function show(m) {
    var box = el("div", "popup");
    box.id = "popup";
    box.setAttribute("role", "alertdialog");
    box.setAttribute("aria-labelledby", "popup-title");
    box.setAttribute("data-id", String(m.id));
    var head = el("div", "popup-head");
    head.appendChild(el("span", "tag", "新消息"));
    head.appendChild(document.createTextNode(" "));
    var title = el("strong", "", m.title);
    title.id = "popup-title";
    head.appendChild(title);
    box.appendChild(head);
    box.appendChild(el("div", "popup-body pre", m.body));
    box.appendChild(el("div", "popup-meta", m.sender + "　" + m.at));
    var actions = el("div", "popup-actions");
    var close = el("button", "secondary", "[关闭]");
    close.type = "button";
    close.setAttribute("data-act", "close");
    actions.appendChild(close);
    actions.appendChild(actionForm(m.id, "read", "[我知道了]", "primary"));
    var view = el("a", "button", "[查看详细]");
    view.href = "/messages/" + m.id;
    view.setAttribute("data-act", "view");
    actions.appendChild(view);
    actions.appendChild(actionForm(m.id, "delete", "[删除]", "secondary"));
    box.appendChild(actions);
    document.body.appendChild(box);
    setUnread(m.unread);
    wire(box);
  }

  var existing = document.getElementById("popup");
  if (existing) wire(existing);

  // Ask the server every minute; it decides whether a reminder is due.
  if (counter) {
    window.setInterval(function () {
      if (document.getElementById("popup")) return;
      fetch("/messages/popup", { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.status === 200 ? r.json() : null; })
        .then(function (m) { if (m) show(m); })
        .catch(function () {});
    }, 60000);
  }
})();

// After an action the page continues where the user is (issue 17): the first field refused
// (its message beside it), else the confirmation of what was done; not the top of the page.
// Without JavaScript the confirmation is the first thing in <main> all the same.
(function () {
  "use strict";
  if (window.location.hash) return;
  var bad = document.querySelector(".field.invalid input:not([type=hidden]), .field.invalid select, .field.invalid textarea");
  var flash = document.getElementById("flash");
  var target = bad || flash;
  if (target && typeof target.focus === "function") target.focus({ preventScroll: false });
})();

// Narrow screens (issue 17). The menu opens on wide screens in browsers that cannot show a closed
// details element's content by CSS (app.css hides the 菜单 button there when they can). Table cells
// the server left without a data-label (app.css shows it before the cell on a phone) take their
// column's header text.
(function () {
  "use strict";
  var menu = document.querySelector("details[data-menu]");
  var canShowClosed = window.CSS && CSS.supports && CSS.supports("selector(::details-content)");
  if (menu && !canShowClosed && window.matchMedia("(min-width: 601px)").matches) {
    menu.open = true;
  }
  var tables = document.querySelectorAll("table.list");
  for (var i = 0; i < tables.length; i++) {
    var heads = tables[i].querySelectorAll("thead th");
    if (!heads.length) continue;
    var rows = tables[i].querySelectorAll("tbody tr");
    for (var r = 0; r < rows.length; r++) {
      var col = 0;
      for (var c = 0; c < rows[r].children.length; c++) {
        var cell = rows[r].children[c];
        var span = parseInt(cell.getAttribute("colspan"), 10) || 1;
        if (cell.tagName === "TD" && span === 1 && !cell.hasAttribute("data-label") && heads[col]) {
          cell.setAttribute("data-label", heads[col].textContent.replace("*", "").trim());
        }
        col += span;
      }
    }
  }
})();

// Uploads at once (issue 17, helper "files"): in a form marked data-upload-form, a chosen file
// is sent as soon as it is chosen, with a progress bar beside its slot; the server answers JSON
// ({"stored":{slot:name},"refused":{slot:message}} or {"error":message}). Files are sent one
// after another (the server caps uploads received at once). Without this script the form's
// 【上传所选文件】 sends every chosen file in one submission.
(function () {
  "use strict";
  if (!window.FormData || !window.XMLHttpRequest) return;
  var forms = document.querySelectorAll("form[data-upload-form]");
  if (!forms.length) return;
  var queue = [];
  var busy = false;

  function statusOf(input) {
    return document.getElementById(input.getAttribute("aria-describedby") || "");
  }
  function say(input, cls, text, role) {
    var status = statusOf(input);
    if (!status) return;
    status.textContent = "";
    var span = document.createElement("span");
    span.className = cls;
    if (role) span.setAttribute("role", role);
    span.textContent = text;
    status.appendChild(span);
  }
  function rowOf(input) {
    var el = input;
    while (el && el.tagName !== "TR") el = el.parentElement;
    return el;
  }
  function next() {
    if (busy || !queue.length) return;
    busy = true;
    var job = queue.shift();
    send(job.form, job.input, job.file, function () { busy = false; next(); });
  }
  function send(form, input, file, finished) {
    var status = statusOf(input);
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "上传进度：" + file.name);
    if (status) {
      status.textContent = "";
      status.appendChild(bar);
      var label = document.createElement("span");
      label.textContent = " 正在上传" + file.name;
      status.appendChild(label);
    }
    var data = new FormData();
    data.append(input.name, file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action"));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) bar.value = Math.round((e.loaded * 100) / e.total);
    });
    var fail = function (message) {
      var row = rowOf(input);
      if (row) row.classList.add("invalid");
      say(input, "err", message, "alert");
      finished();
    };
    xhr.onload = function () {
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = null; }
      var stored = answer && answer.stored ? answer.stored[input.name] : undefined;
      var refused = answer && answer.refused ? answer.refused[input.name] : undefined;
      if (typeof stored === "string") {
        var row = rowOf(input);
        if (row) row.classList.remove("invalid");
        var done = document.getElementById(input.getAttribute("data-done") || "");
        if (done) {
          done.textContent = "";
          var name = document.createElement("span");
          name.className = "ok-text";
          // A form may say what its upload means (the stamped scan: the current version's).
          var meaning = input.form && input.form.getAttribute("data-done-text");
          name.textContent = meaning || stored;
          done.appendChild(name);
        }
        say(input, "ok-text", "已上传：" + stored, "status");
        finished();
      } else if (refused) {
        fail(refused);
      } else if (answer && answer.error) {
        fail(answer.error);
      } else {
        fail("上传失败（" + xhr.status + "），请重新选择文件");
      }
    };
    xhr.onerror = function () { fail("网络中断，上传失败，请重新选择文件"); };
    xhr.send(data);
  }

  Array.prototype.forEach.call(forms, function (form) {
    form.classList.add("uploads-at-once");
    form.addEventListener("change", function (e) {
      var input = e.target;
      if (!input || input.type !== "file" || !input.files || !input.files.length) return;
      var file = input.files[0];
      // Cleared so that the same file can be chosen again after a refusal.
      input.value = "";
      say(input, "muted", "等待上传" + file.name);
      queue.push({ form: form, input: input, file: file });
      next();
    });
  });
})();

// SMS forms: Enter verifies (the form's first, hidden button); in the mobile-number field it sends
// the code instead, as the [获取验证码] button beside the field does. Without this script Enter
// there verifies, which asks for the code.
(function () {
  "use strict";
  var fields = document.querySelectorAll("input[data-enter-sends]");
  for (var i = 0; i < fields.length; i++) {
    fields[i].addEventListener("keydown", function (ev) {
      if (ev.key !== "Enter" || !this.form) return;
      var send = this.form.querySelector('button[name="action"][value="send"]');
      if (!send) return;
      ev.preventDefault();
      send.click();
    });
  }
})();

// The passport's machine-readable zone (issue 19): read on the server as soon as two full lines
// are pasted (or on 【读取机读区】), the visitor's fields filled without leaving the page.
// Without this script the button posts the form and the page comes back filled.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  var boxes = document.querySelectorAll("textarea[data-mrz]");
  function say(i, text) {
    var msg = document.querySelector('[data-mrz-msg="' + i + '"]');
    if (!msg) return;
    msg.textContent = text;
    msg.hidden = !text;
    msg.parentNode.classList.toggle("invalid", !!text);
  }
  function fieldNote(input, text) {
    var box = input.closest(".field");
    if (!box) return;
    var old = box.querySelector(".err");
    if (old) old.remove();
    box.classList.toggle("invalid", !!text);
    if (text) {
      var e = document.createElement("span");
      e.className = "err";
      e.textContent = text;
      box.appendChild(e);
    }
  }
  function read(area, button) {
    var i = area.getAttribute("data-mrz");
    var body = "csrf=" + encodeURIComponent(csrf) + "&mrz=" + encodeURIComponent(area.value);
    fetch("/groups/mrz", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" },
      body: body
    }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return r.json();
    }).then(function (a) {
      if (!a.ok) { say(i, a.message); return; }
      say(i, "");
      a.fields.forEach(function (f) {
        var input = document.getElementById("v" + i + "_" + f[0]);
        if (!input) return;
        input.value = f[1];
        fieldNote(input, "");
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
      if (a.warning) {
        var w = document.getElementById("v" + i + "_" + a.warning[0]);
        if (w) fieldNote(w, a.warning[1]);
      }
      area.value = "";
    }).catch(function () {
      // The page's own path: the form posted with the button.
      if (button && area.form) area.form.requestSubmit(button);
    });
  }
  Array.prototype.forEach.call(boxes, function (area) {
    var button = area.parentNode.querySelector("button[data-mrz-read]");
    if (button) {
      button.addEventListener("click", function (ev) {
        ev.preventDefault();
        read(area, button);
      });
    }
    area.addEventListener("input", function () {
      var n = area.value.replace(/\s/g, "").length;
      if (n === 88) read(area, button);
    });
  });
})();

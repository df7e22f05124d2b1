// Operator console: the router's proposal updates while the call is typed (debounced).
(function () {
  "use strict";
  var form = document.getElementById("intake");
  var box = document.getElementById("preview");
  if (!form || !box) { return; }
  var timer = null, seq = 0;
  var val = function (name) { var el = form.elements[name]; return el ? el.value.trim() : ""; };
  var el = function (tag, text, cls) {
    var n = document.createElement(tag);
    if (text !== undefined) { n.textContent = text; }
    if (cls) { n.className = cls; }
    return n;
  };
  function show(p) {
    box.replaceChildren();
    var dl = el("dl", undefined, "proposal");
    var add = function (k, v) { dl.appendChild(el("dt", k)); dl.appendChild(el("dd", v)); };
    add("分类", p.category || "—");
    add("主办单位", p.lead_unit ? p.lead_unit.name : "无建议（需人工指定）");
    add("协办单位", p.assisting_units && p.assisting_units.length ? p.assisting_units.map(function (u) { return u.name; }).join("、") : "—");
    add("置信度", Math.round((p.confidence || 0) * 100) + "%" + (p.needs_review ? "（需人工核对）" : ""));
    add("理由", p.rule || "—");
    box.appendChild(dl);
  }
  function preview() {
    var title = val("title"), content = val("content");
    if ((title + content).length < 4) { return; }
    var mine = ++seq;
    fetch("/api/v1/route-preview", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": window.hotlineCsrf() },
      body: JSON.stringify({ kind: val("kind") || "投诉", title: title, content: content,
        address: val("address"), category: val("category") || null })
    }).then(function (r) {
      if (r.status === 401) { window.location = "/login?expired=1"; return null; }
      return r.ok ? r.json() : null;
    }).then(function (p) {
      if (p && mine === seq) { show(p); }
    }).catch(function () { /* offline for a moment: the next keystroke tries again */ });
  }
  form.addEventListener("input", function (e) {
    if (["title", "content", "address", "kind", "category"].indexOf(e.target.name) < 0) { return; }
    clearTimeout(timer);
    timer = setTimeout(preview, 500);
  });
  form.addEventListener("change", function (e) {
    if (e.target.name === "kind") { clearTimeout(timer); timer = setTimeout(preview, 100); }
  });
  if (val("title") || val("content")) { preview(); }
})();

// The "do not contact the reporter" box shows for 举报 alone (the server ignores it otherwise).
(function () {
  "use strict";
  var kind = document.getElementById("f-kind");
  var box = document.getElementById("no-contact");
  if (!kind || !box) { return; }
  function show() { box.hidden = kind.value !== "举报"; }
  kind.addEventListener("change", show);
  show();
})();

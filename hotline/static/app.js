// Staff pages: no inline script (CSP script-src 'self'); behaviour hangs off data attributes.
(function () {
  "use strict";
  var csrf = function () {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  };
  window.hotlineCsrf = csrf;
  document.addEventListener("click", function (e) {
    var t = e.target.closest("[data-print]");
    if (t) { window.print(); }
  });
  // Unsafe htmx requests carry the session's CSRF token.
  document.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["X-CSRF-Token"] = csrf();
  });
  // A polled list must not be replaced under someone typing or tabbing in it.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var target = e.detail.target;
    var poll = e.detail.requestConfig && e.detail.requestConfig.headers && e.detail.requestConfig.headers["X-Hotline-Poll"];
    if (poll && target && target.contains(document.activeElement) && document.activeElement !== document.body) {
      e.detail.shouldSwap = false;
    }
  });
  // A fragment refused with a message for the person (422: a field to fix, 503: the database
  // is away) is shown where the answer goes; htmx would otherwise drop every 4xx/5xx.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var status = e.detail.xhr && e.detail.xhr.status;
    if (status === 422 || status === 503) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
  // Alt+key shortcuts shown on the page (accesskey alone differs between browsers).
  document.addEventListener("keydown", function (e) {
    if (!e.altKey || e.ctrlKey || e.metaKey || !e.key || e.key.length !== 1) { return; }
    var target = document.querySelector('[accesskey="' + e.key.toLowerCase() + '"]');
    if (!target) { return; }
    e.preventDefault();
    if (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT") {
      target.focus();
    } else {
      target.click();
    }
  });
  // Ctrl+Enter submits the form from a text area.
  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && e.target.form) {
      e.preventDefault();
      var first = e.target.form.querySelector('button[type="submit"]');
      if (first) { first.click(); } else { e.target.form.requestSubmit(); }
    }
  });
})();

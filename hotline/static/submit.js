// The citizen form (/submit). Everything works without this script; it only helps:
// the "do not contact me" box shows for 举报 alone, and a second tap does not post twice
// (the server would answer with the same ticket anyway).
(function () {
  "use strict";
  var form = document.querySelector("form.submit-form");
  if (!form) return;
  var kind = document.getElementById("f-kind");
  var noContact = document.getElementById("no-contact");
  function showNoContact() {
    noContact.hidden = kind.value !== "举报";
  }
  kind.addEventListener("change", showNoContact);
  showNoContact();
  form.addEventListener("submit", function () {
    var button = form.querySelector("button[type=submit]");
    // Disabled after this tick, so the click that submits still carries the form.
    setTimeout(function () {
      button.disabled = true;
      button.textContent = "正在提交…";
    }, 0);
  });
})();

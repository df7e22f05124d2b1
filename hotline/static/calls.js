// The incoming call: when the switch reports that this operator answered, the intake form gets
// the caller's number (their history and open tickets load beside it) and the call's id.
(function () {
  "use strict";
  var form = document.getElementById("intake");
  var banner = document.getElementById("incoming");
  if (!form || !banner || !window.EventSource) { return; }
  var source = new EventSource("/operator/calls/stream");
  source.addEventListener("answer", function (e) {
    var call;
    try { call = JSON.parse(e.data); } catch (err) { return; }
    var phone = form.elements.phone, callId = form.elements.call_id;
    if (callId) { callId.value = call.call_id || ""; }
    banner.hidden = false;
    banner.textContent = "正在通话：" + (call.caller || "匿名来电") +
      (call.queue ? "（" + call.queue + "）" : "") + "，已填入来电号码，请记录诉求。";
    if (phone && call.caller) {
      phone.value = call.caller;
      // The caller box reloads on input (htmx): their earlier and open tickets appear.
      phone.dispatchEvent(new Event("input", { bubbles: true }));
    }
    var title = form.elements.title;
    if (title && !title.value) { title.focus(); }
  });
}());

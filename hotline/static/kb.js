// The console's knowledge-base suggestions: 「用此答复」 puts the entry's answer in 当场答复 and
// remembers which entry it was, so 直接办结 records it (hotline/templates/_kb_suggest.html).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".kb-use");
    if (!button) return;
    var answer = document.getElementById("f-answer");
    var chosen = document.getElementById("f-kb_entry");
    if (!answer || !chosen) return;
    answer.value = button.getAttribute("data-answer") || "";
    chosen.value = button.getAttribute("data-kb-id") || "";
    document.querySelectorAll(".kb-item.chosen").forEach(function (item) {
      item.classList.remove("chosen");
    });
    var item = button.closest(".kb-item");
    if (item) item.classList.add("chosen");
    answer.focus();
  });
  // An answer emptied by hand no longer comes from the entry.
  document.addEventListener("input", function (event) {
    if (event.target && event.target.id === "f-answer" && !event.target.value.trim()) {
      var chosen = document.getElementById("f-kb_entry");
      if (chosen) chosen.value = "";
    }
  });
})();

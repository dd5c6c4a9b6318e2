// Duban (督办): small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // After a failed submit, move to the error summary (on a phone it would sit below the
  // fold): focused, so that screen readers read it and the keyboard starts from it.
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.scrollIntoView({ block: "start" });
    summary.focus({ preventScroll: true });
  }
  // Scroll each process diagram so that the current step is in view.
  document.querySelectorAll(".diagram").forEach(function (box) {
    var node = box.querySelector("g.node.current") || box.querySelector("g.node.overdue");
    if (!node || !node.getBoundingClientRect) { return; }
    var b = box.getBoundingClientRect();
    var n = node.getBoundingClientRect();
    box.scrollLeft += (n.left - b.left) - (b.width - n.width) / 2;
    box.scrollTop += (n.top - b.top) - (b.height - n.height) / 2;
  });
}());

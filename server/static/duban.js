// Duban (督办): small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
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

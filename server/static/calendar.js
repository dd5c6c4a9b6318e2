// The holiday calendar (/admin/calendar/<year>): clicking days marks them locally, and one
// save sends the whole year. Without this file every click is saved at once by the server.
(function () {
  "use strict";
  var form = document.getElementById("cal-form");
  if (!form) { return; }
  var holidaysField = document.getElementById("cal-holidays");
  var workdaysField = document.getElementById("cal-workdays");
  var bar = document.getElementById("cal-savebar");
  var counter = document.getElementById("cal-pending-count");
  var words = { "休": "节假日休息", "班": "调休上班" };

  function toSet(text) {
    var set = {};
    text.split(/[\s,，、;；]+/).forEach(function (d) { if (d) { set[d] = true; } });
    return set;
  }
  var holidays = toSet(holidaysField.value);
  var workdays = toSet(workdaysField.value);
  var original = {};
  var pending = {};

  function markOf(iso) { return holidays[iso] ? "休" : (workdays[iso] ? "班" : ""); }
  function isWeekend(iso) {
    var parts = iso.split("-");
    var day = new Date(Date.UTC(+parts[0], +parts[1] - 1, +parts[2])).getUTCDay();
    return day === 0 || day === 6;
  }
  function next(iso, mark) {
    if (!mark) { return "休"; }
    if (mark === "休" && isWeekend(iso)) { return "班"; }
    return "";
  }
  function keys(set) { return Object.keys(set).filter(function (k) { return set[k]; }).sort(); }

  function paint(cell, iso, mark) {
    cell.classList.toggle("cal-holiday", mark === "休");
    cell.classList.toggle("cal-workday", mark === "班");
    cell.classList.toggle("cal-pending", pending[iso] !== undefined);
    var old = cell.querySelector(".cal-mark");
    var hidden = old ? old.nextElementSibling : null;
    if (old) { old.remove(); }
    if (hidden && hidden.classList.contains("visually-hidden")) { hidden.remove(); }
    var time = cell.querySelector("time");
    if (mark) {
      var span = document.createElement("span");
      span.className = "cal-mark";
      span.setAttribute("aria-hidden", "true");
      span.textContent = mark;
      var text = document.createElement("span");
      text.className = "visually-hidden";
      text.textContent = words[mark];
      time.after(span, text);
    }
    var label = cell.querySelector(".cal-toggle .visually-hidden");
    var target = next(iso, mark);
    var targetWords = words[target] || (isWeekend(iso) ? "普通周末" : "工作日");
    var current = words[mark] || (isWeekend(iso) ? "休息" : "工作日");
    var parts = iso.split("-");
    label.textContent = (+parts[1]) + "月" + (+parts[2]) + "日 " + current +
      (pending[iso] !== undefined ? "（未保存）" : "") + "。点击设为" + targetWords;
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest(".cal-toggle");
    if (!button) { return; }
    event.preventDefault();
    var iso = button.value;
    var cell = button.closest("td");
    var mark = markOf(iso);
    if (original[iso] === undefined) { original[iso] = mark; }
    var target = next(iso, mark);
    holidays[iso] = target === "休";
    workdays[iso] = target === "班";
    if (target === original[iso]) { delete pending[iso]; } else { pending[iso] = target; }
    holidaysField.value = keys(holidays).join("\n");
    workdaysField.value = keys(workdays).join("\n");
    paint(cell, iso, target);
    var count = Object.keys(pending).length;
    bar.hidden = count === 0;
    counter.textContent = count ? "有 " + count + " 天的修改尚未保存" : "";
  });
}());

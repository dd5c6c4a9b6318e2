// Duban (督办): the batch export page polls its job's progress. Without this file the page
// reloads itself (a <meta refresh> in <noscript>) until the export is done.
(function () {
  "use strict";
  var box = document.getElementById("export-job");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("export-progress");

  function field(name) { return box.querySelector('[data-field="' + name + '"]'); }
  function setText(name, value) { var el = field(name); if (el) { el.textContent = value; } }
  function show(name, visible) { var el = field(name); if (el) { el.hidden = !visible; } }

  function update(job) {
    bar.value = job.progress;
    bar.textContent = job.progress + "%";
    setText("progress", job.progress + "%");
    setText("label", job.label);
    setText("done", job.done);
    setText("total", job.total);
    setText("failed_chains", job.failed_chains);
    show("failed", job.failed_chains > 0);
    setText("skipped", job.skipped || 0);
    show("skipped_notice", job.skipped > 0);
    if (job.state === "done") {
      var link = field("download").querySelector("a");
      if (link && job.download) { link.href = job.download; }
      show("download", true);
      show("hint", false);
    } else if (job.state === "failed") {
      setText("error_text", job.error || "");
      show("error", true);
      show("hint", false);
    }
    box.setAttribute("data-state", job.state);
    return job.state === "queued" || job.state === "running";
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (job) { if (update(job)) { window.setTimeout(poll, 1000); } })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  var state = box.getAttribute("data-state");
  if (state === "queued" || state === "running") { poll(); }
}());

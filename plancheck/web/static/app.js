// plancheck's own script (no library): save manual ticks through the JSON API, follow background jobs,
// and show where a value was read when it is clicked. The pages work without it (plain forms).
"use strict";
(function () {
  const csrf = document.querySelector('input[name="csrf_token"]');
  const token = csrf ? csrf.value : "";

  async function post(url, body) {
    const r = await fetch(url, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": token}, body: JSON.stringify(body)});
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data.error || r.statusText);
    return data;
  }

  // manual checks: a checkbox saves at once; the form's button stays for browsers without script
  document.querySelectorAll("form.tick").forEach((form) => {
    const box = form.querySelector('input[type="checkbox"]');
    const note = form.querySelector(".tick-note");
    const button = form.querySelector("button");
    if (button) button.hidden = true;
    box.addEventListener("change", async () => {
      box.disabled = true;
      try {
        const saved = await post(form.dataset.api, {check_id: form.dataset.check, ticked: box.checked});
        if (note) note.textContent = (saved.ticked ? "ticked by " : "unticked by ") + saved.by + ", " + saved.at.slice(0, 16).replace("T", " ");
        form.dataset.saved = saved.ticked ? "yes" : "no";
        const sign = document.getElementById("sign-status");
        if (sign) sign.textContent = "Reload to re-check what signing still needs.";
      } catch (e) {
        box.checked = !box.checked;
        if (note) note.textContent = "not saved: " + e.message;
      } finally {
        box.disabled = false;
      }
    });
  });

  // background jobs: poll until finished, then reload the page to show the result
  const job = document.getElementById("job");
  if (job && job.dataset.finished === "no") {
    const text = job.querySelector(".job-text");
    const bar = job.querySelector("progress");
    const tick = async () => {
      const r = await fetch("/api/jobs/" + job.dataset.job, {credentials: "same-origin"});
      if (!r.ok) return;
      const j = await r.json();
      if (bar && j.total) { bar.max = j.total; bar.value = j.done; }
      if (text) text.textContent = j.done + " of " + j.total + (j.current ? " · " + j.current : "");
      if (j.finished) { window.location.reload(); } else { setTimeout(tick, 1000); }
    };
    setTimeout(tick, 1000);
  }

  // provenance: click a value to keep its source in view (hover shows it as a tooltip)
  const box = document.getElementById("prov");
  document.addEventListener("click", (ev) => {
    const cell = ev.target.closest("[data-prov]");
    if (!box) return;
    if (cell) { box.textContent = cell.dataset.prov; box.style.display = "block"; } else { box.style.display = "none"; }
  });
})();

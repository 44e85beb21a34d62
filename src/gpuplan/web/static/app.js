// gpuplan pages: validate the scenario as you type, follow a running job, pick runs to compare.
"use strict";

function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

function setupEditor() {
  const area = document.getElementById("yaml");
  if (!area) return;
  const gutter = document.getElementById("gutter");
  const box = document.getElementById("validation");
  let bad = new Set();

  function drawGutter() {
    const lines = area.value.split("\n").length;
    const out = [];
    for (let n = 1; n <= lines; n++) {
      out.push(bad.has(n) ? `<span class="bad-line" data-line="${n}">${n}</span>` : String(n));
    }
    gutter.innerHTML = out.join("\n");
    gutter.scrollTop = area.scrollTop;
  }

  async function validate() {
    const response = await fetch("/api/scenarios/validate", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({yaml: area.value}),
    });
    const data = await response.json();
    bad = new Set();
    box.innerHTML = "";
    if (!response.ok) {
      box.className = "validation invalid";
      box.textContent = `${data.field || "scenario"}: ${data.message || response.statusText}`;
    } else if (data.valid) {
      box.className = "validation valid";
      box.textContent = "Valid scenario.";
    } else {
      box.className = "validation invalid";
      for (const problem of data.problems) {
        if (problem.line) bad.add(problem.line);
        const item = document.createElement("div");
        item.className = "finding";
        item.dataset.line = problem.line || "";
        item.textContent = `${problem.line ? "line " + problem.line + ": " : ""}${problem.field}: ${problem.message}`;
        box.appendChild(item);
      }
    }
    drawGutter();
  }

  area.addEventListener("input", debounce(validate, 300));
  area.addEventListener("input", drawGutter);
  area.addEventListener("scroll", () => { gutter.scrollTop = area.scrollTop; });
  drawGutter();
  validate();
}

function setupRunPage() {
  const meta = document.getElementById("run-meta");
  if (!meta || !["queued", "running"].includes(meta.dataset.status)) return;
  const bar = document.getElementById("progress");
  const phase = document.getElementById("phase");
  const status = document.getElementById("status");
  async function poll() {
    const response = await fetch(`/api/jobs/${meta.dataset.run}`);
    if (!response.ok) return setTimeout(poll, 2000);
    const job = await response.json();
    status.textContent = job.status;
    if (job.fraction !== null) bar.value = job.fraction; else bar.removeAttribute("value");
    phase.textContent = job.phase || job.status;
    if (job.status === "succeeded" || job.status === "failed") window.location.reload();
    else setTimeout(poll, 500);
  }
  poll();
}

function setupCompare() {
  const button = document.getElementById("compare-picked");
  if (!button) return;
  button.addEventListener("click", () => {
    const picked = [...document.querySelectorAll("input.pick:checked")].map((box) => box.value);
    if (picked.length !== 2) { alert("Tick exactly two runs to compare."); return; }
    window.location.href = `/compare?a=${picked[1]}&b=${picked[0]}`;
  });
}

setupEditor();
setupRunPage();
setupCompare();

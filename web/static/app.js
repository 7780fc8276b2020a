/* G-Share page scripts: confirmations, the menu, previews and a folder's selection (the
   uploader is uploads.js, what changes on its own live.js). No libraries, no build step. */
"use strict";

const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;

document.addEventListener("submit", (event) => {
  const button = event.submitter;
  let message = (button && button.dataset.confirm) || event.target.dataset.confirm;
  if (message && event.target.getAttribute("id") === "selection") message = message.replace("{n}", chosen().length);
  if (message && !window.confirm(message)) event.preventDefault();
});

document.addEventListener("DOMContentLoaded", () => {
  const selection = document.getElementById("selection");
  if (selection) new Selection(selection);
  for (const img of document.querySelectorAll(".preview img[data-failed]")) {
    if (img.complete && img.naturalWidth === 0) previewFailed(img);
    else img.addEventListener("error", () => previewFailed(img));
  }
  setUpMenu();
  setUpMore();
});

/* Layout: on a phone the header's links fold behind a menu button (without scripts they stay
   open); "Choose files" and "Choose a folder" are buttons that open their hidden inputs. */
function setUpMenu() {
  const button = document.querySelector(".menu-button");
  if (!button) return;
  const menu = document.getElementById(button.getAttribute("aria-controls"));
  const open = (yes) => {
    button.setAttribute("aria-expanded", String(yes));
    menu.classList.toggle("open", yes);
  };
  button.hidden = false;
  document.body.classList.add("has-menu-button");
  open(false);
  button.addEventListener("click", () => open(button.getAttribute("aria-expanded") !== "true"));
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && menu.classList.contains("open")) { open(false); button.focus(); }
  });
}

/* On a desk the header's rarer links (S3 keys, sessions) fold behind "More", so the header
   stays one line; on a phone they are in the menu's column like the others. */
function setUpMore() {
  const button = document.querySelector(".more-button");
  if (!button) return;
  const items = document.getElementById(button.getAttribute("aria-controls"));
  const open = (yes) => {
    button.setAttribute("aria-expanded", String(yes));
    items.classList.toggle("open", yes);
  };
  button.hidden = false;
  document.body.classList.add("has-more-button");
  button.addEventListener("click", () => open(button.getAttribute("aria-expanded") !== "true"));
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && items.classList.contains("open")) { open(false); button.focus(); }
  });
  document.addEventListener("click", (e) => {
    if (!e.target.closest(".more")) open(false);
  });
}

document.addEventListener("click", (event) => {
  const pick = event.target.closest("button.pick");
  if (pick) document.getElementById(pick.getAttribute("aria-controls")).click();
});
/* A hidden file input's chosen file is named beside its button (the browser's own words for it,
   "No file chosen", are not in the page's language). */
document.addEventListener("change", (event) => {
  const input = event.target;
  if (input.type !== "file" || !input.dataset.shows) return;
  const names = [...input.files].map((f) => f.name).join(", ");
  if (names) document.getElementById(input.dataset.shows).textContent = names;
});

/* A preview that cannot be shown says so in one sentence inside its box. */
function previewFailed(img) {
  const note = document.createElement("p");
  note.className = "preview-failed";
  note.textContent = img.dataset.failed;
  img.replaceWith(note);
}

const chosen = () => [...document.querySelectorAll('input[name=id][form=selection]:checked')];

/* A folder listing's selection: checkboxes (select all, shift-click for a range), a toolbar
   whose buttons submit the "selection" form (ZIP and the move/copy pickers by GET, the trash by
   POST), and rows dragged onto a folder to move them (the selection, if the row is in it). */
class Selection {
  constructor(form) {
    this.form = form;
    this.bar = document.querySelector(".selection-bar");
    this.all = document.getElementById("select-all");  // the list's header has it, the grid not
    this.boxes = [...document.querySelectorAll("input[name=id][form=selection]")];
    this.last = null;
    if (this.all) this.all.addEventListener("change", () => {
      for (const box of this.boxes) box.checked = this.all.checked;
      this.show();
    });
    for (const box of this.boxes) box.addEventListener("click", (e) => this.clicked(box, e));
    form.addEventListener("submit", (e) => {
      this.method = ((e.submitter && e.submitter.getAttribute("formmethod")) || form.method).toLowerCase();
    });
    form.addEventListener("formdata", (e) => {  // no token in a URL
      if (this.method === "get") { e.formData.delete("csrf_token"); e.formData.delete("folder"); }
    });
    this.bindDrag();
    this.show();
  }

  clicked(box, event) {
    if (event.shiftKey && this.last && this.last !== box) {
      const [a, b] = [this.boxes.indexOf(this.last), this.boxes.indexOf(box)].sort((x, y) => x - y);
      for (const other of this.boxes.slice(a, b + 1)) other.checked = box.checked;
    }
    this.last = box;
    this.show();
  }

  show() {
    const n = chosen().length;
    this.bar.querySelector(".selection-count").textContent = this.bar.dataset.msgCount.replace("{n}", n);
    this.bar.classList.toggle("active", n > 0);
    for (const button of this.bar.querySelectorAll(".needs-selection")) button.disabled = n === 0;
    if (!this.all) return;
    this.all.checked = n > 0 && n === this.boxes.length;
    this.all.indeterminate = n > 0 && n < this.boxes.length;
  }

  bindDrag() {
    const rows = document.querySelectorAll("table.listing tr[data-id]");
    for (const row of rows) {
      row.addEventListener("dragstart", (e) => {
        const box = row.querySelector("input[name=id]");
        const ids = box && box.checked ? chosen().map((b) => b.value) : [row.dataset.id];
        e.dataTransfer.setData("application/x-gshare-ids", ids.join(","));
        e.dataTransfer.effectAllowed = "move";
      });
      if (!row.dataset.folder) continue;
      row.addEventListener("dragover", (e) => {
        if (!e.dataTransfer.types.includes("application/x-gshare-ids")) return;
        e.preventDefault();
        row.classList.add("drop-target");
      });
      row.addEventListener("dragleave", () => row.classList.remove("drop-target"));
      row.addEventListener("drop", (e) => {
        const ids = e.dataTransfer.getData("application/x-gshare-ids");
        row.classList.remove("drop-target");
        if (!ids) return;
        e.preventDefault();
        e.stopPropagation();
        this.moveInto(row.dataset.id, ids.split(",").filter((id) => id !== row.dataset.id));
      });
    }
  }

  moveInto(target, ids) {
    if (!ids.length) return;
    const form = document.createElement("form");
    form.method = "post";
    form.action = this.bar.querySelector("[data-action=move]").getAttribute("formaction");
    const field = (name, value) => {
      const input = document.createElement("input");
      Object.assign(input, { type: "hidden", name, value });
      form.append(input);
    };
    field("csrf_token", csrfToken());
    field("folder", this.form.querySelector("input[name=folder]").value);
    field("target", target);
    for (const id of ids) field("id", id);
    this.bar.querySelector(".selection-count").textContent = this.bar.dataset.msgMoving;
    document.body.append(form);
    form.submit();
  }
}

/* G-Share page scripts: confirmations and the uploader (pick or drop files and folders;
   large files in resumable chunks through /api/v1/uploads). No libraries, no build step. */
"use strict";

const CHUNK = 8 * 1024 * 1024;
const PARALLEL = 3;
const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;

document.addEventListener("submit", (event) => {
  const button = event.submitter;
  let message = (button && button.dataset.confirm) || event.target.dataset.confirm;
  if (message && event.target.getAttribute("id") === "selection") message = message.replace("{n}", chosen().length);
  if (message && !window.confirm(message)) event.preventDefault();
});

document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("uploader");
  if (box) new Uploader(box);
  const selection = document.getElementById("selection");
  if (selection) new Selection(selection);
  for (const img of document.querySelectorAll(".preview img[data-failed]")) {
    if (img.complete && img.naturalWidth === 0) previewFailed(img);
    else img.addEventListener("error", () => previewFailed(img));
  }
  setUpMenu();
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

document.addEventListener("click", (event) => {
  const pick = event.target.closest("button.pick");
  if (pick) document.getElementById(pick.getAttribute("aria-controls")).click();
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
    this.all = document.getElementById("select-all");
    this.boxes = [...document.querySelectorAll("input[name=id][form=selection]")];
    this.last = null;
    this.all.addEventListener("change", () => {
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

function send(method, url, body, onProgress) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open(method, url);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    if (body && !(body instanceof Blob)) xhr.setRequestHeader("Content-Type", "application/json");
    xhr.upload.onprogress = (e) => onProgress && onProgress(e.loaded);
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText || "null"); } catch (e) { data = null; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new Error((data && data.error && data.error.message) || xhr.statusText));
    };
    xhr.onerror = () => reject(new Error(""));
    xhr.onabort = () => reject(new Error("aborted"));
    xhr.send(body instanceof Blob ? body : body ? JSON.stringify(body) : null);
  });
  return { xhr, done };
}

class Uploader {
  constructor(box) {
    this.box = box;
    this.msg = box.dataset;
    this.folder = Number(box.dataset.folder);
    this.link = box.dataset.link;
    this.queue = [];
    this.running = false;
    this.list = box.querySelector("#queue");
    this.bind();
  }

  bind() {
    const drop = this.box.querySelector("#drop");
    for (const id of ["pick-files", "pick-folder"]) {
      const input = this.box.querySelector("#" + id);
      if (input) input.addEventListener("change", () => {
        this.add([...input.files].map((f) => [f, dirOf(f.webkitRelativePath)]));
        input.value = "";
      });
    }
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", async (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      const entries = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry());
      if (entries.every(Boolean)) this.add(await walkEntries(entries, ""));
      else this.add([...e.dataTransfer.files].map((f) => [f, ""]));
    });
  }

  add(pairs) {
    for (const [file, path] of pairs) this.queue.push(new Item(this, file, path));
    this.box.querySelector(".overall").hidden = false;
    this.run();
  }

  async run() {
    if (this.running) return;
    this.running = true;
    let item;
    while ((item = this.queue.find((i) => i.state === "waiting"))) await item.upload();
    this.running = false;
    this.showOverall();
    if (this.queue.length && this.queue.every((i) => i.state === "done") && !this.link) {
      window.location.reload();
    }
  }

  showOverall() {
    const total = this.queue.reduce((s, i) => s + i.file.size, 0) || 1;
    const sent = this.queue.reduce((s, i) => s + i.sent, 0);
    this.box.querySelector("#overall").value = sent / total;
    const done = this.queue.filter((i) => i.state === "done").length;
    this.box.querySelector("#overall-text").textContent = `${done} / ${this.queue.length}`;
  }
}

class Item {
  constructor(uploader, file, path) {
    Object.assign(this, { uploader, file, path, state: "waiting", sent: 0, requests: new Set() });
    this.key = `gshare-upload:${uploader.folder}:${path}/${file.name}:${file.size}:${file.lastModified}`;
    this.render();
  }

  render() {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = (this.path ? this.path + "/" : "") + this.file.name;
    this.bar = document.createElement("progress");
    this.bar.max = 1;
    this.bar.value = 0;
    this.status = document.createElement("span");
    this.status.className = "status";
    this.pauseButton = button(this.uploader.msg.msgPause, () => this.togglePause());
    const cancel = button(this.uploader.msg.msgCancel, () => this.cancel());
    li.append(name, this.bar, this.status, this.pauseButton, cancel);
    this.li = li;
    this.uploader.list.append(li);
    this.setState("waiting");
  }

  setState(state, text) {
    this.state = state;
    this.li.dataset.state = state;
    const labels = { waiting: "msgWaiting", done: "msgDone", failed: "msgFailed",
                     paused: "msgPaused", cancelled: "msgCancelled" };
    this.status.textContent = text || (labels[state] ? this.uploader.msg[labels[state]] : "");
  }

  progress(sent) {
    this.sent = sent;
    this.bar.value = this.file.size ? sent / this.file.size : 1;
    this.status.textContent = `${Math.floor(this.bar.value * 100)}%`;
    this.uploader.showOverall();
  }

  async upload() {
    this.setState("uploading", "0%");
    this.requests = new Set();
    try {
      if (this.uploader.link) await this.whole(this.uploader.link + "?name=" + enc(this.file.name));
      else if (this.file.size <= CHUNK) await this.whole(this.wholeUrl());
      else await this.chunked();
      localStorage.removeItem(this.key);
      this.progress(this.file.size);
      this.setState("done");
    } catch (error) {
      if (this.state === "uploading") this.setState("failed", error.message || undefined);
      this.abortRequests();
    }
  }

  wholeUrl() {
    return `/api/v1/folders/${this.uploader.folder}/files?name=${enc(this.file.name)}&path=${enc(this.path)}`;
  }

  async whole(url) {
    await this.track(send(this.uploader.link ? "POST" : "PUT", url, this.file,
                          (n) => this.progress(n)));
  }

  async track(request) {
    this.requests.add(request);
    try { return await request.done; } finally { this.requests.delete(request); }
  }

  abortRequests() {
    for (const request of this.requests) request.xhr.abort();
  }

  /* Parts go PARALLEL at a time: the server stores each part whole before it answers, so one
     part alone would leave the connection idle while the previous one is being stored. */
  async chunked() {
    const token = await this.session();
    const listed = await send("GET", `/api/v1/uploads/${token}/parts`).done;
    const have = new Set(listed.items.map((p) => p.number));
    const count = Math.ceil(this.file.size / CHUNK);
    const todo = [];
    this.stored = 0;
    this.sending = new Map();
    for (let n = 1; n <= count; n++) {
      if (have.has(n)) this.stored += this.partSize(n);
      else todo.push(n);
    }
    let failure = null;
    const next = async () => {  // after a failure, parts under way finish: resuming skips them
      for (let n = todo.shift(); n && !failure && this.state === "uploading"; n = todo.shift()) {
        try { await this.part(token, n); } catch (error) { failure = failure || error; }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, todo.length) }, next));
    if (failure) throw failure;
    if (this.state !== "uploading") throw new Error("");
    await send("POST", `/api/v1/uploads/${token}/complete`, {}).done;
  }

  partSize(n) {
    return Math.min(n * CHUNK, this.file.size) - (n - 1) * CHUNK;
  }

  async part(token, n) {
    const start = (n - 1) * CHUNK;
    await this.track(send("PUT", `/api/v1/uploads/${token}/parts/${n}`,
                          this.file.slice(start, start + CHUNK),
                          (b) => { this.sending.set(n, b); this.showParts(); }));
    this.sending.delete(n);
    this.stored += this.partSize(n);
    this.showParts();
  }

  showParts() {
    let sent = this.stored;
    for (const bytes of this.sending.values()) sent += bytes;
    this.progress(sent);
  }

  async session() {
    const saved = localStorage.getItem(this.key);
    if (saved) return saved;
    const started = await send("POST", "/api/v1/uploads", {
      folder: this.uploader.folder, name: this.file.name, path: this.path,
      size: this.file.size, content_type: this.file.type || null }).done;
    localStorage.setItem(this.key, started.token);
    return started.token;
  }

  togglePause() {
    if (this.state === "paused") {
      this.pauseButton.textContent = this.uploader.msg.msgPause;
      this.setState("waiting");
      this.uploader.run();
    } else if (this.state === "uploading" || this.state === "waiting") {
      this.setState("paused");
      this.pauseButton.textContent = this.uploader.msg.msgResume;
      this.abortRequests();
    }
  }

  cancel() {
    const token = localStorage.getItem(this.key);
    this.setState("cancelled");
    this.abortRequests();
    if (token) send("DELETE", `/api/v1/uploads/${token}`).done.catch(() => {});
    localStorage.removeItem(this.key);
  }
}

function button(label, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.addEventListener("click", onClick);
  return b;
}

function enc(text) { return encodeURIComponent(text || ""); }

function dirOf(relative) {
  const parts = (relative || "").split("/");
  return parts.slice(0, -1).join("/");
}

async function walkEntries(entries, path) {
  const out = [];
  for (const entry of entries) {
    if (entry.isFile) {
      out.push([await new Promise((ok, fail) => entry.file(ok, fail)), path]);
    } else if (entry.isDirectory) {
      const children = await readAll(entry.createReader());
      out.push(...await walkEntries(children, path ? `${path}/${entry.name}` : entry.name));
    }
  }
  return out;
}

async function readAll(reader) {
  const all = [];
  for (;;) {
    const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
    if (!batch.length) return all;
    all.push(...batch);
  }
}

/* The uploader: pick or drop files and folders; large files go in resumable chunks through
   /api/v1/uploads. A failure says why in words; a lost connection or a busy server is retried on
   its own (backoff with jitter, and at once when the browser is back online) without sending
   again the parts the server has; Pause, Resume, Cancel and Retry act on one row. */
"use strict";

const CHUNK = 8 * 1024 * 1024;
const PARALLEL = 3;
const RETRY_FIRST_MS = 1000;  // the first automatic retry; each next one waits twice as long
const RETRY_MOST_MS = 30000;  // ... up to this
const RETRY_TIMES = 8;  // automatic retries while online before the row waits for Retry
const uploadCsrf = () => document.querySelector('meta[name="csrf-token"]').content;

document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("uploader");
  if (box) new Uploader(box);
});

/* Why an upload stopped: `why` names the sentence (data-why-* on the uploader), `retry` tells
   whether trying again on its own may help, `after` is the server's Retry-After in ms. */
class UploadError extends Error {
  constructor(why, message, { retry = false, after = null } = {}) {
    super(message || why);
    Object.assign(this, { why, retry, after });
  }
}

const SESSION_URL = /\/api\/v1\/uploads\/[^/]+\//;

function failure(xhr, url, data) {
  const code = (data && data.error && data.error.code) || "";
  const message = (data && data.error && data.error.message) || xhr.statusText;
  const after = Number(xhr.getResponseHeader("Retry-After"));
  if (xhr.status === 0) return new UploadError("offline", "", { retry: true });
  if (xhr.status === 503 || xhr.status === 429) {
    return new UploadError("busy", message, { retry: true, after: after > 0 ? after * 1000 : null });
  }
  if (code === "quota_exceeded") return new UploadError("quota", message);
  if (code === "name_invalid") return new UploadError("name", message);
  if (code === "too_large" || xhr.status === 413) return new UploadError("too-large", message);
  if (xhr.status === 401) return new UploadError("signed-out", message);
  if (code === "not_found" && SESSION_URL.test(url)) return new UploadError("expired", message);
  if (code === "not_found" || code === "permission_denied") return new UploadError("gone", message);
  if (xhr.status >= 500) return new UploadError("server", message, { retry: true });
  return new UploadError("", message);
}

function send(method, url, body, onProgress) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open(method, url);
    xhr.setRequestHeader("X-CSRFToken", uploadCsrf());
    xhr.setRequestHeader("Accept", "application/json");
    if (body && !(body instanceof Blob)) xhr.setRequestHeader("Content-Type", "application/json");
    xhr.upload.onprogress = (e) => onProgress && onProgress(e.loaded);
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText || "null"); } catch (e) { data = null; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(failure(xhr, url, data));
    };
    xhr.onerror = () => reject(failure(xhr, url, null));
    xhr.onabort = () => reject(new UploadError("aborted"));
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
    this.heldAbove = box.dataset.heldAbove ? Number(box.dataset.heldAbove) : null;
    this.queue = [];
    this.running = false;
    this.list = box.querySelector("#queue");
    this.bind();
    this.showResumable();
    window.addEventListener("online", () => { for (const i of this.queue) i.wake(); });
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
    for (const [file, path] of pairs) {
      const held = this.heldAbove !== null && file.size > this.heldAbove;
      this.queue.push(new Item(this, file, path, held));
    }
    this.box.querySelector(".overall").hidden = false;
    this.showResumable();
    this.run();
  }

  async run() {
    if (this.running) return;
    this.running = true;
    let item;
    while ((item = this.queue.find((i) => i.state === "waiting"))) await item.upload();
    this.running = false;
    this.showOverall();
    const finished = this.queue.every((i) => i.state === "done" || i.state === "cancelled");
    if (finished && this.queue.some((i) => i.state === "done") && !this.link) {
      window.location.reload();
    }
  }

  showOverall() {
    const total = this.queue.reduce((s, i) => s + i.file.size, 0) || 1;
    const sent = this.queue.reduce((s, i) => s + i.sent, 0);
    this.box.querySelector("#overall").value = sent / total;
    const done = this.queue.filter((i) => i.state === "done").length;
    this.box.querySelector("#overall-text").textContent = `${done} / ${this.queue.length}`;
    if (done && window.gshareLive) window.gshareLive.soon();
  }

  /* The hint to pick a file again, for the uploads of this folder left unfinished by an
     earlier page (their session still open on the server) and not picked again yet. */
  async showResumable() {
    const hint = this.box.querySelector("#resumable");
    if (!hint || this.link) return;
    const prefix = `gshare-upload:${this.folder}:`;
    const picked = new Set(this.queue.map((i) => i.key));
    const names = [];
    for (const key of Object.keys(localStorage).filter((k) => k.startsWith(prefix))) {
      if (picked.has(key)) continue;
      try {
        await send("GET", `/api/v1/uploads/${localStorage.getItem(key)}/parts`).done;
        names.push(key.slice(prefix.length).split(":")[0].replace(/^\//, ""));
      } catch (error) {
        if (error.why === "expired") localStorage.removeItem(key);
      }
    }
    hint.querySelector(".names").textContent = names.join(", ");
    hint.hidden = names.length === 0;
  }
}

class Item {
  constructor(uploader, file, path, held) {
    Object.assign(this, { uploader, file, path, sent: 0, requests: new Set(), tries: 0 });
    this.key = `gshare-upload:${uploader.folder}:${path}/${file.name}:${file.size}:${file.lastModified}`;
    this.render();
    if (held) this.hold();
    else this.setState("waiting");
  }

  render() {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = (this.path ? this.path + "/" : "") + this.file.name;
    this.bar = document.createElement("progress");
    this.bar.max = 1;
    this.bar.value = 0;
    this.bar.setAttribute("aria-label", name.textContent);
    this.status = document.createElement("span");
    this.status.className = "status";
    const msg = this.uploader.msg;
    this.pauseButton = button(msg.msgPause, "pause", () => this.togglePause());
    this.retryButton = button(msg.msgRetry, "retry", () => this.retry());
    this.confirmButton = button(msg.msgConfirm, "confirm", () => this.confirm());
    const cancel = button(msg.msgCancel, "cancel", () => this.cancel());
    li.append(name, this.bar, this.status, this.confirmButton, this.pauseButton, this.retryButton, cancel);
    this.li = li;
    this.uploader.list.append(li);
  }

  setState(state, text) {
    this.state = state;
    this.li.dataset.state = state;
    const labels = { waiting: "msgWaiting", done: "msgDone", failed: "msgFailed",
                     paused: "msgPaused", cancelled: "msgCancelled" };
    this.status.textContent = text || (labels[state] ? this.uploader.msg[labels[state]] : "");
    this.pauseButton.hidden = !["waiting", "uploading", "retrying", "paused"].includes(state);
    this.retryButton.hidden = state !== "failed";
    this.confirmButton.hidden = state !== "held";
  }

  /* Larger than the scanner takes: say so, and wait for "Upload anyway" or Cancel. */
  hold() {
    this.setState("held", this.uploader.msg.whyHeld);
  }

  confirm() {
    this.setState("waiting");
    this.uploader.run();
  }

  progress(sent) {
    this.sent = sent;
    this.bar.value = this.file.size ? sent / this.file.size : 1;
    if (this.state === "uploading") this.status.textContent = `${Math.floor(this.bar.value * 100)}%`;
    this.uploader.showOverall();
  }

  /* Send the file; on a failure that may pass (connection, busy server), wait and go on. */
  async upload() {
    for (;;) {
      try {
        await this.attempt();
        return;
      } catch (error) {
        this.abortRequests();
        if (this.state !== "uploading") return;  // paused or cancelled meanwhile
        if (!error.retry || (navigator.onLine && this.tries >= RETRY_TIMES)) {
          this.fail(error);
          return;
        }
        await this.backOff(error);
        if (this.state !== "retrying") return;
      }
    }
  }

  async attempt() {
    this.setState("uploading", `${Math.floor(this.bar.value * 100)}%`);
    this.requests = new Set();
    if (this.uploader.link) await this.whole(this.uploader.link + "?name=" + enc(this.file.name));
    else if (this.file.size <= CHUNK) await this.whole(this.wholeUrl());
    else await this.chunked();
    localStorage.removeItem(this.key);
    this.progress(this.file.size);
    this.setState("done");
  }

  fail(error) {
    if (error.why === "expired") localStorage.removeItem(this.key);  // Retry starts afresh
    const why = error.why && this.uploader.msg["why" + camel(error.why)];
    this.setState("failed", why || error.message || undefined);
  }

  /* Wait before trying again: the server's Retry-After, else a doubling delay with jitter; while
     the browser is offline, until it is back. wake() (online, Retry) ends the wait at once. */
  backOff(error) {
    this.tries += 1;
    const why = this.uploader.msg["why" + camel(error.why)] || "";
    const msg = this.uploader.msg;
    return new Promise((resolve) => {
      this.wake = () => { clearInterval(this.ticker); this.wake = () => {}; resolve(); };
      if (!navigator.onLine) {
        this.setState("retrying", msg.msgWaitingOnline.replace("{reason}", why));
        return;
      }
      const base = Math.min(RETRY_MOST_MS, RETRY_FIRST_MS * 2 ** (this.tries - 1));
      const delay = error.after || base / 2 + Math.random() * base / 2;
      const until = Date.now() + delay;
      const show = () => {
        const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
        this.setState("retrying", msg.msgRetrying.replace("{reason}", why).replace("{n}", left));
        if (Date.now() >= until) this.wake();
      };
      this.ticker = setInterval(show, 250);
      show();
    });
  }

  wake() {}

  retry() {
    this.tries = 0;
    this.setState("waiting");
    this.uploader.run();
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
     part alone would leave the connection idle while the previous one is being stored. The
     parts the server lists as stored are not sent again. */
  async chunked() {
    const token = await this.session();
    const listed = await this.track(send("GET", `/api/v1/uploads/${token}/parts`));
    const have = new Set(listed.items.map((p) => p.number));
    const count = Math.ceil(this.file.size / CHUNK);
    const todo = [];
    this.stored = 0;
    this.sending = new Map();
    for (let n = 1; n <= count; n++) {
      if (have.has(n)) this.stored += this.partSize(n);
      else todo.push(n);
    }
    this.showParts();
    let failed = null;
    const next = async () => {  // after a failure, parts under way finish: resuming skips them
      for (let n = todo.shift(); n && !failed && this.state === "uploading"; n = todo.shift()) {
        try { await this.part(token, n); } catch (error) { failed = failed || error; }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, todo.length) }, next));
    if (failed) throw failed;
    if (this.state !== "uploading") throw new UploadError("aborted");
    await this.track(send("POST", `/api/v1/uploads/${token}/complete`, {}));
  }

  partSize(n) {
    return Math.min(n * CHUNK, this.file.size) - (n - 1) * CHUNK;
  }

  async part(token, n) {
    const start = (n - 1) * CHUNK;
    try {
      await this.track(send("PUT", `/api/v1/uploads/${token}/parts/${n}`,
                            this.file.slice(start, start + CHUNK),
                            (b) => { this.sending.set(n, b); this.showParts(); }));
    } finally {
      this.sending.delete(n);
    }
    this.stored += this.partSize(n);
    this.tries = 0;  // a part went through: the connection works again
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
    const started = await this.track(send("POST", "/api/v1/uploads", {
      folder: this.uploader.folder, name: this.file.name, path: this.path,
      size: this.file.size, content_type: this.file.type || null }));
    localStorage.setItem(this.key, started.token);
    this.uploader.showResumable();
    return started.token;
  }

  togglePause() {
    if (this.state === "paused") {
      this.pauseButton.textContent = this.uploader.msg.msgPause;
      this.tries = 0;
      this.setState("waiting");
      this.uploader.run();
    } else if (["uploading", "waiting", "retrying"].includes(this.state)) {
      this.setState("paused");
      this.pauseButton.textContent = this.uploader.msg.msgResume;
      this.abortRequests();
      this.wake();
    }
  }

  /* Stop sending, and end the upload on the server: the parts it stored are removed. */
  async cancel() {
    const running = this.state === "uploading";
    this.setState("cancelled");
    this.abortRequests();
    this.wake();
    if (running) await new Promise((resolve) => setTimeout(resolve));  // let the aborts land
    const token = localStorage.getItem(this.key);
    localStorage.removeItem(this.key);
    if (token) await send("DELETE", `/api/v1/uploads/${token}`).done.catch(() => {});
    this.uploader.showResumable();
    this.uploader.showOverall();
    this.uploader.run();
  }
}

function button(label, action, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.dataset.action = action;
  b.addEventListener("click", onClick);
  return b;
}

function camel(why) {
  return why.split("-").map((w) => w[0].toUpperCase() + w.slice(1)).join("");
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

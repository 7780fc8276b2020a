/* What a page shows that changes on its own, without a reload: the unread notices in the header
   and, on a folder, the scan badges of the files being scanned and the space's use. One small
   request (/api/v1/live) per interval for the whole page, only while the tab is visible; the
   interval grows while nothing changes and starts short again when something does. */
"use strict";

const LIVE_FIRST_MS = 3000;
const LIVE_MOST_MS = 60000;  // nothing changes for a while: ask once a minute
const LIVE_MOST_SCANNING_MS = 15000;  // ... but every 15 s while a file is being scanned

class Live {
  constructor(count) {
    this.count = count;
    this.folderBox = document.getElementById("live-folder");
    this.folder = this.folderBox && this.folderBox.dataset.folder;
    this.wait = LIVE_FIRST_MS;
    this.timer = null;
    this.last = null;
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.soon();
    });
    this.schedule();
  }

  scanning() {
    return [...document.querySelectorAll(".badge[data-state=pending], .badge[data-state=error]")]
      .map((badge) => badge.dataset.version);
  }

  /* Ask again soon (after an upload, or when the tab is shown again). */
  soon() {
    this.wait = LIVE_FIRST_MS;
    this.schedule(300);
  }

  schedule(delay) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.ask(), delay === undefined ? this.wait : delay);
  }

  async ask() {
    if (document.visibilityState !== "visible") return;  // visibilitychange starts it again
    const query = new URLSearchParams();
    const versions = this.scanning();
    if (this.folder) query.set("folder", this.folder);
    if (this.folder && versions.length) query.set("versions", versions.join(","));
    let answer;
    try {
      const response = await fetch(`/api/v1/live?${query}`, { headers: { Accept: "application/json" } });
      if (response.status === 401) return;  // signed out: nothing more to show
      if (response.status === 404) this.folder = null;  // the folder went away
      answer = response.ok ? await response.json() : null;
    } catch (error) {
      answer = null;  // offline: keep the page as it is and ask again later
    }
    const changed = answer !== null && this.show(answer);
    const most = versions.length ? LIVE_MOST_SCANNING_MS : LIVE_MOST_MS;
    this.wait = changed ? LIVE_FIRST_MS : Math.min(most, Math.round(this.wait * 1.5));
    this.schedule();
  }

  show(answer) {
    const seen = JSON.stringify(answer);
    const changed = this.last !== null && seen !== this.last;
    this.last = seen;
    this.showCount(answer.unread);
    for (const [id, badge] of Object.entries(answer.badges || {})) {
      const shown = document.querySelector(`.badge[data-version="${id}"]`);
      if (shown && badge.state !== "pending" && shown.dataset.state !== badge.state) {
        replaceWith(shown, badge.html);
      }
    }
    const use = document.getElementById("space-use");
    if (use && answer.space_use) replaceWith(use, answer.space_use);
    return changed;
  }

  showCount(unread) {
    this.count.textContent = String(unread);
    this.count.hidden = unread === 0;
    this.count.setAttribute("aria-label", this.count.dataset.label.replace("{n}", unread));
    this.count.closest("a").classList.toggle("has-unread", unread > 0);
    document.querySelector(".menu-button")?.classList.toggle("has-unread", unread > 0);
  }
}

function replaceWith(element, html) {
  const holder = document.createElement("template");
  holder.innerHTML = html;
  element.replaceWith(holder.content);
}

document.addEventListener("DOMContentLoaded", () => {
  const count = document.querySelector(".notices-link .count");
  if (count) window.gshareLive = new Live(count);
});

/* G-Share people and department picker: a text box with suggestions (the ARIA 1.2 combobox
   pattern). Typing asks the server for matching people and departments; arrow keys move in the
   list, Enter or a tap chooses, Escape closes. The chosen one's reference goes in a hidden
   field; without scripts, or when nothing is chosen, the server reads the typed name itself. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll(".picker[data-suggest]")) new Picker(box);
});

class Picker {
  constructor(box) {
    this.box = box;
    this.input = box.querySelector('[role="combobox"]');
    this.hidden = box.querySelector('input[type="hidden"]');
    this.list = box.querySelector('[role="listbox"]');
    this.live = box.querySelector("[aria-live]");
    this.items = [];
    this.active = -1;
    this.asked = 0;
    this.input.addEventListener("input", () => this.typed());
    this.input.addEventListener("keydown", (event) => this.key(event));
    this.input.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    this.list.addEventListener("mousedown", (event) => event.preventDefault());
    this.list.addEventListener("click", (event) => {
      const option = event.target.closest('[role="option"][data-index]');
      if (option) this.choose(Number(option.dataset.index));
    });
  }

  typed() {
    this.hidden.value = "";
    const text = this.input.value.trim();
    clearTimeout(this.timer);
    if (!text) return this.close();
    this.timer = setTimeout(() => this.ask(text), 150);
  }

  async ask(text) {
    const number = ++this.asked;
    const url = `${this.box.dataset.suggest}?q=${encodeURIComponent(text)}`;
    let found;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) return;
      found = (await response.json()).suggestions;
    } catch {
      return;
    }
    if (number === this.asked) this.show(found);
  }

  show(found) {
    this.items = found;
    this.active = -1;
    this.list.replaceChildren();
    found.forEach((item, index) => {
      const option = document.createElement("li");
      option.id = `${this.list.id}-${index}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.index = String(index);
      option.className = `suggestion kind-${item.kind}`;
      const label = document.createElement("span");
      label.className = "label";
      label.textContent = item.label;
      option.append(label);
      const detail = document.createElement("span");
      detail.className = "detail muted";
      detail.textContent = item.kind === "department" ? this.box.dataset.everyone : item.detail;
      option.append(" ", detail);
      this.list.append(option);
    });
    if (!found.length) {
      const none = document.createElement("li");
      none.className = "muted none";
      none.setAttribute("role", "option");
      none.setAttribute("aria-disabled", "true");
      none.setAttribute("aria-selected", "false");
      none.textContent = this.box.dataset.none;
      this.list.append(none);
    }
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.input.removeAttribute("aria-activedescendant");
    if (this.live) this.live.textContent = this.live.dataset.count.replace("{n}", found.length);
  }

  key(event) {
    const open = !this.list.hidden && this.items.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!open) return;
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.highlight((this.active + step + this.items.length) % this.items.length);
    } else if (event.key === "Enter" && open && this.active >= 0) {
      event.preventDefault();
      this.choose(this.active);
    } else if (event.key === "Escape" && !this.list.hidden) {
      event.preventDefault();
      this.close();
    }
  }

  highlight(index) {
    this.active = index;
    for (const option of this.list.querySelectorAll('[role="option"]')) {
      const on = Number(option.dataset.index) === index;
      option.setAttribute("aria-selected", String(on));
      option.classList.toggle("active", on);
      if (on) {
        this.input.setAttribute("aria-activedescendant", option.id);
        option.scrollIntoView({ block: "nearest" });
      }
    }
  }

  choose(index) {
    const item = this.items[index];
    if (!item) return;
    this.input.value = item.label;
    this.hidden.value = item.ref;
    this.close();
  }

  close() {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.active = -1;
  }
}

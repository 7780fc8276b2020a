/* G-Share public links: a copy button beside each link's address. It uses the Clipboard API
   where the browser allows it, and otherwise selects the address for the person to copy. */
"use strict";

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button.copy[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  const state = button.parentElement.querySelector(".copy-state");
  try {
    await navigator.clipboard.writeText(field.value);
    state.textContent = button.dataset.copied;
  } catch {
    field.focus();
    field.select();
    state.textContent = button.dataset.select;
  }
});

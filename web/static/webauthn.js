/* G-Share security keys and passkeys (WebAuthn): asks the browser to make a key
   (form[data-webauthn=create]) or to sign with one (form[data-webauthn=get]), then posts the
   key's answer to the server in the form's hidden "credential" field. The server made the
   options and checks the answer (gshare/accounts/security_keys.py). Loaded only on the pages
   that need it. */
"use strict";

(() => {
  const fromB64url = (text) => {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
  };
  const toB64url = (buffer) => {
    let text = "";
    for (const byte of new Uint8Array(buffer)) text += String.fromCharCode(byte);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  const withIds = (list) => (list || []).map((item) => ({ ...item, id: fromB64url(item.id) }));

  function creationOptions(json) {
    return {
      ...json,
      challenge: fromB64url(json.challenge),
      user: { ...json.user, id: fromB64url(json.user.id) },
      excludeCredentials: withIds(json.excludeCredentials),
    };
  }

  function requestOptions(json) {
    return { ...json, challenge: fromB64url(json.challenge), allowCredentials: withIds(json.allowCredentials) };
  }

  function answer(credential) {
    const r = credential.response;
    const response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      if (r.getTransports) response.transports = r.getTransports();
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      if (r.userHandle) response.userHandle = toB64url(r.userHandle);
    }
    return {
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      response,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
    };
  }

  async function run(form, button, error) {
    const csrf = document.querySelector('meta[name="csrf-token"]').content;
    const reply = await fetch(form.dataset.options, {
      method: "POST",
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!reply.ok) throw new Error("options " + reply.status);
    const options = await reply.json();
    const credential =
      form.dataset.webauthn === "create"
        ? await navigator.credentials.create({ publicKey: creationOptions(options) })
        : await navigator.credentials.get({ publicKey: requestOptions(options) });
    form.elements.credential.value = JSON.stringify(answer(credential));
    form.submit();
  }

  function setUp(form) {
    const button = form.querySelector("[data-webauthn-start]");
    const error = form.querySelector("[data-webauthn-error]");
    const show = (text) => {
      error.textContent = text;
      error.hidden = false;
    };
    if (!window.PublicKeyCredential || !navigator.credentials) {
      button.disabled = true;
      show(form.dataset.unsupported);
      return;
    }
    button.addEventListener("click", () => {
      button.disabled = true;
      error.hidden = true;
      run(form, button, error).catch(() => {
        button.disabled = false;
        show(form.dataset.failed);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const form of document.querySelectorAll("form[data-webauthn]")) setUp(form);
  });
})();

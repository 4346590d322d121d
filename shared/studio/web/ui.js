// Small DOM helpers shared by the screens: elements, errors in Azure's words, cancellable
// long actions, and a photo picker that takes a drop, a paste, a file or a URL.
import { isCancel } from "./api.js";

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

let uniqueId = 0;
export function nextId(prefix) {
  uniqueId += 1;
  return `${prefix}-${uniqueId}`;
}

// A labelled form control: field("Name", el("input", {...})) -> a wrapper with <label for>.
export function field(label, control) {
  if (!control.id) control.id = nextId("field");
  return el("div", { class: "field" }, el("label", { for: control.id, text: label }), control);
}

export function select(options, selected) {
  return el("select", {}, options.map((value) => el("option", { value, selected: value === selected, text: value })));
}

// Where a screen reports: a live region showing progress, results and Azure's errors.
export function statusLine() {
  return el("p", { class: "status", role: "status", "aria-live": "polite" });
}

export function showError(target, error) {
  target.replaceChildren();
  if (isCancel(error)) {
    target.textContent = "Cancelled.";
    target.className = "status";
    return;
  }
  target.className = "status error";
  const code = error.code ? `${error.code}: ` : "";
  target.append(el("strong", { text: `${code}${error.message}` }));
  if (error.advice) target.append(el("span", { class: "advice", text: ` ${error.advice}` }));
}

export function showInfo(target, text) {
  target.className = "status";
  target.textContent = text;
}

// Run a long action: the button is disabled, a Cancel button appears next to it and aborts
// the signal handed to work(signal); errors land in the status line.
export async function runTask(button, status, work) {
  const controller = new AbortController();
  const cancel = el("button", { type: "button", class: "cancel", text: "Cancel", onclick: () => controller.abort() });
  button.disabled = true;
  button.after(cancel);
  try {
    return await work(controller.signal);
  } catch (error) {
    showError(status, error);
    return undefined;
  } finally {
    button.disabled = false;
    cancel.remove();
  }
}

// A photo chooser: pick a file (several with multiple), drop files on it, paste an image, or
// type a URL. onPick receives [{name, blob}] or [{name, url}].
export function photoPicker(label, onPick, { multiple = false, url = true } = {}) {
  const input = el("input", { type: "file", accept: "image/*", multiple });
  const zone = el("div", { class: "drop", tabindex: "0", role: "group", "aria-label": `${label}: drop or paste a photo here` },
    el("p", { text: multiple ? "Drop photos here, paste one, or choose files." : "Drop a photo here, paste one, or choose a file." }),
    field(label, input));
  const take = (files) => {
    const photos = [...files].filter((file) => file.type.startsWith("image/")).map((file) => ({ name: file.name || "pasted image", blob: file }));
    if (photos.length) onPick(multiple ? photos : photos.slice(0, 1));
  };
  input.addEventListener("change", () => take(input.files));
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    take(event.dataTransfer.files);
  });
  zone.addEventListener("paste", (event) => take([...event.clipboardData.items].map((item) => item.getAsFile()).filter(Boolean)));
  if (url) {
    const address = el("input", { type: "url", placeholder: "https://example.org/photo.jpg" });
    const use = el("button", { type: "button", text: "Use URL", onclick: () => address.value && onPick([{ name: address.value, url: address.value }]) });
    zone.append(el("div", { class: "row" }, field("Or an image URL", address), use));
  }
  zone.input = input;
  return zone;
}

// The request body of a photo: bytes, or Azure's {"url"} JSON.
export function photoBody(photo) {
  return photo.url ? { json: { url: photo.url } } : { body: photo.blob, contentType: "application/octet-stream" };
}

export function table(columns, rows, caption) {
  return el("table", {},
    caption ? el("caption", { text: caption }) : null,
    el("thead", {}, el("tr", {}, columns.map((column) => el("th", { scope: "col", text: column.label })))),
    el("tbody", {}, rows.map((row) => el("tr", {}, columns.map((column) => {
      const value = column.value(row);
      return el("td", {}, value instanceof Node ? value : value === null || value === undefined ? "-" : String(value));
    })))));
}

export function when(date) {
  return date ? new Date(date).toLocaleString() : "-";
}

// Elements only an admin may use carry data-write (write controls) or data-admin (screens);
// for any other role they are removed, not just hidden.
export function adminOnly(node, role) {
  if (role !== "admin") node.querySelectorAll("[data-write], [data-admin]").forEach((item) => item.remove());
  return node;
}

// The one way the console talks to the service: same origin, the subscription key from this
// tab's sessionStorage as a header (never in a URL), Azure's error envelope turned into an
// ApiError carrying Azure's code and message plus what to do about it.

const KEY = "faceStudioKey";

export function savedKey() {
  return sessionStorage.getItem(KEY) || "";
}

export function saveKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

// What to do, per Azure error code (the message itself is always Azure's).
const ADVICE = {
  "401": "Check the subscription key, then sign in again.",
  PermissionDenied: "This key may not do that: sign in with an admin key.",
  InvalidImage: "Use a clear photo with exactly the faces you mean (JPEG, PNG, GIF or BMP).",
  InvalidImageSize: "Use a photo between 1 KB and 6 MB, at least 36 x 36 pixels.",
  InvalidURL: "Use a public http(s) address of an image.",
  FaceNotFound: "faceIds expire: detect the photo again.",
  PersonNotFound: "The person was deleted or never existed here; refresh the list.",
  QuotaExceeded: "A limit of this tier was reached: delete something first.",
  ConcurrentOperationConflict: "Something else is changing this right now: try again in a moment.",
  BadArgument: "Check the values entered.",
  "429": "Too many requests: wait a moment and try again.",
  RateLimitExceeded: "Too many requests: wait a moment and try again.",
  ServiceUnavailable: "Storage is not answering: try again shortly.",
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }

  get advice() {
    if (ADVICE[this.code]) return ADVICE[this.code];
    if (/NotFound$/.test(this.code)) return "It no longer exists: refresh the list.";
    if (/NotTrained$|TrainingNotFinished$/.test(this.code)) return "Train it, wait until training ends, then retry.";
    return this.status >= 500 ? "The service failed: try again, and tell its operator if it persists." : "";
  }
}

export function isCancel(error) {
  return error && error.name === "AbortError";
}

// request("POST", "/face/v1.2/detect?...", {body: blob}) or {json: {...}}; resolves to the
// parsed JSON (null when empty), or the Response when raw is set.
export async function request(method, path, { json, body, contentType, signal, raw, headers } = {}) {
  const sent = { ...(headers || {}) };
  const key = savedKey();
  if (key) sent["Ocp-Apim-Subscription-Key"] = key;
  let payload = body;
  if (json !== undefined) {
    payload = JSON.stringify(json);
    sent["Content-Type"] = "application/json";
  } else if (body !== undefined && !(body instanceof FormData)) {
    sent["Content-Type"] = contentType || "application/octet-stream";
  }  // a FormData body gets its multipart boundary from the browser
  const response = await fetch(path, { method, headers: sent, body: payload, signal, cache: "no-store",
    credentials: "same-origin", referrerPolicy: "no-referrer" });
  if (!response.ok) {
    let code = String(response.status), message = response.statusText || "Request failed";
    try {
      const envelope = await response.json();
      if (envelope && envelope.error) ({ code, message } = envelope.error);
    } catch (_) { /* not an envelope */ }
    throw new ApiError(response.status, code, message);
  }
  if (raw) return response;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

// Resolves after ms, or rejects at once when the signal aborts (for cancellable polling).
export function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) return reject(new DOMException("Cancelled", "AbortError"));
    const timer = setTimeout(resolve, ms);
    if (signal) signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(new DOMException("Cancelled", "AbortError"));
    }, { once: true });
  });
}

import { MAX_NAME_LENGTH } from "../../../protocol/limits.js";

const NAME_KEY = "pixel-playground.name";

/** The display name kept in localStorage; a new visitor gets a random guest name, saved at once. */
export function loadName(): string {
  try {
    const saved = localStorage.getItem(NAME_KEY);
    if (saved !== null && saved.trim() !== "") return saved;
    const name = `guest-${Math.floor(1000 + Math.random() * 9000)}`;
    localStorage.setItem(NAME_KEY, name);
    return name;
  } catch {
    // Storage can be disabled (private modes); the name then lasts for this page only.
    return `guest-${Math.floor(1000 + Math.random() * 9000)}`;
  }
}

/** Saves the display name. */
export function saveName(name: string): void {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    // See loadName.
  }
}

/** Trims a typed name, drops control characters and cuts it to the gateway's limit. */
export function cleanName(raw: string): string {
  // eslint-disable-next-line no-control-regex
  return [...raw.replace(/[\u0000-\u001f\u007f]/g, "").trim()].slice(0, MAX_NAME_LENGTH).join("");
}

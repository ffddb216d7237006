import { ZOOM_STEP } from "./viewport.js";

/** How far an arrow key pans, in screen pixels (four times that with Shift). */
export const ARROW_PAN_PX = 80;

/** What a primary press does: paint (brush), move the view (hand), or show who placed a pixel (inspect; a drag still moves the view). */
export type CanvasMode = "brush" | "hand" | "inspect";

/** What a key asks the canvas view to do. */
export type ShortcutAction =
  | { kind: "zoom"; factor: number }
  | { kind: "pan"; dx: number; dy: number }
  | { kind: "fit" }
  | { kind: "mode"; mode: CanvasMode };

/** The parts of a keydown the shortcuts look at. */
export interface KeyLike {
  key: string;
  shiftKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
}

/**
 * The canvas shortcut for a key, if any: + and - zoom around the screen centre, 0 fits the whole
 * canvas, the arrows pan (further with Shift), H picks the hand, B the brush and I the inspector. Keys with Ctrl,
 * Meta or Alt stay the browser's (Ctrl + is the page zoom). Space-drag is handled by the view itself.
 */
export function shortcutFor(e: KeyLike): ShortcutAction | undefined {
  if (e.ctrlKey || e.metaKey || e.altKey) return undefined;
  const step = e.shiftKey ? ARROW_PAN_PX * 4 : ARROW_PAN_PX;
  switch (e.key) {
    case "+":
    case "=":
      return { kind: "zoom", factor: ZOOM_STEP };
    case "-":
    case "_":
      return { kind: "zoom", factor: 1 / ZOOM_STEP };
    case "0":
      return { kind: "fit" };
    // An arrow shows more of the canvas on its side: the canvas moves the other way.
    case "ArrowLeft":
      return { kind: "pan", dx: step, dy: 0 };
    case "ArrowRight":
      return { kind: "pan", dx: -step, dy: 0 };
    case "ArrowUp":
      return { kind: "pan", dx: 0, dy: step };
    case "ArrowDown":
      return { kind: "pan", dx: 0, dy: -step };
    case "h":
    case "H":
      return { kind: "mode", mode: "hand" };
    case "b":
    case "B":
      return { kind: "mode", mode: "brush" };
    case "i":
    case "I":
      return { kind: "mode", mode: "inspect" };
    default:
      return undefined;
  }
}

/** Whether a keydown is the undo shortcut: Ctrl+Z, or Cmd+Z on a Mac (with Shift it is redo, which is not offered). */
export function isUndoKey(e: KeyLike): boolean {
  return (e.key === "z" || e.key === "Z") && (e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey;
}

/** Whether keys typed into `target` belong to it (text fields), not to the canvas shortcuts. */
export function isTextEntry(target: EventTarget | null): boolean {
  if (typeof HTMLElement === "undefined" || !(target instanceof HTMLElement)) return false;
  return target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement || target instanceof HTMLInputElement;
}

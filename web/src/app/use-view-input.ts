import type { RefObject } from "preact";
import { useEffect } from "preact/hooks";
import { PINCH_WHEEL_ZOOM_PER_PX, WHEEL_ZOOM_PER_PX } from "./view-constants.js";
import type { ViewController } from "./view-controller.js";
import { isTextEntry, shortcutFor, type CanvasMode } from "./view-shortcuts.js";

/** Wheel delta in pixels, whatever unit the browser reported it in. */
function wheelPixels(e: WheelEvent, pageHeight: number): number {
  if (e.deltaMode === WheelEvent.DOM_DELTA_LINE) return e.deltaY * 16;
  if (e.deltaMode === WheelEvent.DOM_DELTA_PAGE) return e.deltaY * pageHeight;
  return e.deltaY;
}

/** Wheel and trackpad-pinch zoom towards the cursor; a non-passive listener keeps the page from scrolling. */
export function useWheelZoom(screenRef: RefObject<HTMLCanvasElement>, controller: ViewController): void {
  useEffect(() => {
    const el = screenRef.current;
    if (!el) return;
    const onWheel = (e: WheelEvent): void => {
      e.preventDefault();
      const r = el.getBoundingClientRect();
      const rate = e.ctrlKey ? PINCH_WHEEL_ZOOM_PER_PX : WHEEL_ZOOM_PER_PX;
      controller.zoom(Math.exp(-wheelPixels(e, r.height) * rate), { x: e.clientX - r.left, y: e.clientY - r.top });
    };
    el.addEventListener("wheel", onWheel, { passive: false });
    return () => el.removeEventListener("wheel", onWheel);
  }, [screenRef, controller]);
}

/** The view's keyboard shortcuts (see shortcutFor), and Space held for a temporary hand. */
export function useViewKeys(controller: ViewController, setMode: (mode: CanvasMode) => void, setSpaceHeld: (held: boolean) => void): void {
  useEffect(() => {
    const onKeyDown = (e: KeyboardEvent): void => {
      if (isTextEntry(e.target)) return;
      if (e.key === " " && !e.ctrlKey && !e.metaKey && !e.altKey) {
        // Also keeps a focused button from being pressed by the space bar.
        e.preventDefault();
        setSpaceHeld(true);
        return;
      }
      const action = shortcutFor(e);
      if (!action) return;
      e.preventDefault();
      switch (action.kind) {
        case "zoom":
          controller.zoom(action.factor);
          return;
        case "pan":
          controller.pan(action.dx, action.dy);
          return;
        case "fit":
          controller.fit();
          return;
        case "mode":
          setMode(action.mode);
          return;
        default:
          action satisfies never;
      }
    };
    const onKeyUp = (e: KeyboardEvent): void => {
      if (e.key !== " ") return;
      if (!isTextEntry(e.target)) e.preventDefault();
      setSpaceHeld(false);
    };
    const onBlur = (): void => setSpaceHeld(false);
    window.addEventListener("keydown", onKeyDown);
    window.addEventListener("keyup", onKeyUp);
    window.addEventListener("blur", onBlur);
    return () => {
      window.removeEventListener("keydown", onKeyDown);
      window.removeEventListener("keyup", onKeyUp);
      window.removeEventListener("blur", onBlur);
    };
  }, [controller, setMode, setSpaceHeld]);
}

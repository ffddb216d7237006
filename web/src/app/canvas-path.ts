/** Canvas names, as the service allows them (CANVAS_ID_PATTERN in services/shared/config.ts). */
const CANVAS_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** Where a canvas is opened: `/c/<name>`. */
const CANVAS_PATH = /^\/c\/([^/]+)\/?$/;

/**
 * The canvas a page address names: `/c/<name>`, else the older `?canvas=<name>`, else "" (the
 * service's default canvas). A name the service could never have is returned as it is, so the
 * gateway answers NOT_FOUND and the page says so, rather than silently showing another canvas.
 */
export function canvasFromLocation(pathname: string, search: string): string {
  const match = CANVAS_PATH.exec(pathname);
  if (match) {
    try {
      return decodeURIComponent(match[1]!);
    } catch {
      return match[1]!;
    }
  }
  return new URLSearchParams(search).get("canvas") ?? "";
}

/** The page path that opens a canvas; the default canvas is the site's root. */
export function canvasPath(name: string): string {
  return name === "" || name === "default" ? "/" : `/c/${encodeURIComponent(name)}`;
}

/** Whether a name could be a canvas (for links built from the service's list). */
export function isCanvasName(name: string): boolean {
  return CANVAS_NAME.test(name);
}

/** One canvas as ListCanvases lists it, with the fields the picker shows. */
export interface CanvasListEntry {
  name: string;
  width: number;
  height: number;
}

/** Where the canvas service's Connect API answers ListCanvases (JSON over HTTP POST). */
export const LIST_CANVASES_PATH = "/api/pixel.v1.CanvasService/ListCanvases";

/**
 * The entries of a ListCanvases JSON response (proto3 JSON: absent numbers are 0); anything not
 * shaped like a canvas is left out, so a newer service cannot break the picker.
 */
export function parseCanvasList(body: unknown): CanvasListEntry[] {
  const canvases = (body as { canvases?: unknown } | null)?.canvases;
  if (!Array.isArray(canvases)) return [];
  return canvases.flatMap((c: unknown) => {
    const entry = c as { name?: unknown; width?: unknown; height?: unknown };
    if (typeof entry.name !== "string") return [];
    return [{ name: entry.name, width: Number(entry.width ?? 0), height: Number(entry.height ?? 0) }];
  });
}

/** Fetches the canvas list; resolves [] when the service cannot be reached (the picker then hides). */
export async function fetchCanvasList(): Promise<CanvasListEntry[]> {
  try {
    const res = await fetch(LIST_CANVASES_PATH, { method: "POST", headers: { "content-type": "application/json" }, body: "{}", credentials: "same-origin" });
    return res.ok ? parseCanvasList(await res.json()) : [];
  } catch {
    return [];
  }
}

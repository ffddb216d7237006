import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { CanvasClient } from "../protocol/canvas-client.js";
import type { ConnectionState } from "../protocol/canvas-client-types.js";
import { browserSocketFactory, gatewayUrl } from "./browser-socket.js";
import { canvasFromLocation } from "./canvas-path.js";
import { CanvasPicker } from "./CanvasPicker.js";
import { ColorPicker, PRESET_COLORS } from "./ColorPicker.js";
import { CooldownIndicator } from "./CooldownIndicator.js";
import { connectionLostText, errorText, refusalText, undoFailedText, undoneText } from "./messages.js";
import { loadName, saveName } from "./name-storage.js";
import { NoticeList } from "./NoticeList.js";
import { NoticeStore, type Notice } from "./notice-store.js";
import { PeoplePanel } from "./PeoplePanel.js";
import { PixelCanvas } from "./PixelCanvas.js";
import { StatusBadge } from "./StatusBadge.js";
import { StrokeSender } from "./stroke-sender.js";
import { historyClient } from "../protocol/history-client.js";
import { TimelapsePlayer } from "../timelapse/player.js";
import { TimelapseBar } from "./TimelapseBar.js";
import { isTextEntry, isUndoKey } from "./view-shortcuts.js";

/** The whole page: one CanvasClient for the page's lifetime, and the panels around the canvas. */
export function App() {
  const [name, setName] = useState(loadName);
  const [color, setColor] = useState<number>(PRESET_COLORS[4]);
  const [state, setState] = useState<ConnectionState>("idle");
  const [presence, setPresence] = useState<{ online: number; names: string[] }>({ online: 0, names: [] });
  const [notices, setNotices] = useState<readonly Notice[]>([]);
  const [rttMs, setRttMs] = useState<number | undefined>(undefined);
  const [timelapse, setTimelapse] = useState<TimelapsePlayer | null>(null);

  const history = useMemo(() => historyClient(`${location.origin}/api`), []);
  const { client, sender, store, canvasId } = useMemo(() => {
    const store = new NoticeStore(setNotices);
    const canvasId = canvasFromLocation(location.pathname, location.search);
    const client = new CanvasClient({ url: gatewayUrl(location), socketFactory: browserSocketFactory, canvasId, name });
    const sender = new StrokeSender(client, (refusal) => store.push("error", refusalText(refusal)));
    return { client, sender, store, canvasId };
    // One client per page: the name is sent later with SetName, not by recreating the client.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const offs = [
      client.on("state", (e) => {
        setState(e.state);
        if (e.state !== "live") sender.cancel();
      }),
      // While not live the gateway may report an emptied room as it shuts down; keep the last real list.
      client.on("presence", (p) => {
        if (client.state === "live") setPresence(p);
      }),
      client.on("error", (e) => store.push("error", errorText(e.code, e.message, e.pixels))),
      client.on("rollback", (e) => {
        if (e.reason === "connection-lost") store.push("info", connectionLostText(e.pixels));
      }),
      client.on("pong", (e) => setRttMs(Math.round(e.rttMs))),
    ];
    // A session (the HttpOnly cookie) before the first WebSocket, which carries it: the page usually
    // brought one; this renews an old one, and gets one where the page did not (vite dev). Without
    // one (the address is over its cap) the canvas still shows, and placing reports why not.
    let disposed = false;
    void fetch("/session", { method: "POST", credentials: "same-origin" })
      .catch(() => undefined)
      .finally(() => {
        if (!disposed) client.start();
      });
    return () => {
      disposed = true;
      for (const off of offs) off();
      client.close();
    };
  }, [client, sender, store]);

  const undo = (): void => {
    history.undoPlacement({ canvasId: client.canvasName }).then(
      (r) => store.push("info", undoneText(r.pixelsRestored, r.pixelsSkipped)),
      (err: unknown) => store.push("error", undoFailedText(err)),
    );
  };
  const undoRef = useRef(undo);
  undoRef.current = undo;

  // Ctrl+Z / Cmd+Z undoes the last placement, except while typing.
  useEffect(() => {
    const onKeyDown = (e: KeyboardEvent): void => {
      if (!isUndoKey(e) || isTextEntry(e.target)) return;
      e.preventDefault();
      undoRef.current();
    };
    window.addEventListener("keydown", onKeyDown);
    return () => window.removeEventListener("keydown", onKeyDown);
  }, []);

  const toggleTimelapse = (): void => {
    // The effect below closes the player that is replaced.
    if (timelapse) {
      setTimelapse(null);
    } else {
      setTimelapse(new TimelapsePlayer(history, client.canvasName));
    }
  };
  useEffect(() => () => timelapse?.close(), [timelapse]);

  const rename = (next: string): void => {
    setName(next);
    saveName(next);
    client.setName(next);
  };

  return (
    <div class="app" data-state={state}>
      <header class="topbar">
        <h1>
          <span class="logo" aria-hidden="true">
            <i /> <i /> <i /> <i />
          </span>
          Pixel Playground
        </h1>
        <CanvasPicker current={canvasId} />
        <CooldownIndicator client={client} />
        <StatusBadge state={state} rttMs={rttMs} />
      </header>
      <main class="layout">
        <section class="board" aria-label="Canvas">
          <PixelCanvas client={client} sender={sender} color={color} state={state} onRefused={() => store.push("error", refusalText({ ok: false, reason: "not-live", state: client.state }))}
            historyService={history}
            timelapse={timelapse}
            onUndo={undo}
            onTimelapse={toggleTimelapse}
          />
          {timelapse && <TimelapseBar player={timelapse} onClose={toggleTimelapse} />}
          <p class="hint">
            Click or drag to paint; everyone sees it live. Zoom: wheel, pinch, <kbd>+</kbd> <kbd>-</kbd>. Pan: <kbd>Space</kbd>-drag, arrows, <kbd>H</kbd> hand
            mode (<kbd>B</kbd> back to the brush). <kbd>0</kbd> shows it all. Hover a pixel to see who placed it; <kbd>I</kbd> inspects its history; <kbd>Ctrl</kbd>+<kbd>Z</kbd> undoes your last placement.
          </p>
        </section>
        <aside class="side">
          <ColorPicker color={color} onChange={setColor} />
          <PeoplePanel name={name} onRename={rename} online={presence.online} names={presence.names} stale={state !== "live"} />
        </aside>
      </main>
      <NoticeList notices={notices} onDismiss={(id) => store.dismiss(id)} />
    </div>
  );
}

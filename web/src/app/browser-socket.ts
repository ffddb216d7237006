import type { SocketFactory } from "../protocol/socket.js";

/** A SocketFactory over the browser's WebSocket, receiving binary frames as ArrayBuffers. */
export const browserSocketFactory: SocketFactory = (url, handlers) => {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  let closed = false;
  ws.onopen = () => handlers.onOpen();
  ws.onmessage = (event: MessageEvent<unknown>) => {
    const data = event.data;
    if (typeof data === "string") handlers.onMessage(data);
    else if (data instanceof ArrayBuffer) handlers.onMessage(new Uint8Array(data));
  };
  ws.onclose = (event) => {
    if (closed) return;
    closed = true;
    handlers.onClose(event.code, event.reason);
  };
  return {
    send(data) {
      if (ws.readyState === WebSocket.OPEN) ws.send(data);
    },
    close(code, reason) {
      ws.close(code, reason);
    },
  };
};

/** The gateway URL on the page's own host: ws(s)://<host>/ws. */
export function gatewayUrl(location: Location): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
}

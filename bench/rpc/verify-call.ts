import { connect, constants } from "node:http2";
import { wireRequest, type RpcProtocol } from "./rpc-wire.js";

/**
 * Sends one request exactly as h2load will and checks the answer, since h2load only
 * counts HTTP statuses: gRPC needs grpc-status 0 in the trailers, gRPC-Web in the
 * trailer frame of the body, Connect an HTTP 200. Resolves to a failure message or undefined.
 */
export async function verifyCall(baseUrl: string, path: string, protocol: RpcProtocol, message: Uint8Array): Promise<string | undefined> {
  const { body, headers } = wireRequest(protocol, message);
  const session = connect(baseUrl);
  try {
    return await new Promise<string | undefined>((resolve, reject) => {
      session.once("error", reject);
      const req = session.request({ [constants.HTTP2_HEADER_METHOD]: "POST", [constants.HTTP2_HEADER_PATH]: path, ...headers });
      let status = 0;
      let grpcStatus: string | undefined;
      const chunks: Buffer[] = [];
      req.on("response", (h) => {
        status = Number(h[constants.HTTP2_HEADER_STATUS]);
        if (h["grpc-status"] !== undefined) grpcStatus = String(h["grpc-status"]);
      });
      req.on("trailers", (t) => {
        if (t["grpc-status"] !== undefined) grpcStatus = String(t["grpc-status"]);
      });
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("error", reject);
      req.on("end", () => {
        const data = Buffer.concat(chunks);
        if (status !== 200) return resolve(`HTTP ${status}: ${data.toString("utf8").slice(0, 200)}`);
        if (protocol === "grpc" && grpcStatus !== "0") return resolve(`grpc-status ${grpcStatus ?? "missing"}`);
        if (protocol === "grpc-web") {
          const m = /grpc-status:\s*(\d+)/.exec(data.toString("latin1"));
          if (m?.[1] !== "0") return resolve(`grpc-web trailer grpc-status ${m?.[1] ?? "missing"}`);
        }
        resolve(undefined);
      });
      req.end(body);
    });
  } finally {
    session.close();
  }
}

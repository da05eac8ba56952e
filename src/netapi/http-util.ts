/** Small node:http helpers of the netapi: JSON answers, bounded body reading, the client address. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { NetapiError, errorMessage } from "../core/index.js";

/** Answers with a JSON body. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Answers a refused request: `{"error": message}` with its status and headers. */
export function sendError(res: ServerResponse, err: unknown): void {
  if (err instanceof NetapiError) sendJson(res, err.status, { error: err.message }, err.headers);
  else sendJson(res, 500, { error: `internal error: ${errorMessage(err)}` });
}

/**
 * Reads the body, at most `max` bytes. A declared or actual size over the limit throws a 413
 * NetapiError at once; the rest is not read, and the connection is closed after the answer.
 */
export function readBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<Buffer> {
  const tooLarge = () => {
    res.setHeader("connection", "close");
    res.once("finish", () => req.socket.destroy());
    return new NetapiError(413, `request body is larger than ${max} bytes`);
  };
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > max) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.off("data", onData);
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

/** The client's address as the socket sees it (proxies are not trusted). */
export function clientAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? "unknown";
}

/** The path and query of a request URL. */
export function requestUrl(req: IncomingMessage): URL {
  return new URL(req.url ?? "/", "http://localhost");
}

/**
 * @module proxy/error-response: the JSON body `{ error, code }` every proxy failure answers with. Messages
 * are fixed per error class, so internal URLs and socket errors never reach the client.
 */
import type { ServerResponse } from 'node:http';
import type { KeywayError } from '../errors.js';

/** Answers `err` as JSON, or cuts the response when it has already started (never presents it as whole). */
export function sendError(res: ServerResponse, err: KeywayError, closeConnection: boolean): void {
  if (res.writableEnded || res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: err.message, code: err.code });
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  };
  // A request whose body was not read cannot share its connection with the next request.
  if (closeConnection) headers.connection = 'close';
  res.writeHead(err.statusCode ?? 500, headers);
  res.end(body);
}

/**
 * @module proxy/error-response: the JSON body `{ error, code }` every proxy failure answers with. Messages
 * are fixed per error class, so internal URLs and socket errors never reach the client.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Answers } from './answers.js';
import type { KeywayError } from '../errors.js';

/**
 * Writes a backend's status line and headers, or, when node refuses them (a status outside 100-999, a header value
 * it will not write), answers the gateway's own 502 instead of throwing out of the process. Returns whether the
 * backend's head went out; when it did not, `answer` has been destroyed.
 */
export function writeBackendHead(res: ServerResponse, answer: IncomingMessage, status: number, headers: string[], closeConnection: boolean): boolean {
  try {
    res.writeHead(status, answer.statusMessage, headers);
    return true;
  } catch {
    answer.destroy();
    res.statusMessage = ''; // else node would keep the backend's reason phrase for the 502
    sendError(res, Answers.badAnswer, closeConnection);
    return false;
  }
}

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

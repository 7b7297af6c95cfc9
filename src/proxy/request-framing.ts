/**
 * @module proxy/request-framing: the request framing checks that node:http leaves to the application. llhttp
 * already refuses Content-Length with Transfer-Encoding, differing Content-Lengths, obsolete line folding, control
 * characters and a misplaced `chunked`; it lets through three things a proxy must not forward.
 */
import type { IncomingMessage } from 'node:http';
import { BadRequestError } from '../errors.js';

/** RFC 9112 3.2: more than one Host field line gets 400 (node would keep the first and drop the rest). */
const DUPLICATE_HOST = new BadRequestError('bad request: more than one Host header');
/** RFC 9112 6.1: Transfer-Encoding on HTTP/1.0 means the framing is faulty. */
const HTTP10_TRANSFER_ENCODING = new BadRequestError('bad request: Transfer-Encoding in an HTTP/1.0 request');
/**
 * Only `chunked` is accepted as a transfer coding. llhttp hands `gzip, chunked` over with the bytes still gzipped
 * (forwarding them re-chunked, without the coding, would corrupt the body), and emits the request for `identity` or
 * an unknown coding before failing on its first body byte, so a slow body would reach the backend. 400, as llhttp
 * answers for the codings it refuses up front (RFC 9112 6.1 allows 501; one answer whatever the packet timing).
 */
const UNSUPPORTED_CODING = new BadRequestError('bad request: chunked is the only transfer coding accepted');

/**
 * Why `req` must be refused before it is forwarded, or null for the (common) well-framed request. Allocates
 * nothing on that path.
 */
export function framingError(req: IncomingMessage): BadRequestError | null {
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) {
    if (req.httpVersionMajor === 1 && req.httpVersionMinor === 0) return HTTP10_TRANSFER_ENCODING;
    if (te.trim().toLowerCase() !== 'chunked') return UNSUPPORTED_CODING;
  }
  const raw = req.rawHeaders;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host' && ++hosts > 1) return DUPLICATE_HOST;
  }
  return null;
}

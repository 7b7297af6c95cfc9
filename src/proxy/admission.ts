/**
 * @module proxy/admission: the one decision whether a request, plain or an upgrade, may go further than the gateway.
 * Every check that node:http and llhttp leave to the application is here, so a check added for requests can never
 * be missing for upgrades. What llhttp already refuses (Content-Length with Transfer-Encoding, differing
 * Content-Lengths, obsolete line folding, control characters, a misplaced `chunked`) never reaches this code.
 */
import type { IncomingMessage } from 'node:http';
import { BadRequestError } from '../errors.js';

export interface AdmissionLimits {
  /** Most header fields a request may carry; more gets 431. */
  readonly maxHeaderCount: number;
  /** Largest declared request body (bytes); undefined for none. */
  readonly maxBodyBytes: number | undefined;
}

/** HTTP/0.9 has no headers and no status line: nothing a proxy can frame or answer safely (llhttp accepts it). */
const HTTP09 = new BadRequestError('bad request: HTTP/0.9 is not supported');
const VERSION = new BadRequestError('http version not supported', 505);
/** Absolute-form (`http://host/`), authority-like `//host` and `*` are never forwarded. */
const BAD_TARGET = new BadRequestError('bad request: the request target must be an absolute path');
const TOO_MANY_HEADERS = new BadRequestError('request header fields too large', 431);
/** RFC 9112 3.2: more than one Host field line gets 400 (node would keep the first and drop the rest). */
const DUPLICATE_HOST = new BadRequestError('bad request: more than one Host header');
/** RFC 9112 3.2 / RFC 3986 3.2: Host is `host[:port]`; userinfo, paths, spaces, lists and empty values are refused. */
const BAD_HOST = new BadRequestError('bad request: the Host header must be host[:port]');
/** RFC 9112 6.1: Transfer-Encoding on HTTP/1.0 means the framing is faulty. */
const HTTP10_TRANSFER_ENCODING = new BadRequestError('bad request: Transfer-Encoding in an HTTP/1.0 request');
/**
 * Only `chunked` is accepted as a transfer coding. llhttp hands `gzip, chunked` over with the bytes still gzipped
 * (forwarding them re-chunked, without the coding, would corrupt the body), and emits the request for `identity` or
 * an unknown coding before failing on its first body byte, so a slow body would reach the backend. 400, as llhttp
 * answers for the codings it refuses up front (RFC 9112 6.1 allows 501; one answer whatever the packet timing).
 */
const UNSUPPORTED_CODING = new BadRequestError('bad request: chunked is the only transfer coding accepted');
const TOO_LARGE = new BadRequestError('payload too large', 413);
/**
 * node stops parsing at the end of an upgrade request's head, so a body would reach the tunnel (or the next
 * request) unframed. RFC 6455's handshake is a GET without one.
 */
const UPGRADE_BODY = new BadRequestError('bad request: an upgrade request cannot carry a body');

/**
 * Why `req` must be answered by the gateway itself, or null for the (common) request that may be routed.
 * Allocates nothing on that path.
 */
export function admissionError(req: IncomingMessage, limits: AdmissionLimits, upgrade: boolean): BadRequestError | null {
  if (req.httpVersionMajor !== 1) return req.httpVersionMajor === 0 ? HTTP09 : VERSION;
  if (!isOriginForm(req.url ?? '')) return BAD_TARGET;
  const raw = req.rawHeaders;
  if (raw.length > limits.maxHeaderCount * 2) return TOO_MANY_HEADERS;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length !== 4 || name.toLowerCase() !== 'host') continue;
    if (++hosts > 1) return DUPLICATE_HOST;
    if (!isHostValue(raw[i + 1] as string)) return BAD_HOST;
  }
  const te = req.headers['transfer-encoding'];
  const cl = req.headers['content-length'];
  if (te !== undefined) {
    if (req.httpVersionMinor === 0) return HTTP10_TRANSFER_ENCODING;
    if (te.trim().toLowerCase() !== 'chunked') return UNSUPPORTED_CODING;
  }
  if (upgrade && (te !== undefined || (cl !== undefined && cl !== '0'))) return UPGRADE_BODY;
  if (cl !== undefined && limits.maxBodyBytes !== undefined && Number(cl) > limits.maxBodyBytes) return TOO_LARGE;
  return null;
}

/** `/path`, not absolute-form (`http://host/`), authority-like `//host` or `*`. */
export function isOriginForm(url: string): boolean {
  return url.charCodeAt(0) === 47 /* / */ && url.charCodeAt(1) !== 47;
}

/** Whether `url` is `prefix` or below it (`prefix/...`, `prefix?...`). */
export function isPath(url: string, prefix: string): boolean {
  if (!url.startsWith(prefix)) return false;
  const next = url.charCodeAt(prefix.length);
  return Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */;
}

/**
 * `host[:port]` as RFC 3986 writes it, narrowed to what a real client sends: a name of letters, digits, `-`, `.`,
 * `_` (or an IP literal in brackets), then optionally `:` and 1-5 digits up to 65535. Sub-delimiters such as `,`
 * are valid in a reg-name but no DNS name has them, and a comma list is how two Hosts are smuggled as one.
 */
export function isHostValue(value: string): boolean {
  const n = value.length;
  if (n === 0 || n > 261) return false;
  let i = 0;
  if (value.charCodeAt(0) === 91 /* [ */) {
    const close = value.indexOf(']');
    if (close < 3) return false;
    for (i = 1; i < close; i++) {
      const c = value.charCodeAt(i);
      if (!(isHex(c) || c === 58 /* : */ || c === 46 /* . */)) return false;
    }
    i = close + 1;
  } else {
    for (; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c === 58) break;
      if (!(isAlnum(c) || c === 45 /* - */ || c === 46 /* . */ || c === 95 /* _ */)) return false;
    }
    if (i === 0) return false;
  }
  if (i === n) return true;
  if (value.charCodeAt(i) !== 58 || n - i - 1 < 1 || n - i - 1 > 5) return false;
  let port = 0;
  for (i++; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return false;
    port = port * 10 + (c - 48);
  }
  return port <= 65535;
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/**
 * @module coordinator/fastify/request-body: what body to send upstream for a Fastify request. Two shapes are
 * supported: a body Fastify already parsed (re-serialised: JSON as platformatic does, strings and bytes as they
 * are), and a body nobody read (the raw request stream, piped unchanged). Bytes are replayable on a retry; a
 * stream is replayable only until its first byte is consumed.
 */
import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';

/** The body of an upstream request. `headers` describe it (content-type and friends, lower-case names). */
export type UpstreamBody =
  | { readonly kind: 'none'; readonly headers: Readonly<Record<string, string>> }
  | { readonly kind: 'bytes'; readonly data: Buffer; readonly headers: Readonly<Record<string, string>> }
  | { readonly kind: 'stream'; readonly stream: Readable; readonly headers: Readonly<Record<string, string>> };

const NONE: UpstreamBody = { kind: 'none', headers: {} };

/** Chooses the upstream body of `request` (see the module note). */
export function upstreamBody(request: FastifyRequest): UpstreamBody {
  const body: unknown = request.body;
  const contentType = header(request, 'content-type');
  if (body === undefined || body === null) return unreadRawBody(request) ?? NONE;
  if (isReadable(body)) return streamBody(request, body);
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) {
    return bytes(Buffer.from(body.buffer, body.byteOffset, body.byteLength), contentType ?? 'application/octet-stream');
  }
  if (typeof body === 'string' && !isJson(contentType)) return bytes(Buffer.from(body), contentType ?? 'text/plain; charset=utf-8');
  // A parsed JSON document (or whatever a custom parser built): sent as JSON, under the client's JSON media type.
  return bytes(Buffer.from(JSON.stringify(body)), isJson(contentType) ? (contentType as string) : 'application/json');
}

/** True when a request body exists on the wire and no parser consumed it. */
function unreadRawBody(request: FastifyRequest): UpstreamBody | null {
  const raw = request.raw;
  if (raw === undefined) return null;
  const length = header(request, 'content-length');
  const framed = header(request, 'transfer-encoding') !== undefined || (length !== undefined && length !== '0');
  if (!framed || raw.readableDidRead || raw.readableEnded) return null;
  return streamBody(request, raw);
}

function streamBody(request: FastifyRequest, stream: Readable): UpstreamBody {
  const headers: Record<string, string> = {};
  for (const name of ['content-type', 'content-length', 'content-encoding']) {
    const value = header(request, name);
    if (value !== undefined) headers[name] = value;
  }
  // A parser that handed the raw stream over may have read part of it: its length is no longer known.
  if (stream !== request.raw || stream.readableDidRead) delete headers['content-length'];
  return { kind: 'stream', stream, headers };
}

function bytes(data: Buffer, contentType: string): UpstreamBody {
  return { kind: 'bytes', data, headers: { 'content-type': contentType, 'content-length': String(data.byteLength) } };
}

function header(request: FastifyRequest, name: string): string | undefined {
  // A minimal request (`{ method, url, body }`, as platformatic's proxyRequest accepts) has no headers.
  const value = request.headers?.[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** `application/json`, `application/problem+json`, `text/json`, with or without parameters. */
function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = (contentType.split(';')[0] as string).trim().toLowerCase();
  return type === 'application/json' || type === 'text/json' || type.endsWith('+json');
}

function isReadable(value: unknown): value is Readable {
  if (typeof value !== 'object' || value === null) return false;
  return typeof (value as Readable).pipe === 'function' && typeof (value as Readable).on === 'function';
}

/** @module admin/read-body: a small JSON request body, bounded, parsed into a null-prototype-safe object. */
import type { IncomingMessage } from 'node:http';
import { BadRequestError } from '../errors.js';

const MAX_BODY = 64 * 1024;

/** Reads and parses a JSON object body. Rejects with a 400/413 `BadRequestError`. */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new BadRequestError('request body too large', 413);
    chunks.push(chunk as Buffer);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new BadRequestError('request body must be JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadRequestError('request body must be a JSON object');
  // Copy into a null-prototype object: a "__proto__" key stays plain data.
  return Object.assign(Object.create(null) as Record<string, unknown>, value);
}

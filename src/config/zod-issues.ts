/**
 * @module config/zod-issues: zod's issues -> keyway's `ConfigIssue`s (`{ path, message }`), worded for users:
 * `unknown field`, `required`, `expected object, got array`, `unknown value "x" (expected one of ...)`.
 */
import type { z } from 'zod';
import type { ConfigIssue } from '../errors.js';
import { describeType } from './schema.js';

type ZodIssue = z.core.$ZodIssue;

/** One zod issue as `ConfigIssue`s (an unknown-keys or union issue can make several), its path after `prefix`. */
export function toConfigIssues(issue: ZodIssue, prefix: readonly PropertyKey[]): ConfigIssue[] {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: joinPath([...path, key]), message: 'unknown field' }));
    case 'invalid_type':
      return [{ path: joinPath(path), message: typeMessage(issue.expected, issue.input, path.length === 0) }];
    case 'invalid_value':
      return [{ path: joinPath(path), message: enumMessage(issue.input, issue.values) }];
    case 'invalid_union':
      return unionIssues(issue.errors, issue.input, path);
    default:
      // Every other check in the schemas sets its own message.
      return [{ path: joinPath(path), message: issue.message }];
  }
}

function typeMessage(expected: string, input: unknown, isRoot: boolean): string {
  if (input === undefined && !isRoot) return 'required';
  return `expected ${expected === 'record' ? 'object' : expected}, got ${describeType(input)}`;
}

function enumMessage(input: unknown, values: readonly unknown[]): string {
  const list = values.map(String).join(', ');
  if (typeof input !== 'string') return `expected one of ${list}, got ${describeType(input)}`;
  return `unknown value ${JSON.stringify(input)} (expected one of ${list})`;
}

/**
 * A union fails as a whole. When no branch accepts the input's type, say which types fit; otherwise report the
 * branch that got the type right (e.g. `sticky: { sameSite: 'x' }` reports `sticky.sameSite`).
 */
function unionIssues(branches: readonly ZodIssue[][], input: unknown, path: readonly PropertyKey[]): ConfigIssue[] {
  const isTypeMiss = (b: readonly ZodIssue[]) => b.length === 1 && b[0]?.code === 'invalid_type' && b[0].path.length === 0;
  const matched = branches.filter((b) => !isTypeMiss(b));
  if (matched.length > 0) return matched.flatMap((b) => b.flatMap((issue) => toConfigIssues(issue, path)));
  const expected = branches.map((b) => (b[0]?.code === 'invalid_type' ? b[0].expected : 'value'));
  return [{ path: joinPath(path), message: `expected ${expected.join(' or ')}, got ${describeType(input)}` }];
}

function joinPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

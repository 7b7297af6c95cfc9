/**
 * @module config/load: reads a config file by its extension (JSON, YAML, or a JS module) into plain input for
 * `validateConfig`. Parse errors name the file, line and column, since "invalid JSON" alone sends users hunting.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { YAMLParseError } from 'yaml';
import { ConfigLoadError } from '../errors.js';
import type { GatewayConfig } from './types.js';
import { validateConfig, type ConfigOverrides } from './validate.js';

const JS_EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);
const YAML_EXTENSIONS = new Set(['.yaml', '.yml']);

/**
 * Loads `file` without validating it. `.json` and `.yaml`/`.yml` are parsed; `.js`/`.mjs`/`.cjs` are imported and
 * their default export used (or the module's named exports when there is no default). A default export that is a
 * function is called and awaited, so a config may be computed (secrets fetched, backends discovered).
 *
 * @throws {ConfigLoadError} when the file is missing, unparsable, has an unknown extension, or its module throws.
 */
export async function loadConfigFile(file: string): Promise<unknown> {
  const ext = extname(file).toLowerCase();
  if (JS_EXTENSIONS.has(ext)) return importConfig(file);
  if (ext !== '.json' && !YAML_EXTENSIONS.has(ext)) {
    throw new ConfigLoadError(`${file}: unsupported config extension "${ext}" (expected .json, .yaml, .yml, .js, .mjs or .cjs)`);
  }
  const text = await readText(file);
  // yaml is loaded only for a YAML file: a gateway started from JSON or JS never pays its memory.
  return ext === '.json' ? parseJson(file, text) : parseYaml(file, text, await import('yaml'));
}

/**
 * `loadConfigFile` then `validateConfig`.
 *
 * @throws {ConfigLoadError} when the file cannot be read or parsed.
 * @throws {ConfigError} when its content is invalid.
 * @example
 * const config = await loadConfig('keyway.yaml', { port: 9000 });
 */
export async function loadConfig(file: string, overrides?: ConfigOverrides): Promise<GatewayConfig> {
  return validateConfig(await loadConfigFile(file), overrides);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function readText(file: string): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text.startsWith('\uFEFF') ? text.slice(1) : text; // editors on Windows add a BOM JSON.parse rejects
  } catch (err) {
    throw new ConfigLoadError(`cannot read config ${file}: ${errorText(err)}`, err);
  }
}

async function importConfig(file: string): Promise<unknown> {
  // Checked first so a missing file reads like the JSON case, not like a module-resolution failure.
  let version: string;
  try {
    const st = await stat(file);
    version = `${st.mtimeMs}-${st.size}`;
  } catch (err) {
    throw new ConfigLoadError(`cannot read config ${file}: ${errorText(err)}`, err);
  }
  let mod: Record<string, unknown>;
  try {
    // node caches modules by URL: the file's mtime in the query makes a hot reload see an edited file.
    // (Each distinct version stays cached; reloads are rare, so that is a few kilobytes each.)
    mod = (await import(`${pathToFileURL(resolve(file)).href}?v=${version}`)) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigLoadError(`${file}: cannot load config module: ${errorText(err)}`, err);
  }
  // A plain copy of the namespace: it is an exotic object some consumers would not treat as a record.
  let value: unknown;
  try {
    value = 'default' in mod ? mod.default : { ...mod };
  } catch (err) {
    throw new ConfigLoadError(`${file}: cannot read its exports: ${errorText(err)}`, err);
  }
  if (typeof value === 'function') {
    try {
      return await (value as () => unknown)();
    } catch (err) {
      throw new ConfigLoadError(`${file}: config function failed: ${errorText(err)}`, err);
    }
  }
  // A promise exported as the config (`export default fetchConfig()`) is awaited; its rejection is a load error.
  if (isThenable(value)) {
    try {
      return await value;
    } catch (err) {
      throw new ConfigLoadError(`${file}: config promise rejected: ${errorText(err)}`, err);
    }
  }
  return value;
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const message = errorText(err);
    const offset = jsonErrorOffset(text, message);
    const { line, column } = lineColumn(text, offset);
    throw new ConfigLoadError(`${file}: invalid JSON at line ${line} column ${column}: ${jsonReason(message)}`, err);
  }
}

/** V8 says "at position N" for most errors; Node 20 omits it for "Unexpected token", so scan for it then. */
function jsonErrorOffset(text: string, message: string): number {
  const match = /at position (\d+)/.exec(message);
  if (match?.[1] !== undefined) return Number(match[1]);
  if (message.includes('end of JSON input')) return text.length;
  return scanJson(text);
}

/** Drops V8's position and source excerpt, which the line/column already replace. */
function jsonReason(message: string): string {
  const token = /^(Unexpected token '.*?'), (?:\.\.\.)?"/s.exec(message); // V8 may elide the excerpt's start
  if (token?.[1] !== undefined) return token[1];
  return message.replace(/ in JSON at position \d+.*$/s, '');
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: offset - lineStart + 1 };
}

class ScanStop {
  constructor(readonly offset: number) {}
}

const LITERAL = /true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Offset of the first character a strict JSON reader rejects. Only runs after JSON.parse has failed. */
function scanJson(text: string): number {
  let i = 0;
  const stop = (): never => {
    throw new ScanStop(i);
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text.charAt(i))) i++;
  };
  const expect = (ch: string) => (text.charAt(i) === ch ? i++ : stop());
  const string = () => {
    expect('"');
    for (;;) {
      const ch = text.charAt(i);
      if (ch === '"') return void i++;
      if (ch === '' || ch < ' ') stop();
      i += ch === '\\' ? 2 : 1;
    }
  };
  const list = (close: string, item: () => void) => {
    i++;
    space();
    if (text.charAt(i) === close) return void i++;
    for (;;) {
      item();
      space();
      if (text.charAt(i) === close) return void i++;
      expect(',');
    }
  };
  const value = (): void => {
    space();
    const ch = text.charAt(i);
    if (ch === '{') {
      return list('}', () => {
        space();
        string();
        space();
        expect(':');
        value();
      });
    }
    if (ch === '[') return list(']', value);
    if (ch === '"') return string();
    LITERAL.lastIndex = i;
    if (LITERAL.exec(text) === null) stop();
    i = LITERAL.lastIndex;
  };
  try {
    value();
    space();
    return i;
  } catch (err) {
    if (err instanceof ScanStop) return err.offset;
    return 0; // e.g. a stack overflow on absurd nesting: report the start rather than fail to report at all
  }
}

function parseYaml(file: string, text: string, yaml: typeof import('yaml')): unknown {
  try {
    return yaml.parse(text) as unknown;
  } catch (err) {
    if (!(err instanceof yaml.YAMLParseError)) throw new ConfigLoadError(`${file}: invalid YAML: ${errorText(err)}`, err);
    const pos = (err as YAMLParseError).linePos?.[0];
    const reason = (err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    const where = pos ? ` at line ${pos.line} column ${pos.col}` : '';
    throw new ConfigLoadError(`${file}: invalid YAML${where}: ${reason}`, err);
  }
}

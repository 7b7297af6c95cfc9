/** @module cli/args: argv -> a command and its options, with usage errors as data. */
import { parseArgs } from 'node:util';

export type Command = 'serve' | 'check' | 'demo' | 'help' | 'version';

export interface CliArgs {
  readonly command: Command;
  readonly config: string | undefined;
  readonly port: number | undefined;
  readonly host: string | undefined;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `Usage: keyway <command> [options]

Commands:
  serve --config FILE [--port N] [--host H]   run the gateway
  check --config FILE                         validate a config and print it resolved, secrets masked
  demo [--port N]                             three demo backends behind a gateway (default port 8080)
  help | --help                               this text
  version | --version                         the version

Config files: .json, .yaml/.yml, or .js/.mjs (default export; the only way to pass functions).
Exit codes: 0 ok, 1 runtime failure, 2 invalid usage or config.`;

/** Parses argv (without node and script). Throws UsageError on anything it does not understand. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string', short: 'c' },
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help', config: undefined, port: undefined, host: undefined };
  if (values.version) return { command: 'version', config: undefined, port: undefined, host: undefined };
  const name = positionals[0] ?? 'help';
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  if (!['serve', 'check', 'demo', 'help', 'version'].includes(name)) throw new UsageError(`unknown command "${name}"`);
  const command = name as Command;
  if ((command === 'serve' || command === 'check') && !values.config) throw new UsageError(`${command} needs --config FILE`);
  return { command, config: values.config, port: parsePort(values.port), host: values.host };
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 0 || n > 65535) throw new UsageError(`--port: must be an integer from 0 to 65535, got "${value}"`);
  return n;
}

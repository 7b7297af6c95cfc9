/** @module cli/args: argv -> a command and its options, with usage errors as data. */
import { parseArgs } from 'node:util';

export type Command = 'serve' | 'check' | 'reload' | 'demo' | 'help' | 'version';

export interface CliArgs {
  readonly command: Command;
  readonly config: string | undefined;
  readonly port: number | undefined;
  readonly host: string | undefined;
  /** `serve`: write the process id here; `reload`: signal the process named here. */
  readonly pidFile: string | undefined;
  /** `reload`: signal this process id. */
  readonly pid: number | undefined;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `Usage: keyway <command> [options]

Commands:
  serve --config FILE [--port N] [--host H] [--pid-file F]
                                              run the gateway; SIGHUP re-reads FILE (hot reload)
  check --config FILE                         validate a config and print it resolved, secrets masked
  reload --pid-file F | --pid N               ask a running gateway to re-read its config (sends SIGHUP)
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
        'pid-file': { type: 'string' },
        pid: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const none = { config: undefined, port: undefined, host: undefined, pidFile: undefined, pid: undefined };
  if (values.help) return { command: 'help', ...none };
  if (values.version) return { command: 'version', ...none };
  const name = positionals[0] ?? 'help';
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  if (!['serve', 'check', 'reload', 'demo', 'help', 'version'].includes(name)) throw new UsageError(`unknown command "${name}"`);
  const command = name as Command;
  if ((command === 'serve' || command === 'check') && !values.config) throw new UsageError(`${command} needs --config FILE`);
  if (command === 'reload' && !values['pid-file'] && !values.pid) throw new UsageError('reload needs --pid-file FILE or --pid N');
  const pid = values.pid === undefined ? undefined : Number(values.pid);
  if (pid !== undefined && !(Number.isInteger(pid) && pid > 0)) throw new UsageError(`--pid: must be a positive integer, got "${values.pid}"`);
  return { command, config: values.config, port: parsePort(values.port), host: values.host, pidFile: values['pid-file'], pid };
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 0 || n > 65535) throw new UsageError(`--port: must be an integer from 0 to 65535, got "${value}"`);
  return n;
}

/** @module cli/args: argv -> a command and its options, with usage errors as data. */
import { parseArgs } from 'node:util';

export type Command = 'serve' | 'check' | 'reload' | 'demo' | 'cluster' | 'help' | 'version';

export interface CliArgs {
  readonly command: Command;
  readonly config: string | undefined;
  readonly port: number | undefined;
  readonly host: string | undefined;
  /** `serve`: write the process id here; `reload`: signal the process named here. */
  readonly pidFile: string | undefined;
  /** `reload`: signal this process id. */
  readonly pid: number | undefined;
  /** `cluster`: the app's entry file, and the arguments after `--` for it. */
  readonly script?: string;
  readonly scriptArgs?: readonly string[];
  /** `cluster`: a number or `auto`. */
  readonly workers?: number | 'auto';
  /** `cluster`: how long a draining worker may finish its in-flight work (ms). */
  readonly graceMs?: number;
  /** `cluster`: serve /status and /metrics on this loopback port. */
  readonly statusPort?: number;
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
  cluster APP [--workers N|auto] [--port N] [--host H] [--grace-ms N] [--status-port N] [--pid-file F] [-- ARGS]
                                              run an unchanged app (it calls listen()) on every core; SIGHUP
                                              reloads the workers one at a time, SIGTERM drains them
  cluster reload --pid-file F | --pid N       rolling reload of a running cluster (sends SIGHUP)
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
        workers: { type: 'string', short: 'w' },
        'grace-ms': { type: 'string' },
        'status-port': { type: 'string' },
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
  if (name === 'cluster') return clusterArgs(positionals.slice(1), values, none);
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  if (!['serve', 'check', 'reload', 'demo', 'help', 'version'].includes(name)) throw new UsageError(`unknown command "${name}"`);
  const command = name as Command;
  if ((command === 'serve' || command === 'check') && !values.config) throw new UsageError(`${command} needs --config FILE`);
  if (command === 'reload' && !values['pid-file'] && !values.pid) throw new UsageError('reload needs --pid-file FILE or --pid N');
  const pid = values.pid === undefined ? undefined : Number(values.pid);
  if (pid !== undefined && !(Number.isInteger(pid) && pid > 0)) throw new UsageError(`--pid: must be a positive integer, got "${values.pid}"`);
  return { command, config: values.config, port: parsePort(values.port), host: values.host, pidFile: values['pid-file'], pid };
}

function parsePort(value: string | undefined, flag = '--port'): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 0 || n > 65535) throw new UsageError(`${flag}: must be an integer from 0 to 65535, got "${value}"`);
  return n;
}

function clusterArgs(
  rest: string[],
  values: { port?: string; host?: string; 'pid-file'?: string; pid?: string; workers?: string; 'grace-ms'?: string; 'status-port'?: string },
  none: Omit<CliArgs, 'command'>,
): CliArgs {
  if (rest[0] === 'reload') {
    if (rest.length > 1) throw new UsageError(`unexpected argument "${rest[1]}"`);
    if (!values['pid-file'] && !values.pid) throw new UsageError('cluster reload needs --pid-file FILE or --pid N');
    const pid = values.pid === undefined ? undefined : Number(values.pid);
    if (pid !== undefined && !(Number.isInteger(pid) && pid > 0)) throw new UsageError(`--pid: must be a positive integer, got "${values.pid}"`);
    return { command: 'reload', ...none, pidFile: values['pid-file'], pid };
  }
  const script = rest[0];
  if (script === undefined) throw new UsageError('cluster needs the app to run: keyway cluster app.js');
  let workers: number | 'auto' = 'auto';
  if (values.workers !== undefined && values.workers !== 'auto') {
    workers = Number(values.workers);
    if (!/^\d+$/.test(values.workers) || workers < 1) throw new UsageError(`--workers: must be a whole number >= 1 or auto, got "${values.workers}"`);
  }
  let graceMs: number | undefined;
  if (values['grace-ms'] !== undefined) {
    graceMs = Number(values['grace-ms']);
    if (!/^\d+$/.test(values['grace-ms'])) throw new UsageError(`--grace-ms: must be a whole number of ms, got "${values['grace-ms']}"`);
  }
  const statusPort = values['status-port'] === undefined ? undefined : parsePort(values['status-port'], '--status-port');
  return { command: 'cluster', ...none, port: parsePort(values.port), host: values.host, pidFile: values['pid-file'], script, scriptArgs: rest.slice(1), workers, graceMs, statusPort };
}

#!/usr/bin/env node
/**
 * @module cli/main: the `keyway` command. Parses argv, loads config, starts or checks, maps failures to
 * exit codes. User errors print one line per problem and no stack trace.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createAdminHandler } from '../admin/index.js';
import { loadConfigFile, maskConfig, validateConfig } from '../config/index.js';
import { ClusterPrimary } from '../cluster/index.js';
import { startDemo } from '../demo/index.js';
import { ClusterError, ConfigError, ConfigLoadError, ErrorCodes, KeywayError, formatIssue } from '../errors.js';
import { Gateway } from '../gateway/index.js';
import { createLogger } from '../observe/index.js';
import { USAGE, UsageError, parseCliArgs, type CliArgs } from './args.js';
import { onShutdownSignals } from './signals.js';

async function main(argv: readonly string[]): Promise<number | undefined> {
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`keyway: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  switch (args.command) {
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case 'version':
      process.stdout.write(`${version()}\n`);
      return 0;
    case 'check':
      return check(args);
    case 'serve':
      return serve(args);
    case 'reload':
      return reload(args);
    case 'demo':
      return demo(args);
    case 'cluster':
      return cluster(args);
  }
}

/** `keyway cluster app.js`: the app on every core; SIGHUP reloads the workers one at a time, SIGTERM drains them. */
async function cluster(args: CliArgs): Promise<number | undefined> {
  let primary: ClusterPrimary;
  try {
    primary = clusterOf(args);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    process.stderr.write(`keyway cluster: ${err.message}\n`);
    return 2;
  }
  primary.on('fatal', (err) => {
    process.stderr.write(`keyway cluster: ${err.message}\n`);
    process.exit(1);
  });
  onShutdownSignals(async () => {
    await primary.close();
    if (args.pidFile) rmSync(args.pidFile, { force: true });
  });
  process.on('SIGHUP', () => {
    primary.reload().catch((err: unknown) => process.stderr.write(`keyway cluster: reload failed: ${String(err)}\n`));
  });
  try {
    await primary.start();
  } catch (err) {
    if (err instanceof ClusterError) {
      process.stderr.write(`keyway cluster: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  if (args.pidFile) writeFileSync(args.pidFile, `${process.pid}\n`);
  return undefined;
}

function clusterOf(args: CliArgs): ClusterPrimary {
  return new ClusterPrimary({
    script: args.script as string,
    args: args.scriptArgs,
    workers: args.workers,
    port: args.port,
    host: args.host,
    graceMs: args.graceMs,
    statusPort: args.statusPort,
    logger: createLogger(),
  });
}

async function resolve(args: CliArgs) {
  const raw = await loadConfigFile(args.config as string);
  return validateConfig(raw, { port: args.port, host: args.host });
}

async function check(args: CliArgs): Promise<number> {
  const config = await resolve(args);
  process.stdout.write(`${JSON.stringify(maskConfig(config), null, 2)}\n`);
  return 0;
}

async function serve(args: CliArgs): Promise<undefined> {
  const config = await resolve(args);
  const gateway = new Gateway(config, { admin: createAdminHandler, configSource: () => resolve(args) });
  onShutdownSignals(async () => {
    await gateway.close();
    if (args.pidFile) rmSync(args.pidFile, { force: true });
  });
  onReloadSignal(gateway);
  await gateway.listen();
  if (args.pidFile) writeFileSync(args.pidFile, `${process.pid}\n`);
  return undefined;
}

/** SIGHUP re-reads the config file; an invalid one is refused with its errors logged, and the old one kept. */
function onReloadSignal(gateway: Gateway): void {
  process.on('SIGHUP', () => {
    gateway.reload().catch((err: unknown) => {
      const lines = err instanceof ConfigError ? err.issues.map(formatIssue) : [err instanceof Error ? err.message : String(err)];
      process.stderr.write(`keyway: reload refused, keeping the running config\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
    });
  });
}

function reload(args: CliArgs): number {
  let pid = args.pid;
  if (pid === undefined) {
    const file = args.pidFile as string;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      process.stderr.write(`keyway: cannot read pid file ${file}: ${(err as Error).message}\n`);
      return 1;
    }
    pid = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
    if (!Number.isSafeInteger(pid) || pid <= 0) {
      process.stderr.write(`keyway: no process id in ${file}\n`);
      return 2;
    }
  }
  try {
    process.kill(pid, 'SIGHUP');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ESRCH' ? `no process ${pid} (is the gateway running?)` : `cannot signal process ${pid}: ${(err as Error).message}`;
    process.stderr.write(`keyway: ${why}\n`);
    return 1;
  }
  process.stdout.write(`keyway: asked process ${pid} to reload its config\n`);
  return 0;
}

async function demo(args: CliArgs): Promise<undefined> {
  const running = await startDemo({ port: args.port ?? 8080, host: args.host });
  onShutdownSignals(() => running.close());
  process.stdout.write(
    `\nkeyway demo\n  gateway:  ${running.url}   <- open this in a browser\n` +
      running.backends.map((b) => `  backend:  ${b.url}  (${b.name})`).join('\n') +
      `\n  status:   ${running.url}_lb/health\n\nPress Ctrl+C to stop.\n`,
  );
  return undefined;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`keyway: invalid config\n${err.issues.map((i) => `  ${formatIssue(i)}`).join('\n')}\n`);
      process.exitCode = 2;
    } else if (err instanceof ConfigLoadError || (err instanceof KeywayError && err.code === ErrorCodes.ALERT_CONFIG)) {
      process.stderr.write(`keyway: ${err.message}\n`);
      process.exitCode = 2;
    } else if (err instanceof KeywayError && (err.code === ErrorCodes.STORE_UNAVAILABLE || err.code === ErrorCodes.BOOT_MISMATCH)) {
      // The environment, not the config, is at fault: a runtime failure (1), said in one line.
      process.stderr.write(`keyway: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      const e = err as NodeJS.ErrnoException;
      process.stderr.write(`keyway: ${e.code === 'EADDRINUSE' ? `address in use: ${e.message}` : String(e?.stack ?? e)}\n`);
      process.exitCode = 1;
    }
  },
);

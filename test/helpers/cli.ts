/** Runs the built `keyway` CLI (dist/cli/main.js) as a real child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: tests run from `.test-build/test/helpers`. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion (bounded by `timeoutMs`). */
export async function runCli(args: string[], timeoutMs = 20_000): Promise<Finished> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

export interface Serving {
  child: ChildProcess;
  port: number;
  output(): string;
}

/** Starts `keyway serve` on port 0 and resolves once its "gateway listening" log line names the port. */
export async function serveCli(configFile: string, extraEnv: Record<string, string> = {}): Promise<Serving> {
  const child = spawn(process.execPath, [CLI, 'serve', '--config', configFile, '--port', '0', '--host', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...extraEnv },
  });
  let out = '';
  child.stderr!.on('data', (c) => (out += c));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`keyway serve did not start:\n${out}`)), 15_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c;
      const m = /"port":(\d+).*gateway listening/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`keyway serve exited with ${code}:\n${out}`)));
  });
  return { child, port, output: () => out };
}

/** Writes `content` to a new temp file named `name`, returning its path. */
export function tempFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyway-test-'));
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

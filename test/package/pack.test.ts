/**
 * The package as a user gets it: the files of this repository that git tracks or would (a fresh clone: no dist/) are packed with
 * `npm pack` (its `prepack` builds dist/), the tarball is installed into an empty folder, every public entry is
 * imported from there by the package name, and the installed `keyway` command answers its version.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from '../helpers/cli.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  license: string;
  bin: Record<string, string>;
  exports: Record<string, unknown>;
};

function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    // tsc reports on stdout: without it a failed prepack says only "command failed".
    const e = err as Error & { stdout?: string };
    throw new Error(`${e.message}\n${e.stdout ?? ''}`);
  }
}

test('npm pack of a fresh clone builds dist/, ships what its source maps name and a LICENSE, and installs into an empty folder', { timeout: 240_000 }, () => {
  assert.notEqual(pkg.name, 'keyway', 'the npm name "keyway" belongs to an unrelated package');
  assert.ok(pkg.bin.keyway, 'the command is still keyway');
  const work = mkdtempSync(join(tmpdir(), 'keyway-pack-'));
  try {
    const clone = join(work, 'clone');
    const tracked = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT).split('\0').filter((f) => f !== '' && existsSync(join(ROOT, f)));
    for (const f of tracked) {
      mkdirSync(dirname(join(clone, f)), { recursive: true });
      cpSync(join(ROOT, f), join(clone, f));
    }
    assert.ok(!existsSync(join(clone, 'dist')), 'a fresh clone has no dist/');
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules')); // the build tools, as `npm ci` would give
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], clone)) as { filename: string; files: { path: string }[] }[];
    const files = new Set(packed[0]!.files.map((f) => f.path));
    assert.ok(files.has('dist/index.js') && files.has('dist/cli/main.js'), 'dist/ is in the tarball');
    assert.ok(files.has('LICENSE'), 'LICENSE is in the tarball');
    assert.match(readFileSync(join(clone, 'LICENSE'), 'utf8'), new RegExp(`^${pkg.license} License`));
    for (const map of [...files].filter((f) => f.endsWith('.js.map'))) {
      const { sources } = JSON.parse(readFileSync(join(clone, map), 'utf8')) as { sources: string[] };
      for (const source of sources) {
        const shipped = join(dirname(map), source).replace(/\\/g, '/');
        assert.ok(files.has(shipped), `${map} points at ${shipped}, which the package does not ship`);
      }
    }

    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }));
    run('npm', ['install', join(work, packed[0]!.filename), '--prefer-offline', '--no-audit', '--no-fund'], app);
    const entries = Object.keys(pkg.exports).filter((e) => e !== './package.json').map((e) => (e === '.' ? pkg.name : `${pkg.name}/${e.slice(2)}`));
    assert.deepEqual(entries.sort(), [pkg.name, `${pkg.name}/backend`, `${pkg.name}/coordinator`, `${pkg.name}/singleton`, `${pkg.name}/rooms`, `${pkg.name}/cluster`, `${pkg.name}/fluxstack`].sort());
    const script = `for (const e of ${JSON.stringify(entries)}) { const m = await import(e); if (Object.keys(m).length === 0) throw new Error(e + ' exports nothing'); console.log(e, Object.keys(m).length); }`;
    const imported = run(process.execPath, ['--input-type=module', '-e', script], app);
    assert.equal(imported.trim().split('\n').length, entries.length, imported);
    assert.match(run(process.execPath, ['--input-type=module', '-e', `import { createGateway } from '${pkg.name}'; console.log(typeof createGateway)`], app), /^function/);

    // `npx keyway --version` passes the flag on; `npm exec` needs `--` before it (else npm answers with its own).
    const npx = spawnSync('npx', ['--no-install', 'keyway', '--version'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    assert.equal(npx.stdout.trim(), pkg.version, npx.stderr);
    assert.equal(run('npx', ['--no-install', 'keyway', 'version'], app).trim(), pkg.version);
    assert.equal(run('npm', ['exec', '--no', 'keyway', '--', '--version'], app).trim(), pkg.version);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

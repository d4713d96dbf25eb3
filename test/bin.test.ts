/**
 * The `shardbox` bin on a fresh clone: npx links the bin only if its file exists when it
 * first installs the package into its cache, so the bin is a committed launcher that
 * compiles dist/ itself when dist/ is missing or older than the sources.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin.shardbox;

describe('the shardbox bin', () => {
  it('is a committed, executable file', () => {
    expect(execFileSync('git', ['ls-files', '--error-unmatch', bin], { cwd: root, encoding: 'utf8' }).trim()).toBe(bin);
    expect(statSync(path.join(root, bin)).mode & 0o111).not.toBe(0);
  });

  it('in a clone without dist/, compiles it and runs the command', () => {
    const clone = mkdtempSync(path.join(tmpdir(), 'shardbox-clone-'));
    try {
      // The committed files (a fresh clone), and node_modules as `npm ci` leaves it.
      const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter((f) => f !== '' && existsSync(path.join(root, f)));
      for (const file of tracked) {
        mkdirSync(path.dirname(path.join(clone, file)), { recursive: true });
        cpSync(path.join(root, file), path.join(clone, file));
      }
      symlinkSync(path.join(root, 'node_modules'), path.join(clone, 'node_modules'));
      const first = spawnSync(process.execPath, [path.join(clone, bin), 'help'], { cwd: clone, encoding: 'utf8', timeout: 120_000 });
      expect(first.stderr).toContain('dist/ is not built yet: compiling');
      expect(first.stdout).toMatch(/^usage: shardbox <command>/);
      expect(first.status).toBe(0);
      // Built now: the next run compiles nothing, and the command's exit code comes through.
      const second = spawnSync(process.execPath, [path.join(clone, bin), 'no-such-command'], { cwd: clone, encoding: 'utf8', timeout: 60_000 });
      expect(second.stderr).not.toContain('compiling');
      expect(second.stderr).toContain("shardbox: unknown command 'no-such-command'");
      expect(second.status).toBe(2);
    } finally {
      rmSync(clone, { recursive: true, force: true });
    }
  }, 150_000);
});

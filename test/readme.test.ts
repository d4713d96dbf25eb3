import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The README's examples run as written: each ```js readme-example block is run as a
 *  module inside the repository (so `import ... from 'shardbox'` resolves to this package). */
describe('README', () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const examples = [...readme.matchAll(/```js readme-example\n([\s\S]*?)```/g)].map((m) => m[1]);

  it('has examples', () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  examples.forEach((code, i) => {
    it(`example ${i + 1} runs as written and prints what its comments say`, () => {
      const dir = mkdtempSync(path.join(root, '.readme-example-'));
      try {
        const file = path.join(dir, 'example.mjs');
        writeFileSync(file, code);
        // The AWS SDK warns on stderr that its 2027 releases need Node 22: not the example's output.
        const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
        const run = spawnSync(process.execPath, [file], { cwd: root, encoding: 'utf8', timeout: 60_000, env });
        expect(run.stderr).toBe('');
        expect(run.status).toBe(0);
        // Each `console.log(x); // expected` line states what it prints.
        const expected = [...code.matchAll(/console\.log\(.*\);\s*\/\/\s*(.*)$/gm)].map((m) => m[1].trim());
        expect(normalize(run.stdout)).toBe(normalize(expected.join(' ')));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

describe('README claims', () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

  it('the options table lists every option of ShardBox.open', () => {
    const api = readFileSync(path.join(root, 'src', 'api', 'options.ts'), 'utf8');
    const body = /export interface ShardBoxOptions \{([\s\S]*?)\n\}/.exec(api)![1];
    const options = [...body.matchAll(/^ {2}(\w+)\?:/gm)].map((m) => m[1]);
    expect(options.length).toBeGreaterThan(5);
    const table = readme.slice(readme.indexOf('### Options of `ShardBox.open`'));
    const listed = new Set([...table.slice(0, table.indexOf('\n\n', table.indexOf('|'))).matchAll(/^\| ([^|]+) \|/gm)]
      .flatMap((m) => [...m[1].matchAll(/`(\w+)`/g)].map((n) => n[1])));
    expect(options.filter((name) => !listed.has(name))).toEqual([]);
  });

  it('its links to files of the repository point at files that exist', () => {
    const links = [...readme.matchAll(/\]\(([^)#]+)\)/g)].map((m) => m[1]).filter((target) => !/^[a-z]+:/.test(target));
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter((target) => !existsSync(path.join(root, target)))).toEqual([]);
  });
});

function normalize(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

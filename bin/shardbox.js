#!/usr/bin/env node
/**
 * The `shardbox` command as npm links it (`npx shardbox ...` in a clone). The command is
 * dist/src/cli.js, compiled from TypeScript; this launcher is committed so that the bin
 * exists from the first `npm ci`, before any build: npx links a package's bin only when
 * it first installs it into its cache, and a bin missing then stays missing there.
 *
 * In a clone (the sources are here) it compiles first when dist/ lacks the output of a
 * source file or holds an older one, so the command never runs code older than the
 * checkout; an installed package (dist/ only) runs as it is.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'src', 'cli.js');
/** What tsconfig.json compiles into dist/ (its include; test files under them are excluded). */
const SOURCE_DIRS = ['src', 'bench', 'test/sim'];

/** Source files (relative to root) whose compiled .js in dist/ is missing or older. */
function staleSources(dir) {
  const stale = [];
  const full = path.join(root, dir);
  if (!existsSync(full)) return stale;
  for (const entry of readdirSync(full, { withFileTypes: true })) {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) stale.push(...staleSources(relative));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !entry.name.endsWith('.test.ts')) {
      const output = path.join(root, 'dist', relative.replace(/\.ts$/, '.js'));
      if (!existsSync(output) || statSync(output).mtimeMs < statSync(path.join(root, relative)).mtimeMs) stale.push(relative);
    }
  }
  return stale;
}

function build(reason) {
  let tsc;
  try {
    tsc = path.join(path.dirname(createRequire(path.join(root, 'package.json')).resolve('typescript/package.json')), 'bin', 'tsc');
  } catch {
    process.stderr.write(`shardbox: ${reason}, and TypeScript is not installed to compile it: run \`npm ci\` in ${root} first\n`);
    process.exit(1);
  }
  process.stderr.write(`shardbox: ${reason}: compiling (npm run build) ...\n`);
  // Compiler output goes to stderr: stdout is the command's (`shardbox compare ... > report.md`).
  const run = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { cwd: root, stdio: ['ignore', 2, 2] });
  if (run.status !== 0) {
    process.stderr.write(`shardbox: compiling failed (exit ${run.status ?? run.signal}); \`npm run build\` in ${root} shows the errors\n`);
    process.exit(1);
  }
}

if (existsSync(path.join(root, 'tsconfig.json'))) {
  const stale = SOURCE_DIRS.flatMap(staleSources);
  if (!existsSync(cli)) build('dist/ is not built yet');
  else if (stale.length > 0) build(`dist/ is older than ${stale.length === 1 ? stale[0] : `${stale.length} source files`}`);
}
await import(pathToFileURL(cli).href);

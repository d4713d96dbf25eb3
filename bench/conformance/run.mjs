/**
 * DynamoDB conformance: mhart/dynalite's mocha suite (its test/ folder) against
 * `shardbox serve`. dynalite is not part of this repository: clone it anywhere
 * (`git clone https://github.com/mhart/dynalite`) and pass its folder.
 *
 *   npm run build && npm run conformance -- --dynalite DIR [--files getItem,putItem] [--no-indexes]
 *
 * It copies DIR (without .git and node_modules: batchWriteItem.js and connection.js load
 * dynalite's own code) into a temporary folder, patches test/helpers.js there
 * (patch-helpers.mjs), and takes the suite's dependencies (mocha 6, should, aws4, async,
 * once, and dynalite's own) from --deps, else DIR/node_modules, else an `npm install` in the
 * temporary folder. Every test is listed first (a mocha run whose grep matches nothing); then
 * each test file runs in its own mocha process against its own fresh server,
 * `node dist/src/cli.js serve --port 0` (this script builds nothing). Results go to
 * results/conformance-<UTC timestamp>/: results.json, failures.txt, summary.txt,
 * run-info.txt, logs/. The temporary folder is removed and every server stopped at the end,
 * whatever happens.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { patchHelpers } from './patch-helpers.mjs';
import { summarize } from './summarize.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const CLI = path.join(ROOT, 'dist/src/cli.js');
const MOCHA_DIR = path.join(HERE, 'mocha');
const USAGE = `usage: npm run conformance -- --dynalite DIR [options]

  --dynalite DIR        a checkout of https://github.com/mhart/dynalite (required)
  --files a,b           only these test files (names without .js; default: all of test/)
  --no-indexes          strip LSIs/GSIs from the suite's 5 set-up tables
  --deps DIR            a node_modules folder holding the suite's dependencies (default:
                        DIR/node_modules if it has mocha, else npm install into the temp copy)
  --results DIR         output folder (default: results/conformance-<UTC timestamp>)
  --auth                start the server with --auth KEY:SECRET so it verifies SigV4
                        (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, default harness / harness-secret)
  --mocha-timeout T     per-test timeout (mocha -t; default 20s)
  --file-timeout-s N    wall-clock limit of one file's mocha process (default 1800)
`;
const SERVER_START_MS = 120_000;
const STOP_GRACE_MS = 10_000;
const POLL_MS = 100;

function fail(message) {
  process.stderr.write(`conformance: ${message}\n`);
  process.exit(2);
}

function options() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        dynalite: { type: 'string' },
        files: { type: 'string' },
        'no-indexes': { type: 'boolean', default: false },
        deps: { type: 'string' },
        results: { type: 'string' },
        auth: { type: 'boolean', default: false },
        'mocha-timeout': { type: 'string', default: '20s' },
        'file-timeout-s': { type: 'string', default: '1800' },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (e) {
    fail(`${e.message}\n\n${USAGE}`);
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (!parsed.dynalite) fail(`--dynalite DIR is required\n\n${USAGE}`);
  const fileTimeoutS = Number(parsed['file-timeout-s']);
  if (!(fileTimeoutS > 0)) fail(`--file-timeout-s must be a positive number of seconds`);
  return {
    dynalite: path.resolve(parsed.dynalite),
    files: parsed.files ? parsed.files.split(',').map((f) => f.trim().replace(/\.js$/, '')).filter(Boolean) : null,
    noIndexes: parsed['no-indexes'],
    deps: parsed.deps ? path.resolve(parsed.deps) : null,
    results: path.resolve(parsed.results ?? path.join(ROOT, 'results', `conformance-${timestamp()}`)),
    auth: parsed.auth,
    mochaTimeout: parsed['mocha-timeout'],
    fileTimeoutMs: fileTimeoutS * 1000,
  };
}

function timestamp() {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function gitDescribe(dir) {
  const head = spawnSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  if (head.status !== 0) return '?';
  const dirty = spawnSync('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' });
  return head.stdout.trim() + (dirty.stdout.trim() ? ', dirty' : '');
}

/** Sources newer than dist/src/cli.js: reported, never rebuilt (a tree being edited would
 *  compile half-written sources). */
function staleSources() {
  const builtMs = fs.statSync(CLI).mtimeMs;
  const stale = [];
  for (const entry of fs.readdirSync(path.join(ROOT, 'src'), { recursive: true })) {
    const file = String(entry);
    if (!file.endsWith('.ts') || file.endsWith('.d.ts') || file.endsWith('.test.ts')) continue;
    if (fs.statSync(path.join(ROOT, 'src', file)).mtimeMs > builtMs) stale.push(`src/${file}`);
  }
  return stale;
}

/** Process groups started here (each child leads its own), killed for sure on exit. */
const liveGroups = new Set();

function startGroup(command, args, { cwd, env, logFile }) {
  const log = fs.openSync(logFile, 'a');
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  liveGroups.add(child.pid);
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      liveGroups.delete(child.pid);
      resolve(code ?? (signal ? `signal ${signal}` : null));
    });
  });
  return { pid: child.pid, exited, isRunning: () => liveGroups.has(child.pid) };
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** SIGTERM to the group, SIGKILL if it is still there after the grace period. */
async function stopGroup(proc) {
  if (!proc.isRunning()) return proc.exited;
  signalGroup(proc.pid, 'SIGTERM');
  const stopped = await Promise.race([proc.exited.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
  if (!stopped) {
    process.stderr.write(`conformance: process ${proc.pid} did not stop on SIGTERM: SIGKILL\n`);
    signalGroup(proc.pid, 'SIGKILL');
  }
  return proc.exited;
}

async function startServer(serverArgs, env, logFile) {
  const server = startGroup(process.execPath, [CLI, ...serverArgs], { cwd: ROOT, env, logFile });
  const deadline = Date.now() + SERVER_START_MS;
  let url = null;
  while (!url && Date.now() < deadline) {
    if (!server.isRunning()) throw new Error(`the server exited at start:\n${fs.readFileSync(logFile, 'utf8')}`);
    url = /^shardbox: serving DynamoDB at (http:\/\/\S+) /m.exec(fs.readFileSync(logFile, 'utf8'))?.[1] ?? null;
    if (!url) await sleep(POLL_MS);
  }
  while (url && Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return { server, url };
    } catch {
      // not answering yet
    }
    await sleep(POLL_MS);
  }
  await stopGroup(server);
  throw new Error(`the server did not ${url ? `answer GET ${url}/` : 'print its address'} in ${SERVER_START_MS / 1000} s (log: ${logFile})`);
}

/** The suite's dependencies as a node_modules folder for the temporary copy. */
function provideDeps(opts, copy, info) {
  const target = path.join(copy, 'node_modules');
  const hasMocha = (dir) => fs.existsSync(path.join(dir, 'mocha', 'bin', '_mocha'));
  let source = opts.deps;
  if (source && !hasMocha(source)) fail(`--deps ${source} has no mocha/bin/_mocha: pass a node_modules folder with the suite's dependencies`);
  if (!source && hasMocha(path.join(opts.dynalite, 'node_modules'))) source = path.join(opts.dynalite, 'node_modules');
  if (source) {
    fs.symlinkSync(source, target, 'dir');
    info(`dependencies: ${source}`);
  } else {
    info('dependencies: npm install --omit=optional in the temporary copy');
    const npm = spawnSync('npm', ['install', '--omit=optional', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts'], {
      cwd: copy,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (npm.status !== 0 || !hasMocha(target)) {
      throw new Error(`npm install of dynalite's test dependencies failed (exit ${npm.status}): pass --deps NODE_MODULES, or run \`npm install --omit=optional\` in ${opts.dynalite}`);
    }
  }
  const mochaVersion = JSON.parse(fs.readFileSync(path.join(target, 'mocha', 'package.json'), 'utf8')).version;
  info(`mocha ${mochaVersion}`);
  if (!mochaVersion.startsWith('6.')) process.stderr.write(`conformance: warning: mocha ${mochaVersion}; the harness is written for mocha 6\n`);
  return path.join(target, 'mocha', 'bin', '_mocha');
}

async function main() {
  const opts = options();
  if (!fs.existsSync(CLI)) fail(`${ROOT} is not built (no dist/src/cli.js): run 'npm run build' first (this runner builds nothing)`);
  const helpersFile = path.join(opts.dynalite, 'test', 'helpers.js');
  if (!fs.existsSync(helpersFile)) fail(`${opts.dynalite} is not a dynalite checkout (no test/helpers.js): git clone https://github.com/mhart/dynalite`);
  // Before any work: a helpers.js the patch does not fit stops the run here.
  let patched;
  try {
    patched = patchHelpers(fs.readFileSync(helpersFile, 'utf8'));
  } catch (e) {
    fail(e.message);
  }
  const testNames = opts.files ?? fs.readdirSync(path.join(opts.dynalite, 'test')).filter((f) => f.endsWith('.js') && f !== 'helpers.js').map((f) => f.slice(0, -3)).sort();
  for (const name of testNames) {
    if (name === 'helpers' || !fs.existsSync(path.join(opts.dynalite, 'test', `${name}.js`))) fail(`no test file test/${name}.js in ${opts.dynalite}`);
  }

  fs.mkdirSync(path.join(opts.results, 'logs'), { recursive: true });
  const infoFile = path.join(opts.results, 'run-info.txt');
  const info = (line) => {
    fs.appendFileSync(infoFile, `${line}\n`);
    process.stdout.write(`${line}\n`);
  };
  const stale = staleSources();
  if (stale.length) process.stderr.write(`conformance: warning: sources newer than dist/src/cli.js (not rebuilt): ${stale.slice(0, 3).join(' ')}\n`);

  const env = { ...process.env };
  for (const name of ['REMOTE', 'AWS_DEFAULT_REGION', 'AWS_SESSION_TOKEN']) delete env[name];
  env.AWS_ACCESS_KEY_ID ??= 'harness';
  env.AWS_SECRET_ACCESS_KEY ??= 'harness-secret';
  env.AWS_REGION ??= 'us-east-1';
  env.NO_INDEXES = opts.noIndexes ? '1' : '0';
  const serverArgs = ['serve', '--port', '0'];
  if (opts.auth) serverArgs.push('--auth', `${env.AWS_ACCESS_KEY_ID}:${env.AWS_SECRET_ACCESS_KEY}`);

  info(`checkout: ${ROOT} (${gitDescribe(ROOT)}${stale.length ? ', dist/ older than src/' : ''})`);
  info(`dynalite: ${opts.dynalite} (${gitDescribe(opts.dynalite)})`);
  info(`started: ${timestamp()}  files: ${testNames.length}  no-indexes: ${opts.noIndexes}  auth: ${opts.auth}  mocha timeout: ${opts.mochaTimeout}`);
  info(`server: node ${CLI} ${serverArgs.join(' ')}`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shardbox-conformance-'));
  let interrupted = false;
  const running = new Set();
  const onSignal = (signal) => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`conformance: ${signal}: stopping\n`);
    for (const proc of running) signalGroup(proc.pid, 'SIGTERM');
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, onSignal);
  process.on('exit', () => {
    for (const pid of liveGroups) signalGroup(pid, 'SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  try {
    const copy = path.join(tmp, 'dynalite');
    fs.cpSync(opts.dynalite, copy, {
      recursive: true,
      filter: (src) => !['.git', 'node_modules'].includes(path.relative(opts.dynalite, src).split(path.sep)[0]),
    });
    fs.writeFileSync(path.join(copy, 'test', 'helpers.js'), patched);
    const mocha = provideDeps(opts, copy, info);
    const eventsDir = path.join(tmp, 'events');
    fs.mkdirSync(eventsDir);
    const testFiles = testNames.map((name) => `test/${name}.js`);
    const mochaArgs = () => [mocha, '--require', 'should', '--require', path.join(MOCHA_DIR, 'late-errors.cjs'), '--reporter', path.join(MOCHA_DIR, 'reporter.cjs'), '--exit'];

    // The listing: every test mocha would run. A grep that matches no test also skips the
    // root hooks, so no server is needed.
    const listing = startGroup(process.execPath, [...mochaArgs(), '--grep', '^harness: match no test$', ...testFiles], {
      cwd: copy,
      env: { ...env, DYNALITE_ENDPOINT: 'http://127.0.0.1:9', HARNESS_EVENTS: path.join(eventsDir, '_plan.jsonl') },
      logFile: path.join(opts.results, 'logs', '_plan.log'),
    });
    running.add(listing);
    await listing.exited;
    running.delete(listing);
    const planFile = path.join(eventsDir, '_plan.jsonl');
    if (!fs.existsSync(planFile) || !fs.readFileSync(planFile, 'utf8').includes('"type":"plan"')) {
      throw new Error(`listing the tests failed:\n${fs.readFileSync(path.join(opts.results, 'logs', '_plan.log'), 'utf8')}`);
    }

    for (const [i, name] of testNames.entries()) {
      if (interrupted) break;
      // A fresh server (empty data) per file: results do not depend on which files ran
      // before (tables a test leaves behind, e.g. 'abc', change what later files get).
      let started;
      try {
        started = await startServer(serverArgs, env, path.join(opts.results, 'logs', `server-${i + 1}-${name}.log`));
      } catch (e) {
        info(`cannot start a server (${e.message}); files from ${name} on are not run`);
        break;
      }
      running.add(started.server);
      const startMs = Date.now();
      const logFile = path.join(opts.results, 'logs', `${name}.log`);
      const run = startGroup(process.execPath, [...mochaArgs(), '-t', opts.mochaTimeout, `test/${name}.js`], {
        cwd: copy,
        env: { ...env, DYNALITE_ENDPOINT: started.url, HARNESS_EVENTS: path.join(eventsDir, `${name}.jsonl`) },
        logFile,
      });
      running.add(run);
      const timer = setTimeout(() => {
        info(`${name}: over ${opts.fileTimeoutMs / 1000} s: stopped`);
        void stopGroup(run);
      }, opts.fileTimeoutMs);
      const code = await run.exited;
      clearTimeout(timer);
      running.delete(run);
      await stopGroup(started.server);
      running.delete(started.server);
      const lastLine = fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').pop();
      info(`${name}: exit ${code}, ${Math.round((Date.now() - startMs) / 1000)} s, ${lastLine}`);
    }
    info(`finished: ${timestamp()}${interrupted ? ' (interrupted)' : ''}`);

    const summary = summarize(eventsDir, opts.results);
    fs.writeFileSync(path.join(opts.results, 'summary.txt'), `${summary}\n`);
    process.stdout.write(`${summary}\nresults: ${opts.results}\n`);
  } finally {
    await Promise.all([...running].map((proc) => stopGroup(proc)));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (interrupted) process.exit(130);
}

main().catch((e) => {
  process.stderr.write(`conformance: ${e.message}\n`);
  process.exit(1);
});

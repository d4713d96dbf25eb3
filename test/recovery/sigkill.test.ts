/**
 * Whole-process crashes: a child process (sigkill-child.mjs) opens a cluster directory and
 * drives conditional updates and puts; the parent SIGKILLs it at a seeded random moment
 * (right after start, during recovery and open, under load, around a checkpoint, during
 * close), with durability 'sync' and 'async' in turn, and starts the next child on the
 * same directory, until KILLS children were killed. Each child first checks that
 * everything acknowledged before the last kill is there and nothing is half applied; at
 * the end the parent reopens the directory itself, checks every acknowledged write with
 * strong reads, that all replicas of every group hold identical data, and that the
 * table's global indexes come to hold exactly what its items imply.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ShardBox } from '../../src/index.js';
import { prng, seedFromEnv } from '../integration/helpers.js';
import { checkLoad, expectConverged, expectIndexesEqual, type LoadResult } from './load.js';

/** SIGKILLs to deliver: rounds go on until this many children were killed (a child that
 *  finishes closing before its kill lands counts as a round, not a kill). */
const KILLS = Number(process.env.SHARDBOX_SIGKILL_ROUNDS ?? 20);
const MAX_ROUNDS = KILLS + Math.ceil(KILLS / 2);
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sigkill-child.mjs');
/** A child that shows no sign of life for this long has hung (ms). */
const CHILD_STALL_MS = 30_000;

type Moment = 'start' | 'load' | 'checkpoint' | 'close';
type Durability = 'sync' | 'async';
const MOMENTS: Moment[] = ['start', 'load', 'checkpoint', 'close'];

interface Round { moment: Moment; delayMs: number; outcome: 'killed' | 'exited'; phases: string[] }

const dirs: string[] = [];
/** The child now running: killed if the test ends early (a timeout), not left behind. */
let running: ChildProcess | undefined;
afterAll(() => {
  running?.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs one child and SIGKILLs it `delayMs` after the phase that `moment` waits for. */
function runChild(dir: string, expectedFile: string, logFile: string, seed: number, moment: Moment, delayMs: number, durability: Durability): Promise<Round> {
  const child = spawn(process.execPath, [CHILD, dir, expectedFile, logFile, String(seed), moment, durability], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running = child;
  const phases: string[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  const trigger: Record<Moment, string | undefined> = { start: undefined, load: 'verified', checkpoint: 'checkpoint', close: 'closing' };
  return new Promise((resolve, reject) => {
    let killTimer: NodeJS.Timeout | undefined;
    let stallTimer = setTimeout(() => child.kill('SIGKILL'), CHILD_STALL_MS);
    let killed = false;
    const armKill = (): void => {
      killTimer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, delayMs);
    };
    if (trigger[moment] === undefined) armKill();
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        phases.push(line);
        clearTimeout(stallTimer);
        stallTimer = setTimeout(() => child.kill('SIGKILL'), CHILD_STALL_MS);
        if (line === trigger[moment]) armKill();
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(killTimer);
      clearTimeout(stallTimer);
      if (killed && signal === 'SIGKILL') return resolve({ moment, delayMs, outcome: 'killed', phases });
      if (code === 0 && phases.includes('closed')) return resolve({ moment, delayMs, outcome: 'exited', phases });
      reject(new Error(`child exited with ${code ?? signal} after phases [${phases.join(', ')}] (hung if no phase for ${CHILD_STALL_MS} ms):\n${stderr}`));
    });
  });
}

/** Folds a child's log (T: attempted, A: acknowledged, P: acknowledged put, F: failure). */
function readLog(logFile: string, result: LoadResult): string | undefined {
  if (!existsSync(logFile)) return undefined;
  for (const line of wholeLines(logFile)) {
    const [tag, key, value] = line.split(' ');
    if (tag === 'F') return line.slice(2);
    const n = Number(value);
    if (tag === 'T') result.attempted.set(key, Math.max(result.attempted.get(key) ?? 0, n));
    if (tag === 'A') result.acked.set(key, Math.max(result.acked.get(key) ?? 0, n));
    if (tag === 'P') result.puts.set(key, n);
  }
  return undefined;
}

describe('SIGKILL of the whole process', () => {
  it(`${KILLS} kills at random moments lose no acknowledged write and leave no divergence`, async () => {
    const seed = seedFromEnv(Date.now() % 1_000_000);
    const random = prng(seed);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shardbox-sigkill-'));
    dirs.push(dir);
    const cluster = path.join(dir, 'db');
    const expectedFile = path.join(dir, 'expected.json');
    const all: LoadResult = { acked: new Map(), attempted: new Map(), puts: new Map(), ops: 0, errors: new Map(), errorMessages: [], reads: 0 };
    const rounds: Round[] = [];
    const started = Date.now();
    for (let r = 0; rounds.filter((x) => x.outcome === 'killed').length < KILLS && r < MAX_ROUNDS; r++) {
      const moment = MOMENTS[r % MOMENTS.length];
      // Both durabilities promise to survive a process crash ('async' writes the WAL to the
      // page cache without fdatasync): every moment is tried with each.
      const durability: Durability = Math.floor(r / MOMENTS.length) % 2 === 0 ? 'sync' : 'async';
      const delayMs = Math.floor(moment === 'start' ? random() * 1500
        : moment === 'load' ? 50 + random() * 1000
          : moment === 'checkpoint' ? random() * 20
            : random() * 40);
      const roundSeed = Math.floor(random() * 0x7fffffff);
      // Each child checks what the rounds before acknowledged; puts only from the last round
      // (the parent checks them all at the end).
      const lastPuts = new Map<string, number>();
      const logFile = path.join(dir, `round-${r}.log`);
      writeFileSync(expectedFile, JSON.stringify({
        acked: Object.fromEntries(all.acked), attempted: Object.fromEntries(all.attempted),
        puts: Object.fromEntries(r === 0 ? [] : [...readPuts(path.join(dir, `round-${r - 1}.log`), lastPuts)]),
      }));
      const context = `seed ${seed} (SHARDBOX_SEED=${seed} to replay), round ${r} (${durability}), kill ${delayMs} ms into '${moment}'`;
      let round: Round;
      try {
        round = await runChild(cluster, expectedFile, logFile, roundSeed, moment, delayMs, durability);
      } catch (error) {
        throw new Error(`${context}: ${(error as Error).message}`);
      }
      rounds.push(round);
      const failure = readLog(logFile, all);
      if (failure !== undefined) throw new Error(`${context}: the reopened cluster lost or half-applied a write: ${failure}`);
    }
    const childrenMs = Date.now() - started;

    // The parent reopens the directory left by the last kill and checks everything.
    const context = `seed ${seed} (SHARDBOX_SEED=${seed} to replay), final check`;
    const db = await ShardBox.open({ dir: cluster, durability: 'sync', partitions: 3, seed });
    try {
      await checkLoad(db, 'sigkill', all, context);
      await expectConverged(db, 'sigkill', context);
      await expectIndexesEqual(db, 'sigkill', context);
    } finally {
      await db.close();
    }
    const killed = rounds.filter((r) => r.outcome === 'killed').length;
    const reached = (phase: string): number => rounds.filter((r) => r.phases.includes(phase)).length;
    console.log(`sigkill: ${rounds.length} rounds in ${childrenMs} ms (${Date.now() - started} ms with the final check), ${killed} killed `
      + `(${reached('opened')} after open, ${reached('verified')} after their check, ${reached('checkpoint')} around a checkpoint, ${reached('closing')} while closing), `
      + `${all.acked.size} chains up to version ${Math.max(0, ...all.acked.values())}, ${all.puts.size} acknowledged puts; seed ${seed}`);
    expect(killed, `seed ${seed}`).toBeGreaterThanOrEqual(KILLS);
    expect(reached('verified'), `seed ${seed}: children that reopened and checked`).toBeGreaterThanOrEqual(KILLS / 2);
    expect(all.puts.size + [...all.acked.values()].reduce((a, b) => a + b, 0), `seed ${seed}`).toBeGreaterThan(KILLS * 10);
  }, 300_000);
});

function readPuts(logFile: string, into: Map<string, number>): Map<string, number> {
  if (!existsSync(logFile)) return into;
  for (const line of wholeLines(logFile)) {
    const [tag, key, value] = line.split(' ');
    if (tag === 'P') into.set(key, Number(value));
  }
  return into;
}

/** The log's lines that were written whole (a SIGKILL may cut the last one short). */
function wholeLines(logFile: string): string[] {
  const lines = readFileSync(logFile, 'utf8').split('\n');
  lines.pop(); // '' after the last newline, or a cut line
  return lines;
}

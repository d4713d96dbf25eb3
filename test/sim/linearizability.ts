/**
 * A linearizability checker for per-key register histories: Wing & Gong's search with
 * Lowe's memoization (the algorithm of Porcupine), split per key (P-compositionality:
 * a history of independent keys is linearizable iff each key's sub-history is).
 *
 * The model is one DynamoDB item reduced to what the simulator's clients write: absent,
 * or { ver, val } (a version number and a unique value). Operations:
 *   read       → the state it saw
 *   put        → unconditional PutItem of { ver, val }
 *   delete     → unconditional DeleteItem
 *   cas        → PutItem with a condition on the version (`ver = :expected`, or
 *                `attribute_not_exists` when `expectVer` is null) → 'ok' | 'failed'
 *   increment  → UpdateItem `SET ver = ver + 1, val = :val` → 'ok' | 'failed' (absent)
 *
 * Times are a total order of events (the simulator's event sequence numbers): an
 * operation returning before another is called precedes it. An operation whose outcome is
 * unknown (a write that timed out) has `ret = Infinity` and no output: it may take
 * effect at any point after its call, or never (linearized after everything else, which
 * nothing observes). Reads with unknown outcome say nothing and are left out by callers.
 */

export interface RegisterState {
  ver: number;
  val: string;
}

export type RegisterInput =
  | { kind: 'read' }
  | { kind: 'put'; ver: number; val: string }
  | { kind: 'delete' }
  | { kind: 'cas'; expectVer: number | null; ver: number; val: string }
  | { kind: 'increment'; val: string };

/** read: the state seen (null = absent); cas/increment: whether it applied; put/delete: 'ok'. */
export type RegisterOutput = RegisterState | null | 'ok' | 'failed';

export interface HistoryOp {
  /** Who issued it (for messages only). */
  client: number;
  key: string;
  /** Invocation and response, in one total order; ret = Infinity: outcome unknown. */
  call: number;
  ret: number;
  input: RegisterInput;
  /** undefined exactly when the outcome is unknown. */
  output: RegisterOutput | undefined;
  /** The caller's identifier of the operation (unused by the checker). */
  tag?: string;
}

type State = RegisterState | null;

/** One step of the model: the next state, or undefined when `output` is impossible from `state`. */
export function stepRegister(state: State, input: RegisterInput, output: RegisterOutput | undefined): { next: State } | undefined {
  switch (input.kind) {
    case 'read': {
      if (output === undefined) return { next: state };
      const o = output as State;
      const same = o === null ? state === null : state !== null && state.ver === o.ver && state.val === o.val;
      return same ? { next: state } : undefined;
    }
    case 'put':
      return { next: { ver: input.ver, val: input.val } };
    case 'delete':
      return { next: null };
    case 'cas': {
      const matches = input.expectVer === null ? state === null : state !== null && state.ver === input.expectVer;
      if (output !== undefined && (output === 'ok') !== matches) return undefined;
      return { next: matches ? { ver: input.ver, val: input.val } : state };
    }
    case 'increment': {
      const applies = state !== null;
      if (output !== undefined && (output === 'ok') !== applies) return undefined;
      return { next: applies ? { ver: state.ver + 1, val: input.val } : state };
    }
  }
}

function stateKey(s: State): string {
  return s === null ? '-' : `${s.ver}:${s.val}`;
}

export interface KeyVerdict {
  key: string;
  ok: boolean;
  /** Operations of this key. */
  ops: number;
  /** Search steps taken (a measure of how hard the history was). */
  steps: number;
  /** The search gave up after `maxSteps`: neither proven nor refuted. */
  inconclusive?: boolean;
  /** When not linearizable: the longest prefix of operations the search could order. */
  longestLinearized?: HistoryOp[];
}

interface Entry {
  op: HistoryOp;
  id: number;
  isCall: boolean;
  time: number;
  /** The matching return entry of a call (undefined: outcome unknown). */
  match: Entry | undefined;
  prev: Entry | undefined;
  next: Entry | undefined;
}

/**
 * Checks one key's history. `initial` is the state before the first operation.
 * `maxSteps` bounds the search (an exponential worst case); past it the verdict is
 * `inconclusive`.
 */
export function checkKey(ops: HistoryOp[], initial: State = null, maxSteps = 5_000_000): KeyVerdict {
  const key = ops[0]?.key ?? '';
  // Build the event list sorted by time: calls and (finite) returns.
  const events: Entry[] = [];
  ops.forEach((op, id) => {
    if (!(op.ret > op.call)) throw new Error(`checkKey: operation ${id} of key ${key} returns at ${op.ret}, not after its call at ${op.call}`);
    const call: Entry = { op, id, isCall: true, time: op.call, match: undefined, prev: undefined, next: undefined };
    events.push(call);
    if (Number.isFinite(op.ret)) {
      const ret: Entry = { op, id, isCall: false, time: op.ret, match: undefined, prev: undefined, next: undefined };
      call.match = ret;
      events.push(ret);
    }
  });
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.id - b.id : a.isCall ? 1 : -1));
  const head: Entry = { op: undefined as unknown as HistoryOp, id: -1, isCall: false, time: -Infinity, match: undefined, prev: undefined, next: undefined };
  let prev = head;
  for (const e of events) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }
  let finiteLeft = ops.filter((o) => Number.isFinite(o.ret)).length;

  const lift = (e: Entry) => {
    e.prev!.next = e.next;
    if (e.next) e.next.prev = e.prev;
    const m = e.match;
    if (m) {
      m.prev!.next = m.next;
      if (m.next) m.next.prev = m.prev;
    }
  };
  const unlift = (e: Entry) => {
    const m = e.match;
    if (m) {
      m.prev!.next = m;
      if (m.next) m.next.prev = m;
    }
    e.prev!.next = e;
    if (e.next) e.next.prev = e;
  };

  const words = Math.ceil(ops.length / 32) || 1;
  const linearized = new Uint32Array(words);
  const cache = new Set<string>();
  const stack: Array<{ entry: Entry; state: State }> = [];
  let state: State = initial;
  let entry = head.next;
  let steps = 0;
  let longest: HistoryOp[] = [];
  const bitsKey = () => {
    let s = '';
    for (let i = 0; i < words; i++) s += linearized[i].toString(36) + ',';
    return s;
  };

  while (finiteLeft > 0) {
    if (++steps > maxSteps) return { key, ok: false, ops: ops.length, steps, inconclusive: true };
    if (entry !== undefined && entry.isCall) {
      const r = stepRegister(state, entry.op.input, entry.op.output);
      if (r !== undefined) {
        const w = entry.id >>> 5;
        const bit = 1 << (entry.id & 31);
        linearized[w] |= bit;
        const k = bitsKey() + stateKey(r.next);
        if (!cache.has(k)) {
          cache.add(k);
          stack.push({ entry, state });
          state = r.next;
          if (entry.match !== undefined) finiteLeft--;
          lift(entry);
          entry = head.next;
          continue;
        }
        linearized[w] &= ~bit;
      }
      entry = entry.next;
      continue;
    }
    // A return (or the end): the operation it closes could not be ordered. Backtrack.
    if (stack.length > longest.length) longest = stack.map((s) => s.entry.op);
    const top = stack.pop();
    if (top === undefined) return { key, ok: false, ops: ops.length, steps, longestLinearized: longest };
    const e = top.entry;
    state = top.state;
    linearized[e.id >>> 5] &= ~(1 << (e.id & 31));
    if (e.match !== undefined) finiteLeft++;
    unlift(e);
    entry = e.next;
  }
  return { key, ok: true, ops: ops.length, steps };
}

/** Splits a history by key and checks each; returns every key's verdict. */
export function checkHistory(ops: HistoryOp[], maxStepsPerKey?: number): KeyVerdict[] {
  const byKey = new Map<string, HistoryOp[]>();
  for (const op of ops) {
    let list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, (list = []));
    list.push(op);
  }
  const verdicts: KeyVerdict[] = [];
  for (const [, list] of [...byKey].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    verdicts.push(checkKey(list, null, maxStepsPerKey));
  }
  return verdicts;
}

/** A readable line per operation, for failure reports. */
export function describeOp(op: HistoryOp): string {
  const i = op.input;
  const what =
    i.kind === 'read' ? 'read' :
    i.kind === 'put' ? `put(${i.ver}:${i.val})` :
    i.kind === 'delete' ? 'delete' :
    i.kind === 'cas' ? `cas(${i.expectVer ?? 'absent'} → ${i.ver}:${i.val})` :
    `increment(→${i.val})`;
  const out = op.output === undefined ? '?' : op.output === null ? 'absent' : typeof op.output === 'string' ? op.output : `${op.output.ver}:${op.output.val}`;
  const ret = Number.isFinite(op.ret) ? String(op.ret) : '∞';
  return `client ${op.client} [${op.call}, ${ret}] ${what} → ${out}`;
}

/** Fault injection (`db.faults`): kill, restart, pause, corrupt, rot and cut, for tests and experiments. */
import { LinkCuts } from '../node/links.js';
import { ControlPlane } from './control-plane.js';
import { stopPlanned } from './deployments.js';
import { ResolvedOptions } from './options.js';
import type { RotReply } from '../node/requests.js';
import { KILL_FAIL } from '../node/worker-data.js';
import type { NodeStats } from '../node/storage-node.js';
import type { ReplicaStatus } from '../replication/types.js';
import type { RottedItem } from '../storage/index.js';

/** One end of a link that `faults.cut` can cut: a storage node's number, or a request
 *  router (`{ router: 0 }` is the main thread's; 1..options.routers are `routerPort(i)`'s). */
export type FaultEndpoint = number | { router: number };

/** A pause longer than this is surely a mistake (ms). */
const MAX_PAUSE_MS = 3_600_000;
/** Most items one `faults.rot` damages (it keeps one entry per item drawn). */
const MAX_ROT_ITEMS = 100_000;

/** `db.faults` of a cluster. */
export function faultsOf(cp: ControlPlane, links: LinkCuts) {
  /** Fault injection, for tests and experiments. */
  const faults = {
    /** Crash a storage node's thread: it exits at its next step (within a round's work),
     *  flushing, syncing and closing nothing. */
    kill: async (node: number): Promise<void> => {
      cp.checkNode(node);
      await cp.supervisor.kill(node);
    },
    /** A power failure of a node (needs the emulatePowerLoss option): its thread dies at
     *  once and its disk is left as a power failure would leave it: the WAL cut to what
     *  was synced, the B-tree back to its last checkpoint (`bTreeFromCheckpoint`; false:
     *  none was made yet, the B-tree starts empty and the WAL replays). Start it with
     *  `restart`. */
    powerOff: async (node: number): Promise<{ walBytesKept: number; bTreeFromCheckpoint: boolean }> => {
      cp.checkNode(node);
      if (!cp.options.emulatePowerLoss) throw new RangeError('faults.powerOff needs ShardBox.open({ emulatePowerLoss: true })');
      return cp.supervisor.powerOff(node);
    },
    /** A software fault: the node's thread dies of an error at its next step (as the one a
     *  bug, or a storage engine's failed commit, throws). The cluster starts a node that
     *  died of an error again by itself (ShardBox.restartFailedNode); `kill` is a crash it
     *  does not. */
    fail: async (node: number): Promise<void> => {
      cp.checkNode(node);
      await cp.supervisor.kill(node, KILL_FAIL);
    },
    /** Start a stopped or killed node again; it recovers from its own LMDB files. A live
     *  node is stopped on purpose first: it hands its leaderships over (`deploy.restartNode`
     *  also waits for it to catch up). */
    restart: async (node: number): Promise<void> => {
      cp.checkNode(node);
      if (cp.supervisor.isAlive(node)) await stopPlanned(cp, node);
      await cp.supervisor.start(node);
    },
    /** Flip a byte in `rate` (0..1) of the ring records node `from` sends node `to`, after
     *  their CRC32C is computed: the receiver must drop them and the protocol recover.
     *  `rate` 0 heals the link. */
    corrupt: async (from: number, to: number, rate: number, seed = 1): Promise<void> => {
      cp.checkNode(from);
      cp.checkNode(to);
      if (from === to) throw new RangeError('faults.corrupt: from and to must be different nodes');
      if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) throw new RangeError(`faults.corrupt: rate must be from 0 to 1 (got ${String(rate)})`);
      await cp.control(from, 0, { t: 'corruptLink', peer: to, rate, seed });
    },
    /**
     * Bit rot: flips a byte at rest in `count` distinct items of node `node`'s tables (of
     * any partition it holds a full replica of), leaving their CRC32C as it was, so that
     * the node's next read or apply of each finds the damage. The items are drawn from
     * `seed` (the same seed over the same data damages the same items). Resolves to the
     * items damaged, by table, partition group and key. The node never returns a damaged
     * item as data: it counts it (its stats' store.itemChecksumFailures), marks the group
     * damaged, and sends eventually consistent reads to another replica.
     */
    rot: async (node: number, count: number, seed = 1): Promise<RottedItem[]> => {
      cp.checkNode(node, 'faults.rot: node');
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_ROT_ITEMS) {
        throw new RangeError(`faults.rot: count must be an integer from 1 to ${MAX_ROT_ITEMS} (got ${String(count)})`);
      }
      if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
        throw new RangeError(`faults.rot: seed must be an integer from 0 to ${0xffff_ffff} (got ${String(seed)})`);
      }
      if (!cp.supervisor.isAlive(node)) throw new RangeError(`faults.rot: node ${node} is not running (restart it first)`);
      const { damaged, available } = (await cp.control(node, 0, { t: 'rot', count, seed })) as RotReply;
      if (available < count) {
        throw new RangeError(`faults.rot: node ${node} holds ${available} item(s), fewer than count ${count}; nothing was damaged`);
      }
      return damaged;
    },
    /**
     * Rebuilds node `node`'s follower replicas of `table` (those it does not lead) from
     * snapshots of their leaders' data, as a repair does: for experiments on what snapshot
     * transfers cost foreground requests. Resolves to how many were rebuilt, once every
     * one is whole again (or throws after `timeoutMs`).
     */
    rebuild: async (node: number, table: string, timeoutMs = 60_000): Promise<number> => {
      cp.checkNode(node, 'faults.rebuild: node');
      if (!cp.supervisor.isAlive(node)) throw new RangeError(`faults.rebuild: node ${node} is not running (restart it first)`);
      const statuses = await cp.askReplicas<ReplicaStatus>(table, { t: 'status' });
      const groups = statuses.filter((s) => {
        const mine = s.replicas[s.partition.replicas.indexOf(node)];
        return mine !== undefined && mine.role === 'follower' && !mine.logReplica;
      }).map((s) => s.partition.group);
      const stats = async (): Promise<NodeStats> => (await cp.control(node, 0, { t: 'stats' })) as NodeStats;
      const before = (await stats()).groupsRepaired;
      for (const group of groups) await cp.control(node, group, { t: 'repairGroup', reason: 'faults.rebuild' });
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const now = await stats();
        if (now.groupsRepaired - before >= groups.length && groups.every((g) => !now.damagedGroups.includes(g))) return groups.length;
        if (performance.now() > deadline) throw new Error(`faults.rebuild: node ${node}'s replicas of ${table} were not rebuilt within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    /**
     * A gray failure: node `node`'s thread stays alive but reads nothing, ticks nothing and
     * answers nothing for `ms` milliseconds (a long GC pause, a stalled machine), then
     * resumes and catches up. Takes effect between two of the node's rounds, busy or not.
     * Resolves once the pause has BEGUN (so a caller can watch the cluster react while it
     * lasts); it ends on its own `ms` later. A node that is not running cannot be paused.
     */
    pause: async (node: number, ms: number): Promise<void> => {
      cp.checkNode(node, 'faults.pause: node');
      if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 1 || ms > MAX_PAUSE_MS) {
        throw new RangeError(`faults.pause: ms must be an integer from 1 to ${MAX_PAUSE_MS} (got ${String(ms)})`);
      }
      if (!(await cp.supervisor.pause(node, ms))) {
        throw new RangeError(`faults.pause: node ${node} is not running (restart it first)`);
      }
    },
    /**
     * A network partition between `a` and `b` (storage nodes, or a router as
     * `{ router: i }`): everything either sends the other is lost, as packets are, until
     * healed. With `{ oneWay: true }` only what `a` sends `b` is lost (b still reaches a),
     * the paper's gray failure. Takes effect at once and lasts across node restarts.
     */
    cut: (a: FaultEndpoint, b: FaultEndpoint, options: { oneWay?: boolean } = {}): void => {
      const from = faultEndpoint(cp.options, a, 'faults.cut: a');
      const to = faultEndpoint(cp.options, b, 'faults.cut: b');
      if (from === to) throw new RangeError('faults.cut: a and b must be different endpoints');
      if (from >= cp.options.nodes && to >= cp.options.nodes) throw new RangeError('faults.cut: routers have no link to each other; one end must be a node');
      if (options === null || typeof options !== 'object') throw new TypeError('faults.cut: options must be an object');
      if (options.oneWay !== undefined && typeof options.oneWay !== 'boolean') {
        throw new TypeError(`faults.cut: options.oneWay must be a boolean (got ${String(options.oneWay)})`);
      }
      links.set(from, to, true);
      if (options.oneWay !== true) links.set(to, from, true);
    },
    /** Heals cut links: `heal()` every link, `heal(a)` every link of `a`, `heal(a, b)`
     *  both directions between `a` and `b`. */
    heal: (a?: FaultEndpoint, b?: FaultEndpoint): void => {
      if (a === undefined) {
        if (b !== undefined) throw new RangeError('faults.heal: give a when giving b');
        links.healAll();
        return;
      }
      const from = faultEndpoint(cp.options, a, 'faults.heal: a');
      const others = b === undefined
        ? Array.from({ length: links.endpoints }, (_, i) => i).filter((i) => i !== from)
        : [faultEndpoint(cp.options, b, 'faults.heal: b')];
      for (const other of others) {
        links.set(from, other, false);
        links.set(other, from, false);
      }
    },
    /** The links cut now, as [from, to] endpoints (routers as `{ router: i }`). */
    cuts: (): Array<[from: FaultEndpoint, to: FaultEndpoint]> => links.list().map(([from, to]) => [
      from < cp.options.nodes ? from : { router: from - cp.options.nodes },
      to < cp.options.nodes ? to : { router: to - cp.options.nodes },
    ]),
  };
  return faults;
}

/** The fabric endpoint of a node number or `{ router: i }`. */
function faultEndpoint(options: ResolvedOptions, end: FaultEndpoint, what: string): number {
  if (typeof end === 'object' && end !== null && Object.keys(end).length === 1 && 'router' in end) {
    const { router } = end;
    if (!Number.isInteger(router) || router < 0 || router > options.routers) {
      throw new RangeError(`${what} must be a node from 0 to ${options.nodes - 1} or { router: i } with i from 0 to ${options.routers} (got { router: ${String(router)} })`);
    }
    return options.nodes + router;
  }
  if (typeof end !== 'number' || !Number.isInteger(end) || end < 0 || end >= options.nodes) {
    throw new RangeError(`${what} must be a node from 0 to ${options.nodes - 1} or { router: i } with i from 0 to ${options.routers} (got ${typeof end === 'object' ? JSON.stringify(end) : String(end)})`);
  }
  return end;
}

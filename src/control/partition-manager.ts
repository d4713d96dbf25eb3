/**
 * Partition management (the paper's section 4.3): the control plane's loop that splits
 * partitions for size and for consumption, and moves replicas off hot storage nodes. It
 * decides with the pure policies (split-policy.ts, hot-node-policy.ts) and acts with the
 * online mechanisms (splits.ts through `split`, a replica move through `move`).
 *
 * Every `intervalMs` it asks each partition's leader for its window of traffic (a
 * LoadObservation: the leader samples what it serves, node/load-sampler.ts), and any
 * replica for the partition's size once the units written to it since it was last sized
 * (or first seen) could have grown it by a tenth of the split size (sizing reads every
 * row on a replica's thread: only when it may matter). At
 * most one split per pass, the first partition the policy says to split. An on-demand
 * table the GAC saw throttled (above twice its peak, or a partition above its cap) gets
 * its busiest partition split at the next pass without waiting for the sustain time
 * (unless the table split within it: a split's own throttles are no reason), still not
 * when the load is one hot key or a sequential range.
 *
 * Hot nodes: each node's admission buckets say what every replica on it consumed in the
 * last second. A node hot in `hotPasses` passes in a row gives up the replica the
 * hot-node policy picks, to the node it picks. One move at a time, and a group that moved
 * does not move again for `moveCooldownMs` (its load follows its leadership, which a
 * move hands over: without the pause a move could chase it).
 *
 * It runs with admission control (the units it measures are admission's).
 */
import type { PartitionInfo } from '../router/partition-map.js';
import type { NodeRequestBody } from '../node/requests.js';
import type { LoadObservation } from '../node/load-sampler.js';
import type { PartitionAdmissionStats } from '../node/admission.js';
import { decideSplit, type SplitDecision, type SplitPolicyConfig } from './split-policy.js';
import { decideMove, type HotNodeConfig, type NodeLoad, type ReplicaLoad } from './hot-node-policy.js';
import type { TableMeta } from './metadata.js';

export interface PartitionEvent {
  atMs: number;
  /** 'no-split': a partition busy enough to split whose load a split would not spread
   *  (one hot key, a sequential range), or whose split was refused (a global index
   *  backfilling); recorded when that verdict begins. */
  kind: 'split' | 'no-split' | 'move';
  table: string;
  group: number;
  /** Why (the policy's words), and for a split its point, for a move its nodes. */
  detail: string;
}

export interface PartitionManagerDeps {
  /** The tables now (their partitions as the map has them). */
  tables(): TableMeta[];
  /** A request to a partition's leader or to any of its replicas. */
  ask(partition: PartitionInfo, mode: 'leader' | 'any', body: NodeRequestBody): Promise<unknown>;
  /** A node's admission report (its replicas' consumption), [] when it cannot answer. */
  admission(node: number): Promise<PartitionAdmissionStats[]>;
  nodes: number;
  isAlive(node: number): boolean;
  split(table: string, group: number, atHex: string | undefined): Promise<unknown>;
  /** Moves a replica online (undefined: no node is free to take one, fewer than 4 nodes). */
  move: ((table: string, group: number, from: number, to: number) => Promise<void>) | undefined;
  nowMs(): number;
}

export interface PartitionManagerConfig {
  intervalMs: number;
  splits: boolean;
  split: SplitPolicyConfig;
  /** Undefined: replicas are not moved. */
  hotNode: HotNodeConfig | undefined;
  hotPasses: number;
  moveCooldownMs: number;
}

export class PartitionManager {
  /** What it did, oldest first (the last 1000). */
  readonly events: PartitionEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Per group: its size when last sized, and the bytes written to it since (at most). */
  private readonly sizes = new Map<number, { bytes: number; writtenSince: number }>();
  private readonly throttledOnDemand = new Set<string>();
  private hotNode: number | undefined;
  private hotPassesSeen = 0;
  private readonly movedAtMs = new Map<number, number>();
  /** The 'no-split' reason last recorded per group (recorded again only when it changes). */
  private readonly refused = new Map<number, string>();
  /** When each table last split: its children start with no history, and the throttles
   *  the split itself caused are not a reason to split them at once. */
  private readonly splitAtMs = new Map<string, number>();

  constructor(private readonly deps: PartitionManagerDeps, private readonly config: PartitionManagerConfig) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running !== undefined || this.stopped) return;
      this.running = this.pass().catch((error: unknown) => {
        if (!this.stopped) process.emitWarning(`shardbox: partition management pass failed: ${(error as Error).message}`, 'ShardBoxPartitions');
      }).finally(() => { this.running = undefined; });
    }, this.config.intervalMs);
    this.timer.unref();
  }

  /** Stops the loop and waits for a pass under way (a split it started finishes). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.running;
  }

  /** The GAC saw on-demand table `table` throttled: its busiest partition splits. */
  onDemandThrottled(table: string): void {
    if (!table.includes('/index/')) this.throttledOnDemand.add(table);
  }

  /** One pass: at most one split, then at most one move. */
  async pass(): Promise<void> {
    if (this.config.splits) await this.splitPass();
    if (this.config.hotNode !== undefined && this.deps.move !== undefined && !this.stopped) await this.movePass(this.config.hotNode, this.deps.move);
  }

  private async splitPass(): Promise<void> {
    const now = this.deps.nowMs();
    for (const meta of this.deps.tables()) {
      if (this.stopped) return;
      const urgent = this.throttledOnDemand.delete(meta.name)
        && now - (this.splitAtMs.get(meta.name) ?? -Infinity) >= this.config.split.sustainSeconds * 1000;
      if (meta.status !== 'ACTIVE' || (meta.splitting ?? []).length > 0) continue;
      const seen: Array<{ partition: PartitionInfo; observation: LoadObservation; decision: SplitDecision }> = [];
      for (const partition of meta.partitions) {
        const observation = await this.observe(partition);
        if (observation === undefined) continue;
        const size = await this.sizeOf(meta.tableId, partition, observation);
        const view = { hashStart: partition.hashStart, hashEnd: partition.hashEnd, sizeBytes: size };
        const decision = decideSplit(view, observation, this.config.split);
        seen.push({ partition, observation, decision });
        this.noteRefusal(meta.name, partition.group, decision);
      }
      let chosen = seen.find((s) => s.decision.split);
      if (chosen === undefined && urgent && seen.length > 0) {
        // A throttled on-demand table splits its busiest partition now.
        const busiest = seen.reduce((a, b) => (units(b.observation) > units(a.observation) ? b : a));
        const view = { hashStart: busiest.partition.hashStart, hashEnd: busiest.partition.hashEnd, sizeBytes: this.sizes.get(busiest.partition.group)?.bytes ?? 0 };
        const decision = decideSplit(view, busiest.observation, { ...this.config.split, consumptionShare: 0, sustainSeconds: 1 });
        if (decision.split) chosen = { ...busiest, decision: { ...decision, detail: `on-demand table throttled (above twice its peak, or a partition at its cap); ${decision.detail}` } };
      }
      if (chosen === undefined || !chosen.decision.split) continue;
      const { partition, decision } = chosen;
      try {
        await this.deps.split(meta.name, partition.group, decision.atHashHex);
      } catch (error) {
        // Refused for now (a global index backfilling, the table going away): said once,
        // tried again at a later pass.
        if (this.stopped) return;
        this.noteRefusal(meta.name, partition.group, { split: false, reason: 'refused', detail: (error as Error).message });
        continue;
      }
      this.sizes.delete(partition.group);
      this.splitAtMs.set(meta.name, this.deps.nowMs());
      this.record({ atMs: this.deps.nowMs(), kind: 'split', table: meta.name, group: partition.group, detail: `${decision.reason} at ${decision.atHashHex ?? 'the middle of its range'}: ${decision.detail}` });
      return;
    }
  }

  private noteRefusal(table: string, group: number, decision: SplitDecision | { split: false; reason: 'refused'; detail: string }): void {
    if (decision.split) return; // a refused split stays said until the partition calms down
    const busy = decision.reason === 'hot-key' || decision.reason === 'sequential' || decision.reason === 'refused';
    if (!busy) {
      this.refused.delete(group);
      return;
    }
    if (this.refused.get(group) === decision.reason) return;
    this.refused.set(group, decision.reason);
    this.record({ atMs: this.deps.nowMs(), kind: 'no-split', table, group, detail: `${decision.reason}: ${decision.detail}` });
  }

  /** The partition's size as last measured, measured again when enough was written since
   *  (a write unit is at most 1 KB). */
  private async sizeOf(tableId: number, partition: PartitionInfo, observation: LoadObservation): Promise<number> {
    const known = this.sizes.get(partition.group) ?? { bytes: 0, writtenSince: 0 };
    known.writtenSince += observation.writeUnits * 1024;
    this.sizes.set(partition.group, known);
    if (known.writtenSince < this.config.split.splitSizeBytes / 10) return known.bytes;
    const stats = (await this.deps.ask(partition, 'any', { t: 'spaceStats', spaceId: tableId }).catch(() => undefined)) as { bytes: number } | undefined;
    if (stats !== undefined) this.sizes.set(partition.group, { bytes: stats.bytes, writtenSince: 0 });
    return stats?.bytes ?? known.bytes;
  }

  private async observe(partition: PartitionInfo): Promise<LoadObservation | undefined> {
    const reply = (await this.deps.ask(partition, 'leader', { t: 'load' }).catch(() => undefined)) as { observation?: LoadObservation } | undefined;
    return reply?.observation;
  }

  private async movePass(config: HotNodeConfig, move: (table: string, group: number, from: number, to: number) => Promise<void>): Promise<void> {
    const now = this.deps.nowMs();
    const tables = this.deps.tables();
    const byId = new Map(tables.map((t) => [t.tableId, t]));
    const nodes: NodeLoad[] = [];
    const replicas: ReplicaLoad[] = [];
    for (let node = 0; node < this.deps.nodes; node++) {
      const alive = this.deps.isAlive(node);
      const report = alive ? await this.deps.admission(node).catch(() => []) : [];
      let unitsPerSec = 0;
      for (const r of report) {
        const used = r.consumedPerSec[0] + r.consumedPerSec[1];
        unitsPerSec += used;
        const meta = byId.get(r.tableId);
        const partition = meta?.partitions.find((p) => p.group === r.group);
        const recent = (this.movedAtMs.get(r.group) ?? -Infinity) > now - this.config.moveCooldownMs;
        if (meta === undefined || partition === undefined || recent || meta.status !== 'ACTIVE') continue;
        replicas.push({ table: meta.name, group: r.group, node, unitsPerSec: used, groupNodes: [...partition.replicas, ...(partition.logReplicas ?? [])] });
      }
      nodes.push({ node, alive, unitsPerSec });
    }
    const decision = decideMove(nodes, replicas, config);
    if (decision === undefined || decision.from !== this.hotNode) {
      this.hotNode = decision?.from;
      this.hotPassesSeen = decision === undefined ? 0 : 1;
      return;
    }
    if (++this.hotPassesSeen < this.config.hotPasses) return;
    this.hotNode = undefined;
    this.hotPassesSeen = 0;
    this.movedAtMs.set(decision.group, now);
    await move(decision.table, decision.group, decision.from, decision.to);
    this.movedAtMs.set(decision.group, this.deps.nowMs());
    this.record({ atMs: this.deps.nowMs(), kind: 'move', table: decision.table, group: decision.group, detail: `node ${decision.from} to node ${decision.to}: ${decision.detail}` });
  }

  private record(event: PartitionEvent): void {
    this.events.push(event);
    if (this.events.length > 1000) this.events.shift();
  }
}

function units(observation: LoadObservation): number {
  return observation.readUnits + observation.writeUnits;
}

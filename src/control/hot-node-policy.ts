/**
 * Which replica to move off a hot storage node, and where (issue 12: "partitions move
 * between storage nodes when a node is hot, by consumed capacity"): a pure decision over
 * the consumed capacity of every node and of every replica on it. The control plane
 * carries a move out with `db.moveReplica(table, group, from, to)` (cluster.ts), which
 * builds the new replica from a snapshot online; it needs a fourth node, since a group's
 * three replicas are on three different nodes.
 *
 * A node is hot when it consumes at least `minUnitsPerSec` and at least `hotFactor` times
 * the mean of the other live nodes. The move chosen is the one that brings the larger of
 * (hot node after, destination after) lowest: usually the hot node's busiest replica that
 * does not just make the destination the new hot node, to the coldest node not already
 * hosting its group. No move when none makes things better.
 */

export interface NodeLoad {
  node: number;
  /** A stopped or dead node is neither a source nor a destination. */
  alive: boolean;
  /** Units per second the node consumed (reads and writes of all its replicas). */
  unitsPerSec: number;
}

export interface ReplicaLoad {
  table: string;
  group: number;
  /** The node this replica is on. */
  node: number;
  /** Units per second this replica consumed on its node. */
  unitsPerSec: number;
  /** Every node that hosts the group (home and log replicas): none of them can take it. */
  groupNodes: readonly number[];
}

export interface HotNodeConfig {
  /** Hot: at least this many times the mean of the other live nodes. */
  hotFactor: number;
  /** ... and at least this many units per second (an idle cluster has nothing to move). */
  minUnitsPerSec: number;
}

export const DEFAULT_HOT_NODE_POLICY: HotNodeConfig = { hotFactor: 2, minUnitsPerSec: 100 };

export interface MoveDecision {
  table: string;
  group: number;
  from: number;
  to: number;
  /** The replica's consumption, which moves with it. */
  unitsPerSec: number;
  detail: string;
}

/** The move to make now, or undefined (see the module comment). */
export function decideMove(nodes: readonly NodeLoad[], replicas: readonly ReplicaLoad[], config: HotNodeConfig = DEFAULT_HOT_NODE_POLICY): MoveDecision | undefined {
  const live = nodes.filter((n) => n.alive);
  if (live.length < 2) return undefined;
  const hot = live.reduce((a, b) => (b.unitsPerSec > a.unitsPerSec || (b.unitsPerSec === a.unitsPerSec && b.node < a.node) ? b : a));
  const others = live.filter((n) => n.node !== hot.node);
  const othersMean = others.reduce((s, n) => s + n.unitsPerSec, 0) / others.length;
  if (hot.unitsPerSec < config.minUnitsPerSec || hot.unitsPerSec < config.hotFactor * othersMean) return undefined;

  let best: { replica: ReplicaLoad; to: NodeLoad; peak: number } | undefined;
  for (const replica of replicas) {
    if (replica.node !== hot.node || replica.unitsPerSec <= 0) continue;
    for (const to of others) {
      if (replica.groupNodes.includes(to.node)) continue;
      const peak = Math.max(hot.unitsPerSec - replica.unitsPerSec, to.unitsPerSec + replica.unitsPerSec);
      if (peak >= hot.unitsPerSec) continue;
      const better = best === undefined
        || peak < best.peak
        || (peak === best.peak && replica.unitsPerSec > best.replica.unitsPerSec)
        || (peak === best.peak && replica.unitsPerSec === best.replica.unitsPerSec && to.node < best.to.node);
      if (better) best = { replica, to, peak };
    }
  }
  if (best === undefined) return undefined;
  const { replica, to, peak } = best;
  return {
    table: replica.table,
    group: replica.group,
    from: hot.node,
    to: to.node,
    unitsPerSec: replica.unitsPerSec,
    detail: `node ${hot.node} consumes ${round(hot.unitsPerSec)} units/s (others ${round(othersMean)} on average); `
      + `moving ${replica.table} group ${replica.group} (${round(replica.unitsPerSec)} units/s) to node ${to.node} leaves at most ${round(peak)} on either`,
  };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

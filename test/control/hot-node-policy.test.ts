import { describe, expect, it } from 'vitest';
import { decideMove, type HotNodeConfig, type NodeLoad, type ReplicaLoad } from '../../src/control/hot-node-policy.js';

const config: HotNodeConfig = { hotFactor: 2, minUnitsPerSec: 100 };
const nodes = (...units: number[]): NodeLoad[] => units.map((unitsPerSec, node) => ({ node, alive: true, unitsPerSec }));
const replica = (group: number, node: number, unitsPerSec: number, groupNodes: number[]): ReplicaLoad => ({ table: 't', group, node, unitsPerSec, groupNodes });

describe('decideMove', () => {
  it('nothing to move when no node is far above the others, or the cluster is idle', () => {
    const replicas = [replica(1, 0, 500, [0, 1, 2])];
    expect(decideMove(nodes(500, 300, 300, 300), replicas, config)).toBeUndefined();
    expect(decideMove(nodes(90, 0, 0, 0), [replica(1, 0, 90, [0, 1, 2])], config)).toBeUndefined();
  });

  it('moves the hot node\'s replica that evens things out most, to the coldest node outside its group', () => {
    // Node 0: groups 1 (600), 2 (300), 3 (100); node 3 is the coldest outside their groups.
    const replicas = [
      replica(1, 0, 600, [0, 1, 2]),
      replica(2, 0, 300, [0, 1, 2]),
      replica(3, 0, 100, [0, 1, 2]),
      replica(4, 1, 200, [1, 2, 3]),
    ];
    const move = decideMove(nodes(1000, 200, 200, 100), replicas, config);
    expect(move).toMatchObject({ table: 't', group: 1, from: 0, to: 3, unitsPerSec: 600 });
    // max(1000 - 600, 100 + 600) = 700 < max(1000 - 300, 100 + 300) = 700: a tie, the larger move wins.
    expect(move!.detail).toContain('leaves at most 700');
  });

  it('never moves a replica to a node that already hosts its group', () => {
    const replicas = [replica(1, 0, 800, [0, 1, 2, 3]), replica(2, 0, 200, [0, 1, 2])];
    expect(decideMove(nodes(1000, 100, 100, 100), replicas, config)).toMatchObject({ group: 2, to: 3 });
    // Three nodes, a group on all of them: nowhere to go.
    expect(decideMove(nodes(1000, 100, 100), [replica(1, 0, 1000, [0, 1, 2])], config)).toBeUndefined();
  });

  it('leaves dead nodes out, as source and as destination', () => {
    const replicas = [replica(1, 0, 900, [0, 1, 2])];
    const down = nodes(1000, 100, 100, 0);
    down[3].alive = false;
    expect(decideMove(down, replicas, config)).toBeUndefined();
    down[3].alive = true;
    down[4] = { node: 4, alive: true, unitsPerSec: 0 };
    expect(decideMove(down, replicas, config)).toMatchObject({ to: 3 });
  });

  it('no move that would not lower the peak', () => {
    // One replica carries all of the hot node's load: moving it makes the destination as hot.
    expect(decideMove(nodes(1000, 0, 0, 0), [replica(1, 0, 1000, [0, 1, 2])], config)).toBeUndefined();
  });
});

/**
 * Global admission control without a cluster: GAC's table buckets on the shared board,
 * routers leasing from them, the board's capacities as nodes read them.
 */
import { describe, expect, it } from 'vitest';
import { AdmissionBoard, MODE_ON_DEMAND, READ, WRITE, type AdmissionSettings } from '../../src/model/admission-board.js';
import { GlobalAdmission } from '../../src/control/gac.js';
import type { TableMeta } from '../../src/control/metadata.js';
import { NodeAdmission } from '../../src/node/admission.js';
import { RouterAdmission } from '../../src/router/admission.js';

const SETTINGS: AdmissionSettings = {
  enabled: true, globalAdmission: true, burstSeconds: 300, nodeReadUnits: 30_000, nodeWriteUnits: 10_000, partitionReadUnits: 3000, partitionWriteUnits: 1000,
};

function table(name: string, tableId: number, billing: 'PROVISIONED' | 'PAY_PER_REQUEST', read: number, write: number, partitions: TableMeta['partitions'] = []): TableMeta {
  return { name, tableId, billingMode: billing, readCapacityUnits: read, writeCapacityUnits: write, status: 'ACTIVE', partitions } as TableMeta;
}

function gacAt(clock: { now: number }, settings: Partial<AdmissionSettings> = {}): GlobalAdmission {
  return new GlobalAdmission(new AdmissionBoard(AdmissionBoard.allocate(16)), { ...SETTINGS, ...settings }, () => clock.now);
}

describe('global admission control', () => {
  it('routers share a table bucket: together they get its burst credit and its rate, no more', () => {
    const clock = { now: 1000 };
    const gac = gacAt(clock);
    gac.sync([table('t', 7, 'PROVISIONED', 5, 10)]);
    const routers = [new RouterAdmission(gac.board), new RouterAdmission(gac.board), new RouterAdmission(gac.board)];
    let admitted = 0;
    let throttled = 0;
    for (let i = 0; i < 6000; i++) {
      const error = routers[i % 3].admit(7, WRITE, 1, clock.now);
      if (error === undefined) admitted++;
      else {
        throttled++;
        expect(error.name).toBe('ProvisionedThroughputExceededException');
        expect(error.retryable).toBe(true);
      }
    }
    expect(admitted).toBe(3000); // 300 s of 10 WCU
    expect(throttled).toBe(3000);
    clock.now += 1000;
    admitted = 0;
    for (let i = 0; i < 100; i++) if (routers[i % 3].admit(7, WRITE, 1, clock.now) === undefined) admitted++;
    expect(admitted).toBe(10);
    for (const r of routers) r.report(clock.now);
    const [capacity] = gac.capacity(clock.now);
    expect(capacity).toMatchObject({ table: 't', writeCapacityUnits: 10, consumedWriteUnits: 3010, throttledWrites: 3090 });
  });

  it('charges the real cost after the fact: a debt delays the next admissions', () => {
    const clock = { now: 0 };
    const gac = gacAt(clock, { burstSeconds: 1 });
    gac.sync([table('t', 1, 'PROVISIONED', 10, 10)]);
    const router = new RouterAdmission(gac.board);
    expect(router.admit(1, READ, 1, 0)).toBeUndefined();
    router.charge(1, READ, 20); // a Query that read 84 KB: 21 units, 1 estimated
    // The debt is paid from the table's bucket first: nothing more this second.
    for (let i = 0; i < 9; i++) expect(router.admit(1, READ, 1, 0)).toBeDefined();
    expect(router.admit(1, READ, 1, 1000)).toBeDefined(); // still in debt one second later
    expect(router.admit(1, READ, 1, 3100)).toBeUndefined();
  });

  it('on demand: a new table takes 4,000 WCU / 12,000 RCU at once, then twice its peak', () => {
    const clock = { now: 0 };
    const gac = gacAt(clock);
    gac.sync([table('od', 3, 'PAY_PER_REQUEST', 0, 0)]);
    const throttledSplits: string[] = [];
    gac.onDemandThrottled = (name, kind) => throttledSplits.push(`${name}:${kind}`);
    const router = new RouterAdmission(gac.board);
    let admitted = 0;
    for (let i = 0; i < 5000; i++) {
      const error = router.admit(3, WRITE, 1, 0);
      if (error === undefined) admitted++;
      else expect(error.name).toBe('ThrottlingException');
    }
    expect(admitted).toBe(4000);
    router.report(0);
    clock.now = 1000;
    gac.sample(clock.now);
    expect(throttledSplits).toEqual(['od:1']);
    // The peak was 4,000 units in a second: 8,000 now.
    expect(gac.capacity(clock.now)[0]).toMatchObject({ writeCapacityUnits: 8000, readCapacityUnits: 12_000, peakWriteUnitsPerSec: 4000 });
  });

  it('a provisioned table switched to on demand keeps half its provisioned rate as its previous peak', () => {
    const gac = gacAt({ now: 0 });
    gac.sync([table('t', 4, 'PROVISIONED', 30_000, 10_000)]);
    gac.sync([table('t', 4, 'PAY_PER_REQUEST', 0, 0)]);
    expect(gac.capacity(0)[0]).toMatchObject({ billingMode: 'PAY_PER_REQUEST', readCapacityUnits: 30_000, writeCapacityUnits: 10_000 });
  });

  it('a deleted table frees its slot; routers of its id stop being admitted against it', () => {
    const gac = gacAt({ now: 0 });
    gac.sync([table('t', 5, 'PROVISIONED', 1, 1)]);
    expect(gac.board.findSlot(5)).toBeGreaterThanOrEqual(0);
    gac.sync([]);
    expect(gac.board.findSlot(5)).toBe(-1);
    const router = new RouterAdmission(gac.board);
    for (let i = 0; i < 1000; i++) expect(router.admit(5, WRITE, 1, 0)).toBeUndefined();
  });
});

describe('node admission', () => {
  const quarter = { tableId: 9, hashStart: '0000000000000000', hashEnd: '3fffffffffffffff' };

  it('a partition runs at its share of its table without GAC, and up to the table (and the caps) with it', () => {
    for (const [globalAdmission, rate] of [[false, 100], [true, 400]] as const) {
      const gac = gacAt({ now: 0 }, { globalAdmission, burstSeconds: 1 });
      gac.sync([table('t', 9, 'PROVISIONED', 4000, 400)]);
      const node = new NodeAdmission(gac.board, () => quarter, 0);
      let admitted = 0;
      for (let i = 0; i < 2000; i++) if (node.admit(1, WRITE, 1, 0) === undefined) admitted++;
      expect(admitted).toBe(rate);
      const [stats] = node.stats(0);
      expect(stats.rate).toEqual([globalAdmission ? 3000 : 1000, rate]);
      expect(stats.throttled[WRITE]).toBe(2000 - rate);
    }
  });

  it('a partition whose range changed (a split) runs at its new share once the table\'s partitions change', () => {
    const gac = gacAt({ now: 0 }, { globalAdmission: false, burstSeconds: 1 });
    const range = { ...quarter };
    const partition = (hashEnd: string): TableMeta['partitions'] => [{ group: 1, hashStart: range.hashStart, hashEnd, replicas: [0, 1, 2] }];
    gac.sync([table('t', 9, 'PROVISIONED', 400, 400, partition(range.hashEnd))]);
    const node = new NodeAdmission(gac.board, () => range, 0);
    node.admit(1, WRITE, 1, 0);
    expect(node.stats(0)[0].rate[WRITE]).toBe(100);
    range.hashEnd = '7fffffffffffffff';
    gac.sync([table('t', 9, 'PROVISIONED', 400, 400, partition(range.hashEnd))]);
    expect(node.stats(0)[0].rate[WRITE]).toBe(200);
  });

  it('a page that cost more than its estimate puts the partition in debt', () => {
    const gac = gacAt({ now: 0 }, { globalAdmission: false, burstSeconds: 1 });
    gac.sync([table('t', 9, 'PROVISIONED', 400, 400)]);
    const node = new NodeAdmission(gac.board, () => quarter, 0);
    expect(node.admit(1, READ, 1, 0)).toBeUndefined();
    node.charge(1, READ, 149); // a 600 KB Query page: 150 units
    expect(node.stats(0)[0]).toMatchObject({ consumed: [150, 0], credit: [-50, 100] });
    expect(node.admit(1, READ, 1, 400)?.name).toBe('ProvisionedThroughputExceededException');
    expect(node.admit(1, READ, 1, 600)).toBeUndefined();
  });

  it('the node bucket caps what all its partitions take together', () => {
    const gac = gacAt({ now: 0 }, { nodeWriteUnits: 50, burstSeconds: 1 });
    gac.sync([table('t', 9, 'PROVISIONED', 4000, 4000)]);
    const node = new NodeAdmission(gac.board, () => quarter, 0);
    let admitted = 0;
    for (let i = 0; i < 200; i++) if (node.admit(1 + (i % 2), WRITE, 1, 0) === undefined) admitted++;
    expect(admitted).toBe(50);
  });

  it('follows UpdateTable through the board, and throttles on demand with ThrottlingException', () => {
    const gac = gacAt({ now: 0 }, { globalAdmission: false, burstSeconds: 1 });
    gac.sync([table('t', 9, 'PROVISIONED', 4, 4)]);
    const node = new NodeAdmission(gac.board, () => quarter, 0);
    expect(node.admit(1, WRITE, 1, 0)).toBeUndefined();
    expect(node.admit(1, WRITE, 1, 0)?.name).toBe('ProvisionedThroughputExceededException');
    gac.sync([table('t', 9, 'PAY_PER_REQUEST', 0, 0)]);
    expect(gac.board.mode(gac.board.findSlot(9))).toBe(MODE_ON_DEMAND);
    let last;
    for (let i = 0; i < 2000 && last === undefined; i++) last = node.admit(1, WRITE, 1, 0);
    expect(last?.name).toBe('ThrottlingException');
  });
});

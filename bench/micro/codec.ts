/** (c) encode + decode of a 10-field, 900-byte DynamoDB-shaped item with msgpackr. */
import { Packr, Unpackr } from 'msgpackr';
import { Bench } from 'tinybench';
import { MessageCodec } from '../../src/transport/codec.js';
import { Ring } from '../../src/transport/ring.js';
import { ycsbItem, type BenchRow, type BenchSection } from './section.js';

export const codecSection: BenchSection = {
  name: 'codec',
  budgetSeconds: 8,
  async run(): Promise<BenchRow[]> {
    const item = ycsbItem(7);
    const message = { k: 'req', from: 3, reqs: [{ id: 1, group: 5, body: { op: 'put', table: 'usertable', item } }] };
    const bench = new Bench({ time: 800, warmupTime: 200 });
    let sink = 0;
    const rings: Record<string, { codec: MessageCodec; ring: Ring }> = {};
    for (const useRecords of [false, true]) {
      const codec = new MessageCodec({ useRecords });
      const ring = new Ring(Ring.allocate(1 << 20));
      rings[String(useRecords)] = { codec, ring };
      bench.add(`ring write+read, useRecords=${useRecords}`, () => {
        codec.write(ring, message);
        codec.read(ring, (m) => (sink += (m as { from: number }).from));
      });
    }
    for (const [name, opts] of [
      ['plain pack+unpack item, useRecords=false', { useRecords: false }],
      ['plain pack+unpack item, useRecords=true', { useRecords: true }],
      ['plain pack+unpack item, shared structures', { structures: [] as object[] }],
    ] as const) {
      const p = new Packr(opts as object);
      const u = new Unpackr(opts as object);
      bench.add(name, () => {
        const b = p.pack(item);
        sink += (u.unpack(b) as Record<string, unknown>).field0 ? 1 : 0;
      });
    }
    await bench.run();
    if (sink < 0) console.log(sink);
    const rows: BenchRow[] = [];
    for (const t of bench.tasks) {
      const r = t.result;
      if (r.state !== 'completed') {
        rows.push({ metric: t.name, value: NaN, unit: 'µs', note: `task ${r.state}` });
        continue;
      }
      const size = t.name.startsWith('ring') ? ` (${rings[t.name.endsWith('true') ? 'true' : 'false'].ring.stats().bytesRead / rings[t.name.endsWith('true') ? 'true' : 'false'].ring.stats().recordsRead | 0} B/msg)` : '';
      rows.push({
        metric: `${t.name}${size}`,
        value: r.latency.p50 * 1000,
        unit: 'µs p50',
        target: 'ref ~2.7 µs',
        note: `mean ${(r.latency.mean * 1000).toFixed(2)} µs`,
      });
    }
    return rows;
  },
};

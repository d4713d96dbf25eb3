// The process that test/recovery/sigkill.test.ts kills with SIGKILL. It opens the cluster
// in argv[2] (recovering whatever the last kill left), checks what the parent says was
// acknowledged so far (argv[3], a JSON file), then drives writes until killed.
//
// Every acknowledged write is appended to argv[4] with a synchronous write the moment
// its promise resolves, and every attempt before it is sent: a file write survives the
// SIGKILL (it is in the page cache), so the parent knows exactly what was acknowledged.
// Phases go to stdout ("opened", "verified", "checkpoint", "closing") for the parent's kill timing.
import { setTimeout as sleep } from 'node:timers/promises';
import { appendFileSync, closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { ShardBox } from '../../dist/src/index.js';

const [dir, expectedFile, logFile, seedText, mode, durability] = process.argv.slice(2);
const seed = Number(seedText);
const TABLE = 'sigkill';
const CHAINS = 16;
const PUTTERS = 8;
const log = openSync(logFile, 'a');
const record = (line) => writeSync(log, `${line}\n`);
const phase = (name) => process.stdout.write(`${name}\n`);

const db = await ShardBox.open({ dir, durability, partitions: 3, seed });
phase('opened');
if (!(await db.listTables()).TableNames.includes(TABLE)) {
  // Two global indexes: on the chains' version (changes on every update) and the puts' value.
  await db.createTable({
    TableName: TABLE, KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }, { AttributeName: 'm', AttributeType: 'N' }, { AttributeName: 'v', AttributeType: 'N' }],
    BillingMode: 'PAY_PER_REQUEST',
    GlobalSecondaryIndexes: [
      { IndexName: 'byM', KeySchema: [{ AttributeName: 'm', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' } },
      { IndexName: 'byV', KeySchema: [{ AttributeName: 'v', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } },
    ],
  });
}

// What the previous rounds acknowledged must all be here, and nothing half-applied.
const expected = JSON.parse(readFileSync(expectedFile, 'utf8'));
const versions = new Map();
for (let c = 0; c < CHAINS; c++) {
  const key = `chain-${c}`;
  const { Item } = await db.getItem({ TableName: TABLE, Key: { id: { S: key } }, ConsistentRead: true });
  const n = Item === undefined ? undefined : Number(Item.n.N);
  const acked = expected.acked[key];
  if (acked !== undefined && !(n >= acked && n <= expected.attempted[key])) fail(`${key} holds version ${n}; acknowledged ${acked}, attempted ${expected.attempted[key]}`);
  if (Item !== undefined && Item.m?.N !== Item.n.N) fail(`${key} is half-applied: n=${Item.n.N} m=${Item.m?.N}`);
  versions.set(key, n);
}
for (const [key, value] of Object.entries(expected.puts)) {
  const { Item } = await db.getItem({ TableName: TABLE, Key: { id: { S: key } }, ConsistentRead: true });
  if (Item?.v?.N !== String(value)) fail(`acknowledged put ${key} is missing (got ${JSON.stringify(Item)})`);
}
phase('verified');

let stopping = false;
/** After a failed request: a request that fails at once (the database closing) must not
 *  turn a loop into a busy spin that starves the event loop. */
const pause = () => sleep(2);
const chains = Array.from({ length: CHAINS }, async (_, c) => {
  const key = `chain-${c}`;
  let known = versions.get(key);
  while (!stopping) {
    if (known === undefined) {
      try {
        const { Item } = await db.getItem({ TableName: TABLE, Key: { id: { S: key } }, ConsistentRead: true });
        if (Item === undefined) {
          record(`T ${key} 0`);
          await db.putItem({ TableName: TABLE, Item: { id: { S: key }, n: { N: '0' }, m: { N: '0' } }, ConditionExpression: 'attribute_not_exists(id)' });
          known = 0;
        } else {
          known = Number(Item.n.N);
        }
      } catch {
        await pause();
        continue;
      }
    }
    const next = known + 1;
    record(`T ${key} ${next}`);
    try {
      await db.updateItem({
        TableName: TABLE, Key: { id: { S: key } },
        UpdateExpression: 'SET n = :next, m = :next', ConditionExpression: 'n = :prev',
        ExpressionAttributeValues: { ':next': { N: String(next) }, ':prev': { N: String(known) } },
      });
      record(`A ${key} ${next}`);
      known = next;
    } catch {
      known = undefined;
      await pause();
    }
  }
});
let nextPut = 0;
const putters = Array.from({ length: PUTTERS }, async () => {
  while (!stopping) {
    const i = nextPut++;
    const key = `put-${seed}-${i}`;
    try {
      await db.putItem({ TableName: TABLE, Item: { id: { S: key }, v: { N: String(i) } } });
      record(`P ${key} ${i}`);
    } catch {
      // unknown outcome: the parent checks only what was acknowledged
      await pause();
    }
  }
});

if (mode === 'checkpoint') {
  // Say when the first node finishes a checkpoint: the nodes started together, so the
  // others are in theirs (B-tree sync, WAL compaction) when the parent's kill lands.
  const checkpoints = async () => (await db.nodeStats()).reduce((sum, s) => sum + (s?.store.checkpoints ?? 0), 0);
  const before = await checkpoints();
  while ((await checkpoints()) === before) await new Promise((resolve) => setTimeout(resolve, 5));
  phase('checkpoint');
  await Promise.all([...chains, ...putters]);
} else if (mode === 'close') {
  // Killed while closing: the nodes' final checkpoints are in flight.
  await new Promise((resolve) => setTimeout(resolve, 300));
  stopping = true;
  await Promise.all([...chains, ...putters]);
  phase('closing');
  await db.close();
  phase('closed');
} else {
  await Promise.all([...chains, ...putters]);
}

function fail(message) {
  appendFileSync(logFile, `F ${message}\n`);
  closeSync(log);
  process.stderr.write(`${message}\n`);
  process.exit(3);
}

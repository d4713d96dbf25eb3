/**
 * The run-time patch of dynalite's test/helpers.js (mhart/dynalite 3.2.1, 58d0955): the
 * suite then targets an external endpoint (DYNALITE_ENDPOINT) instead of starting dynalite
 * in-process, and NO_INDEXES=1 strips the secondary indexes from its set-up tables. Each
 * step replaces one exact snippet that must occur exactly once, so a changed helpers.js
 * fails loudly here instead of running a half-patched suite.
 */

const ENDPOINT_OPTS = `// shardbox harness: target an external endpoint (DYNALITE_ENDPOINT=http://host:port)
// instead of starting dynalite in-process. Requests are signed for service 'dynamodb' in
// exports.awsRegion, as aws4 would derive from a real DynamoDB host name.
if (!process.env.REMOTE && !process.env.DYNALITE_ENDPOINT)
  throw new Error('helpers.js (shardbox harness): set DYNALITE_ENDPOINT=http://127.0.0.1:PORT')
var endpoint = process.env.DYNALITE_ENDPOINT ? new URL(process.env.DYNALITE_ENDPOINT) : null,
    requestOpts = process.env.REMOTE ?
      {host: 'dynamodb.' + exports.awsRegion + '.amazonaws.com', method: 'POST'} :
      {host: endpoint.hostname, port: Number(endpoint.port) || 80, method: 'POST',
        service: 'dynamodb', region: exports.awsRegion}
`;

const NO_INDEXES = `  // shardbox harness: NO_INDEXES=1 strips the secondary indexes from the set-up tables only
  // (and the AttributeDefinitions only they used, which CreateTable would reject)
  if (process.env.NO_INDEXES && process.env.NO_INDEXES !== '0') {
    tables.forEach(function(table) {
      delete table.LocalSecondaryIndexes
      delete table.GlobalSecondaryIndexes
      var keys = table.KeySchema.map(function(k) { return k.AttributeName })
      table.AttributeDefinitions = table.AttributeDefinitions.filter(function(d) { return keys.indexOf(d.AttributeName) >= 0 })
    })
  }
`;

/** The steps, in order: what each finds in dynalite's helpers.js and what replaces it. */
export const HELPERS_PATCH = [
  {
    step: 'do not load dynalite itself',
    find: `    once = require('once'),\n    dynalite = require('..')\n`,
    replace: `    once = require('once')\n`,
  },
  {
    step: 'request options for DYNALITE_ENDPOINT instead of a random local port',
    find: `var port = 10000 + Math.round(Math.random() * 10000),
    requestOpts = process.env.REMOTE ?
      {host: 'dynamodb.' + exports.awsRegion + '.amazonaws.com', method: 'POST'} :
      {host: '127.0.0.1', port: port, method: 'POST'}

var dynaliteServer = dynalite({path: process.env.DYNALITE_PATH})
`,
    replace: ENDPOINT_OPTS,
  },
  {
    step: 'root before hook: create the tables without starting dynalite',
    find: `  dynaliteServer.listen(port, function(err) {
    if (err) return done(err)
    createTestTables(function(err) {
      if (err) return done(err)
      getAccountId(done)
    })
  })
`,
    replace: `  createTestTables(function(err) {
    if (err) return done(err)
    getAccountId(done)
  })
`,
  },
  {
    step: 'root after hook: delete the tables without stopping dynalite',
    find: `  deleteTestTables(function(err) {
    if (err) return done(err)
    dynaliteServer.close(done)
  })
`,
    replace: `  deleteTestTables(done)\n`,
  },
  {
    step: 'NO_INDEXES=1 in createTestTables',
    find: `  async.forEach(tables, createAndWait, done)\n`,
    replace: NO_INDEXES + `  async.forEach(tables, createAndWait, done)\n`,
  },
];

/** helpers.js patched; throws naming the first step whose snippet is missing or repeated. */
export function patchHelpers(source) {
  let out = source.replace(/\r\n/g, '\n');
  for (const { step, find, replace } of HELPERS_PATCH) {
    const at = out.indexOf(find);
    const count = at < 0 ? 0 : out.split(find).length - 1;
    if (count !== 1) {
      throw new Error(
        `dynalite's test/helpers.js has changed: the patch step "${step}" expects this snippet exactly once, ` +
          `found it ${count} times (the patch is written for mhart/dynalite 3.2.1, 58d0955; ` +
          `update bench/conformance/patch-helpers.mjs):\n${find}`,
      );
    }
    out = out.slice(0, at) + replace + out.slice(at + find.length);
  }
  return out;
}

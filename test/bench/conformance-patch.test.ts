import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { patchHelpers } from '../../bench/conformance/patch-helpers.mjs';

/** The parts of dynalite 3.2.1's test/helpers.js the patch touches, with a little around them. */
const SAMPLE = `var http = require('http'),
    aws4 = require('aws4'),
    async = require('async'),
    once = require('once'),
    dynalite = require('..')

exports.awsRegion = process.env.AWS_REGION || 'us-east-1'

var port = 10000 + Math.round(Math.random() * 10000),
    requestOpts = process.env.REMOTE ?
      {host: 'dynamodb.' + exports.awsRegion + '.amazonaws.com', method: 'POST'} :
      {host: '127.0.0.1', port: port, method: 'POST'}

var dynaliteServer = dynalite({path: process.env.DYNALITE_PATH})

before(function(done) {
  this.timeout(200000)
  dynaliteServer.listen(port, function(err) {
    if (err) return done(err)
    createTestTables(function(err) {
      if (err) return done(err)
      getAccountId(done)
    })
  })
})

after(function(done) {
  this.timeout(500000)
  deleteTestTables(function(err) {
    if (err) return done(err)
    dynaliteServer.close(done)
  })
})

function createTestTables(done) {
  var tables = []
  async.forEach(tables, createAndWait, done)
}
`;

describe('patchHelpers (dynalite test/helpers.js for an external server)', () => {
  it('drops the in-process dynalite, targets DYNALITE_ENDPOINT and adds the NO_INDEXES switch', () => {
    const patched = patchHelpers(SAMPLE);
    expect(patched).not.toMatch(/dynalite\(|dynaliteServer|require\('\.\.'\)|var port/);
    expect(patched).toContain("    once = require('once')\n\n");
    expect(patched).toContain('new URL(process.env.DYNALITE_ENDPOINT)');
    expect(patched).toContain("  createTestTables(function(err) {\n    if (err) return done(err)\n    getAccountId(done)\n  })\n})");
    expect(patched).toContain('  deleteTestTables(done)\n})');
    const noIndexes = patched.indexOf('process.env.NO_INDEXES');
    expect(noIndexes).toBeGreaterThan(patched.indexOf('function createTestTables'));
    expect(noIndexes).toBeLessThan(patched.indexOf('async.forEach(tables, createAndWait, done)'));
    expect(() => new Script(patched)).not.toThrow();
  });

  it('patches a file with CRLF line ends the same way', () => {
    expect(patchHelpers(SAMPLE.replace(/\n/g, '\r\n'))).toBe(patchHelpers(SAMPLE));
  });

  it('refuses a helpers.js whose snippet changed, naming the step', () => {
    const changed = SAMPLE.replace('dynaliteServer.close(done)', 'dynaliteServer.close(function() { done() })');
    expect(() => patchHelpers(changed)).toThrow(/patch step "root after hook[^"]*" expects this snippet exactly once, found it 0 times/);
  });

  it('refuses a snippet that occurs twice rather than patching one of them', () => {
    const doubled = SAMPLE.replace('function createTestTables(done) {', 'function other(done) {\n  async.forEach(tables, createAndWait, done)\n}\nfunction createTestTables(done) {');
    expect(() => patchHelpers(doubled)).toThrow(/NO_INDEXES[^"]*" expects this snippet exactly once, found it 2 times/);
  });
});

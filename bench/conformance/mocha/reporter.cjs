// Mocha reporter for the harness: at 'start' it lists every test mocha loaded (the plan:
// what a complete run would execute), then one line per pass / fail / pending, and 'end'.
// Tests in the plan with no result line never ran (the run ended early).
'use strict'
var path = require('path')
var Base = require(require.resolve('mocha/lib/reporters/base', {paths: [process.cwd()]}))
var record = require('./record.cjs')

function titlePath(r) {
  var t = []
  for (var p = r; p && !p.root; p = p.parent) t.unshift(p.title)
  return t
}

function Reporter(runner) {
  Base.call(this, runner)
  var next = 0
  var counts = {pass: 0, fail: 0, pending: 0}

  function info(r) {
    return {id: r.__hid, type: r.type, file: r.file ? path.basename(r.file) : undefined, titlePath: titlePath(r), fullTitle: r.fullTitle()}
  }

  runner.on('start', function() {
    var tests = []
    ;(function walk(suite, skipped) {
      suite.tests.forEach(function(t) {
        t.__hid = next++
        tests.push({id: t.__hid, file: t.file ? path.basename(t.file) : undefined, titlePath: titlePath(t), fullTitle: t.fullTitle(), pending: !!(skipped || t.pending || suite.pending || !t.fn)})
      })
      suite.suites.forEach(function(s) { walk(s, skipped || s.pending) })
    })(runner.suite, false)
    record.write({type: 'plan', pid: process.pid, tests: tests})
  })
  runner.on('hook', function(h) { if (h.__hid === undefined) h.__hid = 'hook:' + next++ })
  runner.on('pass', function(t) {
    counts.pass++
    var o = info(t); o.type = 'pass'; o.duration = t.duration
    record.write(o)
  })
  runner.on('fail', function(t, err) {
    counts.fail++
    var o = info(t); o.runnableType = t.type; o.type = 'fail'; o.err = record.errInfo(err)
    record.write(o)
  })
  runner.on('pending', function(t) {
    counts.pending++
    var o = info(t); o.type = 'pending'
    record.write(o)
  })
  runner.on('end', function() {
    record.write({type: 'end', counts: counts})
    process.stderr.write('harness: ' + counts.pass + ' passed, ' + counts.fail + ' failed, ' + counts.pending + ' pending (this file)\n')
  })
}
module.exports = Reporter

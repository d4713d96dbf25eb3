// --require'd into every mocha process of bench/conformance/run.mjs.
//
// dynalite's tests assert inside HTTP response callbacks, and several (assertType, ...)
// fire many requests at once: the first failed assertion fails the test, the rest throw
// later, while mocha already runs another test. Mocha 6 then blames the test that happens
// to be running, or, when that one has already passed, ends the whole run ("we cannot
// recover gracefully"). Here every runnable (test or hook) runs inside an
// AsyncLocalStorage context, so an uncaught exception is attributed to the runnable whose
// callback threw. If that runnable is no longer the current one, the error is recorded as
// a late error of its owner (the summary counts the owner as failed) and the run goes on.
'use strict'
var AsyncLocalStorage = require('async_hooks').AsyncLocalStorage
var path = require('path')
var Runnable = require(require.resolve('mocha/lib/runnable', {paths: [process.cwd()]}))
var Runner = require(require.resolve('mocha/lib/runner', {paths: [process.cwd()]}))
var record = require('./record.cjs')

var als = new AsyncLocalStorage()

var origRun = Runnable.prototype.run
Runnable.prototype.run = function(fn) {
  var self = this
  return als.run(self, function() { return origRun.call(self, fn) })
}

var origUncaught = Runner.prototype.uncaught
Runner.prototype.uncaught = function(err) {
  var owner = als.getStore()
  if (owner && owner !== this.currentRunnable) {
    record.write({
      type: 'late',
      id: owner.__hid,
      runnableType: owner.type,
      fullTitle: owner.fullTitle(),
      file: owner.file ? path.basename(owner.file) : undefined,
      current: this.currentRunnable ? this.currentRunnable.fullTitle() : null,
      err: record.errInfo(err),
    })
    return
  }
  return origUncaught.call(this, err)
}

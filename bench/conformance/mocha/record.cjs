// Appends one JSON line per event to $HARNESS_EVENTS synchronously, so whatever happened
// before a crash is on disk.
'use strict'
var fs = require('fs')
var util = require('util')
var file = process.env.HARNESS_EVENTS

exports.write = function(obj) {
  var line = JSON.stringify(obj) + '\n'
  if (file) fs.appendFileSync(file, line)
  else process.stdout.write(line)
}

function str(v) {
  if (typeof v === 'string') return v
  try { return util.inspect(v, {depth: 6, breakLength: Infinity}) } catch (e) { return String(v) }
}

exports.errInfo = function(err) {
  if (!(err instanceof Error)) return {message: 'non-Error thrown: ' + str(err)}
  var info = {name: err.name, message: String(err.message), stack: err.stack ? String(err.stack).split('\n').slice(0, 8).join('\n') : undefined}
  if ('expected' in err) info.expected = str(err.expected)
  if ('actual' in err) info.actual = str(err.actual)
  if (err.code) info.code = err.code
  return info
}

/**
 * Joins the test listing (EVENTS/_plan.jsonl) with the per-file events the mocha reporter
 * wrote (EVENTS/<file>.jsonl) into OUT/results.json and OUT/failures.txt, and returns the
 * summary table. A test with no result in its file's run is "not run"; a test that passed
 * but threw a late assertion error (mocha/late-errors.cjs) counts as failed; pending
 * (it.skip) tests are reported separately and are not part of total.
 */
import fs from 'node:fs';
import path from 'node:path';

function readEvents(file) {
  if (!fs.existsSync(file)) return []
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(function(l) {
    try { return JSON.parse(l) } catch (e) { return {type: 'garbage', line: l} }
  })
}
function key(file, fullTitle, n) { return file + '\u0000' + fullTitle + '\u0000' + n }
function firstLine(s) { return String(s || '').split('\n')[0] }
function oneLine(s) { s = String(s || ''); var f = firstLine(s); return (/[{\[]\s*$/.test(f) ? s.replace(/\s+/g, ' ') : f).slice(0, 600) }


export function summarize(eventsDir, outDir) {
  var listing = readEvents(path.join(eventsDir, '_plan.jsonl')).filter(function(e) { return e.type === 'plan' })[0]
  if (!listing) throw new Error('no test listing in ' + eventsDir)

  var tests = [], byKey = {}, seen = {}
  listing.tests.forEach(function(t) {
    var k0 = t.file + '\u0000' + t.fullTitle, n = seen[k0] = (seen[k0] || 0) + 1
    var rec = {file: t.file, action: t.titlePath[0], category: t.titlePath.length > 2 ? t.titlePath[1] : '(none)',
      fullTitle: t.fullTitle, title: t.titlePath[t.titlePath.length - 1], status: t.pending ? 'pending' : 'not run', error: null, late: []}
    tests.push(rec)
    byKey[key(t.file, t.fullTitle, n)] = rec
  })

  var hookFailures = [], strays = [], files = {}
  var fileNames = fs.readdirSync(eventsDir).filter(function(f) { return f !== '_plan.jsonl' && /\.jsonl$/.test(f) })
  fileNames.forEach(function(f) {
    var ev = readEvents(path.join(eventsDir, f))
    var plan = ev.filter(function(e) { return e.type === 'plan' })[0]
    var idToRec = {}, cnt = {}
    if (plan) plan.tests.forEach(function(t) {
      var k0 = t.file + '\u0000' + t.fullTitle, n = cnt[k0] = (cnt[k0] || 0) + 1
      idToRec[t.id] = byKey[key(t.file, t.fullTitle, n)]
    })
    files[f.replace(/\.jsonl$/, '')] = {started: !!plan, ended: ev.some(function(e) { return e.type === 'end' })}
    ev.forEach(function(e) {
      if (e.type === 'pass' || e.type === 'fail' || e.type === 'pending') {
        var rec = idToRec[e.id]
        if (e.type === 'fail' && (e.runnableType === 'hook' || rec === undefined)) {
          hookFailures.push({file: e.file || f.replace(/\.jsonl$/, '.js'), fullTitle: e.fullTitle, error: e.err})
          return
        }
        if (!rec) { strays.push(e); return }
        if (e.type === 'pass') { if (rec.status !== 'failed') rec.status = 'passed'; rec.duration = e.duration }
        else if (e.type === 'pending') rec.status = 'pending'
        else { rec.status = 'failed'; if (!rec.error) rec.error = e.err }
      } else if (e.type === 'late') {
        var r = idToRec[e.id]
        if (!r) { hookFailures.push({file: e.file || f.replace(/\.jsonl$/, '.js'), fullTitle: e.fullTitle + ' (late error)', error: e.err}); return }
        r.late.push(e.err)
      }
    })
  })
  tests.forEach(function(t) {
    if (t.late.length && t.status === 'passed') { t.status = 'failed'; t.error = Object.assign({}, t.late[0], {message: '(late, after the test had passed) ' + t.late[0].message}) }
  })

  function count(list) {
    var c = {total: 0, passed: 0, failed: 0, 'not run': 0, pending: 0}
    list.forEach(function(t) { if (t.status === 'pending') c.pending++; else { c.total++; c[t.status]++ } })
    return c
  }
  function group(by) {
    var g = {}
    tests.forEach(function(t) { var k = by(t); (g[k] = g[k] || []).push(t) })
    var out = {}
    Object.keys(g).sort().forEach(function(k) { out[k] = count(g[k]) })
    return out
  }
  var summary = {
    total: count(tests),
    byCategory: group(function(t) { return t.category }),
    byAction: group(function(t) { return t.action }),
    byActionCategory: group(function(t) { return t.action + ' > ' + t.category }),
  }
  fs.writeFileSync(path.join(outDir, 'results.json'), JSON.stringify({summary: summary, files: files, hookFailures: hookFailures, strays: strays, tests: tests}, null, 1))
  var lines = tests.filter(function(t) { return t.status === 'failed' || t.status === 'not run' }).map(function(t) {
    // the first line, or for a multi-line assertion (object diffs) the whole message on one line
    var msg = t.status === 'not run' ? 'NOT RUN' : oneLine(t.error && t.error.message)
    return t.file + '\t' + t.fullTitle + '\t' + msg
  })
  hookFailures.forEach(function(h) { lines.push(h.file + '\t' + h.fullTitle + '\tHOOK: ' + firstLine(h.error && h.error.message)) })
  fs.writeFileSync(path.join(outDir, 'failures.txt'), lines.join('\n') + '\n')

  function row(name, c) {
    return [name.padEnd(44), String(c.total).padStart(6), String(c.passed).padStart(7), String(c.failed).padStart(7), String(c['not run']).padStart(8), String(c.pending).padStart(8)].join(' ')
  }
  var head = ['', 'total', 'passed', 'failed', 'not run', 'pending'].map(function(h, i) { return i ? h.padStart(i === 1 ? 6 : i < 4 ? 7 : 8) : ''.padEnd(44) }).join(' ')
  var out = [head, row('ALL', summary.total), '', 'by category:']
  Object.keys(summary.byCategory).forEach(function(k) { out.push(row('  ' + k, summary.byCategory[k])) })
  out.push('', 'by action > category:')
  Object.keys(summary.byActionCategory).forEach(function(k) { out.push(row('  ' + k, summary.byActionCategory[k])) })
  Object.keys(files).forEach(function(f) { if (!files[f].ended) out.push('note: ' + f + ': mocha did not reach its end event (crash or timeout)') })
  if (hookFailures.length) out.push('', 'hook / unattributed failures: ' + hookFailures.length + ' (in failures.txt, marked HOOK)')
  var late = tests.filter(function(t) { return t.late.length }).length
  if (late) out.push('tests with late (after-the-test) assertion errors: ' + late)
  return out.join('\n')
}

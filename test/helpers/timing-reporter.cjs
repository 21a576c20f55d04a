/**
 * mocha's spec output, then where the time went: each test file's wall time (its root suite's
 * hooks and tests) and the slowest tests, printed at the end and written as JSON to
 * $DEVFLOW_TEST_TIMING (when set). Serial runs only: under --parallel the events arrive replayed.
 *   npx mocha --reporter test/helpers/timing-reporter.cjs 'test/e2e/**\/*.test.ts'
 */
/* global require, module */
/* eslint-disable @typescript-eslint/no-require-imports -- mocha loads reporters with require() */
const {writeFileSync} = require('node:fs')
const {relative} = require('node:path')

const Mocha = require('mocha')

const {EVENT_RUN_END, EVENT_SUITE_BEGIN, EVENT_SUITE_END, EVENT_TEST_END} = Mocha.Runner.constants

class TimingReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options)
    const started = Date.now()
    const files = new Map()
    const tests = []
    const isFileSuite = (suite) => suite.file && suite.parent && suite.parent.root
    runner.on(EVENT_SUITE_BEGIN, (suite) => {
      if (isFileSuite(suite)) files.set(suite.file, {...(files.get(suite.file) ?? {ms: 0}), since: Date.now()})
    })
    runner.on(EVENT_SUITE_END, (suite) => {
      if (isFileSuite(suite)) files.get(suite.file).ms += Date.now() - files.get(suite.file).since
    })
    runner.on(EVENT_TEST_END, (test) => tests.push({title: test.fullTitle(), file: test.file, ms: test.duration ?? 0}))
    runner.once(EVENT_RUN_END, () => {
      const rows = [...files].map(([file, {ms}]) => ({file: relative(process.cwd(), file), ms})).sort((a, b) => b.ms - a.ms)
      const slowest = tests.sort((a, b) => b.ms - a.ms).slice(0, 20)
      const totalMs = Date.now() - started
      console.log(`\nwall time ${(totalMs / 1000).toFixed(0)} s; by file:`)
      for (const row of rows) console.log(`${(row.ms / 1000).toFixed(1).padStart(8)} s  ${row.file}`)
      console.log('slowest tests:')
      for (const test of slowest) console.log(`${(test.ms / 1000).toFixed(1).padStart(8)} s  ${test.title}`)
      if (process.env.DEVFLOW_TEST_TIMING) writeFileSync(process.env.DEVFLOW_TEST_TIMING, JSON.stringify({totalMs, files: rows, slowest}, null, 1))
    })
  }
}

module.exports = TimingReporter

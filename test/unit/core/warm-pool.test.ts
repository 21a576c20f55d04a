import {expect} from 'chai'

import {parseWarmSchedule, warmTarget} from '../../../src/core/warm-pool.js'
import {rejection} from '../../helpers/assertions.js'

describe('core: the warm pool\'s schedule (devflow:warmSchedule)', () => {
  const at = (iso: string) => new Date(iso)

  it('reads windows with and without days, and sizes the pool by the first that matches', () => {
    const windows = parseWarmSchedule('mon-fri 07:00-19:00=3, sat+sun 10:00-12:00=1, 22:00-02:00=2')
    const settings = {baseTasks: 0, windows}
    expect(warmTarget(settings, at('2026-12-02T08:30:00Z'))).to.equal(3) // a Wednesday
    expect(warmTarget(settings, at('2026-12-02T19:00:00Z'))).to.equal(0) // the end is exclusive
    expect(warmTarget(settings, at('2026-12-05T11:00:00Z'))).to.equal(1) // a Saturday
    expect(warmTarget(settings, at('2026-12-05T08:00:00Z'))).to.equal(0)
    // Over midnight: from 22:00 on the day it starts until 02:00 the next.
    expect(warmTarget(settings, at('2026-12-02T23:30:00Z'))).to.equal(2)
    expect(warmTarget(settings, at('2026-12-03T01:59:00Z'))).to.equal(2)
    expect(warmTarget(settings, at('2026-12-03T02:00:00Z'))).to.equal(0)
  })

  it('falls back to devflow:warmTasks outside every window, and with no schedule', () => {
    expect(warmTarget({baseTasks: 2, windows: parseWarmSchedule(undefined)}, at('2026-12-02T08:30:00Z'))).to.equal(2)
    expect(warmTarget({baseTasks: 1, windows: parseWarmSchedule('fri 09:00-10:00=4')}, at('2026-12-02T09:30:00Z'))).to.equal(1)
  })

  for (const bad of ['7-19=3', 'mon-fri 07:00-19:00', 'funday 07:00-08:00=1', '07:00-07:00=1', '25:00-26:00=1', '07:00-08:60=1']) {
    it(`refuses "${bad}" with INVALID_WARM_SCHEDULE and an example`, async () => {
      const error = await rejection(Promise.resolve().then(() => parseWarmSchedule(bad)))
      expect(error.code).to.equal('INVALID_WARM_SCHEDULE')
      expect(error.hint).to.contain('mon-fri 07:00-19:00=3')
    })
  }
})

import {expect} from 'chai'

import {invalidInput} from '../../../src/core/errors.js'
import {checkWarmPool} from '../../../src/operations/doctor.js'

const pool = {target: 2, starting: 0, warm: 2, assigned: 0, hits: 3, misses: 1, cpu: 1024, memory: 4096}

describe('doctor: the warm pool check', () => {
  it('passes with the size, hits, misses and hit rate', async () => {
    const check = await checkWarmPool(async () => pool)
    expect(check).to.include({name: 'warm-pool', status: 'PASS', message: '2 of 2 warm (0 starting) at 1024 CPU / 4096 MiB; 3 hits, 1 misses (75% hit rate)'})
  })

  it('warns when the keeper keeps no task although the target is above 0, and when the pool cannot be read', async () => {
    expect(await checkWarmPool(async () => ({...pool, warm: 0, starting: 0, hits: 0, misses: 0}))).to.include({status: 'WARN', code: 'WARM_POOL_EMPTY'})
    const unreadable = await checkWarmPool(async () => {
      throw invalidInput('API_UNREACHABLE', 'The API does not answer.', 'Check the endpoint.')
    })
    expect(unreadable).to.include({status: 'WARN', code: 'API_UNREACHABLE', hint: 'Check the endpoint.'})
  })

  it('says nothing for a stage without a pool', async () => {
    expect(await checkWarmPool(async () => undefined)).to.equal(undefined)
  })
})

import {expect} from 'chai'

import {DevflowError} from '../../src/core/errors.js'

/** Awaits a call that must fail with a DevflowError, and returns that error for further checks. */
export async function rejection(promise: Promise<unknown>): Promise<DevflowError> {
  try {
    await promise
  } catch (error) {
    expect(error).to.be.instanceOf(DevflowError)
    return error as DevflowError
  }
  throw new Error('expected the call to fail with a DevflowError')
}

import {reaperHandler} from '../src/api/lambda.js'

/** Scheduled: stops idle and expired sessions, settles expired prompt leases. */
export const handler = reaperHandler()

import {apiHandler} from '../src/api/lambda.js'

/** POST /agent/sessions/{id}/heartbeat */
export const handler = apiHandler()

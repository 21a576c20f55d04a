import {apiHandler} from '../src/api/lambda.js'

/** GET /sessions/{id}/prompts/{pid}/events */
export const handler = apiHandler()

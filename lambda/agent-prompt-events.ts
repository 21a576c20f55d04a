import {apiHandler} from '../src/api/lambda.js'

/** POST /agent/sessions/{id}/prompts/{pid}/events */
export const handler = apiHandler()

import {apiHandler} from '../src/api/lambda.js'

/** GET /agent/sessions/{id}/prompts/next */
export const handler = apiHandler()

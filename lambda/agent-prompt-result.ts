import {apiHandler} from '../src/api/lambda.js'

/** POST /agent/sessions/{id}/prompts/{pid}/result */
export const handler = apiHandler()

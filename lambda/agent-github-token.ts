import {apiHandler} from '../src/api/lambda.js'

/** POST /agent/sessions/{id}/github-token */
export const handler = apiHandler()

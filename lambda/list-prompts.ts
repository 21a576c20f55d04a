import {apiHandler} from '../src/api/lambda.js'

/** GET /sessions/{id}/prompts */
export const handler = apiHandler()

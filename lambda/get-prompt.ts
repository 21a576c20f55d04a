import {apiHandler} from '../src/api/lambda.js'

/** GET /sessions/{id}/prompts/{pid} */
export const handler = apiHandler()

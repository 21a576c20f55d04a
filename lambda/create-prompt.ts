import {apiHandler} from '../src/api/lambda.js'

/** POST /sessions/{id}/prompts */
export const handler = apiHandler()

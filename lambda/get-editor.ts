import {apiHandler} from '../src/api/lambda.js'

/** GET /sessions/{id}/editor */
export const handler = apiHandler()

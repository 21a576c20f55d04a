import {apiHandler} from '../src/api/lambda.js'

/** GET /sessions/{id} */
export const handler = apiHandler()

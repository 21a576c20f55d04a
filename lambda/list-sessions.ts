import {apiHandler} from '../src/api/lambda.js'

/** GET /sessions */
export const handler = apiHandler()

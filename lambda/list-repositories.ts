import {apiHandler} from '../src/api/lambda.js'

/** GET /repositories */
export const handler = apiHandler()

import {apiHandler} from '../src/api/lambda.js'

/** GET /usage */
export const handler = apiHandler()

import {apiHandler} from '../src/api/lambda.js'

/** GET /health */
export const handler = apiHandler()

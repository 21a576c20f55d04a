import {apiHandler} from '../src/api/lambda.js'

/** POST /sessions/{id}/budget */
export const handler = apiHandler()

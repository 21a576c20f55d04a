import {apiHandler} from '../src/api/lambda.js'

/** DELETE /sessions/{id} */
export const handler = apiHandler()

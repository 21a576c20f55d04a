import {apiHandler} from '../src/api/lambda.js'

/** POST /sessions */
export const handler = apiHandler()

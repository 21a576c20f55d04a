import {apiHandler} from '../src/api/lambda.js'

/** POST /agent/warm/{id}/claim (the warm task's poll token) */
export const handler = apiHandler()

import {notImplemented} from './_not-implemented.js'

export const handler = notImplemented('GET /agent/sessions/{id}/prompts/next')

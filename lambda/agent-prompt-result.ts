import {notImplemented} from './_not-implemented.js'

export const handler = notImplemented('POST /agent/sessions/{id}/prompts/{pid}/result')

import {notImplemented} from './_not-implemented.js'

export const handler = notImplemented('POST /sessions/{id}/prompts')

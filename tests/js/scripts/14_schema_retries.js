// a schema the model never satisfies: the agent fails after its attempts; agent() gives null, parallel() counts it
export const meta = {name: 'schema-retries', description: 'Structured output that never validates'}
const SHAPE = {type: 'object', required: ['count'], properties: {count: {type: 'integer'}}}
const alone = await agent('Count things', {schema: SHAPE, label: 'stubborn'})
const fanned = await parallel([() => agent('Count again', {schema: SHAPE, label: 'stubborn 2'}),
                               () => agent('Count well', {schema: SHAPE, label: 'good'})])
return {alone, fanned: [...fanned], failed: fanned.failed, reason: fanned.reasons[0].startsWith('stubborn 2: ')}

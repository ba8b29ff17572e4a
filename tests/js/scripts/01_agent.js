// agent(): text without a schema, the validated object with one; label, phase and agentType options
export const meta = {
  name: 'agent-basics',
  description: 'One agent answers text, another a schema object',
  whenToUse: 'conformance',
  phases: [{title: 'Ask', detail: 'single agents', model: 'simulated'}],
}
const POINT = {type: 'object', required: ['x', 'y'], properties: {x: {type: 'integer'}, y: {type: 'integer'}}}
phase('Ask')
const text = await agent('Say hello', {label: 'hello'})
const point = await agent('Give a point', {schema: POINT, label: 'point', agentType: 'general-purpose', effort: 'low'})
return {text, point, sum: point.x + point.y, kind: typeof text}

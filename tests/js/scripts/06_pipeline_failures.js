// a throwing stage makes the item null and skips its later stages; a stage returning null does not stop the chain
export const meta = {name: 'pipeline-failures', description: 'Stage errors drop only their item'}
let thirdStageRuns = 0
const out = await pipeline([1, 2, 3],
  (n) => { if (n === 2) throw new RangeError('two is not allowed'); return n * 10 },
  (prev, n) => (n === 3 ? null : agent(`Describe ${prev}`, {label: `describe ${n}`})),
  (prev, n) => { thirdStageRuns++; return prev == null ? 'guarded' : prev },
)
return {out, thirdStageRuns, failed: out.failed, reasons: out.reasons}

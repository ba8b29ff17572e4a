// Adversarial verification with JSON Schema verdicts: every claim goes to a panel of skeptics told to
// refute it ("if unsure, refuted"); a claim stands only if a majority fail to refute it. Missing votes are
// reported as unverified, never as refuted or confirmed.
export const meta = {
  name: 'skeptic-panel',
  description: 'Three skeptics per claim, majority wins, missing votes counted',
  phases: [{title: 'Verify', detail: 'adversarial, 3 votes', model: 'sonnet'}],
}

const VERDICT = {
  type: 'object',
  required: ['refuted', 'confidence', 'evidence'],
  properties: {
    refuted: {type: 'boolean'},
    confidence: {type: 'string', enum: ['low', 'medium', 'high']},
    evidence: {type: 'array', items: {type: 'object', required: ['file', 'line'],
                                      properties: {file: {type: 'string'}, line: {type: 'integer'}}}},
  },
}
const claims = args.claims
phase('Verify')
const results = await parallel(claims.map((claim, c) => () =>
  parallel([0, 1, 2].map(i => () => agent(
    `You are skeptic ${i + 1} of 3. Try hard to REFUTE this claim; if unsure, answer refuted=true.\nClaim: ${claim}`,
    {schema: VERDICT, label: `claim ${c} skeptic ${i + 1}`, model: 'sonnet', effort: 'high'})))
  .then(votes => {
    const cast = votes.filter(Boolean)
    const upheld = cast.filter(v => !v.refuted).length
    const status = cast.length < 2 ? 'unverified' : upheld * 2 > cast.length ? 'confirmed' : 'refuted'
    return {claim, status, votes: `${upheld}/${cast.length}`, missing: votes.failed,
            evidence: cast.flatMap(v => v.evidence.map(e => `${e.file}:${e.line}`))}
  })))
return results

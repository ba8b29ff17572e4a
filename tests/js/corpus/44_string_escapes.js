// Prompts and answers with the characters that break naive bridges: quotes of every kind, backslashes,
// newlines, tabs, NUL, DEL, U+2028/U+2029 line separators, a BOM, zero-width joiners, bidi marks, and
// lone surrogates (legal in JS strings, invalid in UTF-8). They cross the bridge unchanged (log, result);
// only the agent's prompt, which must be UTF-8 for the API, gets U+FFFD for each lone surrogate.
export const meta = {
  name: 'escape-torture',
  description: 'Characters that need escaping, through every channel',
}

const nasty = [
  `"double" 'single' \`back\` “curly” ‘curly’ «guillemets» 「括弧」`,
  'back\\slash \\n not a newline \\u0041 not an A',
  'real\nnewline\ttab\r\ncrlf',
  'nul[\u0000] del[\u007f] bell[\u0007] esc[\u001b]',
  'ls[\u2028] ps[\u2029] bom[\ufeff] zwj[\u200d] zwnj[\u200c] rlm[\u200f] lrm[\u200e]',
  'lone high[\ud83d] lone low[\ude00] reversed[\ude00\ud83d] pair[\ud83d\ude00]',
  '</script><!-- ${not.interpolated} -->',
].join('\n')
log(nasty)
const echoed = await agent(`Repeat the block between the markers exactly.\n<<<\n${nasty}\n>>>`, {label: 'echo ⟨"\\\u2028⟩'})
const LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g
const sanitised = nasty.replace(LONE, '\ufffd')
const codes = s => [...s].map(c => c.codePointAt(0).toString(16))
const loneLine = s => s.split('\n').find(line => line.startsWith('lone high')) ?? ''
return {
  same: echoed === nasty,
  sameAsSanitised: echoed === sanitised,
  units: nasty.length,
  lastLine: echoed.split('\n').at(-1),
  loneInScript: codes(loneLine(nasty)).filter(c => c === 'd83d' || c === 'de00').length,
  replacedInAnswer: codes(loneLine(echoed)).filter(c => c === 'fffd').length,
  pairs: codes(loneLine(echoed)).filter(c => c === '1f600').length,
  separators: [...echoed].filter(c => c === '\u2028' || c === '\u2029').length,
  nasty,
}

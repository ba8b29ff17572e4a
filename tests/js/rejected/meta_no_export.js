// expect: meta-first@2
const meta = {name: 'no-export', description: 'Claude Code needs the export'}

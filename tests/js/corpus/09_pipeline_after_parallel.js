// Scout first, then process: a parallel() barrier collects file lists from several scouts (the list must
// be complete and deduplicated before work starts), then a pipeline() takes each file through
// summarise → classify on its own.
export const meta = {
  name: 'scout-then-process',
  description: 'Parallel scouts, a dedupe, then a pipeline per file',
  phases: [{title: 'Scout'}, {title: 'Process'}],
}

const FILES = {type: 'object', required: ['files'], properties: {files: {type: 'array', items: {type: 'string'}}}}
const KIND = {type: 'object', required: ['kind'], properties: {kind: {type: 'string', enum: ['test', 'source', 'docs']}}}
const DIRS = ['src', 'tests', 'docs']

phase('Scout')
const scouted = await parallel(DIRS.map(dir => () => agent(`List the files under ${dir}/ that changed`,
                                                             {schema: FILES, label: `scout ${dir}`, model: 'haiku'})))
const files = [...new Set(scouted.filter(Boolean).flatMap(s => s.files))].sort()
log(`scouted ${files.length} distinct files from ${scouted.succeeded}/${scouted.launched} scouts`)

phase('Process')
const processed = await pipeline(files,
  file => agent(`Summarise the change to ${file}`, {label: `summarise ${file}`}),
  (summary, file) => agent(`Classify ${file}: ${summary}`, {schema: KIND, label: `classify ${file}`, effort: 'low'})
    .then(k => ({file, summary, kind: k?.kind ?? 'unknown'})),
)
const byKind = {}
for (const item of processed.filter(Boolean)) (byKind[item.kind] ??= []).push(item.file)
return {files, byKind}

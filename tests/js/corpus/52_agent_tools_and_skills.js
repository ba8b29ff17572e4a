// The agent option `tools` (Claude Code's tool names) and the workflow's meta `tools` narrow what an agent
// may use; an agent type's `skills` chooses which skills it is shown; load_skill reads a skill's SKILL.md
// and a file of its folder on demand, and refuses paths that leave the folder.
export const meta = {
  name: 'release-notes',
  description: 'Release notes written with the project skill',
  tools: ['Read', 'Grep', 'Glob', 'LS', 'Skill'],
}

const facts = await agent('List the user-visible changes in src/', {label: 'facts', tools: ['Read', 'Grep']})
const notes = await agent(`Write release notes for: ${facts}`, {agentType: 'release-writer', label: 'notes'})
const plain = await agent('Say which skills you were shown', {label: 'plain'})
return {facts, notes, plain}

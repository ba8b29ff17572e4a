// expect: typescript@4
export const meta = {name: 'ts-params', description: 'typed parameters'}

async function review(path: string, depth: number): Promise<void> {
  await agent(path)
}

// expect: typescript@4
export const meta = {name: 'ts', description: 'TypeScript annotations'}

const files: string[] = args.files
return files

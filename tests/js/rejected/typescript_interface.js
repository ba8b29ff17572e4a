// expect: typescript@4
export const meta = {name: 'ts-interface', description: 'an interface'}

interface Finding { title: string }
return 1

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DOCKERFILE_STEPS } from '../../scripts/ci/production-install';

const root = resolve(__dirname, '../..');
const dockerfile = readFileSync(resolve(root, 'Dockerfile'), 'utf8');

interface Instruction {
  keyword: string;
  flags: Record<string, string>;
  /** The rest of the line, or the JSON array's items for the exec form. */
  args: string;
  exec?: string[];
}

interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

/** Instructions scripts/ci/production-install.ts knows how to mirror; any other one fails the test until it does. */
const MIRRORED = ['FROM', 'WORKDIR', 'COPY', 'RUN', 'ENV', 'USER', 'EXPOSE', 'HEALTHCHECK', 'CMD'];

/** The Dockerfile's stages: comments dropped, continuation lines joined, leading --flags split off. */
function parseDockerfile(text: string): Stage[] {
  const lines = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword, rest] = /^(\S+)\s+(.*)$/.exec(line)!;
    let args = rest!;
    const flags: Record<string, string> = {};
    for (let flag = /^--([a-z-]+)=(\S+)\s+/.exec(args); flag; flag = /^--([a-z-]+)=(\S+)\s+/.exec(args)) {
      flags[flag[1]!] = flag[2]!;
      args = args.slice(flag[0].length);
    }
    const upper = keyword!.toUpperCase();
    if (upper === 'HEALTHCHECK') args = args.replace(/^CMD\s+/, '');
    const instruction: Instruction = {
      keyword: upper,
      flags,
      args,
      ...(args.startsWith('[') ? { exec: JSON.parse(args) as string[] } : {}),
    };
    if (upper === 'FROM') {
      const [image, , name] = args.split(/\s+/);
      stages.push({ name: name ?? String(stages.length), image: image!, instructions: [] });
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return stages;
}

/** What the Dockerfile says, in the shape of DOCKERFILE_STEPS. */
function stepsOf(text: string) {
  const stages = parseDockerfile(text);
  const stage = (name: string) => stages.find((candidate) => candidate.name === name)?.instructions ?? [];
  const all = (instructions: Instruction[], keyword: string) =>
    instructions.filter((instruction) => instruction.keyword === keyword);
  const last = (instructions: Instruction[], keyword: string) => all(instructions, keyword).at(-1);
  const build = stage('build');
  const runtime = stage('runtime');
  const [install, ...buildRun] = all(build, 'RUN').map((instruction) => instruction.args);
  const workdirs = new Set(
    stages.flatMap((candidate) => all(candidate.instructions, 'WORKDIR').map((instruction) => instruction.args)),
  );
  return {
    workdir: [...workdirs].join(' and '),
    build: {
      copy: all(build, 'COPY')
        .filter((instruction) => !instruction.flags.from)
        .map((instruction) => instruction.args),
      install,
      run: buildRun,
    },
    runtime: {
      env: Object.fromEntries(
        all(runtime, 'ENV').map((instruction) => instruction.args.split('=') as [string, string]),
      ),
      copy: all(runtime, 'COPY')
        .filter((instruction) => !instruction.flags.from)
        .map((instruction) => instruction.args),
      run: all(runtime, 'RUN').map((instruction) => instruction.args),
      copyFromBuild: all(runtime, 'COPY')
        .filter((instruction) => instruction.flags.from === 'build')
        .map((instruction) => instruction.args),
      user: last(runtime, 'USER')?.args,
      healthcheck: last(runtime, 'HEALTHCHECK')?.exec,
      cmd: last(runtime, 'CMD')?.exec,
    },
  };
}

describe('the Dockerfile and scripts/ci/production-install.ts', () => {
  it('name the same files, commands, environment, user, health check and start command', () => {
    expect(stepsOf(dockerfile)).toEqual(DOCKERFILE_STEPS);
  });

  it.each([
    [
      'a file the runtime stage copies',
      (text: string) => text.replace('COPY --from=build', 'COPY schema.graphql ./\nCOPY --from=build'),
    ],
    ['the install command', (text: string) => text.replace('npm ci --omit=dev', 'npm ci')],
    ['the start command', (text: string) => text.replace('"dist/src/main.js"]', '"dist/src/server.js"]')],
    ['the environment', (text: string) => text.replace('ENV NODE_ENV=production', 'ENV NODE_ENV=development')],
    [
      'a file the build stage copies',
      (text: string) => text.replace('COPY scripts ./scripts', 'COPY scripts ./scripts\nCOPY tsconfig.json ./'),
    ],
  ])('tell apart a Dockerfile that changes %s', (_change, edit) => {
    const edited = edit(dockerfile);
    expect(edited).not.toBe(dockerfile);
    expect(stepsOf(edited)).not.toEqual(DOCKERFILE_STEPS);
  });

  it('uses only instructions the production-install check mirrors', () => {
    const keywords = parseDockerfile(dockerfile).flatMap((stage) => [
      'FROM',
      ...stage.instructions.map((instruction) => instruction.keyword),
    ]);
    expect(keywords.filter((keyword) => !MIRRORED.includes(keyword))).toEqual([]);
    expect(parseDockerfile(dockerfile).map((stage) => stage.name)).toEqual(['build', 'runtime']);
  });

  it('runs as a user other than root, and bakes in no secret', () => {
    expect(DOCKERFILE_STEPS.runtime.user).not.toMatch(/^(root|0)$/);
    const named = parseDockerfile(dockerfile)
      .flatMap((stage) => stage.instructions)
      .filter((instruction) => instruction.keyword === 'ENV' || instruction.keyword === 'ARG')
      .map((instruction) => instruction.args.split('=')[0]);
    expect(named.filter((name) => /SECRET|KEY|PASSWORD|TOKEN|DATABASE_URL|REDIS_URL|SMTP_URL/i.test(name!))).toEqual(
      [],
    );
  });

  it('copies files that exist, and .dockerignore lets exactly those into the build context', () => {
    const sources = [...DOCKERFILE_STEPS.build.copy, ...DOCKERFILE_STEPS.runtime.copy].flatMap((instruction) =>
      instruction.split(' ').slice(0, -1),
    );
    for (const source of sources) expect(existsSync(resolve(root, source))).toBe(true);
    const ignore = readFileSync(resolve(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    expect(ignore[0]).toBe('*');
    expect(new Set(ignore.slice(1))).toEqual(new Set([...new Set(sources)].map((source) => `!${source}`)));
  });
});

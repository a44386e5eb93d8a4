import { firstDifference, type Scenario, type ServerName } from './bench-scenarios';

/** Where a comment a write scenario made was stored, read back from the database. */
export interface StoredComment {
  taskId: string;
  authorId: string;
  organizationId: string;
}

/** POSTs a JSON body; answers `data`, or throws on an HTTP error, GraphQL errors or the reference's `error`. */
export async function post(url: string, body: string, headers: Record<string, string>): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const json = (await response.json()) as { data?: unknown; errors?: unknown; error?: unknown };
  if (!response.ok || json.errors || json.error)
    throw new Error(`${url} answered ${response.status}: ${JSON.stringify(json).slice(0, 300)}`);
  return json.data;
}

/**
 * Sends each scenario once to every server and compares the normalised
 * answers; a write's new row is read back (`readComment`) and must be the one
 * asked for. Throws on the first disagreement, so the bench measures nothing;
 * answers a line per scenario that agreed.
 */
export async function checkSameAnswers<Server extends { name: string; kind: ServerName; baseUrl: string }>(
  servers: Server[],
  list: Scenario[],
  headers: Record<string, string>,
  expected: StoredComment,
  readComment: (id: string, server: Server) => Promise<StoredComment | undefined>,
): Promise<string[]> {
  const agreed: string[] = [];
  for (const scenario of list) {
    const answers: { server: string; answer: unknown }[] = [];
    for (const server of servers) {
      const request = scenario.requests[server.kind];
      let answer = scenario.normalise(
        server.kind,
        await post(`${server.baseUrl}${request.path}`, request.body, headers),
      );
      if (scenario.writes) {
        const { id, ...rest } = answer as { id: string };
        const wrong = firstDifference(await readComment(id, server), expected, '$.stored');
        if (wrong)
          throw new Error(`${scenario.name}: ${server.name} stored another comment than the one asked for: ${wrong}`);
        answer = rest;
      }
      answers.push({ server: server.name, answer });
    }
    for (const other of answers.slice(1)) {
      const difference = firstDifference(answers[0].answer, other.answer);
      if (difference)
        throw new Error(
          `${scenario.name}: ${answers[0].server} and ${other.server} answer differently, so the bench will not measure: ${difference}`,
        );
    }
    agreed.push(`same answers from ${answers.map((entry) => entry.server).join(', ')}: ${scenario.name}`);
  }
  return agreed;
}

import Negotiator from 'negotiator';
import { rememberMediaTypeChoices, rememberedMediaTypeChoices } from '../../src/platform/http/media-type-choices';
import { startTestApp } from '../support/test-app';
import { embeddedDatabase } from '../support/test-database';

/** negotiator's mediaType, remembered per Accept header and offered types: the same answers, asked once. */
const OFFERED = ['application/json', 'application/graphql-response+json', 'application/json; callback'];
const choose = (accept: string | undefined) =>
  new Negotiator({ headers: accept === undefined ? {} : { accept } }).mediaType(OFFERED);

// First: nothing but the server installs the memo before it.
it('is what Apollo negotiates with once the server starts, and answers as before', async () => {
  const api = await startTestApp({}, embeddedDatabase());
  try {
    const before = rememberedMediaTypeChoices();
    const response = await fetch(`${api.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json;q=0.9, text/plain' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/graphql-response+json; charset=utf-8');
    expect(rememberedMediaTypeChoices()).toBeGreaterThan(before);
    const refused = await fetch(`${api.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/html' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(refused.status).toBe(406);
  } finally {
    await api.stop();
  }
});

describe('the remembered choice', () => {
  beforeAll(() => rememberMediaTypeChoices());

  it("is negotiator's, for no header, an empty one, a preference, an impossible one and no offer", () => {
    const cases: [string | undefined, string | undefined][] = [
      [undefined, 'application/json'],
      ['', undefined],
      ['application/graphql-response+json', 'application/graphql-response+json'],
      ['application/json;q=0.5, application/graphql-response+json', 'application/graphql-response+json'],
      ['text/html', undefined],
      ['*/*', 'application/json'],
    ];
    for (const [accept, expected] of cases) {
      expect(choose(accept)).toBe(expected);
      expect(choose(accept)).toBe(expected);
    }
    expect(new Negotiator({ headers: { accept: 'text/html, application/json' } }).mediaType()).toBe('text/html');
  });

  it('keeps at most 256 choices and leaves very long headers out', () => {
    for (let i = 0; i < 300; i += 1)
      expect(choose(`application/x-${i}, application/json;q=0.1`)).toBe('application/json');
    expect(rememberedMediaTypeChoices()).toBe(256);
    const long = `${'application/x-long;q=0.1, '.repeat(30)}application/json`;
    expect(choose(long)).toBe('application/json');
    expect(rememberedMediaTypeChoices()).toBe(256);
  });
});

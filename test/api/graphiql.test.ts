import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { createOrganization } from '../support/organizations';
import { createProject, createTask } from '../support/projects';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait';

/** Debian's Chromium (CI installs it when missing); playwright-core drives it and downloads no browser of its own. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const browserMissing = !existsSync(CHROMIUM);
const inCI = process.env.CI === 'true';

// Off CI, a machine without Chromium skips this file (apt-get install chromium to run it); in CI a missing browser fails it.
const describeInBrowser = browserMissing && !inCI ? describe.skip : describe;

describeInBrowser('GraphiQL at /graphiql, with the network cut off', () => {
  let api: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    if (browserMissing)
      throw new Error(`${CHROMIUM} is missing: CI installs Debian's chromium package (apt-get install -y chromium)`);
    api = await startTestApp({ NODE_ENV: 'development', LOG_FORMAT: 'json' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
    await api?.stop();
  });

  /**
   * A page of /graphiql with every request outside the server's origin aborted (and listed in `blocked`), the
   * document and an Authorization header typed in, not yet run.
   */
  async function graphiqlWith(document: string, accessToken: string) {
    const context = await browser.newContext();
    const blocked: string[] = [];
    await context.route('**/*', (route) => {
      if (new URL(route.request().url()).origin === api.baseUrl) return route.continue();
      blocked.push(route.request().url());
      return route.abort('internetdisconnected');
    });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));

    await page.goto(`${api.baseUrl}/graphiql`);
    const queryEditor = page.locator('.graphiql-query-editor .CodeMirror');
    await queryEditor.waitFor();
    await queryEditor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(document);
    await page.getByRole('button', { name: 'Headers', exact: true }).click();
    await page.locator('section[aria-label="Headers"] .graphiql-editor:not(.hidden) .CodeMirror').click();
    await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${accessToken}` }));
    return { context, page, blocked, pageErrors, run: () => page.locator('.graphiql-execute-button').click() };
  }

  it('loads from the API alone, runs a query with the Authorization header typed in, and shows the answer', async () => {
    const user = await signUp(api);
    const { context, page, blocked, pageErrors, run } = await graphiqlWith('{ me { email } }', user.accessToken);
    await run();

    await page.locator('.graphiql-response', { hasText: user.user.email }).waitFor();
    expect(await page.locator('.graphiql-response').innerText()).toContain(`"email": "${user.user.email}"`);
    expect(blocked).toEqual([]);
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 120_000);

  it('runs a subscription over WebSocket, signed in by the Authorization header typed in, and shows each event as it comes', async () => {
    const owner = await signUp(api);
    const organization = await createOrganization(api, owner, 'Explorer');
    const project = await createProject(api, owner, organization.id);
    const { context, page, blocked, pageErrors, run } = await graphiqlWith(
      `subscription { taskChanged(projectId: "${project.id}") { kind task { title } } }`,
      owner.accessToken,
    );
    const before = api.app.live.size;
    await run();
    await waitFor(() => api.app.live.size > before, 'the page to subscribe');

    await createTask(api, owner, project.id, { title: 'Seen in GraphiQL' });
    await page.locator('.graphiql-response', { hasText: 'Seen in GraphiQL' }).waitFor();
    expect(await page.locator('.graphiql-response').innerText()).toContain('"kind": "CREATED"');
    expect(blocked).toEqual([]);
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 120_000);

  it('is the Sandbox beside it: GET /graphql stays Apollo Sandbox, the default landing page', async () => {
    const response = await fetch(`${api.baseUrl}/graphql`, { headers: { accept: 'text/html' } });
    expect(await response.text()).toMatch(/sandbox/i);
    expect(api.logs.find(/^GraphiQL, offline \(no CDN\), at http:\/\/127\.0\.0\.1:\d+\/graphiql$/)).toHaveLength(1);
  });
});

describe('GraphiQL in production', () => {
  it('is not served, even with GRAPHQL_SANDBOX=true', async () => {
    const api = await startTestApp({ NODE_ENV: 'production', GRAPHQL_SANDBOX: 'true' });
    try {
      for (const path of ['/graphiql', '/graphiql/graphiql.js'])
        expect((await fetch(`${api.baseUrl}${path}`)).status).toBe(404);
    } finally {
      await api.stop();
    }
  });
});

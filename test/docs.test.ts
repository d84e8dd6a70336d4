import YAML from 'yaml';
import { eventually } from './support/eventually';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('documentation routes', () => {
  test('when /openapi.json is fetched, then it is the spec with the OAuth2 password flow', async () => {
    const res = await t.request.get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body.components.securitySchemes.OAuth2PasswordBearer.flows.password.tokenUrl).toBe('/api/v1/auth/login');
    expect(res.body.paths['/health'].get.operationId).toBe('getHealth');
  });

  test('when /openapi.json is fetched, then it is the bundle of the split spec: every $ref points inside it', async () => {
    const res = await t.request.get('/openapi.json');
    const refs = [...JSON.stringify(res.body).matchAll(/"\$ref":"([^"]*)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(100);
    expect(refs.filter((ref) => !ref?.startsWith('#/components/'))).toEqual([]);
    expect(Object.keys(res.body.components.schemas)).toContain('RefreshRequest');
  });

  test('when a deprecated operation is in the served spec, then its description gives its dates', async () => {
    const res = await t.request.get('/openapi.json');
    const put = res.body.paths['/api/v1/products/{product_id}'].put;
    expect(put).toMatchObject({ deprecated: true, 'x-deprecated-at': '2026-12-07', 'x-sunset': '2027-06-30' });
    expect(put.description).toMatch(
      /\n\n\*\*Deprecated\*\* since 2026-12-07\. \*\*Sunset: 2027-06-30\*\*; from that date it may answer `410 GONE`\.$/,
    );
    expect(res.body.paths['/api/v1/products/{product_id}'].patch.description).not.toContain('Deprecated');
  });

  test('when /openapi.yaml is fetched, then it parses to the same document', async () => {
    const [yaml, json] = await Promise.all([t.request.get('/openapi.yaml'), t.request.get('/openapi.json')]);
    expect(yaml.status).toBe(200);
    expect(yaml.headers['content-type']).toMatch(/yaml/);
    expect(YAML.parse(yaml.text)).toEqual(json.body);
  });

  test('when /docs is opened, then Swagger UI is served pointing at the spec', async () => {
    const page = await t.request.get('/docs/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger-ui');
    const init = await t.request.get('/docs/swagger-ui-init.js');
    expect(init.status).toBe(200);
    expect(init.text).toContain('/openapi.json');
  });

  test('when a Swagger UI file under /docs is fetched, then its request is logged with its full path', async () => {
    const res = await t.request.get('/docs/swagger-ui.css?v=1');
    expect(res.status).toBe(200);
    const requestId = res.headers['x-request-id'];
    const logged = await eventually(() =>
      t.logs.entries.find((e) => e.message === 'request' && e.request_id === requestId),
    );
    expect(logged).toMatchObject({ method: 'GET', route: '/docs/swagger-ui.css', status: 200 });
  });

  test('when /favicon.ico is fetched, then it is an image from this server', async () => {
    const res = await t.request.get('/favicon.ico');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^image\//);
  });

  test('when /redoc is opened, then ReDoc is served with its bundle from this server', async () => {
    const page = await t.request.get('/redoc');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<redoc spec-url="/openapi.json">');
    const bundle = await t.request.get('/redoc/redoc.standalone.js');
    expect(bundle.status).toBe(200);
    expect(bundle.text.length).toBeGreaterThan(100_000);
  });
});

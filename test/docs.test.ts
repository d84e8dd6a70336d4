import YAML from 'yaml';
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

  test('when /redoc is opened, then ReDoc is served with its bundle from this server', async () => {
    const page = await t.request.get('/redoc');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<redoc spec-url="/openapi.json">');
    const bundle = await t.request.get('/redoc/redoc.standalone.js');
    expect(bundle.status).toBe(200);
    expect(bundle.text.length).toBeGreaterThan(100_000);
  });
});

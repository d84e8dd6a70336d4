import http from 'node:http';
import zlib from 'node:zlib';
import { buildCategory, buildPost, buildProduct, VALID_PASSWORD } from './support/factories';
import { Fixtures, HINTS, strictEncode, type Case, type Sent } from './support/fuzz-fixtures';
import { dataInvariantViolations, SecretWatch } from './support/invariants';
import {
  allowsType,
  contractProblems,
  exampleValue,
  leavesOf,
  loadFuzzOperations,
  schemaErrors,
  setAt,
  SPEC,
  type FuzzOperation,
  type Role,
  type Schema,
} from './support/openapi-fuzz';
import { startTestApp, unique, type TestApp } from './support/test-app';

const MAX_BODY_BYTES = 128 * 1024;
const OPERATIONS = loadFuzzOperations();
const JSON_TYPE = 'application/json';
const withJsonBody = OPERATIONS.filter((op) => op.body?.media.some((m) => m.type === JSON_TYPE));
const withBody = OPERATIONS.filter((op) => op.body);
const jsonSchemaOf = (op: FuzzOperation) => op.body?.media.find((m) => m.type === JSON_TYPE)?.schema ?? {};
const withLeaves = (type: string) =>
  withJsonBody.filter((op) =>
    leavesOf(jsonSchemaOf(op), exampleValue(jsonSchemaOf(op))).some((leaf) => allowsType(leaf.schema, type)),
  );
const byId = (operationId: string): FuzzOperation => {
  const op = OPERATIONS.find((o) => o.operationId === operationId);
  if (!op) throw new Error(`no operation ${operationId} in the spec`);
  return op;
};

let t: TestApp;
let fixtures: Fixtures;
const watch = new SecretWatch();
const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();

beforeAll(async () => {
  t = await startTestApp({ env: { MAX_BODY_BYTES: String(MAX_BODY_BYTES) } });
  fixtures = new Fixtures(t, watch);
});

afterAll(async () => {
  try {
    const violations = [
      ...(await dataInvariantViolations(t.db, { userIds: fixtures.userIds })),
      ...watch.leaks(t.logs.entries),
    ];
    expect(violations).toEqual([]);
  } finally {
    await t.close();
  }
});

const roleFor = (op: FuzzOperation): Role =>
  op.access === 'superuser' ? 'superuser' : op.access === 'public' ? 'anonymous' : 'user';

type Call = {
  /** Path parameter values, sent as written (not encoded); missing ones become rows owned by the caller. */
  path?: Record<string, string>;
  /** The query string, sent as written. */
  query?: string;
  headers?: Record<string, string>;
  /** A JSON value whose placeholders are resolved for the caller, then serialized and passed through `raw`. */
  json?: unknown;
  raw?: (text: string) => string;
  body?: string | Buffer;
  contentType?: string;
};

/** Sends one request to an operation as a fresh caller of the role it needs. */
async function call(op: FuzzOperation, options: Call = {}): Promise<Sent & { caller: Case['caller'] }> {
  const c = await fixtures.newCase(roleFor(op));
  let url = op.path;
  for (const p of op.params.filter((param) => param.in === 'path')) {
    const value = options.path?.[p.name] ?? String(await c.row(p.name, true));
    url = url.replace(`{${p.name}}`, value);
  }
  if (options.query) url += `?${options.query}`;
  const headers: Record<string, string> = { ...options.headers };
  let body: string | Buffer | undefined = options.body;
  // An operation with a body gets a valid one unless the test says otherwise, so the part under test is reached.
  const json =
    options.json ?? (options.body === undefined && op.body ? exampleValue(jsonSchemaOf(op), HINTS) : undefined);
  if (json !== undefined) {
    const text = JSON.stringify(await c.resolve(json));
    body = options.raw ? options.raw(text) : text;
  }
  const contentType = options.contentType ?? (body === undefined ? undefined : JSON_TYPE);
  if (contentType) headers['Content-Type'] = contentType;
  const sent = await c.send(op, url, headers, body);
  return { ...sent, caller: c.caller };
}

/** Fails with the request and response when the response breaks the operation's contract. */
function expectContract(op: FuzzOperation, res: Sent, refusal: boolean): void {
  const problems = contractProblems(op, res, refusal);
  if (problems.length)
    throw new Error(
      `${problems.join('\n')}\nrequest:\n${res.request}\nresponse: ${res.status} ${res.text.slice(0, 500)}`,
    );
}

/** A query string with every character but the unreserved ones percent-encoded (no `+` for spaces). */
const strictQuery = (params: Record<string, string>): string =>
  Object.entries(params)
    .map(([k, v]) => `${k}=${strictEncode(v)}`)
    .join('&');

const errorCode = (res: Sent): unknown => (JSON.parse(res.text) as { error_code?: unknown }).error_code;

async function expectAlive(): Promise<void> {
  const res = await fetch(`${t.url}/health`);
  expect(res.status).toBe(200);
}

describe('body size', () => {
  test('when a JSON body is exactly MAX_BODY_BYTES, then it is read, and one byte more is a 413 PAYLOAD_TOO_LARGE', async () => {
    const op = byId('createPost');
    // Four-byte characters keep the post body under its 50,000-character limit while the bytes reach the limit.
    const envelope = Buffer.byteLength(JSON.stringify({ title: 'limit', body: '' }));
    const room = MAX_BODY_BYTES - envelope;
    const text = `${'x'.repeat(room % 4)}${'😀'.repeat(Math.floor(room / 4))}`;
    const exact = JSON.stringify({ title: 'limit', body: text });
    expect(Buffer.byteLength(exact)).toBe(MAX_BODY_BYTES);
    const accepted = await call(op, { body: exact });
    expect(accepted.status).toBe(201);
    expectContract(op, accepted, false);
    const over = await call(op, { body: JSON.stringify({ title: 'limitx', body: text }) });
    expect([over.status, errorCode(over)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expectContract(op, over, true);
  });

  test('when a login form is exactly MAX_BODY_BYTES, then it is read (and refused as too long a scope), and one byte more is a 413', async () => {
    const op = byId('login');
    const head = `grant_type=password&username=nobody&password=${VALID_PASSWORD}&scope=`;
    const exact = `${head}${'s'.repeat(MAX_BODY_BYTES - head.length)}`;
    const read = await call(op, { body: exact, contentType: 'application/x-www-form-urlencoded' });
    expect([read.status, errorCode(read)]).toEqual([422, 'VALIDATION_ERROR']);
    const over = await call(op, { body: `${exact}s`, contentType: 'application/x-www-form-urlencoded' });
    expect([over.status, errorCode(over)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expectContract(op, over, true);
  });

  test('when a body is gzip-encoded, then a valid one is read, a corrupt one is a 400 and a bomb is a 413', async () => {
    const op = byId('createPost');
    const headers = { 'Content-Encoding': 'gzip' };
    const good = await call(op, { headers, body: zlib.gzipSync(JSON.stringify({ title: 'zipped', body: 'b' })) });
    expect(good.status).toBe(201);
    const corrupt = await call(op, { headers, body: 'this is not gzip' });
    expect([corrupt.status, errorCode(corrupt)]).toEqual([400, 'MALFORMED_JSON']);
    expectContract(op, corrupt, true);
    // 20 MB of blanks deflate to about 20 KB: the limit must apply to the inflated size.
    const bomb = await call(op, { headers, body: zlib.gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x20)) });
    expect([bomb.status, errorCode(bomb)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expectContract(op, bomb, true);
  });
});

describe('deeply nested JSON', () => {
  test('when a body nests 10,000 (or 50,000) arrays or objects deep, then it is a 4xx and the process keeps serving', async () => {
    const op = byId('createOrder');
    const bodies = [
      `{"items":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
      `{"items":[{"product_id":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)},"quantity":1}]}`,
      `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
      `${'{"a":'.repeat(20_000)}null${'}'.repeat(20_000)}`,
    ];
    for (const body of bodies) {
      const res = await call(op, { body });
      expectContract(op, res, true);
    }
    await expectAlive();
  });
});

describe('prototype pollution', () => {
  const POISON = '"__proto__":{"polluted":"yes","is_superuser":true},"constructor":{"prototype":{"polluted":"yes"}}';

  const expectUnpolluted = () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).is_superuser).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
  };

  test.each(withJsonBody.map((op) => [op.operationId, op] as const))(
    'when %s gets __proto__ and constructor.prototype keys in its body, then it is refused and nothing is polluted',
    async (_id, op) => {
      const json = exampleValue(jsonSchemaOf(op), HINTS);
      const top = await call(op, { json, raw: (text) => text.replace(/^\{/, `{${POISON},`) });
      expectContract(op, top, true);
      expect(top.status).toBe(422);
      // And one level down, inside the first nested object (an order item), where there is one.
      if (JSON.stringify(json).includes('[{')) {
        const nested = await call(op, { json, raw: (text) => text.replace('[{', `[{${POISON},`) });
        expectContract(op, nested, true);
        expect(nested.status).toBe(422);
      }
      expectUnpolluted();
    },
  );

  test('when a user sends {"__proto__": {"is_superuser": true}}, then it is a 422 and the user gains no role', async () => {
    const op = byId('updateCurrentUser');
    const res = await call(op, { body: '{"full_name":"Mallory","__proto__":{"is_superuser":true}}' });
    expect(res.status).toBe(422);
    const stored = await t.db('users').where({ id: res.caller.id }).first();
    expect(stored).toMatchObject({ is_superuser: false, full_name: 'Test User' });
    expectUnpolluted();
  });

  test('when the query string carries __proto__ and constructor[prototype] keys, then it is a 422 and nothing is polluted', async () => {
    const op = byId('listProducts');
    const res = await call(op, { query: '__proto__[polluted]=yes&constructor[prototype][polluted]=yes&__proto__=x' });
    expect(res.status).toBe(422);
    expectContract(op, res, true);
    expectUnpolluted();
  });
});

describe('invalid encodings', () => {
  test('when a JSON body holds invalid UTF-8 bytes, then each bad sequence is read as U+FFFD and stored as such, never a 5xx', async () => {
    const op = byId('createPost');
    const bytes = Buffer.concat([
      Buffer.from('{"title":"ab'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('cd","body":"x'),
      Buffer.from([0xff, 0xed, 0xa0, 0x80]),
      Buffer.from('"}'),
    ]);
    const res = await call(op, { body: bytes });
    expectContract(op, res, false);
    // body-parser decodes leniently: each invalid sequence becomes U+FFFD, so the post is stored as such.
    expect(res.status).toBe(201);
    const post = JSON.parse(res.text) as { title: string; body: string };
    expect(post.title).toBe('ab\uFFFD(cd');
    expect(post.body.startsWith('x\uFFFD')).toBe(true);
  });

  test('when a path parameter is not valid percent-encoded UTF-8, then it is a 422, never a 5xx', async () => {
    for (const op of OPERATIONS.filter((o) => o.params.some((p) => p.in === 'path'))) {
      for (const bad of ['%', '%E0%A4%A', '%C3%28', '%FF']) {
        const name = op.params.find((p) => p.in === 'path')?.name ?? '';
        const res = await call(op, { path: { [name]: bad } });
        expectContract(op, res, true);
        expect([res.status, errorCode(res)]).toEqual([422, 'VALIDATION_ERROR']);
      }
    }
  });

  test('when a query value is not valid percent-encoded UTF-8, then it is answered (leniently decoded), never a 5xx', async () => {
    const op = byId('listProducts');
    for (const bad of ['%', '%E0%A4%A', '%C3%28', '%FF']) {
      const res = await call(op, { query: `q=${bad}` });
      expectContract(op, res, false);
      expect(res.status).toBe(200);
    }
  });
});

describe('NUL characters', () => {
  // PostgreSQL refuses U+0000 in text: a field that is stored or looked up must come back as a 422. Write-only
  // fields (passwords, tokens) are only hashed, so they get their own documented answer, such as a 401.
  test.each(withLeaves('string').map((op) => [op.operationId, op] as const))(
    'when any string field of %s holds a NUL character, then it is a 422 (or, for a write-only secret, another documented answer), never a 5xx',
    async (_id, op) => {
      const schema = jsonSchemaOf(op);
      const json = exampleValue(schema, HINTS);
      const strings = leavesOf(schema, json).filter((leaf) => allowsType(leaf.schema, 'string'));
      for (const leaf of strings) {
        const res = await call(op, { json: setAt(json, leaf.path, 'before\u0000after') });
        const secret = leaf.schema.writeOnly === true;
        expectContract(op, res, !secret);
        if (!secret) expect([leaf.path.join('/'), res.status]).toEqual([leaf.path.join('/'), 422]);
      }
    },
  );

  test('when any string query parameter holds a NUL character, then it is a 422', async () => {
    for (const op of OPERATIONS) {
      for (const p of op.params.filter((param) => param.in === 'query' && allowsType(param.schema, 'string'))) {
        const res = await call(op, { query: `${p.name}=a%00b` });
        expectContract(op, res, true);
        expect([op.operationId, p.name, res.status]).toEqual([op.operationId, p.name, 422]);
      }
    }
  });
});

describe('long strings', () => {
  test.each(withLeaves('string').map((op) => [op.operationId, op] as const))(
    'when any string field of %s is 100,000 characters, then it is a 422',
    async (_id, op) => {
      const schema = jsonSchemaOf(op);
      const json = exampleValue(schema, HINTS);
      for (const leaf of leavesOf(schema, json).filter((l) => allowsType(l.schema, 'string'))) {
        const res = await call(op, { json: setAt(json, leaf.path, 'x'.repeat(100_000)) });
        expectContract(op, res, true);
        expect([leaf.path.join('/'), res.status]).toEqual([leaf.path.join('/'), 422]);
      }
    },
  );

  test('when any string query parameter is 10,000 characters, then it is a 422', async () => {
    for (const op of OPERATIONS) {
      for (const p of op.params.filter((param) => param.in === 'query' && allowsType(param.schema, 'string'))) {
        const res = await call(op, { query: `${p.name}=${'q'.repeat(10_000)}` });
        expectContract(op, res, true);
        expect([op.operationId, p.name, res.status]).toEqual([op.operationId, p.name, 422]);
      }
    }
  });

  test('when any header parameter is longer than its schema allows, then it is a 422', async () => {
    for (const op of OPERATIONS) {
      for (const p of op.params.filter((param) => param.in === 'header')) {
        const res = await call(op, { headers: { [p.name]: 'h'.repeat((p.schema.maxLength ?? 8000) + 1) } });
        expectContract(op, res, true);
        expect([op.operationId, p.name, res.status]).toEqual([op.operationId, p.name, 422]);
      }
    }
  });
});

describe('integers at and beyond the edges', () => {
  // The last one is longer than a double holds: it parses to Infinity.
  const EDGE_VALUES = ['9007199254740992', '9223372036854775808', '-1', '0', '1.5', '9'.repeat(400)];
  const validFor = (schema: Schema, raw: string) => {
    const n = Number(raw);
    return Number.isFinite(n) && schemaErrors(schema, n).length === 0;
  };

  test('when any id or pagination parameter is 2^53, 2^63, -1, 0 or 1.5, then it is a 422 unless the value is valid, never a 5xx', async () => {
    for (const op of OPERATIONS) {
      for (const p of op.params.filter((param) => param.in !== 'header' && allowsType(param.schema, 'integer'))) {
        for (const raw of EDGE_VALUES) {
          const res = await call(op, p.in === 'path' ? { path: { [p.name]: raw } } : { query: `${p.name}=${raw}` });
          const valid = validFor(p.schema, raw);
          expectContract(op, res, !valid);
          if (!valid) {
            const shown = raw.slice(0, 20);
            expect([op.operationId, p.name, shown, res.status]).toEqual([op.operationId, p.name, shown, 422]);
          }
        }
      }
    }
  });

  test.each(withLeaves('integer').map((op) => [op.operationId, op] as const))(
    'when any integer field of %s is 2^53, 2^63, -1, 0 or 1.5, then it is a 422 unless valid, never a 5xx',
    async (_id, op) => {
      const schema = jsonSchemaOf(op);
      const json = exampleValue(schema, HINTS);
      for (const leaf of leavesOf(schema, json).filter((l) => allowsType(l.schema, 'integer'))) {
        for (const raw of ['9007199254740992', '9223372036854775808', '-1', '0', '1.5', '1e400', '9'.repeat(400)]) {
          const marker = '@@edge@@';
          const res = await call(op, {
            json: setAt(json, leaf.path, marker),
            raw: (text) => text.replace(`"${marker}"`, raw),
          });
          const valid = schemaErrors(leaf.schema, Number(raw)).length === 0;
          expectContract(op, res, !valid);
          if (!valid)
            expect([leaf.path.join('/'), raw.slice(0, 20), res.status]).toEqual([
              leaf.path.join('/'),
              raw.slice(0, 20),
              422,
            ]);
        }
      }
    },
  );
});

describe('SQL metacharacters and LIKE wildcards', () => {
  const METAS = [
    '%',
    '_',
    '%_',
    '\\',
    '\\%',
    "'",
    "''",
    '"',
    ';',
    '--',
    "' OR '1'='1",
    "'; DROP TABLE products; --",
    '$1',
    '[a-z]',
    '.*',
    '*',
  ];
  // Each list: how to store a row with the given text, and the fields its `q` searches.
  const LISTS = [
    {
      operationId: 'listProducts',
      make: async (text: string) => (await buildProduct(t, { name: text })).id,
      fields: ['name', 'description'],
    },
    {
      operationId: 'listCategories',
      make: async (text: string) => (await buildCategory(t, { name: text })).id,
      fields: ['name', 'slug'],
    },
    {
      operationId: 'listPosts',
      make: async (text: string) => (await buildPost(t, await fixtures.user(), { title: text, published: true })).id,
      fields: ['title', 'body'],
    },
    {
      operationId: 'listUsers',
      make: async (text: string) => {
        const user = await fixtures.user();
        await t.db('users').where({ id: user.id }).update({ full_name: text });
        return user.id;
      },
      fields: ['email', 'username', 'full_name'],
    },
  ];

  test.each(LISTS.map((list) => [list.operationId, list] as const))(
    'when %s gets a q with SQL metacharacters or wildcards, then it matches them literally and nothing else',
    async (_id, list) => {
      const op = byId(list.operationId);
      const tag = unique('sq');
      for (const [i, meta] of METAS.entries()) {
        const text = `${tag}-${i}<${meta}>`;
        // The decoy is what the text would match if % and _ were wildcards: the same length in plain letters.
        const decoy = `${tag}-${i}<${'a'.repeat(meta.length)}>`;
        const [wanted, unwanted] = [await list.make(text), await list.make(decoy)];
        // Strictly percent-encoded: a `+` for a space or a raw `(` is refused (reported separately).
        const res = await call(op, { query: strictQuery({ q: text, limit: '1000' }) });
        expectContract(op, res, false);
        expect({ meta, status: res.status }).toEqual({ meta, status: 200 });
        const items = (JSON.parse(res.text) as { items: Record<string, unknown>[] }).items;
        const ids = items.map((item) => item.id);
        expect({ meta, found: ids.includes(wanted), decoy: ids.includes(unwanted) }).toEqual({
          meta,
          found: true,
          decoy: false,
        });
        for (const item of items) {
          const haystack = list.fields
            .map((f) => String(item[f] ?? ''))
            .join('\n')
            .toLowerCase();
          expect({ meta, id: item.id, matches: haystack.includes(text.toLowerCase()) }).toEqual({
            meta,
            id: item.id,
            matches: true,
          });
        }
      }
    },
  );

  test('when a filter or sort parameter holds SQL, then it is a 422 and the tables are intact', async () => {
    const injections = [
      '1 OR 1=1',
      '1; DROP TABLE users; --',
      "1'",
      "true' OR '1'='1",
      'name; DELETE FROM products',
      'created_at desc, (select 1)',
    ];
    for (const op of OPERATIONS) {
      for (const p of op.params.filter((param) => param.in === 'query' && param.name !== 'q')) {
        for (const injection of injections) {
          const res = await call(op, { query: strictQuery({ [p.name]: injection }) });
          expectContract(op, res, true);
          expect([op.operationId, p.name, injection, res.status]).toEqual([op.operationId, p.name, injection, 422]);
        }
      }
    }
    for (const table of ['users', 'products', 'categories', 'orders', 'order_items', 'posts']) {
      await expect(t.db(table).count({ n: '*' })).resolves.toBeDefined();
    }
  });
});

describe('duplicate query parameters', () => {
  test('when any query parameter is given twice, then it is a 422', async () => {
    for (const op of OPERATIONS) {
      for (const p of op.params.filter((param) => param.in === 'query')) {
        const value = String(exampleValue(p.schema));
        const query = `${p.name}=${encodeURIComponent(value)}&${p.name}=${encodeURIComponent(value)}`;
        const res = await call(op, { query });
        expectContract(op, res, true);
        expect([op.operationId, p.name, res.status]).toEqual([op.operationId, p.name, 422]);
      }
    }
  });
});

describe('content types', () => {
  const WRONG = [
    'text/plain',
    'application/xml',
    'multipart/form-data; boundary=x',
    'application/merge-patch+json',
    'application/x-www-form-urlencoded',
    'application/json; charset=latin1',
  ];

  test.each(withBody.map((op) => [op.operationId, op] as const))(
    'when %s gets a body of a content type it does not accept, or none, then it is a 415',
    async (_id, op) => {
      const accepted = op.body?.media.map((m) => m.type) ?? [];
      const json = exampleValue(jsonSchemaOf(op), HINTS);
      for (const contentType of WRONG.filter((type) => !accepted.includes(type))) {
        const res = await call(op, { json, contentType });
        expectContract(op, res, true);
        expect([contentType, res.status, errorCode(res)]).toEqual([contentType, 415, 'UNSUPPORTED_MEDIA_TYPE']);
      }
      // A Buffer body, so that the client adds no content type of its own.
      const none = await call(op, { body: Buffer.from(JSON.stringify(json)), contentType: '' });
      expect([none.status, errorCode(none)]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    },
  );

  test('when the JSON content type comes in other letter case with a charset, then it is accepted', async () => {
    const res = await call(byId('createPost'), {
      json: { title: 'case', body: 'b' },
      contentType: 'Application/JSON; Charset=UTF-8',
    });
    expect(res.status).toBe(201);
  });
});

describe('HTTP methods', () => {
  const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

  test('when a path is called with a method it does not declare, then it is a 405 with Allow listing the declared ones', async () => {
    for (const [specPath, item] of Object.entries(SPEC.paths)) {
      const declared = METHODS.filter((m) => m.toLowerCase() in item);
      const url = `${t.url}${specPath.replace(/\{[^}]+\}/g, '1')}`;
      for (const method of METHODS.filter((m) => !declared.includes(m))) {
        const res = await fetch(url, { method });
        const allow = (res.headers.get('allow') ?? '')
          .split(',')
          .map((m) => m.trim())
          .filter((m) => m !== 'HEAD');
        expect({ specPath, method, status: res.status, allow: allow.sort() }).toEqual({
          specPath,
          method,
          status: 405,
          allow: [...declared].sort(),
        });
        expect(schemaErrors(SPEC.components.schemas.ErrorResponse ?? {}, await res.json())).toEqual([]);
      }
    }
  });
});

/** A request over a raw socket, for heads that Node itself refuses: the status, or 0 when the socket was cut. */
function rawRequest(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.request(`${t.url}${path}`, { headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

describe('long URLs and header values', () => {
  // Node caps the request head (line and headers) at 16 KB and answers 431 itself, before the app sees it.
  test('when the URL is 10 KB, then the app answers a 422; at 100 KB Node answers 431; the process keeps serving', async () => {
    const tenK = await rawRequest(`/api/v1/products?q=${'a'.repeat(10 * 1024)}`);
    expect(tenK.status).toBe(422);
    const longId = await rawRequest(`/api/v1/products/${'9'.repeat(10 * 1024)}`);
    expect(longId.status).toBe(422);
    const hundredK = await rawRequest(`/api/v1/products?q=${'a'.repeat(100 * 1024)}`);
    expect([0, 414, 431]).toContain(hundredK.status);
    await expectAlive();
  });

  test('when Authorization is 8 KB, then it is a 401 INVALID_TOKEN; at 16 KB Node answers 431; the process keeps serving', async () => {
    const eightK = await rawRequest('/api/v1/users/me', { Authorization: `Bearer ${'a'.repeat(8 * 1024)}` });
    expect(eightK.status).toBe(401);
    expect(JSON.parse(eightK.body)).toMatchObject({ error_code: 'INVALID_TOKEN' });
    const sixteenK = await rawRequest('/api/v1/users/me', { Authorization: `Bearer ${'a'.repeat(16 * 1024)}` });
    expect([0, 431]).toContain(sixteenK.status);
    const manyHeaders = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`x-filler-${i}`, 'v'.repeat(20)]));
    expect((await rawRequest('/health', manyHeaders)).status).toBe(200);
    await expectAlive();
  });
});

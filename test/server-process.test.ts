import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VALID_PASSWORD } from './support/factories';
import { createScratchDatabase, startServer, waitForOutput, waitForPort } from './support/processes';

// Child processes start slowly on a loaded 2-core CI machine.
jest.setTimeout(90_000);

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'api-data-'));

describe('the server process', () => {
  test('when the configuration is invalid, then it exits non-zero naming the variable', async () => {
    const server = startServer({ NODE_ENV: 'production' });
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('SECRET_KEY: is required in production');
  });

  test('when started on the embedded database, then it migrates, serves /health and keeps its data under DATA_DIR', async () => {
    const dataDir = tempDir();
    const server = startServer({ DATA_DIR: dataDir });
    try {
      const port = await waitForPort(server);
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'healthy' });
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      expect(fs.readdirSync(dataDir).length).toBeGreaterThan(0);
    } finally {
      server.child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('when SIGTERM arrives during a slow request, then that request completes, new connections are refused, and it exits 0', async () => {
    const dataDir = tempDir();
    const server = startServer({ DATA_DIR: dataDir, BCRYPT_ROUNDS: '13' });
    try {
      const base = `http://127.0.0.1:${await waitForPort(server)}`;
      const user = { email: 'slow@example.com', username: 'slowpoke', password: VALID_PASSWORD };
      const created = await fetch(`${base}/api/v1/users`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(user),
      });
      expect(created.status).toBe(201);

      const slowLogin = fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: user.username, password: user.password }),
      });
      await new Promise((r) => setTimeout(r, 100));
      server.child.kill('SIGTERM');
      await waitForOutput(server, /SIGTERM received: draining/);

      await expect(fetch(`${base}/health`)).rejects.toThrow();
      const login = await slowLogin;
      expect(login.status).toBe(200);
      expect(await login.json()).toMatchObject({ token_type: 'bearer' });
      expect(await server.exited).toBe(0);
      expect(server.output()).toContain('"message":"shut down"');
    } finally {
      server.child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('when WEB_CONCURRENCY=2, then two workers share the port, a killed worker is replaced, and SIGTERM stops all with exit 0', async () => {
    const database = await createScratchDatabase();
    const server = startServer({ DATABASE_URL: database.url, WEB_CONCURRENCY: '2', DB_POOL_MIN: '0' });
    try {
      await waitForOutput(server, /listening[\s\S]*listening/);
      const pids = [...server.output().matchAll(/listening[^\n]*"pid":(\d+)/g)].map((m) => Number(m[1]));
      expect(new Set(pids).size).toBe(2);
      const port = Number(server.output().match(/"port":(\d+)/)?.[1]);

      process.kill(pids[0] as number, 'SIGKILL');
      await waitForOutput(server, /worker died: starting a replacement/);
      await waitForOutput(server, /listening[\s\S]*listening[\s\S]*listening/);
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(res.status).toBe(200);

      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    } finally {
      server.child.kill('SIGKILL');
      await database.drop();
    }
  });
});

import { findUserById } from '../src/data-access/users-repository';
import { buildUser, type TestUser } from './support/factories';
import { startIsolatedTestApp } from './support/identity';
import type { TestApp } from './support/test-app';

// Each test gets a database of its own: "no active superuser left" is a global state other files would disturb.
let t: TestApp;
beforeEach(async () => {
  t = await startIsolatedTestApp();
});
afterEach(async () => {
  await t.close();
});

type Removal = (u: TestUser) => ReturnType<TestApp['request']['delete']>;

const activeSuperusers = async () =>
  (await t.db('users').where({ is_superuser: true, is_active: true }).select('id')).map((row) => Number(row.id));

describe('the last active superuser', () => {
  test('when the only active superuser demotes, deactivates or deletes themselves, then each is 409 LAST_SUPERUSER and nothing changes', async () => {
    const only = await buildUser(t, { isSuperuser: true });
    await buildUser(t, { isSuperuser: true, isActive: false });
    const attempts = [
      t.request.patch(`/api/v1/users/${only.id}`).set(only.auth).send({ is_superuser: false }),
      t.request.patch(`/api/v1/users/${only.id}`).set(only.auth).send({ is_active: false }),
      t.request.delete(`/api/v1/users/${only.id}`).set(only.auth),
      t.request.delete('/api/v1/users/me').set(only.auth),
    ];
    for (const attempt of attempts) {
      const res = await attempt;
      expect(res.status).toBe(409);
      expect(res.body.error_code).toBe('LAST_SUPERUSER');
    }
    expect(await findUserById(t.db, only.id)).toMatchObject({ isSuperuser: true, isActive: true });
  });

  test('when another active superuser exists, then a superuser may demote themselves', async () => {
    const [first, second] = [await buildUser(t, { isSuperuser: true }), await buildUser(t, { isSuperuser: true })];
    const res = await t.request.patch(`/api/v1/users/${first.id}`).set(first.auth).send({ is_superuser: false });
    expect(res.status).toBe(200);
    expect(await activeSuperusers()).toEqual([second.id]);
  });

  test('when the only superuser changes other fields of their own account, then it is 200', async () => {
    const only = await buildUser(t, { isSuperuser: true });
    const res = await t.request
      .patch(`/api/v1/users/${only.id}`)
      .set(only.auth)
      .send({ is_superuser: true, full_name: 'Still Admin' });
    expect(res.status).toBe(200);
  });

  test('when two superusers demote each other at the same time, then one wins, the other is refused and one superuser is left', async () => {
    const [first, second] = [await buildUser(t, { isSuperuser: true }), await buildUser(t, { isSuperuser: true })];
    const results = await Promise.all([
      t.request.patch(`/api/v1/users/${second.id}`).set(first.auth).send({ is_superuser: false }),
      t.request.patch(`/api/v1/users/${first.id}`).set(second.auth).send({ is_superuser: false }),
    ]);
    // The loser is 409 when both passed the access check first, 403 when it was already demoted by then.
    const [winner, loser] = results.map((r) => r.status).sort();
    expect(winner).toBe(200);
    expect([403, 409]).toContain(loser);
    expect(await activeSuperusers()).toHaveLength(1);
  });

  test('when two superusers delete each other at the same time, then exactly one active superuser is left', async () => {
    const [first, second] = [await buildUser(t, { isSuperuser: true }), await buildUser(t, { isSuperuser: true })];
    await Promise.all([
      t.request.delete(`/api/v1/users/${second.id}`).set(first.auth),
      t.request.delete(`/api/v1/users/${first.id}`).set(second.auth),
    ]);
    expect(await activeSuperusers()).toHaveLength(1);
  });

  test('when two superusers demote, deactivate or delete themselves at once, then one succeeds, the other is 409 LAST_SUPERUSER', async () => {
    const removals = [
      (u: TestUser) => t.request.patch(`/api/v1/users/${u.id}`).set(u.auth).send({ is_superuser: false }),
      (u: TestUser) => t.request.patch(`/api/v1/users/${u.id}`).set(u.auth).send({ is_active: false }),
      (u: TestUser) => t.request.delete('/api/v1/users/me').set(u.auth),
    ];
    let survivor = await buildUser(t, { isSuperuser: true });
    // Rounds: each pairs the survivor of the last with a new superuser, and mixes the ways of leaving.
    for (let round = 0; round < 6; round += 1) {
      const other = await buildUser(t, { isSuperuser: true });
      const pair = [survivor, other];
      const results = await Promise.all(pair.map((u, i) => (removals[(round + i) % 3] as Removal)(u)));
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 409)).toHaveLength(1);
      expect(statuses.filter((s) => s === 200 || s === 204)).toHaveLength(1);
      expect(results.find((r) => r.status === 409)?.body.error_code).toBe('LAST_SUPERUSER');
      const left = pair[statuses.indexOf(409)] as TestUser;
      expect(await activeSuperusers()).toEqual([left.id]);
      survivor = left;
    }
  });
});

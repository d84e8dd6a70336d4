/**
 * True when TEST_DATABASE_URL reaches PostgreSQL through PgBouncer in transaction mode (scripts/ci/pgbouncer.sh sets
 * TEST_DATABASE_POOLED=1). The tests then configure the app as README's Deploying section says for that case: no
 * statement timeout of its own, since the pooler refuses the startup parameter; the role's setting applies instead.
 */
export const throughPooler = process.env.TEST_DATABASE_POOLED === '1';

/** The statement timeout a test connection asks for: `ms` directly, none behind the pooler. */
export const statementTimeoutMs = (ms: number): number => (throughPooler ? 0 : ms);

import type { Knex } from 'knex';

/** Password reset tokens, password change tracking for access tokens, and trigram indexes for the user search. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('password_reset_tokens', (t) => {
    t.increments('id').primary();
    t.integer('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('token_hash', 64).notNullable().unique();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true }).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['user_id']);
  });
  // NULL until the password is first changed; access tokens issued before a change are refused.
  await knex.raw('ALTER TABLE users ALTER COLUMN password_changed_at DROP DEFAULT');
  await knex.raw('ALTER TABLE users ALTER COLUMN password_changed_at DROP NOT NULL');
  await knex.raw('UPDATE users SET password_changed_at = NULL WHERE password_changed_at = created_at');
  await knex.raw('CREATE INDEX users_email_trgm ON users USING gin (email gin_trgm_ops)');
  await knex.raw('CREATE INDEX users_username_trgm ON users USING gin (username gin_trgm_ops)');
  await knex.raw('CREATE INDEX users_full_name_trgm ON users USING gin (full_name gin_trgm_ops)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX users_full_name_trgm');
  await knex.raw('DROP INDEX users_username_trgm');
  await knex.raw('DROP INDEX users_email_trgm');
  await knex.raw('UPDATE users SET password_changed_at = created_at WHERE password_changed_at IS NULL');
  await knex.raw('ALTER TABLE users ALTER COLUMN password_changed_at SET NOT NULL');
  await knex.raw('ALTER TABLE users ALTER COLUMN password_changed_at SET DEFAULT now()');
  await knex.schema.dropTable('password_reset_tokens');
}

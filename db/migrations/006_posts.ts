import type { Knex } from 'knex';

/** Posts with drafts, indexed for listPosts' filters, sorts and search. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('posts', (t) => {
    t.increments('id').primary();
    t.integer('author_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('title', 200).notNullable();
    t.text('body').notNullable();
    t.boolean('published').notNullable().defaultTo(false);
    t.timestamps(true, true);
  });
  for (const column of ['created_at', 'updated_at', 'title']) {
    await knex.raw(`CREATE INDEX posts_published_${column}_id ON posts (published, ${column}, id)`);
  }
  await knex.raw('CREATE INDEX posts_author_published_created_at_id ON posts (author_id, published, created_at, id)');
  await knex.raw('CREATE INDEX posts_title_trgm ON posts USING gin (title gin_trgm_ops)');
  await knex.raw('CREATE INDEX posts_body_trgm ON posts USING gin (body gin_trgm_ops)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('posts');
}

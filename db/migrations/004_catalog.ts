import type { Knex } from 'knex';

/** Categories and products, with the CHECK constraints and the indexes behind listProducts' filters and sorts. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('categories', (t) => {
    t.increments('id').primary();
    t.string('name', 100).notNullable();
    t.string('slug', 100).notNullable().unique('categories_slug_unique');
    t.string('description', 2000).nullable();
    t.timestamps(true, true);
  });
  await knex.raw('CREATE INDEX categories_name_id ON categories (name, id)');
  await knex.raw('CREATE INDEX categories_created_at_id ON categories (created_at, id)');

  await knex.schema.createTable('products', (t) => {
    t.increments('id').primary();
    t.string('name', 200).notNullable();
    t.string('description', 5000).nullable();
    t.integer('price_cents').notNullable();
    t.string('currency', 3).notNullable();
    t.integer('stock').notNullable().defaultTo(0);
    // RESTRICT: a category in use cannot be deleted (CATEGORY_IN_USE), even by a racing request.
    t.integer('category_id').nullable().references('id').inTable('categories').onDelete('RESTRICT');
    t.boolean('is_active').notNullable().defaultTo(true);
    t.timestamps(true, true);
  });
  await knex.raw('ALTER TABLE products ADD CONSTRAINT products_price_cents_non_negative CHECK (price_cents >= 0)');
  await knex.raw('ALTER TABLE products ADD CONSTRAINT products_stock_non_negative CHECK (stock >= 0)');
  await knex.raw("ALTER TABLE products ADD CONSTRAINT products_currency_code CHECK (currency ~ '^[A-Z]{3}$')");
  // `q` searches name and description case-insensitively. Matching LIKE against one pre-lowered column with one
  // trigram index costs a fraction of ILIKE on two columns; the newline keeps a match from spanning both fields.
  await knex.raw(
    "ALTER TABLE products ADD COLUMN search_text text GENERATED ALWAYS AS (lower(name || E'\\n' || coalesce(description, ''))) STORED",
  );
  await knex.raw('CREATE INDEX products_search_text_trgm ON products USING gin (search_text gin_trgm_ops)');
  await knex.raw('CREATE INDEX products_category_id ON products (category_id)');
  for (const column of ['price_cents', 'created_at', 'name']) {
    await knex.raw(`CREATE INDEX products_${column}_id ON products (${column}, id)`);
    // The public listing: active products of a category in sort order, index-only even with `q` (search_text).
    await knex.raw(
      `CREATE INDEX products_active_category_${column}_id ON products (category_id, ${column}, id) INCLUDE (search_text) WHERE is_active`,
    );
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('products');
  await knex.schema.dropTable('categories');
}

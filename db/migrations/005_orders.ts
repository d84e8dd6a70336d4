import type { Knex } from 'knex';

/** Orders, their item snapshots, and the idempotency keys of order creation. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('orders', (t) => {
    t.increments('id').primary();
    t.integer('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('status', 20).notNullable().defaultTo('pending');
    t.bigInteger('total_cents').notNullable().defaultTo(0);
    t.string('currency', 3).notNullable();
    t.timestamps(true, true);
  });
  await knex.raw(
    "ALTER TABLE orders ADD CONSTRAINT orders_status_known CHECK (status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled'))",
  );
  await knex.raw('ALTER TABLE orders ADD CONSTRAINT orders_total_cents_non_negative CHECK (total_cents >= 0)');
  await knex.raw('CREATE INDEX orders_user_created_at_id ON orders (user_id, created_at, id)');
  await knex.raw('CREATE INDEX orders_user_total_cents_id ON orders (user_id, total_cents, id)');
  await knex.raw('CREATE INDEX orders_created_at_id ON orders (created_at, id)');
  await knex.raw('CREATE INDEX orders_total_cents_id ON orders (total_cents, id)');
  await knex.raw('CREATE INDEX orders_status ON orders (status)');

  await knex.schema.createTable('order_items', (t) => {
    t.increments('id').primary();
    t.integer('order_id').notNullable().references('id').inTable('orders').onDelete('CASCADE');
    // RESTRICT: a product that appears in an order is never deleted (PRODUCT_IN_USE).
    t.integer('product_id').notNullable().references('id').inTable('products').onDelete('RESTRICT');
    t.string('product_name', 200).notNullable();
    t.integer('unit_price_cents').notNullable();
    t.integer('quantity').notNullable();
    t.specificType('line_total_cents', 'bigint GENERATED ALWAYS AS (unit_price_cents::bigint * quantity) STORED');
    t.unique(['order_id', 'product_id'], { indexName: 'order_items_order_product_unique' });
    t.index(['product_id'], 'order_items_product_id');
  });
  await knex.raw('ALTER TABLE order_items ADD CONSTRAINT order_items_quantity_positive CHECK (quantity > 0)');
  await knex.raw(
    'ALTER TABLE order_items ADD CONSTRAINT order_items_unit_price_non_negative CHECK (unit_price_cents >= 0)',
  );

  await knex.schema.createTable('idempotency_keys', (t) => {
    t.increments('id').primary();
    t.integer('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('key', 255).notNullable();
    t.string('request_hash', 64).notNullable();
    t.integer('order_id').nullable().references('id').inTable('orders').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    // One live claim per user and key: racing requests with one key meet here.
    t.unique(['user_id', 'key'], { indexName: 'idempotency_keys_user_key_unique' });
    t.index(['expires_at'], 'idempotency_keys_expires_at');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idempotency_keys');
  await knex.schema.dropTable('order_items');
  await knex.schema.dropTable('orders');
}

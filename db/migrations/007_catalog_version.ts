import type { Knex } from 'knex';

/**
 * A catalog version that every product write which can change a listing's `total` bumps in its own transaction, by
 * trigger, so counts cached under a version stay exact across any number of instances and whatever wrote the row.
 * Inserts, deletes and truncates always bump; an update bumps only when a counted column changed (category, price,
 * active flag, name or description through search_text). Stock is left out on purpose: orders take stock one row
 * at a time in a transaction, and making each of them also lock the one version row could deadlock two orders;
 * listings filtered on `in_stock` are therefore never cached.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE TABLE catalog_version (
    id smallint PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
  )`);
  await knex.raw('INSERT INTO catalog_version (id, version) VALUES (1, 1)');
  await knex.raw(`CREATE FUNCTION bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE catalog_version SET version = version + 1 WHERE id = 1;
      RETURN NULL;
    END $$`);
  await knex.raw(`CREATE FUNCTION bump_catalog_version_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (
        SELECT 1 FROM old_rows o FULL JOIN new_rows n ON n.id = o.id
        WHERE o.id IS NULL OR n.id IS NULL
           OR (o.category_id, o.price_cents, o.is_active, o.search_text)
              IS DISTINCT FROM (n.category_id, n.price_cents, n.is_active, n.search_text)
      ) THEN
        UPDATE catalog_version SET version = version + 1 WHERE id = 1;
      END IF;
      RETURN NULL;
    END $$`);
  // Statement-level: a bulk insert of 10,000 products bumps once, not 10,000 times.
  await knex.raw(`CREATE TRIGGER products_catalog_version AFTER INSERT OR DELETE OR TRUNCATE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version()`);
  await knex.raw(`CREATE TRIGGER products_catalog_version_update AFTER UPDATE ON products
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version_on_update()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER products_catalog_version_update ON products');
  await knex.raw('DROP TRIGGER products_catalog_version ON products');
  await knex.raw('DROP FUNCTION bump_catalog_version_on_update()');
  await knex.raw('DROP FUNCTION bump_catalog_version()');
  await knex.raw('DROP TABLE catalog_version');
}

import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { written } from '../../src/data-access/database';
import { findUserByLogin, insertUser } from '../../src/data-access/users-repository';
import { hashPassword } from '../../src/domain/users/passwords';
import type { Seed } from './index';

const CATEGORIES = [
  { slug: 'kitchen', name: 'Kitchen', description: 'Pots, pans and everything for the stove.' },
  { slug: 'garden', name: 'Garden', description: 'Tools and furniture for the outdoors.' },
  { slug: 'books', name: 'Books', description: 'Cookbooks, field guides and novels.' },
  { slug: 'electronics', name: 'Electronics', description: 'Small gadgets for the home.' },
  { slug: 'outdoors', name: 'Outdoors', description: 'Camping and hiking gear.' },
];
const ADJECTIVES = ['Classic', 'Compact', 'Sturdy', 'Handmade', 'Modern', 'Rustic', 'Light', 'Deluxe'];
const NOUNS: Record<string, string[]> = {
  kitchen: ['skillet', 'saucepan', 'chef knife', 'cutting board', 'kettle'],
  garden: ['spade', 'watering can', 'pruner', 'bench', 'planter'],
  books: ['cookbook', 'field guide', 'atlas', 'novel', 'notebook'],
  electronics: ['lamp', 'speaker', 'charger', 'clock', 'headphones'],
  outdoors: ['tent', 'backpack', 'sleeping bag', 'lantern', 'water bottle'],
};
const PRODUCTS_PER_CATEGORY = ADJECTIVES.length * 5;

const DEMO_AUTHOR = { username: 'demo-author', email: 'demo-author@example.com', fullName: 'Demo Author' };
const POSTS = [
  { title: 'Welcome to the shop', body: 'Browse the catalog, search it with q, and order with an Idempotency-Key.' },
  { title: 'Seasoning a cast iron skillet', body: 'Wash, dry, oil thinly and bake it upside down for an hour.' },
  { title: 'Five plants that forgive everything', body: 'Pothos, snake plant, ZZ plant, spider plant and jade.' },
  { title: 'Packing light for a weekend hike', body: 'A tent, a warm layer, water and a lantern go a long way.' },
  { title: 'Our favourite cookbooks this year', body: 'Simple recipes, good photographs and honest timings.' },
  { title: 'Draft: spring sale ideas', body: 'Not published yet: only its author and superusers see it.', draft: true },
];

/** A small demo catalog (5 categories, 200 products) and a few posts by a demo author; each part only once. */
export const demoCatalog: Seed = {
  name: 'demo-catalog',
  run: async (db, config, logger) => {
    if (!config.seedDemoData) {
      logger.info('demo data not seeded (the default in production; SEED_DEMO_DATA=true loads it)');
      return;
    }
    const categoryIds = await ensureCategories(db);
    let created = 0;
    for (const category of CATEGORIES)
      created += await ensureProducts(db, category.slug, categoryIds.get(category.slug));
    const posts = await ensurePosts(db, config.auth.bcryptRounds);
    logger.info('demo catalog ready', { products_created: created, posts_created: posts });
  },
};

async function ensureCategories(db: Knex): Promise<Map<string, number>> {
  await db('categories').insert(CATEGORIES).onConflict('slug').ignore();
  const rows = (await db('categories')
    .select(['id', 'slug'])
    .whereIn(
      'slug',
      CATEGORIES.map((c) => c.slug),
    )) as { id: number; slug: string }[];
  return new Map(rows.map((row) => [row.slug, Number(row.id)]));
}

// A category that already has products is left alone, so running the seed again adds nothing.
async function ensureProducts(db: Knex, slug: string, categoryId: number | undefined): Promise<number> {
  if (categoryId === undefined) return 0;
  const [existing] = await db('products').where({ category_id: categoryId }).count({ n: '*' });
  if (Number(existing?.n ?? 0) > 0) return 0;
  const nouns = NOUNS[slug] ?? ['item'];
  const rows = Array.from({ length: PRODUCTS_PER_CATEGORY }, (_, i) => {
    const noun = nouns[i % nouns.length] ?? 'item';
    const adjective = ADJECTIVES[Math.floor(i / nouns.length) % ADJECTIVES.length] ?? 'Plain';
    return {
      name: `${adjective} ${noun}`,
      description: `A ${adjective.toLowerCase()} ${noun} from our ${slug} range.`,
      price_cents: 499 + ((i * 7919 + categoryId * 131) % 19_500),
      currency: 'EUR',
      stock: (i * 37 + categoryId) % 60,
      category_id: categoryId,
      is_active: i % 17 !== 16,
    };
  });
  await db('products').insert(rows);
  return rows.length;
}

// The demo author gets a random password nobody knows: it exists to sign the demo posts, not to log in.
async function ensurePosts(db: Knex, bcryptRounds: number): Promise<number> {
  const author =
    (await findUserByLogin(db, DEMO_AUTHOR.username)) ??
    written(
      await insertUser(db, {
        email: DEMO_AUTHOR.email,
        username: DEMO_AUTHOR.username,
        fullName: DEMO_AUTHOR.fullName,
        hashedPassword: await hashPassword(randomBytes(24).toString('base64url'), bcryptRounds),
      }),
    );
  const [existing] = await db('posts').where({ author_id: author.id }).count({ n: '*' });
  if (Number(existing?.n ?? 0) > 0) return 0;
  await db('posts').insert(
    POSTS.map((post) => ({ author_id: author.id, title: post.title, body: post.body, published: !post.draft })),
  );
  return POSTS.length;
}

import type { Db } from '../../src/data-access/database';

/** The rows a test file created, to which the invariants that other files could disturb are scoped. */
export type InvariantScope = { userIds: Iterable<number> };

const CHUNK = 1000;
const chunks = (ids: Iterable<number>): number[][] => {
  const all = [...new Set(ids)];
  const out: number[][] = [];
  for (let i = 0; i < all.length; i += CHUNK) out.push(all.slice(i, i + CHUNK));
  return out;
};

/**
 * Checks the data invariants and returns one line per violation ([] when all hold): stock never negative, order
 * totals equal to their items, no empty orders, no orphans left by a failed transaction, and at most one live
 * refresh token per family.
 */
export async function dataInvariantViolations(db: Db, scope: InvariantScope): Promise<string[]> {
  const violations: string[] = [];
  const report = (what: string, rows: unknown[]) => {
    for (const row of rows) violations.push(`${what}: ${JSON.stringify(row)}`);
  };
  // Global: these hold whatever any other test file does.
  report('negative stock', await db('products').select('id', 'stock').where('stock', '<', 0));
  report(
    'order item without its order',
    await db('order_items as i').leftJoin('orders as o', 'o.id', 'i.order_id').whereNull('o.id').select('i.id'),
  );
  report(
    'order item without its product',
    await db('order_items as i').leftJoin('products as p', 'p.id', 'i.product_id').whereNull('p.id').select('i.id'),
  );
  report(
    'refresh token without its user',
    await db('refresh_tokens as r').leftJoin('users as u', 'u.id', 'r.user_id').whereNull('u.id').select('r.id'),
  );
  report(
    'idempotency key pointing at a missing order',
    await db('idempotency_keys as k')
      .leftJoin('orders as o', 'o.id', 'k.order_id')
      .whereNotNull('k.order_id')
      .whereNull('o.id')
      .select('k.id'),
  );
  for (const ids of chunks(scope.userIds)) {
    report(
      'order total differs from its items, or order without items',
      await db('orders as o')
        .leftJoin('order_items as i', 'i.order_id', 'o.id')
        .whereIn('o.user_id', ids)
        .groupBy('o.id', 'o.total_cents')
        .select('o.id', 'o.total_cents', db.raw('coalesce(sum(i.line_total_cents), 0) as items_total'))
        .select(db.raw('count(i.id) as item_count'))
        .havingRaw('o.total_cents <> coalesce(sum(i.line_total_cents), 0) or count(i.id) = 0'),
    );
    report(
      'order line total differs from unit price times quantity',
      await db('order_items as i')
        .join('orders as o', 'o.id', 'i.order_id')
        .whereIn('o.user_id', ids)
        .whereRaw('i.line_total_cents <> i.unit_price_cents::bigint * i.quantity')
        .select('i.id'),
    );
    // A claim commits together with its order, so a claim without one was left by a half-done transaction.
    report(
      'idempotency key without an order',
      await db('idempotency_keys').whereIn('user_id', ids).whereNull('order_id').select('id', 'user_id'),
    );
    report(
      'refresh token family with more than one live token',
      await db('refresh_tokens')
        .whereIn('user_id', ids)
        .whereNull('spent_at')
        .whereNull('revoked_at')
        .groupBy('family_id')
        .havingRaw('count(*) > 1')
        .select('family_id', db.raw('count(*) as live')),
    );
    report(
      'refresh token family shared by several users, or revoked only in part',
      await db('refresh_tokens')
        .whereIn('user_id', ids)
        .groupBy('family_id')
        .havingRaw('count(distinct user_id) > 1')
        .orHavingRaw('count(revoked_at) > 0 and count(*) filter (where revoked_at is null and spent_at is null) > 0')
        .select('family_id'),
    );
  }
  return violations;
}

const BCRYPT_HASH = /\$2[abxy]\$\d\d\$[./A-Za-z0-9]{20,}/;
const JWT = /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/;
const TOKEN_LIKE = /[A-Za-z0-9_-]{32,}/g;

/**
 * Collects the response bodies of a run and the tokens and passwords it used, then finds any password hash, token or
 * password that a response body or log line gives away.
 */
export class SecretWatch {
  private readonly responses: { label: string; text: string; issuesTokens: boolean }[] = [];
  private readonly tokens = new Set<string>();
  private readonly passwords = new Set<string>();

  /** Remembers tokens issued during the run; they must never show up in logs or in other responses. */
  token(...tokens: (string | undefined)[]): void {
    for (const token of tokens) if (token) this.tokens.add(token);
  }

  /** Remembers plain-text passwords sent during the run; they must never show up anywhere. */
  password(...passwords: string[]): void {
    for (const password of passwords) this.passwords.add(password);
  }

  /** Records a response body; `issuesTokens` for the responses whose job is to hand out tokens (login, refresh). */
  response(label: string, text: string, issuesTokens = false): void {
    this.responses.push({ label, text, issuesTokens });
    if (issuesTokens) {
      try {
        const body = JSON.parse(text) as { access_token?: string; refresh_token?: string };
        this.token(body.access_token, body.refresh_token);
      } catch {
        // Not JSON: nothing to remember.
      }
    }
  }

  /** How many response bodies were recorded. */
  get responseCount(): number {
    return this.responses.length;
  }

  /** One line per leak found in the recorded responses and the given log entries; [] when nothing leaked. */
  leaks(logEntries: Record<string, unknown>[]): string[] {
    const found: string[] = [];
    const scan = (where: string, text: string, tokensAllowed: boolean) => {
      if (BCRYPT_HASH.test(text)) found.push(`${where}: a password hash`);
      for (const password of this.passwords) if (text.includes(password)) found.push(`${where}: a password`);
      if (tokensAllowed) return;
      if (JWT.test(text)) found.push(`${where}: a JWT`);
      for (const candidate of text.match(TOKEN_LIKE) ?? []) {
        if (this.tokens.has(candidate)) found.push(`${where}: a token`);
      }
    };
    for (const r of this.responses) scan(`response of ${r.label}`, r.text, r.issuesTokens);
    logEntries.forEach((entry, i) => scan(`log line ${i} (${String(entry.message)})`, JSON.stringify(entry), false));
    return found;
  }
}

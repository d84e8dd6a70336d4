/**
 * Deprecation and sunset, read from the spec at start-up. An operation or a query/header parameter marked
 * `deprecated: true` carries `x-deprecated-at` (an RFC 3339 date or date-time: when it was, or will be, deprecated)
 * and may carry `x-sunset` (when it stops answering) and `x-deprecation-link` (where to read about it; by default
 * the operation in Swagger UI, `/docs#/<tag>/<operationId>`). A response to a request that uses such a shape carries
 * `Deprecation: @<epoch seconds>` (RFC 9745), `Sunset: <HTTP-date>` (RFC 8594) and
 * `Link: <...>; rel="deprecation"; type="text/html"` (RFC 9745 section 3), on the statuses whose responses declare
 * them. Everything a request needs is computed here once; the pipeline only looks it up.
 */

/** One deprecated shape: the operation itself, or one of its query or header parameters. */
export type Notice = {
  /** `operation`, or `query.<name>` / `header.<name>` for a parameter. */
  shape: string;
  deprecatedAt: Date;
  sunset: Date | undefined;
  /** Where its documentation is: `x-deprecation-link`, else the operation in Swagger UI. */
  link: string;
  /** The response headers it adds, computed once: Deprecation, Sunset when dated, Link. */
  headers: [string, string][];
};

/** The deprecated shapes of one operation and the responses that declare their headers. */
export type Lifecycle = {
  operation: Notice | undefined;
  /** Deprecated query parameters by name, header parameters by lower-case name. */
  query: Map<string, Notice>;
  header: Map<string, Notice>;
  /** The statuses whose responses declare the `Deprecation` header: the only ones that carry the headers. */
  statuses: Set<number>;
  /** The earliest sunset among its shapes, when any has one: the operation then declares 410 GONE. */
  sunset: Date | undefined;
};

type Marked = {
  deprecated?: boolean;
  'x-deprecated-at'?: unknown;
  'x-sunset'?: unknown;
  'x-deprecation-link'?: unknown;
};
type RawParameter = Marked & { name?: string; in?: string };
type RawResponse = { headers?: Record<string, unknown>; $ref?: string };

// RFC 3339 full-date, or date-time with an offset. A date alone means 00:00:00 UTC of that day.
const RFC3339 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$/;

function parseDate(value: unknown, where: string, field: string): Date {
  const text = value instanceof Date ? value.toISOString() : String(value);
  const date = new Date(text.length === 10 ? `${text}T00:00:00Z` : text);
  if (!(value instanceof Date) && (!RFC3339.test(text) || Number.isNaN(date.getTime())))
    throw new Error(`${where}: ${field} must be an RFC 3339 date or date-time, not "${text}"`);
  return date;
}

/** The RFC 9745 value of `Deprecation`: a structured-field Date, `@` and the seconds since the epoch. */
export const deprecationValue = (date: Date) => `@${Math.floor(date.getTime() / 1000)}`;

function noticeOf(marked: Marked, shape: string, link: string, where: string): Notice | undefined {
  const dated = marked['x-deprecated-at'] !== undefined || marked['x-sunset'] !== undefined;
  if (marked.deprecated !== true) {
    if (dated) throw new Error(`${where}: x-deprecated-at or x-sunset without deprecated: true`);
    return undefined;
  }
  // RFC 9745 has no undated form (its drafts' `Deprecation: true` is gone): the date is part of the contract.
  if (marked['x-deprecated-at'] === undefined) throw new Error(`${where}: deprecated without x-deprecated-at`);
  const deprecatedAt = parseDate(marked['x-deprecated-at'], where, 'x-deprecated-at');
  const sunset = marked['x-sunset'] === undefined ? undefined : parseDate(marked['x-sunset'], where, 'x-sunset');
  if (sunset && sunset < deprecatedAt) throw new Error(`${where}: x-sunset is earlier than x-deprecated-at`);
  const href = typeof marked['x-deprecation-link'] === 'string' ? marked['x-deprecation-link'] : link;
  const headers: [string, string][] = [['Deprecation', deprecationValue(deprecatedAt)]];
  if (sunset) headers.push(['Sunset', sunset.toUTCString()]);
  headers.push(['Link', `<${href}>; rel="deprecation"; type="text/html"`]);
  return { shape, deprecatedAt, sunset, link: href, headers };
}

const declares = (response: RawResponse | undefined, name: string) =>
  Object.keys(response?.headers ?? {}).some((header) => header.toLowerCase() === name.toLowerCase());

/**
 * The lifecycle of one operation, or undefined when neither it nor any of its parameters is deprecated. Throws
 * when the spec is inconsistent: a deprecated shape without its date, a sunset before the deprecation, or a
 * success response that does not declare the headers the shape makes it send.
 */
export function lifecycleOf(
  op: Marked & { operationId: string; tags: string[] },
  parameters: RawParameter[],
  responses: Record<string, RawResponse | undefined>,
  where: string,
): Lifecycle | undefined {
  const link = `/docs#/${encodeURIComponent(op.tags[0] ?? 'default')}/${encodeURIComponent(op.operationId)}`;
  const operation = noticeOf(op, 'operation', link, where);
  const query = new Map<string, Notice>();
  const header = new Map<string, Notice>();
  for (const p of parameters) {
    if (p.in !== 'query' && p.in !== 'header') {
      if (p.deprecated) throw new Error(`${where}: only query and header parameters can be deprecated (${p.name})`);
      continue;
    }
    const notice = noticeOf(p, `${p.in}.${p.name ?? ''}`, link, `${where} parameter ${p.name ?? ''}`);
    if (!notice) continue;
    if (p.in === 'query') query.set(p.name ?? '', notice);
    else header.set((p.name ?? '').toLowerCase(), notice);
  }
  const notices = [operation, ...query.values(), ...header.values()].filter((n): n is Notice => n !== undefined);
  if (!notices.length) return undefined;
  const sunsets = notices.flatMap((n) => (n.sunset ? [n.sunset] : []));
  const sunset = sunsets.length ? new Date(Math.min(...sunsets.map(Number))) : undefined;
  const statuses = new Set<number>();
  for (const [status, response] of Object.entries(responses)) {
    if (declares(response, 'Deprecation')) statuses.add(Number(status));
    if (!/^2\d\d$/.test(status)) continue;
    const needed = ['Deprecation', 'Link', ...(sunset ? ['Sunset'] : [])];
    const missing = needed.filter((name) => !declares(response, name));
    if (missing.length)
      throw new Error(`${where}: its ${status} response must declare ${missing.join(', ')} (it is deprecated)`);
  }
  if (sunset && !('410' in responses)) throw new Error(`${where}: it has an x-sunset but does not declare 410`);
  return { operation, query, header, statuses, sunset };
}

/**
 * The notices a request falls under: the operation's, and those of the deprecated parameters it sends. Only
 * called for operations that have a lifecycle.
 */
export function noticesFor(lifecycle: Lifecycle, url: string, headers: Record<string, unknown>): Notice[] {
  const found: Notice[] = lifecycle.operation ? [lifecycle.operation] : [];
  if (lifecycle.query.size) {
    const at = url.indexOf('?');
    if (at >= 0) {
      const params = new URLSearchParams(url.slice(at + 1));
      for (const [name, notice] of lifecycle.query) if (params.has(name)) found.push(notice);
    }
  }
  for (const [name, notice] of lifecycle.header) if (headers[name] !== undefined) found.push(notice);
  return found;
}

/** Of several notices, the one a client must act on first: the earliest sunset, else the earliest deprecation. */
export function mostUrgent(notices: readonly Notice[]): Notice | undefined {
  let best: Notice | undefined;
  for (const notice of notices) {
    if (!best) best = notice;
    else if (notice.sunset && (!best.sunset || notice.sunset < best.sunset)) best = notice;
    else if (!notice.sunset && !best.sunset && notice.deprecatedAt < best.deprecatedAt) best = notice;
  }
  return best;
}

/** Counts calls to deprecated shapes and logs each caller once per day and shape, so owners know whom to tell. */
export type DeprecationRecorder = (operationId: string, notices: readonly Notice[], userId: number | undefined) => void;

const DAY_MS = 24 * 3600 * 1000;

/**
 * The recorder: a counter per operation and shape, and a log line the first time a caller (a user id, or
 * `anonymous`) uses a shape on a UTC day. The callers seen are kept in memory for the current day only, so each
 * process (and each worker) logs a caller once per day: a restart or another instance may log them again.
 */
export function deprecationRecorder(options: {
  count: (operationId: string, shape: string) => void;
  log: (line: Record<string, unknown>) => void;
  now: () => Date;
}): DeprecationRecorder {
  let day = -1;
  const seen = new Set<string>();
  return (operationId, notices, userId) => {
    const today = Math.floor(options.now().getTime() / DAY_MS);
    if (today !== day) {
      day = today;
      seen.clear();
    }
    for (const notice of notices) {
      options.count(operationId, notice.shape);
      const key = `${operationId} ${notice.shape} ${userId ?? 'anonymous'}`;
      if (seen.has(key)) continue;
      seen.add(key);
      options.log({
        operation_id: operationId,
        shape: notice.shape,
        user_id: userId ?? null,
        deprecated_at: notice.deprecatedAt.toISOString(),
        sunset: notice.sunset?.toISOString() ?? null,
      });
    }
  };
}

/** A lifecycle date as people read it: `2027-06-30` for midnight UTC, the full ISO 8601 time otherwise. */
export const dayOf = (date: Date) => {
  const iso = date.toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
};

/** The sentence the docs pages show under a deprecated shape: since when, and until when it answers. */
export function lifecycleNote(marked: Marked): string | undefined {
  if (marked.deprecated !== true || marked['x-deprecated-at'] === undefined) return undefined;
  const since = dayOf(parseDate(marked['x-deprecated-at'], 'docs', 'x-deprecated-at'));
  const sunset =
    marked['x-sunset'] === undefined ? undefined : dayOf(parseDate(marked['x-sunset'], 'docs', 'x-sunset'));
  return sunset
    ? `**Deprecated** since ${since}. **Sunset: ${sunset}**; from that date it may answer \`410 GONE\`.`
    : `**Deprecated** since ${since}; no sunset date is set yet.`;
}

/**
 * A copy of the spec for the docs pages with each deprecated operation's and parameter's dates written into its
 * description: Swagger UI and ReDoc mark `deprecated` themselves, but show neither `x-deprecated-at` nor `x-sunset`.
 */
export function withLifecycleNotes<T extends object>(doc: T): T {
  const copy = structuredClone(doc);
  const annotate = (node: unknown) => {
    const marked = node as Marked & { description?: string };
    const note = lifecycleNote(marked);
    if (note) marked.description = marked.description ? `${marked.description.trimEnd()}\n\n${note}` : note;
  };
  const { paths = {}, components = {} } = copy as {
    paths?: Record<string, Record<string, unknown>>;
    components?: { parameters?: Record<string, unknown> };
  };
  for (const item of Object.values(paths)) {
    for (const [key, value] of Object.entries(item)) {
      if (key === 'parameters') (value as unknown[]).forEach(annotate);
      else if (value && typeof value === 'object') {
        annotate(value);
        ((value as { parameters?: unknown[] }).parameters ?? []).forEach(annotate);
      }
    }
  }
  Object.values(components.parameters ?? {}).forEach(annotate);
  return copy;
}

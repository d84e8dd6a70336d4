import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from '../generated/openapi';

/** The schemas of the spec, for callers that name them (`ApiSchemas['User']`). */
export type ApiSchemas = components['schemas'];

type JsonOk<O> = O extends { responses: { 200: { content: { 'application/json': infer B } } } } ? B : never;
type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

/** The paths whose GET answers a page of the spec's envelope: `items` and the `next_cursor` of the page after. */
export type ListPath = {
  [P in keyof paths]: JsonOk<paths[P]['get']> extends { items: unknown[]; next_cursor: string | null } ? P : never;
}[keyof paths];

/** The query a list path takes, less the cursor, which the iterator sets itself. */
export type ListQuery<P extends ListPath> = Omit<QueryOf<paths[P]['get']>, 'cursor'>;

/** One item of a list path's pages. */
export type ListItem<P extends ListPath> = JsonOk<paths[P]['get']>['items'][number];

/** A non-2xx answer met while paging: its status and the ErrorResponse body. */
export class ApiResponseError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`the API answered ${status}: ${JSON.stringify(body)}`);
    this.name = 'ApiResponseError';
  }
}

/** A client of this API whose paths, parameters, bodies and responses are typed from the spec. */
export type ApiClient = Client<paths> & {
  /**
   * Every item of a listing, page after page: the first page is asked for with `query`, each next one with the
   * previous page's `next_cursor` (and without `skip`), until a page says there is none. Pages are fetched as the
   * loop asks for items; breaking out of the loop fetches no further page. A non-2xx answer throws
   * ApiResponseError.
   */
  paginate<P extends ListPath>(path: P, options?: { query?: ListQuery<P> }): AsyncGenerator<ListItem<P>, void>;
};

/** Creates a typed client over fetch for the API at `baseUrl`, sending `token` as a bearer token when given. */
export function createApiClient(baseUrl: string, token?: string): ApiClient {
  const client = createClient<paths>({ baseUrl, headers: token ? { Authorization: `Bearer ${token}` } : {} });
  // One loop for every list path: openapi-fetch cannot follow a path that is a type parameter, so the request is
  // made through a GET typed for the common envelope; the signature above holds each caller to its own path.
  const get = client.GET as unknown as (
    path: string,
    init: { params: { query: Record<string, unknown> } },
  ) => Promise<{ data?: { items: unknown[]; next_cursor: string | null }; error?: unknown; response: Response }>;
  async function* paginate(path: string, options: { query?: Record<string, unknown> } = {}) {
    let query: Record<string, unknown> = { ...options.query };
    for (;;) {
      const { data, error, response } = await get(path, { params: { query } });
      if (!data) throw new ApiResponseError(response.status, error);
      yield* data.items;
      if (data.next_cursor === null) return;
      query = { ...query, skip: undefined, cursor: data.next_cursor };
    }
  }
  return Object.assign(client, { paginate }) as ApiClient;
}

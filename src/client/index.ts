import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from '../generated/openapi';

/** A client of this API whose paths, parameters, bodies and responses are typed from the spec. */
export type ApiClient = Client<paths>;

/** The schemas of the spec, for callers that name them (`ApiSchemas['User']`). */
export type ApiSchemas = components['schemas'];

/** Creates a typed client over fetch for the API at `baseUrl`, sending `token` as a bearer token when given. */
export function createApiClient(baseUrl: string, token?: string): ApiClient {
  return createClient<paths>({ baseUrl, headers: token ? { Authorization: `Bearer ${token}` } : {} });
}

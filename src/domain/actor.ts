import type { UserRecord } from '../data-access/users-repository';

/**
 * Who performs a use case: an authenticated user (undefined for an anonymous one), with the user row that
 * authentication loaded for this very request when it did.
 */
export type Actor = { id: number; isSuperuser: boolean; user?: UserRecord };

/** Who performs a use case: an authenticated user, or undefined for an anonymous caller. */
export type Actor = { id: number; isSuperuser: boolean };

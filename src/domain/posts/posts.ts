import type { Db, DbOrTx } from '../../data-access/database';
import {
  POST_SORT_COLUMNS,
  deletePost as deletePostRow,
  findPostById,
  insertPost,
  listPosts as listPostRows,
  lockPost,
  updatePost as updatePostRow,
  type PostFields,
  type PostRecord,
} from '../../data-access/posts-repository';
import { AppError } from '../../lib/errors';
import type { Actor } from '../actor';
import { nothingFound, paging, parseSort, type CursorDeps, type Page, type PageQuery } from '../listing';
import { assertIfMatch, versionOf, type IfMatch } from '../preconditions';

type Deps = { db: Db };

/** What listPosts accepts besides the page. */
export type PostQuery = PageQuery & { published: boolean; authorId?: number; q?: string; sort?: string };

/**
 * Lists published posts, or with `published: false` the drafts the actor may see: a superuser's are all drafts,
 * an author's are their own, an anonymous actor's none (an empty page).
 */
export async function listPosts(
  deps: Deps & CursorDeps,
  actor: Actor | undefined,
  query: PostQuery,
): Promise<Page<PostRecord>> {
  const sort = parseSort(query.sort, POST_SORT_COLUMNS);
  // Drafts: a superuser's are all drafts, an author's their own, an anonymous actor's or someone else's none.
  const ownDraftsOnly = !query.published && !actor?.isSuperuser;
  const seesNone = ownDraftsOnly && (!actor || (query.authorId !== undefined && query.authorId !== actor.id));
  const authorId = ownDraftsOnly && !seesNone ? actor?.id : query.authorId;
  const filter = { published: query.published, authorId, q: query.q };
  const page = paging(deps.config.cursorKeys, { name: 'posts', sort, filter }, query);
  if (seesNone) return page.toPage(nothingFound());
  return page.toPage(await listPostRows(deps.db, filter, sort, page.request));
}

/** Finds a post; a draft is POST_NOT_FOUND to anyone but its author and superusers. */
export async function getPost(deps: Deps, actor: Actor | undefined, id: number): Promise<PostRecord> {
  return visible(actor, await findPostById(deps.db, id));
}

/** Creates a post written by the actor; a draft unless `published` is true. */
export async function createPost(deps: Deps, actor: Actor, fields: PostFields): Promise<PostRecord> {
  const id = await insertPost(deps.db, actor.id, fields);
  return visible(actor, await findPostById(deps.db, id));
}

/**
 * Updates a post as its author or a superuser (FORBIDDEN for anyone else who can see it); with `ifMatch`, only if
 * its current version is one it accepts (PRECONDITION_FAILED otherwise). The checks run on the row locked in the
 * transaction that writes it, so an author and a superuser editing at once serialize, and a post deleted or
 * changed meanwhile is judged as it is now; the answer is this write's result.
 */
export async function updatePost(
  deps: Deps,
  actor: Actor,
  id: number,
  fields: Partial<PostFields>,
  ifMatch?: IfMatch,
): Promise<PostRecord> {
  return deps.db.transaction(async (tx) => {
    const post = await editable(tx, actor, id, 'update');
    if (ifMatch) assertIfMatch(ifMatch, versionOf(post));
    await updatePostRow(tx, id, fields);
    return visible(actor, await findPostById(tx, id));
  });
}

/**
 * Deletes a post as its author or a superuser (FORBIDDEN for anyone else who can see it), with `ifMatch` only in the
 * version it accepts; checked on the locked row like updatePost.
 */
export async function deletePost(deps: Deps, actor: Actor, id: number, ifMatch?: IfMatch): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const post = await editable(tx, actor, id, 'delete');
    if (ifMatch) assertIfMatch(ifMatch, versionOf(post));
    await deletePostRow(tx, id);
  });
}

// The lock first, then a read of its own: the checks and the write that follow all see the row as it is now.
async function editable(tx: DbOrTx, actor: Actor, id: number, purpose: 'update' | 'delete'): Promise<PostRecord> {
  await lockPost(tx, id, purpose);
  const post = visible(actor, await findPostById(tx, id));
  assertMayEdit(actor, post);
  return post;
}

function visible(actor: Actor | undefined, post: PostRecord | undefined): PostRecord {
  if (!post || (!post.published && !isAuthorOrSuperuser(actor, post))) {
    throw new AppError('POST_NOT_FOUND', 'The post does not exist.');
  }
  return post;
}

function assertMayEdit(actor: Actor, post: PostRecord): void {
  if (!isAuthorOrSuperuser(actor, post))
    throw new AppError('FORBIDDEN', 'Only the author or a superuser may change this post.');
}

const isAuthorOrSuperuser = (actor: Actor | undefined, post: PostRecord): boolean =>
  actor !== undefined && (actor.isSuperuser || actor.id === post.author.id);

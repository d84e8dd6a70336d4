import type { Db } from '../../data-access/database';
import {
  POST_SORT_COLUMNS,
  deletePost as deletePostRow,
  findPostById,
  insertPost,
  listPosts as listPostRows,
  updatePost as updatePostRow,
  type PostFields,
  type PostRecord,
} from '../../data-access/posts-repository';
import { AppError } from '../../lib/errors';
import type { Actor } from '../actor';
import { parseSort, toPage, type Page, type PageRequest } from '../listing';

type Deps = { db: Db };

/** What listPosts accepts besides the page. */
export type PostQuery = PageRequest & { published: boolean; authorId?: number; q?: string; sort?: string };

/**
 * Lists published posts, or with `published: false` the drafts the viewer may see: a superuser's are all drafts,
 * an author's are their own, an anonymous viewer's none (an empty page).
 */
export async function listPosts(deps: Deps, viewer: Actor | undefined, query: PostQuery): Promise<Page<PostRecord>> {
  const sort = parseSort(query.sort, POST_SORT_COLUMNS, [{ column: 'p.created_at', direction: 'desc' }]);
  let authorId = query.authorId;
  if (!query.published && !viewer?.isSuperuser) {
    if (!viewer || (authorId !== undefined && authorId !== viewer.id)) return toPage([], 0, query);
    authorId = viewer.id;
  }
  const { items, total } = await listPostRows(
    deps.db,
    { published: query.published, authorId, q: query.q },
    sort,
    query,
  );
  return toPage(items, total, query);
}

/** Finds a post; a draft is POST_NOT_FOUND to anyone but its author and superusers. */
export async function getPost(deps: Deps, viewer: Actor | undefined, id: number): Promise<PostRecord> {
  return visible(viewer, await findPostById(deps.db, id));
}

/** Creates a post written by the actor; a draft unless `published` is true. */
export async function createPost(deps: Deps, actor: Actor, fields: PostFields): Promise<PostRecord> {
  const id = await insertPost(deps.db, actor.id, fields);
  return visible(actor, await findPostById(deps.db, id));
}

/** Updates a post as its author or a superuser; FORBIDDEN for anyone else who can see it. */
export async function updatePost(
  deps: Deps,
  actor: Actor,
  id: number,
  fields: Partial<PostFields>,
): Promise<PostRecord> {
  assertMayEdit(actor, visible(actor, await findPostById(deps.db, id)));
  await updatePostRow(deps.db, id, fields);
  return visible(actor, await findPostById(deps.db, id));
}

/** Deletes a post as its author or a superuser; FORBIDDEN for anyone else who can see it. */
export async function deletePost(deps: Deps, actor: Actor, id: number): Promise<void> {
  assertMayEdit(actor, visible(actor, await findPostById(deps.db, id)));
  await deletePostRow(deps.db, id);
}

function visible(viewer: Actor | undefined, post: PostRecord | undefined): PostRecord {
  if (!post || (!post.published && !isAuthorOrSuperuser(viewer, post))) {
    throw new AppError('POST_NOT_FOUND', 'The post does not exist.');
  }
  return post;
}

function assertMayEdit(actor: Actor, post: PostRecord): void {
  if (!isAuthorOrSuperuser(actor, post))
    throw new AppError('FORBIDDEN', 'Only the author or a superuser may change this post.');
}

const isAuthorOrSuperuser = (viewer: Actor | undefined, post: PostRecord): boolean =>
  viewer !== undefined && (viewer.isSuperuser || viewer.id === post.author.id);

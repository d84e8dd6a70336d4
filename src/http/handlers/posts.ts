import { createPost, deletePost, getPost, listPosts, updatePost } from '../../domain/posts/posts';
import { versionOf } from '../../domain/preconditions';
import type { PostRecord } from '../../data-access/posts-repository';
import { pageOf, requireCaller } from '../inputs/actor';
import { etagOf, parseIfMatch } from '../inputs/conditional';
import type { AppDeps } from '../deps';
import type { PartialHandlers } from '../binding/operations';
import { presentPost, presentPostPage } from '../presenters/posts';

/** Handlers of the `posts` tag. */
export function postsHandlers(deps: AppDeps) {
  // Every answer with a post carries its ETag, which If-Match sends back (src/domain/preconditions).
  const postReply = <S extends 200 | 201>(status: S, post: PostRecord) => ({
    status,
    headers: { ETag: etagOf(versionOf(post)) },
    body: presentPost(post),
  });

  return {
    listPosts: async ({ query, caller }) => {
      const page = await listPosts(deps, caller, {
        ...pageOf(query),
        sort: query.sort,
        q: query.q,
        authorId: query.author_id,
        published: query.published ?? true,
      });
      return { status: 200, body: presentPostPage(page) };
    },

    createPost: async ({ body, caller, baseUrl }) => {
      const post = await createPost(deps, requireCaller(caller), {
        title: body.title,
        body: body.body,
        published: body.published ?? false,
      });
      const reply = postReply(201, post);
      return { ...reply, headers: { ...reply.headers, Location: `${baseUrl}/api/v1/posts/${post.id}` } };
    },

    getPost: async ({ params, caller }) => postReply(200, await getPost(deps, caller, params.post_id)),

    updatePost: async ({ params, body, caller, headers }) =>
      postReply(
        200,
        await updatePost(deps, requireCaller(caller), params.post_id, body, parseIfMatch(headers['If-Match'])),
      ),

    deletePost: async ({ params, caller, headers }) => {
      await deletePost(deps, requireCaller(caller), params.post_id, parseIfMatch(headers['If-Match']));
      return { status: 204 };
    },
  } satisfies PartialHandlers;
}

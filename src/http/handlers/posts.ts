import { createPost, deletePost, getPost, listPosts, updatePost } from '../../domain/posts/posts';
import { pageOf, requireCaller } from '../caller';
import type { AppDeps } from '../deps';
import type { PartialHandlers } from '../operations';
import { presentPost, presentPostPage } from '../post-presenters';

/** Handlers of the `posts` tag. */
export function postsHandlers(deps: AppDeps) {
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
      return { status: 201, headers: { Location: `${baseUrl}/api/v1/posts/${post.id}` }, body: presentPost(post) };
    },

    getPost: async ({ params, caller }) => ({
      status: 200,
      body: presentPost(await getPost(deps, caller, params.post_id)),
    }),

    updatePost: async ({ params, body, caller }) => ({
      status: 200,
      body: presentPost(await updatePost(deps, requireCaller(caller), params.post_id, body)),
    }),

    deletePost: async ({ params, caller }) => {
      await deletePost(deps, requireCaller(caller), params.post_id);
      return { status: 204 };
    },
  } satisfies PartialHandlers;
}

import { createPost, deletePost, getPost, listPosts, updatePost } from '../../domain/posts/posts';
import { versionOf } from '../../domain/preconditions';
import type { PostRecord } from '../../data-access/posts-repository';
import { pageOf, requireActor, withDefault } from '../inputs/request';
import { etagOf, parseIfMatch } from '../inputs/conditional';
import type { AppDeps } from '../deps';
import type { Links } from '../binding/links';
import type { PartialHandlers } from '../binding/operations';
import { presentPost, presentPostPage } from '../presenters/posts';

/** Handlers of the `posts` tag. */
export function postsHandlers(deps: AppDeps & { links: Links }) {
  // Every answer with a post carries its ETag, which If-Match sends back (src/domain/preconditions).
  const postReply = <S extends 200 | 201>(status: S, post: PostRecord) => ({
    status,
    headers: { ETag: etagOf(versionOf(post)) },
    body: presentPost(post),
  });

  return {
    listPosts: async ({ query, actor }) => {
      const page = await listPosts(deps, actor, {
        ...pageOf(query),
        sort: query.sort,
        q: query.q,
        authorId: query.author_id,
        published: withDefault(query.published, 'published'),
      });
      return { status: 200, body: presentPostPage(page) };
    },

    createPost: async ({ body, actor, baseUrl }) => {
      const post = await createPost(deps, requireActor(actor), {
        title: body.title,
        body: body.body,
        published: withDefault(body.published, 'published'),
      });
      const reply = postReply(201, post);
      return {
        ...reply,
        headers: { ...reply.headers, Location: deps.links('getPost', { post_id: post.id }, baseUrl) },
      };
    },

    getPost: async ({ params, actor }) => postReply(200, await getPost(deps, actor, params.post_id)),

    updatePost: async ({ params, body, actor, headers }) =>
      postReply(
        200,
        await updatePost(deps, requireActor(actor), params.post_id, body, parseIfMatch(headers['If-Match'])),
      ),

    deletePost: async ({ params, actor, headers }) => {
      await deletePost(deps, requireActor(actor), params.post_id, parseIfMatch(headers['If-Match']));
      return { status: 204 };
    },
  } satisfies PartialHandlers;
}

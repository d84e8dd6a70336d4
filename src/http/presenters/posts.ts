import type { PostRecord } from '../../data-access/posts-repository';
import type { components } from '../../generated/openapi';
import type { Page } from '../../domain/listing';
import { presentPage } from './page';

type Schemas = components['schemas'];

/** The API view of a post with its author's public profile. */
export function presentPost(post: PostRecord): Schemas['Post'] {
  return {
    id: post.id,
    title: post.title,
    body: post.body,
    published: post.published,
    author: { id: post.author.id, username: post.author.username, full_name: post.author.fullName },
    created_at: post.createdAt.toISOString(),
    updated_at: post.updatedAt.toISOString(),
  };
}

/** A page of posts in the list envelope. */
export const presentPostPage = (page: Page<PostRecord>): Schemas['PostPage'] => presentPage(page, presentPost);

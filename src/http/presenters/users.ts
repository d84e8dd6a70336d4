import type { components } from '../../generated/openapi';
import type { UserRecord } from '../../data-access/users-repository';
import type { Page } from '../../domain/listing';
import { presentPage } from './page';

type Schemas = components['schemas'];

/** The API view of a user: never a password hash or lockout state. */
export function presentUser(user: UserRecord): Schemas['User'] {
  return {
    id: user.id,
    email: user.email,
    username: user.username,
    full_name: user.fullName,
    is_active: user.isActive,
    is_superuser: user.isSuperuser,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
  };
}

/** A page of users in the list envelope. */
export function presentUserPage(page: Page<UserRecord>): Schemas['UserPage'] {
  return presentPage(page, presentUser);
}

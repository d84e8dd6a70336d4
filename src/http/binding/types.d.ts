import type { Actor } from '../../domain/actor';

declare global {
  namespace Express {
    interface Request {
      requestId: string;
      actor?: Actor;
      operationId?: string;
    }
  }
}

export {};

import type { Caller } from './operations';

declare global {
  namespace Express {
    interface Request {
      requestId: string;
      caller?: Caller;
      operationId?: string;
    }
  }
}

export {};

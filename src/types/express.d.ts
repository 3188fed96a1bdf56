import type { User } from '../services/users.service';

declare global {
  namespace Express {
    interface Request {
      user?: User;
      sessionToken?: string;
      csrfToken?: string;
      requestId?: string;
    }
  }
}

export {};

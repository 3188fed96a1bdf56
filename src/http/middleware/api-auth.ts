import type { RequestHandler } from 'express';
import { UnauthorizedError } from '../../lib/errors';
import type { UsersService } from '../../services/users.service';

/** `Authorization: Bearer <key>`; a key reaches only its own vendor's data. */
export function requireApiKey(users: UsersService): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const user = m ? await users.authenticateApiKey(m[1]!) : null;
    if (!user) {
      res.set('WWW-Authenticate', 'Bearer realm="wharf"');
      return next(new UnauthorizedError(m ? 'This API key is not valid or was revoked.' : 'Send an API key: Authorization: Bearer <key>.'));
    }
    req.user = user;
    next();
  };
}

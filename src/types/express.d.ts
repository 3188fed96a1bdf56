declare global {
  namespace Express {
    /** The signed-in vendor (passport's @types also read `req.user` as Express.User). */
    interface User {
      id: string;
      email: string;
    }
    interface Request {
      user?: User;
      sessionToken?: string;
      csrfToken?: string;
      /** `s:<session>` or `a:<anonymous cookie>`: what CSRF tokens and flash messages are bound to. */
      binding?: string;
      requestId?: string;
    }
  }
}

export {};

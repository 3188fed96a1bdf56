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
      requestId?: string;
    }
  }
}

export {};

import type { OAuthProvider } from '../db/queries/users.queries';
import type { User, UsersService } from './users.service';

export type { OAuthProvider };

export const PROVIDER_LABELS: Record<OAuthProvider, string> = { github: 'GitHub', bitbucket: 'BitBucket' };

/** What a provider told us about the person, normalised; `id` is the provider's stable id, never the username. */
export interface ProviderProfile {
  provider: OAuthProvider;
  id: string;
  emails: { email: string; primary: boolean; verified: boolean }[];
}

/** Why a sign-in with a provider did not go through; each has one message for the sign-in page. */
export type OAuthNotice =
  | 'denied'
  | 'failed'
  | 'state'
  | 'email_exists'
  | 'no_verified_email'
  | 'taken'
  | 'other_linked'
  | 'passwordless';

export type OAuthOutcome =
  | { kind: 'signed_in'; user: User; created: boolean }
  | { kind: 'linked'; user: User }
  | { kind: 'refused'; notice: OAuthNotice };

const MESSAGES: Record<OAuthNotice, (p: string) => string> = {
  denied: (p) => `${p} sign-in was cancelled, so you are not signed in. Try again, or sign in with your email and password.`,
  failed: (p) => `${p} could not complete the sign-in right now. Please try again in a moment.`,
  state: (p) => `This ${p} sign-in could not be verified (it expired or was started in another browser). Please try again.`,
  email_exists: (p) =>
    `An account with this email already exists. Sign in with your password, then link ${p} from the Account page.`,
  no_verified_email: (p) => `Your ${p} account has no verified primary email. Verify one at ${p}, or create an account with email and password.`,
  taken: (p) => `That ${p} account is already linked to another Wharf account.`,
  other_linked: (p) => `Your Wharf account is already linked to a different ${p} account.`,
  passwordless: () => 'This account has no password: sign in with GitHub or BitBucket instead.',
};

export function oauthMessage(notice: OAuthNotice, provider?: OAuthProvider): string {
  return MESSAGES[notice](provider ? PROVIDER_LABELS[provider] : 'GitHub or BitBucket');
}

export function isOAuthNotice(v: unknown): v is OAuthNotice {
  return typeof v === 'string' && Object.hasOwn(MESSAGES, v);
}

/** The rules for signing up, signing in and linking with a provider; knows nothing of HTTP or passport. */
export class OAuthService {
  /** Which providers have a client id and secret configured: the pages offer a button for each. */
  readonly enabled: Readonly<Record<OAuthProvider, boolean>>;

  constructor(
    private readonly users: UsersService,
    configured: Partial<Record<OAuthProvider, unknown>> = {},
  ) {
    this.enabled = { github: Boolean(configured.github), bitbucket: Boolean(configured.bitbucket) };
  }

  /** A configured provider named by untrusted input, else undefined. */
  providerOf(v: unknown): OAuthProvider | undefined {
    return (v === 'github' || v === 'bitbucket') && this.enabled[v] ? v : undefined;
  }

  /** `linkToUserId`: the signed-in vendor who asked to link this provider from Account. */
  async complete(p: ProviderProfile, linkToUserId?: string): Promise<OAuthOutcome> {
    const owner = await this.users.findByProvider(p.provider, p.id);
    if (linkToUserId) return this.link(p, linkToUserId, owner);
    if (owner) return { kind: 'signed_in', user: owner, created: false };

    // Only a verified primary email may become an account's email; an unverified one proves nothing.
    const primary = p.emails.find((e) => e.primary && e.verified);
    if (!primary) return { kind: 'refused', notice: 'no_verified_email' };
    // Never merge by email: anyone can add someone else's address at the provider.
    if (await this.users.emailTaken(primary.email)) return { kind: 'refused', notice: 'email_exists' };
    const created = await this.users.createWithProvider(primary.email, p.provider, p.id);
    if (created) return { kind: 'signed_in', user: created, created: true };
    // Lost a race with a concurrent sign-in for the same person, or the email is unusable.
    const raced = await this.users.findByProvider(p.provider, p.id);
    if (raced) return { kind: 'signed_in', user: raced, created: false };
    return { kind: 'refused', notice: (await this.users.emailTaken(primary.email)) ? 'email_exists' : 'no_verified_email' };
  }

  private async link(p: ProviderProfile, userId: string, owner: User | null): Promise<OAuthOutcome> {
    if (owner) return owner.id === userId ? { kind: 'linked', user: owner } : { kind: 'refused', notice: 'taken' };
    if (await this.users.linkProvider(userId, p.provider, p.id)) {
      return { kind: 'linked', user: (await this.users.findByProvider(p.provider, p.id))! };
    }
    const again = await this.users.findByProvider(p.provider, p.id);
    if (again?.id === userId) return { kind: 'linked', user: again };
    return { kind: 'refused', notice: again ? 'taken' : 'other_linked' };
  }
}

// The package ships no types; it is a passport-oauth2 strategy with BitBucket's URLs as defaults.
declare module 'passport-bitbucket-oauth2' {
  import { Strategy as OAuth2Strategy, type StrategyOptions, type VerifyFunction } from 'passport-oauth2';

  export interface BitbucketStrategyOptions extends Omit<StrategyOptions, 'authorizationURL' | 'tokenURL'> {
    authorizationURL?: string;
    tokenURL?: string;
    userProfileURL?: string;
    userAgent?: string;
  }

  export class Strategy extends OAuth2Strategy {
    constructor(options: BitbucketStrategyOptions, verify: VerifyFunction);
  }
}

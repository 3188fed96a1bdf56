import type { Storage } from '../adapters/storage/storage';
import type { Config } from '../config';
import type { Database } from '../db/client';
import type { Logger } from '../logger';
import { clientSnippet, renderClientFile } from './client-files.service';
import { ProductsService } from './products.service';
import { SharedRateLimiter } from './rate-limits';
import { ReleasesService } from './releases.service';
import { UsersService } from './users.service';

export interface ServiceDeps {
  config: Config;
  logger: Logger;
  database: Database;
  storage: Storage;
}

/** Wires the rules together; nothing here knows about HTTP. */
export function createServices(d: ServiceDeps) {
  const db = d.database.db;
  const users = new UsersService(db);
  const products = new ProductsService(db, d.storage, d.logger);
  const releases = new ReleasesService(db, d.storage, products, d.config.uploads, d.logger);
  return {
    users,
    products,
    releases,
    rateLimits: new SharedRateLimiter(db),
    clientFiles: { render: renderClientFile, snippet: clientSnippet },
  };
}

export type Services = ReturnType<typeof createServices>;

import path from 'node:path';
import { writeFingerprintedAssets } from './lib/assets';

// `npm run build` writes dist/public/assets for nginx to serve directly in production.
writeFingerprintedAssets(path.resolve(__dirname, '..', 'public', 'assets'));

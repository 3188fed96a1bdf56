/** Reading one entry no further than needed: a prefix, or one byte past its declared size to catch a liar. */
import zlib from 'node:zlib';
import { ZipFormatError } from './zip-error';

export async function collectStored(source: AsyncIterable<Buffer>, stopAt: number): Promise<{ data: Buffer; ended: boolean }> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of source) {
    parts.push(chunk);
    total += chunk.length;
    if (total >= stopAt) return { data: Buffer.concat(parts).subarray(0, stopAt), ended: false };
  }
  return { data: Buffer.concat(parts), ended: true };
}

/** Inflates until the deflate stream ends or output reaches stopAt bytes, pulling the next range only when more output is wanted. */
export function inflateUntil(source: AsyncIterable<Buffer>, stopAt: number, name: string): Promise<{ data: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const inflater = zlib.createInflateRaw();
    const parts: Buffer[] = [];
    let total = 0;
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      inflater.destroy();
      fn();
    };
    const done = (ended: boolean): void => settle(() => resolve({ data: Buffer.concat(parts), ended }));
    inflater.on('data', (chunk: Buffer) => {
      if (settled) return;
      parts.push(chunk.subarray(0, stopAt - total));
      total += chunk.length;
      if (total >= stopAt) done(false);
    });
    inflater.on('end', () => done(true));
    inflater.on('error', () => settle(() => reject(new ZipFormatError(`"${name}" has damaged compressed data.`))));
    const write = (chunk: Buffer): Promise<void> =>
      new Promise((res) => {
        inflater.once('close', res);
        inflater.write(chunk, () => {
          inflater.off('close', res);
          res();
        });
      });
    (async () => {
      const chunks = source[Symbol.asyncIterator]();
      while (!settled) {
        const next = await chunks.next();
        if (next.done) {
          if (!settled) inflater.end();
          return;
        }
        if (!settled) await write(next.value);
      }
      await chunks.return?.();
    })().catch((err: unknown) => settle(() => reject(err)));
  });
}

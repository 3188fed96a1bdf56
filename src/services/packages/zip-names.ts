/** Rules every file name in a release zip must follow, applied to the central directory and to each local header. */
import { isUtf8 } from 'node:buffer';
import zlib from 'node:zlib';

export const MAX_SEGMENT_BYTES = 255;
const UNICODE_PATH_EXTRA = 0x7075;

export interface ExtraField {
  id: number;
  data: Buffer;
}

/** Why a path can never be installed safely, as a short phrase; null when it is fine. */
export type NameProblem = 'utf8' | 'control' | 'segment' | 'absolute' | 'dotdot' | 'backslash';

/** Each problem as the start of a sentence that a list of example names completes. */
export const NAME_PROBLEM_TEXT: Record<NameProblem, string> = {
  utf8: 'File names must be valid UTF-8, but some are not',
  control: 'File names must not contain NUL or other control characters, but some do',
  segment: `File and folder names must be at most ${MAX_SEGMENT_BYTES} bytes, but some are longer`,
  absolute: 'Paths must be relative, but the zip has absolute paths',
  dotdot: 'Paths must not contain ".." segments',
  backslash: 'Paths must use forward slashes, but some contain backslashes',
};

export function nameProblems(raw: Buffer): NameProblem[] {
  const found: NameProblem[] = [];
  if (!isUtf8(raw)) found.push('utf8');
  const name = raw.toString('utf8');
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) found.push('control');
  let start = 0;
  for (let i = 0; i <= raw.length; i++) {
    if (i === raw.length || raw[i] === 0x2f) {
      if (i - start > MAX_SEGMENT_BYTES) {
        found.push('segment');
        break;
      }
      start = i + 1;
    }
  }
  if (/^(?:[/\\]|[A-Za-z]:)/.test(name)) found.push('absolute');
  if (name.split(/[/\\]/).includes('..')) found.push('dotdot');
  if (name.includes('\\')) found.push('backslash');
  return found;
}

/**
 * An Info-ZIP Unicode Path field (0x7075) gives a second name that some extractors (libzip, hence PHP's
 * ZipArchive) prefer. Names must be UTF-8 already, so any such field must repeat the name exactly;
 * returns the other name when it does not.
 */
export function hiddenUnicodeName(raw: Buffer, extra: readonly ExtraField[]): string | null {
  for (const f of extra) {
    if (f.id !== UNICODE_PATH_EXTRA) continue;
    const other = f.data.subarray(Math.min(5, f.data.length));
    const agrees = f.data.length >= 5 && f.data[0] === 1 && f.data.readUInt32LE(1) === zlib.crc32(raw) && other.equals(raw);
    if (!agrees) return other.toString('utf8');
  }
  return null;
}

/** Extra fields of a header, or null when their lengths do not add up. */
export function parseExtraFields(buf: Buffer): ExtraField[] | null {
  const out: ExtraField[] = [];
  let i = 0;
  while (i + 4 <= buf.length) {
    const size = buf.readUInt16LE(i + 2);
    if (i + 4 + size > buf.length) return null;
    out.push({ id: buf.readUInt16LE(i), data: buf.subarray(i + 4, i + 4 + size) });
    i += 4 + size;
  }
  return i === buf.length ? out : null;
}

/** Dangers visible in the file list alone: names, duplicates, hidden second names and overlapping entries. */
import type { ZipEntry } from './zip-archive';
import { hiddenUnicodeName, NAME_PROBLEM_TEXT, nameProblems, type NameProblem } from './zip-names';

/** A file name as the vendor would type it, minus control characters and excess length. */
export const quote = (name: string): string => `"${name.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, 150)}${name.length > 150 ? '…' : ''}"`;

/** `"a", "b", "c" and 4 more`: enough to find the problem without flooding the page. */
export function examples(names: string[]): string {
  const shown = names.slice(0, 3).map(quote);
  return names.length > 3 ? `${shown.join(', ')} and ${names.length - 3} more` : shown.join(', ');
}

/** Local record of an entry at its smallest: fixed header and data (its name length is the local header's own). */
const minimalRecord = (e: ZipEntry): number => 30 + e.compressedSize;

/** Entries whose bytes run into the next entry's (or the file list): the trick behind small zips that unpack to gigabytes. */
export function overlapping(entries: readonly ZipEntry[], centralDirectoryOffset: number): string[] {
  const sorted = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  const found = new Set<string>();
  sorted.forEach((e, i) => {
    const next = sorted[i + 1];
    const limit = next ? next.localHeaderOffset : centralDirectoryOffset;
    if (e.localHeaderOffset + minimalRecord(e) > limit) {
      found.add(e.name);
      if (next) found.add(next.name);
    }
  });
  return [...found];
}

export function fileListReasons(entries: readonly ZipEntry[], centralDirectoryOffset: number): string[] {
  const reasons: string[] = [];
  const byProblem = new Map<NameProblem, string[]>();
  for (const e of entries) {
    for (const p of nameProblems(e.rawName)) byProblem.set(p, [...(byProblem.get(p) ?? []), e.name]);
  }
  for (const [problem, names] of byProblem) reasons.push(`${NAME_PROBLEM_TEXT[problem]}: ${examples(names)}.`);

  const hidden = entries.flatMap((e) => {
    const other = hiddenUnicodeName(e.rawName, e.extraFields);
    return other === null ? [] : [`${quote(e.name)} (also named ${quote(other)})`];
  });
  if (hidden.length) {
    reasons.push(`Some files carry a second, different name in a Unicode-path field, which some unzip tools use instead: ${hidden.slice(0, 3).join(', ')}${hidden.length > 3 ? ` and ${hidden.length - 3} more` : ''}.`);
  }

  const seen = new Set<string>();
  const folded = new Map<string, string>();
  const dupes: string[] = [];
  const caseDupes: string[] = [];
  for (const e of entries) {
    if (seen.has(e.name)) dupes.push(e.name);
    else if (folded.has(e.name.toLowerCase())) caseDupes.push(`${e.name} / ${folded.get(e.name.toLowerCase())}`);
    seen.add(e.name);
    folded.set(e.name.toLowerCase(), e.name);
  }
  if (dupes.length) reasons.push(`The zip lists some files more than once (an unzip tool keeps one of them, unpredictably): ${examples([...new Set(dupes)])}.`);
  if (caseDupes.length) reasons.push(`Some file names differ only in upper/lower case and overwrite each other on Windows and macOS: ${examples(caseDupes)}.`);

  const overlaps = overlapping(entries, centralDirectoryOffset);
  if (overlaps.length) reasons.push(`Files in the zip overlap each other, so unzipping would unpack the same bytes many times (a zip bomb or a crafted zip): ${examples(overlaps)}.`);
  return reasons;
}

/**
 * Hostile text for every parser that sees vendor input: runs and nestings that make backtracking regexes
 * or naive Markdown converters polynomial. Each value is exactly `length` characters (100,000 by default,
 * the longest product field).
 */

const fill = (unit: string, length: number, prefix = '', suffix = ''): string => {
  const body = length - prefix.length - suffix.length;
  return prefix + unit.repeat(Math.ceil(body / unit.length)).slice(0, body) + suffix;
};

const nestedLines = (line: (depth: number) => string, length: number): string => {
  let out = '';
  for (let depth = 0; out.length < length; depth++) out += `${line(depth % 400)}\n`;
  return out.slice(0, length);
};

export function pathologicalTexts(length = 100_000): Record<string, string> {
  return {
    'heading, spaces, letter (the reported case)': fill(' ', length, '# a', 'b'),
    'readme heading, spaces, letter': fill(' ', length, '= a', 'b'),
    'section heading, spaces, letter': fill(' ', length, '== a', 'b =='),
    'markdown section, spaces, letter': fill(' ', length, '## a', 'b #'),
    'header, spaces, letter': fill(' ', length, 'Tags: a', 'b'),
    'key of spaces and a colon': fill(' ', length, 'a', ':'),
    spaces: fill(' ', length),
    tabs: fill('\t', length),
    equals: fill('=', length),
    hashes: fill('#', length),
    stars: fill('*', length),
    underscores: fill('_', length),
    'open brackets': fill('[', length),
    'close brackets': fill(']', length),
    backticks: fill('`', length),
    'less-than signs': fill('<', length),
    'greater-than signs': fill('>', length),
    backslashes: fill('\\', length),
    'star-space runs': fill('* ', length),
    'emphasis openers': fill('*a ', length),
    'strong openers': fill('**a', length),
    'mixed delimiters': fill('*_`[', length),
    'link openers': fill('[a](', length),
    'image openers': fill('![', length),
    'reference definitions': fill('[a]: <', length),
    'entity starts': fill('&#', length),
    'autolink starts': fill('<a:', length),
    'html attribute starts': fill('<a href="', length),
    'code spans of growing length': fill('`a``', length),
    'nested lists': nestedLines((d) => `${'  '.repeat(d)}- x`, length),
    'nested ordered lists': nestedLines((d) => `${'   '.repeat(d)}1. x`, length),
    'nested blockquotes': fill('> ', length, '', 'x'),
    'blockquoted lists': fill('> - ', length, '', 'x'),
    'setext headings': fill('a\n=\n', length),
    'one-letter lines': fill('a\n', length),
    'many sections': fill('== a ==\n', length),
    'many distinct sections': nestedLines((d) => `== s${d}x${Math.floor(Math.random() * 1e9)} ==`, length),
    'many entries': fill('= 1.0 =\n* x\n', length),
    'many fences': fill('```\n', length),
    'comment closers': fill('*/', length),
    'php closers': fill(' ?>', length),
    'header name, spaces': fill(' ', length, 'Plugin Name:', 'x'),
    'php open tags': fill('<?php ', length),
  };
}

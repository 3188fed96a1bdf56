/**
 * Jest orders suites by the durations it recorded last time, longest first, so that no long suite
 * starts last. On a fresh clone it has none and falls back on file size, which put the suites that
 * start server processes or wait out a crash at the end: a minute longer. Those go first then.
 */
const Sequencer = require('@jest/test-sequencer').default;

const SLOW = ['/test/integration/server/', '/test/integration/api/content-safety', '/test/integration/git/', '/test/integration/jobs/', '/test/integration/notifications/', '/test/integration/db/'];

class SlowFirstSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    if (sorted.some((t) => t.duration != null)) return sorted; // jest knows better: it measured them
    const slow = (t) => SLOW.some((s) => t.path.includes(s));
    return [...sorted.filter(slow), ...sorted.filter((t) => !slow(t))];
  }
}

module.exports = SlowFirstSequencer;

import { Worker } from 'node:worker_threads';

/** zxcvbn's verdict: score 0 (guessed at once) to 4 (very hard), with its English feedback. */
export interface StrengthVerdict {
  score: number;
  warning: string | null;
  suggestions: string[];
}

// zxcvbn is not linear in the password's length (seconds for 256 random characters), so it sees
// only the first 48 characters with few l33t substitutions, and runs in a worker thread so a
// sign-up never stalls the update checks served by the same event loop.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { ZxcvbnFactory } = require(workerData.core);
const common = require(workerData.common);
const en = require(workerData.en);
const zxcvbn = new ZxcvbnFactory({
  translations: en.translations,
  graphs: common.adjacencyGraphs,
  dictionary: { ...common.dictionary, ...en.dictionary },
  maxLength: 48,
  l33tMaxSubstitutions: 4,
});
parentPort.on('message', ({ id, password, userInputs }) => {
  try {
    const r = zxcvbn.check(password, userInputs);
    parentPort.postMessage({ id, score: r.score, warning: r.feedback.warning || null, suggestions: r.feedback.suggestions || [] });
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.message) || err) });
  }
});
`;

const IDLE_MS = 60_000; // the dictionaries take ~50 MB: let them go when nobody signs up
const TIMEOUT_MS = 30_000; // loading them takes a few seconds on a busy machine

interface Pending {
  resolve: (v: StrengthVerdict) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** One lazily started worker per process, stopped again when idle. */
class StrengthWorker {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idle: NodeJS.Timeout | null = null;

  private start(): Worker {
    const workerData = {
      core: require.resolve('@zxcvbn-ts/core'),
      common: require.resolve('@zxcvbn-ts/language-common'),
      en: require.resolve('@zxcvbn-ts/language-en'),
    };
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData });
    w.on('message', (m: { id: number; error?: string } & StrengthVerdict) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.settle(m.id);
      if (m.error) p.reject(new Error(`password strength check failed: ${m.error}`));
      else p.resolve({ score: m.score, warning: m.warning, suggestions: m.suggestions });
    });
    const fail = (err: Error) => {
      if (this.worker === w) this.worker = null;
      for (const [id, p] of this.pending) {
        this.settle(id);
        p.reject(err);
      }
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`password strength worker exited (${code})`)));
    return w;
  }

  private settle(id: number): void {
    clearTimeout(this.pending.get(id)?.timer);
    this.pending.delete(id);
    if (this.pending.size === 0 && this.worker) {
      const w = this.worker;
      w.unref(); // an idle worker never keeps the process alive
      this.idle = setTimeout(() => {
        if (this.worker === w && this.pending.size === 0) {
          this.worker = null;
          void w.terminate();
        }
      }, IDLE_MS);
      this.idle.unref();
    }
  }

  check(password: string, userInputs: string[]): Promise<StrengthVerdict> {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    this.worker ??= this.start();
    this.worker.ref(); // a pending check does: the caller awaits it
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle(id);
        reject(new Error('password strength check timed out'));
        // A stuck worker is replaced on the next check; its other callers get its exit error.
        const stuck = this.worker;
        this.worker = null;
        void stuck?.terminate();
      }, TIMEOUT_MS);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      this.worker!.postMessage({ id, password, userInputs });
    });
  }
}

const shared = new StrengthWorker();

/** Scores a password with zxcvbn-ts and its English and common-password dictionaries. */
export function estimateStrength(password: string, userInputs: string[] = []): Promise<StrengthVerdict> {
  return shared.check(password, userInputs);
}

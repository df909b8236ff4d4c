/**
 * Newline-delimited JSON-RPC onto a pipe with at most two writes per event-loop turn while the
 * writer is busy. On Linux a pipe write is a system call that wakes the reader, so N messages
 * written one by one cost N calls and N wake-ups. A line goes out at once; when `busy()` says
 * more messages are on their way (other requests in flight), the turn is marked and lines written
 * after it in the same turn are joined and written together when the turn ends (`setImmediate`,
 * after the poll phase that produced them). A lone message — the sequential case — arms nothing.
 * Order is kept: a line never overtakes one written before it through the same writer.
 */
import type { Writable } from "node:stream";

/** What `write` returns when the stream took the text at once (shared, none per message). */
const WRITTEN: Promise<void> = Promise.resolve();

export class LineWriter {
  private readonly stream: () => Writable | undefined;
  private readonly busy: () => boolean;
  /** A line already went out in this turn: further lines wait for its end. */
  private turn = false;
  private batch: string | undefined;
  private batchDone: Promise<void> | undefined;
  private settleBatch: ((error?: Error) => void) | undefined;

  /**
   * `stream` is looked up at each write (undefined: the peer is gone, writes reject); `busy`
   * says whether more lines are likely this turn (default: always batch after the first).
   */
  constructor(stream: Writable | (() => Writable | undefined), busy: () => boolean = () => true) {
    this.stream = typeof stream === "function" ? stream : () => stream;
    this.busy = busy;
  }

  /** Writes one line (`text` must end with a newline); resolves when the stream took it. */
  write(text: string): Promise<void> {
    if (this.turn) {
      this.batch = this.batch === undefined ? text : this.batch + text;
      this.batchDone ??= new Promise<void>((resolve, reject) => {
        this.settleBatch = (error) => (error ? reject(error) : resolve());
      });
      return this.batchDone;
    }
    if (this.busy()) {
      this.turn = true;
      setImmediate(this.endTurn);
    }
    return this.out(text);
  }

  private readonly endTurn = (): void => {
    this.turn = false;
    const text = this.batch;
    const settle = this.settleBatch;
    if (text === undefined || !settle) return;
    this.batch = undefined;
    this.batchDone = undefined;
    this.settleBatch = undefined;
    this.out(text).then(() => settle(), settle);
  };

  private out(text: string): Promise<void> {
    const stream = this.stream();
    if (!stream) return Promise.reject(new Error("Not connected"));
    if (stream.write(text)) return WRITTEN;
    return new Promise((resolve) => stream.once("drain", resolve));
  }
}
